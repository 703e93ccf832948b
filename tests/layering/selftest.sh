#!/bin/sh
# layering.detects_violations: check_layering.sh must find every violation planted in fixture/ (and only those:
# fixture/expected.txt, exactly), and fail; otherwise its passing on the real tree would mean nothing.
# usage: selftest.sh TESTS_LAYERING_DIR WORK_DIR
set -u
here=$1
work=$2
mkdir -p "$work"
status=0
: > "$work/actual.txt"
for mode in runtime antlr; do
  sh "$here/check_layering.sh" "$here/fixture" "$mode" >> "$work/actual.txt" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "check_layering.sh $mode exited $rc on the fixture, not 1"
    status=1
  fi
done
if ! diff -u "$here/fixture/expected.txt" "$work/actual.txt"; then
  echo "check_layering.sh reported other violations than fixture/expected.txt"
  status=1
fi
[ "$status" -eq 0 ] && echo "check_layering.sh reports every planted violation and fails"
exit "$status"
