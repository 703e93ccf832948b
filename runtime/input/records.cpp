// ArraySplitter: the splitting itself is SIMD code, in kernel_impl.cpp (one copy per kernel; kernel.h).
#include "input/records.h"

#include "input/kernel.h"

namespace braid::rt::detail {

struct ArraySplitter::Impl {
  std::unique_ptr<ArraySplitWorker> worker = kernel_for_new_object().make_splitter();
};

ArraySplitter::ArraySplitter() : impl_(std::make_unique<Impl>()) {}
ArraySplitter::~ArraySplitter() = default;

bool ArraySplitter::split(const char* data, size_t size, InputFormat format, std::vector<ElementSpan>& out,
                          InputErrorKind& kind, std::string& reason, size_t& bad_element) {
  return impl_->worker->split(data, size, format, out, kind, reason, bad_element);
}

}  // namespace braid::rt::detail
