// Walking the compiler's AST for the language server: every expression of a declaration, and the names it
// refers to (with their spans), so that references, the re-check set and hover need no parser of their own.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ast/ast.h"

namespace braid::lsp {

// Calls `f` on every expression of `decl`, parents before children (message-template pieces included).
void for_each_expr(const ast::Decl& decl, const std::function<void(const ast::Expr&)>& f);

// A name as written in an expression or clause: a path prefix (`aws`, `aws.sts_minting_calls`), a called name, a
// rule's `source` name, a link target, or a step in a sequence.
struct NameRef {
  std::string name;
  Span span;
  bool step = false;  // a step label in a sequence (`a -> b`) or an aggregate argument
};

// Every name `decl` refers to. A path `a.b.c` gives `a`, `a.b` and `a.b.c`, each with its own span.
std::vector<NameRef> name_refs(const ast::Decl& decl);

// The declared name of a declaration, and its kind as a word ("source", "list", "macro", "rule").
const ast::Name& decl_name(const ast::Decl& decl);
const char* decl_kind(const ast::Decl& decl);
Span decl_span(const ast::Decl& decl);

}  // namespace braid::lsp
