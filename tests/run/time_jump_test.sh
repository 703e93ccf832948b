#!/usr/bin/env bash
# Time jumps (docs/operations.md, "Time jumps"): one CloudTrail record dated 2099, inserted in the middle of the demo
# stream, must not make the CloudTrail events after it late. With the bound (the default), the alerts are exactly
# the demo's and the record is quarantined, located by file and line; without it (--max-time-jump 0) the later
# events are late and alerts are lost, which is the attack the bound stops.
# Usage: tests/run/time_jump_test.sh BRAID. Exit 0 pass, 1 fail.
set -u
BRAID=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/braid-jump-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "time_jump_test: FAIL: $*" >&2; exit 1; }
norm() { sed 's/"processing_time":"[^"]*",//' "$1"; }
DEMO="$ROOT/examples/demo.ndjson"
# A benign CloudTrail record (a DescribeTable), re-dated to 2099 with a new event id, after line 150.
outlier=$(head -n 1 "$DEMO" | sed -E 's/"eventTime":"[^"]*"/"eventTime":"2099-01-01T00:00:00Z"/; s/"eventID":"[^"]*"/"eventID":"jump-2099"/')
grep -q '2099-01-01' <<<"$outlier" || fail "could not re-date the record"
{ head -n 150 "$DEMO"; echo "$outlier"; tail -n +151 "$DEMO"; } > "$W/jump.ndjson"

"$BRAID" run --rules "$ROOT/rules" "$DEMO" > "$W/want.ndjson" 2>/dev/null || fail "the demo run failed"
"$BRAID" run --rules "$ROOT/rules" --stats-format json "$W/jump.ndjson" > "$W/got.ndjson" 2> "$W/err.txt" ||
  fail "the run with the outlier failed"
cmp -s <(norm "$W/want.ndjson") <(norm "$W/got.ndjson") ||
  { diff <(norm "$W/want.ndjson") <(norm "$W/got.ndjson") | head -5 | cut -c1-200 >&2; fail "the outlier changed the alerts"; }
grep -q "jump.ndjson:151: .*quarantined" "$W/err.txt" || { cat "$W/err.txt" >&2; fail "no warning locating the quarantined record"; }
tail -n 1 "$W/err.txt" | grep -q '"late":0,"quarantined":1,' || fail "stats: $(tail -n 1 "$W/err.txt" | cut -c1-300)"

"$BRAID" run --rules "$ROOT/rules" --max-time-jump 0 "$W/jump.ndjson" > "$W/blind.ndjson" 2>/dev/null
want=$(wc -l < "$W/want.ndjson"); blind=$(wc -l < "$W/blind.ndjson")
[ "$blind" -lt "$want" ] || fail "without the bound the outlier should blind the source ($blind alerts, demo $want)"
out=$("$BRAID" run --rules "$ROOT/rules" --max-time-jump 5 "$DEMO" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && grep -q "is not a duration" <<<"$out" || fail "a bad --max-time-jump: exit $rc: $out"
echo "time_jump_test: PASS (demo $want alerts kept with the bound; $blind without it)"
