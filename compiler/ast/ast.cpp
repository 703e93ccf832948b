#include "ast/ast.h"

#include <cstdio>

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

namespace {

void quote(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

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
