#include "input/convert.h"

#include <cmath>
#include <cstring>

namespace braid::rt {

namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : k[m - 1];
}

bool digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<int64_t> parse_timestamp(std::string_view s) {
  // YYYY-MM-DD?hh:mm:ss
  int y, mo, d, h, mi, se;
  if (s.size() < 19) return std::nullopt;
  if (!digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  if (!digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > static_cast<int>(days_in_month(y, static_cast<unsigned>(mo))) || h > 23 ||
      mi > 59 || se > 60)
    return std::nullopt;
  size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t scale = 100'000'000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (scale > 0) {
        frac += (s[i] - '0') * scale;
        scale /= 10;
      }
      ++i;
    }
    if (i == start) return std::nullopt;  // "." without digits
  }
  if (se == 60) {  // a leap second: the last representable instant of second 59
    se = 59;
    frac = kNsPerSec - 1;
  }
  int64_t offset = 0;  // seconds east of UTC
  if (i < s.size()) {
    char c = s[i];
    if (c == 'Z' || c == 'z') {
      ++i;
    } else if (c == '+' || c == '-') {
      ++i;
      int oh = 0, om = 0;
      if (!digits(s, i, 2, oh)) return std::nullopt;
      i += 2;
      if (i < s.size()) {
        if (s[i] == ':') ++i;
        if (!digits(s, i, 2, om)) return std::nullopt;
        i += 2;
      }
      if (oh > 23 || om > 59) return std::nullopt;
      offset = (oh * 3600 + om * 60) * (c == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset;
  int64_t ns;
  if (__builtin_mul_overflow(secs, kNsPerSec, &ns) || __builtin_add_overflow(ns, frac, &ns)) return std::nullopt;
  return ns;
}

std::optional<int64_t> epoch_to_ns(int64_t v) {
  int64_t a = v < 0 ? -(v + 1) : v;  // |v| without overflow (off by one for negatives: harmless at the bounds)
  int64_t mul = a < 100'000'000'000LL ? kNsPerSec : a < 100'000'000'000'000LL ? 1'000'000 : a < 100'000'000'000'000'000LL ? 1'000 : 1;
  int64_t ns;
  if (__builtin_mul_overflow(v, mul, &ns)) return std::nullopt;
  return ns;
}

std::optional<int64_t> epoch_to_ns(double v) {
  if (!std::isfinite(v) || !(v > -9.2e18 && v < 9.2e18)) return std::nullopt;
  double ip = std::trunc(v);
  auto whole = epoch_to_ns(static_cast<int64_t>(ip));  // the integral part exactly, scaled by its magnitude
  if (!whole) return std::nullopt;
  double a = std::fabs(ip);
  double mul = a < 1e11 ? 1e9 : a < 1e14 ? 1e6 : a < 1e17 ? 1e3 : 1.0;
  int64_t frac = static_cast<int64_t>(std::trunc((v - ip) * mul));  // the fraction, truncated to the unit
  int64_t ns;
  if (__builtin_add_overflow(*whole, frac, &ns)) return std::nullopt;
  return ns;
}

size_t format_timestamp(int64_t ns, char* out) {
  int64_t secs = ns / kNsPerSec;
  int64_t frac = ns % kNsPerSec;
  if (frac < 0) {
    frac += kNsPerSec;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  auto put = [&](size_t& at, int64_t v, int width) {
    for (int k = width - 1; k >= 0; --k) {
      out[at + static_cast<size_t>(k)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    at += static_cast<size_t>(width);
  };
  size_t at = 0;
  if (y < 0) {  // not reachable for int64 ns (years 1677..2262), kept for safety
    out[at++] = '-';
    y = -y;
  }
  put(at, y, 4);
  out[at++] = '-';
  put(at, m, 2);
  out[at++] = '-';
  put(at, d, 2);
  out[at++] = 'T';
  put(at, rem / 3600, 2);
  out[at++] = ':';
  put(at, rem / 60 % 60, 2);
  out[at++] = ':';
  put(at, rem % 60, 2);
  if (frac != 0) {
    out[at++] = '.';
    if (frac % 1'000'000 == 0) {
      put(at, frac / 1'000'000, 3);
    } else if (frac % 1'000 == 0) {
      put(at, frac / 1'000, 6);
    } else {
      put(at, frac, 9);
    }
  }
  out[at++] = 'Z';
  return at;
}

std::string format_timestamp(int64_t ns) {
  char buf[kTimestampBufferSize];
  size_t n = format_timestamp(ns, buf);
  return std::string(buf, n);
}

std::optional<int64_t> parse_duration(std::string_view s) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') {
    neg = true;
    ++i;
  }
  if (i >= s.size()) return std::nullopt;
  int64_t total = 0;
  while (i < s.size()) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    int64_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, s[i] - '0', &n)) return std::nullopt;
      ++i;
    }
    int64_t unit;
    if (s.substr(i, 2) == "ms") {
      unit = 1'000'000;
      i += 2;
    } else if (i < s.size() && s[i] == 's') {
      unit = kNsPerSec;
      ++i;
    } else if (i < s.size() && s[i] == 'm') {
      unit = 60 * kNsPerSec;
      ++i;
    } else if (i < s.size() && s[i] == 'h') {
      unit = 3600 * kNsPerSec;
      ++i;
    } else if (i < s.size() && s[i] == 'd') {
      unit = 86400 * kNsPerSec;
      ++i;
    } else {
      return std::nullopt;
    }
    int64_t part;
    if (__builtin_mul_overflow(n, unit, &part) || __builtin_add_overflow(total, part, &total)) return std::nullopt;
  }
  return neg ? -total : total;
}

// ---------------------------------------------------------------------------------------------------------------

struct SlotConverter::Impl {
  const ir::Program* program = nullptr;
  std::vector<std::vector<uint64_t>> mismatches;  // [source][slot]
  // List arena: blocks that are never moved; reset per event.
  std::vector<std::unique_ptr<Value[]>> blocks;
  std::vector<size_t> block_sizes;
  size_t block = 0, used = 0;

  Value* alloc(size_t n) {
    while (block < blocks.size()) {
      if (block_sizes[block] - used >= n) {
        Value* p = blocks[block].get() + used;
        used += n;
        return p;
      }
      ++block;
      used = 0;
    }
    size_t size = std::max<size_t>(4096, n);
    blocks.push_back(std::make_unique<Value[]>(size));
    block_sizes.push_back(size);
    block = blocks.size() - 1;
    used = n;
    return blocks.back().get();
  }
};

SlotConverter::SlotConverter(const ir::Program& program) : impl_(std::make_unique<Impl>()) {
  impl_->program = &program;
  impl_->mismatches.resize(program.sources.size());
  for (size_t s = 0; s < program.sources.size(); ++s) impl_->mismatches[s].assign(program.sources[s].slots.size(), 0);
}
SlotConverter::~SlotConverter() = default;

void SlotConverter::begin_event() {
  impl_->block = 0;
  impl_->used = 0;
}

Value SlotConverter::convert_value(const Value& v, ir::Type type, bool* mismatch) {
  if (v.is_null()) return v;
  auto bad = [&] {
    if (mismatch) *mismatch = true;
    return Value();
  };
  switch (type.kind) {
    case ir::Kind::String:
    case ir::Kind::Ip:
    case ir::Kind::Cidr:
      return v.tag == Tag::String ? v : bad();
    case ir::Kind::Int:
      if (v.tag == Tag::Int) return v;
      if (v.tag == Tag::Float && std::trunc(v.f) == v.f && v.f >= -9.2233720368547758e18 && v.f < 9.2233720368547758e18)
        return Value::integer(static_cast<int64_t>(v.f));
      return bad();
    case ir::Kind::Float:
      if (v.tag == Tag::Float) return v;
      if (v.tag == Tag::Int) return Value::floating(static_cast<double>(v.i));
      return bad();
    case ir::Kind::Bool:
      return v.tag == Tag::Bool ? v : bad();
    case ir::Kind::Time: {
      std::optional<int64_t> ns;
      if (v.tag == Tag::Time) return v;
      if (v.tag == Tag::String) ns = parse_timestamp(v.str());
      else if (v.tag == Tag::Int) ns = epoch_to_ns(v.i);
      else if (v.tag == Tag::Float) ns = epoch_to_ns(v.f);
      return ns ? Value::time(*ns) : bad();
    }
    case ir::Kind::Duration: {
      if (v.tag == Tag::Duration) return v;
      if (v.tag == Tag::Int) return Value::duration(v.i);
      if (v.tag == Tag::String) {
        auto d = parse_duration(v.str());
        if (d) return Value::duration(*d);
      }
      return bad();
    }
    case ir::Kind::List: {
      if (v.tag != Tag::List) return bad();
      ir::Kind e = type.elem;
      if (e == ir::Kind::Object || e == ir::Kind::Error || e == ir::Kind::List || e == ir::Kind::Null) return v;
      Value* items = impl_->alloc(v.len);
      uint32_t n = 0;
      bool dropped = false;
      for (uint32_t k = 0; k < v.len; ++k) {
        bool mm = false;
        Value c = convert_value(v.items[k], ir::Type::of(e), &mm);
        if (mm || c.is_null()) {
          dropped = dropped || mm;
          continue;
        }
        items[n++] = c;
      }
      if (dropped && mismatch) *mismatch = true;
      return Value::list(items, n);
    }
    case ir::Kind::Object:
    case ir::Kind::Null:
    case ir::Kind::Error:
      return v;
  }
  return v;
}

uint32_t SlotConverter::convert(uint32_t source, std::span<const Value> fields, std::span<Value> out) {
  const ir::Source& s = impl_->program->sources[source];
  uint32_t bad = 0;
  for (size_t i = 0; i < s.slots.size(); ++i) {
    const ir::Slot& slot = s.slots[i];
    Value in = slot.field < fields.size() ? fields[slot.field] : Value();
    bool mm = false;
    out[i] = convert_value(in, slot.type, &mm);
    if (mm) {
      ++impl_->mismatches[source][i];
      ++bad;
    }
  }
  return bad;
}

Value SlotConverter::convert_slot(uint32_t source, uint32_t slot, const Value& v) {
  bool mm = false;
  Value out = convert_value(v, impl_->program->sources[source].slots[slot].type, &mm);
  if (mm) ++impl_->mismatches[source][slot];
  return out;
}

uint64_t SlotConverter::mismatches(uint32_t source, uint32_t slot) const { return impl_->mismatches[source][slot]; }

uint64_t SlotConverter::total_mismatches() const {
  uint64_t t = 0;
  for (const auto& s : impl_->mismatches)
    for (uint64_t c : s) t += c;
  return t;
}

std::vector<SlotConverter::MismatchStat> SlotConverter::mismatch_stats() const {
  std::vector<MismatchStat> r;
  for (uint32_t s = 0; s < impl_->mismatches.size(); ++s)
    for (uint32_t k = 0; k < impl_->mismatches[s].size(); ++k)
      if (impl_->mismatches[s][k] != 0)
        r.push_back(MismatchStat{s, k, impl_->program->sources[s].slots[k].field, impl_->mismatches[s][k]});
  return r;
}

}  // namespace braid::rt
