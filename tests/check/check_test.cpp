// Unit tests of the checker: every diagnostic path, and the shape of the IR it produces.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "check/checker.h"
#include "ir/ir.h"
#include "parser/parser.h"

namespace braid {
namespace {

// A source every test can use; each test adds its own rules.
const char* kSource = R"(
source test.src {
  recognize eventSource == "test"
  time eventTime
  identity userIdentity.arn
  credential userIdentity.accessKeyId
  ip sourceIPAddress
  session gap 30m max 12h
  fields {
    eventSource: string,
    eventName: string,
    eventTime: time,
    sourceIPAddress: ip,
    userAgent?: string,
    userName: string nocase,
    n: int,
    bytes?: float,
    ok: bool,
    userIdentity: { arn: string, accessKeyId?: string, type: string },
    resources?: [{ ARN: string, type: string }],
    tags: [string],
    requestParameters: { ... },
    extra: object,
  }
}
)";

struct Run {
  SourceManager sm;
  DiagnosticSink diags;
  std::vector<ast::File> files;
  std::unique_ptr<ir::Program> prog;

  bool has(Code c) const {
    return std::any_of(diags.all().begin(), diags.all().end(), [&](const Diagnostic& d) { return d.code == c; });
  }
  const Diagnostic* get(Code c) const {
    for (const auto& d : diags.all())
      if (d.code == c) return &d;
    return nullptr;
  }
  size_t count(Code c) const {
    return static_cast<size_t>(
        std::count_if(diags.all().begin(), diags.all().end(), [&](const Diagnostic& d) { return d.code == c; }));
  }
  std::string all_text() const {
    std::string out;
    for (const auto& d : diags.all())
      out += std::string(code_info(d.code).id) + ": " + d.message + (d.help.empty() ? "" : " [" + d.help + "]") + "\n";
    return out;
  }
  const ir::Rule& rule(std::string_view id) const {
    const ir::Rule* r = prog->find_rule(id);
    EXPECT_NE(r, nullptr) << id;
    return *r;
  }
  std::string cond(std::string_view id) const { return ir::dump_expr(*prog, rule(id).condition); }
  std::string slice(Span s) const { return std::string(sm.slice(s)); }
};

// Parses each text as one file (in order) and checks them together.
std::unique_ptr<Run> check_files(const std::vector<std::string>& texts) {
  auto r = std::make_unique<Run>();
  std::vector<FileId> ids;
  for (size_t i = 0; i < texts.size(); ++i) ids.push_back(r->sm.add("dir/file" + std::to_string(i) + ".braid", texts[i]));
  for (FileId id : ids) r->files.push_back(parse_file(r->sm, id, r->diags));
  EXPECT_FALSE(r->diags.has_errors()) << "syntax errors:\n" << r->all_text();
  std::vector<const ast::File*> ptrs;
  for (const auto& f : r->files) ptrs.push_back(&f);
  r->prog = check(ptrs, r->sm, r->diags);
  EXPECT_NE(r->prog, nullptr);
  return r;
}

std::unique_ptr<Run> check_src(const std::string& text) { return check_files({std::string(kSource) + text}); }

// An event-scope rule `t.r` with the given condition.
std::unique_ptr<Run> event_rule(const std::string& when, const std::string& extra = "") {
  return check_src(extra + "\nrule t.r {\n  title \"t\"\n  severity high\n  source test.src\n  message \"m\"\n  when " +
                   when + "\n}\n");
}

// A session-scope rule `t.s` with steps a (eventName == "A") and b (eventName == "B").
std::unique_ptr<Run> session_rule(const std::string& when, const std::string& extra = "",
                                  const std::string& scope = "session", const std::string& message = "m") {
  return check_src(extra + "\nrule t.s {\n  title \"t\"\n  severity high\n  source test.src\n  message \"" + message +
                   "\"\n  " + scope + " {\n    step a = eventName == \"A\"\n    step b = eventName == \"B\"\n    when " +
                   when + "\n  }\n}\n");
}

#define EXPECT_CLEAN(run) EXPECT_FALSE((run)->diags.has_errors()) << (run)->all_text()
#define EXPECT_CODE(run, code) EXPECT_TRUE((run)->has(code)) << "expected " #code ", got:\n" << (run)->all_text()

// ---------------------------------------------------------------------------------------------------------------
// Positive: IR shape

TEST(CheckIr, ValidEventRule) {
  auto r = event_rule(R"(eventName == "ListUsers" and userIdentity.type != "Root")");
  EXPECT_CLEAN(r);
  const auto& rule = r->rule("t.r");
  EXPECT_EQ(rule.scope, ir::Scope::Event);
  EXPECT_EQ(rule.firing, ir::Firing::Immediate);
  EXPECT_EQ(rule.meta.severity, ir::Severity::High);
  ASSERT_EQ(rule.sources.size(), 1u);
  EXPECT_EQ(r->cond("t.r"), R"((and (eq $eventName "ListUsers") (not (eq $userIdentity.type "Root"))))");
  EXPECT_EQ(r->prog->node(rule.condition).type, ir::Type::of(ir::Kind::Bool));
}

// Names copied from other tools (issue 11 item 9): quoted segments are part of the name, in declarations and
// references alike; the rule's id is the name without quotes.
TEST(CheckIr, QuotedNameSegments) {
  auto r = check_src(R"(
list acme."bad-ips" = ["198.51.100.1"]
macro acme.dns."zone-change"(m) = m startswith "dns."
rule GCP.DNS.Zone.Modified."or".Deleted {
  title "t"
  severity low
  source test.src
  message "m"
  when sourceIPAddress in acme."bad-ips" and acme.dns."zone-change"(eventName) and userAgent in acme.bad_ips
}
list acme.bad_ips = ["x"]
)");
  EXPECT_CLEAN(r);
  const ir::Rule* rule = r->prog->find_rule("GCP.DNS.Zone.Modified.or.Deleted");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(ir::dump_expr(*r->prog, rule->condition).find("unknown"), std::string::npos);
  // An undeclared quoted name is reported by its name, with the declared one suggested in its spelling.
  auto u = event_rule(R"(eventName in acme."bad-ipz")", "list acme.\"bad-ips\" = [\"a\"]\n");
  const Diagnostic* d = u->get(Code::BRD0108);
  ASSERT_NE(d, nullptr) << u->all_text();
  EXPECT_NE(d->message.find("acme.bad-ipz"), std::string::npos) << d->message;
  ASSERT_TRUE(d->fix);
  EXPECT_EQ(d->fix->replacement, "acme.\"bad-ips\"");
}

// `cased` (issue 11 item 8): the comparison loses the nocase-field flag both engines read, and keeps a mark for lint.
TEST(CheckIr, CasedDropsTheNocaseField) {
  auto r = event_rule(R"(userName == cased "Bob" and userName in cased ["A"] and userName contains cased "B" and userName == "Bob")");
  EXPECT_CLEAN(r);
  const auto& conj = r->prog->node(r->rule("t.r").condition);
  ASSERT_EQ(conj.op, ir::Op::And);
  for (uint32_t i = 0; i < 3; ++i) {
    const auto& n = r->prog->node(r->prog->op(conj, i));
    EXPECT_FALSE(n.has(ir::kFlagNocaseField)) << i;
    EXPECT_TRUE(n.has(ir::kFlagCased)) << i;
  }
  const auto& plain = r->prog->node(r->prog->op(conj, 3));
  EXPECT_TRUE(plain.has(ir::kFlagNocaseField));
  EXPECT_FALSE(plain.has(ir::kFlagCased));
  EXPECT_NE(r->cond("t.r").find("eq-cased"), std::string::npos) << r->cond("t.r");
}

TEST(CheckIr, SourceClauses) {
  auto r = event_rule("true");
  EXPECT_CLEAN(r);
  const ir::Source* s = r->prog->find_source("test.src");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ir::dump_expr(*r->prog, s->recognize), R"((eq $eventSource "test"))");
  EXPECT_EQ(ir::dump_expr(*r->prog, s->time), "$eventTime");
  EXPECT_EQ(ir::dump_expr(*r->prog, s->identity), "$userIdentity.arn");
  EXPECT_EQ(s->session_gap, 30LL * 60 * 1000000000);
  EXPECT_EQ(s->session_max, 12LL * 3600 * 1000000000);
  EXPECT_EQ(s->schema.shape, ir::SchemaType::Shape::Record);
  EXPECT_EQ(s->schema.fields.size(), 14u);
  auto it = std::find_if(s->schema.fields.begin(), s->schema.fields.end(),
                         [](const ir::SchemaField& f) { return f.name == "userName"; });
  ASSERT_NE(it, s->schema.fields.end());
  EXPECT_TRUE(it->nocase);
}

TEST(CheckIr, SlotsInternedOnce) {
  auto r = check_src(R"(
rule t.one { title "t" severity low source test.src message "{eventName}" when eventName == "a" or eventName == "b" }
rule t.two { title "t" severity low source test.src message "m" when eventName startswith "x" and n > 3 }
)");
  EXPECT_CLEAN(r);
  const ir::Source* s = r->prog->find_source("test.src");
  size_t event_name_slots = 0;
  for (const auto& sl : s->slots)
    if (r->prog->fields[sl.field].text == "eventName") ++event_name_slots;
  EXPECT_EQ(event_name_slots, 1u);
  size_t event_name_fields = 0;
  for (const auto& f : r->prog->fields)
    if (f.text == "eventName") ++event_name_fields;
  EXPECT_EQ(event_name_fields, 1u);
  // Source clauses register their fields too.
  bool has_time = false;
  for (const auto& sl : s->slots) has_time |= r->prog->fields[sl.field].text == "eventTime";
  EXPECT_TRUE(has_time);
  // Slot attributes.
  auto fid = [&](std::string_view text) {
    for (size_t i = 0; i < r->prog->fields.size(); ++i)
      if (r->prog->fields[i].text == text) return static_cast<ir::FieldId>(i);
    return ir::kNone;
  };
  ASSERT_NE(s->slot_of(fid("n")), ir::kNone);
  EXPECT_EQ(s->slots[s->slot_of(fid("n"))].type, ir::Type::of(ir::Kind::Int));
  EXPECT_EQ(s->slot_of(fid("userAgent")), ir::kNone);
}

TEST(CheckIr, SlotFlags) {
  auto r = event_rule(R"(userAgent == "x" and userName == "bob" and requestParameters.a.b == 1)");
  EXPECT_CLEAN(r);
  const ir::Source* s = r->prog->find_source("test.src");
  bool saw_ua = false, saw_user = false, saw_rp = false;
  for (const auto& sl : s->slots) {
    const auto& t = r->prog->fields[sl.field].text;
    if (t == "userAgent") {
      saw_ua = true;
      EXPECT_TRUE(sl.optional);
    }
    if (t == "userName") {
      saw_user = true;
      EXPECT_TRUE(sl.nocase);
      EXPECT_FALSE(sl.optional);
    }
    if (t == "requestParameters.a.b") {
      saw_rp = true;
      EXPECT_EQ(sl.type.kind, ir::Kind::Object);
      EXPECT_TRUE(sl.optional);
    }
  }
  EXPECT_TRUE(saw_ua && saw_user && saw_rp);
  // Comparison nodes carry the lint flags.
  const auto& rule = r->rule("t.r");
  const auto& conj = r->prog->node(rule.condition);
  ASSERT_EQ(conj.op, ir::Op::And);
  EXPECT_TRUE(r->prog->node(r->prog->op(conj, 0)).has(ir::kFlagOptionalOperand));
  EXPECT_FALSE(r->prog->node(r->prog->op(conj, 0)).has(ir::kFlagNocaseField));
  EXPECT_TRUE(r->prog->node(r->prog->op(conj, 1)).has(ir::kFlagNocaseField));
  EXPECT_FALSE(r->prog->node(r->prog->op(conj, 1)).has(ir::kFlagOptionalOperand));
}

TEST(CheckIr, SugarIsMarked) {
  auto r = event_rule(R"(eventName != "x" and not (eventName == "y") and userAgent is null and eventName not in ["a"])");
  EXPECT_CLEAN(r);
  const auto& conj = r->prog->node(r->rule("t.r").condition);
  ASSERT_EQ(conj.ops_count, 4u);
  auto n = [&](uint32_t i) { return r->prog->node(r->prog->op(conj, i)); };
  EXPECT_TRUE(n(0).op == ir::Op::Not && n(0).has(ir::kFlagSugar));
  EXPECT_TRUE(n(1).op == ir::Op::Not && !n(1).has(ir::kFlagSugar));
  EXPECT_TRUE(n(2).op == ir::Op::Not && n(2).has(ir::kFlagSugar));
  EXPECT_EQ(r->prog->node(r->prog->op(n(2), 0)).op, ir::Op::Exists);
  EXPECT_TRUE(n(3).op == ir::Op::Not && n(3).has(ir::kFlagSugar));
}

TEST(CheckIr, ConstSetsDeduped) {
  auto r = check_src(R"(
list t.names = ["b", "a", "b"]
rule t.one { title "t" severity low source test.src message "m" when eventName in ["a", "b", "a"] }
rule t.two { title "t" severity low source test.src message "m" when eventName in t.names }
rule t.three { title "t" severity low source test.src message "m" when n in [3, 1, 2, 1] }
)");
  EXPECT_CLEAN(r);
  auto set_of = [&](std::string_view id) { return r->prog->node(r->rule(id).condition).imm; };
  EXPECT_EQ(r->prog->node(r->rule("t.one").condition).op, ir::Op::InSet);
  EXPECT_EQ(set_of("t.one"), set_of("t.two"));
  const auto& s = r->prog->sets[static_cast<size_t>(set_of("t.one"))];
  EXPECT_EQ(s.strings, (std::vector<std::string>{"a", "b"}));
  const auto& ints = r->prog->sets[static_cast<size_t>(set_of("t.three"))];
  EXPECT_EQ(ints.elem, ir::Kind::Int);
  EXPECT_EQ(ints.ints, (std::vector<int64_t>{1, 2, 3}));
  const ir::ListInfo* l = r->prog->find_list("t.names");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->used);
}

TEST(CheckIr, NocaseSetsAreFolded) {
  auto r = event_rule(R"(eventName in~ ["ListUsers", "LISTUSERS"] and eventName contains~ any ["Foo"])");
  EXPECT_CLEAN(r);
  const auto& conj = r->prog->node(r->rule("t.r").condition);
  const auto& in = r->prog->node(r->prog->op(conj, 0));
  EXPECT_TRUE(in.has(ir::kFlagNoCase));
  const auto& s = r->prog->sets[static_cast<size_t>(in.imm)];
  EXPECT_TRUE(s.nocase);
  EXPECT_EQ(s.strings, (std::vector<std::string>{"listusers"}));
  const auto& any = r->prog->node(r->prog->op(conj, 1));
  EXPECT_EQ(any.op, ir::Op::ContainsAny);
  EXPECT_EQ(r->prog->sets[static_cast<size_t>(any.imm)].strings, (std::vector<std::string>{"foo"}));
}

TEST(CheckIr, RegexesCompiledAndShared) {
  auto r = event_rule(
      R"(userAgent matches r"^aws-cli/\d+" and eventName matches r"^aws-cli/\d+" and eventName matches~ "^x")");
  EXPECT_CLEAN(r);
  ASSERT_EQ(r->prog->regexes.size(), 2u);
  EXPECT_EQ(r->prog->regexes[0].pattern, R"(^aws-cli/\d+)");
  EXPECT_FALSE(r->prog->regexes[0].nocase);
  EXPECT_TRUE(r->prog->regexes[1].nocase);
  EXPECT_EQ(r->cond("t.r"), R"((and (matches /^aws-cli/\d+/ $userAgent) (matches /^aws-cli/\d+/ $eventName) )"
                            R"((matches~ /^x/i $eventName)))");
}

TEST(CheckIr, MatchesAnyBecomesOr) {
  auto r = event_rule(R"(eventName matches any ["^a", "b$"])");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"), "(or (matches /^a/ $eventName) (matches /b$/ $eventName))");
}

TEST(CheckIr, Cidrs) {
  auto r = check_src(R"(
list t.private = ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"]
rule t.r { title "t" severity low source test.src message "m"
  when sourceIPAddress in cidr ["10.1.2.3/8", "10.0.0.0/8"] and sourceIPAddress not in cidr t.private
    and sourceIPAddress in cidr "127.0.0.1" }
)");
  EXPECT_CLEAN(r);
  ASSERT_EQ(r->prog->cidr_sets.size(), 3u);
  ASSERT_EQ(r->prog->cidr_sets[0].cidrs.size(), 1u);
  EXPECT_EQ(r->prog->cidr_sets[0].cidrs[0].text, "10.0.0.0/8");
  EXPECT_EQ(r->prog->cidr_sets[1].cidrs.size(), 3u);
  EXPECT_EQ(r->cond("t.r"),
            "(and (in_cidr #0[10.0.0.0/8] $sourceIPAddress) (not (in_cidr #1[10.0.0.0/8, 192.168.0.0/16, fd00::/8] "
            "$sourceIPAddress)) (in_cidr #2[127.0.0.1/32] $sourceIPAddress))");
}

TEST(CheckIr, IpMembershipCanonicalised) {
  auto r = event_rule(R"(sourceIPAddress in ["2001:DB8::1", "10.0.0.1"])");
  EXPECT_CLEAN(r);
  const auto& n = r->prog->node(r->rule("t.r").condition);
  const auto& s = r->prog->sets[static_cast<size_t>(n.imm)];
  EXPECT_EQ(s.elem, ir::Kind::Ip);
  EXPECT_EQ(s.strings, (std::vector<std::string>{"10.0.0.1", "2001:db8::1"}));
}

TEST(CheckIr, AnyElementQuantifier) {
  auto r = event_rule(R"(resources[*].ARN == "x" and resources[*].type != "y" and tags[*] startswith "env:")");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"),
            R"((and (any_elem %0 $resources[*].ARN (eq %0 "x")) (not (any_elem %0 $resources[*].type (eq %0 "y"))) )"
            R"((any_elem %0 $tags[*] (startswith %0 "env:"))))");
  const ir::Source* s = r->prog->find_source("test.src");
  bool found = false;
  for (const auto& sl : s->slots) {
    if (r->prog->fields[sl.field].text == "resources[*].ARN") {
      found = true;
      EXPECT_EQ(sl.type, ir::Type::list(ir::Kind::String));
      EXPECT_TRUE(sl.optional);
    }
  }
  EXPECT_TRUE(found);
}

TEST(CheckIr, NestedAnyElementBindings) {
  auto r = event_rule(R"(resources[*].ARN == tags[*])");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"), "(any_elem %0 $resources[*].ARN (any_elem %1 $tags[*] (eq %0 %1)))");
}

TEST(CheckIr, AnyTiesPathsThroughOneElement) {
  // Two paths through resources[*] read one element: a zipped list whose items hold both members.
  auto r = event_rule(R"(any(resources[*].ARN == "x" and resources[*].type != "y"))");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"), R"((any_elem %0 $zip(resources[*]: resources[*].ARN, resources[*].type) )"
                            R"((and (eq (list_at 0 %0) "x") (not (eq (list_at 1 %0) "y")))))");
  const ir::Source* s = r->prog->find_source("test.src");
  const ir::FieldPath* zip = nullptr;
  for (const auto& sl : s->slots) {
    const ir::FieldPath& f = r->prog->fields[sl.field];
    if (f.is_zip()) {
      zip = &f;
      EXPECT_EQ(sl.type, ir::Type::list(ir::Kind::List));
    }
  }
  ASSERT_NE(zip, nullptr);
  EXPECT_EQ(zip->text, "zip(resources[*]: resources[*].ARN, resources[*].type)");
  EXPECT_EQ(r->prog->fields[zip->zip_anchor].text, "resources[*]");
  EXPECT_NE(s->slot_of(zip->zip_anchor), ir::kNone);
  // A path of its own keeps its own binding, nested inside the tied one; one path alone is not zipped.
  auto r2 = event_rule(R"(any(resources[*].ARN == tags[*] and resources[*].type == "t"))");
  EXPECT_CLEAN(r2);
  EXPECT_EQ(r2->cond("t.r"), R"((any_elem %0 $zip(resources[*]: resources[*].ARN, resources[*].type) )"
                             R"((any_elem %1 $tags[*] (and (eq (list_at 0 %0) %1) (eq (list_at 1 %0) "t")))))");
  auto r3 = event_rule(R"(any(resources[*].ARN == "a" and resources[*].ARN != "b"))");
  EXPECT_CLEAN(r3);
  EXPECT_EQ(r3->cond("t.r"), R"((any_elem %0 $resources[*].ARN (and (eq %0 "a") (not (eq %0 "b")))))");
}

TEST(CheckIr, AnyElementAsListValue) {
  auto r = event_rule("true", "");
  auto r2 = check_src(R"(
rule t.r { title "t" severity low source test.src message "{resources[*].ARN}" when true }
)");
  EXPECT_CLEAN(r2);
  const auto& m = r2->rule("t.r").message;
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(r2->prog->node(m[0].expr).type, ir::Type::list(ir::Kind::String));
  EXPECT_EQ(ir::dump_expr(*r2->prog, m[0].expr), "$resources[*].ARN");
}

TEST(CheckIr, NumericPromotion) {
  auto r = event_rule("bytes > 1 and n + 1.5 > 2 and n % 2 == 0");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"),
            "(and (gt $bytes (to_float 1)) (gt (add (to_float $n) 1.5) (to_float 2)) (eq (mod $n 2) 0))");
}

TEST(CheckIr, TimeArithmetic) {
  auto r = session_rule("session.end - session.start > 1h and last(a).eventTime - first(a).eventTime < 10m");
  EXPECT_CLEAN(r);
  const auto& rule = r->rule("t.s");
  EXPECT_EQ(r->prog->node(r->prog->op(r->prog->node(r->prog->op(r->prog->node(rule.condition), 0)), 0)).type,
            ir::Type::of(ir::Kind::Duration));
}

TEST(CheckIr, BuiltinsTyped) {
  auto r = event_rule(
      R"(lower(eventName) == "x" and len(tags) > 1 and len(eventName) < 3 and coalesce(userAgent, "none") == "x" )"
      R"(and replace(eventName, r"\d+", "#") == "a#" and exists(userAgent) and upper(userName) startswith "A")");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"),
            R"((and (eq (lower $eventName) "x") (gt (len $tags) 1) (lt (len $eventName) 3) )"
            R"((eq (coalesce $userAgent "none") "x") (eq (replace /\d+/ $eventName "#") "a#") (exists $userAgent) )"
            R"((startswith (upper $userName) "A")))");
}

TEST(CheckIr, AggregatesLaidOut) {
  auto r = session_rule(
      R"(count(a) > 5 and count(a) < 100 and distinct(a.eventName) >= 2 and first(a).eventName == "A" )"
      R"(and a.eventName == "A" and sum(a.n) > 1 and max(b.bytes) > 2.5 and last(a).eventName == "A")");
  EXPECT_CLEAN(r);
  const auto& rule = r->rule("t.s");
  ASSERT_EQ(rule.steps.size(), 2u);
  ASSERT_EQ(rule.aggregates.size(), 6u);
  EXPECT_EQ(rule.aggregates[0].kind, ir::AggKind::Count);
  EXPECT_EQ(rule.aggregates[0].step, 0u);
  EXPECT_EQ(rule.aggregates[0].value, ir::kNoNode);
  EXPECT_EQ(rule.aggregates[1].kind, ir::AggKind::Distinct);
  EXPECT_EQ(rule.aggregates[1].type, ir::Type::of(ir::Kind::Int));
  EXPECT_EQ(ir::dump_expr(*r->prog, rule.aggregates[1].value), "$eventName");
  EXPECT_EQ(rule.aggregates[2].kind, ir::AggKind::First);
  EXPECT_EQ(rule.aggregates[3].kind, ir::AggKind::Last);  // `a.eventName` and `last(a).eventName` share it
  EXPECT_EQ(rule.aggregates[4].kind, ir::AggKind::Sum);
  EXPECT_EQ(rule.aggregates[4].type, ir::Type::of(ir::Kind::Int));
  EXPECT_EQ(rule.aggregates[5].kind, ir::AggKind::Max);
  EXPECT_EQ(rule.aggregates[5].step, 1u);
  EXPECT_EQ(rule.aggregates[5].type, ir::Type::of(ir::Kind::Float));
}

TEST(CheckIr, BareStepMeansCountPositive) {
  auto r = session_rule("a and not b");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.s"), "(and (gt @0 0) (not (gt @1 0)))");
}

TEST(CheckIr, Sequences) {
  auto r = session_rule("a -> b within 10m or b -> a -> not b");
  EXPECT_CLEAN(r);
  const auto& rule = r->rule("t.s");
  ASSERT_EQ(rule.sequences.size(), 2u);
  EXPECT_EQ(rule.sequences[0].items.size(), 2u);
  EXPECT_EQ(rule.sequences[0].within.value_or(0), 10LL * 60 * 1000000000);
  EXPECT_FALSE(rule.sequences[0].has_absence());
  EXPECT_FALSE(rule.sequences[1].within.has_value());  // lint: unbounded
  EXPECT_TRUE(rule.sequences[1].items[2].absent);
  EXPECT_EQ(rule.sequences[1].items[2].step, 1u);
  EXPECT_EQ(r->cond("t.s"), "(or (seq 0) (seq 1))");
}

struct FiringCase {
  const char* when;
  ir::Firing firing;
};

class Firing : public ::testing::TestWithParam<FiringCase> {};

TEST_P(Firing, Classified) {
  auto r = session_rule(GetParam().when);
  EXPECT_CLEAN(r);
  EXPECT_EQ(ir::firing_name(r->rule("t.s").firing), ir::firing_name(GetParam().firing)) << GetParam().when;
}

INSTANTIATE_TEST_SUITE_P(
    CheckIr, Firing,
    ::testing::Values(FiringCase{"count(a) > 5", ir::Firing::Monotone},
                      FiringCase{"count(a) >= 5 and distinct(a.eventName) > 2", ir::Firing::Monotone},
                      FiringCase{"5 < count(a)", ir::Firing::Monotone},
                      FiringCase{"count(a) < 5", ir::Firing::AtClose},
                      FiringCase{"count(a) == 5", ir::Firing::AtClose},
                      FiringCase{"not (count(a) < 5)", ir::Firing::Monotone},
                      FiringCase{"a", ir::Firing::Monotone},
                      FiringCase{"a and not b", ir::Firing::AtClose},
                      FiringCase{"a -> b within 5m", ir::Firing::Monotone},
                      FiringCase{"a -> not b within 5m", ir::Firing::AtClose},
                      FiringCase{"a and session.events > 3", ir::Firing::Monotone},
                      FiringCase{"a and session.identity == \"x\"", ir::Firing::Monotone},
                      FiringCase{"first(a).eventName == \"x\"", ir::Firing::Monotone},
                      FiringCase{"last(a).eventName == \"x\"", ir::Firing::AtClose},
                      FiringCase{"a.eventName == \"x\"", ir::Firing::AtClose},
                      FiringCase{"min(a.n) < 3", ir::Firing::Monotone},
                      FiringCase{"max(a.n) < 3", ir::Firing::AtClose},
                      FiringCase{"sum(a.n) > 3", ir::Firing::AtClose},
                      FiringCase{"a or count(b) < 2", ir::Firing::AtClose},
                      FiringCase{"session.duration > 1h", ir::Firing::Monotone},
                      // first() is fixed once its step matched; a conjunct that guarantees the step makes even
                      // a negated comparison of first() values monotone.
                      FiringCase{"first(a).eventName != \"x\"", ir::Firing::AtClose},
                      FiringCase{"a -> b within 5m and first(a).n != first(b).n", ir::Firing::Monotone},
                      FiringCase{"count(a) > 0 and count(b) >= 1 and not (first(a).n == first(b).n)",
                                 ir::Firing::Monotone},
                      FiringCase{"count(a) > 0 and not (first(a).n == first(b).n)", ir::Firing::AtClose}));

TEST(CheckIr, AtCloseReasonPointsAtCulprit) {
  auto r = session_rule("a and not b");
  const auto& rule = r->rule("t.s");
  EXPECT_EQ(rule.firing, ir::Firing::AtClose);
  EXPECT_EQ(r->slice(rule.firing_reason), "b");
}

TEST(CheckIr, ChainScope) {
  auto r = session_rule("a and chain.depth > 1 and chain.root.identity == session.identity", "", "chain");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->rule("t.s").scope, ir::Scope::Chain);
}

TEST(CheckIr, MacrosExpandedAtUseSite) {
  auto r = check_src(R"(
macro t.is_list = eventName startswith "List"
macro t.named(x) = eventName == x
macro t.unused = true
rule t.r { title "t" severity low source test.src message "m" when t.is_list or t.named("GetUser") }
)");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"), R"((or (startswith $eventName "List") (eq $eventName "GetUser")))");
  EXPECT_TRUE(r->prog->find_macro("t.is_list")->used);
  EXPECT_TRUE(r->prog->find_macro("t.named")->used);
  EXPECT_FALSE(r->prog->find_macro("t.unused")->used);
  const auto& n = r->prog->node(r->prog->op(r->prog->node(r->rule("t.r").condition), 0));
  EXPECT_TRUE(n.has(ir::kFlagFromMacro));
  EXPECT_EQ(r->slice(n.span), "t.is_list");
}

TEST(CheckIr, MacroParamsArePaths) {
  auto r = check_src(R"(
macro t.arn_of(who) = who.arn
macro t.has_step(s) = count(s) > 2
rule t.r { title "t" severity low source test.src message "m" when t.arn_of(userIdentity) == "x" }
rule t.s { title "t" severity low source test.src message "m"
  session { step a = eventName == "A"  when t.has_step(a) } }
)");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->cond("t.r"), R"((eq $userIdentity.arn "x"))");
  EXPECT_EQ(r->cond("t.s"), "(gt @0 2)");
}

TEST(CheckIr, MacrosAcrossFiles) {
  auto r = check_files({std::string(kSource) + R"(
list std.names = ["a", "b"]
macro std.m(x) = x in std.names
)",
                        R"(
rule user.r { title "t" severity low source test.src message "m" when std.m(eventName) }
)"});
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->prog->node(r->rule("user.r").condition).op, ir::Op::InSet);
  EXPECT_TRUE(r->prog->find_list("std.names")->used);
}

TEST(CheckIr, MetadataMessageSuppressTests) {
  auto r = check_src(R"(
rule t.r {
  title "Title"
  description "Desc"
  severity critical
  attack T1098, T1098.003, TA0004
  tags "a", "b"
  author "me"
  references "https://x"
  false_positives "admins"
  enabled false
  source test.src
  message "user {userIdentity.arn} did {eventName}"
  suppress 1h by userIdentity.arn, eventName
  when eventName == "x"
  test "fires" {
    events [ {"eventName": "x", "n": 1.5e3, "s": "a\"b"} ]
    expect 1
  }
  test "from file" {
    events file "data/ev.ndjson"
    expect none
  }
  test "alerts" {
    events [ {"eventName": "x"} ]
    expect [ {"severity": "critical"} ]
  }
}
)");
  EXPECT_CLEAN(r);
  const auto& rule = r->rule("t.r");
  EXPECT_EQ(rule.meta.title, "Title");
  EXPECT_EQ(rule.meta.description, "Desc");
  EXPECT_EQ(rule.meta.severity, ir::Severity::Critical);
  EXPECT_EQ(rule.meta.attack, (std::vector<std::string>{"T1098", "T1098.003", "TA0004"}));
  EXPECT_EQ(rule.meta.tags.size(), 2u);
  EXPECT_FALSE(rule.meta.enabled);
  ASSERT_EQ(rule.message.size(), 4u);
  EXPECT_EQ(rule.message[0].literal, "user ");
  EXPECT_EQ(ir::dump_expr(*r->prog, rule.message[1].expr), "$userIdentity.arn");
  ASSERT_TRUE(rule.suppress);
  EXPECT_EQ(rule.suppress->window, 3600LL * 1000000000);
  EXPECT_EQ(rule.suppress->keys.size(), 2u);
  ASSERT_EQ(rule.tests.size(), 3u);
  EXPECT_EQ(rule.tests[0].events[0].json, R"([{"eventName":"x","n":1.5e3,"s":"a\"b"}])");
  EXPECT_EQ(rule.tests[0].expect, ir::TestCase::Expect::Count);
  EXPECT_EQ(rule.tests[0].count, 1);
  EXPECT_EQ(rule.tests[1].events[0].file, "dir/data/ev.ndjson");
  EXPECT_EQ(rule.tests[1].expect, ir::TestCase::Expect::None);
  EXPECT_EQ(rule.tests[2].alerts_json, R"([{"severity":"critical"}])");
  EXPECT_EQ(r->slice(rule.spans.name), "t.r");
}

TEST(CheckIr, SessionMessageUsesAggregates) {
  auto r = session_rule("count(a) > 1", "", "session", "{session.identity} did {count(a)} calls, last {a.eventName}");
  EXPECT_CLEAN(r);
  const auto& m = r->rule("t.s").message;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(ir::dump_expr(*r->prog, m[0].expr), "session.identity");
  EXPECT_EQ(ir::dump_expr(*r->prog, m[2].expr), "@0");
}

TEST(CheckIr, LinksAndMints) {
  auto r = check_src(R"(
source t.child {
  recognize kind == "child"
  time at
  identity who
  session gap 5m max 1h
  mints token when kind == "login"
  link test.src within 5m {
    parent when kind == "assume" key token
    child when eventName == "X" key userIdentity.accessKeyId
  }
  fields { kind: string, at: time, who: string, token?: string }
}
)");
  EXPECT_CLEAN(r);
  const ir::Source* s = r->prog->find_source("t.child");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->mints.size(), 1u);
  EXPECT_EQ(ir::dump_expr(*r->prog, s->mints[0].credential), "$token");
  ASSERT_EQ(s->links.size(), 1u);
  EXPECT_EQ(s->links[0].target, r->prog->source_index("test.src"));
  EXPECT_EQ(ir::dump_expr(*r->prog, s->links[0].child_key), "$userIdentity.accessKeyId");
  // The child side's fields are extracted from the target source.
  const ir::Source* target = r->prog->find_source("test.src");
  bool found = false;
  for (const auto& sl : target->slots) found |= r->prog->fields[sl.field].text == "userIdentity.accessKeyId";
  EXPECT_TRUE(found);
}

TEST(CheckIr, DumpIsReadable) {
  auto r = session_rule("count(a) > 1 and a -> b within 1m");
  EXPECT_CLEAN(r);
  std::string d = ir::dump(*r->prog);
  EXPECT_NE(d.find("rule t.s [session, monotone]"), std::string::npos) << d;
  EXPECT_NE(d.find("agg @0 count(a) : int"), std::string::npos) << d;
  EXPECT_NE(d.find("seq 0 a -> b within 60000000000ns"), std::string::npos) << d;
  EXPECT_NE(d.find("source test.src"), std::string::npos) << d;
  EXPECT_NE(d.find("slot 0 $eventSource : string"), std::string::npos) << d;
}

TEST(CheckIr, ManyErrorsInOneRun) {
  auto r = check_src(R"(
rule t.a { title "t" severity high source test.src message "m" when eventNam == "x" }
rule t.b { title "t" severity hgh source test.src message "m" when eventTime == "x" }
rule t.c { title "t" severity high source test.src message "m" when n contains "x" }
)");
  EXPECT_CODE(r, Code::BRD0301);
  EXPECT_CODE(r, Code::BRD0404);
  EXPECT_CODE(r, Code::BRD0201);
  EXPECT_CODE(r, Code::BRD0205);
  EXPECT_EQ(r->prog->rules.size(), 3u);
}

// ---------------------------------------------------------------------------------------------------------------
// Diagnostics: BRD01xx names

TEST(CheckNames, UnknownNameInSessionScope) {
  auto r = session_rule("bogus > 1");
  EXPECT_CODE(r, Code::BRD0101);
}

TEST(CheckNames, MisspeltMacroNameSuggestsTheMacro) {
  auto r = event_rule("t.is_admn", "macro t.is_admin = true\n");
  EXPECT_CODE(r, Code::BRD0101);
  const Diagnostic* d = r->get(Code::BRD0101);
  EXPECT_EQ(d->help, "did you mean `t.is_admin`?");
  ASSERT_TRUE(d->fix);
  EXPECT_EQ(r->slice(d->fix->span), "t.is_admn");
  EXPECT_FALSE(r->has(Code::BRD0301));
}

TEST(CheckNames, DuplicateDeclarationAcrossKinds) {
  auto r = check_src(R"(
list t.x = ["a"]
macro t.x = true
rule test.src { title "t" severity low source test.src message "m" when true }
)");
  EXPECT_EQ(r->count(Code::BRD0102), 2u) << r->all_text();
  const Diagnostic* d = r->get(Code::BRD0102);
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->related.size(), 1u);
  EXPECT_EQ(r->slice(d->related[0].span), "t.x");
  EXPECT_NE(d->message.find("already declared"), std::string::npos);
}

TEST(CheckNames, UnknownSourceSuggests) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.srcc message "m" when true })");
  EXPECT_CODE(r, Code::BRD0103);
  const Diagnostic* d = r->get(Code::BRD0103);
  EXPECT_EQ(d->help, "did you mean `test.src`?");
  ASSERT_TRUE(d->fix);
  EXPECT_EQ(d->fix->replacement, "test.src");
  EXPECT_EQ(r->slice(d->fix->span), "test.srcc");
  EXPECT_FALSE(r->has(Code::BRD0301));  // no cascade of unknown fields
}

TEST(CheckNames, RuleIsNotASource) {
  auto r = check_src(R"(
rule t.other { title "t" severity low source test.src message "m" when true }
rule t.r { title "t" severity low source t.other message "m" when true })");
  EXPECT_CODE(r, Code::BRD0103);
  EXPECT_NE(r->get(Code::BRD0103)->message.find("is a rule, not a source"), std::string::npos);
}

TEST(CheckNames, DuplicateStep) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m"
  session { step a = true  step a = false  when a } })");
  EXPECT_CODE(r, Code::BRD0104);
  EXPECT_EQ(r->get(Code::BRD0104)->related.size(), 1u);
}

TEST(CheckNames, MacroArity) {
  auto r = event_rule("t.m(eventName, 1)", "macro t.m(x) = x == \"a\"\n");
  EXPECT_CODE(r, Code::BRD0105);
  auto r2 = event_rule("t.m", "macro t.m(x) = x == \"a\"\n");
  EXPECT_CODE(r2, Code::BRD0105);
}

TEST(CheckNames, MacroRecursion) {
  auto r = event_rule("t.a", "macro t.a = t.b\nmacro t.b = not t.a\n");
  EXPECT_CODE(r, Code::BRD0106);
  EXPECT_NE(r->get(Code::BRD0106)->message.find("t.a -> t.b -> t.a"), std::string::npos) << r->all_text();
}

TEST(CheckNames, UnknownFunction) {
  auto r = event_rule(R"(lowr(eventName) == "x")");
  EXPECT_CODE(r, Code::BRD0107);
  EXPECT_EQ(r->get(Code::BRD0107)->help, "did you mean `lower`?");
}

TEST(CheckNames, UnknownList) {
  auto r = event_rule("eventName in t.nope", "list t.names = [\"a\"]\n");
  EXPECT_CODE(r, Code::BRD0108);
  auto r2 = event_rule("eventName in t.m", "macro t.m = true\n");
  EXPECT_CODE(r2, Code::BRD0108);
  EXPECT_NE(r2->get(Code::BRD0108)->message.find("is a macro"), std::string::npos);
}

TEST(CheckNames, UnknownAttribute) {
  auto r = session_rule(R"(session.identiy == "x")");
  EXPECT_CODE(r, Code::BRD0109);
  EXPECT_EQ(r->get(Code::BRD0109)->help, "did you mean `session.identity`?");
}

TEST(CheckNames, AttributeOutOfScope) {
  auto r = session_rule("chain.depth > 1");
  EXPECT_CODE(r, Code::BRD0110);
  auto r2 = check_files({R"(
source t.s { recognize session.id == "x" time t identity i session gap 1m max 1h fields { t: time, i: string } }
)"});
  EXPECT_CODE(r2, Code::BRD0110);
}

TEST(CheckNames, UnknownStep) {
  auto r = session_rule("count(c) > 1");
  EXPECT_CODE(r, Code::BRD0111);
  auto r2 = session_rule("a -> zz");
  EXPECT_CODE(r2, Code::BRD0111);
}

TEST(CheckNames, DuplicateParameter) {
  auto r = event_rule("true", "macro t.m(x, x) = x\n");
  EXPECT_CODE(r, Code::BRD0112);
}

// ---------------------------------------------------------------------------------------------------------------
// BRD02xx types and expressions

TEST(CheckTypes, IncompatibleComparison) {
  auto r = event_rule(R"(eventTime == "2024-01-01")");
  EXPECT_CODE(r, Code::BRD0201);
  EXPECT_EQ(r->get(Code::BRD0201)->message, "cannot compare `time` with `string`");
  EXPECT_CODE(event_rule("ok < true"), Code::BRD0201);
  EXPECT_CODE(event_rule("tags == \"x\""), Code::BRD0201);
  EXPECT_CODE(event_rule("n in [\"a\"]"), Code::BRD0201);
}

TEST(CheckTypes, NullComparisonHasFix) {
  auto r = event_rule("userAgent == null");
  EXPECT_CODE(r, Code::BRD0202);
  const Diagnostic* d = r->get(Code::BRD0202);
  ASSERT_TRUE(d->fix);
  EXPECT_EQ(d->fix->replacement, "userAgent is null");
  EXPECT_EQ(r->slice(d->fix->span), "userAgent == null");
  auto r2 = event_rule("userAgent != null");
  ASSERT_TRUE(r2->get(Code::BRD0202) && r2->get(Code::BRD0202)->fix);
  EXPECT_EQ(r2->get(Code::BRD0202)->fix->replacement, "userAgent is not null");
}

TEST(CheckTypes, InvalidRegexPointsIntoPattern) {
  auto r = event_rule(R"(eventName matches r"ab(c")");
  EXPECT_CODE(r, Code::BRD0203);
  const Diagnostic* d = r->get(Code::BRD0203);
  EXPECT_NE(d->message.find("missing )"), std::string::npos) << d->message;
  EXPECT_TRUE(r->slice(d->span).find("ab(c") != std::string::npos) << r->slice(d->span);
  EXPECT_CODE(event_rule(R"(replace(eventName, "[", "") == "")"), Code::BRD0203);
}

TEST(CheckTypes, UnsupportedRegex) {
  EXPECT_CODE(event_rule(R"x(eventName matches r"a(?=b)")x"), Code::BRD0216);
  EXPECT_CODE(event_rule(R"(eventName matches r"(a)\1")"), Code::BRD0216);
  EXPECT_CODE(event_rule(R"(eventName matches r"a++")"), Code::BRD0216);
  auto r = event_rule(R"(eventName matches r"(a)\1")");
  EXPECT_FALSE(r->has(Code::BRD0203));
}

TEST(CheckTypes, NotBoolean) {
  EXPECT_CODE(event_rule("eventName"), Code::BRD0204);
  EXPECT_CODE(event_rule("n and true"), Code::BRD0204);
  EXPECT_FALSE(event_rule("ok")->diags.has_errors());
  EXPECT_FALSE(event_rule("extra")->diags.has_errors());  // object: checked at run time
}

TEST(CheckTypes, InvalidOperand) {
  EXPECT_CODE(event_rule(R"(n contains "x")"), Code::BRD0205);
  EXPECT_CODE(event_rule(R"(eventName + 1 == 2)"), Code::BRD0205);
  EXPECT_CODE(event_rule(R"(n ==~ 3)"), Code::BRD0205);
  EXPECT_CODE(event_rule(R"(n in cidr "10.0.0.0/8")"), Code::BRD0205);
  EXPECT_CODE(event_rule(R"(-eventName == "x")"), Code::BRD0205);
}

TEST(CheckTypes, WrongArguments) {
  EXPECT_CODE(event_rule(R"(lower(n) == "x")"), Code::BRD0206);
  EXPECT_CODE(event_rule(R"(len() == 1)"), Code::BRD0206);
  EXPECT_CODE(event_rule(R"(len(n) == 1)"), Code::BRD0206);
  EXPECT_CODE(event_rule(R"(coalesce(n, eventTime) == 1)"), Code::BRD0206);
  EXPECT_CODE(event_rule(R"(replace(eventName, "a") == "")"), Code::BRD0206);
}

TEST(CheckTypes, AggregateArgument) {
  EXPECT_CODE(session_rule("count(a.eventName) > 1"), Code::BRD0207);
  EXPECT_CODE(session_rule("distinct(a) > 1"), Code::BRD0207);
  EXPECT_CODE(session_rule("sum(a.eventName) > 1"), Code::BRD0207);
  EXPECT_CODE(session_rule("first(a) == 1"), Code::BRD0207);
  EXPECT_CODE(session_rule("count(1) > 1"), Code::BRD0207);
  EXPECT_CODE(session_rule("min(a.ok) == true"), Code::BRD0207);
}

TEST(CheckTypes, AggregateOutsideScope) {
  EXPECT_CODE(event_rule("count(a) > 1"), Code::BRD0208);
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m"
  session { step a = true  step b = count(a) > 1  when b } })");
  EXPECT_CODE(r, Code::BRD0208);
  auto r2 = check_src(R"(rule t.r { title "t" severity low source test.src message "m"
  session { step a = true  step b = a  when b } })");
  EXPECT_CODE(r2, Code::BRD0208);
}

TEST(CheckTypes, SequenceOutsideScope) {
  EXPECT_CODE(event_rule("a -> b"), Code::BRD0209);
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m"
  session { step a = true  step b = a -> a  when b } })");
  EXPECT_CODE(r, Code::BRD0209);
}

TEST(CheckTypes, NonConstantList) {
  EXPECT_CODE(event_rule("eventName in [eventSource]"), Code::BRD0210);
  EXPECT_CODE(check_src("list t.l = [x]\n"), Code::BRD0210);
}

TEST(CheckTypes, MixedList) {
  EXPECT_CODE(check_src("list t.l = [\"a\", 1]\n"), Code::BRD0211);
  EXPECT_FALSE(check_src("list t.l = [1, 2.5]\n")->diags.has_errors());
}

TEST(CheckTypes, InvalidCidr) {
  auto r = event_rule(R"(sourceIPAddress in cidr ["10.0.0.0/8", "10.0.0.0/33"])");
  EXPECT_CODE(r, Code::BRD0212);
  EXPECT_EQ(r->slice(r->get(Code::BRD0212)->span), "\"10.0.0.0/33\"");
}

TEST(CheckTypes, InvalidIp) {
  EXPECT_CODE(event_rule(R"(sourceIPAddress in ["10.0.0.1", "nope"])"), Code::BRD0213);
}

TEST(CheckTypes, FieldOutsideStep) {
  EXPECT_CODE(session_rule(R"(eventName == "x")"), Code::BRD0214);
  EXPECT_CODE(session_rule("a", "", "session", "{eventName}"), Code::BRD0214);
}

TEST(CheckTypes, MisplacedAnyElement) {
  EXPECT_CODE(session_rule("distinct(a.resources[*].ARN) > 1"), Code::BRD0215);
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "{lower(tags[*])}" when true })");
  EXPECT_CODE(r, Code::BRD0215);
}

TEST(CheckTypes, ConstantRequired) {
  EXPECT_CODE(event_rule("eventName matches eventSource"), Code::BRD0217);
  EXPECT_CODE(event_rule(R"(replace(eventName, eventSource, "") == "")"), Code::BRD0217);
}

TEST(CheckTypes, ErrorsInMacroBodiesNameTheUseSite) {
  auto r = event_rule("t.m", "macro t.m = n contains \"x\"\n");
  EXPECT_CODE(r, Code::BRD0205);
  const Diagnostic* d = r->get(Code::BRD0205);
  ASSERT_EQ(d->related.size(), 1u);
  EXPECT_NE(d->related[0].message.find("t.m"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------------
// BRD03xx sources, schemas and fields

TEST(CheckSources, UnknownFieldSuggestsWithFix) {
  auto r = event_rule(R"(evnetName == "x")");
  EXPECT_CODE(r, Code::BRD0301);
  const Diagnostic* d = r->get(Code::BRD0301);
  EXPECT_EQ(d->help, "did you mean `eventName`?");
  ASSERT_TRUE(d->fix);
  EXPECT_EQ(r->slice(d->fix->span), "evnetName");
  EXPECT_EQ(d->fix->replacement, "eventName");
  auto r2 = event_rule(R"(userIdentity.accesKeyId == "x")");
  EXPECT_CODE(r2, Code::BRD0301);
  EXPECT_EQ(r2->get(Code::BRD0301)->help, "did you mean `accessKeyId`?");
  EXPECT_EQ(r2->slice(r2->get(Code::BRD0301)->span), "accesKeyId");
}

TEST(CheckSources, OpenRecordAllowsAnything) {
  auto r = event_rule(R"(requestParameters.anything.at[0].all == "x" and extra.foo[*].bar == 1)");
  EXPECT_CLEAN(r);
}

TEST(CheckSources, MissingClauses) {
  auto r = check_files({"source t.s { time t fields { t: time } }\n"});
  EXPECT_EQ(r->count(Code::BRD0302), 3u) << r->all_text();  // recognize, identity, session
}

TEST(CheckSources, UnknownType) {
  auto r = check_files({R"(
source t.s { recognize true time t identity i session gap 1m max 1h fields { t: time, i: strng } }
)"});
  EXPECT_CODE(r, Code::BRD0303);
  EXPECT_EQ(r->get(Code::BRD0303)->help, "did you mean `string`?");
}

TEST(CheckSources, DuplicateField) {
  auto r = check_files({R"(
source t.s { recognize true time t identity i session gap 1m max 1h fields { t: time, i: string, t: int } }
)"});
  EXPECT_CODE(r, Code::BRD0304);
}

TEST(CheckSources, ClauseTypes) {
  auto r = check_files({R"(
source t.s { recognize true time i identity t session gap 1m max 1h fields { t: time, i: string } }
)"});
  EXPECT_EQ(r->count(Code::BRD0305), 2u) << r->all_text();
  auto r2 = check_files({R"(
source t.s { recognize i time t identity i session gap 1m max 1h fields { t: time, i: string } }
)"});
  EXPECT_CODE(r2, Code::BRD0204);
}

TEST(CheckSources, LinkKeysMustCompare) {
  auto r = check_src(R"(
source t.c { recognize true time t identity i session gap 1m max 1h
  link test.src within 1m { parent when true key t  child when true key eventName }
  fields { t: time, i: string } }
)");
  EXPECT_CODE(r, Code::BRD0305);
  auto r2 = check_src(R"(
source t.c { recognize true time t identity i session gap 1m max 1h
  link test.srcx within 1m { parent when true key i  child when true key i }
  fields { t: time, i: string } }
)");
  EXPECT_CODE(r2, Code::BRD0103);
}

TEST(CheckSources, SessionWindow) {
  auto r = check_files({R"(
source t.s { recognize true time t identity i session gap 1h max 30m fields { t: time, i: string } }
)"});
  EXPECT_CODE(r, Code::BRD0306);
}

TEST(CheckSources, InvalidPath) {
  EXPECT_CODE(event_rule(R"(eventName.foo == "x")"), Code::BRD0307);
  auto r = event_rule(R"(resources.ARN == "x")");
  EXPECT_CODE(r, Code::BRD0307);
  EXPECT_NE(r->get(Code::BRD0307)->message.find("resources[*].ARN"), std::string::npos);
  EXPECT_CODE(event_rule(R"(eventName[0] == "x")"), Code::BRD0307);
  EXPECT_CODE(session_rule("session.identity.x == \"a\""), Code::BRD0307);
}

TEST(CheckSources, NocaseOnlyOnStrings) {
  auto r = check_files({R"(
source t.s { recognize true time t identity i session gap 1m max 1h
  fields { t: time, i: string nocase, n: int nocase, l: [string] nocase } }
)"});
  EXPECT_EQ(r->count(Code::BRD0308), 1u) << r->all_text();
}

// ---------------------------------------------------------------------------------------------------------------
// BRD04xx rules, metadata and tests

TEST(CheckRules, MissingClauses) {
  auto r = check_src(R"(rule t.r { when true })");
  EXPECT_EQ(r->count(Code::BRD0401), 4u) << r->all_text();  // title, severity, source, message
}

TEST(CheckRules, MissingCondition) {
  EXPECT_CODE(check_src(R"(rule t.r { title "t" severity low source test.src message "m" })"), Code::BRD0402);
}

TEST(CheckRules, ConflictingConditions) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m" when true
  session { step a = true  when a } })");
  EXPECT_CODE(r, Code::BRD0403);
}

TEST(CheckRules, UnknownSeverity) {
  auto r = check_src(R"(rule t.r { title "t" severity hgh source test.src message "m" when true })");
  EXPECT_CODE(r, Code::BRD0404);
  EXPECT_EQ(r->get(Code::BRD0404)->fix->replacement, "high");
}

// Computed severity (issue 11 item 5): arms in order, conditions in the alert context, the `else` as the default.
TEST(CheckRules, ComputedSeverityIr) {
  auto r = check_src(R"(
list t.admins = ["root", "admin"]
rule t.r {
  title "t"
  severity {
    critical when userName in t.admins
    high when userIdentity.type == "AssumedRole"
    else low
  }
  source test.src
  message "m"
  when eventName == "X"
}
rule t.s {
  title "t"
  severity { high when count(a) >= 3 and a.userName == "x"  else info }
  source test.src
  message "m"
  session { step a = eventName == "A"  when a }
})");
  EXPECT_CLEAN(r);
  const auto& e = r->rule("t.r");
  EXPECT_EQ(e.meta.severity, ir::Severity::Low);
  ASSERT_EQ(e.severity_arms.size(), 2u);
  EXPECT_EQ(e.severity_arms[0].level, ir::Severity::Critical);
  EXPECT_EQ(e.severity_arms[1].level, ir::Severity::High);
  EXPECT_EQ(ir::dump_expr(*r->prog, e.severity_arms[1].when), R"((eq $userIdentity.type "AssumedRole"))");
  EXPECT_EQ(r->slice(e.severity_arms[0].span), "critical when userName in t.admins");
  EXPECT_TRUE(r->prog->find_list("t.admins")->used);
  // Session scope: aggregates, and `a.f` as last(a).f, added to the rule's state like the message's.
  const auto& s = r->rule("t.s");
  EXPECT_EQ(s.meta.severity, ir::Severity::Info);
  ASSERT_EQ(s.severity_arms.size(), 1u);
  EXPECT_EQ(s.aggregates.size(), 2u);
  EXPECT_NE(ir::dump_rule(*r->prog, s).find("severity high when (and"), std::string::npos) << ir::dump_rule(*r->prog, s);
  // A fixed severity has no arms.
  auto f = event_rule("true");
  EXPECT_TRUE(f->rule("t.r").severity_arms.empty());
}

TEST(CheckRules, ComputedSeverityErrors) {
  auto rule = [](const std::string& sev, const std::string& scope = "when eventName == \"X\"") {
    return check_src("rule t.r {\n  title \"t\"\n  severity " + sev + "\n  source test.src\n  message \"m\"\n  " + scope +
                     "\n}\n");
  };
  // A condition that is not a boolean.
  auto r = rule("{ high when userName  else low }");
  EXPECT_CODE(r, Code::BRD0411);
  EXPECT_NE(r->get(Code::BRD0411)->message.find("a severity condition must be a `bool`, but this is `string`"),
            std::string::npos) << r->all_text();
  EXPECT_EQ(r->slice(r->get(Code::BRD0411)->span), "userName");
  EXPECT_FALSE(r->has(Code::BRD0204));
  // No default.
  r = rule("{ high when n > 3 }");
  EXPECT_CODE(r, Code::BRD0411);
  EXPECT_NE(r->get(Code::BRD0411)->message.find("no `else LEVEL`"), std::string::npos) << r->all_text();
  // No arm at all, only a default.
  r = rule("{ else low }");
  EXPECT_NE(r->get(Code::BRD0411)->message.find("write `severity low`"), std::string::npos) << r->all_text();
  // `else` not last, or twice.
  r = rule("{ else low  high when n > 3 }");
  EXPECT_NE(r->get(Code::BRD0411)->message.find("after `else` is never used"), std::string::npos) << r->all_text();
  EXPECT_EQ(r->get(Code::BRD0411)->related.size(), 1u);
  r = rule("{ high when n > 3  else low  else info }");
  EXPECT_NE(r->get(Code::BRD0411)->message.find("two `else`"), std::string::npos) << r->all_text();
  // Unknown levels, in an arm and in the `else`, with a suggestion.
  r = rule("{ hgh when n > 3  else lo }");
  EXPECT_EQ(r->count(Code::BRD0404), 2u) << r->all_text();
  EXPECT_EQ(r->get(Code::BRD0404)->fix->replacement, "low");
  // Names and types as in the message: an unknown field, a step in event scope, a bare field in session scope.
  r = rule("{ high when nosuch == 1  else low }");
  EXPECT_CODE(r, Code::BRD0301);
  r = rule("{ high when count(a) > 1  else low }", "session { step a = eventName == \"A\"  when a }");
  EXPECT_CLEAN(r);
  r = rule("{ high when eventName == \"A\"  else low }", "session { step a = eventName == \"A\"  when a }");
  EXPECT_CODE(r, Code::BRD0214);
  // A sequence belongs in the block's `when`, not in the alert's context.
  r = rule("{ high when a -> b  else low }",
           "session { step a = eventName == \"A\"  step b = eventName == \"B\"  when a }");
  EXPECT_TRUE(r->diags.has_errors()) << r->all_text();
}

TEST(CheckRules, AttackIds) {
  auto r = check_src(
      R"(rule t.r { title "t" severity low attack T1098, T12, TA0004, "T1098.01", T1098.003 source test.src message "m" when true })");
  EXPECT_EQ(r->count(Code::BRD0405), 2u) << r->all_text();
}

TEST(CheckRules, DuplicateTest) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m" when true
  test "x" { events [ {} ] expect none }
  test "x" { events [ {} ] expect 1 } })");
  EXPECT_CODE(r, Code::BRD0406);
}

TEST(CheckRules, TestEventsMustBeObjects) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m" when true
  test "x" { events [ {}, 1, "a" ] expect none } })");
  EXPECT_EQ(r->count(Code::BRD0407), 2u) << r->all_text();
}

// Duplicate keys in a test's JSON (issue 11): an error at the second key, with the first as related location,
// at any depth, in events and expected alerts. The same key in two different objects is fine.
TEST(CheckRules, TestJsonDuplicateKeys) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m" when true
  test "x" {
    events [ {"eventName": "A", "n": 1, "eventName": "B"}, {"a": {"k": 1, "k": 2}}, {"eventName": "A"} ]
    expect [ {"rule": "t.r", "rule": "t.r"} ] } })");
  EXPECT_EQ(r->count(Code::BRD0407), 2u) << r->all_text();
  EXPECT_EQ(r->count(Code::BRD0408), 1u) << r->all_text();
  const Diagnostic* d = r->get(Code::BRD0407);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(r->slice(d->span), "\"eventName\"");
  ASSERT_EQ(d->related.size(), 1u);
  EXPECT_LT(d->related[0].span.begin, d->span.begin);
  EXPECT_EQ(r->slice(d->related[0].span), "\"eventName\"");
  EXPECT_NE(d->message.find("twice"), std::string::npos);
  auto ok = check_src(R"(rule t.r { title "t" severity low source test.src message "m" when true
  test "x" { events [ {"eventName": "A", "a": {"eventName": "A"}}, {"eventName": "B"} ] expect none } })");
  EXPECT_CLEAN(ok);
}

TEST(CheckRules, ExpectedAlertsMustBeObjects) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m" when true
  test "x" { events [ {} ] expect [ 1 ] } })");
  EXPECT_CODE(r, Code::BRD0408);
}

TEST(CheckRules, IncompleteTest) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m" when true
  test "x" { events [ {} ] }
  test "y" { expect none } })");
  EXPECT_EQ(r->count(Code::BRD0409), 2u) << r->all_text();
}

TEST(CheckRules, ScopeWithoutWhen) {
  auto r = check_src(R"(rule t.r { title "t" severity low source test.src message "m" session { step a = true } })");
  EXPECT_CODE(r, Code::BRD0410);
}

TEST(CheckRules, DuplicateDiagnosticsFromMacrosAreMerged) {
  auto r = event_rule("t.m and t.m", "macro t.m = n contains \"x\"\n");
  EXPECT_EQ(r->count(Code::BRD0205), 1u) << r->all_text();
}

// ---------------------------------------------------------------------------------------------------------------
// Tuning (docs/language.md, section 23)

const char* kTunedRule = R"(
list t.users = ["alice"] org_data
rule t.r {
  title "t"
  severity high
  source test.src
  org_data t.users
  message "m"
  when userName in t.users
}
)";

// The set a rule's `x in LIST` condition (possibly under the exceptions' And) reads.
std::vector<std::string> set_of(const Run& r, ir::NodeId id) {
  const ir::Node& n = r.prog->node(id);
  if (n.op == ir::Op::InSet) return r.prog->sets[n.imm].strings;
  if (n.op == ir::Op::And) return set_of(r, r.prog->op(n, 0));
  return {};
}

std::unique_ptr<Run> check_opts(const std::vector<std::string>& texts, const CheckOptions& opts) {
  auto r = std::make_unique<Run>();
  std::vector<FileId> ids;
  for (size_t i = 0; i < texts.size(); ++i) ids.push_back(r->sm.add("f" + std::to_string(i) + ".braid", texts[i]));
  for (FileId id : ids) r->files.push_back(parse_file(r->sm, id, r->diags));
  std::vector<const ast::File*> ptrs;
  for (const auto& f : r->files) ptrs.push_back(&f);
  r->prog = check(ptrs, r->sm, r->diags, opts);
  return r;
}

TEST(Tuning, OverrideReplacesThenAppendsWhateverTheFileOrder) {
  auto r = check_files({std::string(kSource) + kTunedRule, "override list t.users += [\"carol\"]\n",
                        "override list t.users = [\"bob\"]\n"});
  EXPECT_CLEAN(r);
  EXPECT_EQ(set_of(*r, r->rule("t.r").condition), (std::vector<std::string>{"bob", "carol"}));
  const ir::ListInfo* l = r->prog->find_list("t.users");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->overridden);
  EXPECT_TRUE(l->org_data);
  EXPECT_EQ(r->rule("t.r").org_lists_read.size(), 1u);
}

TEST(Tuning, EmptyReplacementAndNumericLists) {
  auto r = check_src(std::string(kTunedRule) + "override list t.users = []\nlist t.ports = [1, 2]\n"
                     "override list t.ports += [2.5]\n");
  EXPECT_CLEAN(r);
  EXPECT_TRUE(set_of(*r, r->rule("t.r").condition).empty());
  EXPECT_EQ(r->prog->find_list("t.ports")->elem, ir::Kind::Float);
}

TEST(Tuning, ExceptionsSeverityAndEnabledCompileIntoTheRule) {
  auto r = check_src(std::string(kTunedRule) +
                     "tune t.r {\n  severity low\n  enabled false\n  except when eventName == \"X\"\n"
                     "  except when sourceIPAddress in cidr \"10.0.0.0/8\"\n}\n");
  EXPECT_CLEAN(r);
  const ir::Rule& rule = r->rule("t.r");
  EXPECT_EQ(rule.meta.severity, ir::Severity::Low);
  EXPECT_FALSE(rule.meta.enabled);
  EXPECT_EQ(rule.tuned_by.size(), 1u);
  std::string c = r->cond("t.r");
  EXPECT_EQ(c.rfind("(and (in_set", 0), 0u) << c;
  EXPECT_NE(c.find("(not (or (eq"), std::string::npos) << c;
}

TEST(Tuning, ASessionExceptionReadsWhatTheBlockReads) {
  auto r = session_rule("a -> b", "tune t.s {\n  except when b.userName == \"svc\" or session.identity == \"x\"\n}\n");
  EXPECT_CLEAN(r);
  std::string c = r->cond("t.s");
  EXPECT_EQ(c.rfind("(and (seq", 0), 0u) << c;
  EXPECT_NE(c.find("(not (or"), std::string::npos) << c;
}

TEST(Tuning, ATunedSeverityReplacesAComputedOne) {
  auto r = check_src(
      "\nrule t.c {\n  title \"t\"\n  severity {\n    critical when n > 1\n    else medium\n  }\n  source test.src\n"
      "  message \"m\"\n  when ok\n}\ntune \"t.*\" { severity info }\n");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->rule("t.c").meta.severity, ir::Severity::Info);
  EXPECT_TRUE(r->rule("t.c").severity_arms.empty());
}

TEST(Tuning, NotAppliedWhenAskedButStillChecked) {
  CheckOptions o;
  o.apply_tuning = false;
  auto r = check_opts({std::string(kSource) + kTunedRule,
                       "override list t.users = [\"bob\"]\ntune t.r { severity low\n except when eventName == 1 }\n"},
                      o);
  EXPECT_CODE(r, Code::BRD0201);  // the exception's type error is reported all the same
  auto ok = check_opts({std::string(kSource) + kTunedRule,
                        "override list t.users = [\"bob\"]\ntune t.r { severity low\n except when ok }\n"},
                       o);
  EXPECT_CLEAN(ok);
  EXPECT_EQ(set_of(*ok, ok->rule("t.r").condition), (std::vector<std::string>{"alice"}));
  EXPECT_EQ(ok->rule("t.r").meta.severity, ir::Severity::High);
  EXPECT_EQ(ok->cond("t.r").rfind("(in_set", 0), 0u);
}

TEST(Tuning, UnknownRuleAndListWithSuggestions) {
  auto r = check_src(std::string(kTunedRule) + "tune t.q { enabled false }\noverride list t.user = [\"x\"]\n"
                     "tune test.src { enabled false }\n");
  EXPECT_EQ(r->count(Code::BRD0113), 3u) << r->all_text();
  std::map<std::string, std::string> fixes;  // the name as written -> the suggested one
  for (const auto& d : r->diags.all())
    if (d.code == Code::BRD0113 && d.fix) fixes[r->slice(d.span)] = d.fix->replacement;
  EXPECT_EQ(fixes["t.q"], "t.r");
  EXPECT_EQ(fixes["t.user"], "t.users");
  EXPECT_NE(r->all_text().find("`test.src` is a source, not a rule"), std::string::npos) << r->all_text();
}

TEST(Tuning, GlobMatchingNothingWarns) {
  auto r = check_src(std::string(kTunedRule) + "tune \"zz.*\" { enabled false }\ntune \"t.?\" { severity low }\n");
  EXPECT_FALSE(r->diags.has_errors()) << r->all_text();
  EXPECT_EQ(r->count(Code::BRD0115), 1u) << r->all_text();
  EXPECT_EQ(r->rule("t.r").meta.severity, ir::Severity::Low);
}

TEST(Tuning, ListReplacedTwiceAndWrongElementType) {
  auto r = check_src(std::string(kTunedRule) +
                     "override list t.users = [\"a\"]\noverride list t.users = [\"b\"]\noverride list t.users += [1]\n");
  EXPECT_EQ(r->count(Code::BRD0114), 1u) << r->all_text();
  EXPECT_EQ(r->count(Code::BRD0413), 1u) << r->all_text();
  EXPECT_FALSE(r->get(Code::BRD0114)->related.empty());
}

TEST(Tuning, ExceptionFieldsAreCheckedInTheRulesScope) {
  auto r = check_src(std::string(kTunedRule) + "tune t.r { except when nosuch == \"x\"\n except when count(a) > 1 }\n");
  EXPECT_CODE(r, Code::BRD0301);
  EXPECT_TRUE(r->has(Code::BRD0208) || r->has(Code::BRD0111)) << r->all_text();
}

TEST(Tuning, SeverityOrEnabledTunedTwice) {
  auto r = check_src(std::string(kTunedRule) + "tune \"t.*\" { severity low }\ntune t.r { severity medium }\n"
                     "tune t.r { enabled false }\ntune t.r { enabled true\n except when ok }\n");
  EXPECT_EQ(r->count(Code::BRD0116), 2u) << r->all_text();
}

TEST(Tuning, OrgDataMetadataMustNameMarkedListsTheRuleReads) {
  auto r = check_src(
      "list t.plain = [\"x\"]\nlist t.other = [\"y\"] org_data\n"
      "rule t.r {\n  title \"t\"\n  severity high\n  source test.src\n  org_data t.plain, t.other, t.none\n"
      "  message \"m\"\n  when userName in t.plain\n}\n");
  EXPECT_EQ(r->count(Code::BRD0412), 3u) << r->all_text();
  EXPECT_NE(r->all_text().find("list `t.plain` is not marked `org_data`"), std::string::npos) << r->all_text();
  EXPECT_NE(r->all_text().find("does not read list `t.other`"), std::string::npos) << r->all_text();
  EXPECT_NE(r->all_text().find("`t.none` is not a declared list"), std::string::npos) << r->all_text();
}

TEST(Tuning, ListsReadThroughMacrosCount) {
  auto r = check_src("list t.users = [\"a\"] org_data\nmacro t.m = userName in t.users\n"
                     "rule t.r {\n  title \"t\"\n  severity high\n  source test.src\n  org_data t.users\n"
                     "  message \"m\"\n  when t.m\n}\n");
  EXPECT_CLEAN(r);
}

// ---------------------------------------------------------------------------------------------------------------
// Group scope (docs/language.md, section 15)

// A group rule `t.g` grouped by `by` with steps a (eventName == "A") and b (eventName == "B").
std::unique_ptr<Run> group_rule(const std::string& when, const std::string& by = "sourceIPAddress window 1h",
                                const std::string& extra = "", const std::string& message = "m",
                                const std::string& clauses = "") {
  return check_src(extra + "\nrule t.g {\n  title \"t\"\n  severity high\n  source test.src\n  message \"" + message +
                   "\"\n" + clauses + "  group by " + by +
                   " {\n    step a = eventName == \"A\"\n    step b = eventName == \"B\"\n    when " + when +
                   "\n  }\n}\n");
}

constexpr int64_t kHour = int64_t{3600} * 1000000000;

TEST(GroupScope, WindowFormIr) {
  auto r = group_rule("distinct(a.userName) >= 3", "sourceIPAddress, lower(userName) window 1h");
  EXPECT_CLEAN(r);
  const auto& rule = r->rule("t.g");
  EXPECT_EQ(rule.scope, ir::Scope::Group);
  EXPECT_EQ(rule.firing, ir::Firing::Monotone);
  ASSERT_TRUE(rule.group);
  const ir::GroupBy& g = *rule.group;
  EXPECT_EQ(g.key_text, (std::vector<std::string>{"sourceIPAddress", "lower(userName)"}));
  ASSERT_EQ(g.keys.size(), 2u);
  EXPECT_EQ(ir::dump_expr(*r->prog, g.keys[0]), "$sourceIPAddress");
  EXPECT_EQ(ir::dump_expr(*r->prog, g.keys[1]), "(lower $userName)");
  EXPECT_EQ(g.gap, kHour);
  EXPECT_EQ(g.max, kHour);
  EXPECT_EQ(r->slice(g.span), "group by sourceIPAddress, lower(userName) window 1h");
  // The keys' fields are slots of the source, as the steps' are: the engine reads them from each event.
  const ir::Source& src = r->prog->sources[rule.sources[0]];
  EXPECT_NE(src.slot_of(r->prog->node(g.keys[0]).imm), ir::kNone);
  EXPECT_NE(ir::dump_rule(*r->prog, rule).find("group by \"sourceIPAddress\" = $sourceIPAddress"), std::string::npos)
      << ir::dump_rule(*r->prog, rule);
}

TEST(GroupScope, SessionWindowFormAndKeyTextOnOneLine) {
  auto r = group_rule("a -> b", "coalesce(userAgent,\n      \"none\"), n gap 10m max 24h");
  EXPECT_CLEAN(r);
  const ir::GroupBy& g = *r->rule("t.g").group;
  EXPECT_EQ(g.key_text, (std::vector<std::string>{"coalesce(userAgent, \"none\")", "n"}));
  EXPECT_EQ(g.gap, kHour / 6);
  EXPECT_EQ(g.max, 24 * kHour);
  EXPECT_TRUE(r->rule("t.g").group.has_value());
  EXPECT_FALSE(session_rule("a")->rule("t.s").group.has_value());
}

TEST(GroupScope, FiringIsClassifiedAsInSessionScope) {
  for (const char* when : {"a", "count(a) >= 5", "a -> b within 5m", "a and not b", "count(a) < 3", "a -> not b within 5m",
                           "first(a).n == 3", "last(a).n == 3"}) {
    auto g = group_rule(when);
    auto s = session_rule(when);
    EXPECT_CLEAN(g);
    EXPECT_EQ(g->rule("t.g").firing, s->rule("t.s").firing) << when;
  }
}

TEST(GroupScope, KeysMustBeScalars) {
  for (const char* key : {"tags", "resources[*].ARN", "userIdentity", "extra", "requestParameters.bucketName", "null"}) {
    auto r = group_rule("a", std::string(key) + " window 1h");
    EXPECT_EQ(r->count(Code::BRD0415), 1u) << key << "\n" << r->all_text();
    EXPECT_NE(r->all_text().find("a key must be a scalar"), std::string::npos) << key << "\n" << r->all_text();
  }
  auto r = group_rule("a", "resources[*].ARN window 1h");
  EXPECT_NE(r->all_text().find("`resources[0].ARN`"), std::string::npos) << r->all_text();
  // Every scalar kind is a key: strings, ips, ints, floats, bools, times, an element by index.
  EXPECT_CLEAN(group_rule("a", "eventName, sourceIPAddress, n, bytes, ok, eventTime, resources[0].ARN window 1h"));
}

TEST(GroupScope, KeysReadTheEventNotTheGroup) {
  auto r = group_rule("a", "a, count(b), session.identity, chain.depth window 1h");
  EXPECT_EQ(r->count(Code::BRD0208), 2u) << r->all_text();
  EXPECT_EQ(r->count(Code::BRD0414), 2u) << r->all_text();
  EXPECT_NE(r->all_text().find("a `group by` key is read from each event"), std::string::npos) << r->all_text();
  EXPECT_CODE(group_rule("a", "no_such_field window 1h"), Code::BRD0301);
}

TEST(GroupScope, AtMostEightKeysEachGivenOnce) {
  EXPECT_CLEAN(group_rule("a", "eventName, sourceIPAddress, n, bytes, ok, eventTime, userName, userAgent window 1h"));
  auto r = group_rule("a", "eventName, sourceIPAddress, n, bytes, ok, eventTime, userName, userAgent, "
                           "userIdentity.arn, userIdentity.type window 1h");
  EXPECT_EQ(r->count(Code::BRD0415), 1u) << r->all_text();
  EXPECT_NE(r->all_text().find("at most 8 keys; this one has 10"), std::string::npos) << r->all_text();
  auto d = group_rule("a", "userName, n, userName window 1h");
  ASSERT_EQ(d->count(Code::BRD0415), 1u) << d->all_text();
  EXPECT_NE(d->all_text().find("`userName` is given twice"), std::string::npos) << d->all_text();
  EXPECT_EQ(d->get(Code::BRD0415)->related.size(), 1u);
}

TEST(GroupScope, WindowMustBePositiveAndMaxAtLeastGap) {
  EXPECT_EQ(group_rule("a", "n window 0s")->count(Code::BRD0416), 1u);
  EXPECT_EQ(group_rule("a", "n gap 0m max 1h")->count(Code::BRD0416), 1u);
  auto r = group_rule("a", "n gap 1h max 10m");
  ASSERT_EQ(r->count(Code::BRD0416), 1u);
  EXPECT_NE(r->all_text().find("the group maximum (10m) is shorter than the gap (1h)"), std::string::npos);
  EXPECT_EQ(r->slice(r->get(Code::BRD0416)->span), "10m");
  EXPECT_CLEAN(group_rule("a", "n gap 1h max 1h"));
}

TEST(GroupScope, NoSessionOrChainAnywhere) {
  // A step, the `when`, the message, a suppress key and a severity condition: each is BRD0414.
  auto r = check_src(R"(
rule t.g {
  title "t"
  severity {
    high when session.events > 3
    else low
  }
  source test.src
  message "{session.identity}"
  suppress 1h by chain.root.identity
  group by sourceIPAddress window 1h {
    step a = eventName == "A" and session.credential == "x"
    when count(a) > 1 and session.source_ips > 2
  }
}
)");
  EXPECT_EQ(r->count(Code::BRD0414), 5u) << r->all_text();
  EXPECT_NE(r->all_text().find("group scope has no session: `session.identity` is not available"), std::string::npos)
      << r->all_text();
  EXPECT_NE(r->all_text().find("group scope has no chain: `chain.root.identity`"), std::string::npos) << r->all_text();
  EXPECT_FALSE(r->has(Code::BRD0110)) << r->all_text();
}

TEST(GroupScope, WhenMessageAndSuppressSeeTheGroupLikeASession) {
  auto r = group_rule("a -> b and distinct(a.userName) >= 2 and first(a).n < last(b).n and a.ok", "sourceIPAddress window 1h",
                      "", "{count(a)} from {first(a).sourceIPAddress}", "  suppress 1h by first(a).sourceIPAddress\n");
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->rule("t.g").sequences.size(), 1u);
  auto f = group_rule("a and eventName == \"x\"");
  ASSERT_TRUE(f->has(Code::BRD0214)) << f->all_text();
  EXPECT_NE(f->all_text().find("in a group condition"), std::string::npos) << f->all_text();
  EXPECT_CODE(group_rule("a", "n window 1h", "", "{eventName}"), Code::BRD0214);
}

TEST(GroupScope, WithoutWhenOrWithAnEventWhen) {
  auto r = check_src("\nrule t.g {\n  title \"t\"\n  severity high\n  source test.src\n  message \"m\"\n"
                     "  group by n window 1h {\n    step a = ok\n  }\n}\n");
  ASSERT_TRUE(r->has(Code::BRD0410)) << r->all_text();
  EXPECT_NE(r->all_text().find("the `group` block has no `when` condition"), std::string::npos);
  auto both = check_src("\nrule t.g {\n  title \"t\"\n  severity high\n  source test.src\n  message \"m\"\n"
                        "  when ok\n  group by n window 1h {\n    step a = ok\n    when a\n  }\n}\n");
  EXPECT_CODE(both, Code::BRD0403);
}

TEST(GroupScope, TuningExceptionsAreCheckedInTheGroupsDecisionContext) {
  auto r = group_rule("count(a) > 2", "sourceIPAddress window 1h",
                      "tune t.g {\n  except when first(a).userName == \"svc\"\n  severity low\n}\n");
  EXPECT_CLEAN(r);
  std::string c = r->cond("t.g");
  EXPECT_EQ(c.rfind("(and (gt", 0), 0u) << c;
  EXPECT_NE(c.find("(not (eq"), std::string::npos) << c;
  EXPECT_EQ(r->rule("t.g").meta.severity, ir::Severity::Low);
  EXPECT_EQ(r->rule("t.g").exceptions.size(), 1u);
  auto s = group_rule("count(a) > 2", "sourceIPAddress window 1h",
                      "tune t.g {\n  except when session.identity == \"x\"\n}\n");
  EXPECT_EQ(s->count(Code::BRD0414), 1u) << s->all_text();
  EXPECT_CODE(group_rule("count(a) > 2", "sourceIPAddress window 1h", "tune t.g {\n  except when eventName == \"x\"\n}\n"),
              Code::BRD0214);
}

TEST(GroupScope, GroupWindowAndByAreFieldNames) {
  auto r = check_files({R"(
source k.src {
  recognize group == "x"
  time at
  identity by.group
  session gap 1h max 1d
  fields { group: string, window: int, by: { group: string }, at: time }
}
rule k.r {
  title "t"
  severity low
  source k.src
  message "{first(big).group}"
  group by group, by.group window 1h {
    step big = window > 1
    when count(big) > 2
  }
}
)"});
  EXPECT_CLEAN(r);
  EXPECT_EQ(r->rule("k.r").group->key_text, (std::vector<std::string>{"group", "by.group"}));
}

}  // namespace
}  // namespace braid
