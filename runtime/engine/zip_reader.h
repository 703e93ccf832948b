// Zipped fields (ir::FieldPath::zip): `any()`/`all()` over several paths of one element (docs/language.md 9.1).
//
// `any(p[*].x == 1 and p[*].y == 2)` needs x and y of the same element of p, and the event extractor reads each
// path as one flattened list. So each element of the anchor (`p[*]`, objects read as their JSON text) is read
// again by an extractor over the members' paths relative to the element, and the members' values (converted to
// their slots' types) become one item of the zipped list. Only events whose source reads a zipped field pay for
// it; both engines then read the result like any other slot value.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "input/convert.h"
#include "input/extract.h"
#include "ir/ir.h"
#include "value.h"

namespace braid::rt {

class ZipReader {
 public:
  explicit ZipReader(const ir::Program& p);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  // The zipped fields source `s` has slots for (those not nested in another), in slot order.
  std::span<const ir::FieldId> fields_of(uint32_t s) const { return by_source_[s]; }
  bool empty() const { return plans_.empty(); }

  // Call once per event before read(): the previous event's values are released (their memory is kept).
  void begin_event();
  // Zipped field `z` as read by source `s`, from `anchor`, the raw value of its anchor field (a list of the
  // elements). Valid until the next begin_event().
  Value read(uint32_t s, ir::FieldId z, const Value& anchor, SlotConverter& conv);

 private:
  struct Member {
    ir::FieldId field = ir::kNone;  // the member's field (a path, or a nested zipped field)
    uint32_t path = UINT32_MAX;     // its value in the element's extraction; UINT32_MAX: the element itself
    bool list = false;              // its path has a further [*]: a list per element
    bool list_of_one = false;       // in a JSON document, a path ending in [*]: a single value is a list of one
  };
  struct Plan {
    std::vector<Member> members;
    std::unique_ptr<FieldExtractor> ex;  // over the members' paths relative to one element
  };
  const Plan* plan(ir::FieldId z) const;
  Value read_plan(uint32_t s, ir::FieldId z, const Value& anchor, SlotConverter& conv);
  Value copy(const Value& v);  // a deep copy into the arena (the extractor's buffers move on per element)
  Value* values(size_t n);
  char* bytes(size_t n);

  const ir::Program& p_;
  std::vector<std::unique_ptr<Plan>> plans_;          // per program field (null unless zipped)
  std::vector<std::vector<ir::FieldId>> by_source_;

  // Per-event storage: blocks that never move, reused from event to event.
  struct Block {
    std::unique_ptr<char[]> mem;
    size_t size = 0;
  };
  std::vector<Block> blocks_;
  size_t block_ = 0, used_ = 0;
};

}  // namespace braid::rt
