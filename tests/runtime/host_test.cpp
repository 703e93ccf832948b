// What a long-running host builds on: deterministic alert ids and the progress hook (consistent points for
// metrics snapshots and checkpoints).
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "engine/value_codec.h"

#include "checkpoint_stream.h"
#include "harness.h"
#include "input/reader.h"

namespace braid::rt::test {
namespace {

std::unique_ptr<Built> id_rules() {
  return build({std::string(kTestSources) + rule("t.ev", "event", "kind == \"x\"", "{id}") +
                rule("t.seq", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> not b within 5m",
                     "{session.id}") +
                rule("t.cnt", "session", "step a = kind == \"x\"\n when count(a) >= 2", "{session.id}")});
}

std::vector<std::string> id_events() {
  std::vector<std::string> v;
  for (int i = 0; i < 40; ++i) {
    std::string user = "u" + std::to_string(i % 4);
    v.push_back(ev(i, user, "k" + std::to_string(i % 4), i % 3 ? "\"kind\":\"x\"" : "\"kind\":\"a\""));
  }
  return v;
}

bool is_hex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Every decision kind gets an id; ids are unique within a run and equal across runs and thread counts.
TEST(AlertIds, DeterministicUniqueAndTheSameForEveryThreadCount) {
  auto b = id_rules();
  ASSERT_TRUE(b->prog);
  auto evs = id_events();
  Result one = run(*b->prog, evs);
  Result again = run(*b->prog, evs);
  EngineOptions two;
  two.threads = 2;
  Result threaded = run(*b->prog, evs, two);
  ASSERT_GT(one.alerts.size(), 10u);
  std::set<std::string> decided, ids;
  for (const Alert& a : one.alerts) {
    EXPECT_TRUE(is_hex32(a.id)) << a.id;
    ids.insert(a.id);
    decided.insert(a.decided);
  }
  EXPECT_EQ(ids.size(), one.alerts.size()) << "alert ids must be unique within a run";
  EXPECT_TRUE(decided.count("event") && decided.count("window")) << "the rules must decide on events and windows";
  ASSERT_EQ(again.alerts.size(), one.alerts.size());
  ASSERT_EQ(threaded.alerts.size(), one.alerts.size());
  for (size_t i = 0; i < one.alerts.size(); ++i) {
    EXPECT_EQ(again.alerts[i].id, one.alerts[i].id);
    EXPECT_EQ(threaded.alerts[i].id, one.alerts[i].id);
  }
  // The rendered alert carries it, right after schema_version.
  std::string j = render_alert_json(one.alerts[0]);
  EXPECT_EQ(j.rfind("{\"schema_version\":2,\"id\":\"" + one.alerts[0].id + "\",", 0), 0u) << j;
}

// Each input of the id changes it; an event id and a window time never give the same id.
// The nice level of every thread of this process (/proc/self/task/*/stat, field 19).
std::vector<int> thread_nice_levels() {
  std::vector<int> out;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(t.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t close = text.rfind(')');  // the command name may hold spaces: fields count from after it
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    for (int i = 3; i <= 19 && fields >> f; ++i)
      if (i == 19) out.push_back(std::stoi(f));
  }
  return out;
}

// The workers run below the engine's thread (EngineOptions::worker_niceness): the ordered half is the part no
// other thread can do. Results are the same (AlertIds above runs the default).
TEST(Threads, WorkersRunAtALowerPriorityThanTheEnginesThread) {
  auto b = id_rules();
  ASSERT_TRUE(b->prog);
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  ASSERT_EQ(errno, 0);
  if (base > 19 - 5) GTEST_SKIP() << "this test runs at nice " << base << ": no room below it";
  for (int by : {5, 0}) {
    EngineOptions o;
    o.threads = 2;
    o.worker_niceness = by;
    Engine e(*b->prog, o);
    e.set_sink([](const Alert&) {});
    for (const auto& j : id_events()) e.process_json(j, "<test>", 1);
    // The workers run until finish(); each lowers its own priority first thing, so give them a moment to start.
    std::vector<int> levels;
    long lowered = 0;
    for (int tries = 0; tries < 200; ++tries) {
      levels = thread_nice_levels();
      lowered = std::count(levels.begin(), levels.end(), base + 5);
      if (lowered >= 2 || by == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    e.finish();
    EXPECT_EQ(lowered, by == 5 ? 2 : 0) << "worker_niceness " << by;
    EXPECT_GE(std::count(levels.begin(), levels.end(), base), 1) << "the engine's thread keeps its priority";
  }
}

// With threads, records are prepared after process_json returns, so the engine keeps its own copy of each origin
// name; a bad record reports the name it came with, however the names alternate.
TEST(Threads, BadRecordsKeepTheirOriginNames) {
  auto b = id_rules();
  ASSERT_TRUE(b->prog);
  for (uint32_t threads : {1u, 2u}) {
    std::vector<std::pair<std::string, uint64_t>> seen;
    EngineOptions o;
    o.threads = threads;
    o.on_bad_record = [&](const BadRecord& r) { seen.emplace_back(std::string(r.input), r.line); };
    Engine e(*b->prog, o);
    e.set_sink([](const Alert&) {});
    const std::vector<std::string> origins = {"a.ndjson", "a.ndjson", "b.ndjson", "a.ndjson", "", "c.ndjson"};
    for (size_t i = 0; i < origins.size(); ++i) {
      std::string name = origins[i];  // a temporary: the engine must not keep the caller's bytes
      e.process_json("{not json", name, i + 1);
    }
    e.finish();
    ASSERT_EQ(seen.size(), origins.size()) << "threads " << threads;
    for (size_t i = 0; i < origins.size(); ++i) {
      EXPECT_EQ(seen[i].first, origins[i]) << "threads " << threads << ", record " << i;
      EXPECT_EQ(seen[i].second, i + 1);
    }
  }
}

TEST(AlertIds, EachPartOfTheDecisionChangesTheId) {
  std::string e1 = "e1", e2 = "e2", t = "@5";
  std::string base = alert_id("r", "", "s", "event", &e1, 5);
  std::set<std::string> all = {
      base,
      alert_id("r2", "", "s", "event", &e1, 5),
      alert_id("r", "c", "s", "event", &e1, 5),
      alert_id("r", "", "s2", "event", &e1, 5),
      alert_id("r", "", "s", "close", &e1, 5),
      alert_id("r", "", "s", "event", &e2, 5),
      alert_id("r", "", "s", "window", nullptr, 5),
      alert_id("r", "", "s", "window", nullptr, 6),
      alert_id("r", "", "s", "window", &t, 0),
      alert_id("rs", "", "", "event", &e1, 5),  // field boundaries: "r"+"s" is not "rs"+""
  };
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(alert_id("r", "", "s", "event", &e1, 99), base) << "an event decision does not hash the time";
}

// The progress hook is called at a consistent point: the stats then count exactly the records handed out, and
// the last call comes at the end of the inputs.
TEST(Progress, CalledBetweenRecordsWithEverythingAdmitted) {
  auto b = id_rules();
  ASSERT_TRUE(b->prog);
  std::string path = ::testing::TempDir() + "/braid_progress.ndjson";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 5000; ++i) out << ev(i * 0.01, "u" + std::to_string(i % 50), "k", "\"kind\":\"x\"") << "\n";
  }
  for (uint32_t threads : {1u, 2u}) {
    EngineOptions o;
    o.processing_time = 0;
    o.threads = threads;
    o.progress_interval_ms = 0;  // every check point (each 256 records)
    std::vector<uint64_t> seen;
    bool last_was_end = false;
    Engine* ep = nullptr;
    o.on_progress = [&](const EngineOptions::Progress& pr) {
      ASSERT_NE(pr.reader, nullptr);
      EXPECT_EQ(ep->stats().records_read, pr.reader->stats().records) << "threads " << threads;
      EXPECT_EQ(ep->stats().events_parsed, pr.reader->stats().records) << "every record taken was admitted";
      seen.push_back(pr.reader->stats().records);
      last_was_end = pr.end_of_inputs;
    };
    Engine e(*b->prog, o);
    ep = &e;
    ASSERT_TRUE(e.process_inputs({path}));
    e.finish();
    ASSERT_GE(seen.size(), 19u);  // 5000 / 256, and the end
    EXPECT_EQ(seen.front(), 256u);
    EXPECT_EQ(seen.back(), 5000u);
    EXPECT_TRUE(last_was_end);
  }
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------------------------------------------
// Checkpoints: stopping anywhere, saving, and resuming in a new engine gives the alerts of one uninterrupted run.

// checkpoint_rules(), checkpoint_events(), rendered(), first_difference(): checkpoint_stream.h

// Runs events[0, k) in one engine, saves its state, loads it into a new engine, runs the rest and finishes.
std::vector<std::string> run_split(const ir::Program& p, const std::vector<std::string>& evs, size_t k,
                                   uint32_t threads_before, uint32_t threads_after, size_t* state_size = nullptr,
                                   EngineOptions base = {}) {
  std::vector<Alert> alerts;
  std::string state;
  base.processing_time = 0;
  {
    EngineOptions o = base;
    o.threads = threads_before;
    Engine e(p, o);
    e.set_sink([&](const Alert& a) { alerts.push_back(a); });
    for (size_t i = 0; i < k; ++i) e.process_json(evs[i], "<test>", i + 1);
    state = e.save_state("prog");
  }
  if (state_size) *state_size = state.size();
  EngineOptions o = base;
  o.threads = threads_after;
  Engine e(p, o);
  e.set_sink([&](const Alert& a) { alerts.push_back(a); });
  e.load_state(state, "prog");
  for (size_t i = k; i < evs.size(); ++i) e.process_json(evs[i], "<test>", i + 1);
  e.finish();
  // The stats continue too.
  EXPECT_EQ(e.stats().records_read, evs.size());
  return rendered(alerts);
}

TEST(Checkpoint, ResumingAnywhereGivesTheAlertsOfOneRun) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  for (uint32_t seed : {1u, 2u, 3u}) {
    auto evs = checkpoint_events(seed, 160);
    Result whole = run(*b->prog, evs);
    auto want = rendered(whole.alerts);
    std::set<std::string> rules_fired;
    for (const Alert& a : whole.alerts) rules_fired.insert(a.rule + "/" + a.decided);
    ASSERT_GE(rules_fired.size(), 6u) << ::testing::PrintToString(rules_fired);
    ASSERT_TRUE(rules_fired.count("c.chain/event") || rules_fired.count("c.chain_close/close"));
    for (const char* must : {"c.absent/window", "c.close/close", "c.group/event", "c.group_close/close",
                             "c.group_absent/window"})
      ASSERT_TRUE(rules_fired.count(must)) << "the stream must exercise " << must << ": "
                                           << ::testing::PrintToString(rules_fired);
    size_t largest = 0;
    for (size_t k = 0; k <= evs.size(); k += 7) {
      size_t sz = 0;
      auto got = run_split(*b->prog, evs, k, 1, 1, &sz);
      largest = std::max(largest, sz);
      ASSERT_EQ(first_difference(got, want), "") << "seed " << seed << ", checkpoint after " << k << " events";
    }
    EXPECT_GT(largest, 1000u) << "the checkpoints must carry sessions, rule state and held events";
  }
}

// The thread count is not part of the state: save with two threads, resume with one, and the other way round.
TEST(Checkpoint, ThreadCountMayChangeAcrossARestart) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(7, 160);
  auto want = rendered(run(*b->prog, evs).alerts);
  for (size_t k : {size_t{40}, size_t{95}}) {
    EXPECT_EQ(first_difference(run_split(*b->prog, evs, k, 2, 1), want), "") << k;
    EXPECT_EQ(first_difference(run_split(*b->prog, evs, k, 1, 2), want), "") << k;
  }
}

// A state saved twice from the same point is the same bytes (suppression tables are written sorted).
TEST(Checkpoint, SameStateSameBytes) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(4, 100);
  std::string s[2];
  for (auto& x : s) {
    EngineOptions o;
    o.processing_time = 0;
    Engine e(*b->prog, o);
    for (const auto& j : evs) e.process_json(j);
    x = e.save_state("prog");
  }
  EXPECT_EQ(s[0], s[1]);
}

std::string saved_state(const ir::Program& p, const std::vector<std::string>& evs, EngineOptions o = {}) {
  Engine e(p, o);
  for (const auto& j : evs) e.process_json(j);
  return e.save_state("prog");
}

std::string load_error(const ir::Program& p, std::string_view state, std::string_view program = "prog",
                       EngineOptions o = {}) {
  Engine e(p, o);
  try {
    e.load_state(state, program);
  } catch (const StateError& err) {
    return err.what();
  }
  return "";
}

// A checkpoint of other rules, options or format, or a damaged one, is refused with a message saying which.
TEST(Checkpoint, RefusesWhatItCannotRestore) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  std::string st = saved_state(*b->prog, checkpoint_events(5, 80));
  EXPECT_EQ(load_error(*b->prog, st), "");
  EXPECT_NE(load_error(*b->prog, st, "other").find("other rules"), std::string::npos);
  EngineOptions bound;
  bound.distinct_bound = 7;
  EXPECT_NE(load_error(*b->prog, st, "prog", bound).find("other engine options"), std::string::npos);
  EngineOptions only;
  only.only_rules = {"c.ev"};
  EXPECT_NE(load_error(*b->prog, st, "prog", only).find("other engine options"), std::string::npos);
  EXPECT_NE(load_error(*b->prog, "").find("not a Braid checkpoint"), std::string::npos);
  EXPECT_NE(load_error(*b->prog, "{\"json\":1}").find("not a Braid checkpoint"), std::string::npos);
  std::string future = st;
  future[10] = 9;  // the format version, right after the magic
  EXPECT_NE(load_error(*b->prog, future).find("state format 9, this braid reads format "), std::string::npos);
  std::string flipped = st;
  flipped[flipped.size() / 2] ^= 0x20;
  EXPECT_NE(load_error(*b->prog, flipped).find("checksum"), std::string::npos);
  EXPECT_NE(load_error(*b->prog, st.substr(0, st.size() - 1)).find("corrupt"), std::string::npos);
  // An engine that has taken events cannot load.
  Engine used(*b->prog);
  used.process_json(ev(0, "u", "k"));
  EXPECT_THROW(used.load_state(st, "prog"), StateError);
}

// Damage behind a valid checksum (what a fuzzer or a hostile file could write) is refused or loads into a
// consistent engine: never a crash (the suite runs under ASan and UBSan).
TEST(Checkpoint, DamageBehindAValidChecksumNeverCrashes) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(6, 120);
  std::string st = saved_state(*b->prog, std::vector<std::string>(evs.begin(), evs.begin() + 60));
  auto reseal = [](std::string s) {
    s.resize(s.size() - 8);
    uint64_t h = fast_hash(s);
    for (int i = 0; i < 8; ++i) s += static_cast<char>((h >> (8 * i)) & 0xff);
    return s;
  };
  uint64_t x = 88172645463325252ull;
  size_t refused = 0, loaded = 0;
  for (int trial = 0; trial < 400; ++trial) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::string bad = st.substr(0, st.size() - 8);
    size_t at = 11 + x % (bad.size() - 11);
    switch (trial % 3) {
      case 0: bad[at] = static_cast<char>(x >> 24); break;
      case 1: bad.erase(at, 1 + (x >> 32) % 16); break;
      case 2: bad.insert(at, 1 + (x >> 32) % 4, static_cast<char>(x >> 40)); break;
    }
    Engine e(*b->prog);
    try {
      e.load_state(reseal(bad + "12345678"), "prog");
      ++loaded;
      for (size_t i = 60; i < evs.size(); ++i) e.process_json(evs[i]);
      e.finish();
    } catch (const StateError&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 200u);
  EXPECT_EQ(refused + loaded, 400u);
}
// ---------------------------------------------------------------------------------------------------------------
// Time jumps: one event dated far ahead cannot blind a source.

std::unique_ptr<Built> jump_rules() {
  return build({std::string(kTestSources) + rule("j.ev", "event", "kind == \"x\"", "{id}") +
                rule("j.seq", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> b within 30m",
                     "{session.identity}")});
}

// a -> b for three users (named after the start, so that each call makes new sessions), a minute apart.
std::vector<std::string> jump_stream(double from) {
  std::vector<std::string> v;
  for (int u = 0; u < 3; ++u) {
    std::string user = "u" + std::to_string(u) + "@" + std::to_string(static_cast<int64_t>(from));
    v.push_back(ev(from + u * 2, user, "k", "\"kind\":\"a\""));
    v.push_back(ev(from + u * 2 + 1, user, "k", "\"kind\":\"b\""));
  }
  return v;
}

TEST(TimeJump, OneEventFarAheadIsQuarantinedAndBlindsNothing) {
  auto b = jump_rules();
  ASSERT_TRUE(b->prog);
  auto base = jump_stream(0);
  auto later = jump_stream(20);
  std::vector<std::string> clean = base, dirty = base;
  clean.insert(clean.end(), later.begin(), later.end());
  // One record dated 75 years ahead (as an attacker who can write one log record could), between the two halves.
  dirty.push_back(ev(75.0 * 365 * 24 * 60, "mallory", "k", "\"kind\":\"x\""));
  dirty.insert(dirty.end(), later.begin(), later.end());
  Result want = run(*b->prog, clean);
  Result got = run(*b->prog, dirty);
  EXPECT_EQ(want.count("j.seq"), 6u);
  EXPECT_EQ(got.count("j.seq"), 6u) << "the later events must not be late";
  EXPECT_EQ(got.stats.late, 0u);
  EXPECT_EQ(got.stats.quarantined, 1u);
  EXPECT_EQ(got.stats.sources[0].quarantined, 1u);
  EXPECT_EQ(got.count("j.ev"), 1u) << "the quarantined event still runs through the event rules";
  ASSERT_NE(got.first("j.ev"), nullptr);
  EXPECT_FALSE(got.first("j.ev")->session.has_value()) << "but joins no session";
  bool warned = false;
  for (const auto& w : got.warnings) warned = warned || w.find("quarantined") != std::string::npos;
  EXPECT_TRUE(warned);
  // Without the bound, the record blinds the source: every later event is late.
  EngineOptions unbounded;
  unbounded.max_time_jump = 0;
  Result blind = run(*b->prog, dirty, unbounded);
  EXPECT_EQ(blind.count("j.seq"), 3u);
  EXPECT_EQ(blind.stats.late, 6u);
}

// A backfill that skips days: several events past the bound in a row are a real jump, admitted in order.
TEST(TimeJump, ARealJumpIsConfirmedByTheEventsAfterIt) {
  auto b = jump_rules();
  ASSERT_TRUE(b->prog);
  auto evs = jump_stream(0);
  auto days_later = jump_stream(3 * 24 * 60);
  evs.insert(evs.end(), days_later.begin(), days_later.end());
  Result r = run(*b->prog, evs);
  EXPECT_EQ(r.stats.quarantined, 0u);
  EXPECT_EQ(r.stats.late, 0u);
  EXPECT_EQ(r.count("j.seq"), 6u);
  // Fewer than jump_confirm events after the jump, then the input ends: admitted at the end, nothing lost.
  auto tail = jump_stream(0);
  tail.push_back(ev(5 * 24 * 60, "u9", "k", "\"kind\":\"a\""));
  tail.push_back(ev(5 * 24 * 60 + 1, "u9", "k", "\"kind\":\"b\""));
  Result t = run(*b->prog, tail);
  EXPECT_EQ(t.stats.quarantined, 0u);
  EXPECT_EQ(t.count("j.seq"), 4u);
}

// Events held aside by a jump are part of a checkpoint.
TEST(TimeJump, HeldAsideEventsSurviveACheckpoint) {
  auto b = jump_rules();
  ASSERT_TRUE(b->prog);
  auto evs = jump_stream(0);
  evs.push_back(ev(75.0 * 365 * 24 * 60, "mallory", "k", "\"kind\":\"x\""));
  size_t cut = evs.size();  // the outlier is held aside when the state is saved
  auto later = jump_stream(20);
  evs.insert(evs.end(), later.begin(), later.end());
  auto want = rendered(run(*b->prog, evs).alerts);
  EXPECT_EQ(first_difference(run_split(*b->prog, evs, cut, 1, 1), want), "");
  auto days_later = jump_stream(3 * 24 * 60);
  std::vector<std::string> jump = jump_stream(0);
  jump.insert(jump.end(), days_later.begin(), days_later.end());
  auto want_jump = rendered(run(*b->prog, jump).alerts);
  for (size_t k = 6; k <= 9; ++k) EXPECT_EQ(first_difference(run_split(*b->prog, jump, k, 1, 1), want_jump), "") << k;
}

// ---------------------------------------------------------------------------------------------------------------
// The open-session cap: the least recently used session is closed early, and what it decides is marked degraded.

TEST(SessionCap, EvictsTheLeastRecentlyUsedAndMarksItsDecisionsDegraded) {
  auto b = build({std::string(kTestSources) +
                  rule("cap.close", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a and not b",
                       "{session.identity}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "u1", "k", "\"kind\":\"a\""), ev(1, "u2", "k", "\"kind\":\"a\""),
                                  ev(2, "u1", "k", "\"kind\":\"x\""),   // u1 is now the most recently used
                                  ev(3, "u3", "k", "\"kind\":\"a\""),   // evicts u2, not u1
                                  ev(4, "u2", "k", "\"kind\":\"b\"")};  // a new session of u2: evicts u1
  EngineOptions cap;
  cap.max_open_sessions = 2;
  Result r = run(*b->prog, evs, cap);
  EXPECT_EQ(r.stats.sessions_evicted, 2u);
  ASSERT_EQ(r.count("cap.close"), 3u);  // u2 (evicted), u1 (evicted), u3 (at the end); u2's new session has a b
  EXPECT_EQ(r.alerts[0].message, "u2");
  EXPECT_TRUE(r.alerts[0].degraded);
  EXPECT_EQ(r.alerts[1].message, "u1");
  EXPECT_TRUE(r.alerts[1].degraded);
  EXPECT_EQ(r.alerts[2].message, "u3");
  EXPECT_FALSE(r.alerts[2].degraded);
  EXPECT_NE(render_alert_json(r.alerts[0]).find(",\"degraded\":true}"), std::string::npos);
  // Without the cap (or under it) nothing is evicted and nothing degraded: u2's one session has its b.
  Result free = run(*b->prog, evs);
  EXPECT_EQ(free.stats.sessions_evicted, 0u);
  ASSERT_EQ(free.count("cap.close"), 2u);
  for (const Alert& a : free.alerts) EXPECT_FALSE(a.degraded);
}

TEST(SessionCap, ChainDecisionsAfterAnEvictionAreDegraded) {
  auto b = build({std::string(kTestSources) +
                  rule("cap.chain", "chain", "step m = kind == \"mint\"\n step act = kind == \"x\"\n when m -> act",
                       "{chain.root.identity}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""),
                                  ev(1, "role", "ASIA1", "\"kind\":\"y\""),
                                  ev(2, "carol", "AKIA9", "\"kind\":\"y\""),  // evicts alice, the chain's root
                                  ev(3, "role", "ASIA1", "\"kind\":\"x\"")};
  EngineOptions cap;
  cap.max_open_sessions = 2;
  Result r = run(*b->prog, evs, cap);
  EXPECT_EQ(r.stats.sessions_evicted, 1u);
  ASSERT_EQ(r.count("cap.chain"), 1u);
  EXPECT_TRUE(r.first("cap.chain")->degraded);
  Result free = run(*b->prog, evs);
  ASSERT_EQ(free.count("cap.chain"), 1u);
  EXPECT_FALSE(free.first("cap.chain")->degraded);
}

// The LRU order and the eviction marks are part of a checkpoint: resuming anywhere evicts as one run does.
TEST(SessionCap, ACheckpointKeepsTheEvictionOrder) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(8, 160);
  EngineOptions cap;
  cap.max_open_sessions = 3;
  Result whole = run(*b->prog, evs, cap);
  ASSERT_GT(whole.stats.sessions_evicted, 5u);
  auto want = rendered(whole.alerts);
  size_t degraded = 0;
  for (const Alert& a : whole.alerts) degraded += a.degraded;
  EXPECT_GT(degraded, 0u);
  for (size_t k = 0; k <= evs.size(); k += 11)
    ASSERT_EQ(first_difference(run_split(*b->prog, evs, k, 1, 1, nullptr, cap), want), "") << k;
}

// ---------------------------------------------------------------------------------------------------------------
// The chain-record cap: the oldest mint or link record is evicted; a session that would have claimed it starts a
// chain of its own, whose decisions are marked degraded.

TEST(ChainRecordCap, EvictsTheOldestRecordAndMarksTheOrphanedChainDegraded) {
  auto b = build({std::string(kTestSources) +
                  rule("cap.root", "chain", "step act = kind == \"x\"\n when act", "{chain.root.identity} {first(act).user}") +
                  rule("cap.ev", "event", "kind == \"x\"", "{user}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""),
                                  ev(1, "bob", "AKIA2", "\"kind\":\"mint\",\"newkey\":\"ASIA2\""),  // evicts ASIA1
                                  ev(2, "role1", "ASIA1", "\"kind\":\"x\""),   // lost its parent: a root
                                  ev(3, "role2", "ASIA2", "\"kind\":\"x\""),   // bob's child
                                  ev(4, "carol", "AKIA9", "\"kind\":\"x\"")};  // a root of its own
  EngineOptions cap;
  cap.max_chain_records = 1;
  Result r = run(*b->prog, evs, cap);
  auto of = [](const Result& res, std::string_view rule) {
    std::vector<Alert> v;
    for (const Alert& a : res.alerts)
      if (a.rule == rule) v.push_back(a);
    return v;
  };
  EXPECT_EQ(r.stats.chain_records_evicted, 1u);
  EXPECT_EQ(r.stats.mints_recorded, 2u);
  auto roots = of(r, "cap.root");
  ASSERT_EQ(roots.size(), 3u);
  EXPECT_EQ(roots[0].message, "role1 role1");
  EXPECT_TRUE(roots[0].degraded);
  EXPECT_EQ(roots[1].message, "bob role2");
  EXPECT_FALSE(roots[1].degraded);
  EXPECT_EQ(roots[2].message, "carol carol");
  EXPECT_FALSE(roots[2].degraded) << "a credential no evicted record named is not marked";
  // An event rule's alert carries the chain too: role1's is cut short, and says so.
  ASSERT_EQ(r.count("cap.ev"), 3u);
  for (const Alert& a : of(r, "cap.ev")) {
    EXPECT_EQ(a.degraded, a.message == "role1") << a.message;
  }
  Result free = run(*b->prog, evs);
  EXPECT_EQ(free.stats.chain_records_evicted, 0u);
  ASSERT_EQ(free.count("cap.root"), 3u);
  ASSERT_EQ(free.count("cap.ev"), 3u);
  EXPECT_EQ(of(free, "cap.root")[0].message, "alice role1");
  for (const Alert& a : free.alerts) EXPECT_FALSE(a.degraded);
}

// A chain slot reused after a degraded chain retired starts clean.
TEST(ChainRecordCap, AReusedChainDoesNotInheritTheMark) {
  auto b = build({std::string(kTestSources) +
                  rule("cap.root", "chain", "step act = kind == \"x\"\n when act", "{chain.root.identity} {first(act).user}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "alice", "AKIA1", "\"kind\":\"mint\",\"newkey\":\"ASIA1\""),
                                  ev(1, "bob", "AKIA2", "\"kind\":\"mint\",\"newkey\":\"ASIA2\""),
                                  ev(2, "role1", "ASIA1", "\"kind\":\"x\"")};
  // Days later (every session closed, every record expired, every chain retired), a new root reuses a slot.
  for (int i = 0; i < 6; ++i) evs.push_back(ev(3 * 24 * 60 + i, "dave" + std::to_string(i), "AKIA7", "\"kind\":\"x\""));
  EngineOptions cap;
  cap.max_chain_records = 1;
  cap.mint_retention = int64_t{3600} * 1000000000;
  Result r = run(*b->prog, evs, cap);
  ASSERT_EQ(r.count("cap.root"), 7u);
  EXPECT_TRUE(r.alerts[0].degraded);
  EXPECT_GT(r.stats.chains_retired, 2u);
  for (size_t i = 1; i < r.alerts.size(); ++i) EXPECT_FALSE(r.alerts[i].degraded) << r.alerts[i].message;
}

// Evictions, the evicted-key filter and the marks are part of a checkpoint: resuming anywhere gives one run's
// alerts, mint and link records alike.
TEST(ChainRecordCap, ACheckpointKeepsWhatTheCapEvicted) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(11, 200);
  EngineOptions cap;
  cap.max_chain_records = 2;
  Result whole = run(*b->prog, evs, cap);
  ASSERT_GT(whole.stats.chain_records_evicted, 5u);
  size_t degraded = 0;
  for (const Alert& a : whole.alerts) degraded += a.degraded;
  EXPECT_GT(degraded, 0u);
  auto want = rendered(whole.alerts);
  for (size_t k = 0; k <= evs.size(); k += 13)
    ASSERT_EQ(first_difference(run_split(*b->prog, evs, k, 1, 1, nullptr, cap), want), "") << k;
}

// ---------------------------------------------------------------------------------------------------------------
// The partial-match cap: a sequence with a trailing absence keeps every start in its window, up to the cap; the
// oldest go beyond it, and the decisions of that rule are marked degraded.

const char* kPartialRule = "step a = kind == \"a\"\n step b = kind == \"b\"\n step c = kind == \"c\"\n"
                           " when a -> b -> not c within 5m";

TEST(PartialMatchCap, DropsTheOldestStartsAndMarksTheDecisionDegraded) {
  auto b = build({std::string(kTestSources) + rule("cap.seq", "session", kPartialRule, "{session.identity}")});
  ASSERT_TRUE(b->prog);
  // Four starts; the absence window of the earliest ends at 5m, of the third (the earliest the cap keeps) at 7m.
  std::vector<std::string> evs = {ev(0, "u", "k", "\"kind\":\"a\""), ev(1, "u", "k", "\"kind\":\"a\""),
                                  ev(2, "u", "k", "\"kind\":\"a\""), ev(3, "u", "k", "\"kind\":\"a\""),
                                  ev(4, "u", "k", "\"kind\":\"b\""), ev(25, "u", "k", "\"kind\":\"y\"")};
  EngineOptions cap;
  cap.max_partial_matches = 2;
  Result r = run(*b->prog, evs, cap);
  ASSERT_EQ(r.count("cap.seq"), 1u);
  EXPECT_TRUE(r.alerts[0].degraded);
  EXPECT_GT(r.stats.partial_matches_dropped, 0u);
  Result free = run(*b->prog, evs);
  ASSERT_EQ(free.count("cap.seq"), 1u);
  EXPECT_FALSE(free.alerts[0].degraded);
  EXPECT_EQ(free.stats.partial_matches_dropped, 0u);
  EXPECT_LT(free.alerts[0].event_time, r.alerts[0].event_time) << "the earliest start decides the window";
  // Starts that left the window by themselves are not drops: spaced 10m apart, the cap is never reached.
  std::vector<std::string> spaced = {ev(0, "u", "k", "\"kind\":\"a\""), ev(10, "u", "k", "\"kind\":\"a\""),
                                     ev(20, "u", "k", "\"kind\":\"a\""), ev(21, "u", "k", "\"kind\":\"b\""),
                                     ev(40, "u", "k", "\"kind\":\"y\"")};
  cap.max_partial_matches = 1;
  Result s = run(*b->prog, spaced, cap);
  ASSERT_EQ(s.count("cap.seq"), 1u);
  EXPECT_FALSE(s.alerts[0].degraded);
  EXPECT_EQ(s.stats.partial_matches_dropped, 0u);
}

// Chain rules keep their partial matches in the chain's rule state (no shared cell): the same cap, the same mark.
TEST(PartialMatchCap, ChainSequencesToo) {
  auto b = build({std::string(kTestSources) + rule("cap.cseq", "chain", kPartialRule, "{chain.root.identity}")});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> evs = {ev(0, "u", "k", "\"kind\":\"a\""), ev(1, "u", "k", "\"kind\":\"a\""),
                                  ev(2, "u", "k", "\"kind\":\"a\""), ev(3, "u", "k", "\"kind\":\"b\""),
                                  ev(4, "u", "k", "\"kind\":\"b\""), ev(25, "u", "k", "\"kind\":\"y\"")};
  EngineOptions cap;
  cap.max_partial_matches = 1;
  Result r = run(*b->prog, evs, cap);
  ASSERT_EQ(r.count("cap.cseq"), 1u);
  EXPECT_TRUE(r.alerts[0].degraded);
  EXPECT_GT(r.stats.partial_matches_dropped, 0u);
  Result free = run(*b->prog, evs);
  ASSERT_EQ(free.count("cap.cseq"), 1u);
  EXPECT_FALSE(free.alerts[0].degraded);
}

TEST(PartialMatchCap, ACheckpointKeepsWhatTheCapDropped) {
  auto b = build({checkpoint_rules_text() + rule("cap.seq", "session", kPartialRule, "{session.identity}") +
                  rule("cap.cseq", "chain", kPartialRule, "{chain.root.identity}")});
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(5, 240);
  const std::string other = "\"kind\":\"other\"";
  for (std::string& e : evs)  // some c events, to kill pending matches
    if (size_t at = e.find(other); at != std::string::npos) e.replace(at, other.size(), "\"kind\":\"c\"");
  EngineOptions cap;
  cap.max_partial_matches = 1;
  Result whole = run(*b->prog, evs, cap);
  ASSERT_GT(whole.stats.partial_matches_dropped, 3u);
  size_t degraded = 0;
  for (const Alert& a : whole.alerts) degraded += a.degraded;
  EXPECT_GT(degraded, 0u);
  auto want = rendered(whole.alerts);
  for (size_t k = 0; k <= evs.size(); k += 17)
    ASSERT_EQ(first_difference(run_split(*b->prog, evs, k, 1, 1, nullptr, cap), want), "") << k;
  EngineOptions two = cap;
  two.threads = 2;
  EXPECT_EQ(first_difference(rendered(run(*b->prog, evs, two).alerts), want), "");
}

// ---------------------------------------------------------------------------------------------------------------
// The held-events cap: beyond it a source's watermark moves up to its oldest held event, which is released early.

TEST(HeldCap, ReleasesTheOldestEarlyAndLaterOlderEventsAreLate) {
  auto b = build({std::string(kTestSources) + rule("held.x", "event", "kind == \"x\"", "{name}")});
  ASSERT_TRUE(b->prog);
  auto x = [](double minutes, const char* name) {
    return ev(minutes, "u", "k", std::string("\"kind\":\"x\",\"name\":\"") + name + "\"");
  };
  // Lateness is 10m: every one of these is held until the end (or the cap).
  std::vector<std::string> evs = {x(0, "e0"), x(1, "e1"), x(2, "e2"), x(3, "e3"), x(0.5, "old")};
  EngineOptions cap;
  cap.max_held_events = 2;
  Result r = run(*b->prog, evs, cap);
  EXPECT_EQ(r.stats.released_early, 2u);  // e0 when e2 came, e1 when e3 came
  EXPECT_EQ(r.stats.sources[0].released_early, 2u);
  EXPECT_EQ(r.stats.late, 1u);  // 0.5 is behind the watermark the cap moved to 1
  auto messages = [](const Result& res) {
    std::vector<std::string> m;
    for (const Alert& a : res.alerts) m.push_back(a.message);
    return m;
  };
  EXPECT_EQ(messages(r), (std::vector<std::string>{"e0", "e1", "old", "e2", "e3"}));  // a late event runs event rules
  size_t cap_warnings = 0;
  for (const std::string& w : r.warnings) cap_warnings += w.find("--max-held-events") != std::string::npos;
  EXPECT_EQ(cap_warnings, 1u);  // once per source
  // Without the cap, the old one is merely out of order: reordered, nothing late, nothing released early.
  Result free = run(*b->prog, evs);
  EXPECT_EQ(free.stats.released_early, 0u);
  EXPECT_EQ(free.stats.late, 0u);
  EXPECT_EQ(messages(free), (std::vector<std::string>{"e0", "old", "e1", "e2", "e3"}));
}

// The moved watermark is part of a checkpoint: resuming anywhere releases and counts as one run does.
TEST(HeldCap, ACheckpointKeepsTheMovedWatermark) {
  auto b = checkpoint_rules();
  ASSERT_TRUE(b->prog);
  auto evs = checkpoint_events(5, 160);
  EngineOptions cap;
  cap.max_held_events = 2;
  Result whole = run(*b->prog, evs, cap);
  ASSERT_GT(whole.stats.released_early, 20u);
  ASSERT_GT(whole.stats.late, 0u);
  auto want = rendered(whole.alerts);
  EXPECT_NE(want, rendered(run(*b->prog, evs).alerts));  // the cap made a difference
  for (size_t k = 0; k <= evs.size(); k += 7)
    ASSERT_EQ(first_difference(run_split(*b->prog, evs, k, 1, 1, nullptr, cap), want), "") << k;
}

}  // namespace
}  // namespace braid::rt::test
