// The reference engine: routes events to sources, forms sessions and chains, runs the rules with the reference
// interpreter (interp.h) and emits alerts. Its behaviour DEFINES Braid's runtime semantics (docs/language.md,
// "Runtime semantics"); the JIT (issue 4) must agree with it.
//
// Driving it
//
//   braid run:   Engine e(program, opts);
//                e.set_sink([&](const Alert& a) { out << render_alert_json(a) << '\n'; });
//                e.process_inputs({"trail/", "okta.ndjson.gz", "-"});   // or process_json() per record
//                e.finish();                                            // end of input: closes everything
//                print(e.stats());
//
//   braid test:  EngineOptions o; o.only_rules = {rule.id}; o.include_disabled = true;
//                o.processing_time = 0;                                  // deterministic output
//                Engine e(program, o);  collect alerts with a sink;
//                e.process_json_array(test.events[i].json) for each events clause (or process_inputs({file}));
//                e.finish();  compare the collected alerts with the expectation.
//
// An Engine is used from one thread; it is not thread-safe. With EngineOptions::threads > 1 it starts worker threads
// of its own that prepare events (extraction, routing, conversion, stateless predicates) while the calling thread
// runs sessions, chains and rules in input order, so the alerts are the same for every thread count
// (docs/jit.md, "Threads"). All methods that take events may emit alerts (through the sink, on the calling
// thread) before they return: with one thread, every alert an event decides comes before process_json returns;
// with more, alerts come a few batches later, and finish() (or process_inputs' return) flushes them. After
// finish() the engine accepts no more events.
//
// Ordering (see docs/language.md, Runtime semantics): each event is routed on arrival to the FIRST source, in
// program order, whose `recognize` holds. Per source, events are released to sessions and rules in event-time
// order (ties in arrival order) once the source's watermark (the newest event time seen by that source minus its
// `lateness`) reaches them; with lateness 0 and in-order input every event is released at once. An event older
// than the watermark when it arrives is late: counted, reported through `on_warning`, and run through the
// event-scope rules only (with no session).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/alert.h"
#include "ir/ir.h"

namespace braid::rt {

class PredicateMatcher;  // engine/matcher.h
class RecordReader;      // input/reader.h
struct Record;           // input/reader.h

using AlertSink = std::function<void(const Alert&)>;

// EngineOptions::alert_events at most: 100 events of a step, each up to kMaxAlertEventBytes, keep an alert line
// within what a SIEM ingests.
inline constexpr uint32_t kMaxAlertEvents = 100;
// An event larger than this appears as null in an alert's `events` (a huge record an attacker wrote must not make
// every alert huge).
inline constexpr size_t kMaxAlertEventBytes = 256 * 1024;
// The text of a bad record kept for EngineOptions::on_bad_record: its first kMaxBadRecordBytes bytes.
inline constexpr size_t kMaxBadRecordBytes = 64 * 1024;

// A record the engine could not use (EngineOptions::on_bad_record). The views are valid during the call only.
struct BadRecord {
  std::string_view kind;    // "malformed_json", "invalid_utf8", "not_object", "unrouted" or "no_time"
  std::string_view input;   // the input's name (a path, "-"; the origin given to process_json)
  uint64_t line = 0;        // 1-based line where the record starts; 0: unknown
  uint32_t element = UINT32_MAX;  // Records / JSON-array files: the 0-based index in the array; else UINT32_MAX
  std::string_view reason;  // why, in words
  std::string_view record;  // its text, cut at kMaxBadRecordBytes
  uint64_t size = 0;        // the whole record's size in bytes
};

struct EngineOptions {
  // Rules to run, by id; empty: every enabled rule. Rules named here run even when `enabled false` if
  // include_disabled is set (braid test runs disabled rules' tests too).
  std::vector<std::string> only_rules;
  bool include_disabled = false;

  // How long minted-credential and link-parent records are kept (event time). Default 36 h, the longest STS
  // credential lifetime. Evictions are counted in stats.
  int64_t mint_retention = int64_t{36} * 3600 * 1000000000;

  // distinct() sets are exact up to this many values per aggregate, then saturated (flagged in the alert).
  uint32_t distinct_bound = 4096;

  // Event ids kept per step in an alert's `steps` (the count is always exact).
  uint32_t step_event_ids = 10;

  // Raw events in alerts (docs/alerts.md, "Raw events"): each step of a session or chain alert also carries the
  // JSON objects of its first alert_events matching events (`events`), and an event-scope alert its event
  // (`event`). 0: off, and then no record text is kept anywhere. At most kMaxAlertEvents (the constructor throws
  // std::invalid_argument above it).
  uint32_t alert_events = 0;

  // Bad records (docs/operations.md, "Bad records"): called on the engine's thread, in input order, for every
  // record that is malformed, recognised by no source or has no time; never rate-limited. Setting it makes the
  // preparation keep the text of such records (at most kMaxBadRecordBytes of each). Records process_inputs'
  // reader refuses itself (too large) come without text, and with threads possibly before bad records read earlier
  // (a host reading records itself flushes first: braid run does).
  std::function<void(const BadRecord&)> on_bad_record;

  // Summaries of retired chains kept for chains() (and `braid run --stats`): the largest ones, this many.
  uint32_t retired_chains_kept = 1000;

  // Measure time per rule (costs two clock reads per rule evaluation).
  bool rule_timing = false;

  // Processing time stamped into alerts, in ns since the epoch; negative: the wall clock at emission.
  int64_t processing_time = -1;

  // Warnings meant for stderr, one line each without newline: late events, malformed records (with file and
  // line), unreadable inputs. Default: none (they are still counted in stats).
  std::function<void(const std::string&)> on_warning;

  // At most this many warnings per kind (late, malformed) are passed to on_warning; the counts stay exact.
  uint32_t max_warnings_per_kind = 100;

  // Evaluates the rule predicates (and `recognize`) of each event: the JIT (runtime/jit) plugs in here. nullptr:
  // the reference interpreter evaluates every predicate of every running rule, in program order. Everything else
  // (sessions, chains, rule state, alerts) is the same code either way. Used by one engine at a time.
  std::shared_ptr<PredicateMatcher> matcher;

  // Worker threads that prepare events (extraction, routing, conversion, and the predicates that read no session
  // state) while the engine's own thread runs sessions, chains and rules in input order. 1: none, everything on
  // the calling thread. Alerts are identical whatever the number (docs/jit.md, "Threads").
  uint32_t threads = 1;
  // How much lower the workers' scheduling priority is than the engine's thread (nice levels, up to 19). The
  // engine's thread runs the ordered half, which no other thread can do, so when the cores are busy (the workers,
  // the reader's read-ahead and the engine's thread are more threads than cores) it should not wait behind a
  // worker whose batch is not needed yet. 0: the same priority.
  int worker_niceness = 5;
  // Makes a matcher per worker (a matcher is used by one thread at a time). Without it, workers route and convert
  // with the interpreter and leave predicate matching to the engine's thread.
  std::function<std::shared_ptr<PredicateMatcher>()> matcher_factory;

  // Time jumps (docs/operations.md, "Time jumps"). An event dated more than max_time_jump after the newest event
  // its source has delivered so far cannot move the source's watermark on its own: it is held aside. When
  // jump_confirm such events have arrived with no ordinary one in between, the source really jumped (a backfill
  // that skipped a gap) and they are admitted in arrival order. When an ordinary event of the source comes first,
  // they were outliers (one record dated 2099 would otherwise make every later event late): each is quarantined,
  // counted, reported like a late event and run through the event-scope rules only. At the end of the input, the
  // ones still held are admitted. 0: no bound.
  int64_t max_time_jump = int64_t{24} * 3600 * 1000000000;

  // Open sessions kept at most (docs/operations.md, "Caps"). At the cap, the least recently used open session is
  // closed early (evicted): its at-close rules decide then, and those alerts, and later ones of its chain's chain
  // rules, are marked `degraded`. Counted in stats. 0: no cap.
  uint64_t max_open_sessions = 2000000;
  // Open groups of group-scope rules kept at most, all rules together (docs/operations.md, "Caps"). At the cap, the
  // group opened earliest is closed early: its at-close conditions decide on what it has, and its alerts are marked
  // `degraded`. Counted in stats (groups_evicted). 0: no cap.
  uint64_t max_open_groups = 1000000;
  uint32_t jump_confirm = 4;

  // Events held for reordering per source at most (docs/operations.md, "Caps"). A source holds the events of its
  // last `lateness` of event time (its rate times its lateness). Beyond the cap, the source's watermark moves up to
  // its oldest held event, which is released at once: the source's lateness shrinks for as long as the burst
  // lasts, and an event older than the new watermark that arrives later is late (counted and reported, as at any
  // watermark). Counted in stats (released_early). 0: no cap.
  uint64_t max_held_events = 1000000;

  // Mint and link records kept at most, all tables together (docs/operations.md, "Caps"). They join a new session
  // to the chain of the session that minted its credential (or linked it), and they keep that chain, with its
  // closed sessions, in memory until the retention passes. At the cap, the oldest record is evicted: a session
  // that would have claimed it starts a chain of its own, and every alert that carries that chain is marked
  // `degraded`.
  // Counted in stats (chain_records_evicted). 0: no cap.
  uint64_t max_chain_records = 2000000;

  // Starts of partial matches a sequence keeps at most per stage, per rule and session or chain (docs/operations.md,
  // "Caps"); only sequences with a trailing absence keep more than one. Beyond it the oldest starts are dropped,
  // counted (partial_matches_dropped), and the rule's later decisions in that session or chain are marked
  // `degraded`.
  uint32_t max_partial_matches = 4096;

  // Called on the engine's thread while process_inputs reads, between records, at most every
  // progress_interval_ms of wall time, and once more when the inputs are read. Every record taken so far has then
  // been admitted (with threads, the workers are drained first), so the engine's state and stats() reflect exactly
  // the records the reader has handed out (Progress::reader->positions()): a consistent point for metrics
  // snapshots and checkpoints. The callback may call stats() and other const methods. nullptr: none.
  struct Progress {
    const RecordReader* reader = nullptr;  // the reader of the current process_inputs call
    bool end_of_inputs = false;            // the last call of this process_inputs
  };
  std::function<void(const Progress&)> on_progress;
  uint32_t progress_interval_ms = 1000;
};

// A checkpoint that cannot be restored: corrupt, of another format version, program or options.
class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RuleStats {
  std::string id;
  uint64_t alerts = 0;       // emitted
  uint64_t suppressed = 0;   // dropped by `suppress`
  uint64_t evaluations = 0;  // event rules: events of its sources; others: events that visited its state + closes
  uint64_t nanos = 0;        // time spent in the rule (only with EngineOptions::rule_timing): state updates and
                             // decisions; predicate evaluation only with the interpreter (the JIT's dispatch
                             // evaluates many rules' predicates at once)
};

struct SourceStats {
  std::string name;
  uint64_t events = 0;   // routed to this source
  uint64_t late = 0;
  uint64_t quarantined = 0;  // events far ahead of the source's others, refuted by the next ones (time jumps)
  uint64_t released_early = 0;  // held events released before their lateness passed (EngineOptions::max_held_events)
  uint64_t no_identity = 0;  // events whose identity was null: no session, event-scope rules only
  uint64_t sessions_opened = 0, sessions_closed = 0;
  // Now (filled in by Engine::stats(), not counters): the newest event time delivered and the watermark, in Unix
  // nanoseconds (INT64_MIN: none yet), and the events held for reordering.
  int64_t newest = INT64_MIN, watermark = INT64_MIN;
  uint64_t held = 0;
};

struct EngineStats {
  uint64_t records_read = 0;   // records handed to the engine (lines, Records[] elements, test events)
  uint64_t events_parsed = 0;  // records that were valid JSON objects
  uint64_t malformed = 0;      // records that were not (counted with file and line, see on_warning)
  uint64_t unrouted = 0;       // parsed events no source recognised
  uint64_t no_time = 0;        // routed events whose `time` was null (skipped, reported with file and line)
  uint64_t type_mismatches = 0;  // field values whose JSON type did not fit the schema (read as null)
  uint64_t late = 0;           // events older than their source's watermark (all sources)
  uint64_t quarantined = 0;    // events dated too far ahead of their source's others (EngineOptions::max_time_jump)
  uint64_t released_early = 0;  // held events released at the held-events cap (EngineOptions::max_held_events)
  uint64_t no_identity = 0;
  uint64_t sessions_opened = 0, sessions_closed = 0;
  uint64_t sessions_evicted = 0;   // closed early by EngineOptions::max_open_sessions (included in sessions_closed)
  uint64_t chains = 0;             // chains with at least two sessions (trees that got a child)
  uint64_t chain_links = 0;        // parent -> child edges made (mint + link)
  uint64_t chain_max_depth = 0;    // sessions on the longest root-to-leaf path (a root with a child: 2)
  uint64_t mints_recorded = 0, mints_evicted = 0;  // evicted: expired after the retention
  uint64_t chain_records_evicted = 0;    // mint and link records evicted at EngineOptions::max_chain_records
  uint64_t partial_matches_dropped = 0;  // sequence starts dropped at EngineOptions::max_partial_matches
  // Group-scope rules (docs/language.md, "Group scope"): groups opened and closed (all rules), closed early by
  // EngineOptions::max_open_groups (included in groups_closed), and events that matched a group rule's step but
  // whose key had a null part (they join no group of that rule). groups_live: open now (filled in by stats()).
  uint64_t groups_opened = 0, groups_closed = 0, groups_evicted = 0, no_group_key = 0, groups_live = 0;
  uint64_t sessions_live = 0;    // sessions in memory (open, or closed but still part of a live chain)
  uint64_t chains_live = 0;      // chains in memory
  uint64_t chains_retired = 0;   // chains dropped from memory: no open session and no live mint/link record
  std::vector<uint64_t> worker_nanos;  // threads > 1: time each worker spent preparing batches
  uint64_t wait_nanos = 0;             // threads > 1: time the engine's thread waited for a prepared batch
  uint64_t help_nanos = 0;             // threads > 1: time the engine's thread prepared batches instead of waiting
  uint64_t link_parents_recorded = 0, link_parents_evicted = 0;
  // The JIT's multi-pattern prefilter (docs/jit.md, "The prefilter"), since the engine started (not checkpointed):
  // field values scanned, literals found, and predicates those literals selected for evaluation.
  uint64_t prefilter_scans = 0, prefilter_literals = 0, prefilter_selected = 0;
  uint64_t alerts = 0, suppressed = 0;
  std::vector<SourceStats> sources;  // in program order
  std::vector<RuleStats> rules;      // the rules that run, in program order
};

// What Engine::load_state did with a state taken with another program (a rule reload, or a restart with changed
// rules; docs/operations.md, "Reload"). Rule ids, in the new program's order (removed: the old program's).
struct CarryReport {
  std::vector<std::string> kept;     // same id and compiled definition: state kept
  std::vector<std::string> changed;  // same id, another definition: starts empty
  std::vector<std::string> added;    // new: starts empty
  std::vector<std::string> removed;  // gone: its state dropped
  // Unchanged, but a step of theirs is the same expression as a step of a changed or new rule of the same
  // source: they share that step's counts (docs/jit.md, "Equal steps are shared"), which the new rule must start
  // without, so these start empty too.
  std::vector<std::string> reset;
  uint64_t held_events = 0;          // held (not yet released) events carried over
  uint64_t held_missing_fields = 0;  // ... of which some field a new or changed rule reads was not extracted (null)
  std::vector<std::string> notes;    // other things the new rules cannot see in the carried state, one line each
};

// Read-only view of the chains built so far, for tests and `braid run --stats` (costly: walks every session).
struct ChainInfo {
  std::string root_session;
  std::string root_identity;
  uint64_t sessions = 0;  // sessions in the tree
  uint64_t depth = 0;     // sessions on the longest root-to-leaf path (1 for a lone session)
  uint64_t events = 0;    // events in all its sessions
};

class Engine {
 public:
  // `program` must outlive the engine and be free of errors. Regexes are compiled here.
  Engine(const ir::Program& program, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void set_sink(AlertSink sink);

  // One event as JSON text (an object). `origin`/`line` name where it came from, for malformed-record warnings.
  // A record that is not a JSON object is counted as malformed and skipped.
  void process_json(std::string_view json, std::string_view origin = {}, uint64_t line = 0);
  // The same for a record a host read itself with a RecordReader (follow mode, checkpoints): its bytes are padded
  // as the reader guarantees, so they are parsed where they are instead of being copied first. Bad records are
  // counted and warned about by the engine, as with process_json.
  void process_record(const Record& record, std::string_view origin, uint64_t line);

  // A JSON array of event objects (a test's inline `events [...]`). Returns false (and counts one malformed
  // record) if the text is not a JSON array; each element is then processed like process_json.
  bool process_json_array(std::string_view json_array, std::string_view origin = "<events>");

  // Files (NDJSON, CloudTrail {"Records":[...]}, .gz), directories (recursively, sorted) and "-" for stdin, via
  // runtime/input/reader.h. Unreadable inputs are reported through on_warning and make it return false.
  bool process_inputs(const std::vector<std::string>& paths);

  // With threads, records handed over are prepared in batches: flush() admits every record taken so far (their
  // alerts are emitted before it returns). A host that waits for more input (follow mode) calls it when the input
  // goes quiet. Held (reordering) events stay held: they are released by event time, as without the wait.
  void flush();

  // End of input: releases every held event, closes every session and chain (at-close rules decide), and
  // flushes alerts. Idempotent.
  void finish();

  const EngineStats& stats() const;
  // Chains with at least one session, largest first, then by root id: every chain still in memory, and the
  // largest of those already retired (EngineOptions::retired_chains_kept; a retired chain can no longer change).
  std::vector<ChainInfo> chains() const;

  // The ids of the rules that run (after only_rules / enabled filtering), in program order.
  std::vector<std::string> active_rules() const;

  // Checkpoints (checkpoint.cpp, docs/operations.md). save_state returns the engine's whole state: watermarks and
  // held events, deadlines, sessions with their rule state, step cells and prefixes, chains, mint and link
  // records, suppression tables, stats. Call it between process_* calls or from on_progress (with threads, it
  // first admits every record taken, which may emit alerts). `program_id` names the program (the host's digest of the compiled rules); it is stored with the state.
  // load_state restores such bytes into an engine that has not taken any event yet, built from the same program
  // and the same semantic options (rules that run, distinct bound, retention, step event ids): otherwise, or when
  // the bytes are not a state of this format version, it throws StateError with a message saying which, and the
  // engine is unusable. Thread count and the evaluator (JIT or interpreter) may differ between save and load.
  //
  // With `carry`, a state taken with another program (another id) is carried over instead of refused: what each
  // rule keeps follows the reload rules (CarryReport, docs/operations.md "Reload"); sessions, chains, mint and
  // link records, watermarks, held events and counters are kept. Sources may be added; it still throws
  // StateError when a source of the state is gone or differs (its clauses, keys, sessions or links).
  std::string save_state(std::string_view program_id) const;
  void load_state(std::string_view bytes, std::string_view program_id, CarryReport* carry = nullptr);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::rt
