#!/bin/sh
# `cmake --install BUILD --component braid` into a scratch root, checked by check_installed.sh.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -eu
build=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
DESTDIR="$work/root" cmake --install "$build" --prefix /usr --component braid > "$work/install.log" ||
  { cat "$work/install.log" >&2; exit 1; }
. "$src/tests/install/check_installed.sh"
check_installed "$work/root" "$src" "$build/braid" "$work"
# A second install keeps an operator's changed configuration.
echo "# changed" >> "$work/root/etc/braid/braid.env"
DESTDIR="$work/root" cmake --install "$build" --prefix /usr --component braid > "$work/install2.log"
grep -q '^# changed$' "$work/root/etc/braid/braid.env" || { echo "a second install replaced braid.env" >&2; exit 1; }
echo "install.demo: passed"
