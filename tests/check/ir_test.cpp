// Unit tests of compiler/ir: interning, addresses, dumps. Independent of the parser and the checker.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "check/checker.h"
#include "ir/ir.h"
#include "ir/validate.h"

namespace braid::ir {
namespace {

TEST(IrIntern, StringsAreInternedOnce) {
  Program p;
  StrId a = p.intern_string("abc");
  StrId b = p.intern_string("def");
  EXPECT_EQ(p.intern_string("abc"), a);
  EXPECT_NE(a, b);
  EXPECT_EQ(p.strings.size(), 2u);
}

TEST(IrIntern, SetsAreSortedDedupedAndShared) {
  Program p;
  ConstSet s1;
  s1.strings = {"b", "a", "b"};
  ConstSet s2;
  s2.strings = {"a", "b"};
  ConstSet s3 = s2;
  s3.nocase = true;
  SetId a = p.intern_set(s1);
  EXPECT_EQ(p.intern_set(s2), a);
  EXPECT_NE(p.intern_set(s3), a);
  ASSERT_EQ(p.sets[a].strings.size(), 2u);
  EXPECT_EQ(p.sets[a].strings[0], "a");
  ConstSet ints;
  ints.elem = Kind::Int;
  ints.ints = {3, 1, 3, 2};
  SetId i = p.intern_set(ints);
  EXPECT_EQ(p.sets[i].ints, (std::vector<int64_t>{1, 2, 3}));
}

TEST(IrIntern, FieldsAndRegexes) {
  Program p;
  std::vector<PathSeg> a = {{PathSeg::Kind::Field, "resources", 0}, {PathSeg::Kind::Any, "", 0},
                            {PathSeg::Kind::Field, "ARN", 0}};
  FieldId f = p.intern_field(a);
  EXPECT_EQ(p.intern_field(a), f);
  EXPECT_EQ(p.fields[f].text, "resources[*].ARN");
  EXPECT_TRUE(p.fields[f].has_any());
  std::vector<PathSeg> q = {{PathSeg::Kind::Field, "odd-name", 0}, {PathSeg::Kind::Index, "", 2}};
  EXPECT_EQ(p.fields[p.intern_field(q)].text, "\"odd-name\"[2]");
  RegexId r = p.intern_regex("^a", false);
  EXPECT_EQ(p.intern_regex("^a", false), r);
  EXPECT_NE(p.intern_regex("^a", true), r);
}

TEST(IrAddress, ParseCidr) {
  auto c = parse_cidr("10.1.2.3/8");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->v6);
  EXPECT_EQ(c->prefix, 8);
  EXPECT_EQ(c->text, "10.0.0.0/8");
  auto h = parse_cidr("192.168.1.7");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->prefix, 32);
  auto v6 = parse_cidr("2001:db8:ffff::1/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->text, "2001:db8::/32");
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("10.0.0/8"));
  EXPECT_FALSE(parse_cidr("::/129"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("hello"));
}

TEST(IrAddress, CidrSetsDedupe) {
  Program p;
  CidrSet a;
  a.cidrs = {*parse_cidr("10.0.0.0/8"), *parse_cidr("10.9.9.9/8"), *parse_cidr("::1")};
  CidrSetId id = p.intern_cidr_set(a);
  ASSERT_EQ(p.cidr_sets[id].cidrs.size(), 2u);
  EXPECT_FALSE(p.cidr_sets[id].cidrs[0].v6);  // v4 first
  CidrSet b;
  b.cidrs = {*parse_cidr("::1/128"), *parse_cidr("10.0.0.0/8")};
  EXPECT_EQ(p.intern_cidr_set(b), id);
}

TEST(IrAddress, CanonicalIp) {
  EXPECT_EQ(canonical_ip("10.0.0.1").value_or(""), "10.0.0.1");
  EXPECT_EQ(canonical_ip("2001:DB8:0:0::1").value_or(""), "2001:db8::1");
  EXPECT_FALSE(canonical_ip("10.0.0"));
  EXPECT_FALSE(canonical_ip("x"));
}

TEST(IrDump, NodesAndNames) {
  Program p;
  Node s;
  s.op = Op::String;
  s.type = Type::of(Kind::String);
  s.imm = p.intern_string("x");
  NodeId a = p.add_node(s);
  Node f;
  f.op = Op::Field;
  f.type = Type::of(Kind::String);
  f.imm = p.intern_field({{PathSeg::Kind::Field, "eventName", 0}});
  NodeId b = p.add_node(f);
  Node eq;
  eq.op = Op::Eq;
  eq.flags = kFlagNoCase;
  eq.type = Type::of(Kind::Bool);
  NodeId ids[] = {b, a};
  NodeId e = p.add_node(eq, ids);
  EXPECT_EQ(dump_expr(p, e), "(eq~ $eventName \"x\")");
  EXPECT_EQ(p.ops(p.node(e)).size(), 2u);
  EXPECT_EQ(type_name(Type::list(Kind::String)), "list<string>");
  EXPECT_EQ(attribute_name(Attribute::ChainRootIdentity), "chain.root.identity");
  EXPECT_EQ(attribute_type(Attribute::SessionDuration), Type::of(Kind::Duration));
}

// The op table (ops.def): the enum, op_name and the facts derive from one row per op. Names are what dumps and
// packs show, and dumps are digested into checkpoints, so they must not change.
TEST(IrOps, TableMatchesTheEnumAndKeepsItsNames) {
  ASSERT_EQ(kOpCount, sizeof(kOps) / sizeof(kOps[0]));
  std::set<std::string_view> names;
  for (size_t i = 0; i < kOpCount; ++i) {
    const OpInfo& o = kOps[i];
    EXPECT_EQ(static_cast<size_t>(o.op), i);
    EXPECT_TRUE(names.insert(o.name).second) << o.name;
    EXPECT_LE(o.min_ops, o.max_ops) << o.name;
    EXPECT_EQ(op_name(o.op), o.name);
  }
  EXPECT_EQ(op_name(Op::String), "str");
  EXPECT_EQ(op_name(Op::Duration), "dur");
  EXPECT_EQ(op_name(Op::ContainsAny), "contains_any");
  EXPECT_EQ(op_name(Op::AnyElem), "any_elem");
  EXPECT_EQ(op_name(Op::ListAt), "list_at");
  EXPECT_EQ(op_name(static_cast<Op>(kOpCount)), "?");
  EXPECT_EQ(op_info(Op::And).min_ops, 2u);
  EXPECT_EQ(op_info(Op::And).max_ops, kVariadic);
  EXPECT_EQ(op_info(Op::Coalesce).min_ops, 1u);
  EXPECT_EQ(op_info(Op::Matches).max_ops, 1u);
  EXPECT_EQ(op_info(Op::InCidr).imm, ImmKind::CidrSet);
  EXPECT_TRUE(op_is(Op::Ge, kOpComparison));
  EXPECT_FALSE(op_is(Op::Concat, kOpNullIn));
}

// ir::validate (ir/validate.h): the structural checks every loaded pack passes, each failure naming its node or
// rule.
Program small_program() {
  Program p;
  Node f;
  f.op = Op::Field;
  f.type = Type::of(Kind::String);
  f.imm = p.intern_field({{PathSeg::Kind::Field, "eventName", 0}});
  NodeId field = p.add_node(f);
  Node c;
  c.op = Op::String;
  c.type = Type::of(Kind::String);
  c.imm = p.intern_string("GetObject");
  NodeId cst = p.add_node(c);
  Node eq;
  eq.op = Op::Eq;
  eq.type = Type::of(Kind::Bool);
  NodeId ops[] = {field, cst};
  NodeId cond = p.add_node(eq, ops);
  Rule r;
  r.id = "t.rule";
  r.condition = cond;
  p.rules.push_back(std::move(r));
  return p;
}

std::string validate_with(const std::function<void(Program&)>& change) {
  Program p = small_program();
  change(p);
  return validate(p);
}

TEST(IrValidate, AcceptsAWellFormedProgram) { EXPECT_EQ(validate(small_program()), ""); }

TEST(IrValidate, RejectsAWrongOperandCount) {
  EXPECT_EQ(validate_with([](Program& p) { p.nodes[2].ops_count = 1; }), "node 2 (eq): 1 operands");
  std::string e = validate_with([](Program& p) {
    Node a;
    a.op = Op::And;
    a.type = Type::of(Kind::Bool);
    NodeId one[] = {2};
    p.add_node(a, one);  // `and` takes two or more
  });
  EXPECT_EQ(e, "node 3 (and): 1 operands");
}

TEST(IrValidate, RejectsOperandsOutOfRangeOrAfterTheirUser) {
  EXPECT_EQ(validate_with([](Program& p) { p.nodes[2].ops_begin = 1; }), "node 2 (eq): operands out of range");
  EXPECT_EQ(validate_with([](Program& p) { p.operands[1] = 2; }), "node 2 (eq): operand 2 does not precede it");
}

TEST(IrValidate, RejectsImmediatesOutsideTheirTables) {
  EXPECT_EQ(validate_with([](Program& p) { p.nodes[1].imm = 7; }), "node 1 (str) refers to string 7 of 1");
  EXPECT_EQ(validate_with([](Program& p) { p.nodes[0].imm = -1; }), "node 0 (field) refers to field -1 of 1");
  EXPECT_EQ(validate_with([](Program& p) {
              p.nodes[0].op = Op::Attr;
              p.nodes[0].imm = 99;
            }),
            "node 0 (attr): no attribute 99");
  EXPECT_EQ(validate_with([](Program& p) {
              p.nodes[1].op = Op::Bool;
              p.nodes[1].type = Type::of(Kind::Bool);
              p.nodes[1].imm = 2;
            }),
            "node 1 (bool): a boolean of 2");
  // Agg and Seq index the tables of the rule that reads them.
  EXPECT_EQ(validate_with([](Program& p) {
              p.nodes[0].op = Op::Agg;
              p.nodes[0].imm = 3;
            }),
            "rule 0 (t.rule): node 0 (agg) refers to aggregate 3 of 0");
}

TEST(IrValidate, RejectsAFixedResultKindOfAnotherType) {
  EXPECT_EQ(validate_with([](Program& p) { p.nodes[2].type = Type::of(Kind::Int); }),
            "node 2 (eq): its type is int, not bool");
}

TEST(IrValidate, RejectsBadRuleAndSourceReferences) {
  EXPECT_EQ(validate_with([](Program& p) { p.rules[0].condition = 9; }),
            "rule 0 (t.rule) condition refers to node 9 of 3");
  EXPECT_EQ(validate_with([](Program& p) { p.rules[0].scope = Scope::Group; }),
            "rule 0 (t.rule) is a group rule without `group by`");
  EXPECT_EQ(validate_with([](Program& p) {
              Source s;
              s.name = "t.src";
              s.slots.push_back(Slot{0, Type::of(Kind::String), false, false, {}});
              p.sources.push_back(std::move(s));
            }),
            "source 0 (t.src) has 1 slots but 0 slot index entries (one slot per field)");
}

TEST(IrValidate, EnumValues) {
  EXPECT_TRUE(is_valid(Kind::Object));
  EXPECT_FALSE(is_valid(static_cast<Kind>(200)));
  EXPECT_TRUE(is_valid(Op::ListAt));
  EXPECT_FALSE(is_valid(static_cast<Op>(kOpCount)));
  EXPECT_TRUE(is_valid(Attribute::ChainAccounts));
  EXPECT_FALSE(is_valid(static_cast<Attribute>(static_cast<int>(Attribute::ChainAccounts) + 1)));
  EXPECT_TRUE(is_valid(Scope::Group));
  EXPECT_FALSE(is_valid(static_cast<Scope>(static_cast<int>(Scope::Group) + 1)));
  EXPECT_FALSE(is_valid(static_cast<AggKind>(kAggKindCount)));
  EXPECT_FALSE(is_valid(static_cast<PathSeg::Kind>(3)));
  EXPECT_FALSE(is_valid(static_cast<TestCase::Expect>(4)));
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("eventName", "eventName"), 0u);
  EXPECT_EQ(edit_distance("eventNmae", "eventName"), 1u);  // transposition
  EXPECT_EQ(edit_distance("evntName", "eventName"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(did_you_mean("evnetName", {"eventName", "eventSource"}), "eventName");
  EXPECT_EQ(did_you_mean("EVENTNAME", {"eventName", "eventSource"}), "eventName");
  EXPECT_EQ(did_you_mean("zzz", {"eventName", "eventSource"}), "");
}

}  // namespace
}  // namespace braid::ir
