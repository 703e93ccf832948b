// The reference interpreter. Semantics: interp.h and docs/language.md ("Runtime semantics").
#include "engine/interp.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace braid::rt {

using ir::Kind;
using ir::NodeId;
using ir::Op;

// ---------------------------------------------------------------------------------------------------------------
// Arena

char* Arena::alloc(size_t n, size_t align) {
  for (;;) {
    if (cur_ < blocks_.size()) {
      size_t off = (used_ + align - 1) & ~(align - 1);
      if (off + n <= sizes_[cur_]) {
        used_ = off + n;
        return blocks_[cur_].get() + off;
      }
      ++cur_;
      used_ = 0;
      continue;
    }
    size_t size = std::max<size_t>(size_t{64} << 10, n + align);
    blocks_.push_back(std::make_unique<char[]>(size));
    sizes_.push_back(size);
    cur_ = blocks_.size() - 1;
    used_ = 0;
  }
}

std::string_view Arena::copy(std::string_view s) {
  if (s.empty()) return std::string_view("", 0);
  char* d = alloc(s.size());
  std::memcpy(d, s.data(), s.size());
  return std::string_view(d, s.size());
}

Value* Arena::values(size_t n) {
  auto* v = reinterpret_cast<Value*>(alloc(n * sizeof(Value) + 1, alignof(Value)));
  for (size_t i = 0; i < n; ++i) new (&v[i]) Value();
  return v;
}

void Arena::reset() {
  cur_ = 0;
  used_ = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

bool parse_ip(std::string_view text, uint8_t addr[16], bool& v6) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  std::memset(addr, 0, 16);
  if (text.find(':') != std::string_view::npos) {
    v6 = true;
    return inet_pton(AF_INET6, buf, addr) == 1;
  }
  v6 = false;
  return inet_pton(AF_INET, buf, addr) == 1;
}

namespace {

// The number of top-level elements (array) or members (object) of raw JSON text; null for a scalar. The text
// is valid JSON (it came from the extractor), so counting the top-level commas outside strings is exact.
Value json_length(std::string_view t) {
  size_t i = 0;
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  if (i == t.size() || (t[i] != '[' && t[i] != '{')) return Value::null();
  int depth = 0;
  bool in_string = false, any = false;
  int64_t commas = 0;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; any = true; break;
      case '[': case '{': ++depth; if (depth > 1) any = true; break;
      case ']': case '}': --depth; break;
      case ',': if (depth == 1) ++commas; break;
      case ' ': case '\t': case '\n': case '\r': break;
      default: if (depth >= 1) any = true; break;
    }
    if (depth == 0) break;
  }
  return Value::integer(any ? commas + 1 : 0);
}

int cmp_bytes(std::string_view a, std::string_view b, bool nocase) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(nocase ? fold_ascii(a[i]) : a[i]);
    auto y = static_cast<unsigned char>(nocase ? fold_ascii(b[i]) : b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

bool eq_bytes(std::string_view a, std::string_view b, bool nocase) {
  if (a.size() != b.size()) return false;
  if (!nocase) return a == b;
  for (size_t i = 0; i < a.size(); ++i)
    if (fold_ascii(a[i]) != fold_ascii(b[i])) return false;
  return true;
}

bool starts_with(std::string_view s, std::string_view p, bool nocase) {
  return s.size() >= p.size() && eq_bytes(s.substr(0, p.size()), p, nocase);
}
bool ends_with(std::string_view s, std::string_view p, bool nocase) {
  return s.size() >= p.size() && eq_bytes(s.substr(s.size() - p.size()), p, nocase);
}
bool contains(std::string_view s, std::string_view p, bool nocase) {
  if (!nocase) return s.find(p) != std::string_view::npos;
  if (p.size() > s.size()) return false;
  for (size_t i = 0; i + p.size() <= s.size(); ++i)
    if (eq_bytes(s.substr(i, p.size()), p, true)) return true;
  return false;
}

size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}

int64_t count_chars(std::string_view s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) i += std::min(utf8_len(static_cast<unsigned char>(s[i])), s.size() - i);
  return n;
}

bool is_numeric(const Value& v) { return v.tag == Tag::Int || v.tag == Tag::Float; }
double as_double(const Value& v) { return v.tag == Tag::Int ? static_cast<double>(v.i) : v.f; }

}  // namespace

bool glob_match(std::string_view t, std::string_view p, bool nocase) {
  // Iterative matching with single-star backtracking (linear memory, O(n*m) worst case).
  size_t ti = 0, pi = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '*') {
        star_p = pi++;
        star_t = ti;
        continue;
      }
      if (pc == '?') {
        ti += std::min(utf8_len(static_cast<unsigned char>(t[ti])), t.size() - ti);
        ++pi;
        continue;
      }
      size_t plen = 1;
      if (pc == '\\' && pi + 1 < p.size()) {
        pc = p[pi + 1];
        plen = 2;
      }
      if (nocase ? fold_ascii(pc) == fold_ascii(t[ti]) : pc == t[ti]) {
        ++ti;
        pi += plen;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    star_t += std::min(utf8_len(static_cast<unsigned char>(t[star_t])), t.size() - star_t);
    ti = star_t;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::optional<int> compare_values(const Value& a, const Value& b, bool nocase, bool as_ip) {
  if (a.is_null() || b.is_null()) return std::nullopt;
  auto three = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (is_numeric(a) && is_numeric(b)) {
    if (a.tag == Tag::Int && b.tag == Tag::Int) return three(a.i, b.i);
    double x = as_double(a), y = as_double(b);
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return three(x, y);
  }
  if (a.tag != b.tag) return std::nullopt;
  switch (a.tag) {
    case Tag::Time:
    case Tag::Duration: return three(a.i, b.i);
    case Tag::Bool: return three(static_cast<int>(a.b), static_cast<int>(b.b));
    case Tag::Json: return cmp_bytes(a.str(), b.str(), false);
    case Tag::String: {
      if (as_ip) {
        uint8_t x[16], y[16];
        bool v6x = false, v6y = false;
        if (parse_ip(a.str(), x, v6x) && parse_ip(b.str(), y, v6y)) {
          if (v6x != v6y) return v6x ? 1 : -1;
          int c = std::memcmp(x, y, 16);
          return c < 0 ? -1 : (c > 0 ? 1 : 0);
        }
      }
      return cmp_bytes(a.str(), b.str(), nocase);
    }
    default: return std::nullopt;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Interpreter

struct Interpreter::Impl {
  std::vector<std::unique_ptr<RE2>> re;         // RegexId -> compiled as declared
  std::vector<std::unique_ptr<RE2>> re_nocase;  // RegexId -> case-insensitive variant (only when needed)
  std::vector<std::vector<std::string>> folded_sets;  // SetId -> ASCII-folded, sorted strings (when needed)
  std::vector<bool> has_folded;
  Value elems[64];                              // current element per AnyElem binding
  std::string buf;                              // replace() work buffer
};

namespace {
std::unique_ptr<RE2> compile(const std::string& pattern, bool nocase) {
  RE2::Options o;
  o.set_case_sensitive(!nocase);
  o.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, o);
  if (!re->ok()) throw std::runtime_error("invalid regex in program: " + pattern + ": " + re->error());
  return re;
}
}  // namespace

Interpreter::Interpreter(const ir::Program& program) : p_(program), impl_(std::make_unique<Impl>()) {
  for (const auto& r : p_.regexes) impl_->re.push_back(compile(r.pattern, r.nocase));
  impl_->re_nocase.resize(p_.regexes.size());
  impl_->folded_sets.resize(p_.sets.size());
  impl_->has_folded.assign(p_.sets.size(), false);
  // Case-insensitive variants for operators applied to nocase fields (or nocase operators on sets that were
  // not folded at check time).
  for (const auto& n : p_.nodes) {
    bool nc = n.has(ir::kFlagNoCase) || n.has(ir::kFlagNocaseField);
    if (!nc) continue;
    if (n.op == Op::Matches || n.op == Op::Replace) {
      auto id = static_cast<size_t>(n.imm);
      if (id < p_.regexes.size() && !p_.regexes[id].nocase && !impl_->re_nocase[id])
        impl_->re_nocase[id] = compile(p_.regexes[id].pattern, true);
    }
    if (n.op == Op::InSet || n.op == Op::ContainsAny || n.op == Op::StartsWithAny || n.op == Op::EndsWithAny ||
        n.op == Op::LikeAny) {
      auto id = static_cast<size_t>(n.imm);
      if (id < p_.sets.size() && !p_.sets[id].nocase && !impl_->has_folded[id]) {
        auto& out = impl_->folded_sets[id];
        for (const auto& s : p_.sets[id].strings) {
          std::string f(s);
          for (char& c : f) c = fold_ascii(c);
          out.push_back(std::move(f));
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        impl_->has_folded[id] = true;
      }
    }
  }
  field_slot_.resize(p_.sources.size());
  for (size_t s = 0; s < p_.sources.size(); ++s) {
    auto& t = field_slot_[s];
    t.assign(p_.fields.size() + 1, ir::kNone);
    for (const auto& [f, slot] : p_.sources[s].slot_index)
      if (f < p_.fields.size()) t[f] = slot;
  }
}

Interpreter::~Interpreter() = default;

bool Interpreter::test(NodeId id, const EvalContext& ctx) {
  Value v = eval(id, ctx);
  return v.tag == Tag::Bool && v.b;
}

namespace {

// Strings a string operator accepts as its subject or pattern (String: strings, ips, object strings).
bool stringish(const Value& v) { return v.tag == Tag::String; }

bool add_ov(int64_t a, int64_t b, int64_t& r) { return !__builtin_add_overflow(a, b, &r); }
bool sub_ov(int64_t a, int64_t b, int64_t& r) { return !__builtin_sub_overflow(a, b, &r); }
bool mul_ov(int64_t a, int64_t b, int64_t& r) { return !__builtin_mul_overflow(a, b, &r); }

Value float_result(double d) { return std::isnan(d) ? Value::null() : Value::floating(d); }

// duration * factor, truncated; null when out of range.
Value scale_duration(int64_t d, const Value& f, bool divide) {
  if (f.tag == Tag::Int) {
    int64_t r;
    if (divide) {
      if (f.i == 0 || (d == INT64_MIN && f.i == -1)) return Value::null();
      return Value::duration(d / f.i);
    }
    if (!mul_ov(d, f.i, r)) return Value::null();
    return Value::duration(r);
  }
  if (f.tag != Tag::Float) return Value::null();
  if (divide && f.f == 0) return Value::null();
  double r = divide ? static_cast<double>(d) / f.f : static_cast<double>(d) * f.f;
  if (std::isnan(r) || r >= 9.2233720368547758e18 || r < -9.2233720368547758e18) return Value::null();
  return Value::duration(static_cast<int64_t>(r));
}

Value arith(Op op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::null();
  // time/duration forms
  if (a.tag == Tag::Time || a.tag == Tag::Duration || b.tag == Tag::Time || b.tag == Tag::Duration) {
    int64_t r;
    switch (op) {
      case Op::Sub:
        if (a.tag == Tag::Time && b.tag == Tag::Time) return sub_ov(a.i, b.i, r) ? Value::duration(r) : Value::null();
        if (a.tag == Tag::Time && b.tag == Tag::Duration) return sub_ov(a.i, b.i, r) ? Value::time(r) : Value::null();
        if (a.tag == Tag::Duration && b.tag == Tag::Duration)
          return sub_ov(a.i, b.i, r) ? Value::duration(r) : Value::null();
        return Value::null();
      case Op::Add:
        if (a.tag == Tag::Time && b.tag == Tag::Duration) return add_ov(a.i, b.i, r) ? Value::time(r) : Value::null();
        if (a.tag == Tag::Duration && b.tag == Tag::Time) return add_ov(a.i, b.i, r) ? Value::time(r) : Value::null();
        if (a.tag == Tag::Duration && b.tag == Tag::Duration)
          return add_ov(a.i, b.i, r) ? Value::duration(r) : Value::null();
        return Value::null();
      case Op::Mul:
        if (a.tag == Tag::Duration && is_numeric(b)) return scale_duration(a.i, b, false);
        if (b.tag == Tag::Duration && is_numeric(a)) return scale_duration(b.i, a, false);
        return Value::null();
      case Op::Div:
        if (a.tag == Tag::Duration && is_numeric(b)) return scale_duration(a.i, b, true);
        return Value::null();
      case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
      case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or:
      case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Neg: case Op::Mod: case Op::ToFloat:
      case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
      case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
        return Value::null();
    }
  }
  if (!is_numeric(a) || !is_numeric(b)) return Value::null();
  if (a.tag == Tag::Int && b.tag == Tag::Int) {
    int64_t r;
    switch (op) {
      case Op::Add: return add_ov(a.i, b.i, r) ? Value::integer(r) : Value::null();
      case Op::Sub: return sub_ov(a.i, b.i, r) ? Value::integer(r) : Value::null();
      case Op::Mul: return mul_ov(a.i, b.i, r) ? Value::integer(r) : Value::null();
      case Op::Div:
        if (b.i == 0 || (a.i == INT64_MIN && b.i == -1)) return Value::null();
        return Value::integer(a.i / b.i);
      case Op::Mod:
        if (b.i == 0 || (a.i == INT64_MIN && b.i == -1)) return Value::null();
        return Value::integer(a.i % b.i);
      case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
      case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or:
      case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Neg: case Op::ToFloat:
      case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
      case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
        return Value::null();
    }
  }
  double x = as_double(a), y = as_double(b);
  switch (op) {
    case Op::Add: return float_result(x + y);
    case Op::Sub: return float_result(x - y);
    case Op::Mul: return float_result(x * y);
    case Op::Div: return y == 0 ? Value::null() : float_result(x / y);
    case Op::Mod: return y == 0 ? Value::null() : float_result(std::fmod(x, y));
    case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
    case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or: case Op::Eq:
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Neg: case Op::ToFloat: case Op::Contains:
    case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches: case Op::ContainsAny:
    case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet: case Op::InCidr: case Op::Exists:
    case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem:
    case Op::Seq: case Op::Concat: case Op::ListAt:
      return Value::null();
  }
  return Value::null();
}

bool set_has_string(const std::vector<std::string>& v, std::string_view s) {
  auto it = std::lower_bound(v.begin(), v.end(), s, [](const std::string& a, std::string_view b) {
    return std::string_view(a) < b;
  });
  return it != v.end() && std::string_view(*it) == s;
}

}  // namespace

Value Interpreter::eval(NodeId id, const EvalContext& ctx) {
  const ir::Node& n = p_.nodes[id];
  auto opnd = [&](uint32_t i) { return p_.operands[n.ops_begin + i]; };
  const bool nocase = n.has(ir::kFlagNoCase) || n.has(ir::kFlagNocaseField);
  switch (n.op) {
    case Op::Null: return Value::null();
    case Op::Bool: return Value::boolean(n.imm != 0);
    case Op::Int: return Value::integer(n.imm);
    case Op::Float: return Value::floating(n.float_value());
    case Op::String: {
      const std::string& s = p_.strings[static_cast<size_t>(n.imm)];
      return Value::string(s);
    }
    case Op::Duration: return Value::duration(n.imm);
    case Op::Set: {
      const ir::ConstSet& set = p_.sets[static_cast<size_t>(n.imm)];
      Value* items = arena_.values(set.size());
      uint32_t k = 0;
      for (const auto& s : set.strings) items[k++] = Value::string(s);
      for (int64_t i : set.ints) {
        Value v = set.elem == Kind::Bool       ? Value::boolean(i != 0)
                  : set.elem == Kind::Duration ? Value::duration(i)
                  : set.elem == Kind::Time     ? Value::time(i)
                                               : Value::integer(i);
        items[k++] = v;
      }
      for (double f : set.floats) items[k++] = Value::floating(f);
      return Value::list(items, k);
    }
    case Op::Field: {
      if (!ctx.slots || !ctx.field_slot) return Value::null();
      uint32_t slot = ctx.field_slot[static_cast<size_t>(n.imm)];
      return slot == ir::kNone ? Value::null() : ctx.slots[slot];
    }
    case Op::Attr: return ctx.state ? ctx.state->attr(static_cast<ir::Attribute>(n.imm)) : Value::null();
    case Op::Agg: return ctx.state ? ctx.state->agg(static_cast<uint32_t>(n.imm)) : Value::null();
    case Op::Seq: return Value::boolean(ctx.state && ctx.state->seq(static_cast<uint32_t>(n.imm)));
    case Op::Elem: return impl_->elems[static_cast<size_t>(n.imm) & 63];

    case Op::Not: return Value::boolean(!test(opnd(0), ctx));
    case Op::And:
      for (uint32_t i = 0; i < n.ops_count; ++i)
        if (!test(opnd(i), ctx)) return Value::boolean(false);
      return Value::boolean(true);
    case Op::Or:
      for (uint32_t i = 0; i < n.ops_count; ++i)
        if (test(opnd(i), ctx)) return Value::boolean(true);
      return Value::boolean(false);

    case Op::Eq:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      Value a = eval(opnd(0), ctx);
      if (a.is_null()) return Value::boolean(false);
      Value b = eval(opnd(1), ctx);
      bool as_ip = p_.nodes[opnd(0)].type.kind == Kind::Ip && p_.nodes[opnd(1)].type.kind == Kind::Ip;
      // Equality folds case for ==~ and nocase fields; ordering is always bytewise.
      auto c = compare_values(a, b, n.op == Op::Eq && nocase, as_ip);
      if (!c) return Value::boolean(false);
      switch (n.op) {
        case Op::Eq: return Value::boolean(*c == 0);
        case Op::Lt: return Value::boolean(*c < 0);
        case Op::Le: return Value::boolean(*c <= 0);
        case Op::Gt: return Value::boolean(*c > 0);
        case Op::Ge: return Value::boolean(*c >= 0);
        case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
        case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or:
        case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod: case Op::ToFloat:
        case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
        case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
        case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
        case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
          return Value::boolean(false);
      }
      return Value::boolean(false);
    }

    case Op::Neg: {
      Value a = eval(opnd(0), ctx);
      if (a.tag == Tag::Int) return a.i == INT64_MIN ? Value::null() : Value::integer(-a.i);
      if (a.tag == Tag::Float) return Value::floating(-a.f);
      if (a.tag == Tag::Duration) return a.i == INT64_MIN ? Value::null() : Value::duration(-a.i);
      return Value::null();
    }
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod: {
      Value a = eval(opnd(0), ctx);
      if (a.is_null()) return Value::null();
      return arith(n.op, a, eval(opnd(1), ctx));
    }
    case Op::ToFloat: {
      Value a = eval(opnd(0), ctx);
      if (a.tag == Tag::Int) return Value::floating(static_cast<double>(a.i));
      return a.tag == Tag::Float ? a : Value::null();
    }

    case Op::Contains:
    case Op::StartsWith:
    case Op::EndsWith:
    case Op::Like: {
      Value s = eval(opnd(0), ctx);
      if (!stringish(s)) return Value::boolean(false);
      Value pat = eval(opnd(1), ctx);
      if (!stringish(pat)) return Value::boolean(false);
      return Value::boolean(string_op(n.op, s.str(), pat.str(), nocase));
    }
    case Op::Matches: {
      Value s = eval(opnd(0), ctx);
      if (!stringish(s)) return Value::boolean(false);
      return Value::boolean(matches(static_cast<uint32_t>(n.imm), nocase, s.str()));
    }
    case Op::ContainsAny:
    case Op::StartsWithAny:
    case Op::EndsWithAny:
    case Op::LikeAny: {
      Value s = eval(opnd(0), ctx);
      if (!stringish(s)) return Value::boolean(false);
      return Value::boolean(any_of(n.op, static_cast<uint32_t>(n.imm), nocase, s.str()));
    }
    case Op::InSet: return Value::boolean(in_set(static_cast<uint32_t>(n.imm), nocase, eval(opnd(0), ctx)));
    case Op::InCidr: {
      Value x = eval(opnd(0), ctx);
      if (!stringish(x)) return Value::boolean(false);
      return Value::boolean(in_cidr(static_cast<uint32_t>(n.imm), x.str()));
    }
    case Op::Exists: return Value::boolean(!eval(opnd(0), ctx).is_null());

    case Op::Lower:
    case Op::Upper: {
      Value s = eval(opnd(0), ctx);
      if (!stringish(s)) return Value::null();
      char* d = arena_.alloc(s.len ? s.len : 1);
      for (uint32_t i = 0; i < s.len; ++i) {
        char c = s.s[i];
        if (n.op == Op::Lower) d[i] = fold_ascii(c);
        else d[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
      }
      return Value::string(std::string_view(d, s.len));
    }
    case Op::Len: {
      Value s = eval(opnd(0), ctx);
      if (s.tag == Tag::String) return Value::integer(count_chars(s.str()));
      if (s.tag == Tag::List) return Value::integer(s.len);
      if (s.tag == Tag::Json) return json_length(s.str());
      return Value::null();
    }
    case Op::Coalesce:
      for (uint32_t i = 0; i < n.ops_count; ++i) {
        Value v = eval(opnd(i), ctx);
        if (!v.is_null()) return v;
      }
      return Value::null();
    case Op::ListAt: {
      Value l = eval(opnd(0), ctx);
      if (l.tag != Tag::List) return Value::null();
      int64_t i = n.imm >= 0 ? n.imm : static_cast<int64_t>(l.len) + n.imm;
      return i >= 0 && i < static_cast<int64_t>(l.len) ? l.items[i] : Value::null();
    }
    case Op::Concat: {
      Value a = eval(opnd(0), ctx);
      if (!stringish(a)) return Value::null();
      Value b = eval(opnd(1), ctx);
      if (!stringish(b)) return Value::null();
      return concat(a.str(), b.str());
    }
    case Op::Replace: {
      Value s = eval(opnd(0), ctx);
      if (!stringish(s)) return Value::null();
      Value r = eval(opnd(1), ctx);
      if (!stringish(r)) return Value::null();
      auto rid = static_cast<size_t>(n.imm);
      const RE2* re = (nocase && impl_->re_nocase[rid]) ? impl_->re_nocase[rid].get() : impl_->re[rid].get();
      impl_->buf.assign(s.s, s.len);
      RE2::GlobalReplace(&impl_->buf, *re, re2::StringPiece(r.s, r.len));
      return Value::string(arena_.copy(impl_->buf));
    }
    case Op::AnyElem: {
      Value list = eval(opnd(0), ctx);
      if (list.tag != Tag::List) return Value::boolean(false);
      auto b = static_cast<size_t>(n.imm) & 63;
      Value saved = impl_->elems[b];
      bool hit = false;
      for (uint32_t i = 0; i < list.len && !hit; ++i) {
        impl_->elems[b] = list.items[i];
        hit = test(opnd(1), ctx);
      }
      impl_->elems[b] = saved;
      return Value::boolean(hit);
    }
  }
  return Value::null();
}

bool Interpreter::string_op(Op op, std::string_view s, std::string_view pat, bool nocase) {
  switch (op) {
    case Op::Contains: return contains(s, pat, nocase);
    case Op::StartsWith: return starts_with(s, pat, nocase);
    case Op::EndsWith: return ends_with(s, pat, nocase);
    case Op::Like: return glob_match(s, pat, nocase);
    case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
    case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or: case Op::Eq:
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul:
    case Op::Div: case Op::Mod: case Op::ToFloat: case Op::Matches: case Op::ContainsAny: case Op::StartsWithAny:
    case Op::EndsWithAny: case Op::LikeAny: case Op::InSet: case Op::InCidr: case Op::Exists: case Op::Lower:
    case Op::Upper: case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem: case Op::Seq:
    case Op::Concat: case Op::ListAt:
      return false;
  }
  return false;
}

bool Interpreter::matches(uint32_t rid, bool nocase, std::string_view s) const {
  if (rid >= impl_->re.size()) return false;
  const RE2* re = (nocase && impl_->re_nocase[rid]) ? impl_->re_nocase[rid].get() : impl_->re[rid].get();
  return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re);
}

bool Interpreter::any_of(Op op, uint32_t sid, bool nocase, std::string_view s) const {
  if (sid >= p_.sets.size()) return false;
  const std::vector<std::string>& els =
      (nocase && impl_->has_folded[sid]) ? impl_->folded_sets[sid] : p_.sets[sid].strings;
  for (const auto& e : els) {
    bool hit = op == Op::ContainsAny     ? contains(s, e, nocase)
               : op == Op::StartsWithAny ? starts_with(s, e, nocase)
               : op == Op::EndsWithAny   ? ends_with(s, e, nocase)
                                         : glob_match(s, e, nocase);
    if (hit) return true;
  }
  return false;
}

bool Interpreter::in_set(uint32_t sid, bool nocase, const Value& x) {
  if (x.is_null() || sid >= p_.sets.size()) return false;
  const ir::ConstSet& set = p_.sets[sid];
  switch (x.tag) {
    case Tag::String: {
      if (set.strings.empty()) return false;
      if (!nocase) return set_has_string(set.strings, x.str());
      char* f = arena_.alloc(x.len ? x.len : 1);
      for (uint32_t i = 0; i < x.len; ++i) f[i] = fold_ascii(x.s[i]);
      const auto& els = impl_->has_folded[sid] ? impl_->folded_sets[sid] : set.strings;
      return set_has_string(els, std::string_view(f, x.len));
    }
    case Tag::Int:
      if (!set.ints.empty() && set.elem == Kind::Int) return std::binary_search(set.ints.begin(), set.ints.end(), x.i);
      if (!set.floats.empty()) {
        auto d = static_cast<double>(x.i);
        return std::binary_search(set.floats.begin(), set.floats.end(), d);
      }
      return false;
    case Tag::Float:
      if (!set.floats.empty()) return std::binary_search(set.floats.begin(), set.floats.end(), x.f);
      if (set.elem == Kind::Int) {
        for (int64_t i : set.ints)
          if (static_cast<double>(i) == x.f) return true;
      }
      return false;
    case Tag::Duration:
      return set.elem == Kind::Duration && std::binary_search(set.ints.begin(), set.ints.end(), x.i);
    case Tag::Time: return set.elem == Kind::Time && std::binary_search(set.ints.begin(), set.ints.end(), x.i);
    case Tag::Bool:
      return set.elem == Kind::Bool && std::binary_search(set.ints.begin(), set.ints.end(), int64_t{x.b ? 1 : 0});
    default: return false;
  }
}

bool Interpreter::in_cidr(uint32_t cid, std::string_view s) const {
  if (cid >= p_.cidr_sets.size()) return false;
  uint8_t addr[16];
  bool v6 = false;
  if (!parse_ip(s, addr, v6)) return false;
  for (const auto& c : p_.cidr_sets[cid].cidrs) {
    if (c.v6 != v6) continue;
    uint32_t bits = c.prefix, full = bits / 8, rem = bits % 8;
    if (std::memcmp(addr, c.addr, full) != 0) continue;
    if (rem) {
      auto mask = static_cast<uint8_t>(0xFF << (8 - rem));
      if ((addr[full] & mask) != (c.addr[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

void Interpreter::set_elem(uint32_t binding, const Value& v) { impl_->elems[binding & 63] = v; }

Value Interpreter::concat(std::string_view a, std::string_view b) {
  char* d = arena_.alloc(a.size() + b.size() + 1);
  if (!a.empty()) std::memcpy(d, a.data(), a.size());
  if (!b.empty()) std::memcpy(d + a.size(), b.data(), b.size());
  return Value::string(std::string_view(d, a.size() + b.size()));
}

}  // namespace braid::rt
