// Tuning (docs/language.md, section 23): `override list` and `tune`.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

// ---------------------------------------------------------------------------------------------------------------
// Tuning (docs/language.md, section 23): `override list` and `tune`, declared in the user's files, change lists
// and rules declared elsewhere. Everything is checked; CheckOptions::apply_tuning decides whether it takes effect.

namespace {

// `*` any run of characters, `?` one character: the glob of `tune "aws.iam.*"`.
bool glob_match(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p, ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++, mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1, i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

void Checker::apply_overrides(size_t from) {
  // Replacements first, then appends in file order, whatever order the files come in.
  std::map<std::string, const ast::OverrideDecl*> replaced;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = from; i < override_decls_.size(); ++i) {
      const ast::OverrideDecl& o = *override_decls_[i];
      if (o.append != (pass == 1)) continue;
      auto g = globals_.find(o.name.text);
      if (g == globals_.end() || g->second.kind != GlobalSym::Kind::List) {
        std::vector<std::string> cands;
        for (const auto& [n, gs] : globals_)
          if (gs.kind == GlobalSym::Kind::List) cands.push_back(n);
        std::string msg = "`override list " + o.name.text + "`: no list of that name is declared";
        if (g != globals_.end())
          msg = "`" + o.name.text + "` is a " + sym_kind_name(g->second.kind) + ", not a list: only lists are overridden";
        err_suggest(Code::BRD0113, o.name.span, msg, o.name.text, cands, nullptr, true);
        continue;
      }
      ListSym& l = lists_[g->second.index];
      check_list(l);
      if (!o.append) {
        auto [it, fresh] = replaced.emplace(o.name.text, &o);
        if (!fresh) {
          auto d = mk(Code::BRD0114, o.name.span, "list `" + o.name.text + "` is replaced twice");
          d.help = "keep one `override list " + o.name.text + " = [...]`; add to it with `+=`";
          d.related.push_back({it->second->name.span, "first replaced here"});
          emit(std::move(d));
          continue;
        }
      }
      Ctx c;
      c.place = Place::Decl;
      if (!o.value || o.value->kind != ast::ExprKind::List) continue;
      auto v = list_of(*o.value, c);
      if (!v || !v->ok || !l.value.ok) continue;
      auto numeric = [](Kind k) { return k == Kind::Int || k == Kind::Float; };
      bool parts_differ = v->arity != l.value.arity;
      for (size_t k = 0; !parts_differ && k < v->arity; ++k)
        parts_differ = v->part_kinds[k] != l.value.part_kinds[k] &&
                       !(numeric(v->part_kinds[k]) && numeric(l.value.part_kinds[k]));
      if (!v->elems.empty() && !l.value.elems.empty() && v->arity > 0 && parts_differ) {
        auto d = mk(Code::BRD0413, o.value->span,
                    "list `" + o.name.text + "` holds " +
                        (l.value.arity ? "tuples of " + std::to_string(l.value.arity) + " values"
                                       : tn(T(l.value.elem)) + " values") +
                        "; this override gives tuples of " + std::to_string(v->arity) + " values" +
                        (v->arity == l.value.arity ? " whose parts have other types" : ""));
        d.related.push_back({l.decl->name.span, "the list is declared here"});
        emit(std::move(d));
        continue;
      }
      if (!v->elems.empty() && !l.value.elems.empty() && v->elem != l.value.elem &&
          !(numeric(v->elem) && numeric(l.value.elem))) {
        auto d = mk(Code::BRD0413, o.value->span,
                    "list `" + o.name.text + "` holds " + tn(T(l.value.elem)) + " values; this override gives " +
                        tn(T(v->elem)) + " values");
        d.related.push_back({l.decl->name.span, "the list is declared here"});
        emit(std::move(d));
        continue;
      }
      ir::ListInfo& info = P.lists[l.info];
      if (!info.overridden) info.override_span = o.name.span;
      info.overridden = true;
      if (!opts_.apply_tuning) continue;
      Kind elem = l.value.elems.empty() ? v->elem : l.value.elem;
      if (numeric(elem) && numeric(v->elem) && (elem == Kind::Float || v->elem == Kind::Float)) elem = Kind::Float;
      if (l.value.elems.empty() || !o.append) {  // (a tuple list's shape comes with its first elements)
        l.value.arity = v->arity;
        l.value.part_kinds = v->part_kinds;
      }
      if (o.append) l.value.elems.insert(l.value.elems.end(), v->elems.begin(), v->elems.end());
      else l.value.elems = v->elems;
      l.value.elem = elem;
      if (elem == Kind::Float)
        for (auto& e : l.value.elems)
          if (e.kind == Kind::Int) e.kind = Kind::Float, e.f = static_cast<double>(e.i);
      info.elem = elem;
      info.size = l.value.elems.size();
    }
  }
}

void Checker::match_tunings(size_t from) {
  for (size_t i = from; i < tune_decls_.size(); ++i) {
    const ast::TuneDecl& t = *tune_decls_[i];
    if (t.glob) {
      size_t n = 0;
      for (const ast::RuleDecl* r : rule_decls_) {
        if (!glob_match(t.name.text, r->name.text)) continue;
        tunes_of_[r->name.text].push_back(&t);
        ++n;
      }
      if (n == 0) err(Code::BRD0115, t.name.span, "`tune \"" + t.name.text + "\"` matches no rule");
      continue;
    }
    auto g = globals_.find(t.name.text);
    if (g == globals_.end() || g->second.kind != GlobalSym::Kind::Rule) {
      std::vector<std::string> cands;
      for (const ast::RuleDecl* r : rule_decls_) cands.push_back(r->name.text);
      std::string msg = "`tune " + t.name.text + "`: no rule of that id is declared";
      if (g != globals_.end())
        msg = "`" + t.name.text + "` is a " + sym_kind_name(g->second.kind) + ", not a rule: only rules are tuned";
      err_suggest(Code::BRD0113, t.name.span, msg, t.name.text, cands, nullptr, true);
      continue;
    }
    tunes_of_[t.name.text].push_back(&t);
  }
}

void Checker::tune_rule(const ast::RuleDecl& d, ir::Rule& r, const Ctx& base,
                        const std::function<std::optional<ir::Severity>(const ast::Ident&)>& level) {
  auto it = tunes_of_.find(d.name.text);
  if (it == tunes_of_.end()) return;
  const ast::TuneDecl* enabled_by = nullptr;
  const ast::TuneDecl* severity_by = nullptr;
  std::vector<NodeId> exceptions;
  Span cond_span = r.spans.when;
  for (const ast::TuneDecl* t : it->second) {
    r.tuned_by.push_back(t->span);
    auto conflict = [&](const char* what, Span here, const ast::TuneDecl* first, Span first_span) {
      auto diag = mk(Code::BRD0116, here, std::string("the ") + what + " of rule `" + d.name.text + "` is tuned twice");
      diag.related.push_back({first_span, "first tuned here"});
      (void)first;
      emit(std::move(diag));
    };
    if (t->enabled) {
      if (enabled_by) {
        conflict("`enabled` state", t->enabled->span, enabled_by, enabled_by->enabled->span);
      } else {
        enabled_by = t;
        if (opts_.apply_tuning) r.meta.enabled = t->enabled->value;
      }
    }
    if (t->severity) {
      if (severity_by) {
        conflict("severity", t->severity->span, severity_by, severity_by->severity->span);
      } else {
        severity_by = t;
        auto lv = level(t->severity->value);
        if (lv && opts_.apply_tuning) {
          r.meta.severity = *lv;
          r.severity_arms.clear();  // a tuned level replaces a computed one
        }
      }
    }
    // An exception is a condition in the rule's own scope, checked as the rule's `when` is (its sources' fields in
    // event scope; steps, aggregates and attributes in session and chain scope), and conjoined with it negated.
    for (const ast::ExprClause& ex : t->exceptions) {
      if (!ex.expr) continue;
      Ctx c = base;
      if (r.scope == ir::Scope::Event) {
        c.place = Place::EventWhen;
      } else {
        c.place = Place::ScopeWhen;
        c.session_ctx = true;
        c.allow_seq = true;
      }
      Val v = cond(*ex.expr, c, "an exception");
      if (v.ok()) exceptions.push_back(v.node);
    }
  }
  if (!opts_.apply_tuning || exceptions.empty() || r.condition == kNoNode) return;
  Ctx c = base;
  NodeId any = exceptions[0];
  if (exceptions.size() > 1) any = mk_node_v(c, Op::Or, T(Kind::Bool), P.node(exceptions[0]).span, exceptions);
  NodeId none = mk_node(c, Op::Not, T(Kind::Bool), P.node(any).span, {any});
  r.untuned_condition = r.condition;
  r.exceptions = exceptions;
  r.condition = mk_node(c, Op::And, T(Kind::Bool), cond_span, {r.condition, none});
}

}  // namespace braid::check_internal
