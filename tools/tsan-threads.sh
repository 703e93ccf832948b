#!/bin/sh
# ThreadSanitizer over `braid run --threads` (issue 9): builds braid with -fsanitize=thread into build/tsan, then
# runs the demo, a generated CloudTrail file (plain and gzipped; `braid_bench_ctgen --mb 20 --seed 42 -o
# build/bench-engine/cloudtrail-20mib-seed42.ndjson`) and (when present) the Stratus corpus with 2 and 3 worker
# threads, with both engines, and checks that there is no TSan report and that the alerts equal the release build's with one
# thread; then the demo and the Stratus corpus again with raw events in the alerts (--alert-events 3), whose record
# texts the workers keep. Too slow for CI (a separate full build); run it after changing the engine's threading.
#   tools/tsan-threads.sh [RELEASE_BRAID]      (default build/release/braid, built first if missing)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
release=${1:-build/release/braid}
[ -x "$release" ] || cmake --workflow --preset release >/dev/null
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS=-fsanitize=thread \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DBRAID_WERROR=OFF >/dev/null
ninja -C build/tsan braid >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BRAID_CACHE_DIR="$work/cache"
inputs="examples/demo.ndjson"
[ -d ../shared/corpora/stratus ] && inputs="$inputs ../shared/corpora/stratus"
if [ -f build/bench-engine/cloudtrail-20mib-seed42.ndjson ]; then
  # also gzipped: with threads the reader inflates it ahead on a thread of its own (ReaderOptions::read_ahead)
  gzip -c build/bench-engine/cloudtrail-20mib-seed42.ndjson > "$work/cloudtrail-20mib.ndjson.gz"
  inputs="$inputs build/bench-engine/cloudtrail-20mib-seed42.ndjson $work/cloudtrail-20mib.ndjson.gz"
fi
norm() { sed -E 's/"processing_time":"[^"]*",?//'; }
fail=0
# check INPUT ENGINE THREADS [FLAG...]
check() {
  in=$1 engine=$2 t=$3
  shift 3
  "$release" run --engine "$engine" --rules rules "$@" "$in" 2>/dev/null | norm > "$work/want"
  build/tsan/braid run --engine "$engine" --threads "$t" --rules rules "$@" "$in" 2> "$work/err" | norm > "$work/got"
  what="$in $engine --threads $t${*:+ $*}"
  if grep -q 'WARNING: ThreadSanitizer' "$work/err"; then
    echo "tsan: $what: ThreadSanitizer report:"; head -60 "$work/err"; fail=1
  elif ! cmp -s "$work/want" "$work/got"; then
    echo "tsan: $what: alerts differ from one thread"; fail=1
  else
    echo "tsan: $what: clean, $(wc -l < "$work/got") alerts as with one thread"
  fi
}
for in in $inputs; do
  for engine in jit interp; do
    for t in 2 3; do check "$in" "$engine" "$t"; done
  done
done
for in in examples/demo.ndjson ../shared/corpora/stratus; do
  [ -e "$in" ] || continue
  for engine in jit interp; do check "$in" "$engine" 2 --alert-events 3; done
done
exit $fail
