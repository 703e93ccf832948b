// Internal to braid_runtime_input: splitting a whole CloudTrail Records file or JSON array file into its elements
// (records.cpp; the SIMD code is in kernel_impl.cpp, one copy per kernel, see kernel.h).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "input/reader.h"

namespace braid::rt::detail {

struct ElementSpan {
  size_t offset = 0;  // into the document
  size_t size = 0;
};

class ArraySplitter {
 public:
  ArraySplitter();
  ~ArraySplitter();
  // `data` holds `size` bytes followed by kRecordPadding readable bytes. Appends the elements found to `out`.
  // On a problem: returns false, with `kind`/`reason` set and `bad_element` the index of the element where it was
  // found (the elements before it are in `out`).
  bool split(const char* data, size_t size, InputFormat format, std::vector<ElementSpan>& out, InputErrorKind& kind,
             std::string& reason, size_t& bad_element);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::rt::detail
