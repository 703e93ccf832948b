// One released (or late) event through the rules: which predicates hold, event rules fire, and the session and
// chain rules whose steps matched (or whose conditions read attributes, or that wait on an absence window)
// update their state and decide. The work per event follows what matched, not how many rules there are.
#include <algorithm>
#include <chrono>

#include "engine/engine_impl.h"

namespace braid::rt {

namespace {

// The last value a session added to a distinct set, kept as its encoding (`seen` false: none yet).
bool same_value(const Value& v, const std::string& last, std::string& enc) {
  enc.clear();
  encode(v, enc);
  return enc == last;
}
void remember(const Value& v, std::string& last, bool& seen) {
  last.clear();
  encode(v, last);
  seen = true;
}

}  // namespace

void Engine::Impl::process_event(uint32_t s, const PreparedEvent& ev, bool late) {
  if (ev.slots) {
    process_dense(s, ev, late);
    return;
  }
  // A prepared event keeps its non-null slots only: expand them into the dense scratch the evaluators index, and
  // put the scratch back to all Null afterwards.
  const size_t nslots = p.sources[s].slots.size();
  if (dense_slots.size() < nslots + 1) dense_slots.resize(nslots + 1);
  expand_slots(ev, dense_slots.data());
  PreparedEvent d = ev;
  d.slots = dense_slots.data();
  process_dense(s, d, late);
  for (uint32_t k = 0; k < ev.nsparse; ++k) dense_slots[ev.sparse_slots[k]] = Value();
}

void Engine::Impl::process_dense(uint32_t s, const PreparedEvent& ev, bool late) {
  SourceRt& sr = sources[s];
  const ir::Source& src = *sr.src;
  const Value* slots = ev.slots;
  const int64_t t = ev.time;
  cur = Cur{s, slots, t, ev.id, nullptr, &ev};
  ++event_serial;

  Session* se = nullptr;
  bool ips_grew = false;  // the event added a source ip to its session (session.source_ips changed)
  if (!late) {
    Value ident = clause(s, src.identity, slots);
    if (ident.tag != Tag::String) {
      ++stats.no_identity;
      ++stats.sources[s].no_identity;
    } else {
      Value cred = clause(s, src.credential, slots);
      se = session_for(s, ident, cred, t);
    }
  }
  cur.session = se;
  Chain* ch = se ? &chains.at(se->chain) : nullptr;
  if (se) {
    ++se->events;
    se->last = std::max(se->last, t);
    // Distinct sets behind attributes, only when some rule reads them. A session's identity joins its chain's set
    // once; ips and accounts are skipped when they repeat the session's previous one (a set: adding it again
    // changes nothing), which is the common case.
    if (track_ips && src.ip != ir::kNoNode) {
      Value ip = clause(s, src.ip, slots);
      const SessionState& seen = se->side();
      if (!seen.seen_ip || !same_value(ip, seen.last_ip, scratch)) {
        SessionState& ss = side(*se);
        int64_t before = ss.ips.count();
        ss.ips.add(ip, opt.distinct_bound, scratch);
        ips_grew = ss.ips.count() != before;
        remember(ip, ss.last_ip, ss.seen_ip);
      }
    }
    ch->events++;
    ch->last_time = std::max(ch->last_time, t);
    ch->last_session = se->ref;
    if (track_identities && se->events == 1)
      side(*ch).identities.add(Value::string(se->identity()), opt.distinct_bound, scratch);
    if (track_accounts && src.account != ir::kNoNode) {
      Value acct = clause(s, src.account, slots);
      const SessionState& seen = se->side();
      if (!seen.seen_account || !same_value(acct, seen.last_account, scratch)) {
        SessionState& ss = side(*se);
        side(*ch).accounts.add(acct, opt.distinct_bound, scratch);
        remember(acct, ss.last_account, ss.seen_account);
      }
    }
    // The close deadline (one per session in the heap: see expire()).
    int64_t due = std::min(sat_add(se->last, src.session_gap), sat_add(se->start, src.session_max));
    uint64_t order = deadline_order++;
    if (due != se->close_due) {
      bool first = se->close_due == kNever;
      se->close_due = due;
      se->close_order = order;
      if (first) sr.deadlines.push(Deadline{due, order, se->ref, 0, DeadlineKind::SessionClose});
    }
  }

  // Which predicates hold: event rules fire in program order; session/chain rules get their matched steps.
  ++sr.released;
  View sv;
  sv.e = this, sv.se = se;
  // (Group rules' steps hold without a session too; late events join no group.)
  uint32_t nm = match_predicates(s, ev, &sv, se != nullptr || (!late && !sr.group_rules.empty()));
  for (uint32_t i = 0; i < nm; ++i) {
    const PredTarget& tg = sr.preds[match_ids[i]];
    if (tg.rule == ir::kNone) continue;
    if (tg.step == ir::kNone) {
      fire(tg.rule, nullptr, se, nullptr, "event", t, true);
    } else if (tg.grouped) {
      if (late) continue;
      step_hits[tg.hit] = 1;
      if (!(rule_flags[tg.rule] & kTouched)) group_touched.push_back(tg.rule);
      rule_flags[tg.rule] |= kTouched;
    } else if (se && !sr.group_hit[tg.group]) {
      sr.group_hit[tg.group] = 1;
      sr.hit_groups.push_back(tg.group);
    }
  }
  if (!se) {
    feed_groups(s);
    return;
  }
  // Each matched group once: its class's cell, and the members whose rules must be visited.
  for (uint32_t g : sr.hit_groups) {
    const StepGroup& grp = sr.groups[g];
    if (grp.cls != ir::kNone && !sr.class_hit[grp.cls]) {
      sr.class_hit[grp.cls] = 1;
      sr.hit_classes.push_back(grp.cls);
    }
    for (uint32_t k : grp.wake_preds) {
      const PredTarget& tg = sr.preds[k];
      step_hits[tg.hit] = 1;
      uint8_t& f = rule_flags[tg.rule];
      if (!(f & kTouched)) touched.push_back(tg.rule);
      f |= kTouched | kWoken;
    }
  }
  // Armed rules (their conditions may change with any step's aggregates) and watched ones (a trailing absence
  // may cancel their pending match) also see their other matched steps.
  const SessionState& held = se->side();
  for (const auto* list : {&held.armed, &held.watch, &held.watch_ips}) {
    for (uint32_t k : *list) {
      uint32_t ri = sr.session_rules[k];
      const auto& groups_of = sr.rule_step_groups[k];
      for (size_t i = 0; i < groups_of.size(); ++i) {
        if (groups_of[i] == ir::kNone || !sr.group_hit[groups_of[i]]) continue;
        step_hits[rules[ri].hit_base + i] = 1;
        if (!(rule_flags[ri] & kTouched)) touched.push_back(ri);
        rule_flags[ri] |= kTouched;
      }
    }
  }
  for (uint32_t g : sr.hit_groups) sr.group_hit[g] = 0;
  sr.hit_groups.clear();
  if (!std::is_sorted(touched.begin(), touched.end())) std::sort(touched.begin(), touched.end());
  update_cells(s, *se);

  // The rules to visit, in program order: those a step of which matched, those whose condition reads attributes
  // (they changed; without state only if the condition could hold before any step matched), and those with state
  // waiting on an absence window (it may have ended).
  visit.clear();
  visit_chain.clear();
  for (uint32_t ri : touched) {
    (sr.session_pos[ri] == ir::kNone ? visit_chain : visit).push_back(ri);  // (session: woken or armed)
  }
  // Each part is ascending (touched follows the predicates, in program order): merged, not sorted.
  // (An attribute-reading rule one of whose sequence conjuncts has not matched stays false: not watched.)
  size_t mid = visit.size();
  visit.insert(visit.end(), sr.attr_session_rules.begin(), sr.attr_session_rules.end());
  std::inplace_merge(visit.begin(), visit.begin() + static_cast<ptrdiff_t>(mid), visit.end());
  mid = visit.size();
  for (uint32_t k : se->side().watch) visit.push_back(sr.session_rules[k]);
  std::inplace_merge(visit.begin(), visit.begin() + static_cast<ptrdiff_t>(mid), visit.end());
  if (ips_grew) {
    mid = visit.size();
    for (uint32_t k : se->side().watch_ips) visit.push_back(sr.session_rules[k]);
    std::inplace_merge(visit.begin(), visit.begin() + static_cast<ptrdiff_t>(mid), visit.end());
  }
  visit_chain.insert(visit_chain.end(), sr.attr_chain_rules.begin(), sr.attr_chain_rules.end());
  for (uint32_t slot : ch->side().watch) {
    uint32_t ri = chain_slot_rule[slot];
    if (sr.runs_chain_rule[ri]) visit_chain.push_back(ri);
  }
  for (auto* v : {&visit, &visit_chain}) {
    if (!std::is_sorted(v->begin(), v->end())) std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }

  for (uint32_t pass = 0; pass < 2; ++pass) {
    Chain* c = pass == 0 ? nullptr : ch;
    for (uint32_t ri : pass == 0 ? visit : visit_chain) {
      RuleRt& rr = rules[ri];
      // (A session's states are in its side block, made with the first of them.)
      uint32_t slot = pass == 0 ? sr.session_pos[ri] : rr.state_slot;
      auto find = [&]() -> RuleState* {
        RuleStates* have = pass == 0 ? (se->state ? &se->state->rules : nullptr)
                                     : (ch->state ? &ch->state->rules : nullptr);
        return have ? state_of(*have, slot) : nullptr;
      };
      auto states = [&]() -> RuleStates& { return pass == 0 ? side(*se).rules : side(*ch).rules; };
      auto t0 = opt.rule_timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      RuleState* st = find();
      if (st) {
        if (!st->fired) feed(rr, *st, se, c, ri);
      } else if (rule_flags[ri] & kTouched) {
        feed(rr, make_state(states(), slot, rr), se, c, ri);
      } else {
        // Reads attributes, no step matched yet: decide on the pristine state, which exists only if it fires.
        ++stats.rules[rr.stat].evaluations;
        if (rr.eager && pristine_holds(rr, se, c))
          fire(ri, &make_state(states(), slot, rr), se, c, "event", cur.time, true);
      }
      if (opt.rule_timing) stats.rules[rr.stat].nanos += since(t0);
      if (RuleState* now = st ? st : find())
        pass == 0 ? rewatch(*se, slot, rr, *now) : rewatch_chain(*ch, slot, rr, *now);
    }
  }
  for (uint32_t ri : touched) {
    std::fill_n(step_hits.begin() + rules[ri].hit_base, rules[ri].r->steps.size(), 0);
    rule_flags[ri] = 0;
  }
  touched.clear();
  feed_groups(s);

  record_mints(s, *se);
}

// The predicates of source `s` that hold for the current event, as sorted ids into match_ids (so rules act in
// program order whichever evaluator found them).
uint32_t Engine::Impl::match_predicates(uint32_t s, const PreparedEvent& ev, const StateView* session,
                                        bool with_steps) {
  const Value* slots = ev.slots;
  uint32_t n = 0;
  if (ev.has_matches) {  // a worker matched them (they read no session state)
    std::copy(ev.matches, ev.matches + ev.nmatches, match_ids.begin());
    return ev.nmatches;
  }
  if (opt.matcher) {
    n = opt.matcher->match(in, s, slots, session, match_ids.data());
    sort_match_ids(match_ids.data(), n, plan.sources[s].predicates.size(), id_bits);
    return n;
  }
  // The reference: every predicate of every running rule, one at a time.
  EvalContext ctx{slots, in.field_slots(s), session};
  const auto& preds = plan.sources[s].predicates;
  for (uint32_t k = 0; k < preds.size(); ++k) {
    const PredTarget& t = sources[s].preds[k];
    if (t.rule == ir::kNone || (t.step != ir::kNone && !with_steps)) continue;
    RuleRt& rr = rules[t.rule];
    auto t0 = opt.rule_timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    if (in.test(preds[k].node, ctx)) match_ids[n++] = k;
    if (opt.rule_timing) stats.rules[rr.stat].nanos += since(t0);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Rule state: sparse per session (chain), pooled

RuleState* Engine::Impl::state_of(RuleStates& states, uint32_t slot) const {
  auto it = std::lower_bound(states.begin(), states.end(), slot,
                             [](const std::pair<uint32_t, RuleState*>& e, uint32_t k) { return e.first < k; });
  return it != states.end() && it->first == slot ? it->second : nullptr;
}

RuleState& Engine::Impl::make_state(RuleStates& states, uint32_t slot, RuleRt& rr) {
  std::unique_ptr<RuleState> st;
  if (!rr.pool.empty()) {
    st = std::move(rr.pool.back());
    rr.pool.pop_back();
  } else {
    st = std::make_unique<RuleState>();
  }
  reset_state(*st, rr);
  st->rule = static_cast<uint32_t>(&rr - rules.data());
  auto it = std::lower_bound(states.begin(), states.end(), slot,
                             [](const std::pair<uint32_t, RuleState*>& e, uint32_t k) { return e.first < k; });
  RuleState* raw = st.release();
  states.insert(it, {slot, raw});
  return *raw;
}

void Engine::Impl::free_states(RuleStates& states) {
  for (auto& [slot, st] : states) rules[st->rule].pool.emplace_back(st);
  states.clear();
}

// ---------------------------------------------------------------------------------------------------------------
// Step cells: the state of equal steps of session rules, once per session

const StepCell* Engine::Impl::find_cell(const Session& se, uint32_t c) {
  const StepCells& cells = se.side().cells;
  auto it = std::lower_bound(cells.begin(), cells.end(), c,
                             [](const std::pair<uint32_t, StepCell*>& e, uint32_t k) { return e.first < k; });
  return it != cells.end() && it->first == c ? it->second : nullptr;
}

StepCell& Engine::Impl::cell_for(Session& se, uint32_t c) {
  StepCells& cells = side(se).cells;
  auto it = std::lower_bound(cells.begin(), cells.end(), c,
                             [](const std::pair<uint32_t, StepCell*>& e, uint32_t k) { return e.first < k; });
  if (it != cells.end() && it->first == c) return *it->second;
  StepClass& cls = sources[se.source].classes[c];
  std::unique_ptr<StepCell> cell;
  if (!cls.pool.empty()) {
    cell = std::move(cls.pool.back());
    cls.pool.pop_back();
  } else {
    cell = std::make_unique<StepCell>();
  }
  cell->cls = c;
  cell->step.count = 0;
  cell->step.nids = 0;
  cell->step.nraws = 0;
  cell->last = cell->before = kNever;
  cell->at = 0;
  cell->times.clear();
  cell->first = 0;
  cell->appended = 0;
  cell->dropped = false;
  cell->aggs.resize(cls.aggs.size());
  for (size_t a = 0; a < cls.aggs.size(); ++a) agg_ops(cls.aggs[a].kind).init(cell->aggs[a]);
  StepCell* raw = cell.release();
  cells.insert(it, {c, raw});
  return *raw;
}

void Engine::Impl::update_cells(uint32_t s, Session& se) {
  SourceRt& sr = sources[s];
  if (sr.hit_classes.empty()) return;
  sr.hit_classes_done.clear();
  View sv;
  sv.e = this, sv.se = &se;
  EvalContext ctx{cur.slots, in.field_slots(s), &sv};
  for (uint32_t c : sr.hit_classes) {
    sr.class_hit[c] = 0;
    if (!sr.prefixes_ending[c].empty()) sr.hit_classes_done.push_back(c);
    StepCell& cell = cell_for(se, c);
    cell.before = cell.last;
    cell.last = cur.time;
    cell.at = event_serial;
    const StepClass& cls = sr.classes[c];
    if (cls.keep_times) {
      auto& v = cell.times;
      if (v.size() == cell.first || v.back() < cur.time) {
        v.push_back(cur.time);
        cell.appended = event_serial;
      }
      // Drop what no reader can use: older than the longest window; and beyond the cap (+1: this event's), which
      // loses starts a reader could use.
      int64_t oldest = sat_sub(cur.time, cls.keep_for);
      while (cell.first < v.size() &&
             (v[cell.first] < oldest || v.size() - cell.first > size_t{opt.max_partial_matches} + 1)) {
        if (v[cell.first] >= oldest) {
          cell.dropped = true;
          ++stats.partial_matches_dropped;
        }
        ++cell.first;
      }
      if (cell.first > 64 && cell.first * 2 > v.size()) {
        v.erase(v.begin(), v.begin() + static_cast<ptrdiff_t>(cell.first));
        cell.first = 0;
      }
    }
    StepState& ss = cell.step;
    ++ss.count;
    if (ss.nids < opt.step_event_ids) {
      if (ss.ids.size() <= ss.nids) ss.ids.emplace_back();
      ss.ids[ss.nids++].assign(cur.id);
    }
    if (ss.nraws < opt.alert_events) keep_raw(ss);
    for (size_t a = 0; a < cls.aggs.size(); ++a) {
      const AggOps& ops = agg_ops(cls.aggs[a].kind);
      AggUpdate u;
      u.value = ops.reads_value && cls.aggs[a].value != ir::kNoNode ? in.eval(cls.aggs[a].value, ctx) : Value::null();
      u.time = cur.time;
      u.distinct_bound = opt.distinct_bound;
      u.scratch = &scratch;
      ops.update(cell.aggs[a], u);
    }
  }
  // Sequence prefixes whose last class matched: from their parents' stages as before this event.
  for (uint32_t c : sr.hit_classes_done) {
    for (uint32_t pi : sr.prefixes_ending[c]) {
      const StepPrefix& px = sr.prefixes[pi];
      int64_t start = kNever;
      if (px.parent == ir::kNone) {
        start = head_before(se, px.classes[0]);
      } else if (const PrefixCell* parent = prefix_cell(se, px.parent, false)) {
        start = parent->read(event_serial);
      }
      if (start == kNever || start < sat_sub(cur.time, px.within)) continue;
      PrefixCell* cell = prefix_cell(se, pi, true);
      if (cell->value != kNever && cell->value >= start) continue;
      if (cell->at != event_serial) cell->before = cell->value;
      cell->value = start;
      cell->at = event_serial;
    }
  }
  sr.hit_classes_done.clear();
  sr.hit_classes.clear();
}

PrefixCell* Engine::Impl::prefix_cell(Session& se, uint32_t prefix, bool create) {
  if (!se.state && !create) return nullptr;
  PrefixCells& prefixes = side(se).prefixes;
  auto it = std::lower_bound(prefixes.begin(), prefixes.end(), prefix,
                             [](const std::pair<uint32_t, PrefixCell>& e, uint32_t k) { return e.first < k; });
  if (it != prefixes.end() && it->first == prefix) return &it->second;
  if (!create) return nullptr;
  return &prefixes.insert(it, {prefix, PrefixCell{}})->second;
}

int64_t Engine::Impl::head_before(const Session& se, uint32_t cls) const {
  const StepCell* cell = find_cell(se, cls);
  if (!cell) return kNever;
  return cell->at == event_serial ? cell->before : cell->last;
}

void Engine::Impl::free_cells(Session& se) {
  if (!se.state) return;
  for (auto& [c, cell] : se.state->cells) sources[se.source].classes[c].pool.emplace_back(cell);
  se.state->cells.clear();
}

const StepState& Engine::Impl::step_state(const RuleState& st, const Session* se, uint32_t step) const {
  const RuleRt& rr = rules[st.rule];
  if (rr.r->scope != ir::Scope::Session) return st.steps[step];
  const SourceRt& sr = sources[se ? se->source : rr.r->sources.front()];
  uint32_t c = sr.step_class[sr.session_pos[st.rule]][step];
  const StepCell* cell = se ? find_cell(*se, c) : nullptr;
  return (cell ? cell : sr.classes[c].pristine.get())->step;
}

const AggState& Engine::Impl::agg_state(const RuleState& st, const Session* se, uint32_t agg) const {
  const RuleRt& rr = rules[st.rule];
  if (rr.r->scope != ir::Scope::Session) return st.aggs[agg];
  const SourceRt& sr = sources[se ? se->source : rr.r->sources.front()];
  auto [c, pos] = sr.agg_cell[sr.session_pos[st.rule]][agg];
  const StepCell* cell = se ? find_cell(*se, c) : nullptr;
  return (cell ? cell : sr.classes[c].pristine.get())->aggs[pos];
}

// Shapes a (possibly reused) state for a rule, as if new; the capacity of its vectors and strings stays.
void Engine::Impl::reset_state(RuleState& st, const RuleRt& rr) const {
  const ir::Rule& r = *rr.r;
  st.fired = false;
  // Session rules keep their steps and aggregates in step cells (shared with equal steps of other rules).
  const bool own = r.scope != ir::Scope::Session;
  st.steps.resize(own ? r.steps.size() : 0);
  for (StepState& ss : st.steps) {
    ss.count = 0;
    ss.nids = 0;
    ss.nraws = 0;
  }
  st.aggs.resize(own ? r.aggregates.size() : 0);
  for (size_t a = 0; a < st.aggs.size(); ++a) agg_ops(r.aggregates[a].kind).init(st.aggs[a]);
  st.seqs.resize(r.sequences.size());
  for (size_t q = 0; q < r.sequences.size(); ++q) {
    size_t m = 0;
    for (const auto& it : r.sequences[q].items) m += it.absent ? 0 : 1;
    SeqState& ss = st.seqs[q];
    ss.stages.resize(m > 0 ? m - 1 : 0);
    for (auto& stage : ss.stages) stage.clear();
    ss.matched = false;
    ss.pending = kNever;
    ss.dropped = false;
  }
}

bool Engine::Impl::pristine_false(RuleRt& rr) {
  if (rr.reads_attrs) return rr.false_until_step;
  if (rr.pristine < 0) rr.pristine = pristine_holds(rr, nullptr, nullptr) ? 1 : 0;
  return rr.pristine == 0;
}

bool Engine::Impl::pristine_holds(RuleRt& rr, const Session* se, const Chain* ch) {
  View v;
  v.e = this, v.r = rr.r, v.st = rr.pristine_state.get(), v.se = se, v.ch = ch;
  EvalContext ctx{nullptr, nullptr, &v};
  return in.test(rr.r->condition, ctx);
}

// ---------------------------------------------------------------------------------------------------------------
// Steps, aggregates, sequences

// Steps, aggregates and sequences of one rule for the current event; then eager rules evaluate their condition.
void Engine::Impl::feed(RuleRt& rr, RuleState& st, Session* se, Chain* ch, uint32_t ri, Group* gr) {
  const ir::Rule& r = *rr.r;
  View sv;
  sv.e = this, sv.se = se, sv.ch = ch;
  EvalContext ctx{cur.slots, in.field_slots(cur.source), &sv};
  const uint8_t* matched = &step_hits[rr.hit_base];  // filled by process_event from the match plan
  const bool any = (rule_flags[ri] & kTouched) != 0;
  ++stats.rules[rr.stat].evaluations;
  // Absence windows that ended before this event are decided first (the event cannot be inside them).
  bool newly = decide_seqs(r, st, cur.time, false);
  if (any) {
    for (size_t i = 0; i < st.steps.size(); ++i) {  // own steps (chain rules); session rules': update_cells
      if (!matched[i]) continue;
      StepState& ss = st.steps[i];
      ++ss.count;
      if (ss.nids < opt.step_event_ids) {
        if (ss.ids.size() <= ss.nids) ss.ids.emplace_back();
        ss.ids[ss.nids++].assign(cur.id);
      }
      if (ss.nraws < opt.alert_events) keep_raw(ss);
      for (uint32_t a : rr.step_aggs[i]) {
        const ir::Aggregate& d = r.aggregates[a];
        const AggOps& ops = agg_ops(d.kind);
        AggUpdate u;
        u.value = ops.reads_value && d.value != ir::kNoNode ? in.eval(d.value, ctx) : Value::null();
        u.time = cur.time;
        u.distinct_bound = opt.distinct_bound;
        u.scratch = &scratch;
        ops.update(st.aggs[a], u);
      }
    }
    for (size_t q = 0; q < r.sequences.size(); ++q) {
      bool was = st.seqs[q].matched;
      int64_t pending = st.seqs[q].pending;
      SeqHead head;
      const bool derived = rr.seq_head_step[q] != ir::kNone;
      if (derived && se) {
        const SourceRt& sr = sources[se->source];
        uint32_t px = sr.rule_seq_prefix[sr.session_pos[ri]][q];
        const StepCell* found = nullptr;
        if (px != ir::kNone) {
          head.whole = true;
          const PrefixCell* pc = prefix_cell(*se, px, false);
          head.latest = pc ? pc->read(event_serial) : kNever;
        } else if ((found = find_cell(*se, sr.step_class[sr.session_pos[ri]][rr.seq_head_step[q]]))) {
          const StepCell& cell = *found;
          head.latest = cell.at == event_serial ? cell.before : cell.last;
          // The earlier matches: without this event's, the last max_partial_matches of them.
          head.times = cell.times.data() + cell.first;
          head.n = cell.times.size() - cell.first - (cell.appended == event_serial && cell.appended != 0 ? 1 : 0);
          if (head.n > opt.max_partial_matches) {
            const int64_t* cut = head.times + (head.n - opt.max_partial_matches);
            int64_t within = r.sequences[q].within ? *r.sequences[q].within : kForever;
            for (const int64_t* x = head.times; x != cut; ++x)
              if (*x >= sat_sub(cur.time, within)) {
                st.seqs[q].dropped = true;
                ++stats.partial_matches_dropped;
              }
            head.times = cut;
            head.n = opt.max_partial_matches;
          }
          if (cell.dropped) st.seqs[q].dropped = true;  // the cell lost starts this rule could have used
        }
      }
      feed_seq(r.sequences[q], rr.seq_plans[q], st.seqs[q], matched, cur.time, derived ? &head : nullptr);
      if (!was && st.seqs[q].matched) newly = true;
      if (st.seqs[q].pending != kNever && st.seqs[q].pending != pending && r.sequences[q].within) {
        // Wake up when the absence window of the pending match ends.
        Deadline d{sat_add(st.seqs[q].pending, *r.sequences[q].within), deadline_order++,
                   gr ? gr->ref : ch ? se->chain : se->ref, ri,
                   gr ? DeadlineKind::GroupSeq : ch ? DeadlineKind::ChainSeq : DeadlineKind::SessionSeq};
        sources[cur.source].deadlines.push(d);
      }
    }
  }
  if (!rr.eager || (!any && !rr.reads_attrs && !newly) || !armed(rr, st)) return;
  View v;
  v.e = this, v.r = &r, v.st = &st, v.se = se, v.ch = ch;
  EvalContext cctx{nullptr, nullptr, &v};
  if (in.test(r.condition, cctx)) fire(ri, &st, se, ch, "event", cur.time, true, gr);
}

// The sequence automaton (see docs/language.md, Runtime semantics). Events arrive in event-time order.
void Engine::Impl::feed_seq(const ir::Sequence& q, const RuleRt::SeqPlan& plan, SeqState& ss, const uint8_t* matched,
                            int64_t t, const SeqHead* head) {
  if (ss.matched) return;
  const int64_t D = q.within ? *q.within : kForever;
  const int64_t oldest = sat_sub(t, D);  // a start older than this cannot complete with this event
  // positives, and after which of them an absent step (before the next one, or trailing) matched
  const uint32_t* pos = plan.pos.data();
  const size_t m = plan.pos.size();
  uint64_t kills = 0;
  for (const auto& [k, step] : plan.kills)
    if (matched[step]) kills |= uint64_t{1} << k;
  auto kill_after = [kills](size_t k) { return (kills >> k & 1) != 0; };
  if (m == 0) return;
  const bool trailing = plan.trailing;
  // Final positive (index m-1).
  if (trailing && kill_after(m - 1)) ss.pending = kNever;
  if (matched[pos[m - 1]]) {
    int64_t cand = kNever;
    bool ok = false;
    if (m == 1) {
      cand = t;
      ok = true;
    } else if (head && head->whole) {  // the stage before the last item, from the shared prefix (no absences)
      if (head->latest != kNever && head->latest >= oldest) {
        cand = head->latest;
        ok = true;
      }
    } else if (head && m == 2) {  // the first stage, from the head step's cell
      if (trailing) {
        for (size_t i = 0; i < head->n; ++i)
          if (head->times[i] >= oldest) {
            cand = head->times[i];  // the earliest start still in the window: its absence window ends first
            ok = true;
            break;
          }
      } else if (head->latest != kNever && head->latest >= oldest) {
        cand = head->latest;
        ok = true;
      }
    } else {
      auto& prev = ss.stages[m - 2];
      if (trailing) {
        for (int64_t s0 : prev)
          if (s0 >= oldest) {
            cand = s0;  // the earliest start still in the window: its absence window ends first
            ok = true;
            break;
          }
      } else if (!prev.empty() && prev.back() >= oldest) {
        cand = prev.back();
        ok = true;
      }
    }
    if (ok) {
      if (!trailing) {
        ss.matched = true;
        return;
      }
      if (ss.pending == kNever || cand < ss.pending) ss.pending = cand;
    }
  }
  if (head && head->whole) return;  // every stage is a shared prefix
  // Intermediate stages, from the last to the first, so that one event fills at most one item.
  for (size_t k = m - 1; k-- > 0;) {
    auto& stage = ss.stages[k];
    if (kill_after(k)) stage.clear();
    if (!matched[pos[k]]) continue;
    if (k == 0 && head) continue;  // kept by the head step's cell
    if (k == 1 && head) {
      if (trailing) {
        for (size_t i = 0; i < head->n; ++i)
          if (head->times[i] >= oldest) stage.push_back(head->times[i]);
        std::sort(stage.begin(), stage.end());
        stage.erase(std::unique(stage.begin(), stage.end()), stage.end());
      } else if (head->latest != kNever && head->latest >= oldest && (stage.empty() || stage.back() < head->latest)) {
        stage.assign(1, head->latest);
      }
      continue;
    }
    if (k == 0) {
      if (trailing) {
        if (stage.empty() || stage.back() < t) stage.push_back(t);
      } else {
        stage.assign(1, t);
      }
      continue;
    }
    auto& prev = ss.stages[k - 1];
    if (trailing) {
      for (int64_t s0 : prev)
        if (s0 >= oldest) stage.push_back(s0);
      std::sort(stage.begin(), stage.end());
      stage.erase(std::unique(stage.begin(), stage.end()), stage.end());
    } else if (!prev.empty() && prev.back() >= oldest) {
      if (stage.empty() || stage.back() < prev.back()) stage.assign(1, prev.back());
    }
  }
  // Drop starts that can no longer complete; bound the rest.
  if (q.within) {
    for (auto& stage : ss.stages) {
      auto it = std::lower_bound(stage.begin(), stage.end(), oldest);
      stage.erase(stage.begin(), it);
    }
  }
  for (auto& stage : ss.stages)
    if (stage.size() > opt.max_partial_matches) {  // the cap: every start left is still in the window
      stats.partial_matches_dropped += stage.size() - opt.max_partial_matches;
      ss.dropped = true;
      stage.erase(stage.begin(), stage.end() - opt.max_partial_matches);
    }
}

// Decides trailing absences: a pending match whose window ended before `now` (or every pending one when the
// session/chain closes) makes its sequence true. Returns whether some sequence became true.
bool Engine::Impl::decide_seqs(const ir::Rule& r, RuleState& st, int64_t now, bool closing) {
  bool any = false;
  for (size_t q = 0; q < r.sequences.size(); ++q) {
    SeqState& ss = st.seqs[q];
    if (ss.matched || ss.pending == kNever) continue;
    const auto& sq = r.sequences[q];
    bool decided = closing || (sq.within && sat_add(ss.pending, *sq.within) < now);
    if (decided) {
      ss.matched = true;
      any = true;
    }
  }
  return any;
}

}  // namespace braid::rt
