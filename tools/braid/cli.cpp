// The command line's shared pieces (verbs.h): output streams, colour, the shared flags and compile_or_report.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/render.h"
#include "driver/driver.h"
#include "verbs.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::cli {

const char* const kExitCodesHelp =
    "Exit codes:\n"
    "  0  clean: no errors (check), no errors (lint; warnings allowed unless --strict),\n"
    "     every file already formatted (fmt --check), the run completed (run, even over malformed\n"
    "     records), every test passed (test)\n"
    "  1  errors found; with lint --strict, warnings too; with fmt --check, files that would change;\n"
    "     fmt refused a file with syntax errors; run and test refuse rules with errors; a test failed\n"
    "     build refuses rules with errors; inspect and run --pack refuse an invalid, unsigned or\n"
    "     untrusted pack\n"
    "  2  usage error (bad flag, unknown verb or code), a path that is missing or unreadable,\n"
    "     no .braid files found, or an internal error\n"
    "  3  run --webhook: some alerts were neither delivered, nor dead-lettered, nor spooled";

void out(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
}
void err(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stderr);
}

bool use_color(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") return false;
  return ::isatty(fd) != 0;
}

// Case-insensitive Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void add_engine_flags(CLI::App& verb, EngineFlags& f) {
  verb.add_option_function<uint32_t>(
          "--distinct-bound", [&f](const uint32_t& n) { f.distinct_bound = n; },
          "Values kept per distinct() (default 4096)")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  verb.add_option("--engine", f.engine,
                  "jit (default): rules compiled to native code with LLVM; interp: the reference interpreter")
      ->check(CLI::IsMember({"jit", "interp"}))
      ->type_name("ENGINE");
  verb.add_flag("--no-jit-cache{false}", f.jit_cache,
                "Do not read or write the JIT's object cache ($BRAID_CACHE_DIR, else ~/.cache/braid/jit)");
}

std::unique_ptr<Compilation> compile_or_report(const std::vector<std::string>& paths, const DriverOptions& opts,
                                               const std::string& color, std::string_view refusal, int& rc) {
  auto c = compile(paths, opts);
  RenderOptions ro;
  ro.color = use_color(color, STDERR_FILENO);
  ro.tool_version = BRAID_VERSION;
  // Errors and warnings alike: a verb that goes on must not hide what `braid check` would show.
  if (!c->diags.all().empty()) err(render_text(c->diags.all(), c->sm, ro));
  if (c->input_error) {
    rc = kExitUsage;
    return nullptr;
  }
  if (c->diags.error_count() != 0 || !c->program) {
    if (!refusal.empty()) err(refusal);
    rc = kExitFindings;
    return nullptr;
  }
  rc = kExitClean;
  return c;
}

std::vector<std::string> default_rule_paths(const std::vector<std::string>& given, std::string_view verb) {
  if (!given.empty()) return given;
  std::error_code ec;
  if (std::filesystem::is_directory("rules", ec)) return {"rules"};
  throw UsageError{fmt::format("no rules given and no `rules/` directory here: use `braid {} {}PATH`", verb,
                               verb == "run" ? "--rules " : "")};
}

}  // namespace braid::cli
