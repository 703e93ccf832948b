// The hot JSON code of event input, compiled once per SIMD kernel (see kernel.h): the FieldExtractor's one-pass
// walk with simdjson On-Demand, and the splitting of CloudTrail Records / JSON-array files into records.
//
// CMakeLists.txt compiles this file once per kernel with that kernel's target flags and BRAID_KERNEL=<name>, and
// links each copy into a relocatable object whose only global symbol is braid_input_kernel_<name>. Everything
// here is in namespace braid::rt::detail::kernel_<name>, mostly in an anonymous namespace inside it.
#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "input/extract_plan.h"
#include "input/kernel.h"
#include "input/records.h"

#ifndef BRAID_KERNEL
#error "compile with -DBRAID_KERNEL=<kernel name> (runtime/input/CMakeLists.txt)"
#endif
#define BRAID_CAT2(a, b) a##b
#define BRAID_CAT(a, b) BRAID_CAT2(a, b)
#define BRAID_STR2(a) #a
#define BRAID_STR(a) BRAID_STR2(a)
#define BRAID_KERNEL_NS BRAID_CAT(kernel_, BRAID_KERNEL)
#define BRAID_KERNEL_SYMBOL BRAID_CAT(braid_input_kernel_, BRAID_KERNEL)

namespace braid::rt::detail::BRAID_KERNEL_NS {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using detail::FieldChild;
using detail::kNil;
using detail::TrieNode;

static_assert(kRecordPadding == simdjson::SIMDJSON_PADDING, "kRecordPadding must equal SIMDJSON_PADDING");

namespace {

// The compile flags must select the simdjson kernel this copy is named after (on x86-64; elsewhere there is one
// copy, "builtin", with whatever kernel simdjson selects).
constexpr std::string_view kName = BRAID_STR(BRAID_KERNEL);
constexpr std::string_view kSimdjson = BRAID_STR(SIMDJSON_BUILTIN_IMPLEMENTATION);
static_assert(kName == kSimdjson || kName == "builtin",
              "the compile flags of this kernel select another simdjson kernel (runtime/input/CMakeLists.txt)");
constexpr std::string_view kReported = kName == "builtin" ? kSimdjson : kName;  // simd_kernel_name()

// The length of a raw key (up to its closing quote or its first backslash). The record is padded, so whole
// 16-byte blocks can be read past the key's end.
inline size_t key_length(const char* k) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (size_t at = 0;; at += 16) {
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k + at));
    unsigned m = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, quote), _mm_cmpeq_epi8(b, backslash))));
    if (m != 0) return at + static_cast<size_t>(__builtin_ctz(m));
  }
#else
  size_t len = 0;
  while (k[len] != '"' && k[len] != '\\') ++len;
  return len;
#endif
}

// True when nothing but whitespace follows the value just read (simdjson 3.0.1's document has no at_end()).
bool at_document_end(od::document& doc) {
  auto loc = doc.current_location();
  return loc.error() != simdjson::SUCCESS;
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool json_number_text(std::string_view t) {
  size_t i = 0, n = t.size();
  auto digits = [&] {
    size_t s = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    return i > s;
  };
  if (i < n && t[i] == '-') ++i;
  if (i < n && t[i] == '0') {
    ++i;
  } else if (i >= n || t[i] < '1' || t[i] > '9' || !digits()) {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// ---------------------------------------------------------------------------------------------------------------
// FieldExtractor (see extract.h for what is extracted and how).

class Walker final : public ExtractWalker {
 public:
  ExtractPlan& plan() override { return p_; }

  bool run(const char* data, size_t size) override {
    err = simdjson::SUCCESS;
    p_.err_text = {};
    sub_next = 0;
    // The values the previous record set back to Null (a program may read hundreds of fields, of which a record
    // has a few dozen).
    for (ir::FieldId f : p_.touched) p_.values[f] = Value();
    p_.touched.clear();
    for (ir::FieldId f : p_.list_fields) {
      p_.lists[f].clear();
      p_.started[f] = 0;
    }
    rec_end = data + size + simdjson::SIMDJSON_PADDING;
    od::document doc;
    if (!reserve(parser, size)) return false;
    if (auto e = parser.iterate(simdjson::padded_string_view(data, size, size + simdjson::SIMDJSON_PADDING)).get(doc))
      return fail(e);
    od::json_type t;
    if (auto e = doc.type().get(t)) return fail(e);
    if (t != od::json_type::object) {
      p_.err_kind = InputErrorKind::NotObject;
      p_.err_text = "not a JSON object";
      return false;
    }
    od::object o;
    if (auto e = doc.get_object().get(o)) return fail(e);
    if (!visit_object(0, o, true)) return false;
    if (!at_document_end(doc)) {
      p_.err_kind = InputErrorKind::MalformedJson;
      p_.err_text = "trailing content after the JSON object";
      return false;
    }
    for (ir::FieldId f : p_.list_fields) {
      if (p_.started[f]) {
        p_.values[f] = Value::list(p_.lists[f].data(), static_cast<uint32_t>(p_.lists[f].size()));
        p_.touched.push_back(f);
      }
    }
    return true;
  }

 private:
  ExtractPlan p_;        // the trie (built by extract.cpp) and the values
  uint32_t stamp_ = 0;  // of object visits (FieldChild::seen)
  od::parser parser;
  std::vector<std::unique_ptr<od::parser>> sub_parsers;  // for values two trie nodes need (rare)
  size_t sub_next = 0;
  const char* rec_end = nullptr;  // end of the current record's readable bytes (data + size + padding)
  error_code err = simdjson::SUCCESS;

  bool fail(error_code e) {
    err = e;
    p_.err_kind = e == simdjson::UTF8_ERROR ? InputErrorKind::InvalidUtf8 : InputErrorKind::MalformedJson;
    p_.err_text = simdjson::error_message(e);
    return false;
  }

  uint32_t next_stamp() {
    if (++stamp_ == 0) {
      for (auto& n : p_.nodes)
        for (auto& c : n.fields) c.seen = 0;
      stamp_ = 1;
    }
    return stamp_;
  }

  uint32_t find_field(const TrieNode& n, const detail::KeyWords& w, std::string_view key) const {
    if (n.hash_mask != 0) {
      uint32_t h = detail::key_hash(w, key.size()) & n.hash_mask;
      for (;;) {
        uint32_t i = n.hash[h];
        if (i == kNil) return kNil;
        if (detail::key_equals(n.fields[i], w, key)) return i;
        h = (h + 1) & n.hash_mask;
      }
    }
    for (uint32_t i = 0; i < n.fields.size(); ++i)
      if (detail::key_equals(n.fields[i], w, key)) return i;
    return kNil;
  }

  void emit(const TrieNode& n, Value v) {
    if (n.in_list) {
      if (!v.is_null()) p_.lists[n.leaf].push_back(v);
    } else {
      p_.values[n.leaf] = v;
      p_.touched.push_back(n.leaf);
    }
  }

  // Reads a scalar (or raw JSON of an object/array) from `v`.
  bool read_value(od::value& v, od::json_type t, Value& out) {
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return fail(e);
        out = Value::string(s);
        return true;
      }
      case od::json_type::number: {
        od::number_type nt;
        if (!v.get_number_type().get(nt)) {
          if (nt == od::number_type::signed_integer) {
            int64_t i;
            if (!v.get_int64().get(i)) {
              out = Value::integer(i);
              return true;
            }
          } else if (nt == od::number_type::unsigned_integer) {
            uint64_t u;
            if (!v.get_uint64().get(u)) {
              out = Value::floating(static_cast<double>(u));
              return true;
            }
          } else {
            double d;
            if (!v.get_double().get(d)) {
              out = Value::floating(d);
              return true;
            }
          }
        }
        // A number simdjson does not hold in 64 bits (an integer beyond uint64): read its text as a double. Only
        // text of JSON's number grammar (strtod would also take "01", "+1", "1." or ".5"), of at most 400
        // characters.
        std::string_view tok = v.raw_json_token();
        size_t len = 0;
        while (len < tok.size() && std::strchr("+-0123456789.eE", tok[len]) != nullptr) ++len;
        if (len == 0 || len > 400 || !json_number_text(tok.substr(0, len)) ||
            (len < tok.size() && std::strchr(" \t\r\n,]}", tok[len]) == nullptr))
          return fail(simdjson::NUMBER_ERROR);
        char text[401];
        std::memcpy(text, tok.data(), len);
        text[len] = '\0';
        char* endp = nullptr;
        double d = std::strtod(text, &endp);
        if (endp != text + len || !std::isfinite(d)) return fail(simdjson::NUMBER_ERROR);
        out = Value::floating(d);
        return true;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return fail(e);
        out = Value::boolean(b);
        return true;
      }
      case od::json_type::null:
        out = Value::null();
        return true;
      case od::json_type::object: {
        od::object o;
        std::string_view raw;
        if (auto e = v.get_object().get(o)) return fail(e);
        if (auto e = o.raw_json().get(raw)) return fail(e);
        out = Value::json(raw);
        return true;
      }
      case od::json_type::array: {
        od::array a;
        std::string_view raw;
        if (auto e = v.get_array().get(a)) return fail(e);
        if (auto e = a.raw_json().get(raw)) return fail(e);
        out = Value::json(raw);
        return true;
      }
    }
    return fail(simdjson::INCORRECT_TYPE);
  }

  // A leaf without children.
  bool visit_leaf(const TrieNode& n, od::value& v) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail(e);
    if (n.list_leaf && t == od::json_type::array) {
      od::array a;
      if (auto e = v.get_array().get(a)) return fail(e);
      return read_list(n, a);
    }
    Value out;
    if (!read_value(v, t, out)) return false;
    emit(n, out);
    return true;
  }

  // A declared list field: its elements (nulls omitted; objects and arrays as Json).
  bool read_list(const TrieNode& n, od::array& a) {
    p_.started[n.leaf] = 1;
    for (auto er : a) {
      od::value ev;
      if (auto e = std::move(er).get(ev)) return fail(e);
      od::json_type t;
      if (auto e = ev.type().get(t)) return fail(e);
      Value out;
      if (!read_value(ev, t, out)) return false;
      if (!out.is_null()) p_.lists[n.leaf].push_back(out);
    }
    return true;
  }

  // Grows a parser's capacity geometrically (at least 64 KiB) so that records of slowly growing sizes do not
  // reallocate its buffers again and again: the steady state does not allocate.
  bool reserve(od::parser& p, size_t size) {
    if (p.capacity() >= size) return true;
    size_t cap = std::max<size_t>(size_t{64} << 10, p.capacity());
    while (cap < size) cap *= 2;
    if (auto e = p.allocate(cap)) return fail(e);
    return true;
  }

  od::parser& sub_parser() {
    if (sub_next == sub_parsers.size()) sub_parsers.push_back(std::make_unique<od::parser>());
    return *sub_parsers[sub_next++];
  }

  // Re-parses `raw` (an object or array inside the current record) and walks it with node `n`'s children.
  bool visit_raw(uint32_t n, std::string_view raw) {
    od::parser& p = sub_parser();
    od::document doc;
    size_t cap = static_cast<size_t>(rec_end - raw.data());
    if (!reserve(p, raw.size())) return false;
    if (auto e = p.iterate(simdjson::padded_string_view(raw.data(), raw.size(), cap)).get(doc)) return fail(e);
    od::value v;
    if (auto e = doc.get_value().get(v)) return fail(e);
    return visit_children(n, v);
  }

  bool visit(uint32_t ni, od::value& v) {
    const TrieNode& n = p_.nodes[ni];
    if (!n.has_children()) return visit_leaf(n, v);
    if (n.leaf == kNil) return visit_children(ni, v);
    // Both a leaf and a prefix of other paths (e.g. `requestParameters` and `requestParameters.userName`).
    od::json_type t;
    if (auto e = v.type().get(t)) return fail(e);
    if (t != od::json_type::object && t != od::json_type::array) return visit_leaf(n, v);
    std::string_view raw;
    if (t == od::json_type::object) {
      od::object o;
      if (auto e = v.get_object().get(o)) return fail(e);
      if (auto e = o.raw_json().get(raw)) return fail(e);
      emit(n, Value::json(raw));
    } else {
      od::array a;
      if (auto e = v.get_array().get(a)) return fail(e);
      if (auto e = a.raw_json().get(raw)) return fail(e);
      if (n.list_leaf) {
        od::parser& p = sub_parser();
        od::document doc;
        size_t cap = static_cast<size_t>(rec_end - raw.data());
        if (!reserve(p, raw.size())) return false;
        if (auto e = p.iterate(simdjson::padded_string_view(raw.data(), raw.size(), cap)).get(doc)) return fail(e);
        od::array la;
        if (auto e = doc.get_array().get(la)) return fail(e);
        if (!read_list(n, la)) return false;
      } else {
        emit(n, Value::json(raw));
      }
    }
    return visit_raw(ni, raw);
  }

  bool visit_children(uint32_t ni, od::value& v) {
    const TrieNode& n = p_.nodes[ni];
    od::json_type t;
    if (auto e = v.type().get(t)) return fail(e);
    if (t == od::json_type::object) {
      if (n.fields.empty()) return true;
      od::object o;
      if (auto e = v.get_object().get(o)) return fail(e);
      return visit_object(ni, o, false);
    }
    if (t == od::json_type::array) {
      if (n.indices.empty() && n.any == kNil) return true;
      od::array a;
      if (auto e = v.get_array().get(a)) return fail(e);
      return visit_array(ni, a);
    }
    return true;  // a scalar where a container was expected: the paths below read null
  }

  bool visit_object(uint32_t ni, od::object& o, bool root) {
    uint32_t my_stamp = next_stamp();
    size_t found = 0;
    size_t need = p_.nodes[ni].fields.size();
    for (auto fr : o) {
      od::field f;
      if (auto e = std::move(fr).get(f)) return fail(e);
      // The key as written (between the quotes); escaped keys are unescaped first (rare).
      const char* k = f.key().raw();
      size_t len = key_length(k);
      std::string_view key(k, len);
      detail::KeyWords w;
      if (k[len] == '\\') {
        if (auto e = f.unescaped_key().get(key)) return fail(e);
        w = detail::key_words(key);
      } else {
        w = detail::key_words_padded(k, len);
      }
      TrieNode& n = p_.nodes[ni];
      uint32_t ci = find_field(n, w, key);
      if (ci == kNil) continue;
      FieldChild& c = n.fields[ci];
      if (c.seen == my_stamp) continue;  // a duplicate key: the first occurrence won
      c.seen = my_stamp;
      uint32_t child = c.node;
      od::value fv = f.value();
      if (!visit(child, fv)) return false;
      // Inner objects: stop once every wanted key was seen (the parent skips the rest). The root is read to the
      // end so that truncated or trailing input is detected.
      if (++found == need && !root) break;
    }
    return true;
  }

  bool visit_array(uint32_t ni, od::array& a) {
    for (ir::FieldId f : p_.nodes[ni].start_lists) p_.started[f] = 1;
    int64_t i = 0;
    const uint32_t any = p_.nodes[ni].any;
    const int64_t max_index = p_.nodes[ni].indices.empty() ? -1 : p_.nodes[ni].indices.back().index;
    for (auto er : a) {
      if (any == kNil && i > max_index) break;
      od::value ev;
      if (auto e = std::move(er).get(ev)) return fail(e);
      uint32_t idx = kNil;
      for (const auto& c : p_.nodes[ni].indices) {
        if (c.index == i) {
          idx = c.node;
          break;
        }
      }
      if (any != kNil && idx != kNil) {
        // The element is needed by both [*] and [i]: read it once.
        od::json_type t;
        if (auto e = ev.type().get(t)) return fail(e);
        if (t == od::json_type::object || t == od::json_type::array) {
          std::string_view raw;
          if (t == od::json_type::object) {
            od::object o;
            if (auto e = ev.get_object().get(o)) return fail(e);
            if (auto e = o.raw_json().get(raw)) return fail(e);
          } else {
            od::array aa;
            if (auto e = ev.get_array().get(aa)) return fail(e);
            if (auto e = aa.raw_json().get(raw)) return fail(e);
          }
          if (!visit_raw_node(any, raw) || !visit_raw_node(idx, raw)) return false;
        } else {
          Value out;
          if (!read_value(ev, t, out)) return false;
          if (p_.nodes[any].leaf != kNil) emit(p_.nodes[any], out);
          if (p_.nodes[idx].leaf != kNil) emit(p_.nodes[idx], out);
        }
      } else if (any != kNil) {
        if (!visit(any, ev)) return false;
      } else if (idx != kNil) {
        if (!visit(idx, ev)) return false;
      }
      ++i;
    }
    return true;
  }

  // Walks node `n` (leaf and children) over `raw`, a container inside the current record, with a sub-parser.
  bool visit_raw_node(uint32_t ni, std::string_view raw) {
    od::parser& p = sub_parser();
    od::document doc;
    size_t cap = static_cast<size_t>(rec_end - raw.data());
    if (!reserve(p, raw.size())) return false;
    if (auto e = p.iterate(simdjson::padded_string_view(raw.data(), raw.size(), cap)).get(doc)) return fail(e);
    od::value v;
    if (auto e = doc.get_value().get(v)) return fail(e);
    return visit(ni, v);
  }
};

// ---------------------------------------------------------------------------------------------------------------
// ArraySplitter (see records.h).

class Splitter final : public ArraySplitWorker {
 public:
  bool split(const char* data, size_t size, InputFormat format, std::vector<ElementSpan>& out, InputErrorKind& kind,
             std::string& reason, size_t& bad_element) override;

 private:
  od::parser parser_;
};

bool Splitter::split(const char* data, size_t size, InputFormat format, std::vector<ElementSpan>& out,
                     InputErrorKind& kind, std::string& reason, size_t& bad_element) {
  using simdjson::error_code;
  using simdjson::padded_string_view;
  using simdjson::UTF8_ERROR;
  using simdjson::INCORRECT_TYPE;
  bad_element = 0;
  auto fail = [&](error_code e) {
    kind = e == UTF8_ERROR ? InputErrorKind::InvalidUtf8 : InputErrorKind::MalformedJson;
    reason = simdjson::error_message(e);
    return false;
  };
  od::document doc;
  if (auto e = parser_.iterate(padded_string_view(data, size, size + simdjson::SIMDJSON_PADDING)).get(doc))
    return fail(e);
  size_t index = 0;
  auto split_array = [&](od::array& arr) -> bool {
    for (auto element : arr) {
      bad_element = index;
      od::value v;
      if (auto e = std::move(element).get(v)) return fail(e);
      std::string_view raw;
      od::json_type t;
      if (auto e = v.type().get(t)) return fail(e);
      if (t == od::json_type::object) {
        od::object o;
        if (auto e = v.get_object().get(o)) return fail(e);
        if (auto e = o.raw_json().get(raw)) return fail(e);
      } else if (t == od::json_type::array) {
        od::array a;
        if (auto e = v.get_array().get(a)) return fail(e);
        if (auto e = a.raw_json().get(raw)) return fail(e);
      } else {
        raw = v.raw_json_token();  // a scalar element: handed out as is (the extractor reports "not an object")
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
          raw.remove_suffix(1);
      }
      out.push_back(ElementSpan{static_cast<size_t>(raw.data() - data), raw.size()});
      ++index;
    }
    bad_element = index;
    return true;
  };
  if (format == InputFormat::CloudTrailRecords) {
    od::object obj;
    if (auto e = doc.get_object().get(obj)) return fail(e);
    bool seen = false;
    for (auto field : obj) {
      od::field f;
      if (auto e = std::move(field).get(f)) return fail(e);
      if (seen || !f.key().is_equal("Records")) continue;  // other keys are skipped (first "Records" wins)
      seen = true;
      od::array arr;
      if (auto e = f.value().get_array().get(arr)) {
        if (e != INCORRECT_TYPE) return fail(e);
        kind = InputErrorKind::NotObject;
        reason = "\"Records\" is not an array";
        return false;
      }
      if (!split_array(arr)) return false;
    }
  } else {
    od::array arr;
    if (auto e = doc.get_array().get(arr)) return fail(e);
    if (!split_array(arr)) return false;
  }
  if (!at_document_end(doc)) {
    kind = InputErrorKind::MalformedJson;
    reason = "trailing content after the top-level JSON value";
    return false;
  }
  return true;
}

std::unique_ptr<ExtractWalker> make_walker() { return std::make_unique<Walker>(); }
std::unique_ptr<ArraySplitWorker> make_splitter() { return std::make_unique<Splitter>(); }

// On-Demand's stage 1 comes from libsimdjson (parser::allocate() asks simdjson::get_active_implementation()).
void select_stage1() {
  const simdjson::implementation* impl = simdjson::get_available_implementations()[kSimdjson];
  if (impl != nullptr && impl->supported_by_runtime_system()) simdjson::get_active_implementation() = impl;
}
const char* stage1() { return simdjson::get_active_implementation()->name().c_str(); }

}  // namespace
}  // namespace braid::rt::detail::BRAID_KERNEL_NS

// The kernel's table: the one global symbol of its object (kernel.h).
namespace kns = braid::rt::detail::BRAID_KERNEL_NS;
extern "C" const braid::rt::detail::KernelOps BRAID_KERNEL_SYMBOL{
    kns::kReported.data(), kns::kSimdjson.data(), &kns::make_walker, &kns::make_splitter, &kns::select_stage1,
    &kns::stage1};
