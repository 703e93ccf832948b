// The engine's one question per event, behind an interface: which predicates of the match plan
// (ir/match_plan.h) hold for this event? The reference engine answers it with the interpreter, one predicate at
// a time; the JIT (runtime/jit) answers it with native dispatch code. Everything else (sessions, chains, rule
// state, alerts) is shared, so the two engines can only differ in predicate results, which is what the
// differential tests compare.
#pragma once

#include <cstdint>

#include "engine/interp.h"
#include "value.h"

namespace braid::rt {

// What a matcher's multi-pattern prefilter did (runtime/jit/prefilter.h), cumulative; zero for matchers without.
struct MatcherCounters {
  uint64_t prefilter_scans = 0;     // field values scanned
  uint64_t prefilter_literals = 0;  // literals found
  uint64_t prefilter_selected = 0;  // predicates selected by a found literal (then evaluated exactly)
  MatcherCounters& operator+=(const MatcherCounters& o) {
    prefilter_scans += o.prefilter_scans;
    prefilter_literals += o.prefilter_literals;
    prefilter_selected += o.prefilter_selected;
    return *this;
  }
  MatcherCounters operator-(const MatcherCounters& o) const {
    return {prefilter_scans - o.prefilter_scans, prefilter_literals - o.prefilter_literals,
            prefilter_selected - o.prefilter_selected};
  }
};

class PredicateMatcher {
 public:
  virtual ~PredicateMatcher() = default;
  // Writes the ids of the predicates of `source` that hold into `out` (room for all of them), in any order, and
  // returns how many. `in` is the engine's interpreter (for fallbacks; its arena is reset per event), `state`
  // the event's session view (session.* attributes), or nullptr.
  virtual uint32_t match(Interpreter& in, uint32_t source, const Value* slots, const StateView* state,
                         uint32_t* out) = 0;
  // The source's `recognize` on the given slots: 1 or 0, or -1 when this matcher does not compile it.
  virtual int recognize(Interpreter& in, uint32_t source, const Value* slots) = 0;
  // A source clause (ir::clause_expressions: time, identity, a mint's key...) on the given slots. False when this
  // matcher does not compile it (the caller evaluates it with the interpreter).
  virtual bool eval(Interpreter& in, uint32_t source, ir::NodeId node, const Value* slots, Value& out) = 0;
  // Counters since the matcher was made (read by the thread that uses it).
  virtual MatcherCounters counters() const { return {}; }
};

}  // namespace braid::rt
