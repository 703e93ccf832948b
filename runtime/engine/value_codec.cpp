#include <cstring>
#include "engine/value_codec.h"

namespace braid::rt {

void encode(const Value& v, std::string& out) {
  switch (v.tag) {
    case Tag::Null: out += 'N'; break;
    case Tag::Bool: out += v.b ? "T" : "F"; break;
    case Tag::Int:
      out += 'I';
      out.append(reinterpret_cast<const char*>(&v.i), 8);
      break;
    case Tag::Float: {
      double d = v.f;
      if (d == static_cast<double>(static_cast<int64_t>(d)) && d >= -9.2e18 && d <= 9.2e18) {
        int64_t i = static_cast<int64_t>(d);
        out += 'I';
        out.append(reinterpret_cast<const char*>(&i), 8);
      } else {
        out += 'D';
        out.append(reinterpret_cast<const char*>(&d), 8);
      }
      break;
    }
    case Tag::Time:
      out += 't';
      out.append(reinterpret_cast<const char*>(&v.i), 8);
      break;
    case Tag::Duration:
      out += 'd';
      out.append(reinterpret_cast<const char*>(&v.i), 8);
      break;
    case Tag::String:
    case Tag::Json: {
      out += v.tag == Tag::String ? 'S' : 'J';
      uint32_t n = v.len;
      out.append(reinterpret_cast<const char*>(&n), 4);
      out.append(v.s, v.len);
      break;
    }
    case Tag::List: {
      out += 'L';
      uint32_t n = v.len;
      out.append(reinterpret_cast<const char*>(&n), 4);
      for (uint32_t i = 0; i < v.len; ++i) encode(v.items[i], out);
      break;
    }
  }
}

bool decode_scalar(std::string_view& in, Value& out) {
  if (in.empty()) return false;
  char tag = in[0];
  auto fixed = [&](auto& x) {
    if (in.size() < 1 + sizeof x) return false;
    std::memcpy(&x, in.data() + 1, sizeof x);
    in.remove_prefix(1 + sizeof x);
    return true;
  };
  switch (tag) {
    case 'N': out = Value::null(); in.remove_prefix(1); return true;
    case 'T': case 'F': out = Value::boolean(tag == 'T'); in.remove_prefix(1); return true;
    case 'I': { int64_t i; if (!fixed(i)) return false; out = Value::integer(i); return true; }
    case 'D': { double d; if (!fixed(d)) return false; out = Value::floating(d); return true; }
    case 't': { int64_t i; if (!fixed(i)) return false; out = Value::time(i); return true; }
    case 'd': { int64_t i; if (!fixed(i)) return false; out = Value::duration(i); return true; }
    case 'S': case 'J': {
      uint32_t n;
      if (!fixed(n) || in.size() < n) return false;
      out = Value::string(std::string_view(in.data(), n));
      if (tag == 'J') out.tag = Tag::Json;
      in.remove_prefix(n);
      return true;
    }
    default: return false;
  }
}

void Owned::measure(const Value& x, size_t& b, size_t& n) {
  if (x.tag == Tag::String || x.tag == Tag::Json) b += x.len;
  if (x.tag == Tag::List) {
    n += x.len;
    for (uint32_t i = 0; i < x.len; ++i) measure(x.items[i], b, n);
  }
}

Value Owned::copy(const Value& x, std::string& bytes, std::vector<Value>& items) {
  if (x.tag == Tag::String || x.tag == Tag::Json) {
    size_t off = bytes.size();
    bytes.append(x.s, x.len);
    Value r = x;
    r.s = bytes.data() + off;
    return r;
  }
  if (x.tag == Tag::List) {
    size_t base = items.size();
    items.resize(base + x.len);
    for (uint32_t i = 0; i < x.len; ++i) items[base + i] = copy(x.items[i], bytes, items);
    Value r = x;
    r.items = items.data() + base;
    return r;
  }
  return x;
}

void Owned::set(const Value& x) {
  size_t b = 0, n = 0;
  measure(x, b, n);
  bytes.clear();
  items.clear();
  bytes.reserve(b);
  items.reserve(n);
  v = copy(x, bytes, items);
}

void DistinctSet::add(const Value& v, uint32_t bound, std::string& scratch) {
  if (v.is_null()) return;
  scratch.clear();
  encode(v, scratch);
  add_encoded(scratch, bound);
}

bool DistinctSet::add_encoded(std::string_view enc, uint32_t bound) {
  auto h = static_cast<uint32_t>(fast_hash(enc));
  if ((n_ + 1) * 2 > table_.size()) grow();
  size_t mask = table_.size() - 1;
  size_t i = h & mask;
  for (; table_[i].gen == gen_; i = (i + 1) & mask) {
    const Entry& e = table_[i];
    if (e.hash == h && std::string_view(bytes_.data() + e.off, e.len) == enc) return false;
  }
  if (n_ >= bound) {
    saturated_ = true;
    return false;
  }
  table_[i] = Entry{h, static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(enc.size()), gen_};
  bytes_ += enc;
  ++n_;
  return true;
}

void DistinctSet::grow() {
  std::vector<Entry> old;
  old.swap(table_);
  table_.assign(old.empty() ? 4 : old.size() * 2, Entry{});
  size_t mask = table_.size() - 1;
  for (const Entry& e : old) {
    if (e.gen != gen_) continue;
    size_t i = e.hash & mask;
    while (table_[i].gen == gen_) i = (i + 1) & mask;
    table_[i] = e;
  }
}

}  // namespace braid::rt
