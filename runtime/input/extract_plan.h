// Internal to braid_runtime_input: the FieldExtractor's compiled paths (a trie over path segments) and its
// per-record output. A kernel's walker (kernel_impl.cpp, compiled once per SIMD kernel; kernel.h) holds it next to
// its parsers; extract.cpp (no SIMD flags) builds the trie in it and reads the values.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "input/reader.h"
#include "ir/ir.h"
#include "value.h"

namespace braid::rt::detail {

inline constexpr uint32_t kNil = UINT32_MAX;

// A key's first 16 bytes as two little-endian words, zero past its end: most keys are compared with two word
// compares and their length, without a call to memcmp (key_words()).
struct KeyWords {
  uint64_t w0 = 0, w1 = 0;
};

struct FieldChild {
  std::string name;
  uint32_t node = kNil;
  uint32_t seen = 0;  // stamp of the last object visit that matched this key (first occurrence wins)
  KeyWords words;     // of name
};
struct IndexChild {
  int64_t index = 0;
  uint32_t node = kNil;
};

struct TrieNode {
  std::vector<FieldChild> fields;
  std::vector<uint32_t> hash;  // open addressing over `fields` (kNil = empty) when there are many children
  uint32_t hash_mask = 0;
  std::vector<IndexChild> indices;  // sorted by index
  uint32_t any = kNil;              // the [*] child
  ir::FieldId leaf = kNil;          // a path ends here
  bool list_leaf = false;           // extract an array leaf as a List
  bool in_list = false;             // under a [*]: leaf values are appended to the field's list
  std::vector<ir::FieldId> start_lists;  // list fields whose outermost [*] is this node's `any` child

  bool has_children() const { return !fields.empty() || !indices.empty() || any != kNil; }
};

// The words of a key whose bytes may be read 16 bytes past its start (a key in a padded record: it is followed
// by at least its closing quote and kRecordPadding bytes). Bytes past the key's end are masked off.
inline KeyWords key_words_padded(const char* k, size_t n) {
  uint64_t w0, w1;
  std::memcpy(&w0, k, 8);
  std::memcpy(&w1, k + 8, 8);
  auto mask = [](size_t m) { return m >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * m)) - 1; };
  KeyWords w;
  w.w0 = w0 & mask(n);
  w.w1 = n <= 8 ? 0 : w1 & mask(n - 8);
  return w;
}
// The same for any key (no reads past its end).
inline KeyWords key_words(std::string_view k) {
  char buf[16] = {};
  std::memcpy(buf, k.data(), k.size() < 16 ? k.size() : 16);
  return key_words_padded(buf, k.size() < 16 ? k.size() : 16);
}

// The hash of `fields` keys (TrieNode::hash), from a key's words and length.
inline uint32_t key_hash(const KeyWords& w, size_t n) {
  uint64_t h = (w.w0 ^ (w.w1 * 0x9E3779B97F4A7C15ull) ^ n) * 0xFF51AFD7ED558CCDull;
  return static_cast<uint32_t>(h >> 32);
}

// Whether child `c` has the key `k` (of words `w`).
inline bool key_equals(const FieldChild& c, const KeyWords& w, std::string_view k) {
  if (c.words.w0 != w.w0 || c.words.w1 != w.w1 || c.name.size() != k.size()) return false;
  return k.size() <= 16 || std::memcmp(c.name.data() + 16, k.data() + 16, k.size() - 16) == 0;
}

struct ExtractPlan {
  std::vector<TrieNode> nodes;  // nodes[0] is the root
  // Per record (reset by the walk):
  std::vector<Value> values;              // per FieldId
  std::vector<std::vector<Value>> lists;  // per FieldId (used by list fields only)
  std::vector<uint8_t> is_list;           // per FieldId: in_list or list_leaf
  std::vector<uint8_t> started;           // per FieldId
  std::vector<ir::FieldId> list_fields;
  std::vector<ir::FieldId> touched;       // the fields the last walk set (reset by the next walk)
  // The last failure.
  InputErrorKind err_kind = InputErrorKind::MalformedJson;
  std::string_view err_text;  // a static string (simdjson's message or a literal)
};

}  // namespace braid::rt::detail
