#!/usr/bin/env bash
# Compares a braid binary's alerts with the frozen baseline (tests/baseline/expected/, written by freeze.sh), byte
# for byte once processing_time is removed. Run by ctest (tests/baseline/CMakeLists.txt, label `baseline`).
#
# Usage: tests/baseline/check.sh [OPTIONS] PART BRAID [BRAID_DIFFTEST]
#   PART            demo | rule_fixtures | difftest | stratus (see lib.sh)
#   BRAID           the braid binary under test
#   BRAID_DIFFTEST  for difftest: the braid-difftest binary that regenerates the cases from the frozen seed
# Options:
#   --engines "jit interp"  the engines to run every unit on (default both; each must match the baseline)
#   --expected DIR          the frozen files (default tests/baseline/expected)
#   --work DIR              where the actual alerts are written and kept (default: a temporary directory, removed)
#   --only NAME             only this unit (a rule fixture path under rules/, a case number, a recording name)
#   --reference BRAID       stratus: on a difference, also run this braid (e.g. one built from the frozen commit)
#                           and show the alerts that differ, since the baseline keeps only their digest
#   --via-rules             rule_fixtures: run with --rules rules instead of a rule pack of them (slower; same alerts)
#   --perturb               change the first alert of the first unit that has one, before comparing (to prove a
#                           difference is caught: the check must then fail)
# Exit: 0 identical, 1 a difference, 2 usage or internal error, 77 skipped (stratus without the corpus).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

engines="jit interp"
expected=""
work=""
only=""
reference=""
perturb=0
via_rules=0
while [ $# -gt 0 ]; do
  case "$1" in
    --engines) engines=$2; shift 2 ;;
    --expected) expected=$(realpath -m "$2"); shift 2 ;;
    --work) work=$(realpath -m "$2"); shift 2 ;;
    --only) only=$2; shift 2 ;;
    --reference) reference=$(realpath "$2"); shift 2 ;;
    --perturb) perturb=1; shift ;;
    --via-rules) via_rules=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || die "usage: tests/baseline/check.sh [OPTIONS] PART BRAID [BRAID_DIFFTEST]"
part=$1
braid=$(realpath "$2")
difftest=${3:+$(realpath "$3")}
[ -x "$braid" ] || die "not an executable: $2"
cd "$(dirname "$0")/../.." || exit 2  # the repository root: the inputs' paths are relative to it
[ -n "$expected" ] || expected=$PWD/$BASELINE_DIR/expected
[ -d "$expected" ] || die "no frozen files in $expected"

if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/braid-baseline.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  keep_note=""
else
  fresh_dir "$work"
  keep_note=" (actual alerts kept in $work)"
fi
export BRAID_CACHE_DIR="$work/jit-cache"  # a fresh JIT object cache: every rule set is compiled by this braid

start=$SECONDS
failures=0
runs=0
alerts=0
perturbed=0

# show_member_diff EXP_LINE_FILE ACT_LINE_FILE: one alert against another, one member per line, as a unified diff.
split_members() { sed -E 's/,"([A-Za-z_]+)":/\n  ,"\1":/g' "$1"; }
show_member_diff() {
  diff -u --label expected --label actual <(split_members "$1") <(split_members "$2") | tail -n +3 | cut -c1-300 | head -60
}

# report EXPECTED ACTUAL WHAT: a readable account of how two alert files differ.
report() {
  local exp=$1 act=$2 what=$3 ne na k
  ne=$(lines_of "$exp")
  na=$(lines_of "$act")
  echo "baseline: DIFFERENCE in $what: expected $ne alert(s), got $na$keep_note"
  k=$(awk 'NR == FNR { e[FNR] = $0; n = FNR; next }
           { if (!(FNR in e) || e[FNR] != $0) { print FNR; found = 1; exit } m = FNR }
           END { if (!found) print (m < n ? m + 1 : 0) }' "$exp" "$act")
  if [ "$k" -gt "$ne" ]; then
    echo "first difference: alert #$k is extra (the baseline has $ne):"
    sed -n "${k}p" "$act" | cut -c1-600
  elif [ "$k" -gt "$na" ]; then
    echo "first difference: alert #$k is missing (the run stopped at $na):"
    sed -n "${k}p" "$exp" | cut -c1-600
  else
    echo "first difference: alert #$k, member by member:"
    sed -n "${k}p" "$exp" > "$work/exp.line"
    sed -n "${k}p" "$act" > "$work/act.line"
    show_member_diff "$work/exp.line" "$work/act.line"
  fi
  echo "all differing lines (diff expected actual, lines cut to 200 characters, first 30):"
  diff "$exp" "$act" | cut -c1-200 | head -30
}

# maybe_perturb FILE: with --perturb, alter the first alert of the first file that has one.
maybe_perturb() {
  if [ "$perturb" = 1 ] && [ "$perturbed" = 0 ] && [ -s "$1" ]; then
    sed -i '1s/"message":"/"message":"PERTURBED /' "$1"
    perturbed=1
    echo "baseline: --perturb: changed the message of the first alert of $2"
  fi
}

# check_unit WHAT EXPECTED_FILE ARGS...: runs the unit on every engine and compares with the frozen alerts.
check_unit() {
  local what=$1 exp=$2 e out
  shift 2
  for e in $engines; do
    out="$work/actual/$(printf '%s' "$what" | tr ' /' '__').$e.ndjson"
    mkdir -p "$work/actual"
    run_unit "$braid" "$e" "$out" "$@"
    runs=$((runs + 1))
    alerts=$((alerts + $(lines_of "$out")))
    maybe_perturb "$out" "$what ($e)"
    if ! cmp -s "$exp" "$out"; then
      report "$exp" "$out" "$what (engine $e)"
      failures=$((failures + 1))
    fi
  done
}

# units_check PART_FUNCTION EXPECTED_PATH_FUNCTION: the alerts-as-they-are parts (demo, rule_fixtures).
expected_path_demo() { echo "$expected/demo.alerts.ndjson"; }
expected_path_rule_fixtures() { echo "$expected/rule_fixtures/${1%.ndjson}.alerts.ndjson"; }
plain_part() {
  local units=$1 path_of=$2 name input exp seen=0 rule_flags=(--rules rules)
  if [ "$part" = rule_fixtures ] && [ "$via_rules" = 0 ]; then
    build_pack "$braid" "$work/rules.braidpack"
    rule_flags=(--pack "$work/rules.braidpack" --allow-unsigned)
  fi
  : > "$work/units"
  while IFS=$'\t' read -r name input; do
    echo "$name" >> "$work/units"
    [ -n "$only" ] && [ "$only" != "$name" ] && continue
    exp=$($path_of "$name")
    seen=$((seen + 1))
    if [ ! -f "$exp" ]; then
      echo "baseline: DIFFERENCE: $name is new (no $exp); freeze it on purpose (README.md)"
      failures=$((failures + 1))
      continue
    fi
    check_unit "$part $name" "$exp" "${rule_flags[@]}" "$input"
  done < <($units)
  [ "$seen" -gt 0 ] || die "no unit named '$only' in $part"
  if [ "$part" = rule_fixtures ] && [ -z "$only" ]; then
    # A frozen fixture whose events file is gone is a difference too.
    local f rel
    while read -r f; do
      rel=${f#"$expected/rule_fixtures/"}
      rel=${rel%.alerts.ndjson}.ndjson
      if ! grep -qxF "$rel" "$work/units"; then
        echo "baseline: DIFFERENCE: rules/$rel is frozen but no longer exists"
        failures=$((failures + 1))
      fi
    done < <(find "$expected/rule_fixtures" -name '*.alerts.ndjson' | LC_ALL=C sort)
  fi
}

difftest_part() {
  [ -n "$difftest" ] && [ -x "$difftest" ] || die "difftest needs the braid-difftest binary (third argument)"
  local tsv="$expected/difftest/cases.tsv" i flags digest _alerts c exp cases
  cases=$(grep -vc '^#' "$tsv")
  [ "$cases" = "$BASELINE_DIFFTEST_CASES" ] || die "$tsv has $cases cases, lib.sh says $BASELINE_DIFFTEST_CASES: re-freeze"
  difftest_generate "$difftest" "$work/cases"
  while IFS=$'\t' read -r i digest _alerts flags; do  # flags last: often empty
    [ -n "$only" ] && [ "$only" != "$i" ] && continue
    c="$work/cases/case$i"
    if [ "$(cat "$c/flags")" != "$flags" ] || [ "$(case_digest "$c")" != "$digest" ]; then
      echo "baseline: DIFFERENCE in difftest case $i: braid-difftest generated other inputs than the frozen ones" \
           "(flags '$(cat "$c/flags")', frozen '$flags'; or other rules or events), so its alerts cannot be compared." \
           "The generator (tools/difftest) changed: re-freeze with the braid of the frozen commit and this" \
           "braid-difftest (README.md), in a commit of its own."
      failures=$((failures + 1))
      continue
    fi
    exp="$work/case$i.expected.ndjson"
    gzip -dc "$expected/difftest/case$i.alerts.ndjson.gz" > "$exp"
    # shellcheck disable=SC2086
    check_unit "difftest case $i${flags:+ ($flags)}" "$exp" $flags --rules "$c/rules" "$c/events.ndjson"
  done < <(grep -v '^#' "$tsv")
}

stratus_part() {
  if [ ! -d "$BASELINE_STRATUS_DIR" ]; then
    echo "baseline: SKIPPED: the Stratus corpus $(realpath -m "$BASELINE_STRATUS_DIR") is absent (external data, never committed)"
    exit 77
  fi
  local tsv="$expected/stratus.tsv" e name input out
  for e in $engines; do
    printf '# recording\talerts\talerts_sha256\n' > "$work/stratus.$e.tsv"
  done
  while IFS=$'\t' read -r name input; do
    [ -n "$only" ] && [ "$only" != "$name" ] && continue
    for e in $engines; do
      out="$work/actual/$name.$e.ndjson"
      mkdir -p "$work/actual"
      run_unit "$braid" "$e" "$out" --rules rules "$input"
      runs=$((runs + 1))
      alerts=$((alerts + $(lines_of "$out")))
      maybe_perturb "$out" "stratus $name ($e)"
      printf '%s\t%s\t%s\n' "$name" "$(lines_of "$out")" "$(sha_of "$out")" >> "$work/stratus.$e.tsv"
    done
  done < <(units_stratus)
  if [ -n "$only" ]; then
    grep -E "^#|^$only	" "$tsv" > "$work/stratus.expected.tsv"
  else
    cp "$tsv" "$work/stratus.expected.tsv"
  fi
  for e in $engines; do
    if cmp -s "$work/stratus.expected.tsv" "$work/stratus.$e.tsv"; then continue; fi
    failures=$((failures + 1))
    echo "baseline: DIFFERENCE in stratus (engine $e): per-recording alert counts or digests differ$keep_note"
    echo "(expected: < lines, actual: > lines; recording, alerts, SHA-256 of the normalised alerts)"
    diff "$work/stratus.expected.tsv" "$work/stratus.$e.tsv"
    # The alerts are not frozen (only their digest): show the current ones, or the difference from --reference.
    diff "$work/stratus.expected.tsv" "$work/stratus.$e.tsv" | sed -n 's/^> \([^\t]*\)\t.*/\1/p' | head -5 |
    while read -r name; do
      out="$work/actual/$name.$e.ndjson"
      if [ -n "$reference" ]; then
        run_unit "$reference" "$e" "$work/actual/$name.reference.ndjson" --rules rules "$BASELINE_STRATUS_DIR/$name"
        report "$work/actual/$name.reference.ndjson" "$out" "stratus $name (engine $e) against --reference $reference"
      else
        echo "--- $name: the current alerts (first 3, cut to 300 characters); pass --reference BRAID to diff against another braid:"
        head -3 "$out" | cut -c1-300
      fi
    done
  done
}

case "$part" in
  demo) plain_part units_demo expected_path_demo ;;
  rule_fixtures) plain_part units_rule_fixtures expected_path_rule_fixtures ;;
  difftest) difftest_part ;;
  stratus) stratus_part ;;
  *) die "unknown part '$part' (demo, rule_fixtures, difftest, stratus)" ;;
esac

secs=$((SECONDS - start))
if [ "$failures" -gt 0 ]; then
  echo "baseline: $part: $failures difference(s) from the baseline of $(sed -n 's/^commit: //p' "$expected/FROZEN") ($runs run(s), ${secs} s)."
  echo "If the change of alerts is intended, re-freeze in a commit that says why (tests/baseline/README.md)."
  exit 1
fi
echo "baseline: $part: $runs runs ($engines), $alerts alerts: identical to the baseline ($secs s)"
exit 0
