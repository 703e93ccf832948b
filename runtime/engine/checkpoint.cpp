// Checkpoints: the engine's whole state as bytes, and back (Engine::save_state / load_state; docs/operations.md).
//
// The state is written as it is kept: slot pools with their generations and free lists (so every Ref inside the
// state, deadlines and expiry queues included, stays valid), sessions and chains with their rule states, step
// cells and prefixes, mint and link records with their expiry queues, per source the watermark, the held events
// (their converted slots) and the deadlines, per rule the suppression table, and the stats. Derived tables (the
// open-session index, pools of free objects, caches) are rebuilt. A restored engine therefore continues exactly as
// the saved one would have: the same alerts, in the same order, with the same ids.
//
// Format: "BRAIDSTATE" magic, a format version, the program id and a digest of the semantic options, the payload
// (little-endian varints, zigzag for signed, length-prefixed strings), and a 64-bit checksum of everything before
// it. Loading checks all of it before touching the engine, and every count, index and reference while reading:
// bad bytes give a StateError, never a crash or a silently wrong state.
#include <fmt/format.h>

#include <cstring>

#include "engine/engine_impl.h"

namespace braid::rt {

namespace {

constexpr std::string_view kMagic = "BRAIDSTATE";
// 1: first format (schema_version 2 alerts: alert ids). 2: per source, the events held aside by a time jump.
// 3: the open sessions' LRU order, evicted sessions and degraded chains (the open-session cap).
// 4: per source, the watermark floor the held-events cap moved, and the released-early counts.
// 5: the layout (rules, step classes, prefixes and slots by digest), so a state can be carried to other rules; the
//    options digest no longer names the rules. Format 4 is still read, with the rules it was taken with.
// 6: the partial-match and chain-record caps: what they dropped (sequences, step cells, the evicted-key filters)
//    and their counters. Formats 4 and 5 are still read: nothing had been dropped.
// 7: the open groups of group-scope rules (oldest first, with their rule states), their deadlines, and the group
//    counters. Formats 4 to 6 are still read: they had no groups.
constexpr uint32_t kFormatVersion = 7;
constexpr uint32_t kOldestFormat = 4;

class Writer {
 public:
  std::string out;
  bool raw = false;  // the state carries record texts (alert events): steps' raw events, held events' text
  void u8(uint8_t v) { out += static_cast<char>(v); }
  void b(bool v) { u8(v ? 1 : 0); }
  void u64(uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  }
  void i64(int64_t v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void f64(double v) {
    char buf[8];
    std::memcpy(buf, &v, 8);
    out.append(buf, 8);
  }
  void str(std::string_view s) {
    u64(s.size());
    out.append(s);
  }
  void fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void value(const Value& v) {
    u8(static_cast<uint8_t>(v.tag));
    switch (v.tag) {
      case Tag::Null: break;
      case Tag::Bool: b(v.b); break;
      case Tag::Int:
      case Tag::Time:
      case Tag::Duration: i64(v.i); break;
      case Tag::Float: f64(v.f); break;
      case Tag::String:
      case Tag::Json: str(v.str()); break;
      case Tag::List:
        u64(v.len);
        for (uint32_t i = 0; i < v.len; ++i) value(v.items[i]);
        break;
    }
  }
};

class Reader {
 public:
  Reader(std::string_view in) : p_(in.data()), begin_(in.data()), end_(in.data() + in.size()) {}
  bool raw = false;  // as Writer::raw (known from the options digest)
  uint64_t version = kFormatVersion;  // of the checkpoint being read: what older formats lack is left as it starts
  [[noreturn]] void fail(std::string_view what) const {
    throw StateError(fmt::format("the checkpoint is corrupt: {} at byte {}", what, p_ - begin_));
  }
  uint8_t u8() {
    if (p_ >= end_) fail("unexpected end");
    return static_cast<uint8_t>(*p_++);
  }
  bool b() {
    uint8_t v = u8();
    if (v > 1) fail("bad boolean");
    return v == 1;
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t c = u8();
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    fail("bad varint");
  }
  uint32_t u32() {
    uint64_t v = u64();
    if (v > UINT32_MAX) fail("number out of range");
    return static_cast<uint32_t>(v);
  }
  int64_t i64() {
    uint64_t v = u64();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  double f64() {
    need(8);
    double v;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return v;
  }
  std::string_view str() {
    uint64_t n = u64();
    need(n);
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  // A count of things that take at least `min_bytes` each: bounded by what is left, so a corrupt count cannot
  // make the loader allocate without limit.
  size_t count(size_t min_bytes = 1) {
    uint64_t n = u64();
    if (n > static_cast<uint64_t>(end_ - p_) / min_bytes) fail("count larger than the data");
    return static_cast<size_t>(n);
  }
  // Below `limit`.
  uint32_t index(uint64_t limit, std::string_view what) {
    uint64_t v = u64();
    if (v >= limit) fail(fmt::format("{} {} out of range (limit {})", what, v, limit));
    return static_cast<uint32_t>(v);
  }
  uint64_t fixed64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  bool done() const { return p_ == end_; }

 private:
  void need(uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - p_)) fail("unexpected end");
  }
  const char* p_;
  const char* begin_;
  const char* end_;
};

// Values read from a checkpoint, with storage that stays put until the reader is done with them.
struct ValueArena {
  std::deque<std::string> strings;
  std::deque<std::vector<Value>> lists;
  Value read(Reader& r, int depth = 0) {
    if (depth > 64) r.fail("value nested too deep");
    auto tag = r.u8();
    if (tag > static_cast<uint8_t>(Tag::Json)) r.fail("bad value tag");
    Value v;
    v.tag = static_cast<Tag>(tag);
    switch (v.tag) {
      case Tag::Null: break;
      case Tag::Bool: v.b = r.b(); break;
      case Tag::Int:
      case Tag::Time:
      case Tag::Duration: v.i = r.i64(); break;
      case Tag::Float: v.f = r.f64(); break;
      case Tag::String:
      case Tag::Json: {
        std::string_view s = r.str();
        if (s.size() > UINT32_MAX) r.fail("string too long");
        strings.emplace_back(s);
        v.s = strings.back().data();
        v.len = static_cast<uint32_t>(s.size());
        break;
      }
      case Tag::List: {
        size_t n = r.count();
        lists.emplace_back();
        auto& items = lists.back();
        items.reserve(n);
        for (size_t i = 0; i < n; ++i) items.push_back(read(r, depth + 1));
        v.items = items.data();
        v.len = static_cast<uint32_t>(n);
        break;
      }
    }
    return v;
  }
};

// --- the layout: what the state's indices refer to -------------------------------------------------------------
//
// A state names rules, step classes, sequence prefixes and event slots by index. The layout, saved with it, says
// what each index was (by a digest of its compiled definition), so that a state can be carried into an engine for
// another program (a reload, or a restart with changed rules): each index is mapped to the new program's, or
// dropped. Sources must be the same but for their slots (which follow the fields the rules read).

// A digest of IR text (ir::dump_*) that does not depend on the rest of the program: the numbers of sets and cidr
// sets (`#N[`) are dropped, their contents kept; quoted strings are left as they are. Two 64-bit hashes.
struct Digest {
  uint64_t a = 0, b = 0;
  bool operator==(const Digest&) const = default;
};
Digest digest_of(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    out += c;
    if (in_string) {
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '#') {
      size_t j = i + 1;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      if (j > i + 1 && j < text.size() && (text[j] == '[' || text[j] == '~')) i = j - 1;
    }
  }
  return Digest{fast_hash(out), fnv1a(out)};
}

struct Layout {
  struct Rule {
    std::string id;
    Digest def;  // the rule as compiled (ir::dump_rule without its tests)
  };
  struct Class {
    bool keyed = false;  // a step class with a predicate (else never carried)
    Digest key;          // its predicate
    std::vector<Digest> aggs;
  };
  struct Prefix {
    std::vector<uint32_t> classes;
    int64_t within = 0;
  };
  struct Source {
    std::string name;
    Digest def;                      // ir::dump_source without its slots
    std::vector<std::string> slots;  // "$field : type [optional] [nocase]"
    std::vector<Class> classes;
    std::vector<Prefix> prefixes;
    std::vector<uint32_t> session_rules;  // position -> rule index
  };
  std::vector<Rule> rules;
  std::vector<uint32_t> chain_slot_rule;
  std::vector<Source> sources;
  uint8_t tracks = 0;  // 1: session.source_ips, 2: chain.identities, 4: chain.accounts are kept
};

std::string rule_text(const ir::Program& p, const ir::Rule& r) {
  std::string t = ir::dump_rule(p, r);
  size_t cut = t.find("\n  test ");  // tests do not change what the rule does
  if (cut != std::string::npos) t.resize(cut + 1);
  return t;
}

std::string agg_text(const ir::Program& p, const StepClass::Agg& g) {
  return fmt::format("{}({})", ir::agg_kind_name(g.kind), g.value == ir::kNoNode ? "" : ir::dump_expr(p, g.value));
}

Layout layout_of(const Engine::Impl& m) {
  Layout l;
  for (const RuleRt& rr : m.rules) l.rules.push_back(Layout::Rule{rr.r->id, digest_of(rule_text(m.p, *rr.r))});
  l.chain_slot_rule = m.chain_slot_rule;
  for (uint32_t s = 0; s < m.sources.size(); ++s) {
    const SourceRt& sr = m.sources[s];
    Layout::Source& ls = l.sources.emplace_back();
    ls.name = sr.src->name;
    std::string text = ir::dump_source(m.p, *sr.src), def;
    for (size_t i = 0; i < text.size();) {
      size_t e = text.find('\n', i);
      if (e == std::string::npos) e = text.size();
      std::string_view line(text.data() + i, e - i);
      if (line.starts_with("  slot ")) {
        size_t sp = line.find(' ', 7);
        ls.slots.emplace_back(line.substr(sp == std::string_view::npos ? line.size() : sp + 1));
      } else {
        def.append(line);
        def += '\n';
      }
      i = e + 1;
    }
    ls.def = digest_of(def);
    ls.classes.resize(sr.classes.size());
    for (uint32_t k = 0; k < sr.session_rules.size(); ++k) {
      const ir::Rule& r = *m.rules[sr.session_rules[k]].r;
      for (size_t st = 0; st < r.steps.size() && st < sr.step_class[k].size(); ++st) {
        Layout::Class& c = ls.classes[sr.step_class[k][st]];
        if (c.keyed || r.steps[st].pred == ir::kNoNode) continue;
        c.keyed = true;
        c.key = digest_of(ir::dump_expr(m.p, r.steps[st].pred));
      }
    }
    for (size_t c = 0; c < sr.classes.size(); ++c)
      for (const StepClass::Agg& g : sr.classes[c].aggs) ls.classes[c].aggs.push_back(digest_of(agg_text(m.p, g)));
    for (const StepPrefix& pf : sr.prefixes) ls.prefixes.push_back(Layout::Prefix{pf.classes, pf.within});
    ls.session_rules = sr.session_rules;
  }
  l.tracks = static_cast<uint8_t>((m.track_ips ? 1 : 0) | (m.track_identities ? 2 : 0) | (m.track_accounts ? 4 : 0));
  return l;
}

void put_digest(Writer& w, Digest d) {
  w.fixed64(d.a);
  w.fixed64(d.b);
}
Digest get_digest(Reader& r) {
  Digest d;
  d.a = r.fixed64();
  d.b = r.fixed64();
  return d;
}
void put_list(Writer& w, const std::vector<uint32_t>& v) {
  w.u64(v.size());
  for (uint32_t x : v) w.u64(x);
}
std::vector<uint32_t> get_list(Reader& r, uint64_t limit, std::string_view what) {
  std::vector<uint32_t> v(r.count());
  for (uint32_t& x : v) x = r.index(limit, what);
  return v;
}

void put_layout(Writer& w, const Layout& l) {
  w.u64(l.rules.size());
  for (const auto& rule : l.rules) {
    w.str(rule.id);
    put_digest(w, rule.def);
  }
  put_list(w, l.chain_slot_rule);
  w.u64(l.sources.size());
  for (const auto& s : l.sources) {
    w.str(s.name);
    put_digest(w, s.def);
    w.u64(s.slots.size());
    for (const auto& x : s.slots) w.str(x);
    w.u64(s.classes.size());
    for (const auto& c : s.classes) {
      w.b(c.keyed);
      put_digest(w, c.key);
      w.u64(c.aggs.size());
      for (Digest d : c.aggs) put_digest(w, d);
    }
    w.u64(s.prefixes.size());
    for (const auto& pf : s.prefixes) {
      put_list(w, pf.classes);
      w.i64(pf.within);
    }
    put_list(w, s.session_rules);
  }
  w.u8(l.tracks);
}

Layout get_layout(Reader& r) {
  Layout l;
  size_t nr = r.count(17);
  for (size_t i = 0; i < nr; ++i) {
    Layout::Rule rule;
    rule.id.assign(r.str());
    rule.def = get_digest(r);
    l.rules.push_back(std::move(rule));
  }
  l.chain_slot_rule = get_list(r, nr, "chain slot rule");
  size_t ns = r.count(17);
  for (size_t i = 0; i < ns; ++i) {
    Layout::Source& s = l.sources.emplace_back();
    s.name.assign(r.str());
    s.def = get_digest(r);
    size_t nslots = r.count();
    for (size_t k = 0; k < nslots; ++k) s.slots.emplace_back(r.str());
    size_t nc = r.count(18);
    s.classes.resize(nc);
    for (auto& c : s.classes) {
      c.keyed = r.b();
      c.key = get_digest(r);
      size_t na = r.count(16);
      for (size_t a = 0; a < na; ++a) c.aggs.push_back(get_digest(r));
    }
    size_t np = r.count(2);
    for (size_t k = 0; k < np; ++k) {
      Layout::Prefix pf;
      pf.classes = get_list(r, nc, "prefix class");
      pf.within = r.i64();
      s.prefixes.push_back(std::move(pf));
    }
    s.session_rules = get_list(r, nr, "session rule");
  }
  l.tracks = r.u8();
  return l;
}

// How the saved state's indices map to the engine's: old index -> new index, kNone for state that is dropped.
struct Carry {
  std::vector<uint32_t> source;      // old source -> new (every old source is there)
  std::vector<uint32_t> rule;        // old rule -> the new rule that keeps its state
  std::vector<uint32_t> stats_rule;  // old rule -> the new rule of the same id (its counters)
  std::vector<uint32_t> chain_slot;  // old chain state slot -> new
  struct Source {
    std::vector<uint32_t> session_slot, cls, prefix;
    std::vector<std::vector<uint32_t>> agg;  // old class -> its aggregates -> the new class's
    std::vector<uint32_t> slot_from;         // new slot -> old slot (kNone: not extracted then: null)
    size_t old_slots = 0;
  };
  std::vector<Source> sources;  // per old source
};

std::vector<uint32_t> iota(size_t n) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint32_t>(i);
  return v;
}

// The same program: every index is itself.
Carry same_carry(const Engine::Impl& m) {
  Carry k;
  k.rule = k.stats_rule = iota(m.rules.size());
  k.chain_slot = iota(m.chain_state_slots);
  k.source = iota(m.sources.size());
  for (const SourceRt& sr : m.sources) {
    Carry::Source& ks = k.sources.emplace_back();
    ks.session_slot = iota(sr.session_rules.size());
    ks.cls = iota(sr.classes.size());
    ks.prefix = iota(sr.prefixes.size());
    for (const StepClass& c : sr.classes) ks.agg.push_back(iota(c.aggs.size()));
    ks.slot_from = iota(sr.src->slots.size());
    ks.old_slots = sr.src->slots.size();
  }
  return k;
}

// Another program: the reload rules (docs/operations.md, "Reload"). A rule keeps its state when its id and
// compiled definition are unchanged and every step class of it is carried; a class is carried when all the rules
// with a step in it keep their state (a changed or new rule must not inherit the counts of the steps it shares).
Carry carry_between(const Layout& old, const Layout& now, const Engine::Impl& m, CarryReport& rep) {
  // Sources by name: each old one must be there, the same; new ones may be added (they start empty).
  Carry k;
  std::vector<uint32_t> src_old(now.sources.size(), ir::kNone);  // new source -> old
  for (uint32_t j = 0; j < old.sources.size(); ++j) {
    uint32_t i = 0;
    while (i < now.sources.size() && now.sources[i].name != old.sources[j].name) ++i;
    if (i == now.sources.size())
      throw StateError(fmt::format("source `{}` is not in the new rules: its sessions and held events cannot be "
                                   "carried to them",
                                   old.sources[j].name));
    if (!(old.sources[j].def == now.sources[i].def))
      throw StateError(fmt::format("source `{}` changed (its clauses, sessions, mints, links or fields differ): its "
                                   "sessions and held events cannot be carried to the new rules",
                                   now.sources[i].name));
    if (src_old[i] != ir::kNone) throw StateError(fmt::format("source `{}` twice in the checkpoint", now.sources[i].name));
    src_old[i] = j;
    k.source.push_back(i);
  }
  const size_t n_new = now.rules.size(), n_old = old.rules.size();
  std::vector<uint32_t> old_of(n_new, ir::kNone);  // new rule -> the old rule of the same id
  {
    std::unordered_map<std::string_view, uint32_t> by_id;
    for (uint32_t i = 0; i < n_old; ++i) by_id.emplace(old.rules[i].id, i);
    for (uint32_t i = 0; i < n_new; ++i)
      if (auto it = by_id.find(now.rules[i].id); it != by_id.end()) old_of[i] = it->second;
  }
  std::vector<uint8_t> keep(n_new, 0);
  for (uint32_t i = 0; i < n_new; ++i) keep[i] = old_of[i] != ir::kNone && old.rules[old_of[i]].def == now.rules[i].def;
  const std::vector<uint8_t> unchanged = keep;
  // Per source, each new class's old class (same predicate; kNone: none, or ambiguous).
  std::vector<std::vector<uint32_t>> cls_old(now.sources.size());
  const std::vector<Layout::Class> none;
  for (size_t s = 0; s < now.sources.size(); ++s) {
    const auto& oc = src_old[s] != ir::kNone ? old.sources[src_old[s]].classes : none;
    for (const auto& c : now.sources[s].classes) {
      uint32_t found = ir::kNone;
      int hits = 0;
      for (uint32_t j = 0; j < oc.size() && c.keyed; ++j)
        if (oc[j].keyed && oc[j].key == c.key) found = j, ++hits;
      uint32_t mapped = hits == 1 ? found : ir::kNone;
      // Every aggregate the class keeps now must have been kept then.
      for (Digest a : c.aggs)
        if (mapped != ir::kNone && std::find(oc[mapped].aggs.begin(), oc[mapped].aggs.end(), a) == oc[mapped].aggs.end())
          mapped = ir::kNone;
      cls_old[s].push_back(mapped);
    }
  }
  // The fixed point: a class is carried when it maps and all its rules keep their state.
  std::vector<std::vector<uint8_t>> carried(now.sources.size());
  for (bool again = true; again;) {
    again = false;
    for (size_t s = 0; s < now.sources.size(); ++s) {
      const SourceRt& sr = m.sources[s];
      auto& cs = carried[s];
      cs.assign(sr.classes.size(), 1);
      for (uint32_t c = 0; c < sr.classes.size(); ++c) cs[c] = cls_old[s][c] != ir::kNone;
      for (uint32_t pos = 0; pos < sr.session_rules.size(); ++pos)
        if (!keep[sr.session_rules[pos]])
          for (uint32_t c : sr.step_class[pos]) cs[c] = 0;
      for (uint32_t pos = 0; pos < sr.session_rules.size(); ++pos) {
        uint32_t ri = sr.session_rules[pos];
        if (!keep[ri]) continue;
        bool all = true;
        for (uint32_t c : sr.step_class[pos]) all = all && cs[c];
        for (auto [c, a] : sr.agg_cell[pos]) all = all && cs[c];
        if (!all) keep[ri] = 0, again = true;
      }
    }
  }
  k.rule.assign(n_old, ir::kNone);
  k.stats_rule.assign(n_old, ir::kNone);
  for (uint32_t i = 0; i < n_new; ++i) {
    const std::string& id = now.rules[i].id;
    if (old_of[i] == ir::kNone) {
      rep.added.push_back(id);
      continue;
    }
    k.stats_rule[old_of[i]] = i;
    if (keep[i]) {
      k.rule[old_of[i]] = i;
      rep.kept.push_back(id);
    } else if (unchanged[i]) {
      rep.reset.push_back(id);
    } else {
      rep.changed.push_back(id);
    }
  }
  for (uint32_t j = 0; j < n_old; ++j)
    if (k.stats_rule[j] == ir::kNone) rep.removed.push_back(old.rules[j].id);
  k.chain_slot.assign(old.chain_slot_rule.size(), ir::kNone);
  for (size_t slot = 0; slot < old.chain_slot_rule.size(); ++slot) {
    uint32_t ri = k.rule[old.chain_slot_rule[slot]];
    if (ri != ir::kNone && m.rules[ri].r->scope == ir::Scope::Chain) k.chain_slot[slot] = m.rules[ri].state_slot;
  }
  for (size_t j = 0; j < old.sources.size(); ++j) {
    const uint32_t s = k.source[j];
    const Layout::Source& os = old.sources[j];
    const Layout::Source& ns = now.sources[s];
    const SourceRt& sr = m.sources[s];
    Carry::Source& ks = k.sources.emplace_back();
    ks.session_slot.assign(os.session_rules.size(), ir::kNone);
    for (size_t pos = 0; pos < os.session_rules.size(); ++pos) {
      uint32_t ri = k.rule[os.session_rules[pos]];
      if (ri != ir::kNone) ks.session_slot[pos] = sr.session_pos[ri];
    }
    ks.cls.assign(os.classes.size(), ir::kNone);
    ks.agg.resize(os.classes.size());
    for (size_t c = 0; c < os.classes.size(); ++c) ks.agg[c].assign(os.classes[c].aggs.size(), ir::kNone);
    for (uint32_t c = 0; c < ns.classes.size(); ++c) {
      if (!carried[s][c]) continue;
      uint32_t o = cls_old[s][c];
      ks.cls[o] = c;
      for (uint32_t a = 0; a < ns.classes[c].aggs.size(); ++a) {
        const auto& oa = os.classes[o].aggs;
        ks.agg[o][std::find(oa.begin(), oa.end(), ns.classes[c].aggs[a]) - oa.begin()] = a;
      }
    }
    ks.prefix.assign(os.prefixes.size(), ir::kNone);
    for (uint32_t pf = 0; pf < ns.prefixes.size(); ++pf) {
      std::vector<uint32_t> then;
      for (uint32_t c : ns.prefixes[pf].classes) then.push_back(carried[s][c] ? cls_old[s][c] : ir::kNone);
      if (std::find(then.begin(), then.end(), ir::kNone) != then.end()) continue;
      for (uint32_t o = 0; o < os.prefixes.size(); ++o)
        if (os.prefixes[o].classes == then && os.prefixes[o].within == ns.prefixes[pf].within) ks.prefix[o] = pf;
    }
    ks.old_slots = os.slots.size();
    ks.slot_from.assign(ns.slots.size(), ir::kNone);
    for (size_t i = 0; i < ns.slots.size(); ++i)
      for (size_t x = 0; x < os.slots.size(); ++x)
        if (os.slots[x] == ns.slots[i]) ks.slot_from[i] = static_cast<uint32_t>(x);
  }
  static constexpr std::pair<uint8_t, std::string_view> kTracks[] = {
      {1, "session.source_ips"}, {2, "chain.identities"}, {4, "chain.accounts"}};
  for (auto [bit, name] : kTracks)
    if ((now.tracks & bit) && !(old.tracks & bit))
      rep.notes.push_back(fmt::format("no rule read {} before: in the sessions and chains carried over it counts only "
                                      "what comes from now on",
                                      name));
  return k;
}

}  // namespace

// Friend of the state's containers: reads and writes their insides.
struct StateCodec {
  using Impl = Engine::Impl;

  // --- containers -------------------------------------------------------------------------------------------

  static void put(Writer& w, const DistinctSet& d) {
    // The encodings in insertion order (their offsets in the byte buffer).
    std::vector<std::pair<uint32_t, uint32_t>> live;
    for (const auto& e : d.table_)
      if (e.gen == d.gen_) live.emplace_back(e.off, e.len);
    std::sort(live.begin(), live.end());
    w.b(d.saturated_);
    w.u64(live.size());
    for (auto [off, len] : live) w.str(std::string_view(d.bytes_.data() + off, len));
  }
  static void get(Reader& r, DistinctSet& d) {
    d.clear();
    d.saturated_ = r.b();
    size_t n = r.count();
    for (size_t i = 0; i < n; ++i)
      if (!d.add_encoded(r.str(), UINT32_MAX)) r.fail("duplicate distinct value");
  }

  template <class T>
  static void put_shape(Writer& w, const SlotPool<T>& pool) {
    w.u64(pool.gens_.size());
    for (uint32_t i = 0; i < pool.gens_.size(); ++i) {
      w.u64(pool.gens_[i]);
      w.b(pool.item(i).ref != kNoRef);
    }
    w.u64(pool.free_.size());
    for (uint32_t f : pool.free_) w.u64(f);
  }
  // Restores the pool's slots, generations and free list; returns the live slots (their objects are then filled).
  template <class T>
  static std::vector<uint32_t> get_shape(Reader& r, SlotPool<T>& pool) {
    if (pool.live_ != 0 || !pool.gens_.empty()) r.fail("engine not empty");
    size_t n = r.count(2);
    std::vector<uint32_t> live;
    std::vector<uint8_t> is_live(n, 0);
    for (size_t i = 0; i < n; ++i) {
      uint32_t slot = pool.add_slot(r.u32());
      if (r.b()) {
        is_live[i] = 1;
        pool.item(slot).ref = slot | (static_cast<uint64_t>(pool.gens_[slot]) << 32);
        live.push_back(static_cast<uint32_t>(i));
      }
    }
    size_t nf = r.count();
    if (nf + live.size() != n) r.fail("pool free list does not match its live slots");
    for (size_t i = 0; i < nf; ++i) {
      uint32_t f = r.index(n, "free slot");
      if (is_live[f]) r.fail("a live slot in a free list");
      is_live[f] = 2;
      pool.free_.push_back(f);
    }
    pool.live_ = live.size();
    return live;
  }

  static void put(Writer& w, const RecordTable& t) {
    w.u64(t.pool_.size());
    for (size_t i = 0; i < t.pool_.size(); ++i) {
      const MintRecord& m = t.pool_[i];
      w.u64(t.gens_[i]);
      w.b(m.self != kNoRef);
      if (m.self == kNoRef) continue;
      w.str(m.key);
      w.u64(m.session);
      w.str(m.event_id);
      w.i64(m.time);
    }
    w.u64(t.free_.size());
    for (uint32_t f : t.free_) w.u64(f);
    w.u64(t.fifo_.size());
    for (size_t i = 0; i < t.fifo_.size(); ++i) {
      const auto& q = t.fifo_.buf_[(t.fifo_.head_ + i) & (t.fifo_.buf_.size() - 1)];
      w.i64(q.time);
      w.u64(q.record);
    }
  }
  static void get(Reader& r, RecordTable& t, const Impl& m) {
    size_t n = r.count(2);
    std::vector<uint8_t> state(n, 0);
    for (size_t i = 0; i < n; ++i) {
      t.pool_.emplace_back();
      t.gens_.push_back(r.u32());
      MintRecord& rec = t.pool_.back();
      if (!r.b()) continue;
      state[i] = 1;
      rec.self = static_cast<uint32_t>(i) | (static_cast<uint64_t>(t.gens_[i]) << 32);
      rec.key.assign(r.str());
      rec.hash = fast_hash(rec.key);
      rec.session = r.u64();
      if (rec.session != kNoRef && !m.sessions.get(rec.session)) r.fail("a record of a session that is not there");
      rec.event_id.assign(r.str());
      rec.time = r.i64();
      if (t.find(rec.key)) r.fail("duplicate record key");
      t.index_.insert(rec.hash, rec.self);
    }
    size_t nf = r.count();
    for (size_t i = 0; i < nf; ++i) {
      uint32_t f = r.index(n, "free record");
      if (state[f]) r.fail("a live or repeated record in a free list");
      state[f] = 2;
      t.free_.push_back(f);
    }
    size_t nq = r.count(2);
    for (size_t i = 0; i < nq; ++i) {
      int64_t time = r.i64();
      Ref rec = r.u64();
      if (static_cast<uint32_t>(rec) >= n) r.fail("expiry entry out of range");
      t.fifo_.push_back(RecordTable::Queued{time, rec});
    }
  }

  // The filters' set words only, as (index, word): they are mostly empty.
  static void put(Writer& w, const EvictedKeys& f) {
    w.i64(f.started_);
    w.b(!f.empty());
    if (f.empty()) return;
    for (const auto* v : {&f.now_, &f.before_}) {
      uint64_t n = 0;
      for (uint64_t x : *v) n += x != 0;
      w.u64(n);
      for (size_t i = 0; i < v->size(); ++i)
        if ((*v)[i]) {
          w.u64(i);
          w.fixed64((*v)[i]);
        }
    }
  }
  static void get(Reader& r, EvictedKeys& f) {
    f.started_ = r.i64();
    if (!r.b()) return;
    for (auto* v : {&f.now_, &f.before_}) {
      v->assign(EvictedKeys::kWords, 0);
      size_t n = r.count(2);
      int64_t prev = -1;
      for (size_t i = 0; i < n; ++i) {
        size_t at = r.index(EvictedKeys::kWords, "evicted-key filter word");
        if (static_cast<int64_t>(at) <= prev) r.fail("evicted-key filter words out of order");
        prev = static_cast<int64_t>(at);
        (*v)[at] = r.fixed64();
      }
    }
  }

  // --- rule state -------------------------------------------------------------------------------------------

  static void put(Writer& w, const StepState& s) {
    w.u64(s.count);
    w.u64(s.nids);
    for (uint32_t i = 0; i < s.nids; ++i) w.str(s.ids[i]);
    if (!w.raw) return;
    w.u64(s.nraws);
    for (uint32_t i = 0; i < s.nraws; ++i) w.str(s.raws[i]);
  }
  // Raw events saved with another --alert-events: the first max_raws are kept.
  static void get(Reader& r, StepState& s, uint32_t max_ids, uint32_t max_raws) {
    s.count = r.u64();
    s.nids = r.u32();
    if (s.nids > max_ids || s.nids > s.count) r.fail("too many step event ids");
    if (s.ids.size() < s.nids) s.ids.resize(s.nids);
    for (uint32_t i = 0; i < s.nids; ++i) s.ids[i].assign(r.str());
    s.nraws = 0;
    if (!r.raw) return;
    uint32_t n = r.u32();
    if (n > kMaxAlertEvents || n > s.count) r.fail("too many step raw events");
    for (uint32_t i = 0; i < n; ++i) {
      std::string_view text = r.str();
      if (i >= max_raws) continue;
      if (s.raws.size() <= i) s.raws.emplace_back();
      s.raws[i].assign(text);
      s.nraws = i + 1;
    }
  }

  // The fields of every shape, in the order of format 7's single struct (a shape the state does not hold is
  // written as its initial value, and read into a dropped one).
  static void put(Writer& w, const AggState& a) {
    static const DistinctSet kNoSet;
    static const HeldState kNoHeld;
    static const SumState kNoSum;
    const auto* count = std::get_if<CountState>(&a);
    const auto* set = std::get_if<DistinctSet>(&a);
    const auto* held = std::get_if<HeldState>(&a);
    const auto* sum = std::get_if<SumState>(&a);
    if (!held) held = &kNoHeld;
    if (!sum) sum = &kNoSum;
    w.u64(count ? count->n : 0);
    put(w, set ? *set : kNoSet);
    w.b(held->has);
    w.value(held->val.v);
    w.i64(held->t);
    w.i64(sum->isum);
    w.f64(sum->fsum);
    w.b(sum->floats);
    w.b(sum->overflow);
  }
  static void get(Reader& r, AggState& a) {
    CountState count_dropped;
    DistinctSet set_dropped;
    HeldState held_dropped;
    SumState sum_dropped;
    auto* count = std::get_if<CountState>(&a);
    auto* set = std::get_if<DistinctSet>(&a);
    auto* held = std::get_if<HeldState>(&a);
    auto* sum = std::get_if<SumState>(&a);
    (count ? *count : count_dropped).n = r.u64();
    get(r, set ? *set : set_dropped);
    HeldState& h = held ? *held : held_dropped;
    h.has = r.b();
    ValueArena arena;
    h.val.set(arena.read(r));
    h.t = r.i64();
    SumState& su = sum ? *sum : sum_dropped;
    su.isum = r.i64();
    su.fsum = r.f64();
    su.floats = r.b();
    su.overflow = r.b();
  }

  static void put_times(Writer& w, const std::vector<int64_t>& v) {
    w.u64(v.size());
    for (int64_t t : v) w.i64(t);
  }
  static void get_times(Reader& r, std::vector<int64_t>& v) {
    v.resize(r.count());
    for (int64_t& t : v) t = r.i64();
  }

  static void put(Writer& w, const RuleStates& states) {
    w.u64(states.size());
    for (const auto& [slot, st] : states) {
      w.u64(slot);
      w.b(st->fired);
      w.u64(st->steps.size());
      for (const StepState& s : st->steps) put(w, s);
      w.u64(st->aggs.size());
      for (const AggState& a : st->aggs) put(w, a);
      w.u64(st->seqs.size());
      for (const SeqState& q : st->seqs) {
        w.u64(q.stages.size());
        for (const auto& stage : q.stages) put_times(w, stage);
        w.b(q.matched);
        w.i64(q.pending);
        w.b(q.dropped);
      }
    }
  }
  // Saved slots are below `old_slots`; `to(slot)` is the new slot of a saved one (kNone: its state is dropped,
  // read and left), and `slot_rule(new slot)` its rule index.
  template <class SlotRule>
  static void get(Reader& r, Impl& m, RuleStates& states, size_t old_slots, const std::vector<uint32_t>& to,
                  SlotRule&& slot_rule) {
    size_t n = r.count();
    int64_t prev = -1;
    RuleState dropped;
    for (size_t i = 0; i < n; ++i) {
      uint32_t slot = r.u32();
      if (static_cast<int64_t>(slot) <= prev) r.fail("rule states out of order");
      prev = slot;
      if (slot >= old_slots) r.fail("rule state slot out of range");
      const uint32_t now = to[slot];
      const bool keep = now != ir::kNone;
      uint32_t ri = keep ? slot_rule(now) : ir::kNone;
      if (keep && ri == ir::kNone) r.fail("rule state slot out of range");
      RuleState& st = keep ? m.make_state(states, now, m.rules[ri]) : dropped;
      auto shape = [&](auto& v, std::string_view what) {
        size_t c = r.count();
        if (!keep) v.resize(c);
        else if (c != v.size()) r.fail(fmt::format("rule state with another number of {}", what));
      };
      st.fired = r.b();
      shape(st.steps, "steps");
      for (StepState& s : st.steps) get(r, s, m.opt.step_event_ids, m.opt.alert_events);
      shape(st.aggs, "aggregates");
      for (AggState& a : st.aggs) get(r, a);
      shape(st.seqs, "sequences");
      for (SeqState& q : st.seqs) {
        shape(q.stages, "sequence stages");
        for (auto& stage : q.stages) get_times(r, stage);
        q.matched = r.b();
        q.pending = r.i64();
        q.dropped = r.version >= 6 ? r.b() : false;
      }
    }
  }

  static void put_slots(Writer& w, const std::vector<uint32_t>& v) {
    w.u64(v.size());
    for (uint32_t x : v) w.u64(x);
  }
  // Ascending slots, each with a state in `states` (saved slots mapped by `to`, the dropped ones left out).
  static void get_slots(Reader& r, std::vector<uint32_t>& v, const RuleStates& states, const std::vector<uint32_t>& to) {
    size_t n = r.count();
    v.clear();
    int64_t prev = -1;
    for (size_t i = 0; i < n; ++i) {
      uint32_t x = r.index(to.size(), "slot");
      if (static_cast<int64_t>(x) <= prev) r.fail("slot list out of order");
      prev = x;
      if (to[x] != ir::kNone) v.push_back(to[x]);
    }
    std::sort(v.begin(), v.end());
    for (uint32_t x : v) {
      auto it = std::lower_bound(states.begin(), states.end(), x,
                                 [](const std::pair<uint32_t, RuleState*>& e, uint32_t k) { return e.first < k; });
      if (it == states.end() || it->first != x) r.fail("slot list names a state that is not there");
    }
  }

  // --- sessions and chains ----------------------------------------------------------------------------------

  static void put(Writer& w, const Session& se) {
    w.u64(se.uid);
    w.str(se.id_view());
    w.u64(se.source);
    w.b(se.open);
    w.b(se.has_cred);
    w.u8(se.link);
    w.u64(se.level);
    w.i64(se.start);
    w.i64(se.last);
    w.u64(se.events);
    w.u64(se.key_hash);
    w.i64(se.close_due);
    w.u64(se.close_order);
    w.str(se.identity());
    w.str(se.credential());
    const SessionState& ss = se.side();  // (written the same whether the session has a side block or not)
    put(w, ss.ips);
    w.str(ss.last_ip);
    w.str(ss.last_account);
    w.b(ss.seen_ip);
    w.b(ss.seen_account);
    w.u64(se.parent);
    w.str(se.parent_event());
    w.u64(se.chain);
    w.u64(se.chain_next);
    put(w, ss.rules);
    w.u64(ss.cells.size());
    for (const auto& [c, cell] : ss.cells) {
      w.u64(c);
      put(w, cell->step);
      w.i64(cell->last);
      w.i64(cell->before);
      w.u64(cell->at);
      put_times(w, cell->times);
      w.u64(cell->first);
      w.u64(cell->appended);
      w.b(cell->dropped);
      w.u64(cell->aggs.size());
      for (const AggState& a : cell->aggs) put(w, a);
    }
    w.u64(ss.prefixes.size());
    for (const auto& [k, pc] : ss.prefixes) {
      w.u64(k);
      w.i64(pc.value);
      w.i64(pc.before);
      w.u64(pc.at);
    }
    put_slots(w, ss.watch);
    put_slots(w, ss.watch_ips);
    put_slots(w, ss.armed);
    w.b(se.evicted);
  }
  static void get(Reader& r, Impl& m, Session& se, const Carry& k) {
    se.uid = r.u64();
    std::string_view id = r.str();
    if (id.size() != sizeof se.id) r.fail("bad session id");
    std::memcpy(se.id, id.data(), sizeof se.id);
    const uint32_t old_source = r.index(k.source.size(), "source");
    se.source = k.source[old_source];
    se.open = r.b();
    se.has_cred = r.b();
    se.link = r.u8();
    if (se.link > 2) r.fail("bad session link kind");
    se.level = r.u32();
    se.start = r.i64();
    se.last = r.i64();
    se.events = r.u64();
    se.key_hash = r.u64();
    se.close_due = r.i64();
    se.close_order = r.u64();
    std::string_view ident = r.str();
    se.set_keys(ident, r.str());
    // Read into a side block, given back at the end if it holds nothing.
    SessionState& ss = m.side(se);
    get(r, ss.ips);
    ss.last_ip.assign(r.str());
    ss.last_account.assign(r.str());
    ss.seen_ip = r.b();
    ss.seen_account = r.b();
    se.parent = r.u64();
    se.set_parent_event(r.str());
    se.chain = r.u64();
    se.chain_next = r.u64();
    // Its key in the open-session index names the source's position, which may have moved.
    se.key_hash = session_hash(se.source, se.identity(), se.has_cred, se.credential());
    SourceRt& sr = m.sources[se.source];
    const Carry::Source& ks = k.sources[old_source];
    get(r, m, ss.rules, ks.session_slot.size(), ks.session_slot,
        [&](uint32_t slot) { return slot < sr.session_rules.size() ? sr.session_rules[slot] : ir::kNone; });
    size_t nc = r.count();
    int64_t prev = -1;
    StepCell dropped;
    AggState dropped_agg;
    for (size_t i = 0; i < nc; ++i) {
      uint32_t c = r.index(ks.cls.size(), "step class");
      if (static_cast<int64_t>(c) <= prev) r.fail("step cells out of order");
      prev = c;
      StepCell& cell = ks.cls[c] != ir::kNone ? m.cell_for(se, ks.cls[c]) : dropped;
      get(r, cell.step, m.opt.step_event_ids, m.opt.alert_events);
      cell.last = r.i64();
      cell.before = r.i64();
      cell.at = r.u64();
      get_times(r, cell.times);
      cell.first = r.u64();
      if (cell.first > cell.times.size()) r.fail("step cell times out of range");
      cell.appended = r.u64();
      cell.dropped = r.version >= 6 ? r.b() : false;
      // The class's aggregates then, each to its place now (the ones no rule reads any more are dropped).
      if (r.count() != ks.agg[c].size()) r.fail("step cell with another number of aggregates");
      for (uint32_t a : ks.agg[c]) get(r, ks.cls[c] != ir::kNone && a != ir::kNone ? cell.aggs[a] : dropped_agg);
    }
    size_t np = r.count();
    prev = -1;
    PrefixCell dropped_prefix;
    for (size_t i = 0; i < np; ++i) {
      uint32_t x = r.index(ks.prefix.size(), "sequence prefix");
      if (static_cast<int64_t>(x) <= prev) r.fail("sequence prefixes out of order");
      prev = x;
      PrefixCell& pc = ks.prefix[x] != ir::kNone ? *m.prefix_cell(se, ks.prefix[x], true) : dropped_prefix;
      pc.value = r.i64();
      pc.before = r.i64();
      pc.at = r.u64();
    }
    get_slots(r, ss.watch, ss.rules, ks.session_slot);
    get_slots(r, ss.watch_ips, ss.rules, ks.session_slot);
    get_slots(r, ss.armed, ss.rules, ks.session_slot);
    se.evicted = r.b();
    if (ss.empty()) m.release_side(se);
  }

  static void put(Writer& w, const Chain& c) {
    w.u64(c.root);
    w.u64(c.first_session);
    w.u64(c.open);
    w.u64(c.records);
    w.u64(c.sessions);
    w.u64(c.max_level);
    w.u64(c.deepest);
    w.u64(c.last_session);
    w.u64(c.events);
    w.i64(c.last_time);
    const ChainState& cs = c.side();  // (written the same whether the chain has a side block or not)
    put(w, cs.identities);
    put(w, cs.accounts);
    put(w, cs.rules);
    w.b(c.degraded);
    w.b(c.orphaned);
  }
  static void get(Reader& r, Impl& m, Chain& c, const Carry& k) {
    c.root = r.u64();
    c.first_session = r.u64();
    c.open = r.u32();
    c.records = r.u64();
    c.sessions = r.u64();
    c.max_level = r.u32();
    c.deepest = r.u64();
    c.last_session = r.u64();
    c.events = r.u64();
    c.last_time = r.i64();
    ChainState& cs = m.side(c);  // (given back below if it holds nothing)
    get(r, cs.identities);
    get(r, cs.accounts);
    get(r, m, cs.rules, k.chain_slot.size(), k.chain_slot,
        [&](uint32_t slot) { return slot < m.chain_slot_rule.size() ? m.chain_slot_rule[slot] : ir::kNone; });
    c.degraded = r.b();
    c.orphaned = r.version >= 6 ? r.b() : false;
    m.rewatch_chain(c);
    if (cs.empty()) m.release_side(c);
  }

  // --- groups -----------------------------------------------------------------------------------------------

  static void put(Writer& w, const Group& g) {
    w.u64(g.ref);
    w.u64(g.rule);
    w.u64(g.source);
    w.u64(g.uid);
    w.str(g.id_view());
    w.i64(g.start);
    w.i64(g.last);
    w.u64(g.events);
    w.i64(g.close_due);
    w.u64(g.close_order);
    w.str(g.key);
    w.b(g.evicted);
    RuleStates one{{0, g.state}};
    put(w, one);
  }
  // A saved group, restored under its rule's and source's new indices (and a new Ref, recorded in `refs`); a group
  // of a rule that does not keep its state (a reload that changed or removed it) is read and dropped.
  static void get(Reader& r, Impl& m, const Carry& k, std::unordered_map<Ref, Ref>& refs) {
    Ref saved = r.u64();
    uint32_t rule = r.index(std::max<size_t>(k.rule.size(), 1), "group rule");
    uint32_t source = r.index(std::max<size_t>(k.source.size(), 1), "group source");
    if (rule >= k.rule.size() || source >= k.source.size()) r.fail("group of a rule or source not in the checkpoint");
    const uint32_t ri = k.rule[rule], s = k.source[source];
    Group g;
    g.uid = r.u64();
    std::string_view id = r.str();
    if (id.size() != sizeof g.id) r.fail("bad group id");
    std::memcpy(g.id, id.data(), sizeof g.id);
    g.start = r.i64();
    g.last = r.i64();
    g.events = r.u64();
    g.close_due = r.i64();
    g.close_order = r.u64();
    g.key.assign(r.str());
    g.evicted = r.b();
    const bool keep = ri != ir::kNone && m.rules[ri].grouped;
    if (ri != ir::kNone && !keep) r.fail("a group of a rule that is not a group rule");
    // The state is the temporary's until the group takes it: a StateError thrown before gives it back to its pool.
    RuleStates one;
    struct GiveBack {
      Impl& m;
      RuleStates& s;
      ~GiveBack() { m.free_states(s); }
    } give_back{m, one};
    std::vector<uint32_t> to{keep ? 0u : ir::kNone};
    get(r, m, one, 1, to, [&](uint32_t) { return ri; });
    if (!keep) return;
    if (one.size() != 1) r.fail("a group without its rule state");
    if (refs.count(saved)) r.fail("a group twice in the checkpoint");
    Ref ref = m.groups.acquire();
    Group& x = m.groups.at(ref);
    g.ref = ref;
    g.rule = ri;
    g.source = s;
    g.state = one[0].second;
    one.clear();  // the group owns it now
    g.key_hash = Impl::group_key_hash(ri, s, g.key);
    x = std::move(g);
    m.group_index.insert(x.key_hash, ref);
    m.group_append(x);
    refs[saved] = ref;
  }

  // --- stats ------------------------------------------------------------------------------------------------

  static void put(Writer& w, const EngineStats& s) {
    for (uint64_t v : {s.records_read, s.events_parsed, s.malformed, s.unrouted, s.no_time, s.type_mismatches, s.late,
                       s.no_identity, s.sessions_opened, s.sessions_closed, s.chains, s.chain_links, s.chain_max_depth,
                       s.mints_recorded, s.mints_evicted, s.chains_retired, s.link_parents_recorded,
                       s.link_parents_evicted, s.alerts, s.suppressed, s.quarantined, s.sessions_evicted,
                       s.released_early, s.chain_records_evicted, s.partial_matches_dropped, s.groups_opened,
                       s.groups_closed, s.groups_evicted, s.no_group_key})
      w.u64(v);
    w.u64(s.sources.size());
    for (const SourceStats& x : s.sources)
      for (uint64_t v : {x.events, x.late, x.no_identity, x.sessions_opened, x.sessions_closed, x.quarantined,
                         x.released_early})
        w.u64(v);
    w.u64(s.rules.size());
    for (const RuleStats& x : s.rules)
      for (uint64_t v : {x.alerts, x.suppressed, x.evaluations, x.nanos}) w.u64(v);
  }
  // Rule counters go to the new rule of the same id (Carry::stats_rule); those of removed rules are dropped.
  static void get(Reader& r, EngineStats& s, const Impl& m, const Carry& k) {
    for (uint64_t* v : {&s.records_read, &s.events_parsed, &s.malformed, &s.unrouted, &s.no_time, &s.type_mismatches,
                        &s.late, &s.no_identity, &s.sessions_opened, &s.sessions_closed, &s.chains, &s.chain_links,
                        &s.chain_max_depth, &s.mints_recorded, &s.mints_evicted, &s.chains_retired,
                        &s.link_parents_recorded, &s.link_parents_evicted, &s.alerts, &s.suppressed, &s.quarantined,
                        &s.sessions_evicted, &s.released_early})
      *v = r.u64();
    if (r.version >= 6)
      for (uint64_t* v : {&s.chain_records_evicted, &s.partial_matches_dropped}) *v = r.u64();
    if (r.version >= 7)
      for (uint64_t* v : {&s.groups_opened, &s.groups_closed, &s.groups_evicted, &s.no_group_key}) *v = r.u64();
    if (r.count() != k.source.size()) r.fail("stats of another number of sources");
    for (uint32_t src : k.source) {
      SourceStats& x = s.sources[src];
      for (uint64_t* v : {&x.events, &x.late, &x.no_identity, &x.sessions_opened, &x.sessions_closed, &x.quarantined,
                          &x.released_early})
        *v = r.u64();
    }
    if (r.count() != k.stats_rule.size()) r.fail("stats of another number of rules");
    for (uint32_t ri : k.stats_rule) {
      RuleStats dropped;
      RuleStats& x = ri != ir::kNone ? s.rules[m.rules[ri].stat] : dropped;
      for (uint64_t* v : {&x.alerts, &x.suppressed, &x.evaluations, &x.nanos}) *v = r.u64();
    }
  }

  // --- held events --------------------------------------------------------------------------------------------

  static void put_held(Writer& w, const Impl& m, const SourceRt& sr, uint32_t s) {
    std::vector<ReorderBuffer::Entry> held;
    const auto& ring = sr.buffer.ring_;
    for (size_t i = 0; i < ring.size(); ++i) held.push_back(ring.buf_[(ring.head_ + i) & (ring.buf_.size() - 1)]);
    held.insert(held.end(), sr.buffer.heap_.begin(), sr.buffer.heap_.end());
    std::sort(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    // Then the events held aside by a time jump (in arrival order; they have no seq yet).
    for (PreparedEvent* e : sr.ahead) held.push_back(ReorderBuffer::Entry{e->time, e->seq, e});
    const size_t nslots = m.p.sources[s].slots.size();
    std::vector<Value> dense;
    w.u64(held.size() - sr.ahead.size());
    w.u64(sr.ahead.size());
    for (const auto& h : held) {
      const PreparedEvent& e = *h.e;
      w.i64(e.time);
      w.u64(e.seq);
      w.str(e.id);
      w.str(e.where.str());
      if (w.raw) {
        w.u64(e.raw_size);
        w.str(e.raw);
      }
      const Value* slots = e.slots;
      if (!slots) {  // a prepared event keeps its non-null slots only
        dense.assign(nslots, Value());
        expand_slots(e, dense.data());
        slots = dense.data();
      }
      for (size_t i = 0; i < nslots; ++i) w.value(slots[i]);
    }
  }
  // The held events of every source go into one batch, owned by the engine like any other.
  // Saved with the slots of their source then: each slot now takes the value of the same field then, or null when
  // no rule read that field then (it was not extracted; counted in the report).
  static void get_held(Reader& r, Impl& m, const Carry& k, CarryReport* rep) {
    struct Held {
      uint32_t source;
      int64_t time;
      uint64_t seq;
      std::string_view id, where;
      size_t first_slot;
      bool ahead;
      uint64_t raw_size = 0;  // its record text (alert events), when the state has them
      std::string_view raw;
    };
    std::vector<Held> held;
    ValueArena arena;
    std::vector<Value> slots;
    std::vector<Value> then;
    for (uint32_t j = 0; j < k.source.size(); ++j) {
      const uint32_t s = k.source[j];
      size_t n = r.count(4);
      size_t n_ahead = r.count(4);
      const Carry::Source& ks = k.sources[j];
      const bool missing = std::find(ks.slot_from.begin(), ks.slot_from.end(), ir::kNone) != ks.slot_from.end();
      for (size_t i = 0; i < n + n_ahead; ++i) {
        Held h{s, r.i64(), r.u64(), r.str(), r.str(), slots.size(), i >= n, 0, {}};
        if (r.raw) {
          h.raw_size = r.u64();
          h.raw = r.str();
          if (h.raw.size() > h.raw_size) r.fail("held event text longer than its record");
          if (m.opt.alert_events == 0) h.raw_size = 0, h.raw = {};  // not wanted now
        }
        then.clear();
        for (size_t x = 0; x < ks.old_slots; ++x) then.push_back(arena.read(r));
        for (uint32_t from : ks.slot_from) slots.push_back(from == ir::kNone ? Value::null() : then[from]);
        held.push_back(h);
        if (rep) {
          ++rep->held_events;
          rep->held_missing_fields += missing ? 1 : 0;
        }
      }
    }
    if (held.empty()) return;
    Batch* b = m.new_batch();
    size_t nbytes = 0, nvalues = 0;
    for (const Held& h : held) {
      nbytes += h.id.size() + h.where.size() + h.raw.size();
      nvalues += m.p.sources[h.source].slots.size() + 1;
    }
    for (const Value& v : slots) Owned::measure(v, nbytes, nvalues);
    b->bytes.reserve(nbytes);
    b->values.reserve(nvalues);
    b->events.reserve(held.size());
    for (const Held& h : held) {
      PreparedEvent e;
      e.kind = PreparedEvent::Kind::Event;
      e.source = h.source;
      e.time = h.time;
      e.seq = h.seq;
      size_t at = b->bytes.size();
      b->bytes.append(h.id);
      b->bytes.append(h.where);
      e.id = std::string_view(b->bytes.data() + at, h.id.size());
      e.where.name = std::string_view(b->bytes.data() + at + h.id.size(), h.where.size());
      if (h.raw_size) {
        e.raw_size = h.raw_size;
        e.raw = std::string_view(b->bytes.data() + b->bytes.size(), h.raw.size());
        b->bytes.append(h.raw);
      }
      const size_t nslots = m.p.sources[h.source].slots.size();
      size_t base = b->values.size();
      b->values.resize(base + nslots + 1);
      for (size_t x = 0; x < nslots; ++x) b->values[base + x] = Owned::copy(slots[h.first_slot + x], b->bytes, b->values);
      e.slots = b->values.data() + base;
      e.batch = b;
      b->events.push_back(e);
    }
    b->held = static_cast<uint32_t>(b->events.size());
    b->consumed = true;
    b->ready.store(true);
    for (size_t i = 0; i < held.size(); ++i) {
      PreparedEvent& e = b->events[i];
      if (held[i].ahead) m.sources[e.source].ahead.push_back(&e);
      else m.sources[e.source].buffer.push(&e);
    }
  }
};

namespace {

// What the state's shape depends on besides the program: the options that change what is kept. (Format 4 also
// named the rules that run; the layout says that now.)
// `raw`: the state carries record texts (EngineOptions::alert_events on when it was saved). Named only then, so a
// state without them has the digest it always had (and an older braid refuses one with them as of other options).
uint64_t options_digest(const Engine::Impl& m, uint64_t version = kFormatVersion, bool raw = false) {
  std::string s = fmt::format("distinct_bound={};mint_retention={};step_event_ids={};session_cap={}",
                              m.opt.distinct_bound, m.opt.mint_retention, m.opt.step_event_ids,
                              m.opt.max_open_sessions != 0);
  if (raw) s += ";raw_events";
  if (version == 4) {
    s += ";rules=";
    for (const RuleRt& rr : m.rules) {
      s += rr.r->id;
      s += ',';
    }
  }
  return fast_hash(s);
}

}  // namespace

std::string Engine::save_state(std::string_view program_id) const {
  Impl& m = *impl_;
  m.drain();      // with threads, records taken but not yet admitted become part of the state
  (void)stats();  // brings the derived counters up to date
  Writer w;
  w.raw = m.opt.alert_events > 0;
  w.out.append(kMagic);
  w.u64(kFormatVersion);
  w.str(program_id);
  w.fixed64(options_digest(m, kFormatVersion, w.raw));
  put_layout(w, layout_of(m));
  StateCodec::put(w, m.stats);
  for (uint64_t v : {m.next_uid, m.arrival, m.deadline_order, m.event_serial, m.stats.type_mismatches,
                     m.late_warnings, m.malformed_warnings, m.notime_warnings})
    w.u64(v);
  // Sessions, then chains (records and deadlines refer to both).
  StateCodec::put_shape(w, m.sessions);
  m.sessions.for_each_live([&](const Session& se) { StateCodec::put(w, se); });
  StateCodec::put_shape(w, m.chains);
  m.chains.for_each_live([&](const Chain& c) { StateCodec::put(w, c); });
  // The open groups, oldest first, each with the Ref its deadlines name (a restored group gets a new one).
  w.u64(m.groups.live());
  for (Ref x = m.group_oldest; x != kNoRef; x = m.groups.at(x).newer) StateCodec::put(w, m.groups.at(x));
  // The open sessions in LRU order (the cap evicts from the front).
  std::vector<Ref> lru;
  for (uint32_t x = m.lru_head; x != kNoSlot; x = m.sessions.at(x).lru_next) lru.push_back(m.sessions.at(x).ref);
  w.u64(lru.size());
  for (Ref x : lru) w.u64(x);
  StateCodec::put(w, m.mints);
  for (const LinkRt& l : m.links) StateCodec::put(w, l.parents);
  StateCodec::put(w, m.evicted_keys);
  w.u64(m.retired_chains.size());
  for (const ChainInfo& c : m.retired_chains) {
    w.str(c.root_session);
    w.str(c.root_identity);
    w.u64(c.sessions);
    w.u64(c.depth);
    w.u64(c.events);
  }
  for (uint32_t s = 0; s < m.sources.size(); ++s) {
    const SourceRt& sr = m.sources[s];
    w.i64(sr.max_seen);
    w.i64(sr.floor);
    w.u64(sr.released);
    auto dl = sr.deadlines;  // a copy: the heap is read in pop order
    w.u64(dl.size());
    for (; !dl.empty(); dl.pop()) {
      const Deadline& d = dl.top();
      w.i64(d.time);
      w.u64(d.order);
      w.u8(static_cast<uint8_t>(d.kind));
      w.u64(d.target);
      w.u64(d.rule);
    }
  }
  for (uint32_t s = 0; s < m.sources.size(); ++s) StateCodec::put_held(w, m, m.sources[s], s);
  for (const RuleRt& rr : m.rules) {
    std::vector<std::pair<std::string_view, int64_t>> keys(rr.suppress.begin(), rr.suppress.end());
    std::sort(keys.begin(), keys.end());  // the same state, the same bytes
    w.u64(keys.size());
    for (const auto& [k, t] : keys) {
      w.str(k);
      w.i64(t);
    }
    w.u64(rr.suppress_sweep_at);
  }
  w.fixed64(fast_hash(w.out));
  return std::move(w.out);
}

void Engine::load_state(std::string_view bytes, std::string_view program_id, CarryReport* carry) {
  Impl& m = *impl_;
  if (m.stats.records_read != 0 || m.sessions.capacity() != 0 || m.finished)
    throw StateError("a checkpoint can only be loaded into an engine that has not taken any event");
  if (bytes.size() < kMagic.size() + 8 || bytes.substr(0, kMagic.size()) != kMagic)
    throw StateError("not a Braid checkpoint (no BRAIDSTATE header)");
  uint64_t sum = 0;
  for (int i = 0; i < 8; ++i) sum |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[bytes.size() - 8 + i])) << (8 * i);
  std::string_view body = bytes.substr(0, bytes.size() - 8);
  Reader r(body.substr(kMagic.size()));
  uint64_t version = r.u64();
  r.version = version;
  if (version < kOldestFormat || version > kFormatVersion)
    throw StateError(fmt::format("the checkpoint has state format {}, this braid reads format {} (and {})", version,
                                 kFormatVersion, kOldestFormat));
  if (fast_hash(body) != sum) throw StateError("the checkpoint is corrupt: its checksum does not match");
  std::string_view pid = r.str();
  bool same = pid == program_id;
  if (!same && !carry)
    throw StateError(fmt::format("the checkpoint was taken with other rules (program {}, now {})", pid, program_id));
  if (!same && version < 5)
    throw StateError(fmt::format("the checkpoint was taken with other rules (program {}, now {}) by an older braid "
                                 "(state format {}), whose checkpoints do not describe their rules",
                                 pid, program_id, version));
  // A state with record texts loads with any --alert-events (0 drops them), one without them too (events held then
  // have no text: they are left out of `events`).
  const uint64_t options = r.fixed64();
  r.raw = version >= 5 && options == options_digest(m, version, true);
  if (!r.raw && options != options_digest(m, version))
    throw StateError(fmt::format("the checkpoint was taken with other engine options ({}--distinct-bound, the "
                                 "retention or the step event ids differ)",
                                 version == 4 ? "the rules that run, " : ""));
  // Same program: every index is itself (the layout is not even compared, so a restart never loses state to it).
  Carry k = same_carry(m);
  if (version >= 5) {
    Layout old = get_layout(r);
    Layout now = layout_of(m);
    // The same program with other rules running (--include-disabled, only_rules) is another rule set too.
    bool same_rules = old.rules.size() == now.rules.size();
    for (size_t i = 0; same_rules && i < now.rules.size(); ++i) same_rules = old.rules[i].id == now.rules[i].id;
    if (same && !same_rules && !carry)
      throw StateError("the checkpoint was taken with other engine options (the rules that run differ)");
    same = same && same_rules;
    if (!same) k = carry_between(old, now, m, *carry);
  }
  CarryReport* rep = same ? nullptr : carry;
  StateCodec::get(r, m.stats, m, k);
  m.next_uid = r.u64();
  m.arrival = r.u64();
  m.deadline_order = r.u64();
  m.event_serial = r.u64();
  m.worker_mismatches = r.u64();
  m.late_warnings = r.u64();
  m.malformed_warnings = r.u64();
  m.notime_warnings = r.u64();
  for (uint32_t slot : StateCodec::get_shape(r, m.sessions)) StateCodec::get(r, m, m.sessions.at(slot), k);
  for (uint32_t slot : StateCodec::get_shape(r, m.chains)) StateCodec::get(r, m, m.chains.at(slot), k);
  std::unordered_map<Ref, Ref> group_ref;  // saved Ref -> restored one (deadlines)
  if (r.version >= 7) {
    size_t ng = r.count(8);
    for (size_t i = 0; i < ng; ++i) StateCodec::get(r, m, k, group_ref);
  }
  // References between sessions and chains must point at live objects (deadlines and expiry queues may be stale:
  // the engine checks their generations when they come due).
  auto live_session = [&](Ref x) { return x == kNoRef || m.sessions.get(x); };
  auto live_chain = [&](Ref x) { return x == kNoRef || m.chains.get(x); };
  bool refs_ok = true;
  m.sessions.for_each_live([&](const Session& se) {
    refs_ok = refs_ok && live_session(se.parent) && live_session(se.chain_next) && live_chain(se.chain);
  });
  m.chains.for_each_live([&](const Chain& c) {
    refs_ok = refs_ok && c.root != kNoRef && live_session(c.root) && live_session(c.first_session) &&
              live_session(c.deepest) && live_session(c.last_session);
  });
  if (!refs_ok) r.fail("a session or chain refers to one that is not there");
  m.sessions.for_each_live([&](Session& se) {
    if (se.open) m.open_index.insert(se.key_hash, se.ref);
  });
  size_t nl = r.count();
  for (size_t i = 0; i < nl; ++i) {
    Ref x = r.u64();
    Session* se = m.sessions.get(x);
    if (!se || !se->open || se->lru_prev != kNoSlot || m.lru_head == static_cast<uint32_t>(x))
      r.fail("bad session in the LRU order");
    m.lru_append(*se);
  }
  if (m.opt.max_open_sessions && nl != m.open_index.size()) r.fail("the LRU order does not hold every open session");
  StateCodec::get(r, m.mints, m);
  // Link parent tables, saved in the order of their sources then (a source's links are the same: its definition
  // is); the links of sources added since start empty.
  for (uint32_t src : k.source)
    for (uint32_t li : m.sources[src].links_as_parent) StateCodec::get(r, m.links[li].parents, m);
  if (r.version >= 6) StateCodec::get(r, m.evicted_keys);
  size_t nr = r.count(5);
  m.retired_chains.clear();
  for (size_t i = 0; i < nr; ++i) {
    ChainInfo c;
    c.root_session.assign(r.str());
    c.root_identity.assign(r.str());
    c.sessions = r.u64();
    c.depth = r.u64();
    c.events = r.u64();
    m.retired_chains.push_back(std::move(c));
  }
  for (uint32_t src : k.source) {
    SourceRt& sr = m.sources[src];
    sr.max_seen = r.i64();
    sr.floor = r.i64();
    sr.released = r.u64();
    size_t nd = r.count(5);
    for (size_t i = 0; i < nd; ++i) {
      Deadline d;
      d.time = r.i64();
      d.order = r.u64();
      uint8_t kind = r.u8();
      if (kind > static_cast<uint8_t>(DeadlineKind::GroupSeq)) r.fail("bad deadline kind");
      d.kind = static_cast<DeadlineKind>(kind);
      d.target = r.u64();
      d.rule = r.index(std::max<size_t>(k.rule.size(), 1), "deadline rule");
      if (d.kind != DeadlineKind::SessionClose) {  // a rule's window or group: dropped with the rule's state
        d.rule = k.rule[d.rule];
        if (d.rule == ir::kNone) continue;
      }
      if (d.kind == DeadlineKind::GroupClose || d.kind == DeadlineKind::GroupSeq) {
        auto it = group_ref.find(d.target);
        if (it == group_ref.end()) {
          if (d.kind == DeadlineKind::GroupClose) r.fail("a group's close deadline names no group");
          continue;  // (a window of a group that closed since: stale, as the engine would have found it)
        }
        d.target = it->second;
      }
      sr.deadlines.push(d);
    }
  }
  StateCodec::get_held(r, m, k, rep);
  for (uint32_t ri : k.rule) {  // each saved rule's suppression table, kept with its state
    RuleRt dropped;
    RuleRt& rr = ri != ir::kNone ? m.rules[ri] : dropped;
    size_t nk = r.count(2);
    for (size_t i = 0; i < nk; ++i) {
      std::string_view key = r.str();
      rr.suppress[std::string(key)] = r.i64();
    }
    rr.suppress_sweep_at = r.u64();
  }
  if (!r.done()) r.fail("trailing bytes");
}

}  // namespace braid::rt
