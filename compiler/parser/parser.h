// The Braid parser: text in, AST and diagnostics out. ANTLR is an implementation detail of this folder: nothing
// here (or in any header outside compiler/parser/) names an ANTLR type.
#pragma once

#include <optional>
#include <string_view>

#include "ast/ast.h"
#include "diag/diagnostic.h"

namespace braid {

struct ParseOptions {
  // Deeper nesting is reported as BRD0007 instead of overflowing the stack.
  uint32_t max_nesting = 256;
};

// Parses one whole file that is already in `sm`. Never throws for bad input: syntax problems become diagnostics
// and the returned File holds every declaration that could be read.
ast::File parse_file(const SourceManager& sm, FileId file, DiagnosticSink& diags, const ParseOptions& opts = {});

// Parses a standalone expression (used for message-template pieces and by tests). `base` is the span of `text`
// inside its file, so the expression's spans point at the right place. Returns nullptr after reporting errors.
ast::ExprPtr parse_expression(const SourceManager& sm, Span base, DiagnosticSink& diags,
                              const ParseOptions& opts = {});

}  // namespace braid
