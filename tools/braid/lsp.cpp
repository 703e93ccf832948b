// `braid lsp`: the language server over stdio (tools/lsp, docs/editors.md).
#include <unistd.h>

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

}  // namespace braid::cli
