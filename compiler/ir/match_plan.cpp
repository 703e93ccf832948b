// The match plan (match_plan.h).
#include "ir/match_plan.h"

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

}  // namespace

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
    for (uint32_t i = 0; i < n; ++i)
      if (sp.index_of[i] == kNone) (never[i] ? sp.never : sp.always).push_back(i);
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
