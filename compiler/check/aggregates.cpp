// Session features: step aggregates (ir::kAggKinds) and sequences.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

Val Checker::step_agg(ir::AggKind kind, uint32_t step, const std::vector<ast::PathSeg>& segs, Span span, Ctx& c) {
  if (!c.session_ctx || !c.rule) {
    err(Code::BRD0208, span, "aggregates are only available in the condition of a session or chain rule", &c);
    return Val{};
  }
  ir::Rule& r = *c.rule;
  ir::Aggregate a;
  a.kind = kind;
  a.step = step;
  a.span = span;
  if (kind == ir::AggKind::Count) {
    a.type = T(Kind::Int);
  } else {
    if (segs.empty()) {
      err(Code::BRD0207, span,
          std::string("`") + std::string(ir::agg_kind_name(kind)) + "` needs a field: `" +
              std::string(ir::agg_kind_name(kind)) +
              (kind == ir::AggKind::First || kind == ir::AggKind::Last ? "(step).field`" : "(step.field)`"),
          &c);
      return Val{};
    }
    // The value is read from the step's events: an event context over the rule's sources.
    Ctx vc = c;
    vc.place = Place::AggValue;
    vc.session_ctx = false;
    vc.allow_seq = false;
    vc.list_mode = false;
    vc.pending.clear();
    std::vector<ast::PathSeg> rest(segs.begin() + 1, segs.end());
    if (segs[0].kind != ast::PathSeg::Kind::Field) {
      err(Code::BRD0207, segs[0].span, "expected a field name after the step", &c);
      return Val{};
    }
    Val fv = field(segs[0].name, segs[0].span, rest, span, vc);
    if (!vc.pending.empty()) {
      err(Code::BRD0215, span, "`[*]` cannot be used inside an aggregate", &c);
      return Val{};
    }
    if (!fv.ok()) return Val{};
    a.value = fv.node;
    a.field = static_cast<ir::FieldId>(P.node(fv.node).imm);
    Type t = fv.type;
    switch (kind) {
      case ir::AggKind::Distinct: a.type = T(Kind::Int); break;
      case ir::AggKind::Sum:
        if (t.kind == Kind::Object) t = T(Kind::Float);
        if (!(t.is_numeric() || t.kind == Kind::Duration)) {
          err(Code::BRD0207, span, "`sum` needs a number or a duration, but this field is " + tn(fv.type), &c);
          return Val{};
        }
        a.type = t;
        break;
      case ir::AggKind::Min:
      case ir::AggKind::Max:
        if (!(t.is_numeric() || t.kind == Kind::Duration || t.kind == Kind::Time || t.kind == Kind::String ||
              t.kind == Kind::Object)) {
          err(Code::BRD0207, span,
              "`" + std::string(ir::agg_kind_name(kind)) + "` needs an ordered type, but this field is " + tn(t), &c);
          return Val{};
        }
        a.type = t;
        break;
      case ir::AggKind::Count:  // no value: handled above
      case ir::AggKind::First:
      case ir::AggKind::Last: a.type = t; break;
    }
  }
  // Equal (kind, step, field) share one entry.
  uint32_t idx = kNone;
  for (uint32_t i = 0; i < r.aggregates.size(); ++i) {
    const auto& o = r.aggregates[i];
    if (o.kind == a.kind && o.step == a.step && o.field == a.field) idx = i;
  }
  if (idx == kNone) {
    idx = static_cast<uint32_t>(r.aggregates.size());
    r.aggregates.push_back(a);
  }
  Val v;
  v.type = r.aggregates[idx].type;
  v.node = mk_node(c, Op::Agg, v.type, span, {}, idx);
  return v;
}

Val Checker::aggregate(ir::AggKind kind, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c) {
  std::string name(ir::agg_kind_name(kind));
  if (!c.session_ctx || !c.steps) {
    err(Code::BRD0208, e.span,
        "`" + name + "` is an aggregate: it is only available in the `when`, `message` or `suppress` of a " +
            (c.place == Place::GroupKey ? "rule, not in a `group by` key, which is read from each event"
                                        : "session or chain rule"),
        &c);
    return Val{};
  }
  bool bare_step = kind == ir::AggKind::Count || kind == ir::AggKind::First || kind == ir::AggKind::Last;
  std::string usage = kind == ir::AggKind::Count ? "count(step)"
                      : bare_step               ? name + "(step).field"
                                                : name + "(step.field)";
  if (e.children.size() != 1) {
    err(Code::BRD0207, e.span, "`" + name + "` takes one argument: `" + usage + "`", &c);
    return Val{};
  }
  const Env* env = c.env;
  const ast::Expr* arg = deparam(e.children[0].get(), env);
  // A parameter with segments (`m(s) = distinct(s.f)`): follow it.
  std::string head;
  Span head_span;
  std::vector<ast::PathSeg> asegs;
  if (arg->kind == ast::ExprKind::Path && arg->children.empty()) {
    head = arg->head;
    head_span = arg->head_span;
    asegs = arg->segs;
    if (env && env->macro) {
      auto it = env->args.find(head);
      if (it != env->args.end()) {
        const Env* env2 = env->caller;
        const ast::Expr* a2 = deparam(it->second, env2);
        if (a2->kind == ast::ExprKind::Path && a2->children.empty()) {
          std::vector<ast::PathSeg> s2 = a2->segs;
          s2.insert(s2.end(), asegs.begin(), asegs.end());
          head = a2->head;
          head_span = a2->head_span;
          asegs = std::move(s2);
        }
      }
    }
  } else {
    err(Code::BRD0207, arg->span, "`" + name + "` takes a step: `" + usage + "`", &c);
    return Val{};
  }
  auto it = c.steps->find(head);
  if (it == c.steps->end()) {
    std::vector<std::string> cands;
    for (const auto& [n, i] : *c.steps) cands.push_back(n);
    err_suggest(Code::BRD0111, head_span, "`" + head + "` is not a step of this rule", head, cands, &c);
    return Val{};
  }
  if (bare_step && !asegs.empty()) {
    err(Code::BRD0207, asegs.front().span,
        "`" + name + "` takes a step, not a field: write `" + usage + "`", &c);
    return Val{};
  }
  if (!bare_step && asegs.empty()) {
    err(Code::BRD0207, arg->span, "`" + name + "` takes a field of a step: `" + usage + "`", &c);
    return Val{};
  }
  Span span = e.span;
  if (kind == ir::AggKind::First || kind == ir::AggKind::Last) {
    if (!segs || segs->empty()) {
      err(Code::BRD0207, e.span, "`" + name + "(" + head + ")` needs a field: `" + usage + "`", &c);
      return Val{};
    }
    span = Span::cover(e.span, segs->back().span);
    return step_agg(kind, it->second, *segs, span, c);  // segs = [field, rest...]
  }
  if (segs && !segs->empty()) {
    err(Code::BRD0307, segs->front().span, "`" + name + "(...)` is a number; it has no fields", &c);
    return Val{};
  }
  return step_agg(kind, it->second, asegs, span, c);
}

Val Checker::sequence(const ast::Expr& e, Ctx& c) {
  if (!c.allow_seq || !c.rule || !c.steps) {
    err(Code::BRD0209, e.span, "a sequence (`a -> b`) can only be used in the `when` of a session or chain rule", &c);
    return Val{};
  }
  ir::Sequence s;
  s.span = e.span;
  bool ok = true;
  for (const auto& it : e.seq) {
    std::string label = it.step.text;
    Span lsp = it.step.span;
    // A parameter bound to a step name.
    const Env* env = c.env;
    if (env && env->macro) {
      auto a = env->args.find(label);
      if (a != env->args.end()) {
        const Env* env2 = env->caller;
        const ast::Expr* x = deparam(a->second, env2);
        if (x->kind == ast::ExprKind::Path && x->children.empty() && x->segs.empty()) {
          label = x->head;
          lsp = x->head_span;
        }
      }
    }
    auto st = c.steps->find(label);
    if (st == c.steps->end()) {
      std::vector<std::string> cands;
      for (const auto& [n, i] : *c.steps) cands.push_back(n);
      err_suggest(Code::BRD0111, lsp, "`" + label + "` is not a step of this rule; sequences order steps", label,
                  cands, &c);
      ok = false;
      continue;
    }
    s.items.push_back(ir::SeqItem{st->second, it.absent});
  }
  if (e.within) s.within = e.within->nanos;
  if (!ok) return Val{};
  auto idx = static_cast<uint32_t>(c.rule->sequences.size());
  c.rule->sequences.push_back(std::move(s));
  Val r;
  r.type = T(Kind::Bool);
  r.node = mk_node(c, Op::Seq, r.type, e.span, {}, idx);
  return r;
}

}  // namespace braid::check_internal
