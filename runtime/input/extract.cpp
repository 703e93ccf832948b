// The FieldExtractor's trie (built here, without SIMD flags) and its public methods. The per-record walk with
// simdjson On-Demand is in kernel_impl.cpp, compiled once per SIMD kernel (kernel.h).
#include "input/extract.h"

#include <algorithm>
#include <string>

#include "input/extract_plan.h"
#include "input/kernel.h"

namespace braid::rt {

using detail::FieldChild;
using detail::IndexChild;
using detail::kNil;
using detail::TrieNode;

namespace {
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
}  // namespace

struct FieldExtractor::Impl {
  std::vector<ir::FieldPath> paths;
  std::unique_ptr<detail::ExtractWalker> walker;  // the SIMD kernel's walk, its parsers and the plan
  detail::ExtractPlan& plan;                       // walker->plan(): the trie and the per-record values
  std::string own;                                 // extract_json's padded copy

  Impl() : walker(detail::kernel_for_new_object().make_walker()), plan(walker->plan()) {}

  // ---- build
  uint32_t child_field(uint32_t n, const std::string& name) {
    for (auto& c : plan.nodes[n].fields)
      if (c.name == name) return c.node;
    uint32_t id = static_cast<uint32_t>(plan.nodes.size());
    plan.nodes.emplace_back();
    plan.nodes[n].fields.push_back(FieldChild{name, id, 0, detail::key_words(name)});
    return id;
  }
  uint32_t child_index(uint32_t n, int64_t index) {
    for (auto& c : plan.nodes[n].indices)
      if (c.index == index) return c.node;
    uint32_t id = static_cast<uint32_t>(plan.nodes.size());
    plan.nodes.emplace_back();
    plan.nodes[n].indices.push_back(IndexChild{index, id});
    return id;
  }
  uint32_t child_any(uint32_t n) {
    if (plan.nodes[n].any != kNil) return plan.nodes[n].any;
    uint32_t id = static_cast<uint32_t>(plan.nodes.size());
    plan.nodes.emplace_back();
    plan.nodes[n].any = id;
    return id;
  }

  void build(std::vector<bool> list_leaf) {
    plan.nodes.clear();
    plan.nodes.emplace_back();
    size_t nf = paths.size();
    plan.values.assign(nf, Value());
    plan.lists.assign(nf, {});
    plan.is_list.assign(nf, 0);
    plan.started.assign(nf, 0);
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
        plan.nodes[n].in_list = in_list;
      }
      if (n == 0) continue;  // an empty path reads nothing
      if (plan.nodes[n].leaf != kNil) {
        // Two FieldIds with equal segments (not expected from ir::Program): the later one copies the first.
        continue;
      }
      plan.nodes[n].leaf = static_cast<ir::FieldId>(f);
      bool ll = f < list_leaf.size() && list_leaf[f];
      plan.nodes[n].list_leaf = ll;
      if (in_list || ll) {
        plan.is_list[f] = 1;
        plan.list_fields.push_back(static_cast<ir::FieldId>(f));
      }
      if (outer_any_parent != kNil) plan.nodes[outer_any_parent].start_lists.push_back(static_cast<ir::FieldId>(f));
    }
    for (auto& node : plan.nodes) {
      std::sort(node.indices.begin(), node.indices.end(),
                [](const IndexChild& a, const IndexChild& b) { return a.index < b.index; });
      if (node.fields.size() > 8) {
        size_t size = 16;
        while (size < node.fields.size() * 2) size *= 2;
        node.hash.assign(size, kNil);
        node.hash_mask = static_cast<uint32_t>(size - 1);
        for (uint32_t i = 0; i < node.fields.size(); ++i) {
          uint32_t h = detail::key_hash(node.fields[i].words, node.fields[i].name.size()) & node.hash_mask;
          while (node.hash[h] != kNil) h = (h + 1) & node.hash_mask;
          node.hash[h] = i;
        }
      }
    }
  }

  bool finish(bool ok) {
    if (!ok) {  // every value Null (only those the walk set can be anything else)
      for (ir::FieldId f : plan.touched) plan.values[f] = Value();
      plan.touched.clear();
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
  Impl& m = *impl_;
  return m.finish(m.walker->run(record.data, record.size));
}

bool FieldExtractor::extract_json(std::string_view json) {
  Impl& m = *impl_;
  m.own.assign(json);
  m.own.append(kRecordPadding, ' ');
  return m.finish(m.walker->run(m.own.data(), json.size()));
}

std::span<const Value> FieldExtractor::values() const { return impl_->plan.values; }
size_t FieldExtractor::field_count() const { return impl_->plan.values.size(); }

std::span<const ir::FieldId> FieldExtractor::touched() const { return impl_->plan.touched; }
InputErrorKind FieldExtractor::error_kind() const { return impl_->plan.err_kind; }
std::string_view FieldExtractor::error() const { return impl_->plan.err_text; }
size_t FieldExtractor::trie_size() const { return impl_->plan.nodes.size(); }

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
