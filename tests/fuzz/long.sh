#!/bin/sh
# Runs the libFuzzer targets for longer than ctest does (tests/fuzz/README.md).
#   tests/fuzz/long.sh [SECONDS_EACH] [TARGET...]     (default: 600 s each; targets parser input pack checkpoint)
# The checkpoint target builds its pack with a braid binary: $BRAID, or build/release/braid (cmake --workflow
# --preset release makes it).
# Configures the fuzz build in build/fuzz (clang-19) if needed and builds the targets, then fuzzes each one with
# tests/fuzzrun/fuzz.cmake (a scratch copy of its corpus in build/fuzz/fuzzrun-<target>: the repository does not
# change), stopping at the first target that finds something, with its reproducers. Run from the repository root.
set -eu
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-parser input pack checkpoint}
braid=${BRAID:-$(pwd)/build/release/braid}
build=build/fuzz
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-19 -DBRAID_FUZZ=ON -DBRAID_FRONTEND_ONLY=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
for t in $targets; do
  cmake --build "$build" --target "braid_fuzz_$t"
done
for t in $targets; do
  cmake -DMODE=run -DFUZZER="$t" -DSECONDS="$seconds" -DSOURCE_DIR="$(pwd)" -DBUILD_DIR="$(pwd)/$build" \
        -DCXX=clang++-19 -DBRAID="$braid" -P tests/fuzzrun/fuzz.cmake
done
