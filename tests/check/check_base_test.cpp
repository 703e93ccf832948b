// check(base, files) against a kept, checked stdlib (check_base): the same diagnostics and the same program as
// one check of the stdlib and the files together, without checking the stdlib's declarations again.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "check/checker.h"
#include "driver/driver.h"
#include "parser/parser.h"

namespace braid {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string render(const DiagnosticSink& sink) {
  std::string out;
  for (const Diagnostic& d : sink.all()) {
    out += std::string(code_info(d.code).id) + " " + std::to_string(d.span.file) + ":" +
           std::to_string(d.span.begin) + "-" + std::to_string(d.span.end) + " " + d.message + " | " + d.help;
    if (d.fix) out += " | fix " + d.fix->replacement;
    for (const auto& r : d.related) out += " | " + std::to_string(r.span.begin) + " " + r.message;
    out += "\n";
  }
  return out;
}

// The stdlib and some user files, parsed once into one SourceManager.
struct Unit {
  SourceManager sm;
  std::vector<ast::File> stdlib, user;
  std::vector<const ast::File*> stdlib_ptrs, user_ptrs;

  explicit Unit(const std::vector<fs::path>& files) {
    DiagnosticSink ignored;
    stdlib.reserve(stdlib_files().size());
    for (const StdlibFile& f : stdlib_files()) {
      FileId id = sm.add(std::string(kStdlibPathPrefix) + std::string(f.path), std::string(f.text));
      stdlib.push_back(parse_file(sm, id, ignored));
    }
    user.reserve(files.size());
    for (const fs::path& p : files) user.push_back(parse_file(sm, sm.add(p.string(), slurp(p)), ignored));
    for (const auto& f : stdlib) stdlib_ptrs.push_back(&f);
    for (const auto& f : user) user_ptrs.push_back(&f);
  }
};

// The diagnostics and the program dump of both ways, compared.
void expect_same(const std::vector<fs::path>& files, const std::string& what) {
  Unit u(files);
  DiagnosticSink whole_diags;
  std::vector<const ast::File*> all = u.stdlib_ptrs;
  all.insert(all.end(), u.user_ptrs.begin(), u.user_ptrs.end());
  auto whole = check(all, u.sm, whole_diags);

  DiagnosticSink base_diags, diags;
  auto base = check_base(u.stdlib_ptrs, u.sm, base_diags);
  ASSERT_FALSE(base_diags.has_errors()) << render(base_diags);
  auto prog = check(*base, u.user_ptrs, u.sm, diags);
  // The base's own diagnostics were reported once, by check_base.
  DiagnosticSink both;
  for (const Diagnostic& d : base_diags.all()) both.add(d);
  for (const Diagnostic& d : diags.all()) both.add(d);
  whole_diags.sort();
  both.sort();
  EXPECT_EQ(render(whole_diags), render(both)) << what;
  ASSERT_TRUE(whole && prog);
  EXPECT_EQ(ir::dump(*whole), ir::dump(*prog)) << what;
}

TEST(CheckBase, SameAsOneCheckOnTheShippedRules) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(BRAID_SOURCE_DIR) / "rules"))
    if (e.path().extension() == ".braid") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 100u);
  expect_same(files, "rules/");
}

// Every golden case, alone with the stdlib: errors of every kind (duplicates of stdlib names among them) come out
// the same.
TEST(CheckBase, SameAsOneCheckOnEveryGoldenInput) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(BRAID_SOURCE_DIR) / "tests/golden")) {
    fs::path input = e.path() / "input.braid";
    if (!fs::exists(input)) continue;
    ++n;
    expect_same({input}, input.string());
  }
  EXPECT_GT(n, 50u);
}

// A user list and macro shadowing the stdlib's names: reported against the stdlib's declarations, both ways.
TEST(CheckBase, DuplicatesOfStdlibNames) {
  fs::path dir = fs::temp_directory_path() / ("braid-check-base-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string name;
  for (const StdlibFile& f : stdlib_files()) {
    std::string_view t = f.text;
    size_t at = t.find("\nlist ");
    if (at == std::string_view::npos) continue;
    size_t b = at + 6, end = t.find_first_of(" =", b);
    name = std::string(t.substr(b, end - b));
    break;
  }
  ASSERT_FALSE(name.empty());
  std::ofstream(dir / "dup.braid") << "list " << name << " = [\"x\"]\n";
  expect_same({dir / "dup.braid"}, "duplicate of " + name);
  fs::remove_all(dir);
}

// The base's declarations are checked once: each check against it checks only the files given.
TEST(CheckBase, DoesNotCheckTheBaseAgain) {
  fs::path dir = fs::temp_directory_path() / ("braid-check-base-once-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "rule.braid") << R"(rule acme.user_created {
  title "An IAM user was created"
  severity low
  source aws.cloudtrail
  when eventName == "CreateUser"
  message "{userIdentity.arn} created {requestParameters.userName}"
}
)";
  Unit u({dir / "rule.braid"});
  fs::remove_all(dir);
  CheckCounts counts;
  CheckOptions opts;
  opts.counts = &counts;
  DiagnosticSink diags;
  auto base = check_base(u.stdlib_ptrs, u.sm, diags, opts);
  const size_t stdlib_decls = counts.declarations;
  EXPECT_EQ(counts.files, u.stdlib.size());
  EXPECT_GT(stdlib_decls, 20u);
  EXPECT_EQ(base->program().sources.size(), check(u.stdlib_ptrs, u.sm, diags)->sources.size());
  for (int i = 1; i <= 2; ++i) {
    auto prog = check(*base, u.user_ptrs, u.sm, diags, opts);
    EXPECT_EQ(counts.files, u.stdlib.size() + i);
    EXPECT_EQ(counts.declarations, stdlib_decls + i);  // the rule, and nothing of the stdlib
    ASSERT_EQ(prog->rules.size(), 1u);
    EXPECT_GT(prog->sources.size(), 3u);  // the stdlib's, from the base
  }
  EXPECT_FALSE(diags.has_errors()) << render(diags);
  // The base is untouched by the checks against it (a copy of its program is what each check extends).
  EXPECT_TRUE(base->program().rules.empty());
}

}  // namespace
}  // namespace braid
