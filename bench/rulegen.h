// Generates realistic Braid rule sets for the front-end benchmark: one self-contained file with a source (a
// CloudTrail-like schema), lists, macros and N rules: event rules, session rules with steps and sequences, and
// chain rules, each with metadata, a condition of several clauses, a message template and a suppression; every
// tenth rule carries a test with inline JSON events. The text is deterministic for a given N.
#pragma once

#include <cstddef>
#include <string>

namespace braid::bench {

struct RuleSet {
  std::string text;
  size_t rules = 0;
  size_t decls = 0;  // top-level declarations: the source, the lists and macros, the rules
};

RuleSet generate_rules(size_t n_rules);

}  // namespace braid::bench
