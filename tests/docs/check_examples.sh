#!/bin/sh
# Every ```braid block in the given Markdown files must pass `braid check`, survive `braid lint` (warnings are
# fine, errors are not), format idempotently with `braid fmt`, and every BRDxxxx code the files mention must have
# an explanation in `braid explain`.
# usage: check_examples.sh BRAID WORKDIR FILE.md...
set -u
braid=$1; work=$2; shift 2
rm -rf "$work"; mkdir -p "$work"
fail=0; n=0
for md in "$@"; do
  base=$(basename "$md" .md)
  # Extract each ```braid ... ``` block into its own file, remembering the line it starts on.
  awk -v dir="$work" -v base="$base" '
    /^```braid[ \t]*$/ { inb=1; k++; f=sprintf("%s/%s_%03d_L%d.braid", dir, base, k, NR+1); next }
    /^```/ && inb { inb=0; close(f); next }
    inb { print > f }
  ' "$md"
done
for f in "$work"/*.braid; do
  [ -e "$f" ] || continue
  n=$((n+1))
  if ! "$braid" check --color never "$f" >"$f.check.out" 2>&1; then
    echo "FAIL: braid check on the example at $(basename "$f" .braid):"; cat "$f.check.out"; fail=1; continue
  fi
  "$braid" lint --color never "$f" >"$f.lint.out" 2>&1
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ] || grep -q "error\[" "$f.lint.out"; then
    echo "FAIL: braid lint on $(basename "$f" .braid) (exit $rc):"; cat "$f.lint.out"; fail=1
  fi
  cp "$f" "$f.fmt.braid"
  if ! "$braid" fmt "$f.fmt.braid" >"$f.fmt.out" 2>&1 || ! "$braid" fmt --check "$f.fmt.braid" >>"$f.fmt.out" 2>&1; then
    echo "FAIL: braid fmt is not idempotent on $(basename "$f" .braid):"; cat "$f.fmt.out"; fail=1
  fi
done
for code in $(cat "$@" | grep -o 'BRD[0-9][0-9][0-9][0-9]' | sort -u); do
  "$braid" explain "$code" >/dev/null 2>&1 || { echo "FAIL: braid explain $code"; fail=1; }
done
[ $n -gt 0 ] || { echo "FAIL: no braid examples found in $*"; exit 1; }
echo "$n examples checked"
exit $fail
