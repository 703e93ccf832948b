// The verb table: the one list of `braid`'s verbs. main.cpp registers each as a subcommand (so `braid --help` lists
// them), names them in the unknown-verb message, `braid completion` completes them, and tests/cli checks that every file of verbs/ is in it and that
// docs/cli.md documents each. To add a verb: docs/development.md, "How to add a verb".
#include "verbs.h"

namespace braid::cli {

namespace {

constexpr Verb kVerbs[] = {
    {"check", "Check rules: syntax, names, types, schemas and metadata", add_check_verb},
    {"lint", "Check rules, then report rule-quality warnings (BRD08xx)", add_lint_verb},
    {"fmt", "Format .braid files in place (canonical layout, comments kept)", add_fmt_verb},
    {"explain", "Explain a diagnostic code, e.g. `braid explain BRD0301`", add_explain_verb},
    {"run", "Run rules over event streams and write alerts as NDJSON", add_run_verb},
    {"test", "Run the rules' embedded tests and compare the alerts", add_test_verb},
    {"doc", "Write the rule catalogue (Markdown): every rule's metadata, by provider", add_doc_verb},
    {"lsp", "Run the language server (LSP over stdin/stdout) for editors", add_lsp_verb},
    {"import", "Convert rules written in another language into Braid files", add_import_verb},
    {"keygen", "Make an Ed25519 key pair for signing rule packs", add_keygen_verb},
    {"build", "Compile rules (with the stdlib) into one rule pack file", add_build_verb},
    {"inspect", "Validate a rule pack and print its header, sections, sources and rules", add_inspect_verb},
    {"completion", "Print a shell completion script for braid (bash)", add_completion_verb},
};

}  // namespace

std::span<const Verb> verb_table() { return kVerbs; }

}  // namespace braid::cli
