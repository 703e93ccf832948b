// Text helpers of the language server: LSP positions (line, UTF-16 code unit) <-> byte offsets, and file URIs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace braid::lsp {

struct Position {
  uint32_t line = 0;       // 0-based
  uint32_t character = 0;  // 0-based, UTF-16 code units
};

struct Range {
  Position start, end;
};

// Line starts of one text, for conversions both ways. Invalid UTF-8 bytes count as one UTF-16 unit each.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  Position position(uint32_t offset) const;
  // Clamped: a line past the end gives the end of the text; a character past the end of its line gives the end
  // of the line (LSP 3.17, "Position").
  uint32_t offset(Position p) const;
  uint32_t line_count() const { return static_cast<uint32_t>(starts_.size()); }

 private:
  std::string_view text_;
  std::vector<uint32_t> starts_;
};

// `file:///a/b%20c.braid` -> `/a/b c.braid`; nullopt for another scheme, a host part or a bad escape.
std::optional<std::string> uri_to_path(std::string_view uri);
// An absolute path -> `file://` URI, percent-encoding everything but unreserved characters and `/`.
std::string path_to_uri(std::string_view path);

}  // namespace braid::lsp
