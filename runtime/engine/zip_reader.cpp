#include "engine/zip_reader.h"

#include <algorithm>
#include <cstring>

namespace braid::rt {

ZipReader::ZipReader(const ir::Program& p) : p_(p), plans_(p.fields.size()), by_source_(p.sources.size()) {
  bool any = false;
  for (size_t z = 0; z < p.fields.size(); ++z) {
    const ir::FieldPath& f = p.fields[z];
    if (!f.is_zip()) continue;
    any = true;
    const std::vector<ir::PathSeg>& anchor = p.fields[f.zip_anchor].segs;
    auto plan = std::make_unique<Plan>();
    std::vector<ir::FieldPath> paths;
    std::vector<bool> list_leaf;
    for (ir::FieldId m : f.zip) {
      const ir::FieldPath& mf = p.fields[m];
      const ir::FieldPath& path = mf.is_zip() ? p.fields[mf.zip_anchor] : mf;
      Member mem;
      mem.field = m;
      ir::FieldPath rel;
      rel.segs.assign(path.segs.begin() + static_cast<std::ptrdiff_t>(anchor.size()), path.segs.end());
      rel.text = path.text;
      // In a JSON document a path ending in [*] reads a single value as a list of one, as read_json_docs does.
      bool ll = !mf.is_zip() && f.zip_anchor < p.fields.size() && p.fields[f.zip_anchor].in_json() &&
                !rel.segs.empty() && rel.segs.back().kind == ir::PathSeg::Kind::Any;
      mem.list = std::any_of(rel.segs.begin(), rel.segs.end(),
                             [](const ir::PathSeg& g) { return g.kind == ir::PathSeg::Kind::Any; });
      if (ll) rel.segs.pop_back();
      mem.list_of_one = ll;
      if (!rel.segs.empty()) {
        uint32_t i = 0;
        while (i < paths.size() && !(paths[i].segs == rel.segs && list_leaf[i] == ll)) ++i;
        if (i == paths.size()) {
          paths.push_back(std::move(rel));
          list_leaf.push_back(ll);
        }
        mem.path = i;
      }
      plan->members.push_back(mem);
    }
    plan->ex = std::make_unique<FieldExtractor>(std::move(paths), std::move(list_leaf));
    plans_[z] = std::move(plan);
  }
  if (!any) {
    plans_.clear();
    return;
  }
  // A zipped field nested in another is read through it, not from a slot of its own.
  for (size_t s = 0; s < p.sources.size(); ++s)
    for (const ir::Slot& slot : p.sources[s].slots)
      if (slot.field < p.fields.size() && p.fields[slot.field].is_zip()) by_source_[s].push_back(slot.field);
}

ZipReader::~ZipReader() = default;

const ZipReader::Plan* ZipReader::plan(ir::FieldId z) const {
  return z < plans_.size() ? plans_[z].get() : nullptr;
}

void ZipReader::begin_event() {
  block_ = 0;
  used_ = 0;
}

char* ZipReader::bytes(size_t n) {
  n = (n + 15) & ~size_t{15};  // keeps Values aligned
  while (block_ < blocks_.size() && used_ + n > blocks_[block_].size) {
    ++block_;
    used_ = 0;
  }
  if (block_ == blocks_.size()) {
    Block b;
    b.size = std::max<size_t>(n, 64 << 10);
    b.mem = std::make_unique<char[]>(b.size);
    blocks_.push_back(std::move(b));
    used_ = 0;
  }
  char* at = blocks_[block_].mem.get() + used_;
  used_ += n;
  return at;
}

Value* ZipReader::values(size_t n) {
  auto* v = reinterpret_cast<Value*>(bytes(n * sizeof(Value)));
  for (size_t i = 0; i < n; ++i) new (v + i) Value();
  return v;
}

Value ZipReader::copy(const Value& v) {
  Value x = v;
  if (v.tag == Tag::String || v.tag == Tag::Json) {
    char* b = bytes(v.len);
    if (v.len) std::memcpy(b, v.s, v.len);
    x.s = b;
  } else if (v.tag == Tag::List) {
    Value* items = values(v.len);
    for (uint32_t i = 0; i < v.len; ++i) items[i] = copy(v.items[i]);
    x.items = items;
  }
  return x;
}

Value ZipReader::read(uint32_t s, ir::FieldId z, const Value& anchor, SlotConverter& conv) {
  return read_plan(s, z, anchor, conv);
}

Value ZipReader::read_plan(uint32_t s, ir::FieldId z, const Value& anchor, SlotConverter& conv) {
  const Plan* pl = plan(z);
  if (!pl || anchor.tag != Tag::List) return Value::null();
  const ir::Source& src = p_.sources[s];
  const size_t k = pl->members.size();
  Value* items = values(anchor.len);
  for (uint32_t i = 0; i < anchor.len; ++i) {
    const Value& e = anchor.items[i];
    // Only an object has members; an element that is not one reads null in every member but itself.
    bool read = e.tag == Tag::Json && e.len > 0 && e.s[0] == '{' && pl->ex->extract_json(e.str());
    std::span<const Value> vals = read ? pl->ex->values() : std::span<const Value>{};
    // The members' raw values first: a nested zipped member runs its own extractor, never this one.
    Value* tuple = values(k);
    for (size_t m = 0; m < k; ++m) {
      const Member& mem = pl->members[m];
      Value raw = mem.path == UINT32_MAX ? e : mem.path < vals.size() ? vals[mem.path] : Value::null();
      if (mem.list_of_one && !raw.is_null() && raw.tag != Tag::List) {
        Value* one = values(1);
        one[0] = raw;
        raw = Value::list(one, 1);
      }
      if (p_.fields[mem.field].is_zip()) {
        tuple[m] = raw;  // read below, once this element's values are copied
        continue;
      }
      // The member's slot holds the flattened list over all elements: a list member converts as that list, a
      // single value as its element (lists and objects inside stay as read, as in the flattened list).
      uint32_t slot = src.slot_of(mem.field);
      Value v = raw;
      if (slot != ir::kNone) {
        ir::Type t = src.slots[slot].type;
        if (mem.list) v = conv.convert_value(raw, t);
        else if (t.kind == ir::Kind::List && t.elem != ir::Kind::List && t.elem != ir::Kind::Object && t.elem != ir::Kind::Error)
          v = conv.convert_value(raw, ir::Type::of(t.elem));
      }
      tuple[m] = copy(v);
    }
    for (size_t m = 0; m < k; ++m) {
      const Member& mem = pl->members[m];
      if (!p_.fields[mem.field].is_zip()) continue;
      Value nested_anchor = copy(tuple[m]);  // this extractor's buffer: copied before the nested one runs
      tuple[m] = read_plan(s, mem.field, nested_anchor, conv);
    }
    items[i] = Value::list(tuple, static_cast<uint32_t>(k));
  }
  return Value::list(items, anchor.len);
}

}  // namespace braid::rt
