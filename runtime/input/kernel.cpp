// Compiled WITHOUT the SIMD kernel flags (see CMakeLists.txt), so that the check below runs on any CPU.
#include <stdexcept>
#include <string>
#include <string_view>

#include "input/reader.h"

#ifndef BRAID_SIMD_KERNEL_NAME
#define BRAID_SIMD_KERNEL_NAME "fallback"
#endif

namespace braid::rt {

std::string_view simd_kernel_name() { return BRAID_SIMD_KERNEL_NAME; }

bool simd_kernel_supported() {
#if defined(__x86_64__) || defined(__i386__)
  std::string_view k = BRAID_SIMD_KERNEL_NAME;
  if (k == "haswell") {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("pclmul") &&
           __builtin_cpu_supports("popcnt");
  }
#endif
  return true;  // fallback, or native (built for this machine)
}

void check_simd_kernel() {
  if (!simd_kernel_supported()) {
    throw std::runtime_error(std::string("this CPU cannot run the '") + BRAID_SIMD_KERNEL_NAME +
                             "' JSON kernel Braid's event input was compiled for (AVX2/BMI/PCLMUL); rebuild with "
                             "-DBRAID_SIMD_KERNEL=fallback");
  }
}

}  // namespace braid::rt
