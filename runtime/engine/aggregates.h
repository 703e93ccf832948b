// The runtime half of the aggregate table (the language half, names, is ir::kAggKinds in compiler/ir/ir.h).
//
// An aggregate is one row of kAggOps: how its state starts (init), how an event that matched its step changes it
// (update), and what the rule's condition and message read (read). Each row is made from one struct with the three
// functions, so a row without one does not compile; the table is indexed by ir::AggKind and a static_assert
// checks it has exactly one row per kind, in order (aggregates.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "engine/value_codec.h"
#include "ir/ir.h"
#include "value.h"

namespace braid::rt {

// The state of one aggregate of one rule in one session (chain). One struct for every kind keeps rule state a
// flat array; each kind uses the members its row names.
struct AggState {
  uint64_t count = 0;   // count
  DistinctSet set;      // distinct
  Owned val;            // min, max, first, last
  bool has = false;     // val holds a value (min/max: a non-null one; first/last: an event matched)
  int64_t t = 0;        // first/last: the event time of val
  int64_t isum = 0;     // sum
  double fsum = 0;
  bool sum_float = false, sum_overflow = false;
};

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
