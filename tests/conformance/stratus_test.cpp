// Stratus Red Team conformance (issue 5): the shipped detection pack, rules/ with the embedded standard library,
// runs over each real attack recording in ../shared/corpora/stratus/<technique>.ndjson, one engine per file.
//
// Asserted:
//   - at least 25 of the 28 techniques raise at least one alert;
//   - no rule keys on the `stratus-red-team_<uuid>` user-agent marker: every recording is run a second time with
//     the marker rewritten, and exactly the same rules must fire;
//   - every chain recording (a file where an AssumeRole or GetFederationToken response mints an access key that a
//     later record uses) produces an alert whose chain path has two or more hops.
// The test prints the technique -> rules table (kept in docs/conformance.md, section "Stratus").
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "ir/ir.h"

namespace fs = std::filesystem;

namespace {

struct Outcome {
  std::set<std::string> rules;        // rules that raised an alert
  std::set<std::string> chain_rules;  // rules whose alert carried a chain path of 2+ hops
};

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A file is a chain recording when an AssumeRole/GetFederationToken response mints a key a later record uses.
bool is_chain_recording(const std::vector<std::string>& lines) {
  static const std::regex minting(R"re("eventName"\s*:\s*"(AssumeRole|GetFederationToken)")re");
  static const std::regex minted_key(R"re("credentials"\s*:\s*\{[^}]*"accessKeyId"\s*:\s*"([A-Z0-9]+)")re");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_search(lines[i], minting) || !std::regex_search(lines[i], m, minted_key)) continue;
    const std::string used = "\"accessKeyId\":\"" + m[1].str() + "\"";
    for (size_t j = 0; j < lines.size(); ++j) {
      if (j != i && lines[j].find(used) != std::string::npos && lines[j].find("\"credentials\"") == std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

Outcome run_pack(const braid::ir::Program& program, const std::vector<std::string>& lines) {
  Outcome out;
  braid::rt::Engine engine(program);
  engine.set_sink([&](const braid::rt::Alert& a) {
    out.rules.insert(a.rule);
    if (a.chain.size() >= 2) out.chain_rules.insert(a.rule);
  });
  uint64_t n = 0;
  for (const auto& l : lines) engine.process_json(l, "<stratus>", ++n);
  engine.finish();
  return out;
}

std::string join(const std::set<std::string>& s) {
  std::string r;
  for (const auto& x : s) r += (r.empty() ? "" : ", ") + x;
  return r;
}

}  // namespace

TEST(Stratus, ShippedPackDetectsTechniques) {
  const fs::path corpus = fs::path(BRAID_CORPORA_DIR) / "stratus";
  if (!fs::is_directory(corpus)) {
    GTEST_SKIP() << "Stratus corpus not found at " << corpus.string()
                 << " (../shared/corpora/stratus is not part of the repository); skipping";
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (e.path().extension() == ".ndjson") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no .ndjson recordings in " << corpus.string();

  auto comp = braid::compile({std::string(BRAID_SOURCE_DIR) + "/rules"});
  ASSERT_TRUE(comp->program) << "the shipped pack does not check";

  static const std::regex marker("stratus-red-team_");
  size_t detected = 0;
  std::vector<std::string> failures;
  std::ostringstream table;
  table << "| technique | chain | rules that fire |\n|---|---|---|\n";
  for (const auto& f : files) {
    const std::string technique = f.stem().string();
    const auto lines = read_lines(f);
    const bool chain = is_chain_recording(lines);
    const Outcome got = run_pack(*comp->program, lines);

    // The same recording without the Stratus user-agent marker must raise exactly the same rules.
    std::vector<std::string> unmarked;
    for (const auto& l : lines) unmarked.push_back(std::regex_replace(l, marker, "sdk-session_"));
    const Outcome neutral = run_pack(*comp->program, unmarked);
    if (neutral.rules != got.rules) {
      failures.push_back(technique + ": rules depend on the stratus-red-team user agent (with marker: " +
                         join(got.rules) + "; without: " + join(neutral.rules) + ")");
    }
    if (!got.rules.empty()) ++detected;
    if (chain && got.chain_rules.empty()) {
      failures.push_back(technique + ": chain recording, but no alert carries a chain of 2+ hops");
    }
    table << "| " << technique << " | " << (chain ? "yes" : "") << " | "
          << (got.rules.empty() ? "-" : join(got.rules)) << " |\n";
  }
  std::cout << "\nStratus conformance: " << detected << " of " << files.size() << " techniques detected\n"
            << table.str() << std::flush;

  EXPECT_GE(detected, std::min<size_t>(25, files.size()))
      << "the shipped pack must alert on at least 25 of the 28 Stratus techniques";
  for (const auto& msg : failures) ADD_FAILURE() << msg;
}
