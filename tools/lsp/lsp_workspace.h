// The language server's workspace: the embedded standard library, the rule files under the workspace folder and
// the editor's open buffers, each parsed once per change with the compiler's parser, and checked and linted with
// the compiler's checker and linter (the same functions as `braid check` and `braid lint`).
//
// Re-checking is incremental. Every file is parsed alone. A check unit is the stdlib, every user file that
// declares a source, list or macro (the names rules share), and the files to re-check. An edit re-checks the edited
// file, plus, when it changed a shared declaration, every file that names it (directly or through a macro or list
// that does). A file with syntax errors reports them alone (like `braid check`); its sources, lists and macros
// still take part, so that it never stops the other files from being checked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ast/ast.h"
#include "check/checker.h"
#include "diag/diagnostic.h"
#include "diag/source.h"

namespace braid::lsp {

struct Document {
  std::string uri;
  FileId file = kNoFile;
  bool stdlib = false;
  bool open = false;        // the editor owns the text (didOpen .. didClose)
  int64_t version = 0;
  ast::File ast;
  std::vector<Diagnostic> syntax;  // the parser's diagnostics
  bool broken = false;             // syntax errors
  std::map<std::string, std::string> shared;  // source/list/macro name -> its text (to see what an edit changed)
  std::set<std::string> refs;      // every name it refers to (path prefixes included)
  std::vector<Diagnostic> diags;   // what the last check reported for this file
  bool published = false;          // `diags` were sent (or nothing to send)
  bool sent_nonempty = false;      // the last diagnostics sent were not empty (an empty list must follow)
};

struct CheckStats {
  size_t units = 0;       // checker runs
  size_t files = 0;       // files re-checked (targets)
  double millis = 0;      // time in the last recheck()
};

class Workspace {
 public:
  // Loads and parses the embedded standard library. `stdlib_uri_base` is the URI the stdlib's files are shown
  // under (e.g. "file:///home/u/.cache/braid/stdlib-0.1.0/" or "braid-stdlib:/"), ending in '/'.
  explicit Workspace(std::string stdlib_uri_base);

  // Adds every .braid file under `dir` that is not yet known (not open).
  void load_folder(const std::string& dir);

  Document* find(const std::string& uri);
  // The text of a document.
  const std::string& text(const Document& d) const { return sm_.file(d.file).text(); }
  // Opens or updates a document with the editor's text; schedules what the edit affects for re-checking.
  Document& set_text(const std::string& uri, const std::string& path, std::string text);
  // Schedules every user file (e.g. after a save: catches rule ids duplicated across files).
  void schedule_all();
  // Re-checks what was scheduled. Returns the documents whose diagnostics changed.
  std::vector<Document*> recheck();
  bool pending() const { return !pending_.empty(); }

  const SourceManager& sm() const { return sm_; }
  const std::vector<std::unique_ptr<Document>>& docs() const { return docs_; }
  Document& doc(FileId id) { return *docs_[id]; }
  const CheckStats& stats() const { return stats_; }
  // What the checker has checked since the start: the stdlib's declarations count once.
  const CheckCounts& check_counts() const { return counts_; }
  const std::string& stdlib_uri_base() const { return stdlib_uri_base_; }

 private:
  void parse(Document& d);
  void check_unit(const std::set<FileId>& targets, std::vector<Document*>& changed);

  std::string stdlib_uri_base_;
  SourceManager sm_;
  std::vector<std::unique_ptr<Document>> docs_;  // by FileId; the stdlib first
  std::map<std::string, FileId> by_uri_;
  std::set<FileId> pending_;
  CheckStats stats_;
  std::shared_ptr<const CheckedBase> stdlib_;  // the stdlib, checked (null until the first check)
  CheckCounts counts_;
};

}  // namespace braid::lsp
