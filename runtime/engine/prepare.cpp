#include "engine/prepare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "engine/engine.h"
#include "engine/value_codec.h"

namespace braid::rt {

using ir::NodeId;
using ir::Op;

std::string Where::str() const {
  if (rd) return rd->where(origin);
  std::string_view n = name.empty() ? std::string_view("<input>") : name;
  return line ? fmt::format("{}:{}", n, line) : std::string(n);
}

bool subtree_has(const ir::Program& p, NodeId id, Op op) {
  if (id == ir::kNoNode) return false;
  const ir::Node& n = p.node(id);
  if (n.op == op) return true;
  for (NodeId o : p.ops(n))
    if (subtree_has(p, o, op)) return true;
  return false;
}

void sort_match_ids(uint32_t* ids, uint32_t n, size_t universe, std::vector<uint64_t>& bits) {
  const size_t words = (universe + 63) / 64;
  if (n < 64 || words > size_t{n} * 4) {
    std::sort(ids, ids + n);
    return;
  }
  bits.assign(words, 0);
  for (uint32_t i = 0; i < n; ++i) bits[ids[i] >> 6] |= uint64_t{1} << (ids[i] & 63);
  uint32_t k = 0;
  for (size_t w = 0; w < words; ++w)
    for (uint64_t b = bits[w]; b; b &= b - 1) ids[k++] = static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(b)));
}

namespace {

// While a batch fills, Values hold offsets (into Batch::bytes, Batch::values) in their pointer members.
const char* off_ptr(size_t off) { return reinterpret_cast<const char*>(static_cast<uintptr_t>(off)); }
size_t ptr_off(const void* p) { return static_cast<size_t>(reinterpret_cast<uintptr_t>(p)); }

}  // namespace

Preparer::Preparer(const ir::Program& program, const ir::MatchPlan& plan, std::shared_ptr<PredicateMatcher> matcher,
                   bool match_predicates)
    : p_(program), plan_(plan), matcher_(std::move(matcher)), in_(program), ex_(program), conv_(program),
      zips_(program) {
  if (!zips_.empty()) zip_vals_.resize(p_.fields.size());
  size_t max_slots = 0;
  for (const auto& s : p_.sources) max_slots = std::max(max_slots, s.slots.size());
  conv_buf_.resize(max_slots + 1);
  slot_stamp_.assign(max_slots + 1, 0);
  recognize_slots_.resize(p_.sources.size());
  match_here_.assign(p_.sources.size(), 0);
  size_t most = 0;
  for (size_t s = 0; s < p_.sources.size(); ++s) {
    std::vector<NodeId> stack{p_.sources[s].recognize};
    auto& out = recognize_slots_[s];
    while (!stack.empty()) {
      NodeId id = stack.back();
      stack.pop_back();
      if (id == ir::kNoNode) continue;
      const ir::Node& n = p_.node(id);
      if (n.op == Op::Field) {
        uint32_t slot = in_.field_slots(static_cast<uint32_t>(s))[static_cast<size_t>(n.imm)];
        if (slot != ir::kNone && std::find(out.begin(), out.end(), slot) == out.end()) out.push_back(slot);
      }
      for (NodeId o : p_.ops(n)) stack.push_back(o);
    }
    // Predicates are matched here only when none of the source's reads session or chain attributes (which only
    // the ordered half knows), and only with a compiled matcher.
    bool stateless = true;
    for (const ir::Predicate& pr : plan_.sources[s].predicates) stateless = stateless && !subtree_has(p_, pr.node, Op::Attr);
    match_here_[s] = match_predicates && matcher_ && stateless;
    most = std::max(most, plan_.sources[s].predicates.size());
  }
  match_buf_.resize(most + 1);

  // JSON documents: one extractor per base field over the paths read from it. Two paths that become the same
  // path with different extraction (`a[*]` as a list and `a` itself) go to a second extractor of that base.
  source_docs_.resize(p_.sources.size());
  for (size_t s = 0; s < p_.sources.size(); ++s) {
    for (const ir::Slot& slot : p_.sources[s].slots) {
      const ir::FieldPath& fp = p_.fields[slot.field];
      if (!fp.in_json()) continue;
      ir::FieldPath rel;
      rel.segs = fp.segs;
      bool list_leaf = !rel.segs.empty() && rel.segs.back().kind == ir::PathSeg::Kind::Any;
      if (list_leaf) rel.segs.pop_back();
      rel.text = fp.text;
      uint32_t d = 0;
      bool placed = false;
      for (; d < json_docs_.size(); ++d) {
        JsonDoc& doc = json_docs_[d];
        if (doc.base != fp.json_base) continue;
        if (std::find(doc.fields.begin(), doc.fields.end(), slot.field) != doc.fields.end()) {
          placed = true;
          break;
        }
        bool clash = false;
        for (const auto& q : doc.paths) clash = clash || q.segs == rel.segs;
        if (clash) continue;
        doc.paths.push_back(rel);
        doc.list_leaf.push_back(list_leaf);
        doc.fields.push_back(slot.field);
        placed = true;
        break;
      }
      if (!placed) {
        JsonDoc doc;
        doc.base = fp.json_base;
        doc.paths.push_back(rel);
        doc.list_leaf.push_back(list_leaf);
        doc.fields.push_back(slot.field);
        json_docs_.push_back(std::move(doc));
      }
      auto& mine = source_docs_[s];
      if (std::find(mine.begin(), mine.end(), d) == mine.end()) mine.push_back(d);
    }
  }
  for (JsonDoc& doc : json_docs_) doc.ex = std::make_unique<FieldExtractor>(doc.paths, doc.list_leaf);
  if (!json_docs_.empty()) {
    json_vals_.resize(p_.fields.size());
    json_one_.resize(p_.fields.size());
  }
}

void Preparer::read_json_docs(uint32_t s, std::span<const Value> fields) {
  for (uint32_t d : source_docs_[s]) {
    JsonDoc& doc = json_docs_[d];
    // The event extractor may have read these paths at the top of the record: they belong to the document.
    for (ir::FieldId f : doc.fields) json_vals_[f] = Value::null();
    const Value& text = fields[doc.base];
    if (text.tag != Tag::String) continue;  // missing, null, or not a string: every path reads null
    if (text.len > kMaxJsonDocument || !doc.ex->extract_json(text.str())) {
      ++json_rejected_;
      continue;
    }
    auto vals = doc.ex->values();
    for (size_t i = 0; i < doc.fields.size(); ++i) {
      ir::FieldId f = doc.fields[i];
      Value v = vals[i];
      if (doc.list_leaf[i] && !v.is_null() && v.tag != Tag::List) {
        json_one_[f] = v;
        v = Value::list(&json_one_[f], 1);
      }
      json_vals_[f] = v;
    }
  }
}

// Copies v into b.values[at] (already there), its strings appended to b.bytes and its list items to b.values. In
// an appending batch (whose buffers do not move) pointers are written at once; otherwise offsets, which finish()
// turns into pointers.
void Preparer::copy_into(Batch& b, size_t at, const Value& v) {
  Value x = v;
  if (v.tag == Tag::String || v.tag == Tag::Json) {
    x.s = b.appending ? b.bytes.data() + b.bytes.size() : off_ptr(b.bytes.size());
    b.bytes.append(v.s, v.len);
  } else if (v.tag == Tag::List) {
    size_t base = b.values.size();
    b.values.resize(base + v.len);
    for (uint32_t i = 0; i < v.len; ++i) copy_into(b, base + i, v.items[i]);
    x.items = b.appending ? b.values.data() + base : reinterpret_cast<const Value*>(off_ptr(base));
  }
  b.values[at] = x;
}

namespace {
// The bytes and values a deep copy of v takes (copy_into).
void measure(const Value& v, size_t& bytes, size_t& values) {
  if (v.tag == Tag::String || v.tag == Tag::Json) {
    bytes += v.len;
  } else if (v.tag == Tag::List) {
    values += v.len;
    for (uint32_t i = 0; i < v.len; ++i) measure(v.items[i], bytes, values);
  }
}
}  // namespace

void Preparer::run(Batch& b) {
  for (const BatchInput::Raw& r : b.input->records) {
    Record rec;
    rec.data = b.input->raw.data() + r.off;
    rec.size = r.len;
    prepare(&rec, {}, r.where);
    emit(b);
  }
  finish(b, true);
}

void Preparer::run_one(Batch& b, const Record* rec, std::string_view json, const Where& where) {
  prepare(rec, json, where);
  emit(b);
  finish(b, false);
}

void Preparer::finish(Batch& b, bool count_mismatches) {
  if (count_mismatches) {
    b.type_mismatches = mismatches() - mismatches_seen_;
    mismatches_seen_ = mismatches();
    if (matcher_) {
      MatcherCounters now = matcher_->counters();
      b.matcher = now - matcher_seen_;
      matcher_seen_ = now;
    }
  }
  // Offsets become pointers now that the buffers have their final size.
  for (Value& v : b.values) {
    if (v.tag == Tag::String || v.tag == Tag::Json) v.s = b.bytes.data() + ptr_off(v.s);
    else if (v.tag == Tag::List) v.items = b.values.data() + ptr_off(v.items);
  }
  for (PreparedEvent& e : b.events) {
    e.batch = &b;
    if (e.raw_size) e.raw = std::string_view(b.bytes.data() + e.raw_off, e.raw_len);
    if (e.kind == PreparedEvent::Kind::Event) {
      e.sparse_values = b.values.data() + e.slots_off;
      e.sparse_slots = b.slot_ids.data() + e.sparse_off;
      e.id = std::string_view(b.bytes.data() + e.id_off, e.id_len);
      if (e.has_matches) e.matches = b.matches.data() + e.match_off;
    } else if (e.kind == PreparedEvent::Kind::Malformed) {
      e.error = std::string_view(b.bytes.data() + e.id_off, e.id_len);
    }
  }
}

size_t Preparer::raw_kept() const {
  if (cur_.kind == PreparedEvent::Kind::Event)
    return keep_events_ && cur_raw_.size() <= kMaxAlertEventBytes ? cur_raw_.size() : 0;
  return keep_bad_ ? std::min(cur_raw_.size(), kMaxBadRecordBytes) : 0;
}

// What emit() will append for the record prepared last.
void Preparer::need(size_t& bytes, size_t& values, size_t& matches) const {
  bytes = raw_kept();
  values = matches = 0;
  if (cur_.kind == PreparedEvent::Kind::Malformed) {
    bytes += cur_err_.size();
  } else if (cur_.kind == PreparedEvent::Kind::Event) {
    bytes += cur_id_.size();
    matches = cur_nmatches_;
    values = cur_slots_.size();
    for (uint32_t slot : cur_slots_) measure(conv_buf_[slot], bytes, values);
  }
}

bool Preparer::fits(const Batch& b) const {
  size_t bytes, values, matches;
  need(bytes, values, matches);
  return b.events.size() < b.events.capacity() && b.values.size() + values <= b.values.capacity() &&
         b.bytes.size() + bytes <= b.bytes.capacity() && b.matches.size() + matches <= b.matches.capacity() &&
         b.slot_ids.size() + cur_slots_.size() <= b.slot_ids.capacity();
}

void Preparer::reserve(Batch& b) const {
  // About 256 events of a typical CloudTrail record (20 slots, 400 bytes of strings). Small enough that a batch
  // kept alive by its last held event does not pin much more than the held events themselves.
  constexpr size_t kEvents = 256, kValues = 256 * 24, kBytes = 256 * 512, kMatches = 1024, kSlotIds = 256 * 24;
  size_t bytes, values, matches;
  need(bytes, values, matches);
  b.appending = true;
  b.events.reserve(kEvents);
  b.values.reserve(std::max(kValues, values));
  b.bytes.reserve(std::max(kBytes, bytes));
  b.matches.reserve(std::max(kMatches, matches));
  b.slot_ids.reserve(std::max(kSlotIds, cur_slots_.size()));
}

PreparedEvent& Preparer::emit(Batch& b) {
  PreparedEvent e = cur_;
  e.batch = &b;
  if (e.kind == PreparedEvent::Kind::Event ? keep_events_ : keep_bad_) {
    const size_t kept = raw_kept();
    e.raw_size = cur_raw_.size();
    e.raw_off = static_cast<uint32_t>(b.bytes.size());
    e.raw_len = static_cast<uint32_t>(kept);
    b.bytes.append(cur_raw_.substr(0, kept));
    if (b.appending) e.raw = std::string_view(b.bytes.data() + e.raw_off, kept);
  }
  if (e.kind == PreparedEvent::Kind::Malformed) {
    e.id_off = static_cast<uint32_t>(b.bytes.size());
    e.id_len = static_cast<uint32_t>(cur_err_.size());
    b.bytes.append(cur_err_);
    if (b.appending) e.error = std::string_view(b.bytes.data() + e.id_off, e.id_len);
  } else if (e.kind == PreparedEvent::Kind::Event) {
    e.id_off = static_cast<uint32_t>(b.bytes.size());
    e.id_len = static_cast<uint32_t>(cur_id_.size());
    b.bytes.append(cur_id_);
    if (e.has_matches) {
      e.match_off = static_cast<uint32_t>(b.matches.size());
      b.matches.insert(b.matches.end(), match_buf_.begin(), match_buf_.begin() + cur_nmatches_);
    }
    // The non-null slots, deep-copied: first the values themselves (contiguous), then what lists point to.
    const uint32_t n = static_cast<uint32_t>(cur_slots_.size());
    e.nsparse = n;
    e.sparse_off = static_cast<uint32_t>(b.slot_ids.size());
    b.slot_ids.insert(b.slot_ids.end(), cur_slots_.begin(), cur_slots_.end());
    e.slots_off = static_cast<uint32_t>(b.values.size());
    b.values.resize(b.values.size() + n);
    for (uint32_t k = 0; k < n; ++k) copy_into(b, e.slots_off + k, conv_buf_[cur_slots_[k]]);
    if (b.appending) {
      e.sparse_values = b.values.data() + e.slots_off;
      e.sparse_slots = b.slot_ids.data() + e.sparse_off;
      e.id = std::string_view(b.bytes.data() + e.id_off, e.id_len);
      if (e.has_matches) e.matches = b.matches.data() + e.match_off;
    }
  }
  b.events.push_back(e);
  return b.events.back();
}

// The routed source's slots into conv_buf_ (the others Null), their non-null ones listed in cur_slots_. Only the
// slots of fields the record has (the extractor's touched fields, and the paths read from JSON documents) are
// converted: every other field is Null, and a Null slot is never a mismatch. A source has one slot per field
// (the checker builds them so; the pack reader refuses anything else), so the field's slot is the slot.
void Preparer::convert_routed(uint32_t s, std::span<const Value> fields) {
  for (uint32_t slot : conv_dirty_) conv_buf_[slot] = Value();
  conv_dirty_.clear();
  cur_slots_.clear();
  if (++stamp_ == 0) {
    std::fill(slot_stamp_.begin(), slot_stamp_.end(), 0);
    stamp_ = 1;
  }
  const uint32_t* field_slot = in_.field_slots(s);
  auto add = [&](ir::FieldId f, const Value& from) {
    uint32_t slot = field_slot[f];
    if (slot == ir::kNone || slot_stamp_[slot] == stamp_) return;
    slot_stamp_[slot] = stamp_;  // also for a null: a document's missing path is not read from the record's top
    if (from.is_null()) return;  // a null converts to null and is never a mismatch
    Value v = conv_.convert_slot(s, slot, from);
    if (v.is_null()) return;
    conv_buf_[slot] = v;
    conv_dirty_.push_back(slot);
    cur_slots_.push_back(slot);
  };
  // The documents' paths first: the record's own value of such a path (read at its top level) does not count.
  for (uint32_t d : source_docs_[s])
    for (ir::FieldId f : json_docs_[d].fields) add(f, json_vals_[f]);
  for (ir::FieldId f : ex_.touched()) add(f, fields[f]);
  for (ir::FieldId z : zips_.fields_of(s)) add(z, zip_vals_[z]);
}

void Preparer::read_zips(uint32_t s, std::span<const Value> fields) {
  zips_.begin_event();
  for (ir::FieldId z : zips_.fields_of(s)) {
    ir::FieldId anchor = p_.fields[z].zip_anchor;
    const Value& elements = p_.fields[anchor].in_json() ? json_vals_[anchor] : fields[anchor];
    zip_vals_[z] = elements.tag == Tag::List ? zips_.read(s, z, elements, conv_) : Value::null();
  }
}

void Preparer::prepare(const Record* rec, std::string_view json, const Where& where) {
  PreparedEvent& e = cur_;
  e = PreparedEvent();
  e.where = where;
  cur_id_ = {};
  cur_nmatches_ = 0;
  cur_raw_ = rec ? rec->json() : json;
  if (!(rec ? ex_.extract(*rec) : ex_.extract_json(json))) {
    e.kind = PreparedEvent::Kind::Malformed;
    e.error_kind = ex_.error_kind();
    cur_err_ = ex_.error();
    return;
  }
  conv_.begin_event();
  in_.reset();
  auto fields = ex_.values();
  // Route: the first source, in program order, whose `recognize` holds (evaluated on the fields it reads,
  // converted to that source's schema; the full conversion happens for the chosen source only).
  uint32_t s = 0;
  for (; s < p_.sources.size(); ++s) {
    const ir::Source& src = p_.sources[s];
    if (src.recognize == ir::kNoNode) continue;
    for (uint32_t slot : recognize_slots_[s]) {
      conv_buf_[slot] = conv_.convert_value(fields[src.slots[slot].field], src.slots[slot].type);
      conv_dirty_.push_back(slot);
    }
    int hit = matcher_ ? matcher_->recognize(in_, s, conv_buf_.data()) : -1;
    if (hit < 0) {
      EvalContext ctx{conv_buf_.data(), in_.field_slots(s), nullptr};
      hit = in_.test(src.recognize, ctx) ? 1 : 0;
    }
    if (hit) break;
  }
  if (s == p_.sources.size()) {
    e.kind = PreparedEvent::Kind::Unrouted;
    return;
  }
  const ir::Source& src = p_.sources[s];
  if (!source_docs_[s].empty()) read_json_docs(s, fields);
  if (!zips_.fields_of(s).empty()) read_zips(s, fields);
  convert_routed(s, fields);
  e.source = s;
  auto clause = [&](NodeId id) {
    if (id == ir::kNoNode) return Value::null();
    Value v;
    if (matcher_ && matcher_->eval(in_, s, id, conv_buf_.data(), v)) return v;
    EvalContext ctx{conv_buf_.data(), in_.field_slots(s), nullptr};
    return in_.eval(id, ctx);
  };
  Value tv = clause(src.time);
  if (tv.tag != Tag::Time) {
    e.kind = PreparedEvent::Kind::NoTime;
    return;
  }
  e.time = tv.i;
  // The event id: the source's `id`, else a hash of the converted slot values.
  Value iv = clause(src.id);
  if (iv.tag == Tag::String) {
    id_buf_.assign(iv.s, iv.len);  // a copy: the predicates matched below may reuse the interpreter's buffers
    cur_id_ = id_buf_;
  } else {
    scratch_.clear();
    for (size_t i = 0; i < src.slots.size(); ++i) encode(conv_buf_[i], scratch_);
    id_buf_.clear();
    fmt::format_to(std::back_inserter(id_buf_), "h{:016x}", fnv1a(scratch_));
    cur_id_ = id_buf_;
  }
  if (match_here_[s]) {
    uint32_t n = matcher_->match(in_, s, conv_buf_.data(), nullptr, match_buf_.data());
    sort_match_ids(match_buf_.data(), n, plan_.sources[s].predicates.size(), id_bits_);
    cur_nmatches_ = n;
    e.nmatches = n;
    e.has_matches = true;
  }
}

}  // namespace braid::rt
