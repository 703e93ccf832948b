// Internal to braid_runtime_input (and its tests): the SIMD kernels of event input and the choice among them.
//
// simdjson On-Demand is header code compiled for the one kernel the compile flags allow. So the hot code (the
// FieldExtractor's walk and the splitting of Records / JSON-array files, kernel_impl.cpp) is compiled once per
// kernel, each copy with its own target flags, and the library picks one copy at run time:
//
//   kernel    flags (x86-64)                                   the CPU must have
//   icelake   haswell's + -mavx512{f,dq,cd,bw,vl,vbmi,vbmi2}  AVX-512 F/DQ/CD/BW/VL/VBMI/VBMI2 (Ice Lake, Zen 4)
//   haswell   -mavx2 -mbmi -mpclmul -mlzcnt -mpopcnt          AVX2, BMI1, PCLMULQDQ, LZCNT, POPCNT (x86-64-v3)
//   westmere  -march=x86-64-v2 -mpclmul                        x86-64-v2 and PCLMULQDQ
//   fallback  -march=x86-64-v2                                 x86-64-v2 (SSE4.2, POPCNT, ...; e.g. Nehalem,
//                                                              which has no PCLMULQDQ)
// The first kernel of that list this CPU can run is used. A CPU below x86-64-v2 is refused (SimdKernelError,
// naming the missing feature). BRAID_SIMD_KERNEL=icelake|haswell|westmere|fallback in the environment forces a
// kernel (tests, benchmarks); forcing one this CPU cannot run is refused the same way, never a SIGILL. On other
// architectures there is one kernel, "builtin" at build time, reported by simdjson's name for it.
//
// Stage 1 of On-Demand (the structural scan) is not header code: libsimdjson has it for every kernel and picks one
// at run time itself (simdjson::get_active_implementation()). Choosing a kernel here makes it use the same one
// (KernelOps::select_stage1), so that BRAID_SIMD_KERNEL=westmere runs both stages on SSE4.2.
//
// One definition rule. The kernel copies are linked into the one library, so any inline function or template
// they share (libstdc++, simdjson's common code, value.h) would exist in several copies compiled for different
// CPUs, and the linker would keep any one of them: an AVX-512 copy could end up called on the SSE4.2 path. The
// build therefore links each kernel's objects into one relocatable object (ld -r --force-group-allocation) and
// makes every symbol in it local except its table, braid_input_kernel_<name> (objcopy --keep-global-symbol);
// check_kernel_object.cmake fails the build if anything else stays global. Each kernel's own code is also in its
// own namespace (braid::rt::detail::kernel_<name>), as simdjson's is (simdjson::icelake, simdjson::haswell, ...).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "input/reader.h"

namespace braid::rt::detail {

struct ExtractPlan;  // extract_plan.h
struct ElementSpan;  // records.h

// A FieldExtractor's state: its plan (the trie and the values, kernel-independent) next to the kernel's simdjson
// parsers, and the kernel's walk.
class ExtractWalker {
 public:
  virtual ~ExtractWalker() = default;
  virtual ExtractPlan& plan() = 0;
  // Fills plan().values for one record (data[size, size + kRecordPadding) readable). False on a malformed record,
  // with plan().err_kind / plan().err_text set.
  virtual bool run(const char* data, size_t size) = 0;
};

// An ArraySplitter's per-kernel state; see records.h for the contract of split().
class ArraySplitWorker {
 public:
  virtual ~ArraySplitWorker() = default;
  virtual bool split(const char* data, size_t size, InputFormat format, std::vector<ElementSpan>& out,
                     InputErrorKind& kind, std::string& reason, size_t& bad_element) = 0;
};

// What one kernel object exports: its only global symbol (braid_input_kernel_<name>).
struct KernelOps {
  const char* name;      // "icelake", "haswell", "westmere", "fallback" (elsewhere simdjson's name for its kernel)
  const char* simdjson;  // the simdjson kernel it was compiled with (equal to `name`: checked at compile time)
  std::unique_ptr<ExtractWalker> (*make_walker)();
  std::unique_ptr<ArraySplitWorker> (*make_splitter)();
  // Stage 1 of On-Demand (the SIMD structural scan) is not header code: a parser takes it from libsimdjson's
  // process-wide simdjson::get_active_implementation() when it first allocates. select_stage1() makes that the
  // implementation of the same name when libsimdjson has it and finds it runnable; stage1() names the current one.
  void (*select_stage1)();
  const char* (*stage1)();
};

// What the choice looks at: the CPU's features (x86-64; elsewhere unused) ...
struct CpuFeatures {
  bool sse3 = false, ssse3 = false, sse4_1 = false, sse4_2 = false, popcnt = false, cmpxchg16b = false;
  bool x86_64_v2 = false;  // all of the above and LAHF/SAHF
  bool pclmul = false, avx2 = false, bmi1 = false, lzcnt = false;
  bool avx512f = false, avx512dq = false, avx512cd = false, avx512bw = false, avx512vl = false,
       avx512vbmi = false, avx512vbmi2 = false;
};
CpuFeatures host_cpu_features();  // this CPU (with the OS's support for the AVX and AVX-512 registers)

// ... and the value of BRAID_SIMD_KERNEL (null or "" or "auto": the best kernel the CPU runs).
struct KernelChoice {
  const KernelOps* ops = nullptr;  // null: none
  std::string error;               // when ops is null: why, one line naming the missing feature
};
KernelChoice choose_kernel(const char* forced, const CpuFeatures& cpu);

// The kernel in use: chosen once (the CPU, BRAID_SIMD_KERNEL), the same for the whole process; choosing it also
// selects its stage 1 (KernelOps::select_stage1), so that both stages of On-Demand run the same kernel. Throws
// SimdKernelError when there is none (a CPU below x86-64-v2, or a forced kernel this CPU cannot run).
const KernelOps& active_kernel();

// Every kernel built into the library, in order of preference (best first).
std::vector<std::string_view> built_kernels();
// Empty when this CPU can run kernel `name`; else why not (e.g. "this CPU lacks AVX512VBMI2, which ..."). For a
// name that is not built: "unknown kernel ...".
std::string kernel_unsupported_reason(std::string_view name);
// The kernel `name` if it is built and this CPU can run it, else nullptr.
const KernelOps* find_kernel(std::string_view name);

// For tests: while one is alive, FieldExtractors and ArraySplitters constructed ON THIS THREAD use `ops` instead
// of the active kernel for their walk (stage 2); stage 1 stays the active kernel's (it is process-wide).
class ScopedKernelOverride {
 public:
  explicit ScopedKernelOverride(const KernelOps& ops);
  ~ScopedKernelOverride();
  ScopedKernelOverride(const ScopedKernelOverride&) = delete;
  ScopedKernelOverride& operator=(const ScopedKernelOverride&) = delete;

 private:
  const KernelOps* previous_;
};

// The override if there is one, else active_kernel(). What the constructors call.
const KernelOps& kernel_for_new_object();

}  // namespace braid::rt::detail
