// The engine: routing, sessions (gap, max, lateness, late events), sequences, absence, distinct bounds, chains
// (mints, links), suppression, firing, stats, and the real corpus.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "harness.h"
#include "json.h"

namespace braid::rt::test {
namespace {

std::unique_ptr<Built> with_rules(const std::string& rules) { return build({std::string(kTestSources) + rules}); }

// ---------------------------------------------------------------------------------------------------------------
// Routing and stats

TEST(Engine, RoutingUnroutedMalformedAndNoTime) {
  auto b = with_rules(rule("t.any", "event", "true"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "alice", "k1"), "{\"src\":\"other\",\"ts\":\"x\"}", "{not json",
                            "{\"src\":\"t\",\"user\":\"bob\"}", ev(0, "", "", "", "now"), "[1,2]"});
  EXPECT_EQ(r.stats.records_read, 6u);
  EXPECT_EQ(r.stats.malformed, 2u);  // "{not json" and the array
  EXPECT_EQ(r.stats.events_parsed, 4u);
  EXPECT_EQ(r.stats.unrouted, 1u);
  EXPECT_EQ(r.stats.no_time, 1u);
  EXPECT_EQ(r.stats.sources[0].events, 2u);  // t.src: alice and the one without time
  EXPECT_EQ(r.stats.sources[1].events, 1u);  // t.now
  EXPECT_EQ(r.stats.no_identity, 1u);        // the t.now event has no user
  EXPECT_EQ(r.count("t.any"), 1u);
  // Warnings name the record: "<test>:3: ..."
  bool saw = false;
  for (const auto& w : r.warnings) saw = saw || w.rfind("<test>:3:", 0) == 0;
  EXPECT_TRUE(saw);
}

TEST(Engine, FirstRecognisingSourceWins) {
  // Both sources recognise src == "t"; only the first in program order gets the event.
  std::string text = kTestSources;
  text += R"(
source t.dup {
  recognize src == "t"
  time ts
  identity user
  session gap 30m max 2h
  fields { src: string, ts: time, user?: string }
}
)";
  text += rule("t.on_src", "event", "true");
  text += rule("t.on_dup", "event", "true", "m", "", "t.dup");
  auto b = build({text});
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "alice", "k")});
  EXPECT_EQ(r.count("t.on_src"), 1u);
  EXPECT_EQ(r.count("t.on_dup"), 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions

TEST(Engine, SessionSplitByGap) {
  auto b = with_rules(rule("t.three", "session", "step a = kind == \"x\"\n when count(a) >= 3"));
  ASSERT_TRUE(b->prog);
  // 0, 10, 41: the last is 31 minutes after the previous event (gap 30m): a new session.
  Result split = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(10, "u", "k", "\"kind\":\"x\""),
                                ev(41, "u", "k", "\"kind\":\"x\"")});
  EXPECT_EQ(split.count("t.three"), 0u);
  EXPECT_EQ(split.stats.sessions_opened, 2u);
  EXPECT_EQ(split.stats.sessions_closed, 2u);
  // Exactly 30 minutes is still the same session.
  Result same = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(10, "u", "k", "\"kind\":\"x\""),
                               ev(40, "u", "k", "\"kind\":\"x\"")});
  EXPECT_EQ(same.count("t.three"), 1u);
  EXPECT_EQ(same.stats.sessions_opened, 1u);
  // Another credential of the same identity is another session.
  Result keys = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(1, "u", "k2", "\"kind\":\"x\""),
                               ev(2, "u", "k", "\"kind\":\"x\"")});
  EXPECT_EQ(keys.count("t.three"), 0u);
  EXPECT_EQ(keys.stats.sessions_opened, 2u);
}

TEST(Engine, SessionMaxDurationCut) {
  auto b = with_rules(rule("t.seven", "session", "step a = true\n when session.events >= 7") +
                      rule("t.eight", "session", "step a = true\n when session.events >= 8"));
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs;
  for (int m = 0; m <= 140; m += 20) evs.push_back(ev(m, "u", "k"));  // 8 events, 20 minutes apart
  Result r = run(*b->prog, evs);
  // max 2h: the session holds 0..120 (7 events); the event at 140 starts a new one.
  EXPECT_EQ(r.stats.sessions_opened, 2u);
  EXPECT_EQ(r.count("t.seven"), 1u);
  EXPECT_EQ(r.count("t.eight"), 0u);
  ASSERT_TRUE(r.first("t.seven"));
  EXPECT_EQ(r.first("t.seven")->session->start, at_ns(0));
  EXPECT_EQ(r.first("t.seven")->session->end, at_ns(120));
}

TEST(Engine, CredentialLessEventsShareTheIdentitySession) {
  auto b = with_rules(rule("t.two", "session", "step a = true\n when count(a) >= 2",
                           "{session.identity} {session.credential}"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "u", ""), ev(1, "u", "")});
  ASSERT_EQ(r.count("t.two"), 1u);
  EXPECT_EQ(r.alerts[0].message, "u null");
  EXPECT_FALSE(r.alerts[0].session->credential.has_value());
}

// An empty identity is an identity (the source's `identity` gave a string): its events share a session, whose keys
// are all empty. (The session's key buffer is then never allocated: reading and copying empty keys must not touch it.)
TEST(Engine, EmptyIdentityAndCredentialAreKeys) {
  auto b = with_rules(rule("t.two", "session", "step a = true\n when count(a) >= 2",
                           "[{session.identity}] [{session.credential}]"));
  ASSERT_TRUE(b->prog);
  const std::string empty_keys = R"("user":"","key":"")";
  Result r = run(*b->prog, {ev(0, "", "", empty_keys), ev(1, "", "", empty_keys)});
  ASSERT_EQ(r.count("t.two"), 1u);
  EXPECT_EQ(r.alerts[0].message, "[] []");
  EXPECT_EQ(r.stats.sessions_opened, 1u);
}

// A chain whose only state is a saturated, empty distinct set (a distinct bound of 0, which only the API allows)
// keeps that set across a checkpoint: reading it back and saving again gives the same bytes.
TEST(Engine, CheckpointKeepsASaturatedEmptyChainSet) {
  auto b = with_rules(
      rule("t.ids", "chain", "step a = kind == \"never\"\n when count(a) >= 1 and chain.identities > 5"));
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.processing_time = 0;
  o.distinct_bound = 0;
  Engine e(*b->prog, o);
  e.process_json(ev(0, "u", "k"), "<test>", 1);
  e.process_json(ev(20, "u", "k"), "<test>", 2);  // (releases the first: the lateness is 10m)
  const std::string saved = e.save_state("prog");
  Engine again(*b->prog, o);
  again.load_state(saved, "prog");
  EXPECT_EQ(again.save_state("prog"), saved);
}

TEST(Engine, OutOfOrderWithinLateness) {
  auto b = with_rules(rule("t.seq", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> b within 5m"));
  ASSERT_TRUE(b->prog);
  // b (10:03) arrives before a (10:01); lateness 10m: both are put in event-time order, a -> b holds.
  Result r = run(*b->prog, {ev(3, "u", "k", "\"kind\":\"b\""), ev(1, "u", "k", "\"kind\":\"a\"")});
  EXPECT_EQ(r.stats.late, 0u);
  EXPECT_EQ(r.stats.sessions_opened, 1u);
  EXPECT_EQ(r.count("t.seq"), 1u);
  // A gap bridged by an out-of-order event: 0, 35, then 28 (7 minutes behind, within the lateness): in event
  // time the gaps are 28 and 7 minutes, so one session.
  Result g = run(*b->prog, {ev(0, "v", "k"), ev(35, "v", "k"), ev(28, "v", "k")});
  EXPECT_EQ(g.stats.late, 0u);
  EXPECT_EQ(g.stats.sessions_opened, 1u);
  Result split = run(*b->prog, {ev(0, "v", "k"), ev(35, "v", "k")});
  EXPECT_EQ(split.stats.sessions_opened, 2u);
}

TEST(Engine, LateEventBeyondLateness) {
  auto b = with_rules(rule("t.ev", "event", "kind == \"probe\"", "{session.id}") +
                      rule("t.sess", "session", "step p = kind == \"probe\"\n when p"));
  ASSERT_TRUE(b->prog);
  // Watermark after the 12:00 event: 11:50. The 11:40 event is late.
  Result r = run(*b->prog, {ev(120, "u", "k"), ev(100, "u", "k", "\"kind\":\"probe\"")});
  EXPECT_EQ(r.stats.late, 1u);
  EXPECT_EQ(r.stats.sources[0].late, 1u);
  EXPECT_EQ(r.count("t.ev"), 1u);    // event-scope rules still see it
  EXPECT_EQ(r.count("t.sess"), 0u);  // sessions do not
  ASSERT_TRUE(r.first("t.ev"));
  EXPECT_FALSE(r.first("t.ev")->session.has_value());
  EXPECT_EQ(r.first("t.ev")->message, "null");
  bool warned = false;
  for (const auto& w : r.warnings) warned = warned || w.find("late event") != std::string::npos;
  EXPECT_TRUE(warned);
  // 11:51 is within the lateness: not late.
  Result ok = run(*b->prog, {ev(120, "u", "k"), ev(111, "u", "k", "\"kind\":\"probe\"")});
  EXPECT_EQ(ok.stats.late, 0u);
  EXPECT_EQ(ok.count("t.sess"), 1u);
}

TEST(Engine, SessionsCloseOnTheWatermarkBeforeTheEnd) {
  // An at-close rule decides when the watermark passes last + gap, before the input ends.
  auto b = with_rules(rule("t.close", "session", "step a = kind == \"a\"\n when count(a) == 1"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(20, "other", "k9"), ev(41, "other", "k9"),
                            ev(45, "other", "k9")});
  // Watermark at the last event: 35m; u's session (last 0 + gap 30) closes at 30 < 35.
  EXPECT_EQ(r.before_finish.size(), 1u);
  ASSERT_EQ(r.count("t.close"), 1u);
  EXPECT_EQ(r.alerts[0].decided, "close");
  EXPECT_EQ(r.alerts[0].event_time, at_ns(0));
}

// ---------------------------------------------------------------------------------------------------------------
// Sequences and absence

TEST(Engine, SequenceWithAndWithoutWithin) {
  auto b = with_rules(
      rule("t.w", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> b within 5m") +
      rule("t.nw", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> b") +
      rule("t.abc", "session",
           "step a = kind == \"a\"\n step b = kind == \"b\"\n step c = kind == \"c\"\n when a -> b -> c within 10m"));
  ASSERT_TRUE(b->prog);
  Result in_time = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(4, "u", "k", "\"kind\":\"b\"")});
  EXPECT_EQ(in_time.count("t.w"), 1u);
  EXPECT_EQ(in_time.count("t.nw"), 1u);
  Result too_late = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(6, "u", "k", "\"kind\":\"b\"")});
  EXPECT_EQ(too_late.count("t.w"), 0u);
  EXPECT_EQ(too_late.count("t.nw"), 1u);
  Result reversed = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"b\""), ev(1, "u", "k", "\"kind\":\"a\"")});
  EXPECT_EQ(reversed.count("t.w"), 0u);
  EXPECT_EQ(reversed.count("t.nw"), 0u);
  // The latest a is used: a(0) a(8) b(12) fits within 5m through a(8).
  Result latest = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(8, "u", "k", "\"kind\":\"a\""),
                                 ev(12, "u", "k", "\"kind\":\"b\"")});
  EXPECT_EQ(latest.count("t.w"), 1u);
  // Three steps: a b c in 10m; c out of the window of the only a fails.
  Result abc = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(3, "u", "k", "\"kind\":\"b\""),
                              ev(9, "u", "k", "\"kind\":\"c\"")});
  EXPECT_EQ(abc.count("t.abc"), 1u);
  Result abc_late = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(3, "u", "k", "\"kind\":\"b\""),
                                   ev(11, "u", "k", "\"kind\":\"c\"")});
  EXPECT_EQ(abc_late.count("t.abc"), 0u);
  Result acb = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(3, "u", "k", "\"kind\":\"c\""),
                              ev(4, "u", "k", "\"kind\":\"b\"")});
  EXPECT_EQ(acb.count("t.abc"), 0u);
  // Steps alert data: counts and event ids.
  const Alert* a = in_time.first("t.w");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->steps.size(), 2u);
  EXPECT_EQ(a->steps[0].step, "a");
  EXPECT_EQ(a->steps[0].count, 1u);
  EXPECT_EQ(a->steps[0].event_ids.size(), 1u);
  EXPECT_EQ(a->decided, "event");
}

TEST(Engine, SequenceNeedsDifferentEvents) {
  auto b = with_rules(rule("t.same", "session", "step a = n >= 1\n step b = n >= 1\n when a -> b within 5m"));
  ASSERT_TRUE(b->prog);
  EXPECT_EQ(run(*b->prog, {ev(0, "u", "k", "\"n\":1")}).count("t.same"), 0u);
  EXPECT_EQ(run(*b->prog, {ev(0, "u", "k", "\"n\":1"), ev(0, "u", "k", "\"n\":2")}).count("t.same"), 1u);
}

TEST(Engine, AbsenceDecidedAtClose) {
  auto b = with_rules(rule("t.nob", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a and not b"));
  ASSERT_TRUE(b->prog);
  Result only_a = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(5, "u", "k")});
  ASSERT_EQ(only_a.count("t.nob"), 1u);
  EXPECT_TRUE(only_a.before_finish.empty());  // decided at the end, not on the event
  EXPECT_EQ(only_a.alerts[0].decided, "close");
  EXPECT_FALSE(only_a.alerts[0].event_id.has_value());
  Result with_b = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(25, "u", "k", "\"kind\":\"b\"")});
  EXPECT_EQ(with_b.count("t.nob"), 0u);
}

TEST(Engine, AbsenceAfterWindow) {
  auto b = with_rules(
      rule("t.stop", "session", "step a = kind == \"stop\"\n step b = kind == \"start\"\n when a -> not b within 10m") +
      rule("t.stop_nw", "session", "step a = kind == \"stop\"\n step b = kind == \"start\"\n when a -> not b"));
  ASSERT_TRUE(b->prog);
  // stop at 0, other events at 5, 15, 25: at 25 the watermark (15) has passed 0 + 10m: decided then.
  Result r = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"stop\""), ev(5, "u", "k"), ev(15, "u", "k"),
                            ev(25, "u", "k")});
  ASSERT_EQ(r.count("t.stop"), 1u);
  ASSERT_GE(r.before_finish.size(), 1u);
  EXPECT_EQ(r.before_finish[0].rule, "t.stop");
  EXPECT_EQ(r.before_finish[0].decided, "window");
  EXPECT_EQ(r.before_finish[0].event_time, at_ns(10));
  EXPECT_EQ(r.count("t.stop_nw"), 1u);  // no window: decided at close
  // start within 10m: no alert.
  Result restarted = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"stop\""), ev(8, "u", "k", "\"kind\":\"start\""),
                                    ev(25, "u", "k")});
  EXPECT_EQ(restarted.count("t.stop"), 0u);
  EXPECT_EQ(restarted.count("t.stop_nw"), 0u);
  // start after 10m: the window had passed.
  Result after = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"stop\""), ev(12, "u", "k", "\"kind\":\"start\"")});
  EXPECT_EQ(after.count("t.stop"), 1u);
  EXPECT_EQ(after.count("t.stop_nw"), 0u);
  // A second stop after a start starts a new window.
  Result twice = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"stop\""), ev(2, "u", "k", "\"kind\":\"start\""),
                                ev(4, "u", "k", "\"kind\":\"stop\"")});
  EXPECT_EQ(twice.count("t.stop"), 1u);
  // The session closes (gap) before the window ends: decided at close.
  Result closed = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"stop\"")});
  EXPECT_EQ(closed.count("t.stop"), 1u);
}

TEST(Engine, AbsenceAfterTwoSteps) {
  // a -> b -> not c within 10m: no c after the b, up to 10m after the a.
  auto b = with_rules(rule("t.abnc", "session",
                           "step a = kind == \"a\"\n step b = kind == \"b\"\n step c = kind == \"c\"\n"
                           " when a -> b -> not c within 10m"));
  ASSERT_TRUE(b->prog);
  EXPECT_EQ(run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(2, "u", "k", "\"kind\":\"b\""),
                           ev(5, "u", "k", "\"kind\":\"c\"")})
                .count("t.abnc"),
            0u);
  EXPECT_EQ(run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(2, "u", "k", "\"kind\":\"b\""),
                           ev(11, "u", "k", "\"kind\":\"c\"")})
                .count("t.abnc"),
            1u);
  // The earliest a decides: a(0) a(5) b(6) c(12): the window of a(0) ended at 10 with no c.
  EXPECT_EQ(run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(5, "u", "k", "\"kind\":\"a\""),
                           ev(6, "u", "k", "\"kind\":\"b\""), ev(12, "u", "k", "\"kind\":\"c\"")})
                .count("t.abnc"),
            1u);
  // b outside the window of a: nothing to decide.
  EXPECT_EQ(run(*b->prog, {ev(0, "u", "k", "\"kind\":\"a\""), ev(11, "u", "k", "\"kind\":\"b\"")}).count("t.abnc"),
            0u);
}

// ---------------------------------------------------------------------------------------------------------------
// Aggregates

TEST(Engine, DistinctAtItsBound) {
  auto b = with_rules(
      rule("t.d3", "session", "step a = exists(name)\n when distinct(a.name) >= 3") +
      rule("t.d4", "session", "step a = exists(name)\n when distinct(a.name) >= 4") +
      rule("t.dclose", "session", "step a = exists(name)\n step z = kind == \"z\"\n when count(a) >= 5 and not z",
           "{distinct(a.name)} names"));
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs;
  for (int i = 0; i < 5; ++i) evs.push_back(ev(i, "u", "k", "\"name\":\"n" + std::to_string(i) + "\""));
  EngineOptions o;
  o.distinct_bound = 3;
  Result r = run(*b->prog, evs, o);
  EXPECT_EQ(r.count("t.d3"), 1u);
  EXPECT_EQ(r.count("t.d4"), 0u);  // the count stops at the bound
  const Alert* a = r.first("t.dclose");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->message, "3 names");
  ASSERT_EQ(a->saturated.size(), 1u);
  EXPECT_EQ(a->saturated[0], "distinct(a.name)");
  ASSERT_TRUE(r.first("t.d3"));
  EXPECT_TRUE(r.first("t.d3")->saturated.empty());  // fired at exactly 3: exact
  // With the default bound all five are counted, case-folded (name is nocase? no: distinct is exact bytes).
  Result d = run(*b->prog, evs);
  EXPECT_EQ(d.count("t.d4"), 1u);
  EXPECT_EQ(d.first("t.dclose")->message, "5 names");
}

TEST(Engine, AggregatesFirstLastSumMinMax) {
  auto b = with_rules(rule("t.agg", "session",
                           "step a = exists(n)\n step z = kind == \"z\"\n when count(a) >= 1 and not z",
                           "{count(a)} {sum(a.n)} {min(a.n)} {max(a.n)} {first(a).n} {last(a).n} {a.n} "
                           "{session.events} {session.source_ips} {session.duration}"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "u", "k", "\"n\":5,\"ip\":\"10.0.0.1\""), ev(1, "u", "k", "\"n\":-2,\"ip\":\"10.0.0.2\""),
                            ev(2, "u", "k", "\"n\":9,\"ip\":\"10.0.0.1\""), ev(3, "u", "k", "\"n\":4"), ev(4, "u", "k")});
  ASSERT_EQ(r.count("t.agg"), 1u);
  EXPECT_EQ(r.alerts[0].message, "4 16 -2 9 5 4 4 5 2 4m");
  ASSERT_EQ(r.alerts[0].values.size(), 10u);
  EXPECT_EQ(r.alerts[0].values[0].expr, "count(a)");
  EXPECT_EQ(r.alerts[0].values[0].json, "4");
  EXPECT_EQ(r.alerts[0].values[9].json, "\"4m\"");
}

TEST(Engine, MonotoneFiresOnTheDecidingEventOncePerSession) {
  auto b = with_rules(rule("t.c2", "session", "step a = kind == \"a\"\n when count(a) >= 2"));
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs;
  for (int i = 0; i < 6; ++i) evs.push_back(ev(i, "u", "k", "\"kind\":\"a\",\"id\":\"x" + std::to_string(i) + "\""));
  // (the explicit "id" member duplicates the harness's; the first occurrence wins, so ids stay e<N>)
  Result r = run(*b->prog, evs);
  ASSERT_EQ(r.count("t.c2"), 1u);
  EXPECT_EQ(r.alerts[0].event_time, at_ns(1));
  EXPECT_EQ(r.alerts[0].decided, "event");
  EXPECT_TRUE(r.alerts[0].event_id.has_value());
}

// ---------------------------------------------------------------------------------------------------------------
// Chains

TEST(Engine, ChainDepthThreeAcrossTwoIdentities) {
  // alice (AKIA1) mints ASIA1 for the role; the role session creates a new key AKIA2 for alice: three sessions,
  // two identities.
  auto b = with_rules(rule("t.deep", "chain", "step x = true\n when chain.depth >= 2",
                           "{chain.root.identity} {chain.identities} {chain.depth} {chain.accounts}"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog,
                 {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\",\"acct\":\"111\""),
                  ev(1, "role/admin", "ASIA1", "\"acct\":\"222\""),
                  ev(2, "role/admin", "ASIA1", "\"kind\":\"mint\",\"newkey\":\"AKIA2\",\"acct\":\"222\""),
                  ev(3, "alice", "AKIA2", "\"acct\":\"111\""), ev(4, "bob", "AKIA9")});
  ASSERT_EQ(r.count("t.deep"), 1u);
  const Alert& a = *r.first("t.deep");
  EXPECT_EQ(a.message, "alice 2 2 2");
  ASSERT_EQ(a.chain.size(), 3u);
  EXPECT_EQ(a.chain[0].identity, "alice");
  EXPECT_EQ(a.chain[0].credential, "AKIA1");
  EXPECT_EQ(a.chain[1].identity, "role/admin");
  EXPECT_EQ(a.chain[1].link, "mint");
  EXPECT_EQ(a.chain[2].identity, "alice");
  EXPECT_EQ(a.chain[2].credential, "AKIA2");
  ASSERT_TRUE(a.chain[0].minted_by_event.has_value());
  ASSERT_TRUE(a.chain[1].minted_by_event.has_value());
  EXPECT_FALSE(a.chain[2].minted_by_event.has_value());
  EXPECT_NE(*a.chain[0].minted_by_event, *a.chain[1].minted_by_event);
  EXPECT_EQ(r.stats.chains, 1u);
  EXPECT_EQ(r.stats.chain_max_depth, 3u);
  EXPECT_EQ(r.stats.chain_links, 2u);
  ASSERT_FALSE(r.chains.empty());
  EXPECT_EQ(r.chains[0].sessions, 3u);
  EXPECT_EQ(r.chains[0].depth, 3u);
  EXPECT_EQ(r.chains[0].root_identity, "alice");
  EXPECT_EQ(r.chains.size(), 2u);  // and bob alone
}

TEST(Engine, MintRetentionEvicts) {
  auto b = with_rules(rule("t.deep", "chain", "step x = true\n when chain.depth >= 1"));
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.mint_retention = int64_t{60} * 60 * 1000000000;  // 1h
  // The key is used 3h later (another event in between moves time on): no longer a child.
  Result r = run(*b->prog, {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""), ev(150, "x", "y"),
                            ev(180, "role", "ASIA1")},
                 o);
  EXPECT_EQ(r.count("t.deep"), 0u);
  EXPECT_EQ(r.stats.mints_recorded, 1u);
  EXPECT_EQ(r.stats.mints_evicted, 1u);
  Result kept = run(*b->prog, {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""), ev(150, "x", "y"),
                               ev(180, "role", "ASIA1")});
  EXPECT_EQ(kept.count("t.deep"), 1u);  // default 36h
  EXPECT_EQ(kept.stats.mints_evicted, 0u);
}

TEST(Engine, CrossSourceLink) {
  auto b = with_rules(rule("t.sso_then", "chain", "step sso = kind == \"sso\"\n step act = kind == \"act\"\n"
                                                  " when sso -> act within 1h",
                           "{chain.root.identity} then {act.user}", "", "t.idp, t.src"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "Alice@Example.com", "", "\"sid\":\"s1\",\"kind\":\"sso\"", "idp"),
                            ev(2, "arn:saml/alice", "", "\"kind\":\"saml\",\"name\":\"alice@example.com\""),
                            ev(3, "arn:saml/alice", "", "\"kind\":\"act\"")});
  ASSERT_EQ(r.count("t.sso_then"), 1u);
  const Alert& a = *r.first("t.sso_then");
  EXPECT_EQ(a.message, "alice@example.com then arn:saml/alice");
  ASSERT_EQ(a.chain.size(), 2u);
  EXPECT_EQ(a.chain[0].source, "t.idp");
  EXPECT_EQ(a.chain[1].source, "t.src");
  EXPECT_EQ(a.chain[1].link, "link");
  EXPECT_EQ(r.stats.chain_links, 1u);
  // Outside the link window (10m): two separate chains, no alert.
  Result far = run(*b->prog, {ev(0, "Alice@Example.com", "", "\"sid\":\"s1\",\"kind\":\"sso\"", "idp"),
                              ev(12, "arn:saml/alice", "", "\"kind\":\"saml\",\"name\":\"alice@example.com\""),
                              ev(13, "arn:saml/alice", "", "\"kind\":\"act\"")});
  EXPECT_EQ(far.count("t.sso_then"), 0u);
  EXPECT_EQ(far.stats.chain_links, 0u);
  // Another key: no link.
  Result other = run(*b->prog, {ev(0, "bob@example.com", "", "\"sid\":\"s1\",\"kind\":\"sso\"", "idp"),
                                ev(2, "arn:saml/alice", "", "\"kind\":\"saml\",\"name\":\"alice@example.com\"")});
  EXPECT_EQ(other.stats.chain_links, 0u);
}

TEST(Engine, ChainAtCloseRule) {
  auto b = with_rules(rule("t.noact", "chain", "step m = kind == \"mint\"\n step act = kind == \"act\"\n"
                                               " when m and not act"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""), ev(1, "role", "ASIA1")});
  ASSERT_EQ(r.count("t.noact"), 1u);
  EXPECT_EQ(r.alerts[0].decided, "close");
  EXPECT_EQ(r.alerts[0].chain.size(), 2u);
  Result acted = run(*b->prog, {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""),
                                ev(1, "role", "ASIA1", "\"kind\":\"act\"")});
  EXPECT_EQ(acted.count("t.noact"), 0u);  // the act is in the child session: the chain sees it
}

// ---------------------------------------------------------------------------------------------------------------
// Suppression

TEST(Engine, SuppressionByKeysWithinWindow) {
  auto b = with_rules(rule("t.ev", "event", "kind == \"x\"", "{user}", "  suppress 1h by user\n") +
                      rule("t.ses", "session", "step a = kind == \"x\"\n when a", "{session.identity}",
                           "  suppress 1h by session.identity\n") +
                      rule("t.all", "event", "kind == \"x\"", "m", "  suppress 30m\n"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "u1", "k1", "\"kind\":\"x\""), ev(5, "u2", "k2", "\"kind\":\"x\""),
                            ev(10, "u1", "k1", "\"kind\":\"x\""), ev(11, "u1", "k3", "\"kind\":\"x\""),
                            ev(70, "u1", "k1", "\"kind\":\"x\"")});
  EXPECT_EQ(r.count("t.ev"), 3u);  // u1@0, u2@5, u1@70
  EXPECT_EQ(r.count("t.ses"), 3u);  // u1 k1 session, u2, (u1 k3 suppressed), u1's new session at 70
  EXPECT_EQ(r.count("t.all"), 2u);  // 0 and 70
  size_t suppressed = 0;
  for (const auto& s : r.stats.rules)
    if (s.id == "t.ev") suppressed = s.suppressed;
  EXPECT_EQ(suppressed, 2u);
}

// ---------------------------------------------------------------------------------------------------------------
// Engine API

TEST(Engine, OnlyRulesAndDisabled) {
  auto b = with_rules(rule("t.a", "event", "true") + rule("t.b", "event", "true", "m", "  enabled false\n"));
  ASSERT_TRUE(b->prog);
  EXPECT_EQ(run(*b->prog, {ev(0, "u", "k")}).alerts.size(), 1u);  // t.b disabled
  EngineOptions o;
  o.only_rules = {"t.b"};
  o.include_disabled = true;
  Result r = run(*b->prog, {ev(0, "u", "k")}, o);
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].rule, "t.b");
}

TEST(Engine, JsonArrayInputAndDeterministicIds) {
  auto b = with_rules(rule("t.s", "session", "step a = true\n when count(a) >= 2", "{session.id}"));
  ASSERT_TRUE(b->prog);
  std::string arr = "[" + ev(0, "u", "k") + "," + ev(1, "u", "k") + "]";
  std::string ids[2];
  for (auto& id : ids) {
    EngineOptions o;
    o.processing_time = 0;
    Engine e(*b->prog, o);
    std::vector<Alert> got;
    e.set_sink([&](const Alert& a) { got.push_back(a); });
    EXPECT_TRUE(e.process_json_array(arr));
    e.finish();
    ASSERT_EQ(got.size(), 1u);
    id = got[0].session->id;
    EXPECT_EQ(got[0].message, id);
    EXPECT_EQ(e.stats().records_read, 2u);
  }
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[0].size(), 16u);
}

TEST(Engine, RuleTimingAndEvaluations) {
  auto b = with_rules(rule("t.a", "event", "kind == \"x\""));
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.rule_timing = true;
  Result r = run(*b->prog, {ev(0, "u", "k"), ev(1, "u", "k", "\"kind\":\"x\"")}, o);
  ASSERT_EQ(r.stats.rules.size(), 1u);
  EXPECT_EQ(r.stats.rules[0].evaluations, 2u);
  EXPECT_EQ(r.stats.rules[0].alerts, 1u);
  EXPECT_GT(r.stats.rules[0].nanos, 0u);
}

// A rule whose condition reads attributes is visited after every event, unless a conjunct that reads none is
// false before any step matched: then it is not visited until a step matches (the work follows what matched).
TEST(Engine, AttributeRulesWaitForAStepWhenTheyCannotHoldBefore) {
  auto b = with_rules(rule("t.gated", "session", "step a = kind == \"x\"\n when count(a) >= 1 and session.events >= 3") +
                      rule("t.open", "session", "step a = kind == \"x\"\n when session.events >= 3"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "u", "k"), ev(1, "u", "k"), ev(2, "u", "k"), ev(3, "u", "k", "\"kind\":\"x\"")});
  EXPECT_EQ(r.count("t.open"), 1u);   // fires at the third event, no step needed
  EXPECT_EQ(r.count("t.gated"), 1u);  // fires at the fourth, the first that matched its step
  for (const auto& s : r.stats.rules) {
    if (s.id == "t.gated") {
      EXPECT_EQ(s.evaluations, 1u);  // the matching event only (it fired, so not at the close either)
    }
    if (s.id == "t.open") {
      EXPECT_EQ(s.evaluations, 3u);  // every event until it fired
    }
  }
}

// Equal steps of different session rules share one step cell per session (count, event ids, aggregates): every
// rule still reads exactly what it would alone, from its own first step match on.
TEST(Engine, EqualStepsOfSessionRulesShareStateWithoutChangingResults) {
  const std::string a = "step a = kind == \"x\"\n";
  const std::string rules = rule("t.two", "session", a + " when count(a) >= 2", "{count(a)} {distinct(a.n)}") +
                            rule("t.three", "session", a + " when count(a) >= 3 and distinct(a.n) >= 2",
                                 "{count(a)} {distinct(a.n)}") +
                            rule("t.seq", "session", a + " step b = kind == \"y\"\n when a -> b within 10m",
                                 "{count(a)} {count(b)}");
  auto together = with_rules(rules);
  ASSERT_TRUE(together->prog);
  std::vector<std::string> events = {ev(0, "u", "k", "\"kind\":\"x\",\"n\":1"),
                                     ev(1, "u", "k", "\"kind\":\"x\",\"n\":1"),
                                     ev(2, "u", "k", "\"kind\":\"y\""),
                                     ev(3, "u", "k", "\"kind\":\"x\",\"n\":2")};
  Result r = run(*together->prog, events);
  ASSERT_EQ(r.count("t.two"), 1u);
  EXPECT_EQ(r.first("t.two")->message, "2 1");
  ASSERT_EQ(r.first("t.two")->steps.size(), 1u);
  EXPECT_EQ(r.first("t.two")->steps[0].count, 2u);
  EXPECT_EQ(r.first("t.two")->steps[0].event_ids.size(), 2u);
  ASSERT_EQ(r.count("t.three"), 1u);
  EXPECT_EQ(r.first("t.three")->message, "3 2");
  ASSERT_EQ(r.count("t.seq"), 1u);
  EXPECT_EQ(r.first("t.seq")->message, "2 1");
  // Each rule alone raises the same alert.
  for (const char* id : {"t.two", "t.three", "t.seq"}) {
    EngineOptions o;
    o.only_rules = {id};
    Result alone = run(*together->prog, events, o);
    ASSERT_EQ(alone.count(id), 1u) << id;
    EXPECT_EQ(alone.first(id)->message, r.first(id)->message) << id;
    EXPECT_EQ(alone.first(id)->event_time, r.first(id)->event_time) << id;
    EXPECT_EQ(alone.first(id)->steps[0].event_ids, r.first(id)->steps[0].event_ids) << id;
  }
}

// A sequence's first stage is read from its step's cell: the latest match of the first step at an EARLIER event.
// One event matching both steps of `a -> b` does not complete it (one event fills at most one item); the next `b`
// does, with the first event as its start.
TEST(Engine, SequenceHeadFromSharedCellIsTheLatestEarlierMatch) {
  const std::string body = " step a = kind startswith \"x\"\n step b = kind == \"xy\"\n when a -> b within 5m";
  auto b = with_rules(rule("t.s1", "session", body) + rule("t.count", "session", " step a = kind startswith \"x\"\n when count(a) >= 9"));
  ASSERT_TRUE(b->prog);
  Result once = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"xy\"")});
  EXPECT_EQ(once.count("t.s1"), 0u);  // both steps on one event: not a sequence
  Result twice = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"xy\""), ev(1, "u", "k", "\"kind\":\"xy\"")});
  EXPECT_EQ(twice.count("t.s1"), 1u);
  Result late = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(6, "u", "k", "\"kind\":\"xy\"")});
  EXPECT_EQ(late.count("t.s1"), 0u);  // the start is out of the window; the second event's own `a` is too late
  Result again = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(6, "u", "k", "\"kind\":\"xy\""),
                                ev(7, "u", "k", "\"kind\":\"xy\"")});
  EXPECT_EQ(again.count("t.s1"), 1u);  // started by the second event's `a`
}

// A session rule whose sequence conjunct has not matched is not visited by events that only feed its first step
// or its aggregates (they live in step cells): its work follows the steps that can change its outcome.
TEST(Engine, RulesAreNotVisitedForStepsThatCannotChangeThem) {
  auto b = with_rules(rule("t.q", "session", " step a = kind == \"x\"\n step b = kind == \"y\"\n when count(a) >= 2 and a -> b"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(1, "u", "k", "\"kind\":\"x\""),
                            ev(2, "u", "k", "\"kind\":\"x\""), ev(3, "u", "k", "\"kind\":\"y\"")});
  ASSERT_EQ(r.count("t.q"), 1u);
  ASSERT_EQ(r.stats.rules.size(), 1u);
  EXPECT_EQ(r.stats.rules[0].evaluations, 1u);  // only the `b` event
  ASSERT_EQ(r.first("t.q")->steps.size(), 2u);
  EXPECT_EQ(r.first("t.q")->steps[0].count, 3u);
}

// A trailing absence only cancels a pending match: before there is one, its step's events do not visit the rule;
// once there is one (the state is watched), they do, and cancel it.
TEST(Engine, TrailingAbsenceVisitsOnlyRulesWithAPendingMatch) {
  auto b = with_rules(rule("t.abs", "session",
                           " step a = kind == \"x\"\n step b = kind == \"y\"\n step c = kind == \"z\"\n"
                           " when a -> b -> not c within 10m"));
  ASSERT_TRUE(b->prog);
  auto evals = [](const Result& r) { return r.stats.rules.at(0).evaluations; };
  Result killed = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(1, "u", "k", "\"kind\":\"z\""),
                                 ev(2, "u", "k", "\"kind\":\"z\""), ev(3, "u", "k", "\"kind\":\"z\""),
                                 ev(4, "u", "k", "\"kind\":\"y\""), ev(5, "u", "k", "\"kind\":\"z\"")});
  EXPECT_EQ(killed.count("t.abs"), 0u);  // the z at 5 cancelled the pending match of the y at 4
  EXPECT_EQ(evals(killed), 3u);          // the y, the z after it, the close: not the z's before it
  Result kept = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\""), ev(1, "u", "k", "\"kind\":\"z\""),
                               ev(4, "u", "k", "\"kind\":\"y\"")});
  ASSERT_EQ(kept.count("t.abs"), 1u);  // the window after the y passed without a z
}

// An armed rule whose condition reads session.source_ips (and nothing that changes with every event) is visited
// by events that add a source ip, not by every event.
TEST(Engine, SourceIpConditionsAreVisitedWhenTheIpsChange) {
  auto b = with_rules(rule("t.ips", "session",
                           " step a = kind == \"x\"\n step b = kind == \"y\"\n when a -> b and session.source_ips >= 2"));
  ASSERT_TRUE(b->prog);
  const std::string ip1 = "\"ip\":\"192.0.2.1\"", ip2 = "\"ip\":\"192.0.2.2\"";
  Result r = run(*b->prog, {ev(0, "u", "k", "\"kind\":\"x\"," + ip1), ev(1, "u", "k", "\"kind\":\"y\"," + ip1),
                            ev(2, "u", "k", ip1), ev(3, "u", "k", ip1), ev(4, "u", "k", ip1), ev(5, "u", "k", ip2),
                            ev(6, "u", "k", ip2)});
  ASSERT_EQ(r.count("t.ips"), 1u);
  EXPECT_EQ(r.first("t.ips")->event_time, at_ns(5));  // the event that brought the second ip
  EXPECT_EQ(r.stats.rules.at(0).evaluations, 2u);      // the y, then the new ip: not the events between
}

// Rules of one source are not evaluated on another source's events.
TEST(Engine, RulesApplyOnlyToTheirSources) {
  auto b = with_rules(rule("t.a", "event", "true") + rule("t.n", "event", "true", "m", "", "t.now"));
  ASSERT_TRUE(b->prog);
  Result r = run(*b->prog, {ev(0, "u", "k", "", "now"), ev(0, "u", "k", "", "now")});
  EXPECT_EQ(r.count("t.n"), 2u);
  EXPECT_EQ(r.count("t.a"), 0u);
  for (const auto& s : r.stats.rules) {
    if (s.id == "t.a") {
      EXPECT_EQ(s.evaluations, 0u);
    }
  }
}

// A stream with malformed lines is processed to the end: every bad line is counted with its file and line, and
// the good events around them produce their alerts.
TEST(Engine, MalformedInputIsCountedAndSkipped) {
  auto b = with_rules(rule("t.ev", "event", "kind == \"x\"", "{id}"));
  ASSERT_TRUE(b->prog);
  std::string path = ::testing::TempDir() + "/braid_rt_malformed.ndjson";
  {
    std::ofstream out(path, std::ios::binary);
    out << ev(0, "u", "k", "\"kind\":\"x\"") << "\n";                           // 1 good
    out << "{\"src\":\"t\",\"ts\":\"" << at(1) << "\",\"kind\":\"x\"\n";       // 2 truncated
    out << "{\"src\":\"t\",\"ts\":\"" << at(1) << "\",\"user\":\"\xff\xfe\"}\n";  // 3 invalid UTF-8
    out << "{\"src\":\"t\",\"ts\":\"" << at(1) << "\",\"pad\":\"" << std::string(size_t{20} << 20, 'a') << "\"}\n";  // 4: 20 MB
    out << "{\"src\":\"t\",\"ts\":\"" << at(2) << "\",\"id\":\"wrong\",\"user\":5,\"n\":\"x\",\"kind\":\"x\"}\n";  // 5 wrong types
    out << "{\"src\":\"t\",\"id\":\"notime\",\"user\":\"u\",\"kind\":\"x\"}\n";  // 6 missing time
    out << ev(3, "u", "k", "\"kind\":\"x\"") << "\n";                           // 7 good
  }
  EngineOptions o;
  o.processing_time = 0;
  std::vector<std::string> warnings;
  o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  Engine e(*b->prog, o);
  std::vector<Alert> alerts;
  e.set_sink([&](const Alert& a) { alerts.push_back(a); });
  EXPECT_TRUE(e.process_inputs({path}));
  e.finish();
  const auto& st = e.stats();
  EXPECT_EQ(st.malformed, 3u);  // truncated, invalid UTF-8, too large
  EXPECT_EQ(st.no_time, 1u);
  EXPECT_EQ(st.type_mismatches, 1u);  // user 5 (n is read by no rule: not extracted)
  EXPECT_EQ(st.no_identity, 1u);      // the wrong-typed user reads as null
  ASSERT_EQ(alerts.size(), 3u);       // lines 1, 5 (event rules still run) and 7
  EXPECT_EQ(alerts[1].message, "wrong");
  for (int line : {2, 3, 4, 6}) {
    std::string where = path + ":" + std::to_string(line) + ":";
    bool found = false;
    for (const auto& w : warnings) found = found || w.rfind(where, 0) == 0;
    EXPECT_TRUE(found) << "no warning for line " << line;
  }
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------------------------------------------
// Real data

TEST(Corpus, Ec2GetPasswordDataIsOneChainOfDepthTwo) {
  std::string path = std::string(BRAID_CORPORA_DIR) + "/stratus/aws.credential-access.ec2-get-password-data.ndjson";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found: " << path << " (../shared is absent)";
  auto b = build({}, true);
  ASSERT_TRUE(b->prog);
  EngineOptions o;
  o.processing_time = 0;
  Engine e(*b->prog, o);
  ASSERT_TRUE(e.process_inputs({path}));
  e.finish();
  const auto& st = e.stats();
  EXPECT_EQ(st.records_read, 34u);
  EXPECT_EQ(st.malformed, 0u);
  EXPECT_EQ(st.unrouted, 0u);
  EXPECT_EQ(st.sessions_opened, 2u);
  EXPECT_EQ(st.sessions_closed, 2u);
  EXPECT_EQ(st.chains, 1u);
  EXPECT_EQ(st.chain_max_depth, 2u);
  auto chains = e.chains();
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].sessions, 2u);
  EXPECT_EQ(chains[0].depth, 2u);
  EXPECT_EQ(chains[0].events, 34u);
  EXPECT_EQ(chains[0].root_identity, "arn:aws:iam::457448411975:user/christophe");
}

// Every stratus file: processed without malformed records; sessions and chains are formed.
TEST(Corpus, AllStratusFiles) {
  std::string dir = std::string(BRAID_CORPORA_DIR) + "/stratus";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "corpus not found: " << dir;
  auto b = build({}, true);
  ASSERT_TRUE(b->prog);
  std::vector<std::string> files;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().extension() == ".ndjson") files.push_back(f.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    Engine e(*b->prog, {});
    ASSERT_TRUE(e.process_inputs({f}));
    e.finish();
    const auto& st = e.stats();
    EXPECT_EQ(st.malformed, 0u) << f;
    EXPECT_GT(st.events_parsed, 0u) << f;
    EXPECT_EQ(st.sessions_opened, st.sessions_closed) << f;
    EXPECT_GE(st.sessions_opened, 1u) << f;
    uint64_t events = 0;
    for (const auto& c : e.chains()) events += c.events;
    EXPECT_EQ(events + st.no_identity + st.late + st.unrouted + st.no_time, st.events_parsed) << f;
  }
}

}  // namespace
}  // namespace braid::rt::test

namespace braid::rt::test {
namespace {

// The shipped rules' embedded tests, run through this engine (what `braid test` does): every test's expectation
// holds. Partial alerts are compared on the members they list (strings, numbers, booleans, at the top level).
TEST(ShippedRules, EmbeddedTestsPass) {
  std::string dir = std::string(BRAID_SOURCE_DIR) + "/rules";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no rules/ directory";
  auto comp = compile({dir});
  ASSERT_TRUE(comp->program) << "the shipped rules do not check";
  ASSERT_FALSE(comp->diags.has_errors());
  const ir::Program& p = *comp->program;
  size_t tests = 0;
  for (const auto& r : p.rules) {
    for (const auto& t : r.tests) {
      ++tests;
      EngineOptions o;
      o.only_rules = {r.id};
      o.include_disabled = true;
      o.processing_time = 0;
      Engine e(p, o);
      std::vector<std::string> got;
      e.set_sink([&](const Alert& a) { got.push_back(render_alert_json(a)); });
      for (const auto& evs : t.events) {
        bool ok = evs.file.empty() ? e.process_json_array(evs.json) : e.process_inputs({evs.file});
        EXPECT_TRUE(ok) << evs.file;
      }
      e.finish();
      std::string what = r.id + " / " + t.name;
      EXPECT_EQ(e.stats().malformed, 0u) << what;
      switch (t.expect) {
        case ir::TestCase::Expect::None: EXPECT_EQ(got.size(), 0u) << what; break;
        case ir::TestCase::Expect::Count: EXPECT_EQ(got.size(), static_cast<size_t>(t.count)) << what; break;
        case ir::TestCase::Expect::Alerts: {
          testjson::Value want = testjson::Parser(t.alerts_json).parse_document();
          ASSERT_EQ(got.size(), want.items.size()) << what;
          for (size_t i = 0; i < got.size(); ++i) {
            testjson::Value a = testjson::Parser(got[i]).parse_document();
            for (const auto& [k, v] : want.items[i].members) {
              const testjson::Value* x = a.get(k);
              ASSERT_NE(x, nullptr) << what << ": alert has no member " << k;
              if (v.is_string()) {
                EXPECT_EQ(x->str, v.str) << what << ": " << k;
              } else if (v.kind == testjson::Value::Kind::Number) {
                EXPECT_EQ(x->num, v.num) << what << ": " << k;
              }
            }
          }
          break;
        }
        default: break;
      }
    }
  }
  EXPECT_GT(tests, 10u);
}

}  // namespace
}  // namespace braid::rt::test
