#!/usr/bin/env bash
# Proves that check.sh catches a difference, or a pass of the baseline tests means nothing: each mode plants one and
# requires check.sh to exit 1 with the expected report. Run by ctest (baseline.detects_*).
#
# Usage: tests/baseline/selftest.sh MODE BRAID BRAID_DIFFTEST WORK
#   changed_alert     --perturb alters the message of the demo's first alert: the member-level diff must show it
#   dropped_alert     a copy of the frozen files lacks the demo's 7th alert: the run must have one alert too many
#   changed_digest    --perturb on one Stratus recording: its digest must differ (skipped, 77, without the corpus)
#   generator_change  a copy of the frozen files has another input digest for difftest case 3: the check must say
#                     that the generated inputs, not the engine, changed
set -uo pipefail
[ $# -eq 4 ] || { echo "usage: tests/baseline/selftest.sh MODE BRAID BRAID_DIFFTEST WORK" >&2; exit 2; }
mode=$1 braid=$2 difftest=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
fresh_dir "$work"

# A copy of the frozen files to alter.
copy() { cp -r "$here/expected" "$work/expected"; }

case "$mode" in
  changed_alert)
    args=(--perturb --engines jit demo)
    want='^\+  ,"message":"PERTURBED ' ;;
  dropped_alert)
    copy
    sed -i 7d "$work/expected/demo.alerts.ndjson"
    args=(--expected "$work/expected" --engines interp demo)
    # The counts follow the frozen demo (re-frozen when rules are added), not a number written here.
    n=$(lines_of "$here/expected/demo.alerts.ndjson")
    want="expected $((n - 1)) alert\\(s\\), got $n" ;;
  changed_digest)
    args=(--perturb --engines jit --only aws.credential-access.ec2-get-password-data.ndjson stratus)
    want='DIFFERENCE in stratus \(engine jit\): per-recording alert counts or digests differ' ;;
  generator_change)
    copy
    awk -F'\t' 'BEGIN { OFS = "\t" } $1 == "3" { $2 = ($2 ~ /^0/ ? "1" : "0") substr($2, 2) } { print }' \
      "$here/expected/difftest/cases.tsv" > "$work/expected/difftest/cases.tsv"
    args=(--expected "$work/expected" --engines interp --only 3 difftest)
    want='DIFFERENCE in difftest case 3: braid-difftest generated other inputs' ;;
  *) echo "selftest: unknown mode $mode" >&2; exit 2 ;;
esac

out=$(bash "$here/check.sh" --work "$work/run" "${args[@]}" "$braid" "$difftest" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" = 77 ] && exit 77
if [ "$rc" != 1 ]; then
  echo "selftest $mode: FAILED: check.sh exited $rc on a planted difference, not 1"
  exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq "$want"; then
  echo "selftest $mode: FAILED: the report lacks /$want/"
  exit 1
fi
echo "selftest $mode: the planted difference was reported"
