// The match plan (compiler/ir/match_plan.h): which predicates are indexed by which constant discriminators, the
// `always` list, the greedy field choice, and the numbering every engine must agree on.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "jit_harness.h"

namespace braid::jittest {
namespace {

using Strings = std::vector<std::string>;
using Ids = std::vector<uint32_t>;

// The FieldId of a path; kNone when no rule reads it (required_values is then unconstrained), a failure when
// `must` is set.
ir::FieldId field_id(const ir::Program& p, const std::string& text, bool must = true) {
  for (ir::FieldId f = 0; f < p.fields.size(); ++f)
    if (p.fields[f].text == text) return f;
  if (must) ADD_FAILURE() << "no field " << text;
  return ir::kNone;
}

struct Planned {
  std::unique_ptr<Built> b;
  ir::MatchPlan plan;
  const ir::SourcePlan& src(const std::string& name = "j.src") const {
    return plan.sources.at(b->prog->source_index(name));
  }
  // The index over `field` of source `name`, or nullptr.
  const ir::DiscriminatorIndex* index(const std::string& field, const std::string& name = "j.src") const {
    ir::FieldId f = field_id(*b->prog, field);
    for (const auto& ix : src(name).indexes)
      if (ix.field == f) return &ix;
    return nullptr;
  }
  // The predicate id of rule `id` (its condition, or step `step`) in source `name`.
  uint32_t pred(const std::string& id, uint32_t step = ir::kNone, const std::string& name = "j.src") const {
    const auto& sp = src(name);
    for (uint32_t k = 0; k < sp.predicates.size(); ++k) {
      const ir::Predicate& pr = sp.predicates[k];
      if (b->prog->rules[pr.rule].id == id && pr.step == step) return k;
    }
    ADD_FAILURE() << "no predicate for " << id;
    return ir::kNone;
  }
  bool always(uint32_t k, const std::string& name = "j.src") const {
    const auto& a = src(name).always;
    return std::find(a.begin(), a.end(), k) != a.end();
  }
};

Planned plan_of(const std::string& rules) {
  Planned p;
  p.b = build_rules(rules);
  if (p.b->prog) p.plan = ir::build_match_plan(*p.b->prog);
  return p;
}

// One rule `r` with condition `cond`.
Planned plan_when(const std::string& cond) { return plan_of(event_rule("j.r", cond)); }

// The values `field` must have for the rule's condition (required_values), or {"<none>"} when unconstrained.
Strings required(const std::string& cond, const std::string& field) {
  auto b = build_rules(event_rule("j.r", cond));
  if (!b->prog) return {"<no program>"};
  const ir::Program& p = *b->prog;
  auto v = ir::required_values(p, p.rules.back().condition, field_id(p, field, false));
  return v ? *v : Strings{"<none>"};
}

// Every predicate is in exactly one index, one prefilter, `always` or `never`; index_of and prefilter_of agree with
// the lists, and `costly` is part of `always`.
void expect_consistent(const ir::MatchPlan& plan) {
  for (const ir::SourcePlan& sp : plan.sources) {
    ASSERT_EQ(sp.index_of.size(), sp.predicates.size());
    ASSERT_EQ(sp.prefilter_of.size(), sp.predicates.size());
    for (uint32_t k = 0; k < sp.predicates.size(); ++k) {
      auto in_always = std::count(sp.always.begin(), sp.always.end(), k);
      auto in_never = std::count(sp.never.begin(), sp.never.end(), k);
      auto in_pre = std::count(sp.prefiltered.begin(), sp.prefiltered.end(), k);
      EXPECT_EQ(in_pre, sp.prefilter_of[k] == ir::kNone ? 0 : 1) << k;
      if (std::count(sp.costly.begin(), sp.costly.end(), k)) {
        EXPECT_EQ(in_always, 1) << k;
      }
      if (sp.prefilter_of[k] != ir::kNone) {
        EXPECT_EQ(sp.index_of[k], ir::kNone) << k;
        ASSERT_LT(sp.prefilter_of[k], sp.prefilters.size());
        size_t listed = 0;
        for (const auto& l : sp.prefilters[sp.prefilter_of[k]].literals)
          listed += static_cast<size_t>(std::count(l.predicates.begin(), l.predicates.end(), k));
        EXPECT_GE(listed, 1u) << "prefiltered predicate " << k << " under no literal";
        continue;
      }
      EXPECT_EQ(in_always + in_never, sp.index_of[k] == ir::kNone ? 1 : 0) << k;
      if (sp.index_of[k] == ir::kNone) continue;
      ASSERT_LT(sp.index_of[k], sp.indexes.size());
      for (uint32_t x = 0; x < sp.indexes.size(); ++x)
        for (const auto& ids : sp.indexes[x].by_value) {
          if (std::count(ids.begin(), ids.end(), k)) {
            EXPECT_EQ(x, sp.index_of[k]) << "predicate in two indexes";
          }
        }
    }
    EXPECT_TRUE(std::is_sorted(sp.always.begin(), sp.always.end()));
    EXPECT_TRUE(std::is_sorted(sp.never.begin(), sp.never.end()));
    for (const auto& ix : sp.indexes) {
      EXPECT_TRUE(std::is_sorted(ix.values.begin(), ix.values.end()));
      EXPECT_EQ(std::adjacent_find(ix.values.begin(), ix.values.end()), ix.values.end());
      ASSERT_EQ(ix.by_value.size(), ix.values.size());
      for (const auto& ids : ix.by_value) EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Discriminator extraction (required_values)

TEST(MatchPlan, EqualityAndInGiveTheirConstants) {
  EXPECT_EQ(required("s == \"a\"", "s"), Strings{"a"});
  EXPECT_EQ(required("\"a\" == s", "s"), Strings{"a"});  // constant on the left
  EXPECT_EQ(required("s in [\"b\", \"a\", \"b\"]", "s"), (Strings{"a", "b"}));
  EXPECT_EQ(required("s in [\"\", \"x\"]", "s"), (Strings{"", "x"}));  // the empty string is a value like any
  EXPECT_EQ(required("s == \"a\"", "s2"), Strings{"<none>"});           // another field: no constraint
  EXPECT_EQ(required("s == s2", "s"), Strings{"<none>"});               // not a constant
  EXPECT_EQ(required("i == 3", "i"), Strings{"<none>"});                // integers are not indexed
  EXPECT_EQ(required("i in [1, 2]", "i"), Strings{"<none>"});
  EXPECT_EQ(required("s startswith \"a\"", "s"), Strings{"<none>"});    // a prefix is not an exact value
  EXPECT_EQ(required("s contains \"a\"", "s"), Strings{"<none>"});
}

TEST(MatchPlan, AndIntersectsOrUnitesNotDrops) {
  EXPECT_EQ(required("s == \"a\" and i > 3", "s"), Strings{"a"});
  EXPECT_EQ(required("i > 3 and s in [\"a\", \"b\"] and s in [\"b\", \"c\"]", "s"), Strings{"b"});
  EXPECT_EQ(required("s == \"a\" and s == \"b\"", "s"), Strings{});  // can never hold
  EXPECT_EQ(required("s == \"a\" or s in [\"c\", \"b\"]", "s"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(required("s == \"a\" or i > 3", "s"), Strings{"<none>"});      // one branch unconstrained
  EXPECT_EQ(required("s == \"a\" or s2 == \"b\"", "s"), Strings{"<none>"});
  EXPECT_EQ(required("(s == \"a\" or s == \"b\") and (s == \"b\" or i > 1)", "s"), (Strings{"a", "b"}));
  EXPECT_EQ(required("not (s == \"a\")", "s"), Strings{"<none>"});
  EXPECT_EQ(required("s != \"a\"", "s"), Strings{"<none>"});
  EXPECT_EQ(required("s not in [\"a\"]", "s"), Strings{"<none>"});
  EXPECT_EQ(required("not (not (s == \"a\"))", "s"), Strings{"<none>"});  // conservative: no double negation
}

TEST(MatchPlan, CaseInsensitiveComparisonsAreNotIndexed) {
  EXPECT_EQ(required("s ==~ \"a\"", "s"), Strings{"<none>"});
  EXPECT_EQ(required("s in~ [\"a\", \"b\"]", "s"), Strings{"<none>"});
  EXPECT_EQ(required("nc == \"a\"", "nc"), Strings{"<none>"});          // a `nocase` field
  EXPECT_EQ(required("nc in [\"a\"]", "nc"), Strings{"<none>"});
  EXPECT_EQ(required("s ==~ \"a\" and s == \"b\"", "s"), Strings{"b"});  // the exact part still constrains
  auto p = plan_when("nc == \"a\"");
  ASSERT_TRUE(p.b->prog);
  EXPECT_TRUE(p.src().indexes.empty());
  EXPECT_EQ(p.src().always, Ids{0});
}

TEST(MatchPlan, IpComparisons) {
  // An ip field with a string constant compares as text (bytewise): indexed. Two ip-typed operands compare as
  // addresses ("10.0.0.1" == "10.000.0.1" may hold), so such a pair is never an exact discriminator.
  auto b = build_rules(event_rule("j.r", "ip == \"10.0.0.1\""));
  ASSERT_TRUE(b->prog);
  const ir::Program& p = *b->prog;
  const ir::Node& eq = p.node(p.rules.back().condition);
  ASSERT_EQ(eq.op, ir::Op::Eq);
  bool ip_pair = p.node(p.op(eq, 0)).type.kind == ir::Kind::Ip && p.node(p.op(eq, 1)).type.kind == ir::Kind::Ip;
  auto v = ir::required_values(p, p.rules.back().condition, field_id(p, "ip"));
  if (ip_pair) {
    EXPECT_FALSE(v) << "an ip-typed pair must not be indexed bytewise";
  } else {
    EXPECT_EQ(v, Strings{"10.0.0.1"});
  }
  EXPECT_EQ(required("ip == ip2", "ip"), Strings{"<none>"});
  // A constant list on an ip field is a set of canonical address texts, matched bytewise by both engines.
  EXPECT_EQ(required("ip in [\"10.0.0.2\", \"10.0.0.1\"]", "ip"), (Strings{"10.0.0.1", "10.0.0.2"}));

  // Build an ip-typed pair by hand (the constant typed ip): not indexed, whatever the checker makes of literals.
  ir::Program q;
  ir::Source src;
  src.name = "h.src";
  ir::FieldId f = q.intern_field({ir::PathSeg{ir::PathSeg::Kind::Field, "addr", 0}});
  src.slots.push_back(ir::Slot{f, ir::Type::of(ir::Kind::Ip), true, false, {}});
  src.slot_index[f] = 0;
  q.sources.push_back(std::move(src));
  ir::Node fld{ir::Op::Field, 0, ir::Type::of(ir::Kind::Ip), 0, 0, static_cast<int64_t>(f), {}};
  ir::Node cst{ir::Op::String, 0, ir::Type::of(ir::Kind::Ip), 0, 0, static_cast<int64_t>(q.intern_string("10.0.0.1")), {}};
  ir::NodeId a = q.add_node(fld), c = q.add_node(cst);
  ir::NodeId ops[] = {a, c};
  ir::NodeId eqid = q.add_node(ir::Node{ir::Op::Eq, 0, ir::Type::of(ir::Kind::Bool), 0, 0, 0, {}}, ops);
  EXPECT_FALSE(ir::required_values(q, eqid, f));
  // The same pair with a string-typed constant is bytewise: indexed.
  ir::Node cst2 = cst;
  cst2.type = ir::Type::of(ir::Kind::String);
  ir::NodeId ops2[] = {a, q.add_node(cst2)};
  ir::NodeId eq2 = q.add_node(ir::Node{ir::Op::Eq, 0, ir::Type::of(ir::Kind::Bool), 0, 0, 0, {}}, ops2);
  EXPECT_EQ(ir::required_values(q, eq2, f), Strings{"10.0.0.1"});
}

TEST(MatchPlan, FalseNeverHolds) {
  EXPECT_EQ(required("false", "s"), Strings{});
  EXPECT_EQ(required("s == \"a\" and false", "s"), Strings{});
  EXPECT_EQ(required("false or s == \"a\"", "s"), Strings{"a"});
  EXPECT_EQ(required("true", "s"), Strings{"<none>"});
  // Predicates that cannot hold are in `never`: neither indexed nor evaluated for every event.
  auto p = plan_of(event_rule("j.a", "s == \"a\"") + event_rule("j.never", "false") +
                   event_rule("j.contradiction", "s == \"a\" and s == \"b\" and i > 1") +
                   event_rule("j.lone_false", "i > 1 and false"));
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  EXPECT_EQ(p.src().never, (Ids{p.pred("j.never"), p.pred("j.contradiction"), p.pred("j.lone_false")}));
  EXPECT_TRUE(p.src().always.empty());
  const auto* ix = p.index("s");
  ASSERT_TRUE(ix);
  EXPECT_EQ(ix->values, Strings{"a"});
  EXPECT_EQ(ix->by_value, (std::vector<Ids>{{p.pred("j.a")}}));
  // Alone in its source (no candidate field at all), `false` is still never evaluated.
  auto q = plan_of(event_rule("j.never", "false"));
  ASSERT_TRUE(q.b->prog);
  EXPECT_EQ(q.src().never, Ids{0});
  EXPECT_TRUE(q.src().always.empty());
}

TEST(MatchPlan, FieldTheSourceNeverReadsMeansNever) {
  // A cross-source rule: j.alt has no `eventName`, so on j.alt `eventName == "X"` is null == "X": never true.
  // On j.src the same predicate is indexed. (Not costly on either source.)
  auto p = plan_of(event_rule("j.cross", "eventName == \"X\" and i > 1", "j.src, j.alt") +
                   event_rule("j.cross_or", "eventName == \"X\" or kind == \"k\"", "j.src, j.alt") +
                   event_rule("j.cross_weak", "eventName == \"X\" or i > 1", "j.src, j.alt"));
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  const ir::Program& prog = *p.b->prog;
  uint32_t alt = prog.source_index("j.alt");
  ASSERT_EQ(prog.sources[alt].slot_of(field_id(prog, "eventName")), ir::kNone)
      << "the test needs a field j.alt does not read";
  EXPECT_EQ(p.src("j.alt").never, Ids{p.pred("j.cross", ir::kNone, "j.alt")});
  // `eventName == "X" or kind == "k"`: on j.alt only the `kind` branch can hold, but the plan does not prune
  // branches: `eventName` has no slot and `kind` is not required by both branches, so it is evaluated always.
  EXPECT_TRUE(p.always(p.pred("j.cross_or", ir::kNone, "j.alt"), "j.alt"));
  EXPECT_TRUE(p.always(p.pred("j.cross_weak", ir::kNone, "j.alt"), "j.alt"));
  EXPECT_TRUE(p.src("j.src").never.empty());
  EXPECT_FALSE(p.always(p.pred("j.cross")));
  EXPECT_TRUE(p.always(p.pred("j.cross_or")));  // two fields, neither required by both branches
}

TEST(MatchPlan, NotIndexableFields) {
  // `[*]` paths load lists and integer fields are not strings: neither can be a discriminator.
  auto p = plan_of(event_rule("j.tags", "tags[*] == \"x\"") + event_rule("j.elems", "items[*].v == \"x\"") +
                   event_rule("j.int", "i == 3") + event_rule("j.prefix", "s startswith \"x\""));
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  EXPECT_TRUE(p.src().indexes.empty());
  EXPECT_EQ(p.src().always, (Ids{0, 1, 2, 3}));
}

// ---------------------------------------------------------------------------------------------------------------
// Building the plan

TEST(MatchPlan, GreedyFieldChoice) {
  // eventName constrains three predicates, eventSource two (one of them also constrained by eventName): eventName
  // is chosen first and takes j.both; eventSource then indexes only j.src_only.
  auto p = plan_of(event_rule("j.name_a", "eventName == \"A\"") +
                   event_rule("j.both", "eventName == \"B\" and eventSource == \"x.amazonaws.com\"") +
                   event_rule("j.src_only", "eventSource == \"x.amazonaws.com\"") +
                   event_rule("j.name_cd", "eventName in [\"D\", \"C\"]") + event_rule("j.costly", "i > 3"));
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  const auto& sp = p.src();
  ASSERT_EQ(sp.indexes.size(), 2u);
  EXPECT_EQ(sp.indexes[0].field, field_id(*p.b->prog, "eventName"));
  EXPECT_EQ(sp.indexes[1].field, field_id(*p.b->prog, "eventSource"));
  EXPECT_EQ(sp.indexes[0].slot, p.b->prog->sources[0].slot_of(sp.indexes[0].field));
  EXPECT_EQ(sp.indexes[0].values, (Strings{"A", "B", "C", "D"}));
  EXPECT_EQ(sp.indexes[0].by_value,
            (std::vector<Ids>{{p.pred("j.name_a")}, {p.pred("j.both")}, {p.pred("j.name_cd")}, {p.pred("j.name_cd")}}));
  EXPECT_EQ(sp.indexes[1].values, Strings{"x.amazonaws.com"});
  EXPECT_EQ(sp.indexes[1].by_value, (std::vector<Ids>{{p.pred("j.src_only")}}));
  EXPECT_EQ(sp.index_of[p.pred("j.both")], 0u);
  EXPECT_EQ(sp.always, Ids{p.pred("j.costly")});

  // With the counts reversed, eventSource wins.
  auto q = plan_of(event_rule("j.s1", "eventSource == \"a\"") + event_rule("j.s2", "eventSource == \"b\"") +
                   event_rule("j.both", "eventName == \"N\" and eventSource == \"a\""));
  ASSERT_TRUE(q.b->prog);
  ASSERT_EQ(q.src().indexes.size(), 1u);
  EXPECT_EQ(q.src().indexes[0].field, field_id(*q.b->prog, "eventSource"));
  EXPECT_EQ(q.src().indexes[0].by_value,
            (std::vector<Ids>{{q.pred("j.s1"), q.pred("j.both")}, {q.pred("j.s2")}}));
}

TEST(MatchPlan, SharedValuesListEveryPredicate) {
  auto p = plan_of(event_rule("j.ab", "s in [\"a\", \"b\"]") + event_rule("j.b", "s == \"b\" and i > 1") +
                   event_rule("j.c_or_b", "s == \"c\" or s == \"b\""));
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  const auto* ix = p.index("s");
  ASSERT_TRUE(ix);
  EXPECT_EQ(ix->values, (Strings{"a", "b", "c"}));
  EXPECT_EQ(ix->by_value, (std::vector<Ids>{{0}, {0, 1, 2}, {2}}));
  EXPECT_TRUE(p.src().always.empty());
}

TEST(MatchPlan, AlwaysListsWhatNoIndexCovers) {
  auto p = plan_of(event_rule("j.idx", "s == \"a\"") + event_rule("j.or2", "s == \"a\" or s2 == \"b\"") +
                   event_rule("j.negated", "s != \"a\"") + event_rule("j.nocase", "s ==~ \"A\"") +
                   event_rule("j.num", "i > 1 and f < 2.5") + event_rule("j.idx2", "i > 1 and s2 == \"z\""));
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  EXPECT_EQ(p.src().always, (Ids{p.pred("j.or2"), p.pred("j.negated"), p.pred("j.nocase"), p.pred("j.num")}));
  EXPECT_FALSE(p.always(p.pred("j.idx")));
  EXPECT_FALSE(p.always(p.pred("j.idx2")));
}

TEST(MatchPlan, NumberingIsProgramOrderPerSource) {
  std::string rules = event_rule("j.e1", "s == \"a\"") +
                      "rule j.sess {\n" + meta("j.sess") +
                      "  session {\n    step x = eventName == \"X\"\n    step y = i > 2\n    when x -> y\n  }\n}\n" +
                      event_rule("j.alt_only", "kind == \"k\"", "j.alt") +
                      event_rule("j.both", "s == \"b\"", "j.src, j.alt") + event_rule("j.e2", "i == 1");
  auto p = plan_of(rules);
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  const ir::Program& prog = *p.b->prog;
  const auto& sp = p.src();
  ASSERT_EQ(sp.predicates.size(), 5u);
  auto rule_of = [&](uint32_t k) { return prog.rules[sp.predicates[k].rule].id; };
  EXPECT_EQ(rule_of(0), "j.e1");
  EXPECT_EQ(rule_of(1), "j.sess");
  EXPECT_EQ(sp.predicates[1].step, 0u);
  EXPECT_EQ(rule_of(2), "j.sess");
  EXPECT_EQ(sp.predicates[2].step, 1u);
  EXPECT_EQ(sp.predicates[2].node, prog.rules[sp.predicates[2].rule].steps[1].pred);
  EXPECT_EQ(rule_of(3), "j.both");
  EXPECT_EQ(rule_of(4), "j.e2");
  EXPECT_EQ(sp.predicates[0].step, ir::kNone);
  EXPECT_EQ(sp.predicates[0].node, prog.rules[sp.predicates[0].rule].condition);
  const auto& alt = p.src("j.alt");
  ASSERT_EQ(alt.predicates.size(), 2u);
  EXPECT_EQ(prog.rules[alt.predicates[0].rule].id, "j.alt_only");
  EXPECT_EQ(prog.rules[alt.predicates[1].rule].id, "j.both");

  // Deterministic: the same program planned twice, and the same text compiled twice, give the same plan.
  auto same = [](const ir::MatchPlan& a, const ir::MatchPlan& b) {
    if (a.sources.size() != b.sources.size()) return false;
    for (size_t s = 0; s < a.sources.size(); ++s) {
      const auto &x = a.sources[s], &y = b.sources[s];
      if (x.predicates.size() != y.predicates.size() || x.always != y.always || x.index_of != y.index_of ||
          x.indexes.size() != y.indexes.size())
        return false;
      for (size_t k = 0; k < x.predicates.size(); ++k)
        if (x.predicates[k].rule != y.predicates[k].rule || x.predicates[k].step != y.predicates[k].step ||
            x.predicates[k].node != y.predicates[k].node)
          return false;
      for (size_t k = 0; k < x.indexes.size(); ++k)
        if (x.indexes[k].field != y.indexes[k].field || x.indexes[k].slot != y.indexes[k].slot ||
            x.indexes[k].values != y.indexes[k].values || x.indexes[k].by_value != y.indexes[k].by_value)
          return false;
    }
    return true;
  };
  EXPECT_TRUE(same(p.plan, ir::build_match_plan(prog)));
  auto again = plan_of(rules);
  ASSERT_TRUE(again.b->prog);
  EXPECT_TRUE(same(p.plan, again.plan));
}

// ---------------------------------------------------------------------------------------------------------------
// Prefilter literals (required_literals) and prefilters

std::string show(const std::optional<std::vector<ir::PrefilterLiteral>>& v) {
  if (!v) return "<none>";
  std::string o;
  for (const auto& l : *v) o += (o.empty() ? "" : " ") + l.text + (l.nocase ? "~" : "");
  return o;
}

std::string literals(const std::string& cond, const std::string& field) {
  auto b = build_rules(event_rule("j.r", cond));
  if (!b->prog) return "<no program>";
  const ir::Program& p = *b->prog;
  return show(ir::required_literals(p, p.rules.back().condition, field_id(p, field, false)));
}

TEST(MatchPlan, LiteralsEveryMatchNeeds) {
  EXPECT_EQ(literals("s contains \"ab\"", "s"), "ab");
  EXPECT_EQ(literals("s startswith \"pre\"", "s"), "pre");
  EXPECT_EQ(literals("s endswith \".com\"", "s"), ".com");
  EXPECT_EQ(literals("s like \"a*bcd?e\"", "s"), "bcd");       // the longest run without wildcards
  EXPECT_EQ(literals("s like \"*x\\\\*yz*\"", "s"), "x*yz");       // an escaped star is a literal star
  EXPECT_EQ(literals("s == \"a\"", "s"), "a");                   // exact equality implies containment
  EXPECT_EQ(literals("s in [\"b\", \"a\"]", "s"), "a b");
  EXPECT_EQ(literals("s ==~ \"Ab\"", "s"), "Ab~");                // case-insensitive: folded by the scan
  EXPECT_EQ(literals("s contains~ \"Ab\"", "s"), "Ab~");
  EXPECT_EQ(literals("s in~ [\"A\", \"b\"]", "s"), "a~ b~");          // (a case-insensitive set is stored folded)
  EXPECT_EQ(literals("nc == \"a\"", "nc"), "a~");                 // a `nocase` field
  EXPECT_EQ(literals("nc == cased \"a\"", "nc"), "a");            // ... unless written `cased`
  EXPECT_EQ(literals("s contains any [\"x\", \"yy\"]", "s"), "x yy");
  EXPECT_EQ(literals("s like any [\"*ab*\", \"c?d\"]", "s"), "ab c");
  EXPECT_EQ(literals("s contains \"a\" or s == \"b\"", "s"), "a b");
  EXPECT_EQ(literals("s contains \"a\" and s contains \"long\"", "s"), "long");  // the most selective conjunct
  EXPECT_EQ(literals("s contains \"a\" and i > 1", "s"), "a");
  // Nothing every match needs.
  EXPECT_EQ(literals("s contains \"a\" or i > 1", "s"), "<none>");
  EXPECT_EQ(literals("s contains \"a\" or s2 contains \"b\"", "s"), "<none>");
  EXPECT_EQ(literals("not (s contains \"a\")", "s"), "<none>");
  EXPECT_EQ(literals("s contains \"\"", "s"), "<none>");
  EXPECT_EQ(literals("s == \"\"", "s"), "<none>");
  EXPECT_EQ(literals("s like \"*?*\"", "s"), "<none>");
  EXPECT_EQ(literals("s contains any [\"a\", \"\"]", "s"), "<none>");
  // A regex: RE2's prefilter atoms (lowercased, so scanned case-insensitively), when they exist.
  EXPECT_EQ(literals("s matches r\"abc\"", "s"), "abc~");
  EXPECT_EQ(literals("s matches r\"^arn:aws:(iam|sts)::\"", "s"), "arn:aws:iam::~ arn:aws:sts::~");
  EXPECT_EQ(literals("s matches r\"Invoke-Mimikatz\"", "s"), "invoke-mimikatz~");
  EXPECT_EQ(literals("s matches r\"[0-9]+\\.exe\"", "s"), ".exe~");
  EXPECT_EQ(literals("s matches r\"abc|\\d+\"", "s"), "<none>");  // a branch without a literal
  EXPECT_EQ(literals("s matches r\"^a+$\"", "s"), "<none>");          // shorter than 3
  EXPECT_EQ(literals("s matches r\"\xc3\xa9t\xc3\xa9s\"", "s"), "<none>");  // non-ASCII: RE2 folds it by Unicode
  EXPECT_EQ(literals("s contains s2", "s"), "<none>");
  EXPECT_EQ(literals("\"abc\" contains s", "s"), "<none>");
  EXPECT_EQ(literals("lower(s) contains \"a\"", "s"), "<none>");
  EXPECT_EQ(literals("s contains \"a\"", "s2"), "<none>");
}

TEST(MatchPlan, PrefilterNeedsEnoughDistinctPredicates) {
  // Three distinct literal predicates on `s` (and a fourth equal to one of them): below kMinPrefilterPredicates,
  // so they are evaluated on every event, but are not costly.
  static_assert(ir::kMinPrefilterPredicates == 4, "the rule counts below assume 4");
  std::string three = event_rule("j.a", "s contains \"alpha\"") + event_rule("j.b", "s startswith \"beta\"") +
                      event_rule("j.c", "s ==~ \"Gamma\" and i > 1") +
                      event_rule("j.a2", "s contains \"alpha\"");
  auto p = plan_of(three + event_rule("j.num", "i > 5"));
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  EXPECT_TRUE(p.src().prefilters.empty());
  EXPECT_EQ(p.src().always.size(), 5u);
  EXPECT_EQ(p.src().costly, Ids{p.pred("j.num")});

  // A fourth distinct one makes a prefilter on `s`: one literal table for all of them.
  auto q = plan_of(three + event_rule("j.d", "s endswith \"delta\" or s like \"*eps*\"") +
                   event_rule("j.idx", "s == \"exact\" and s contains \"x\"") + event_rule("j.num", "i > 5"));
  ASSERT_TRUE(q.b->prog);
  expect_consistent(q.plan);
  const auto& sp = q.src();
  ASSERT_EQ(sp.prefilters.size(), 1u);
  const auto& pf = sp.prefilters[0];
  EXPECT_EQ(pf.field, field_id(*q.b->prog, "s"));
  EXPECT_EQ(pf.slot, q.b->prog->sources[0].slot_of(pf.field));
  std::vector<std::string> got;
  for (const auto& l : pf.literals) {
    std::string ids;
    for (uint32_t k : l.predicates) ids += " " + q.b->prog->rules[sp.predicates[k].rule].id;
    got.push_back(l.text + (l.nocase ? "~" : "") + ":" + ids);
  }
  EXPECT_EQ(got, (Strings{"Gamma~: j.c", "alpha: j.a j.a2", "beta: j.b", "delta: j.d", "eps: j.d"}));
  EXPECT_EQ(sp.prefiltered, (Ids{q.pred("j.a"), q.pred("j.b"), q.pred("j.c"), q.pred("j.a2"), q.pred("j.d")}));
  // The exact value still selects j.idx through the index; `always` keeps the rest.
  EXPECT_EQ(sp.index_of[q.pred("j.idx")], 0u);
  EXPECT_EQ(sp.always, Ids{q.pred("j.num")});
  EXPECT_EQ(sp.costly, Ids{q.pred("j.num")});
  EXPECT_TRUE(q.src("j.alt").prefilters.empty());
}

TEST(MatchPlan, PrefilterOnlyOnPlainStringFields) {
  // `[*]` paths, objects and ip fields are not scanned; neither is a field the source does not read.
  std::string rules;
  for (int i = 0; i < 5; ++i) {
    std::string n = std::to_string(i);
    rules += event_rule("j.t" + n, "tags[*] contains \"t" + n + "\"") +
             event_rule("j.o" + n, "o contains \"o" + n + "\"");
  }
  auto p = plan_of(rules);
  ASSERT_TRUE(p.b->prog);
  expect_consistent(p.plan);
  EXPECT_TRUE(p.src().prefilters.empty());
}

TEST(MatchPlan, DisabledRulesArePlannedToo) {
  auto p = plan_of("rule j.off {\n" + meta("j.off") + "  enabled false\n  when s == \"a\"\n}\n" +
                   event_rule("j.on", "s == \"b\""));
  ASSERT_TRUE(p.b->prog);
  ASSERT_EQ(p.src().predicates.size(), 2u);
  EXPECT_EQ(p.pred("j.on"), 1u);
}

TEST(MatchPlan, MalformedNodesAreNotIndexedAndDoNotCrash) {
  // A set or string id out of range (a corrupt program) is simply not a discriminator.
  auto b = build_rules(event_rule("j.r", "s in [\"a\", \"b\"]") + event_rule("j.q", "s == \"c\""));
  ASSERT_TRUE(b->prog);
  ir::Program& p = *b->prog;
  ir::NodeId in = p.rules[0].condition, eq = p.rules[1].condition;
  ASSERT_EQ(p.node(in).op, ir::Op::InSet);
  p.nodes[in].imm = 999999;
  const ir::Node& e = p.node(eq);
  ir::NodeId cst = p.node(p.op(e, 1)).op == ir::Op::String ? p.op(e, 1) : p.op(e, 0);
  p.nodes[cst].imm = 999999;
  ir::MatchPlan plan = ir::build_match_plan(p);
  expect_consistent(plan);
  EXPECT_EQ(plan.sources[0].always, (Ids{0, 1}));
  EXPECT_FALSE(ir::required_values(p, ir::kNoNode, 0));
}

}  // namespace
}  // namespace braid::jittest
