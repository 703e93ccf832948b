// Value helpers the engine's state is built from: a canonical byte encoding (distinct sets, suppression and link
// keys, event-id hashes), owned deep copies of Values, and the bounded exact distinct set.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
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

// The hash of the engine's own tables (not of anything visible in alerts, which use fnv1a): 8 bytes per step.
inline uint64_t fast_hash(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = 0x243F6A8885A308D3ULL ^ (s.size() * kMul);
  const char* p = s.data();
  size_t n = s.size();
  auto mix = [&](uint64_t v) {
    __uint128_t m = static_cast<__uint128_t>(h ^ v) * kMul;
    h = static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
  };
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    mix(v);
  }
  if (n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    mix(v ^ (uint64_t{n} << 56));
  }
  mix(0x5851F42D4C957F2DULL);
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
  size_t operator()(std::string_view s) const { return fast_hash(s); }
};

// A canonical byte encoding of a value. Equal values, equal encodings; strings and numbers never collide (tag byte
// first). Ints and floats with equal numeric value share an encoding.
void encode(const Value& v, std::string& out);
// Reads back one encoded scalar (not a list) from the front of `in`, advancing it; strings point into `in`'s bytes.
// False when the bytes are not a scalar's encoding.
bool decode_scalar(std::string_view& in, Value& out);

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
//
// Flat: the canonical encodings of the values sit end to end in one byte buffer, indexed by an open-addressing
// table of (hash, offset, length). clear() is O(1) (a generation stamp) and keeps every buffer, so a set that is
// reused (pooled rule state, a reused session) allocates nothing until it outgrows what it had. Most sets hold a
// value or two (a session's source addresses, a chain's accounts): the table starts at 4 entries of 16 bytes.
class DistinctSet {
 public:
  void add(const Value& v, uint32_t bound, std::string& scratch);
  // Adds a canonical encoding (value_codec); false if it was there already (or the set is saturated).
  bool add_encoded(std::string_view enc, uint32_t bound);
  int64_t count() const { return static_cast<int64_t>(n_); }
  bool saturated() const { return saturated_; }
  void clear() {
    n_ = 0;
    saturated_ = false;
    bytes_.clear();
    if (++gen_ == 0) {  // the stamp wrapped: really empty the table
      for (Entry& e : table_) e.gen = 0;
      gen_ = 1;
    }
  }
  // Empties the set for reuse, keeping its buffers when they are small (reused sessions and chains then allocate
  // nothing) and giving them back when a burst made them large (memory stays flat).
  void recycle() {
    if (table_.size() <= 64 && bytes_.capacity() <= 4096) clear();
    else release();
  }
  // Gives the memory back.
  void release() {
    std::vector<Entry>().swap(table_);
    std::string().swap(bytes_);
    n_ = 0;
    saturated_ = false;
  }

 private:
  friend struct StateCodec;  // checkpoints (checkpoint.cpp)
  struct Entry {
    uint32_t hash = 0;  // the low half of the encoding's hash (the bytes are compared on a match)
    uint32_t off = 0, len = 0;
    uint32_t gen = 0;  // live iff equal to the set's generation
  };
  void grow();
  std::vector<Entry> table_;
  std::string bytes_;
  size_t n_ = 0;
  uint32_t gen_ = 1;
  bool saturated_ = false;
};

}  // namespace braid::rt
