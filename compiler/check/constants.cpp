// Lists and compile-time constants: list elements, constant folding of list and pattern operands, regexes
// (validated with RE2).
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

#include <re2/re2.h>

namespace braid::check_internal {

// ---------------------------------------------------------------------------------------------------------------
// Lists and constants

void Checker::check_list(ListSym& l) {
  if (l.checked) return;
  if (l.in_progress) {  // a list whose literal names itself through a macro: impossible today, but be safe
    l.value.ok = false;
    return;
  }
  l.in_progress = true;
  Ctx c;
  c.place = Place::Decl;
  if (l.decl->value && l.decl->value->kind == ast::ExprKind::List) {
    auto v = list_of(*l.decl->value, c);
    if (v) l.value = *v;
    else l.value.ok = false;
  } else {
    l.value.ok = false;
  }
  l.value.span = l.decl->value ? l.decl->value->span : l.decl->span;
  P.lists[l.info].elem = l.value.elem;
  P.lists[l.info].size = l.value.elems.size();
  l.in_progress = false;
  l.checked = true;
}

const ast::Expr* Checker::deparam(const ast::Expr* e, const Env*& env) const {
  while (e && env && e->kind == ast::ExprKind::Path && e->children.empty() && e->segs.empty()) {
    auto it = env->args.find(e->head);
    if (it == env->args.end()) break;
    e = it->second;
    env = env->caller;
  }
  return e;
}

std::string Checker::dotted(const std::string& head, const std::vector<ast::PathSeg>& segs, bool* all_fields) {
  std::string s = head;
  bool all = true;
  for (const auto& sg : segs) {
    // A quoted segment can be part of a declared name (`acme."bad-ips"`), unless no name could hold it.
    if (sg.kind != ast::PathSeg::Kind::Field || (sg.quoted && !ast::invalid_segment_reason(sg.name).empty())) {
      all = false;
      break;
    }
    s += "." + sg.name;
  }
  if (all_fields) *all_fields = all;
  return s;
}

std::optional<ConstVal> Checker::const_of(const ast::Expr& e0, const Env* env, int depth) {
  if (depth > 64) return std::nullopt;
  const ast::Expr* e = deparam(&e0, env);
  if (!e) return std::nullopt;
  ConstVal v;
  v.span = e->span;
  switch (e->kind) {
    case ast::ExprKind::Literal:
      switch (e->lit.kind) {
        case ast::LitKind::String:
        case ast::LitKind::RawString: v.kind = Kind::String, v.s = e->lit.text; return v;
        case ast::LitKind::Int: v.kind = Kind::Int, v.i = e->lit.int_value; return v;
        case ast::LitKind::Float: v.kind = Kind::Float, v.f = e->lit.float_value; return v;
        case ast::LitKind::Duration: v.kind = Kind::Duration, v.i = e->lit.int_value; return v;
        case ast::LitKind::Bool: v.kind = Kind::Bool, v.i = e->lit.bool_value ? 1 : 0; return v;
        case ast::LitKind::Null: return std::nullopt;
      }
      return std::nullopt;
    case ast::ExprKind::Unary:
      if (e->op == ast::Op::Neg && e->children.size() == 1) {
        auto inner = const_of(*e->children[0], env, depth + 1);
        if (!inner) return std::nullopt;
        if (inner->kind == Kind::Int || inner->kind == Kind::Duration) inner->i = -inner->i;
        else if (inner->kind == Kind::Float) inner->f = -inner->f;
        else return std::nullopt;
        inner->span = e->span;
        return inner;
      }
      return std::nullopt;
    case ast::ExprKind::Path: {
      if (!e->children.empty()) return std::nullopt;
      bool all = false;
      std::string name = dotted(e->head, e->segs, &all);
      if (!all) return std::nullopt;
      if (const MacroSym* m = find_macro(name); m && m->decl->params.empty() && m->decl->body) {
        auto r = const_of(*m->decl->body, nullptr, depth + 1);
        if (r) {
          P.macros[m->info].used = true;
          r->span = e->span;
        }
        return r;
      }
      return std::nullopt;
    }
    case ast::ExprKind::Tuple:
      for (const auto& ch : e->children) {
        auto part = const_of(*ch, env, depth + 1);
        if (!part || part->kind == Kind::List) return std::nullopt;
        v.parts.push_back(std::move(*part));
      }
      v.kind = Kind::List;
      return v;
    default: return std::nullopt;
  }
}

std::optional<ListVal> Checker::list_of(const ast::Expr& e0, Ctx& c, int depth) {
  const Env* env = c.env;
  const ast::Expr* e = deparam(&e0, env);
  if (!e || depth > 64) return std::nullopt;
  if (e->kind == ast::ExprKind::List) {
    ListVal lv;
    lv.span = e->span;
    bool have_kind = false;
    for (const auto& ch : e->children) {
      auto v = const_of(*ch, env);
      if (!v) {
        err(Code::BRD0210, ch->span,
            ch->kind == ast::ExprKind::Tuple
                ? "the parts of a tuple in a list must be constants (strings, numbers, durations or booleans)"
                : "list elements must be constants (strings, numbers, durations or booleans)",
            &c);
        lv.ok = false;
        continue;
      }
      // A list of tuples (an allow-list of pairs): every element a tuple of the same length, each part of one kind.
      if (v->kind == Kind::List || lv.arity > 0) {
        if (!have_kind && v->kind == Kind::List) {
          lv.elem = Kind::List;
          lv.arity = static_cast<uint32_t>(v->parts.size());
          for (const auto& part : v->parts) lv.part_kinds.push_back(part.kind);
          have_kind = true;
        } else if (v->kind != Kind::List || v->parts.size() != lv.arity || lv.elem != Kind::List) {
          err(Code::BRD0211, ch->span,
              lv.elem == Kind::List ? "every element of a list of tuples must be a tuple of " +
                                          std::to_string(lv.arity) + " values"
                                    : "a tuple in a list of " + tn(T(lv.elem)),
              &c);
          lv.ok = false;
          continue;
        } else {
          bool same = true;
          for (size_t k = 0; k < lv.arity; ++k) {
            Kind a = lv.part_kinds[k], b = v->parts[k].kind;
            if (a == b) continue;
            if ((a == Kind::Int || a == Kind::Float) && (b == Kind::Int || b == Kind::Float)) {
              lv.part_kinds[k] = Kind::Float;
              continue;
            }
            err(Code::BRD0211, v->parts[k].span,
                "part " + std::to_string(k + 1) + " of this tuple is " + tn(T(b)) +
                    "; in the list's first tuple it is " + tn(T(a)),
                &c);
            same = false;
          }
          if (!same) {
            lv.ok = false;
            continue;
          }
        }
        lv.elems.push_back(*v);
        continue;
      }
      if (!have_kind) {
        lv.elem = v->kind;
        have_kind = true;
      } else if (lv.elem != v->kind) {
        bool num = (lv.elem == Kind::Int || lv.elem == Kind::Float) && (v->kind == Kind::Int || v->kind == Kind::Float);
        if (num) {
          lv.elem = Kind::Float;
        } else {
          err(Code::BRD0211, ch->span,
              "list element of type " + tn(T(v->kind)) + " in a list of " + tn(T(lv.elem)), &c);
          lv.ok = false;
          continue;
        }
      }
      lv.elems.push_back(*v);
    }
    if (lv.elem == Kind::Float)
      for (auto& v : lv.elems)
        if (v.kind == Kind::Int) v.kind = Kind::Float, v.f = static_cast<double>(v.i);
    for (size_t k = 0; k < lv.arity; ++k)
      if (lv.part_kinds[k] == Kind::Float)
        for (auto& v : lv.elems)
          if (v.parts[k].kind == Kind::Int) v.parts[k].kind = Kind::Float, v.parts[k].f = static_cast<double>(v.parts[k].i);
    return lv;
  }
  if (e->kind == ast::ExprKind::Path && e->children.empty()) {
    bool all = false;
    std::string name = dotted(e->head, e->segs, &all);
    if (all) {
      if (auto it = globals_.find(name); it != globals_.end() && it->second.kind == GlobalSym::Kind::List) {
        ListSym& l = lists_[it->second.index];
        check_list(l);
        P.lists[l.info].used = true;
        if (c.rule && P.lists[l.info].org_data &&
            std::find(c.rule->org_lists_read.begin(), c.rule->org_lists_read.end(), l.info) ==
                c.rule->org_lists_read.end())
          c.rule->org_lists_read.push_back(l.info);
        if (!l.value.ok) return std::nullopt;
        return l.value;
      }
      if (const MacroSym* m = find_macro(name); m && m->decl->params.empty() && m->decl->body &&
                                                m->decl->body->kind == ast::ExprKind::List) {
        P.macros[m->info].used = true;
        Ctx inner = c;
        inner.env = nullptr;
        return list_of(*m->decl->body, inner, depth + 1);
      }
    }
    std::vector<std::string> cands;
    for (const auto& [n, g] : globals_)
      if (g.kind == GlobalSym::Kind::List) cands.push_back(n);
    std::string what = "`" + name + "` is not a declared list";
    if (auto it = globals_.find(name); it != globals_.end())
      what = "`" + name + "` is a " + sym_kind_name(it->second.kind) + ", not a list";
    err_suggest(Code::BRD0108, e->span, what, name, cands, &c, true);
    return std::nullopt;
  }
  err(Code::BRD0217, e->span, "expected a list literal or the name of a list", &c);
  return std::nullopt;
}

std::optional<ir::RegexId> Checker::regex(const ConstVal& pat, bool nocase, Ctx& c) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_case_sensitive(!nocase);
  RE2 re(pat.s, o);
  if (re.ok()) return P.intern_regex(pat.s, nocase);
  const std::string& arg = re.error_arg();
  auto code = re.error_code();
  bool unsupported = code == RE2::ErrorBadPerlOp || code == RE2::ErrorPatternTooLarge;
  if (code == RE2::ErrorBadEscape && arg.size() == 2 && arg[0] == '\\' && arg[1] >= '1' && arg[1] <= '9')
    unsupported = true;
  if (code == RE2::ErrorRepeatOp && arg.size() >= 2 && arg.back() == '+') unsupported = true;
  if (code == RE2::ErrorRepeatOp && arg.size() >= 2 && arg.back() == '?' && arg[arg.size() - 2] == '?')
    unsupported = false;
  // Point at the offending piece when the pattern appears verbatim in the source (raw strings, simple strings).
  Span sp = pat.span;
  std::string_view src = sm_.slice(pat.span);
  size_t body_off = src.rfind(pat.s);
  if (!arg.empty() && body_off != std::string_view::npos && src.size() >= pat.s.size()) {
    size_t at = pat.s.find(arg);
    if (at != std::string::npos)
      sp = Span{pat.span.file, pat.span.begin + static_cast<uint32_t>(body_off + at),
                pat.span.begin + static_cast<uint32_t>(body_off + at + arg.size())};
  }
  if (unsupported) {
    std::string why = code == RE2::ErrorPatternTooLarge ? "the pattern is too large for RE2"
                      : code == RE2::ErrorBadEscape      ? "RE2 does not support backreferences (`" + arg + "`)"
                      : code == RE2::ErrorRepeatOp       ? "RE2 does not support possessive quantifiers (`" + arg + "`)"
                                                         : "RE2 does not support `" + arg + "` (lookaround or atomic group)";
    err(Code::BRD0216, sp, "unsupported regex: " + why, &c);
  } else {
    err(Code::BRD0203, sp, "invalid regex: " + re.error(), &c);
  }
  return std::nullopt;
}

}  // namespace braid::check_internal
