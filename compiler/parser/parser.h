// The Braid parser: text in, AST and diagnostics out. ANTLR is an implementation detail of this folder: nothing
// here (or in any header outside compiler/parser/) names an ANTLR type.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "ast/ast.h"
#include "diag/diagnostic.h"

namespace braid {

struct ParseOptions {
  // Deeper nesting is reported as BRD0007 instead of overflowing the stack.
  uint32_t max_nesting = 256;
  // Leave out rules' `test` blocks without lexing them: their JSON events are most of a rule file's tokens, and
  // parsing them was most of `braid run`'s start-up. For verbs that never run the tests (`braid run`). A block is
  // left out only when it is well formed as far as a plain scan can tell (a `test "NAME" {` at the top of a rule's
  // body, braces balanced outside strings and comments); anything else is parsed as usual. Spans are unchanged.
  bool skip_tests = false;
};

// The text with every rule's well-formed `test` block cut out, each replaced by one space; `cuts` gets, for each,
// the space's offset in the returned text and the number of bytes cut beyond it (so the parser maps every offset
// back to the file's). The text itself when there is none. What ParseOptions::skip_tests parses.
std::string cut_test_blocks(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>& cuts);

// Parses one whole file that is already in `sm`. Never throws for bad input: syntax problems become diagnostics
// and the returned File holds every declaration that could be read.
ast::File parse_file(const SourceManager& sm, FileId file, DiagnosticSink& diags, const ParseOptions& opts = {});

// Parses a standalone expression (used for message-template pieces and by tests). `base` is the span of `text`
// inside its file, so the expression's spans point at the right place. Returns nullptr after reporting errors.
ast::ExprPtr parse_expression(const SourceManager& sm, Span base, DiagnosticSink& diags,
                              const ParseOptions& opts = {});

}  // namespace braid
