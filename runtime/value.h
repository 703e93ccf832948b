// Runtime values: what the field extractor produces from each event and what the interpreter computes with.
//
// A Value is 16 bytes and trivially copyable. Strings, lists and raw JSON point into memory owned by someone else
// (the per-event arena of the extractor, the program's string pool, or the interpreter's scratch arena), which
// lives at least as long as the event is being evaluated. Nothing here allocates: the steady state does no
// per-event allocation (issue 3). Values that must outlive the event (session state, alerts) are copied out
// explicitly by their owner.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace braid::rt {

enum class Tag : uint8_t {
  Null,      // missing or JSON null (they are the same value: docs/language.md, "Missing and null")
  Bool,
  Int,       // int64
  Float,     // double
  String,    // UTF-8 text; also ip addresses (as written in the event) and JSON strings of `object` fields
  Time,      // int64 nanoseconds since the Unix epoch
  Duration,  // int64 nanoseconds
  List,      // `path[*]` loads and list-typed fields: `items` points at `len` Values
  Json,      // a JSON object or array read from an `object` field: its raw text (for rendering, len, equality)
};

struct Value {
  Tag tag = Tag::Null;
  uint32_t len = 0;  // String/Json: bytes; List: element count
  union {
    bool b;
    int64_t i;   // Int, Time, Duration
    double f;
    const char* s;        // String, Json
    const Value* items;   // List
  };

  Value() : i(0) {}

  static Value null() { return Value(); }
  static Value boolean(bool v) { Value x; x.tag = Tag::Bool; x.b = v; return x; }
  static Value integer(int64_t v) { Value x; x.tag = Tag::Int; x.i = v; return x; }
  static Value floating(double v) { Value x; x.tag = Tag::Float; x.f = v; return x; }
  static Value time(int64_t ns) { Value x; x.tag = Tag::Time; x.i = ns; return x; }
  static Value duration(int64_t ns) { Value x; x.tag = Tag::Duration; x.i = ns; return x; }
  static Value string(std::string_view v) {
    Value x; x.tag = Tag::String; x.s = v.data(); x.len = static_cast<uint32_t>(v.size()); return x;
  }
  static Value json(std::string_view v) {
    Value x; x.tag = Tag::Json; x.s = v.data(); x.len = static_cast<uint32_t>(v.size()); return x;
  }
  static Value list(const Value* items, uint32_t n) { Value x; x.tag = Tag::List; x.items = items; x.len = n; return x; }

  bool is_null() const { return tag == Tag::Null; }
  std::string_view str() const { return std::string_view(s, len); }
};

static_assert(sizeof(Value) == 16, "Value must stay two words");

}  // namespace braid::rt
