// The stateless half of the engine: records in, prepared events out, in batches.
//
// Everything an event needs that does not depend on other events happens here: JSON extraction, routing to the
// first source whose `recognize` holds, conversion to the source's schema, the event time and id, and (when the
// engine runs several threads) the rule predicates that read no session state. The result is owned by the batch
// (slot values deep-copied into it), so it can be held in a reorder buffer after the extractor has moved on.
//
// Batches are what the worker threads work on: the engine's ordered half (sessions, chains, rule state: see
// engine_impl.h) consumes prepared batches strictly in input order, so the alerts are the same whatever the number
// of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/interp.h"
#include "engine/matcher.h"
#include "engine/zip_reader.h"
#include "input/convert.h"
#include "input/extract.h"
#include "input/reader.h"
#include "ir/match_plan.h"

namespace braid::rt {

// Where a record came from, rendered only when a warning needs it (no per-event formatting).
struct Where {
  std::string_view name;
  uint64_t line = 0;
  RecordReader* rd = nullptr;  // records from a reader: warnings go back through it (RecordReader::report)
  RecordOrigin origin;
  std::string str() const;
};

struct Batch;

// Whether the expression `id` contains a node of kind `op` (e.g. Op::Attr: it reads session or chain attributes).
bool subtree_has(const ir::Program& p, ir::NodeId id, ir::Op op);

// Sorts the distinct predicate ids a matcher returned (in its dispatch order) ascending, below `universe` (the
// source's predicate count). Many ids (many rules sharing a step) are sorted through a bitmap in `bits`.
void sort_match_ids(uint32_t* ids, uint32_t n, size_t universe, std::vector<uint64_t>& bits);

struct PreparedEvent {
  enum class Kind : uint8_t { Event, Malformed, Unrouted, NoTime };
  Kind kind = Kind::Event;
  InputErrorKind error_kind = InputErrorKind::MalformedJson;  // Malformed
  uint32_t source = 0;                                        // Event, NoTime
  int64_t time = 0;
  Where where;
  std::string_view id;        // Event: the event id (into the batch)
  std::string_view error;     // Malformed: the extractor's message (into the batch)
  // Event: the converted slots of `source`. Prepared events keep only their non-null slots (`nsparse` of them:
  // sparse_slots[k] is the slot of sparse_values[k], into the batch), since a source may declare hundreds of slots
  // of which an event has a few dozen; the engine expands them when it processes the event (expand_slots()).
  // Events restored from a checkpoint have all of them in `slots` instead (then non-null).
  const Value* slots = nullptr;
  const Value* sparse_values = nullptr;
  const uint32_t* sparse_slots = nullptr;
  uint32_t nsparse = 0;
  bool has_matches = false;           // the predicates were matched here (they read no session state)
  const uint32_t* matches = nullptr;  // then: the ids of those of `source` that hold, ascending
  uint32_t nmatches = 0;
  Batch* batch = nullptr;
  uint64_t seq = 0;           // arrival order (ties in event time)
  // The record's text (into the batch), kept only when asked (Preparer::keep_raw): events' with alert events on
  // (empty when larger than kMaxAlertEventBytes), bad records' with a bad-record handler (cut at
  // kMaxBadRecordBytes). raw_size: the whole record's size (0: its text was not kept).
  std::string_view raw;
  uint64_t raw_size = 0;
  // Offsets while the batch is being filled (pointers are set once it is complete: its buffers may move).
  uint32_t id_off = 0, id_len = 0, slots_off = 0, match_off = 0, sparse_off = 0, raw_off = 0, raw_len = 0;
};

// Writes the slots of a sparse event into `dense` (the source's slot count; its other entries are left alone, so
// pass them Null).
inline void expand_slots(const PreparedEvent& e, Value* dense) {
  for (uint32_t k = 0; k < e.nsparse; ++k) dense[e.sparse_slots[k]] = e.sparse_values[k];
}

// The records of a batch, waiting to be prepared: their bytes, each followed by kRecordPadding bytes (simdjson reads
// past the end). Pooled apart from the batch: a batch lives as long as one of its events is held, its input only
// until it is prepared.
struct BatchInput {
  std::string raw;
  struct Raw {
    size_t off = 0, len = 0;
    Where where;
  };
  std::vector<Raw> records;

  void clear() {
    raw.clear();
    records.clear();
  }
  void add(std::string_view json, const Where& where) {
    Raw r;
    r.off = raw.size();
    r.len = json.size();
    r.where = where;
    raw.append(json);
    raw.append(kRecordPadding, ' ');
    records.push_back(r);
  }
};

struct Batch {
  BatchInput* input = nullptr;   // until prepared and admitted (threads > 1)
  // With one thread, events are prepared one at a time and appended to a batch whose buffers never reallocate
  // (`appending`: capacities reserved first, Preparer::fits() checked before each event), so that the events it
  // already holds keep their pointers while more arrive. Many events then share one batch's buffers instead of
  // each held event keeping a batch (and its allocations) of its own.
  bool appending = false;
  std::vector<PreparedEvent> events;
  std::vector<Value> values;    // slot values, then list items
  std::string bytes;            // strings of the values, ids, error messages
  std::vector<uint32_t> matches;
  std::vector<uint32_t> slot_ids;  // PreparedEvent::sparse_slots
  uint64_t type_mismatches = 0;  // counted by this batch's conversion
  MatcherCounters matcher;       // the worker's matcher counters during this batch
  // Consumption.
  uint32_t held = 0;      // events of this batch still in a reorder buffer
  bool consumed = false;  // the ordered half has taken every event
  std::atomic<bool> ready{false};

  void clear() {
    appending = false;
    input = nullptr;
    events.clear();
    values.clear();
    bytes.clear();
    matches.clear();
    slot_ids.clear();
    type_mismatches = 0;
    matcher = {};
    held = 0;
    consumed = false;
    ready.store(false, std::memory_order_relaxed);
  }
};

// One per worker thread (and one for the engine's own thread): its own extractor, converter, interpreter and
// predicate matcher, none of which may be shared.
class Preparer {
 public:
  Preparer(const ir::Program& program, const ir::MatchPlan& plan, std::shared_ptr<PredicateMatcher> matcher,
           bool match_predicates);
  // Prepares every record of the batch's input.
  void run(Batch& b);
  // Prepares one record into the batch (which must hold nothing else): a Record from a reader (padded) or JSON
  // text (copied into a padded buffer by the extractor).
  void run_one(Batch& b, const Record* rec, std::string_view json, const Where& where);
  // One record at a time into an appending batch (Batch::appending): prepare() it, then emit() it into a batch
  // that fits() it (else into a new one, reserve()d for it). The emitted event has its pointers set at once.
  void prepare(const Record* rec, std::string_view json, const Where& where);
  bool fits(const Batch& b) const;
  void reserve(Batch& b) const;
  PreparedEvent& emit(Batch& b);
  // Keep the record text of events (alert events) and of bad records (the bad-record handler) in the batch.
  void keep_raw(bool events, bool bad) {
    keep_events_ = events;
    keep_bad_ = bad;
  }
  // Type mismatches counted by this preparer's conversions so far (run() also puts each batch's share in it),
  // JSON documents that were too large or malformed included (their paths read null).
  uint64_t mismatches() const { return conv_.total_mismatches() + json_rejected_; }

  // The largest JSON document `json(field, type)` parses out of a string (bytes); a longer one reads as null and
  // counts as a type mismatch. The largest AWS policies (KMS key policies) are 32 KiB.
  static constexpr size_t kMaxJsonDocument = 128 * 1024;

 private:
  void finish(Batch& b, bool count_mismatches);
  size_t raw_kept() const;  // the bytes of the current record's text emit() keeps
  void need(size_t& bytes, size_t& values, size_t& matches) const;
  void convert_routed(uint32_t s, std::span<const Value> fields);
  void copy_into(Batch& b, size_t at, const Value& v);  // deep copy, with offsets for pointers
  // The values of the paths into the JSON documents source `s` reads, into json_vals_ (docs/language.md, "JSON
  // inside strings"): each document is parsed once per event, however many rules read it.
  void read_json_docs(uint32_t s, std::span<const Value> fields);
  // The zipped fields source `s` reads (any() over several paths of one element), into zip_vals_.
  void read_zips(uint32_t s, std::span<const Value> fields);

  // A JSON document held by a string field, and the paths read from it. A path ending in `[*]` is extracted
  // without it, as a list (a single value becomes a list of one: IAM's "Action": "s3:*" or [...]).
  struct JsonDoc {
    ir::FieldId base = ir::kNone;
    std::unique_ptr<FieldExtractor> ex;  // over `paths`
    std::vector<ir::FieldPath> paths;    // relative to the document
    std::vector<bool> list_leaf;
    std::vector<ir::FieldId> fields;     // the program's field of each path
  };

  const ir::Program& p_;
  const ir::MatchPlan& plan_;
  std::shared_ptr<PredicateMatcher> matcher_;
  Interpreter in_;
  FieldExtractor ex_;
  SlotConverter conv_;
  std::vector<std::vector<uint32_t>> recognize_slots_;  // per source
  std::vector<uint8_t> match_here_;                     // per source: predicates matched here (read no state)
  std::vector<Value> conv_buf_;         // the routed source's slots, dense (the predicates read them so)
  std::vector<uint32_t> conv_dirty_;    // entries of conv_buf_ that may be non-null (reset before the next event)
  std::vector<uint32_t> cur_slots_;     // the non-null slots of the record prepared last
  std::vector<uint32_t> slot_stamp_;    // per slot: the event that converted it (a field read twice is converted once)
  uint32_t stamp_ = 0;
  std::vector<uint32_t> match_buf_;
  std::vector<uint64_t> id_bits_;  // sort_match_ids' bitmap
  std::string scratch_;
  // The record prepared last (prepare()), until emit() copies it into a batch.
  PreparedEvent cur_;
  std::string_view cur_id_;   // into the extractor's or converter's buffers, or id_buf_
  std::string_view cur_err_;  // the extractor's message
  uint32_t cur_nmatches_ = 0;  // in match_buf_
  std::string id_buf_;
  std::string_view cur_raw_;  // the record's text (the caller's buffer), until emit()
  bool keep_events_ = false, keep_bad_ = false;
  uint64_t mismatches_seen_ = 0;
  MatcherCounters matcher_seen_;
  std::vector<JsonDoc> json_docs_;
  std::vector<std::vector<uint32_t>> source_docs_;  // per source: the documents its slots read
  std::vector<Value> json_vals_;                    // per program field: read_json_docs' values of the paths
  std::vector<Value> json_one_;                     // per program field: the item of a list of one
  uint64_t json_rejected_ = 0;
  ZipReader zips_;
  std::vector<Value> zip_vals_;  // per program field: read_zips' values
};

}  // namespace braid::rt
