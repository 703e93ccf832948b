#!/bin/sh
# Builds the Debian package from a Release build with CPack, then checks it: its control data (Depends from
# dpkg-shlibdeps, each installed here; the conffile; the maintainer scripts), its contents, and, unpacked with
# `dpkg -x` into a scratch root, the installed braid on the demo stream (tests/install/check_installed.sh).
# Usage: tools/package-deb.sh [BUILD_DIR]   (default build/release; configure it with `cmake --preset release`)
# Prints the path of the .deb on success. docs/operations.md, "Installing".
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
build=${1:-build/release}
[ -d "$build" ] && build=$(cd "$build" && pwd)
cache=$build/CMakeCache.txt
[ -f "$cache" ] || { echo "package-deb: $build is not a configured build (cmake --preset release)" >&2; exit 2; }
type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
sanitize=$(sed -n 's/^BRAID_SANITIZE:[A-Z]*=//p' "$cache")
if [ "$type" != Release ] || [ "$sanitize" = ON ]; then
  echo "package-deb: $build is a $type build (BRAID_SANITIZE=$sanitize): packages come from a Release build" \
       "without sanitizers (cmake --preset release)" >&2
  exit 2
fi
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v $tool >/dev/null 2>&1 || { echo "package-deb: $tool is missing (tools/setup.sh)" >&2; exit 2; }
done

out=$build/package
rm -rf "$out"
mkdir -p "$out"
cmake --build "$build" --target braid > "$out/build.log" 2>&1 || { tail -30 "$out/build.log" >&2; exit 1; }
(cd "$build" && cpack -G DEB -B "$(pwd)/package" > package/cpack.log 2>&1) || { cat "$out/cpack.log" >&2; exit 1; }
deb=$(ls "$out"/braid_*.deb)
work=$out/check
mkdir -p "$work"
fail() { echo "package-deb: $deb: $*" >&2; exit 1; }

# Control data.
dpkg-deb --field "$deb" Package Version Architecture Depends > "$work/control"
depends=$(dpkg-deb --field "$deb" Depends)
for lib in libllvm19 libantlr4-runtime libfmt libre2 libc6 libstdc++6; do
  echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done
# Every dependency (the first of alternatives) is a package this machine has installed: the .deb installs here.
echo "$depends" | tr ',' '\n' | sed -E 's/^ *//; s/[ |(].*//' | while read -r pkg; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || fail "dependency $pkg is not installed"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -t > "$work/control-files"
for f in ./conffiles ./postinst ./prerm ./postrm ./md5sums; do
  grep -qxF "$f" "$work/control-files" || fail "no $f in the control archive"
done
dpkg-deb --info "$deb" conffiles | grep -qx /etc/braid/braid.env || fail "/etc/braid/braid.env is not a conffile"

# Contents: braid, the rules, the unit, the configuration, the docs, and nothing else (no braid-gen).
dpkg-deb --contents "$deb" | awk '{print $6}' > "$work/contents"
for f in ./usr/bin/braid ./etc/braid/braid.env ./usr/lib/systemd/system/braid.service \
         ./usr/share/braid/rules/aws/lists_panther.braid ./usr/share/doc/braid/copyright; do
  grep -qxF "$f" "$work/contents" || fail "does not contain $f"
done
grep -v -E '^\./(usr/bin/braid|usr/share/braid/|usr/share/doc/braid/|usr/lib/systemd/system/braid\.service|etc/braid/)|/$' \
  "$work/contents" > "$work/unexpected" || true
[ ! -s "$work/unexpected" ] || fail "unexpected files: $(head -3 "$work/unexpected" | tr '\n' ' ')"

# Unpacked into a scratch root: the installed braid, with the installed rules, on the demo.
dpkg -x "$deb" "$work/root"
. "$src/tests/install/check_installed.sh"
check_installed "$work/root" "$src" "$build/braid" "$work" >&2
echo "package-deb: $(sed -n 's/^Depends: //p' "$work/control" | wc -c) bytes of Depends; $(wc -l < "$work/contents") entries" >&2
echo "$deb"
