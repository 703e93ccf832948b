#!/usr/bin/env bash
# A/B of two braid binaries on the engine benchmark's file, in one run (docs/performance.md, "Session 7"):
# the ceilings, one event rule, one session rule, the shipped rules (JIT), 1 vs 2 threads for B, DuckDB when
# bench/engine.sh installed it, and the 1,000,000-credential memory run. Same timing method as bench/engine.sh
# (braid_bench_time: CPU best of 3, threads wall best of 5), which must have run once (it builds the tools and the
# file).
#
#   bench/ab.sh A_BRAID A_RULES B_BRAID B_RULES     e.g. bench/ab.sh /tmp/braid-old /tmp/old/rules build/release/braid rules
set -euo pipefail
[ $# -eq 4 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
a=$1 ar=$2 b=$3 br=$4
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
file=build/bench-engine/cloudtrail-200mib-seed42.ndjson
timer=build/bench/bench/braid_bench_time ceiling=build/bench/bench/braid_bench_ceiling gen=build/bench/bench/braid_bench_ctgen
for f in "$file" "$timer" "$ceiling" "$gen"; do
  [ -e "$f" ] || { echo "ab.sh: $f is missing: run bench/engine.sh once first" >&2; exit 2; }
done
export BRAID_SIMD_KERNEL=${BRAID_SIMD_KERNEL:-haswell}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
m() {  # NAME RUNS cpu|wall COMMAND...
  local name=$1 n=$2 by=$3 best="" line="" i w u s r l key
  shift 3
  for ((i = 0; i < n; i++)); do
    l=$(cut -d' ' -f1 /proc/loadavg)
    "$timer" -o "$out/o" -e "$out/e" -- "$@" 2> "$out/t" || { echo "$name: failed: $(tail -n 2 "$out/e")"; return 0; }
    read -r w u s r _ < "$out/t"
    key=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
    [ "$by" = wall ] && key=$w
    if [ -z "$best" ] || awk -v x="$key" -v y="$best" 'BEGIN { exit !(x < y) }'; then
      best=$key
      line=$(printf 'cpu %6.3f  wall %6.3f  rss %5d MB  load %5s  out %s' "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" \
        "$w" $((r / 1024)) "$l" "$(wc -l < "$out/o")")
    fi
  done
  printf '%-22s %s\n' "$name" "$line"
}
m ceil_plain_filter 3 cpu "$ceiling" plain-filter "$file"
m ceil_fields_filter 3 cpu "$ceiling" fields:filter "$file"
m ceil_fields_shipped 3 cpu "$ceiling" fields:shipped "$file"
for x in a b; do
  bin=$a rules=$ar
  [ $x = b ] && bin=$b rules=$br
  m "$x.filter" 3 cpu "$bin" run --rules bench/rules/filter "$file"
  m "$x.group" 3 cpu "$bin" run --rules bench/rules/group "$file"
  m "$x.shipped" 3 cpu "$bin" run --rules "$rules" "$file"
done
m b.threads1 5 wall "$b" run --threads 1 --rules "$br" "$file"
m b.threads2 5 wall "$b" run --threads 2 --rules "$br" "$file"
duck=build/bench-peers/duckdb_query.mjs
if command -v node >/dev/null 2>&1 && [ -f "$duck" ]; then
  m duck_filter 3 cpu node "$duck" 1 "SELECT count(*) FROM read_ndjson('$file', columns={eventName: 'VARCHAR', additionalEventData: 'STRUCT(MFAUsed VARCHAR)'}) WHERE eventName = 'StopLogging' OR (eventName = 'ConsoleLogin' AND additionalEventData.MFAUsed = 'No')"
  m duck_group 3 cpu node "$duck" 1 "SELECT count(*) FROM (SELECT userIdentity.accessKeyId AS k, count(DISTINCT eventName) FROM read_ndjson('$file', columns={eventName: 'VARCHAR', userIdentity: 'STRUCT(accessKeyId VARCHAR)'}) GROUP BY k)"
else
  echo "duckdb: skipped (run bench/engine.sh once to install @duckdb/node-api)"
fi
for x in a b; do
  bin=$a rules=$ar
  [ $x = b ] && bin=$b rules=$br
  "$gen" --credentials 1000000 --seed 42 2>/dev/null | "$timer" -o "$out/o" -e "$out/e" -- "$bin" run --rules "$rules" - 2> "$out/t"
  read -r w u s r _ < "$out/t"
  printf '%-22s cpu %6.2f  wall %6.2f  rss %5d MB\n' "$x.1M_credentials" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$w" $((r / 1024))
done
