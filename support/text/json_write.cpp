#include "text/json_write.h"

#include "text/utf8.h"

#include <array>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace braid {

namespace {

// Bytes copied as is: printable ASCII but `"` and `\\`.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7F; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

#if defined(__SSE2__)
// Bit k set: byte k of the 16 at `p` is not plain. Signed compare: bytes 0x80..0xFF are negative, so one compare
// finds control characters and non-ASCII alike.
inline unsigned special_mask(const char* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i special =
      _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(b, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(b, _mm_set1_epi8('"'))),
                   _mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('\\')), _mm_cmpeq_epi8(b, _mm_set1_epi8(0x7F))));
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}
#endif

// The length of the plain prefix of s[i, size), 16 bytes at a time: alerts quote kilobytes of messages and event
// values, almost all of it plain.
size_t plain_run(const char* s, size_t i, size_t size) {
  const size_t start = i;
#if defined(__SSE2__)
  for (; i + 16 <= size; i += 16) {
    if (unsigned m = special_mask(s + i)) return i - start + static_cast<size_t>(__builtin_ctz(m));
  }
  if (i < size && size >= 16) {
    // The last bytes: the string's final 16, less those before i (already known plain).
    unsigned m = special_mask(s + size - 16) >> (i - (size - 16));
    return m ? i - start + static_cast<size_t>(__builtin_ctz(m)) : size - start;
  }
#endif
  while (i < size && kPlain[static_cast<unsigned char>(s[i])]) ++i;
  return i - start;
}

}  // namespace

void append_json_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0, run = 0;  // s[run, i) is copied as is when something must be escaped or at the end
  auto flush = [&] { out.append(s.substr(run, i - run)); };
  while (i < s.size()) {
    i += plain_run(s.data(), i, s.size());
    if (i >= s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);  // (not plain)
    if (c >= 0x80) {
      uint32_t cp = 0;
      bool ok = true;
      size_t n = decode_utf8(s, i, cp, ok);
      if (ok) {
        i += n;
        continue;
      }
      flush();
      out += "\\ufffd";
      run = ++i;
      continue;
    }
    flush();
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:  // the other control characters and DEL
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    run = ++i;
  }
  flush();
  out += '"';
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_quoted(out, s);
  return out;
}

void JsonWriter::newline(size_t depth) {
  out_ += '\n';
  out_.append(depth * 2, ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  if (stack_.back().count++ != 0) out_ += ',';
  newline(stack_.size());
}

void JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  stack_.push_back({true, 0});
}

void JsonWriter::end_object() {
  bool any = stack_.back().count != 0;
  stack_.pop_back();
  if (any) newline(stack_.size());
  out_ += '}';
  if (stack_.empty()) out_ += '\n';
}

void JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  stack_.push_back({false, 0});
}

void JsonWriter::end_array() {
  bool any = stack_.back().count != 0;
  stack_.pop_back();
  if (any) newline(stack_.size());
  out_ += ']';
  if (stack_.empty()) out_ += '\n';
}

void JsonWriter::key(std::string_view k) {
  before_value();
  append_json_quoted(out_, k);
  out_ += ": ";
  after_key_ = true;
}

void JsonWriter::value(std::string_view s) {
  before_value();
  append_json_quoted(out_, s);
}

void JsonWriter::value(int64_t v) {
  before_value();
  out_ += std::to_string(v);
}

void JsonWriter::value(uint64_t v) {
  before_value();
  out_ += std::to_string(v);
}

void JsonWriter::value(bool v) {
  before_value();
  out_ += v ? "true" : "false";
}

void JsonWriter::null() {
  before_value();
  out_ += "null";
}

}  // namespace braid
