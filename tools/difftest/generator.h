// The difftest generator: random, well-typed Braid rules and random event streams that those rules read.
//
// Both come from one seed, through one Rng whose every draw is specified here (std::mt19937_64 is fully specified
// by the standard; the <random> distributions are not, so ranges are reduced by hand). The same seed therefore
// gives the same bytes on every compiler and machine, and a failure found anywhere reproduces everywhere.
//
// Rules and events draw their constants from the same value pools (generator.cpp), so predicates hit often;
// events add near misses (case variants, prefixes, one-byte changes, nulls, missing fields, wrong JSON types).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace braid::difftest {

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t next() { return g_(); }
  // Uniform in [0, n) by rejection (no modulo bias, and no implementation-defined distribution).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      uint64_t r = g_();
      if (r >= threshold) return r % n;
    }
  }
  int64_t range(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability per_mille / 1000 (integer arithmetic only: exact everywhere).
  bool chance(unsigned per_mille) { return below(1000) < per_mille; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

 private:
  std::mt19937_64 g_;
};

// Derives independent per-case seeds from the run seed (SplitMix64 finaliser), so that case I can be regenerated
// alone (--only-case I) with exactly the bytes it had in the full run.
uint64_t case_seed(uint64_t seed, uint64_t index);

// One rule file: a rule and the lists and macros only it uses, so that any subset of files is a valid rule set
// (the minimizer removes files freely).
struct RuleFile {
  std::string id;    // the rule's name, e.g. dt.c3.r7
  std::string text;  // the whole .braid file
};

struct Case {
  std::vector<RuleFile> rules;
  std::vector<std::string> events;  // NDJSON lines (a few deliberately malformed)
  std::vector<std::string> common_flags;  // flags both engines get for this case (e.g. --distinct-bound 3)
};

// shared_steps: session and chain rules often reuse a step predicate of an earlier rule of the case (the engine
// shares the state of equal steps across rules; see --isolate). Off, a seed gives the bytes it always gave.
// edition2: the language's second-edition constructs too: AWS rules also read IAM policy documents held as JSON
// text (`json(...)`, `any(...)`, `all(...)`) and join strings with `+`, rules match tuples of fields against
// allow-lists of tuples (`(a, b) like any L`, `(a, b) in L`), and AWS events carry such documents (some
// malformed). Off, a seed gives the bytes it always gave (the baseline's).
// groups: a quarter of the rules are `group by` rules (keys of their source, `window D` or `gap G max M`, steps,
// aggregates, sequences and absence, no session attributes). Off, a seed gives the bytes it always gave.
// prefilter: each case also gets 4 to 9 event rules that need literals in one CloudTrail string field (string
// operators, case-insensitive comparisons, `in~`, `contains any`, `or` of two), so that the JIT's literal prefilter
// (docs/jit.md, "The prefilter") selects them. Off, a seed gives the bytes it always gave.
Case generate_case(uint64_t case_seed, uint64_t case_index, int rules, int events, bool shared_steps = false,
                   bool edition2 = false, bool groups = false, bool prefilter = false);

}  // namespace braid::difftest
