#!/usr/bin/env bash
# `braid run --bad-records FILE` (docs/operations.md, "Bad records"): the demo stream with a truncated record, one
# of invalid UTF-8, one no source recognises, a CloudTrail record without a time and a line over the size limit.
# Each is written to FILE once, with its input, line, reason and text; the alerts are the demo's; --threads 2
# writes the same file; with --state, a crash after the file was synced but before the checkpoint was renamed
# does not write the records read again twice.
# Usage: tests/run/bad_records_test.sh BRAID. Exit 0 pass, 1 fail. Needs node (tools/setup.sh installs it).
set -u
BRAID=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/braid-bad-records-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "bad_records_test: FAIL: $*" >&2; exit 1; }
norm() { sed 's/"processing_time":"[^"]*",//' "$1"; }
DEMO="$ROOT/examples/demo.ndjson"
run() { "$BRAID" run --rules "$ROOT/rules" "$@"; }

IN="$W/input.ndjson"
notime=$(head -n 1 "$DEMO" | sed -E 's/"eventTime":"[^"]*",//; s/"eventID":"[^"]*"/"eventID":"no-time-1"/')
grep -q '"eventTime"' <<<"$notime" && fail "could not drop the time"
{
  head -n 50 "$DEMO"
  printf '{"eventVersion":"1.11","eventName":"GetObject","awsRegion":"us-east-1"\n'     # line 51: truncated
  sed -n 51,120p "$DEMO"
  printf '{"eventVersion":"1.11","userAgent":"\xff\xfe bad"}\n'                         # line 122: invalid UTF-8
  sed -n 121,200p "$DEMO"
  printf '{"hello":"world","n":1}\n'                                                   # line 203: unrouted
  sed -n 201,300p "$DEMO"
  printf '%s\n' "$notime"                                                              # line 304: no time
  sed -n 301,350p "$DEMO"
  printf '{"pad":"'; head -c 17000000 /dev/zero | tr '\0' a; printf '"}\n'            # line 355: over 16 MiB
  tail -n +351 "$DEMO"
} > "$IN"

run "$DEMO" > "$W/want.ndjson" 2>/dev/null || fail "the demo run failed"
run --bad-records "$W/bad.ndjson" "$IN" > "$W/got.ndjson" 2> "$W/err.txt" || { cat "$W/err.txt" >&2; fail "the run failed"; }
cmp -s <(norm "$W/want.ndjson") <(norm "$W/got.ndjson") || fail "the bad records changed the alerts"
node - "$W/bad.ndjson" "$IN" "$notime" <<'EOF' || { cat "$W/bad.ndjson" | cut -c1-300 >&2; fail "the bad-records file is wrong"; }
const fs = require('fs');
const [file, input, notime] = process.argv.slice(2);
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(l => l).map(l => JSON.parse(l));
const want = [
  ['malformed_json', 51, '{"eventVersion":"1.11","eventName":"GetObject","awsRegion":"us-east-1"'],
  ['invalid_utf8', 122, '{"eventVersion":"1.11","userAgent":"\ufffd\ufffd bad"}'],
  ['unrouted', 203, '{"hello":"world","n":1}'],
  ['no_time', 304, notime],
  ['too_large', 355, null],
];
if (lines.length !== want.length) throw new Error(`${lines.length} lines, want ${want.length}`);
want.forEach(([kind, line, record], i) => {
  const b = lines[i];
  const keys = Object.keys(b).join(',');
  if (keys !== 'kind,input,line,element,reason,size,truncated,record') throw new Error(`members ${keys}`);
  if (b.kind !== kind || b.line !== line || b.input !== input || b.element !== null || !b.reason)
    throw new Error(`line ${i}: ${JSON.stringify(b).slice(0, 200)}`);
  if (b.record !== record) throw new Error(`line ${i}: record ${JSON.stringify(b.record).slice(0, 200)}`);
  if (record !== null && (b.truncated || b.size !== Buffer.byteLength(record.replace(/\ufffd/g, 'x'))))
    throw new Error(`line ${i}: size ${b.size}`);
});
EOF
grep -q "^braid: .* 3 malformed, 1 unrouted, 0 late, 0 quarantined, 1 without time" "$W/err.txt" ||
  fail "the summary: $(grep -v warning "$W/err.txt")"

# Threads: the same file, byte for byte; a second run writes it anew.
run --threads 2 --bad-records "$W/bad2.ndjson" "$IN" > /dev/null 2>&1 || fail "the --threads 2 run failed"
cmp -s "$W/bad.ndjson" "$W/bad2.ndjson" || fail "--threads 2 wrote another file"
run --bad-records "$W/bad2.ndjson" "$IN" > /dev/null 2>&1 || fail "the second run failed"
cmp -s "$W/bad.ndjson" "$W/bad2.ndjson" || fail "a second run without --state did not write the file anew"

# --state: a checkpoint every 256 records; the second checkpoint (at the end) dies before its rename, after the
# file was synced with the records past the first one. The restart reads them again: each is still written once.
BRAID_FAULT_KILL_BEFORE_RENAME=2 run --state "$W/state" --checkpoint-interval 0 --bad-records "$W/bad3.ndjson" \
  -o "$W/alerts3.ndjson" "$IN" > /dev/null 2>&1
[ -s "$W/state/checkpoint" ] || fail "no first checkpoint"
cmp -s "$W/bad.ndjson" "$W/bad3.ndjson" || fail "the killed run had not synced its bad records"
run --state "$W/state" --close-at-end --bad-records "$W/bad3.ndjson" -o "$W/alerts3.ndjson" "$IN" > /dev/null \
  2> "$W/err3.txt" || { cat "$W/err3.txt" >&2; fail "the restart failed"; }
cmp -s "$W/bad.ndjson" "$W/bad3.ndjson" || { diff "$W/bad.ndjson" "$W/bad3.ndjson" | cut -c1-200 >&2; fail "the restart wrote bad records twice"; }
grep -q "braid: 2 bad records written before the restart not written again" "$W/err3.txt" || fail "$(cat "$W/err3.txt")"

out=$(run --bad-records - "$DEMO" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--bad-records: give a file" <<<"$out" || fail "--bad-records -: exit $rc: $out"
echo "bad_records_test: PASS"
