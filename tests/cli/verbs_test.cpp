// The verb table (tools/braid/verb_table.cpp): every verb file of tools/braid/verbs/ is a verb of `braid --help`,
// and each verb is documented in docs/cli.md; verbs that compile rules print the rules' warnings.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Output {
  int status = -1;
  std::string out, err;
};

// Runs braid with a shell command line's arguments; stdout and stderr apart.
Output braid(const std::string& args, const fs::path& dir) {
  Output r;
  fs::path o = dir / "stdout.txt", e = dir / "stderr.txt";
  std::string cmd = "cd '" + dir.string() + "' && NO_COLOR=1 '" BRAID_EXE "' " + args + " >'" + o.string() +
                    "' 2>'" + e.string() + "'";
  int st = std::system(cmd.c_str());
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(o);
  r.err = slurp(e);
  return r;
}

// The verbs of `braid --help`: the names under "Subcommands:".
std::set<std::string> help_verbs(const std::string& help) {
  std::set<std::string> verbs;
  std::istringstream in(help);
  std::string line;
  bool in_list = false;
  while (std::getline(in, line)) {
    if (line == "Subcommands:") {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.empty()) break;
    std::istringstream words(line);
    std::string name;
    words >> name;
    verbs.insert(name);
  }
  return verbs;
}

class Verbs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid-verbs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(Verbs, EveryVerbFileIsInTheHelpAndTheDocs) {
  Output help = braid("--help", dir_);
  ASSERT_EQ(help.status, 0) << help.err;
  std::set<std::string> verbs = help_verbs(help.out);
  ASSERT_GE(verbs.size(), 12u) << help.out;

  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(fs::path(BRAID_SOURCE_DIR) / "tools/braid/verbs")) {
    if (entry.path().extension() == ".cpp") files.insert(entry.path().stem().string());
  }
  // A file of verbs/ is one verb, registered in the table; a verb of the table has its file.
  for (const std::string& f : files) EXPECT_TRUE(verbs.count(f)) << "verbs/" << f << ".cpp is not in the verb table";
  for (const std::string& v : verbs) {
    EXPECT_TRUE(files.count(v)) << "verb " << v << " has no file verbs/" << v << ".cpp";
  }

  // docs/cli.md's verb table names each verb, and each has its own help.
  std::string doc = slurp(fs::path(BRAID_SOURCE_DIR) / "docs/cli.md");
  for (const std::string& v : verbs) {
    EXPECT_NE(doc.find("| `braid " + v), std::string::npos) << "docs/cli.md's verb table lacks `braid " << v << "`";
    Output h = braid(v + " --help", dir_);
    EXPECT_EQ(h.status, 0) << v << ": " << h.err;
    EXPECT_NE(h.out.find("Usage: braid " + v), std::string::npos) << v << ": " << h.out;
  }

  // The unknown-verb message lists the same verbs.
  Output bad = braid("nosuchverb", dir_);
  EXPECT_EQ(bad.status, 2);
  for (const std::string& v : verbs) EXPECT_NE(bad.err.find(v), std::string::npos) << v << " in: " << bad.err;
}

// `braid completion bash` completes the verbs of the table and each verb's flags.
TEST_F(Verbs, BashCompletionDerivesFromTheTable) {
  Output script = braid("completion bash", dir_);
  ASSERT_EQ(script.status, 0) << script.err;
  std::ofstream(dir_ / "braid.bash") << script.out;
  // Completes `braid <TAB>`, `braid run --eng<TAB>` and `braid --color run --no<TAB>` in a real bash.
  std::ofstream(dir_ / "probe.sh") << R"(set -e
source ./braid.bash
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _braid; echo "${COMPREPLY[*]}"; }
complete_words braid ""
complete_words braid run --eng
complete_words braid --color never test --no
complete_words braid --format ""
)";
  Output probe;
  {
    fs::path o = dir_ / "probe.out";
    int st = std::system(("cd '" + dir_.string() + "' && bash probe.sh >probe.out 2>&1").c_str());
    probe.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    probe.out = slurp(o);
  }
  ASSERT_EQ(probe.status, 0) << probe.out;
  std::istringstream lines(probe.out);
  std::string all_verbs, run_engine, test_no, formats;
  std::getline(lines, all_verbs);
  std::getline(lines, run_engine);
  std::getline(lines, test_no);
  std::getline(lines, formats);
  Output help = braid("--help", dir_);
  for (const std::string& v : help_verbs(help.out)) {
    EXPECT_NE((" " + all_verbs + " ").find(" " + v + " "), std::string::npos) << v << " not completed: " << all_verbs;
  }
  EXPECT_EQ(run_engine, "--engine");
  EXPECT_EQ(test_no, "--no-jit-cache");
  EXPECT_EQ(formats, "text json sarif");
  Output bad = braid("completion fish", dir_);
  EXPECT_EQ(bad.status, 2);
}

// A rule set that checks with one warning (BRD0115) and whose one test passes.
constexpr const char* kWarnedRules = R"(source g.src {
  recognize kind == "x"
  time at
  identity who
  session gap 30m max 12h
  fields { kind: string, at: time, who: string, name: string }
}
rule g.rule {
  title "A rule"
  description "A rule."
  severity high
  attack T1078
  source g.src
  when name == "a"
  message "{name}"
  test "fires" {
    events [{"kind": "x", "at": "2025-01-01T00:00:00Z", "who": "a", "name": "a"}]
    expect 1
  }
}
tune "acme.*" { severity low }
)";

// Every verb that compiles rules prints their warnings (compile_or_report); test and doc used to drop them.
TEST_F(Verbs, VerbsThatCompileRulesPrintWarnings) {
  std::ofstream(dir_ / "r.braid") << kWarnedRules;
  std::ofstream(dir_ / "e.ndjson") << "{\"kind\":\"x\",\"at\":\"2025-01-01T00:00:00Z\",\"who\":\"a\",\"name\":\"a\"}\n";
  const std::string warning = "warning[BRD0115]";
  struct Case {
    const char* args;
    int status;
  } cases[] = {{"test r.braid", 0},
               {"test --format json r.braid", 0},
               {"doc r.braid", 0},
               {"run --rules r.braid e.ndjson", 0},
               {"build r.braid -o r.pack", 0}};
  for (const Case& c : cases) {
    Output r = braid(c.args, dir_);
    EXPECT_EQ(r.status, c.status) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(warning), std::string::npos) << c.args << ": no warning on stderr:\n" << r.err;
    EXPECT_EQ(r.out.find(warning), std::string::npos) << c.args << ": the warning belongs on stderr";
  }
  // check prints it too, as its output (stdout).
  Output check = braid("check r.braid", dir_);
  EXPECT_EQ(check.status, 0);
  EXPECT_NE(check.out.find(warning), std::string::npos) << check.out;
}

}  // namespace
