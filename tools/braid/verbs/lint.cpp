// `braid lint [--strict] [--costly] PATH...`: check, then the rule-quality warnings (BRD08xx), as `braid check`
// prints them (verbs/check.cpp).
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "verbs.h"

namespace braid::cli {

VerbAction add_lint_verb(CLI::App& sub) {
  struct Options {
    std::vector<std::string> paths;
    bool strict = false;
    bool costly = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("paths", o->paths, "Files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  sub.add_flag("--strict", o->strict, "Exit with 1 when there are warnings");
  sub.add_flag("--costly", o->costly, "Also report costly rules, whose predicates can match any event (BRD0811)");
  sub.fallthrough();
  return [o](const Globals& g) { return run_check(g, o->paths, false, true, o->strict, o->costly); };
}

}  // namespace braid::cli
