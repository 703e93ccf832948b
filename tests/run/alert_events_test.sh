#!/usr/bin/env bash
# `braid run --alert-events N` (docs/alerts.md, "Raw events"): over the demo stream, N=0 changes no byte; N=2 adds
# to every step the objects of its first two events (the input lines themselves) and to event alerts their event,
# and nothing else; --threads 2, a pretty-printed CloudTrail Records file and a restart with --state give the same
# alerts; N above 100 is refused.
# Usage: tests/run/alert_events_test.sh BRAID. Exit 0 pass, 1 fail. Needs node (tools/setup.sh installs it).
set -u
BRAID=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/braid-alert-events-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "alert_events_test: FAIL: $*" >&2; exit 1; }
norm() { sed 's/"processing_time":"[^"]*",//' "$1"; }
same() { cmp -s <(norm "$1") <(norm "$2") || { diff <(norm "$1") <(norm "$2") | head -4 | cut -c1-300 >&2; fail "$3"; }; }
DEMO="$ROOT/examples/demo.ndjson"
run() { "$BRAID" run --rules "$ROOT/rules" "$@"; }

run "$DEMO" > "$W/plain.ndjson" 2>/dev/null || fail "the demo run failed"
run --alert-events 0 "$DEMO" > "$W/zero.ndjson" 2>/dev/null || fail "--alert-events 0 failed"
same "$W/plain.ndjson" "$W/zero.ndjson" "--alert-events 0 changed the alerts"
grep -q '"events":\[\|"event":[{n]' "$W/zero.ndjson" && fail "--alert-events 0 wrote raw events"

run --alert-events 2 "$DEMO" > "$W/two.ndjson" 2>/dev/null || fail "--alert-events 2 failed"
node - "$DEMO" "$W/plain.ndjson" "$W/two.ndjson" <<'EOF' || fail "the raw events are not what they should be"
const fs = require('fs');
const [demo, plainFile, twoFile] = process.argv.slice(2);
const lines = f => fs.readFileSync(f, 'utf8').split('\n').filter(l => l);
// The input line of an event id (CloudTrail eventID, Okta uuid, GitHub _document_id...): the line holding it.
const demoLines = lines(demo);
const byId = { get: id => demoLines.find(l => l.includes(`"${id}"`)) };
const plain = lines(plainFile), two = lines(twoFile);
if (plain.length !== two.length || plain.length < 10) throw new Error(`${two.length} alerts, want ${plain.length}`);
let steps = 0, events = 0, eventAlerts = 0;
for (let i = 0; i < two.length; i++) {
  const a = JSON.parse(two[i]);
  for (const [label, s] of Object.entries(a.steps)) {
    steps++;
    if (!Array.isArray(s.events)) throw new Error(`${a.rule}: step ${label} has no events`);
    if (s.events.length !== Math.min(2, s.event_ids.length)) throw new Error(`${a.rule}: step ${label}: ${s.events.length} events`);
    s.events.forEach((e, k) => {
      // The record itself: the input line, byte for byte (the demo's lines are compact).
      const want = byId.get(s.event_ids[k]);
      if (!want || !two[i].includes(want)) throw new Error(`${a.rule}: step ${label}: event ${k} is not the input line`);
      events++;
    });
    delete s.events;
  }
  if (a.scope === 'event') {
    if (!a.event || !two[i].includes(byId.get(a.event_id))) throw new Error(`${a.rule}: no event, or not the input line`);
    eventAlerts++;
  } else if ('event' in a) {
    throw new Error(`${a.rule}: a ${a.scope} alert with an event member`);
  }
  delete a.event;
  const p = JSON.parse(plain[i]);
  delete a.processing_time; delete p.processing_time;
  if (JSON.stringify(a) !== JSON.stringify(p)) throw new Error(`alert ${i} differs beyond its raw events`);
}
if (!steps || !events || !eventAlerts) throw new Error(`too little checked: ${steps} steps, ${events} events, ${eventAlerts} event alerts`);
console.log(`alert_events_test: ${two.length} alerts, ${steps} steps, ${events} step events, ${eventAlerts} event alerts`);
EOF

run --alert-events 2 --threads 2 "$DEMO" > "$W/threads.ndjson" 2>/dev/null || fail "--threads 2 failed"
same "$W/two.ndjson" "$W/threads.ndjson" "--threads 2 gave other alerts"

# The same events pretty-printed in a CloudTrail delivery file: the embedded records are the same (compact).
# (flat.ndjson: the same records, as the input's lines, in the same order.)
node -e '
const fs = require("fs");
const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(l => l);
const ct = lines.filter(l => JSON.parse(l).eventVersion), rest = lines.filter(l => !JSON.parse(l).eventVersion);
fs.writeFileSync(process.argv[2], JSON.stringify({Records: ct.map(l => JSON.parse(l))}, null, 2));
fs.writeFileSync(process.argv[3], rest.join("\n") + "\n");
fs.writeFileSync(process.argv[4], ct.concat(rest).join("\n") + "\n");
' "$DEMO" "$W/trail.json" "$W/others.ndjson" "$W/flat.ndjson" || fail "could not write the Records file"
run --alert-events 2 "$W/trail.json" "$W/others.ndjson" > "$W/trail_alerts.ndjson" 2>/dev/null || fail "the Records run failed"
run --alert-events 2 "$W/flat.ndjson" > "$W/flat_alerts.ndjson" 2>/dev/null || fail "the NDJSON run failed"
[ -s "$W/trail_alerts.ndjson" ] || fail "no alerts from the Records file"
same "$W/flat_alerts.ndjson" "$W/trail_alerts.ndjson" "a pretty-printed Records file embeds other text"

# A restart in the middle (--state): the first half, then the rest appended, equal one run.
head -n 190 "$DEMO" > "$W/grow.ndjson"
run --alert-events 2 --state "$W/state" -o "$W/restart.ndjson" "$W/grow.ndjson" 2>/dev/null || fail "the first half failed"
tail -n +191 "$DEMO" >> "$W/grow.ndjson"
run --alert-events 2 --state "$W/state" --close-at-end -o "$W/restart.ndjson" "$W/grow.ndjson" 2>/dev/null ||
  fail "the restart failed"
same "$W/two.ndjson" "$W/restart.ndjson" "a restart with --state gave other alerts"

out=$(run --alert-events 101 "$DEMO" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--alert-events: 101 is above the maximum, 100" <<<"$out" || fail "--alert-events 101: exit $rc: $out"
run --alert-events 100 "$DEMO" > /dev/null 2>&1 || fail "--alert-events 100 was refused"
echo "alert_events_test: PASS"
