// Raw events in alerts (EngineOptions::alert_events, `braid run --alert-events`) and the bad-record handler
// (EngineOptions::on_bad_record, `braid run --bad-records`).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "checkpoint_stream.h"
#include "engine/raw_json.h"
#include "harness.h"
#include "json.h"

namespace braid::rt::test {
namespace {

using J = testjson::Value;

std::unique_ptr<Built> scopes_rules() {
  return build({std::string(kTestSources) + rule("r.ev", "event", "kind == \"x\"", "{user}") +
                rule("r.ses", "session", "step x = kind == \"x\"\n step a = kind == \"a\"\n when count(x) >= 3 and a",
                     "{session.identity}") +
                rule("r.ch", "chain", "step m = kind == \"mint\"\n step x = kind == \"x\"\n when m and count(x) >= 3",
                     "{chain.root.identity}")});
}

// alice mints ASIA1; the role (a child session) acts: x three times, then a. The first x is written with spaces
// and a nested object, so that the embedded text is seen to be the record, compacted.
std::vector<std::string> scopes_events() {
  return {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""),
          "{ \"src\" : \"t\", \"ts\": \"" + at(1) + "\", \"id\": \"x1\", \"user\": \"role\", \"key\": \"ASIA1\",\n"
          " \"kind\": \"x\", \"obj\": { \"k\": [1, 2.5e3, \"a b\\\"c\"] } }",
          ev(2, "role", "ASIA1", "\"kind\":\"x\""), ev(3, "role", "ASIA1", "\"kind\":\"x\""),
          ev(4, "role", "ASIA1", "\"kind\":\"a\"")};
}

J parsed(const Alert& a) { return testjson::Parser(render_alert_json(a)).parse_document(); }

TEST(RawEvents, OffByDefaultNoMemberAnywhere) {
  auto b = scopes_rules();
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, scopes_events());
  ASSERT_EQ(r.count("r.ev"), 3u);
  ASSERT_EQ(r.count("r.ses"), 1u);
  ASSERT_EQ(r.count("r.ch"), 1u);
  for (const Alert& a : r.alerts) {
    std::string line = render_alert_json(a);
    J v = testjson::Parser(line).parse_document();
    EXPECT_FALSE(v.has("event")) << line;
    for (const auto& [label, step] : v.at("steps").members) EXPECT_FALSE(step.has("events")) << line;
  }
}

TEST(RawEvents, EventSessionAndChainRulesCarryTheirFirstNEvents) {
  auto b = scopes_rules();
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.alert_events = 2;
  auto evs = scopes_events();
  Result r = run(*b->prog, evs, o);
  const std::string x1 = "{\"src\":\"t\",\"ts\":\"" + at(1) +
                         "\",\"id\":\"x1\",\"user\":\"role\",\"key\":\"ASIA1\",\"kind\":\"x\",\"obj\":{\"k\":[1,2.5e3,"
                         "\"a b\\\"c\"]}}";
  // Event rule: its event, as it was (compact).
  const Alert* e = r.first("r.ev");
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->event.has_value());
  EXPECT_EQ(*e->event, x1);
  J ej = parsed(*e);
  EXPECT_TRUE(ej.at("event").is_object());
  EXPECT_EQ(ej.at("event").at("id").str, "x1");
  // Session rule: per step, the first two matching events (x has three, a one).
  const Alert* s = r.first("r.ses");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->steps.size(), 2u);
  EXPECT_EQ(s->steps[0].count, 3u);
  EXPECT_EQ(s->steps[0].event_ids.size(), 3u);
  ASSERT_EQ(s->steps[0].events.size(), 2u);
  EXPECT_EQ(s->steps[0].events[0], x1);
  EXPECT_EQ(s->steps[0].events[1], evs[2]);
  ASSERT_EQ(s->steps[1].events.size(), 1u);
  EXPECT_EQ(s->steps[1].events[0], evs[4]);
  J sj = parsed(*s);
  EXPECT_FALSE(sj.has("event"));  // session and chain alerts: in their steps only
  const J& steps = sj.at("steps");
  EXPECT_EQ(steps.at("x").at("events").items.size(), 2u);
  EXPECT_EQ(steps.at("x").at("events").items[0].at("obj").at("k").items[2].str, "a b\"c");
  // Chain rule: across the chain's sessions (the mint is in alice's, the x in the role's).
  const Alert* c = r.first("r.ch");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->steps[0].events.size(), 1u);
  EXPECT_EQ(c->steps[0].events[0], evs[0]);
  ASSERT_EQ(c->steps[1].events.size(), 2u);
  EXPECT_EQ(c->steps[1].events[1], evs[2]);
  // Everything else is as without the option.
  Result off = run(*b->prog, evs);
  ASSERT_EQ(off.alerts.size(), r.alerts.size());
  for (size_t i = 0; i < off.alerts.size(); ++i) {
    Alert a = r.alerts[i];
    a.raw_events = false;
    EXPECT_EQ(render_alert_json(a), render_alert_json(off.alerts[i]));
  }
}

TEST(RawEvents, ARecordThatIsNotStrictJsonOrTooLargeIsNull) {
  auto b = scopes_rules();
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.alert_events = 5;
  // A value no rule reads is skipped unchecked by the extractor; the alert must still be valid JSON.
  std::string lax = "{\"src\":\"t\",\"ts\":\"" + at(0) + "\",\"id\":\"lax\",\"user\":\"u\",\"kind\":\"x\",\"junk\":[1 2]}";
  std::string big = ev(1, "u", "", "\"kind\":\"x\",\"pad\":\"" + std::string(kMaxAlertEventBytes, 'p') + "\"");
  Result r = run(*b->prog, {lax, big}, o);
  std::vector<std::string> got;
  for (const Alert& a : r.alerts)
    if (a.rule == "r.ev") got.push_back(a.event.value_or("(none)"));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), "null");  // too large
  if (got.size() == 2) {
    EXPECT_EQ(got[0], "null");  // accepted by the extractor, not strict JSON
  }
  for (const Alert& a : r.alerts) EXPECT_NO_THROW(testjson::Parser(render_alert_json(a)).parse_document());
}

TEST(RawEvents, AboveTheMaximumIsRefused) {
  auto b = scopes_rules();
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.alert_events = kMaxAlertEvents + 1;
  EXPECT_THROW(Engine(*b->prog, o), std::invalid_argument);
  o.alert_events = kMaxAlertEvents;
  EXPECT_NO_THROW(Engine(*b->prog, o));
}

// The checkpoint stream (held events, windows, chains) with alert events on: two threads, and a checkpoint taken
// anywhere (held events keep their text), give the alerts of one single-threaded run.
// `before_count`: how many of the alerts the first engine emitted.
std::vector<std::string> split_run(const ir::Program& p, const std::vector<std::string>& evs, size_t k,
                                   EngineOptions before, EngineOptions after, size_t* before_count = nullptr) {
  std::vector<Alert> alerts;
  std::string state;
  before.processing_time = after.processing_time = 0;
  {
    Engine e(p, before);
    e.set_sink([&](const Alert& a) { alerts.push_back(a); });
    for (size_t i = 0; i < k; ++i) e.process_json(evs[i], "<test>", i + 1);
    state = e.save_state("prog");
  }
  if (before_count) *before_count = alerts.size();
  Engine e(p, after);
  e.set_sink([&](const Alert& a) { alerts.push_back(a); });
  e.load_state(state, "prog");
  for (size_t i = k; i < evs.size(); ++i) e.process_json(evs[i], "<test>", i + 1);
  e.finish();
  return rendered(alerts);
}

TEST(RawEvents, ThreadsAndCheckpointsWithHeldEventsGiveTheSameAlerts) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  EngineOptions on;
  on.alert_events = 2;
  for (uint32_t seed : {1u, 5u}) {
    auto evs = checkpoint_events(seed, 160);
    auto want = rendered(run(*b->prog, evs, on).alerts);
    size_t with_events = 0, with_event = 0;
    for (const std::string& line : want) {
      with_events += line.find("\"events\":[{") != std::string::npos;
      with_event += line.find("\"event\":{") != std::string::npos;
    }
    ASSERT_GT(with_events, 3u);
    ASSERT_GT(with_event, 3u);
    EngineOptions two = on;
    two.threads = 2;
    EXPECT_EQ(first_difference(rendered(run(*b->prog, evs, two).alerts), want), "") << "seed " << seed;
    for (size_t k = 3; k < evs.size(); k += 11) {
      ASSERT_EQ(first_difference(split_run(*b->prog, evs, k, on, on), want), "") << "seed " << seed << " at " << k;
      ASSERT_EQ(first_difference(split_run(*b->prog, evs, k, two, on), want), "") << "seed " << seed << " at " << k;
    }
  }
}

TEST(RawEvents, CheckpointsCarryHeldEventTexts) {
  // One event held for reordering (lateness 10m) when the checkpoint is taken: its text must come back.
  auto b = scopes_rules();
  ASSERT_TRUE(b->prog);
  EngineOptions on;
  on.alert_events = 2;
  std::vector<std::string> evs = {ev(0, "u", "k", "\"kind\":\"y\""), ev(5, "u", "k", "\"kind\":\"y\""),
                                  ev(3, "u", "k", "\"kind\":\"x\",\"n\":1"), ev(30, "u", "k", "\"kind\":\"y\"")};
  auto want = rendered(run(*b->prog, evs, on).alerts);
  ASSERT_EQ(want.size(), 1u);
  EXPECT_NE(want[0].find("\"event\":{\"src\":\"t\""), std::string::npos) << want[0];
  EXPECT_EQ(first_difference(split_run(*b->prog, evs, 3, on, on), want), "");
}

TEST(RawEvents, TheOptionMayChangeAcrossARestart) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(3, 160);
  EngineOptions off, on, one;
  on.alert_events = 2;
  one.alert_events = 1;
  // The alerts after the restart, against those of one run with the options after it.
  auto after_restart = [&](EngineOptions before, EngineOptions after) {
    size_t n = 0;
    auto got = split_run(*b->prog, evs, 80, before, after, &n);
    auto want = rendered(run(*b->prog, evs, after).alerts);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_GT(want.size(), n + 3) << "the stream must decide alerts after the restart";
    got.erase(got.begin(), got.begin() + static_cast<ptrdiff_t>(std::min(n, got.size())));
    want.erase(want.begin(), want.begin() + static_cast<ptrdiff_t>(std::min(n, want.size())));
    return std::pair{got, want};
  };
  // On before, off after: the texts are dropped, and the alerts are those of a run without them.
  auto [off_got, off_want] = after_restart(on, off);
  EXPECT_EQ(first_difference(off_got, off_want), "");
  // 2 before, 1 after: the first one is kept.
  auto [one_got, one_want] = after_restart(on, one);
  EXPECT_EQ(first_difference(one_got, one_want), "");
  // Off before, on after: loads; the events taken before the restart (held ones too) have no text, so `events`
  // may be shorter than with the option on from the start, never longer, and the rest is the same.
  auto [on_got, on_want] = after_restart(off, on);
  size_t shorter = 0;
  for (size_t i = 0; i < on_got.size() && i < on_want.size(); ++i) {
    J g = testjson::Parser(on_got[i]).parse_document(), w = testjson::Parser(on_want[i]).parse_document();
    EXPECT_EQ(g.at("id").str, w.at("id").str);
    for (size_t s = 0; s < g.at("steps").members.size(); ++s) {
      size_t gn = g.at("steps").members[s].second.at("events").items.size();
      size_t wn = w.at("steps").members[s].second.at("events").items.size();
      EXPECT_LE(gn, wn) << on_got[i];
      shorter += gn < wn;
    }
  }
  EXPECT_GT(shorter, 0u) << "some steps must have matched before the restart";
}

// ---------------------------------------------------------------------------------------------------------------
// Bad records

struct Bad {
  std::string kind, input, reason, record;
  uint64_t line = 0, size = 0;
  uint32_t element = 0;
};

TEST(BadRecords, EveryKindWithWhereAndText) {
  auto b = scopes_rules();
  ASSERT_TRUE(b->prog);
  const std::vector<std::string> recs = {ev(0, "u", "k", "\"kind\":\"x\""),
                                         "{\"src\":\"t\",\"ts\":\"" + at(1) + "\",\"kind\":\"x\"",  // truncated
                                         "{\"src\":\"t\",\"user\":\"\xff\xfe\"}",                  // invalid UTF-8
                                         "{\"src\":\"nobody\",\"ts\":\"" + at(1) + "\"}",          // unrouted
                                         "{\"src\":\"t\",\"user\":\"u\",\"kind\":\"x\"}",          // no time
                                         "[1,2]",                                                  // not an object
                                         ev(3, "u", "k", "\"kind\":\"x\"")};
  for (uint32_t threads : {1u, 2u}) {
    EngineOptions o;
    o.threads = threads;
    std::vector<Bad> bad;
    o.on_bad_record = [&](const BadRecord& x) {
      bad.push_back(Bad{std::string(x.kind), std::string(x.input), std::string(x.reason), std::string(x.record),
                        x.line, x.size, x.element});
    };
    Result r = run(*b->prog, recs, o);
    EXPECT_EQ(r.count("r.ev"), 2u);
    ASSERT_EQ(bad.size(), 5u) << threads;
    const char* kinds[] = {"malformed_json", "invalid_utf8", "unrouted", "no_time", "not_object"};
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(bad[i].kind, kinds[i]);
      EXPECT_EQ(bad[i].input, "<test>");
      EXPECT_EQ(bad[i].line, i + 2);
      EXPECT_EQ(bad[i].record, recs[i + 1]);
      EXPECT_EQ(bad[i].size, recs[i + 1].size());
      EXPECT_FALSE(bad[i].reason.empty());
    }
    EXPECT_NE(bad[3].reason.find("t.src"), std::string::npos);
  }
}

TEST(BadRecords, LongRecordsAreCutAndFilesNameTheirLines) {
  auto b = scopes_rules();
  ASSERT_TRUE(b->prog);
  std::string path = ::testing::TempDir() + "/braid_rt_bad_records.ndjson";
  const std::string huge = "{\"src\":\"t\",\"pad\":\"" + std::string(kMaxBadRecordBytes * 2, 'a') + "\"";  // truncated
  {
    std::ofstream out(path, std::ios::binary);
    out << ev(0, "u", "k", "\"kind\":\"x\"") << "\n" << huge << "\n\n{\"src\":\"zz\"}\n";
  }
  EngineOptions o;
  std::vector<Bad> bad;
  o.on_bad_record = [&](const BadRecord& x) {
    bad.push_back(Bad{std::string(x.kind), std::string(x.input), std::string(x.reason), std::string(x.record), x.line,
                      x.size, x.element});
  };
  Engine e(*b->prog, o);
  EXPECT_TRUE(e.process_inputs({path}));
  e.finish();
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].input, path);
  EXPECT_EQ(bad[0].line, 2u);
  EXPECT_EQ(bad[0].record.size(), kMaxBadRecordBytes);
  EXPECT_EQ(bad[0].size, huge.size());
  EXPECT_EQ(bad[1].kind, "unrouted");
  EXPECT_EQ(bad[1].line, 4u);
  EXPECT_EQ(e.stats().malformed, 1u);  // reported once, counted once
  std::remove(path.c_str());
}

// An `object` value read from a pretty-printed record (a Records file) keeps the alert on one line: rendered
// compact, with or without alert events.
TEST(RawJson, ObjectValuesOfAPrettyRecordRenderCompact) {
  auto b = build({std::string(kTestSources) + rule("r.obj", "event", "kind == \"x\"", "{obj}")});
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {"{\n  \"src\": \"t\",\n  \"ts\": \"" + at(0) +
                            "\",\n  \"kind\": \"x\",\n  \"obj\": {\n    \"k\": [ 1,\n 2 ]\n  }\n}"});
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].message, "{\"k\":[1,2]}");
  EXPECT_EQ(r.alerts[0].values[0].json, "{\"k\":[1,2]}");
  EXPECT_EQ(render_alert_json(r.alerts[0]).find('\n'), std::string::npos);
}

TEST(RawJson, CompactAndQuote) {
  std::string out = "x";
  EXPECT_TRUE(compact_json_object(" { \"a\" : [ 1 , -0.5e+2 , true , null , { } , [ ] ] , \"b\\u00e9\" : \"\\n \" }\n", out));
  EXPECT_EQ(out, "x{\"a\":[1,-0.5e+2,true,null,{},[]],\"b\\u00e9\":\"\\n \"}");
  for (const char* bad : {"[1]", "{\"a\":01}", "{\"a\":[1 2]}", "{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":1}x",
                          "{\"a\":\"\xff\"}", "{\"a\":1,}", "{a:1}", "{\"a\":\"\\x\"}", "{\"a\":1.}", ""}) {
    std::string o = "x";
    EXPECT_FALSE(compact_json_object(bad, o)) << bad;
    EXPECT_EQ(o, "x");
  }
  std::string deep = std::string(600, '[');
  std::string o;
  EXPECT_FALSE(compact_json_object("{\"a\":" + deep + std::string(600, ']') + "}", o));
}

}  // namespace
}  // namespace braid::rt::test
