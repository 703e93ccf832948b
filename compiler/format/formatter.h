// `braid fmt`: one canonical layout for Braid source, like gofmt.
//
// The formatter works on the AST (not the IR) so it reproduces what the author wrote: macros unexpanded, clause
// order kept, comments kept. Layout rules (tests/format/format_golden_test.cpp shows every case):
//   - 2-space indentation; `{` on the declaration line; one clause per line, written `keyword value`.
//   - exactly one blank line between declarations; inside a declaration a blank line between clauses is kept
//     where the author had one or more.
//   - operators spaced, `, ` after commas; lists inline when they fit in the width (100 columns), else one element
//     per line with a trailing comma; long `and`/`or` chains break before the operator with a 2-space
//     continuation indent; test JSON printed inline when it fits, else one member per line, except that a JSON
//     object the author wrote on one line (a compact test event or expected alert) stays on one line.
//   - names quote exactly the segments that need it (`GCP.DNS.Zone.Modified."or".Deleted`).
//   - strings re-escaped canonically, raw strings kept raw, durations and numbers printed as written, message
//     templates printed exactly as written.
//   - the author's parentheses are kept; none are added except where precedence requires them.
//   - every comment is kept: own-line comments stay on their own line before the node that follows them,
//     trailing comments stay at the end of their line.
//
// The input must be a File that parsed without errors (the CLI refuses to format a file with syntax errors).
#pragma once

#include <string>

#include "ast/ast.h"
#include "diag/source.h"

namespace braid {

struct FormatOptions {
  int width = 100;  // maximum line width the layout aims for (long strings and names may exceed it)
  int indent = 2;   // spaces per indentation level
};

// Formats `file`, whose text is in `sm` (used for comments, blank lines and message templates). The result ends
// with exactly one newline (or is empty for a file with no declarations and no comments).
std::string format_file(const ast::File& file, const SourceManager& sm, const FormatOptions& opts = {});

// Canonical spelling of a string literal: `value` quoted, with `"`, `\` and control characters escaped.
std::string quote_string(std::string_view value);

}  // namespace braid
