// Choosing and preparing the engine for `braid run` and `braid test`: the JIT (default) or the interpreter.
#pragma once

#include <memory>
#include <string>

#include "engine/matcher.h"
#include "ir/ir.h"
#include "jit/jit.h"

namespace braid::pack {
struct LoadedPack;
}

namespace braid::cli {

struct EngineChoice {
  std::string engine = "jit";  // --engine: jit | interp
  bool cache = true;           // false: --no-jit-cache
};

struct PreparedEngine {
  std::unique_ptr<rt::JitProgram> jit;  // null for the interpreter
  double codegen_lower_ms = 0;  // IR -> bitcode (only when not taken from a pack)
  std::shared_ptr<rt::PredicateMatcher> matcher() const { return jit ? jit->make_matcher() : nullptr; }
};

// Compiles `program` for the chosen engine. With a pack, its bitcode (and native code, when it was built for
// this CPU and LLVM) is used. On failure prints a clear error naming the rule and returns nullptr.
std::unique_ptr<PreparedEngine> prepare_engine(const ir::Program& program, const pack::LoadedPack* pack,
                                               const EngineChoice& choice);

// The JIT lines of `--stats` (text) / members (json, with a leading comma).
std::string jit_stats_text(const PreparedEngine& e);
std::string jit_stats_json(const PreparedEngine& e);

}  // namespace braid::cli
