// The checker: AST -> typed IR (compiler/ir/ir.h).
//
// It resolves names (docs/design-brief.md, 6), expands macros inline, type-checks every expression, builds the
// source schemas and the per-source field slots, interns strings, constant sets, regexes (validated with RE2)
// and CIDRs, lays out each rule's aggregate state and sequences, classifies each rule's firing (monotone or at
// close), and checks metadata and tests. Codes: BRD01xx names, BRD02xx types, BRD03xx sources, BRD04xx rules
// (compiler/diag/codes_check.def).
//
// Errors never throw: they are reported to the sink and checking goes on, so one run reports as many problems
// as it can. Identical diagnostics (same code, span and message, e.g. an error inside a macro body used twice)
// are reported once.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "ast/ast.h"
#include "diag/diagnostic.h"
#include "ir/ir.h"

namespace braid {

// What runs of the checker checked: a test and the language server's statistics read it.
struct CheckCounts {
  size_t files = 0;         // files whose declarations were checked
  size_t declarations = 0;  // sources, lists, macros and rules checked
};

struct CheckOptions {
  // Macro expansion deeper than this is reported as recursion (BRD0106); real cycles are found earlier.
  uint32_t max_macro_depth = 64;
  // When set, each run adds what it checked.
  CheckCounts* counts = nullptr;
  // `tune` and `override list` declarations are always checked; false leaves the rules and lists as declared
  // (`braid test` runs a rule's own tests against the rule as its author wrote it).
  bool apply_tuning = true;
};

// Checks `files` together (the driver passes the standard library's files first, then the user's) and returns
// the typed program. Sources, lists, macros and rules share one global namespace across all files.
//
// Returns the program even when errors were reported: declarations with errors are still present where that is
// meaningful (a rule whose condition failed to check has condition == kNoNode, or an Error-typed node), so the
// caller must consult `diags.has_errors()` before running or packing it. Never returns nullptr today; callers
// should nevertheless handle nullptr (reserved for inputs too broken to represent).
std::unique_ptr<ir::Program> check(const std::vector<const ast::File*>& files, const SourceManager& sm,
                                   DiagnosticSink& diags, const CheckOptions& opts = {});

// The checked standard library (or any prefix of files) kept to check many units against without checking it again:
// check(*base, files) reports and returns what check(base files + files) would, except the base's own diagnostics
// (check_base reported them once). The language server checks the stdlib once, then each edit's unit against it.
// The base points into the ASTs of its files: they must outlive it, unchanged. A base whose check reported
// errors may resolve the later files' names differently from a whole check; use a clean one.
class CheckedBase;
std::shared_ptr<const CheckedBase> check_base(const std::vector<const ast::File*>& files, const SourceManager& sm,
                                              DiagnosticSink& diags, const CheckOptions& opts = {});
std::unique_ptr<ir::Program> check(const CheckedBase& base, const std::vector<const ast::File*>& files,
                                   const SourceManager& sm, DiagnosticSink& diags, const CheckOptions& opts = {});

class CheckedBase {
 public:
  ~CheckedBase();
  const ir::Program& program() const;

 private:
  CheckedBase();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend std::shared_ptr<const CheckedBase> check_base(const std::vector<const ast::File*>&, const SourceManager&,
                                                       DiagnosticSink&, const CheckOptions&);
  friend std::unique_ptr<ir::Program> check(const CheckedBase&, const std::vector<const ast::File*>&,
                                            const SourceManager&, DiagnosticSink&, const CheckOptions&);
};

// The names an editor offers for completion, as the checker knows them: the session and chain attributes
// ("session.identity", "chain.root.start"), the builtin functions (compiler/check/builtins.def) then the aggregates
// (ir::kAggKinds; "exists", "count"), and the severities ("info" .. "critical").
std::vector<std::string_view> attribute_names();
std::vector<std::string_view> function_names();
std::vector<std::string_view> severity_names();
// A builtin function's signature as the language server shows it ("lower(s: string) -> string"; from
// builtins.def), or empty for an aggregate or another name.
std::string_view function_signature(std::string_view name);

// The edit distance used for "did you mean" suggestions (Damerau-Levenshtein, optimal string alignment).
size_t edit_distance(std::string_view a, std::string_view b);

// The best suggestion for `name` among `candidates`, or empty when none is close enough.
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace braid
