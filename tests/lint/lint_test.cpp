// Unit tests of the linter (compiler/lint/): for every BRD08xx code a case that triggers it and a near miss that
// must not. Each test parses and checks a small self-contained text (its own `source`, no stdlib), lints it, and
// asserts on the codes and their positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "check/checker.h"
#include "ir/ir.h"
#include "lint/linter.h"
#include "parser/parser.h"

namespace braid {
namespace {

const char* kSource = R"(
source t {
  recognize exists(kind)
  time ts
  identity user
  session gap 30m max 12h
  fields {
    ts: time,
    kind: string,
    user: string,
    n: int,
    email?: string nocase,
    host: string nocase,
    code?: string,
    other?: string,
    hosts: [string] nocase,
    items?: [{ name?: string }],
    peers?: [{ name: string nocase, kind?: string }],
    flag?: bool,
  }
}
)";

const char* kMeta = R"(
  title "t"
  description "d"
  severity low
  attack T1078
  source t
  message "m"
)";

const char* kTest = R"(
  test "x" {
    events [ { "ts": "2024-01-01T00:00:00Z", "kind": "a", "user": "u", "n": 1, "host": "h", "hosts": [] } ]
    expect none
  }
)";

struct Linted {
  SourceManager sm;
  DiagnosticSink check_diags;
  DiagnosticSink diags;
  std::vector<ast::File> files;
  std::unique_ptr<ir::Program> prog;
  std::string text;

  std::vector<const Diagnostic*> of(Code c) const {
    std::vector<const Diagnostic*> out;
    for (const auto& d : diags.all())
      if (d.code == c) out.push_back(&d);
    return out;
  }
  size_t count(Code c) const { return of(c).size(); }
  // Byte offset of the n-th occurrence of `needle` in the linted text.
  uint32_t at(const std::string& needle, int nth = 0) const {
    size_t pos = text.find(needle);
    while (nth-- > 0 && pos != std::string::npos) pos = text.find(needle, pos + 1);
    EXPECT_NE(pos, std::string::npos) << "no `" << needle << "` in the text";
    return static_cast<uint32_t>(pos);
  }
  std::string codes() const {
    std::string s;
    for (const auto& d : diags.all()) s += std::string(code_info(d.code).id) + " " + d.message + "\n";
    return s;
  }
};

// Parses, checks and lints `files` (path, text); the last file is the one `at()` searches.
std::unique_ptr<Linted> lint_files(const std::vector<std::pair<std::string, std::string>>& files,
                                   const LintOptions& opts = {}) {
  auto r = std::make_unique<Linted>();
  for (const auto& [path, text] : files) {
    FileId id = r->sm.add(path, text);
    r->files.push_back(parse_file(r->sm, id, r->check_diags));
    r->text = text;
  }
  std::vector<const ast::File*> ptrs;
  for (const auto& f : r->files) ptrs.push_back(&f);
  if (!r->check_diags.has_errors()) r->prog = check(ptrs, r->sm, r->check_diags);
  std::string errs;
  for (const auto& d : r->check_diags.all())
    if (d.severity == Severity::Error) errs += std::string(code_info(d.code).id) + " " + d.message + "\n";
  EXPECT_TRUE(errs.empty()) << "the test text does not check:\n" << errs << files.back().second.substr(std::string(kSource).size() < files.back().second.size() ? std::string(kSource).size() : 0);
  if (r->prog && errs.empty()) lint(*r->prog, r->sm, r->diags, opts);
  return r;
}

std::unique_ptr<Linted> lint_text(const std::string& body, const LintOptions& opts = {}) {
  return lint_files({{"test.braid", std::string(kSource) + body}}, opts);
}

// An event rule with full metadata and a test, so that only the condition can be reported.
std::unique_ptr<Linted> lint_when(const std::string& cond, const LintOptions& opts = {}) {
  return lint_text(std::string("rule r {") + kMeta + "  when " + cond + "\n" + kTest + "}\n", opts);
}

// A session rule with steps `a` (kind == "a") and `b` (kind == "b") plus `extra_steps`.
std::unique_ptr<Linted> lint_session(const std::string& when, const std::string& extra_steps = "",
                                     const LintOptions& opts = {}) {
  return lint_text(std::string("rule r {") + kMeta + "  session {\n    step a = kind == \"a\"\n" +
                       "    step b = kind == \"b\"\n" + extra_steps + "    when " + when + "\n  }\n" + kTest + "}\n",
                   opts);
}

// ---------------------------------------------------------------------------------------------------------------
// Baseline

TEST(Lint, CleanRuleHasNoFindings) {
  auto r = lint_when("kind == \"a\" and code == \"X\" and n > 3");
  EXPECT_TRUE(r->diags.all().empty()) << r->codes();
}

TEST(Lint, EveryLintCodeIsAWarningExceptCostly) {
  for (Code c : {Code::BRD0801, Code::BRD0802, Code::BRD0803, Code::BRD0804, Code::BRD0805, Code::BRD0806,
                 Code::BRD0807, Code::BRD0808, Code::BRD0809, Code::BRD0810, Code::BRD0812, Code::BRD0813,
                 Code::BRD0817}) {
    EXPECT_EQ(code_info(c).severity, Severity::Warning) << code_info(c).id;
    EXPECT_FALSE(code_info(c).text.empty());
    EXPECT_NE(code_info(c).text.find("```braid"), std::string_view::npos) << code_info(c).id;
  }
  EXPECT_EQ(code_info(Code::BRD0811).severity, Severity::Note);
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0801: negated comparison on an optional field

TEST(Lint, NegatedOptionalFieldIsReported) {
  auto r = lint_when("kind == \"a\" and code != \"X\"");
  auto ds = r->of(Code::BRD0801);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("code != \"X\""));
  EXPECT_NE(ds[0]->message.find("`code`"), std::string::npos);
  EXPECT_NE(ds[0]->help.find("exists(code) and code != \"X\""), std::string::npos) << ds[0]->help;
  EXPECT_EQ(r->diags.all().size(), 1u) << r->codes();
}

TEST(Lint, NegatedFormsAreAllReported) {
  EXPECT_EQ(lint_when("code not in [\"a\", \"b\"]")->count(Code::BRD0801), 1u);
  EXPECT_EQ(lint_when("not (code == \"X\")")->count(Code::BRD0801), 1u);
  EXPECT_EQ(lint_when("not (code contains \"X\")")->count(Code::BRD0801), 1u);
  EXPECT_EQ(lint_when("code !=~ \"x\"")->count(Code::BRD0801), 1u);
  EXPECT_EQ(lint_when("lower(code) != \"x\"")->count(Code::BRD0801), 1u);
  EXPECT_EQ(lint_when("items[*].name != \"x\"")->count(Code::BRD0801), 1u);
}

TEST(Lint, GuardedNegationIsNotReported) {
  EXPECT_EQ(lint_when("kind == \"a\" and exists(code) and code != \"X\"")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("code is not null and code != \"X\"")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("code startswith \"A\" and code != \"AB\"")->count(Code::BRD0801), 0u);
  // A guard in an enclosing conjunction covers a nested `or`.
  EXPECT_EQ(lint_when("exists(code) and (kind == \"a\" or code != \"X\")")->count(Code::BRD0801), 0u);
  // An explicit `is null` beside it says that missing is meant to match.
  EXPECT_EQ(lint_when("code is null or code != \"X\"")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("exists(items) and items[*].name != \"x\"")->count(Code::BRD0801), 0u);
  // A test that fails on coalesce's default proves the field present (issue 11).
  EXPECT_EQ(lint_when("coalesce(code, \"\") != \"\" and code != \"X\"")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("code != \"X\" and not (coalesce(code, \"-\") == \"-\")")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("coalesce(code, \"none\") == \"Y\" and code != \"X\"")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("coalesce(email, \"\") != \"\" and email !=~ \"a@b\"")->count(Code::BRD0801), 0u);
}

TEST(Lint, CoalesceThatHoldsOnTheDefaultIsNoGuard) {
  // True when code is missing (the default differs from "x", or equals the compared value): not a guard.
  EXPECT_EQ(lint_when("coalesce(code, \"\") != \"x\" and code != \"X\"")->count(Code::BRD0801), 1u);
  EXPECT_EQ(lint_when("coalesce(code, \"Y\") == \"Y\" and code != \"X\"")->count(Code::BRD0801), 1u);
  // A guard of another field.
  EXPECT_EQ(lint_when("coalesce(other, \"\") != \"\" and code != \"X\"")->count(Code::BRD0801), 1u);
  // In a sibling disjunct.
  EXPECT_EQ(lint_when("coalesce(code, \"\") != \"\" or code != \"X\"")->count(Code::BRD0801), 1u);
}

TEST(Lint, NearMissesOfNegatedOptionalField) {
  // A required field, a double negation, coalesce, and a positive comparison.
  EXPECT_EQ(lint_when("kind != \"b\"")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("not (code != \"X\")")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("coalesce(code, \"\") != \"x\"")->count(Code::BRD0801), 0u);
  EXPECT_EQ(lint_when("code == \"X\"")->count(Code::BRD0801), 0u);
  // `exists` in a sibling disjunct is not a guard.
  EXPECT_EQ(lint_when("exists(other) or code != \"X\"")->count(Code::BRD0801), 1u);
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0802: two optional fields

TEST(Lint, TwoOptionalFieldsAreReported) {
  auto r = lint_when("kind == \"a\" and code != other");
  auto ds = r->of(Code::BRD0802);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("code != other"));
  EXPECT_NE(ds[0]->help.find("exists(code) and exists(other)"), std::string::npos) << ds[0]->help;
  EXPECT_EQ(r->count(Code::BRD0801), 0u) << r->codes();
}

TEST(Lint, TwoOptionalFieldsNearMisses) {
  EXPECT_EQ(lint_when("exists(code) and exists(other) and code != other")->diags.all().size(), 0u);
  EXPECT_EQ(lint_when("code == other")->diags.all().size(), 0u);
  // Only one side still unguarded: the single-field warning.
  auto r = lint_when("exists(code) and code != other");
  EXPECT_EQ(r->count(Code::BRD0802), 0u);
  ASSERT_EQ(r->count(Code::BRD0801), 1u) << r->codes();
  EXPECT_NE(r->of(Code::BRD0801)[0]->message.find("`other`"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0803: case-sensitive comparison of a nocase field

TEST(Lint, NocaseFieldWithUpperCaseConstantIsReportedWithFix) {
  auto r = lint_when("host == \"Web01\"");
  auto ds = r->of(Code::BRD0803);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("host == \"Web01\""));
  ASSERT_TRUE(ds[0]->fix.has_value());
  EXPECT_EQ(ds[0]->fix->span.begin, r->at("== \"Web01\""));
  EXPECT_EQ(ds[0]->fix->span.end, r->at("== \"Web01\"") + 2);
  EXPECT_EQ(ds[0]->fix->replacement, "==~");
}

TEST(Lint, NocaseFieldOtherOperatorsAndFixes) {
  {
    auto r = lint_when("host != \"Web01\"");
    auto ds = r->of(Code::BRD0803);
    ASSERT_EQ(ds.size(), 1u) << r->codes();
    ASSERT_TRUE(ds[0]->fix.has_value());
    EXPECT_EQ(ds[0]->fix->replacement, "!=~");
    EXPECT_EQ(ds[0]->fix->span.begin, r->at("!="));
  }
  {
    auto r = lint_when("host in [\"A\", \"b\"]");
    auto ds = r->of(Code::BRD0803);
    ASSERT_EQ(ds.size(), 1u) << r->codes();
    ASSERT_TRUE(ds[0]->fix.has_value());
    EXPECT_EQ(ds[0]->fix->replacement, "in~");
    EXPECT_EQ(ds[0]->fix->span.begin, r->at("in [\"A\""));
  }
  {
    auto r = lint_when("host not in [\"A\"]");
    auto ds = r->of(Code::BRD0803);
    ASSERT_EQ(ds.size(), 1u) << r->codes();
    ASSERT_TRUE(ds[0]->fix.has_value());
    EXPECT_EQ(ds[0]->fix->replacement, "in~");
    EXPECT_EQ(ds[0]->fix->span.begin, r->at("in [\"A\""));
  }
  {
    auto r = lint_when("email contains \"Foo\"");
    ASSERT_EQ(r->count(Code::BRD0803), 1u) << r->codes();
    EXPECT_EQ(r->of(Code::BRD0803)[0]->fix->replacement, "contains~");
  }
  EXPECT_EQ(lint_when("hosts[*] == \"Web\"")->count(Code::BRD0803), 1u);
}

// A member of one element in any(...) (a zipped list's item) is still its field: BRD0803 and its fix-it apply.
TEST(Lint, NocaseMemberOfOneElementInAny) {
  auto r = lint_when("any(peers[*].name == \"Web01\" and peers[*].kind == \"host\")");
  auto ds = r->of(Code::BRD0803);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("peers[*].name =="));
  ASSERT_TRUE(ds[0]->fix.has_value());
  EXPECT_EQ(ds[0]->fix->replacement, "==~");
  EXPECT_EQ(ds[0]->fix->span.begin, r->at("== \"Web01\""));
}

TEST(Lint, NocaseFieldNearMisses) {
  // `cased` says the exact comparison is meant.
  EXPECT_EQ(lint_when("host == cased \"Web01\"")->count(Code::BRD0803), 0u);
  EXPECT_EQ(lint_when("host in cased [\"A\"]")->count(Code::BRD0803), 0u);
  EXPECT_EQ(lint_when("host contains cased \"Web\"")->count(Code::BRD0803), 0u);
  EXPECT_EQ(lint_when("host == \"web01\"")->count(Code::BRD0803), 0u);
  EXPECT_EQ(lint_when("host ==~ \"Web01\"")->count(Code::BRD0803), 0u);
  EXPECT_EQ(lint_when("host in~ [\"A\"]")->count(Code::BRD0803), 0u);
  EXPECT_EQ(lint_when("kind == \"Web01\"")->count(Code::BRD0803), 0u);
  EXPECT_EQ(lint_when("host matches r\"Web\"")->count(Code::BRD0803), 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0804: constant conditions

TEST(Lint, SameFieldTwoValuesIsAlwaysFalse) {
  auto r = lint_when("kind == \"a\" and kind == \"b\"");
  auto ds = r->of(Code::BRD0804);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("kind == \"a\" and"));
  EXPECT_NE(ds[0]->message.find("always false"), std::string::npos);
  EXPECT_EQ(ds[0]->related.size(), 2u);
}

TEST(Lint, OrOfInequalitiesIsAlwaysTrue) {
  auto r = lint_when("kind != \"a\" or kind != \"b\"");
  auto ds = r->of(Code::BRD0804);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_NE(ds[0]->message.find("always true"), std::string::npos);
}

// A computed severity's conditions are linted like the rule's own condition (issue 11 item 5).
TEST(Lint, ComputedSeverityConditions) {
  std::string meta = kMeta;
  meta.replace(meta.find("severity low"), 12, "severity {\n    high when kind == \"a\" and kind == \"b\"\n"
                                              "    critical when code != \"X\"\n    else low\n  }");
  auto r = lint_text(std::string("rule r {") + meta + "  when n > 3\n" + kTest + "}\n");
  auto constant = r->of(Code::BRD0804);
  ASSERT_EQ(constant.size(), 1u) << r->codes();
  EXPECT_EQ(constant[0]->span.begin, r->at("kind == \"a\" and"));
  EXPECT_NE(constant[0]->message.find("always false"), std::string::npos) << r->codes();
  ASSERT_EQ(r->count(Code::BRD0801), 1u) << r->codes();
  EXPECT_EQ(r->of(Code::BRD0801)[0]->span.begin, r->at("code != \"X\""));
}

TEST(Lint, ConstantConditionNearMisses) {
  EXPECT_EQ(lint_when("kind == \"a\" or kind == \"b\"")->count(Code::BRD0804), 0u);
  EXPECT_EQ(lint_when("kind != \"a\" and kind != \"b\"")->count(Code::BRD0804), 0u);
  EXPECT_EQ(lint_when("kind in [\"a\", \"b\"] and kind == \"b\"")->count(Code::BRD0804), 0u);
  EXPECT_EQ(lint_when("kind ==~ \"A\" and kind == \"a\"")->count(Code::BRD0804), 0u);
  EXPECT_EQ(lint_when("n > 3 and n < 5")->count(Code::BRD0804), 0u);
  // len() of a missing value is null, so `>= 0` is not always true.
  EXPECT_EQ(lint_when("len(code) >= 0")->count(Code::BRD0804), 0u);
  EXPECT_EQ(lint_when("exists(code) and code != \"a\"")->count(Code::BRD0804), 0u);
}

TEST(Lint, ConstantConditionForms) {
  EXPECT_EQ(lint_when("kind in [\"a\", \"b\"] and kind == \"c\"")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("kind ==~ \"a\" and kind ==~ \"B\"")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("n > 5 and n < 3")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("kind == \"a\" and kind != \"a\"")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("exists(code) and code is null")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("kind in []")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("len(kind) < 0")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("lower(kind) == \"Abc\"")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("n > 3 and not (n > 3)")->count(Code::BRD0804), 1u);
  // A constant part of a larger condition is reported by itself.
  auto r = lint_when("kind == \"a\" or 1 == 2");
  auto ds = r->of(Code::BRD0804);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("1 == 2"));
}

TEST(Lint, ConstantSessionConditionsAndSteps) {
  EXPECT_EQ(lint_session("count(a) >= 0")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_session("count(a) > 0")->count(Code::BRD0804), 0u);
  EXPECT_EQ(lint_session("count(a) > 2 and distinct(a.user) < 0")->count(Code::BRD0804), 1u);
  auto r = lint_session("count(a) > 0 and count(c) > 1", "    step c = kind == \"x\" and kind == \"y\"\n");
  auto ds = r->of(Code::BRD0804);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("kind == \"x\""));
  EXPECT_NE(ds[0]->message.find("step `c`"), std::string::npos) << ds[0]->message;
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0805: duplicate conditions

TEST(Lint, DuplicateConjunctIsReported) {
  auto r = lint_when("kind == \"a\" and n > 1 and kind == \"a\"");
  auto ds = r->of(Code::BRD0805);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("kind == \"a\"", 1));
  ASSERT_EQ(ds[0]->related.size(), 1u);
  EXPECT_EQ(ds[0]->related[0].span.begin, r->at("kind == \"a\""));
}

TEST(Lint, DuplicateNearMisses) {
  EXPECT_EQ(lint_when("kind == \"a\" and kind ==~ \"a\"")->count(Code::BRD0805), 0u);
  EXPECT_EQ(lint_when("kind == \"a\" and n > 1 or kind == \"a\" and n > 2")->count(Code::BRD0805), 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0806 / BRD0807: unused lists and macros

TEST(Lint, UnusedListAndMacroAreReported) {
  auto r = lint_text(std::string("list acme.unused = [\"a\"]\nmacro acme.m = kind == \"a\"\n") +
                     "list acme.used = [\"b\"]\nmacro acme.used_m = n > 1\n" + "rule r {" + kMeta +
                     "  when kind in acme.used and acme.used_m\n" + kTest + "}\n");
  auto ls = r->of(Code::BRD0806);
  ASSERT_EQ(ls.size(), 1u) << r->codes();
  EXPECT_EQ(ls[0]->span.begin, r->at("acme.unused"));
  auto ms = r->of(Code::BRD0807);
  ASSERT_EQ(ms.size(), 1u) << r->codes();
  EXPECT_EQ(ms[0]->span.begin, r->at("acme.m ="));
}

TEST(Lint, StdlibListsAndMacrosAreNotReported) {
  auto r = lint_files({{"<stdlib>/x.braid", "list std.l = [\"a\"]\nmacro std.m = true\n"},
                       {"test.braid", std::string(kSource) + "rule r {" + kMeta + "  when kind == \"a\"\n" + kTest +
                                          "}\n"}});
  EXPECT_EQ(r->count(Code::BRD0806), 0u) << r->codes();
  EXPECT_EQ(r->count(Code::BRD0807), 0u) << r->codes();
  LintOptions all;
  all.lint_stdlib = true;
  auto r2 = lint_files({{"<stdlib>/x.braid", "list std.l = [\"a\"]\nmacro std.m = true\n"},
                        {"test.braid", std::string(kSource) + "rule r {" + kMeta + "  when kind == \"a\"\n" + kTest +
                                           "}\n"}},
                       all);
  EXPECT_EQ(r2->count(Code::BRD0806), 1u) << r2->codes();
  EXPECT_EQ(r2->count(Code::BRD0807), 1u) << r2->codes();
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0808: sequences without within

TEST(Lint, SequenceWithoutWithinIsReported) {
  auto r = lint_session("a -> b");
  auto ds = r->of(Code::BRD0808);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("a -> b"));
  EXPECT_EQ(r->diags.all().size(), 1u) << r->codes();
  EXPECT_EQ(lint_session("a -> not b")->count(Code::BRD0808), 1u);
}

// A group's window is always bounded (`window D` or `max M`): a sequence without `within` spans at most that.
TEST(Lint, SequenceWithoutWithinInAGroupIsNotReported) {
  for (const char* by : {"window 1h", "gap 10m max 1d"}) {
    auto r = lint_text(std::string("rule r {") + kMeta + "  group by host, n " + by +
                       " {\n    step a = kind == \"a\"\n    step b = kind == \"b\"\n    step all = true\n"
                       "    when a -> b and all -> a and distinct(a.user) > 5000\n  }\n" + kTest + "}\n");
    EXPECT_EQ(r->count(Code::BRD0808), 0u) << by << "\n" << r->codes();
    // The other checks of a session rule's block apply: a step matching every event, the distinct bound.
    EXPECT_EQ(r->count(Code::BRD0804), 1u) << by << "\n" << r->codes();
    EXPECT_EQ(r->count(Code::BRD0810), 1u) << by << "\n" << r->codes();
  }
}

// BRD0817: a group key on a `nocase` field splits its groups by case.
TEST(Lint, GroupKeyOnNocaseFieldIsReported) {
  auto r = lint_text(std::string("rule r {") + kMeta + "  group by kind, host window 1h {\n    step a = kind == \"a\"\n"
                     "    when count(a) > 3\n  }\n" + kTest + "}\n");
  auto ds = r->of(Code::BRD0817);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("host window"));
  EXPECT_EQ(ds[0]->help, "group by `lower(host)`");
  ASSERT_TRUE(ds[0]->fix);
  EXPECT_EQ(ds[0]->fix->replacement, "lower(host)");
  EXPECT_EQ(r->diags.all().size(), 1u) << r->codes();
  // Lower-cased, or a field that is not `nocase`: nothing to say.
  auto ok = lint_text(std::string("rule r {") + kMeta + "  group by kind, lower(host) window 1h {\n"
                      "    step a = kind == \"a\"\n    when count(a) > 3\n  }\n" + kTest + "}\n");
  EXPECT_TRUE(ok->diags.all().empty()) << ok->codes();
}

TEST(Lint, SequenceWithWithinIsNotReported) {
  auto r = lint_session("a -> b within 10m");
  EXPECT_TRUE(r->diags.all().empty()) << r->codes();
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0809 / BRD0812 / BRD0813: tests and metadata

TEST(Lint, RuleWithoutTestIsReported) {
  auto r = lint_text(std::string("rule acme.r {") + kMeta + "  when kind == \"a\"\n}\n");
  auto ds = r->of(Code::BRD0809);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("acme.r"));
  EXPECT_EQ(r->diags.all().size(), 1u) << r->codes();
  // Disabled rules are still linted.
  auto d = lint_text(std::string("rule acme.r {") + kMeta + "  enabled false\n  when kind == \"a\"\n}\n");
  EXPECT_EQ(d->count(Code::BRD0809), 1u) << d->codes();
}

TEST(Lint, MissingDescriptionAndAttack) {
  auto r = lint_text(std::string(
                         "rule acme.r {\n  title \"t\"\n  severity low\n  source t\n  message \"m\"\n"
                         "  when kind == \"a\"\n") +
                     kTest + "}\n");
  ASSERT_EQ(r->count(Code::BRD0812), 1u) << r->codes();
  ASSERT_EQ(r->count(Code::BRD0813), 1u) << r->codes();
  EXPECT_EQ(r->of(Code::BRD0812)[0]->span.begin, r->at("acme.r"));
  EXPECT_EQ(r->diags.all().size(), 2u) << r->codes();
  // Not on a disabled rule.
  auto d = lint_text(std::string(
                         "rule acme.r {\n  title \"t\"\n  severity low\n  source t\n  message \"m\"\n"
                         "  enabled false\n  when kind == \"a\"\n") +
                     kTest + "}\n");
  EXPECT_TRUE(d->diags.all().empty()) << d->codes();
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0810: unbounded state

TEST(Lint, DistinctAboveExactBoundIsReported) {
  auto r = lint_session("distinct(a.user) > 5000");
  auto ds = r->of(Code::BRD0810);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("distinct(a.user) > 5000"));
  EXPECT_EQ(lint_session("distinct(a.user) > 4096")->count(Code::BRD0810), 1u);
  EXPECT_EQ(lint_session("distinct(a.user) <= 4096")->count(Code::BRD0810), 1u);
}

TEST(Lint, DistinctWithinExactBoundIsNotReported) {
  EXPECT_EQ(lint_session("distinct(a.user) >= 4096")->count(Code::BRD0810), 0u);
  EXPECT_EQ(lint_session("distinct(a.user) > 4095")->count(Code::BRD0810), 0u);
  EXPECT_EQ(lint_session("count(a) > 100000")->count(Code::BRD0810), 0u);
  LintOptions big;
  big.distinct_exact_bound = 10000;
  EXPECT_EQ(lint_session("distinct(a.user) > 5000", "", big)->count(Code::BRD0810), 0u);
}

TEST(Lint, BroadStepInUnboundedSequenceIsReported) {
  auto r = lint_session("any -> b", "    step any = true\n");
  EXPECT_EQ(r->count(Code::BRD0810), 1u) << r->codes();
  EXPECT_EQ(r->count(Code::BRD0808), 1u) << r->codes();
  EXPECT_EQ(r->count(Code::BRD0804), 1u) << r->codes();  // the step's predicate is always true
  auto bounded = lint_session("any -> b within 5m", "    step any = true\n");
  EXPECT_EQ(bounded->count(Code::BRD0810), 0u) << bounded->codes();
}

// ---------------------------------------------------------------------------------------------------------------
// BRD0811: costly rules

TEST(Lint, CostlyRuleOnlyWhenAsked) {
  EXPECT_EQ(lint_when("n > 5")->count(Code::BRD0811), 0u);
  LintOptions o;
  o.costly = true;
  auto r = lint_when("n > 5", o);
  auto ds = r->of(Code::BRD0811);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->severity, Severity::Note);
  EXPECT_EQ(ds[0]->span.begin, r->at("r {"));
  EXPECT_NE(ds[0]->message.find("its condition is evaluated on every event of `t`"), std::string::npos)
      << ds[0]->message;
  EXPECT_NE(ds[0]->help.find("eventName == \"...\""), std::string::npos) << ds[0]->help;
  EXPECT_NE(ds[0]->help.find("in [...]"), std::string::npos) << ds[0]->help;
  EXPECT_EQ(lint_when("kind == \"a\" or n > 5", o)->count(Code::BRD0811), 1u);
  EXPECT_EQ(lint_when("flag == true", o)->count(Code::BRD0811), 1u);
  auto s = lint_session("count(a) > 1 and count(c) > 1", "    step c = n > 1\n", o);
  ASSERT_EQ(s->count(Code::BRD0811), 1u) << s->codes();
  EXPECT_NE(s->of(Code::BRD0811)[0]->message.find("step `c` is evaluated"), std::string::npos) << s->codes();
  EXPECT_EQ(s->of(Code::BRD0811)[0]->message.find("step `a`"), std::string::npos) << s->codes();
  auto two = lint_session("count(c) > 1 and count(d) > 1", "    step c = n > 1\n    step d = n > 2\n", o);
  ASSERT_EQ(two->count(Code::BRD0811), 1u) << two->codes();
  EXPECT_NE(two->of(Code::BRD0811)[0]->message.find("step `c` and step `d` are evaluated"), std::string::npos)
      << two->codes();
}

TEST(Lint, DiscriminatedRuleIsNotCostly) {
  LintOptions o;
  o.costly = true;
  EXPECT_EQ(lint_when("kind == \"a\" and n > 5", o)->count(Code::BRD0811), 0u);
  EXPECT_EQ(lint_when("\"a\" == kind and n > 5", o)->count(Code::BRD0811), 0u);
  EXPECT_EQ(lint_when("kind in [\"a\", \"b\"] and n > 5", o)->count(Code::BRD0811), 0u);
  EXPECT_EQ(lint_when("kind == \"a\" or kind in [\"b\", \"c\"]", o)->count(Code::BRD0811), 0u);
  EXPECT_EQ(lint_when("(kind == \"a\" or kind == \"b\") and not (code == \"x\")", o)->count(Code::BRD0811), 0u);
  EXPECT_EQ(lint_when("code == \"X\" and n > 5", o)->count(Code::BRD0811), 0u);  // an optional field is fine
  EXPECT_EQ(lint_session("count(a) > 1 and count(b) > 1", "", o)->count(Code::BRD0811), 0u);
}

// The linter agrees with the match plan (ir/match_plan.h): what the plan can neither index nor prefilter (no
// exact value and no literal is required) is costly, even when a field is compared with a constant.
TEST(Lint, CostlyMeansNotIndexedByTheMatchPlan) {
  LintOptions o;
  o.costly = true;
  auto costly = [&](const std::string& cond) {
    auto r = lint_when(cond, o);
    return r->count(Code::BRD0811) == 1;
  };
  // A literal every match needs is enough (the prefilter, or a string operator per event when few rules have one).
  EXPECT_FALSE(costly("kind startswith \"a\" or kind == \"b\""));
  EXPECT_FALSE(costly("kind startswith \"a\""));
  EXPECT_FALSE(costly("kind startswith any [\"a\", \"b\"]"));
  EXPECT_FALSE(costly("kind like \"*abc*\" and n > 1"));
  EXPECT_FALSE(costly("kind ==~ \"a\""));                              // case-insensitive
  EXPECT_FALSE(costly("kind in~ [\"a\", \"b\"]"));
  EXPECT_FALSE(costly("host == \"web01\""));                            // a `nocase` field
  EXPECT_TRUE(costly("kind startswith \"a\" or n > 1"));             // a branch without a literal
  EXPECT_TRUE(costly("not (kind contains \"a\")"));
  EXPECT_TRUE(costly("kind contains \"\""));                          // the empty string is in every string
  EXPECT_TRUE(costly("kind like \"*\""));
  EXPECT_TRUE(costly("kind matches r\"^a+\""));                      // no literal of 3 characters
  EXPECT_FALSE(costly("kind matches r\"^Invoke-[A-Z]\""));
  EXPECT_TRUE(costly("n == 5"));                                        // integers are not indexed
  EXPECT_TRUE(costly("n in [1, 2]"));
  EXPECT_TRUE(costly("kind == \"a\" or code == \"b\""));             // two fields: neither is required
  EXPECT_TRUE(costly("kind != \"a\""));
  EXPECT_TRUE(costly("not (kind in [\"a\"])"));
  EXPECT_TRUE(costly("items[*].name == \"x\""));                        // a `[*]` path
  EXPECT_FALSE(costly("kind ==~ \"a\" and kind == \"b\""));

  auto nc = lint_when("not (host == \"web01\") and n > 1", o);
  ASSERT_EQ(nc->count(Code::BRD0811), 1u) << nc->codes();
  EXPECT_NE(nc->of(Code::BRD0811)[0]->help.find("case-insensitive comparisons"), std::string::npos)
      << nc->of(Code::BRD0811)[0]->help;
  auto ci = lint_when("kind ==~ \"a\" or n > 1", o);
  ASSERT_EQ(ci->count(Code::BRD0811), 1u) << ci->codes();
  EXPECT_NE(ci->of(Code::BRD0811)[0]->help.find("`nocase`"), std::string::npos) << ci->codes();
  auto sw = lint_when("not (kind startswith \"a\")", o);
  EXPECT_NE(sw->of(Code::BRD0811)[0]->help.find("not under `not`"), std::string::npos)
      << sw->of(Code::BRD0811)[0]->help;
  auto re = lint_when("kind matches r\"^a+\"", o);
  EXPECT_NE(re->of(Code::BRD0811)[0]->help.find("a regular expression (`matches`) selects events only through a literal"),
            std::string::npos)
      << re->of(Code::BRD0811)[0]->help;
  auto num = lint_when("n == 5", o);
  EXPECT_NE(num->of(Code::BRD0811)[0]->help.find("only string fields are indexed, not int fields"),
            std::string::npos)
      << num->of(Code::BRD0811)[0]->help;
  auto any = lint_when("items[*].name == \"x\"", o);
  EXPECT_NE(any->of(Code::BRD0811)[0]->help.find("`[*]` paths"), std::string::npos) << any->codes();
  auto negated = lint_when("kind != \"a\"", o);
  EXPECT_NE(negated->of(Code::BRD0811)[0]->help.find("negated comparisons"), std::string::npos) << negated->codes();
  // No specific hint when nothing is compared with a constant.
  auto plain = lint_when("n > 5", o);
  EXPECT_EQ(plain->of(Code::BRD0811)[0]->help.find(";"), std::string::npos) << plain->of(Code::BRD0811)[0]->help;
}

TEST(Lint, CostlyRuleOverSeveralSourcesNamesThem) {
  LintOptions o;
  o.costly = true;
  const std::string second = R"(
source t2 {
  recognize exists(op)
  time ts
  identity user
  session gap 30m max 12h
  fields { ts: time, user: string, kind: string, n: int, op?: string }
}
)";
  auto rule = [&](const std::string& cond) {
    std::string meta = kMeta;
    meta.replace(meta.find("source t\n"), 9, "source t, t2\n");
    return second + "rule r {" + meta + "  when " + cond + "\n" + kTest + "}\n";
  };
  auto r = lint_text(rule("n > 1"), o);
  ASSERT_EQ(r->count(Code::BRD0811), 1u) << r->codes();
  EXPECT_NE(r->of(Code::BRD0811)[0]->message.find("every event of `t` and `t2`"), std::string::npos) << r->codes();
  auto ok = lint_text(rule("kind == \"a\" and n > 1"), o);
  EXPECT_EQ(ok->count(Code::BRD0811), 0u) << ok->codes();
}

TEST(Lint, CostlyIgnoresOtherRulesOfTheProgram) {
  // The plan indexes each predicate on its own: another rule's fields do not change this rule's verdict.
  LintOptions o;
  o.costly = true;
  std::string good = std::string("rule g {") + kMeta + "  when kind == \"a\"\n" + kTest + "}\n";
  std::string bad = std::string("rule b {") + kMeta + "  when n > 1\n" + kTest + "}\n";
  auto r = lint_text(good + bad, o);
  auto ds = r->of(Code::BRD0811);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_NE(ds[0]->message.find("rule `b`"), std::string::npos) << r->codes();
}

// ---------------------------------------------------------------------------------------------------------------
// More shapes: macros, constants on the left, `[*]`

TEST(Lint, NegationInsideAMacroIsReportedAtItsUse) {
  auto r = lint_text(std::string("macro acme.not_x = code != \"X\"\nrule r {") + kMeta +
                     "  when kind == \"a\" and acme.not_x\n" + kTest + "}\n");
  auto ds = r->of(Code::BRD0801);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  EXPECT_EQ(ds[0]->span.begin, r->at("acme.not_x\n"));
  EXPECT_NE(ds[0]->message.find("macro"), std::string::npos) << ds[0]->message;
  // Guarded at the use site.
  auto g = lint_text(std::string("macro acme.not_x = code != \"X\"\nrule r {") + kMeta +
                     "  when exists(code) and acme.not_x\n" + kTest + "}\n");
  EXPECT_EQ(g->count(Code::BRD0801), 0u) << g->codes();
}

TEST(Lint, ConstantPartsFromMacroArgumentsAreReportedOnlyWhenTheyDecideTheCondition) {
  std::string macros = "macro acme.either(v) = v == \"a\" or kind == \"b\"\nmacro acme.is_a(v) = v == \"a\"\n";
  auto partial = lint_text(macros + "rule r {" + kMeta + "  when acme.either(\"c\") and n > 1\n" + kTest + "}\n");
  EXPECT_EQ(partial->count(Code::BRD0804), 0u) << partial->codes();
  auto whole = lint_text(macros + "rule r {" + kMeta + "  when acme.is_a(\"c\")\n" + kTest + "}\n");
  EXPECT_EQ(whole->count(Code::BRD0804), 1u) << whole->codes();
}

TEST(Lint, NocaseFixWithConstantOnTheLeft) {
  auto r = lint_when("\"Web01\" == host");
  auto ds = r->of(Code::BRD0803);
  ASSERT_EQ(ds.size(), 1u) << r->codes();
  ASSERT_TRUE(ds[0]->fix.has_value());
  EXPECT_EQ(ds[0]->fix->span.begin, r->at("== host"));
  EXPECT_EQ(ds[0]->fix->replacement, "==~");
}

TEST(Lint, AnyElementComparisonsAreNotContradictions) {
  // Two different elements can hold the two values.
  EXPECT_EQ(lint_when("hosts[*] == \"a\" and hosts[*] == \"b\"")->count(Code::BRD0804), 0u);
  EXPECT_EQ(lint_when("hosts[*] == \"a\" and not (hosts[*] == \"a\")")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("kind == \"a\" or kind != \"a\"")->count(Code::BRD0804), 1u);
  EXPECT_EQ(lint_when("flag == true and flag == false")->count(Code::BRD0804), 1u);
}

// ---------------------------------------------------------------------------------------------------------------
// The golden inputs (tests/golden/BRD08xx/input.braid) are self-contained: each triggers exactly its own code.

TEST(Lint, GoldenInputsTriggerExactlyTheirCode) {
  size_t cases = 0;
  size_t count = 0;
  const CodeInfo* codes = all_codes(&count);
  for (size_t i = 0; i < count; ++i) {
    std::string id(codes[i].id);
    if (id.rfind("BRD08", 0) != 0) continue;
    std::filesystem::path file = std::filesystem::path(BRAID_GOLDEN_DIR) / id / "input.braid";
    std::ifstream in(file);
    ASSERT_TRUE(in.good()) << "missing " << file;
    std::stringstream text;
    text << in.rdbuf();
    LintOptions opts;
    opts.costly = codes[i].code == Code::BRD0811;
    auto r = lint_files({{"input.braid", text.str()}}, opts);
    ASSERT_EQ(r->diags.all().size(), 1u) << id << ":\n" << r->codes();
    EXPECT_EQ(r->diags.all()[0].code, codes[i].code) << id << ":\n" << r->codes();
    ++cases;
  }
  EXPECT_EQ(cases, 17u);
}

// ---------------------------------------------------------------------------------------------------------------
// Tuning: BRD0814 (a rule on an org_data default), BRD0815 (org_data read but not declared), and exceptions linted
// as what they are

const char* kOrgRule = R"(
list l.users = ["a"] org_data
rule r {
  title "t"
  description "d"
  severity low
  attack T1078
  source t
  org_data l.users
  message "m"
  when user in l.users
  test "x" {
    events [ { "ts": "2024-01-01T00:00:00Z", "kind": "a", "user": "u", "n": 1, "host": "h", "hosts": [] } ]
    expect none
  }
}
)";

TEST(LintTuning, OrgDataDefaultIsNotedUntilOverridden) {
  auto r = lint_text(kOrgRule);
  ASSERT_EQ(r->count(Code::BRD0814), 1u) << r->codes();
  EXPECT_EQ(r->of(Code::BRD0814)[0]->severity, Severity::Note);
  EXPECT_EQ(r->count(Code::BRD0815), 0u) << r->codes();
  auto o = lint_files({{"test.braid", std::string(kSource) + kOrgRule}, {"site.braid", "override list l.users += [\"b\"]\n"}});
  EXPECT_EQ(o->count(Code::BRD0814), 0u) << o->codes();
  auto d = lint_files({{"test.braid", std::string(kSource) + kOrgRule}, {"site.braid", "tune r { enabled false }\n"}});
  EXPECT_EQ(d->count(Code::BRD0814), 0u) << "a disabled rule runs on nothing: " << d->codes();
}

TEST(LintTuning, UndeclaredOrgDataIsAWarning) {
  std::string text = kOrgRule;
  text.erase(text.find("  org_data l.users\n"), std::string("  org_data l.users\n").size());
  auto r = lint_text(text);
  EXPECT_EQ(r->count(Code::BRD0815), 1u) << r->codes();
}

TEST(LintTuning, AnExceptionOnAMissingFieldIsNotBRD0801) {
  auto r = lint_files({{"test.braid", std::string(kSource) + "rule r {" + kMeta + "  when kind == \"a\"\n" + kTest +
                                          "}\n"},
                       {"site.braid", "tune r {\n  except when email == \"ci@example.com\"\n}\n"}});
  EXPECT_EQ(r->count(Code::BRD0801), 0u) << r->codes();
  // The exception is still linted: a constant one is reported.
  auto c = lint_files({{"test.braid", std::string(kSource) + "rule r {" + kMeta + "  when kind == \"a\"\n" + kTest +
                                          "}\n"},
                       {"site.braid", "tune r {\n  except when 1 == 1\n}\n"}});
  EXPECT_GE(c->count(Code::BRD0804), 1u) << c->codes();
}

TEST(LintTuning, EachTuneSaysWhatItChanges) {
  std::string rule = std::string("rule r1 {") + kMeta + "  when kind == \"a\"\n" + kTest + "}\n" + "rule r2 {" + kMeta +
                     "  when kind == \"b\"\n" + kTest + "}\n";
  auto r = lint_files({{"test.braid", std::string(kSource) + rule},
                       {"site.braid", "tune r1 {\n  enabled false\n  except when n > 1\n}\ntune \"r*\" { severity high }\n"}});
  auto ds = r->of(Code::BRD0816);
  ASSERT_EQ(ds.size(), 2u) << r->codes();
  EXPECT_EQ(ds[0]->message, "rule `r1` is tuned: it is disabled, severity high, 1 exception in all");
  EXPECT_EQ(ds[1]->message, "this tuning applies to 2 rules: `r1`, `r2`");
}

}  // namespace
}  // namespace braid
