// Value helpers the engine's state is built from: a canonical byte encoding (distinct sets, suppression and link
// keys, event-id hashes), owned deep copies of Values, and the bounded exact distinct set.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "value.h"

namespace braid::rt {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

inline uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

inline int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kForever : kNever;
  return r;
}
inline int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? kNever : kForever;
  return r;
}

// Transparent string hashing for maps keyed by std::string and looked up by string_view (no temporary strings).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return fnv1a(s); }
};

// A canonical byte encoding of a value. Equal values, equal encodings; strings and numbers never collide (tag byte
// first). Ints and floats with equal numeric value share an encoding.
void encode(const Value& v, std::string& out);

// A deep copy of a Value into owned storage (strings and list items). Reassigning keeps the capacity, so a reused
// Owned does not allocate once it has held a value as large.
struct Owned {
  Value v;
  std::string bytes;
  std::vector<Value> items;

  static void measure(const Value& x, size_t& b, size_t& n);
  // Copies x into bytes/items, which must have been reserved for it (measure) so that they never reallocate.
  static Value copy(const Value& x, std::string& bytes, std::vector<Value>& items);
  void set(const Value& x);
};

// distinct(): exact up to `bound` values, then saturated (a new value beyond the bound is not stored).
struct DistinctSet {
  std::unordered_set<std::string, StringHash, std::equal_to<>> values;
  bool saturated = false;
  void add(const Value& v, uint32_t bound, std::string& scratch);
  int64_t count() const { return static_cast<int64_t>(values.size()); }
  void clear() {
    values.clear();
    saturated = false;
  }
  // Gives the memory back (a closed session's set).
  void release() {
    std::unordered_set<std::string, StringHash, std::equal_to<>>().swap(values);
    saturated = false;
  }
};

}  // namespace braid::rt
