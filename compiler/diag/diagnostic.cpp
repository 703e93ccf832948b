#include "diag/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace braid {

Diagnostic& DiagnosticSink::report(Code code, Span span, std::string message) {
  Diagnostic d;
  d.code = code;
  d.severity = code_info(code).severity;
  d.span = span;
  d.message = std::move(message);
  diags_.push_back(std::move(d));
  return diags_.back();
}

void DiagnosticSink::add(Diagnostic d) { diags_.push_back(std::move(d)); }

size_t DiagnosticSink::error_count() const {
  return static_cast<size_t>(
      std::count_if(diags_.begin(), diags_.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

size_t DiagnosticSink::warning_count() const {
  return static_cast<size_t>(std::count_if(diags_.begin(), diags_.end(),
                                           [](const Diagnostic& d) { return d.severity == Severity::Warning; }));
}

void DiagnosticSink::sort() {
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tuple(a.span.file, a.span.begin, static_cast<int>(a.code)) <
           std::tuple(b.span.file, b.span.begin, static_cast<int>(b.code));
  });
}

}  // namespace braid
