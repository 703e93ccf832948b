// Expressions: conditions, literals, arithmetic, comparisons, string operators, `in`, tuples, `in cidr`.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

#include <bit>

namespace braid::check_internal {

// ---------------------------------------------------------------------------------------------------------------
// Expressions

Val Checker::cond(const ast::Expr& e, Ctx& c, const char* what, Code not_bool) {
  size_t mark = c.pending.size();
  bool saved = c.list_mode;
  c.list_mode = false;
  Val v = expr(e, c);
  c.list_mode = saved;
  v = close_any(c, mark, v, e.span);
  if (!v.ok()) return v;
  if (v.type.kind != Kind::Bool && v.type.kind != Kind::Object) {
    err(not_bool, e.span, std::string(what) + " must be a `bool`, but this is " + tn(v.type), &c);
    return Val{};
  }
  v.type = T(Kind::Bool);
  return v;
}

Val Checker::value_top(const ast::Expr& e, Ctx& c) {
  size_t mark = c.pending.size();
  bool saved = c.list_mode;
  c.list_mode = true;
  Val v = expr(e, c);
  c.list_mode = saved;
  if (c.pending.size() > mark) {
    c.pending.resize(mark);
    err(Code::BRD0215, e.span,
        "`[*]` can only be used in a condition, or alone as a value (which gives the list of all values)", &c);
    return Val{};
  }
  return v;
}

Val Checker::expr(const ast::Expr& e, Ctx& c) {
  // Only a bare path at the top of a value context loads a [*] path as a list; anything below is per element.
  bool lm = c.list_mode;
  if (e.kind != ast::ExprKind::Path) c.list_mode = false;
  Val v;
  switch (e.kind) {
    case ast::ExprKind::Literal: v = literal(e, c); break;
    case ast::ExprKind::List: {
      auto lv = list_of(e, c);
      if (lv && lv->ok && lv->arity > 0) {
        err(Code::BRD0417, e.span, "a list of tuples is not a value: use it on the right of `in` or `like any`", &c);
      } else if (lv && lv->ok) {
        ir::ConstSet s = const_set(*lv);
        auto id = P.intern_set(std::move(s));
        v.type = Type::list(lv->elem);
        v.node = mk_node(c, Op::Set, v.type, e.span, {}, id);
      }
      break;
    }
    case ast::ExprKind::Path: v = path(e, c); break;
    case ast::ExprKind::Call: v = call(e, nullptr, c); break;
    case ast::ExprKind::Unary:
    case ast::ExprKind::Binary: v = arith(e, c); break;
    case ast::ExprKind::Compare: v = compare(e, c); break;
    case ast::ExprKind::StringOp: v = strop(e, c); break;
    case ast::ExprKind::In: v = in(e, c); break;
    case ast::ExprKind::InCidr: v = in_cidr(e, c); break;
    case ast::ExprKind::IsNull: {
      size_t mark = c.pending.size();
      Val x = e.children.empty() ? Val{} : expr(*e.children[0], c);
      if (x.ok()) {
        Val r;
        r.type = T(Kind::Bool);
        r.node = mk_node(c, Op::Exists, r.type, e.span, {x.node});
        r = close_any(c, mark, r, e.span);
        v = e.negated ? r : wrap_not(c, r, e.span, true);
      } else {
        close_any(c, mark, Val{}, e.span);
      }
      break;
    }
    case ast::ExprKind::Not: {
      Val x = e.children.empty() ? Val{} : cond(*e.children[0], c, "the operand of `not`");
      v = wrap_not(c, x, e.span, false);
      break;
    }
    case ast::ExprKind::And:
    case ast::ExprKind::Or: {
      std::vector<NodeId> ops;
      bool ok = true;
      for (const auto& ch : e.children) {
        Val x = cond(*ch, c, e.kind == ast::ExprKind::And ? "an operand of `and`" : "an operand of `or`");
        if (!x.ok()) ok = false;
        else ops.push_back(x.node);
      }
      if (ok && !ops.empty()) {
        v.type = T(Kind::Bool);
        v.node = mk_node_v(c, e.kind == ast::ExprKind::And ? Op::And : Op::Or, v.type, e.span, ops);
      }
      break;
    }
    case ast::ExprKind::Sequence: v = sequence(e, c); break;
    case ast::ExprKind::Tuple:
      err(Code::BRD0417, e.span,
          "a tuple can only be a list element or the left side of `in` or `like any` with a list of tuples", &c);
      break;
  }
  c.list_mode = lm;
  return v;
}

Val Checker::literal(const ast::Expr& e, Ctx& c) {
  Val v;
  switch (e.lit.kind) {
    case ast::LitKind::String:
    case ast::LitKind::RawString:
      v.type = T(Kind::String);
      v.node = mk_node(c, Op::String, v.type, e.span, {}, P.intern_string(e.lit.text));
      break;
    case ast::LitKind::Int:
      v.type = T(Kind::Int);
      v.node = mk_node(c, Op::Int, v.type, e.span, {}, e.lit.int_value);
      break;
    case ast::LitKind::Float:
      v.type = T(Kind::Float);
      v.node = mk_node(c, Op::Float, v.type, e.span, {}, std::bit_cast<int64_t>(e.lit.float_value));
      break;
    case ast::LitKind::Duration:
      v.type = T(Kind::Duration);
      v.node = mk_node(c, Op::Duration, v.type, e.span, {}, e.lit.int_value);
      break;
    case ast::LitKind::Bool:
      v.type = T(Kind::Bool);
      v.node = mk_node(c, Op::Bool, v.type, e.span, {}, e.lit.bool_value ? 1 : 0);
      break;
    case ast::LitKind::Null:
      v.type = T(Kind::Null);
      v.node = mk_node(c, Op::Null, v.type, e.span);
      break;
  }
  return v;
}

Val Checker::arith(const ast::Expr& e, Ctx& c) {
  if (e.kind == ast::ExprKind::Unary) {
    if (e.children.empty()) return Val{};
    Val x = expr(*e.children[0], c);
    if (!x.ok()) return x;
    if (!(x.type.is_numeric() || x.type.kind == Kind::Duration || x.type.kind == Kind::Object)) {
      err(Code::BRD0205, e.span, "cannot negate " + tn(x.type), &c);
      return Val{};
    }
    Val r;
    r.type = x.type;
    r.node = mk_node(c, Op::Neg, r.type, e.span, {x.node});
    return r;
  }
  if (e.children.size() != 2) return Val{};
  Val a = expr(*e.children[0], c);
  Val b = expr(*e.children[1], c);
  if (!a.ok() || !b.ok()) return Val{};
  Op op = Op::Add;
  const char* sym = "+";
  switch (e.op) {
    case ast::Op::Add: op = Op::Add, sym = "+"; break;
    case ast::Op::Sub: op = Op::Sub, sym = "-"; break;
    case ast::Op::Mul: op = Op::Mul, sym = "*"; break;
    case ast::Op::Div: op = Op::Div, sym = "/"; break;
    case ast::Op::Mod: op = Op::Mod, sym = "%"; break;
    default: break;
  }
  Kind ka = a.type.kind, kb = b.type.kind;
  // `+` with a string (or ip) on either side and a string, ip or object on the other: concatenation, null when
  // either operand is null or not a string at run time. Two `object` operands stay arithmetic (as before).
  if (op == Op::Add && (ka == Kind::String || ka == Kind::Ip || kb == Kind::String || kb == Kind::Ip)) {
    if (!stringish(ka) || !stringish(kb)) {
      auto d = mk(Code::BRD0205, e.span, "cannot apply `+` to " + tn(a.type) + " and " + tn(b.type));
      d.help = "`+` joins two strings; a number or time cannot be joined to a string";
      emit(std::move(d), &c);
      return Val{};
    }
    Val r;
    r.type = T(Kind::String);
    r.node = mk_node(c, Op::Concat, r.type, e.span, {a.node, b.node});
    return r;
  }
  Type t = kErr;
  auto num = [](Kind k) { return k == Kind::Int || k == Kind::Float; };
  if (ka == Kind::Object || kb == Kind::Object) {
    Kind other = ka == Kind::Object ? kb : ka;
    if (other == Kind::Object || num(other) || other == Kind::Time || other == Kind::Duration) t = T(Kind::Object);
  } else if (num(ka) && num(kb)) {
    if (op == Op::Mod && (ka != Kind::Int || kb != Kind::Int)) t = kErr;
    else t = T(ka == Kind::Float || kb == Kind::Float ? Kind::Float : Kind::Int);
  } else if (op == Op::Add) {
    if ((ka == Kind::Time && kb == Kind::Duration) || (ka == Kind::Duration && kb == Kind::Time)) t = T(Kind::Time);
    else if (ka == Kind::Duration && kb == Kind::Duration) t = T(Kind::Duration);
  } else if (op == Op::Sub) {
    if (ka == Kind::Time && kb == Kind::Time) t = T(Kind::Duration);
    else if (ka == Kind::Time && kb == Kind::Duration) t = T(Kind::Time);
    else if (ka == Kind::Duration && kb == Kind::Duration) t = T(Kind::Duration);
  } else if (op == Op::Mul) {
    if ((ka == Kind::Duration && kb == Kind::Int) || (ka == Kind::Int && kb == Kind::Duration)) t = T(Kind::Duration);
  } else if (op == Op::Div) {
    if (ka == Kind::Duration && kb == Kind::Int) t = T(Kind::Duration);
    else if (ka == Kind::Duration && kb == Kind::Duration) t = T(Kind::Int);
  }
  if (t.kind == Kind::Error) {
    err(Code::BRD0205, e.span, std::string("cannot apply `") + sym + "` to " + tn(a.type) + " and " + tn(b.type), &c);
    return Val{};
  }
  if (t.kind == Kind::Float) {
    if (ka == Kind::Int) a.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[0]->span, {a.node});
    if (kb == Kind::Int) b.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[1]->span, {b.node});
  }
  Val r;
  r.type = t;
  r.node = mk_node(c, op, t, e.span, {a.node, b.node});
  return r;
}

namespace {
uint8_t operand_flags(const Val& a, const Val& b) {
  uint8_t f = 0;
  if ((a.field && a.optional) || (b.field && b.optional)) f |= ir::kFlagOptionalOperand;
  if ((a.field && a.nocase_field) || (b.field && b.nocase_field)) f |= ir::kFlagNocaseField;
  return f;
}
// `op cased`: the schema's `nocase` does not apply to this comparison (both engines read only the case flags).
uint8_t cased_flags(const ast::Expr& e, uint8_t f) {
  if (!e.cased) return f;
  return static_cast<uint8_t>((f & ~ir::kFlagNocaseField) | ir::kFlagCased);
}
}  // namespace

Val Checker::compare(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  const char* sym = "==";
  Op op = Op::Eq;
  bool neg = false;
  switch (e.op) {
    case ast::Op::Eq: sym = e.nocase ? "==~" : "=="; break;
    case ast::Op::Ne: sym = e.nocase ? "!=~" : "!=", neg = true; break;
    case ast::Op::Lt: sym = "<", op = Op::Lt; break;
    case ast::Op::Le: sym = "<=", op = Op::Le; break;
    case ast::Op::Gt: sym = ">", op = Op::Gt; break;
    case ast::Op::Ge: sym = ">=", op = Op::Ge; break;
    default: break;
  }
  // `x == null`
  for (int side = 0; side < 2; ++side) {
    const Env* env = c.env;
    const ast::Expr* x = deparam(e.children[static_cast<size_t>(side)].get(), env);
    if (x && x->kind == ast::ExprKind::Literal && x->lit.kind == ast::LitKind::Null) {
      auto d = mk(Code::BRD0202, e.span,
                  std::string("comparison with `null` is always false; use `is null` or `is not null`"));
      if (op == Op::Eq && !(c.env && c.env->macro)) {
        const ast::Expr& other = *e.children[static_cast<size_t>(1 - side)];
        std::string text(sm_.slice(other.span));
        d.fix = FixIt{e.span, text + (neg ? " is not null" : " is null")};
        d.help = std::string("write `") + text + (neg ? " is not null`" : " is null`");
      }
      emit(std::move(d), &c);
      return Val{};
    }
  }
  size_t mark = c.pending.size();
  Val a = expr(*e.children[0], c);
  Val b = expr(*e.children[1], c);
  if (!a.ok() || !b.ok()) return close_any(c, mark, Val{}, e.span);
  Kind ka = a.type.kind, kb = b.type.kind;
  bool ordered = op != Op::Eq;
  bool ok = false;
  if (e.nocase) {
    ok = stringish(ka) && stringish(kb);
    if (!ok) {
      err(Code::BRD0205, e.span,
          std::string("`") + sym + "` compares strings, but the operands are " + tn(a.type) + " and " + tn(b.type), &c);
      return close_any(c, mark, Val{}, e.span);
    }
  } else if (ka == Kind::List || kb == Kind::List) {
    ok = false;
  } else if (ka == Kind::Object || kb == Kind::Object) {
    ok = ka != Kind::Null && kb != Kind::Null;
  } else if (a.type.is_numeric() && b.type.is_numeric()) {
    ok = true;
  } else if ((ka == Kind::String || ka == Kind::Ip) && (kb == Kind::String || kb == Kind::Ip)) {
    ok = !ordered || (ka == Kind::String && kb == Kind::String);
  } else if (ka == kb) {
    ok = ka == Kind::Time || ka == Kind::Duration || (!ordered && (ka == Kind::Bool || ka == Kind::Cidr));
  }
  if (!ok) {
    std::string msg = "cannot compare " + tn(a.type) + " with " + tn(b.type);
    if (ka == kb) msg = "values of type " + tn(a.type) + " cannot be ordered with `" + sym + "`";
    if (ka == Kind::List || kb == Kind::List) msg += "; to test membership use `in`";
    err(Code::BRD0201, e.span, msg, &c);
    return close_any(c, mark, Val{}, e.span);
  }
  if (ka == Kind::Int && kb == Kind::Float)
    a.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[0]->span, {a.node});
  if (ka == Kind::Float && kb == Kind::Int)
    b.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[1]->span, {b.node});
  uint8_t flags = cased_flags(e, operand_flags(a, b));
  if (e.nocase) flags |= ir::kFlagNoCase;
  Val r;
  r.type = T(Kind::Bool);
  r.node = mk_node(c, op, r.type, e.span, {a.node, b.node}, 0, flags);
  r = close_any(c, mark, r, e.span);
  return neg ? wrap_not(c, r, e.span, true) : r;
}

Val Checker::strop(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  if (e.any_of && e.op == ast::Op::Like && e.children[0]->kind == ast::ExprKind::Tuple) return tuple_match(e, c);
  const char* name = "contains";
  Op op = Op::Contains, any_op = Op::ContainsAny;
  switch (e.op) {
    case ast::Op::Contains: name = "contains", op = Op::Contains, any_op = Op::ContainsAny; break;
    case ast::Op::StartsWith: name = "startswith", op = Op::StartsWith, any_op = Op::StartsWithAny; break;
    case ast::Op::EndsWith: name = "endswith", op = Op::EndsWith, any_op = Op::EndsWithAny; break;
    case ast::Op::Like: name = "like", op = Op::Like, any_op = Op::LikeAny; break;
    case ast::Op::Matches: name = "matches", op = Op::Matches, any_op = Op::Matches; break;
    default: break;
  }
  std::string opname = std::string(name) + (e.nocase ? "~" : "");
  size_t mark = c.pending.size();
  Val s = expr(*e.children[0], c);
  if (s.ok() && !stringish(s.type.kind)) {
    err(Code::BRD0205, e.children[0]->span,
        "`" + opname + "` takes a string on its left, but this is " + tn(s.type), &c);
    s = Val{};
  }
  uint8_t flags = e.nocase ? ir::kFlagNoCase : 0;
  Val r;
  r.type = T(Kind::Bool);
  if (e.any_of) {
    auto lv = list_of(*e.children[1], c);
    if (!s.ok() || !lv || !lv->ok) return close_any(c, mark, Val{}, e.span);
    if (lv->elem != Kind::String && !lv->elems.empty()) {
      err(lv->arity ? Code::BRD0417 : Code::BRD0205, e.children[1]->span,
          lv->arity ? "this is a list of tuples: only `like any` matches a tuple `(a, b)` against it"
                    : "`" + opname + " any` takes a list of strings, but this is a list of " + tn(T(lv->elem)),
          &c);
      return close_any(c, mark, Val{}, e.span);
    }
    flags = cased_flags(e, flags | operand_flags(s, Val{}));
    if (op == Op::Matches) {
      std::vector<NodeId> alts;
      bool ok = true;
      for (const auto& x : lv->elems) {
        auto rid = regex(x, e.nocase, c);
        if (!rid) {
          ok = false;
          continue;
        }
        alts.push_back(mk_node(c, Op::Matches, r.type, e.span, {s.node}, *rid, flags));
      }
      if (!ok) return close_any(c, mark, Val{}, e.span);
      if (alts.empty()) r.node = mk_node(c, Op::Bool, r.type, e.span, {}, 0);
      else if (alts.size() == 1) r.node = alts[0];
      else r.node = mk_node_v(c, Op::Or, r.type, e.span, alts);
    } else {
      ir::ConstSet set;
      set.elem = Kind::String;
      set.nocase = e.nocase;
      for (const auto& x : lv->elems) set.strings.push_back(e.nocase ? fold(x.s) : x.s);
      r.node = mk_node(c, any_op, r.type, e.span, {s.node}, P.intern_set(std::move(set)), flags);
    }
    return close_any(c, mark, r, e.span);
  }
  if (op == Op::Matches) {
    auto pat = const_of(*e.children[1], c.env);
    std::optional<ir::RegexId> rid;
    if (!pat || pat->kind != Kind::String)
      err(Code::BRD0217, e.children[1]->span, "the pattern of `matches` must be a constant string", &c);
    else
      rid = regex(*pat, e.nocase, c);
    if (!s.ok() || !rid) return close_any(c, mark, Val{}, e.span);
    flags = cased_flags(e, flags | operand_flags(s, Val{}));
    r.node = mk_node(c, Op::Matches, r.type, e.span, {s.node}, *rid, flags);
    return close_any(c, mark, r, e.span);
  }
  Val p = expr(*e.children[1], c);
  if (p.ok() && !stringish(p.type.kind)) {
    err(Code::BRD0205, e.children[1]->span,
        "`" + opname + "` takes a string on its right, but this is " + tn(p.type), &c);
    p = Val{};
  }
  if (!s.ok() || !p.ok()) return close_any(c, mark, Val{}, e.span);
  flags = cased_flags(e, flags | operand_flags(s, p));
  r.node = mk_node(c, op, r.type, e.span, {s.node, p.node}, 0, flags);
  return close_any(c, mark, r, e.span);
}

Val Checker::in(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  if (e.children[0]->kind == ast::ExprKind::Tuple) return tuple_match(e, c);
  size_t mark = c.pending.size();
  Val x = expr(*e.children[0], c);
  auto lv = list_of(*e.children[1], c);
  if (!x.ok() || !lv || !lv->ok) return close_any(c, mark, Val{}, e.span);
  if (lv->arity > 0 && !lv->elems.empty()) {
    err(Code::BRD0417, e.children[0]->span,
        "this is a list of tuples of " + std::to_string(lv->arity) + " values: the left side must be a tuple of " +
            std::to_string(lv->arity) + " values, `(a, b) in L`",
        &c);
    return close_any(c, mark, Val{}, e.span);
  }
  auto set = member_set(x, lv->elems, lv->elems.empty() ? x.type.kind : lv->elem, e, e.children[0]->span, c);
  if (!set) return close_any(c, mark, Val{}, e.span);
  Val r;
  r.type = T(Kind::Bool);
  uint8_t flags = cased_flags(e, operand_flags(x, Val{}) | (e.nocase ? ir::kFlagNoCase : 0));
  r.node = mk_node(c, Op::InSet, r.type, e.span, {x.node}, P.intern_set(std::move(*set)), flags);
  r = close_any(c, mark, r, e.span);
  return e.negated ? wrap_not(c, r, e.span, true) : r;
}

std::optional<ir::ConstSet> Checker::member_set(Val& x, const std::vector<ConstVal>& elems, Kind le,
                                                const ast::Expr& e, const Span& lhs_span, Ctx& c) {
  const char* opname = e.nocase ? "in~" : "in";
  ir::ConstSet set;
  set.nocase = e.nocase;
  Kind k = x.type.kind;
  if (k == Kind::Object) k = le;
  bool ok = true;
  if (e.nocase && !(stringish(k) && (le == Kind::String || elems.empty()))) {
    err(Code::BRD0205, lhs_span, std::string("`") + opname + "` compares strings, but the value is " + tn(x.type), &c);
    return std::nullopt;
  }
  if (k == Kind::Ip) {
    set.elem = Kind::Ip;
    if (le != Kind::String && le != Kind::Ip) ok = false;
    for (const auto& v : elems) {
      if (v.kind != Kind::String) continue;
      auto canon = ir::canonical_ip(v.s);
      if (!canon) {
        err(Code::BRD0213, v.span, "`" + v.s + "` is not an IP address (use `in cidr` for networks)", &c);
        return std::nullopt;
      }
      set.strings.push_back(*canon);
    }
  } else if (k == Kind::String) {
    set.elem = Kind::String;
    ok = le == Kind::String;
    for (const auto& v : elems) set.strings.push_back(e.nocase ? fold(v.s) : v.s);
  } else if (k == Kind::Int || k == Kind::Float) {
    ok = le == Kind::Int || le == Kind::Float;
    if (ok && (k == Kind::Float || le == Kind::Float)) {
      set.elem = Kind::Float;
      for (const auto& v : elems) set.floats.push_back(v.kind == Kind::Float ? v.f : static_cast<double>(v.i));
      if (k == Kind::Int) x.node = mk_node(c, Op::ToFloat, T(Kind::Float), lhs_span, {x.node});
    } else {
      set.elem = Kind::Int;
      for (const auto& v : elems) set.ints.push_back(v.i);
    }
  } else if (k == Kind::Duration || k == Kind::Bool) {
    set.elem = k;
    ok = le == k;
    for (const auto& v : elems) set.ints.push_back(v.i);
  } else {
    ok = false;
  }
  if (!ok) {
    err(Code::BRD0201, e.kind == ast::ExprKind::In && e.children[0]->kind != ast::ExprKind::Tuple ? e.span : lhs_span,
        "cannot test " + tn(x.type) + " for membership in a list of " + tn(T(le)), &c);
    return std::nullopt;
  }
  return set;
}

Val Checker::tuple_match(const ast::Expr& e, Ctx& c) {
  const ast::Expr& lhs = *e.children[0];
  const bool like = e.kind == ast::ExprKind::StringOp;
  const std::string opname = like ? (e.nocase ? "like~ any" : "like any") : (e.nocase ? "in~" : "in");
  size_t mark = c.pending.size();
  std::vector<Val> xs;
  bool ok = true;
  for (const auto& part : lhs.children) {
    size_t before = c.pending.size();
    Val x = expr(*part, c);
    if (c.pending.size() != before) {
      err(Code::BRD0417, part->span,
          "a part of a tuple is one value, not a `[*]` path (test the pairs of each element with any(...))", &c);
      ok = false;
    } else if (x.ok() && like && !stringish(x.type.kind)) {
      err(Code::BRD0205, part->span, "`" + opname + "` matches strings, but this part is " + tn(x.type), &c);
      ok = false;
    }
    if (!x.ok()) ok = false;
    xs.push_back(x);
  }
  auto lv = list_of(*e.children[1], c);
  if (!ok || !lv || !lv->ok) return close_any(c, mark, Val{}, e.span);
  if (!lv->elems.empty() && lv->arity != xs.size()) {
    err(Code::BRD0417, e.children[1]->span,
        "the left side is a tuple of " + std::to_string(xs.size()) + " values, but " +
            (lv->arity == 0 ? "this is a list of " + tn(T(lv->elem))
                            : "this list's tuples have " + std::to_string(lv->arity)),
        &c);
    return close_any(c, mark, Val{}, e.span);
  }
  Val r;
  r.type = T(Kind::Bool);
  std::vector<NodeId> alts;
  for (const ConstVal& t : lv->elems) {
    std::vector<NodeId> conj;
    for (size_t k = 0; k < xs.size(); ++k) {
      const ConstVal& part = t.parts[k];
      uint8_t flags = cased_flags(e, operand_flags(xs[k], Val{}) | (e.nocase ? ir::kFlagNoCase : 0));
      if (like) {
        if (part.kind != Kind::String) {
          err(Code::BRD0205, part.span, "`" + opname + "` matches strings, but this part is " + tn(T(part.kind)), &c);
          return close_any(c, mark, Val{}, e.span);
        }
        NodeId pat = mk_node(c, Op::String, T(Kind::String), part.span, {}, P.intern_string(part.s));
        conj.push_back(mk_node(c, Op::Like, r.type, e.span, {xs[k].node, pat}, 0, flags));
      } else {
        Val xk = xs[k];
        auto set = member_set(xk, {part}, part.kind, e, lhs.children[k]->span, c);
        if (!set) return close_any(c, mark, Val{}, e.span);
        conj.push_back(mk_node(c, Op::InSet, r.type, e.span, {xk.node}, P.intern_set(std::move(*set)), flags));
      }
    }
    alts.push_back(conj.size() == 1 ? conj[0] : mk_node_v(c, Op::And, r.type, e.span, conj));
  }
  if (alts.empty()) r.node = mk_node(c, Op::Bool, r.type, e.span, {}, 0);
  else if (alts.size() == 1) r.node = alts[0];
  else r.node = mk_node_v(c, Op::Or, r.type, e.span, alts);
  r = close_any(c, mark, r, e.span);
  return e.negated ? wrap_not(c, r, e.span, true) : r;
}

Val Checker::in_cidr(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  size_t mark = c.pending.size();
  Val x = expr(*e.children[0], c);
  if (x.ok() && !stringish(x.type.kind)) {
    err(Code::BRD0205, e.children[0]->span, "`in cidr` takes an `ip`, but this is " + tn(x.type), &c);
    x = Val{};
  }
  std::vector<ConstVal> items;
  bool ok = true;
  const Env* env = c.env;
  const ast::Expr* rhs = deparam(e.children[1].get(), env);
  if (auto single = const_of(*rhs, env); single) {
    items.push_back(*single);
  } else {
    Ctx lc = c;
    lc.env = env;
    auto lv = list_of(*rhs, lc);
    if (!lv || !lv->ok) ok = false;
    else items = lv->elems;
  }
  ir::CidrSet cs;
  for (const auto& v : items) {
    if (v.kind != Kind::String) {
      err(Code::BRD0212, v.span, "a CIDR must be a string such as \"10.0.0.0/8\"", &c);
      ok = false;
      continue;
    }
    auto cidr = ir::parse_cidr(v.s);
    if (!cidr) {
      err(Code::BRD0212, v.span, "`" + v.s + "` is not a valid CIDR (e.g. \"10.0.0.0/8\" or \"2001:db8::/32\")", &c);
      ok = false;
      continue;
    }
    cs.cidrs.push_back(*cidr);
  }
  if (!x.ok() || !ok) return close_any(c, mark, Val{}, e.span);
  Val r;
  r.type = T(Kind::Bool);
  r.node = mk_node(c, Op::InCidr, r.type, e.span, {x.node}, P.intern_cidr_set(std::move(cs)),
                   operand_flags(x, Val{}));
  r = close_any(c, mark, r, e.span);
  return e.negated ? wrap_not(c, r, e.span, true) : r;
}

}  // namespace braid::check_internal
