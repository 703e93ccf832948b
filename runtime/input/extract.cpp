// Compiled with the SIMD kernel flags (see CMakeLists.txt).
#include "input/extract.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace braid::rt {

namespace {
// True when nothing but whitespace follows the value just read (simdjson 3.0.1's document has no at_end()).
[[maybe_unused]] bool at_document_end(simdjson::ondemand::document& doc) {
  auto loc = doc.current_location();
  return loc.error() != simdjson::SUCCESS;
}
}  // namespace

namespace od = simdjson::ondemand;
using simdjson::error_code;

namespace {

constexpr uint32_t kNil = UINT32_MAX;

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

uint32_t key_hash(std::string_view k) {
  size_t n = k.size();
  if (n == 0) return 0;
  return static_cast<uint32_t>(n * 131u + static_cast<unsigned char>(k[0]) * 31u +
                               static_cast<unsigned char>(k[n - 1]) * 7u + static_cast<unsigned char>(k[n / 2]));
}

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

struct FieldExtractor::Impl {
  std::vector<ir::FieldPath> paths;
  std::vector<TrieNode> nodes;  // nodes[0] is the root
  std::vector<Value> values;
  std::vector<std::vector<Value>> lists;  // per FieldId (used by list fields only)
  std::vector<uint8_t> is_list;           // per FieldId: in_list or list_leaf
  std::vector<uint8_t> started;           // per FieldId, per record
  std::vector<ir::FieldId> list_fields;
  uint32_t stamp = 0;

  od::parser parser;
  std::vector<std::unique_ptr<od::parser>> sub_parsers;  // for values two trie nodes need (rare)
  size_t sub_next = 0;
  const char* rec_end = nullptr;  // end of the current record's readable bytes (data + size + padding)

  error_code err = simdjson::SUCCESS;
  InputErrorKind err_kind = InputErrorKind::MalformedJson;
  std::string_view err_text;

  std::string own;  // extract_json's padded copy

  // ---- build
  uint32_t child_field(uint32_t n, const std::string& name) {
    for (auto& c : nodes[n].fields)
      if (c.name == name) return c.node;
    uint32_t id = static_cast<uint32_t>(nodes.size());
    nodes.emplace_back();
    nodes[n].fields.push_back(FieldChild{name, id, 0});
    return id;
  }
  uint32_t child_index(uint32_t n, int64_t index) {
    for (auto& c : nodes[n].indices)
      if (c.index == index) return c.node;
    uint32_t id = static_cast<uint32_t>(nodes.size());
    nodes.emplace_back();
    nodes[n].indices.push_back(IndexChild{index, id});
    return id;
  }
  uint32_t child_any(uint32_t n) {
    if (nodes[n].any != kNil) return nodes[n].any;
    uint32_t id = static_cast<uint32_t>(nodes.size());
    nodes.emplace_back();
    nodes[n].any = id;
    return id;
  }

  void build(std::vector<bool> list_leaf) {
    nodes.clear();
    nodes.emplace_back();
    size_t nf = paths.size();
    values.assign(nf, Value());
    lists.assign(nf, {});
    is_list.assign(nf, 0);
    started.assign(nf, 0);
    for (size_t f = 0; f < nf; ++f) {
      uint32_t n = 0;
      bool in_list = false;
      uint32_t outer_any_parent = kNil;
      for (const auto& seg : paths[f].segs) {
        switch (seg.kind) {
          case ir::PathSeg::Kind::Field: n = child_field(n, seg.name); break;
          case ir::PathSeg::Kind::Index: n = child_index(n, seg.index); break;
          case ir::PathSeg::Kind::Any:
            if (!in_list) outer_any_parent = n;
            n = child_any(n);
            in_list = true;
            break;
        }
        nodes[n].in_list = in_list;
      }
      if (n == 0) continue;  // an empty path reads nothing
      if (nodes[n].leaf != kNil) {
        // Two FieldIds with equal segments (not expected from ir::Program): the later one copies the first.
        continue;
      }
      nodes[n].leaf = static_cast<ir::FieldId>(f);
      bool ll = f < list_leaf.size() && list_leaf[f];
      nodes[n].list_leaf = ll;
      if (in_list || ll) {
        is_list[f] = 1;
        list_fields.push_back(static_cast<ir::FieldId>(f));
      }
      if (outer_any_parent != kNil) nodes[outer_any_parent].start_lists.push_back(static_cast<ir::FieldId>(f));
    }
    for (auto& node : nodes) {
      std::sort(node.indices.begin(), node.indices.end(),
                [](const IndexChild& a, const IndexChild& b) { return a.index < b.index; });
      if (node.fields.size() > 8) {
        size_t size = 16;
        while (size < node.fields.size() * 2) size *= 2;
        node.hash.assign(size, kNil);
        node.hash_mask = static_cast<uint32_t>(size - 1);
        for (uint32_t i = 0; i < node.fields.size(); ++i) {
          uint32_t h = key_hash(node.fields[i].name) & node.hash_mask;
          while (node.hash[h] != kNil) h = (h + 1) & node.hash_mask;
          node.hash[h] = i;
        }
      }
    }
  }

  // ---- per record
  bool fail(error_code e) {
    err = e;
    err_kind = e == simdjson::UTF8_ERROR ? InputErrorKind::InvalidUtf8 : InputErrorKind::MalformedJson;
    err_text = simdjson::error_message(e);
    return false;
  }

  uint32_t next_stamp() {
    if (++stamp == 0) {
      for (auto& n : nodes)
        for (auto& c : n.fields) c.seen = 0;
      stamp = 1;
    }
    return stamp;
  }

  uint32_t find_field(const TrieNode& n, std::string_view key) const {
    if (n.hash_mask != 0) {
      uint32_t h = key_hash(key) & n.hash_mask;
      for (;;) {
        uint32_t i = n.hash[h];
        if (i == kNil) return kNil;
        if (n.fields[i].name == key) return i;
        h = (h + 1) & n.hash_mask;
      }
    }
    for (uint32_t i = 0; i < n.fields.size(); ++i) {
      const std::string& name = n.fields[i].name;
      if (name.size() == key.size() && std::memcmp(name.data(), key.data(), key.size()) == 0) return i;
    }
    return kNil;
  }

  void emit(const TrieNode& n, Value v) {
    if (n.in_list) {
      if (!v.is_null()) lists[n.leaf].push_back(v);
    } else {
      values[n.leaf] = v;
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
        // A number simdjson does not hold in 64 bits (an integer beyond uint64): read its text as a double.
        std::string_view tok = v.raw_json_token();
        size_t len = 0;
        while (len < tok.size() && len < 400 && std::strchr("+-0123456789.eE", tok[len]) != nullptr) ++len;
        char text[401];
        std::memcpy(text, tok.data(), len);
        text[len] = '\0';
        char* endp = nullptr;
        double d = std::strtod(text, &endp);
        if (len == 0 || endp != text + len || !std::isfinite(d)) return fail(simdjson::NUMBER_ERROR);
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
    started[n.leaf] = 1;
    for (auto er : a) {
      od::value ev;
      if (auto e = std::move(er).get(ev)) return fail(e);
      od::json_type t;
      if (auto e = ev.type().get(t)) return fail(e);
      Value out;
      if (!read_value(ev, t, out)) return false;
      if (!out.is_null()) lists[n.leaf].push_back(out);
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
    const TrieNode& n = nodes[ni];
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
    const TrieNode& n = nodes[ni];
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
    size_t need = nodes[ni].fields.size();
    for (auto fr : o) {
      od::field f;
      if (auto e = std::move(fr).get(f)) return fail(e);
      // The key as written (between the quotes); escaped keys are unescaped first (rare).
      const char* k = f.key().raw();
      size_t len = 0;
      while (k[len] != '"' && k[len] != '\\') ++len;
      std::string_view key(k, len);
      if (k[len] == '\\') {
        if (auto e = f.unescaped_key().get(key)) return fail(e);
      }
      TrieNode& n = nodes[ni];
      uint32_t ci = find_field(n, key);
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
    for (ir::FieldId f : nodes[ni].start_lists) started[f] = 1;
    int64_t i = 0;
    const uint32_t any = nodes[ni].any;
    const int64_t max_index = nodes[ni].indices.empty() ? -1 : nodes[ni].indices.back().index;
    for (auto er : a) {
      if (any == kNil && i > max_index) break;
      od::value ev;
      if (auto e = std::move(er).get(ev)) return fail(e);
      uint32_t idx = kNil;
      for (const auto& c : nodes[ni].indices) {
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
          if (nodes[any].leaf != kNil) emit(nodes[any], out);
          if (nodes[idx].leaf != kNil) emit(nodes[idx], out);
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

  bool run(const char* data, size_t size) {
    err = simdjson::SUCCESS;
    err_text = {};
    sub_next = 0;
    for (auto& v : values) v = Value();
    for (ir::FieldId f : list_fields) {
      lists[f].clear();
      started[f] = 0;
    }
    rec_end = data + size + simdjson::SIMDJSON_PADDING;
    od::document doc;
    if (!reserve(parser, size)) return false;
    if (auto e = parser.iterate(simdjson::padded_string_view(data, size, size + simdjson::SIMDJSON_PADDING)).get(doc))
      return fail(e);
    od::json_type t;
    if (auto e = doc.type().get(t)) return fail(e);
    if (t != od::json_type::object) {
      err_kind = InputErrorKind::NotObject;
      err_text = "not a JSON object";
      return false;
    }
    od::object o;
    if (auto e = doc.get_object().get(o)) return fail(e);
    if (!visit_object(0, o, true)) return false;
    if (!at_document_end(doc)) {
      err_kind = InputErrorKind::MalformedJson;
      err_text = "trailing content after the JSON object";
      return false;
    }
    for (ir::FieldId f : list_fields) {
      if (started[f]) values[f] = Value::list(lists[f].data(), static_cast<uint32_t>(lists[f].size()));
    }
    return true;
  }

  bool finish(bool ok) {
    if (!ok) {
      for (auto& v : values) v = Value();
    }
    return ok;
  }
};

FieldExtractor::FieldExtractor(const ir::Program& program) : impl_(std::make_unique<Impl>()) {
  impl_->paths = program.fields;
  std::vector<bool> list_leaf(program.fields.size(), false);
  for (const auto& s : program.sources) {
    for (const auto& slot : s.slots) {
      if (slot.field < program.fields.size() && slot.type.kind == ir::Kind::List && !program.fields[slot.field].has_any())
        list_leaf[slot.field] = true;
    }
  }
  impl_->build(std::move(list_leaf));
}

FieldExtractor::FieldExtractor(std::vector<ir::FieldPath> fields, std::vector<bool> list_leaf)
    : impl_(std::make_unique<Impl>()) {
  impl_->paths = std::move(fields);
  impl_->build(std::move(list_leaf));
}

FieldExtractor::~FieldExtractor() = default;
FieldExtractor::FieldExtractor(FieldExtractor&&) noexcept = default;
FieldExtractor& FieldExtractor::operator=(FieldExtractor&&) noexcept = default;

bool FieldExtractor::extract(const Record& record) {
  return impl_->finish(impl_->run(record.data, record.size));
}

bool FieldExtractor::extract_json(std::string_view json) {
  std::string& own = impl_->own;
  own.assign(json);
  own.append(simdjson::SIMDJSON_PADDING, ' ');
  return impl_->finish(impl_->run(own.data(), json.size()));
}

std::span<const Value> FieldExtractor::values() const { return impl_->values; }
size_t FieldExtractor::field_count() const { return impl_->values.size(); }
InputErrorKind FieldExtractor::error_kind() const { return impl_->err_kind; }
std::string_view FieldExtractor::error() const { return impl_->err_text; }
size_t FieldExtractor::trie_size() const { return impl_->nodes.size(); }

std::optional<ir::FieldPath> FieldExtractor::parse_path(std::string_view text) {
  ir::FieldPath p;
  p.text = std::string(text);
  size_t i = 0, n = text.size();
  auto ident = [&](std::string& out) {
    if (i >= n || !is_ident_start(text[i])) return false;
    size_t b = i;
    while (i < n && is_ident_char(text[i])) ++i;
    out.assign(text.substr(b, i - b));
    return true;
  };
  ir::PathSeg first;
  if (!ident(first.name)) return std::nullopt;
  p.segs.push_back(first);
  while (i < n) {
    ir::PathSeg s;
    if (text[i] == '.') {
      ++i;
      if (i < n && text[i] == '"') {
        ++i;
        std::string name;
        bool closed = false;
        while (i < n) {
          char c = text[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\' && i < n) c = text[i++];
          name += c;
        }
        if (!closed) return std::nullopt;
        s.name = std::move(name);
      } else if (!ident(s.name)) {
        return std::nullopt;
      }
      s.kind = ir::PathSeg::Kind::Field;
    } else if (text[i] == '[') {
      ++i;
      if (i < n && text[i] == '*') {
        ++i;
        s.kind = ir::PathSeg::Kind::Any;
      } else {
        if (i >= n || text[i] < '0' || text[i] > '9') return std::nullopt;
        int64_t v = 0;
        while (i < n && text[i] >= '0' && text[i] <= '9') {
          if (v > (INT64_MAX - 9) / 10) return std::nullopt;
          v = v * 10 + (text[i++] - '0');
        }
        s.kind = ir::PathSeg::Kind::Index;
        s.index = v;
      }
      if (i >= n || text[i] != ']') return std::nullopt;
      ++i;
    } else {
      return std::nullopt;
    }
    p.segs.push_back(std::move(s));
  }
  return p;
}

}  // namespace braid::rt
