#!/bin/sh
# In a sanitizer or non-Release build, `cpack` refuses to make a package (tools/packaging/cpack-project.cmake).
# Usage: cpack_refuses.sh BUILD_DIR BUILD_TYPE SANITIZE WORK_DIR   (skipped, exit 77, in a Release build)
set -u
build=$1 type=$2 sanitize=$3 work=$4
if [ "$type" = Release ] && [ "$sanitize" != ON ]; then
  echo "cpack_refuses: a Release build without sanitizers may be packaged: nothing to refuse here"
  exit 77
fi
rm -rf "$work"
out=$(cd "$build" && cpack -G DEB -B "$work" 2>&1)
rc=$?
[ "$rc" -ne 0 ] || { echo "cpack made a package of a $type build (BRAID_SANITIZE=$sanitize)" >&2; exit 1; }
echo "$out" | grep -q "packages are built from a Release build" || { echo "$out" >&2; echo "not the refusal" >&2; exit 1; }
if ls "$work"/*.deb >/dev/null 2>&1; then echo "a .deb was left in $work" >&2; exit 1; fi
echo "cpack_refuses: refused, as it should"
