// The match plan: which predicates an event of each source must evaluate, decided at compile time.
//
// A *predicate* is an event-context boolean of a rule: the condition of an event-scope rule, or one step of a
// session/chain rule. Every engine asks the same question per event: which predicates of the event's source
// hold? The plan numbers those predicates per source (in program order) and indexes them by constant
// *discriminators*: for a predicate that can only hold when a string field equals one of a few constants
// (`eventName == "AssumeRole"`, `eventSource in [...]`), that field and those constants are a necessary
// condition, so an event whose field has another value skips the predicate without evaluating it.
//
// The JIT lowers the plan into one dispatch function per source (a switch over the discriminator values);
// the linter's "costly rule" warning (BRD0811) lists the predicates the plan cannot index. The plan is a pure,
// deterministic function of the Program, so the compiler (codegen) and the runtime (which loads bitcode or an
// object from a pack) compute the same numbering independently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.h"

namespace braid::ir {

struct Predicate {
  uint32_t rule = kNone;  // index into Program::rules
  uint32_t step = kNone;  // kNone: the event-scope rule's condition; else index into Rule::steps
  NodeId node = kNoNode;  // the expression (event context of the source)
};

// One discriminator index of a source: a field, the constants predicates compare it with, and per constant the
// predicates that may hold when the field has that value.
struct DiscriminatorIndex {
  FieldId field = kNone;
  uint32_t slot = kNone;                       // the field's slot in the source
  std::vector<std::string> values;             // sorted bytewise, unique
  std::vector<std::vector<uint32_t>> by_value; // parallel to `values`: predicate ids (ascending)
};

struct SourcePlan {
  std::vector<Predicate> predicates;           // predicate id -> predicate; program order (rule, then step)
  std::vector<DiscriminatorIndex> indexes;     // each predicate is in at most one index
  std::vector<uint32_t> always;                // predicates no index covers: evaluated for every event
  // Predicates that can never hold on this source: one requires a field this source never reads (always null
  // here; typically a step of a cross-source chain rule meant for another source) to equal a constant, or
  // requires values that contradict each other (`false`, `f == "a" and f == "b"`). Never evaluated.
  std::vector<uint32_t> never;
  std::vector<uint32_t> index_of;              // predicate id -> index in `indexes`, or kNone (in `always` or
                                               // `never`)
};

struct MatchPlan {
  std::vector<SourcePlan> sources;  // parallel to Program::sources
};

// Builds the plan over every rule of the program with a predicate (enabled or not: engines filter at run time).
// Fields are chosen greedily: the string field that constrains the most not-yet-indexed predicates first.
MatchPlan build_match_plan(const Program& p);

// The values `field` must have for `node` to be true (a necessary condition), sorted and unique; nullopt when the
// expression does not constrain the field to constants. Case-insensitive comparisons and comparisons on `nocase`
// fields do not constrain (the index matches bytes exactly).
std::optional<std::vector<std::string>> required_values(const Program& p, NodeId node, FieldId field);

// The source clauses the JIT compiles as value functions `braid_expr_<source>_<node>` (time, id, identity,
// credential, ip, account, and the mint and link expressions), as (source, node) pairs, sorted and unique. A link's
// child side belongs to its target source.
std::vector<std::pair<uint32_t, NodeId>> clause_expressions(const Program& p);

}  // namespace braid::ir
