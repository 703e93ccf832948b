#include "lsp_ast.h"

#include <variant>

namespace braid::lsp {

namespace {

using ExprFn = std::function<void(const ast::Expr&)>;

void walk(const ast::Expr* e, const ExprFn& f) {
  if (!e) return;
  f(*e);
  for (const ast::ExprPtr& c : e->children) walk(c.get(), f);
}

void walk_clause(const std::optional<ast::ExprClause>& c, const ExprFn& f) {
  if (c) walk(c->expr.get(), f);
}

}  // namespace

void for_each_expr(const ast::Decl& decl, const ExprFn& f) {
  if (const auto* s = std::get_if<ast::SourceDecl>(&decl)) {
    for (const auto* c : {&s->recognize, &s->time, &s->id, &s->identity, &s->credential, &s->ip, &s->account}) {
      walk_clause(*c, f);
    }
    for (const ast::MintsClause& m : s->mints) {
      walk(m.credential.get(), f);
      walk(m.when.get(), f);
    }
    for (const ast::LinkClause& l : s->links) {
      walk(l.parent.when.get(), f);
      walk(l.parent.key.get(), f);
      walk(l.child.when.get(), f);
      walk(l.child.key.get(), f);
    }
  } else if (const auto* l = std::get_if<ast::ListDecl>(&decl)) {
    walk(l->value.get(), f);
  } else if (const auto* m = std::get_if<ast::MacroDecl>(&decl)) {
    walk(m->body.get(), f);
  } else if (const auto* t = std::get_if<ast::TuneDecl>(&decl)) {
    for (const ast::ExprClause& e : t->exceptions) walk(e.expr.get(), f);
  } else if (const auto* o = std::get_if<ast::OverrideDecl>(&decl)) {
    walk(o->value.get(), f);
  } else if (const auto* r = std::get_if<ast::RuleDecl>(&decl)) {
    walk_clause(r->when, f);
    if (r->scope_block) {
      if (r->scope_block->group)
        for (const ast::ExprPtr& k : r->scope_block->group->keys) walk(k.get(), f);
      for (const ast::Step& st : r->scope_block->steps) walk(st.pred.get(), f);
      walk_clause(r->scope_block->when, f);
    }
    if (r->message) {
      for (const ast::TemplatePart& p : r->message->parts) walk(p.expr.get(), f);
    }
    if (r->suppress) {
      for (const ast::ExprPtr& k : r->suppress->keys) walk(k.get(), f);
    }
    if (r->severity) {
      for (const ast::SeverityArm& a : r->severity->arms) walk(a.when.get(), f);
    }
  }
}

std::vector<NameRef> name_refs(const ast::Decl& decl) {
  std::vector<NameRef> out;
  for_each_expr(decl, [&](const ast::Expr& e) {
    if (e.kind == ast::ExprKind::Path && e.children.empty() && !e.head.empty()) {
      std::string name = e.head;
      out.push_back({name, e.head_span, false});
      for (const ast::PathSeg& s : e.segs) {
        if (s.kind != ast::PathSeg::Kind::Field) break;
        name += '.';
        name += s.name;
        out.push_back({name, Span{e.head_span.file, e.head_span.begin, s.span.end}, false});
      }
    } else if (e.kind == ast::ExprKind::Call) {
      out.push_back({e.callee.text, e.callee.span, false});
    } else if (e.kind == ast::ExprKind::Sequence) {
      for (const ast::SeqItem& it : e.seq) out.push_back({it.step.text, it.step.span, true});
    }
  });
  if (const auto* r = std::get_if<ast::RuleDecl>(&decl)) {
    if (r->sources) {
      for (const ast::Name& n : r->sources->value) out.push_back({n.text, n.span, false});
    }
  } else if (const auto* s = std::get_if<ast::SourceDecl>(&decl)) {
    for (const ast::LinkClause& l : s->links) out.push_back({l.target.text, l.target.span, false});
  }
  return out;
}

const ast::Name& decl_name(const ast::Decl& decl) {
  return std::visit([](const auto& d) -> const ast::Name& { return d.name; }, decl);
}

const char* decl_kind(const ast::Decl& decl) {
  switch (decl.index()) {
    case 0: return "source";
    case 1: return "list";
    case 2: return "macro";
    case 4: return "type";
    case 5: return "tune";
    case 6: return "override";
    default: return "rule";
  }
}

Span decl_span(const ast::Decl& decl) {
  return std::visit([](const auto& d) { return d.span; }, decl);
}

}  // namespace braid::lsp
