#include "lsp_text.h"

#include <algorithm>

#include "text/utf8.h"

namespace braid::lsp {

namespace {

// Length of the UTF-8 sequence starting at `s[i]` (1 for an invalid byte) and its UTF-16 length.
void utf8_step(std::string_view s, size_t i, size_t& bytes, uint32_t& units) {
  uint32_t cp = 0;
  bool ok = true;
  bytes = decode_utf8(s, i, cp, ok);
  units = cp >= 0x10000 ? 2 : 1;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

LineIndex::LineIndex(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (uint32_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts_.push_back(i + 1);
  }
}

Position LineIndex::position(uint32_t offset) const {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text_.size()));
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - starts_.begin()) - 1;
  uint32_t units = 0;
  for (size_t i = starts_[line]; i < offset;) {
    size_t bytes;
    uint32_t u;
    utf8_step(text_, i, bytes, u);
    if (i + bytes > offset) {  // an offset inside a character: count the character
      units += u;
      break;
    }
    i += bytes, units += u;
  }
  return Position{line, units};
}

uint32_t LineIndex::offset(Position p) const {
  if (p.line >= starts_.size()) return static_cast<uint32_t>(text_.size());
  size_t end = p.line + 1 < starts_.size() ? starts_[p.line + 1] - 1 : text_.size();  // before the '\n'
  size_t i = starts_[p.line];
  uint32_t units = 0;
  while (i < end && units < p.character) {
    size_t bytes;
    uint32_t u;
    utf8_step(text_, i, bytes, u);
    if (units + u > p.character) break;  // inside a surrogate pair: stay before the character
    i += bytes, units += u;
  }
  return static_cast<uint32_t>(i);
}

std::optional<std::string> uri_to_path(std::string_view uri) {
  constexpr std::string_view kPrefix = "file://";
  if (uri.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = uri.substr(kPrefix.size());
  if (rest.empty() || rest[0] != '/') return std::nullopt;  // file://host/... is not a local file
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '%') {
      if (i + 2 >= rest.size()) return std::nullopt;
      int h = hex(rest[i + 1]), l = hex(rest[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      char d = static_cast<char>(h * 16 + l);
      if (d == '\0') return std::nullopt;
      out += d;
      i += 2;
    } else if (c == '?' || c == '#') {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out;
}

std::string path_to_uri(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (char c : path) {
    auto b = static_cast<unsigned char>(c);
    bool keep = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || c == '-' || c == '.' ||
                c == '_' || c == '~' || c == '/';
    if (keep) {
      out += c;
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

}  // namespace braid::lsp
