#!/usr/bin/env bash
# `braid run --state`: checkpoints, restarts and exactly-once alerts (docs/operations.md, "State and restarts").
#
# Usage: tests/run/state_test.sh BRAID BRAID_GEN [KILLS] [SEED]
#
# A multi-file stream (braid-gen: the attack story, with its chains and absence windows, in 48 hours of background
# traffic of four sources), cut into four files, run through the shipped rules:
#   1. the reference: one uninterrupted run without --state;
#   2. the kill test: KILLS (default 20) SIGKILLs at seeded random points, restarting each time with the same state
#      directory and alert file. Kill points are record counts (BRAID_FAULT_KILL_AFTER_RECORDS) and, every fourth
#      time, the moment between writing a checkpoint and renaming it into place (BRAID_FAULT_KILL_BEFORE_RENAME).
#      The final alert file must equal the reference: the same alerts, ids and order, none missing, none twice;
#   3. batches: the first two files in one run, the last two in a second run with the same state: the alerts of
#      one run over all four;
#   4. SIGTERM stops a run with a checkpoint and exit 0, and a rerun completes it;
#   5. refusals: stdin with --state, a damaged checkpoint, a checkpoint with a source the rules lack (exit 2, clear
#      messages); a checkpoint of other rules is carried over to them.
# processing_time (the wall clock) is cut out before comparing. Exit 0 pass, 1 fail.
set -u
BRAID=$(realpath "$1")
GEN=$(realpath "$2")
KILLS=${3:-20}
SEED=${4:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/braid-state-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
fail() { echo "state_test: FAIL: $*" >&2; exit 1; }
norm() { sed 's/"processing_time":"[^"]*",//' "$1"; }
same() { cmp -s <(norm "$1") <(norm "$2"); }

"$GEN" --seed 11 --story --background 12000 --people 30 --hours 48 --gcp --github -o all.ndjson 2>/dev/null ||
  fail "braid-gen failed"
mkdir in && split -n l/4 -d --additional-suffix=.ndjson all.ndjson in/part || fail "split failed"
IN=(in/part00.ndjson in/part01.ndjson in/part02.ndjson in/part03.ndjson)
RULES=(--rules "$ROOT/rules" --rules "$ROOT/tests/run/data/state_windows.braid")
records=$(wc -l < all.ndjson)

"$BRAID" run "${RULES[@]}" -o ref.ndjson "${IN[@]}" 2>/dev/null || fail "the reference run failed"
ref_alerts=$(wc -l < ref.ndjson)
[ "$ref_alerts" -ge 10 ] || fail "the reference run raised only $ref_alerts alerts"
grep -q '"decided":"window"' ref.ndjson || fail "the stream has no alert decided by a window"
grep -q '"link":"mint"\|"link":"link"' ref.ndjson || fail "the stream has no alert on a chain"

# --- 2. the kill test ---------------------------------------------------------------------------------------
# A small xorshift, so that the kill points depend only on SEED.
x=$((SEED * 2654435761 + 7))
# rnd N sets R to 1..N (a function, not $(...): a subshell would not advance the state).
rnd() { x=$(( (x ^ (x << 13)) & 0xffffffff )); x=$(( x ^ (x >> 17) )); x=$(( (x ^ (x << 5)) & 0xffffffff )); R=$((x % $1 + 1)); }
kills=0 restarts=0 points=""
while [ "$kills" -lt "$KILLS" ]; do
  restarts=$((restarts + 1))
  [ "$restarts" -le $((KILLS * 4)) ] || fail "the run did not finish after $restarts restarts"
  taken=$(grep -a -o '"checkpoints":[0-9]*' st/checkpoint 2>/dev/null | cut -d: -f2)
  rnd 3; at_checkpoint=$(( ${taken:-0} + R ))
  rnd $((records / 6)); at_record=$R
  (if [ $((kills % 4)) -eq 3 ]; then
    env BRAID_FAULT_KILL_BEFORE_RENAME=$at_checkpoint \
      "$BRAID" run "${RULES[@]}" --state st --checkpoint-interval 0s --close-at-end -o out.ndjson "${IN[@]}" 2>err.txt
  else
    env BRAID_FAULT_KILL_AFTER_RECORDS=$at_record \
      "$BRAID" run "${RULES[@]}" --state st --checkpoint-interval 0s --close-at-end -o out.ndjson "${IN[@]}" 2>err.txt
  fi) 2>/dev/null
  rc=$?
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1))
    points="$points $([ $((kills % 4)) -eq 0 ] && echo "c$at_checkpoint" || echo "r$at_record")"
  elif [ "$rc" -eq 0 ]; then
    # Finished before the kill point: start over, so that every kill lands inside a run.
    same out.ndjson ref.ndjson || { diff <(norm ref.ndjson) <(norm out.ndjson) | head -5 >&2; fail "a run that finished after $kills kills differs from the reference"; }
    rm -rf st out.ndjson
  else
    cat err.txt >&2
    fail "braid exited $rc (expected a kill, 137, or 0)"
  fi
done
"$BRAID" run "${RULES[@]}" --state st --checkpoint-interval 0s --close-at-end -o out.ndjson "${IN[@]}" 2>err.txt ||
  { cat err.txt >&2; fail "the last restart failed"; }
same out.ndjson ref.ndjson || { diff <(norm ref.ndjson) <(norm out.ndjson) | head -5 >&2; fail "after $kills kills the alerts differ from the reference"; }
ids=$(grep -o '^{"schema_version":[0-9]*,"id":"[0-9a-f]*"' out.ndjson | sort | uniq -d | wc -l)
[ "$ids" -eq 0 ] || fail "$ids alert ids appear twice"
echo "state_test: kill points (r: after N records, c: writing checkpoint N):$points"
echo "state_test: kill test: $kills kills in $restarts runs, $ref_alerts alerts, identical to one uninterrupted run"

# --- 3. batches ------------------------------------------------------------------------------------------------
rm -rf st out.ndjson
"$BRAID" run "${RULES[@]}" --state st -o out.ndjson "${IN[0]}" "${IN[1]}" 2>/dev/null || fail "batch 1 failed"
"$BRAID" run "${RULES[@]}" --state st --close-at-end -o out.ndjson "${IN[2]}" "${IN[3]}" 2>/dev/null || fail "batch 2 failed"
same out.ndjson ref.ndjson || { diff <(norm ref.ndjson) <(norm out.ndjson) | head -5 >&2; fail "two batches differ from one run"; }
echo "state_test: two batches with one state directory = one run"

# --- 4. SIGTERM -----------------------------------------------------------------------------------------------
rm -rf st out.ndjson
"$GEN" --seed 12 --story --background 150000 --people 60 --hours 96 -o big.ndjson 2>/dev/null || fail "braid-gen failed"
"$BRAID" run "${RULES[@]}" -o whole.ndjson big.ndjson 2>/dev/null || fail "the one-file reference failed"
"$BRAID" run "${RULES[@]}" --state st --checkpoint-interval 50ms -o out.ndjson big.ndjson 2>err.txt &
pid=$!
for _ in $(seq 1 400); do [ -f st/checkpoint ] && break; sleep 0.05; done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || { cat err.txt >&2; fail "braid exited $rc after SIGTERM (expected 0)"; }
if grep -q "stopped by SIGTERM" err.txt; then
  stopped=1
else
  stopped=0  # the run ended before the signal came: nothing to resume, the comparison below still holds
fi
"$BRAID" run "${RULES[@]}" --state st --close-at-end -o out.ndjson big.ndjson 2>/dev/null || fail "the run after SIGTERM failed"
same out.ndjson whole.ndjson || fail "stopping with SIGTERM and going on changed the alerts"
echo "state_test: SIGTERM (stopped mid-stream: $stopped, exit 0) and a restart = one run"

# --- 5. refusals ----------------------------------------------------------------------------------------------
out=$("$BRAID" run "${RULES[@]}" --state st2 - < /dev/null 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "standard input" <<<"$out" || fail "stdin with --state: exit $rc: $out"
printf 'X' | dd of=st/checkpoint bs=1 seek=200 conv=notrunc 2>/dev/null
out=$("$BRAID" run "${RULES[@]}" --state st -o out.ndjson big.ndjson 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "checksum" <<<"$out" && grep -q "to start fresh" <<<"$out" || fail "damaged checkpoint: exit $rc: $out"
# Other rules are carried over (docs/operations.md, "Reload"); a checkpoint with a source the new rules lack is not.
rm -rf st && "$BRAID" run "${RULES[@]}" --state st -o out.ndjson "${IN[0]}" 2>/dev/null || fail "a fresh state failed"
out=$("$BRAID" run --rules "$ROOT/tests/run/data/link_eviction_regression.braid" --state st -o out.ndjson "${IN[0]}" 2>&1); rc=$?
[ "$rc" -eq 0 ] && grep -q "taken with other rules; carried over: 0 kept, 0 changed, 1 added" <<<"$out" ||
  fail "a checkpoint of other rules (and two sources added): exit $rc: $out"
out=$("$BRAID" run "${RULES[@]}" --state st -o out.ndjson "${IN[0]}" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "other rules" <<<"$out" && grep -q "source \`repro.idp\` is not in the new rules" <<<"$out" ||
  fail "a checkpoint of other rules with a source they lack: exit $rc: $out"
sed -i 's/BRAID-CHECKPOINT 1/BRAID-CHECKPOINT 9/' st/checkpoint
out=$("$BRAID" run "${RULES[@]}" --state st -o out.ndjson "${IN[0]}" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "format 9" <<<"$out" || fail "a checkpoint of a newer format: exit $rc: $out"
echo "state_test: refusals (stdin, damaged, a source gone, newer format) exit 2 with a message; other rules carried over"
echo "state_test: PASS"
