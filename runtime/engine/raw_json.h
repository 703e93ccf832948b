// Record text in output: raw events embedded in alerts (EngineOptions::alert_events) and bad records quoted in the
// quarantine file (EngineOptions::on_bad_record).
//
// The extractor reads a record lazily: values no rule reads are skipped without being checked, so an event's text
// is not known to be strict JSON. An alert line must stay valid NDJSON whatever an attacker wrote, hence the
// strict check here (no simdjson: only runtime/input's kernels may include it).
#pragma once

#include <string>
#include <string_view>

namespace braid::rt {

// When `text` is exactly one strict JSON object (RFC 8259; surrounding whitespace allowed, nesting at most 512
// deep), appends it to `out` without the whitespace between tokens (the bytes of strings and numbers unchanged)
// and returns true. Otherwise returns false with `out` as it was.
bool compact_json_object(std::string_view text, std::string& out);
// The same for any one JSON value (`object` and list values of an event, rendered into an alert).
bool compact_json(std::string_view text, std::string& out);

// Record text that is not strict JSON is quoted as a string with append_json_quoted (text/json_write.h).

}  // namespace braid::rt
