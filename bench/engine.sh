#!/usr/bin/env bash
# The engine benchmark of issue 9: one command, one generated file, one run, one table of ratios against the
# issue's targets, with the load average next to every figure (docs/performance.md, "Engine benchmark (issue 9)").
#
#   bench/engine.sh [--braid PATH] [--mb N] [--seed S] [--credentials N] [--ten-million] [--no-peers] [--quick]
#
# Measures, on one seeded CloudTrail NDJSON file (braid_bench_ctgen, about N MiB, default 200; ~1.4 KB events):
#   ceilings  simdjson On-Demand through Braid's input path (RecordReader) reading exactly the fields each rule set
#             reads from aws.cloudtrail (source clauses included; generated at build time from the field plan,
#             bench/fieldplan.cpp); the plain filter and group-by programs of the reference figures
#             (16 MiB reads, iterate_many); all built with the input library's haswell kernel flags
#   braid     `braid run` with one event rule (bench/rules/filter), one session rule with a distinct count
#             (bench/rules/group), the shipped rules (rules/) with --engine jit and --engine interp; 10 and 1,000
#             generated rules (bench/rulegen.cpp, moved onto aws.cloudtrail) from cached-object packs; 10 and
#             1,000 "user agent" rules that each need a literal of their own (ctgen --dump-literal-rules: no exact
#             value to index, so the literal prefilter selects them, docs/jit.md); 1 vs 2
#             threads, the shipped rules compiled from source and from a pack (plain and gzipped file), when
#             `braid run --help` offers --threads; and the pack at 1 and 2 threads in turn, whose median ratio the
#             context line gives (less sensitive to the machine drifting between the rows' best runs)
#   peers     DuckDB (npm @duckdb/node-api, installed into build/bench-peers; threads=1, read_ndjson with explicit
#             columns) with the filter and the group-by; jq with the filter. Skipped with a message when missing.
#   memory    braid_bench_ctgen --credentials N (one event per credential, 0.9 s apart) piped into
#             `braid run --rules rules -`: peak RSS (wait4). 1,000,000 by default; --ten-million adds 10,000,000.
#   start-up  wall time of `braid run --pack` (1,000 generated rules, object code from a warm JIT cache) over a
#             1-event input: an approximation of "process start to first event processed" (it includes reading
#             that one event, finishing and exiting).
# Single-thread figures are CPU time (user + sys) of the whole command, best of 3 (--runs); the thread ratio is
# wall time, best of 5 (--thread-runs); start-up wall, best of 5 (--startup-runs). Throughput is the file's bytes
# (10^6) over that time. The load is /proc/loadavg's 1-minute figure before the best run (this benchmark itself
# adds about 1 on an otherwise idle machine).
#
# Options:
#   --braid PATH       the braid under test (default build/release/braid)
#   --mb N             size of the generated file in MiB (default 200); --seed S (default 42)
#   --file FILE        measure this CloudTrail NDJSON file instead of generating one (e.g. the reference
#                      generator's output, to cross-check figures)
#   --credentials N    memory run size (default 1000000; 0 skips it); --ten-million also runs 10,000,000 (long)
#   --no-peers         skip DuckDB and jq
#   --quick            --mb 20 --credentials 20000, 1 run each: to try the script
#   --runs N, --thread-runs N, --startup-runs N
#   --work DIR         generated files, rule sets, outputs, JIT cache (default build/bench-engine)
# Environment: BRAID_BENCH_BUILD (helpers' build directory, default build/bench), BRAID_BENCH_JOBS (default 2),
# BRAID_SIMD_KERNEL (passed to braid; default haswell, the ceiling's kernel, so both use the same one).
# Prints progress to stderr and the tables to stdout; a copy goes to WORK/engine-<date>.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
braid=$root/build/release/braid
mb=200 seed=42 creds=1000000 ten=0 peers=1 runs=3 thread_runs=5 startup_runs=5 file=""
work=$root/build/bench-engine
while [ $# -gt 0 ]; do
  case $1 in
    --braid) braid=$2; shift ;;
    --mb) mb=$2; shift ;;
    --seed) seed=$2; shift ;;
    --file) file=$2; shift ;;
    --credentials) creds=$2; shift ;;
    --ten-million) ten=1 ;;
    --no-peers) peers=0 ;;
    --quick) mb=20 creds=20000 runs=1 thread_runs=1 startup_runs=1 ;;
    --runs) runs=$2; shift ;;
    --thread-runs) thread_runs=$2; shift ;;
    --startup-runs) startup_runs=$2; shift ;;
    --work) work=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "engine.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case $braid in /*) ;; *) braid=$PWD/$braid ;; esac
[ -x "$braid" ] || { echo "engine.sh: no braid at $braid (build it: cmake --workflow --preset release)" >&2; exit 2; }
export BRAID_SIMD_KERNEL=${BRAID_SIMD_KERNEL:-haswell}

note() { echo "engine.sh: $*" >&2; }

# ---- the helpers
build=${BRAID_BENCH_BUILD:-$root/build/bench}
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
[ -f "$build/CMakeCache.txt" ] && gen=""  # the generator of an existing build cannot change
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target engine_bench --parallel "${BRAID_BENCH_JOBS:-2}" >&2
bin=$build/bench
ctgen=$bin/braid_bench_ctgen ceiling=$bin/braid_bench_ceiling timer=$bin/braid_bench_time

mkdir -p "$work"
work=$(cd "$work" && pwd)
out=$work/out
mkdir -p "$out"
export BRAID_CACHE_DIR=$work/jit-cache
mkdir -p "$BRAID_CACHE_DIR" && chmod 0700 "$BRAID_CACHE_DIR"

# ---- the input
if [ -n "$file" ]; then
  [ -s "$file" ] || { echo "engine.sh: no file $file" >&2; exit 2; }
  case $file in /*) ;; *) file=$PWD/$file ;; esac
  events=$(wc -l < "$file") hits="?" gen_line="given file $file"
else
  file=$work/cloudtrail-${mb}mib-seed$seed.ndjson
  if [ ! -s "$file" ] || [ ! -s "$file.gen" ]; then
    note "generating $file"
    "$ctgen" --mb "$mb" --seed "$seed" -o "$file" 2> "$file.gen"
  fi
  gen_line=$(cat "$file.gen")
  events=$(sed -n 's/.*events=\([0-9]*\).*/\1/p' "$file.gen")
  hits=$(sed -n 's/.*filter_hits=\([0-9]*\).*/\1/p' "$file.gen")
fi
bytes=$(stat -c %s "$file")
head -n 1 "$file" > "$work/one.ndjson"
# the same file gzipped (CloudTrail arrives so from S3): the thread ratio on it, with the reader inflating ahead
gzfile=$work/$(basename "$file").gz
if [ ! -s "$gzfile" ] || [ "$gzfile" -ot "$file" ]; then gzip -c "$file" > "$gzfile.new" && mv "$gzfile.new" "$gzfile"; fi

# ---- the rule sets: bench/rules/{filter,group}, rules/, and rulegen's 10 and 1,000 rules moved onto
# aws.cloudtrail (rulegen declares its own source, bench.trail; with the stdlib loaded, the route takes the first
# source whose `recognize` holds, aws.cloudtrail, so rules on bench.trail would never see an event)
for n in 10 1000; do
  d=$work/gen$n
  mkdir -p "$d"
  "$ctgen" --dump-rules $n |
    awk '/^source bench\.trail \{/ { skip = 1 } skip && /^}/ { skip = 0; next } !skip' |
    sed 's/^  source bench\.trail$/  source aws.cloudtrail/' > "$d/rules.braid.new"
  if ! cmp -s "$d/rules.braid.new" "$d/rules.braid"; then mv "$d/rules.braid.new" "$d/rules.braid"; else rm "$d/rules.braid.new"; fi
  "$braid" build "$d" -o "$work/gen$n.braidpack" >/dev/null 2>&1 ||
    { note "braid build failed for the $n generated rules"; "$braid" build "$d" -o "$work/gen$n.braidpack"; exit 1; }
done

# the shipped rules as a pack, the way operators run them (start-up without compiling the sources)
"$braid" build "$root/rules" -o "$work/shipped.braidpack" >/dev/null 2>&1 ||
  { note "braid build failed for the shipped rules"; "$braid" build "$root/rules" -o "$work/shipped.braidpack"; exit 1; }

# rules that need literals (the prefilter's job): 10 and 1,000
for n in 10 1000; do
  mkdir -p "$work/lit$n"
  "$ctgen" --dump-literal-rules $n > "$work/lit$n/rules.braid.new"
  if ! cmp -s "$work/lit$n/rules.braid.new" "$work/lit$n/rules.braid"; then mv "$work/lit$n/rules.braid.new" "$work/lit$n/rules.braid"; else rm "$work/lit$n/rules.braid.new"; fi
  "$braid" build "$work/lit$n" -o "$work/lit$n.braidpack" >/dev/null 2>&1 ||
    { note "braid build failed for the $n literal rules"; "$braid" build "$work/lit$n" -o "$work/lit$n.braidpack"; exit 1; }
done

# ---- measuring
declare -A CPU WALL RSS LOAD OUTN STATUS
load1() { cut -d' ' -f1 /proc/loadavg; }
# measure NAME RUNS BY CMD...: runs CMD RUNS times (stdout to $out/NAME.out, stderr to $out/NAME.err) and keeps
# the best run by BY (cpu or wall)
measure() {
  local name=$1 n=$2 by=$3
  shift 3
  local i best="" l w u s m key cpu
  for ((i = 0; i < n; i++)); do
    l=$(load1)
    if ! "$timer" -o "$out/$name.out" -e "$out/$name.err" -- "$@" 2> "$out/$name.time"; then
      STATUS[$name]=failed
      note "$name failed: $(tail -n 3 "$out/$name.err" | tr '\n' ' ')"
      return 0
    fi
    read -r w u s m _ < "$out/$name.time"
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
    key=$cpu
    [ "$by" = wall ] && key=$w
    if [ -z "$best" ] || awk -v a="$key" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$key CPU[$name]=$cpu WALL[$name]=$(printf '%.3f' "$w") RSS[$name]=$m LOAD[$name]=$l
      OUTN[$name]=$(wc -l < "$out/$name.out")
    fi
  done
  STATUS[$name]=ok
  note "$(printf '%-22s cpu %8ss  wall %8ss  rss %6s MB  load %5s  out %s' "$name" "${CPU[$name]}" "${WALL[$name]}" \
    $((${RSS[$name]} / 1024)) "${LOAD[$name]}" "${OUTN[$name]}")"
}
skip() { STATUS[$1]="skipped: $2"; note "$1 skipped: $2"; }
have() { [ "${STATUS[$1]:-}" = ok ]; }

date_utc=$(date -u +%Y-%m-%dT%H:%MZ)
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
note "$date_utc: $(nproc) CPUs ($cpu_model), load $(cut -d' ' -f1-3 /proc/loadavg); $gen_line"
note "braid under test: $braid ($("$braid" --version 2>/dev/null || echo '?')); BRAID_SIMD_KERNEL=$BRAID_SIMD_KERNEL"

# warm the JIT cache for every rule set measured with the JIT (the runs below read object code from it)
for rs in "$root/bench/rules/filter" "$root/bench/rules/group" "$root/rules"; do
  "$braid" run --rules "$rs" -o /dev/null "$work/one.ndjson" 2>/dev/null || true
done
for n in 10 1000; do
  "$braid" run --pack "$work/gen$n.braidpack" --allow-unsigned -o /dev/null "$work/one.ndjson" 2>/dev/null || true
done

# ceilings
measure ceil_plain_filter "$runs" cpu "$ceiling" plain-filter "$file"
measure ceil_plain_group "$runs" cpu "$ceiling" plain-group "$file"
measure ceil_reader_filter "$runs" cpu "$ceiling" reader-filter "$file"
measure ceil_fields_filter "$runs" cpu "$ceiling" fields:filter "$file"
measure ceil_fields_group "$runs" cpu "$ceiling" fields:group "$file"
measure ceil_fields_shipped "$runs" cpu "$ceiling" fields:shipped "$file"

# braid, one thread
measure braid_filter "$runs" cpu "$braid" run --rules "$root/bench/rules/filter" "$file"
measure braid_group "$runs" cpu "$braid" run --rules "$root/bench/rules/group" "$file"
measure braid_shipped_jit "$runs" cpu "$braid" run --engine jit --rules "$root/rules" "$file"
measure braid_shipped_interp "$runs" cpu "$braid" run --engine interp --rules "$root/rules" "$file"
measure braid_gen10 "$runs" cpu "$braid" run --pack "$work/gen10.braidpack" --allow-unsigned "$file"
measure braid_gen1000 "$runs" cpu "$braid" run --pack "$work/gen1000.braidpack" --allow-unsigned "$file"
measure braid_lit10 "$runs" cpu "$braid" run --pack "$work/lit10.braidpack" --allow-unsigned "$file"
measure braid_lit1000 "$runs" cpu "$braid" run --pack "$work/lit1000.braidpack" --allow-unsigned "$file"

# the same commands over a 1-event input: their start-up (rules compiled or loaded, stdlib parsed) and exit
measure braid_filter_one "$runs" cpu "$braid" run --rules "$root/bench/rules/filter" "$work/one.ndjson"
measure braid_group_one "$runs" cpu "$braid" run --rules "$root/bench/rules/group" "$work/one.ndjson"
measure braid_shipped_jit_one "$runs" cpu "$braid" run --engine jit --rules "$root/rules" "$work/one.ndjson"
measure braid_shipped_interp_one "$runs" cpu "$braid" run --engine interp --rules "$root/rules" "$work/one.ndjson"
measure braid_gen10_one "$runs" cpu "$braid" run --pack "$work/gen10.braidpack" --allow-unsigned "$work/one.ndjson"
measure braid_gen1000_one "$runs" cpu "$braid" run --pack "$work/gen1000.braidpack" --allow-unsigned "$work/one.ndjson"

# threads
run_help=$("$braid" run --help 2>&1 || true)
if grep -q -- '--threads' <<< "$run_help"; then
  measure braid_threads1 "$thread_runs" wall "$braid" run --threads 1 --rules "$root/rules" "$file"
  measure braid_threads2 "$thread_runs" wall "$braid" run --threads 2 --rules "$root/rules" "$file"
  measure braid_threads1_pack "$thread_runs" wall "$braid" run --threads 1 --pack "$work/shipped.braidpack" --allow-unsigned "$file"
  measure braid_threads2_pack "$thread_runs" wall "$braid" run --threads 2 --pack "$work/shipped.braidpack" --allow-unsigned "$file"
  measure braid_threads1_gz "$thread_runs" wall "$braid" run --threads 1 --pack "$work/shipped.braidpack" --allow-unsigned "$gzfile"
  measure braid_threads2_gz "$thread_runs" wall "$braid" run --threads 2 --pack "$work/shipped.braidpack" --allow-unsigned "$gzfile"
  # The same pack, 1 and 2 threads in turn for $thread_runs rounds: the ratio of the median wall times. The target
  # rows compare bests taken minutes apart; this context line is less sensitive to the machine drifting meanwhile.
  if have braid_threads1_pack && have braid_threads2_pack; then
    alt1="" alt2=""
    for ((i = 0; i < thread_runs; i++)); do
      for t in 1 2; do
        "$timer" -o /dev/null -e /dev/null -- "$braid" run --threads "$t" --pack "$work/shipped.braidpack" \
          --allow-unsigned "$file" 2> "$out/alternating.time" || break 2
        read -r w _ < "$out/alternating.time"
        if [ "$t" = 1 ]; then alt1="$alt1 $w"; else alt2="$alt2 $w"; fi
      done
    done
    median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    alt_m1=$(median <<< "$alt1") alt_m2=$(median <<< "$alt2")
    if [ -n "$alt_m1" ] && [ -n "$alt_m2" ]; then
      alternating="$(awk -v a="$alt_m1" -v b="$alt_m2" 'BEGIN { printf "%.2fx", a / b }') ($alt_m1 s / $alt_m2 s, medians of $thread_runs alternating rounds)"
      note "alternating 1 / 2 threads, pack: $alternating"
    fi
  fi
else
  skip braid_threads1 "n/a: \`braid run --help\` has no --threads"
  skip braid_threads2 "n/a: \`braid run --help\` has no --threads"
  skip braid_threads1_pack "n/a: \`braid run --help\` has no --threads"
  skip braid_threads2_pack "n/a: \`braid run --help\` has no --threads"
  skip braid_threads1_gz "n/a: \`braid run --help\` has no --threads"
  skip braid_threads2_gz "n/a: \`braid run --help\` has no --threads"
fi

# peers
filter_sql="SELECT count(*) FROM read_ndjson('$file', columns={eventName: 'VARCHAR', additionalEventData: 'STRUCT(MFAUsed VARCHAR)'}) WHERE eventName = 'StopLogging' OR (eventName = 'ConsoleLogin' AND additionalEventData.MFAUsed = 'No')"
group_sql="SELECT count(*) FROM (SELECT userIdentity.accessKeyId AS k, count(DISTINCT eventName) FROM read_ndjson('$file', columns={eventName: 'VARCHAR', userIdentity: 'STRUCT(accessKeyId VARCHAR)'}) GROUP BY k)"
duck_version=""
if [ "$peers" = 0 ]; then
  skip duck_filter "--no-peers"; skip duck_group "--no-peers"; skip jq_filter "--no-peers"
else
  peerdir=$root/build/bench-peers
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    skip duck_filter "node/npm not installed"; skip duck_group "node/npm not installed"
  else
    mkdir -p "$peerdir"
    if [ ! -d "$peerdir/node_modules/@duckdb/node-api" ]; then
      note "installing @duckdb/node-api into $peerdir"
      (cd "$peerdir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
        npm install --no-audit --no-fund @duckdb/node-api >&2) || true
    fi
    if [ -d "$peerdir/node_modules/@duckdb/node-api" ]; then
      cp "$root/bench/duckdb_query.mjs" "$peerdir/duckdb_query.mjs"
      duck_version=$(sed -n 's/^ *"version": *"\(.*\)".*/\1/p' "$peerdir/node_modules/@duckdb/node-api/package.json" | head -1)
      measure duck_filter "$runs" cpu node "$peerdir/duckdb_query.mjs" 1 "$filter_sql"
      measure duck_group "$runs" cpu node "$peerdir/duckdb_query.mjs" 1 "$group_sql"
    else
      skip duck_filter "npm could not install @duckdb/node-api"; skip duck_group "npm could not install @duckdb/node-api"
    fi
  fi
  if command -v jq >/dev/null 2>&1; then
    measure jq_filter "$runs" cpu jq -c 'select(.eventName == "StopLogging" or (.eventName == "ConsoleLogin" and .additionalEventData.MFAUsed == "No")) | .eventID' "$file"
  else
    skip jq_filter "jq not installed"
  fi
fi

# memory: N distinct credentials streamed into braid (the timer measures braid alone)
memory() {
  local name=$1 n=$2 l w u s m
  note "memory: $n distinct credentials (this takes a while)"
  l=$(load1)
  if "$ctgen" --credentials "$n" --seed "$seed" 2> "$out/$name.gen" |
    "$timer" -o "$out/$name.out" -e "$out/$name.err" -- "$braid" run --rules "$root/rules" - 2> "$out/$name.time"; then
    read -r w u s m _ < "$out/$name.time"
    CPU[$name]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }') WALL[$name]=$(printf '%.3f' "$w")
    RSS[$name]=$m LOAD[$name]=$l OUTN[$name]=$(wc -l < "$out/$name.out") STATUS[$name]=ok
    note "$name: peak RSS $((m / 1024)) MB, cpu ${CPU[$name]} s, wall ${WALL[$name]} s, load $l"
  else
    STATUS[$name]=failed
    note "$name failed: $(tail -n 3 "$out/$name.err" | tr '\n' ' ')"
  fi
}
if [ "$creds" -gt 0 ]; then memory mem_n "$creds"; else skip mem_n "--credentials 0"; fi
if [ "$ten" = 1 ]; then memory mem_10m 10000000; else skip mem_10m "not run (--ten-million)"; fi

# start-up
measure startup_1000 "$startup_runs" wall "$braid" run --pack "$work/gen1000.braidpack" --allow-unsigned "$work/one.ndjson"

# ---- the tables
report=$work/engine-$(date -u +%Y%m%dT%H%M%SZ).md
{
  echo "Engine benchmark (bench/engine.sh), $date_utc: $(nproc) CPUs ($cpu_model), braid $("$braid" --version 2>/dev/null | awk '{print $2}') at $braid"
  echo "File: $file ($bytes bytes, $events events, avg $((bytes / events)) B, $hits records the filter selects); BRAID_SIMD_KERNEL=$BRAID_SIMD_KERNEL; ceiling simdjson: $(sed -n 's/.* kernel=\([a-z0-9]*\) stage1=\([a-z0-9]*\).*/stage 2 \1, stage 1 \2/p' "$out/ceil_fields_filter.out" 2>/dev/null)${duck_version:+; DuckDB node-api $duck_version}"
  echo "CPU = user + sys of the whole command, best of $runs (threads: wall, best of $thread_runs; start-up: wall, best of $startup_runs). MB/s = 10^6 bytes / CPU s. load = 1-min load average before the best run."
  echo
  echo "| measure | CPU s | wall s | MB/s (CPU) | peak RSS MB | load | output lines | 1-event run CPU s (load) | MB/s (CPU less the 1-event run) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  row() {  # row NAME LABEL
    local n=$1 label=$2 one="" net=""
    if have "${n}_one"; then
      one="${CPU[${n}_one]} (${LOAD[${n}_one]})"
      have "$n" && net=$(awk -v b="$bytes" -v c="${CPU[$n]}" -v o="${CPU[${n}_one]}" 'BEGIN { printf "%.0f", (c > o ? b / 1e6 / (c - o) : 0) }')
    fi
    if have "$n"; then
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${CPU[$n]}" "${WALL[$n]}" \
        "$(awk -v b="$bytes" -v c="${CPU[$n]}" 'BEGIN { printf "%.0f", (c > 0 ? b / 1e6 / c : 0) }')" \
        "$((${RSS[$n]} / 1024))" "${LOAD[$n]}" "${OUTN[$n]}" "$one" "$net"
    else
      printf '| %s | %s | | | | | | | |\n' "$label" "${STATUS[$n]:-not run}"
    fi
  }
  row ceil_plain_filter "ceiling: plain filter (reference method: 16 MiB reads, iterate_many; 2 fields)"
  row ceil_plain_group "ceiling: plain group-by, distinct eventName per accessKeyId (reference method)"
  row ceil_reader_filter "ceiling: plain filter through Braid's reader (RecordReader)"
  row ceil_fields_filter "ceiling: fields of the filter set ($("$ceiling" --list | awk '$1 == "fields:filter" { print $2 }') fields, RecordReader)"
  row ceil_fields_group "ceiling: fields of the group set ($("$ceiling" --list | awk '$1 == "fields:group" { print $2 }') fields, RecordReader)"
  row ceil_fields_shipped "ceiling: fields of the shipped rules ($("$ceiling" --list | awk '$1 == "fields:shipped" { print $2 }') fields, RecordReader)"
  row braid_filter "braid run: one event rule (the filter)"
  row braid_group "braid run: one session rule (distinct count)"
  row braid_shipped_jit "braid run: shipped rules, --engine jit"
  row braid_shipped_interp "braid run: shipped rules, --engine interp"
  row braid_gen10 "braid run --pack: 10 generated rules"
  row braid_gen1000 "braid run --pack: 1,000 generated rules"
  row braid_lit10 "braid run --pack: 10 rules that each need a literal in userAgent"
  row braid_lit1000 "braid run --pack: 1,000 rules that each need a literal in userAgent"
  row braid_threads1 "braid run: shipped rules, 1 thread (wall)"
  row braid_threads2 "braid run: shipped rules, 2 threads (wall)"
  row braid_threads1_pack "braid run --pack: shipped rules, 1 thread (wall)"
  row braid_threads2_pack "braid run --pack: shipped rules, 2 threads (wall)"
  row braid_threads1_gz "braid run --pack: shipped rules, the file gzipped, 1 thread (wall)"
  row braid_threads2_gz "braid run --pack: shipped rules, the file gzipped, 2 threads (wall)"
  row duck_filter "DuckDB, 1 thread: the filter"
  row duck_group "DuckDB, 1 thread: the group-by"
  row jq_filter "jq: the filter"
  echo
  echo "| memory and start-up | peak RSS MB | CPU s | wall s | load | output lines |"
  echo "|---|---:|---:|---:|---:|---:|"
  mrow() {
    local n=$1 label=$2
    if have "$n"; then
      printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$((${RSS[$n]} / 1024))" "${CPU[$n]}" "${WALL[$n]}" \
        "${LOAD[$n]}" "${OUTN[$n]}"
    else
      printf '| %s | %s | | | | |\n' "$label" "${STATUS[$n]:-not run}"
    fi
  }
  mrow mem_n "$creds distinct credentials, shipped rules, stdin"
  mrow mem_10m "10000000 distinct credentials"
  mrow startup_1000 "start-up: 1,000-rule pack, cached object code, 1-event input (best wall)"
  echo
  echo "| target (issue 9) | measured | target | result | load |"
  echo "|---|---:|---:|---|---|"
  # target LABEL A B OP LIMIT [FORMAT]: ratio = value(A) / value(B) (CPU, or wall for threads); OP ge or le or lt
  target() {
    local label=$1 num=$2 den=$3 op=$4 limit=$5 kind=${6:-ratio} v res loads
    if ! have "$num" || { [ "$den" != - ] && ! have "$den"; }; then
      local why=${STATUS[$num]:-not run}
      [ "$den" != - ] && ! have "$den" && why=${STATUS[$den]:-not run}
      printf '| %s | n/a | %s | n/a (%s) | |\n' "$label" "$op $limit" "$why"
      return
    fi
    case $kind in
      ratio) v=$(awk -v a="${CPU[$den]}" -v b="${CPU[$num]}" 'BEGIN { printf "%.2f", a / b }') ;;  # throughput num/den
      wall) v=$(awk -v a="${WALL[$den]}" -v b="${WALL[$num]}" 'BEGIN { printf "%.2f", a / b }') ;;
      rss) v=$((${RSS[$num]} / 1024)) ;;
      rssratio) v=$(awk -v a="${RSS[$num]}" -v b="${RSS[$den]}" 'BEGIN { printf "%.2f", a / b }') ;;
      ms) v=$(awk -v w="${WALL[$num]}" 'BEGIN { printf "%.0f", w * 1000 }') ;;
    esac
    if awk -v v="$v" -v l="$limit" -v op="$op" 'BEGIN { exit !((op == ">=" && v >= l) || (op == "<=" && v <= l) || (op == "<" && v < l)) }'; then
      res=pass
    else
      res="**miss**"
    fi
    loads=${LOAD[$num]}
    [ "$den" != - ] && loads="${LOAD[$num]} / ${LOAD[$den]}"
    case $kind in rss) v="$v MB" ;; ms) v="$v ms" ;; ratio | wall) v="${v}x" ;; rssratio) v="${v}x" ;; esac
    printf '| %s | %s | %s | %s | %s |\n' "$label" "$v" "$op $limit" "$res" "$loads"
  }
  target "shipped rules, 1 thread, vs the ceiling for their fields" braid_shipped_jit ceil_fields_shipped ">=" 0.5
  target "one event rule, 1 thread, vs the ceiling for the fields it and its source read" braid_filter ceil_fields_filter ">=" 0.7
  target "one event rule, 1 thread, vs the plain filter" braid_filter ceil_plain_filter ">=" 0.5
  target "the filter as a Braid rule vs DuckDB, 1 thread" braid_filter duck_filter ">=" 2
  target "the group-by as a Braid rule vs DuckDB, 1 thread" braid_group duck_group ">=" 2
  target "1,000 generated rules vs 10, same stream (throughput)" braid_gen1000 braid_gen10 ">=" 0.5
  target "1,000 literal rules vs 10 (prefiltered), same stream (throughput)" braid_lit1000 braid_lit10 ">=" 0.5
  target "shipped rules, 2 threads vs 1 thread (wall)" braid_threads2 braid_threads1 ">=" 1.6 wall
  target "shipped rules from a pack, 2 threads vs 1 thread (wall)" braid_threads2_pack braid_threads1_pack ">=" 1.6 wall
  target "shipped rules from a pack, gzipped input, 2 threads vs 1 thread (wall)" braid_threads2_gz braid_threads1_gz ">=" 1.6 wall
  target "$creds distinct credentials, one event each, 0.9 s apart: peak RSS" mem_n - "<=" 256 rss
  target "10,000,000 distinct credentials: peak RSS vs the $creds figure" mem_10m mem_n "<=" 1.2 rssratio
  target "cached 1,000-rule pack, process start to first event (1-event run, wall)" startup_1000 - "<" 100 ms
  echo
  echo "Context: braid shipped JIT vs interpreter $(have braid_shipped_jit && have braid_shipped_interp && awk -v a="${CPU[braid_shipped_interp]}" -v b="${CPU[braid_shipped_jit]}" 'BEGIN { printf "%.2fx", a / b }' || echo n/a);" \
    "group rule vs its fields' ceiling $(have braid_group && have ceil_fields_group && awk -v a="${CPU[ceil_fields_group]}" -v b="${CPU[braid_group]}" 'BEGIN { printf "%.2f", a / b }' || echo n/a);" \
    "filter alerts ${OUTN[braid_filter]:-?} (generator: $hits; plain ceiling: $(sed -n 's/.* result=\([0-9]*\).*/\1/p' "$out/ceil_plain_filter.out" 2>/dev/null);" \
    "DuckDB: $(have duck_filter && sed -n 's/.*first=\[\[\([0-9]*\)\]\].*/\1/p' "$out/duck_filter.out" 2>/dev/null || echo n/a); jq: ${OUTN[jq_filter]:-n/a});" \
    "access keys grouped: plain ceiling $(sed -n 's/.* result=\([0-9]*\).*/\1/p' "$out/ceil_plain_group.out" 2>/dev/null), DuckDB $(have duck_group && sed -n 's/.*first=\[\[\([0-9]*\)\]\].*/\1/p' "$out/duck_group.out" 2>/dev/null || echo n/a);" \
    "shipped pack, 2 threads vs 1 alternating: ${alternating:-n/a}."
} | tee "$report"
note "report written to $report"
