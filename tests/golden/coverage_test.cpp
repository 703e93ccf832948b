// Every registered diagnostic code has a golden case (tests/golden/<CODE>/ with input.braid, expected.txt and
// expected.json), and every golden folder is a registered code.
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "diag/codes.h"

namespace fs = std::filesystem;

namespace {

const fs::path kGoldenDir = BRAID_GOLDEN_DIR;

std::string list(const std::set<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += "\n  " + i;
  return s;
}

}  // namespace

TEST(GoldenCoverage, EveryRegisteredCodeHasAGoldenCase) {
  size_t n = 0;
  const braid::CodeInfo* codes = braid::all_codes(&n);
  ASSERT_GT(n, 0u);
  std::set<std::string> missing;
  for (size_t i = 0; i < n; ++i) {
    fs::path dir = kGoldenDir / std::string(codes[i].id);
    for (const char* f : {"input.braid", "expected.txt", "expected.json"}) {
      if (!fs::is_regular_file(dir / f)) missing.insert(std::string(codes[i].id) + "/" + f);
    }
  }
  EXPECT_TRUE(missing.empty()) << "golden files missing under " << kGoldenDir.string() << ":" << list(missing)
                               << "\nWrite input.braid, then run tools/update-goldens.sh CODE and review.";
}

TEST(GoldenCoverage, EveryGoldenCaseIsARegisteredCode) {
  std::set<std::string> stray;
  for (const fs::directory_entry& e : fs::directory_iterator(kGoldenDir)) {
    if (!e.is_directory()) continue;
    std::string name = e.path().filename().string();
    if (name.rfind("BRD", 0) != 0) continue;
    if (!braid::parse_code(name) || braid::code_info(*braid::parse_code(name)).id != name) stray.insert(name);
  }
  EXPECT_TRUE(stray.empty()) << "golden folders that name no registered code:" << list(stray);
}

TEST(GoldenCoverage, RegistryIsSortedAndUnique) {
  size_t n = 0;
  const braid::CodeInfo* codes = braid::all_codes(&n);
  for (size_t i = 1; i < n; ++i) {
    EXPECT_LT(codes[i - 1].id, codes[i].id) << "codes out of order or duplicated near " << codes[i].id;
  }
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(braid::code_info(codes[i].code).id, codes[i].id);
    EXPECT_FALSE(codes[i].slug.empty()) << codes[i].id;
    EXPECT_FALSE(codes[i].title.empty()) << codes[i].id;
    EXPECT_FALSE(codes[i].text.empty()) << codes[i].id << " has no explanation for `braid explain`";
  }
}
