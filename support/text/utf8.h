// UTF-8: the one decoder and the one encoder of Braid (compiler, runtime and tools).
//
// Valid means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF. An invalid
// sequence is replaced, one byte at a time, by U+FFFD wherever text is written out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace braid {

// Decodes one UTF-8 sequence at s[i] (i < s.size()). Returns its length in bytes (>= 1) and sets `cp`; an invalid
// sequence (bad lead byte, truncated, overlong, surrogate, > U+10FFFF) yields length 1, cp = U+FFFD and `ok` false.
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp, bool& ok);

// The length (1..4) of the valid UTF-8 sequence at s[i], or 0 when it is not one.
inline size_t valid_utf8_length(std::string_view s, size_t i) {
  uint32_t cp = 0;
  bool ok = true;
  size_t n = decode_utf8(s, i, cp, ok);
  return ok ? n : 0;
}

// Appends the UTF-8 encoding of `cp` (callers pass a scalar value: <= U+10FFFF, not a surrogate).
void append_utf8(std::string& out, uint32_t cp);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

}  // namespace braid
