// The runtime half of the aggregate table (the language half, names, is ir::kAggKinds in compiler/ir/ir.h).
//
// An aggregate is one row of kAggOps: how its state starts (init), how an event that matched its step changes it
// (update), and what the rule's condition and message read (read). Each row is made from one struct with the three
// functions, so a row without one does not compile; the table is indexed by ir::AggKind and a static_assert
// checks it has exactly one row per kind, in order (aggregates.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "engine/value_codec.h"
#include "ir/ir.h"
#include "value.h"

namespace braid::rt {

// The state of one aggregate of one rule in one session (chain): the state of its kind, one of a few shapes (a
// rule's states are a flat array, and each costs the largest shape, not the sum of them). A row's init makes its
// shape, keeping the buffers of one already there (pooled rule state is reused without allocating).
struct CountState {
  uint64_t n = 0;
};
struct SumState {
  int64_t isum = 0;
  double fsum = 0;
  bool floats = false, overflow = false;  // a float was added; the integer sum overflowed (the sum is null)
};
struct HeldState {  // min, max, first, last: one value of the matching events
  Owned val;
  int64_t t = 0;     // first/last: the event time of val
  bool has = false;  // val holds a value (min/max: a non-null one; first/last: an event matched)
};
using AggState = std::variant<CountState, DistinctSet, SumState, HeldState>;

struct AggUpdate {
  Value value;          // the step's field value on the event (null for kinds that read none)
  int64_t time = 0;     // the event time
  uint32_t distinct_bound = 0;
  std::string* scratch = nullptr;
};

struct AggOps {
  ir::AggKind kind;
  bool reads_value;  // update needs the aggregate's value expression evaluated on the event
  void (*init)(AggState&);
  void (*update)(AggState&, const AggUpdate&);
  Value (*read)(const AggState&, const ir::Aggregate&);
};

const AggOps& agg_ops(ir::AggKind k);

}  // namespace braid::rt
