#!/usr/bin/env bash
# braid run --follow (docs/operations.md, "Following"): a growing file and a directory, written to while braid
# follows them, give the alerts of one run over their final contents.
#   - the demo stream arrives in three writes to one file; the second write ends in the middle of a line, which
#     must be read only once its newline arrives (never reported malformed);
#   - a file of more events (the demo's last lines) then appears in a followed directory;
#   - SIGTERM without --state closes everything and exits 0: the alerts equal a plain run's over the same inputs;
#   - with --state: a followed run stopped by SIGTERM, more input, a second followed run, then a last run with
#     --close-at-end give the plain run's alerts, each once;
#   - SIGHUP with the rules unchanged: a reload that changes nothing, and the run goes on (tests/run/reload_test.sh
#     changes them);
#   - --follow refuses stdin, --poll-interval needs --follow.
# It waits on the metrics endpoint (braid_records_read_total), read with bash's /dev/tcp, never on fixed sleeps.
# Usage: tests/run/follow_test.sh BRAID. Exit 0 pass, 1 fail.
set -u
BRAID=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/braid-follow-test.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$W"' EXIT
fail() { echo "follow_test: FAIL: $*" >&2; [ -f "$W/err.txt" ] && tail -n 20 "$W/err.txt" | cut -c1-300 >&2; exit 1; }
norm() { sed 's/"processing_time":"[^"]*",//' "$1" | sort; }
DEMO="$ROOT/examples/demo.ndjson"
n=$(wc -l < "$DEMO")
a=$((n / 3)); b=$((n * 2 / 3)); c=$((n - 20))  # part 1: 1..a, part 2: a+1..b (split mid-line), 3: b+1..c, dir: the rest
sed -n "1,${a}p" "$DEMO" > "$W/part1"; sed -n "$((a + 1)),${b}p" "$DEMO" > "$W/part2"
sed -n "$((b + 1)),${c}p" "$DEMO" > "$W/part3"; sed -n "$((c + 1)),\$p" "$DEMO" > "$W/part4"
half=$(( $(wc -c < "$W/part2") / 2 ))
head -c "$half" "$W/part2" > "$W/part2a"; tail -c +"$((half + 1))" "$W/part2" > "$W/part2b"
[ "$(tail -c 1 "$W/part2a" | od -An -c | tr -d ' ')" != '\n' ] || fail "the split should end mid-line"

# The expected alerts: one plain run over the final contents (the file, then the directory).
mkdir -p "$W/want-in/dir"
cat "$W/part1" "$W/part2" "$W/part3" > "$W/want-in/events.ndjson"; cp "$W/part4" "$W/want-in/dir/late.ndjson"
"$BRAID" run --rules "$ROOT/rules" "$W/want-in/events.ndjson" "$W/want-in/dir" > "$W/want.ndjson" 2>/dev/null ||
  fail "the plain run failed"
want=$(wc -l < "$W/want.ndjson")
[ "$want" -gt 5 ] || fail "the plain run gave only $want alerts"

port=""
metric() {  # the first sample of a metric (its name and labels as a grep pattern) from the endpoint, or -1
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || { echo -1; return; }
  printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  line=$(grep -a -m1 "^$1 " <&3)
  exec 3<&-
  [ -n "$line" ] && echo "${line##* }" || echo -1
}
records() { metric braid_records_read_total; }
start() {  # start braid in the background with the given arguments; sets pid and port
  : > "$W/err.txt"
  "$BRAID" run --rules "$ROOT/rules" --follow --poll-interval 100ms --metrics-addr 127.0.0.1:0 "$@" \
    2> "$W/err.txt" &
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
wait_records() {  # until braid has taken N records
  local got=-1
  for _ in $(seq 1200); do
    got=$(records)
    [ "$got" = "$1" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "braid exited while following (waiting for $1 records, at $got)"
    sleep 0.1
  done
  fail "braid took $got records, not $1, within 120 s"
}
stop() {  # SIGTERM, then the exit code must be 0
  kill -TERM "$pid"
  wait "$pid"
  local rc=$?
  pid=""
  [ "$rc" -eq 0 ] || fail "exit $rc after SIGTERM"
}

# ---- Without --state.
mkdir -p "$W/in/dir"
cp "$W/part1" "$W/in/events.ndjson"
start -o "$W/got.ndjson" --source-silence 1s "$W/in/events.ndjson" "$W/in/dir"
wait_records "$a"
cat "$W/part2a" >> "$W/in/events.ndjson"
wait_records "$((a + $(wc -l < "$W/part2a")))"  # the complete lines of the first half, not the partial one
cat "$W/part2b" >> "$W/in/events.ndjson"
wait_records "$b"
cat "$W/part3" >> "$W/in/events.ndjson"
wait_records "$c"
cp "$W/part4" "$W/in/dir/.late.tmp" && mv "$W/in/dir/.late.tmp" "$W/in/dir/late.ndjson"
wait_records "$n"
# Silent sources: the metric says when the last event came, and --source-silence warns once the source is quiet.
[ "$(metric 'braid_source_last_event_received_timestamp_seconds{source="aws.cloudtrail"}')" != -1 ] ||
  fail "no braid_source_last_event_received_timestamp_seconds for aws.cloudtrail"
for _ in $(seq 300); do grep -q 'source aws.cloudtrail has delivered no event' "$W/err.txt" && break; sleep 0.1; done
grep -q 'source aws.cloudtrail has delivered no event for' "$W/err.txt" || fail "no --source-silence warning"
# SIGHUP with the same rules: reloaded, nothing changes, and the run goes on (its default action would end it).
kill -HUP "$pid"
for _ in $(seq 600); do grep -q 'braid: reloaded rules: unchanged' "$W/err.txt" && break; sleep 0.1; done
grep -q 'braid: reloaded rules: unchanged' "$W/err.txt" || fail "no reload line after SIGHUP"
kill -0 "$pid" 2>/dev/null || fail "SIGHUP ended the run"
before=$(wc -l < "$W/got.ndjson")
[ "$before" -gt 0 ] || fail "no alert was written while following"
stop
grep -q 'malformed' "$W/err.txt" && fail "a record was reported malformed (the partial line?)"
grep -q 'stopped by SIGTERM' "$W/err.txt" || fail "no stop message"
cmp -s <(norm "$W/want.ndjson") <(norm "$W/got.ndjson") ||
  { diff <(norm "$W/want.ndjson") <(norm "$W/got.ndjson") | head -5 | cut -c1-200 >&2; fail "following gave other alerts"; }

# ---- With --state: two followed runs and a closing one.
mkdir -p "$W/st/dir"
cat "$W/part1" "$W/part2a" > "$W/st/events.ndjson"
start -o "$W/st.ndjson" --state "$W/state" "$W/st/events.ndjson" "$W/st/dir"
wait_records "$((a + $(wc -l < "$W/part2a")))"
stop
grep -q 'checkpoint 1 taken' "$W/err.txt" || fail "no checkpoint at SIGTERM"
cat "$W/part2b" "$W/part3" >> "$W/st/events.ndjson"
cp "$W/part4" "$W/st/dir/late.ndjson"
start -o "$W/st.ndjson" --state "$W/state" --checkpoint-interval 100ms "$W/st/events.ndjson" "$W/st/dir"
wait_records "$n"  # the counts go on from the checkpoint
for _ in $(seq 300); do [ "$(metric braid_checkpoints_total)" -ge 1 ] 2>/dev/null && break; sleep 0.1; done
[ "$(metric braid_checkpoints_total)" -ge 1 ] 2>/dev/null || fail "no checkpoint while following (braid_checkpoints_total)"
[ "$(metric braid_last_checkpoint_timestamp_seconds)" != -1 ] || fail "no braid_last_checkpoint_timestamp_seconds"
stop
"$BRAID" run --rules "$ROOT/rules" -o "$W/st.ndjson" --state "$W/state" --close-at-end \
  "$W/st/events.ndjson" "$W/st/dir" 2> "$W/err.txt" || fail "the closing run failed"
cmp -s <(norm "$W/want.ndjson") <(norm "$W/st.ndjson") ||
  { diff <(norm "$W/want.ndjson") <(norm "$W/st.ndjson") | head -5 | cut -c1-200 >&2; fail "with --state: other alerts"; }

# ---- Usage errors.
out=$(echo '{}' | "$BRAID" run --rules "$ROOT/rules" --follow - 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q 'standard input' <<<"$out" || fail "--follow with stdin: exit $rc: $out"
out=$("$BRAID" run --rules "$ROOT/rules" --poll-interval 5s "$DEMO" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && grep -q 'only with --follow' <<<"$out" || fail "--poll-interval without --follow: exit $rc: $out"
echo "follow_test: PASS ($want alerts; $before of them written while following)"
