// Helpers shared by the parser tests.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ast/ast.h"
#include "diag/codes.h"
#include "diag/diagnostic.h"
#include "parser/parser.h"

namespace braid::test {

struct Parsed {
  SourceManager sm;
  DiagnosticSink diags;
  FileId id = kNoFile;
  ast::File file;

  // "BRD0001 BRD0008": the codes of all diagnostics, in report order.
  std::string codes() const {
    std::string out;
    for (const Diagnostic& d : diags.all()) {
      if (!out.empty()) out += ' ';
      out += std::string(code_info(d.code).id);
    }
    return out;
  }
  std::string messages() const {
    std::string out;
    for (const Diagnostic& d : diags.all()) {
      out += std::string(code_info(d.code).id) + " " + std::to_string(d.span.begin) + "-" +
             std::to_string(d.span.end) + ": " + d.message + "\n";
    }
    return out;
  }
  std::string_view text(Span s) const { return sm.slice(s); }
  template <typename T>
  const T& decl(size_t i) const { return std::get<T>(file.decls.at(i)); }
};

inline std::unique_ptr<Parsed> parse(std::string text, ParseOptions opts = {}) {
  auto p = std::make_unique<Parsed>();
  p->id = p->sm.add("test.braid", std::move(text));
  p->file = parse_file(p->sm, p->id, p->diags, opts);
  return p;
}

// Parses a standalone expression and returns its dump, or "error: <codes>".
inline std::string expr(std::string text) {
  SourceManager sm;
  DiagnosticSink diags;
  FileId id = sm.add("expr.braid", text);
  ast::ExprPtr e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  if (!e || diags.has_errors()) {
    std::string out = "error:";
    for (const Diagnostic& d : diags.all()) out += " " + std::string(code_info(d.code).id);
    return out;
  }
  return ast::dump(*e);
}

}  // namespace braid::test
