#!/bin/sh
# The VS Code extension's tests (editors/vscode), run by ctest: `grammar` tokenises every .braid file of the
# repository with vscode-textmate and vscode-oniguruma and compares the snapshots; `vsix` validates the manifest,
# packages the extension with @vscode/vsce and checks the package.
# The extension is copied to WORK_DIR and its locked dependencies installed there with `npm ci` (the source tree
# stays clean). Without node (18 or later), npm or the npm registry, the test is skipped (exit 77) with a message.
# Usage: vscode_test.sh REPO_ROOT WORK_DIR grammar|vsix
set -eu
root=$1 work=$2 mode=$3
src=$root/editors/vscode

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed (tools/setup.sh installs Debian's nodejs)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (tools/setup.sh installs Debian's npm)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || skip "node $(node --version) is older than 18"

mkdir -p "$work"
tar -C "$src" --exclude=node_modules --exclude='*.vsix' -cf - . | tar -C "$work" -xf -
stamp=$work/node_modules/.braid-lock.sha256
want=$(sha256sum "$work/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if ! timeout 30 npm ping >/dev/null 2>&1; then
    skip "the npm registry cannot be reached (npm ping failed): cannot install the extension's dependencies"
  fi
  (cd "$work" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2
  echo "$want" >"$stamp"
fi

cd "$work"
case $mode in
  grammar) node test/grammar.test.js "$root" ;;
  vsix)
    node test/manifest.test.js
    rm -f braid.vsix
    ./node_modules/.bin/vsce package --out braid.vsix >vsce.log 2>&1 || { cat vsce.log >&2; exit 1; }
    node test/manifest.test.js braid.vsix
    ;;
  *) echo "usage: vscode_test.sh REPO_ROOT WORK_DIR grammar|vsix" >&2; exit 2 ;;
esac
