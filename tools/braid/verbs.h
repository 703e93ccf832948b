// The runtime verbs of the CLI (`braid run`, `braid test`), implemented in run.cpp and test.cpp; main.cpp parses
// the command line and calls them. Shared pieces of the CLI live here too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace braid::cli {

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

// A usage problem found after parsing (e.g. a flag that does not apply): message + exit 2.
struct UsageError {
  std::string message;
};

void out(std::string_view s);
void err(std::string_view s);
// Colour decision for a stream: --color always/never, or auto (a terminal, NO_COLOR unset, TERM not dumb).
bool use_color(const std::string& mode, int fd);

struct RunOptions {
  std::vector<std::string> rules;   // --rules (empty: rules/ when it exists)
  std::string pack;                 // --pack (not supported yet)
  std::string output;               // --output (empty: stdout)
  bool stats = false;
  std::string stats_format = "text";
  std::optional<uint32_t> distinct_bound;
  std::string color = "auto";
  std::vector<std::string> inputs;
};
int run_run(const RunOptions& o);

struct TestOptions {
  std::vector<std::string> paths;   // empty: rules/ when it exists
  bool json = false;                // --format json
  std::optional<uint32_t> distinct_bound;
  std::string color = "auto";
};
int run_test(const TestOptions& o);

// The rule paths of run and test: the given ones, else `rules` when that directory exists, else a UsageError.
std::vector<std::string> default_rule_paths(const std::vector<std::string>& given, std::string_view verb);

}  // namespace braid::cli
