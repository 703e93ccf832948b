#!/usr/bin/env bash
# Tuning without forking (docs/language.md, section 23), end to end through the CLI:
#   - vendor/ (rules, an org_data list) alone and with site/ (override list =, +=; tune by id and by glob: severity,
#     exceptions in event and session scope, one that is null and so does not suppress, enabled false) give the expected alerts, on the JIT and on the
#     interpreter alike, and a pack built from both (signed with the site's key) gives the same alerts again;
#   - `braid check --list` and `braid inspect` show the effective severity and state; `braid test` runs the rules as written;
#   - `braid lint` names the rule still running on an org_data default (BRD0814) only without the override;
#   - bad/ gives each tuning error at its file:line:col (unknown rule and list with suggestions, a glob matching
#     nothing, a list replaced twice, an element type mismatch, an exception reading an unknown field or an
#     aggregate in an event rule, a severity tuned twice);
#   - `braid fmt --check` accepts the tuning files as written, and the shipped rules check with the example tuning.
# Usage: tests/tuning/tuning_test.sh BRAID. Exit 0 pass, 1 fail.
set -u
BRAID=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T="$ROOT/tests/tuning"
W=$(mktemp -d "${TMPDIR:-/tmp}/braid-tuning-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "tuning_test: FAIL: $*" >&2; exit 1; }
# rule, severity, message of each alert, sorted.
alerts() { grep -o '"rule":"[^"]*"\|"severity":"[^"]*"\|"message":"[^"]*"' "$1" | paste -d' ' - - - | sort; }

"$BRAID" check "$T/vendor" "$T/site" > "$W/out" 2>&1 || { cat "$W/out" >&2; fail "vendor + site should check"; }

# Untuned.
"$BRAID" run --rules "$T/vendor" "$T/events.ndjson" > "$W/plain.jsonl" 2> "$W/err" || { cat "$W/err" >&2; fail "run vendor"; }
alerts "$W/plain.jsonl" > "$W/plain"
[ "$(grep -c '"rule":"tun.write"' "$W/plain")" = 8 ] || fail "untuned: 8 tun.write alerts expected"
[ "$(grep -c '"rule":"tun.unapproved_region"' "$W/plain")" = 7 ] || fail "untuned: 7 unapproved_region alerts expected"
[ "$(grep -c '"rule":"tun.burst"' "$W/plain")" = 2 ] || fail "untuned: 2 burst alerts expected"
[ "$(grep -c '"rule":"tun.noise"' "$W/plain")" = 1 ] || fail "untuned: 1 noise alert expected"

# Tuned, on both engines.
cat > "$W/expected" <<'EXP'
"rule":"tun.burst" "severity":"medium" "message":"alice: 3 writes"
"rule":"tun.unapproved_region" "severity":"high" "message":"alice wrote in us-east-1"
"rule":"tun.write" "severity":"low" "message":"e1 by alice"
"rule":"tun.write" "severity":"low" "message":"e2 by alice"
"rule":"tun.write" "severity":"low" "message":"e3 by alice"
"rule":"tun.write" "severity":"low" "message":"e6 by batch"
"rule":"tun.write" "severity":"low" "message":"e7 by batch"
"rule":"tun.write" "severity":"low" "message":"e8 by batch"
EXP
sort -o "$W/expected" "$W/expected"
for engine in jit interp; do
  "$BRAID" run --engine "$engine" --rules "$T/vendor" --rules "$T/site" "$T/events.ndjson" > "$W/$engine.jsonl" 2> "$W/err" ||
    { cat "$W/err" >&2; fail "run tuned ($engine)"; }
  alerts "$W/$engine.jsonl" > "$W/$engine"
  diff -u "$W/expected" "$W/$engine" >&2 || fail "tuned alerts ($engine)"
done

# A pack of the vendor's rules and the site's tuning, signed with the site's key.
"$BRAID" keygen -o "$W/site.key" > /dev/null 2>&1 || fail "keygen"
"$BRAID" build "$T/vendor" "$T/site" -o "$W/site.braidpack" --sign "$W/site.key" > /dev/null 2> "$W/err" ||
  { cat "$W/err" >&2; fail "build"; }
"$BRAID" run --pack "$W/site.braidpack" --trusted-keys "$W/site.key.pub" "$T/events.ndjson" > "$W/pack.jsonl" 2> "$W/err" ||
  { cat "$W/err" >&2; fail "run --pack"; }
alerts "$W/pack.jsonl" > "$W/pack"
diff -u "$W/expected" "$W/pack" >&2 || fail "pack alerts"
# inspect shows the pack's effective severity and state.
"$BRAID" inspect "$W/site.braidpack" --trusted-keys "$W/site.key.pub" > "$W/inspect" 2>&1 || { cat "$W/inspect" >&2; fail "inspect"; }
grep -q 'tun.write  *event  *low' "$W/inspect" || { cat "$W/inspect" >&2; fail "inspect: tun.write low"; }
grep -q 'tun.noise  *event  *info (disabled)' "$W/inspect" || { cat "$W/inspect" >&2; fail "inspect: tun.noise disabled"; }

# check --list: effective severity and state.
"$BRAID" check --list "$T/vendor" "$T/site" > "$W/list" 2>&1 || fail "check --list"
grep -q '^tun.write .* low .*(tuned)' "$W/list" || { cat "$W/list" >&2; fail "check --list: tun.write low (tuned)"; }
grep -q '^tun.noise .*(disabled) (tuned)' "$W/list" || { cat "$W/list" >&2; fail "check --list: tun.noise disabled"; }
"$BRAID" --format json check --list "$T/vendor" "$T/site" > "$W/list.json" 2>&1 || fail "check --list json"
tr -d ' \n' < "$W/list.json" | grep -q '"id":"tun.write",[^}]*"severity":"low",[^}]*"tuned":true' ||
  { cat "$W/list.json" >&2; fail "check --list json: tuned"; }

# lint: the org_data default is named without the override, and not with it.
"$BRAID" lint "$T/vendor" > "$W/lint" 2>&1
grep -q 'BRD0814.*rule `tun.unapproved_region` runs on the shipped default of organisation-data list `tun.approved_regions`' "$W/lint" ||
  { cat "$W/lint" >&2; fail "lint: BRD0814 expected"; }
"$BRAID" lint "$T/vendor" "$T/site" > "$W/lint2" 2>&1
grep -q BRD0814 "$W/lint2" && { cat "$W/lint2" >&2; fail "lint: no BRD0814 with the override"; }

# Errors, each at its place.
"$BRAID" check "$T/vendor" "$T/bad" > "$W/bad" 2>&1 && fail "bad/ should not check"
expect() { grep -q -- "$1" "$W/bad" || { cat "$W/bad" >&2; fail "bad/: expected $1"; }; }
expect 'bad/unknown.braid:1:6: error\[BRD0113\]: `tune tun.wirte`: no rule of that id is declared'
expect 'did you mean `tun.write`'
expect 'bad/unknown.braid:2:15: error\[BRD0113\]: `override list tun.aproved_regions`'
expect 'did you mean `tun.approved_regions`'
expect 'bad/unknown.braid:3:6: warning\[BRD0115\]'
expect 'bad/unknown.braid:5:15: error\[BRD0114\]: list `tun.approved_regions` is replaced twice'
expect 'bad/unknown.braid:6:34: error\[BRD0413\]: list `tun.noisy_kinds` holds `string` values'
expect 'bad/unknown.braid:8:15: error\[BRD0301\]'
expect 'bad/unknown.braid:9:15: error\[BRD0208\]'
expect 'bad/unknown.braid:12:.*error\[BRD0116\]: the severity of rule `tun.noise` is tuned twice'

# braid test runs the rules as written: a vendor test that the site's exception would break still passes.
"$BRAID" test "$T/vendor" "$T/site" "$T/testing" > "$W/test" 2>&1 || { cat "$W/test" >&2; fail "braid test with tuning"; }

# Formatting keeps the tuning files as written; the shipped rules check with the example tuning.
"$BRAID" fmt --check "$T/site" "$T/vendor" "$ROOT/examples/tuning" > "$W/fmt" 2>&1 || { cat "$W/fmt" >&2; fail "fmt --check"; }
"$BRAID" check "$ROOT/rules" "$ROOT/examples/tuning" > "$W/ex" 2>&1 || { cat "$W/ex" >&2; fail "rules + examples/tuning"; }
echo "tuning_test: ok"
