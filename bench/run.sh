#!/bin/sh
# Builds a benchmark in Release and runs it: the front end by default, or the one named first (frontend, input,
# jit). Other arguments go to the benchmark, e.g.
#   bench/run.sh --benchmark_filter=BM_Parse --benchmark_repetitions=5
#   bench/run.sh --dump-rules=100 > /tmp/rules100.braid
#   bench/run.sh jit --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
# (bench/cli_e2e.sh times `braid run` end to end, JIT against interpreter, next to jq; bench/engine.sh is the
# engine benchmark of issue 9: ceilings, braid, DuckDB and jq on one generated file, memory and start-up, with ratios.)
# Environment: BRAID_BENCH_BUILD (build directory, default build/bench), BRAID_BENCH_JOBS (default 2).
# Run it on an otherwise idle machine; docs/performance.md records the figures and the machine.
set -eu
bench=frontend
case "${1:-}" in frontend | input | jit) bench=$1; shift ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BRAID_BENCH_BUILD:-$root/build/bench}
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
[ -f "$build/CMakeCache.txt" ] && gen=""  # the generator of an existing build cannot change
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target "braid_bench_$bench" --parallel "${BRAID_BENCH_JOBS:-2}" >&2
exec "$build/bench/braid_bench_$bench" "$@"
