// `name(...)`: dispatch to a builtin (builtins.def), an aggregate or a macro; macro expansion.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

Val Checker::expand(const MacroSym& m, const std::vector<const ast::Expr*>& args, Span use, Ctx& c) {
  const std::string& name = m.decl->name.text;
  // Recursion: is this macro already being expanded?
  std::vector<std::string> chain;
  bool cycle = false;
  for (const Env* e = c.env; e && e->macro; e = e->caller) {
    chain.push_back(e->macro_name);
    if (e->macro == m.decl) {
      cycle = true;
      break;
    }
  }
  if (cycle || (c.env && c.env->depth >= opts_.max_macro_depth)) {
    std::reverse(chain.begin(), chain.end());
    std::string path;
    for (const auto& n : chain) path += n + " -> ";
    path += name;
    auto d = mk(Code::BRD0106, m.decl->name.span, "macro `" + name + "` is recursive: " + path);
    d.related.push_back({use, "used recursively here"});
    emit(std::move(d));
    return Val{};
  }
  P.macros[m.info].used = true;
  if (!m.decl->body) return Val{};
  Env env;
  env.macro = m.decl;
  env.macro_name = name;
  env.caller = c.env;
  env.site = (c.env && c.env->macro) ? c.env->site : use;
  env.depth = c.env ? c.env->depth + 1 : 1;
  for (size_t i = 0; i < m.decl->params.size() && i < args.size(); ++i) env.args[m.decl->params[i].text] = args[i];
  const Env* saved = c.env;
  c.env = &env;
  Val v = expr(*m.decl->body, c);
  c.env = saved;
  return v;
}

// `name(...)`: a builtin (builtins.def), an aggregate (ir::kAggKinds), or a macro.
Val Checker::call(const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c) {
  const std::string& name = e.callee.text;
  Span sp = e.span;
  auto nargs = e.children.size();
  const MacroSym* macro = find_macro(name);
  const BuiltinInfo* b = find_builtin(name);
  if (b && b->form != BuiltinForm::Function && !macro) return (this->*kBuiltinChecks[static_cast<size_t>(b->id)])(*b, e, segs, c);
  if (auto ak = ir::agg_kind_from_name(name); ak && !macro) return aggregate(*ak, e, segs, c);
  if (segs && !segs->empty()) {
    err(Code::BRD0307, segs->front().span, "fields can only be read from `first(step)` or `last(step)`", &c);
    return Val{};
  }
  if (b && b->form == BuiltinForm::Function) {
    if (!builtin_arity(*b, e, c)) return Val{};
    return (this->*kBuiltinChecks[static_cast<size_t>(b->id)])(*b, e, segs, c);
  }
  if (macro) {
    if (macro->decl->params.size() != nargs) {
      err(Code::BRD0105, sp,
          "macro `" + name + "` takes " + std::to_string(macro->decl->params.size()) + " argument(s), but " +
              std::to_string(nargs) + " were given",
          &c);
      return Val{};
    }
    std::vector<const ast::Expr*> args;
    for (const auto& ch : e.children) args.push_back(ch.get());
    return expand(*macro, args, sp, c);
  }
  std::vector<std::string> cands;
  for (std::string_view n : builtin_names()) cands.emplace_back(n);
  if (c.session_ctx)
    for (const ir::AggKindInfo& a : ir::kAggKinds) cands.emplace_back(a.name);
  for (const auto& [n, g] : globals_)
    if (g.kind == GlobalSym::Kind::Macro) cands.push_back(n);
  err_suggest(Code::BRD0107, e.callee.span, "unknown function `" + name + "`", name, cands, &c, true);
  return Val{};
}

}  // namespace braid::check_internal
