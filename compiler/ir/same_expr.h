// Structural equality of expressions: two nodes that compute the same value on every event (same operators,
// constants, fields, sets, regexes, flags that change evaluation). Engines use it to share the work of equal
// predicates and the state of equal steps across rules. Conservative: "different" is always a safe answer.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/ir.h"

namespace braid::ir {

// A hash consistent with same_expr (equal expressions hash equally).
uint64_t expr_hash(const Program& p, NodeId id);

// Whether `a` and `b` are the same expression. Rule-relative nodes (Agg, Seq) are equal only when they are the
// same node, since their indices mean different things in different rules.
bool same_expr(const Program& p, NodeId a, NodeId b);

// Numbers expressions by equality: equal expressions get the same class, classes are numbered in order of first
// appearance. (Engines group equal predicates and steps with it; the JIT lowers one function per class.)
class ExprClasses {
 public:
  explicit ExprClasses(const Program& p) : p_(p) {}
  // The expression's class, and whether it is new. kNoNode is never equal to anything: always a new class.
  std::pair<uint32_t, bool> intern(NodeId id);
  uint32_t size() const { return static_cast<uint32_t>(first_.size()); }

 private:
  const Program& p_;
  std::vector<NodeId> first_;                                 // class -> its first expression
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_hash_;  // expr_hash -> classes
};

}  // namespace braid::ir
