#!/usr/bin/env bash
# Regenerates the alert baseline (tests/baseline/expected/) from a braid binary. See tests/baseline/README.md: only
# in a commit that changes alerts on purpose, saying why in its message.
#
# Usage: tests/baseline/freeze.sh [--commit HASH] BRAID BRAID_DIFFTEST
#   BRAID           the braid binary whose alerts become the baseline
#   BRAID_DIFFTEST  a braid-difftest binary (only its case generator is used; see lib.sh)
#   --commit HASH   the commit BRAID was built from, recorded in expected/FROZEN
#
# Every unit runs on both engines (jit and interp), which must agree; the alerts are stored once. The rule fixtures
# also run through a rule pack of the shipped rules, which must give the same alerts (check.sh uses the pack). The Stratus
# recordings (../shared/corpora/stratus) are reduced to a SHA-256 and a count per recording; without the corpus the
# existing expected/stratus.tsv is kept. Exit 0 done, 2 error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

commit=unknown
while [ $# -gt 0 ]; do
  case "$1" in
    --commit) commit=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || die "usage: tests/baseline/freeze.sh [--commit HASH] BRAID BRAID_DIFFTEST"
braid=$(realpath "$1")
difftest=$(realpath "$2")
[ -x "$braid" ] || die "not an executable: $1"
[ -x "$difftest" ] || die "not an executable: $2"
cd "$(dirname "$0")/../.." || exit 2  # the repository root: the inputs' paths are relative to it

work=$(mktemp -d "${TMPDIR:-/tmp}/braid-baseline-freeze.XXXXXX")
trap 'rm -rf "$work"' EXIT
export BRAID_CACHE_DIR="$work/jit-cache"  # a fresh JIT object cache: every rule set is compiled by this braid
new="$work/expected"
mkdir -p "$new"

# run_both NAME OUT ARGS...: the unit on both engines, which must agree; OUT gets the alerts.
run_both() {
  local name=$1 out=$2
  shift 2
  run_unit "$braid" jit "$work/jit.out" "$@"
  run_unit "$braid" interp "$work/interp.out" "$@"
  if ! cmp -s "$work/jit.out" "$work/interp.out"; then
    diff "$work/jit.out" "$work/interp.out" | cut -c1-300 | head -20 >&2
    die "$name: the jit and interp engines disagree; a baseline needs them equal"
  fi
  mkdir -p "$(dirname "$out")"
  mv "$work/jit.out" "$out"
}

total=0
count() { total=$((total + $(lines_of "$1"))); }

# demo and rule fixtures: the alerts as they are. The fixtures also through a rule pack (check.sh runs them so).
build_pack "$braid" "$work/rules.braidpack"
while IFS=$'\t' read -r name input; do
  run_both "demo" "$new/demo.alerts.ndjson" --rules rules "$input"
  count "$new/demo.alerts.ndjson"
done < <(units_demo)
n=0
while IFS=$'\t' read -r name input; do
  out="$new/rule_fixtures/${name%.ndjson}.alerts.ndjson"
  run_both "rule_fixtures $name" "$out" --rules rules "$input"
  run_both "rule_fixtures $name (pack)" "$work/pack.out" --pack "$work/rules.braidpack" --allow-unsigned "$input"
  cmp -s "$out" "$work/pack.out" || die "rule_fixtures $name: --rules rules and the rule pack give other alerts"
  count "$out"
  n=$((n + 1))
done < <(units_rule_fixtures)
echo "baseline: demo and $n rule fixture files: $total alerts"

# difftest cases: regenerated from the seed at test time, so only their alerts (gzip) and input digests are kept.
difftest_generate "$difftest" "$work/cases"
mkdir -p "$new/difftest"
printf '# case\tinputs_sha256\talerts\tflags\n' > "$new/difftest/cases.tsv"
dt=0
for i in $(seq 0 $((BASELINE_DIFFTEST_CASES - 1))); do
  c="$work/cases/case$i"
  flags=$(cat "$c/flags")
  # shellcheck disable=SC2086
  run_both "difftest case $i" "$work/case.out" $flags --rules "$c/rules" "$c/events.ndjson"
  gzip -9 -n -c "$work/case.out" > "$new/difftest/case$i.alerts.ndjson.gz"
  printf '%s\t%s\t%s\t%s\n' "$i" "$(case_digest "$c")" "$(lines_of "$work/case.out")" "$flags" >> "$new/difftest/cases.tsv"
  dt=$((dt + $(lines_of "$work/case.out")))
done
echo "baseline: $BASELINE_DIFFTEST_CASES difftest cases: $dt alerts"

# Stratus: a digest and a count per recording, never the alerts (external data, not ours to commit).
if [ -d "$BASELINE_STRATUS_DIR" ]; then
  printf '# recording\talerts\talerts_sha256\n' > "$new/stratus.tsv"
  st=0
  while IFS=$'\t' read -r name input; do
    run_both "stratus $name" "$work/rec.out" --rules rules "$input"
    printf '%s\t%s\t%s\n' "$name" "$(lines_of "$work/rec.out")" "$(sha_of "$work/rec.out")" >> "$new/stratus.tsv"
    st=$((st + $(lines_of "$work/rec.out")))
  done < <(units_stratus)
  echo "baseline: $(($(lines_of "$new/stratus.tsv") - 1)) Stratus recordings: $st alerts"
elif [ -f "$BASELINE_DIR/expected/stratus.tsv" ]; then
  cp "$BASELINE_DIR/expected/stratus.tsv" "$new/stratus.tsv"
  echo "baseline: $BASELINE_STRATUS_DIR is absent: expected/stratus.tsv kept as it was" >&2
else
  die "$BASELINE_STRATUS_DIR is absent and there is no expected/stratus.tsv to keep"
fi

{
  echo "commit: $commit"
  echo "braid: $("$braid" --version)"
  echo "difftest: --seed $BASELINE_DIFFTEST_SEED --cases $BASELINE_DIFFTEST_CASES --rules-per-case $BASELINE_DIFFTEST_RULES --events-per-case $BASELINE_DIFFTEST_EVENTS"
  echo "normalisation: the processing_time member removed from every alert (lib.sh, normalise)"
} > "$new/FROZEN"

rm -rf "$BASELINE_DIR/expected"
cp -r "$new" "$BASELINE_DIR/expected"
echo "baseline: wrote $BASELINE_DIR/expected ($(du -sh "$BASELINE_DIR/expected" | cut -f1)); review with git diff --stat"
