// Internal to braid_runtime_input: the FieldExtractor's compiled paths (a trie over path segments) and its
// per-record output. A kernel's walker (kernel_impl.cpp, compiled once per SIMD kernel; kernel.h) holds it next to
// its parsers; extract.cpp (no SIMD flags) builds the trie in it and reads the values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "input/reader.h"
#include "ir/ir.h"
#include "value.h"

namespace braid::rt::detail {

inline constexpr uint32_t kNil = UINT32_MAX;

struct FieldChild {
  std::string name;
  uint32_t node = kNil;
  uint32_t seen = 0;  // stamp of the last object visit that matched this key (first occurrence wins)
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

// The hash of `fields` keys (TrieNode::hash).
inline uint32_t key_hash(std::string_view k) {
  size_t n = k.size();
  if (n == 0) return 0;
  return static_cast<uint32_t>(n * 131u + static_cast<unsigned char>(k[0]) * 31u +
                               static_cast<unsigned char>(k[n - 1]) * 7u + static_cast<unsigned char>(k[n / 2]));
}

struct ExtractPlan {
  std::vector<TrieNode> nodes;  // nodes[0] is the root
  // Per record (reset by the walk):
  std::vector<Value> values;              // per FieldId
  std::vector<std::vector<Value>> lists;  // per FieldId (used by list fields only)
  std::vector<uint8_t> is_list;           // per FieldId: in_list or list_leaf
  std::vector<uint8_t> started;           // per FieldId
  std::vector<ir::FieldId> list_fields;
  // The last failure.
  InputErrorKind err_kind = InputErrorKind::MalformedJson;
  std::string_view err_text;  // a static string (simdjson's message or a literal)
};

}  // namespace braid::rt::detail
