#!/bin/sh
# Builds the front-end benchmark in Release and runs it. Arguments go to the benchmark, e.g.
#   bench/run.sh --benchmark_filter=BM_Parse --benchmark_repetitions=5
#   bench/run.sh --dump-rules=100 > /tmp/rules100.braid
# Environment: BRAID_BENCH_BUILD (build directory, default build/bench), BRAID_BENCH_JOBS (default 2).
# Run it on an otherwise idle machine; docs/performance.md records the figures and the machine.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BRAID_BENCH_BUILD:-$root/build/bench}
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
[ -f "$build/CMakeCache.txt" ] && gen=""  # the generator of an existing build cannot change
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target braid_bench_frontend --parallel "${BRAID_BENCH_JOBS:-2}" >&2
exec "$build/bench/braid_bench_frontend" "$@"
