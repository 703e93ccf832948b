# shellcheck shell=bash
# Shared by freeze.sh and check.sh (sourced, bash). The inputs of the alert baseline and how each is run.
#
# Parts (each a set of units; a unit is one `braid run` whose normalised alerts are frozen):
#   demo           examples/demo.ndjson with the shipped rules
#   rule_fixtures  every events file of the shipped rules' embedded tests (rules/**/*.ndjson), one run each
#   difftest       random cases from braid-difftest (seed below), each with its own rules
#   stratus        each Stratus Red Team recording in ../shared/corpora/stratus with the shipped rules (external
#                  data: only a SHA-256 and a count per recording are frozen, never the alerts)
#
# All paths are relative to the repository root, which the scripts cd into.

# The difftest cases: the same seed and sizes give the same cases on every machine (tools/difftest/README.md).
BASELINE_DIFFTEST_SEED=20250101
BASELINE_DIFFTEST_CASES=50
BASELINE_DIFFTEST_RULES=10
BASELINE_DIFFTEST_EVENTS=300

BASELINE_DIR=tests/baseline
BASELINE_STRATUS_DIR=${BRAID_BASELINE_STRATUS_DIR:-../shared/corpora/stratus}  # overridable to test the skip

die() { printf 'baseline: %s\n' "$*" >&2; exit 2; }

# normalise RAW OUT: the alerts without their processing_time member, the only one stamped from the wall clock
# (docs/alerts.md). The member is cut where the schema puts it, between event_time and decided, and only there (the
# first match on each line is that one: every member before it is a string or an array of strings, whose quotes
# are escaped). A line without it (a changed member order or time format, or a line that is not an alert) is an
# error rather than something to compare, so that no wall-clock time can slip into a frozen file.
BASELINE_PT_RE=',"processing_time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z","decided":'
normalise() {
  local bad
  bad=$(grep -c -v -E "^\{\"schema_version\":.*$BASELINE_PT_RE" "$1" || true)  # grep -c exits 1 on 0
  if [ "$bad" != 0 ]; then
    printf 'baseline: %s: %s output line(s) are not alerts with a processing_time member followed by decided; the first:\n' \
      "$1" "$bad" >&2
    grep -v -m1 -E "^\{\"schema_version\":.*$BASELINE_PT_RE" "$1" | cut -c1-400 >&2
    exit 2
  fi
  sed -E "s/$BASELINE_PT_RE/,\"decided\":/" "$1" > "$2"
}

# run_unit BRAID ENGINE OUT ARGS...: `BRAID run --engine ENGINE ARGS...` into OUT (normalised alerts); stderr and the
# raw output are kept next to OUT. The run must exit 0 (braid run does even over malformed records).
# BRAID_BASELINE_RUN_FLAGS: more braid run flags for every run (e.g. `--threads 2`: the alerts must not change).
run_unit() {
  local braid=$1 engine=$2 out=$3 rc
  shift 3
  # shellcheck disable=SC2086
  "$braid" run --engine "$engine" ${BRAID_BASELINE_RUN_FLAGS:-} "$@" > "$out.raw" 2> "$out.stderr" && rc=0 || rc=$?
  if [ "$rc" != 0 ]; then
    printf 'baseline: "%s run --engine %s %s" exited %s; stderr:\n' "$braid" "$engine" "$*" "$rc" >&2
    head -c 4000 "$out.stderr" >&2
    exit 2
  fi
  normalise "$out.raw" "$out"
}

# The units of a part, one per line: NAME<TAB>INPUT (the events file; the caller adds the rule flags).
units_demo() { printf 'examples/demo.ndjson\texamples/demo.ndjson\n'; }
units_rule_fixtures() {
  local f
  find rules -name '*.ndjson' | LC_ALL=C sort | while read -r f; do printf '%s\t%s\n' "${f#rules/}" "$f"; done
}
units_stratus() {
  local f
  find "$BASELINE_STRATUS_DIR" -maxdepth 1 -name '*.ndjson' | LC_ALL=C sort | while read -r f; do
    printf '%s\t%s\n' "${f##*/}" "$f"
  done
}

# build_pack BRAID OUT: the shipped rules as one unsigned rule pack, for the rule fixtures. Checking 158 rules and
# the stdlib costs about 0.2 s per `braid run --rules rules` (more under ASan), and the fixtures are 60 runs per
# engine; the pack skips the front end, so the same alerts (freeze.sh requires them equal) come seven times faster.
build_pack() {
  "$1" build rules -o "$2" > "$2.log" 2>&1 || { cat "$2.log" >&2; die "$1 build rules failed"; }
}

# difftest_generate BRAID_DIFFTEST DIR: writes the cases into DIR/caseI (rules/, events.ndjson) and DIR/caseI/flags
# (the braid run flags the harness gives both engines for that case, e.g. `--distinct-bound 3`, which --dump does not
# write). braid-difftest is pointed at difftest-stub.sh instead of braid: the stub records each command line and
# prints no alert, so the harness only generates (in a fraction of a second); the real runs are ours.
difftest_generate() {
  local difftest=$1 dir=$2 log out i line flags
  log="$dir/stub.log"
  out="$dir/difftest.out"
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! BASELINE_STUB_LOG="$log" "$difftest" --braid "$PWD/$BASELINE_DIR/difftest-stub.sh" \
       --seed "$BASELINE_DIFFTEST_SEED" --cases "$BASELINE_DIFFTEST_CASES" \
       --rules-per-case "$BASELINE_DIFFTEST_RULES" --events-per-case "$BASELINE_DIFFTEST_EVENTS" \
       --dump "$dir" > "$out" 2>&1; then
    cat "$out" >&2
    die "$difftest could not generate the cases"
  fi
  # The stub log: per case, `check DIR/rules`, then one `run FLAGS --rules ...` per engine.
  i=-1
  while read -r line; do
    case "$line" in
      check\ *) i=$((i + 1)) ;;
      run\ --engine=jit*)
        flags=${line#run --engine=jit}
        flags=${flags%% --rules *}
        printf '%s' "${flags# }" > "$dir/case$i/flags" ;;
    esac
  done < "$log"
  [ "$i" = $((BASELINE_DIFFTEST_CASES - 1)) ] || die "expected $BASELINE_DIFFTEST_CASES cases from $difftest, its log shows $((i + 1))"
  for i in $(seq 0 $((BASELINE_DIFFTEST_CASES - 1))); do
    [ -f "$dir/case$i/flags" ] && [ -f "$dir/case$i/events.ndjson" ] || die "case $i of $difftest is incomplete in $dir"
  done
}

# case_digest DIR: SHA-256 of a generated case's inputs (rule files, events, flags), so that a change of the generator
# is told apart from a change of the engine.
case_digest() {
  (cd "$1" && { find rules -type f | LC_ALL=C sort | xargs sha256sum; sha256sum events.ndjson flags; } | sha256sum | cut -d' ' -f1)
}

# fresh_dir DIR: empties DIR for a run, refusing a non-empty directory that an earlier run did not make.
fresh_dir() {
  if [ -d "$1" ] && [ -n "$(ls -A "$1")" ] && [ ! -f "$1/.baseline-work" ]; then
    die "$1 is not empty and was not made by tests/baseline: refusing to empty it"
  fi
  rm -rf "$1"
  mkdir -p "$1"
  : > "$1/.baseline-work"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
lines_of() { wc -l < "$1" | tr -d ' '; }
