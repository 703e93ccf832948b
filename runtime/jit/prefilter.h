// The multi-pattern prefilter (ir/match_plan.h, PrefilterIndex): predicates no discriminator index selects, but
// that need one of a few literals in one string field (`contains`, `startswith`, `like`, `==~`, ...), are
// evaluated only when a vectorscan scan of that field finds one of their literals. One database per prefilter
// holds the literals of every such predicate, so the scan costs about the same for one rule or a thousand, and
// the dispatch code (compiler/codegen, helper_abi.h) tests one bit per predicate instead of running it.
//
// The prefilter is only a necessary condition: a found literal selects its predicates, which the JIT then
// evaluates exactly. When vectorscan cannot run (a CPU without SSE4.2, or a database it refuses to build) the
// prefilter selects every predicate, which is slower and never wrong; `warning()` says why.
//
//   auto pf = Prefilter::build(plan);                 // once per program
//   Prefilter::Scanner sc(*pf);                       // one per thread
//   const uint64_t* bits = pf->scan(sc, source, slots);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ir/match_plan.h"
#include "value.h"

struct hs_database;
struct hs_scratch;

namespace braid::rt {

struct PrefilterCounters {
  uint64_t scans = 0;     // fields scanned
  uint64_t literals = 0;  // literals found (at most one report per literal and scan)
  uint64_t selected = 0;  // predicates selected for evaluation (counting one per found literal and predicate)
};

// Where built databases are kept between runs (the JIT's object cache). `key` names everything a database is built
// from (vectorscan's version, each literal and its flags); the cache adds the CPU. `load` returns true and fills
// `bytes` when it has the key; a database that does not deserialise is built again and stored over it.
struct PrefilterCache {
  std::function<bool(const std::string& key, std::string& bytes)> load;
  std::function<void(const std::string& key, std::string_view bytes)> store;
};

class Prefilter {
 public:
  static std::unique_ptr<Prefilter> build(const ir::MatchPlan& plan, const PrefilterCache* cache = nullptr);
  ~Prefilter();
  Prefilter(const Prefilter&) = delete;
  Prefilter& operator=(const Prefilter&) = delete;

  // Per-thread state: vectorscan's scratch, the bitsets, the counters.
  class Scanner {
   public:
    explicit Scanner(const Prefilter& pf);
    ~Scanner();
    Scanner(const Scanner&) = delete;
    Scanner& operator=(const Scanner&) = delete;
    const PrefilterCounters& counters() const { return counters_; }

   private:
    friend class Prefilter;
    hs_scratch* scratch_ = nullptr;
    std::vector<uint64_t> bits_;  // the widest source's words
    PrefilterCounters counters_;
  };

  // The bitset of source `source`'s predicates (ir::SourcePlan numbering) that the dispatch may evaluate: the
  // prefiltered predicates whose literal occurs in the event's field values (`slots`, the source's slots). Valid
  // until the next scan with the same scanner.
  const uint64_t* scan(Scanner& sc, uint32_t source, const Value* slots) const;

  // Why the prefilter selects everything on some sources (empty when it works everywhere).
  const std::string& warning() const { return warning_; }
  size_t databases() const;  // databases, over all sources (for tests and --stats)
  size_t cached() const { return cached_; }  // ... of which were loaded from the cache

 private:
  Prefilter() = default;
  struct Field;   // one PrefilterIndex: its database and literal -> predicates table
  struct Source;  // the source's fields and bitset width
  std::vector<Source> sources_;
  std::string warning_;
  size_t words_ = 0;
  size_t cached_ = 0;
};

}  // namespace braid::rt
