// Prints the SIMD kernel the input library uses in this process (BRAID_SIMD_KERNEL is read at start-up), or, like
// `braid`, the one-line reason there is none and exit code 2. Used by kernel_test.cpp.
#include <cstdio>
#include <string>

#include "input/extract.h"
#include "input/reader.h"

int main() {
  try {
    braid::rt::RecordReader reader;
    braid::rt::FieldExtractor extractor(std::vector<braid::ir::FieldPath>{});
    std::printf("%s\n", std::string(braid::rt::simd_kernel_name()).c_str());
    return 0;
  } catch (const braid::rt::SimdKernelError& e) {
    std::fprintf(stderr, "braid-probe: error: %s\n", e.what());
    return 2;
  }
}
