// The choice of the SIMD kernel (kernel.h). Compiled WITHOUT SIMD flags, so that it runs on any CPU, including
// the ones it refuses.
#include "input/kernel.h"

#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "input/reader.h"

// The kernel tables (kernel_impl.cpp, one object per kernel; runtime/input/CMakeLists.txt builds the same list).
#if defined(__x86_64__)
#include <cpuid.h>
#define BRAID_INPUT_X86_64 1
extern "C" const braid::rt::detail::KernelOps braid_input_kernel_icelake;
extern "C" const braid::rt::detail::KernelOps braid_input_kernel_haswell;
extern "C" const braid::rt::detail::KernelOps braid_input_kernel_westmere;
extern "C" const braid::rt::detail::KernelOps braid_input_kernel_fallback;
#else
#define BRAID_INPUT_X86_64 0
extern "C" const braid::rt::detail::KernelOps braid_input_kernel_builtin;
#endif

namespace braid::rt {

namespace detail {
namespace {

#if BRAID_INPUT_X86_64
// Each returns the first feature this CPU lacks of those the kernel's compile flags let the compiler use, or
// nullptr.
const char* missing_x86_64_v2(const CpuFeatures& f) {
  if (!f.sse3) return "SSE3";
  if (!f.ssse3) return "SSSE3";
  if (!f.sse4_1) return "SSE4.1";
  if (!f.sse4_2) return "SSE4.2";
  if (!f.popcnt) return "POPCNT";
  if (!f.cmpxchg16b) return "CMPXCHG16B";
  if (!f.x86_64_v2) return "LAHF/SAHF";  // the last x86-64-v2 feature
  return nullptr;
}
const char* missing_fallback(const CpuFeatures& f) { return missing_x86_64_v2(f); }
const char* missing_westmere(const CpuFeatures& f) {
  if (const char* m = missing_x86_64_v2(f)) return m;
  if (!f.pclmul) return "PCLMULQDQ";
  return nullptr;
}
const char* missing_haswell(const CpuFeatures& f) {
  if (const char* m = missing_westmere(f)) return m;
  if (!f.avx2) return "AVX2";
  if (!f.bmi1) return "BMI1";
  if (!f.lzcnt) return "LZCNT";
  return nullptr;
}
const char* missing_icelake(const CpuFeatures& f) {
  if (const char* m = missing_haswell(f)) return m;
  if (!f.avx512f) return "AVX512F";
  if (!f.avx512dq) return "AVX512DQ";
  if (!f.avx512cd) return "AVX512CD";
  if (!f.avx512bw) return "AVX512BW";
  if (!f.avx512vl) return "AVX512VL";
  if (!f.avx512vbmi) return "AVX512VBMI";
  if (!f.avx512vbmi2) return "AVX512VBMI2";
  return nullptr;
}
#else
const char* missing_nothing(const CpuFeatures&) { return nullptr; }
#endif

struct Candidate {
  std::string_view name;
  const KernelOps* ops;
  const char* (*missing)(const CpuFeatures&);
};

// In order of preference.
const Candidate kKernels[] = {
#if BRAID_INPUT_X86_64
    {"icelake", &braid_input_kernel_icelake, missing_icelake},
    {"haswell", &braid_input_kernel_haswell, missing_haswell},
    {"westmere", &braid_input_kernel_westmere, missing_westmere},
    {"fallback", &braid_input_kernel_fallback, missing_fallback},
#else
    {"builtin", &braid_input_kernel_builtin, missing_nothing},
#endif
};

const Candidate* find_candidate(std::string_view name) {
  for (const Candidate& c : kKernels)
    if (c.name == name || c.ops->name == name) return &c;
  return nullptr;
}

std::string kernel_list() {
  std::string s;
  for (const Candidate& c : kKernels) {
    if (!s.empty()) s += ", ";
    s += c.name;
  }
  return s;
}

// `text` as one printable line (it goes into a one-line message).
std::string printable(std::string_view text) {
  std::string s;
  for (char ch : text.substr(0, 64)) s += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
  if (text.size() > 64) s += "...";
  return s;
}

std::string reason_for(const Candidate& c, const CpuFeatures& cpu) {
  const char* m = c.missing(cpu);
  if (!m) return {};
#if BRAID_INPUT_X86_64
  if (missing_x86_64_v2(cpu))
    return std::string("this CPU lacks ") + m + ": Braid's event input needs an x86-64-v2 CPU (SSE4.2, POPCNT, ...)";
#endif
  return std::string("this CPU lacks ") + m + ", which the '" + std::string(c.name) + "' JSON kernel needs";
}

const CpuFeatures& host() {
  static const CpuFeatures f = host_cpu_features();
  return f;
}

const KernelChoice& choice() {
  static const KernelChoice c = [] {
    KernelChoice ch = choose_kernel(std::getenv("BRAID_SIMD_KERNEL"), host());
    if (ch.ops != nullptr) ch.ops->select_stage1();  // before any parser of the library exists
    return ch;
  }();
  return c;
}

thread_local const KernelOps* g_override = nullptr;

}  // namespace

CpuFeatures host_cpu_features() {
  CpuFeatures f;
#if BRAID_INPUT_X86_64
  // libgcc's __builtin_cpu_supports also checks that the OS saves the AVX and AVX-512 registers.
  __builtin_cpu_init();
  f.sse3 = __builtin_cpu_supports("sse3");
  f.ssse3 = __builtin_cpu_supports("ssse3");
  f.sse4_1 = __builtin_cpu_supports("sse4.1");
  f.sse4_2 = __builtin_cpu_supports("sse4.2");
  f.popcnt = __builtin_cpu_supports("popcnt");
  // CMPXCHG16B and LAHF/SAHF from CPUID itself: clang's runtime (the fuzz build) does not report them through
  // __builtin_cpu_supports, and so neither "x86-64-v2".
  unsigned a = 0, b = 0, c = 0, d = 0;
  f.cmpxchg16b = __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & (1u << 13)) != 0;
  bool lahf = __get_cpuid(0x80000001u, &a, &b, &c, &d) != 0 && (c & 1u) != 0;
  f.x86_64_v2 = f.sse3 && f.ssse3 && f.sse4_1 && f.sse4_2 && f.popcnt && f.cmpxchg16b && lahf;
  f.pclmul = __builtin_cpu_supports("pclmul");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.bmi1 = __builtin_cpu_supports("bmi");
  f.lzcnt = __builtin_cpu_supports("lzcnt");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512cd = __builtin_cpu_supports("avx512cd");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512vbmi = __builtin_cpu_supports("avx512vbmi");
  f.avx512vbmi2 = __builtin_cpu_supports("avx512vbmi2");
#endif
  return f;
}

KernelChoice choose_kernel(const char* forced, const CpuFeatures& cpu) {
  KernelChoice ch;
  if (forced != nullptr && *forced != '\0' && std::string_view(forced) != "auto") {
    const Candidate* c = find_candidate(forced);
    if (c == nullptr) {
      ch.error = "BRAID_SIMD_KERNEL=" + printable(forced) + ": not a JSON kernel of this build (" + kernel_list() +
                 ", or auto)";
    } else if (std::string why = reason_for(*c, cpu); !why.empty()) {
      ch.error = "BRAID_SIMD_KERNEL=" + std::string(c->name) + ": " + why;
    } else {
      ch.ops = c->ops;
    }
    return ch;
  }
  for (const Candidate& c : kKernels) {
    if (!c.missing(cpu)) {
      ch.ops = c.ops;
      return ch;
    }
  }
  ch.error = reason_for(kKernels[std::size(kKernels) - 1], cpu);  // the least demanding kernel names what is missing
  return ch;
}

const KernelOps& active_kernel() {
  const KernelChoice& c = choice();
  if (c.ops == nullptr) throw SimdKernelError(c.error);
  return *c.ops;
}

std::vector<std::string_view> built_kernels() {
  std::vector<std::string_view> v;
  for (const Candidate& c : kKernels) v.push_back(c.name);
  return v;
}

std::string kernel_unsupported_reason(std::string_view name) {
  const Candidate* c = find_candidate(name);
  if (c == nullptr) return "unknown kernel '" + printable(name) + "' (this build has " + kernel_list() + ")";
  return reason_for(*c, host());
}

const KernelOps* find_kernel(std::string_view name) {
  const Candidate* c = find_candidate(name);
  return c != nullptr && c->missing(host()) == nullptr ? c->ops : nullptr;
}

ScopedKernelOverride::ScopedKernelOverride(const KernelOps& ops) : previous_(g_override) { g_override = &ops; }
ScopedKernelOverride::~ScopedKernelOverride() { g_override = previous_; }

const KernelOps& kernel_for_new_object() { return g_override != nullptr ? *g_override : active_kernel(); }

}  // namespace detail

std::string_view simd_kernel_name() {
  const detail::KernelOps* ops = detail::choice().ops;
  return ops != nullptr ? std::string_view(ops->name) : std::string_view("none");
}

bool simd_kernel_supported() { return detail::choice().ops != nullptr; }

// RecordReader's constructor (reader.cpp): refuse early, with the one-line reason.
void check_simd_kernel() { (void)detail::kernel_for_new_object(); }

}  // namespace braid::rt
