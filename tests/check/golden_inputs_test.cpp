// Each checker golden input (tests/golden/BRD01xx..BRD04xx/input.braid) triggers exactly its own code, and every
// checker code has one. The golden harness (tests/golden) compares the full CLI output; this test pins the
// contract "a minimal file that triggers exactly that code" independently of the CLI and the stdlib.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "check/checker.h"
#include "parser/parser.h"

namespace braid {
namespace {

namespace fs = std::filesystem;

bool is_checker_code(std::string_view id) {
  return id.size() == 7 && id.substr(0, 3) == "BRD" && id[3] == '0' && id[4] >= '1' && id[4] <= '4';
}

TEST(GoldenInputs, EachTriggersExactlyItsCode) {
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(BRAID_GOLDEN_DIR)) {
    std::string id = entry.path().filename().string();
    if (!entry.is_directory() || !is_checker_code(id)) continue;
    ++n;
    std::ifstream in(entry.path() / "input.braid");
    ASSERT_TRUE(in) << id << ": no input.braid";
    std::stringstream ss;
    ss << in.rdbuf();
    SourceManager sm;
    DiagnosticSink diags;
    FileId f = sm.add("input.braid", ss.str());
    ast::File file = parse_file(sm, f, diags);
    auto prog = check({&file}, sm, diags);
    ASSERT_NE(prog, nullptr);
    std::set<std::string> codes;
    std::string text;
    for (const auto& d : diags.all()) {
      codes.insert(std::string(code_info(d.code).id));
      text += std::string(code_info(d.code).id) + ": " + d.message + "\n";
    }
    EXPECT_EQ(codes, std::set<std::string>{id}) << id << " reported:\n" << text;
  }
  EXPECT_GT(n, 0u);
}

TEST(GoldenInputs, EveryCheckerCodeHasOne) {
  size_t count = 0;
  const CodeInfo* codes = all_codes(&count);
  size_t checker = 0;
  for (size_t i = 0; i < count; ++i) {
    std::string id(codes[i].id);
    if (!is_checker_code(id)) continue;
    ++checker;
    EXPECT_TRUE(fs::exists(fs::path(BRAID_GOLDEN_DIR) / id / "input.braid")) << id;
    EXPECT_FALSE(codes[i].text.empty()) << id;
    EXPECT_FALSE(codes[i].slug.empty()) << id;
  }
  EXPECT_GE(checker, 40u);
}

}  // namespace
}  // namespace braid
