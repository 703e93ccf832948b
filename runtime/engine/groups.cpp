// Group-scope rules (docs/language.md, "Group scope"): the events of a source that match one of a rule's steps,
// grouped by the values of the rule's `group by` keys, in windows (`window D`: tumbling from the group's first
// event; `gap G max M`: a session window). Each open group holds the rule's own state; a group closes by its
// source's watermark (a GroupClose deadline) or at the cap on open groups, decides its at-close conditions, and is
// released. Nothing of a closed group stays in memory.
#include <chrono>

#include "engine/engine_impl.h"

namespace braid::rt {

// The current event through the group rules a step of which it matched (group_touched, in program order).
void Engine::Impl::feed_groups(uint32_t s) {
  if (group_touched.empty()) return;
  if (!std::is_sorted(group_touched.begin(), group_touched.end()))
    std::sort(group_touched.begin(), group_touched.end());
  SourceRt& sr = sources[s];
  const int64_t t = cur.time;
  EvalContext ctx{cur.slots, in.field_slots(s), nullptr};
  for (uint32_t ri : group_touched) {
    RuleRt& rr = rules[ri];
    const ir::GroupBy& gb = *rr.r->group;
    // The key: every part encoded, in order; a null (or a list) leaves the event out of this rule's groups.
    key_buf.clear();
    bool keyed = true;
    for (ir::NodeId k : gb.keys) {
      Value v = in.eval(k, ctx);
      if (v.tag == Tag::Null || v.tag == Tag::List || v.tag == Tag::Json) {
        keyed = false;
        break;
      }
      encode(v, key_buf);
    }
    if (!keyed) {
      ++stats.no_group_key;
    } else {
      const uint64_t h = group_key_hash(ri, s, key_buf);
      uint32_t slot = group_index.find(h, [&](uint32_t x) {
        const Group& g = groups.at(x);
        return g.rule == ri && g.source == s && g.key == key_buf;
      });
      Group* g = slot == kNoSlot ? nullptr : &groups.at(slot);
      // (Its close deadline has passed before this event when it is due before it: expire() ran. Belt and braces.)
      if (g && g->close_due < t) {
        close_group(*g, g->close_due);
        g = nullptr;
      }
      if (!g) g = open_group(ri, s, h);
      ++g->events;
      g->last = std::max(g->last, t);
      int64_t due = std::min(sat_add(g->last, gb.gap), sat_add(g->start, gb.max));
      if (due != g->close_due) {
        bool first = g->close_due == kNever;
        g->close_due = due;
        g->close_order = deadline_order++;
        if (first) sr.deadlines.push(Deadline{due, g->close_order, g->ref, ri, DeadlineKind::GroupClose});
      }
      if (!g->state->fired) {
        // Timed as session and chain rules are (--stats: a rule's time is its state updates and decisions).
        auto t0 = opt.rule_timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        feed(rr, *g->state, nullptr, nullptr, ri, g);
        if (opt.rule_timing) stats.rules[rr.stat].nanos += since(t0);
      }
    }
    std::fill_n(step_hits.begin() + rr.hit_base, rr.r->steps.size(), 0);
    rule_flags[ri] = 0;
  }
  group_touched.clear();
}

// A new group of rule ri, source s and key key_buf (hash h), opened by the current event.
Group* Engine::Impl::open_group(uint32_t ri, uint32_t s, uint64_t h) {
  while (opt.max_open_groups && group_index.size() >= opt.max_open_groups && group_oldest != kNoRef) {
    Group& old = groups.at(group_oldest);
    old.evicted = true;
    ++stats.groups_evicted;
    close_group(old, old.last);
  }
  RuleRt& rr = rules[ri];
  Ref ref = groups.acquire();
  Group& g = groups.at(ref);
  g.uid = next_uid++;
  g.rule = ri;
  g.source = s;
  g.start = g.last = cur.time;
  g.events = 0;
  g.key_hash = h;
  g.close_due = kNever;
  g.close_order = 0;
  g.key.assign(key_buf);
  g.evicted = false;
  if (!rr.pool.empty()) {
    g.state = rr.pool.back().release();
    rr.pool.pop_back();
  } else {
    g.state = new RuleState();
  }
  reset_state(*g.state, rr);
  g.state->rule = ri;
  // The id hashes the rule's id and the source's name, not their positions: other rules and sources do not change it.
  scratch.clear();
  scratch += rr.r->id;
  scratch += '\0';
  scratch += p.sources[s].name;
  scratch += '\0';
  scratch += g.key;
  scratch.append(reinterpret_cast<const char*>(&g.start), 8);
  hex16(fnv1a(scratch), g.id);
  group_index.insert(h, ref);
  group_append(g);
  ++stats.groups_opened;
  return &g;
}

// At-close conditions decide over the whole group (a group always has state: a step opened it); then it goes.
void Engine::Impl::close_group(Group& g, int64_t now) {
  (void)now;
  RuleRt& rr = rules[g.rule];
  RuleState* st = g.state;
  if (!st->fired) {
    decide_seqs(*rr.r, *st, kForever, true);
    View v;
    v.e = this, v.r = rr.r, v.st = st;
    EvalContext ctx{nullptr, nullptr, &v};
    ++stats.rules[rr.stat].evaluations;
    if (in.test(rr.r->condition, ctx)) fire(g.rule, st, nullptr, nullptr, "close", g.last, false, &g);
  }
  rr.pool.emplace_back(st);
  g.state = nullptr;
  group_index.erase(g.key_hash, g.ref);
  group_unlink(g);
  ++stats.groups_closed;
  groups.release(g.ref);
}

void Engine::Impl::group_unlink(Group& g) {
  if (g.older != kNoRef) groups.at(g.older).newer = g.newer;
  else group_oldest = g.newer;
  if (g.newer != kNoRef) groups.at(g.newer).older = g.older;
  else group_newest = g.older;
  g.older = g.newer = kNoRef;
}

void Engine::Impl::group_append(Group& g) {
  g.older = group_newest;
  g.newer = kNoRef;
  if (group_newest != kNoRef) groups.at(group_newest).newer = g.ref;
  else group_oldest = g.ref;
  group_newest = g.ref;
}

}  // namespace braid::rt
