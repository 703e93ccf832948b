#include "lsp_workspace.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <variant>

#include "check/checker.h"
#include "driver/driver.h"
#include "ir/ir.h"
#include "lint/linter.h"
#include "lsp_ast.h"
#include "lsp_text.h"
#include "parser/parser.h"

namespace braid::lsp {

namespace {

bool same(const Diagnostic& a, const Diagnostic& b) {
  return a.code == b.code && a.severity == b.severity && a.message == b.message && a.span.begin == b.span.begin &&
         a.span.end == b.span.end && a.help == b.help && a.fix.has_value() == b.fix.has_value() &&
         (!a.fix || (a.fix->span.begin == b.fix->span.begin && a.fix->span.end == b.fix->span.end &&
                     a.fix->replacement == b.fix->replacement)) &&
         a.related.size() == b.related.size();
}

bool same(const std::vector<Diagnostic>& a, const std::vector<Diagnostic>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

Workspace::Workspace(std::string stdlib_uri_base) : stdlib_uri_base_(std::move(stdlib_uri_base)) {
  for (const StdlibFile& f : stdlib_files()) {
    auto d = std::make_unique<Document>();
    d->uri = stdlib_uri_base_ + std::string(f.path);
    d->stdlib = true;
    d->file = sm_.add(std::string(kStdlibPathPrefix) + std::string(f.path), std::string(f.text));
    parse(*d);
    d->published = true;
    by_uri_[d->uri] = d->file;
    docs_.push_back(std::move(d));
  }
}

void Workspace::load_folder(const std::string& dir) {
  DiagnosticSink ignored;
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(dir, ec);
  if (ec) return;
  for (const std::string& path : find_braid_files({root.lexically_normal().string()}, ignored)) {
    std::string uri = path_to_uri(path);
    if (by_uri_.count(uri)) continue;
    // A copy of the stdlib (this repository's stdlib/): the embedded one is what braid checks with, and a copy
    // would declare every name twice.
    bool stdlib_copy = false;
    for (const StdlibFile& f : stdlib_files()) {
      std::string tail = "/stdlib/" + std::string(f.path);
      stdlib_copy = stdlib_copy || (path.size() > tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0);
    }
    if (stdlib_copy) continue;
    std::string text, error;
    if (!read_file(path, text, error)) continue;
    set_text(uri, path, std::move(text));
  }
}

Document* Workspace::find(const std::string& uri) {
  auto it = by_uri_.find(uri);
  return it == by_uri_.end() ? nullptr : docs_[it->second].get();
}

void Workspace::parse(Document& d) {
  DiagnosticSink sink;
  d.ast = parse_file(sm_, d.file, sink);
  sink.sort();
  d.syntax = sink.all();
  d.broken = sink.has_errors();
  d.shared.clear();
  d.refs.clear();
  for (const ast::Decl& decl : d.ast.decls) {
    if (!std::holds_alternative<ast::RuleDecl>(decl)) {
      const ast::Name& n = decl_name(decl);
      d.shared[n.text] = std::string(decl_kind(decl)) + ":" + std::string(sm_.slice(decl_span(decl)));
    }
    for (NameRef& r : name_refs(decl)) d.refs.insert(std::move(r.name));
  }
}

Document& Workspace::set_text(const std::string& uri, const std::string& path, std::string text) {
  Document* d = find(uri);
  if (!d) {
    auto nd = std::make_unique<Document>();
    nd->uri = uri;
    nd->file = sm_.add(path, std::move(text));
    by_uri_[uri] = nd->file;
    d = nd.get();
    docs_.push_back(std::move(nd));
  } else {
    sm_.replace(d->file, std::move(text));
  }
  std::map<std::string, std::string> before = std::move(d->shared);
  if (d->stdlib) stdlib_.reset();  // the checked stdlib points into the AST parse() replaces
  parse(*d);
  pending_.insert(d->file);

  // Which shared names did the edit add, remove or change?
  std::set<std::string> changed;
  for (const auto& [name, body] : before) {
    auto it = d->shared.find(name);
    if (it == d->shared.end() || it->second != body) changed.insert(name);
  }
  for (const auto& [name, body] : d->shared) {
    if (!before.count(name)) changed.insert(name);
  }
  if (changed.empty()) return *d;
  for (const std::string& name : changed) {
    auto b = before.find(name);
    auto a = d->shared.find(name);
    bool is_source = (b != before.end() && b->second.rfind("source:", 0) == 0) ||
                     (a != d->shared.end() && a->second.rfind("source:", 0) == 0);
    if (is_source) {  // a schema or a session key: every rule may depend on it
      schedule_all();
      return *d;
    }
  }
  // Lists and macros that use a changed name change too (to a fixed point).
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& doc : docs_) {
      for (const ast::Decl& decl : doc->ast.decls) {
        if (std::holds_alternative<ast::RuleDecl>(decl) || std::holds_alternative<ast::SourceDecl>(decl)) continue;
        const std::string& name = decl_name(decl).text;
        if (changed.count(name)) continue;
        for (const NameRef& r : name_refs(decl)) {
          if (changed.count(r.name)) {
            changed.insert(name);
            grew = true;
            break;
          }
        }
      }
    }
  }
  for (const auto& doc : docs_) {
    if (doc->stdlib) continue;
    bool hit = false;
    for (const std::string& name : changed) {
      if (doc->refs.count(name) || doc->shared.count(name)) {
        hit = true;
        break;
      }
    }
    if (hit) pending_.insert(doc->file);
  }
  return *d;
}

void Workspace::schedule_all() {
  for (const auto& doc : docs_) {
    if (!doc->stdlib) pending_.insert(doc->file);
  }
}

std::vector<Document*> Workspace::recheck() {
  std::vector<Document*> changed;
  if (pending_.empty()) return changed;
  auto t0 = std::chrono::steady_clock::now();
  std::set<FileId> targets;
  targets.swap(pending_);
  stats_ = CheckStats{};
  stats_.files = targets.size();
  check_unit(targets, changed);
  stats_.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return changed;
}

void Workspace::check_unit(const std::set<FileId>& targets, std::vector<Document*>& changed) {
  std::set<FileId> unit_targets = targets;
  std::map<FileId, std::vector<Diagnostic>> result;
  // Whether a list or macro is used (BRD0806, BRD0807) depends on every file: a target that declares shared
  // names is checked with the whole workspace.
  bool whole = false;
  for (FileId f : targets) whole = whole || !docs_[f]->shared.empty();
  // The stdlib first, then the user's files sorted by path, as the driver orders them (the second of two
  // declarations with one name is the one reported).
  std::vector<const Document*> order;
  for (const auto& doc : docs_) order.push_back(doc.get());
  std::stable_sort(order.begin(), order.end(), [&](const Document* a, const Document* b) {
    if (a->stdlib != b->stdlib) return a->stdlib;
    return !a->stdlib && sm_.file(a->file).path() < sm_.file(b->file).path();
  });
  if (!stdlib_) {
    // Checked once, and again only when a stdlib document is parsed again (set_text on it).
    std::vector<const ast::File*> files;
    for (const Document* doc : order) {
      if (doc->stdlib) files.push_back(&doc->ast);
    }
    DiagnosticSink ignored;  // the embedded stdlib is clean (tests/check)
    stdlib_ = check_base(files, sm_, ignored, CheckOptions{.counts = &counts_});
  }
  for (int pass = 0; pass < 2 && !unit_targets.empty(); ++pass) {
    std::vector<const ast::File*> files;
    for (const Document* doc : order) {
      bool target = unit_targets.count(doc->file) != 0 || (whole && pass == 0);
      if (!doc->stdlib && (!doc->shared.empty() || (target && !doc->broken))) files.push_back(&doc->ast);
    }
    DiagnosticSink sink;
    std::unique_ptr<ir::Program> program = check(*stdlib_, files, sm_, sink, CheckOptions{.counts = &counts_});
    ++stats_.units;
    std::set<FileId> error_files;
    for (const Diagnostic& d : sink.all()) {
      if (d.severity == Severity::Error) error_files.insert(d.span.valid() ? d.span.file : kNoFile);
    }
    bool errors_outside_targets = false;
    for (FileId f : error_files) {
      if (!unit_targets.count(f)) errors_outside_targets = true;
    }
    bool lint_now = program && error_files.empty();
    if (lint_now) lint(*program, sm_, sink, LintOptions{});
    for (FileId f : unit_targets) {
      // A target with errors keeps this pass's result; a clean one keeps it too unless a second pass, without
      // the files in error, can lint it.
      result[f].clear();
    }
    for (const Diagnostic& d : sink.all()) {
      if (d.span.valid() && unit_targets.count(d.span.file)) result[d.span.file].push_back(d);
    }
    if (lint_now || errors_outside_targets) break;
    std::set<FileId> clean;
    for (FileId f : unit_targets) {
      // Files with shared names stay out of the second pass: without the files in error, their lists and macros
      // would look unused.
      if (!error_files.count(f) && !docs_[f]->broken && docs_[f]->shared.empty()) clean.insert(f);
    }
    if (clean.size() == unit_targets.size()) break;
    unit_targets = std::move(clean);
  }
  for (FileId f : targets) {
    Document& doc = *docs_[f];
    std::vector<Diagnostic> diags = doc.broken ? doc.syntax : result[f];
    if (!doc.broken) diags.insert(diags.begin(), doc.syntax.begin(), doc.syntax.end());  // warnings, if any
    DiagnosticSink sorted;
    for (Diagnostic& d : diags) sorted.add(std::move(d));
    sorted.sort();
    // An open file is always published after a re-check (its version moved on); others when they changed.
    if (!doc.published || doc.open || !same(sorted.all(), doc.diags)) {
      doc.diags = sorted.all();
      doc.published = false;
      changed.push_back(&doc);
    }
  }
}

}  // namespace braid::lsp
