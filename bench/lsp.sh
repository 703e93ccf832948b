#!/bin/sh
# The language server benchmark (docs/editors.md, "Speed"): didChange -> publishDiagnostics on rules/.
# Usage: bench/lsp.sh [BUILD_DIR] [ROUNDS]   (BUILD_DIR default build/release; it must be a Release build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/release}
cmake --build "$build" --target braid braid_bench_lsp >/dev/null
"$build/bench/braid_bench_lsp" "$build/braid" rules rules/aws/discovery/account_discovery.braid \
  rules/aws/lists_panther.braid "${2:-40}"
