// The reference engine. Semantics: engine.h, interp.h and docs/language.md ("Runtime semantics").
//
// Data layout
// - Shards (one today) own flat tables: sessions (by uid), the open-session index (session key -> uid) and the
//   minted-credential records (credential -> minting session). The shard of a session is chosen by the hash of
//   its credential (of its identity when it has none), so a minting record is routed to the shard that will own
//   the child credential's sessions by the hash of the credential alone. Nothing holds a pointer into another
//   shard: sessions refer to each other by uid (shard in the top 8 bits).
// - Chains (trees of sessions) are kept in a table indexed by chain number; the root's shard would own them.
// - Per source: the reorder buffer (a min-heap of frozen events by (time, arrival)), the watermark, a deadline
//   heap (session closes and absence windows), and the lists of rules that apply to it.
#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "engine/interp.h"
#include "engine/matcher.h"
#include "ir/match_plan.h"
#include "input/convert.h"
#include "input/extract.h"
#include "input/reader.h"

namespace braid::rt {

using ir::NodeId;
using ir::Op;

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
constexpr uint64_t kNoSession = UINT64_MAX;
constexpr uint32_t kNoChain = UINT32_MAX;

uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kForever : kNever;
  return r;
}
int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? kNever : kForever;
  return r;
}

// A canonical byte encoding of a value (distinct sets, suppression keys). Equal values, equal encodings; strings
// and numbers never collide (tag byte first). Ints and floats with equal numeric value share an encoding.
void encode(const Value& v, std::string& out) {
  switch (v.tag) {
    case Tag::Null: out += 'N'; break;
    case Tag::Bool: out += v.b ? "T" : "F"; break;
    case Tag::Int:
      out += 'I';
      out.append(reinterpret_cast<const char*>(&v.i), 8);
      break;
    case Tag::Float: {
      double d = v.f;
      if (d == static_cast<double>(static_cast<int64_t>(d)) && d >= -9.2e18 && d <= 9.2e18) {
        int64_t i = static_cast<int64_t>(d);
        out += 'I';
        out.append(reinterpret_cast<const char*>(&i), 8);
      } else {
        out += 'D';
        out.append(reinterpret_cast<const char*>(&d), 8);
      }
      break;
    }
    case Tag::Time:
      out += 't';
      out.append(reinterpret_cast<const char*>(&v.i), 8);
      break;
    case Tag::Duration:
      out += 'd';
      out.append(reinterpret_cast<const char*>(&v.i), 8);
      break;
    case Tag::String:
    case Tag::Json: {
      out += v.tag == Tag::String ? 'S' : 'J';
      uint32_t n = v.len;
      out.append(reinterpret_cast<const char*>(&n), 4);
      out.append(v.s, v.len);
      break;
    }
    case Tag::List: {
      out += 'L';
      uint32_t n = v.len;
      out.append(reinterpret_cast<const char*>(&n), 4);
      for (uint32_t i = 0; i < v.len; ++i) encode(v.items[i], out);
      break;
    }
  }
}

// Deep copies of Values into owned storage (strings and list items), in two passes so that the storage never
// reallocates while pointers into it are being made.
struct Owned {
  Value v;
  std::string bytes;
  std::vector<Value> items;

  static void measure(const Value& x, size_t& b, size_t& n) {
    if (x.tag == Tag::String || x.tag == Tag::Json) b += x.len;
    if (x.tag == Tag::List) {
      n += x.len;
      for (uint32_t i = 0; i < x.len; ++i) measure(x.items[i], b, n);
    }
  }
  static Value copy(const Value& x, std::string& bytes, std::vector<Value>& items) {
    if (x.tag == Tag::String || x.tag == Tag::Json) {
      size_t off = bytes.size();
      bytes.append(x.s, x.len);
      Value r = x;
      r.s = bytes.data() + off;
      return r;
    }
    if (x.tag == Tag::List) {
      size_t base = items.size();
      items.resize(base + x.len);
      for (uint32_t i = 0; i < x.len; ++i) items[base + i] = copy(x.items[i], bytes, items);
      Value r = x;
      r.items = items.data() + base;
      return r;
    }
    return x;
  }
  void set(const Value& x) {
    size_t b = 0, n = 0;
    measure(x, b, n);
    bytes.clear();
    items.clear();
    bytes.reserve(b);
    items.reserve(n);
    v = copy(x, bytes, items);
  }
};

// distinct(): exact up to `bound` values, then saturated (a new value beyond the bound is not stored).
struct DistinctSet {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return fnv1a(s); }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> values;
  bool saturated = false;
  void add(const Value& v, uint32_t bound, std::string& scratch) {
    if (v.is_null()) return;
    scratch.clear();
    encode(v, scratch);
    if (values.find(std::string_view(scratch)) != values.end()) return;
    if (values.size() >= bound) {
      saturated = true;
      return;
    }
    values.emplace(scratch);
  }
  int64_t count() const { return static_cast<int64_t>(values.size()); }
};

// ---------------------------------------------------------------------------------------------------------------
// Rule state

struct AggState {
  uint64_t count = 0;
  DistinctSet set;
  Owned val;           // min/max/first/last
  bool has = false;    // val holds a value (min/max: a non-null one; first/last: an event matched)
  int64_t t = 0;       // first/last: the event time of val
  int64_t isum = 0;
  double fsum = 0;
  bool sum_float = false, sum_overflow = false;
};

struct SeqState {
  // stages[k]: partial matches of positives 0..k (k < m-1), as their start times (ascending). Sequences without a
  // trailing absence keep only the latest start (the best for the window); with one, every start in the window.
  std::vector<std::vector<int64_t>> stages;
  bool matched = false;
  int64_t pending = kNever;  // trailing absence: the earliest start of a complete positive match not yet killed
};

struct StepState {
  uint64_t count = 0;
  std::vector<std::string> ids;
};

struct RuleState {
  bool init = false;   // false: pristine (no step has matched yet); the vectors are allocated on first use
  bool fired = false;
  std::vector<StepState> steps;
  std::vector<AggState> aggs;
  std::vector<SeqState> seqs;
};

// ---------------------------------------------------------------------------------------------------------------
// Sessions and chains

struct Session {
  uint64_t uid = 0;
  uint32_t source = 0;
  std::string id, identity, credential;
  bool has_cred = false;
  int64_t start = 0, last = 0;
  uint64_t events = 0;
  DistinctSet ips;
  bool open = true;
  std::string key;  // the open-index key
  // chain
  uint64_t parent = kNoSession;
  std::string parent_event;  // id of the parent's event that minted this session's credential (or linked it)
  uint8_t link = 0;          // 0 root, 1 mint, 2 link
  uint32_t chain = kNoChain;
  uint32_t level = 0;        // hops from the root
  std::vector<RuleState> rules;  // per session rule of the source (freed at close)
};

struct Chain {
  uint64_t root = kNoSession;
  uint32_t open = 0;       // open sessions
  uint64_t sessions = 0;
  uint32_t max_level = 0;
  uint64_t deepest = kNoSession;
  uint64_t last_session = kNoSession;  // the session of the chain's latest event
  uint64_t events = 0;
  int64_t last_time = kNever;
  DistinctSet identities, accounts;
  std::vector<std::unique_ptr<RuleState>> rules;  // per chain rule (index in Impl::chain_rules)
};

struct MintRecord {
  uint64_t session = kNoSession;
  std::string event_id;
  int64_t time = 0;
};

struct Shard {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return fnv1a(s); }
  };
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> open;    // session key -> uid
  std::unordered_map<std::string, MintRecord, Hash, std::equal_to<>> mints;  // credential -> record
  std::deque<std::pair<int64_t, std::string>> mint_fifo;                   // (time, credential), for eviction
};

// Where a record came from, rendered only when a warning needs it (no per-event formatting).
struct Where {
  std::string_view name;
  uint64_t line = 0;
  const RecordReader* rd = nullptr;
  RecordOrigin origin;
  std::string str() const {
    if (rd) return rd->where(origin);
    std::string_view n = name.empty() ? std::string_view("<input>") : name;
    return line ? fmt::format("{}:{}", n, line) : std::string(n);
  }
};

// A held event: its converted slot values, deep-copied.
struct Frozen {
  int64_t time = 0;
  uint64_t seq = 0;
  std::string id;
  std::vector<Value> slots;
  std::string bytes;
  std::vector<Value> items;
};

struct FrozenLater {
  bool operator()(const Frozen* a, const Frozen* b) const {
    return a->time != b->time ? a->time > b->time : a->seq > b->seq;
  }
};

enum class DeadlineKind : uint8_t { SessionClose, SessionSeq, ChainSeq };
struct Deadline {
  int64_t time;
  uint64_t order;
  DeadlineKind kind;
  uint64_t target;  // session uid or chain index
  uint32_t rule;    // index into Impl::rules
  bool operator>(const Deadline& o) const { return time != o.time ? time > o.time : order > o.order; }
};

struct LinkRt {
  uint32_t parent_source = 0;
  const ir::Link* link = nullptr;
  std::unordered_map<std::string, MintRecord, Shard::Hash, std::equal_to<>> parents;  // key -> latest parent
  std::deque<std::pair<int64_t, std::string>> fifo;
};

struct RuleRt {
  const ir::Rule* r = nullptr;
  uint32_t stat = 0;          // index into stats.rules
  uint32_t state_slot = 0;    // session rules: index into Session::rules of its source; chain: into Chain::rules
  bool reads_attrs = false;   // the condition reads session/chain attributes: evaluate after every event
  bool eager = false;         // evaluate after each touching event (Monotone, or absence-decidable AtClose)
  bool window_decidable = false;  // AtClose, but monotone once its absence sequences are decided
  std::vector<std::vector<uint32_t>> step_aggs;  // step -> aggregates it feeds
  std::vector<std::string> expr_text;            // message part -> its text as written ("" for literals)
  std::unordered_map<std::string, int64_t, Shard::Hash, std::equal_to<>> suppress;
  size_t suppress_sweep_at = 1024;                // sweep expired keys when the map grows past this
  std::vector<std::string> saturated_names;      // aggregate -> "distinct(step.field)"
  std::vector<uint8_t> hits;                     // session/chain: steps the current event matched
  int8_t pristine = -1;                           // the condition on a pristine state (when it reads no
                                                  // attributes it is the same for every session): -1 unknown
  bool touched = false;                          // some step matched the current event
};

// A predicate of the match plan, resolved to the rule that runs it (kNone: the rule does not run).
struct PredTarget {
  uint32_t rule = ir::kNone;  // index into Impl::rules
  uint32_t step = ir::kNone;
};

struct SourceRt {
  const ir::Source* src = nullptr;
  int64_t max_seen = kNever;
  std::priority_queue<Frozen*, std::vector<Frozen*>, FrozenLater> buffer;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
  std::vector<uint32_t> event_rules, session_rules, chain_rules;  // indices into Impl::rules
  std::vector<uint32_t> links_as_parent, links_as_child;          // indices into Impl::links
  std::vector<uint32_t> recognize_slots;                          // slots `recognize` reads
  std::vector<PredTarget> preds;                                  // match-plan predicate id -> rule/step
  uint64_t released = 0;                                          // events through process_event
  int64_t watermark() const { return max_seen == kNever ? kNever : sat_sub(max_seen, src->lateness); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

struct Engine::Impl {
  const ir::Program& p;
  EngineOptions opt;
  Interpreter in;
  FieldExtractor ex;
  SlotConverter conv;
  AlertSink sink;
  EngineStats stats;
  bool finished = false;

  std::vector<SourceRt> sources;
  std::vector<RuleRt> rules;
  ir::MatchPlan plan;
  std::vector<uint32_t> match_ids, touched;  // the current event's matched predicates / touched rules
  std::vector<LinkRt> links;
  std::vector<Shard> shards{1};
  std::vector<std::unique_ptr<Session>> sessions;  // by uid (single shard: uid = index)
  std::vector<Chain> chains;
  std::vector<Value> conv_buf;                     // converted slots of the arriving event
  std::vector<std::unique_ptr<Frozen>> frozen_pool;
  uint64_t arrival = 0, deadline_order = 0;
  std::string scratch, key_buf, id_buf;
  uint64_t late_warnings = 0, malformed_warnings = 0, notime_warnings = 0;

  // The event being processed.
  struct Cur {
    uint32_t source = 0;
    const Value* slots = nullptr;
    int64_t time = 0;
    std::string_view id;
    Session* session = nullptr;
  } cur;

  Impl(const ir::Program& prog, EngineOptions o)
      : p(prog), opt(std::move(o)), in(prog), ex(prog), conv(prog) {}

  // ---- setup -------------------------------------------------------------------------------------------------

  void setup();
  static bool subtree_has(const ir::Program& p, NodeId id, Op op);
  bool mono_with_absence(const ir::Rule& r, NodeId id, bool pos) const;
  std::vector<std::string> split_message(const ir::Rule& r) const;

  // ---- input -------------------------------------------------------------------------------------------------

  void warn(uint64_t& counter, const std::string& line) {
    if (!opt.on_warning) return;
    if (counter++ < opt.max_warnings_per_kind) opt.on_warning(line);
  }
  void record(const Where& where);  // after a successful extraction
  void route_and_hold(uint32_t s, const Where& where);
  void release(uint32_t s, int64_t upto);
  void expire(uint32_t s, int64_t now);
  void process_event(uint32_t s, const Value* slots, int64_t time, std::string_view id, bool late);

  // ---- sessions and chains -----------------------------------------------------------------------------------

  Session* session_for(uint32_t s, const Value& identity, const Value& credential, int64_t t);
  void attach_parent(Session& child, const Value& credential);
  void close_session(Session& se, int64_t now);
  void close_chain(uint32_t c, int64_t now);
  void record_mints(uint32_t s, Session& se);
  void evict(int64_t now);

  // ---- rules -------------------------------------------------------------------------------------------------

  RuleState make_state(const RuleRt& rr) const;
  void feed(RuleRt& rr, RuleState& st, Session* se, Chain* ch, uint32_t rule_index);
  void feed_seq(const ir::Sequence& q, SeqState& ss, const std::vector<uint8_t>& matched, int64_t t);
  bool decide_seqs(const ir::Rule& r, RuleState& st, int64_t now, bool closing);
  void fire(uint32_t rule_index, RuleState* st, Session* se, Chain* ch, const char* decided, int64_t when,
            bool on_event);
  uint32_t match_predicates(uint32_t s, const Value* slots, const StateView* session, bool with_steps);
  // True when the rule's condition reads no session/chain attributes and is false on a pristine state: then it
  // is false for every session (chain) none of whose events matched a step, and need not be evaluated there.
  bool pristine_false(RuleRt& rr);
  // A source clause of source s on `slots`: native code when the matcher compiled it, else the interpreter.
  Value clause(uint32_t s, NodeId id, const Value* slots) {
    if (id == ir::kNoNode) return Value::null();
    Value v;
    if (opt.matcher && opt.matcher->eval(in, s, id, slots, v)) return v;
    EvalContext ctx{slots, in.field_slots(s), nullptr};
    return in.eval(id, ctx);
  }
  bool clause_true(uint32_t s, NodeId id, const Value* slots) {
    Value v = clause(s, id, slots);
    return v.tag == Tag::Bool && v.b;
  }
  static bool has_pending(const RuleState& st) {
    for (const SeqState& q : st.seqs)
      if (!q.matched && q.pending != kNever) return true;
    return false;
  }
};

// ---------------------------------------------------------------------------------------------------------------
// State views

namespace {

struct View : StateView {
  const Engine::Impl* e = nullptr;
  const ir::Rule* r = nullptr;
  const RuleState* st = nullptr;
  const Session* se = nullptr;
  const Chain* ch = nullptr;
  uint32_t distinct_bound = 0;

  Value attr(ir::Attribute a) const override;
  Value agg(uint32_t index) const override {
    if (!st || !r || index >= st->aggs.size()) return Value::null();
    const AggState& g = st->aggs[index];
    const ir::Aggregate& d = r->aggregates[index];
    switch (d.kind) {
      case ir::AggKind::Count: return Value::integer(static_cast<int64_t>(g.count));
      case ir::AggKind::Distinct: return Value::integer(g.set.count());
      case ir::AggKind::Sum:
        if (g.sum_overflow) return Value::null();
        if (d.type.kind == ir::Kind::Float || g.sum_float)
          return Value::floating(g.fsum + static_cast<double>(g.isum));
        if (d.type.kind == ir::Kind::Duration) return Value::duration(g.isum);
        return Value::integer(g.isum);
      default: return g.has ? g.val.v : Value::null();
    }
  }
  bool seq(uint32_t index) const override { return st && index < st->seqs.size() && st->seqs[index].matched; }
};

}  // namespace

// Attributes read the session `se` and the chain `ch` (chain.* null outside chain rules).
Value View::attr(ir::Attribute a) const {
  using A = ir::Attribute;
  switch (a) {
    case A::SessionId: return se ? Value::string(se->id) : Value::null();
    case A::SessionIdentity: return se ? Value::string(se->identity) : Value::null();
    case A::SessionCredential: return se && se->has_cred ? Value::string(se->credential) : Value::null();
    case A::SessionStart: return se ? Value::time(se->start) : Value::null();
    case A::SessionEnd: return se ? Value::time(se->last) : Value::null();
    case A::SessionDuration: return se ? Value::duration(se->last - se->start) : Value::null();
    case A::SessionEvents: return se ? Value::integer(static_cast<int64_t>(se->events)) : Value::null();
    case A::SessionSourceIps: return se ? Value::integer(se->ips.count()) : Value::null();
    default: break;
  }
  if (!ch || !e) return Value::null();
  const Session* root = e->sessions[ch->root].get();
  switch (a) {
    case A::ChainDepth: return Value::integer(ch->max_level);
    case A::ChainRootIdentity: return Value::string(root->identity);
    case A::ChainRootCredential: return root->has_cred ? Value::string(root->credential) : Value::null();
    case A::ChainRootStart: return Value::time(root->start);
    case A::ChainIdentities: return Value::integer(ch->identities.count());
    case A::ChainAccounts: return Value::integer(ch->accounts.count());
    default: return Value::null();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Setup

bool Engine::Impl::subtree_has(const ir::Program& prog, NodeId id, Op op) {
  if (id == ir::kNoNode) return false;
  const ir::Node& n = prog.node(id);
  if (n.op == op) return true;
  for (NodeId o : prog.ops(n))
    if (subtree_has(prog, o, op)) return true;
  return false;
}

// Is `id` (under polarity `pos`) monotone when every sequence, absence included, counts as monotone (a decided
// absence stays decided)? Conservative: anything not recognised is not.
bool Engine::Impl::mono_with_absence(const ir::Rule& r, NodeId id, bool pos) const {
  const ir::Node& n = p.node(id);
  auto is_static = [&](NodeId x) {
    return !subtree_has(p, x, Op::Agg) && !subtree_has(p, x, Op::Attr) && !subtree_has(p, x, Op::Seq);
  };
  // +1 grows, -1 shrinks, 0 other
  auto trend = [&](NodeId x) -> int {
    const ir::Node& m = p.node(x);
    if (m.op == Op::ToFloat) return 0;
    if (m.op == Op::Agg) {
      auto k = r.aggregates[static_cast<size_t>(m.imm)].kind;
      if (k == ir::AggKind::Count || k == ir::AggKind::Distinct || k == ir::AggKind::Max) return 1;
      if (k == ir::AggKind::Min) return -1;
      return 0;
    }
    if (m.op == Op::Attr) {
      using A = ir::Attribute;
      switch (static_cast<A>(m.imm)) {
        case A::SessionEvents: case A::SessionSourceIps: case A::SessionDuration: case A::SessionEnd:
        case A::ChainDepth: case A::ChainIdentities: case A::ChainAccounts: return 1;
        default: return 0;
      }
    }
    return 0;
  };
  switch (n.op) {
    case Op::Not: return mono_with_absence(r, p.op(n, 0), !pos);
    case Op::And:
    case Op::Or:
      for (NodeId o : p.ops(n))
        if (!mono_with_absence(r, o, pos)) return false;
      return true;
    case Op::Seq: return pos;
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: {
      NodeId a = p.op(n, 0), b = p.op(n, 1);
      if (is_static(a) && is_static(b)) return true;
      Op op = n.op;
      NodeId var = a;
      if (is_static(a)) {
        var = b;
        op = op == Op::Lt ? Op::Gt : op == Op::Le ? Op::Ge : op == Op::Gt ? Op::Lt : Op::Le;
      } else if (!is_static(b)) {
        return false;
      }
      while (p.node(var).op == Op::ToFloat) var = p.op(p.node(var), 0);
      int t = trend(var);
      bool up = op == Op::Gt || op == Op::Ge;
      if (t == 1) return pos == up;
      if (t == -1) return pos != up;
      return false;
    }
    default: return is_static(id);
  }
}

// The text of each interpolation as written, recovered from the unescaped template by matching the literal
// parts in order; falls back to the IR dump when the template cannot be matched.
std::vector<std::string> Engine::Impl::split_message(const ir::Rule& r) const {
  std::vector<std::string> out(r.message.size());
  std::string_view raw = r.message_raw;
  size_t pos = 0;
  bool ok = true;
  for (size_t i = 0; i < r.message.size() && ok; ++i) {
    const auto& part = r.message[i];
    if (part.expr == ir::kNoNode) {
      if (raw.substr(pos, part.literal.size()) != part.literal) ok = false;
      pos += part.literal.size();
      continue;
    }
    if (pos >= raw.size() || raw[pos] != '{') {
      ok = false;
      break;
    }
    size_t end;
    if (i + 1 < r.message.size()) {
      const auto& next = r.message[i + 1];
      std::string needle = "}" + (next.expr == ir::kNoNode ? next.literal : std::string("{"));
      end = raw.find(needle, pos + 1);
    } else {
      end = raw.empty() || raw.back() != '}' ? std::string_view::npos : raw.size() - 1;
    }
    if (end == std::string_view::npos || end < pos + 1) {
      ok = false;
      break;
    }
    std::string_view inner = raw.substr(pos + 1, end - pos - 1);
    while (!inner.empty() && (inner.front() == ' ' || inner.front() == '\t')) inner.remove_prefix(1);
    while (!inner.empty() && (inner.back() == ' ' || inner.back() == '\t')) inner.remove_suffix(1);
    out[i] = std::string(inner);
    pos = end + 1;
  }
  if (!ok || pos != raw.size()) {
    for (size_t i = 0; i < r.message.size(); ++i)
      out[i] = r.message[i].expr == ir::kNoNode ? std::string() : ir::dump_expr(p, r.message[i].expr);
  }
  return out;
}

bool Engine::Impl::pristine_false(RuleRt& rr) {
  if (rr.reads_attrs) return false;
  if (rr.pristine < 0) {
    RuleState st = make_state(rr);
    View v;
    v.e = this, v.r = rr.r, v.st = &st;
    EvalContext ctx{nullptr, nullptr, &v};
    rr.pristine = in.test(rr.r->condition, ctx) ? 1 : 0;
  }
  return rr.pristine == 0;
}

void Engine::Impl::setup() {
  sources.resize(p.sources.size());
  stats.sources.resize(p.sources.size());
  for (size_t s = 0; s < p.sources.size(); ++s) {
    sources[s].src = &p.sources[s];
    stats.sources[s].name = p.sources[s].name;
  }
  size_t max_slots = 0;
  for (const auto& s : p.sources) max_slots = std::max(max_slots, s.slots.size());
  conv_buf.resize(max_slots + 1);

  for (size_t s = 0; s < p.sources.size(); ++s) {
    for (const auto& l : p.sources[s].links) {
      LinkRt lr;
      lr.parent_source = static_cast<uint32_t>(s);
      lr.link = &l;
      auto li = static_cast<uint32_t>(links.size());
      links.push_back(std::move(lr));
      sources[s].links_as_parent.push_back(li);
      if (l.target < sources.size()) sources[l.target].links_as_child.push_back(li);
    }
  }

  for (size_t s = 0; s < p.sources.size(); ++s) {
    std::vector<NodeId> stack{p.sources[s].recognize};
    auto& out = sources[s].recognize_slots;
    while (!stack.empty()) {
      NodeId id = stack.back();
      stack.pop_back();
      if (id == ir::kNoNode) continue;
      const ir::Node& n = p.node(id);
      if (n.op == Op::Field) {
        uint32_t slot = in.field_slots(static_cast<uint32_t>(s))[static_cast<size_t>(n.imm)];
        if (slot != ir::kNone && std::find(out.begin(), out.end(), slot) == out.end()) out.push_back(slot);
      }
      for (NodeId o : p.ops(n)) stack.push_back(o);
    }
  }
  uint32_t chain_slot = 0;
  for (const auto& r : p.rules) {
    bool named = std::find(opt.only_rules.begin(), opt.only_rules.end(), r.id) != opt.only_rules.end();
    if (!opt.only_rules.empty() && !named) continue;
    if (!r.meta.enabled && !(named && opt.include_disabled)) continue;
    if (r.scope == ir::Scope::Event ? r.condition == ir::kNoNode : false) continue;
    RuleRt rr;
    rr.r = &r;
    rr.stat = static_cast<uint32_t>(stats.rules.size());
    stats.rules.push_back(RuleStats{r.id, 0, 0, 0, 0});
    rr.reads_attrs = subtree_has(p, r.condition, Op::Attr);
    bool has_absence = false;
    for (const auto& q : r.sequences) has_absence = has_absence || q.has_absence();
    rr.window_decidable = r.firing == ir::Firing::AtClose && has_absence && r.condition != ir::kNoNode &&
                          mono_with_absence(r, r.condition, true);
    rr.eager = r.firing == ir::Firing::Monotone || rr.window_decidable;
    rr.step_aggs.resize(r.steps.size());
    for (size_t a = 0; a < r.aggregates.size(); ++a) {
      const auto& g = r.aggregates[a];
      if (g.step < r.steps.size()) rr.step_aggs[g.step].push_back(static_cast<uint32_t>(a));
      std::string name;
      if (g.kind == ir::AggKind::Distinct) {
        name = "distinct(" + (g.step < r.steps.size() ? r.steps[g.step].label : std::string("?"));
        if (g.field < p.fields.size()) name += "." + p.fields[g.field].text;
        name += ")";
      }
      rr.saturated_names.push_back(std::move(name));
    }
    rr.expr_text = split_message(r);
    auto ri = static_cast<uint32_t>(rules.size());
    if (r.scope == ir::Scope::Chain) rr.state_slot = chain_slot++;
    rules.push_back(std::move(rr));
    for (uint32_t s : r.sources) {
      if (s >= sources.size()) continue;
      auto& sr = sources[s];
      if (r.scope == ir::Scope::Event) sr.event_rules.push_back(ri);
      else if (r.scope == ir::Scope::Session) sr.session_rules.push_back(ri);
      else sr.chain_rules.push_back(ri);
    }
  }
  // Session-rule state lives in Session::rules at the rule's position in its source's session_rules list.

  // The match plan, resolved to the rules that run.
  plan = ir::build_match_plan(p);
  std::vector<uint32_t> rt_of(p.rules.size(), ir::kNone);
  for (uint32_t ri = 0; ri < rules.size(); ++ri) {
    rt_of[static_cast<size_t>(rules[ri].r - p.rules.data())] = ri;
    rules[ri].hits.assign(rules[ri].r->steps.size(), 0);
  }
  size_t most = 0;
  for (size_t s = 0; s < p.sources.size(); ++s) {
    for (const ir::Predicate& pr : plan.sources[s].predicates)
      sources[s].preds.push_back(PredTarget{rt_of[pr.rule], pr.step});
    most = std::max(most, plan.sources[s].predicates.size());
  }
  match_ids.resize(most + 1);
}

// The predicates of source `s` that hold for the current event, as sorted ids into match_ids (so rules act in
// program order whichever evaluator found them).
uint32_t Engine::Impl::match_predicates(uint32_t s, const Value* slots, const StateView* session, bool with_steps) {
  uint32_t n = 0;
  if (opt.matcher) {
    n = opt.matcher->match(in, s, slots, session, match_ids.data());
    std::sort(match_ids.begin(), match_ids.begin() + n);
    return n;
  }
  // The reference: every predicate of every running rule, one at a time.
  EvalContext ctx{slots, in.field_slots(s), session};
  const auto& preds = plan.sources[s].predicates;
  for (uint32_t k = 0; k < preds.size(); ++k) {
    const PredTarget& t = sources[s].preds[k];
    if (t.rule == ir::kNone || (t.step != ir::kNone && !with_steps)) continue;
    RuleRt& rr = rules[t.rule];
    auto t0 = opt.rule_timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    if (in.test(preds[k].node, ctx)) match_ids[n++] = k;
    if (opt.rule_timing)
      stats.rules[rr.stat].nanos += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Input

void Engine::Impl::record(const Where& where) {
  ++stats.events_parsed;
  conv.begin_event();
  in.reset();
  auto fields = ex.values();
  // Route: the first source, in program order, whose `recognize` holds (evaluated on the fields it reads,
  // converted to that source's schema; the full conversion happens for the chosen source only).
  for (uint32_t s = 0; s < p.sources.size(); ++s) {
    const ir::Source& src = p.sources[s];
    if (src.recognize == ir::kNoNode) continue;
    for (uint32_t slot : sources[s].recognize_slots)
      conv_buf[slot] = conv.convert_value(fields[src.slots[slot].field], src.slots[slot].type);
    int hit = opt.matcher ? opt.matcher->recognize(in, s, conv_buf.data()) : -1;
    if (hit < 0) {
      EvalContext ctx{conv_buf.data(), in.field_slots(s), nullptr};
      hit = in.test(src.recognize, ctx) ? 1 : 0;
    }
    if (!hit) continue;
    conv.convert(s, fields, std::span<Value>(conv_buf.data(), conv_buf.size()));
    route_and_hold(s, where);
    return;
  }
  ++stats.unrouted;
}

void Engine::Impl::route_and_hold(uint32_t s, const Where& where) {
  SourceRt& sr = sources[s];
  const ir::Source& src = *sr.src;
  ++stats.sources[s].events;
  Value tv = clause(s, src.time, conv_buf.data());
  if (tv.tag != Tag::Time) {
    ++stats.no_time;
    warn(notime_warnings,
         fmt::format("{}: event of source {} has no time (`time` is null); skipped", where.str(), src.name));
    return;
  }
  int64_t t = tv.i;
  // The event id: the source's `id`, else a hash of the converted slot values.
  std::string& id = id_buf;
  Value iv = clause(s, src.id, conv_buf.data());
  if (iv.tag == Tag::String) {
    id.assign(iv.s, iv.len);
  } else {
    scratch.clear();
    for (size_t i = 0; i < src.slots.size(); ++i) encode(conv_buf[i], scratch);
    id.clear();
    fmt::format_to(std::back_inserter(id), "h{:016x}", fnv1a(scratch));
  }
  int64_t w = sr.watermark();
  if (w != kNever && t < w) {
    ++stats.late;
    ++stats.sources[s].late;
    warn(late_warnings,
         fmt::format("{}: late event {} of source {}: time {} is {} before the watermark {} (lateness {})",
                     where.str(), id, src.name, format_time_rfc3339(t),
                     format_duration(w - t), format_time_rfc3339(w), format_duration(src.lateness)));
    process_event(s, conv_buf.data(), t, id, true);
    return;
  }
  if (sr.max_seen == kNever || t > sr.max_seen) sr.max_seen = t;
  int64_t nw = sr.watermark();
  if (sr.buffer.empty() && t <= nw) {
    // In order and already past the watermark: no need to hold it.
    expire(s, t);
    process_event(s, conv_buf.data(), t, id, false);
    expire(s, nw);
    return;
  }
  // Hold a deep copy until the watermark reaches it.
  std::unique_ptr<Frozen> f;
  if (!frozen_pool.empty()) {
    f = std::move(frozen_pool.back());
    frozen_pool.pop_back();
  } else {
    f = std::make_unique<Frozen>();
  }
  f->time = t;
  f->seq = arrival++;
  f->id = id;
  size_t nslots = src.slots.size();
  size_t b = 0, n = 0;
  for (size_t i = 0; i < nslots; ++i) Owned::measure(conv_buf[i], b, n);
  f->bytes.clear();
  f->items.clear();
  f->bytes.reserve(b);
  f->items.reserve(n);
  f->slots.resize(nslots + 1);
  for (size_t i = 0; i < nslots; ++i) f->slots[i] = Owned::copy(conv_buf[i], f->bytes, f->items);
  sr.buffer.push(f.release());
  release(s, nw);
}

// Releases held events of source s with time <= upto, in (time, arrival) order, expiring deadlines before each.
void Engine::Impl::release(uint32_t s, int64_t upto) {
  SourceRt& sr = sources[s];
  while (!sr.buffer.empty() && sr.buffer.top()->time <= upto) {
    std::unique_ptr<Frozen> f(sr.buffer.top());
    sr.buffer.pop();
    expire(s, f->time);
    in.reset();
    process_event(s, f->slots.data(), f->time, f->id, false);
    frozen_pool.push_back(std::move(f));
  }
  expire(s, upto);
}

// Handles every deadline of source s strictly before `now`: session closes and absence windows.
void Engine::Impl::expire(uint32_t s, int64_t now) {
  SourceRt& sr = sources[s];
  while (!sr.deadlines.empty() && sr.deadlines.top().time < now) {
    Deadline d = sr.deadlines.top();
    sr.deadlines.pop();
    if (d.kind == DeadlineKind::SessionClose) {
      Session& se = *sessions[d.target];
      if (!se.open) continue;
      const ir::Source& src = *sr.src;
      int64_t due = std::min(sat_add(se.last, src.session_gap), sat_add(se.start, src.session_max));
      if (due != d.time) continue;  // stale: the session was extended
      close_session(se, d.time);
      continue;
    }
    RuleRt& rr = rules[d.rule];
    RuleState* st = nullptr;
    Session* se = nullptr;
    Chain* ch = nullptr;
    if (d.kind == DeadlineKind::SessionSeq) {
      se = sessions[d.target].get();
      if (!se->open) continue;
      // find the rule's slot in the session's source
      auto& list = sources[se->source].session_rules;
      auto it = std::find(list.begin(), list.end(), d.rule);
      if (it == list.end()) continue;
      st = &se->rules[static_cast<size_t>(it - list.begin())];
    } else {
      ch = &chains[d.target];
      st = ch->rules[rr.state_slot].get();
      if (!st) continue;
      se = ch->last_session == kNoSession ? nullptr : sessions[ch->last_session].get();
    }
    if (st->fired) continue;
    if (decide_seqs(*rr.r, *st, d.time + 1, false) && rr.window_decidable) {
      View v;
      v.e = this, v.r = rr.r, v.st = st, v.se = se, v.ch = ch;
      EvalContext ctx{nullptr, nullptr, &v};
      ++stats.rules[rr.stat].evaluations;
      if (in.test(rr.r->condition, ctx)) fire(d.rule, st, se, ch, "window", d.time, false);
    }
  }
  if (now != kForever) evict(now);  // (end of input evicts nothing: nothing can use the records any more)
}

// Minted-credential and link-parent records older than the retention (event time) are evicted.
void Engine::Impl::evict(int64_t now) {
  int64_t limit = sat_sub(now, opt.mint_retention);
  for (auto& sh : shards) {
    while (!sh.mint_fifo.empty() && sh.mint_fifo.front().first < limit) {
      auto it = sh.mints.find(std::string_view(sh.mint_fifo.front().second));
      if (it != sh.mints.end() && it->second.time == sh.mint_fifo.front().first) {
        sh.mints.erase(it);
        ++stats.mints_evicted;
      }
      sh.mint_fifo.pop_front();
    }
  }
  for (auto& l : links) {
    // A parent can still be claimed by any child event the TARGET source has not released yet, so it is kept
    // until the target's watermark has passed it by the link window. (Using the releasing source's clock lost
    // Okta -> AWS links whenever CloudTrail lagged behind Okta.) The retention bounds memory when the target
    // source is quiet.
    int64_t tw = sources[l.link->target].watermark();
    int64_t ll = sat_sub(now, opt.mint_retention);
    if (tw != kNever) ll = std::max(ll, std::min(sat_sub(tw, l.link->within), sat_sub(now, l.link->within)));
    while (!l.fifo.empty() && l.fifo.front().first < ll) {
      auto it = l.parents.find(std::string_view(l.fifo.front().second));
      if (it != l.parents.end() && it->second.time == l.fifo.front().first) {
        l.parents.erase(it);
        ++stats.link_parents_evicted;
      }
      l.fifo.pop_front();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One released (or late) event

void Engine::Impl::process_event(uint32_t s, const Value* slots, int64_t t, std::string_view id, bool late) {
  SourceRt& sr = sources[s];
  const ir::Source& src = *sr.src;
  cur = Cur{s, slots, t, id, nullptr};

  Session* se = nullptr;
  if (!late) {
    Value ident = clause(s, src.identity, slots);
    if (ident.tag != Tag::String) {
      ++stats.no_identity;
      ++stats.sources[s].no_identity;
    } else {
      Value cred = clause(s, src.credential, slots);
      se = session_for(s, ident, cred, t);
    }
  }
  cur.session = se;
  Chain* ch = se ? &chains[se->chain] : nullptr;
  if (se) {
    ++se->events;
    se->last = std::max(se->last, t);
    if (src.ip != ir::kNoNode) se->ips.add(clause(s, src.ip, slots), opt.distinct_bound, scratch);
    ch->events++;
    ch->last_time = std::max(ch->last_time, t);
    ch->last_session = se->uid;
    ch->identities.add(Value::string(se->identity), opt.distinct_bound, scratch);
    if (src.account != ir::kNoNode) ch->accounts.add(clause(s, src.account, slots), opt.distinct_bound, scratch);
    sr.deadlines.push(Deadline{std::min(sat_add(se->last, src.session_gap), sat_add(se->start, src.session_max)),
                               deadline_order++, DeadlineKind::SessionClose, se->uid, 0});
  }

  // Which predicates hold: event rules fire in program order; session/chain rules get their matched steps.
  ++sr.released;
  View sv;
  sv.e = this, sv.se = se;
  uint32_t nm = match_predicates(s, slots, &sv, se != nullptr);
  for (uint32_t i = 0; i < nm; ++i) {
    const PredTarget& tg = sr.preds[match_ids[i]];
    if (tg.rule == ir::kNone) continue;
    RuleRt& rr = rules[tg.rule];
    if (tg.step == ir::kNone) {
      fire(tg.rule, nullptr, se, nullptr, "event", t, true);
    } else if (se) {
      rr.hits[tg.step] = 1;
      if (!rr.touched) {
        rr.touched = true;
        touched.push_back(tg.rule);
      }
    }
  }
  if (!se) return;

  // Session rules. A rule no step of which matched only needs a visit if its condition reads session
  // attributes (they changed) or an absence window is pending (it may have ended).
  for (size_t k = 0; k < sr.session_rules.size(); ++k) {
    uint32_t ri = sr.session_rules[k];
    RuleRt& rr = rules[ri];
    RuleState& st = se->rules[k];
    if (st.fired || (!rr.touched && !rr.reads_attrs && !has_pending(st))) continue;
    if (!st.init) st = make_state(rr);
    auto t0 = opt.rule_timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    feed(rr, st, se, nullptr, ri);
    if (opt.rule_timing)
      stats.rules[rr.stat].nanos += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  }
  // Chain rules.
  for (uint32_t ri : sr.chain_rules) {
    RuleRt& rr = rules[ri];
    if (!rr.touched && !rr.reads_attrs &&
        (ch->rules.size() <= rr.state_slot || !ch->rules[rr.state_slot] || !has_pending(*ch->rules[rr.state_slot])))
      continue;  // pristine or nothing to do: the state is created on the first step match
    if (ch->rules.size() <= rr.state_slot) ch->rules.resize(rr.state_slot + 1);
    if (!ch->rules[rr.state_slot]) ch->rules[rr.state_slot] = std::make_unique<RuleState>(make_state(rr));
    RuleState& st = *ch->rules[rr.state_slot];
    if (st.fired) continue;
    auto t0 = opt.rule_timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    feed(rr, st, se, ch, ri);
    if (opt.rule_timing)
      stats.rules[rr.stat].nanos += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  }
  for (uint32_t ri : touched) {
    std::fill(rules[ri].hits.begin(), rules[ri].hits.end(), 0);
    rules[ri].touched = false;
  }
  touched.clear();

  record_mints(s, *se);
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions and chains

Session* Engine::Impl::session_for(uint32_t s, const Value& identity, const Value& credential, int64_t t) {
  const ir::Source& src = p.sources[s];
  bool has_cred = credential.tag == Tag::String;
  key_buf.clear();
  key_buf.append(reinterpret_cast<const char*>(&s), 4);
  key_buf.append(identity.s, identity.len);
  key_buf += '\0';
  if (has_cred) {
    key_buf += 'C';
    key_buf.append(credential.s, credential.len);
  } else {
    key_buf += 'N';
  }
  Shard& sh = shards[0];  // shard = hash(credential or identity) % shards.size(); one shard today
  auto it = sh.open.find(std::string_view(key_buf));
  if (it != sh.open.end()) {
    Session* se = sessions[it->second].get();
    // Expired sessions were closed by expire() before this event; an open one is extended by it.
    if (t - se->last <= src.session_gap && t - se->start <= src.session_max) return se;
    close_session(*se, t);
  }
  auto se = std::make_unique<Session>();
  se->uid = sessions.size();
  se->source = s;
  se->identity.assign(identity.s, identity.len);
  se->has_cred = has_cred;
  if (has_cred) se->credential.assign(credential.s, credential.len);
  se->start = se->last = t;
  se->key = key_buf;
  scratch.clear();
  scratch += src.name;
  scratch += '\0';
  scratch += key_buf;
  scratch.append(reinterpret_cast<const char*>(&t), 8);
  se->id = fmt::format("{:016x}", fnv1a(scratch));
  se->rules.resize(sources[s].session_rules.size());  // pristine: allocated when a rule is first fed
  Session* raw = se.get();
  sessions.push_back(std::move(se));
  sh.open[key_buf] = raw->uid;
  ++stats.sessions_opened;
  ++stats.sources[s].sessions_opened;
  attach_parent(*raw, credential);
  return raw;
}

// A new session becomes the child of the session that minted its credential, else of the latest matching link
// parent within the link's window (its first event decides); otherwise it roots a new chain.
void Engine::Impl::attach_parent(Session& child, const Value& credential) {
  uint64_t parent = kNoSession;
  std::string parent_event;
  uint8_t how = 0;
  if (child.has_cred) {
    Shard& sh = shards[0];  // the shard of hash(credential)
    auto it = sh.mints.find(std::string_view(credential.s, credential.len));
    if (it != sh.mints.end() && it->second.time <= child.start &&
        child.start - it->second.time <= opt.mint_retention && it->second.session != child.uid) {
      parent = it->second.session;
      parent_event = it->second.event_id;
      how = 1;
    }
  }
  if (parent == kNoSession) {
    for (uint32_t li : sources[child.source].links_as_child) {
      LinkRt& l = links[li];
      if (l.link->child_when != ir::kNoNode && !clause_true(child.source, l.link->child_when, cur.slots)) continue;
      Value k = clause(child.source, l.link->child_key, cur.slots);
      if (k.is_null()) continue;
      scratch.clear();
      encode(k, scratch);
      auto it = l.parents.find(std::string_view(scratch));
      if (it == l.parents.end()) continue;
      const MintRecord& m = it->second;
      if (m.time > child.start || child.start - m.time > l.link->within || m.session == child.uid) continue;
      parent = m.session;
      parent_event = m.event_id;
      how = 2;
      break;
    }
  }
  if (parent == kNoSession) {
    child.chain = static_cast<uint32_t>(chains.size());
    chains.emplace_back();
    Chain& c = chains.back();
    c.root = c.deepest = c.last_session = child.uid;
    c.open = 1;
    c.sessions = 1;
    stats.chain_max_depth = std::max<uint64_t>(stats.chain_max_depth, 1);
    return;
  }
  Session& ps = *sessions[parent];
  child.parent = parent;
  child.parent_event = std::move(parent_event);
  child.link = how;
  child.chain = ps.chain;
  child.level = ps.level + 1;
  Chain& c = chains[ps.chain];
  if (c.sessions == 1) ++stats.chains;
  ++c.sessions;
  ++c.open;
  ++stats.chain_links;
  if (child.level > c.max_level) {
    c.max_level = child.level;
    c.deepest = child.uid;
  }
  stats.chain_max_depth = std::max<uint64_t>(stats.chain_max_depth, c.max_level + 1);
}

void Engine::Impl::record_mints(uint32_t s, Session& se) {
  const ir::Source& src = p.sources[s];
  for (const auto& m : src.mints) {
    if (m.when != ir::kNoNode && !clause_true(s, m.when, cur.slots)) continue;
    Value k = clause(s, m.credential, cur.slots);
    if (k.tag != Tag::String || k.len == 0) continue;
    Shard& sh = shards[0];  // route by hash(credential)
    std::string key(k.s, k.len);
    sh.mints[key] = MintRecord{se.uid, std::string(cur.id), cur.time};
    sh.mint_fifo.emplace_back(cur.time, std::move(key));
    ++stats.mints_recorded;
  }
  for (uint32_t li : sources[s].links_as_parent) {
    LinkRt& l = links[li];
    if (l.link->parent_when != ir::kNoNode && !clause_true(s, l.link->parent_when, cur.slots)) continue;
    Value k = clause(s, l.link->parent_key, cur.slots);
    if (k.is_null()) continue;
    scratch.clear();
    encode(k, scratch);
    auto& rec = l.parents[scratch];
    if (rec.session == kNoSession || rec.time <= cur.time) rec = MintRecord{se.uid, std::string(cur.id), cur.time};
    l.fifo.emplace_back(cur.time, scratch);
    ++stats.link_parents_recorded;
  }
}

void Engine::Impl::close_session(Session& se, int64_t now) {
  if (!se.open) return;
  (void)now;
  auto& sr = sources[se.source];
  // At-close session rules decide over the whole session.
  for (size_t k = 0; k < sr.session_rules.size(); ++k) {
    uint32_t ri = sr.session_rules[k];
    RuleRt& rr = rules[ri];
    RuleState& st = se.rules[k];
    if (st.fired) continue;
    if (!st.init) {
      if (pristine_false(rr)) continue;  // the same answer for every untouched session: no
      st = make_state(rr);
    }
    decide_seqs(*rr.r, st, kForever, true);
    View v;
    v.e = this, v.r = rr.r, v.st = &st, v.se = &se;
    EvalContext ctx{nullptr, nullptr, &v};
    ++stats.rules[rr.stat].evaluations;
    if (in.test(rr.r->condition, ctx)) fire(ri, &st, &se, nullptr, "close", se.last, false);
  }
  se.open = false;
  // Closed sessions keep only what chain paths and chains() need.
  se.rules.clear();
  se.rules.shrink_to_fit();
  DistinctSet().values.swap(se.ips.values);
  shards[0].open.erase(se.key);
  std::string().swap(se.key);
  ++stats.sessions_closed;
  ++stats.sources[se.source].sessions_closed;
  Chain& c = chains[se.chain];
  if (c.open > 0 && --c.open == 0) close_chain(se.chain, now);
}

// A chain closes when its last open session closes; if a session joins it later, it reopens and is decided
// again at its next close (chain rules still fire at most once per chain).
void Engine::Impl::close_chain(uint32_t ci, int64_t) {
  Chain& c = chains[ci];
  for (size_t ri = 0; ri < rules.size(); ++ri) {
    RuleRt& rr = rules[ri];
    if (rr.r->scope != ir::Scope::Chain) continue;
    if (c.rules.size() <= rr.state_slot || !c.rules[rr.state_slot]) {
      if (pristine_false(rr)) continue;
      if (c.rules.size() <= rr.state_slot) c.rules.resize(rr.state_slot + 1);
      c.rules[rr.state_slot] = std::make_unique<RuleState>(make_state(rr));
    }
    RuleState& st = *c.rules[rr.state_slot];
    if (st.fired) continue;
    decide_seqs(*rr.r, st, kForever, true);
    Session* se = sessions[c.deepest].get();
    View v;
    v.e = this, v.r = rr.r, v.st = &st, v.se = sessions[c.last_session].get(), v.ch = &c;
    EvalContext ctx{nullptr, nullptr, &v};
    ++stats.rules[rr.stat].evaluations;
    if (in.test(rr.r->condition, ctx)) fire(static_cast<uint32_t>(ri), &st, se, &c, "close", c.last_time, false);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rule state

RuleState Engine::Impl::make_state(const RuleRt& rr) const {
  RuleState st;
  st.init = true;
  st.steps.resize(rr.r->steps.size());
  st.aggs.resize(rr.r->aggregates.size());
  st.seqs.resize(rr.r->sequences.size());
  for (size_t q = 0; q < rr.r->sequences.size(); ++q) {
    size_t m = 0;
    for (const auto& it : rr.r->sequences[q].items) m += it.absent ? 0 : 1;
    st.seqs[q].stages.resize(m > 0 ? m - 1 : 0);
  }
  return st;
}

// Steps, aggregates and sequences of one rule for the current event; then eager rules evaluate their condition.
void Engine::Impl::feed(RuleRt& rr, RuleState& st, Session* se, Chain* ch, uint32_t ri) {
  const ir::Rule& r = *rr.r;
  View sv;
  sv.e = this, sv.se = se, sv.ch = ch;
  EvalContext ctx{cur.slots, in.field_slots(cur.source), &sv};
  const std::vector<uint8_t>& matched = rr.hits;  // filled by process_event from the match plan
  const bool any = rr.touched;
  ++stats.rules[rr.stat].evaluations;
  // Absence windows that ended before this event are decided first (the event cannot be inside them).
  bool newly = decide_seqs(r, st, cur.time, false);
  if (any) {
    for (size_t i = 0; i < r.steps.size(); ++i) {
      if (!matched[i]) continue;
      StepState& ss = st.steps[i];
      ++ss.count;
      if (ss.ids.size() < opt.step_event_ids) ss.ids.emplace_back(cur.id);
      for (uint32_t a : rr.step_aggs[i]) {
        const ir::Aggregate& d = r.aggregates[a];
        AggState& g = st.aggs[a];
        if (d.kind == ir::AggKind::Count) {
          ++g.count;
          continue;
        }
        Value v = d.value == ir::kNoNode ? Value::null() : in.eval(d.value, ctx);
        switch (d.kind) {
          case ir::AggKind::Distinct: g.set.add(v, opt.distinct_bound, scratch); break;
          case ir::AggKind::Sum:
            if (v.tag == Tag::Int || v.tag == Tag::Duration) {
              if (__builtin_add_overflow(g.isum, v.i, &g.isum)) g.sum_overflow = true;
            } else if (v.tag == Tag::Float) {
              g.fsum += v.f;
              g.sum_float = true;
            }
            break;
          case ir::AggKind::Min:
          case ir::AggKind::Max: {
            if (v.is_null()) break;
            if (!g.has) {
              g.val.set(v);
              g.has = true;
              break;
            }
            auto c = compare_values(v, g.val.v, false, false);
            if (c && ((d.kind == ir::AggKind::Min && *c < 0) || (d.kind == ir::AggKind::Max && *c > 0))) g.val.set(v);
            break;
          }
          case ir::AggKind::First:
            if (!g.has || cur.time < g.t) {
              g.val.set(v);
              g.t = cur.time;
              g.has = true;
            }
            break;
          case ir::AggKind::Last:
            if (!g.has || cur.time >= g.t) {
              g.val.set(v);
              g.t = cur.time;
              g.has = true;
            }
            break;
          default: break;
        }
      }
    }
    for (size_t q = 0; q < r.sequences.size(); ++q) {
      bool was = st.seqs[q].matched;
      int64_t pending = st.seqs[q].pending;
      feed_seq(r.sequences[q], st.seqs[q], matched, cur.time);
      if (!was && st.seqs[q].matched) newly = true;
      if (st.seqs[q].pending != kNever && st.seqs[q].pending != pending && r.sequences[q].within) {
        // Wake up when the absence window of the pending match ends.
        Deadline d{sat_add(st.seqs[q].pending, *r.sequences[q].within), deadline_order++,
                   ch ? DeadlineKind::ChainSeq : DeadlineKind::SessionSeq, ch ? se->chain : se->uid, ri};
        sources[cur.source].deadlines.push(d);
      }
    }
  }
  if (!rr.eager || (!any && !rr.reads_attrs && !newly)) return;
  View v;
  v.e = this, v.r = &r, v.st = &st, v.se = se, v.ch = ch;
  EvalContext cctx{nullptr, nullptr, &v};
  if (in.test(r.condition, cctx)) fire(ri, &st, se, ch, "event", cur.time, true);
}

// The sequence automaton (see docs/language.md, Runtime semantics). Events arrive in event-time order.
void Engine::Impl::feed_seq(const ir::Sequence& q, SeqState& ss, const std::vector<uint8_t>& matched, int64_t t) {
  if (ss.matched) return;
  const int64_t D = q.within ? *q.within : kForever;
  const int64_t oldest = sat_sub(t, D);  // a start older than this cannot complete with this event
  // positives and the absent steps after each
  uint32_t pos[64];
  size_t m = 0;
  bool kill_after[65] = {};
  for (size_t i = 0; i < q.items.size() && m < 64; ++i) {
    const auto& it = q.items[i];
    if (!it.absent) {
      pos[m++] = it.step;
    } else if (m > 0 && matched[it.step]) {
      kill_after[m - 1] = true;  // an absent step between positive m-1 and m (or trailing) matched
    }
  }
  if (m == 0) return;
  const bool trailing = !q.items.empty() && q.items.back().absent;
  // Final positive (index m-1).
  if (trailing && kill_after[m - 1]) ss.pending = kNever;
  if (matched[pos[m - 1]]) {
    int64_t cand = kNever;
    bool ok = false;
    if (m == 1) {
      cand = t;
      ok = true;
    } else {
      auto& prev = ss.stages[m - 2];
      if (trailing) {
        for (int64_t s0 : prev)
          if (s0 >= oldest) {
            cand = s0;  // the earliest start still in the window: its absence window ends first
            ok = true;
            break;
          }
      } else if (!prev.empty() && prev.back() >= oldest) {
        cand = prev.back();
        ok = true;
      }
    }
    if (ok) {
      if (!trailing) {
        ss.matched = true;
        return;
      }
      if (ss.pending == kNever || cand < ss.pending) ss.pending = cand;
    }
  }
  // Intermediate stages, from the last to the first, so that one event fills at most one item.
  for (size_t k = m - 1; k-- > 0;) {
    auto& stage = ss.stages[k];
    if (kill_after[k]) stage.clear();
    if (!matched[pos[k]]) continue;
    if (k == 0) {
      if (trailing) {
        if (stage.empty() || stage.back() < t) stage.push_back(t);
      } else {
        stage.assign(1, t);
      }
      continue;
    }
    auto& prev = ss.stages[k - 1];
    if (trailing) {
      for (int64_t s0 : prev)
        if (s0 >= oldest) stage.push_back(s0);
      std::sort(stage.begin(), stage.end());
      stage.erase(std::unique(stage.begin(), stage.end()), stage.end());
    } else if (!prev.empty() && prev.back() >= oldest) {
      if (stage.empty() || stage.back() < prev.back()) stage.assign(1, prev.back());
    }
  }
  // Drop starts that can no longer complete; bound the rest.
  if (q.within) {
    for (auto& stage : ss.stages) {
      auto it = std::lower_bound(stage.begin(), stage.end(), oldest);
      stage.erase(stage.begin(), it);
    }
  }
  for (auto& stage : ss.stages)
    if (stage.size() > opt.distinct_bound) stage.erase(stage.begin(), stage.end() - opt.distinct_bound);
}

// Decides trailing absences: a pending match whose window ended before `now` (or every pending one when the
// session/chain closes) makes its sequence true. Returns whether some sequence became true.
bool Engine::Impl::decide_seqs(const ir::Rule& r, RuleState& st, int64_t now, bool closing) {
  bool any = false;
  for (size_t q = 0; q < r.sequences.size(); ++q) {
    SeqState& ss = st.seqs[q];
    if (ss.matched || ss.pending == kNever) continue;
    const auto& sq = r.sequences[q];
    bool decided = closing || (sq.within && sat_add(ss.pending, *sq.within) < now);
    if (decided) {
      ss.matched = true;
      any = true;
    }
  }
  return any;
}

// ---------------------------------------------------------------------------------------------------------------
// Alerts

namespace {

void render_text(const Value& v, std::string& out);

void render_json(const Value& v, std::string& out) {
  auto quote = [&](std::string_view s) {
    out += '"';
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
      else out += ch;
    }
    out += '"';
  };
  switch (v.tag) {
    case Tag::Null: out += "null"; break;
    case Tag::Bool: out += v.b ? "true" : "false"; break;
    case Tag::Int: out += std::to_string(v.i); break;
    case Tag::Float:
      if (std::isfinite(v.f)) out += fmt::format("{}", v.f);
      else out += "null";
      break;
    case Tag::Time: quote(format_time_rfc3339(v.i)); break;
    case Tag::Duration: quote(format_duration(v.i)); break;
    case Tag::String: quote(v.str()); break;
    case Tag::Json: out.append(v.s, v.len); break;
    case Tag::List:
      out += '[';
      for (uint32_t i = 0; i < v.len; ++i) {
        if (i) out += ',';
        render_json(v.items[i], out);
      }
      out += ']';
      break;
  }
}

void render_text(const Value& v, std::string& out) {
  switch (v.tag) {
    case Tag::String: out.append(v.s, v.len); break;
    case Tag::Time: out += format_time_rfc3339(v.i); break;
    case Tag::Duration: out += format_duration(v.i); break;
    default: render_json(v, out); break;
  }
}

}  // namespace

void Engine::Impl::fire(uint32_t ri, RuleState* st, Session* se, Chain* ch, const char* decided, int64_t when,
                        bool on_event) {
  RuleRt& rr = rules[ri];
  const ir::Rule& r = *rr.r;
  if (st) st->fired = true;
  // Message, values and suppression keys are evaluated in the rule's alert context.
  View v;
  v.e = this, v.r = &r, v.st = st, v.se = se, v.ch = ch;
  EvalContext ctx = r.scope == ir::Scope::Event ? EvalContext{cur.slots, in.field_slots(cur.source), &v}
                                                 : EvalContext{nullptr, nullptr, &v};
  if (r.suppress) {
    std::string key;
    for (NodeId k : r.suppress->keys) encode(in.eval(k, ctx), key);
    auto it = rr.suppress.find(std::string_view(key));
    if (it != rr.suppress.end()) {
      int64_t d = when >= it->second ? when - it->second : it->second - when;
      if (d < r.suppress->window) {
        ++stats.rules[rr.stat].suppressed;
        ++stats.suppressed;
        return;
      }
    }
    rr.suppress[key] = when;
    if (rr.suppress.size() > rr.suppress_sweep_at) {
      // Keys whose window has passed can never drop an alert again (event time moves forward per source).
      std::erase_if(rr.suppress, [&](const auto& kv) {
        int64_t age = when >= kv.second ? when - kv.second : 0;
        return age >= r.suppress->window;
      });
      rr.suppress_sweep_at = std::max<size_t>(1024, rr.suppress.size() * 2);
    }
  }
  Alert a;
  a.rule = r.id;
  a.title = r.meta.title;
  a.severity = r.meta.severity;
  a.attack = r.meta.attack;
  a.scope = r.scope;
  for (size_t i = 0; i < r.message.size(); ++i) {
    const auto& part = r.message[i];
    if (part.expr == ir::kNoNode) {
      a.message += part.literal;
      continue;
    }
    Value val = in.eval(part.expr, ctx);
    render_text(val, a.message);
    AlertValue av;
    av.expr = rr.expr_text[i];
    render_json(val, av.json);
    a.values.push_back(std::move(av));
  }
  a.event_time = when;
  if (opt.processing_time >= 0) {
    a.processing_time = opt.processing_time;
  } else {
    a.processing_time = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  }
  a.decided = decided;
  if (on_event) a.event_id = std::string(cur.id);
  a.source = on_event ? p.sources[cur.source].name : (se ? p.sources[se->source].name : std::string());
  if (se) {
    AlertSession s;
    s.id = se->id;
    s.identity = se->identity;
    if (se->has_cred) s.credential = se->credential;
    s.start = se->start;
    s.end = se->last;
    s.events = se->events;
    a.session = std::move(s);
    // The chain path, root first.
    std::vector<const Session*> path;
    for (const Session* x = se; x; x = x->parent == kNoSession ? nullptr : sessions[x->parent].get())
      path.push_back(x);
    std::reverse(path.begin(), path.end());
    for (size_t i = 0; i < path.size(); ++i) {
      const Session* x = path[i];
      ChainHop h;
      h.session_id = x->id;
      h.identity = x->identity;
      if (x->has_cred) h.credential = x->credential;
      h.source = p.sources[x->source].name;
      h.link = x->link == 1 ? "mint" : x->link == 2 ? "link" : "";
      if (i + 1 < path.size()) h.minted_by_event = path[i + 1]->parent_event;
      a.chain.push_back(std::move(h));
    }
  }
  if (st) {
    for (size_t i = 0; i < r.steps.size(); ++i)
      a.steps.push_back(StepMatch{r.steps[i].label, st->steps[i].count, st->steps[i].ids});
    for (size_t g = 0; g < r.aggregates.size(); ++g)
      if (r.aggregates[g].kind == ir::AggKind::Distinct && st->aggs[g].set.saturated)
        a.saturated.push_back(rr.saturated_names[g]);
  }
  ++stats.rules[rr.stat].alerts;
  ++stats.alerts;
  if (sink) sink(a);
}

// ---------------------------------------------------------------------------------------------------------------
// Engine

Engine::Engine(const ir::Program& program, EngineOptions options)
    : impl_(std::make_unique<Impl>(program, std::move(options))) {
  impl_->setup();
}

Engine::~Engine() {
  for (auto& s : impl_->sources)
    while (!s.buffer.empty()) {
      delete s.buffer.top();
      s.buffer.pop();
    }
}

void Engine::set_sink(AlertSink sink) { impl_->sink = std::move(sink); }

void Engine::process_json(std::string_view json, std::string_view origin, uint64_t line) {
  Impl& m = *impl_;
  if (m.finished) return;
  ++m.stats.records_read;
  Where where{origin, line, nullptr, {}};
  if (!m.ex.extract_json(json)) {
    ++m.stats.malformed;
    m.warn(m.malformed_warnings,
           fmt::format("{}: {}: {}", where.str(), input_error_kind_name(m.ex.error_kind()), m.ex.error()));
    return;
  }
  m.record(where);
  m.stats.type_mismatches = m.conv.total_mismatches();
}

namespace {
bool run_reader(Engine::Impl& m, RecordReader& rd) {
  bool ok = true;
  rd.set_error_handler([&](const InputError& e) {
    if (e.kind == InputErrorKind::Unreadable || e.kind == InputErrorKind::Decompress) {
      if (e.kind == InputErrorKind::Unreadable) ok = false;
      if (m.opt.on_warning) m.opt.on_warning(e.to_string());
      return;
    }
    ++m.stats.malformed;
    m.warn(m.malformed_warnings, e.to_string());
  });
  Record rec;
  while (rd.next(rec)) {
    if (m.finished) break;
    ++m.stats.records_read;
    if (!m.ex.extract(rec)) {
      rd.report(rec, m.ex.error_kind(), m.ex.error());
      continue;
    }
    m.record(Where{{}, 0, &rd, rec.origin});
  }
  // Records over the size limit never reach next(): the handler counted them as malformed.
  m.stats.type_mismatches = m.conv.total_mismatches();
  return ok;
}
}  // namespace

bool Engine::process_json_array(std::string_view json_array, std::string_view origin) {
  Impl& m = *impl_;
  if (m.finished) return false;
  size_t i = json_array.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || json_array[i] != '[') {
    ++m.stats.records_read;
    ++m.stats.malformed;
    m.warn(m.malformed_warnings, fmt::format("{}: not a JSON array of events", origin));
    return false;
  }
  RecordReader rd;
  rd.add_buffer(std::string(json_array), std::string(origin));
  run_reader(m, rd);
  return true;
}

bool Engine::process_inputs(const std::vector<std::string>& paths) {
  Impl& m = *impl_;
  if (m.finished) return false;
  RecordReader rd;
  for (const auto& p : paths) rd.add_path(p);
  return run_reader(m, rd);
}

void Engine::finish() {
  Impl& m = *impl_;
  if (m.finished) return;
  // Release everything held, across sources in one event-time order (ties: arrival order), passing each
  // source's deadlines before the event; then pass every remaining deadline (sessions close in the order of their
  // close times, absence windows end), source by source in program order; then close anything still open.
  for (;;) {
    uint32_t best = UINT32_MAX;
    for (uint32_t s = 0; s < m.sources.size(); ++s) {
      if (m.sources[s].buffer.empty()) continue;
      const Frozen* f = m.sources[s].buffer.top();
      if (best == UINT32_MAX || FrozenLater{}(m.sources[best].buffer.top(), f)) best = s;
    }
    if (best == UINT32_MAX) break;
    m.release(best, m.sources[best].buffer.top()->time);
  }
  for (uint32_t s = 0; s < m.sources.size(); ++s) m.release(s, kForever);
  for (auto& se : m.sessions)
    if (se->open) m.close_session(*se, se->last);
  m.finished = true;
}

const EngineStats& Engine::stats() const {
  // Event rules are (logically) tested on every event of their sources; counted here, not per event.
  Impl& m = *impl_;
  for (const RuleRt& rr : m.rules) {
    if (rr.r->scope != ir::Scope::Event) continue;
    uint64_t n = 0;
    for (uint32_t s : rr.r->sources)
      if (s < m.sources.size()) n += m.sources[s].released;
    m.stats.rules[rr.stat].evaluations = n;
  }
  return m.stats;
}

std::vector<ChainInfo> Engine::chains() const {
  const Impl& m = *impl_;
  std::vector<ChainInfo> out;
  for (const auto& c : m.chains) {
    ChainInfo ci;
    const Session& root = *m.sessions[c.root];
    ci.root_session = root.id;
    ci.root_identity = root.identity;
    ci.sessions = c.sessions;
    ci.depth = c.max_level + 1;
    ci.events = c.events;
    out.push_back(std::move(ci));
  }
  std::sort(out.begin(), out.end(), [](const ChainInfo& a, const ChainInfo& b) {
    if (a.sessions != b.sessions) return a.sessions > b.sessions;
    return a.root_session < b.root_session;
  });
  return out;
}

std::vector<std::string> Engine::active_rules() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->rules) out.push_back(r.r->id);
  return out;
}

}  // namespace braid::rt
