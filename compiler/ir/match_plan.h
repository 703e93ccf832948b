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

// One literal of a prefilter: a predicate that lists it can only hold when the field's string value contains
// these bytes (ASCII case folded when `nocase`). `startswith`, `endswith`, `like` and case-insensitive equality
// all imply containment of a literal, so one multi-pattern scan per field answers them together; the predicate
// itself is still evaluated when its literal is found, so a literal only has to be implied, never exact.
struct PrefilterLiteral {
  std::string text;                            // never empty
  bool nocase = false;
  std::vector<uint32_t> predicates;            // predicate ids (ascending) that may hold when the literal is found
};

// A multi-pattern prefilter of a source (the runtime scans the field with vectorscan, runtime/jit/prefilter.h):
// predicates the discriminator indexes cannot select but that require one of a few literals in one string field.
struct PrefilterIndex {
  FieldId field = kNone;
  uint32_t slot = kNone;                       // the field's slot in the source
  std::vector<PrefilterLiteral> literals;      // sorted by (text, nocase), unique
};

struct SourcePlan {
  std::vector<Predicate> predicates;           // predicate id -> predicate; program order (rule, then step)
  std::vector<DiscriminatorIndex> indexes;     // each predicate is in at most one index
  std::vector<PrefilterIndex> prefilters;      // predicates no index covers, selected by a literal scan; each
                                               // predicate is in at most one index or prefilter
  std::vector<uint32_t> prefiltered;           // the predicates of `prefilters`, ascending
  std::vector<uint32_t> always;                // predicates no index or prefilter covers: evaluated for every event
  // The predicates of `always` that imply no literal either, so that no number of rules like them would ever be
  // selected by a scan: what the linter calls costly (BRD0811). The others (too few on their field to be worth a
  // scan, kMinPrefilterPredicates) are cheap: a string operator or two per event.
  std::vector<uint32_t> costly;
  // Predicates that can never hold on this source: one requires a field this source never reads (always null
  // here; typically a step of a cross-source chain rule meant for another source) to equal a constant, or
  // requires values that contradict each other (`false`, `f == "a" and f == "b"`). Never evaluated.
  std::vector<uint32_t> never;
  std::vector<uint32_t> index_of;              // predicate id -> index in `indexes`, or kNone (in a prefilter,
                                               // `always` or `never`)
  std::vector<uint32_t> prefilter_of;          // predicate id -> index in `prefilters`, or kNone
};

// A prefilter needs at least this many distinct predicates (ir/same_expr.h classes) on its field: below that,
// evaluating them (a string operator each) costs less than a vectorscan call.
inline constexpr uint32_t kMinPrefilterPredicates = 4;

struct MatchPlan {
  std::vector<SourcePlan> sources;  // parallel to Program::sources
};

// Builds the plan over every rule of the program with a predicate (enabled or not: engines filter at run time).
// Fields are chosen greedily: the string field that constrains the most not-yet-indexed predicates first; then,
// among the predicates left, the string field whose literals the most of them require becomes a prefilter.
MatchPlan build_match_plan(const Program& p);

// The literals one of which `field`'s string value must contain for `node` to be true (a necessary condition),
// sorted and unique; nullopt when the expression implies no such literal. Contains, startswith, endswith (and
// their `any` forms), like (its longest run without wildcards), equality or `in` with string constants, exact
// or case-insensitive, and a regex (RE2's prefilter atoms) each imply literals; `and` takes its most selective
// conjunct, `or` needs every branch.
std::optional<std::vector<PrefilterLiteral>> required_literals(const Program& p, NodeId node, FieldId field);

// The values `field` must have for `node` to be true (a necessary condition), sorted and unique; nullopt when the
// expression does not constrain the field to constants. Case-insensitive comparisons and comparisons on `nocase`
// fields do not constrain (the index matches bytes exactly).
std::optional<std::vector<std::string>> required_values(const Program& p, NodeId node, FieldId field);

// The source clauses the JIT compiles as value functions `braid_expr_<source>_<node>` (time, id, identity,
// credential, ip, account, and the mint and link expressions), as (source, node) pairs, sorted and unique. A link's
// child side belongs to its target source.
std::vector<std::pair<uint32_t, NodeId>> clause_expressions(const Program& p);

}  // namespace braid::ir
