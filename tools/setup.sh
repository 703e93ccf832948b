#!/bin/sh
# Installs the Debian 12 packages Braid needs to build and test. Idempotent, and silent when nothing is missing.
# Run as root (or with sudo available). Usage: tools/setup.sh
set -eu

PACKAGES="g++ cmake ninja-build pkg-config git
antlr4 libantlr4-runtime-dev uuid-dev
llvm-19-dev libsimdjson-dev libfmt-dev libre2-dev libvectorscan-dev libcli11-dev libsodium-dev libzstd-dev zlib1g-dev libisal-dev
libgtest-dev libgmock-dev libbenchmark-dev
clang-19 libclang-rt-19-dev
nlohmann-json3-dev libyaml-cpp-dev libcpp-httplib-dev libssl-dev neovim tmux nodejs"
# npm: Debian's package, unless an npm is already there (NodeSource's nodejs bundles npm and conflicts with it).
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup: these packages are missing and installing them needs root:$missing" >&2; exit 2
  fi
else SUDO=""; fi

echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "setup: done" >&2
