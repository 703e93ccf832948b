#include "json_tree.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "text/json_write.h"

namespace braid::cli::json {

const Value* Value::get(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

namespace {

constexpr size_t kMaxDepth = 256;

// Builds a Value from nlohmann-json's SAX events: nlohmann is the tools' one JSON reader (docs/development.md,
// JSON); this tree adds what its DOM lacks here, members in document order and numbers as written.
class TreeBuilder {
 public:
  using Json = nlohmann::json;

  bool null() { return put(Value{}); }
  bool boolean(bool b) {
    Value v;
    v.kind = Value::Kind::Bool;
    v.boolean = b;
    return put(std::move(v));
  }
  bool number_integer(Json::number_integer_t n) { return number(std::to_string(n)); }
  bool number_unsigned(Json::number_unsigned_t n) { return number(std::to_string(n)); }
  bool number_float(Json::number_float_t, const Json::string_t& text) { return number(text); }
  bool string(Json::string_t& s) {
    Value v;
    v.kind = Value::Kind::String;
    v.text = std::move(s);
    return put(std::move(v));
  }
  bool binary(Json::binary_t&) { return false; }  // not produced by the JSON text parser
  bool start_object(size_t) { return open(Value::Kind::Object); }
  bool key(Json::string_t& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(size_t) { return open(Value::Kind::Array); }
  bool end_array() { return close(); }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
    if (error_.empty()) {
      // "[json.exception.parse_error.101] parse error at line 1, column 4: ..." without the library's id.
      std::string_view what = e.what();
      if (size_t close = what.find("] "); !what.empty() && what[0] == '[' && close != std::string_view::npos) {
        what.remove_prefix(close + 2);
      }
      error_ = what;
    }
    return false;
  }

  Value& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  bool number(std::string text) {
    Value v;
    v.kind = Value::Kind::Number;
    v.text = std::move(text);
    return put(std::move(v));
  }
  // Places a finished value: in the open container (after its key in an object), else as the root.
  bool put(Value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Value& top = *stack_.back();
    if (top.kind == Value::Kind::Object) top.members.emplace_back(std::move(key_), std::move(v));
    else top.items.push_back(std::move(v));
    return true;
  }
  bool open(Value::Kind kind) {
    if (stack_.size() >= kMaxDepth) {
      error_ = "nesting too deep";
      return false;
    }
    Value v;
    v.kind = kind;
    Value* slot;
    if (stack_.empty()) {
      root_ = std::move(v);
      slot = &root_;
    } else if (Value& top = *stack_.back(); top.kind == Value::Kind::Object) {
      top.members.emplace_back(std::move(key_), std::move(v));
      slot = &top.members.back().second;
    } else {
      top.items.push_back(std::move(v));
      slot = &top.items.back();
    }
    stack_.push_back(slot);  // stays valid: a container only grows while it is the innermost open one
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  Value root_;
  std::vector<Value*> stack_;
  std::string key_;
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
  TreeBuilder b;
  if (!nlohmann::json::sax_parse(text, &b, nlohmann::json::input_format_t::json, true)) {
    if (error) *error = b.error().empty() ? "invalid JSON" : b.error();
    return std::nullopt;
  }
  return std::move(b.root());
}

std::string quote(std::string_view s) { return json_quote(s); }

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
