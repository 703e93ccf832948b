#include "engine/raw_json.h"

#include <cctype>
#include <cstdint>

#include "text/utf8.h"

namespace braid::rt {

namespace {

class Compactor {
 public:
  Compactor(std::string_view in, std::string& out) : s_(in), out_(out) {}

  bool document(bool object_only) {
    ws();
    if (object_only && (i_ >= s_.size() || s_[i_] != '{')) return false;
    if (!value(0)) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 512;

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    out_ += w;
    i_ += w.size();
    return true;
  }
  bool digits() {
    size_t from = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > from;
  }
  bool number() {
    size_t from = i_;
    if (s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!(i_ < s_.size() && s_[i_] >= '1' && s_[i_] <= '9') || !digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    out_.append(s_.substr(from, i_ - from));
    return true;
  }
  bool string() {
    size_t from = i_++;  // the opening quote
    while (i_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        out_.append(s_.substr(from, i_ - from));
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        char e = s_[i_];
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k) {
            if (i_ + k >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_ + k]))) return false;
          }
          i_ += 5;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          ++i_;
        } else {
          return false;
        }
        continue;
      }
      size_t n = valid_utf8_length(s_, i_);
      if (n == 0) return false;
      i_ += n;
    }
    return false;
  }
  bool value(int depth) {
    ws();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{' || c == '[') {
      if (depth >= kMaxDepth) return false;
      const char close = c == '{' ? '}' : ']';
      out_ += c;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == close) {
        out_ += close;
        ++i_;
        return true;
      }
      for (;;) {
        if (c == '{') {
          ws();
          if (i_ >= s_.size() || s_[i_] != '"' || !string()) return false;
          ws();
          if (i_ >= s_.size() || s_[i_] != ':') return false;
          out_ += ':';
          ++i_;
        }
        if (!value(depth + 1)) return false;
        ws();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == ',') {
          out_ += ',';
          ++i_;
          continue;
        }
        if (s_[i_] != close) return false;
        out_ += close;
        ++i_;
        return true;
      }
    }
    if (c == '"') return string();
    if (c == 't') return lit("true");
    if (c == 'f') return lit("false");
    if (c == 'n') return lit("null");
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    return false;
  }

  std::string_view s_;
  std::string& out_;
  size_t i_ = 0;
};

}  // namespace

bool compact_json_object(std::string_view text, std::string& out) {
  const size_t before = out.size();
  if (Compactor(text, out).document(true)) return true;
  out.resize(before);
  return false;
}

bool compact_json(std::string_view text, std::string& out) {
  const size_t before = out.size();
  if (Compactor(text, out).document(false)) return true;
  out.resize(before);
  return false;
}

}  // namespace braid::rt
