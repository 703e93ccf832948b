// The engine's state: rule state, sessions, chains and the tables that hold them.
//
// Memory model (docs/jit.md, "Engine layout")
// - Sessions and chains live in slot pools: a slot is reused after its occupant is retired, and a Ref carries the
//   slot's generation, so a stale reference (a deadline of a retired session) is recognised and ignored. Reused
//   objects keep the capacity of their strings and vectors: the steady state does not allocate for them.
// - A session holds its times, links and keys (identity, credential, parent event in one buffer); its rule state,
//   only for the rules one of its events touched (sparse, in a pool), and its distinct sets are in a side block
//   (SessionState) taken when first needed and given back when the session closes. A chain likewise (ChainState).
// - A chain (a tree of sessions) is retired, with all its sessions, when no session of it is open and no mint or
//   link record points into it any more (records expire after the retention): nothing can then join it or read
//   it. A closed session therefore leaves nothing behind once chain retention has passed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/aggregates.h"
#include "engine/value_codec.h"

namespace braid::rt {

struct StateCodec;  // checkpoint.cpp: saves and restores the engine's state

// slot | generation << 32; kNoRef: none.
using Ref = uint64_t;
inline constexpr Ref kNoRef = UINT64_MAX;
// A pool slot without its generation, where only live objects are named (lists and indexes of open ones); none.
inline constexpr uint32_t kNoSlot = UINT32_MAX;

// ---------------------------------------------------------------------------------------------------------------
// Rule state

struct SeqState {
  // stages[k]: partial matches of positives 0..k (k < m-1), as their start times (ascending). Sequences without a
  // trailing absence keep only the latest start (the best for the window); with one, every start in the window.
  std::vector<std::vector<int64_t>> stages;
  bool matched = false;
  int64_t pending = kNever;  // trailing absence: the earliest start of a complete positive match not yet killed
  bool dropped = false;      // starts still in the window were dropped at EngineOptions::max_partial_matches
};

struct StepState {
  uint64_t count = 0;
  std::vector<std::string> ids;  // the first N matching event ids (EngineOptions::step_event_ids)
  uint32_t nids = 0;             // ids[0..nids) are live; the strings beyond keep their capacity for reuse
  // With EngineOptions::alert_events: the JSON texts of the first N matching events whose text is known (compact;
  // "null" for one too large or not strict JSON), kept like ids.
  std::vector<std::string> raws;
  uint32_t nraws = 0;
};

struct RuleState {
  uint32_t rule = 0;  // the rule it belongs to (its pool)
  bool fired = false;
  std::vector<StepState> steps;
  std::vector<AggState> aggs;
  std::vector<SeqState> seqs;
};

// Rule states of one session or chain: (the rule's state slot, its state), sorted by slot.
using RuleStates = std::vector<std::pair<uint32_t, RuleState*>>;

// The state of one step class in one session: the steps of session rules of a source whose predicates are the
// same expression (ir::same_expr) match the same events of a session, so their count, event ids and aggregates
// are kept once, here, for all of them (one distinct set for `distinct(recon.eventName)` however many rules
// write it). Created when the class first matches in the session; pooled per class.
struct StepCell {
  uint32_t cls = 0;            // its class (index into the source's classes)
  StepState step;
  int64_t last = kNever;       // the time of the latest event that matched
  int64_t before = kNever;     // ... and of the one before it
  uint64_t at = 0;             // the serial of the latest event that matched (Impl::event_serial)
  // Classes that start a sequence with a trailing absence (StepClass::keep_times): the distinct times of its
  // recent matches, ascending, from times[first] on (the last distinct_bound + 1, none older than the longest
  // window that reads them); `appended` is the serial of the event that appended the last one.
  std::vector<int64_t> times;
  size_t first = 0;
  uint64_t appended = 0;
  bool dropped = false;  // times still in the window were dropped at EngineOptions::max_partial_matches
  std::vector<AggState> aggs;  // the class's aggregates (StepClass::aggs), in that order
};

// Step cells of one session: (class, cell), sorted by class.
using StepCells = std::vector<std::pair<uint32_t, StepCell*>>;

// A sequence prefix `a -> b [-> ...]` within D (StepPrefix) in one session: the latest start of a partial match of
// the prefix, that is the latest `a` within D before a later `b` (and so on): the stage a sequence with that
// beginning would keep, kept once for every rule whose sequence begins so.
struct PrefixCell {
  int64_t value = kNever;
  int64_t before = kNever;  // the value before the event with serial `at` changed it
  uint64_t at = 0;
  int64_t read(uint64_t serial) const { return at == serial ? before : value; }  // as before the current event
};
using PrefixCells = std::vector<std::pair<uint32_t, PrefixCell>>;  // (prefix, cell), sorted by prefix

// ---------------------------------------------------------------------------------------------------------------
// Sessions and chains

// 16 lowercase hex digits of h (session and group ids).
inline void hex16(uint64_t h, char out[16]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = digits[h & 15];
    h >>= 4;
  }
}

// The open-session index key of (source position, identity, credential): Session::key_hash. Sessions of a source
// with a credential are keyed by both, others by the identity alone. Hashed in place, every event: the parts are
// not copied into one key first.
inline uint64_t session_hash(uint32_t source, std::string_view identity, bool has_cred, std::string_view credential) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = fast_hash(identity);
  if (has_cred) h ^= fast_hash(credential) * kMul;
  __uint128_t m = static_cast<__uint128_t>(h ^ (uint64_t{source} << 1 | (has_cred ? 1 : 0))) * kMul;
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

// What a session holds for its rules and attributes: rule state, step cells, sequence prefixes, the watch lists,
// and the distinct sets behind session.source_ips and chain.accounts. A side block, not part of the Session: it is
// taken from a pool when the session first needs it (a step of a session rule matched, or a tracked attribute
// changed) and given back when the session closes, so an open session no rule has touched costs only its entry
// (docs/jit.md, "Engine layout").
struct SessionState {
  RuleStates rules;          // slot = the rule's position in its source's session_rules
  StepCells cells;           // the step classes of session rules that matched here
  PrefixCells prefixes;      // the sequence prefixes of session rules that progressed here
  std::vector<uint32_t> watch;  // slots of the states every event must visit (Impl::watched), ascending
  std::vector<uint32_t> watch_ips;  // ... that only an event adding a source ip must visit
  std::vector<uint32_t> armed;  // slots of the eager states whose sequence conjuncts all matched, ascending
  DistinctSet ips;           // only filled when a rule reads session.source_ips
  std::string last_ip, last_account;  // encodings of the last ip (account) added to ips (the chain's accounts)
  bool seen_ip = false, seen_account = false;

  // Holds nothing a checkpoint must keep (the reader gives such a block back).
  bool empty() const {
    return rules.empty() && cells.empty() && prefixes.empty() && watch.empty() && watch_ips.empty() &&
           armed.empty() && ips.count() == 0 && !ips.saturated() && !seen_ip && !seen_account;
  }
};
inline const SessionState kNoSessionState{};

struct Session {
  Ref ref = kNoRef;
  uint64_t uid = 0;      // creation order (deterministic end-of-input order)
  char id[16] = {};      // the session id: 16 hex digits of a hash of source, key and start
  uint32_t source = 0;
  bool open = false;
  bool has_cred = false;
  uint8_t link = 0;      // 0 root, 1 mint, 2 link
  bool evicted = false;  // closed early by the cap on open sessions: its at-close decisions are marked degraded
  uint32_t level = 0;    // hops from the root
  // Open sessions in the order of their latest event (least recently used first), as slots: the cap on open
  // sessions (EngineOptions::max_open_sessions) evicts from the front.
  uint32_t lru_prev = kNoSlot, lru_next = kNoSlot;
  int64_t start = 0, last = 0;
  uint64_t events = 0;
  uint64_t key_hash = 0;     // hash of (source, identity, credential): the open-session index key
  int64_t close_due = kNever;  // when it closes unless extended: min(last + gap, start + max)
  uint64_t close_order = 0;    // tie-break of that deadline: the deadline counter at the event that set close_due
  Ref parent = kNoRef;
  Ref chain = kNoRef;
  Ref chain_next = kNoRef;   // the next session of the same chain (retirement walks the list)
  SessionState* state = nullptr;  // its rules' state and distinct sets, while it needs any (Impl::side)

  std::string_view id_view() const { return std::string_view(id, sizeof id); }
  // Its side block for reading: an empty one when it has none.
  const SessionState& side() const { return state ? *state : kNoSessionState; }

  std::string_view identity() const { return std::string_view(key_bytes(), identity_len_); }
  std::string_view credential() const { return std::string_view(key_bytes() + identity_len_, credential_len_); }
  // The id of the parent's event that minted this session's credential (or linked it); empty for a root.
  std::string_view parent_event() const {
    return std::string_view(key_bytes() + identity_len_ + credential_len_, parent_len_);
  }
  void set_keys(std::string_view ident, std::string_view cred) {
    reserve_keys(ident.size() + cred.size(), 0);
    put_keys(0, ident);
    put_keys(ident.size(), cred);
    identity_len_ = static_cast<uint32_t>(ident.size());
    credential_len_ = static_cast<uint32_t>(cred.size());
    parent_len_ = 0;
  }
  void set_parent_event(std::string_view event) {
    const size_t keep = identity_len_ + credential_len_;
    reserve_keys(keep + event.size(), keep);
    put_keys(keep, event);
    parent_len_ = static_cast<uint32_t>(event.size());
  }

 private:
  // Identity, credential and parent event, one after the other in one buffer: one heap block per session (kept
  // when the pool reuses the slot, grown only for longer keys), 24 bytes in the entry.
  void reserve_keys(size_t need, size_t keep) {
    if (need <= keys_cap_) return;
    // Up to the end of malloc's block (16n + 8 usable bytes): free, and a reused slot rarely grows again.
    const size_t cap = (need + 7) / 16 * 16 + 8;
    auto grown = std::make_unique_for_overwrite<char[]>(cap);
    if (keep) std::memcpy(grown.get(), keys_.get(), keep);
    keys_ = std::move(grown);
    keys_cap_ = static_cast<uint32_t>(cap);
  }
  // (No buffer yet while every key has been empty.)
  const char* key_bytes() const { return keys_ ? keys_.get() : ""; }
  void put_keys(size_t at, std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(keys_.get() + at, bytes.data(), bytes.size());
  }
  std::unique_ptr<char[]> keys_;
  uint32_t keys_cap_ = 0, identity_len_ = 0, credential_len_ = 0, parent_len_ = 0;
};

// What a chain holds for its rules and attributes, as SessionState for a session: taken from a pool when a chain
// rule's step first matches in it or a tracked attribute (chain.identities, chain.accounts) gets a value, and given
// back when the chain retires.
struct ChainState {
  RuleStates rules;                  // slot = the rule's chain state slot
  // The slots of the states every event of the chain must visit (Impl::chain_watched), sorted: kept with the
  // states (Impl::rewatch_chain) so that an event does not scan all of them.
  std::vector<uint32_t> watch;
  DistinctSet identities, accounts;  // only filled when a rule reads chain.identities / chain.accounts

  bool empty() const {
    return rules.empty() && watch.empty() && identities.count() == 0 && !identities.saturated() &&
           accounts.count() == 0 && !accounts.saturated();
  }
};
inline const ChainState kNoChainState{};

struct Chain {
  Ref ref = kNoRef;
  Ref root = kNoRef;
  Ref first_session = kNoRef;  // the list of its sessions (through Session::chain_next)
  uint32_t open = 0;           // open sessions
  uint32_t max_level = 0;
  uint64_t records = 0;        // live mint and link records made by its sessions
  uint64_t sessions = 0;
  Ref deepest = kNoRef;
  Ref last_session = kNoRef;   // the session of the chain's latest event
  uint64_t events = 0;
  int64_t last_time = kNever;
  ChainState* state = nullptr;       // its rules' state and distinct sets, while it needs any (Impl::side)
  bool degraded = false;             // a session of it was evicted: chain decisions are marked degraded
  bool orphaned = false;             // its root may have lost its parent's record to max_chain_records: every
                                     // alert that carries it is marked degraded (its path is cut short)

  // Its side block for reading: an empty one when it has none.
  const ChainState& side() const { return state ? *state : kNoChainState; }
};

// One group of a group-scope rule (ir::GroupBy, docs/language.md "Group scope"): the step-matching events of one
// source with equal key values, in one window. Its rule state is the rule's own (steps, aggregates, sequences),
// taken from the rule's pool when the group opens and given back when it closes: a closed group leaves nothing.
struct Group {
  Ref ref = kNoRef;
  uint64_t uid = 0;            // creation order
  char id[16] = {};            // 16 hex digits of a hash of rule, source, key and start
  uint32_t rule = 0;           // index into Impl::rules
  uint32_t source = 0;
  int64_t start = 0, last = 0;
  uint64_t events = 0;         // step-matching events in the group
  uint64_t key_hash = 0;       // Impl::group_index key: hash of (rule, source, key)
  int64_t close_due = kNever;  // min(last + gap, start + max)
  uint64_t close_order = 0;    // tie-break of that deadline (as Session::close_order)
  std::string key;             // the key values, encoded (value_codec), one after the other
  RuleState* state = nullptr;  // owned while the group is open
  Ref older = kNoRef, newer = kNoRef;  // open groups in the order they opened: the cap closes the oldest
  bool evicted = false;        // closed early by EngineOptions::max_open_groups: its decisions are degraded

  std::string_view id_view() const { return std::string_view(id, sizeof id); }
};

// A pool of objects addressed by Ref. Objects are never moved (pointers stay valid while they are live) and are
// reused after release, keeping their allocations. They are allocated in blocks of kBlock, not one by one: an
// object costs its size and its generation, without a heap block's header and a pointer to it.
template <class T>
class SlotPool {
 public:
  static constexpr uint32_t kBlockBits = 8, kBlock = 1u << kBlockBits;

  Ref acquire() {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = add_slot(0);
    }
    Ref r = slot | (static_cast<uint64_t>(gens_[slot]) << 32);
    item(slot).ref = r;
    ++live_;
    return r;
  }
  void release(Ref r) {
    auto slot = static_cast<uint32_t>(r);
    ++gens_[slot];
    item(slot).ref = kNoRef;
    free_.push_back(slot);
    --live_;
  }
  // nullptr when the reference is stale or none.
  T* get(Ref r) const {
    if (r == kNoRef) return nullptr;
    auto slot = static_cast<uint32_t>(r);
    if (slot >= gens_.size() || gens_[slot] != static_cast<uint32_t>(r >> 32)) return nullptr;
    return &item(slot);
  }
  T& at(Ref r) const { return item(static_cast<uint32_t>(r)); }
  size_t live() const { return live_; }
  size_t capacity() const { return gens_.size(); }
  template <class F>
  void for_each_live(F&& f) const {
    for (uint32_t i = 0; i < gens_.size(); ++i)
      if (item(i).ref != kNoRef) f(static_cast<const T&>(item(i)));
  }
  template <class F>
  void for_each_live(F&& f) {
    for (uint32_t i = 0; i < gens_.size(); ++i)
      if (item(i).ref != kNoRef) f(item(i));
  }

 private:
  friend struct StateCodec;  // checkpoints (checkpoint.cpp)
  T& item(uint32_t slot) const { return blocks_[slot >> kBlockBits][slot & (kBlock - 1)]; }
  // A new slot (free: its object's ref is kNoRef) with generation `gen`.
  uint32_t add_slot(uint32_t gen) {
    auto slot = static_cast<uint32_t>(gens_.size());
    if ((slot & (kBlock - 1)) == 0) blocks_.push_back(std::make_unique<T[]>(kBlock));
    gens_.push_back(gen);
    return slot;
  }
  std::vector<std::unique_ptr<T[]>> blocks_;
  std::vector<uint32_t> gens_;  // one per slot
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

// Side blocks (SessionState, ChainState) no session or chain holds, kept with their buffers for the next one.
template <class T>
class SidePool {
 public:
  T* take() {
    if (free_.empty()) return new T;
    T* x = free_.back().release();
    free_.pop_back();
    return x;
  }
  // Takes back a block its holder has emptied.
  void give(T* x) { free_.emplace_back(x); }

 private:
  std::vector<std::unique_ptr<T>> free_;
};

// The open-session index (and the group and record indexes): key hash -> the pool slot of a live object, open
// addressing with linear probing and backward-shift deletion (no tombstones, no allocation once grown). An entry is
// 8 bytes: 32 bits of the hash and the slot (the index holds live objects only, so a slot needs no generation).
// Equal hashes are told apart by the caller's key comparison.
class OpenIndex {
 public:
  // The slot of the object whose hash is h and for which same(slot) holds; kNoSlot if none.
  template <class Eq>
  uint32_t find(uint64_t h, Eq&& same) const {
    if (slots_.empty()) return kNoSlot;
    const auto tag = static_cast<uint32_t>(h);
    for (size_t i = tag & mask_;; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.slot == kNoSlot) return kNoSlot;
      if (e.tag == tag && same(e.slot)) return e.slot;
    }
  }
  void insert(uint64_t h, Ref r) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    place(Entry{static_cast<uint32_t>(h), static_cast<uint32_t>(r)});
    ++size_;
  }
  void erase(uint64_t h, Ref r) {
    if (slots_.empty()) return;
    const auto slot = static_cast<uint32_t>(r);
    size_t i = static_cast<uint32_t>(h) & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].slot == kNoSlot) return;
      if (slots_[i].slot == slot) break;
    }
    // Backward shift: move later entries of the probe run into the hole when that brings them closer home.
    size_t hole = i;
    for (size_t j = (hole + 1) & mask_; slots_[j].slot != kNoSlot; j = (j + 1) & mask_) {
      size_t home = slots_[j].tag & mask_;
      bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Entry{};
    --size_;
  }
  size_t size() const { return size_; }

 private:
  struct Entry {
    uint32_t tag = 0;  // the hash's low 32 bits (its home is tag & mask_: tables stay below 2^32 entries)
    uint32_t slot = kNoSlot;
  };
  void place(Entry x) {
    size_t i = x.tag & mask_;
    while (slots_[i].slot != kNoSlot) i = (i + 1) & mask_;
    slots_[i] = x;
  }
  void grow() {
    std::vector<Entry> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Entry{});
    mask_ = slots_.size() - 1;
    for (const Entry& e : old)
      if (e.slot != kNoSlot) place(e);
  }
  std::vector<Entry> slots_;
  size_t mask_ = 0, size_ = 0;
};

// A FIFO ring that grows by doubling and never shrinks: steady pushes and pops allocate nothing (a std::deque
// allocates and frees a block every few hundred elements).
template <class T>
class Ring {
 public:
  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }
  const T& front() const { return buf_[head_]; }
  const T& back() const { return buf_[(head_ + n_ - 1) & (buf_.size() - 1)]; }
  void pop_front() {
    head_ = (head_ + 1) & (buf_.size() - 1);
    --n_;
  }
  void push_back(const T& x) {
    if (n_ == buf_.size()) grow();
    buf_[(head_ + n_) & (buf_.size() - 1)] = x;
    ++n_;
  }

 private:
  friend struct StateCodec;
  void grow() {
    std::vector<T> b(buf_.empty() ? 64 : buf_.size() * 2);
    for (size_t i = 0; i < n_; ++i) b[i] = buf_[(head_ + i) & (buf_.size() - 1)];
    buf_.swap(b);
    head_ = 0;
  }
  std::vector<T> buf_;
  size_t head_ = 0, n_ = 0;
};

// Mint and link records: key (a credential, an encoded link key) -> the session that made it, the event and its
// time; they expire in the order they were made. Flat: records are pooled and keep their strings' capacity, the
// index is an OpenIndex, and the expiry queue a Ring of (time, record), so the steady state allocates nothing.
struct MintRecord {
  Ref self = kNoRef;     // this record (slot | generation)
  uint64_t hash = 0;
  std::string key;
  Ref session = kNoRef;  // the session whose event made it
  std::string event_id;
  int64_t time = 0;
};

class RecordTable {
 public:
  MintRecord* find(std::string_view key) const {
    uint64_t h = fast_hash(key);
    uint32_t slot = index_.find(h, [&](uint32_t x) { return pool_[x].key == key; });
    return slot == kNoSlot ? nullptr : const_cast<MintRecord*>(&pool_[slot]);
  }
  // The record for `key`, made empty (session kNoRef) when there was none.
  MintRecord& find_or_add(std::string_view key) {
    if (MintRecord* m = find(key)) return *m;
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(pool_.size());
      pool_.emplace_back();
      gens_.push_back(0);
    }
    MintRecord& m = pool_[slot];
    m.self = slot | (static_cast<uint64_t>(gens_[slot]) << 32);
    m.hash = fast_hash(key);
    m.key.assign(key);
    m.session = kNoRef;
    m.event_id.clear();
    m.time = 0;
    index_.insert(m.hash, m.self);
    return m;
  }
  // Queues the record for expiry at `time` (default: its own time).
  void queue(const MintRecord& m) { fifo_.push_back(Queued{m.time, m.self}); }
  void queue(const MintRecord& m, int64_t time) { fifo_.push_back(Queued{time, m.self}); }
  // Pops queued entries older than `limit` (in queue order, stopping at the first that is not); calls
  // expired(record) for each whose record still exists with that time, then removes the record.
  template <class F>
  void expire(int64_t limit, F&& expired) {
    while (!fifo_.empty() && fifo_.front().time < limit) {
      Queued q = fifo_.front();
      fifo_.pop_front();
      auto slot = static_cast<uint32_t>(q.record);
      if (gens_[slot] != static_cast<uint32_t>(q.record >> 32)) continue;  // already gone
      MintRecord& m = pool_[slot];
      if (m.time != q.time) continue;  // replaced by a newer one, queued on its own
      expired(m);
      remove(m);
    }
  }
  size_t size() const { return index_.size(); }
  // The time of the oldest live record in expiry order (queue entries of replaced or removed records are popped
  // on the way); kNever when there is none.
  int64_t oldest() {
    while (!fifo_.empty() && !live(fifo_.front())) fifo_.pop_front();
    return fifo_.empty() ? kNever : fifo_.front().time;
  }
  // Removes the oldest live record (see oldest()), calling evicted(record) first. False when there is none.
  template <class F>
  bool evict_oldest(F&& evicted) {
    if (oldest() == kNever) return false;
    Queued q = fifo_.front();
    fifo_.pop_front();
    MintRecord& m = pool_[static_cast<uint32_t>(q.record)];
    evicted(m);
    remove(m);
    return true;
  }

 private:
  friend struct StateCodec;
  struct Queued {
    int64_t time = 0;
    Ref record = kNoRef;
  };
  bool live(const Queued& q) const {
    auto slot = static_cast<uint32_t>(q.record);
    return gens_[slot] == static_cast<uint32_t>(q.record >> 32) && pool_[slot].time == q.time;
  }
  void remove(MintRecord& m) {
    auto slot = static_cast<uint32_t>(m.self);
    index_.erase(m.hash, m.self);
    ++gens_[slot];
    m.self = kNoRef;
    free_.push_back(slot);
  }
  std::deque<MintRecord> pool_;  // stable addresses
  std::vector<uint32_t> gens_, free_;
  OpenIndex index_;
  Ring<Queued> fifo_;
};

// The keys of mint and link records evicted at the chain-record cap (EngineOptions::max_chain_records), so that a
// session that would have joined a chain through one is known to be a root only because of the cap (its chain's
// decisions are then marked degraded). Two Bloom filters of fixed size: `now` takes the keys evicted since it was
// started, `before` those of the period before; the pair turns over when a period (the record retention) has
// passed, so a key is remembered for at least as long as its record could still have been claimed. A filter never
// forgets a key early (no false negatives) and may claim one it never saw: a root then wrongly marked degraded,
// rarely while evictions are few, more often as they approach the filter's size (2^23 bits, a million keys or so
// per period). Allocated at the first eviction: an engine that never reaches the cap pays nothing.
class EvictedKeys {
 public:
  static constexpr size_t kWords = size_t{1} << 17;  // 2^23 bits, 1 MiB per filter
  void add(uint64_t hash, int64_t time, int64_t period) {
    turn(time, period);
    if (now_.empty()) {
      now_.assign(kWords, 0);
      before_.assign(kWords, 0);
    }
    set(now_, hash);
  }
  bool may_hold(uint64_t hash) const { return !now_.empty() && (test(now_, hash) || test(before_, hash)); }
  bool empty() const { return now_.empty(); }

 private:
  friend struct StateCodec;
  // Starts a new period when `time` is a whole period past the current one's start.
  void turn(int64_t time, int64_t period) {
    if (started_ == kNever) {
      started_ = time;
      return;
    }
    if (time - started_ < period) return;
    if (!now_.empty()) {
      if (time - started_ >= 2 * period) std::fill(before_.begin(), before_.end(), 0);  // both periods are over
      else before_.swap(now_);
      std::fill(now_.begin(), now_.end(), 0);
    }
    started_ = time;
  }
  static std::pair<uint64_t, uint64_t> bits(uint64_t h) {
    uint64_t a = h & (kWords * 64 - 1), b = (h >> 32 | h << 32) * 0x9e3779b97f4a7c15ULL >> 41;
    return {a, b};
  }
  static void set(std::vector<uint64_t>& f, uint64_t h) {
    auto [a, b] = bits(h);
    f[a >> 6] |= uint64_t{1} << (a & 63);
    f[b >> 6] |= uint64_t{1} << (b & 63);
  }
  static bool test(const std::vector<uint64_t>& f, uint64_t h) {
    auto [a, b] = bits(h);
    return (f[a >> 6] >> (a & 63) & 1) && (f[b >> 6] >> (b & 63) & 1);
  }
  std::vector<uint64_t> now_, before_;
  int64_t started_ = kNever;
};

}  // namespace braid::rt
