// Typed conversion: after an event is routed to a source, the extracted field values are converted to the types
// the source's schema declares (ir::Slot::type), as docs/language.md section 3 ("Conversions from JSON") states.
//
//   declared    accepted JSON values (anything else reads as Null and is counted as a type mismatch)
//   string      String
//   ip, cidr    String (kept as written; the interpreter parses addresses when it needs them)
//   int         Int; a Float with an exact integral value in int64 range (3.0)
//   float       Float; Int (promoted)
//   bool        Bool
//   time        String in a timestamp form parse_timestamp() accepts (else Null + mismatch); Int/Float epoch
//               seconds / ms / us / ns told apart by magnitude (below 1e11 s, 1e14 ms, 1e17 us, else ns)
//   duration    String in the language's duration syntax ("15m", "1h30m", "500ms"); Int as nanoseconds
//   object      anything, unchanged (String, Int, Float, Bool, Json, List)
//   list<T>     List (from `p[*]` paths or list-typed fields): each element converted to T; elements that do
//               not convert are dropped and counted as mismatches. A non-List reads as Null (mismatch).
// Null stays Null and is never a mismatch (a missing field is not a type error).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"
#include "value.h"

namespace braid::rt {

// Parses a timestamp into nanoseconds since the Unix epoch (UTC). Accepted forms:
//   YYYY-MM-DDThh:mm:ss[.f+](Z|z|+hh:mm|-hh:mm|+hhmm|-hhmm|+hh|-hh)    RFC 3339 (and ISO 8601 basic offsets)
//   YYYY-MM-DD hh:mm:ss[.f+][zone]                                      a space instead of T; no zone = UTC
//   YYYY-MM-DDThh:mm:ss[.f+]                                            no zone = UTC
// `t` may also be lower case. The fraction has 1 or more digits; digits beyond 9 are truncated (not rounded).
// Fields are range-checked: month 1-12, day 1-(days in month, leap years per the Gregorian rule), hour 0-23,
// minute 0-59, second 0-60 (a leap second 60 is read as 59.999999999), offset hours 0-23, minutes 0-59; the instant
// must fit int64 nanoseconds (1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z). Anything else
// (leading/trailing characters or spaces, missing parts, a comma as decimal mark, Feb 30, hour 24) -> nullopt.
std::optional<int64_t> parse_timestamp(std::string_view text);

// Epoch numbers: seconds / milliseconds / microseconds / nanoseconds, told apart by magnitude (|v| < 1e11: s,
// < 1e14: ms, < 1e17: us, else ns; for doubles the magnitude of the integral part decides and the fraction is
// truncated to the nanosecond). nullopt when the result does not fit int64 ns (or is NaN/inf).
std::optional<int64_t> epoch_to_ns(int64_t v);
std::optional<int64_t> epoch_to_ns(double v);

// RFC 3339 UTC with the minimal exact fraction in groups of 3 digits: "2024-07-30T21:31:10Z",
// "2024-07-30T21:31:10.123Z", "2024-07-30T21:31:10.123456Z", "2024-07-30T21:31:10.123456789Z".
// Writes at most kTimestampBufferSize bytes (no terminator) and returns the length.
inline constexpr size_t kTimestampBufferSize = 40;
size_t format_timestamp(int64_t ns, char* out);
std::string format_timestamp(int64_t ns);

// The language's duration syntax (docs/language.md 2.6): one or more number-unit parts, units ms s m h d.
std::optional<int64_t> parse_duration(std::string_view text);

// Converts one value to a declared type (list<T> elements included). `mismatch` is set when a non-null value did
// not fit (or, for lists, when some element was dropped). List results are allocated in `arena`.
class SlotConverter {
 public:
  explicit SlotConverter(const ir::Program& program);
  ~SlotConverter();
  SlotConverter(const SlotConverter&) = delete;
  SlotConverter& operator=(const SlotConverter&) = delete;

  // Call once per event, before the convert() calls for that event: releases the list storage of the previous
  // event (kept allocated: no per-event allocation in the steady state).
  void begin_event();

  // Fills out[i] with Source::slots[i] of source `source` converted to its declared type, from `fields`
  // (FieldExtractor::values(), indexed by FieldId). out.size() must be >= slots.size(). Returns the number of
  // mismatches in this event. Converted lists stay valid until the next begin_event().
  uint32_t convert(uint32_t source, std::span<const Value> fields, std::span<Value> out);

  // Slot `slot` of source `source` from its field's value, counting a mismatch as convert() does. For callers that
  // convert only the slots whose fields a record has (FieldExtractor::touched()); the others are Null.
  Value convert_slot(uint32_t source, uint32_t slot, const Value& v);

  // One value to one type; `mismatch` (optional) is set to true when a non-null value did not fit.
  Value convert_value(const Value& v, ir::Type type, bool* mismatch = nullptr);

  // Mismatch statistics, per source and slot.
  uint64_t mismatches(uint32_t source, uint32_t slot) const;
  uint64_t total_mismatches() const;
  struct MismatchStat {
    uint32_t source = 0;
    uint32_t slot = 0;
    ir::FieldId field = 0;
    uint64_t count = 0;
  };
  std::vector<MismatchStat> mismatch_stats() const;  // the non-zero ones, by source then slot

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::rt
