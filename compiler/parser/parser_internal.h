// Private to compiler/parser/: shared between parser.cpp and ast_builder.cpp. May name ANTLR types.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "BraidParser.h"
#include "ast/ast.h"
#include "diag/diagnostic.h"
#include "parser/parser.h"

namespace braid::parser_detail {

// Maps ANTLR's character indexes (code points: the input stream decodes UTF-8) to byte offsets in the file.
class OffsetMap {
 public:
  OffsetMap(std::string_view text, uint32_t base);
  // Byte offset in the file of code point `cp` (clamped to the end of the text).
  uint32_t byte(size_t cp) const;
  uint32_t end() const { return base_ + size_ + cut_total_; }
  // The lexed text had pieces of the file cut out (ParseOptions::skip_tests): at text byte `at` (a one-byte
  // stand-in for the piece), `len` more file bytes. Offsets past `at` move on by the lengths cut before them.
  void add_cut(uint32_t at, uint32_t len) {
    cut_total_ += len;
    cuts_.push_back({at, cut_total_});
  }

 private:
  uint32_t base_;
  uint32_t size_;
  uint32_t cut_total_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> cuts_;  // (text byte, total cut up to and including it), ascending
  bool ascii_ = true;
  std::vector<uint32_t> starts_;  // only when !ascii_: byte offset (relative) of each code point, plus the end
};

// How one run of the parser behaves: a whole file, or one expression (possibly inside a message template).
struct RunConfig {
  Code syntax_code = Code::BRD0001;  // BRD0010 inside message templates
  bool report_escapes = true;        // false inside templates: the enclosing string reported them already
  // Pieces of the file left out of the text (ParseOptions::skip_tests): (offset in the text, bytes cut there).
  const std::vector<std::pair<uint32_t, uint32_t>>* cuts = nullptr;
};

struct BuildContext {
  const SourceManager& sm;
  FileId file;
  std::string_view text;  // the text that was lexed (same length as the file span it stands for)
  uint32_t base;          // byte offset of text[0] in the file
  const OffsetMap& map;
  DiagnosticSink& diags;
  const ParseOptions& opts;
  RunConfig cfg;
  const std::set<size_t>* error_tokens = nullptr;  // token indexes where syntax errors were found
};

// Parses `text`, which stands for the file bytes [base.begin, base.end) (same length; a template interpolation
// may have `\"` replaced by ` "`). Returns nullptr after reporting errors.
ast::ExprPtr parse_expression_text(const SourceManager& sm, std::string_view text, Span base,
                                   DiagnosticSink& diags, const ParseOptions& opts, const RunConfig& cfg);

// Builds the AST from a parse tree. Never throws for trees with error nodes; missing parts become null-literal
// placeholders (the syntax error was reported already).
class AstBuilder {
 public:
  explicit AstBuilder(const BuildContext& c) : c_(c) {}

  ast::File build_file(grammar::BraidParser::FileContext* ctx);
  ast::ExprPtr build_expr(grammar::BraidParser::ExprContext* ctx);

 private:
  using P = grammar::BraidParser;

  Span tok_span(antlr4::Token* t) const;
  Span ctx_span(antlr4::ParserRuleContext* ctx) const;
  Span node_span(antlr4::tree::TerminalNode* n) const { return n ? tok_span(n->getSymbol()) : Span{}; }

  ast::Ident ident(P::IdentContext* ctx);
  ast::Name name(P::NameContext* ctx);
  ast::Name decl_name(P::DeclNameContext* ctx);
  std::string quoted_segment(antlr4::tree::TerminalNode* n);
  ast::StringLit string_lit(antlr4::tree::TerminalNode* n);
  std::string decode_string(antlr4::Token* t, bool report);
  ast::DurationLit duration(P::DurationContext* ctx);
  bool parse_int(antlr4::Token* t, int64_t& out);

  ast::SourceDecl source_decl(P::SourceDeclContext* ctx);
  ast::TypeExpr type_expr(P::TypeExprContext* ctx);
  ast::TypeExpr record_type(P::RecordTypeContext* ctx);
  ast::ListDecl list_decl(P::ListDeclContext* ctx);
  ast::TuneDecl tune_decl(P::TuneDeclContext* ctx);
  ast::OverrideDecl override_decl(P::OverrideDeclContext* ctx);
  ast::MacroDecl macro_decl(P::MacroDeclContext* ctx);
  ast::RuleDecl rule_decl(P::RuleDeclContext* ctx);
  void rule_item(ast::RuleDecl& r, P::RuleItemContext* item);
  ast::ScopeBlock scope_block(P::RuleScopeContext* ctx);
  ast::TestCase test_case(P::RuleTestContext* ctx);
  ast::MessageClause message(P::RuleMessageContext* ctx);
  ast::Json json_value(P::JsonValueContext* ctx);
  ast::Json json_array(P::JsonArrayContext* ctx);
  ast::Json json_object(P::JsonObjectContext* ctx);

  ast::ExprPtr expr(P::ExprContext* ctx);  // never null: a placeholder when the tree is incomplete
  ast::ExprPtr expr_or_null(P::ExprContext* ctx);
  ast::ExprPtr or_expr(P::OrExprContext* ctx);
  ast::ExprPtr and_expr(P::AndExprContext* ctx);
  ast::ExprPtr not_expr(P::NotExprContext* ctx);
  ast::ExprPtr sequence(P::SequenceContext* ctx);
  ast::ExprPtr predicate(P::PredicateContext* ctx);
  ast::ExprPtr additive(P::AdditiveContext* ctx);
  ast::ExprPtr multiplicative(P::MultiplicativeContext* ctx);
  ast::ExprPtr unary(P::UnaryContext* ctx);
  ast::ExprPtr postfix(P::PostfixContext* ctx);
  ast::ExprPtr primary(P::PrimaryContext* ctx);
  ast::ExprPtr literal(P::LiteralContext* ctx);
  ast::ExprPtr list_literal(P::ListLiteralContext* ctx);
  ast::ExprPtr name_path(P::NameContext* ctx);
  ast::PathSeg path_seg(P::PathSegContext* ctx);
  ast::ExprPtr placeholder(Span span);

  void duplicate(const char* what, Span again, Span first);

  const BuildContext& c_;
  bool decl_has_syntax_errors_ = false;
};

// Decodes the escapes of a string body (no quotes). Reports BRD0003 at bad escapes when `diags` is not null;
// `file`/`offset` locate body[0] in the file.
std::string unescape(std::string_view body, FileId file, uint32_t offset, DiagnosticSink* diags);

}  // namespace braid::parser_detail
