// The JIT: LLVM bitcode of a rule set (from compiler/codegen, or a pack's section 4) -> native code for this CPU
// with LLVM ORC LLJIT -> a PredicateMatcher for the engine.
//
//   std::string error;
//   auto jit = rt::JitProgram::load(program, bitcode, {}, error);   // nullptr + error on failure
//   EngineOptions o; o.matcher = jit->make_matcher();              // one matcher per engine
//
// Code generation runs for the host CPU and its features at JitOptions::opt_level (default 0: no IR passes, fast
// instruction selection; see docs/jit.md for why). The resulting
// object file is cached on disk, keyed by SHA-256 of (bitcode, CPU, features, LLVM version, opt level), so a
// second load of the same rules or pack skips code generation and only links (JitStats::object_source says which
// happened). The cache directory is $BRAID_CACHE_DIR, else $XDG_CACHE_HOME/braid/jit, else ~/.cache/braid/jit;
// it is created mode 0700 and ignored (with a warning) when another user owns it or others can write to it:
// loading a cached object is executing code.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/matcher.h"
#include "ir/ir.h"
#include "ir/match_plan.h"
#include "jit/prefilter.h"

namespace braid::rt {

inline constexpr int kDefaultJitOptLevel = 0;  // docs/performance.md: same events/s as 1, 5x faster to compile

struct JitOptions {
  // 0: no IR optimisation, fast instruction selection (CodeGenOptLevel::None); 1: the IR -O1 pipeline, then
  // fast instruction selection; 2: the IR -O2 pipeline and CodeGenOptLevel::Default. docs/performance.md has
  // the measured trade-off: the same events/s at every level (predicates are a few percent of an event's cost once
  // the dispatch skips most of them), and compile time grows about 5x from each level to the next.
  int opt_level = kDefaultJitOptLevel;
  bool use_cache = true;
  std::string cache_dir;  // empty: the default above
  // Native code shipped in a pack (section 5), already checked to be for this CPU and LLVM: used instead of
  // code generation when set.
  const std::string* native_object = nullptr;
};

struct JitStats {
  enum class ObjectSource { Codegen, Cache, Pack };
  ObjectSource object_source = ObjectSource::Codegen;
  double parse_ms = 0, codegen_ms = 0, link_ms = 0, total_ms = 0;
  uint64_t bitcode_bytes = 0, object_bytes = 0;
  std::string cpu, features, cache_file;
  std::string cache_warning;  // why the cache was not used, if it was wanted, or that a damaged entry was replaced
  double prefilter_ms = 0;          // building the prefilter's vectorscan databases
  uint64_t prefilter_databases = 0;
  uint64_t prefilter_cached = 0;    // ... of which came from the cache directory (next to the cached objects)
  std::string prefilter_warning;    // why the prefilter selects every predicate somewhere (prefilter.h), or ""
};
std::string_view object_source_name(JitStats::ObjectSource s);  // "codegen", "cache", "pack"

class JitProgram {
 public:
  // `program` must outlive the JitProgram; `bitcode` must come from codegen::lower_program(program) (directly
  // or through a pack built from it). Returns nullptr and sets `error` on any failure; never aborts.
  static std::unique_ptr<JitProgram> load(const ir::Program& program, std::string_view bitcode,
                                          const JitOptions& options, std::string& error);
  ~JitProgram();
  JitProgram(const JitProgram&) = delete;
  JitProgram& operator=(const JitProgram&) = delete;

  // A matcher for one engine (each holds its own evaluation frame). The JitProgram must outlive it.
  std::shared_ptr<PredicateMatcher> make_matcher() const;

  const JitStats& stats() const;
  const ir::MatchPlan& plan() const;

  struct Impl;

 private:
  JitProgram();
  std::unique_ptr<Impl> impl_;
};

// The host CPU name and feature string as LLVM sees them ("znver3", "+avx2,+bmi2,...").
std::string host_cpu();
std::string host_features();
std::string jit_llvm_version();

// Bitcode -> a relocatable object for this host (what the cache stores and `braid build --native` ships).
std::optional<std::string> compile_object(std::string_view bitcode, int opt_level, std::string& error);

}  // namespace braid::rt
