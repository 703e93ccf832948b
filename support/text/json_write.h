// JSON writing: the one string escaper of Braid and a small streaming writer.
//
// The rule, everywhere Braid writes a JSON string (alerts, diagnostics and SARIF, `braid test --format json`, the
// AST dump, test events, the webhook's dead letters, the CLI's JSON documents), so that the output is always valid
// JSON (RFC 8259) and readable in a terminal:
//   - `"` and `\` are escaped; \b \f \n \r \t use their short escapes;
//   - every other control character (U+0000..U+001F) and DEL (U+007F) is written \u00xx (lowercase hex);
//   - an invalid UTF-8 sequence is written \ufffd (U+FFFD), one per invalid byte (text/utf8.h);
//   - everything else, valid non-ASCII UTF-8 included, is copied as is.
// Braid's own string literals use the same escapes, so the formatter quotes with it too.
//
// Reading JSON is not here: the runtime reads events with simdjson (runtime/input only) and checks raw event text
// with its own strict compactor (runtime/engine/raw_json.h); the tools read with nlohmann-json
// (docs/development.md, JSON).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace braid {

// Appends `s` as a JSON string literal, quotes included, by the rule above.
void append_json_quoted(std::string& out, std::string_view s);

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

// A minimal streaming JSON writer, pretty-printed with two-space indentation.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);
  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(int64_t v);
  void value(uint64_t v);
  void value(int v) { value(static_cast<int64_t>(v)); }
  void value(uint32_t v) { value(static_cast<uint64_t>(v)); }
  void value(bool v);
  void null();

 private:
  void before_value();
  void newline(size_t depth);

  struct Level {
    bool object;
    size_t count;
  };
  std::string& out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

}  // namespace braid
