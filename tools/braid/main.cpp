// braid: the command-line front end. One binary, one verb per task; each verb is one file of verbs/, listed in the
// verb table (verb_table.cpp), from which this file builds the command line.
// Exit codes (also in `braid --help` and docs/cli.md):
//   0  clean (run: the run completed, even over malformed records; test: every test passed)
//   1  errors in the rules (or warnings with `lint --strict`, files `fmt --check` would change, failed tests)
//   2  usage problems, unreadable inputs, or an internal error
// Diagnostics go to stdout (they are the output of check and lint); progress and summaries go to stderr.
// `run` writes alerts to stdout (NDJSON) and its diagnostics, warnings and statistics to stderr; `test` writes its
// report to stdout.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "input/reader.h"
#include "text/utf8.h"
#include "verbs.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::cli {

namespace {

// CLI11 reports an unknown verb as "A subcommand is required"; name it instead, with a suggestion.
void check_verb(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--format" || a == "--color") {
      ++i;  // skip the value
      continue;
    }
    if (a.empty() || a[0] == '-') continue;
    std::string names;
    for (const Verb& v : verb_table()) {
      if (a == v.name) return;
      names += (names.empty() ? "" : ", ") + std::string(v.name);
    }
    std::string msg = fmt::format("unknown verb `{}`", sanitize_utf8(a));
    for (const Verb& v : verb_table()) {
      if (edit_distance(a, v.name) <= 2) {
        msg += fmt::format("; did you mean `{}`?", v.name);
        break;
      }
    }
    throw UsageError{msg + " (verbs: " + names + ")"};
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Braid: a detection-rule language for sessions and chains over cloud identity events.", "braid"};
  app.set_version_flag("--version", std::string("braid ") + BRAID_VERSION, "Print the version and exit");
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(kExitCodesHelp);

  Globals g;
  auto* format_opt = app.add_option("--format", g.format, "Output format of check, lint (text, json, sarif) and test (text, json)")
                         ->check(CLI::IsMember({"text", "json", "sarif"}))
                         ->type_name("FORMAT");
  app.add_option("--color", g.color, "Colour text output: auto (a terminal and no NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");

  struct Registered {
    CLI::App* sub;
    VerbAction action;
  };
  std::vector<Registered> verbs;
  for (const Verb& v : verb_table()) {
    CLI::App* sub = app.add_subcommand(v.name, v.summary);
    sub->footer(kExitCodesHelp);
    verbs.push_back({sub, v.add(*sub)});
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app.exit(e, std::cout, std::cerr);
      return kExitClean;
    }
    if (app.get_subcommands().empty()) {
      try {
        check_verb(argc, argv);
      } catch (const UsageError& u) {
        err(fmt::format("braid: error: {}\nRun `braid --help` for usage.\n", u.message));
        return kExitUsage;
      }
    }
    std::cerr << "braid: error: " << e.what() << "\n";
    std::cerr << "Run `braid --help` (or `braid <verb> --help`) for usage.\n";
    return kExitUsage;
  }
  g.format_given = format_opt->count() != 0;

  try {
    for (const Registered& r : verbs) {
      if (r.sub->parsed()) return r.action(g);
    }
  } catch (const UsageError& u) {
    err(fmt::format("braid: error: {}\n", u.message));
    return kExitUsage;
  }
  err("braid: error: no verb given\n");
  return kExitUsage;
}

}  // namespace

}  // namespace braid::cli

int main(int argc, char** argv) {
  try {
    int rc = braid::cli::run(argc, argv);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      std::fprintf(stderr, "braid: error: cannot write the output: %s\n", std::strerror(errno));
      return 2;
    }
    return rc;
  } catch (const braid::rt::SimdKernelError& e) {
    // Not a bug: this CPU cannot run Braid's event input (below x86-64-v2), or BRAID_SIMD_KERNEL asks for a kernel
    // it cannot run. One line, exit 2 (usage problem).
    std::fprintf(stderr, "braid: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fputs("braid: internal error: out of memory\n", stderr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "braid: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("braid: internal error: unknown exception\n", stderr);
  }
  std::fputs("This is a bug in braid; please report it with the input that caused it.\n", stderr);
  return 2;
}
