#!/bin/sh
# Regenerates the expected outputs of the golden tests (tests/golden/<CODE>/expected.txt and expected.json) with
# a built braid binary, then lists what changed so the diff can be reviewed before committing.
#
#   tools/update-goldens.sh                 every case
#   tools/update-goldens.sh BRD0301 BRD0802 only these cases
#   BRAID=build/debug/braid tools/update-goldens.sh ...   choose the binary (default: the newest build/*/braid)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
golden="$root/tests/golden"

braid=${BRAID:-}
if [ -z "$braid" ]; then
  # shellcheck disable=SC2012 # names are build-directory names we create ourselves
  braid=$(ls -t "$root"/build/*/braid 2>/dev/null | head -n 1 || true)
fi
if [ -z "$braid" ] || [ ! -x "$braid" ]; then
  echo "update-goldens: no braid binary found; build first or set BRAID=path/to/braid" >&2
  exit 2
fi
case $braid in /*) ;; *) braid="$PWD/$braid" ;; esac
echo "update-goldens: using $braid" >&2

if [ $# -gt 0 ]; then cases="$*"; else cases=$(cd "$golden" && ls -d BRD* 2>/dev/null || true); fi

changed=0
failed=0
for code in $cases; do
  dir="$golden/$code"
  if [ ! -f "$dir/input.braid" ]; then
    echo "update-goldens: $code: no $dir/input.braid, skipped" >&2
    failed=$((failed + 1))
    continue
  fi
  before=$(cat "$dir/expected.txt" "$dir/expected.json" 2>/dev/null | cksum)
  if ! sh "$golden/run_golden.sh" "$braid" "$dir" --update; then
    echo "update-goldens: $code: the case has a problem (see above); expected files written anyway" >&2
    failed=$((failed + 1))
  fi
  after=$(cat "$dir/expected.txt" "$dir/expected.json" | cksum)
  if [ "$before" != "$after" ]; then
    echo "updated $code" >&2
    changed=$((changed + 1))
  fi
done
echo "update-goldens: $changed case(s) changed, $failed with problems. Review with: git diff -- tests/golden" >&2
[ $failed -eq 0 ]
