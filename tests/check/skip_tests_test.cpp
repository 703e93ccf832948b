// ParseOptions::skip_tests (what `braid run` parses with): rules' `test` blocks are left out unread, and nothing
// else changes. Checked on every shipped rule and the standard library, and on texts built to confuse the scan.
#include <gtest/gtest.h>

#include <string>

#include "check/checker.h"
#include "diag/codes.h"
#include "driver/driver.h"
#include "ir/ir.h"
#include "parser/parser.h"

namespace braid {
namespace {

// A rule's compiled form without its tests (what a run reads).
std::string without_tests(const ir::Program& p, const ir::Rule& r) {
  std::string t = ir::dump_rule(p, r);
  size_t cut = t.find("\n  test ");
  if (cut != std::string::npos) t.resize(cut + 1);
  return t;
}

TEST(SkipTests, ShippedRulesCompileToTheSameProgramWithoutTheirTests) {
  const std::string rules = std::string(BRAID_SOURCE_DIR) + "/rules";
  auto full = compile({rules}, DriverOptions{});
  DriverOptions skip;
  skip.skip_tests = true;
  auto lean = compile({rules}, skip);
  ASSERT_TRUE(full->program && lean->program);
  ASSERT_EQ(full->diags.error_count(), 0u);
  ASSERT_EQ(lean->diags.error_count(), 0u);
  ASSERT_EQ(full->program->rules.size(), lean->program->rules.size());
  size_t tests = 0;
  for (size_t i = 0; i < full->program->rules.size(); ++i) {
    const ir::Rule& a = full->program->rules[i];
    const ir::Rule& b = lean->program->rules[i];
    tests += a.tests.size();
    EXPECT_TRUE(b.tests.empty()) << b.id;
    EXPECT_EQ(without_tests(*full->program, a), without_tests(*lean->program, b)) << a.id;
  }
  EXPECT_GT(tests, 300u) << "the shipped rules have tests to leave out";
}

TEST(SkipTests, CutsOnlyWellFormedTestBlocks) {
  const std::string text =
      "rule a.b {\n"
      "  title \"test \\\" { not a block\"  // test \"x\" { in a comment\n"
      "  when test == \"t\" and x.test == r\"test {\"\n"
      "  test \"one\" {\n"
      "    events [{\"s\": \"}\\\"{\", \"n\": {\"k\": [1, {}]}}]  /* } */\n"
      "    expect 1\n"
      "  }\n"
      "  message \"m\"\n"
      "}\n"
      "source test { }\n";
  std::vector<std::pair<uint32_t, uint32_t>> cuts;
  std::string out = cut_test_blocks(text, cuts);
  size_t b = text.find("test \"one\""), e = text.find("\n  message");
  EXPECT_EQ(out, text.substr(0, b) + " " + text.substr(e));
  ASSERT_EQ(cuts.size(), 1u);
  EXPECT_EQ(cuts[0].first, b);
  EXPECT_EQ(cuts[0].second, e - b - 1);
  // Unbalanced or unterminated: left for the parser, which reports it.
  for (const char* bad : {"rule a {\n  test \"x\" {\n    events [{\n}\n", "rule a {\n  test \"x\" { \"open\n  }\n}\n",
                          "rule a {\n  test \"x\" { /* open\n  }\n}\n"}) {
    std::string t(bad);
    EXPECT_EQ(cut_test_blocks(t, cuts), t) << bad;
    EXPECT_TRUE(cuts.empty());
  }
}

// Every diagnostic after a cut block points where it points in the whole text: line, column and span.
TEST(SkipTests, DiagnosticsAfterACutBlockKeepTheirPlace) {
  const std::string text =
      "rule a.b {\n"
      "  title \"t\"\n"
      "  severity high\n"
      "  source aws.cloudtrail\n"
      "  test \"é one\" {\n"
      "    events [{\"eventName\": \"ä\"}]\n"
      "    expect none\n"
      "  }\n"
      "  when eventNme == \"x\"\n"
      "  message \"m {nosuch}\"\n"
      "  test \"two\" { events [] expect none }\n"
      "}\n";
  auto diags_of = [&](bool skip) {
    SourceManager sm;
    std::vector<FileId> ids;
    for (const auto& f : stdlib_files()) ids.push_back(sm.add(std::string(kStdlibPathPrefix) + std::string(f.path), std::string(f.text)));
    ids.push_back(sm.add("t.braid", text));
    DiagnosticSink diags;
    ParseOptions po;
    po.skip_tests = skip;
    std::vector<ast::File> files;
    for (FileId id : ids) files.push_back(parse_file(sm, id, diags, po));
    std::vector<const ast::File*> ptrs;
    for (const auto& f : files) ptrs.push_back(&f);
    auto prog = check(ptrs, sm, diags);
    std::string out;
    for (const auto& d : diags.all()) {
      LineCol lc = sm.file(d.span.file).line_col(d.span.begin);
      out += std::string(code_info(d.code).id) + " " + std::to_string(lc.line) + ":" + std::to_string(lc.col) + " " +
             std::to_string(d.span.begin) + "-" + std::to_string(d.span.end) + " " + d.message + "\n";
    }
    return out;
  };
  std::string whole = diags_of(false), lean = diags_of(true);
  EXPECT_NE(whole.find("9:"), std::string::npos) << whole;  // the misspelt field, on line 9
  EXPECT_EQ(whole, lean);
}

}  // namespace
}  // namespace braid
