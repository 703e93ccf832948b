// libFuzzer target for the Braid parser (see tests/fuzz/CMakeLists.txt for how to build and run it).
//
// Each input is one source file: it goes through parse_file, and the whole input also through parse_expression.
// Besides crashes, sanitizer reports, hangs and leaks, the target checks the parser's contracts and aborts when
// one is broken:
//   - every valid span (in diagnostics and in the AST) lies inside the input: same file, begin <= end <= size;
//   - every diagnostic has a registered code;
//   - parse_expression returns nullptr only after reporting an error.
// Inputs that parse without errors go no further yet (the checker and the formatter round trip come later).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "ast/ast.h"
#include "diag/codes.h"
#include "diag/diagnostic.h"
#include "diag/source.h"
#include "parser/parser.h"

namespace {

using namespace braid;

struct Checker {
  const SourceManager& sm;
  FileId file;
  uint32_t size;
  const char* phase;

  [[noreturn]] void fail(const char* what, const Span& s) const {
    std::fprintf(stderr, "braid_fuzz_parser: %s: %s has span {file %u, %u, %u} outside {file %u, 0, %u}\n", phase,
                 what, s.file, s.begin, s.end, file, size);
    std::abort();
  }

  void span(const Span& s, const char* what) const {
    if (!s.valid()) return;
    if (s.file != file || s.begin > s.end || s.end > size) fail(what, s);
    // Exercise the line/column lookup the renderers use.
    (void)sm.file(s.file).line_col(s.begin);
    (void)sm.slice(s);
  }

  void diagnostics(const DiagnosticSink& diags) const {
    for (const Diagnostic& d : diags.all()) {
      if (d.code == Code::BRD0000) {
        std::fprintf(stderr, "braid_fuzz_parser: %s: diagnostic without a code: %s\n", phase, d.message.c_str());
        std::abort();
      }
      (void)code_info(d.code);
      span(d.span, "diagnostic");
      if (d.fix) span(d.fix->span, "fix-it");
      for (const RelatedLocation& r : d.related) span(r.span, "related location");
    }
  }

  void expr(const ast::Expr* e) const {
    if (!e) return;
    span(e->span, "expression");
    span(e->head_span, "path head");
    span(e->callee.span, "callee");
    for (const ast::PathSeg& s : e->segs) span(s.span, "path segment");
    for (const ast::SeqItem& s : e->seq) span(s.step.span, "sequence step");
    if (e->within) span(e->within->span, "within");
    for (const ast::ExprPtr& c : e->children) expr(c.get());
  }

  void expr_clause(const std::optional<ast::ExprClause>& c, const char* what) const {
    if (!c) return;
    span(c->span, what);
    expr(c->expr.get());
  }

  void type(const ast::TypeExpr* t) const {
    if (!t) return;
    span(t->span, "type");
    span(t->name.span, "type name");
    type(t->elem.get());
    for (const ast::FieldDecl& f : t->fields) {
      span(f.span, "field declaration");
      type(f.type.get());
    }
  }

  void json(const ast::Json& j) const {
    span(j.span, "JSON value");
    for (const ast::Json& i : j.items) json(i);
    for (const auto& m : j.members) {
      span(m.key_span, "JSON key");
      json(m.second);
    }
  }

  void decl(const ast::SourceDecl& s) const {
    span(s.span, "source");
    span(s.name.span, "source name");
    expr_clause(s.recognize, "recognize");
    expr_clause(s.time, "time");
    expr_clause(s.id, "id");
    expr_clause(s.identity, "identity");
    expr_clause(s.credential, "credential");
    expr_clause(s.ip, "ip");
    expr_clause(s.account, "account");
    if (s.session) span(s.session->span, "session clause");
    if (s.lateness) span(s.lateness->span, "lateness clause");
    for (const ast::MintsClause& m : s.mints) {
      span(m.span, "mints");
      expr(m.credential.get());
      expr(m.when.get());
    }
    for (const ast::LinkClause& l : s.links) {
      span(l.span, "link");
      span(l.target.span, "link target");
      for (const ast::LinkSide* side : {&l.parent, &l.child}) {
        span(side->span, "link side");
        expr(side->when.get());
        expr(side->key.get());
      }
    }
    if (s.fields) {
      span(s.fields->span, "fields clause");
      type(&s.fields->record);
    }
  }

  void decl(const ast::TypeDecl& t) const {
    span(t.span, "type declaration");
    span(t.name.span, "type declaration name");
    type(&t.type);
  }

  void decl(const ast::ListDecl& l) const {
    span(l.span, "list");
    span(l.name.span, "list name");
    expr(l.value.get());
  }

  void decl(const ast::TuneDecl& t) const {
    span(t.span, "tune");
    span(t.name.span, "tune target");
    if (t.enabled) span(t.enabled->span, "tune enabled");
    if (t.severity) span(t.severity->span, "tune severity");
    for (const ast::ExprClause& e : t.exceptions) {
      span(e.span, "tune exception");
      expr(e.expr.get());
    }
  }

  void decl(const ast::OverrideDecl& o) const {
    span(o.span, "override");
    span(o.name.span, "override name");
    expr(o.value.get());
  }

  void decl(const ast::MacroDecl& m) const {
    span(m.span, "macro");
    span(m.name.span, "macro name");
    for (const ast::Ident& p : m.params) span(p.span, "macro parameter");
    expr(m.body.get());
  }

  void decl(const ast::RuleDecl& r) const {
    span(r.span, "rule");
    span(r.name.span, "rule name");
    for (const auto* c : {&r.title, &r.description, &r.author}) {
      if (!*c) continue;
      span((*c)->span, "rule string clause");
      span((*c)->value.span, "rule string");
    }
    for (const auto* c : {&r.tags, &r.references, &r.false_positives}) {
      if (!*c) continue;
      span((*c)->span, "rule string-list clause");
      for (const ast::StringLit& sl : (*c)->value) span(sl.span, "rule string");
    }
    if (r.enabled) span(r.enabled->span, "enabled");
    if (r.severity) span(r.severity->span, "severity");
    if (r.attack) {
      span(r.attack->span, "attack");
      for (const ast::AttackId& a : r.attack->value) span(a.span, "attack id");
    }
    if (r.sources) {
      span(r.sources->span, "source clause");
      for (const ast::Name& n : r.sources->value) span(n.span, "source name");
    }
    if (r.message) {
      span(r.message->span, "message");
      span(r.message->raw.span, "message string");
      for (const ast::TemplatePart& p : r.message->parts) expr(p.expr.get());
    }
    if (r.suppress) {
      span(r.suppress->span, "suppress");
      for (const ast::ExprPtr& k : r.suppress->keys) expr(k.get());
    }
    expr_clause(r.when, "when");
    if (r.scope_block) {
      span(r.scope_block->span, "scope block");
      for (const ast::Step& s : r.scope_block->steps) {
        span(s.span, "step");
        span(s.label.span, "step label");
        expr(s.pred.get());
      }
      expr_clause(r.scope_block->when, "scope when");
    }
    for (const ast::TestCase& t : r.tests) {
      span(t.span, "test");
      span(t.name.span, "test name");
      for (const ast::TestEvents& ev : t.events) {
        span(ev.span, "test events");
        if (ev.file) span(ev.file->span, "test events file");
        if (ev.inline_events) json(*ev.inline_events);
      }
      if (t.expect) {
        span(t.expect->span, "test expect");
        if (t.expect->kind == ast::TestExpect::Kind::Alerts) json(t.expect->alerts);
      }
    }
  }

  void file_ast(const ast::File& f) const {
    for (const ast::Decl& d : f.decls) std::visit([this](const auto& x) { decl(x); }, d);
    for (const ast::Comment& c : f.comments) span(c.span, "comment");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return -1;  // spans are 32-bit; large inputs only slow the search down
  SourceManager sm;
  const FileId id = sm.add("fuzz.braid", std::string(reinterpret_cast<const char*>(data), size));
  const uint32_t n = static_cast<uint32_t>(size);

  {
    DiagnosticSink diags;
    ast::File file = parse_file(sm, id, diags);
    const Checker check{sm, id, n, "parse_file"};
    check.diagnostics(diags);
    check.file_ast(file);
  }
  {
    DiagnosticSink diags;
    ast::ExprPtr e = parse_expression(sm, Span{id, 0, n}, diags);
    const Checker check{sm, id, n, "parse_expression"};
    check.diagnostics(diags);
    if (!e && !diags.has_errors()) {
      std::fprintf(stderr, "braid_fuzz_parser: parse_expression returned nullptr without reporting an error\n");
      std::abort();
    }
    if (e) {
      check.expr(e.get());
      (void)ast::dump(*e);
    }
  }
  return 0;
}
