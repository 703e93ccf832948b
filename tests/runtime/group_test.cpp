// Group-scope rules (docs/language.md, "Group scope"): events grouped by arbitrary keys in tumbling or session
// windows, with or without identity; the cap on open groups; alerts that carry the group.
#include <gtest/gtest.h>

#include "engine/alert.h"
#include "harness.h"

namespace braid::rt::test {
namespace {

std::vector<Alert> of(const Result& r, std::string_view rule) {
  std::vector<Alert> v;
  for (const Alert& a : r.alerts)
    if (a.rule == rule) v.push_back(a);
  return v;
}

// Failures from one address for several user names: the events have no identity (no session), and still count.
TEST(GroupScope, CountsAcrossIdentitiesAndEventsWithoutOne) {
  auto b = build({std::string(kTestSources) +
                  rule("g.spray", "group by ip window 10m",
                       "step fail = kind == \"fail\"\n when distinct(fail.name) >= 3",
                       "{distinct(fail.name)} names from {first(fail).ip}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {
      ev(0, "", "", "\"kind\":\"fail\",\"name\":\"alice\",\"ip\":\"10.0.0.1\""),
      ev(1, "", "", "\"kind\":\"fail\",\"name\":\"bob\",\"ip\":\"10.0.0.1\""),
      ev(2, "", "", "\"kind\":\"fail\",\"name\":\"bob\",\"ip\":\"10.0.0.2\""),  // another address
      ev(3, "", "", "\"kind\":\"ok\",\"name\":\"carol\",\"ip\":\"10.0.0.1\""),   // matches no step
      ev(4, "", "", "\"kind\":\"fail\",\"name\":\"carol\",\"ip\":\"10.0.0.1\""),  // the third name: fires
      ev(5, "", "", "\"kind\":\"fail\",\"name\":\"dave\",\"ip\":\"10.0.0.1\""),   // at most once per group
  };
  Result r = run(*b->prog, evs);
  auto got = of(r, "g.spray");
  ASSERT_EQ(got.size(), 1u);
  const Alert& a = got[0];
  EXPECT_EQ(a.message, "3 names from 10.0.0.1");
  EXPECT_EQ(a.scope, ir::Scope::Group);
  EXPECT_EQ(a.decided, "event");
  EXPECT_EQ(a.event_time, at_ns(4));
  EXPECT_FALSE(a.session.has_value());
  EXPECT_TRUE(a.chain.empty());
  ASSERT_TRUE(a.group.has_value());
  ASSERT_EQ(a.group->key.size(), 1u);
  EXPECT_EQ(a.group->key[0].first, "ip");
  EXPECT_EQ(a.group->key[0].second, "\"10.0.0.1\"");
  EXPECT_EQ(a.group->start, at_ns(0));
  EXPECT_EQ(a.group->end, at_ns(4));
  EXPECT_EQ(a.group->events, 3u);
  EXPECT_EQ(a.group->id.size(), 16u);
  ASSERT_EQ(a.steps.size(), 1u);
  EXPECT_EQ(a.steps[0].count, 3u);
  EXPECT_EQ(r.stats.groups_opened, 2u);
  EXPECT_EQ(r.stats.groups_closed, 2u);
  // With rule timing (--stats), a group rule's state updates are timed like any stateful rule's.
  EngineOptions timed;
  timed.rule_timing = true;
  Result t = run(*b->prog, evs, timed);
  ASSERT_EQ(t.stats.rules.size(), 1u);
  EXPECT_GT(t.stats.rules[0].nanos, 0u);
  EXPECT_EQ(r.stats.no_identity, 6u);
  std::string json = render_alert_json(a);
  EXPECT_NE(json.find("\"group\":{\"id\":\"" + a.group->id + "\",\"key\":{\"ip\":\"10.0.0.1\"},\"start\":"),
            std::string::npos)
      << json;
}

// `window D` is tumbling from the group's first event: an event after it opens the next group, which decides on
// its own; at-close conditions decide when the source's watermark passes the window.
TEST(GroupScope, WindowIsTumblingFromTheFirstEvent) {
  auto b = build({std::string(kTestSources) +
                  rule("g.burst", "group by acct window 10m", "step x = kind == \"x\"\n when count(x) >= 2",
                       "{count(x)}") +
                  rule("g.lone", "group by acct window 10m", "step x = kind == \"x\"\n when count(x) < 2",
                       "{count(x)} at {first(x).id}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "u1", "k1", "\"kind\":\"x\",\"acct\":\"A\""),
                                  ev(5, "u2", "k2", "\"kind\":\"x\",\"acct\":\"A\""),    // the same group: fires
                                  ev(11, "u3", "k3", "\"kind\":\"x\",\"acct\":\"A\""),   // past 0 + 10m: a new one
                                  ev(19, "u4", "k4", "\"kind\":\"y\",\"acct\":\"A\""),   // no step: no group
                                  ev(40, "u5", "k5", "\"kind\":\"z\",\"acct\":\"B\"")};  // moves the watermark
  Result r = run(*b->prog, evs);
  auto burst = of(r, "g.burst");
  ASSERT_EQ(burst.size(), 1u);
  EXPECT_EQ(burst[0].message, "2");
  auto lone = of(r, "g.lone");
  ASSERT_EQ(lone.size(), 1u);
  EXPECT_EQ(lone[0].decided, "close");
  EXPECT_EQ(lone[0].event_time, at_ns(11));
  EXPECT_EQ(lone[0].group->start, at_ns(11));
  EXPECT_EQ(lone[0].group->events, 1u);
  // Decided by the watermark (40m - lateness 10m > 11m + 10m), before the end of the input.
  bool before_end = false;
  for (const Alert& a : r.before_finish) before_end = before_end || a.rule == "g.lone";
  EXPECT_TRUE(before_end);
  EXPECT_EQ(r.stats.groups_opened, 4u);  // two per rule
}

// `gap G max M` is a session window: extended by each event within G of the latest, closed at most M after the
// first.
TEST(GroupScope, GapAndMaxMakeASessionWindow) {
  auto b = build({std::string(kTestSources) +
                  rule("g.slow", "group by acct gap 5m max 20m", "step x = kind == \"x\"\n when count(x) >= 1",
                       "{count(x)} {first(x).id} {last(x).id}", "") +
                  rule("g.all", "group by acct gap 5m max 20m", "step x = kind == \"x\"\n when count(x) > 0 and sum(x.n) >= 0",
                       "{count(x)}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs;
  for (int m : {0, 4, 8, 12, 16, 21, 30}) evs.push_back(ev(m, "", "", "\"kind\":\"x\",\"n\":1,\"acct\":\"A\""));
  Result r = run(*b->prog, evs);
  // 0..16 (each within 5m of the last, all within 20m of 0); 21 is past 0 + 20m; 30 is past 21 + 5m.
  auto all = of(r, "g.all");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].message, "5");
  EXPECT_EQ(all[1].message, "1");
  EXPECT_EQ(all[2].message, "1");
  EXPECT_EQ(r.stats.groups_opened, 6u);
}

// Keys of several parts compare as encoded values; an event with a null part joins no group (counted).
TEST(GroupScope, NullKeyPartsJoinNoGroup) {
  auto b = build({std::string(kTestSources) +
                  rule("g.pair", "group by acct, name window 1h", "step x = kind == \"x\"\n when count(x) >= 2",
                       "{count(x)}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "u", "k", "\"kind\":\"x\",\"acct\":\"A\",\"name\":\"n1\""),
                                  ev(1, "u", "k", "\"kind\":\"x\",\"acct\":\"A\""),               // no name
                                  ev(2, "u", "k", "\"kind\":\"x\",\"acct\":\"A\",\"name\":\"n2\""),  // another group
                                  ev(3, "u", "k", "\"kind\":\"x\",\"acct\":\"A\",\"name\":\"n1\"")};
  Result r = run(*b->prog, evs);
  auto got = of(r, "g.pair");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event_time, at_ns(3));
  ASSERT_EQ(got[0].group->key.size(), 2u);
  EXPECT_EQ(got[0].group->key[1].first, "name");
  EXPECT_EQ(got[0].group->key[1].second, "\"n1\"");
  EXPECT_EQ(r.stats.no_group_key, 1u);
  EXPECT_EQ(r.stats.groups_opened, 2u);
}

// Sequences and absence work in a group as in a session; an absence window is decided by the watermark.
TEST(GroupScope, SequenceAndAbsenceWindows) {
  auto b = build({std::string(kTestSources) +
                  rule("g.absent", "group by acct window 1h",
                       "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> not b within 5m", "{first(a).id}") +
                  rule("g.seq", "group by acct window 1h",
                       "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> b within 5m", "{last(b).user}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "u1", "k1", "\"kind\":\"a\",\"acct\":\"A\""),
                                  ev(2, "u2", "k2", "\"kind\":\"b\",\"acct\":\"A\""),   // another identity: same group
                                  ev(3, "u3", "k3", "\"kind\":\"a\",\"acct\":\"B\""),
                                  ev(30, "u9", "k9", "\"kind\":\"z\",\"acct\":\"C\"")};  // watermark past 3 + 5m
  Result r = run(*b->prog, evs);
  auto seq = of(r, "g.seq");
  ASSERT_EQ(seq.size(), 1u);
  EXPECT_EQ(seq[0].message, "u2");
  auto absent = of(r, "g.absent");
  ASSERT_EQ(absent.size(), 1u);
  EXPECT_EQ(absent[0].decided, "window");
  EXPECT_EQ(absent[0].event_time, at_ns(8));
  EXPECT_EQ(absent[0].group->key[0].second, "\"B\"");
}

// Late events (older than the watermark) join no group, as they join no session.
TEST(GroupScope, LateEventsJoinNoGroup) {
  auto b = build({std::string(kTestSources) +
                  rule("g.count", "group by acct window 1h", "step x = kind == \"x\"\n when count(x) >= 2", "{count(x)}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(30, "u", "k", "\"kind\":\"x\",\"acct\":\"A\""),
                                  ev(5, "u", "k", "\"kind\":\"x\",\"acct\":\"A\"")};  // 25m late (lateness 10m)
  Result r = run(*b->prog, evs);
  EXPECT_EQ(r.count("g.count"), 0u);
  EXPECT_EQ(r.stats.late, 1u);
  EXPECT_EQ(r.stats.groups_opened, 1u);
}

// At the cap, the oldest open group closes early: its at-close decision is marked degraded, and counted.
TEST(GroupScope, CapClosesTheOldestGroupDegraded) {
  auto b = build({std::string(kTestSources) +
                  rule("g.few", "group by acct window 1h", "step x = kind == \"x\"\n when count(x) < 5", "{count(x)}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "u", "k", "\"kind\":\"x\",\"acct\":\"A\""),
                                  ev(1, "u", "k", "\"kind\":\"x\",\"acct\":\"B\""),   // evicts A's group
                                  ev(2, "u", "k", "\"kind\":\"x\",\"acct\":\"A\"")};  // a new group of A (evicts B's)
  EngineOptions cap;
  cap.max_open_groups = 1;
  Result r = run(*b->prog, evs, cap);
  auto got = of(r, "g.few");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].degraded);
  EXPECT_TRUE(got[1].degraded);
  EXPECT_FALSE(got[2].degraded);
  EXPECT_EQ(r.stats.groups_evicted, 2u);
  // Two groups of one rule deciding at the same time (close) get different alert ids.
  EXPECT_NE(got[0].id, got[2].id);
  Result free = run(*b->prog, evs);
  auto whole = of(free, "g.few");
  ASSERT_EQ(whole.size(), 2u);
  EXPECT_EQ(whole[0].message, "2");
  for (const Alert& a : whole) EXPECT_FALSE(a.degraded);
  EXPECT_EQ(free.stats.groups_evicted, 0u);
}

// Two groups of one rule closing at the same event time get distinct alert ids (the group id is part of it).
TEST(GroupScope, AlertIdsOfGroupsDecidedTogetherDiffer) {
  auto b = build({std::string(kTestSources) +
                  rule("g.close", "group by acct window 10m", "step x = kind == \"x\"\n when not (count(x) >= 3)",
                       "{count(x)}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "u", "k", "\"kind\":\"x\",\"acct\":\"A\""),
                                  ev(0, "u", "k", "\"kind\":\"x\",\"acct\":\"B\"")};
  Result r = run(*b->prog, evs);
  auto got = of(r, "g.close");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event_time, got[1].event_time);
  EXPECT_NE(got[0].id, got[1].id);
  EXPECT_NE(got[0].group->id, got[1].group->id);
}

}  // namespace
}  // namespace braid::rt::test
