#include "json_tree.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>

namespace braid::cli::json {

const Value* Value::get(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

namespace {

constexpr int kMaxDepth = 256;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool document(Value& out) {
    ws();
    if (!value(out, 0)) return false;
    ws();
    if (i_ != s_.size()) return fail("trailing characters after the JSON value");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string_view what) {
    if (error_.empty()) error_ = fmt::format("{} at offset {}", what, i_);
    return false;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool lit(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return fail("invalid literal");
    i_ += word.size();
    return true;
  }
  bool value(Value& v, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    if (i_ >= s_.size()) return fail("unexpected end of input");
    char c = s_[i_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.kind = Value::Kind::String;
      return string(v.text);
    }
    if (c == 't') {
      v.kind = Value::Kind::Bool;
      v.boolean = true;
      return lit("true");
    }
    if (c == 'f') {
      v.kind = Value::Kind::Bool;
      v.boolean = false;
      return lit("false");
    }
    if (c == 'n') {
      v.kind = Value::Kind::Null;
      return lit("null");
    }
    return number(v);
  }
  bool object(Value& v, int depth) {
    v.kind = Value::Kind::Object;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      ws();
      if (i_ >= s_.size() || s_[i_] != '"') return fail("expected a member name");
      std::string key;
      if (!string(key)) return false;
      ws();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':'");
      ++i_;
      ws();
      Value member;
      if (!value(member, depth + 1)) return false;
      v.members.emplace_back(std::move(key), std::move(member));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }
  bool array(Value& v, int depth) {
    v.kind = Value::Kind::Array;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      ws();
      Value item;
      if (!value(item, depth + 1)) return false;
      v.items.push_back(std::move(item));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }
  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool hex4(uint32_t& cp) {
    if (i_ + 4 > s_.size()) return fail("truncated \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') cp |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') cp |= static_cast<uint32_t>(h - 'A' + 10);
      else return fail("invalid \\u escape");
    }
    return true;
  }
  bool string(std::string& out) {
    ++i_;  // opening quote
    for (;;) {
      if (i_ >= s_.size()) return fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return fail("unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            size_t save = i_;
            i_ += 2;
            uint32_t lo = 0;
            if (!hex4(lo)) return false;
            if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else i_ = save, cp = 0xFFFD;
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
          }
          utf8(out, cp);
          break;
        }
        default: return fail("invalid escape");
      }
    }
  }
  bool number(Value& v) {
    size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    size_t digits = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == digits) return fail("invalid value");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      size_t frac = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == frac) return fail("invalid number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      size_t exp = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == exp) return fail("invalid number");
    }
    v.kind = Value::Kind::Number;
    v.text = std::string(s_.substr(start, i_ - start));
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string error_;
};

void print_to(std::string& out, const Value& v, int indent, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  switch (v.kind) {
    case Value::Kind::Null: out += "null"; return;
    case Value::Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case Value::Kind::Number: out += v.text; return;
    case Value::Kind::String: out += quote(v.text); return;
    case Value::Kind::Array: {
      if (v.items.empty()) {
        out += "[]";
        return;
      }
      // Arrays of scalars stay on one line even when pretty.
      bool flat = indent == 0;
      if (!flat) {
        flat = true;
        for (const Value& item : v.items) {
          if (item.kind == Value::Kind::Array || item.kind == Value::Kind::Object) flat = false;
        }
      }
      out += '[';
      for (size_t k = 0; k < v.items.size(); ++k) {
        if (k) out += flat && indent ? ", " : ",";
        if (!flat) newline(depth + 1);
        print_to(out, v.items[k], indent, depth + 1);
      }
      if (!flat) newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::Object: {
      if (v.members.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t k = 0; k < v.members.size(); ++k) {
        if (k) out += ',';
        if (indent) newline(depth + 1);
        out += quote(v.members[k].first);
        out += indent ? ": " : ":";
        print_to(out, v.members[k].second, indent, depth + 1);
      }
      if (indent) newline(depth);
      out += '}';
      return;
    }
  }
}

bool is_integer_text(const std::string& t) {
  return t.find_first_of(".eE") == std::string::npos;
}

void match_into(const Value& exp, const Value& act, const std::string& path, std::vector<Mismatch>& out) {
  if (exp.kind == Value::Kind::Object && act.kind == Value::Kind::Object) {
    for (const auto& [key, ev] : exp.members) {
      std::string sub = path.empty() ? key : path + "." + key;
      const Value* av = act.get(key);
      if (!av) {
        out.push_back({sub, print(ev), std::nullopt});
        continue;
      }
      match_into(ev, *av, sub, out);
    }
    return;
  }
  if (exp.kind == Value::Kind::Array && act.kind == Value::Kind::Array) {
    if (exp.items.size() != act.items.size()) {
      out.push_back({path, print(exp), print(act)});
      return;
    }
    for (size_t k = 0; k < exp.items.size(); ++k) {
      match_into(exp.items[k], act.items[k], fmt::format("{}[{}]", path, k), out);
    }
    return;
  }
  if (!equal(exp, act)) out.push_back({path, print(exp), print(act)});
}

}  // namespace

std::optional<Value> parse(std::string_view text, std::string* error) {
  Parser p(text);
  Value v;
  if (!p.document(v)) {
    if (error) *error = p.error();
    return std::nullopt;
  }
  return v;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) out += fmt::format("\\u{:04x}", c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence; invalid bytes become U+FFFD.
    size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (ok && len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  out += '"';
  return out;
}

std::string print(const Value& v, int indent) {
  std::string out;
  print_to(out, v, indent, 0);
  return out;
}

bool equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::Null: return true;
    case Value::Kind::Bool: return a.boolean == b.boolean;
    case Value::Kind::String: return a.text == b.text;
    case Value::Kind::Number: {
      if (a.text == b.text) return true;
      if (is_integer_text(a.text) && is_integer_text(b.text)) {
        errno = 0;
        long long x = std::strtoll(a.text.c_str(), nullptr, 10);
        long long y = std::strtoll(b.text.c_str(), nullptr, 10);
        if (errno == 0) return x == y;
      }
      return std::strtod(a.text.c_str(), nullptr) == std::strtod(b.text.c_str(), nullptr);
    }
    case Value::Kind::Array:
      if (a.items.size() != b.items.size()) return false;
      for (size_t k = 0; k < a.items.size(); ++k) {
        if (!equal(a.items[k], b.items[k])) return false;
      }
      return true;
    case Value::Kind::Object:
      if (a.members.size() != b.members.size()) return false;
      for (const auto& [key, av] : a.members) {
        const Value* bv = b.get(key);
        if (!bv || !equal(av, *bv)) return false;
      }
      return true;
  }
  return false;
}

std::vector<Mismatch> match(const Value& expected, const Value& actual) {
  std::vector<Mismatch> out;
  match_into(expected, actual, "", out);
  return out;
}

}  // namespace braid::cli::json
