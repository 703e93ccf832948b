#include "diag/codes.h"

#include <cctype>
#include <string>

namespace braid {

namespace {

constexpr CodeInfo kCodes[] = {
    {Code::BRD0000, "BRD0000", Severity::Error, "none", "No code", ""},
#define BRD_CODE(id, sev, slug, title, text) {Code::id, #id, sev, slug, title, text},
#include "diag/codes_syntax.def"
#include "diag/codes_check.def"
#include "diag/codes_lint.def"
#include "diag/codes_driver.def"
#undef BRD_CODE
};

constexpr size_t kCount = sizeof(kCodes) / sizeof(kCodes[0]);

}  // namespace

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

const CodeInfo& code_info(Code code) {
  // The enum is dense and in the same order as the table.
  auto i = static_cast<size_t>(code);
  return i < kCount ? kCodes[i] : kCodes[0];
}

std::optional<Code> parse_code(std::string_view id) {
  std::string up(id);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (size_t i = 1; i < kCount; ++i) {
    if (kCodes[i].id == up) return kCodes[i].code;
  }
  return std::nullopt;
}

const CodeInfo* all_codes(size_t* count) {
  *count = kCount - 1;
  return kCodes + 1;
}

}  // namespace braid
