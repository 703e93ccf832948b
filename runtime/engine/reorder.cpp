// Event time: each source's reorder buffer and watermark, its deadlines (session closes and absence windows), and
// the eviction of mint and link records by the same clock.
#include "engine/engine_impl.h"

namespace braid::rt {

// Releases held events of source s with time <= upto, in (time, arrival) order, expiring deadlines before each.
void Engine::Impl::release(uint32_t s, int64_t upto) {
  SourceRt& sr = sources[s];
  while (!sr.buffer.empty() && sr.buffer.top().time <= upto) {
    PreparedEvent* e = sr.buffer.top().e;
    sr.buffer.pop();
    expire(s, e->time);
    in.reset();
    process_event(s, *e, false);
    done_with(*e);
  }
  expire(s, upto);
}

void Engine::Impl::done_with(PreparedEvent& e) {
  Batch* b = e.batch;
  if (--b->held == 0 && b->consumed) recycle(b);
}

// Handles every deadline of source s strictly before `now`: session and group closes, and absence windows.
//
// A session has one close deadline in the heap, not one per event: when it comes due and the session was
// extended meanwhile, it goes back in at the new due time with the tie-break order of the session's latest event,
// which is exactly where a deadline pushed by that event would have been. Closes therefore happen in the same
// order as with a deadline per event, without the heap growing with the event rate.
void Engine::Impl::expire(uint32_t s, int64_t now) {
  SourceRt& sr = sources[s];
  while (!sr.deadlines.empty() && sr.deadlines.top().time < now) {
    Deadline d = sr.deadlines.top();
    sr.deadlines.pop();
    if (d.kind == DeadlineKind::SessionClose) {
      Session* se = sessions.get(d.target);
      if (!se || !se->open) continue;
      const ir::Source& src = *sr.src;
      int64_t due = std::min(sat_add(se->last, src.session_gap), sat_add(se->start, src.session_max));
      if (due != d.time || se->close_order != d.order) {
        sr.deadlines.push(Deadline{due, se->close_order, se->ref, 0, DeadlineKind::SessionClose});
        continue;
      }
      close_session(*se, d.time);
      continue;
    }
    if (d.kind == DeadlineKind::GroupClose) {  // re-pushed when extended, as a session's close
      Group* g = groups.get(d.target);
      if (!g) continue;
      if (g->close_due != d.time || g->close_order != d.order) {
        sr.deadlines.push(Deadline{g->close_due, g->close_order, g->ref, g->rule, DeadlineKind::GroupClose});
        continue;
      }
      close_group(*g, d.time);
      continue;
    }
    RuleRt& rr = rules[d.rule];
    if (d.kind == DeadlineKind::GroupSeq) {
      Group* g = groups.get(d.target);
      if (!g || g->rule != d.rule || g->state->fired) continue;
      if (decide_seqs(*rr.r, *g->state, d.time + 1, false) && rr.window_decidable) {
        View v;
        v.e = this, v.r = rr.r, v.st = g->state;
        EvalContext ctx{nullptr, nullptr, &v};
        ++stats.rules[rr.stat].evaluations;
        if (in.test(rr.r->condition, ctx)) fire(d.rule, g->state, nullptr, nullptr, "window", d.time, false, g);
      }
      continue;
    }
    RuleState* st = nullptr;
    Session* se = nullptr;
    Chain* ch = nullptr;
    if (d.kind == DeadlineKind::SessionSeq) {
      se = sessions.get(d.target);
      if (!se || !se->open) continue;
      uint32_t k = sources[se->source].session_pos[d.rule];
      if (k == ir::kNone) continue;
      st = se->state ? state_of(se->state->rules, k) : nullptr;
    } else {
      ch = chains.get(d.target);
      if (!ch) continue;
      st = ch->state ? state_of(ch->state->rules, rr.state_slot) : nullptr;
      se = sessions.get(ch->last_session);
    }
    if (!st || st->fired) continue;
    if (decide_seqs(*rr.r, *st, d.time + 1, false) && rr.window_decidable) {
      View v;
      v.e = this, v.r = rr.r, v.st = st, v.se = se, v.ch = ch;
      EvalContext ctx{nullptr, nullptr, &v};
      ++stats.rules[rr.stat].evaluations;
      if (in.test(rr.r->condition, ctx)) fire(d.rule, st, se, ch, "window", d.time, false);
    }
    if (d.kind == DeadlineKind::SessionSeq) rewatch(*se, sources[se->source].session_pos[d.rule], rr, *st);
    else rewatch_chain(*ch, rr.state_slot, rr, *st);
  }
  if (now != kForever) evict(now);  // (end of input evicts nothing: nothing can use the records any more)
}

// Minted-credential and link-parent records older than the retention (event time) are evicted; a chain whose
// last record goes and that has no open session is retired.
void Engine::Impl::evict(int64_t now) {
  int64_t limit = sat_sub(now, opt.mint_retention);
  mints.expire(limit, [&](const MintRecord& m) {
    ++stats.mints_evicted;
    drop_record(m.session);
  });
  for (auto& l : links) {
    // A parent can still be claimed by any child event the TARGET source has not released yet, so it is kept
    // until the target's watermark has passed it by the link window. (Using the releasing source's clock lost
    // Okta -> AWS links whenever CloudTrail lagged behind Okta.) The retention bounds memory when the target
    // source is quiet.
    int64_t tw = sources[l.link->target].watermark();
    int64_t ll = sat_sub(now, opt.mint_retention);
    if (tw != kNever) ll = std::max(ll, std::min(sat_sub(tw, l.link->within), sat_sub(now, l.link->within)));
    l.parents.expire(ll, [&](const MintRecord& m) {
      ++stats.link_parents_evicted;
      drop_record(m.session);
    });
  }
}

}  // namespace braid::rt
