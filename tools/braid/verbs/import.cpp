// `braid import sigma -o DIR PATH...`: convert rules written in another language into Braid files (docs/sigma.md).
// The converter is sigma.cpp; this file is the verb and its one sub-verb.
#include <memory>

#include <CLI/CLI.hpp>

#include "sigma.h"
#include "verbs.h"

namespace braid::cli {

VerbAction add_import_verb(CLI::App& sub) {
  sub.require_subcommand(1);
  auto o = std::make_shared<ImportSigmaOptions>();
  CLI::App* sigma = sub.add_subcommand("sigma", "Convert Sigma rules (YAML, specification v2.1) into Braid files");
  sigma->add_option("paths", o->paths, "Sigma rule files or directories (searched for *.yml, *.yaml)")
      ->required()
      ->type_name("PATH");
  sigma->add_option("--output,-o", o->output, "Write one Braid file per converted rule into DIR")
      ->required()
      ->type_name("DIR");
  sigma->footer(kExitCodesHelp);
  return [o, sigma](const Globals& g) {
    if (!sigma->parsed()) throw UsageError{"import needs a format: `braid import sigma`"};
    o->color = g.color;
    return run_import_sigma(*o);
  };
}

}  // namespace braid::cli
