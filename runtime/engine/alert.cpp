// Alert rendering: one JSON object per line, members in a fixed order (docs/alerts.md).
#include "engine/alert.h"

#include <fmt/format.h>

#include "engine/value_codec.h"
#include "input/convert.h"
#include "text/json_write.h"

namespace braid::rt {

namespace {

// Escaped by the one rule of text/json_write.h: an alert line is valid JSON whatever bytes an event carried.
void json_string(std::string& out, std::string_view s) { append_json_quoted(out, s); }

void opt_string(std::string& out, const std::optional<std::string>& s) {
  if (s) json_string(out, *s);
  else out += "null";
}

}  // namespace

std::string format_time_rfc3339(int64_t ns) { return format_timestamp(ns); }

std::string format_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string out;
  uint64_t v;
  if (ns < 0) {
    out += '-';
    v = static_cast<uint64_t>(-(ns + 1)) + 1;
  } else {
    v = static_cast<uint64_t>(ns);
  }
  constexpr uint64_t kMs = 1000000, kS = 1000 * kMs, kM = 60 * kS, kH = 60 * kM, kD = 24 * kH;
  if (v % kMs != 0) {
    // Below a millisecond the language has no unit: fall back to fractional seconds ("0.000001500s").
    out += fmt::format("{}.{:09}s", v / kS, v % kS);
    return out;
  }
  struct U { uint64_t n; const char* s; } units[] = {{kD, "d"}, {kH, "h"}, {kM, "m"}, {kS, "s"}, {kMs, "ms"}};
  for (const auto& u : units) {
    if (v >= u.n) {
      out += fmt::format("{}{}", v / u.n, u.s);
      v %= u.n;
    }
  }
  return out;
}

std::string alert_id(std::string_view rule, std::string_view chain_root, std::string_view session,
                     std::string_view decided, const std::string* event_id, int64_t event_time) {
  // Fields are length-prefixed, so no two different inputs give the same bytes. Two independent 64-bit hashes
  // make 128 bits: ids of a long-running host do not collide by chance.
  std::string in;
  in.reserve(128);
  auto field = [&](std::string_view f) {
    in += std::to_string(f.size());
    in += ':';
    in += f;
  };
  field(rule);
  field(chain_root);
  field(session);
  field(decided);
  if (event_id) {
    field("event");
    field(*event_id);
  } else {
    field("time");
    field(std::to_string(event_time));
  }
  return fmt::format("{:016x}{:016x}", fnv1a(in), fast_hash(in));
}

std::string render_alert_json(const Alert& a) {
  std::string o;
  o.reserve(1024);
  o += "{\"schema_version\":";
  o += std::to_string(kAlertSchemaVersion);
  o += ",\"id\":";
  json_string(o, a.id);
  o += ",\"rule\":";
  json_string(o, a.rule);
  o += ",\"title\":";
  json_string(o, a.title);
  o += ",\"severity\":";
  json_string(o, ir::severity_name(a.severity));
  o += ",\"attack\":[";
  for (size_t i = 0; i < a.attack.size(); ++i) {
    if (i) o += ',';
    json_string(o, a.attack[i]);
  }
  o += "],\"scope\":";
  json_string(o, ir::scope_name(a.scope));
  o += ",\"message\":";
  json_string(o, a.message);
  o += ",\"event_time\":";
  json_string(o, format_time_rfc3339(a.event_time));
  o += ",\"processing_time\":";
  json_string(o, format_time_rfc3339(a.processing_time));
  o += ",\"decided\":";
  json_string(o, a.decided);
  o += ",\"event_id\":";
  opt_string(o, a.event_id);
  o += ",\"source\":";
  json_string(o, a.source);
  o += ",\"session\":";
  if (a.session) {
    const auto& s = *a.session;
    o += "{\"id\":";
    json_string(o, s.id);
    o += ",\"identity\":";
    json_string(o, s.identity);
    o += ",\"credential\":";
    opt_string(o, s.credential);
    o += ",\"start\":";
    json_string(o, format_time_rfc3339(s.start));
    o += ",\"end\":";
    json_string(o, format_time_rfc3339(s.end));
    o += ",\"events\":";
    o += std::to_string(s.events);
    o += '}';
  } else {
    o += "null";
  }
  if (a.group) {  // (group-scope alerts only: other alerts keep their members as they were)
    const auto& g = *a.group;
    o += ",\"group\":{\"id\":";
    json_string(o, g.id);
    o += ",\"key\":{";
    for (size_t i = 0; i < g.key.size(); ++i) {
      if (i) o += ',';
      json_string(o, g.key[i].first);
      o += ':';
      o += g.key[i].second;
    }
    o += "},\"start\":";
    json_string(o, format_time_rfc3339(g.start));
    o += ",\"end\":";
    json_string(o, format_time_rfc3339(g.end));
    o += ",\"events\":";
    o += std::to_string(g.events);
    o += '}';
  }
  o += ",\"chain\":[";
  for (size_t i = 0; i < a.chain.size(); ++i) {
    const auto& h = a.chain[i];
    if (i) o += ',';
    o += "{\"session\":";
    json_string(o, h.session_id);
    o += ",\"identity\":";
    json_string(o, h.identity);
    o += ",\"credential\":";
    opt_string(o, h.credential);
    o += ",\"source\":";
    json_string(o, h.source);
    o += ",\"link\":";
    if (h.link.empty()) o += "null";
    else json_string(o, h.link);
    o += ",\"minted_by_event\":";
    opt_string(o, h.minted_by_event);
    o += '}';
  }
  o += "],\"steps\":{";
  for (size_t i = 0; i < a.steps.size(); ++i) {
    const auto& s = a.steps[i];
    if (i) o += ',';
    json_string(o, s.step);
    o += ":{\"count\":";
    o += std::to_string(s.count);
    o += ",\"event_ids\":[";
    for (size_t k = 0; k < s.event_ids.size(); ++k) {
      if (k) o += ',';
      json_string(o, s.event_ids[k]);
    }
    o += ']';
    if (a.raw_events) {
      o += ",\"events\":[";
      for (size_t k = 0; k < s.events.size(); ++k) {
        if (k) o += ',';
        o += s.events[k];
      }
      o += ']';
    }
    o += '}';
  }
  o += "},\"values\":[";
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (i) o += ',';
    o += "{\"expr\":";
    json_string(o, a.values[i].expr);
    o += ",\"value\":";
    o += a.values[i].json.empty() ? std::string("null") : a.values[i].json;
    o += '}';
  }
  o += "],\"saturated\":[";
  for (size_t i = 0; i < a.saturated.size(); ++i) {
    if (i) o += ',';
    json_string(o, a.saturated[i]);
  }
  o += "],\"degraded\":";
  o += a.degraded ? "true" : "false";
  if (a.raw_events && a.scope == ir::Scope::Event) {
    o += ",\"event\":";
    o += a.event ? *a.event : std::string("null");
  }
  o += '}';
  return o;
}

}  // namespace braid::rt
