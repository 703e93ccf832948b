// Field extraction: reads, in one pass over a JSON record, the values of every field path the loaded program
// references (ir::Program::fields), and nothing else.
//
// Built once at load time: the union of the paths is compiled into a trie over path segments (member name,
// [N], [*]). extract() walks the document once, in document order, with simdjson On-Demand: at each object it
// looks each key up among the trie node's children and skips the values of keys no path needs; at each array it
// visits only the elements a [N] or [*] child needs. Cost per record: proportional to the document (simdjson's
// structural scan) plus the number of DISTINCT fields referenced, independent of the number of rules.
//
// Values (runtime/value.h), indexed by FieldId:
//   JSON null or missing      -> Null
//   string                    -> String (unescaped)
//   integer                   -> Int (int64); an integer beyond int64 -> Float
//   other number              -> Float
//   true / false              -> Bool
//   object or array as a leaf -> Json (its raw text, exactly as in the record)
//   `p[*].q`                  -> List of the q of every element of p that has one (JSON nulls and elements
//                                without q are omitted; nested [*] flatten: a[*].b[*].c lists every c).
//                                Null when p is missing or not an array; an empty List when p is an array but no
//                                element has q.
//   `p[N].q`                  -> the q of element N, Null when out of range or p is not an array
//   a path through a non-object (e.g. `a.b` where a is a string) -> Null
// A field whose declared slot type is a list (`tags: [string]`, read without [*]) is extracted as a List of its
// elements (objects/arrays inside it as Json) instead of Json; see FieldExtractor(const ir::Program&).
//
// Duplicate keys: the FIRST occurrence of a key in an object wins; later duplicates are ignored (consistently,
// at every level and for every kind of path).
//
// Lifetime: the Values (and the strings, lists and raw JSON they point to) are valid until the next extract()
// call and, for Json values and unescaped strings, as long as the Record's buffer (until the reader's next next()).
// Strings point into the extractor's per-record buffers (simdjson's string buffer and a list arena), which are
// reused: no heap allocation per record in the steady state.
//
// Errors: a record that is not valid JSON (including truncated JSON and trailing content after the object),
// not valid UTF-8, or not an object fails as a whole: extract() returns false and error_kind()/error() say why
// (the reason is simdjson's error message, or "not a JSON object"). values() are then all Null. The caller counts
// it, typically with RecordReader::report(record, ex.error_kind(), ex.error()).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "input/reader.h"
#include "ir/ir.h"
#include "value.h"

namespace braid::rt {

class FieldExtractor {
 public:
  // The constructors throw SimdKernelError (reader.h) when no SIMD kernel of the input library can run on this CPU.
  //
  // All of program.fields. A field is extracted as a List (instead of Json) when some source declares its slot
  // with a list type and its path has no [*].
  explicit FieldExtractor(const ir::Program& program);
  // For tests and benchmarks: these paths (FieldId = index). `list_leaf[i]` (optional) marks fields to extract
  // arrays as Lists.
  explicit FieldExtractor(std::vector<ir::FieldPath> fields, std::vector<bool> list_leaf = {});
  ~FieldExtractor();
  FieldExtractor(const FieldExtractor&) = delete;
  FieldExtractor& operator=(const FieldExtractor&) = delete;
  FieldExtractor(FieldExtractor&&) noexcept;
  FieldExtractor& operator=(FieldExtractor&&) noexcept;

  // Extracts every field of `record` (whose bytes must be followed by kRecordPadding readable bytes, which
  // RecordReader guarantees). True on success; false for a malformed record (see error_kind()/error()).
  bool extract(const Record& record);
  // Convenience (tests, inline events): copies `json` into an internal padded buffer first.
  bool extract_json(std::string_view json);

  // The values, indexed by FieldId. Size: the number of fields.
  std::span<const Value> values() const;
  const Value& operator[](ir::FieldId f) const { return values()[f]; }
  size_t field_count() const;
  // The fields the last extract() set, in no particular order (their values may be Null: a JSON null). Every
  // other field is Null. Lets a caller that needs a few fields of many skip the rest.
  std::span<const ir::FieldId> touched() const;

  // The last failure: MalformedJson, InvalidUtf8 or NotObject, and a reason.
  InputErrorKind error_kind() const;
  std::string_view error() const;

  // Number of trie nodes (for tests and diagnostics).
  size_t trie_size() const;

  // The path syntax of docs/language.md 2.8 -> segments (for tests and benchmarks): `a.b`, `a."x-y".c`,
  // `a[0].b`, `a[*].b`. nullopt when the text is not a valid path.
  static std::optional<ir::FieldPath> parse_path(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::rt
