// The driver: turns command-line paths into a checked rule set. It finds the .braid files, reads them, adds the
// standard library (embedded in the binary at build time), parses everything, runs the checker and, when asked,
// the linter. Every problem becomes a diagnostic in `Compilation::diags`; nothing here throws for bad input.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ast/ast.h"
#include "diag/diagnostic.h"
#include "diag/source.h"

namespace braid::ir {
struct Program;
}  // namespace braid::ir

namespace braid {

// ---------------------------------------------------------------------------------------------------------------
// The embedded standard library (generated from stdlib/**/*.braid by compiler/driver/embed_stdlib.cmake).

struct StdlibFile {
  std::string_view path;  // relative to stdlib/, forward slashes: "aws/cloudtrail.braid"
  std::string_view text;
};

// Sorted by path.
std::span<const StdlibFile> stdlib_files();

// Stdlib files appear in diagnostics as "<stdlib>/aws/cloudtrail.braid".
inline constexpr std::string_view kStdlibPathPrefix = "<stdlib>/";

// ---------------------------------------------------------------------------------------------------------------
// Files

// Expands command-line paths: a file is taken as given (whatever its extension); a directory is searched
// recursively for `*.braid` files, skipping entries whose names start with '.'. The result is sorted and free of
// duplicates, so output never depends on directory order. A missing or unreadable path is reported as BRD0901;
// when nothing at all is found (and no path was missing) BRD0902 is reported.
std::vector<std::string> find_braid_files(const std::vector<std::string>& paths, DiagnosticSink& diags);

// Reads a whole file. On failure returns false and sets `error` to the operating system's reason.
bool read_file(const std::string& path, std::string& text, std::string& error);

// ---------------------------------------------------------------------------------------------------------------
// Compilation

struct DriverOptions {
  bool load_stdlib = true;
  bool run_check = true;   // false: parse only (used by `braid fmt`)
  bool run_lint = false;   // lint after a clean check
  bool lint_costly = false;  // the linter also reports costly rules (BRD0811 notes)
  bool apply_tuning = true;  // false: `tune`/`override list` are checked but leave rules and lists as declared
  bool skip_tests = false;   // leave rules' `test` blocks out unread (ParseOptions::skip_tests): `braid run`
};

// What `braid check --list` prints about one rule (taken from the source, so it works for any rule that parsed).
struct RuleSummary {
  std::string id;
  std::string scope;     // "event", "session" or "chain"
  std::string severity;  // as written, or as tuned; empty when missing
  std::vector<std::string> sources;
  std::string title;
  bool enabled = true;
  bool tuned = false;    // a `tune` changed it: severity and enabled are the effective ones
  std::string file;
  uint32_t line = 0;
};

struct Compilation {
  Compilation();
  ~Compilation();
  Compilation(const Compilation&) = delete;
  Compilation& operator=(const Compilation&) = delete;

  SourceManager sm;
  DiagnosticSink diags;
  std::vector<ast::File> asts;         // stdlib files first, then the user's files in sorted order
  std::vector<FileId> user_files;      // the user's files, in the same order
  size_t stdlib_file_count = 0;
  bool input_error = false;            // a path was missing or unreadable, or no .braid file was found
  bool checked = false;                // the checker ran
  bool linted = false;                 // the linter ran
  std::unique_ptr<ir::Program> program;  // the checked program; null when checking failed or did not run

  // Rules declared in the user's files, in file and source order.
  std::vector<RuleSummary> rules() const;
  // Distinct source names the user's rules read from.
  size_t source_count() const;
  bool has_syntax_errors() const;
};

// Finds, reads, parses and (per `opts`) checks and lints. Diagnostics are sorted on return.
std::unique_ptr<Compilation> compile(const std::vector<std::string>& paths, const DriverOptions& opts = {});

}  // namespace braid
