// The linter: rule-quality warnings (BRD08xx, compiler/diag/codes_lint.def) over the typed IR.
//
// It reads only the IR (compiler/ir/ir.h) and the source text (for spans and fix-its); never the AST. It runs
// after a clean check. Every finding is a Severity::Warning except BRD0811 (costly rule), a Note that is emitted
// only when `LintOptions::costly` is on. `braid lint --strict` turns warnings into a failing exit.
//
// Declarations from the standard library (files whose path starts with "<stdlib>/", see driver.h) are not
// linted unless `LintOptions::lint_stdlib` is set: users cannot fix them, and the stdlib's lists and macros are
// there to be used by rule files.
#pragma once

#include <cstdint>
#include <string_view>

#include "diag/diagnostic.h"
#include "diag/source.h"
#include "ir/ir.h"

namespace braid {

struct LintOptions {
  // Emit BRD0811 "costly rule" notes (rules whose predicates can match any event). Off by default; the JIT work
  // wants `braid lint` to be able to list them.
  bool costly = false;
  // Lint stdlib declarations (paths starting with "<stdlib>/") too. Off by default.
  bool lint_stdlib = false;
  // The number of distinct values the runtime counts exactly per `distinct(step.field)` aggregate; a condition
  // that needs a larger count to decide is reported (BRD0810).
  int64_t distinct_exact_bound = 4096;
};

// The path prefix of embedded standard-library files (the same as driver.h's kStdlibPathPrefix).
inline constexpr std::string_view kLintStdlibPrefix = "<stdlib>/";

// Reports every lint finding of `program` to `diags`. Does not sort `diags`.
void lint(const ir::Program& program, const SourceManager& sm, DiagnosticSink& diags, const LintOptions& opts = {});

}  // namespace braid
