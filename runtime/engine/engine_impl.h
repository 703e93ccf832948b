// The engine's insides, shared by its files (not part of the runtime's interface):
//
//   engine.cpp     the public API, setup (rule tables, match plan), end of input
//   ingest.cpp     records in: extraction, routing to a source, event time and id, late events
//   reorder.cpp    per-source reorder buffer, watermark, deadlines (session closes, absence windows), eviction
//   sessions.cpp   sessions, chains, mint and link records, chain retirement
//   rules.cpp      one released event through the rules: predicate matching, steps, aggregates, sequences
//   fire.cpp       alerts: suppression, message, session, chain path
//   state_view.cpp what conditions read: session/chain attributes, aggregates, sequences
//   aggregates.cpp the aggregate table (init, update, read per kind)
//   checkpoint.cpp the whole state as bytes and back (Engine::save_state / load_state)
//
// Semantics: engine.h and docs/language.md ("Runtime semantics").
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <deque>
#include <vector>

#include "engine/engine.h"
#include "engine/interp.h"
#include "engine/matcher.h"
#include "engine/prepare.h"
#include "engine/state.h"
#include "input/convert.h"
#include "input/extract.h"
#include "input/reader.h"
#include "ir/match_plan.h"

namespace braid::rt {

// Nanoseconds since t0 (EngineOptions::rule_timing).
inline uint64_t since(std::chrono::steady_clock::time_point t0) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

// A source's held events (PreparedEvents, owned by their batches), released in (time, arrival) order. Most
// arrive in time order: those go to a FIFO ring (O(1)); only an event older than the newest one held goes to a
// heap; the next event is the smaller of the two fronts. Entries carry their keys (no pointer chasing to compare).
class ReorderBuffer {
 public:
  struct Entry {
    int64_t time;
    uint64_t seq;
    PreparedEvent* e;
    bool operator>(const Entry& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };
  bool empty() const { return ring_.empty() && heap_.empty(); }
  size_t size() const { return ring_.size() + heap_.size(); }
  void push(PreparedEvent* e) {
    Entry x{e->time, e->seq, e};
    if (ring_.empty() || !(ring_.back() > x)) {
      ring_.push_back(x);
    } else {
      heap_.push_back(x);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    }
  }
  const Entry& top() const {
    if (heap_.empty()) return ring_.front();
    if (ring_.empty()) return heap_.front();
    return ring_.front() > heap_.front() ? heap_.front() : ring_.front();
  }
  void pop() {
    if (!heap_.empty() && (ring_.empty() || ring_.front() > heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      heap_.pop_back();
    } else {
      ring_.pop_front();
    }
  }

 private:
  friend struct StateCodec;
  Ring<Entry> ring_;
  std::vector<Entry> heap_;
};

enum class DeadlineKind : uint8_t { SessionClose, SessionSeq, ChainSeq, GroupClose, GroupSeq };
struct Deadline {  // (32 bytes: one per open session waits in a heap)
  int64_t time;
  uint64_t order;
  Ref target;     // session, chain or group
  uint32_t rule;  // index into Impl::rules
  DeadlineKind kind;
  bool operator>(const Deadline& o) const { return time != o.time ? time > o.time : order > o.order; }
};

struct LinkRt {
  uint32_t parent_source = 0;
  const ir::Link* link = nullptr;
  RecordTable parents;  // encoded key -> latest parent
};

struct RuleRt {
  const ir::Rule* r = nullptr;
  uint32_t stat = 0;          // index into stats.rules
  uint32_t state_slot = 0;    // session rules: position in its source's session_rules; chain: chain state slot
  bool reads_attrs = false;   // the condition reads session/chain attributes: evaluate after every event
  bool attrs_per_event = false;  // ... some that may change with any event (not only session.source_ips, or
                                 // ones fixed for the session)
  bool false_until_step = false;  // a conjunct of the condition reads no attributes and is false on a pristine
                                  // state: the condition cannot hold before a step matched, whatever attributes say
  bool eager = false;         // evaluate after each touching event (Monotone, or absence-decidable AtClose)
  bool window_decidable = false;  // AtClose, but monotone once its absence sequences are decided
  bool grouped = false;           // a group-scope rule (its state lives in its groups: Impl::groups)
  std::vector<std::vector<uint32_t>> step_aggs;  // step -> aggregates it feeds (chain rules; session rules share
                                                 // theirs through step classes)
  std::vector<uint32_t> seq_conjuncts;           // sequences that are conjuncts of the condition's top-level
                                                 // `and`: while one has not matched, the condition is false
  // Session rules with sequence conjuncts: a sequence `a -> b ...` without an absence right after its first step
  // needs no state of its own for `a`: its first stage is the latest earlier time `a` matched (with a trailing
  // absence: the times of a's earlier matches in the window), which a's step cell keeps. seq_head_step[q] is that
  // step (kNone: the rule keeps the stage).
  // An event whose matched steps are all such heads, trailing absences (they only cancel a pending match, and a
  // state with one is watched) or steps that only feed aggregates (kept in cells) changes nothing in the rule's
  // own state, so the rule is visited only if it is armed (its condition may change) or watched.
  // wake[step]: a match of the step needs a visit. All ones for other rules.
  std::vector<uint32_t> seq_head_step;
  std::vector<uint8_t> wake;
  // Each sequence's positive steps in order, and its absent steps with the positive they follow (m-1 for a
  // trailing one), precomputed for feed_seq.
  struct SeqPlan {
    std::vector<uint32_t> pos;
    std::vector<std::pair<uint32_t, uint32_t>> kills;  // (index of the positive before it, absent step)
    bool trailing = false;
  };
  std::vector<SeqPlan> seq_plans;
  uint32_t hit_base = 0;                         // its steps' entries in Impl::step_hits
  std::vector<std::string> expr_text;            // message part -> its text as written ("" for literals)
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> suppress;
  size_t suppress_sweep_at = 1024;                // sweep expired keys when the map grows past this
  std::vector<std::string> saturated_names;      // aggregate -> "distinct(step.field)"
  int8_t pristine = -1;                          // the condition on a pristine state (when it reads no
                                                 // attributes it is the same for every session): -1 unknown
  std::unique_ptr<RuleState> pristine_state;     // the state no step has touched yet (read, never written)
  std::vector<std::unique_ptr<RuleState>> pool;  // released states of this rule: same shape, buffers kept
};

// A class of equal steps of the session rules of one source (see StepCell): their count, event ids and the
// aggregates any of those rules declares over them are kept once per session.
struct StepClass {
  struct Agg {
    ir::AggKind kind;
    ir::NodeId value;  // event-context value expression (kNoNode for kinds that read none)
  };
  std::vector<Agg> aggs;
  bool keep_times = false;       // some rule reads the class's recent match times (StepCell::times)
  int64_t keep_for = 0;          // ... over windows up to this long
  std::unique_ptr<StepCell> pristine;            // as created; read where the class has not matched yet
  std::vector<std::unique_ptr<StepCell>> pool;   // released cells of this class: same shape, buffers kept
};

// A sequence prefix of the session rules of one source: items 0..k (k >= 1, all positive, of a sequence without
// absences) as step classes, and its window. Its stage (PrefixCell) moves when its last class matches: the parent
// (items 0..k-1: the head class's cell for k = 1, else a prefix) gives the start.
struct StepPrefix {
  std::vector<uint32_t> classes;
  int64_t within = 0;              // kForever when the sequence has none
  uint32_t parent = ir::kNone;     // the prefix of items 0..k-1 (kNone for k = 1: classes[0]'s step cell)
};

// A predicate of the match plan, resolved to the rule that runs it (kNone: the rule does not run).
struct PredTarget {
  uint32_t rule = ir::kNone;  // index into Impl::rules
  uint32_t step = ir::kNone;
  uint32_t hit = ir::kNone;   // the step's entry in Impl::step_hits
  uint32_t group = ir::kNone; // steps: its group of equal step predicates in the source (StepGroup)
  bool grouped = false;       // a step of a group-scope rule (handled by feed_groups, with or without session)
};

// The step predicates of one source with the same expression (ir::same_expr), across session and chain rules:
// they hold together, so an event's matches are handled once per group. Only the members whose match needs
// their rule visited (RuleRt::wake) are expanded; the others matter only to armed and watched rules (see process_event).
struct StepGroup {
  uint32_t cls = ir::kNone;          // the session rules' step class (kNone: chain rules' steps only)
  std::vector<uint32_t> wake_preds;  // member predicate ids whose rule must be visited when it holds
};

struct SourceRt {
  const ir::Source* src = nullptr;
  int64_t max_seen = kNever;
  int64_t floor = kNever;  // the watermark is at least this: moved up by the held-events cap (max_held_events)
  bool cap_warned = false;
  std::vector<PreparedEvent*> ahead;  // events far ahead of max_seen, held until confirmed or refuted (time jumps)
  ReorderBuffer buffer;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
  std::vector<uint32_t> event_rules, session_rules, chain_rules, group_rules;  // indices into Impl::rules
  // Rules an event (a close) must visit even when none of its steps matched: their condition reads attributes
  // (which every event changes), or holds on a pristine state. Indices into Impl::rules, ascending.
  std::vector<uint32_t> attr_session_rules, attr_chain_rules, close_session_rules;
  std::vector<uint32_t> session_pos;     // rule index -> its position in session_rules (kNone: not here)
  std::vector<uint8_t> runs_chain_rule;  // rule index -> the rule is one of chain_rules
  std::vector<uint32_t> links_as_parent, links_as_child;          // indices into Impl::links
  std::vector<PredTarget> preds;                                  // match-plan predicate id -> rule/step
  // Step classes of the session rules; per session rule (by position in session_rules) the class of each step
  // and the (class, index) of each aggregate.
  std::vector<StepClass> classes;
  std::vector<std::vector<uint32_t>> step_class;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> agg_cell;
  std::vector<uint8_t> class_hit;      // the current event matched the class (scratch, cleared per event)
  std::vector<uint32_t> hit_classes;   // ... as a list
  std::vector<uint32_t> hit_classes_done;  // ... those that end a prefix (update_cells' scratch)
  std::vector<StepGroup> groups;
  std::vector<std::vector<uint32_t>> rule_step_groups;  // session rule (by position) -> each step's group
  std::vector<StepPrefix> prefixes;
  std::vector<std::vector<uint32_t>> prefixes_ending;   // class -> the prefixes whose last class it is
  std::vector<std::vector<uint32_t>> rule_seq_prefix;   // session rule (by position) -> per sequence, the prefix
                                                        // of all its items but the last (kNone: none)
  std::vector<uint8_t> group_hit;      // the current event matched the group (scratch)
  std::vector<uint32_t> hit_groups;    // ... as a list
  uint64_t released = 0;                                          // events through process_event
  int64_t watermark() const {
    return std::max(floor, max_seen == kNever ? kNever : sat_sub(max_seen, src->lateness));
  }
};

struct Engine::Impl {
  const ir::Program& p;
  EngineOptions opt;
  Interpreter in;
  AlertSink sink;
  EngineStats stats;
  bool finished = false;

  std::vector<SourceRt> sources;
  std::vector<RuleRt> rules;
  uint32_t chain_state_slots = 0;
  std::vector<uint32_t> chain_slot_rule;    // chain state slot -> rule index
  std::vector<uint32_t> close_chain_rules;  // chain rules a close must visit without state (see SourceRt)
  ir::MatchPlan plan;
  std::vector<uint32_t> match_ids, touched;  // the current event's matched predicates / touched rules
  // The current event: which steps it matched (every session/chain rule's steps, flat: RuleRt::hit_base), and per
  // rule kTouched (some step matched) and kWoken (a wake step matched). Cleared after each event.
  std::vector<uint8_t> step_hits, rule_flags;
  std::vector<uint64_t> id_bits;  // sort_match_ids' bitmap
  static constexpr uint8_t kTouched = 1, kWoken = 2;
  std::vector<uint32_t> visit, visit_chain;  // rules to visit for the current event (scratch)
  std::vector<uint32_t> close_visit, chain_visit;  // ... at a session close, a chain close
  std::vector<LinkRt> links;

  // Sessions, chains and minted credentials.
  SlotPool<Session> sessions;
  SidePool<SessionState> session_sides;
  SidePool<ChainState> chain_sides;
  SlotPool<Chain> chains;
  OpenIndex open_index;
  RecordTable mints;  // minted credential -> record
  // Groups of group-scope rules: open ones only (a closed group is released), indexed by (rule, source, key),
  // listed oldest first for the cap (EngineOptions::max_open_groups).
  SlotPool<Group> groups;
  OpenIndex group_index;
  Ref group_oldest = kNoRef, group_newest = kNoRef;
  std::vector<uint32_t> group_touched;  // group rules a step of which the current event matched (scratch)
  EvictedKeys evicted_keys;  // keys of records evicted at max_chain_records (record_key_hash)
  std::vector<ChainInfo> retired_chains;  // summaries of the largest retired chains (chains())
  uint64_t next_uid = 0;
  uint32_t lru_head = kNoSlot, lru_tail = kNoSlot;  // open sessions, least recently used first (Session::lru_*)
  // Which attributes some rule reads: the distinct sets behind them are only kept when read.
  bool track_ips = false, track_identities = false, track_accounts = false;

  // Intake: batches of records, prepared by own_preparer (one thread) or by the workers, admitted in order.
  std::unique_ptr<Preparer> own_preparer;
  std::vector<std::unique_ptr<Batch>> batches;  // all of them
  std::vector<Batch*> free_batches;
  std::vector<std::unique_ptr<BatchInput>> inputs;  // all of them
  std::vector<BatchInput*> free_inputs;
  Batch* filling = nullptr;                     // taking records (threads > 1)
  Batch* appending = nullptr;                   // one thread: the batch prepared events are appended to
  std::vector<Value> dense_slots;               // the slots of the event being processed (process_event)
  Ring<Batch*> inflight;                        // submitted to the workers, in input order
  std::vector<std::unique_ptr<Preparer>> preparers;  // one per worker, then this thread's (wait_ready)
  std::vector<std::thread> workers;
  std::mutex mu;                                // guards todo, stopping and the batches' ready flags' waits
  std::condition_variable cv_work, cv_done;
  Ring<Batch*> todo;                            // submitted, not yet taken by a worker
  bool stopping = false;
  std::unique_ptr<std::atomic<uint64_t>[]> worker_busy;  // per worker: ns spent preparing
  uint64_t wait_nanos = 0;                               // the engine's thread waiting for a prepared batch
  uint64_t help_nanos = 0;                               // the engine's thread preparing a batch (wait_ready)
  std::unordered_set<std::string, StringHash, std::equal_to<>> names;  // process_json origins (threads > 1)
  std::string_view last_name;                                           // the last of them stable_name() gave
  uint64_t arrival = 0, deadline_order = 0;
  uint64_t event_serial = 0;  // events through process_event (StepCell::at)
  uint64_t worker_mismatches = 0;  // type mismatches of the batches workers prepared
  MatcherCounters worker_matcher;  // matcher counters of the batches workers prepared
  std::string scratch, key_buf, id_buf;
  std::string suppress_key;  // fire(): the suppression key of the alert being decided
  uint64_t late_warnings = 0, malformed_warnings = 0, notime_warnings = 0, unrouted_warnings = 0;

  // The event being processed.
  struct Cur {
    uint32_t source = 0;
    const Value* slots = nullptr;
    int64_t time = 0;
    std::string_view id;
    Session* session = nullptr;
    const PreparedEvent* ev = nullptr;  // its record text, for alert events (EngineOptions::alert_events)
  } cur;

  Impl(const ir::Program& prog, EngineOptions o) : p(prog), opt(std::move(o)), in(prog) {}
  // Rule states are owned by the rules' pools while free and by a session (chain) while in use: give the ones in
  // use back, so that the pools free them all.
  ~Impl() {
    sessions.for_each_live([&](Session& se) { release_side(se); });
    chains.for_each_live([&](Chain& c) { release_side(c); });
    groups.for_each_live([&](Group& g) {
      if (g.state) rules[g.rule].pool.emplace_back(g.state);
      g.state = nullptr;
    });
  }

  // engine.cpp: setup
  void setup();
  void build_step_classes(SourceRt& sr);
  bool program_reads(ir::Attribute a) const;
  bool mono_with_absence(const ir::Rule& r, ir::NodeId id, bool pos) const;
  std::vector<std::string> split_message(const ir::Rule& r) const;
  void finish();

  // ingest.cpp
  // Passes a warning on unless its kind has reached the limit; `line` is a callable making the text, so that
  // warnings past the limit (a flood of late or malformed records) cost no formatting.
  template <class F>
  void warn(uint64_t& counter, F&& line) {
    if (!opt.on_warning) return;
    if (counter++ < opt.max_warnings_per_kind) opt.on_warning(line());
  }
  void intake(const Record* rec, std::string_view json, const Where& where);
  std::string_view stable_name(std::string_view name);
  Batch* new_batch();
  void recycle(Batch* b);
  void start_workers();
  void stop_workers();
  void submit();
  void wait_ready(Batch* b);
  void drain();
  void admit(Batch& b);
  void admit_one(PreparedEvent& e);
  void bad_record(const PreparedEvent& e, std::string_view kind, std::string_view reason);
  bool reporting = false;  // a malformed record is being reported back through its reader (already passed on)
  // fire.cpp: the current event's text into a step's raw events, or `out` (EngineOptions::alert_events).
  void keep_raw(StepState& ss);
  bool raw_text(std::string& out) const;
  void admit_timed(uint32_t s, PreparedEvent& e);  // a routed event with a time: late, held or processed
  void accept_ahead(uint32_t s);      // the source jumped: its held-aside events are admitted
  void quarantine_ahead(uint32_t s);  // they were outliers: quarantined
  void done_with(PreparedEvent& e);  // a held event was processed: its batch may be reused

  // reorder.cpp
  void release(uint32_t s, int64_t upto);
  void expire(uint32_t s, int64_t now);
  void evict(int64_t now);

  // sessions.cpp
  Session* session_for(uint32_t s, const Value& identity, const Value& credential, int64_t t);
  void attach_parent(Session& child, const Value& credential);
  void close_session(Session& se, int64_t now);
  void lru_unlink(Session& se);
  void lru_append(Session& se);
  void evict_session();  // closes the least recently used open session (max_open_sessions)
  void close_chain(Chain& c);
  void record_mints(uint32_t s, Session& se);
  void drop_record(Ref session);  // a mint or link record of this session expired or was replaced
  void make_room_for_record();    // at max_chain_records: evicts the oldest record of all tables
  // The hash a record's key is remembered by in evicted_keys: table 0 is mints, table 1 + i links[i].parents.
  static uint64_t record_key_hash(uint64_t key_hash, size_t table) { return key_hash ^ (table * 0x9e3779b97f4a7c15ULL); }
  void maybe_retire(Chain& c);
  // groups.cpp
  void feed_groups(uint32_t s);           // the current event through the group rules whose steps it matched
  Group* open_group(uint32_t ri, uint32_t s, uint64_t h);  // a new group of key_buf, at the cap closing the oldest
  void close_group(Group& g, int64_t now);  // decides at-close conditions, releases it
  void group_unlink(Group& g);
  void group_append(Group& g);
  static uint64_t group_key_hash(uint32_t rule, uint32_t source, std::string_view key) {
    return fast_hash(key) ^ ((uint64_t{rule} << 32 | source) * 0x9e3779b97f4a7c15ULL);
  }
  void retire(Chain& c);

  // rules.cpp
  void process_event(uint32_t s, const PreparedEvent& e, bool late);
  void process_dense(uint32_t s, const PreparedEvent& ev, bool late);  // ev.slots set
  uint32_t match_predicates(uint32_t s, const PreparedEvent& e, const StateView* session, bool with_steps);
  RuleState* state_of(RuleStates& states, uint32_t slot) const;
  RuleState& make_state(RuleStates& states, uint32_t slot, RuleRt& rr);
  void free_states(RuleStates& states);
  // Step cells (session rules): the one of class `c` in the session (creating it), the ones the current event
  // matched updated once for every rule, and all of them given back when the session closes.
  StepCell& cell_for(Session& se, uint32_t c);
  static const StepCell* find_cell(const Session& se, uint32_t c);  // nullptr: the class has not matched there
  void update_cells(uint32_t s, Session& se);
  PrefixCell* prefix_cell(Session& se, uint32_t prefix, bool create);
  int64_t head_before(const Session& se, uint32_t cls) const;  // the class's latest match before this event
  void free_cells(Session& se);
  // The session's side block (rule state and distinct sets), taken from session_sides when it has none; and given
  // back, with the rule states and cells in it, when the session closes.
  SessionState& side(Session& se) {
    if (!se.state) se.state = session_sides.take();
    return *se.state;
  }
  void release_side(Session& se);
  // The chain's, likewise (given back when it retires).
  ChainState& side(Chain& c) {
    if (!c.state) c.state = chain_sides.take();
    return *c.state;
  }
  void release_side(Chain& c);
  // A session rule's step and aggregate state: its class's cell in the session, or the pristine one (no session,
  // or the class has not matched there). Chain rules keep their own, in their RuleState.
  const StepState& step_state(const RuleState& st, const Session* se, uint32_t step) const;
  const AggState& agg_state(const RuleState& st, const Session* se, uint32_t agg) const;
  void reset_state(RuleState& st, const RuleRt& rr) const;
  void feed(RuleRt& rr, RuleState& st, Session* se, Chain* ch, uint32_t rule_index, Group* gr = nullptr);
  // The first stage of a sequence, kept by its first step's cell (RuleRt::seq_head_step): the latest time that
  // step matched before this event (kNever: never) and, for a sequence with a trailing absence, the times of its
  // earlier matches (ascending, at most distinct_bound). nullptr: the rule keeps it in ss.stages[0].
  // With `whole` (a sequence without absences whose items but the last form a shared prefix), `latest` is the
  // prefix's stage, the start of the best partial match before the last item, and the rule keeps no stage.
  struct SeqHead {
    int64_t latest = kNever;
    const int64_t* times = nullptr;
    size_t n = 0;
    bool whole = false;
  };
  void feed_seq(const ir::Sequence& q, const RuleRt::SeqPlan& plan, SeqState& ss, const uint8_t* matched, int64_t t,
                const SeqHead* head);
  bool decide_seqs(const ir::Rule& r, RuleState& st, int64_t now, bool closing);
  // A state every event of its session (chain) must visit although none of its steps matched: attributes change
  // with every event (once its sequence conjuncts have matched), or an absence window may have ended.
  // (Only eager rules evaluate on events. A condition whose attributes are session.source_ips or ones that never
  // change in a session is watched only for events that add a source ip: SessionState::watch_ips.)
  bool watched(const RuleRt& rr, const RuleState& st) const {
    return !st.fired && ((rr.eager && rr.reads_attrs && armed(rr, st)) || has_pending(st));
  }
  // Keeps SessionState::watch and watch_ips equal to the slots of the watched states, after state `slot` may
  // have changed; SessionState::armed likewise.
  void rewatch(Session& se, uint32_t slot, const RuleRt& rr, const RuleState& st) const {
    auto keep = [slot](std::vector<uint32_t>& v, bool want) {
      auto it = std::lower_bound(v.begin(), v.end(), slot);
      bool in = it != v.end() && *it == slot;
      if (want && !in) v.insert(it, slot);
      else if (!want && in) v.erase(it);
    };
    bool w = watched(rr, st);
    bool on_ips = w && !rr.attrs_per_event && !has_pending(st);
    SessionState& ss = *se.state;  // (it holds the state)
    keep(ss.watch, w && !on_ips);
    keep(ss.watch_ips, on_ips);
    keep(ss.armed, rr.eager && !st.fired && !rr.seq_conjuncts.empty() && armed(rr, st));
  }
  // A chain state every event of the chain visits: its condition reads attributes and its sequence conjuncts
  // have matched, or an absence window may have ended. (Whether the event's source runs the rule is checked then.)
  bool chain_watched(const RuleRt& rr, const RuleState& st) const {
    return !st.fired && ((rr.reads_attrs && armed(rr, st)) || has_pending(st));
  }
  // Keeps ChainState::watch equal to the slots of the watched states, after state `slot` may have changed.
  void rewatch_chain(Chain& c, uint32_t slot, const RuleRt& rr, const RuleState& st) const {
    std::vector<uint32_t>& watch = c.state->watch;  // (it holds the state)
    auto it = std::lower_bound(watch.begin(), watch.end(), slot);
    bool in = it != watch.end() && *it == slot, want = chain_watched(rr, st);
    if (want && !in) watch.insert(it, slot);
    else if (!want && in) watch.erase(it);
  }
  // ChainState::watch from scratch (after a close, or a restore).
  void rewatch_chain(Chain& c) const {
    if (!c.state) return;
    c.state->watch.clear();
    for (const auto& [slot, st] : c.state->rules)
      if (chain_watched(rules[st->rule], *st)) c.state->watch.push_back(slot);
  }
  bool armed(const RuleRt& rr, const RuleState& st) const {
    for (uint32_t q : rr.seq_conjuncts)
      if (!st.seqs[q].matched) return false;
    return true;
  }
  // True when the rule's condition reads no session/chain attributes and is false on a pristine state: then it
  // is false for every session (chain) none of whose events matched a step, and need not be evaluated there.
  bool pristine_false(RuleRt& rr);
  // The rule's condition on its pristine state (no step matched yet) in this session (chain).
  bool pristine_holds(RuleRt& rr, const Session* se, const Chain* ch);
  ChainInfo chain_info(const Chain& c) const;

  // fire.cpp
  void fire(uint32_t rule_index, RuleState* st, Session* se, Chain* ch, const char* decided, int64_t when,
            bool on_event, const Group* gr = nullptr);

  // A source clause of source s on `slots`: native code when the matcher compiled it, else the interpreter.
  Value clause(uint32_t s, ir::NodeId id, const Value* slots) {
    if (id == ir::kNoNode) return Value::null();
    Value v;
    if (opt.matcher && opt.matcher->eval(in, s, id, slots, v)) return v;
    EvalContext ctx{slots, in.field_slots(s), nullptr};
    return in.eval(id, ctx);
  }
  bool clause_true(uint32_t s, ir::NodeId id, const Value* slots) {
    Value v = clause(s, id, slots);
    return v.tag == Tag::Bool && v.b;
  }
  static bool has_pending(const RuleState& st) {
    for (const SeqState& q : st.seqs)
      if (!q.matched && q.pending != kNever) return true;
    return false;
  }
  Session* session(Ref r) const { return sessions.get(r); }
};

// Order of Engine::chains(): largest first, then by root session id.
inline bool chain_info_before(const ChainInfo& a, const ChainInfo& b) {
  if (a.sessions != b.sessions) return a.sessions > b.sessions;
  return a.root_session < b.root_session;
}

// What conditions, messages and suppression keys read in session/chain context.
struct View : StateView {
  const Engine::Impl* e = nullptr;
  const ir::Rule* r = nullptr;
  const RuleState* st = nullptr;
  const Session* se = nullptr;
  const Chain* ch = nullptr;

  Value attr(ir::Attribute a) const override;
  Value agg(uint32_t index) const override;
  bool seq(uint32_t index) const override;
};

}  // namespace braid::rt
