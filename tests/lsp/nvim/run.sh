#!/bin/sh
# Neovim end to end: Debian's Neovim (0.7+), headless, runs e2e.lua against `braid lsp` on a rule with a misspelt
# field (diagnostic, fix-it code action, completion after `userIdentity.`, formatting, hover, definition into the
# read-only stdlib). Skipped (exit 77)
# when nvim is not installed. Usage: run.sh BRAID WORK_DIR
set -eu
braid=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v nvim >/dev/null 2>&1 || { echo "SKIP: nvim is not installed (tools/setup.sh installs Debian's neovim)" >&2; exit 77; }

rm -rf "$work" && mkdir -p "$work/ws" "$work/cache"
cp "$here/workspace/"*.braid "$work/ws/"
# What formatting must give: the rule as `braid fmt` writes it, with the misspelling fixed.
sed 's/eventNmae/eventName/' "$work/ws/typo.braid" >"$work/expected.braid"
"$braid" fmt "$work/expected.braid" 2>/dev/null
cd "$work/ws"
status=0
XDG_CACHE_HOME=$work/cache BRAID=$braid RESULT=$work/result.txt EXPECTED=$work/expected.braid \
  timeout 120 nvim --headless -u NONE -i NONE -n typo.braid -c "luafile $here/e2e.lua" >"$work/nvim.log" 2>&1 || status=$?
cat "$work/result.txt" 2>/dev/null || true
if [ "$status" -ne 0 ] || ! grep -qx done "$work/result.txt" 2>/dev/null; then
  echo "nvim failed (exit $status); its output:" >&2
  cat "$work/nvim.log" >&2
  exit 1
fi
