// Lowering the typed IR of a whole rule set to LLVM IR (the JIT's input), per ir/match_plan.h and the C ABI in
// codegen/helper_abi.h. The result is LLVM bitcode: it goes into rule packs (section 4) and is JIT-compiled by
// runtime/jit. This header is LLVM-free, so callers do not pay for LLVM's headers.
//
// What is lowered to native code: every rule predicate (event conditions and session/chain steps) and every
// source's `recognize`, with one dispatch function per source that switches on the plan's discriminator
// values. Comparisons, string equality and prefix/suffix tests, `in` over string and integer sets (a decision
// tree over length and distinguishing bytes, i.e. a perfect switch), boolean logic, existence and `[*]`
// quantifiers are emitted inline; regexes, globs, CIDR sets, case-folded lookups and mixed-type comparisons call
// the runtime helpers; any other expression calls the reference interpreter through braid_rt_eval, so it means
// exactly what the interpreter says.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.h"

namespace braid::codegen {

struct CodegenResult {
  std::string bitcode;     // empty on failure
  std::string error;       // on failure: what went wrong
  std::string error_rule;  // on failure: the rule (or "source NAME") being lowered, when known
  double lower_ms = 0;
  uint32_t functions = 0;  // predicate functions emitted
  bool ok() const { return error.empty(); }
};

// Lowers a checked program (free of errors). Never throws: LLVM verifier failures and malformed input come back
// as `error`, naming the rule.
// The bitcode is unoptimised and CPU-neutral: the runtime runs the IR passes, if any, for the CPU it runs on
// (runtime/jit, JitOptions::opt_level), and the object cache keys on this bitcode.
CodegenResult lower_program(const ir::Program& program);

// The LLVM version the code generator was built with ("19.1.7"): recorded next to native code.
std::string llvm_version();

}  // namespace braid::codegen
