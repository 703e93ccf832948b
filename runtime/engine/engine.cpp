// The engine: its public API, setup (the rule tables and the match plan), end of input. The other parts are listed
// in engine_impl.h; semantics in engine.h and docs/language.md ("Runtime semantics").
#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/engine_impl.h"
#include "ir/same_expr.h"

namespace braid::rt {

using ir::NodeId;
using ir::Op;

// ---------------------------------------------------------------------------------------------------------------
// Setup


// Is `id` (under polarity `pos`) monotone when every sequence, absence included, counts as monotone (a decided
// absence stays decided)? Conservative: anything not recognised is not.
bool Engine::Impl::mono_with_absence(const ir::Rule& r, NodeId id, bool pos) const {
  const ir::Node& n = p.node(id);
  auto is_static = [&](NodeId x) {
    return !subtree_has(p, x, Op::Agg) && !subtree_has(p, x, Op::Attr) && !subtree_has(p, x, Op::Seq);
  };
  // +1 grows, -1 shrinks, 0 other
  auto trend = [&](NodeId x) -> int {
    const ir::Node& m = p.node(x);
    if (m.op == Op::ToFloat) return 0;
    if (m.op == Op::Agg) {
      auto k = r.aggregates[static_cast<size_t>(m.imm)].kind;
      if (k == ir::AggKind::Count || k == ir::AggKind::Distinct || k == ir::AggKind::Max) return 1;
      if (k == ir::AggKind::Min) return -1;
      return 0;
    }
    if (m.op == Op::Attr) {
      using A = ir::Attribute;
      switch (static_cast<A>(m.imm)) {
        case A::SessionEvents: case A::SessionSourceIps: case A::SessionDuration: case A::SessionEnd:
        case A::ChainDepth: case A::ChainIdentities: case A::ChainAccounts: return 1;
        case A::SessionId: case A::SessionIdentity: case A::SessionCredential: case A::SessionStart:
        case A::ChainRootIdentity: case A::ChainRootCredential: case A::ChainRootStart: return 0;
      }
    }
    return 0;
  };
  switch (n.op) {
    case Op::Not: return mono_with_absence(r, p.op(n, 0), !pos);
    case Op::And:
    case Op::Or:
      for (NodeId o : p.ops(n))
        if (!mono_with_absence(r, o, pos)) return false;
      return true;
    case Op::Seq: return pos;
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: {
      NodeId a = p.op(n, 0), b = p.op(n, 1);
      if (is_static(a) && is_static(b)) return true;
      Op op = n.op;
      NodeId var = a;
      if (is_static(a)) {
        var = b;
        op = op == Op::Lt ? Op::Gt : op == Op::Le ? Op::Ge : op == Op::Gt ? Op::Lt : Op::Le;
      } else if (!is_static(b)) {
        return false;
      }
      while (p.node(var).op == Op::ToFloat) var = p.op(p.node(var), 0);
      int t = trend(var);
      bool up = op == Op::Gt || op == Op::Ge;
      if (t == 1) return pos == up;
      if (t == -1) return pos != up;
      return false;
    }
    case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
    case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Eq: case Op::Neg: case Op::Add:
    case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod: case Op::ToFloat: case Op::Contains: case Op::StartsWith:
    case Op::EndsWith: case Op::Like: case Op::Matches: case Op::ContainsAny: case Op::StartsWithAny:
    case Op::EndsWithAny: case Op::LikeAny: case Op::InSet: case Op::InCidr: case Op::Exists: case Op::Lower:
    case Op::Upper: case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem: case Op::Concat:
    case Op::ListAt:
      return is_static(id);
  }
  return is_static(id);
}

// The text of each interpolation as written, recovered from the unescaped template by matching the literal
// parts in order; falls back to the IR dump when the template cannot be matched.
std::vector<std::string> Engine::Impl::split_message(const ir::Rule& r) const {
  std::vector<std::string> out(r.message.size());
  std::string_view raw = r.message_raw;
  size_t pos = 0;
  bool ok = true;
  for (size_t i = 0; i < r.message.size() && ok; ++i) {
    const auto& part = r.message[i];
    if (part.expr == ir::kNoNode) {
      if (raw.substr(pos, part.literal.size()) != part.literal) ok = false;
      pos += part.literal.size();
      continue;
    }
    if (pos >= raw.size() || raw[pos] != '{') {
      ok = false;
      break;
    }
    size_t end;
    if (i + 1 < r.message.size()) {
      const auto& next = r.message[i + 1];
      std::string needle = "}" + (next.expr == ir::kNoNode ? next.literal : std::string("{"));
      end = raw.find(needle, pos + 1);
    } else {
      end = raw.empty() || raw.back() != '}' ? std::string_view::npos : raw.size() - 1;
    }
    if (end == std::string_view::npos || end < pos + 1) {
      ok = false;
      break;
    }
    std::string_view inner = raw.substr(pos + 1, end - pos - 1);
    while (!inner.empty() && (inner.front() == ' ' || inner.front() == '\t')) inner.remove_prefix(1);
    while (!inner.empty() && (inner.back() == ' ' || inner.back() == '\t')) inner.remove_suffix(1);
    out[i] = std::string(inner);
    pos = end + 1;
  }
  if (!ok || pos != raw.size()) {
    for (size_t i = 0; i < r.message.size(); ++i)
      out[i] = r.message[i].expr == ir::kNoNode ? std::string() : ir::dump_expr(p, r.message[i].expr);
  }
  return out;
}

// Steps of this source's session rules with the same predicate (ir::same_expr) form one class; aggregates of
// the same kind over the same value of one class are one aggregate of it. Rules then read their steps and
// aggregates from the class's cell in the session (StepCell), which each matching event updates once.
void Engine::Impl::build_step_classes(SourceRt& sr) {
  ir::ExprClasses equal(p);  // its classes are sr.classes (a step without a predicate is never shared)
  for (uint32_t ri : sr.session_rules) {
    const ir::Rule& r = *rules[ri].r;
    std::vector<uint32_t>& classes = sr.step_class.emplace_back();
    for (const ir::Step& step : r.steps) {
      auto [c, fresh] = equal.intern(step.pred);
      if (fresh) sr.classes.emplace_back();
      classes.push_back(c);
    }
    auto& cells = sr.agg_cell.emplace_back();
    for (const ir::Aggregate& g : r.aggregates) {
      uint32_t c = g.step < classes.size() ? classes[g.step] : ir::kNone;
      if (c == ir::kNone) {  // no step (not expected from the checker): an aggregate of its own
        c = equal.intern(ir::kNoNode).first;
        sr.classes.emplace_back();
      }
      auto& aggs = sr.classes[c].aggs;
      uint32_t pos = 0;
      while (pos < aggs.size() &&
             !(aggs[pos].kind == g.kind && (aggs[pos].value == g.value ||
                                            (aggs[pos].value != ir::kNoNode && g.value != ir::kNoNode &&
                                             ir::same_expr(p, aggs[pos].value, g.value)))))
        ++pos;
      if (pos == aggs.size()) aggs.push_back(StepClass::Agg{g.kind, g.value});
      cells.emplace_back(c, pos);
    }
  }
  // Prefixes of sequences without absences, three items or more: items 0..k for k = 1..m-2, shared by equal
  // classes and window (mirrors the wake rule in setup).
  std::map<std::pair<std::vector<uint32_t>, int64_t>, uint32_t> prefix_ids;
  sr.prefixes_ending.assign(sr.classes.size(), {});
  sr.rule_seq_prefix.resize(sr.session_rules.size());
  for (uint32_t k = 0; k < sr.session_rules.size(); ++k) {
    const RuleRt& rr = rules[sr.session_rules[k]];
    auto& per_seq = sr.rule_seq_prefix[k];
    per_seq.assign(rr.r->sequences.size(), ir::kNone);
    for (size_t q = 0; q < rr.r->sequences.size(); ++q) {
      const ir::Sequence& seq = rr.r->sequences[q];
      const auto& items = seq.items;
      bool absent_free = std::none_of(items.begin(), items.end(), [](const ir::SeqItem& it) { return it.absent; });
      if (rr.seq_head_step[q] == ir::kNone || !absent_free || items.size() < 3) continue;
      int64_t within = seq.within ? *seq.within : kForever;
      std::vector<uint32_t> cls{sr.step_class[k][items[0].step]};
      uint32_t parent = ir::kNone;
      for (size_t i = 1; i + 1 < items.size(); ++i) {
        cls.push_back(sr.step_class[k][items[i].step]);
        auto [it, fresh] = prefix_ids.try_emplace({cls, within}, static_cast<uint32_t>(sr.prefixes.size()));
        if (fresh) {
          sr.prefixes.push_back(StepPrefix{cls, within, parent});
          sr.prefixes_ending[cls.back()].push_back(it->second);
        }
        parent = it->second;
      }
      per_seq[q] = parent;
    }
  }
  // Classes heading a sequence with a trailing absence keep their recent match times, for the longest window.
  for (uint32_t k = 0; k < sr.session_rules.size(); ++k) {
    const RuleRt& rr = rules[sr.session_rules[k]];
    for (size_t q = 0; q < rr.r->sequences.size(); ++q) {
      const ir::Sequence& seq = rr.r->sequences[q];
      if (rr.seq_head_step[q] == ir::kNone || seq.items.empty() || !seq.items.back().absent) continue;
      StepClass& cls = sr.classes[sr.step_class[k][rr.seq_head_step[q]]];
      cls.keep_times = true;
      cls.keep_for = std::max(cls.keep_for, seq.within ? *seq.within : kForever);
    }
  }
  for (StepClass& cls : sr.classes) {
    cls.pristine = std::make_unique<StepCell>();
    cls.pristine->aggs.resize(cls.aggs.size());
    for (size_t a = 0; a < cls.aggs.size(); ++a) agg_ops(cls.aggs[a].kind).init(cls.pristine->aggs[a]);
  }
}

bool Engine::Impl::program_reads(ir::Attribute a) const {
  for (const ir::Node& n : p.nodes)
    if (n.op == Op::Attr && static_cast<ir::Attribute>(n.imm) == a) return true;
  return false;
}

void Engine::Impl::setup() {
  sources.resize(p.sources.size());
  stats.sources.resize(p.sources.size());
  for (size_t s = 0; s < p.sources.size(); ++s) {
    sources[s].src = &p.sources[s];
    stats.sources[s].name = p.sources[s].name;
  }
  retired_chains.reserve(opt.retired_chains_kept);
  track_ips = program_reads(ir::Attribute::SessionSourceIps);
  track_identities = program_reads(ir::Attribute::ChainIdentities);
  track_accounts = program_reads(ir::Attribute::ChainAccounts);

  for (size_t s = 0; s < p.sources.size(); ++s) {
    for (const auto& l : p.sources[s].links) {
      LinkRt lr;
      lr.parent_source = static_cast<uint32_t>(s);
      lr.link = &l;
      auto li = static_cast<uint32_t>(links.size());
      links.push_back(std::move(lr));
      sources[s].links_as_parent.push_back(li);
      if (l.target < sources.size()) sources[l.target].links_as_child.push_back(li);
    }
  }

  for (const auto& r : p.rules) {
    bool named = std::find(opt.only_rules.begin(), opt.only_rules.end(), r.id) != opt.only_rules.end();
    if (!opt.only_rules.empty() && !named) continue;
    if (!r.meta.enabled && !(named && opt.include_disabled)) continue;
    if (r.scope == ir::Scope::Event ? r.condition == ir::kNoNode : false) continue;
    RuleRt rr;
    rr.r = &r;
    rr.stat = static_cast<uint32_t>(stats.rules.size());
    stats.rules.push_back(RuleStats{r.id, 0, 0, 0, 0});
    rr.reads_attrs = subtree_has(p, r.condition, Op::Attr);
    rr.attrs_per_event = r.scope != ir::Scope::Session;
    if (r.scope == ir::Scope::Session && r.condition != ir::kNoNode) {
      std::vector<NodeId> todo{r.condition};
      while (!todo.empty()) {
        const ir::Node& n = p.node(todo.back());
        todo.pop_back();
        if (n.op == Op::Attr) {
          using A = ir::Attribute;
          auto a = static_cast<A>(n.imm);
          if (a != A::SessionSourceIps && a != A::SessionId && a != A::SessionIdentity &&
              a != A::SessionCredential && a != A::SessionStart)
            rr.attrs_per_event = true;
        }
        for (NodeId o : p.ops(n)) todo.push_back(o);
      }
    }
    bool has_absence = false;
    for (const auto& q : r.sequences) has_absence = has_absence || q.has_absence();
    rr.window_decidable = r.firing == ir::Firing::AtClose && has_absence && r.condition != ir::kNoNode &&
                          mono_with_absence(r, r.condition, true);
    rr.eager = r.firing == ir::Firing::Monotone || rr.window_decidable;
    rr.grouped = r.scope == ir::Scope::Group;
    rr.step_aggs.resize(r.steps.size());
    for (size_t a = 0; a < r.aggregates.size(); ++a) {
      const auto& g = r.aggregates[a];
      if (g.step < r.steps.size()) rr.step_aggs[g.step].push_back(static_cast<uint32_t>(a));
      std::string name;
      if (g.kind == ir::AggKind::Distinct) {
        name = "distinct(" + (g.step < r.steps.size() ? r.steps[g.step].label : std::string("?"));
        if (g.field < p.fields.size()) name += "." + p.fields[g.field].text;
        name += ")";
      }
      rr.saturated_names.push_back(std::move(name));
    }
    rr.expr_text = split_message(r);
    // Sequences that are conjuncts of the top-level `and` (the condition is false while one has not matched).
    if (r.condition != ir::kNoNode) {
      std::vector<NodeId> conj{r.condition};
      for (size_t i = 0; i < conj.size(); ++i) {
        const ir::Node& n = p.node(conj[i]);
        if (n.op == Op::And) conj.insert(conj.end(), p.ops(n).begin(), p.ops(n).end());
        else if (n.op == Op::Seq && static_cast<size_t>(n.imm) < r.sequences.size())
          rr.seq_conjuncts.push_back(static_cast<uint32_t>(n.imm));
      }
    }
    // Which step matches need a visit (RuleRt::wake): with sequence conjuncts, a session rule is false until they
    // match, so a step that only feeds aggregates (kept in cells) or heads a sequence whose first stage its cell
    // keeps changes nothing of the rule's own while it is not armed.
    for (const ir::Sequence& q : r.sequences) {
      RuleRt::SeqPlan& plan = rr.seq_plans.emplace_back();
      for (const auto& it : q.items) {
        if (plan.pos.size() == 64) break;  // (the automaton reads at most 64 positives)
        if (!it.absent) {
          plan.pos.push_back(it.step);
        } else if (!plan.pos.empty()) {
          plan.kills.emplace_back(static_cast<uint32_t>(plan.pos.size() - 1), it.step);
        }
      }
      plan.trailing = !q.items.empty() && q.items.back().absent;
    }
    rr.seq_head_step.assign(r.sequences.size(), ir::kNone);
    rr.wake.assign(r.steps.size(), 1);
    if (r.scope == ir::Scope::Session && !rr.seq_conjuncts.empty()) {
      std::fill(rr.wake.begin(), rr.wake.end(), 0);
      for (size_t q = 0; q < r.sequences.size(); ++q) {
        const auto& items = r.sequences[q].items;
        bool simple = items.size() >= 2 && !items[0].absent && !items[1].absent;
        if (simple) rr.seq_head_step[q] = items[0].step;
        // A trailing absence only cancels a pending match, and a state with one is watched (visited anyway).
        size_t end = items.size();
        while (end > 0 && items[end - 1].absent) --end;
        // Without absences, the stages of all items but the last are shared prefixes (StepPrefix): only the last
        // item moves the rule's own state.
        bool absent_free = std::none_of(items.begin(), items.end(), [](const ir::SeqItem& it) { return it.absent; });
        size_t from = simple ? (absent_free && items.size() >= 3 ? items.size() - 1 : 1) : 0;
        for (size_t i = from; i < end; ++i)
          if (items[i].step < rr.wake.size()) rr.wake[items[i].step] = 1;
      }
    }
    auto ri = static_cast<uint32_t>(rules.size());
    rr.pristine_state = std::make_unique<RuleState>();
    reset_state(*rr.pristine_state, rr);
    rr.pristine_state->rule = ri;
    if (r.scope == ir::Scope::Chain) {
      rr.state_slot = chain_state_slots++;
      chain_slot_rule.push_back(ri);
    }
    rules.push_back(std::move(rr));
    for (uint32_t s : r.sources) {
      if (s >= sources.size()) continue;
      auto& sr = sources[s];
      switch (r.scope) {
        case ir::Scope::Event: sr.event_rules.push_back(ri); break;
        case ir::Scope::Session: sr.session_rules.push_back(ri); break;
        case ir::Scope::Chain: sr.chain_rules.push_back(ri); break;
        case ir::Scope::Group: sr.group_rules.push_back(ri); break;
      }
    }
  }
  // Per source: each session rule's position, and the step classes of its session rules.
  for (auto& sr : sources) {
    sr.session_pos.assign(rules.size(), ir::kNone);
    for (uint32_t k = 0; k < sr.session_rules.size(); ++k) sr.session_pos[sr.session_rules[k]] = k;
    build_step_classes(sr);
  }
  // Which attribute-reading conditions cannot hold before a step matched: a conjunct (of the top-level `and`)
  // that reads no attribute is false on the pristine state.
  for (RuleRt& rr : rules) {
    if (!rr.reads_attrs || rr.r->condition == ir::kNoNode) continue;
    std::vector<NodeId> conj{rr.r->condition};
    for (size_t i = 0; i < conj.size() && !rr.false_until_step; ++i) {
      const ir::Node& n = p.node(conj[i]);
      if (n.op == Op::And) {
        for (NodeId o : p.ops(n)) conj.push_back(o);
        continue;
      }
      if (subtree_has(p, conj[i], Op::Attr)) continue;
      View v;
      v.e = this, v.r = rr.r, v.st = rr.pristine_state.get();
      EvalContext ctx{nullptr, nullptr, &v};
      rr.false_until_step = !in.test(conj[i], ctx);
    }
  }
  // Per source: a rule's session-state position, and the rules every event (every close) must visit.
  for (auto& sr : sources) {
    sr.runs_chain_rule.assign(rules.size(), 0);
    for (uint32_t k = 0; k < sr.session_rules.size(); ++k) {
      uint32_t ri = sr.session_rules[k];
      if (rules[ri].reads_attrs && !rules[ri].false_until_step) sr.attr_session_rules.push_back(ri);
      if (!pristine_false(rules[ri])) sr.close_session_rules.push_back(ri);
    }
    for (uint32_t ri : sr.chain_rules) {
      sr.runs_chain_rule[ri] = 1;
      if (rules[ri].reads_attrs && !rules[ri].false_until_step) sr.attr_chain_rules.push_back(ri);
    }
  }
  for (uint32_t ri = 0; ri < rules.size(); ++ri)
    if (rules[ri].r->scope == ir::Scope::Chain && !pristine_false(rules[ri])) close_chain_rules.push_back(ri);

  // The match plan, resolved to the rules that run.
  plan = ir::build_match_plan(p);
  std::vector<uint32_t> rt_of(p.rules.size(), ir::kNone);
  for (uint32_t ri = 0; ri < rules.size(); ++ri) {
    rt_of[static_cast<size_t>(rules[ri].r - p.rules.data())] = ri;
    rules[ri].hit_base = static_cast<uint32_t>(step_hits.size());
    step_hits.resize(step_hits.size() + rules[ri].r->steps.size(), 0);
  }
  rule_flags.assign(rules.size(), 0);
  size_t most = 0;
  for (size_t s = 0; s < p.sources.size(); ++s) {
    SourceRt& sr = sources[s];
    ir::ExprClasses equal(p);  // its classes are sr.groups
    sr.rule_step_groups.resize(sr.session_rules.size());
    for (const ir::Predicate& pr : plan.sources[s].predicates) {
      uint32_t ri = rt_of[pr.rule];
      PredTarget tg{ri, pr.step};
      if (ri != ir::kNone && pr.step != ir::kNone && rules[ri].grouped) {
        tg.hit = rules[ri].hit_base + pr.step;  // (no step class or group: feed_groups handles them)
        tg.grouped = true;
      } else if (ri != ir::kNone && pr.step != ir::kNone) {
        tg.hit = rules[ri].hit_base + pr.step;
        auto [group, fresh] = equal.intern(pr.node);
        tg.group = group;
        if (fresh) sr.groups.emplace_back();
        StepGroup& g = sr.groups[tg.group];
        uint32_t k = sr.session_pos[ri];
        if (k != ir::kNone) {
          g.cls = sr.step_class[k][pr.step];
          auto& sg = sr.rule_step_groups[k];
          if (sg.size() < rules[ri].r->steps.size()) sg.resize(rules[ri].r->steps.size(), ir::kNone);
          sg[pr.step] = tg.group;
        }
        if (rules[ri].wake[pr.step]) g.wake_preds.push_back(static_cast<uint32_t>(sr.preds.size()));
      }
      sr.preds.push_back(tg);
    }
    sr.class_hit.assign(sr.classes.size(), 0);
    sr.group_hit.assign(sr.groups.size(), 0);
    most = std::max(most, plan.sources[s].predicates.size());
  }
  match_ids.resize(most + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// End of input

void Engine::Impl::finish() {
  if (finished) return;
  // Release everything held, across sources in one event-time order (ties: arrival order), passing each
  // source's deadlines before the event; then pass every remaining deadline (sessions close in the order of their
  // close times, absence windows end), source by source in program order; then close anything still open, in
  // the order the sessions were opened.
  drain();
  for (uint32_t s = 0; s < sources.size(); ++s)
    if (!sources[s].ahead.empty()) accept_ahead(s);  // the input ended on them: nothing refutes them
  for (;;) {
    uint32_t best = UINT32_MAX;
    for (uint32_t s = 0; s < sources.size(); ++s) {
      if (sources[s].buffer.empty()) continue;
      if (best == UINT32_MAX || sources[best].buffer.top() > sources[s].buffer.top()) best = s;
    }
    if (best == UINT32_MAX) break;
    release(best, sources[best].buffer.top().time);
  }
  for (uint32_t s = 0; s < sources.size(); ++s) release(s, kForever);
  std::vector<Session*> open;
  sessions.for_each_live([&](Session& se) {
    if (se.open) open.push_back(&se);
  });
  std::sort(open.begin(), open.end(), [](const Session* a, const Session* b) { return a->uid < b->uid; });
  for (Session* se : open)
    if (se->ref != kNoRef && se->open) close_session(*se, se->last);
  // Every open group has a close deadline, passed above; one a damaged checkpoint left without closes here.
  while (group_oldest != kNoRef) {
    Group& g = groups.at(group_oldest);
    close_group(g, g.last);
  }
  finished = true;
  stop_workers();  // no more events: the workers are done
}

// ---------------------------------------------------------------------------------------------------------------
// Engine

Engine::Engine(const ir::Program& program, EngineOptions options)
    : impl_(std::make_unique<Impl>(program, std::move(options))) {
  if (impl_->opt.alert_events > kMaxAlertEvents)
    throw std::invalid_argument(fmt::format("alert_events {} is above the maximum, {}", impl_->opt.alert_events,
                                            kMaxAlertEvents));
  impl_->setup();
  impl_->own_preparer = std::make_unique<Preparer>(program, impl_->plan, impl_->opt.matcher, false);
  impl_->own_preparer->keep_raw(impl_->opt.alert_events > 0, bool(impl_->opt.on_bad_record));
  impl_->start_workers();
}

Engine::~Engine() { impl_->stop_workers(); }

void Engine::set_sink(AlertSink sink) { impl_->sink = std::move(sink); }

void Engine::finish() { impl_->finish(); }

const EngineStats& Engine::stats() const {
  // Event rules are (logically) tested on every event of their sources; counted here, not per event.
  Impl& m = *impl_;
  for (const RuleRt& rr : m.rules) {
    if (rr.r->scope != ir::Scope::Event) continue;
    uint64_t n = 0;
    for (uint32_t s : rr.r->sources)
      if (s < m.sources.size()) n += m.sources[s].released;
    m.stats.rules[rr.stat].evaluations = n;
  }
  // Batches prepared by workers bring their type mismatches along; the engine thread's own are read here.
  m.stats.type_mismatches = m.worker_mismatches + m.own_preparer->mismatches();
  MatcherCounters mc = m.worker_matcher;
  if (m.opt.matcher) mc += m.opt.matcher->counters();  // the engine thread's (its preparer shares it)
  m.stats.prefilter_scans = mc.prefilter_scans;
  m.stats.prefilter_literals = mc.prefilter_literals;
  m.stats.prefilter_selected = mc.prefilter_selected;
  m.stats.sessions_live = m.sessions.live();
  m.stats.groups_live = m.groups.live();
  m.stats.worker_nanos.resize(m.opt.threads > 1 ? m.opt.threads : 0);
  for (size_t i = 0; i < m.stats.worker_nanos.size(); ++i)
    m.stats.worker_nanos[i] = m.worker_busy ? m.worker_busy[i].load(std::memory_order_relaxed) : 0;
  m.stats.wait_nanos = m.wait_nanos;
  m.stats.help_nanos = m.help_nanos;
  m.stats.chains_live = m.chains.live();
  for (size_t s = 0; s < m.sources.size(); ++s) {
    m.stats.sources[s].newest = m.sources[s].max_seen;
    m.stats.sources[s].watermark = m.sources[s].watermark();
    m.stats.sources[s].held = m.sources[s].buffer.size() + m.sources[s].ahead.size();
  }
  return m.stats;
}

std::vector<ChainInfo> Engine::chains() const {
  const Impl& m = *impl_;
  std::vector<ChainInfo> out = m.retired_chains;
  m.chains.for_each_live([&](const Chain& c) { out.push_back(m.chain_info(c)); });
  std::sort(out.begin(), out.end(), chain_info_before);
  return out;
}

std::vector<std::string> Engine::active_rules() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->rules) out.push_back(r.r->id);
  return out;
}

}  // namespace braid::rt
