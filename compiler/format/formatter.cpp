// The formatter: AST (+ comments + original text) -> Doc -> text. See formatter.h for the layout rules.
//
// Comments. The File keeps every comment with its span, in source order. The formatter builds its Doc in source
// order (clauses sorted by span), and at each node it first takes every comment that starts before the node
// (`leading`), so a comment always comes out next to the node that follows it. Comments that share a line with
// the code before them (`own_line == false`) are taken by `trailing` where a list or chain continues, so they stay
// at the end of that line. Whatever is left inside a block is taken before its closing brace, and whatever is left
// at the end of the file after the last declaration: no comment is ever dropped.
//
// A `//` comment ends with a "pending" line break: the next text starts a new line, and a following line break
// absorbs it. Comments make their enclosing groups break (a group with a `//` comment cannot be flat), and their
// width never counts when deciding whether a group fits, so comments cannot change the layout of the code around
// them. Both properties keep the formatter idempotent.
#include "format/formatter.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>
#include <variant>

#include "format/doc.h"
#include "text/json_write.h"

namespace braid {

// Braid string literals take JSON's escapes, so they are quoted by the one escaper (text/json_write.h).
std::string quote_string(std::string_view value) { return json_quote(value); }

namespace {

using format::Doc;
using format::concat;
using format::group;
using format::line;
using format::nest;
using format::softline;
using format::text;

// Collects the parts of a concatenation.
struct Parts {
  std::vector<Doc> v;
  Parts& operator<<(Doc d) {
    if (d) v.push_back(std::move(d));
    return *this;
  }
  Parts& operator<<(std::string s) { return *this << text(std::move(s)); }
  Parts& operator<<(const char* s) { return *this << text(s); }
  Doc doc() { return concat(std::move(v)); }
};

// Operator precedence, lowest first; an operand printed where a higher level is required gets parentheses.
enum Prec : int {
  kAny = 1,
  kOr = 1,
  kAnd = 2,
  kNot = 3,        // `not x`, sequences
  kPredicate = 4,  // comparisons, string operators, in, in cidr, is null
  kAdditive = 5,
  kMultiplicative = 6,
  kUnary = 7,
  kPostfix = 8,  // a call or parenthesised expression followed by path segments
  kPrimary = 9,
};

int prec_of(const ast::Expr& e) {
  using K = ast::ExprKind;
  switch (e.kind) {
    case K::Or: return kOr;
    case K::And: return kAnd;
    case K::Not:
    case K::Sequence: return kNot;
    case K::Compare:
    case K::StringOp:
    case K::In:
    case K::InCidr:
    case K::IsNull: return kPredicate;
    case K::Binary: return (e.op == ast::Op::Add || e.op == ast::Op::Sub) ? kAdditive : kMultiplicative;
    case K::Unary: return kUnary;
    case K::Path: return e.children.empty() ? kPrimary : kPostfix;
    case K::Literal:
    case K::List:
    case K::Tuple:
    case K::Call: return kPrimary;
  }
  return kPrimary;
}

const char* op_text(ast::Op op, bool nocase) {
  using O = ast::Op;
  switch (op) {
    case O::None: return "";
    case O::Neg: return "-";
    case O::Add: return "+";
    case O::Sub: return "-";
    case O::Mul: return "*";
    case O::Div: return "/";
    case O::Mod: return "%";
    case O::Eq: return nocase ? "==~" : "==";
    case O::Ne: return nocase ? "!=~" : "!=";
    case O::Lt: return "<";
    case O::Le: return "<=";
    case O::Gt: return ">";
    case O::Ge: return ">=";
    case O::Contains: return nocase ? "contains~" : "contains";
    case O::StartsWith: return nocase ? "startswith~" : "startswith";
    case O::EndsWith: return nocase ? "endswith~" : "endswith";
    case O::Like: return nocase ? "like~" : "like";
    case O::Matches: return nocase ? "matches~" : "matches";
  }
  return "";
}

// Removes trailing whitespace (and CR) from every line of `s`.
std::string rstrip_lines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n') {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t' || out.back() == '\r')) out.pop_back();
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t' || out.back() == '\r')) out.pop_back();
  return out;
}

class Formatter {
 public:
  Formatter(const ast::File& file, const SourceManager& sm, const FormatOptions& opts)
      : file_(file), indent_(opts.indent > 0 ? opts.indent : 2), width_(opts.width > 0 ? opts.width : 100) {
    if (file.file != kNoFile && file.file < sm.size()) src_ = sm.file(file.file).text();
  }

  std::string run() {
    std::vector<Item> items;
    for (const ast::Decl& d : file_.decls) {
      Span span = std::visit([](const auto& x) { return x.span; }, d);
      items.push_back({span, [this, &d] { return decl(d); }});
    }
    Doc body = block_body(std::move(items), UINT32_MAX, /*top_level=*/true);
    std::string out = format::render(body, width_);
    size_t start = out.find_first_not_of('\n');
    out.erase(0, start == std::string::npos ? out.size() : start);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (!out.empty()) out += '\n';
    return out;
  }

 private:
  struct Item {
    Span span;
    std::function<Doc()> build;
  };

  // ---------------------------------------------------------------------------------------------------------
  // Source text helpers

  std::string_view slice(const Span& s) const {
    if (!s.valid() || s.begin > s.end || s.end > src_.size()) return {};
    return src_.substr(s.begin, s.end - s.begin);
  }

  // The offset of the closing bracket `ch` of a node whose span ends with it, else the span's end.
  uint32_t close_of(const Span& s, char ch) const {
    if (s.valid() && s.end > 0 && s.end <= src_.size() && src_[s.end - 1] == ch) return s.end - 1;
    return s.end;
  }

  // Skips whitespace and comments from `pos`.
  uint32_t skip_trivia(uint32_t pos) const {
    auto n = static_cast<uint32_t>(src_.size());
    while (pos < n) {
      char c = src_[pos];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos;
      } else if (c == '/' && pos + 1 < n && src_[pos + 1] == '/') {
        while (pos < n && src_[pos] != '\n') ++pos;
      } else if (c == '/' && pos + 1 < n && src_[pos + 1] == '*') {
        size_t e = src_.find("*/", pos + 2);
        pos = e == std::string_view::npos ? n : static_cast<uint32_t>(e + 2);
      } else {
        break;
      }
    }
    return pos;
  }

  bool blank_line_between(uint32_t a, uint32_t b) const {
    if (a >= b || a >= src_.size()) return false;
    b = std::min<uint32_t>(b, static_cast<uint32_t>(src_.size()));
    return std::count(src_.begin() + a, src_.begin() + b, '\n') >= 2;
  }

  // Nothing but whitespace between `pos` and the end of its line.
  bool rest_of_line_blank(uint32_t pos) const {
    while (pos < src_.size() && (src_[pos] == ' ' || src_[pos] == '\t' || src_[pos] == '\r')) ++pos;
    return pos >= src_.size() || src_[pos] == '\n';
  }

  std::string dur(const ast::DurationLit& d) const {
    if (!d.text.empty()) return d.text;
    return std::string(slice(d.span));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Comments

  bool comment_before(uint32_t pos) const {
    return next_comment_ < file_.comments.size() && file_.comments[next_comment_].span.begin < pos;
  }

  Doc comment_doc(const ast::Comment& c) const {
    bool is_line = c.text.starts_with("//");
    std::string t = rstrip_lines(c.text);  // block comments are otherwise kept verbatim
    bool newline_after = is_line || rest_of_line_blank(c.span.end);
    Parts p;
    p << (c.own_line ? format::fresh_line() : format::soft_space(/*after_open_bracket=*/is_line));
    p << format::comment_text(std::move(t));
    p << (newline_after ? format::pending_newline() : text(" "));
    return p.doc();
  }

  // Every comment that starts before `pos`.
  Doc leading(uint32_t pos) {
    Parts p;
    while (comment_before(pos)) p << comment_doc(file_.comments[next_comment_++]);
    return p.doc();
  }

  // The comments before `pos` that share a line with the code before them.
  Doc trailing(uint32_t pos) {
    Parts p;
    while (comment_before(pos) && !file_.comments[next_comment_].own_line) {
      p << comment_doc(file_.comments[next_comment_++]);
    }
    return p.doc();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Blocks: one item per line, in source order, with the comments between them.

  Doc block_body(std::vector<Item> items, uint32_t close, bool top_level) {
    std::stable_sort(items.begin(), items.end(),
                     [](const Item& a, const Item& b) { return a.span.begin < b.span.begin; });
    Parts p;
    bool any = false;          // an item or own-line comment was printed in this block
    bool force_blank = false;  // top level: the next own-line thing follows a declaration
    bool inline_next = false;  // the last comment was an own-line block comment with code after it on its line
    uint32_t prev = 0;         // source end of the last thing printed

    auto new_line = [&](uint32_t begin) {
      p << format::fresh_line();
      if (any && (force_blank || blank_line_between(prev, begin))) p << format::hardline();
      force_blank = false;
    };
    auto comments_before = [&](uint32_t pos) {
      while (comment_before(pos)) {
        const ast::Comment& c = file_.comments[next_comment_++];
        if (c.own_line) {
          new_line(c.span.begin);
          any = true;
        }
        p << comment_doc(c);
        inline_next = c.own_line && !c.text.starts_with("//") && !rest_of_line_blank(c.span.end);
        prev = c.span.end;
      }
    };

    for (Item& item : items) {
      inline_next = false;
      comments_before(item.span.begin);
      if (!inline_next) new_line(item.span.begin);
      p << item.build();
      prev = std::max(prev, item.span.end);
      any = true;
      force_blank = top_level;
    }
    // Comments after the last declaration belong to no declaration: keep the author's blank line or its absence.
    force_blank = false;
    comments_before(close);
    return p.doc();
  }

  // `head{ items }` with the items one per line, or `head{}` when there is nothing inside.
  Doc braces(std::string head, std::vector<Item> items, const Span& span) {
    return braces(text(std::move(head)), std::move(items), span);
  }
  // A block whose head is a document (`group by a, b window 1h `), ending with the space before `{`.
  Doc braces(Doc head, std::vector<Item> items, const Span& span) {
    size_t before = next_comment_;
    bool empty = items.empty();
    Doc body = block_body(std::move(items), close_of(span, '}'), /*top_level=*/false);
    if (empty && next_comment_ == before) return concat({head, text("{}")});
    return concat({head, text("{"), nest(indent_, body), format::hardline(), text("}")});
  }

  // `group by K1, K2 window D ` or `group by K gap G max M `: the keys break like a `suppress ... by` list.
  Doc group_head(const ast::GroupHead& g) {
    Parts p;
    p << "group by "
      << comma_list(
             g.keys.size(), [&](size_t i) { return g.keys[i] ? g.keys[i]->span.begin : 0u; },
             [&](size_t i) { return expr(g.keys[i]); });
    if (g.window) p << " window " + dur(*g.window);
    else p << " gap " + (g.gap ? dur(*g.gap) : std::string()) + " max " + (g.max ? dur(*g.max) : std::string());
    p << " ";
    return p.doc();
  }

  // `open a, b, c close`: flat if it fits, else one element per line (with a trailing comma if allowed).
  Doc bracketed(std::string open, std::string close, size_t n, const std::function<uint32_t(size_t)>& begin_of,
                const std::function<Doc(size_t)>& build, uint32_t close_pos, bool spaced, bool trailing_comma,
                bool force_break) {
    auto brk = [spaced] { return spaced ? line() : softline(); };
    if (n == 0) {
      Doc inner = leading(close_pos);
      if (format::is_empty(inner)) return text(open + close);
      return group(concat({text(open), nest(indent_, inner), softline(), text(close)}));
    }
    Parts in;
    in << trailing(begin_of(0)) << brk();
    for (size_t i = 0; i < n; ++i) {
      in << leading(begin_of(i)) << build(i);
      if (i + 1 < n) {
        in << "," << trailing(begin_of(i + 1)) << line();
      } else {
        if (trailing_comma) in << format::if_break(text(","), text(""));
        in << trailing(close_pos);
      }
    }
    in << leading(close_pos);
    Parts out;
    out << open << nest(indent_, in.doc()) << brk() << close;
    if (force_break) out << format::break_parent();
    return group(out.doc());
  }

  // `a, b, c` after a clause keyword: flat if it fits, else continued on indented lines.
  Doc comma_list(size_t n, const std::function<uint32_t(size_t)>& begin_of, const std::function<Doc(size_t)>& build) {
    Parts in;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) in << "," << trailing(begin_of(i)) << line();
      in << leading(begin_of(i)) << build(i);
    }
    return group(nest(indent_, in.doc()));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Expressions

  // A clause's value (`when <expr>`, `step a = <expr>`, ...). Comments between the keyword and the value that end
  // their line put the value on the next line, indented under the clause rather than at the clause's column.
  Doc value(const ast::ExprPtr& e) {
    if (!e) return Doc();
    bool needs_line = false, own_line = false;
    Parts lead;
    while (comment_before(e->span.begin)) {
      const ast::Comment& c = file_.comments[next_comment_++];
      lead << comment_doc(c);
      needs_line = c.text.starts_with("//") || rest_of_line_blank(c.span.end);
      own_line = own_line || c.own_line;
    }
    Doc l = lead.doc();
    if (needs_line) l = concat({l, format::fresh_line()});
    if (needs_line || own_line) l = nest(indent_, l);
    return concat({l, expr(*e, kAny)});
  }

  Doc expr(const ast::ExprPtr& e, int min_prec = kAny) { return e ? expr(*e, min_prec) : Doc(); }

  Doc expr(const ast::Expr& e, int min_prec) {
    Doc lead = leading(e.span.begin);
    bool parens = e.parenthesized || prec_of(e) < min_prec;
    Doc body = expr_body(e);
    if (parens) {
      Parts p;
      p << "(" << body;
      if (e.parenthesized) p << leading(close_of(e.span, ')'));
      p << ")";
      body = p.doc();
    }
    return concat({lead, body});
  }

  std::string literal(const ast::Expr& e) const {
    const ast::Literal& l = e.lit;
    switch (l.kind) {
      case ast::LitKind::String: return quote_string(l.text);
      case ast::LitKind::RawString: return "r\"" + l.text + "\"";
      case ast::LitKind::Int:
      case ast::LitKind::Float:
      case ast::LitKind::Duration:
        if (!l.text.empty()) return l.text;
        return std::string(slice(e.span));
      case ast::LitKind::Bool: return l.bool_value ? "true" : "false";
      case ast::LitKind::Null: return "null";
    }
    return "null";
  }

  Doc expr_body(const ast::Expr& e) {
    using K = ast::ExprKind;
    switch (e.kind) {
      case K::Literal: return text(literal(e));
      case K::List:
        return bracketed(
            "[", "]", e.children.size(), [&](size_t i) { return e.children[i] ? e.children[i]->span.begin : 0u; },
            [&](size_t i) { return expr(e.children[i]); }, close_of(e.span, ']'), /*spaced=*/false,
            /*trailing_comma=*/true, /*force_break=*/false);
      case K::Path: {
        Parts p;
        if (!e.children.empty()) {
          p << expr(e.children[0], kPrimary);
        } else {
          p << e.head;
        }
        for (const ast::PathSeg& s : e.segs) {
          p << leading(s.span.begin);
          switch (s.kind) {
            case ast::PathSeg::Kind::Field: p << "." + (s.quoted ? quote_string(s.name) : s.name); break;
            case ast::PathSeg::Kind::Index: p << "[" + std::to_string(s.index) + "]"; break;
            case ast::PathSeg::Kind::Any: p << "[*]"; break;
          }
        }
        return p.doc();
      }
      case K::Tuple:
        return bracketed(
            "(", ")", e.children.size(), [&](size_t i) { return e.children[i] ? e.children[i]->span.begin : 0u; },
            [&](size_t i) { return expr(e.children[i]); }, close_of(e.span, ')'), /*spaced=*/false,
            /*trailing_comma=*/false, /*force_break=*/false);
      case K::Call:
        return bracketed(
            ast::name_spelling(e.callee.text) + "(", ")", e.children.size(),
            [&](size_t i) { return e.children[i] ? e.children[i]->span.begin : 0u; },
            [&](size_t i) { return expr(e.children[i]); }, close_of(e.span, ')'), /*spaced=*/false,
            /*trailing_comma=*/false, /*force_break=*/false);
      case K::Unary: {
        const ast::Expr* c = e.children.empty() ? nullptr : e.children[0].get();
        Doc operand = c ? expr(*c, kUnary) : Doc();
        // `- -x` rather than `--x`; `- -1` when the operand is a negative literal.
        bool space = c && !c->parenthesized &&
                     (c->kind == K::Unary || (c->kind == K::Literal && c->lit.text.starts_with("-")));
        return concat({text(space ? "- " : "-"), operand});
      }
      case K::Binary: {
        int lhs = prec_of(e);  // left-associative: the right operand binds tighter
        return binary(e, lhs, lhs + 1, op_text(e.op, false));
      }
      case K::Compare: return binary(e, kAdditive, kAdditive, std::string(op_text(e.op, e.nocase)) + (e.cased ? " cased" : ""));
      case K::StringOp: {
        std::string op = op_text(e.op, e.nocase);
        if (e.cased) op += " cased";
        if (e.any_of) op += " any";
        return binary(e, kAdditive, e.any_of ? kPrimary : kAdditive, op);
      }
      case K::In: {
        std::string op = e.negated ? "not in" : "in";
        if (e.nocase) op += "~";
        if (e.cased) op += " cased";
        return binary(e, kAdditive, kPrimary, op);
      }
      case K::InCidr: return binary(e, kAdditive, kPrimary, e.negated ? "not in cidr" : "in cidr");
      case K::IsNull: {
        Parts p;
        if (!e.children.empty()) p << expr(e.children[0], kAdditive);
        p << (e.negated ? " is not null" : " is null");
        return p.doc();
      }
      case K::Not: {
        Parts p;
        p << "not ";
        if (!e.children.empty()) p << expr(e.children[0], kNot);
        return p.doc();
      }
      case K::And: return chain(e, "and", kNot);
      case K::Or: return chain(e, "or", kAnd);
      case K::Sequence: {
        Parts p;
        for (size_t i = 0; i < e.seq.size(); ++i) {
          const ast::SeqItem& s = e.seq[i];
          if (i > 0) p << " -> ";
          p << leading(s.step.span.begin);
          if (s.absent) p << "not ";
          p << s.step.text;
        }
        if (e.within) p << " within " + dur(*e.within);
        return p.doc();
      }
    }
    return Doc();
  }

  Doc binary(const ast::Expr& e, int lhs_prec, int rhs_prec, const std::string& op) {
    Parts p;
    if (!e.children.empty()) p << expr(e.children[0], lhs_prec);
    p << " " + op + " ";
    if (e.children.size() > 1) p << expr(e.children[1], rhs_prec);
    return p.doc();
  }

  // `a and b and c`: flat if it fits, else broken before each operator with a continuation indent.
  Doc chain(const ast::Expr& e, const char* keyword, int operand_prec) {
    Parts p;
    for (size_t i = 0; i < e.children.size(); ++i) {
      if (!e.children[i]) continue;
      if (i > 0) {
        uint32_t b = e.children[i]->span.begin;
        p << trailing(b) << leading(b) << line() << std::string(keyword) + " ";
      }
      // Same-kind operands are flattened by the parser; one that is not must keep its grouping.
      int need = e.children[i]->kind == e.kind ? prec_of(e) + 1 : operand_prec;
      p << expr(*e.children[i], std::max(need, operand_prec));
    }
    return group(nest(indent_, p.doc()));
  }

  // ---------------------------------------------------------------------------------------------------------
  // JSON (test events and expected alerts)

  // A JSON value on one line, with canonical spacing.
  static void json_flat(const ast::Json& j, std::string& out) {
    using JK = ast::Json::Kind;
    switch (j.kind) {
      case JK::Null: out += "null"; return;
      case JK::Bool: out += j.bool_value ? "true" : "false"; return;
      case JK::Number: out += j.text; return;
      case JK::String: out += quote_string(j.text); return;
      case JK::Array:
        out += '[';
        for (size_t i = 0; i < j.items.size(); ++i) {
          if (i) out += ", ";
          json_flat(j.items[i], out);
        }
        out += ']';
        return;
      case JK::Object:
        out += '{';
        for (size_t i = 0; i < j.members.size(); ++i) {
          if (i) out += ", ";
          out += quote_string(j.members[i].first) + ": ";
          json_flat(j.members[i].second, out);
        }
        out += '}';
        return;
    }
  }

  // Whether the author wrote this JSON object on one line, with no comment inside: it is kept on one line, however
  // long, so a test with many compact events stays one event per line.
  bool compact_object(const ast::Json& j) const {
    if (j.kind != ast::Json::Kind::Object || j.members.empty() || !j.span.valid() || j.span.end > src_.size())
      return false;
    if (std::string_view(src_).substr(j.span.begin, j.span.end - j.span.begin).find('\n') != std::string_view::npos)
      return false;
    return !(next_comment_ < file_.comments.size() && file_.comments[next_comment_].span.begin < j.span.end);
  }

  Doc json(const ast::Json& j) {
    Doc lead = leading(j.span.begin);
    Doc body;
    using JK = ast::Json::Kind;
    if (compact_object(j)) {
      std::string flat;
      json_flat(j, flat);
      return concat({lead, text(std::move(flat))});
    }
    switch (j.kind) {
      case JK::Null: body = text("null"); break;
      case JK::Bool: body = text(j.bool_value ? "true" : "false"); break;
      case JK::Number: body = text(j.text); break;
      case JK::String: body = text(quote_string(j.text)); break;
      case JK::Array:
        body = bracketed(
            "[", "]", j.items.size(), [&](size_t i) { return j.items[i].span.begin; },
            [&](size_t i) { return json(j.items[i]); }, close_of(j.span, ']'), /*spaced=*/false,
            /*trailing_comma=*/false, /*force_break=*/false);
        break;
      case JK::Object: {
        // Members carry no span of their own: find each key in the text, so comments before it stay before it.
        std::vector<uint32_t> keys;
        uint32_t pos = j.span.begin + 1;
        for (const auto& m : j.members) {
          uint32_t k = skip_trivia(pos);
          keys.push_back(k < src_.size() && src_[k] == '"' && k <= m.second.span.begin ? k : m.second.span.begin);
          pos = skip_trivia(m.second.span.end);
          if (pos < src_.size() && src_[pos] == ',') ++pos;
        }
        body = bracketed(
            "{", "}", j.members.size(), [&](size_t i) { return keys[i]; },
            [&](size_t i) { return concat({text(quote_string(j.members[i].first) + ": "), json(j.members[i].second)}); },
            close_of(j.span, '}'), /*spaced=*/false, /*trailing_comma=*/false, /*force_break=*/false);
        break;
      }
    }
    return concat({lead, body});
  }

  // ---------------------------------------------------------------------------------------------------------
  // Types (source schemas)

  Doc type(const ast::TypeExpr& t, bool top) {
    Doc lead = leading(t.span.begin);
    Doc body;
    switch (t.kind) {
      case ast::TypeExpr::Kind::Named: body = text(t.name.text); break;
      case ast::TypeExpr::Kind::List:
        body = concat({text("["), t.elem ? type(*t.elem, false) : Doc(), leading(close_of(t.span, ']')), text("]")});
        break;
      case ast::TypeExpr::Kind::Record: body = record(t, top); break;
    }
    return concat({lead, body});
  }

  Doc record(const ast::TypeExpr& t, bool force_break) {
    size_t n = t.fields.size() + (t.open ? 1 : 0);
    uint32_t ellipsis = 0;
    if (t.open) {
      uint32_t pos = t.fields.empty() ? t.span.begin + 1 : t.fields.back().span.end;
      pos = skip_trivia(pos);
      if (!t.fields.empty() && pos < src_.size() && src_[pos] == ',') pos = skip_trivia(pos + 1);
      ellipsis = pos;
    }
    return bracketed(
        "{", "}", n, [&](size_t i) { return i < t.fields.size() ? t.fields[i].span.begin : ellipsis; },
        [&](size_t i) { return i < t.fields.size() ? field(t.fields[i]) : text("..."); }, close_of(t.span, '}'),
        /*spaced=*/true, /*trailing_comma=*/!t.fields.empty() && !t.open, force_break && !t.fields.empty());
  }

  Doc field(const ast::FieldDecl& f) {
    Parts p;
    p << (f.quoted ? quote_string(f.name) : f.name) + (f.optional ? "?: " : ": ");
    if (f.type) p << type(*f.type, false);
    if (f.nocase) p << " nocase";
    return p.doc();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Declarations

  Doc decl(const ast::Decl& d) {
    return std::visit([this](const auto& x) { return decl_of(x); }, d);
  }

  static Doc kw(const std::string& keyword, Doc value) { return concat({text(keyword + " "), std::move(value)}); }

  // `head keyword value` on one line if it fits, else `keyword value` on a continuation line. (Callers nest the
  // head's own value one level deeper, so its continuation lines stay distinguishable from `keyword value`.)
  // Comments between the head and the value stay before the keyword.
  Doc continued(Doc head, const char* keyword, const ast::ExprPtr& e) {
    Parts p;
    if (e) p << trailing(e->span.begin) << leading(e->span.begin);
    p << line() << kw(keyword, value(e));
    return group(concat({std::move(head), nest(indent_, p.doc())}));
  }

  Item expr_clause(const char* keyword, const ast::ExprClause& c) {
    return {c.span, [this, keyword, &c] { return kw(keyword, value(c.expr)); }};
  }

  Doc decl_of(const ast::SourceDecl& s) {
    std::vector<Item> items;
    if (s.recognize) items.push_back(expr_clause("recognize", *s.recognize));
    if (s.time) items.push_back(expr_clause("time", *s.time));
    if (s.id) items.push_back(expr_clause("id", *s.id));
    if (s.identity) items.push_back(expr_clause("identity", *s.identity));
    if (s.credential) items.push_back(expr_clause("credential", *s.credential));
    if (s.ip) items.push_back(expr_clause("ip", *s.ip));
    if (s.account) items.push_back(expr_clause("account", *s.account));
    if (s.session) {
      const ast::SessionClause& c = *s.session;
      items.push_back({c.span, [this, &c] { return text("session gap " + dur(c.gap) + " max " + dur(c.max)); }});
    }
    if (s.lateness) {
      const ast::LatenessClause& c = *s.lateness;
      items.push_back({c.span, [this, &c] { return text("lateness " + dur(c.lateness)); }});
    }
    for (const ast::MintsClause& c : s.mints) {
      items.push_back({c.span, [this, &c] {
                         Doc cred = kw("mints", nest(indent_, value(c.credential)));
                         if (!c.when) return cred;
                         return continued(std::move(cred), "when", c.when);
                       }});
    }
    for (const ast::LinkClause& c : s.links) {
      items.push_back({c.span, [this, &c] {
                         std::vector<Item> sides;
                         auto side = [this](const char* name, const ast::LinkSide& ls) {
                           return Item{ls.span, [this, name, &ls] {
                                         Doc when = kw(std::string(name) + " when", nest(indent_, value(ls.when)));
                                         return continued(std::move(when), "key", ls.key);
                                       }};
                         };
                         sides.push_back(side("parent", c.parent));
                         sides.push_back(side("child", c.child));
                         return braces("link " + ast::name_spelling(c.target.text) + " within " + dur(c.within) + " ", std::move(sides),
                                       c.span);
                       }});
    }
    if (s.fields) {
      const ast::FieldsClause& c = *s.fields;
      items.push_back({c.span, [this, &c] { return kw("fields", type(c.record, /*top=*/true)); }});
    }
    return braces("source " + ast::name_spelling(s.name.text) + " ", std::move(items), s.span);
  }

  Doc decl_of(const ast::ListDecl& l) {
    Doc d = kw("list " + ast::name_spelling(l.name.text) + " =", value(l.value));
    if (!l.org_data) return d;
    Parts p;
    p << std::move(d) << " org_data";
    return p.doc();
  }

  Doc decl_of(const ast::OverrideDecl& o) {
    return kw("override list " + ast::name_spelling(o.name.text) + (o.append ? " +=" : " ="), value(o.value));
  }

  Doc decl_of(const ast::TuneDecl& t) {
    std::vector<Item> items;
    if (t.enabled) {
      const auto& c = *t.enabled;
      items.push_back({c.span, [&c] { return text(c.value ? "enabled true" : "enabled false"); }});
    }
    if (t.severity) {
      const auto& c = *t.severity;
      items.push_back({c.span, [&c] { return text("severity " + c.value.text); }});
    }
    for (const ast::ExprClause& e : t.exceptions) items.push_back(expr_clause("except when", e));
    std::string target = t.glob ? quote_string(t.name.text) : ast::name_spelling(t.name.text);
    return braces("tune " + target + " ", std::move(items), t.span);
  }

  Doc decl_of(const ast::TypeDecl& t) { return kw("type " + ast::name_spelling(t.name.text) + " =", type(t.type, /*top=*/true)); }

  Doc decl_of(const ast::MacroDecl& m) {
    Parts p;
    p << "macro " + ast::name_spelling(m.name.text);
    if (m.has_parens || !m.params.empty()) {
      p << "(";
      for (size_t i = 0; i < m.params.size(); ++i) {
        if (i > 0) p << ", ";
        p << leading(m.params[i].span.begin) << m.params[i].text;
      }
      p << ")";
    }
    p << " = " << value(m.body);
    return p.doc();
  }

  template <typename T>
  Item strings_clause(const char* keyword, const ast::Clause<std::vector<T>>& c,
                      std::function<std::string(const T&)> spell) {
    return {c.span, [this, keyword, &c, spell] {
              const auto& v = c.value;
              return kw(keyword, comma_list(
                                     v.size(), [&](size_t i) { return v[i].span.begin; },
                                     [&](size_t i) { return text(spell(v[i])); }));
            }};
  }

  Doc decl_of(const ast::RuleDecl& r) {
    std::vector<Item> items;
    auto str = [](const char* keyword, const ast::Clause<ast::StringLit>& c) {
      return Item{c.span, [keyword, &c] { return text(std::string(keyword) + " " + quote_string(c.value.value)); }};
    };
    auto quoted = [](const ast::StringLit& s) { return quote_string(s.value); };
    if (r.title) items.push_back(str("title", *r.title));
    if (r.description) items.push_back(str("description", *r.description));
    if (r.author) items.push_back(str("author", *r.author));
    if (r.severity) {
      const auto& c = *r.severity;
      if (!c.computed) {
        items.push_back({c.span, [&c] { return text("severity " + c.value.text); }});
      } else {
        // One arm per line, in written order (the first that holds wins).
        items.push_back({c.span, [this, &c] {
                           std::vector<Item> arms;
                           for (const ast::SeverityArm& a : c.arms) {
                             arms.push_back({a.span, [this, &a] {
                                               if (!a.when) return text("else " + a.level.text);
                                               return kw(a.level.text + " when", value(a.when));
                                             }});
                           }
                           return braces("severity ", std::move(arms), c.span);
                         }});
      }
    }
    if (r.attack) {
      items.push_back(strings_clause<ast::AttackId>(
          "attack", *r.attack, [](const ast::AttackId& a) { return a.quoted ? quote_string(a.text) : a.text; }));
    }
    if (r.tags) items.push_back(strings_clause<ast::StringLit>("tags", *r.tags, quoted));
    if (r.references) items.push_back(strings_clause<ast::StringLit>("references", *r.references, quoted));
    if (r.false_positives) {
      items.push_back(strings_clause<ast::StringLit>("false_positives", *r.false_positives, quoted));
    }
    if (r.enabled) {
      const auto& c = *r.enabled;
      items.push_back({c.span, [&c] { return text(c.value ? "enabled true" : "enabled false"); }});
    }
    if (r.sources) {
      items.push_back(
          strings_clause<ast::Name>("source", *r.sources, [](const ast::Name& n) { return ast::name_spelling(n.text); }));
    }
    if (r.org_data) {
      items.push_back(strings_clause<ast::Name>("org_data", *r.org_data,
                                                [](const ast::Name& n) { return ast::name_spelling(n.text); }));
    }
    if (r.message) {
      const ast::MessageClause& c = *r.message;
      items.push_back({c.span, [this, &c] {
                         // Templates are printed exactly as written, so interpolations are untouched.
                         std::string_view raw = slice(c.raw.span);
                         bool ok = raw.size() >= 2 && raw.front() == '"' && raw.back() == '"';
                         return text("message " + (ok ? std::string(raw) : quote_string(c.raw.value)));
                       }});
    }
    if (r.suppress) {
      const ast::SuppressClause& c = *r.suppress;
      items.push_back({c.span, [this, &c] {
                         Parts p;
                         p << "suppress " + dur(c.window);
                         if (!c.keys.empty()) {
                           p << " by "
                             << comma_list(
                                    c.keys.size(), [&](size_t i) { return c.keys[i] ? c.keys[i]->span.begin : 0u; },
                                    [&](size_t i) { return expr(c.keys[i]); });
                         }
                         return p.doc();
                       }});
    }
    if (r.when) items.push_back(expr_clause("when", *r.when));
    if (r.scope_block) {
      const ast::ScopeBlock& b = *r.scope_block;
      items.push_back({b.span, [this, &b] {
                         std::vector<Item> inner;
                         for (const ast::Step& s : b.steps) {
                           inner.push_back({s.span, [this, &s] {
                                              return kw("step " + s.label.text + " =", value(s.pred));
                                            }});
                         }
                         if (b.when) inner.push_back(expr_clause("when", *b.when));
                         switch (b.scope) {
                           case ast::Scope::Event:  // not a block; parsed blocks are never Event
                           case ast::Scope::Session: return braces("session ", std::move(inner), b.span);
                           case ast::Scope::Chain: return braces("chain ", std::move(inner), b.span);
                           case ast::Scope::Group:
                             if (!b.group) return braces("group ", std::move(inner), b.span);
                             return braces(group_head(*b.group), std::move(inner), b.span);
                         }
                         return braces("session ", std::move(inner), b.span);
                       }});
    }
    for (const ast::TestCase& t : r.tests) {
      items.push_back({t.span, [this, &t] {
                         std::vector<Item> inner;
                         for (const ast::TestEvents& ev : t.events) {
                           inner.push_back({ev.span, [this, &ev] {
                                              if (ev.inline_events) return kw("events", json(*ev.inline_events));
                                              return text("events file " +
                                                          quote_string(ev.file ? ev.file->value : std::string()));
                                            }});
                         }
                         if (t.expect) {
                           const ast::TestExpect& x = *t.expect;
                           inner.push_back({x.span, [this, &x] {
                                              switch (x.kind) {
                                                case ast::TestExpect::Kind::None: return text("expect none");
                                                case ast::TestExpect::Kind::Count:
                                                  return text("expect " + std::to_string(x.count));
                                                case ast::TestExpect::Kind::Alerts: break;
                                              }
                                              return kw("expect", json(x.alerts));
                                            }});
                         }
                         return braces("test " + quote_string(t.name.value) + " ", std::move(inner), t.span);
                       }});
    }
    return braces("rule " + ast::name_spelling(r.name.text) + " ", std::move(items), r.span);
  }

  const ast::File& file_;
  std::string_view src_;
  int indent_;
  int width_;
  size_t next_comment_ = 0;
};

}  // namespace

std::string format_file(const ast::File& file, const SourceManager& sm, const FormatOptions& opts) {
  return Formatter(file, sm, opts).run();
}

}  // namespace braid
