// Alerts: what the engine emits when a rule fires, and their NDJSON rendering.
//
// The schema is documented field by field in docs/alerts.md and shipped as docs/alert.schema.json (JSON Schema
// draft 2020-12). It is stable: members are only ever added, never renamed or removed, and `schema_version`
// changes when a member's meaning changes.
//
// An Alert owns all of its data (strings are copied out of the event arena when the rule fires), so a sink may
// keep it after the callback returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"

namespace braid::rt {

// 2: the `id` member (a deterministic alert id) and the `degraded` member were added.
inline constexpr int kAlertSchemaVersion = 2;

// A value used in the message, rendered as JSON text ("\"abc\"", "42", "true", "null", "[...]") so that it keeps
// its type: strings, ips, times (RFC 3339) and durations ("1h30m") are JSON strings; ints and floats numbers;
// lists and object values JSON; null `null`.
struct AlertValue {
  std::string expr;  // the interpolation as written in the message template: "session.identity"
  std::string json;  // the value, as JSON text
};

struct AlertSession {
  std::string id;                          // deterministic session id (see engine.h)
  std::string identity;
  std::optional<std::string> credential;   // nullopt: the session has no credential
  int64_t start = 0;                       // ns since the epoch: the first event's time
  int64_t end = 0;                         // ns: the latest event's time when the alert was decided
  uint64_t events = 0;                     // events in the session when the alert was decided
};

// The group of a group-scope rule's alert (docs/language.md, "Group scope").
struct AlertGroup {
  std::string id;                                       // 16 hex digits: a hash of rule, source, key and start
  std::vector<std::pair<std::string, std::string>> key;  // each `group by` key as written, and its value (JSON text)
  int64_t start = 0;                                    // ns: the group's first event
  int64_t end = 0;                                      // ns: its latest event when the alert was decided
  uint64_t events = 0;                                  // its events (that matched a step) by then
};

// One hop of the chain path, from the root down to the alert's session.
struct ChainHop {
  std::string session_id;
  std::string identity;
  std::optional<std::string> credential;
  std::string source;
  // The id of the event of THIS session that minted the next hop's credential (or matched the parent side of the
  // link that made the next hop a child); nullopt on the last hop.
  std::optional<std::string> minted_by_event;
  std::string link;  // how THIS hop became a child of the previous one: "" (root), "mint" or "link"
};

struct StepMatch {
  std::string step;                     // the step label
  uint64_t count = 0;                   // events that matched it (in the session/chain)
  std::vector<std::string> event_ids;   // the first N of them (EngineOptions::step_event_ids), in processing order
  // With EngineOptions::alert_events: the first N of them as JSON texts (the records, compact), in processing order
  std::vector<std::string> events;
};

struct Alert {
  // Deterministic: 32 hex digits of a hash of the rule, the chain (root session id) and session of the decision,
  // how it was decided, and the deciding event's id (or, for window and close decisions, their event time). The
  // same decision gets the same id in every run over the same events, whatever the thread count, checkpoints and
  // restarts: sinks deduplicate by it (docs/alerts.md, "Alert ids").
  std::string id;
  std::string rule;                     // rule id, "aws.iam.recon_burst"
  std::string title;
  ir::Severity severity = ir::Severity::Medium;
  std::vector<std::string> attack;      // ATT&CK ids
  ir::Scope scope = ir::Scope::Event;
  std::string message;                  // the rendered message
  std::vector<AlertValue> values;       // one per interpolation of the message, in template order
  int64_t event_time = 0;               // ns: the time of the deciding event (see docs/alerts.md)
  int64_t processing_time = 0;          // ns: wall clock when the alert was emitted (or EngineOptions override)
  std::string decided;                  // "event" (on an event), "window" (an absence window passed), "close"
  std::optional<std::string> event_id;  // the deciding event's id (nullopt when decided by a window or at close)
  std::string source;                   // the source of the deciding event (of the alert's session otherwise)
  std::optional<AlertSession> session;  // nullopt: event-scope alert on an event without identity, or late event
  std::optional<AlertGroup> group;      // group-scope rules only (they have no session or chain)
  std::vector<ChainHop> chain;          // root first, the alert's session last; for chain rules, the path to the
                                        // deciding session (or to the deepest session, at close); session rules and
                                        // event rules: the path to the event's session (a single hop for roots)
  std::vector<StepMatch> steps;         // session/chain rules: one per step, in declaration order
  std::vector<std::string> saturated;   // distinct(...) aggregates that reached the bound (their counts are lower
                                        // bounds), written as "distinct(step.field)"
  bool degraded = false;                // decided from state that lost entries to a cap (docs/operations.md, Caps)
  // EngineOptions::alert_events on: the steps carry `events`, and an event-scope alert its event's record (JSON
  // text; nullopt when its text is not known). Off: neither member is rendered (docs/alerts.md, "Raw events").
  bool raw_events = false;
  std::optional<std::string> event;
};

// The id of a decision (Alert::id): `chain_root` / `session` are session ids ("" when none), `event_id` the
// deciding event's id (nullptr for window and close decisions, which use `event_time`).
std::string alert_id(std::string_view rule, std::string_view chain_root, std::string_view session,
                     std::string_view decided, const std::string* event_id, int64_t event_time);

// Renders one alert as a single line of JSON (no trailing newline). Member order is fixed (docs/alerts.md).
std::string render_alert_json(const Alert& a);

// RFC 3339 UTC with nanoseconds trimmed to the shortest of 0/3/6/9 fraction digits: "2024-07-30T21:31:15Z",
// "2024-07-30T21:31:15.120Z".
std::string format_time_rfc3339(int64_t ns);
// A Braid duration: "1h30m", "15m", "500ms", "0s"; negative durations get a leading '-'.
std::string format_duration(int64_t ns);

}  // namespace braid::rt
