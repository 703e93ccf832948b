// The stable diagnostic codes. Each code is defined exactly once, in one of the codes_*.def files:
//   BRD00xx  lexical and syntax (parser)          codes_syntax.def
//   BRD01xx  declarations and names (checker)     codes_check.def
//   BRD02xx  types and expressions (checker)      codes_check.def
//   BRD03xx  sources, schemas and fields          codes_check.def
//   BRD04xx  rules, metadata and tests            codes_check.def
//   BRD08xx  lint: rule quality warnings          codes_lint.def
//   BRD09xx  inputs, files and the driver         codes_driver.def
// A code, once published, never changes meaning; retired codes stay reserved.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace braid {

enum class Severity : uint8_t { Error, Warning, Note };

std::string_view severity_name(Severity s);  // "error", "warning", "note"

enum class Code : uint16_t {
  BRD0000 = 0,  // placeholder: no code
#define BRD_CODE(id, sev, slug, title, text) id,
#include "diag/codes_syntax.def"
#include "diag/codes_check.def"
#include "diag/codes_lint.def"
#include "diag/codes_driver.def"
#undef BRD_CODE
};

struct CodeInfo {
  Code code;
  std::string_view id;     // "BRD0103"
  Severity severity;       // default severity
  std::string_view slug;   // "unknown-field": short kebab-case name, used as the SARIF rule name
  std::string_view title;  // one line
  std::string_view text;   // the long explanation shown by `braid explain`, Markdown
};

const CodeInfo& code_info(Code code);
std::optional<Code> parse_code(std::string_view id);  // "BRD0103" or "brd0103"
// Every registered code, in numeric order.
const CodeInfo* all_codes(size_t* count);

}  // namespace braid
