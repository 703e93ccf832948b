// Sessions (one identity, one credential, one period of time), chains (trees of sessions joined by minted
// credentials and links), the mint and link records that join them, and the retirement of what can no longer
// change.
#include <fmt/format.h>

#include <algorithm>

#include "engine/engine_impl.h"

namespace braid::rt {

namespace {


}  // namespace

Session* Engine::Impl::session_for(uint32_t s, const Value& identity, const Value& credential, int64_t t) {
  const ir::Source& src = p.sources[s];
  bool has_cred = credential.tag == Tag::String;
  std::string_view ident(identity.s, identity.len), cred(has_cred ? credential.s : "", has_cred ? credential.len : 0);
  uint64_t h = session_hash(s, ident, has_cred, cred);
  uint32_t found = open_index.find(h, [&](uint32_t slot) {
    const Session& x = sessions.at(slot);
    return x.source == s && x.has_cred == has_cred && x.identity() == ident && (!has_cred || x.credential() == cred);
  });
  if (found != kNoSlot) {
    Session* se = &sessions.at(found);
    // Expired sessions were closed by expire() before this event; an open one is extended by it.
    if (t - se->last <= src.session_gap && t - se->start <= src.session_max) {
      if (opt.max_open_sessions) {
        lru_unlink(*se);
        lru_append(*se);
      }
      return se;
    }
    close_session(*se, t);
  }
  if (opt.max_open_sessions)
    while (open_index.size() >= opt.max_open_sessions && lru_head != kNoSlot) evict_session();
  Ref ref = sessions.acquire();
  Session& se = sessions.at(ref);
  se.uid = next_uid++;
  se.source = s;
  se.open = true;
  se.set_keys(ident, cred);
  se.has_cred = has_cred;
  se.start = se.last = t;
  se.events = 0;
  se.key_hash = h;
  se.close_due = kNever;
  se.close_order = 0;
  se.parent = kNoRef;
  se.link = 0;
  se.level = 0;
  se.chain = kNoRef;
  se.chain_next = kNoRef;
  se.evicted = false;
  se.lru_prev = se.lru_next = kNoSlot;
  if (opt.max_open_sessions) lru_append(se);
  // The id hashes the source's name, not its position in the program: adding a source must not change the ids
  // of other sources' sessions.
  scratch.clear();
  scratch += src.name;
  scratch += '\0';
  scratch += ident;
  scratch += '\0';
  if (has_cred) {
    scratch += 'C';
    scratch += cred;
  } else {
    scratch += 'N';
  }
  scratch.append(reinterpret_cast<const char*>(&t), 8);
  hex16(fnv1a(scratch), se.id);
  open_index.insert(h, ref);
  ++stats.sessions_opened;
  ++stats.sources[s].sessions_opened;
  attach_parent(se, credential);
  return &se;
}

// A new session becomes the child of the session that minted its credential, else of the latest matching link
// parent within the link's window (its first event decides); otherwise it roots a new chain.
void Engine::Impl::attach_parent(Session& child, const Value& credential) {
  Ref parent = kNoRef;
  const std::string* parent_event = nullptr;
  uint8_t how = 0;
  bool lost = false;  // the record that would have joined it may have been evicted at max_chain_records
  if (child.has_cred) {
    std::string_view cred(credential.s, credential.len);
    const MintRecord* m = mints.find(cred);
    if (m && m->time <= child.start && child.start - m->time <= opt.mint_retention && m->session != child.ref) {
      parent = m->session;
      parent_event = &m->event_id;
      how = 1;
    } else if (!m && !evicted_keys.empty()) {
      lost = evicted_keys.may_hold(record_key_hash(fast_hash(cred), 0));
    }
  }
  if (parent == kNoRef) {
    for (uint32_t li : sources[child.source].links_as_child) {
      LinkRt& l = links[li];
      if (l.link->child_when != ir::kNoNode && !clause_true(child.source, l.link->child_when, cur.slots)) continue;
      Value k = clause(child.source, l.link->child_key, cur.slots);
      if (k.is_null()) continue;
      scratch.clear();
      encode(k, scratch);
      const MintRecord* m = l.parents.find(std::string_view(scratch));
      if (!m) {
        if (!evicted_keys.empty() && evicted_keys.may_hold(record_key_hash(fast_hash(scratch), 1 + li))) lost = true;
        continue;
      }
      if (m->time > child.start || child.start - m->time > l.link->within || m->session == child.ref) continue;
      parent = m->session;
      parent_event = &m->event_id;
      how = 2;
      break;
    }
  }
  Session* ps = sessions.get(parent);
  if (!ps) {
    Ref cref = chains.acquire();
    Chain& c = chains.at(cref);
    c.root = c.deepest = c.last_session = c.first_session = child.ref;
    c.open = 1;
    c.records = 0;
    c.sessions = 1;
    c.max_level = 0;
    c.events = 0;
    c.last_time = kNever;
    c.degraded = c.orphaned = lost;  // (a reused chain must not inherit its last occupant's marks)
    child.chain = cref;
    stats.chain_max_depth = std::max<uint64_t>(stats.chain_max_depth, 1);
    return;
  }
  child.parent = parent;
  child.set_parent_event(*parent_event);
  child.link = how;
  child.chain = ps->chain;
  child.level = ps->level + 1;
  Chain& c = chains.at(ps->chain);
  child.chain_next = c.first_session;
  c.first_session = child.ref;
  if (c.sessions == 1) ++stats.chains;
  ++c.sessions;
  ++c.open;
  ++stats.chain_links;
  if (child.level > c.max_level) {
    c.max_level = child.level;
    c.deepest = child.ref;
  }
  stats.chain_max_depth = std::max<uint64_t>(stats.chain_max_depth, c.max_level + 1);
}

void Engine::Impl::record_mints(uint32_t s, Session& se) {
  const ir::Source& src = p.sources[s];
  Chain& c = chains.at(se.chain);
  for (const auto& m : src.mints) {
    if (m.when != ir::kNoNode && !clause_true(s, m.when, cur.slots)) continue;
    Value k = clause(s, m.credential, cur.slots);
    if (k.tag != Tag::String || k.len == 0) continue;
    if (opt.max_chain_records && !mints.find(std::string_view(k.s, k.len))) make_room_for_record();
    MintRecord& rec = mints.find_or_add(std::string_view(k.s, k.len));
    if (rec.session != kNoRef) drop_record(rec.session);  // replaced
    rec.session = se.ref;
    rec.event_id.assign(cur.id);
    rec.time = cur.time;
    ++c.records;
    mints.queue(rec);
    ++stats.mints_recorded;
  }
  for (uint32_t li : sources[s].links_as_parent) {
    LinkRt& l = links[li];
    if (l.link->parent_when != ir::kNoNode && !clause_true(s, l.link->parent_when, cur.slots)) continue;
    Value k = clause(s, l.link->parent_key, cur.slots);
    if (k.is_null()) continue;
    scratch.clear();
    encode(k, scratch);
    if (opt.max_chain_records && !l.parents.find(std::string_view(scratch))) make_room_for_record();
    MintRecord& rec = l.parents.find_or_add(std::string_view(scratch));
    if (rec.session == kNoRef || rec.time <= cur.time) {
      if (rec.session != kNoRef) drop_record(rec.session);  // replaced by a newer parent
      rec.session = se.ref;
      rec.event_id.assign(cur.id);
      rec.time = cur.time;
      ++c.records;
    }
    l.parents.queue(rec, cur.time);
    ++stats.link_parents_recorded;
  }
}

void Engine::Impl::drop_record(Ref session) {
  Session* se = sessions.get(session);
  if (!se) return;
  Chain& c = chains.at(se->chain);
  if (c.records > 0) --c.records;
  maybe_retire(c);
}

// The oldest record of all tables goes (ties: mints first, then links in order), as if its retention had passed;
// its key is remembered so that a session that would have claimed it is known to have lost its parent.
void Engine::Impl::make_room_for_record() {
  size_t n = mints.size();
  for (const LinkRt& l : links) n += l.parents.size();
  while (n >= opt.max_chain_records) {
    RecordTable* oldest = nullptr;
    size_t table = 0;
    int64_t at = kNever;
    auto consider = [&](RecordTable& t, size_t i) {
      int64_t o = t.oldest();
      if (o != kNever && (!oldest || o < at)) oldest = &t, table = i, at = o;
    };
    consider(mints, 0);
    for (size_t i = 0; i < links.size(); ++i) consider(links[i].parents, 1 + i);
    if (!oldest) return;
    oldest->evict_oldest([&](const MintRecord& m) {
      ++stats.chain_records_evicted;
      evicted_keys.add(record_key_hash(m.hash, table), cur.time, opt.mint_retention);
      drop_record(m.session);
    });
    --n;
  }
}

void Engine::Impl::lru_unlink(Session& se) {
  const auto self = static_cast<uint32_t>(se.ref);
  if (se.lru_prev != kNoSlot) sessions.at(se.lru_prev).lru_next = se.lru_next;
  else if (lru_head == self) lru_head = se.lru_next;
  if (se.lru_next != kNoSlot) sessions.at(se.lru_next).lru_prev = se.lru_prev;
  else if (lru_tail == self) lru_tail = se.lru_prev;
  se.lru_prev = se.lru_next = kNoSlot;
}

void Engine::Impl::lru_append(Session& se) {
  const auto self = static_cast<uint32_t>(se.ref);
  se.lru_prev = lru_tail;
  se.lru_next = kNoSlot;
  if (lru_tail != kNoSlot) sessions.at(lru_tail).lru_next = self;
  else lru_head = self;
  lru_tail = self;
}

void Engine::Impl::evict_session() {
  Session& se = sessions.at(lru_head);
  se.evicted = true;
  if (Chain* c = chains.get(se.chain)) c->degraded = true;
  ++stats.sessions_evicted;
  close_session(se, se.last);
}

void Engine::Impl::release_side(Session& se) {
  SessionState* ss = se.state;
  if (!ss) return;
  free_states(ss->rules);
  free_cells(se);
  ss->prefixes.clear();
  ss->watch.clear();
  ss->watch_ips.clear();
  ss->armed.clear();
  ss->ips.recycle();
  ss->seen_ip = ss->seen_account = false;
  se.state = nullptr;
  session_sides.give(ss);
}

void Engine::Impl::release_side(Chain& c) {
  ChainState* cs = c.state;
  if (!cs) return;
  free_states(cs->rules);
  cs->watch.clear();
  cs->identities.recycle();
  cs->accounts.recycle();
  c.state = nullptr;
  chain_sides.give(cs);
}

void Engine::Impl::close_session(Session& se, int64_t now) {
  if (!se.open) return;
  (void)now;
  if (opt.max_open_sessions) lru_unlink(se);
  auto& sr = sources[se.source];
  // At-close session rules decide over the whole session: the rules with state, and those that hold on a
  // pristine state (or read attributes), in program order.
  std::vector<uint32_t>& order = close_visit;
  order.clear();
  for (const auto& [k, st] : se.side().rules) order.push_back(sr.session_rules[k]);
  order.insert(order.end(), sr.close_session_rules.begin(), sr.close_session_rules.end());
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  for (uint32_t ri : order) {
    RuleRt& rr = rules[ri];
    uint32_t k = sr.session_pos[ri];
    RuleState* st = se.state ? state_of(se.state->rules, k) : nullptr;
    if (!st) {  // no step matched in this session: decide on the pristine state, made only if it fires
      ++stats.rules[rr.stat].evaluations;
      if (pristine_holds(rr, &se, nullptr))
        fire(ri, &make_state(side(se).rules, k, rr), &se, nullptr, "close", se.last, false);
      continue;
    }
    if (st->fired) continue;
    decide_seqs(*rr.r, *st, kForever, true);
    View v;
    v.e = this, v.r = rr.r, v.st = st, v.se = &se;
    EvalContext ctx{nullptr, nullptr, &v};
    ++stats.rules[rr.stat].evaluations;
    if (in.test(rr.r->condition, ctx)) fire(ri, st, &se, nullptr, "close", se.last, false);
  }
  se.open = false;
  // Closed sessions keep only what chain paths and chain attributes need.
  release_side(se);
  open_index.erase(se.key_hash, se.ref);
  ++stats.sessions_closed;
  ++stats.sources[se.source].sessions_closed;
  Chain& c = chains.at(se.chain);
  if (c.open > 0 && --c.open == 0) close_chain(c);
  maybe_retire(c);
}

// A chain closes when its last open session closes; if a session joins it later, it reopens and is decided
// again at its next close (chain rules still fire at most once per chain).
void Engine::Impl::close_chain(Chain& c) {
  std::vector<uint32_t>& order = chain_visit;
  order.clear();
  for (const auto& [slot, st] : c.side().rules) order.push_back(chain_slot_rule[slot]);
  order.insert(order.end(), close_chain_rules.begin(), close_chain_rules.end());
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  Session* deepest = sessions.get(c.deepest);
  Session* last = sessions.get(c.last_session);
  for (uint32_t ri : order) {
    RuleRt& rr = rules[ri];
    RuleState* st = c.state ? state_of(c.state->rules, rr.state_slot) : nullptr;
    if (!st) {
      ++stats.rules[rr.stat].evaluations;
      if (pristine_holds(rr, last, &c))
        fire(ri, &make_state(side(c).rules, rr.state_slot, rr), deepest, &c, "close", c.last_time, false);
      continue;
    }
    if (st->fired) continue;
    decide_seqs(*rr.r, *st, kForever, true);
    View v;
    v.e = this, v.r = rr.r, v.st = st, v.se = last, v.ch = &c;
    EvalContext ctx{nullptr, nullptr, &v};
    ++stats.rules[rr.stat].evaluations;
    if (in.test(rr.r->condition, ctx)) fire(ri, st, deepest, &c, "close", c.last_time, false);
  }
  rewatch_chain(c);  // (decided at the close: a session that joins later sees what is left)
}

ChainInfo Engine::Impl::chain_info(const Chain& c) const {
  ChainInfo ci;
  const Session& root = sessions.at(c.root);
  ci.root_session = std::string(root.id_view());
  ci.root_identity = root.identity();
  ci.sessions = c.sessions;
  ci.depth = c.max_level + 1;
  ci.events = c.events;
  return ci;
}

void Engine::Impl::maybe_retire(Chain& c) {
  if (c.open == 0 && c.records == 0 && c.ref != kNoRef) retire(c);
}

// Nothing can join or read a chain with no open session and no live record: its sessions and state go, and a
// summary stays for chains() if it is among the largest (EngineOptions::retired_chains_kept; ties keep the
// earlier one, so that a steady stream of equal chains stops replacing summaries and allocates nothing).
void Engine::Impl::retire(Chain& c) {
  auto& kept = retired_chains;
  const size_t cap = opt.retired_chains_kept;
  const Session& root = sessions.at(c.root);
  bool admit = cap > 0 && (kept.size() < cap || c.sessions > kept.back().sessions);
  if (admit) {
    if (kept.size() < cap) kept.emplace_back();
    // Fill the last entry (a new one, or the smallest, displaced: its strings' capacity is reused), then move it
    // to its place.
    ChainInfo& ci = kept.back();
    ci.root_session.assign(root.id_view());
    ci.root_identity.assign(root.identity());
    ci.sessions = c.sessions;
    ci.depth = c.max_level + 1;
    ci.events = c.events;
    auto at = std::upper_bound(kept.begin(), kept.end() - 1, ci, chain_info_before);
    std::rotate(at, kept.end() - 1, kept.end());
  }
  for (Ref r = c.first_session; r != kNoRef;) {
    Session& se = sessions.at(r);
    Ref next = se.chain_next;
    release_side(se);  // (closed: it has none)
    sessions.release(r);
    r = next;
  }
  release_side(c);
  chains.release(c.ref);
  ++stats.chains_retired;
}

}  // namespace braid::rt
