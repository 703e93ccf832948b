// Formats every .braid file in the source tree (stdlib/, rules/, tests/, examples/, ...) and every ```braid block
// of the Markdown docs, and checks that formatting is idempotent, parses cleanly, keeps the meaning (structural
// AST dump) and keeps every comment. Files are found at run time, so files added by anyone are covered without
// touching this test. Files (and doc snippets) with syntax errors are skipped: the formatter refuses them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "format_support.h"

namespace braid::fmt_test {
namespace {

namespace fs = std::filesystem;

bool skipped_dir(const fs::path& p) {
  std::string n = p.filename().string();
  return n.starts_with(".") || n.starts_with("build") || n == "_deps" || n == "node_modules" ||
         n.starts_with("cmake-build");
}

std::vector<fs::path> find_files(const fs::path& root, const std::string& ext) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->is_directory() && skipped_dir(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ext) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The ```braid fenced blocks of a Markdown file.
std::vector<std::string> braid_blocks(const std::string& md) {
  std::vector<std::string> out;
  std::istringstream in(md);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    std::string t = line;
    t.erase(0, t.find_first_not_of(' '));
    if (!inside && t.starts_with("```braid")) {
      inside = true;
      block.clear();
    } else if (inside && t.starts_with("```")) {
      inside = false;
      out.push_back(block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  return out;
}

const fs::path kRoot = BRAID_SOURCE_DIR;

TEST(FormatCorpus, EveryBraidFileInTheRepository) {
  std::vector<fs::path> files = find_files(kRoot, ".braid");
  // This folder's own samples are always there, so an empty walk means the walk itself is broken.
  ASSERT_FALSE(files.empty()) << "no .braid files found under " << kRoot;
  size_t formatted = 0, refused = 0;
  for (const fs::path& f : files) {
    std::string text = read(f);
    auto p = parse(text, f.string());
    if (p->diags.has_errors()) {
      ++refused;  // a deliberately broken file (parser error tests, fuzz corpus): fmt refuses these
      continue;
    }
    SCOPED_TRACE(f.string());
    check_round_trip(text, f.string());
    ++formatted;
  }
  std::cout << "formatted " << formatted << " files; skipped " << refused << " with syntax errors\n";
  EXPECT_GT(formatted, 0u);
}

// The samples in this folder are part of the walk above; make sure the walk really reaches them.
TEST(FormatCorpus, WalkFindsTheFormatterSamples) {
  std::vector<fs::path> files = find_files(kRoot, ".braid");
  auto has = [&](const std::string& name) {
    return std::any_of(files.begin(), files.end(), [&](const fs::path& p) { return p.filename() == name; });
  };
  EXPECT_TRUE(has("comments_everywhere.braid"));
  EXPECT_TRUE(has("messy_layout.braid"));
  for (const fs::path& f : files) EXPECT_FALSE(skipped_dir(f.parent_path())) << f;
}

// The shipped samples are already canonical, except the deliberately messy one.
TEST(FormatCorpus, SamplesAreCanonical) {
  fs::path dir = fs::path(BRAID_FORMAT_TEST_DIR) / "samples";
  for (const fs::path& f : find_files(dir, ".braid")) {
    if (f.filename() == "messy_layout.braid") continue;
    std::string text = read(f);
    auto p = parse(text, f.string());
    ASSERT_EQ(p->errors(), "") << f;
    EXPECT_EQ(format(*p), text) << f;
  }
  // The messy sample formats to its .expected twin.
  fs::path messy = dir / "messy_layout.braid";
  auto p = parse(read(messy), messy.string());
  ASSERT_EQ(p->errors(), "");
  EXPECT_EQ(format(*p), read(dir / "messy_layout.expected"));
}

TEST(FormatCorpus, EveryBraidBlockInTheDocs) {
  size_t blocks = 0, formatted = 0;
  for (const fs::path& md : find_files(kRoot, ".md")) {
    std::vector<std::string> bs = braid_blocks(read(md));
    for (size_t i = 0; i < bs.size(); ++i) {
      ++blocks;
      std::string name = md.string() + " block " + std::to_string(i + 1);
      auto p = parse(bs[i], name);
      if (p->diags.has_errors()) continue;  // a fragment (an expression, a single clause), not a whole file
      SCOPED_TRACE(name);
      check_round_trip(bs[i], name);
      ++formatted;
    }
  }
  std::cout << "formatted " << formatted << " of " << blocks << " ```braid blocks in the docs\n";
  EXPECT_GT(formatted, 0u) << "README.md has a whole-rule example: it should be found and formatted";
}

}  // namespace
}  // namespace braid::fmt_test
