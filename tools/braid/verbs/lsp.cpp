// `braid lsp`: the language server over stdio (tools/lsp, docs/editors.md).
#include <unistd.h>

#include <memory>

#include <CLI/CLI.hpp>

#include "lsp_server.h"
#include "verbs.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::cli {

int run_lsp(const LspOptions& o) {
  lsp::ServerOptions so;
  so.version = BRAID_VERSION;
  so.stdlib_dir = o.stdlib_dir;
  return lsp::serve(STDIN_FILENO, STDOUT_FILENO, so);
}

VerbAction add_lsp_verb(CLI::App& sub) {
  auto o = std::make_shared<LspOptions>();
  sub.add_option("--stdlib-dir", o->stdlib_dir,
                 "Where to write the stdlib's files for go-to-definition (default: ~/.cache/braid/stdlib-*)")
      ->type_name("DIR");
  sub.footer(
      "The server speaks LSP 3.17 on stdin/stdout; see docs/editors.md.\nExit codes:\n"
      "  0  after `shutdown` and `exit`\n"
      "  1  `exit` without `shutdown`, or the input ended before `shutdown`");
  return [o](const Globals&) { return run_lsp(*o); };
}

}  // namespace braid::cli
