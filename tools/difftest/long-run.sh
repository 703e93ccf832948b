#!/bin/sh
# Long differential run: braid-difftest with a fresh seed per round until HOURS have passed; stops at the first
# difference (exit 1, the minimal case kept in $OUT/seed-S) or generator bug (exit 2).
#
#   tools/difftest/long-run.sh HOURS [BUILD_DIR]       e.g. tools/difftest/long-run.sh 8 build/release
#
# Environment: ENGINE_A / ENGINE_B (default --engine=jit / --engine=interp), RULES (10), EVENTS (400),
# CASES per round (200), SEED0 (first seed; default: the current time), OUT (default /tmp/braid-difftest-long).
set -u
hours=${1:?usage: long-run.sh HOURS [BUILD_DIR]}
build=${2:-build/release}
out=${OUT:-/tmp/braid-difftest-long}
seed=${SEED0:-$(date +%s)}
end=$(( $(date +%s) + $(awk "BEGIN { printf \"%d\", $hours * 3600 }") ))
mkdir -p "$out"
while [ "$(date +%s)" -lt "$end" ]; do
  left=$(( end - $(date +%s) ))
  "$build/braid-difftest" --braid "$build/braid" --seed "$seed" --cases "${CASES:-200}" \
    --rules-per-case "${RULES:-10}" --events-per-case "${EVENTS:-400}" --time-budget "$left" \
    --engine-a "${ENGINE_A:---engine=jit}" --engine-b "${ENGINE_B:---engine=interp}" \
    --keep "$out/seed-$seed" > "$out/round.txt" 2>&1
  rc=$?
  cat "$out/round.txt" >> "$out/log.txt"
  cat "$out/round.txt"
  [ "$rc" -ne 0 ] && { echo "long-run: seed $seed failed with exit $rc (see $out/seed-$seed, $out/log.txt)"; exit "$rc"; }
  seed=$((seed + 1))
done
echo "long-run: no difference up to seed $seed"
