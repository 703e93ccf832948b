// The match plan (match_plan.h).
#include "ir/match_plan.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include "ir/same_expr.h"

#include <algorithm>
#include <map>
#include <set>

namespace braid::ir {

namespace {

using Values = std::vector<std::string>;

bool exact(const Node& n) { return !n.has(kFlagNoCase) && !n.has(kFlagNocaseField); }

bool is_field(const Program& p, NodeId id, FieldId f) {
  const Node& n = p.node(id);
  return n.op == Op::Field && static_cast<FieldId>(n.imm) == f;
}

std::optional<Values> req(const Program& p, NodeId id, FieldId f) {
  if (id == kNoNode || id >= p.nodes.size()) return std::nullopt;
  const Node& n = p.node(id);
  switch (n.op) {
    case Op::Bool:
      if (n.imm == 0) return Values{};  // `false` never holds: no event can match
      return std::nullopt;
    case Op::And: {
      std::optional<Values> acc;
      for (NodeId c : p.ops(n)) {
        auto v = req(p, c, f);
        if (!v) continue;
        if (!acc) {
          acc = std::move(v);
          continue;
        }
        Values both;
        std::set_intersection(acc->begin(), acc->end(), v->begin(), v->end(), std::back_inserter(both));
        acc = std::move(both);
      }
      return acc;
    }
    case Op::Or: {
      Values acc;
      for (NodeId c : p.ops(n)) {
        auto v = req(p, c, f);
        if (!v) return std::nullopt;
        Values both;
        std::set_union(acc.begin(), acc.end(), v->begin(), v->end(), std::back_inserter(both));
        acc = std::move(both);
      }
      return acc;
    }
    case Op::Eq: {
      // Bytewise equality with a string constant holds only for a String value with exactly those bytes.
      if (n.ops_count != 2 || !exact(n)) return std::nullopt;
      NodeId a = p.op(n, 0), b = p.op(n, 1);
      if (is_field(p, b, f)) std::swap(a, b);
      if (!is_field(p, a, f)) return std::nullopt;
      const Node& c = p.node(b);
      if (c.op != Op::String || c.imm < 0 || static_cast<size_t>(c.imm) >= p.strings.size()) return std::nullopt;
      // An ip-typed pair compares as addresses (two spellings of one address are equal): not bytewise.
      if (p.node(a).type.kind == Kind::Ip && c.type.kind == Kind::Ip) return std::nullopt;
      return Values{p.strings[static_cast<size_t>(c.imm)]};
    }
    case Op::InSet: {
      if (n.ops_count != 1 || !exact(n) || !is_field(p, p.op(n, 0), f)) return std::nullopt;
      if (n.imm < 0 || static_cast<size_t>(n.imm) >= p.sets.size()) return std::nullopt;
      const ConstSet& s = p.sets[static_cast<size_t>(n.imm)];
      if (s.nocase || (s.elem != Kind::String && s.elem != Kind::Ip) || !s.ints.empty() || !s.floats.empty())
        return std::nullopt;
      Values v = s.strings;
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
    }
    case Op::Null: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set: case Op::Field:
    case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
    case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod: case Op::ToFloat:
    case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches: case Op::ContainsAny:
    case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InCidr: case Op::Exists: case Op::Lower:
    case Op::Upper: case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem: case Op::Seq:
    case Op::Concat: case Op::ListAt:
      return std::nullopt;
  }
  return std::nullopt;
}

// Fields compared with string constants anywhere in the expression: the candidates for an index.
void candidate_fields(const Program& p, NodeId id, std::set<FieldId>& out) {
  if (id == kNoNode || id >= p.nodes.size()) return;
  const Node& n = p.node(id);
  if ((n.op == Op::Eq || n.op == Op::InSet) && exact(n)) {
    for (NodeId c : p.ops(n))
      if (p.node(c).op == Op::Field) out.insert(static_cast<FieldId>(p.node(c).imm));
  }
  if (n.op == Op::And || n.op == Op::Or || n.op == Op::Eq || n.op == Op::InSet)
    for (NodeId c : p.ops(n)) candidate_fields(p, c, out);
}

// ---- Prefilter literals ----------------------------------------------------------------------------------

using Literal = PrefilterLiteral;
using Literals = std::vector<Literal>;

bool literal_less(const Literal& a, const Literal& b) {
  return a.text != b.text ? a.text < b.text : a.nocase < b.nocase;
}
bool literal_equal(const Literal& a, const Literal& b) { return a.text == b.text && a.nocase == b.nocase; }

void normalize(Literals& v) {
  std::sort(v.begin(), v.end(), literal_less);
  v.erase(std::unique(v.begin(), v.end(), literal_equal), v.end());
}

bool nocase_node(const Node& n) { return n.has(kFlagNoCase) || n.has(kFlagNocaseField); }

// The longest run of a glob (`*`, `?`, `\` escapes: interp.cpp's glob_match) that every match contains.
std::string glob_run(std::string_view g) {
  std::string best, cur;
  for (size_t i = 0; i < g.size(); ++i) {
    char c = g[i];
    if (c == '*' || c == '?') {
      if (cur.size() > best.size()) best = cur;
      cur.clear();
      continue;
    }
    if (c == '\\' && i + 1 < g.size()) c = g[++i];
    cur.push_back(c);
  }
  return cur.size() > best.size() ? cur : best;
}

const std::string* string_constant(const Program& p, NodeId id) {
  const Node& c = p.node(id);
  if (c.op != Op::String || c.imm < 0 || static_cast<size_t>(c.imm) >= p.strings.size()) return nullptr;
  return &p.strings[static_cast<size_t>(c.imm)];
}

// The literals one of which every match of a regex contains: RE2's own prefilter (re2::FilteredRE2, whose atoms
// are lowercased: scanned case-insensitively, a superset). A regex whose prefilter would pass everything gives no
// atoms. Atoms with non-ASCII bytes are refused: RE2 lowercases them with Unicode rules, the scan folds ASCII only.
std::optional<Literals> regex_literals(const Regex& r, bool nocase) {
  constexpr int kMinAtomLen = 3;  // shorter atoms would select most events anyway
  re2::FilteredRE2 f(kMinAtomLen);
  RE2::Options o;
  o.set_case_sensitive(!(nocase || r.nocase));
  o.set_log_errors(false);
  int id = 0;
  if (f.Add(r.pattern, o, &id) != RE2::NoError) return std::nullopt;
  std::vector<std::string> atoms;
  f.Compile(&atoms);
  if (atoms.empty()) return std::nullopt;
  Literals v;
  for (std::string& a : atoms) {
    if (a.empty()) return std::nullopt;
    for (unsigned char c : a)
      if (c >= 0x80) return std::nullopt;
    v.push_back(Literal{std::move(a), true, {}});
  }
  normalize(v);
  return v;
}

// How selective a literal set is: its shortest literal (longer is rarer), then fewer literals.
bool more_selective(const Literals& a, const Literals& b) {
  auto shortest = [](const Literals& v) {
    size_t m = SIZE_MAX;
    for (const Literal& l : v) m = std::min(m, l.text.size());
    return m;
  };
  size_t sa = shortest(a), sb = shortest(b);
  return sa != sb ? sa > sb : a.size() < b.size();
}

std::optional<Literals> lits(const Program& p, NodeId id, FieldId f) {
  if (id == kNoNode || id >= p.nodes.size()) return std::nullopt;
  const Node& n = p.node(id);
  const bool nocase = nocase_node(n);
  auto one = [&](const std::string& text, bool nc) -> std::optional<Literals> {
    if (text.empty()) return std::nullopt;  // the empty string is in every string: no selection
    return Literals{Literal{text, nc, {}}};
  };
  auto from_set = [&](int64_t imm, bool glob) -> std::optional<Literals> {
    if (imm < 0 || static_cast<size_t>(imm) >= p.sets.size()) return std::nullopt;
    const ConstSet& s = p.sets[static_cast<size_t>(imm)];
    if (s.elem != Kind::String || !s.ints.empty() || !s.floats.empty() || s.strings.empty()) return std::nullopt;
    Literals v;
    for (const std::string& e : s.strings) {
      std::string t = glob ? glob_run(e) : e;
      if (t.empty()) return std::nullopt;
      v.push_back(Literal{std::move(t), nocase || s.nocase, {}});
    }
    normalize(v);
    return v;
  };
  switch (n.op) {
    case Op::And: {
      std::optional<Literals> best;
      for (NodeId c : p.ops(n)) {
        auto v = lits(p, c, f);
        if (v && (!best || more_selective(*v, *best))) best = std::move(v);
      }
      return best;
    }
    case Op::Or: {
      Literals acc;
      for (NodeId c : p.ops(n)) {
        auto v = lits(p, c, f);
        if (!v) return std::nullopt;
        acc.insert(acc.end(), v->begin(), v->end());
      }
      normalize(acc);
      return acc;
    }
    case Op::Eq: {
      if (n.ops_count != 2) return std::nullopt;
      NodeId a = p.op(n, 0), b = p.op(n, 1);
      if (is_field(p, b, f)) std::swap(a, b);
      if (!is_field(p, a, f)) return std::nullopt;
      const std::string* c = string_constant(p, b);
      // An ip-typed pair compares as addresses (two spellings of one address are equal): not bytewise.
      if (!c || (p.node(a).type.kind == Kind::Ip && p.node(b).type.kind == Kind::Ip)) return std::nullopt;
      return one(*c, nocase);
    }
    case Op::InSet:
      if (n.ops_count != 1 || !is_field(p, p.op(n, 0), f)) return std::nullopt;
      return from_set(n.imm, false);
    case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: {
      if (n.ops_count != 2 || !is_field(p, p.op(n, 0), f)) return std::nullopt;
      const std::string* c = string_constant(p, p.op(n, 1));
      if (!c) return std::nullopt;
      return one(n.op == Op::Like ? glob_run(*c) : *c, nocase);
    }
    case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny:
      if (n.ops_count != 1 || !is_field(p, p.op(n, 0), f)) return std::nullopt;
      return from_set(n.imm, n.op == Op::LikeAny);
    case Op::Matches:
      if (n.ops_count != 1 || !is_field(p, p.op(n, 0), f) || n.imm < 0 ||
          static_cast<size_t>(n.imm) >= p.regexes.size())
        return std::nullopt;
      return regex_literals(p.regexes[static_cast<size_t>(n.imm)], nocase);
    case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
    case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::Lt: case Op::Le: case Op::Gt:
    case Op::Ge: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
    case Op::ToFloat: case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper:
    case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat:
    case Op::ListAt:
      return std::nullopt;
  }
  return std::nullopt;
}

// Fields a string operator, comparison or `in` reads directly, under `and`/`or`: the prefilter's candidates.
void literal_fields(const Program& p, NodeId id, std::set<FieldId>& out) {
  if (id == kNoNode || id >= p.nodes.size()) return;
  const Node& n = p.node(id);
  switch (n.op) {
    case Op::And: case Op::Or:
      for (NodeId c : p.ops(n)) literal_fields(p, c, out);
      return;
    case Op::Eq: case Op::InSet: case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like:
    case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::Matches:
      for (NodeId c : p.ops(n))
        if (p.node(c).op == Op::Field) out.insert(static_cast<FieldId>(p.node(c).imm));
      return;
    case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
    case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::Lt: case Op::Le: case Op::Gt:
    case Op::Ge: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
    case Op::ToFloat: case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper:
    case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat:
    case Op::ListAt:
      return;
  }
}

}  // namespace

std::optional<std::vector<PrefilterLiteral>> required_literals(const Program& p, NodeId node, FieldId field) {
  return lits(p, node, field);
}

std::optional<std::vector<std::string>> required_values(const Program& p, NodeId node, FieldId field) {
  return req(p, node, field);
}

MatchPlan build_match_plan(const Program& p) {
  MatchPlan plan;
  plan.sources.resize(p.sources.size());
  for (uint32_t s = 0; s < p.sources.size(); ++s) {
    const Source& src = p.sources[s];
    SourcePlan& sp = plan.sources[s];
    for (uint32_t r = 0; r < p.rules.size(); ++r) {
      const Rule& rule = p.rules[r];
      if (std::find(rule.sources.begin(), rule.sources.end(), s) == rule.sources.end()) continue;
      if (rule.scope == Scope::Event) {
        if (rule.condition != kNoNode) sp.predicates.push_back(Predicate{r, kNone, rule.condition});
      } else {
        for (uint32_t k = 0; k < rule.steps.size(); ++k)
          if (rule.steps[k].pred != kNoNode) sp.predicates.push_back(Predicate{r, k, rule.steps[k].pred});
      }
    }
    const auto n = static_cast<uint32_t>(sp.predicates.size());
    sp.index_of.assign(n, kNone);

    // Predicates that can never hold here: no value satisfies them (req is empty for any field: `false`), or they
    // need a field this source never reads (a Field load without a slot is null) to equal a constant.
    std::vector<bool> never(n, false);
    for (uint32_t i = 0; i < n; ++i) {
      NodeId node = sp.predicates[i].node;
      if (auto none = req(p, node, kNone); none && none->empty()) never[i] = true;
      std::set<FieldId> own;
      candidate_fields(p, node, own);
      for (FieldId f : own) {
        if (never[i]) break;
        auto v = req(p, node, f);
        if (v && (v->empty() || src.slot_of(f) == kNone)) never[i] = true;
      }
    }

    // The required values of every predicate for every candidate field of this source. Only plain string
    // fields the source reads can be indexed (the dispatcher reads the slot once per event).
    std::set<FieldId> fields;
    for (const Predicate& pr : sp.predicates) candidate_fields(p, pr.node, fields);
    std::map<FieldId, std::vector<std::optional<Values>>> reqs;
    for (FieldId f : fields) {
      uint32_t slot = src.slot_of(f);
      if (slot == kNone || f >= p.fields.size() || p.fields[f].has_any()) continue;
      Kind k = src.slots[slot].type.kind;
      if (k != Kind::String && k != Kind::Object && k != Kind::Ip) continue;
      auto& v = reqs[f];
      v.reserve(n);
      for (const Predicate& pr : sp.predicates) v.push_back(req(p, pr.node, f));
    }

    // Greedy: the field constraining the most unindexed predicates becomes the next index (ties: lowest id).
    for (;;) {
      FieldId best = kNone;
      uint32_t best_count = 0;
      for (const auto& [f, v] : reqs) {
        uint32_t c = 0;
        for (uint32_t i = 0; i < n; ++i) c += (sp.index_of[i] == kNone && !never[i] && v[i]) ? 1 : 0;
        if (c > best_count) best = f, best_count = c;
      }
      if (best == kNone) break;
      const auto& v = reqs[best];
      DiscriminatorIndex ix;
      ix.field = best;
      ix.slot = src.slot_of(best);
      std::set<std::string> all;
      for (uint32_t i = 0; i < n; ++i)
        if (sp.index_of[i] == kNone && !never[i] && v[i]) all.insert(v[i]->begin(), v[i]->end());
      ix.values.assign(all.begin(), all.end());
      ix.by_value.resize(ix.values.size());
      auto ixno = static_cast<uint32_t>(sp.indexes.size());
      for (uint32_t i = 0; i < n; ++i) {
        if (sp.index_of[i] != kNone || never[i] || !v[i]) continue;
        sp.index_of[i] = ixno;
        for (const std::string& val : *v[i]) {
          auto at = std::lower_bound(ix.values.begin(), ix.values.end(), val) - ix.values.begin();
          ix.by_value[static_cast<size_t>(at)].push_back(i);
        }
      }
      sp.indexes.push_back(std::move(ix));
    }

    // Prefilters, greedily as above, over the predicates no index selects: the string field whose literals the
    // most of them require first (ties: lowest field id).
    sp.prefilter_of.assign(n, kNone);
    auto open = [&](uint32_t i) { return sp.index_of[i] == kNone && sp.prefilter_of[i] == kNone && !never[i]; };
    std::set<FieldId> lfields;
    for (uint32_t i = 0; i < n; ++i)
      if (open(i)) literal_fields(p, sp.predicates[i].node, lfields);
    std::map<FieldId, std::vector<std::optional<Literals>>> lreqs;
    for (FieldId f : lfields) {
      uint32_t slot = src.slot_of(f);
      if (slot == kNone || f >= p.fields.size() || p.fields[f].has_any()) continue;
      if (src.slots[slot].type.kind != Kind::String) continue;  // the runtime scans String values only
      auto& v = lreqs[f];
      v.reserve(n);
      for (uint32_t i = 0; i < n; ++i) v.push_back(open(i) ? lits(p, sp.predicates[i].node, f) : std::nullopt);
    }
    // Distinct predicates (equal ones are evaluated once): a prefilter needs kMinPrefilterPredicates of them.
    ExprClasses classes(p);
    std::vector<uint32_t> class_of(n);
    for (uint32_t i = 0; i < n; ++i) class_of[i] = classes.intern(sp.predicates[i].node).first;
    std::vector<bool> has_literals(n, false);
    for (const auto& [f, v] : lreqs)
      for (uint32_t i = 0; i < n; ++i) has_literals[i] = has_literals[i] || v[i].has_value();
    for (;;) {
      FieldId best = kNone;
      uint32_t best_count = 0;
      for (const auto& [f, v] : lreqs) {
        std::set<uint32_t> distinct;
        for (uint32_t i = 0; i < n; ++i)
          if (open(i) && v[i]) distinct.insert(class_of[i]);
        auto c = static_cast<uint32_t>(distinct.size());
        if (c > best_count) best = f, best_count = c;
      }
      if (best == kNone || best_count < kMinPrefilterPredicates) break;
      const auto& v = lreqs[best];
      PrefilterIndex pf;
      pf.field = best;
      pf.slot = src.slot_of(best);
      auto pfno = static_cast<uint32_t>(sp.prefilters.size());
      for (uint32_t i = 0; i < n; ++i) {
        if (!open(i) || !v[i]) continue;
        sp.prefilter_of[i] = pfno;
        for (const Literal& l : *v[i]) pf.literals.push_back(Literal{l.text, l.nocase, {i}});
      }
      // Merge equal literals (their predicate lists were pushed in ascending order).
      std::stable_sort(pf.literals.begin(), pf.literals.end(), literal_less);
      Literals merged;
      for (Literal& l : pf.literals) {
        if (!merged.empty() && literal_equal(merged.back(), l)) {
          if (merged.back().predicates.back() != l.predicates[0]) merged.back().predicates.push_back(l.predicates[0]);
        } else {
          merged.push_back(std::move(l));
        }
      }
      pf.literals = std::move(merged);
      sp.prefilters.push_back(std::move(pf));
    }
    for (uint32_t i = 0; i < n; ++i) {
      if (sp.prefilter_of[i] != kNone) {
        sp.prefiltered.push_back(i);
      } else if (sp.index_of[i] == kNone) {
        (never[i] ? sp.never : sp.always).push_back(i);
        if (!never[i] && !has_literals[i]) sp.costly.push_back(i);
      }
    }
  }
  return plan;
}

std::vector<std::pair<uint32_t, NodeId>> clause_expressions(const Program& p) {
  std::vector<std::pair<uint32_t, NodeId>> out;
  auto add = [&](uint32_t s, NodeId n) {
    if (n != kNoNode) out.emplace_back(s, n);
  };
  for (uint32_t s = 0; s < p.sources.size(); ++s) {
    const Source& src = p.sources[s];
    for (NodeId n : {src.time, src.id, src.identity, src.credential, src.ip, src.account}) add(s, n);
    for (const Mint& m : src.mints) {
      add(s, m.when);
      add(s, m.credential);
    }
    for (const Link& l : src.links) {
      add(s, l.parent_when);
      add(s, l.parent_key);
      if (l.target < p.sources.size()) {
        add(l.target, l.child_when);
        add(l.target, l.child_key);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace braid::ir
