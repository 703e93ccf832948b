// Structural equality of expressions: two nodes that compute the same value on every event (same operators,
// constants, fields, sets, regexes, flags that change evaluation). Engines use it to share the work of equal
// predicates and the state of equal steps across rules. Conservative: "different" is always a safe answer.
#pragma once

#include <cstdint>

#include "ir/ir.h"

namespace braid::ir {

// A hash consistent with same_expr (equal expressions hash equally).
uint64_t expr_hash(const Program& p, NodeId id);

// Whether `a` and `b` are the same expression. Rule-relative nodes (Agg, Seq) are equal only when they are the
// same node, since their indices mean different things in different rules.
bool same_expr(const Program& p, NodeId a, NodeId b);

}  // namespace braid::ir
