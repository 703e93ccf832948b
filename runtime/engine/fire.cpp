// Alerts: suppression, the message and its values, the session and the chain path, the steps.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/engine_impl.h"
#include "engine/raw_json.h"
#include "text/json_write.h"

namespace braid::rt {

using ir::NodeId;

namespace {

void render_text(const Value& v, std::string& out);

void render_json(const Value& v, std::string& out) {
  auto quote = [&](std::string_view s) { append_json_quoted(out, s); };
  switch (v.tag) {
    case Tag::Null: out += "null"; break;
    case Tag::Bool: out += v.b ? "true" : "false"; break;
    case Tag::Int: out += std::to_string(v.i); break;
    case Tag::Float:
      if (std::isfinite(v.f)) out += fmt::format("{}", v.f);
      else out += "null";
      break;
    case Tag::Time: quote(format_time_rfc3339(v.i)); break;
    case Tag::Duration: quote(format_duration(v.i)); break;
    case Tag::String: quote(v.str()); break;
    case Tag::Json:  // the event's text of an object or list, which may span lines (a pretty-printed record)
      if (!compact_json(v.str(), out)) out += "null";
      break;
    case Tag::List:
      out += '[';
      for (uint32_t i = 0; i < v.len; ++i) {
        if (i) out += ',';
        render_json(v.items[i], out);
      }
      out += ']';
      break;
  }
}

void render_text(const Value& v, std::string& out) {
  switch (v.tag) {
    case Tag::String: out.append(v.s, v.len); break;
    case Tag::Time: out += format_time_rfc3339(v.i); break;
    case Tag::Duration: out += format_duration(v.i); break;
    default: render_json(v, out); break;
  }
}

}  // namespace

// The current event's record as compact JSON into `out` ("null" when it was too large or is not strict JSON);
// false when its text is not known (an event held in a checkpoint taken without alert events).
bool Engine::Impl::raw_text(std::string& out) const {
  const PreparedEvent* e = cur.ev;
  if (!e || e->raw_size == 0) return false;
  if (e->raw.empty() || !compact_json_object(e->raw, out)) out += "null";
  return true;
}

void Engine::Impl::keep_raw(StepState& ss) {
  if (ss.raws.size() <= ss.nraws) ss.raws.emplace_back();
  std::string& out = ss.raws[ss.nraws];
  out.clear();  // keeps its capacity
  if (raw_text(out)) ++ss.nraws;
}

void Engine::Impl::fire(uint32_t ri, RuleState* st, Session* se, Chain* ch, const char* decided, int64_t when,
                        bool on_event, const Group* gr) {
  RuleRt& rr = rules[ri];
  const ir::Rule& r = *rr.r;
  if (st) st->fired = true;
  // Message, values and suppression keys are evaluated in the rule's alert context.
  View v;
  v.e = this, v.r = &r, v.st = st, v.se = se, v.ch = ch;
  EvalContext ctx = r.scope == ir::Scope::Event ? EvalContext{cur.slots, in.field_slots(cur.source), &v}
                                                 : EvalContext{nullptr, nullptr, &v};
  // A computed severity: the first arm that holds (null is false), else the `else` level.
  ir::Severity severity = r.meta.severity;
  for (const ir::SeverityArm& arm : r.severity_arms) {
    Value c = in.eval(arm.when, ctx);
    if (c.tag == Tag::Bool && c.b) {
      severity = arm.level;
      break;
    }
  }
  if (r.suppress) {
    std::string& key = suppress_key;  // (reused: a suppressed alert allocates nothing)
    key.clear();
    for (NodeId k : r.suppress->keys) encode(in.eval(k, ctx), key);
    // With a computed severity, alerts suppress only alerts of their own level: a critical one is never hidden
    // behind an earlier medium one. (A fixed severity adds nothing: keys, and so state, stay as they were.)
    if (!r.severity_arms.empty()) key += static_cast<char>('0' + static_cast<int>(severity));
    auto it = rr.suppress.find(std::string_view(key));
    if (it != rr.suppress.end()) {
      int64_t d = when >= it->second ? when - it->second : it->second - when;
      if (d < r.suppress->window) {
        ++stats.rules[rr.stat].suppressed;
        ++stats.suppressed;
        return;
      }
      it->second = when;
    } else {
      rr.suppress.emplace(key, when);
    }
    if (rr.suppress.size() > rr.suppress_sweep_at) {
      // Keys whose window has passed can never drop an alert again (event time moves forward per source).
      std::erase_if(rr.suppress, [&](const auto& kv) {
        int64_t age = when >= kv.second ? when - kv.second : 0;
        return age >= r.suppress->window;
      });
      rr.suppress_sweep_at = std::max<size_t>(1024, rr.suppress.size() * 2);
    }
  }
  Alert a;
  a.rule = r.id;
  a.title = r.meta.title;
  a.severity = severity;
  a.attack = r.meta.attack;
  a.scope = r.scope;
  for (size_t i = 0; i < r.message.size(); ++i) {
    const auto& part = r.message[i];
    if (part.expr == ir::kNoNode) {
      a.message += part.literal;
      continue;
    }
    Value val = in.eval(part.expr, ctx);
    render_text(val, a.message);
    AlertValue av;
    av.expr = rr.expr_text[i];
    render_json(val, av.json);
    a.values.push_back(std::move(av));
  }
  a.event_time = when;
  if (opt.processing_time >= 0) {
    a.processing_time = opt.processing_time;
  } else {
    a.processing_time = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  }
  a.decided = decided;
  if (on_event) a.event_id = std::string(cur.id);
  a.source = on_event ? p.sources[cur.source].name
             : se       ? p.sources[se->source].name
             : gr       ? p.sources[gr->source].name
                        : std::string();
  if (gr) {
    AlertGroup ag;
    ag.id = std::string(gr->id_view());
    // The key's parts as the rule wrote them, with their values (decoded from the group's key).
    const ir::GroupBy& gb = *r.group;
    std::string_view rest = gr->key;
    for (size_t i = 0; i < gb.key_text.size(); ++i) {
      Value kv;
      if (!decode_scalar(rest, kv)) break;
      std::string json;
      render_json(kv, json);
      ag.key.emplace_back(gb.key_text[i], std::move(json));
    }
    ag.start = gr->start;
    ag.end = gr->last;
    ag.events = gr->events;
    a.group = std::move(ag);
  }
  if (se) {
    AlertSession s;
    s.id = std::string(se->id_view());
    s.identity = se->identity();
    if (se->has_cred) s.credential = se->credential();
    s.start = se->start;
    s.end = se->last;
    s.events = se->events;
    a.session = std::move(s);
    // The chain path, root first.
    std::vector<const Session*> path;
    for (const Session* x = se; x; x = sessions.get(x->parent)) path.push_back(x);
    std::reverse(path.begin(), path.end());
    for (size_t i = 0; i < path.size(); ++i) {
      const Session* x = path[i];
      ChainHop h;
      h.session_id = std::string(x->id_view());
      h.identity = x->identity();
      if (x->has_cred) h.credential = x->credential();
      h.source = p.sources[x->source].name;
      h.link = x->link == 1 ? "mint" : x->link == 2 ? "link" : "";
      if (i + 1 < path.size()) h.minted_by_event = path[i + 1]->parent_event();
      a.chain.push_back(std::move(h));
    }
  }
  {
    const Session* root = ch ? sessions.get(ch->root) : nullptr;
    // (A group's id takes the session's place: two groups of a rule deciding at the same time differ by it.)
    a.id = alert_id(a.rule, root ? root->id_view() : std::string_view(),
                    a.session ? a.session->id : a.group ? a.group->id : std::string(), a.decided,
                    a.event_id ? &*a.event_id : nullptr, a.event_time);
  }
  if (st) {
    for (size_t i = 0; i < r.steps.size(); ++i) {
      const StepState& ss = step_state(*st, se, static_cast<uint32_t>(i));
      a.steps.push_back(StepMatch{r.steps[i].label, ss.count,
                                  std::vector<std::string>(ss.ids.begin(), ss.ids.begin() + ss.nids), {}});
      if (opt.alert_events) a.steps.back().events.assign(ss.raws.begin(), ss.raws.begin() + ss.nraws);
    }
    for (size_t g = 0; g < r.aggregates.size(); ++g)
      if (const auto* set = std::get_if<DistinctSet>(&agg_state(*st, se, static_cast<uint32_t>(g)));
          set && set->saturated())
        a.saturated.push_back(rr.saturated_names[g]);
  }
  if (opt.alert_events) {
    a.raw_events = true;
    std::string raw;
    if (r.scope == ir::Scope::Event && on_event && raw_text(raw)) a.event = std::move(raw);
  }
  a.degraded = r.scope == ir::Scope::Session ? (se && se->evicted)
               : r.scope == ir::Scope::Chain ? (ch && ch->degraded)
               : r.scope == ir::Scope::Group && gr && gr->evicted;
  if (st)
    for (const SeqState& q : st->seqs) a.degraded = a.degraded || q.dropped;  // lost starts at the partial-match cap
  // Whatever the scope, an alert whose chain may have lost its beginning to the chain-record cap says so.
  if (const Chain* carried = ch ? ch : se ? chains.get(se->chain) : nullptr; carried && carried->orphaned)
    a.degraded = true;
  ++stats.rules[rr.stat].alerts;
  ++stats.alerts;
  if (sink) sink(a);
}

}  // namespace braid::rt
