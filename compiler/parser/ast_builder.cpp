// Parse tree -> AST. Everything here tolerates incomplete trees (after syntax errors, ANTLR leaves children null).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

#include "parser/parser_internal.h"
#include "text/utf8.h"

namespace braid::parser_detail {

using P = grammar::BraidParser;

namespace {

template <typename T>
T* as(antlr4::ParserRuleContext* ctx) {
  return ctx ? dynamic_cast<T*>(ctx) : nullptr;
}

// The keyword that opens a scope block, for messages.
const char* scope_keyword(ast::Scope s) {
  switch (s) {
    case ast::Scope::Event: return "when";
    case ast::Scope::Session: return "session";
    case ast::Scope::Chain: return "chain";
    case ast::Scope::Group: return "group";
  }
  return "session";
}

// Reads 4 hex digits at body[i]; returns -1 if they are not there.
int32_t hex4(std::string_view body, size_t i) {
  if (i + 4 > body.size()) return -1;
  int32_t v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char ch = body[k];
    int d;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

// Whether the string token text `s` (from the file) is closed by an unescaped quote.
bool is_terminated(std::string_view s) {
  if (s.size() < 2 || s.back() != '"') return false;
  size_t backslashes = 0;
  for (size_t i = s.size() - 1; i > 1 && s[i - 1] == '\\'; --i) ++backslashes;
  return backslashes % 2 == 0;
}

}  // namespace

std::string unescape(std::string_view body, FileId file, uint32_t offset, DiagnosticSink* diags) {
  std::string out;
  out.reserve(body.size());
  auto bad = [&](size_t at, size_t len, std::string msg) {
    if (diags) diags->report(Code::BRD0003, Span{file, offset + static_cast<uint32_t>(at),
                                                  offset + static_cast<uint32_t>(at + len)}, std::move(msg));
  };
  for (size_t i = 0; i < body.size(); ++i) {
    char ch = body[i];
    if (ch != '\\') {
      out += ch;
      continue;
    }
    if (i + 1 >= body.size()) {
      bad(i, 1, "a backslash at the end of a string escapes nothing");
      break;
    }
    char e = body[i + 1];
    switch (e) {
      case '"': out += '"'; ++i; continue;
      case '\\': out += '\\'; ++i; continue;
      case '/': out += '/'; ++i; continue;
      case 'b': out += '\b'; ++i; continue;
      case 'f': out += '\f'; ++i; continue;
      case 'n': out += '\n'; ++i; continue;
      case 'r': out += '\r'; ++i; continue;
      case 't': out += '\t'; ++i; continue;
      case '{': out += '{'; ++i; continue;
      case '}': out += '}'; ++i; continue;
      case 'u': {
        int32_t hi = hex4(body, i + 2);
        if (hi < 0) {
          size_t len = 2;
          while (len < 6 && i + len < body.size() && std::isxdigit(static_cast<unsigned char>(body[i + len]))) ++len;
          bad(i, len, "invalid escape: `\\u` must be followed by four hexadecimal digits");
          i += len - 1;
          continue;
        }
        uint32_t cp = static_cast<uint32_t>(hi);
        size_t len = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          int32_t lo = (i + 7 < body.size() && body[i + 6] == '\\' && body[i + 7] == 'u') ? hex4(body, i + 8) : -1;
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
            len = 12;
          } else {
            bad(i, 6, "invalid escape: high surrogate `" + std::string(body.substr(i, 6)) +
                          "` is not followed by a low surrogate `\\uDC00`..`\\uDFFF`");
            i += 5;
            continue;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          bad(i, 6, "invalid escape: low surrogate `" + std::string(body.substr(i, 6)) +
                        "` without a preceding high surrogate");
          i += 5;
          continue;
        }
        append_utf8(out, cp);
        i += len - 1;
        continue;
      }
      default: {
        // The escaped character may be multi-byte UTF-8: point at all of it.
        size_t len = 2;
        unsigned char lead = static_cast<unsigned char>(e);
        if (lead >= 0xC0) {
          size_t extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
          len = std::min(2 + extra, body.size() - i);
        }
        bad(i, len, "invalid escape `" + std::string(body.substr(i, len)) + "`" +
                        (e == 'd' || e == 'w' || e == 's' || e == '.' ? " (for a regular expression, use a raw string: r\"...\")"
                                                                       : ""));
        i += len - 1;
        continue;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Spans and small pieces

Span AstBuilder::tok_span(antlr4::Token* t) const {
  if (!t) return Span{};
  size_t start = t->getStartIndex();
  size_t stop = t->getStopIndex();
  if (start == INVALID_INDEX || t->getType() == antlr4::Token::EOF) {
    uint32_t at = start == INVALID_INDEX ? c_.map.end() : c_.map.byte(start);
    return Span{c_.file, at, at};
  }
  uint32_t b = c_.map.byte(start);
  uint32_t e = (stop == INVALID_INDEX || stop < start) ? b : c_.map.byte(stop + 1);
  return Span{c_.file, b, e};
}

Span AstBuilder::ctx_span(antlr4::ParserRuleContext* ctx) const {
  if (!ctx) return Span{};
  Span s = tok_span(ctx->getStart());
  antlr4::Token* stop = ctx->getStop();
  if (stop && ctx->getStart() && stop->getTokenIndex() != INVALID_INDEX &&
      stop->getTokenIndex() >= ctx->getStart()->getTokenIndex()) {
    Span e = tok_span(stop);
    if (e.end > s.end) s.end = e.end;
  }
  return s;
}

ast::Ident AstBuilder::ident(P::IdentContext* ctx) {
  ast::Ident id;
  if (!ctx) return id;
  id.span = ctx_span(ctx);
  if (ctx->getStart()) id.text = ctx->getStart()->getText();
  return id;
}

ast::Name AstBuilder::name(P::NameContext* ctx) {
  ast::Name n;
  if (!ctx) return n;
  n.span = ctx_span(ctx);
  if (ctx->ident() && ctx->ident()->getStart()) n.text = ctx->ident()->getStart()->getText();
  for (auto* seg : ctx->nameSeg()) {
    n.text += '.';
    if (!seg) continue;
    if (seg->STRING()) n.text += quoted_segment(seg->STRING());
    else if (seg->ident() && seg->ident()->getStart()) n.text += seg->ident()->getStart()->getText();
  }
  return n;
}

// The value of a quoted name segment (`."or"`), reported when it cannot be part of a name.
std::string AstBuilder::quoted_segment(antlr4::tree::TerminalNode* n) {
  std::string v = decode_string(n->getSymbol(), true);
  std::string why = ast::invalid_segment_reason(v);
  if (!why.empty()) c_.diags.report(Code::BRD0011, node_span(n), why);
  return v;
}

// Names in declarations and clauses: the grammar also reads `a.dns-zone`, `a.or.b` and `a.2fa` here, so that one
// error at the first offending token, with the quoted spelling as a fix-it, explains the whole name and the parse
// goes on. The name keeps the text its author meant, so no later "unknown" or "duplicate" error follows from it.
ast::Name AstBuilder::decl_name(P::DeclNameContext* ctx) {
  ast::Name n;
  if (!ctx) return n;
  n.span = ctx_span(ctx);
  std::vector<std::string> segs;
  segs.push_back(ctx->ident() && ctx->ident()->getStart() ? ctx->ident()->getStart()->getText() : std::string());
  std::optional<Span> problem_at;
  std::string problem;
  bool exact_tokens = true;  // the name's text is its tokens with nothing between them: a fix-it can replace it
  antlr4::Token* prev = ctx->getStart();
  auto note = [&](Span at, std::string msg) {
    if (!problem_at) problem_at = at, problem = std::move(msg);
  };
  bool dash = false;
  for (auto* child : ctx->children) {
    antlr4::Token* first = nullptr;
    if (auto* term = dynamic_cast<antlr4::tree::TerminalNode*>(child)) {
      first = term->getSymbol();
      dash = first->getText() == "-";
      if (dash) note(node_span(term), "`-` cannot be part of a name: it would be read as a minus");
    } else if (auto* seg = dynamic_cast<P::DeclSegContext*>(child)) {
      first = seg->getStart();
      std::string text;
      if (seg->STRING()) {
        text = quoted_segment(seg->STRING());
      } else if (first) {
        text = seg->getText();  // `2fa` is two tokens
        for (size_t k = 1; k < seg->children.size(); ++k) {
          auto* a = dynamic_cast<antlr4::tree::TerminalNode*>(seg->children[k - 1]);
          auto* b = dynamic_cast<antlr4::tree::TerminalNode*>(seg->children[k]);
          if (a && b && b->getSymbol()->getStartIndex() != a->getSymbol()->getStopIndex() + 1) exact_tokens = false;
        }
        if (ast::is_reserved_word(text)) {
          note(ctx_span(seg), "`" + text + "` is a reserved word: as a segment of a name it must be quoted");
        } else if (!seg->ident() && !dash) {
          note(ctx_span(seg), "a segment of a name cannot start with a digit unless it is quoted");
        }
      }
      if (dash) segs.back() += "-" + text;
      else segs.push_back(std::move(text));
    } else {
      continue;  // the first ident, or an error node
    }
    if (first && prev && first->getStartIndex() != prev->getStopIndex() + 1) exact_tokens = false;
    if (auto* rc = dynamic_cast<antlr4::ParserRuleContext*>(child)) prev = rc->getStop();
    else prev = first;
  }
  for (size_t i = 0; i < segs.size(); ++i) n.text += (i ? "." : "") + segs[i];
  if (problem_at) {
    Diagnostic& d = c_.diags.report(Code::BRD0011, *problem_at, std::move(problem));
    if (!ast::is_plain_segment(segs[0])) {
      // The first segment has no quoted form: in an expression, a leading string is a string.
      d.help = "a name starts with an identifier: write `" + segs[0] +
               "` without `-` (`_` is allowed), or quote the segments after the first dot (`acme.\"" + segs[0] + "\"`)";
    } else {
      std::string spelling = ast::name_spelling(n.text);
      d.help = "quote the segment after its dot, as in field paths: `" + spelling + "`";
      if (exact_tokens) d.fix = FixIt{n.span, spelling};
    }
  }
  return n;
}

std::string AstBuilder::decode_string(antlr4::Token* t, bool report) {
  if (!t) return {};
  // The token's own text: inside a template interpolation it was rewritten (`\"` -> `"`), unlike the file.
  std::string raw = t->getText();
  if (raw.empty() || raw.front() != '"') return {};
  std::string_view body = std::string_view(raw).substr(1);
  if (is_terminated(raw)) body.remove_suffix(1);
  Span s = tok_span(t);
  return unescape(body, c_.file, s.begin + 1, report && c_.cfg.report_escapes ? &c_.diags : nullptr);
}

ast::StringLit AstBuilder::string_lit(antlr4::tree::TerminalNode* n) {
  ast::StringLit s;
  if (!n) return s;
  s.span = node_span(n);
  s.value = decode_string(n->getSymbol(), true);
  return s;
}

bool AstBuilder::parse_int(antlr4::Token* t, int64_t& out) {
  out = 0;
  if (!t) return false;
  std::string text = t->getText();
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc::result_out_of_range) {
    c_.diags.report(Code::BRD0009, tok_span(t),
                    "integer `" + (text.size() > 40 ? text.substr(0, 40) + "..." : text) +
                        "` is out of range (integers are 64-bit signed: at most 9223372036854775807)");
    out = 0;
    return false;
  }
  return ec == std::errc() && p == text.data() + text.size();
}

ast::DurationLit AstBuilder::duration(P::DurationContext* ctx) {
  ast::DurationLit d;
  if (!ctx || !ctx->DURATION()) {
    if (ctx) d.span = ctx_span(ctx);
    return d;
  }
  antlr4::Token* t = ctx->DURATION()->getSymbol();
  d.text = t->getText();
  d.span = tok_span(t);
  constexpr int64_t kMaxNanos = int64_t{10000} * 86400 * 1000000000;  // 10,000 days
  int64_t total = 0;
  bool overflow = false;
  size_t i = 0;
  const std::string& s = d.text;
  while (i < s.size()) {
    int64_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      if (n > kMaxNanos) overflow = true, n = kMaxNanos + 1;
      ++i;
    }
    int64_t unit = 0;
    if (i + 1 < s.size() && s[i] == 'm' && s[i + 1] == 's') {
      unit = 1000000;
      i += 2;
    } else if (i < s.size()) {
      switch (s[i]) {
        case 's': unit = 1000000000; break;
        case 'm': unit = int64_t{60} * 1000000000; break;
        case 'h': unit = int64_t{3600} * 1000000000; break;
        case 'd': unit = int64_t{86400} * 1000000000; break;
        default: break;
      }
      ++i;
    }
    if (unit == 0 || n > kMaxNanos / unit) {
      overflow = overflow || unit != 0;
      continue;
    }
    total += n * unit;
    if (total > kMaxNanos) overflow = true, total = kMaxNanos + 1;
  }
  if (overflow) {
    c_.diags.report(Code::BRD0009, d.span,
                    "duration `" + (d.text.size() > 40 ? d.text.substr(0, 40) + "..." : d.text) +
                        "` is out of range (durations are at most 10,000 days)");
    d.nanos = 0;
  } else {
    d.nanos = static_cast<int64_t>(total);
  }
  return d;
}

void AstBuilder::duplicate(const char* what, Span again, Span first) {
  if (decl_has_syntax_errors_) return;  // recovery leftovers, not real duplicates
  Diagnostic& d = c_.diags.report(Code::BRD0008, again, std::string("`") + what + "` is given twice");
  d.related.push_back(RelatedLocation{first, std::string("first `") + what + "` is here"});
}

// ---------------------------------------------------------------------------------------------------------------
// Declarations

ast::File AstBuilder::build_file(P::FileContext* ctx) {
  ast::File f;
  f.file = c_.file;
  if (!ctx) return f;
  for (auto* d : ctx->decl()) {
    if (!d) continue;
    decl_has_syntax_errors_ = false;
    if (c_.error_tokens && d->getStart()) {
      size_t b = d->getStart()->getTokenIndex();
      size_t e = d->getStop() ? d->getStop()->getTokenIndex() : b;
      auto it = c_.error_tokens->lower_bound(b);
      decl_has_syntax_errors_ = it != c_.error_tokens->end() && *it <= e + 1;
    }
    if (auto* s = d->sourceDecl()) {
      f.decls.emplace_back(source_decl(s));
    } else if (auto* t = d->typeDecl()) {
      ast::TypeDecl td;
      td.name = decl_name(t->declName());
      td.span = ctx_span(t);
      td.type = type_expr(t->typeExpr());
      f.decls.emplace_back(std::move(td));
    } else if (auto* l = d->listDecl()) {
      f.decls.emplace_back(list_decl(l));
    } else if (auto* m = d->macroDecl()) {
      f.decls.emplace_back(macro_decl(m));
    } else if (auto* r = d->ruleDecl()) {
      f.decls.emplace_back(rule_decl(r));
    } else if (auto* tu = d->tuneDecl()) {
      f.decls.emplace_back(tune_decl(tu));
    } else if (auto* o = d->overrideDecl()) {
      f.decls.emplace_back(override_decl(o));
    }
  }
  return f;
}

ast::ExprPtr AstBuilder::build_expr(P::ExprContext* ctx) { return expr_or_null(ctx); }

ast::SourceDecl AstBuilder::source_decl(P::SourceDeclContext* ctx) {
  ast::SourceDecl s;
  s.name = decl_name(ctx->declName());
  s.span = ctx_span(ctx);
  auto once = [&](std::optional<ast::ExprClause>& slot, const char* what, antlr4::ParserRuleContext* item,
                  P::ExprContext* e) {
    ast::ExprClause cl{expr(e), ctx_span(item)};
    if (!cl.expr) cl.expr = placeholder(cl.span);
    if (slot) {
      duplicate(what, cl.span, slot->span);
      return;
    }
    slot = std::move(cl);
  };
  for (auto* item : ctx->sourceItem()) {
    if (!item) continue;
    Span span = ctx_span(item);
    if (auto* x = as<P::SrcRecognizeContext>(item)) {
      once(s.recognize, "recognize", item, x->expr());
    } else if (auto* x2 = as<P::SrcTimeContext>(item)) {
      once(s.time, "time", item, x2->expr());
    } else if (auto* x3 = as<P::SrcIdContext>(item)) {
      once(s.id, "id", item, x3->expr());
    } else if (auto* x4 = as<P::SrcIdentityContext>(item)) {
      once(s.identity, "identity", item, x4->expr());
    } else if (auto* x5 = as<P::SrcCredentialContext>(item)) {
      once(s.credential, "credential", item, x5->expr());
    } else if (auto* x6 = as<P::SrcIpContext>(item)) {
      once(s.ip, "ip", item, x6->expr());
    } else if (auto* x7 = as<P::SrcAccountContext>(item)) {
      once(s.account, "account", item, x7->expr());
    } else if (auto* ss = as<P::SrcSessionContext>(item)) {
      ast::SessionClause cl{duration(ss->duration(0)), duration(ss->duration(1)), span};
      if (s.session) duplicate("session", span, s.session->span);
      else s.session = std::move(cl);
    } else if (auto* la = as<P::SrcLatenessContext>(item)) {
      ast::LatenessClause cl{duration(la->duration()), span};
      if (s.lateness) duplicate("lateness", span, s.lateness->span);
      else s.lateness = std::move(cl);
    } else if (auto* mi = as<P::SrcMintsContext>(item)) {
      ast::MintsClause cl;
      cl.credential = expr(mi->expr(0));
      if (mi->expr(1)) cl.when = expr(mi->expr(1));
      cl.span = span;
      s.mints.push_back(std::move(cl));
    } else if (auto* li = as<P::SrcLinkContext>(item)) {
      ast::LinkClause cl;
      cl.target = decl_name(li->declName());
      cl.within = duration(li->duration());
      cl.span = span;
      bool have_parent = false, have_child = false;
      for (auto* side : li->linkSide()) {
        if (!side || !side->side) continue;
        ast::LinkSide ls{expr(side->expr(0)), expr(side->expr(1)), ctx_span(side)};
        bool parent = side->side->getText() == "parent";
        bool& have = parent ? have_parent : have_child;
        ast::LinkSide& slot = parent ? cl.parent : cl.child;
        if (have) {
          duplicate(parent ? "parent" : "child", ls.span, slot.span);
          continue;
        }
        have = true;
        slot = std::move(ls);
      }
      s.links.push_back(std::move(cl));
    } else if (auto* fi = as<P::SrcFieldsContext>(item)) {
      ast::FieldsClause cl{record_type(fi->recordType()), span};
      if (s.fields) duplicate("fields", span, s.fields->span);
      else s.fields = std::move(cl);
    }
  }
  return s;
}

ast::TypeExpr AstBuilder::type_expr(P::TypeExprContext* ctx) {
  ast::TypeExpr t;
  if (!ctx) return t;
  t.span = ctx_span(ctx);
  if (auto* n = as<P::NamedTypeContext>(ctx)) {
    t.kind = ast::TypeExpr::Kind::Named;
    t.name = ident(n->ident());
  } else if (auto* l = as<P::ListTypeContext>(ctx)) {
    t.kind = ast::TypeExpr::Kind::List;
    t.elem = std::make_unique<ast::TypeExpr>(type_expr(l->typeExpr()));
  } else if (auto* r = as<P::RecordTypeExprContext>(ctx)) {
    t = record_type(r->recordType());
  }
  return t;
}

ast::TypeExpr AstBuilder::record_type(P::RecordTypeContext* ctx) {
  ast::TypeExpr t;
  t.kind = ast::TypeExpr::Kind::Record;
  if (!ctx) return t;
  t.span = ctx_span(ctx);
  t.open = ctx->ELLIPSIS() != nullptr;
  for (auto* fd : ctx->fieldDecl()) {
    if (!fd) continue;
    ast::FieldDecl f;
    f.span = ctx_span(fd);
    if (auto* fnm = fd->fieldName()) {
      if (fnm->STRING()) {
        f.name = decode_string(fnm->STRING()->getSymbol(), true);
        f.quoted = true;
      } else if (fnm->ident() && fnm->ident()->getStart()) {
        f.name = fnm->ident()->getStart()->getText();
      }
    }
    f.optional = fd->optional != nullptr;
    f.nocase = fd->nocase != nullptr;
    f.type = std::make_unique<ast::TypeExpr>(type_expr(fd->typeExpr()));
    t.fields.push_back(std::move(f));
  }
  return t;
}

ast::ListDecl AstBuilder::list_decl(P::ListDeclContext* ctx) {
  ast::ListDecl l;
  l.name = decl_name(ctx->declName());
  l.span = ctx_span(ctx);
  l.value = ctx->listLiteral() ? list_literal(ctx->listLiteral()) : placeholder(l.span);
  l.org_data = ctx->orgData != nullptr;
  return l;
}

ast::TuneDecl AstBuilder::tune_decl(P::TuneDeclContext* ctx) {
  ast::TuneDecl t;
  t.span = ctx_span(ctx);
  if (ctx->declName()) {
    t.name = decl_name(ctx->declName());
  } else if (ctx->STRING()) {
    t.name.text = decode_string(ctx->STRING()->getSymbol(), true);
    t.name.span = tok_span(ctx->STRING()->getSymbol());
    t.glob = true;
  }
  for (auto* item : ctx->tuneItem()) {
    if (!item) continue;
    Span span = ctx_span(item);
    if (auto* en = as<P::TuneEnabledContext>(item)) {
      bool v = en->boolLit() && en->boolLit()->getStart() && en->boolLit()->getStart()->getText() == "true";
      if (t.enabled) duplicate("enabled", span, t.enabled->span);
      else t.enabled = ast::Clause<bool>{v, span};
    } else if (auto* sv = as<P::TuneSeverityContext>(item)) {
      if (t.severity) duplicate("severity", span, t.severity->span);
      else t.severity = ast::Clause<ast::Ident>{sv->ident() ? ident(sv->ident()) : ast::Ident{}, span};
    } else if (auto* ex = as<P::TuneExceptContext>(item)) {
      t.exceptions.push_back(ast::ExprClause{expr(ex->expr()), span});
    }
  }
  return t;
}

ast::OverrideDecl AstBuilder::override_decl(P::OverrideDeclContext* ctx) {
  ast::OverrideDecl o;
  o.name = decl_name(ctx->declName());
  o.span = ctx_span(ctx);
  o.append = ctx->op && ctx->op->getText() == "+=";
  o.value = ctx->listLiteral() ? list_literal(ctx->listLiteral()) : placeholder(o.span);
  return o;
}

ast::MacroDecl AstBuilder::macro_decl(P::MacroDeclContext* ctx) {
  ast::MacroDecl m;
  m.name = decl_name(ctx->declName());
  m.span = ctx_span(ctx);
  for (auto* child : ctx->children) {
    auto* term = dynamic_cast<antlr4::tree::TerminalNode*>(child);
    if (term && term->getSymbol() && term->getSymbol()->getText() == "(") m.has_parens = true;
  }
  for (auto* id : ctx->ident()) m.params.push_back(ident(id));
  m.body = expr(ctx->expr());
  return m;
}

ast::RuleDecl AstBuilder::rule_decl(P::RuleDeclContext* ctx) {
  ast::RuleDecl r;
  r.name = decl_name(ctx->declName());
  r.span = ctx_span(ctx);
  for (auto* item : ctx->ruleItem()) {
    if (item) rule_item(r, item);
  }
  return r;
}

void AstBuilder::rule_item(ast::RuleDecl& r, P::RuleItemContext* item) {
  Span span = ctx_span(item);
  auto set_string = [&](std::optional<ast::Clause<ast::StringLit>>& slot, const char* what,
                        antlr4::tree::TerminalNode* n) {
    ast::Clause<ast::StringLit> cl{string_lit(n), span};
    if (slot) duplicate(what, span, slot->span);
    else slot = std::move(cl);
  };
  auto set_strings = [&](std::optional<ast::Clause<std::vector<ast::StringLit>>>& slot, const char* what,
                         const std::vector<antlr4::tree::TerminalNode*>& nodes) {
    ast::Clause<std::vector<ast::StringLit>> cl;
    for (auto* n : nodes) cl.value.push_back(string_lit(n));
    cl.span = span;
    if (slot) duplicate(what, span, slot->span);
    else slot = std::move(cl);
  };

  if (auto* t = as<P::RuleTitleContext>(item)) {
    set_string(r.title, "title", t->STRING());
  } else if (auto* de = as<P::RuleDescriptionContext>(item)) {
    set_string(r.description, "description", de->STRING());
  } else if (auto* au = as<P::RuleAuthorContext>(item)) {
    set_string(r.author, "author", au->STRING());
  } else if (auto* sv = as<P::RuleSeverityContext>(item)) {
    ast::SeverityClause cl;
    cl.value = ident(sv->ident());
    cl.span = span;
    if (r.severity) duplicate("severity", span, r.severity->span);
    else r.severity = std::move(cl);
  } else if (auto* sev = as<P::RuleSeverityCaseContext>(item)) {
    ast::SeverityClause cl;
    cl.computed = true;
    cl.span = span;
    for (auto* arm : sev->severityArm()) {
      if (!arm) continue;
      ast::SeverityArm a;
      a.span = ctx_span(arm);
      if (auto* w = as<P::SevWhenContext>(arm)) {
        a.level = ident(w->ident());
        a.when = expr(w->expr());
      } else if (auto* e = as<P::SevElseContext>(arm)) {
        a.level = ident(e->ident());
        if (cl.value.text.empty()) cl.value = a.level;
      }
      cl.arms.push_back(std::move(a));
    }
    if (r.severity) duplicate("severity", span, r.severity->span);
    else r.severity = std::move(cl);
  } else if (auto* at = as<P::RuleAttackContext>(item)) {
    ast::Clause<std::vector<ast::AttackId>> cl;
    cl.span = span;
    for (auto* a : at->attackId()) {
      if (!a) continue;
      ast::AttackId id;
      id.span = ctx_span(a);
      if (a->STRING()) {
        id.text = decode_string(a->STRING()->getSymbol(), true);
        id.quoted = true;
      } else {
        if (a->IDENT()) id.text = a->IDENT()->getText();
        if (a->INT()) id.text += "." + a->INT()->getText();
      }
      cl.value.push_back(std::move(id));
    }
    if (r.attack) duplicate("attack", span, r.attack->span);
    else r.attack = std::move(cl);
  } else if (auto* tg = as<P::RuleTagsContext>(item)) {
    set_strings(r.tags, "tags", tg->STRING());
  } else if (auto* rf = as<P::RuleReferencesContext>(item)) {
    set_strings(r.references, "references", rf->STRING());
  } else if (auto* fp = as<P::RuleFalsePositivesContext>(item)) {
    set_strings(r.false_positives, "false_positives", fp->STRING());
  } else if (auto* en = as<P::RuleEnabledContext>(item)) {
    bool v = en->boolLit() && en->boolLit()->getStart() && en->boolLit()->getStart()->getText() == "true";
    ast::Clause<bool> cl{v, span};
    if (r.enabled) duplicate("enabled", span, r.enabled->span);
    else r.enabled = std::move(cl);
  } else if (auto* od = as<P::RuleOrgDataContext>(item)) {
    ast::Clause<std::vector<ast::Name>> cl;
    cl.span = span;
    for (auto* n : od->declName()) {
      if (n) cl.value.push_back(decl_name(n));
    }
    if (r.org_data) duplicate("org_data", span, r.org_data->span);
    else r.org_data = std::move(cl);
  } else if (auto* so = as<P::RuleSourceContext>(item)) {
    ast::Clause<std::vector<ast::Name>> cl;
    cl.span = span;
    for (auto* n : so->declName()) {
      if (n) cl.value.push_back(decl_name(n));
    }
    if (r.sources) duplicate("source", span, r.sources->span);
    else r.sources = std::move(cl);
  } else if (auto* me = as<P::RuleMessageContext>(item)) {
    ast::MessageClause cl = message(me);
    if (r.message) duplicate("message", span, r.message->span);
    else r.message = std::move(cl);
  } else if (auto* su = as<P::RuleSuppressContext>(item)) {
    ast::SuppressClause cl;
    cl.window = duration(su->duration());
    for (auto* e : su->expr()) {
      if (e) cl.keys.push_back(expr(e));
    }
    cl.span = span;
    if (r.suppress) duplicate("suppress", span, r.suppress->span);
    else r.suppress = std::move(cl);
  } else if (auto* wh = as<P::RuleWhenContext>(item)) {
    ast::ExprClause cl{expr(wh->expr()), span};
    if (r.when) duplicate("when", span, r.when->span);
    else r.when = std::move(cl);
  } else if (auto* sc = as<P::RuleScopeContext>(item)) {
    ast::ScopeBlock b = scope_block(sc);
    if (r.scope_block && decl_has_syntax_errors_) {
      // recovery leftovers: keep the first block
    } else if (r.scope_block) {
      std::string what = scope_keyword(r.scope_block->scope);
      std::string now = scope_keyword(b.scope);
      Diagnostic& d = c_.diags.report(
          Code::BRD0008, span,
          what == now ? "`" + now + "` block is given twice"
                      : "a rule has one scope block, but `" + now + "` follows `" + what + "`");
      d.related.push_back(RelatedLocation{r.scope_block->span, "first `" + what + "` block is here"});
    } else {
      r.scope_block = std::move(b);
    }
  } else if (auto* te = as<P::RuleTestContext>(item)) {
    r.tests.push_back(test_case(te));
  }
}

ast::ScopeBlock AstBuilder::scope_block(P::RuleScopeContext* ctx) {
  ast::ScopeBlock b;
  b.span = ctx_span(ctx);
  if (auto* g = ctx->groupBy()) {
    b.scope = ast::Scope::Group;
    ast::GroupHead h;
    h.span = ctx_span(g);
    for (auto* e : g->expr()) {
      if (e) h.keys.push_back(expr(e));
    }
    if (g->window) h.window = duration(g->window);
    if (g->gap) h.gap = duration(g->gap);
    if (g->max) h.max = duration(g->max);
    b.group = std::move(h);
  } else {
    b.scope = ctx->scope && ctx->scope->getText() == "chain" ? ast::Scope::Chain : ast::Scope::Session;
  }
  for (auto* item : ctx->scopeItem()) {
    if (!item) continue;
    Span span = ctx_span(item);
    if (auto* st = as<P::ScopeStepContext>(item)) {
      b.steps.push_back(ast::Step{ident(st->ident()), expr(st->expr()), span});
    } else if (auto* wh = as<P::ScopeWhenContext>(item)) {
      ast::ExprClause cl{expr(wh->expr()), span};
      if (b.when) duplicate("when", span, b.when->span);
      else b.when = std::move(cl);
    }
  }
  return b;
}

ast::TestCase AstBuilder::test_case(P::RuleTestContext* ctx) {
  ast::TestCase t;
  t.name = string_lit(ctx->STRING());
  t.span = ctx_span(ctx);
  for (auto* item : ctx->testItem()) {
    if (!item) continue;
    Span span = ctx_span(item);
    if (auto* ev = as<P::TestEventsContext>(item)) {
      ast::TestEvents e;
      e.inline_events = json_array(ev->jsonArray());
      e.span = span;
      t.events.push_back(std::move(e));
    } else if (auto* ef = as<P::TestEventsFileContext>(item)) {
      ast::TestEvents e;
      e.file = string_lit(ef->STRING());
      e.span = span;
      t.events.push_back(std::move(e));
    } else {
      ast::TestExpect x;
      x.span = span;
      if (as<P::TestExpectNoneContext>(item)) {
        x.kind = ast::TestExpect::Kind::None;
      } else if (auto* ec = as<P::TestExpectCountContext>(item)) {
        x.kind = ast::TestExpect::Kind::Count;
        if (ec->INT()) parse_int(ec->INT()->getSymbol(), x.count);
      } else if (auto* ea = as<P::TestExpectAlertsContext>(item)) {
        x.kind = ast::TestExpect::Kind::Alerts;
        x.alerts = json_array(ea->jsonArray());
      } else {
        continue;
      }
      if (t.expect) duplicate("expect", span, t.expect->span);
      else t.expect = std::move(x);
    }
  }
  return t;
}

// Splits the raw text of the message string on `{...}` and parses each interpolation on its exact file span.
ast::MessageClause AstBuilder::message(P::RuleMessageContext* ctx) {
  ast::MessageClause m;
  m.span = ctx_span(ctx);
  m.raw = string_lit(ctx->STRING());
  if (!ctx->STRING()) return m;
  Span s = node_span(ctx->STRING());
  std::string_view raw = c_.sm.slice(s);
  if (raw.empty() || raw.front() != '"') return m;
  if (!is_terminated(raw)) {
    // Unterminated (reported already): keep the text, do not also complain about its braces.
    ast::TemplatePart p;
    p.literal = m.raw.value;
    m.parts.push_back(std::move(p));
    return m;
  }
  std::string_view body = raw.substr(1, raw.size() - 2);
  const uint32_t off = s.begin + 1;
  auto at = [&](size_t b, size_t e) {
    return Span{c_.file, off + static_cast<uint32_t>(b), off + static_cast<uint32_t>(e)};
  };
  auto add_literal = [&](size_t b, size_t e) {
    if (e <= b) return;
    std::string lit = unescape(body.substr(b, e - b), c_.file, off + static_cast<uint32_t>(b), nullptr);
    if (!m.parts.empty() && !m.parts.back().expr) {
      m.parts.back().literal += lit;
    } else {
      ast::TemplatePart p;
      p.literal = std::move(lit);
      m.parts.push_back(std::move(p));
    }
  };
  size_t lit_start = 0;
  size_t i = 0;
  while (i < body.size()) {
    char ch = body[i];
    if (ch == '\\') {
      i += 2;
      continue;
    }
    if (ch == '}') {
      c_.diags.report(Code::BRD0010, at(i, i + 1),
                      "unmatched `}` in message template (write `\\}` for a literal brace)");
      add_literal(lit_start, i);
      lit_start = ++i;
      continue;
    }
    if (ch != '{') {
      ++i;
      continue;
    }
    add_literal(lit_start, i);
    // Find the closing brace, skipping strings written with \" inside the interpolation.
    size_t j = i + 1;
    bool in_str = false;
    bool nested = false;
    int depth = 1;
    while (j < body.size()) {
      if (body[j] == '\\' && j + 1 < body.size()) {
        if (body[j + 1] == '"') in_str = !in_str;
        j += 2;
        continue;
      }
      if (!in_str && body[j] == '}' && --depth == 0) break;
      if (!in_str && body[j] == '{') nested = true, ++depth;
      ++j;
    }
    if (j >= body.size()) {
      c_.diags.report(Code::BRD0010, at(i, i + 1),
                      "`{` in message template is not closed by `}` (write `\\{` for a literal brace)");
      lit_start = i = body.size();
      break;
    }
    std::string_view inner = body.substr(i + 1, j - i - 1);
    if (inner.find_first_not_of(" \t") == std::string_view::npos) {
      c_.diags.report(Code::BRD0010, at(i, j + 1), "empty `{}` in message template: put an expression inside");
    } else if (nested) {
      c_.diags.report(Code::BRD0010, at(i, j + 1), "`{` inside an interpolation in message template");
    } else {
      // Unescape `\"` in place (same length) so that spans stay aligned with the file: an opening `\"` becomes
      // ` "` and a closing one `" `, so the string token's text is exactly the string.
      std::string text(inner);
      bool quoted = false;
      for (size_t k = 0; k + 1 < text.size(); ++k) {
        if (text[k] == '\\' && text[k + 1] == '"') {
          if (!quoted) text[k] = ' ';
          else text[k] = '"', text[k + 1] = ' ';
          quoted = !quoted;
          ++k;
        } else if (text[k] == '\\') {
          ++k;
        }
      }
      RunConfig cfg;
      cfg.syntax_code = Code::BRD0010;
      cfg.report_escapes = false;
      ast::ExprPtr e = parse_expression_text(c_.sm, text, at(i + 1, j), c_.diags, c_.opts, cfg);
      if (e) {
        ast::TemplatePart p;
        p.expr = std::move(e);
        m.parts.push_back(std::move(p));
      }
    }
    lit_start = i = j + 1;
  }
  add_literal(lit_start, std::min(i, body.size()));
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

ast::Json AstBuilder::json_value(P::JsonValueContext* ctx) {
  ast::Json j;
  if (!ctx) return j;
  j.span = ctx_span(ctx);
  if (ctx->jsonObject()) return json_object(ctx->jsonObject());
  if (ctx->jsonArray()) return json_array(ctx->jsonArray());
  if (ctx->STRING()) {
    j.kind = ast::Json::Kind::String;
    j.text = decode_string(ctx->STRING()->getSymbol(), true);
  } else if (ctx->jsonNumber()) {
    j.kind = ast::Json::Kind::Number;
    j.text = ctx->jsonNumber()->getText();
  } else if (ctx->getStart()) {
    std::string t = ctx->getStart()->getText();
    if (t == "true" || t == "false") {
      j.kind = ast::Json::Kind::Bool;
      j.bool_value = t == "true";
    }
  }
  return j;
}

ast::Json AstBuilder::json_array(P::JsonArrayContext* ctx) {
  ast::Json j;
  j.kind = ast::Json::Kind::Array;
  if (!ctx) return j;
  j.span = ctx_span(ctx);
  for (auto* v : ctx->jsonValue()) {
    if (v) j.items.push_back(json_value(v));
  }
  return j;
}

ast::Json AstBuilder::json_object(P::JsonObjectContext* ctx) {
  ast::Json j;
  j.kind = ast::Json::Kind::Object;
  if (!ctx) return j;
  j.span = ctx_span(ctx);
  for (auto* m : ctx->jsonMember()) {
    if (!m || !m->STRING()) continue;
    std::string key = decode_string(m->STRING()->getSymbol(), true);
    j.members.push_back(ast::JsonMember{std::move(key), json_value(m->jsonValue()), node_span(m->STRING())});
  }
  return j;
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions

namespace {

ast::ExprPtr make(ast::ExprKind kind, Span span) {
  auto e = std::make_unique<ast::Expr>();
  e->kind = kind;
  e->span = span;
  return e;
}

}  // namespace

ast::ExprPtr AstBuilder::placeholder(Span span) {
  auto e = make(ast::ExprKind::Literal, span);
  e->lit.kind = ast::LitKind::Null;
  e->lit.text = "null";
  return e;
}

ast::ExprPtr AstBuilder::expr(P::ExprContext* ctx) {
  ast::ExprPtr e = expr_or_null(ctx);
  if (!e) e = placeholder(ctx ? ctx_span(ctx) : Span{});
  return e;
}

ast::ExprPtr AstBuilder::expr_or_null(P::ExprContext* ctx) {
  if (!ctx) return nullptr;
  return or_expr(ctx->orExpr());
}

ast::ExprPtr AstBuilder::or_expr(P::OrExprContext* ctx) {
  if (!ctx) return nullptr;
  std::vector<ast::ExprPtr> parts;
  for (auto* a : ctx->andExpr()) {
    if (auto e = and_expr(a)) parts.push_back(std::move(e));
  }
  if (parts.empty()) return nullptr;
  if (parts.size() == 1) return std::move(parts[0]);
  auto e = make(ast::ExprKind::Or, ctx_span(ctx));
  e->children = std::move(parts);
  return e;
}

ast::ExprPtr AstBuilder::and_expr(P::AndExprContext* ctx) {
  if (!ctx) return nullptr;
  std::vector<ast::ExprPtr> parts;
  for (auto* a : ctx->notExpr()) {
    if (auto e = not_expr(a)) parts.push_back(std::move(e));
  }
  if (parts.empty()) return nullptr;
  if (parts.size() == 1) return std::move(parts[0]);
  auto e = make(ast::ExprKind::And, ctx_span(ctx));
  e->children = std::move(parts);
  return e;
}

ast::ExprPtr AstBuilder::not_expr(P::NotExprContext* ctx) {
  if (!ctx) return nullptr;
  if (auto* n = as<P::NotNotContext>(ctx)) {
    auto inner = not_expr(n->notExpr());
    if (!inner) return nullptr;
    auto e = make(ast::ExprKind::Not, ctx_span(ctx));
    e->children.push_back(std::move(inner));
    return e;
  }
  if (auto* s = as<P::NotSequenceContext>(ctx)) return sequence(s->sequence());
  if (auto* p = as<P::NotPredicateContext>(ctx)) return predicate(p->predicate());
  return nullptr;
}

ast::ExprPtr AstBuilder::sequence(P::SequenceContext* ctx) {
  if (!ctx) return nullptr;
  auto e = make(ast::ExprKind::Sequence, ctx_span(ctx));
  e->seq.push_back(ast::SeqItem{ident(ctx->ident()), false});
  for (auto* n : ctx->seqNext()) {
    if (n) e->seq.push_back(ast::SeqItem{ident(n->ident()), n->neg != nullptr});
  }
  if (ctx->duration()) e->within = duration(ctx->duration());
  return e;
}

ast::ExprPtr AstBuilder::predicate(P::PredicateContext* ctx) {
  if (!ctx) return nullptr;
  ast::ExprPtr lhs = additive(ctx->lhs);
  if (!lhs) return nullptr;
  Span span = ctx_span(ctx);
  auto binary = [&](ast::ExprKind kind, ast::ExprPtr rhs) {
    auto e = make(kind, span);
    e->children.push_back(std::move(lhs));
    if (!rhs) rhs = placeholder(Span{span.file, span.end, span.end});
    e->children.push_back(std::move(rhs));
    return e;
  };
  // `cased` contradicts a `~` on the same operator, and `in cidr` has no case to opt out of.
  auto cased = [&](ast::Expr& e) {
    if (!ctx->cased) return;
    e.cased = true;
    if (e.nocase || e.kind == ast::ExprKind::InCidr) {
      Diagnostic& d = c_.diags.report(
          c_.cfg.syntax_code, tok_span(ctx->cased),
          e.nocase ? "`cased` contradicts the `~` of this operator: `~` ignores case, `cased` compares exactly"
                   : "`cased` has no meaning for `in cidr`: addresses have no case");
      d.fix = FixIt{tok_span(ctx->cased), ""};
    }
  };
  if (auto* co = ctx->compareOp()) {
    std::string op = co->getText();
    ast::ExprPtr e = binary(ast::ExprKind::Compare, additive(ctx->rhs));
    if (op == "==" || op == "==~") e->op = ast::Op::Eq;
    else if (op == "!=" || op == "!=~") e->op = ast::Op::Ne;
    else if (op == "<") e->op = ast::Op::Lt;
    else if (op == "<=") e->op = ast::Op::Le;
    else if (op == ">") e->op = ast::Op::Gt;
    else if (op == ">=") e->op = ast::Op::Ge;
    e->nocase = op == "==~" || op == "!=~";
    cased(*e);
    return e;
  }
  if (auto* so = ctx->strOp()) {
    ast::ExprPtr rhs;
    bool any_of = false;
    if (auto* ar = ctx->anyOf) {
      any_of = true;
      if (ar->listLiteral()) rhs = list_literal(ar->listLiteral());
      else if (ar->name()) rhs = name_path(ar->name());
    } else {
      rhs = additive(ctx->rhs);
    }
    ast::ExprPtr e = binary(ast::ExprKind::StringOp, std::move(rhs));
    std::string op = so->op ? so->op->getText() : "";
    if (op == "contains") e->op = ast::Op::Contains;
    else if (op == "startswith") e->op = ast::Op::StartsWith;
    else if (op == "endswith") e->op = ast::Op::EndsWith;
    else if (op == "like") e->op = ast::Op::Like;
    else if (op == "matches") e->op = ast::Op::Matches;
    e->nocase = so->nocase != nullptr;
    e->any_of = any_of;
    cased(*e);
    return e;
  }
  if (auto* io = ctx->inOp()) {
    ast::ExprPtr rhs;
    ast::ExprKind kind = ast::ExprKind::In;
    auto* r = ctx->inRhs();
    if (auto* cidr = as<P::InCidrContext>(r)) {
      kind = ast::ExprKind::InCidr;
      if (cidr->STRING()) {
        rhs = make(ast::ExprKind::Literal, node_span(cidr->STRING()));
        rhs->lit.kind = ast::LitKind::String;
        rhs->lit.text = decode_string(cidr->STRING()->getSymbol(), true);
      } else if (cidr->listLiteral()) {
        rhs = list_literal(cidr->listLiteral());
      } else if (cidr->name()) {
        rhs = name_path(cidr->name());
      }
    } else if (auto* il = as<P::InListContext>(r)) {
      rhs = list_literal(il->listLiteral());
    } else if (auto* in = as<P::InNamedContext>(r)) {
      rhs = name_path(in->name());
    }
    ast::ExprPtr e = binary(kind, std::move(rhs));
    e->negated = ctx->negIn != nullptr;
    e->nocase = io->nocase != nullptr;
    cased(*e);
    return e;
  }
  // `is [not] null`: the only remaining form with tokens after the lhs.
  if (ctx->children.size() > 1) {
    auto e = make(ast::ExprKind::IsNull, span);
    e->children.push_back(std::move(lhs));
    e->negated = ctx->negIs != nullptr;
    return e;
  }
  return lhs;
}

ast::ExprPtr AstBuilder::additive(P::AdditiveContext* ctx) {
  if (!ctx) return nullptr;
  auto operands = ctx->multiplicative();
  ast::ExprPtr acc;
  for (size_t i = 0; i < operands.size(); ++i) {
    ast::ExprPtr rhs = multiplicative(operands[i]);
    if (!rhs) continue;
    if (!acc) {
      acc = std::move(rhs);
      continue;
    }
    auto e = make(ast::ExprKind::Binary, Span::cover(acc->span, rhs->span));
    e->op = (i - 1 < ctx->op.size() && ctx->op[i - 1] && ctx->op[i - 1]->getText() == "-") ? ast::Op::Sub
                                                                                            : ast::Op::Add;
    e->children.push_back(std::move(acc));
    e->children.push_back(std::move(rhs));
    acc = std::move(e);
  }
  return acc;
}

ast::ExprPtr AstBuilder::multiplicative(P::MultiplicativeContext* ctx) {
  if (!ctx) return nullptr;
  auto operands = ctx->unary();
  ast::ExprPtr acc;
  for (size_t i = 0; i < operands.size(); ++i) {
    ast::ExprPtr rhs = unary(operands[i]);
    if (!rhs) continue;
    if (!acc) {
      acc = std::move(rhs);
      continue;
    }
    auto e = make(ast::ExprKind::Binary, Span::cover(acc->span, rhs->span));
    std::string op = (i - 1 < ctx->op.size() && ctx->op[i - 1]) ? ctx->op[i - 1]->getText() : "*";
    e->op = op == "/" ? ast::Op::Div : op == "%" ? ast::Op::Mod : ast::Op::Mul;
    e->children.push_back(std::move(acc));
    e->children.push_back(std::move(rhs));
    acc = std::move(e);
  }
  return acc;
}

ast::ExprPtr AstBuilder::unary(P::UnaryContext* ctx) {
  if (!ctx) return nullptr;
  if (auto* m = as<P::UnaryMinusContext>(ctx)) {
    auto inner = unary(m->unary());
    if (!inner) return nullptr;
    auto e = make(ast::ExprKind::Unary, ctx_span(ctx));
    e->op = ast::Op::Neg;
    e->children.push_back(std::move(inner));
    return e;
  }
  if (auto* p = as<P::UnaryPostfixContext>(ctx)) return postfix(p->postfix());
  return nullptr;
}

ast::ExprPtr AstBuilder::postfix(P::PostfixContext* ctx) {
  if (!ctx) return nullptr;
  ast::ExprPtr base = primary(ctx->primary());
  if (!base) return nullptr;
  auto segs = ctx->pathSeg();
  if (segs.empty()) return base;
  ast::ExprPtr path;
  if (base->kind == ast::ExprKind::Path && base->children.empty() && !base->parenthesized) {
    path = std::move(base);
  } else {
    path = make(ast::ExprKind::Path, Span{});
    path->span = base->span;
    path->children.push_back(std::move(base));
  }
  for (auto* s : segs) {
    if (!s) continue;
    path->segs.push_back(path_seg(s));
  }
  path->span = Span::cover(path->span, ctx_span(ctx));
  return path;
}

ast::PathSeg AstBuilder::path_seg(P::PathSegContext* ctx) {
  ast::PathSeg s;
  s.span = ctx_span(ctx);
  if (auto* f = as<P::SegFieldContext>(ctx)) {
    s.kind = ast::PathSeg::Kind::Field;
    if (f->ident() && f->ident()->getStart()) s.name = f->ident()->getStart()->getText();
  } else if (auto* q = as<P::SegQuotedContext>(ctx)) {
    s.kind = ast::PathSeg::Kind::Field;
    s.quoted = true;
    if (q->STRING()) s.name = decode_string(q->STRING()->getSymbol(), true);
  } else if (auto* ix = as<P::SegIndexContext>(ctx)) {
    s.kind = ast::PathSeg::Kind::Index;
    if (ix->INT()) parse_int(ix->INT()->getSymbol(), s.index);
  } else {
    s.kind = ast::PathSeg::Kind::Any;
  }
  return s;
}

ast::ExprPtr AstBuilder::primary(P::PrimaryContext* ctx) {
  if (!ctx) return nullptr;
  if (auto* l = as<P::PrimLiteralContext>(ctx)) return literal(l->literal());
  if (auto* li = as<P::PrimListContext>(ctx)) return list_literal(li->listLiteral());
  if (auto* pa = as<P::PrimParenContext>(ctx)) {
    auto inner = expr_or_null(pa->expr());
    if (!inner) return nullptr;
    inner->parenthesized = true;
    inner->span = ctx_span(ctx);  // the parentheses included
    return inner;
  }
  if (auto* tu = as<P::PrimTupleContext>(ctx)) {
    auto e = make(ast::ExprKind::Tuple, ctx_span(ctx));
    for (auto* a : tu->expr()) {
      auto part = expr_or_null(a);
      if (!part) return nullptr;
      e->children.push_back(std::move(part));
    }
    return e;
  }
  if (auto* ca = as<P::PrimCallContext>(ctx)) {
    auto e = make(ast::ExprKind::Call, ctx_span(ctx));
    e->callee = name(ca->name());
    for (auto* a : ca->expr()) {
      if (a) e->children.push_back(expr(a));
    }
    return e;
  }
  if (auto* id = as<P::PrimIdentContext>(ctx)) {
    if (!id->ident()) return nullptr;
    ast::Ident i = ident(id->ident());
    auto e = make(ast::ExprKind::Path, i.span);
    e->head = std::move(i.text);
    e->head_span = i.span;
    return e;
  }
  return nullptr;
}

ast::ExprPtr AstBuilder::name_path(P::NameContext* ctx) {
  if (!ctx) return nullptr;
  ast::ExprPtr e;
  Span dot;
  for (auto* child : ctx->children) {
    if (auto* term = dynamic_cast<antlr4::tree::TerminalNode*>(child)) {
      dot = node_span(term);
      continue;
    }
    if (auto* id_ctx = dynamic_cast<P::IdentContext*>(child)) {
      ast::Ident id = ident(id_ctx);
      e = make(ast::ExprKind::Path, ctx_span(ctx));
      e->head = std::move(id.text);
      e->head_span = id.span;
      continue;
    }
    auto* seg = dynamic_cast<P::NameSegContext*>(child);
    if (!seg || !e) continue;
    ast::PathSeg s;  // like a `.name` segment after a primary, the span includes the dot
    s.kind = ast::PathSeg::Kind::Field;
    Span at = ctx_span(seg);
    if (seg->STRING()) {
      s.name = quoted_segment(seg->STRING());
      s.quoted = true;
    } else {
      s.name = ident(seg->ident()).text;
    }
    s.span = dot.valid() ? Span::cover(dot, at) : at;
    e->segs.push_back(std::move(s));
  }
  return e;
}

ast::ExprPtr AstBuilder::list_literal(P::ListLiteralContext* ctx) {
  if (!ctx) return nullptr;
  auto e = make(ast::ExprKind::List, ctx_span(ctx));
  for (auto* x : ctx->expr()) {
    if (x) e->children.push_back(expr(x));
  }
  return e;
}

ast::ExprPtr AstBuilder::literal(P::LiteralContext* ctx) {
  if (!ctx) return nullptr;
  auto e = make(ast::ExprKind::Literal, ctx_span(ctx));
  ast::Literal& l = e->lit;
  if (ctx->STRING()) {
    l.kind = ast::LitKind::String;
    l.text = decode_string(ctx->STRING()->getSymbol(), true);
  } else if (ctx->RAW_STRING()) {
    l.kind = ast::LitKind::RawString;
    std::string raw_text = ctx->RAW_STRING()->getText();
    std::string_view raw = raw_text;
    if (raw.size() >= 2) raw.remove_prefix(2);  // r"
    if (!raw.empty() && raw.back() == '"') raw.remove_suffix(1);
    l.text = std::string(raw);
  } else if (ctx->INT()) {
    l.kind = ast::LitKind::Int;
    l.text = ctx->INT()->getText();
    parse_int(ctx->INT()->getSymbol(), l.int_value);
  } else if (ctx->FLOAT()) {
    l.kind = ast::LitKind::Float;
    l.text = ctx->FLOAT()->getText();
    l.float_value = std::strtod(l.text.c_str(), nullptr);
    if (!std::isfinite(l.float_value)) {
      c_.diags.report(Code::BRD0009, e->span, "number `" + l.text + "` is out of range for a 64-bit float");
      l.float_value = 0;
    }
  } else if (ctx->duration()) {
    l.kind = ast::LitKind::Duration;
    ast::DurationLit d = duration(ctx->duration());
    l.text = d.text;
    l.int_value = d.nanos;
  } else if (ctx->boolLit()) {
    l.kind = ast::LitKind::Bool;
    l.text = ctx->boolLit()->getText();
    l.bool_value = l.text == "true";
  } else {
    l.kind = ast::LitKind::Null;
    l.text = "null";
  }
  return e;
}

}  // namespace braid::parser_detail
