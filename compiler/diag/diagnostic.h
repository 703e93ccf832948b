// Diagnostics: what every compiler stage reports, and what `braid check/lint` render as text, JSON or SARIF.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diag/codes.h"
#include "diag/source.h"

namespace braid {

// A machine-applicable edit: replace `span` with `replacement`.
struct FixIt {
  Span span;
  std::string replacement;
};

// A secondary location ("first declared here").
struct RelatedLocation {
  Span span;
  std::string message;
};

struct Diagnostic {
  Code code = Code::BRD0000;
  Severity severity = Severity::Error;  // usually code_info(code).severity; lint can raise or lower it
  std::string message;
  Span span;                            // may be invalid for file-less problems (I/O, usage)
  std::string help;                     // "did you mean `eventName`?"; empty when none
  std::optional<FixIt> fix;
  std::vector<RelatedLocation> related;
};

// Collects diagnostics from every stage. Stages never throw for bad input; they report and recover.
class DiagnosticSink {
 public:
  Diagnostic& report(Code code, Span span, std::string message);
  void add(Diagnostic d);

  const std::vector<Diagnostic>& all() const { return diags_; }
  size_t error_count() const;
  size_t warning_count() const;
  bool has_errors() const { return error_count() != 0; }

  // Stable order for output: by file, offset, then code.
  void sort();

 private:
  std::vector<Diagnostic> diags_;
};

}  // namespace braid
