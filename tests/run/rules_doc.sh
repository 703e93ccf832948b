#!/bin/sh
# Regenerates the rule catalogue, docs/rules.md, with its benign-traffic column: a benign stream from braid-gen
# (background only), the shipped rules run over it, then `braid doc`, which also writes the ATT&CK Navigator layer
# attack-layer.json next to OUT.md. Run from the source root:
#   sh tests/run/rules_doc.sh BRAID BRAID_GEN OUT.md
# The test run.rules_doc_up_to_date writes OUT.md in the build directory and diffs it against docs/rules.md (and the
# layer against docs/attack-layer.json); to update the committed files, pass docs/rules.md as OUT.md and review the
# diff.
set -eu
braid=$1
gen=$2
out=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/braid-rules-doc.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
"$gen" --seed 7 --background 20000 --hours 48 --gcp --github -o "$work/benign.ndjson" 2>/dev/null
"$braid" run --rules rules -o "$work/benign-alerts.ndjson" "$work/benign.ndjson" 2>/dev/null
"$braid" doc rules/ --benign "$work/benign-alerts.ndjson" -o "$out" --attack-layer "$(dirname "$out")/attack-layer.json" \
  --benign-command \
"braid-gen --seed 7 --background 20000 --hours 48 --gcp --github -o benign.ndjson
braid run --rules rules -o benign-alerts.ndjson benign.ndjson
braid doc rules/ --benign benign-alerts.ndjson -o docs/rules.md --attack-layer docs/attack-layer.json
# the three steps together: sh tests/run/rules_doc.sh build/release/braid build/release/braid-gen docs/rules.md"
