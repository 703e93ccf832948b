// Alerts: emitted alerts (of every scope and decision kind) are valid JSON and conform to docs/alert.schema.json,
// checked with a small structural JSON Schema validator (type, required, properties, additionalProperties, items,
// enum, const, minimum, pattern, format date-time).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "harness.h"
#include "json.h"

namespace braid::rt::test {
namespace {

using J = testjson::Value;

std::string type_of(const J& v) {
  switch (v.kind) {
    case J::Kind::Null: return "null";
    case J::Kind::Bool: return "boolean";
    case J::Kind::Number: return v.integer ? "integer" : "number";
    case J::Kind::String: return "string";
    case J::Kind::Array: return "array";
    case J::Kind::Object: return "object";
  }
  return "?";
}

bool same(const J& a, const J& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case J::Kind::Null: return true;
    case J::Kind::Bool: return a.b == b.b;
    case J::Kind::Number: return a.num == b.num;
    case J::Kind::String: return a.str == b.str;
    default: return false;
  }
}

void validate(const J& v, const J& schema, const std::string& at, std::vector<std::string>& errs) {
  if (const J* t = schema.get("type")) {
    std::string vt = type_of(v);
    bool ok = false;
    auto match = [&](const std::string& want) { return want == vt || (want == "number" && vt == "integer"); };
    if (t->is_string()) ok = match(t->str);
    else
      for (const auto& x : t->items) ok = ok || match(x.str);
    if (!ok) {
      errs.push_back(at + ": type " + vt);
      return;
    }
  }
  if (const J* e = schema.get("enum")) {
    bool ok = false;
    for (const auto& x : e->items) ok = ok || same(x, v);
    if (!ok) errs.push_back(at + ": not in enum");
  }
  if (const J* c = schema.get("const"))
    if (!same(*c, v)) errs.push_back(at + ": not the const");
  if (const J* m = schema.get("minimum"))
    if (v.kind == J::Kind::Number && v.num < m->num) errs.push_back(at + ": below minimum");
  if (v.is_string()) {
    if (const J* p = schema.get("pattern"))
      if (!std::regex_search(v.str, std::regex(p->str))) errs.push_back(at + ": does not match " + p->str);
    if (const J* f = schema.get("format"))
      if (f->str == "date-time" &&
          !std::regex_match(v.str, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d))")))
        errs.push_back(at + ": not a date-time: " + v.str);
  }
  if (v.is_object()) {
    if (const J* req = schema.get("required"))
      for (const auto& k : req->items)
        if (!v.has(k.str)) errs.push_back(at + ": missing " + k.str);
    const J* props = schema.get("properties");
    const J* addl = schema.get("additionalProperties");
    for (const auto& [k, x] : v.members) {
      const J* ps = props ? props->get(k) : nullptr;
      if (ps) validate(x, *ps, at + "." + k, errs);
      else if (addl && addl->is_bool() && !addl->b) errs.push_back(at + ": unexpected member " + k);
      else if (addl && addl->is_object()) validate(x, *addl, at + "." + k, errs);
    }
  }
  if (v.is_array())
    if (const J* it = schema.get("items"))
      for (size_t i = 0; i < v.items.size(); ++i) validate(v.items[i], *it, at + "[" + std::to_string(i) + "]", errs);
}

J load_schema() {
  std::ifstream in(std::string(BRAID_SOURCE_DIR) + "/docs/alert.schema.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return testjson::Parser(ss.str()).parse_document();
}

TEST(AlertSchema, EmittedAlertsConform) {
  J schema = load_schema();
  ASSERT_TRUE(schema.is_object());
  auto b = build({std::string(kTestSources) +
                  rule("t.ev", "event", "kind == \"x\"", "{user} did {kind} with {items[*].v} {obj} {n} {f} {ts}") +
                  rule("t.ses", "session", "step a = kind == \"x\"\n step z = kind == \"z\"\n when a and not z",
                       "{count(a)} {session.duration} {a.n} \\\"quoted\\\" \\{braces\\}") +
                  rule("t.win", "session", "step a = kind == \"x\"\n step b = kind == \"b\"\n when a -> not b within 5m",
                       "{first(a).name}") +
                  rule("t.ch", "chain", "step m = kind == \"mint\"\n when m and chain.depth >= 1",
                       "{chain.root.identity} {m.newkey}")});
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""),
                            ev(1, "role", "ASIA1",
                               "\"kind\":\"x\",\"items\":[{\"v\":\"a\\\"b\"},{\"v\":\"c\"}],\"obj\":{\"k\":[1,2]},"
                               "\"n\":3,\"f\":2.5,\"name\":\"N\""),
                            ev(30, "nobody-late", ""), ev(2, "", "", "\"kind\":\"x\"")});
  ASSERT_GE(r.alerts.size(), 4u);
  std::set<std::string> decided, scopes;
  for (const auto& a : r.alerts) {
    std::string line = render_alert_json(a);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    J v;
    ASSERT_NO_THROW(v = testjson::Parser(line).parse_document()) << line;
    std::vector<std::string> errs;
    validate(v, schema, "$", errs);
    EXPECT_TRUE(errs.empty()) << line << "\n" << ::testing::PrintToString(errs);
    decided.insert(a.decided);
    scopes.insert(std::string(ir::scope_name(a.scope)));
  }
  EXPECT_EQ(scopes.size(), 3u);
  EXPECT_TRUE(decided.count("event") && decided.count("close") && decided.count("window"));
  // Spot checks of rendering.
  const Alert* ev1 = r.first("t.ev");
  ASSERT_TRUE(ev1);
  EXPECT_EQ(ev1->message, "role did x with [\"a\\\"b\",\"c\"] {\"k\":[1,2]} 3 2.5 2024-01-01T10:01:00Z");
  J v = testjson::Parser(render_alert_json(*ev1)).parse_document();
  EXPECT_EQ(v.at("values").items[2].at("value").items.size(), 2u);
  EXPECT_EQ(v.at("values").items[2].at("expr").str, "items[*].v");
  EXPECT_EQ(v.at("session").at("credential").str, "ASIA1");
  EXPECT_EQ(v.at("chain").items.size(), 2u);
  const Alert* ses = r.first("t.ses");
  ASSERT_TRUE(ses);
  EXPECT_EQ(ses->message, "1 0s 3 \"quoted\" {braces}");
  EXPECT_EQ(ses->values[2].expr, "a.n");
}

// With raw events (EngineOptions::alert_events), every scope's alerts still conform: steps' `events`, and an event
// alert's `event`.
TEST(AlertSchema, AlertsWithRawEventsConform) {
  J schema = load_schema();
  auto b = build({std::string(kTestSources) + rule("t.ev", "event", "kind == \"x\"", "{user}") +
                  rule("t.ses", "session", "step a = kind == \"x\"\n step z = kind == \"z\"\n when a and not z", "m") +
                  rule("t.ch", "chain", "step m = kind == \"mint\"\n when m and chain.depth >= 1", "m")});
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.alert_events = 2;
  Result r = run(*b->prog, {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""),
                            ev(1, "role", "ASIA1", "\"kind\":\"x\",\"obj\":{\"k\":[1,2]}"),
                            ev(2, "", "", "\"kind\":\"x\"")},
                 o);
  std::set<std::string> scopes;
  for (const auto& a : r.alerts) {
    std::string line = render_alert_json(a);
    J v;
    ASSERT_NO_THROW(v = testjson::Parser(line).parse_document()) << line;
    std::vector<std::string> errs;
    validate(v, schema, "$", errs);
    EXPECT_TRUE(errs.empty()) << line << "\n" << ::testing::PrintToString(errs);
    EXPECT_EQ(v.has("event"), a.scope == ir::Scope::Event) << line;
    for (const auto& [label, step] : v.at("steps").members) EXPECT_TRUE(step.has("events")) << line;
    scopes.insert(std::string(ir::scope_name(a.scope)));
  }
  EXPECT_EQ(scopes.size(), 3u);
}

TEST(AlertSchema, ValidatorCatchesViolations) {
  J schema = load_schema();
  Alert a;
  a.rule = "x";
  a.id = std::string(32, 'a');
  a.decided = "event";
  std::string ok = render_alert_json(a);
  std::vector<std::string> errs;
  validate(testjson::Parser(ok).parse_document(), schema, "$", errs);
  EXPECT_TRUE(errs.empty()) << ::testing::PrintToString(errs);
  // Remove a required member and break a type: both are reported.
  std::string bad = ok;
  bad.replace(bad.find("\"rule\":\"x\","), std::string("\"rule\":\"x\",").size(), "");
  bad.replace(bad.find("\"saturated\":[]"), std::string("\"saturated\":[]").size(), "\"saturated\":3");
  errs.clear();
  validate(testjson::Parser(bad).parse_document(), schema, "$", errs);
  EXPECT_EQ(errs.size(), 2u) << ::testing::PrintToString(errs);
  a.decided = "sometime";
  errs.clear();
  validate(testjson::Parser(render_alert_json(a)).parse_document(), schema, "$", errs);
  EXPECT_EQ(errs.size(), 1u);
}

// An alert line is valid JSON whatever bytes the event carried (the one escaper, text/json_write.h). The reader
// refuses a record that is not valid UTF-8, so such bytes can only reach an alert through the engine's API: an
// event's text fed to it is refused as invalid, and an alert holding invalid bytes in the fields taken from events
// renders them as U+FFFD.
TEST(AlertFormat, InvalidUtf8StaysValidJson) {
  auto b = build({std::string(kTestSources) + rule("t.ev", "event", "kind == \"x\"", "user {user} did {kind}")});
  ASSERT_TRUE(b->prog);
  Result bad = run(*b->prog, {ev(0, "al\xff\xfeice", "k", "\"kind\":\"x\"")});
  EXPECT_EQ(bad.count("t.ev"), 0u);
  EXPECT_EQ(bad.stats.malformed, 1u);

  Result r = run(*b->prog, {ev(0, "alice", "k", "\"kind\":\"x\"")});
  ASSERT_EQ(r.count("t.ev"), 1u);
  Alert a = *r.first("t.ev");
  a.message = "user al\xff\xfeice did \x01\x7f";
  a.session->identity = "al\xC3";
  a.session->credential = "\xED\xA0\x80";
  a.steps.push_back(StepMatch{"s\xF8", 1, {}, {}});
  std::string line = render_alert_json(a);
  J v;
  ASSERT_NO_THROW(v = testjson::Parser(line).parse_document()) << line;
  EXPECT_EQ(v.at("message").str, "user al\xEF\xBF\xBD\xEF\xBF\xBDice did \x01\x7f");
  EXPECT_EQ(v.at("session").at("identity").str, "al\xEF\xBF\xBD");
  EXPECT_EQ(v.at("session").at("credential").str, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_NE(line.find("\"user al\\ufffd\\ufffdice did \\u0001\\u007f\""), std::string::npos) << line;
}

TEST(AlertFormat, TimesAndDurations) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(int64_t{5400} * 1000000000), "1h30m");
  EXPECT_EQ(format_duration(int64_t{90061} * 1000000000 + 500000000), "1d1h1m1s500ms");
  EXPECT_EQ(format_duration(-int64_t{60} * 1000000000), "-1m");
  EXPECT_EQ(format_time_rfc3339(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace braid::rt::test
