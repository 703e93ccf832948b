#!/bin/sh
# End-to-end `braid run` over one stream, JIT against interpreter, with jq on the same file as a peer figure.
# Prints one line per run and the median per configuration (docs/performance.md, "JIT", end to end).
#
#   bench/cli_e2e.sh [STREAM]        default STREAM: /tmp/benign.ndjson (made with braid-gen if missing)
#
# Configurations, each run BRAID_E2E_RUNS times (default 3):
#   jit-cold     braid run --engine=jit --no-jit-cache    (the rules are compiled to native code every run)
#   jit-cached   braid run --engine=jit                   (object code from a private, warmed cache directory)
#   interp       braid run --engine=interp
#   jq           the 3-condition jq filter of docs/performance.md (one rule's worth of work)
# Columns: wall seconds of the whole command (rules compiled, stream read, alerts written), the `seconds` the
# engine reports in --stats (processing only, after the rules are ready), user+sys CPU seconds, peak RSS (MB).
# Environment: BRAID_BENCH_BUILD (default build/bench), BRAID_BENCH_JOBS (default 2), BRAID_E2E_RUNS (default 3).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BRAID_BENCH_BUILD:-$root/build/bench}
runs=${BRAID_E2E_RUNS:-3}
stream=${1:-/tmp/benign.ndjson}
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
[ -f "$build/CMakeCache.txt" ] && gen=""  # the generator of an existing build cannot change
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target braid braid-gen --parallel "${BRAID_BENCH_JOBS:-2}" >&2
if [ ! -f "$stream" ]; then
  "$build/braid-gen" --seed 7 --background 100000 --hours 72 --gcp --github -o "$stream"
fi
work=$(mktemp -d /tmp/braid_e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
cache="$work/cache"
mkdir -m 0700 "$cache"
filter='select(.eventName=="StopLogging" or .eventName=="DeleteTrail" or (.eventSource=="iam.amazonaws.com" and (.eventName|startswith("Create")))) | {eventName, arn: .userIdentity.arn}'

echo "stream: $stream ($(wc -l < "$stream") records, $(($(wc -c < "$stream") / 1000000)) MB); $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
# one NAME CMD...: runs CMD under /usr/bin/time, prints "NAME wall engine_s cpu rss_mb"
one() {
  name=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" > "$work/out" 2> "$work/stats" || {
    echo "$name: failed" >&2
    cat "$work/stats" >&2
    exit 1
  }
  engine_s=$(grep -o '"seconds":[0-9.]*' "$work/stats" | cut -d: -f2 || true)
  read -r wall user sys rss < "$work/time"
  echo "$name $wall ${engine_s:--} $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $((rss / 1024))"
}
cd "$root"
BRAID_CACHE_DIR=$cache "$build/braid" run --rules rules -o /dev/null "$stream" 2>/dev/null  # warm the cache
: > "$work/all"
i=0
while [ "$i" -lt "$runs" ]; do
  one jit-cold "$build/braid" run --rules rules --engine=jit --no-jit-cache --stats --stats-format json "$stream" | tee -a "$work/all"
  one jit-cached env BRAID_CACHE_DIR="$cache" "$build/braid" run --rules rules --engine=jit --stats --stats-format json "$stream" | tee -a "$work/all"
  one interp "$build/braid" run --rules rules --engine=interp --stats --stats-format json "$stream" | tee -a "$work/all"
  one jq jq -c "$filter" "$stream" | tee -a "$work/all"
  i=$((i + 1))
done
echo "median of $runs (wall s, engine s, cpu s, peak MB):"
for name in jit-cold jit-cached interp jq; do
  printf '%-11s' "$name"
  for col in 2 3 4 5; do
    printf ' %8s' "$(awk -v n="$name" -v c="$col" '$1 == n { print $c }' "$work/all" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
  done
  echo
done
