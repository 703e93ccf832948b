#!/bin/sh
# Runs one golden case, or regenerates its expected files.
#
#   run_golden.sh BRAID CASE_DIR           compare (the ctest mode)
#   run_golden.sh BRAID CASE_DIR --update  rewrite CASE_DIR/expected.txt and expected.json
#
# A case folder is named after the code it demonstrates (tests/golden/BRD0301/) and holds input.braid. The
# harness runs, from inside the folder,
#   braid check --format text --color never input.braid   -> expected.txt  (stdout)
#   braid check --format json input.braid                 -> expected.json (stdout)
# using `braid lint` instead of `braid check` for lint codes (BRD08xx). An optional file `args` replaces
# `input.braid` with other arguments (for the driver's codes, which need a missing path or an empty folder).
# The case also fails when braid crashes (exit status above 2), when text and JSON runs disagree on the exit
# status, when the output does not contain the folder's code, or when the exit status does not match the
# reported errors.
set -u
braid=$1
dir=$2
mode=${3:-compare}

code=$(basename "$dir")
cd "$dir" || { echo "golden: no folder $dir" >&2; exit 1; }
[ -f input.braid ] || { echo "golden $code: missing input.braid" >&2; exit 1; }

verb=check
case $code in BRD08*) verb=lint ;; esac
args=input.braid
[ -f args ] && args=$(cat args)

# Deterministic environment: C locale for OS error messages, no colour variables.
LC_ALL=C
export LC_ALL
unset NO_COLOR CLICOLOR CLICOLOR_FORCE 2>/dev/null || true

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# shellcheck disable=SC2086 # args is a word list on purpose
"$braid" "$verb" --format text --color never $args >"$tmp/out.txt" 2>"$tmp/err.txt"
rc_text=$?
# shellcheck disable=SC2086
"$braid" "$verb" --format json $args >"$tmp/out.json" 2>"$tmp/err.json"
rc_json=$?

fail=0
for rc in $rc_text $rc_json; do
  if [ "$rc" -gt 2 ]; then
    echo "golden $code: braid $verb exited with status $rc (a crash?); stderr:" >&2
    cat "$tmp/err.txt" "$tmp/err.json" >&2
    exit 1
  fi
done
if [ "$rc_text" != "$rc_json" ]; then
  echo "golden $code: exit status differs between --format text ($rc_text) and --format json ($rc_json)" >&2
  fail=1
fi
if ! grep -q "\"code\": \"$code\"" "$tmp/out.json"; then
  echo "golden $code: the output does not report $code; input.braid (or args) must trigger it" >&2
  fail=1
fi
errors=$(sed -n 's/^    "errors": \([0-9]*\).*/\1/p' "$tmp/out.json")
if [ -n "$errors" ]; then
  if [ "$errors" -gt 0 ] && [ "$rc_json" -eq 0 ]; then
    echo "golden $code: $errors error(s) reported but exit status 0" >&2
    fail=1
  fi
  if [ "$errors" -eq 0 ] && [ "$rc_json" -ne 0 ]; then
    echo "golden $code: no errors reported but exit status $rc_json" >&2
    fail=1
  fi
fi

if [ "$mode" = "--update" ]; then
  cp "$tmp/out.txt" expected.txt && cp "$tmp/out.json" expected.json || exit 1
  exit $fail
fi

for kind in txt json; do
  if [ ! -f "expected.$kind" ]; then
    echo "golden $code: missing expected.$kind; run tools/update-goldens.sh $code and review the result" >&2
    fail=1
  elif ! cmp -s "expected.$kind" "$tmp/out.$kind"; then
    echo "golden $code: output differs from expected.$kind (- expected, + actual):" >&2
    diff -u "expected.$kind" "$tmp/out.$kind" >&2
    fail=1
  fi
done
if [ $fail -ne 0 ]; then
  echo "golden $code: if the new output is right, run tools/update-goldens.sh $code and commit the diff" >&2
fi
exit $fail
