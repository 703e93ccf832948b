#!/usr/bin/env bash
# Rule reload on SIGHUP (docs/operations.md, "Reload"), on a followed run with --state:
#   - a rule file is edited (one rule changed, one removed, one added) and SIGHUP sent: the log says what happened
#     (`braid: reloaded rules: 1 kept, 1 changed, 1 added, 1 removed`), braid_reloads_total{result="ok"} counts
#     it, the unchanged rule completes a count begun before the reload, the changed rule starts empty, the removed
#     one is silent and the new one sees only events after the reload;
#   - a broken rule file and SIGHUP: the reload is refused with the diagnostics (file:line:col), counted as failed,
#     and the rules in use go on alerting; SIGTERM still exits 0;
#   - the checkpoint holds the reloaded rules: a restart with them loads it as is, a restart with changed rules
#     carries it over by the same rules (the log says so);
#   - the shipped rules over half the demo stream, then a restart with a rule added: the alerts of one run;
#   - with --pack (and --threads 2): a pack not signed by a trusted key is refused on SIGHUP as at start-up; a
#     signed one reloads.
# It waits on the log, the alert file and the metrics endpoint (bash /dev/tcp), never on fixed sleeps.
# Usage: tests/run/reload_test.sh BRAID. Exit 0 pass, 1 fail.
set -u
BRAID=$(realpath "$1")
W=$(mktemp -d "${TMPDIR:-/tmp}/braid-reload-test.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$W"' EXIT
fail() { echo "reload_test: FAIL: $*" >&2; [ -f "$W/err.txt" ] && tail -n 30 "$W/err.txt" | cut -c1-300 >&2; exit 1; }

SOURCE='source t.src {
  recognize src == "t"
  time ts
  id id
  identity user
  credential key
  session gap 30m max 2h
  fields { src: string, ts: time, id: string, user?: string, key?: string, kind?: string }
}
'
rule() {  # rule ID SCOPE BODY: an event rule's BODY is its condition, a session rule's its block
  local when="when $3" message="{kind}"
  [ "$2" = session ] && when="session {
    $3
  }" && message="{session.identity}"
  printf 'rule %s {\n  title "%s"\n  severity high\n  attack T1078\n  source t.src\n  message "%s"\n  %s\n}\n\n' \
    "$1" "$1" "$message" "$when"
}
KEEP=$(rule t.keep session 'step x = kind == "x"
    when count(x) >= 3')
v1() { printf '%s\n%s\n%s\n%s\n' "$SOURCE" "$KEEP" "$(rule t.chg event 'kind == "c"')" "$(rule t.rm event 'kind == "m"')"; }
v2() { printf '%s\n%s\n%s\n%s\n' "$SOURCE" "$(rule t.add event 'kind == "d"')" "$KEEP" "$(rule t.chg event 'kind == "c2"')"; }
v3() { printf '%s\n%s\n%s\n%s\n' "$SOURCE" "$(rule t.add event 'kind == "d2"')" "$KEEP" "$(rule t.chg event 'kind == "c2"')"; }

n=0
event() {  # event MINUTE KIND: appended to the followed file
  n=$((n + 1))
  printf '{"src":"t","ts":"2024-01-01T10:%02d:00Z","id":"e%d","user":"u1","key":"k1","kind":"%s"}\n' "$1" "$n" "$2" \
    >> "$W/in/events.ndjson"
}

port=""
metric() {  # the first sample of a metric (name and labels as a grep pattern), or -1
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || { echo -1; return; }
  printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  line=$(grep -a -m1 "^$1 " <&3)
  exec 3<&-
  [ -n "$line" ] && echo "${line##* }" || echo -1
}
start() {  # braid run --follow with the given arguments in the background; sets pid and port
  : > "$W/err.txt"
  "$BRAID" run --follow --poll-interval 100ms --metrics-addr 127.0.0.1:0 "$@" 2> "$W/err.txt" &
  pid=$!
  port=""
  for _ in $(seq 1800); do  # up to 180 s: a sanitizer build compiles the rules slowly
    port=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$W/err.txt")
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "braid exited at start"
    sleep 0.1
  done
  fail "no metrics endpoint after 180 s"
}
wait_for() {  # wait_for DESCRIPTION COMMAND...: until the command succeeds (120 s), braid still running
  local what=$1
  shift
  for _ in $(seq 1200); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || fail "braid exited while waiting for $what"
    sleep 0.1
  done
  fail "no $what within 120 s"
}
in_log() { grep -q -- "$1" "$W/err.txt"; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
alerts_of() { grep -c "\"rule\":\"$1\"" "$W/alerts.ndjson"; }
alerts_are() { [ "$(alerts_of "$1")" = "$2" ]; }
stop() {  # SIGTERM: exit 0
  kill -TERM "$pid"
  wait "$pid"
  local rc=$?
  pid=""
  [ "$rc" -eq 0 ] || fail "exit $rc after SIGTERM"
}

mkdir -p "$W/rules" "$W/in"
v1 > "$W/rules/t.braid"
: > "$W/in/events.ndjson"
: > "$W/alerts.ndjson"
start --rules "$W/rules" --state "$W/state" -o "$W/alerts.ndjson" "$W/in/events.ndjson"

# Before the reload: two of t.keep's three `x`, a `c` (t.chg) and an `m` (t.rm), and a `d` no rule reads yet.
event 0 x; event 1 x; event 2 c; event 3 m; event 4 d
wait_for "5 records" metric_is braid_records_read_total 5
wait_for "the first alerts" alerts_are t.chg 1
alerts_are t.rm 1 || fail "t.rm did not alert before the reload"
alerts_are t.keep 0 || fail "t.keep alerted early"

# ---- A good reload.
v2 > "$W/rules/t.braid"
kill -HUP "$pid"
wait_for "the reload line" in_log 'braid: reloaded rules: 1 kept, 1 changed, 1 added, 1 removed'
in_log 'braid: rule t.chg changed: it starts empty' || fail "no line for the changed rule"
in_log 'braid: rule t.add added' || fail "no line for the added rule"
in_log 'braid: rule t.rm removed' || fail "no line for the removed rule"
wait_for 'braid_reloads_total{result="ok"} 1' metric_is 'braid_reloads_total{result="ok"}' 1
metric_is 'braid_reloads_total{result="failed"}' 0 || fail "a failed reload counted"
# After it: the third `x` (t.keep fires: its count went across the reload), an `m` (t.rm is gone), a `c` (t.chg
# now wants c2), a `c2`, and a `d` (t.add: once; the `d` before the reload was not seen by it).
event 5 x; event 6 m; event 7 c; event 8 c2; event 9 d
wait_for "10 records" metric_is braid_records_read_total 10
wait_for "t.keep's alert" alerts_are t.keep 1
wait_for "t.add's alert" alerts_are t.add 1
alerts_are t.chg 2 || fail "t.chg: $(alerts_of t.chg) alerts, expected 2 (c before, c2 after the reload)"
alerts_are t.rm 1 || fail "the removed rule alerted after the reload"
grep -q 'severity="high"' <(exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3;
  grep -a 'braid_alerts_total{rule="t.add"' <&3) || fail "no braid_alerts_total for the added rule"

# ---- A broken rule file: refused, the rules in use go on.
printf '%s\nrule t.broken {\n  title "x"\n  when kind == \n}\n' "$(v2)" > "$W/rules/t.braid"
kill -HUP "$pid"
wait_for "the refusal" in_log 'SIGHUP: reload refused'
in_log 't.braid:[0-9]*:[0-9]*' || fail "the refusal does not point at the broken file"
in_log 'the rules in use are kept' || fail "the refusal does not say the rules are kept"
wait_for 'braid_reloads_total{result="failed"} 1' metric_is 'braid_reloads_total{result="failed"}' 1
event 10 d
wait_for "t.add's alert after the refused reload" alerts_are t.add 2
stop
grep -q 'stopped by SIGTERM' "$W/err.txt" || fail "no stop message"
[ "$(wc -l < "$W/alerts.ndjson")" -eq "$(sort -u "$W/alerts.ndjson" | wc -l)" ] || fail "an alert was written twice"

# ---- Restarts: with the reloaded rules the checkpoint loads as is; with changed ones it is carried over.
v2 > "$W/rules/t.braid"
"$BRAID" run --rules "$W/rules" --state "$W/state" -o "$W/alerts.ndjson" "$W/in/events.ndjson" 2> "$W/err.txt" ||
  fail "a restart with the reloaded rules failed"
in_log 'other rules' && fail "the checkpoint after the reload does not hold the reloaded rules"
v3 > "$W/rules/t.braid"
"$BRAID" run --rules "$W/rules" --state "$W/state" -o "$W/alerts.ndjson" "$W/in/events.ndjson" 2> "$W/err.txt" ||
  fail "a restart with changed rules failed"
in_log 'taken with other rules; carried over: 2 kept, 1 changed, 0 added, 0 removed' || fail "no carry line at the restart"
in_log 'braid: rule t.add changed' || fail "no line for the rule changed between the runs"

# ---- The shipped rules: half the demo stream, then a restart with one rule added: every other rule's alerts are
# those of one uninterrupted run (sessions, chains and windows across the restart included).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO="$ROOT/examples/demo.ndjson"
half=$(( $(wc -l < "$DEMO") / 2 ))
mkdir -p "$W/demo/in" "$W/demo/all" "$W/demo/extra"
head -n "$half" "$DEMO" > "$W/demo/in/1.ndjson"
tail -n +"$((half + 1))" "$DEMO" > "$W/demo/all/2.ndjson"
cp "$W/demo/in/1.ndjson" "$W/demo/all/1.ndjson"
printf 'rule reload.added {\n  title "added"\n  severity low\n  attack T1078\n  source aws.cloudtrail\n  message "{eventName}"\n  when eventName == "BraidReloadTestEvent"\n}\n' \
  > "$W/demo/extra/added.braid"
"$BRAID" run --rules "$ROOT/rules" "$W/demo/all" > "$W/demo/want.ndjson" 2>/dev/null || fail "the demo run failed"
"$BRAID" run --rules "$ROOT/rules" --state "$W/demo/st" -o "$W/demo/got.ndjson" "$W/demo/in" 2>/dev/null ||
  fail "the demo's first half failed"
cp "$W/demo/all/2.ndjson" "$W/demo/in/2.ndjson"
"$BRAID" run --rules "$ROOT/rules" --rules "$W/demo/extra" --state "$W/demo/st" --close-at-end -o "$W/demo/got.ndjson" \
  "$W/demo/in" 2> "$W/err.txt" || fail "the demo's second half with a rule added failed"
in_log 'carried over: [0-9]* kept, 0 changed, 1 added, 0 removed' || fail "no carry line for the added rule"
norm() { sed 's/"processing_time":"[^"]*",//' "$1"; }
[ "$(wc -l < "$W/demo/want.ndjson")" -gt 10 ] || fail "the demo gave too few alerts"
cmp -s <(norm "$W/demo/want.ndjson") <(norm "$W/demo/got.ndjson") ||
  { diff <(norm "$W/demo/want.ndjson") <(norm "$W/demo/got.ndjson") | head -5 | cut -c1-200 >&2;
    fail "the shipped rules' alerts changed across a restart that added a rule"; }

# ---- Packs: verified on SIGHUP as at start-up.
"$BRAID" keygen -o "$W/k" 2>/dev/null && "$BRAID" keygen -o "$W/other" 2>/dev/null || fail "keygen failed"
v1 > "$W/rules/t.braid"
"$BRAID" build "$W/rules" --sign "$W/k" -o "$W/p.pack" 2>/dev/null || fail "build failed"
: > "$W/alerts.ndjson"
start --pack "$W/p.pack" --trusted-keys "$W/k.pub" --threads 2 -o "$W/alerts.ndjson" "$W/in/events.ndjson"
wait_for "the stream" metric_is braid_records_read_total "$n"
v2 > "$W/rules/t.braid"
"$BRAID" build "$W/rules" --sign "$W/other" -o "$W/p.pack" 2>/dev/null || fail "build failed"
kill -HUP "$pid"
wait_for "the refused pack" in_log 'SIGHUP: reload refused'
in_log 'refusing the pack' || fail "the pack refusal does not say why"
"$BRAID" build "$W/rules" --sign "$W/k" -o "$W/p.pack.tmp" 2>/dev/null && mv "$W/p.pack.tmp" "$W/p.pack" ||
  fail "build failed"
kill -HUP "$pid"
wait_for "the pack reload" in_log 'braid: reloaded rules: 1 kept, 1 changed, 1 added, 1 removed'
wait_for 'braid_reloads_total{result="ok"} 1' metric_is 'braid_reloads_total{result="ok"}' 1
metric_is 'braid_reloads_total{result="failed"}' 1 || fail "the refused pack was not counted"
alerts_are t.add 0 || fail "the pack's new rule saw events from before the reload"
event 11 d
wait_for "the reloaded pack's alert" alerts_are t.add 1
stop
echo "reload_test: PASS"
