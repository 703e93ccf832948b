// Systematic comment placement: inserts a comment (four shapes) at every token boundary of the sample files and
// checks, for each variant that still parses, every round-trip property: the comment survives, the meaning is
// unchanged, the output re-parses, and formatting is idempotent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "format_support.h"

namespace braid::fmt_test {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
bool punct(char c) { return std::string_view("()[]{},=:").find(c) != std::string_view::npos; }

// Offsets where a token starts or ends: next to whitespace or punctuation.
std::vector<size_t> boundaries(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 1; i < s.size(); ++i) {
    char a = s[i - 1], b = s[i];
    if (space(a) && space(b)) continue;
    if (space(a) || space(b) || punct(a) || punct(b)) out.push_back(i);
  }
  out.push_back(s.size());
  return out;
}

void fuzz_file(const std::string& name, const std::string& text) {
  auto base = parse(text, name);
  ASSERT_EQ(base->errors(), "") << name;
  size_t comments = base->file.comments.size();
  static const char* kShapes[] = {" /* c */ ", " // c\n", "\n// own line\n", "\n/* own */ "};
  size_t tried = 0, index = 0;
  for (size_t at : boundaries(text)) {
    // Two of the four shapes at each boundary, rotating, keeps the run short while every shape meets every kind
    // of boundary.
    ++index;
    for (const char* shape : {kShapes[index % 4], kShapes[(index + 1) % 4]}) {
      std::string variant = text.substr(0, at) + shape + text.substr(at);
      auto p = parse(variant, name);
      // Skip offsets inside strings (no new comment) and splits that break the syntax.
      if (p->diags.has_errors() || p->file.comments.size() != comments + 1) continue;
      ++tried;
      SCOPED_TRACE(name + " with " + std::string(shape) + " at offset " + std::to_string(at));
      check_round_trip(variant, name);
      if (::testing::Test::HasFailure()) return;  // one clear failure, not hundreds
    }
  }
  std::cout << name << ": " << tried << " variants\n";
  EXPECT_GT(tried, 100u) << name;
}

TEST(FormatCommentFuzz, CommentAtEveryTokenBoundaryOfTheSamples) {
  fs::path dir = fs::path(BRAID_FORMAT_TEST_DIR) / "fuzz_inputs";
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".braid") continue;
    ++files;
    fuzz_file(e.path().filename().string(), read(e.path()));
  }
  EXPECT_GE(files, 2u);
}

}  // namespace
}  // namespace braid::fmt_test

namespace braid::fmt_test {
namespace {

// Replaces every run of whitespace outside string literals with `sep` (the input must have no comments).
std::string reflow(const std::string& s, const std::string& sep) {
  std::string out;
  bool in_string = false, raw = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      out += c;
      if (!raw && c == '\\' && i + 1 < s.size()) {
        out += s[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      raw = i > 0 && s[i - 1] == 'r';
      out += c;
    } else if (space(c)) {
      while (i + 1 < s.size() && space(s[i + 1])) ++i;
      out += sep;
    } else {
      out += c;
    }
  }
  return out;
}

std::string without_blank_lines(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    out += s[i];
  }
  return out;
}

// The layout of the input does not matter: one line, or one token per line, formats to the same text (apart from
// the blank lines the author chose to keep inside declarations).
TEST(FormatCommentFuzz, OutputDoesNotDependOnTheInputLayout) {
  fs::path dir = fs::path(BRAID_FORMAT_TEST_DIR) / "fuzz_inputs";
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".braid") continue;
    ++files;
    std::string text = read(e.path());
    auto p = parse(text);
    ASSERT_EQ(p->errors(), "");
    ASSERT_TRUE(p->file.comments.empty()) << "the layout test needs inputs without comments";
    std::string want = without_blank_lines(format(*p));
    for (const std::string sep : {" ", "\n", "\n      ", "\t"}) {
      std::string variant = reflow(text, sep);
      SCOPED_TRACE(e.path().filename().string() + " reflowed with separator `" + sep + "`");
      auto q = parse(variant);
      ASSERT_EQ(q->errors(), "") << variant;
      EXPECT_EQ(without_blank_lines(format(*q)), want);
    }
  }
  EXPECT_GE(files, 2u);
}

}  // namespace
}  // namespace braid::fmt_test
