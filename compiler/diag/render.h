// Rendering diagnostics for people (text, like clang and rustc) and for machines (Braid's own JSON document and
// SARIF 2.1.0 for GitHub code scanning). All three are deterministic: the same diagnostics give the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "diag/diagnostic.h"
#include "diag/source.h"
#include "text/json_write.h"
#include "text/utf8.h"

namespace braid {

struct RenderOptions {
  bool color = false;             // ANSI colours in text output (the CLI decides: TTY, NO_COLOR, --color)
  bool summary = true;            // text: end with "2 errors, 1 warning" when there is anything to report
  std::string tool_version;       // SARIF tool.driver.version
  std::string information_uri = "https://github.com/braid-lang/braid";  // SARIF tool.driver.informationUri
  // SARIF artifact URIs are made relative to this directory (default: the current working directory).
  std::string working_dir;
};

// Text, one block per diagnostic, then a summary line. Empty when `diags` is empty.
std::string render_text(const std::vector<Diagnostic>& diags, const SourceManager& sm, const RenderOptions& opts);

// {"version":1,"diagnostics":[...],"summary":{"errors":N,"warnings":N}}, pretty-printed, newline-terminated.
std::string render_json(const std::vector<Diagnostic>& diags, const SourceManager& sm, const RenderOptions& opts);

// A SARIF 2.1.0 log with one run, pretty-printed, newline-terminated.
std::string render_sarif(const std::vector<Diagnostic>& diags, const SourceManager& sm, const RenderOptions& opts);

// "2 errors, 1 warning" (", 3 notes" when `notes` is non-zero); "no problems" when all are zero.
std::string summary_text(size_t errors, size_t warnings, size_t notes = 0);

// ---------------------------------------------------------------------------------------------------------------
// Helpers shared with the CLI (which writes JSON of its own, e.g. `braid check --list --format json`).

// json_quote, JsonWriter (text/json_write.h) and sanitize_utf8 (text/utf8.h) come with this header.

// 1-based column of byte `byte_col` (1-based) in `line`, counted in UTF-16 code units (SARIF's columnKind
// "utf16CodeUnits"). Invalid bytes count as one unit each (they read as U+FFFD).
uint32_t utf16_column(std::string_view line, uint32_t byte_col);

}  // namespace braid
