// A small JSON document tree for `braid test`: parses alerts and expectations, prints them (compact or pretty,
// members in their original order) and matches an expected partial object against an actual one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::cli::json {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;  // String: the decoded string; Number: the literal as written
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  const Value* get(std::string_view key) const;
};

// Parses one JSON document (RFC 8259, with nlohmann-json: strict, UTF-8 checked; surrounding whitespace allowed;
// nesting at most 256 deep). nullopt and `error` set on failure.
std::optional<Value> parse(std::string_view text, std::string* error = nullptr);

// JSON text. `indent` 0: compact on one line; otherwise pretty with that many spaces per level.
std::string print(const Value& v, int indent = 0);
// A JSON string literal for `s`: json_quote (text/json_write.h).
std::string quote(std::string_view s);

// Numbers are equal when their values are (integers exactly, others as doubles).
bool equal(const Value& a, const Value& b);

// One way an actual value fails an expected partial value.
struct Mismatch {
  std::string path;                 // "message", "chain[1].identity", "steps.recon.count"; "" for the root
  std::string expected;             // compact JSON of the expected value
  std::optional<std::string> actual;  // compact JSON of the actual value; nullopt: the member is missing
};

// Partial match: every member of an expected object must be present in the actual object and match recursively;
// arrays must have the same length and match element-wise (elements as partial values); scalars must be equal.
// Returns the mismatches (empty: a match).
std::vector<Mismatch> match(const Value& expected, const Value& actual);

}  // namespace braid::cli::json
