#include "ast/ast.h"

#include "text/json_write.h"

namespace braid::ast {

std::string Expr::dotted() const {
  if (kind != ExprKind::Path || !children.empty() || head.empty()) return {};
  std::string out = head;
  for (const PathSeg& s : segs) {
    if (s.kind != PathSeg::Kind::Field) return {};
    out += '.';
    out += s.name;
  }
  return out;
}

bool is_reserved_word(std::string_view s) {
  return s == "and" || s == "or" || s == "not" || s == "in" || s == "is" || s == "true" || s == "false" ||
         s == "null";
}

bool is_plain_segment(std::string_view s) {
  if (s.empty() || is_reserved_word(s)) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(s[0])) return false;
  for (char c : s) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string invalid_segment_reason(std::string_view s) {
  if (s.empty()) return "a name segment cannot be empty";
  if (s.size() > 128) return "a name segment is at most 128 characters";
  for (char c : s) {
    if (c == '.') return "a quoted name segment cannot contain `.`: dots separate the segments (`a.\"b\".c`)";
    if (c == ' ') return "a name segment cannot contain spaces";
    if (c == '"' || c == '\\' || c == '`') return std::string("a name segment cannot contain `") + c + "`";
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E)
      return "a name segment is printable ASCII (letters, digits and punctuation such as `-`, `:` or `/`)";
  }
  return {};
}

std::string name_spelling(std::string_view dotted) {
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t dot = dotted.find('.', start);
    std::string_view seg = dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    // The first segment is always an identifier (the grammar requires it), so it is never quoted.
    if (start == 0 || is_plain_segment(seg)) {
      out += seg;
    } else {
      out += '"';
      out += seg;  // invalid_segment_reason() keeps `"` and `\` out of names: nothing to escape
      out += '"';
    }
    if (dot == std::string_view::npos) break;
    out += '.';
    start = dot + 1;
  }
  return out;
}

namespace {

void quote(std::string& out, const std::string& s) { append_json_quoted(out, s); }

const char* op_name(Op op) {
  switch (op) {
    case Op::None: return "?";
    case Op::Neg: return "neg";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::Mod: return "%";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Contains: return "contains";
    case Op::StartsWith: return "startswith";
    case Op::EndsWith: return "endswith";
    case Op::Like: return "like";
    case Op::Matches: return "matches";
  }
  return "?";
}

void segs(std::string& out, const std::vector<PathSeg>& ss) {
  for (const PathSeg& s : ss) {
    switch (s.kind) {
      case PathSeg::Kind::Field:
        out += '.';
        if (s.quoted) quote(out, s.name);
        else out += s.name;
        break;
      case PathSeg::Kind::Index:
        out += '[' + std::to_string(s.index) + ']';
        break;
      case PathSeg::Kind::Any:
        out += "[*]";
        break;
    }
  }
}

void dump_to(std::string& out, const Expr& e);

void children(std::string& out, const Expr& e, size_t from = 0) {
  for (size_t i = from; i < e.children.size(); ++i) {
    out += ' ';
    if (e.children[i]) dump_to(out, *e.children[i]);
    else out += "<null>";
  }
}

void dump_to(std::string& out, const Expr& e) {
  switch (e.kind) {
    case ExprKind::Literal:
      switch (e.lit.kind) {
        case LitKind::String: quote(out, e.lit.text); break;
        case LitKind::RawString: out += 'r'; quote(out, e.lit.text); break;
        case LitKind::Int:
        case LitKind::Float:
        case LitKind::Duration: out += e.lit.text; break;
        case LitKind::Bool: out += e.lit.bool_value ? "true" : "false"; break;
        case LitKind::Null: out += "null"; break;
      }
      return;
    case ExprKind::List:
      out += "(list";
      children(out, e);
      out += ')';
      return;
    case ExprKind::Path:
      if (!e.children.empty() && e.children[0]) {
        out += "(path ";
        dump_to(out, *e.children[0]);
        out += ' ';
        segs(out, e.segs);
        out += ')';
      } else {
        out += e.head;
        segs(out, e.segs);
      }
      return;
    case ExprKind::Call:
      out += "(call " + e.callee.text;
      children(out, e);
      out += ')';
      return;
    case ExprKind::Unary:
    case ExprKind::Binary:
      out += '(';
      out += op_name(e.op);
      children(out, e);
      out += ')';
      return;
    case ExprKind::Compare:
    case ExprKind::StringOp:
      out += '(';
      out += op_name(e.op);
      if (e.nocase) out += '~';
      if (e.cased) out += "-cased";
      if (e.kind == ExprKind::StringOp && e.any_of && e.children.size() == 2 && e.children[1]) {
        out += ' ';
        if (e.children[0]) dump_to(out, *e.children[0]);
        else out += "<null>";
        out += " (any ";
        dump_to(out, *e.children[1]);
        out += ')';
      } else {
        children(out, e);
      }
      out += ')';
      return;
    case ExprKind::In:
      out += e.negated ? "(not-in" : "(in";
      if (e.nocase) out += '~';
      if (e.cased) out += "-cased";
      children(out, e);
      out += ')';
      return;
    case ExprKind::InCidr:
      out += e.negated ? "(not-in-cidr" : "(in-cidr";
      children(out, e);
      out += ')';
      return;
    case ExprKind::IsNull:
      out += e.negated ? "(is-not-null" : "(is-null";
      children(out, e);
      out += ')';
      return;
    case ExprKind::Not:
      out += "(not";
      children(out, e);
      out += ')';
      return;
    case ExprKind::And:
      out += "(and";
      children(out, e);
      out += ')';
      return;
    case ExprKind::Or:
      out += "(or";
      children(out, e);
      out += ')';
      return;
    case ExprKind::Tuple:
      out += "(tuple";
      children(out, e);
      out += ')';
      return;
    case ExprKind::Sequence:
      out += "(seq";
      for (const SeqItem& s : e.seq) {
        out += ' ';
        if (s.absent) out += "(absent " + s.step.text + ")";
        else out += s.step.text;
      }
      if (e.within) out += " (within " + e.within->text + ")";
      out += ')';
      return;
  }
}

}  // namespace

std::string dump(const Expr& e) {
  std::string out;
  dump_to(out, e);
  return out;
}

}  // namespace braid::ast
