// Carrying a running state to other rules (a SIGHUP reload, or a restart with changed rules): Engine::load_state
// with a CarryReport (docs/operations.md, "Reload").
#include <gtest/gtest.h>

#include <algorithm>

#include "checkpoint_stream.h"
#include "harness.h"

namespace braid::rt::test {
namespace {

// The rules run on t.now (no lateness: every event reaches the rules as it arrives, so "before the reload" is
// exact).
std::string now_rule(const std::string& id, const std::string& body) {
  return rule(id, "session", body, "{session.identity}", "", "t.now");
}

const std::string kKeepSeq = now_rule("k.seq", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> b within 1h");
const std::string kKeepCnt = now_rule("k.cnt", "step x = kind == \"x\"\n when count(x) >= 3");
const std::string kKeepWin =
    now_rule("k.win", "step p = kind == \"p\"\n step q = kind == \"q\"\n when p -> not q within 10m");

std::unique_ptr<Built> program_a() {
  return build({std::string(kTestSources) + kKeepSeq + kKeepCnt + kKeepWin +
                now_rule("r.chg", "step c = kind == \"c\"\n when count(c) >= 2") +
                now_rule("r.rm", "step m = kind == \"m\"\n when count(m) >= 1")});
}
std::unique_ptr<Built> program_b() {
  return build({std::string(kTestSources) + now_rule("r.add", "step d = kind == \"d\"\n when count(d) >= 2") +
                kKeepSeq + kKeepCnt + kKeepWin + now_rule("r.chg", "step c = kind == \"c\"\n when count(c) >= 3")});
}

std::string nev(double minutes, const std::string& user, const std::string& kind) {
  return ev(minutes, user, "k-" + user, "\"kind\":\"" + kind + "\"", "now");
}

struct Split {
  std::vector<Alert> before, after;
  CarryReport report;
  std::string state_after;  // a checkpoint of the new engine at the end, before finish
};

// Runs `first` with program A, carries the state to program B, runs `second` and finishes.
Split reload_run(const ir::Program& a, const ir::Program& b, const std::vector<std::string>& first,
                 const std::vector<std::string>& second) {
  Split out;
  EngineOptions o;
  o.processing_time = 0;
  std::string state;
  {
    Engine e(a, o);
    e.set_sink([&](const Alert& x) { out.before.push_back(x); });
    for (const auto& j : first) e.process_json(j);
    state = e.save_state("A");
  }
  Engine e(b, o);
  e.set_sink([&](const Alert& x) { out.after.push_back(x); });
  e.load_state(state, "B", &out.report);
  for (const auto& j : second) e.process_json(j);
  out.state_after = e.save_state("B");
  e.finish();
  return out;
}

std::vector<std::string> ids_of(const std::vector<Alert>& v, std::string_view rule) {
  std::vector<std::string> ids;
  for (const Alert& a : v)
    if (a.rule == rule) ids.push_back(a.id);
  return ids;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Reload, UnchangedRulesKeepTheirStateOthersStartEmpty) {
  auto a = program_a(), b = program_b();
  ASSERT_TRUE(a->prog && b->prog);
  // Before the reload: u1 has `a` pending (k.seq), two of three `x` (k.cnt), a `p` whose 10m absence window is
  // open (k.win), one `c` (r.chg fires at 2 in A), one `d` (r.add is not there yet) and an `m` (r.rm).
  std::vector<std::string> first = {nev(0, "u1", "a"), nev(1, "u1", "x"), nev(2, "u1", "x"), nev(3, "u1", "p"),
                                    nev(4, "u1", "c"), nev(5, "u1", "d"), nev(6, "u1", "m")};
  std::vector<std::string> second = {nev(7, "u1", "b"),  nev(8, "u1", "x"), nev(9, "u1", "c"),
                                     nev(10, "u1", "d"), nev(11, "u1", "c"), nev(12, "u1", "m"),
                                     nev(20, "u1", "c"), nev(21, "u1", "d")};
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  Result whole_a = run(*a->prog, all);
  Result whole_b = run(*b->prog, all);
  Split s = reload_run(*a->prog, *b->prog, first, second);

  EXPECT_EQ(sorted(s.report.kept), sorted({"k.seq", "k.cnt", "k.win"}));
  EXPECT_EQ(s.report.changed, std::vector<std::string>{"r.chg"});
  EXPECT_EQ(s.report.added, std::vector<std::string>{"r.add"});
  EXPECT_EQ(s.report.removed, std::vector<std::string>{"r.rm"});
  EXPECT_TRUE(s.report.reset.empty());

  // The unchanged rules decide exactly as one uninterrupted run with A: the sequence completed by `b`, the count
  // reaching 3 with the first `x` after the reload, the absence window that ends after it; same alert ids.
  for (const char* r : {"k.seq", "k.cnt", "k.win"}) {
    auto want = ids_of(whole_a.alerts, r);
    auto got = ids_of(s.before, r);
    auto after = ids_of(s.after, r);
    got.insert(got.end(), after.begin(), after.end());
    EXPECT_EQ(want.size(), 1u) << r;
    EXPECT_EQ(got, want) << r;
    EXPECT_EQ(ids_of(s.before, r).size(), 0u) << r << " must decide after the reload, from carried state";
  }
  // The changed rule starts empty: the `c` before the reload does not count (A would fire at the second `c`,
  // an uninterrupted B at the third); carried, it needs three `c` after the reload: at minute 20.
  ASSERT_EQ(ids_of(whole_a.alerts, "r.chg").size(), 1u);
  ASSERT_EQ(ids_of(s.after, "r.chg").size(), 1u);
  EXPECT_NE(ids_of(s.after, "r.chg"), ids_of(whole_b.alerts, "r.chg"));
  for (const Alert& x : s.after)
    if (x.rule == "r.chg") {
      EXPECT_NE(render_alert_json(x).find("2024-01-01T10:20:00"), std::string::npos);
    }
  // The new rule sees only events after the reload: the `d` of minute 5 does not count (an uninterrupted B run
  // fires at minute 10, the carried run at minute 21).
  ASSERT_EQ(ids_of(whole_b.alerts, "r.add").size(), 1u);
  ASSERT_EQ(ids_of(s.after, "r.add").size(), 1u);
  EXPECT_NE(ids_of(s.after, "r.add"), ids_of(whole_b.alerts, "r.add"));
  // The removed rule decides nothing after the reload.
  EXPECT_EQ(ids_of(s.before, "r.rm").size(), 1u);
  EXPECT_EQ(ids_of(s.after, "r.rm").size(), 0u);

  // The state after the reload is B's: a restart with B and its id loads it as is.
  Engine again(*b->prog);
  EXPECT_NO_THROW(again.load_state(s.state_after, "B"));
}

// Stats go on: the counters of a rule that stays (kept or changed) continue; the removed rule's are gone.
TEST(Reload, RuleCountersContinue) {
  auto a = program_a(), b = program_b();
  ASSERT_TRUE(a->prog && b->prog);
  EngineOptions o;
  o.processing_time = 0;
  std::string state;
  {
    Engine e(*a->prog, o);
    for (const auto& j : {nev(0, "u", "x"), nev(1, "u", "x"), nev(2, "u", "x"), nev(3, "u", "c"), nev(4, "u", "c")})
      e.process_json(j);
    state = e.save_state("A");
  }
  Engine e(*b->prog, o);
  CarryReport rep;
  e.load_state(state, "B", &rep);
  for (const RuleStats& r : e.stats().rules) {
    if (r.id == "k.cnt" || r.id == "r.chg") {
      EXPECT_EQ(r.alerts, 1u) << r.id;
    }
    if (r.id == "r.add") {
      EXPECT_EQ(r.alerts, 0u);
    }
  }
  EXPECT_EQ(e.stats().records_read, 5u);
  EXPECT_EQ(e.stats().alerts, 2u);
}

// Without a report to fill, another program's state is refused as before.
TEST(Reload, WithoutACarryAnotherProgramIsRefused) {
  auto a = program_a(), b = program_b();
  ASSERT_TRUE(a->prog && b->prog);
  Engine e(*a->prog);
  std::string state = e.save_state("A");
  Engine f(*b->prog);
  try {
    f.load_state(state, "B");
    FAIL() << "loaded";
  } catch (const StateError& x) {
    EXPECT_NE(std::string(x.what()).find("other rules"), std::string::npos) << x.what();
  }
}

// An unchanged rule whose step is the same expression as a new rule's step shares that step's cell: it cannot
// keep its counts without the new rule inheriting them, so it starts empty too (reported as reset).
TEST(Reload, AnUnchangedRuleSharingAStepWithANewOneIsReset) {
  auto a = program_a();
  auto b = build({std::string(kTestSources) + kKeepSeq + kKeepCnt + kKeepWin +
                  now_rule("r.chg", "step c = kind == \"c\"\n when count(c) >= 2") +
                  now_rule("r.x5", "step y = kind == \"x\"\n when count(y) >= 5")});
  ASSERT_TRUE(a->prog && b->prog);
  std::vector<std::string> first = {nev(0, "u", "x"), nev(1, "u", "x")};
  Split s = reload_run(*a->prog, *b->prog, first, {nev(2, "u", "x"), nev(3, "u", "x"), nev(4, "u", "x")});
  EXPECT_EQ(s.report.reset, std::vector<std::string>{"k.cnt"});
  EXPECT_EQ(sorted(s.report.kept), sorted({"k.seq", "k.win", "r.chg"}));
  EXPECT_EQ(s.report.added, std::vector<std::string>{"r.x5"});
  // k.cnt counts from the reload: three `x` after it, so it fires at the third (minute 4), not at minute 2.
  ASSERT_EQ(ids_of(s.after, "k.cnt").size(), 1u);
  for (const Alert& x : s.after)
    if (x.rule == "k.cnt") {
      EXPECT_NE(render_alert_json(x).find("2024-01-01T10:04:00"), std::string::npos);
    }
  EXPECT_EQ(ids_of(s.after, "r.x5").size(), 0u);
}

// Sources that changed (here a session gap) cannot carry sessions: refused, saying a fresh state is needed.
TEST(Reload, ChangedSourcesAreRefused) {
  auto a = program_a();
  std::string src = kTestSources;
  size_t at = src.find("session gap 30m max 2h\n  fields { src: string, ts: time, id?: string, user?: string, key?: "
                       "string, kind?: string, n?: int");
  ASSERT_NE(at, std::string::npos);
  src.replace(at, 22, "session gap 20m max 2h");
  auto b = build({src + kKeepSeq});
  ASSERT_TRUE(a->prog && b->prog);
  Engine e(*a->prog);
  e.process_json(nev(0, "u", "a"));
  std::string state = e.save_state("A");
  Engine f(*b->prog);
  CarryReport rep;
  try {
    f.load_state(state, "B", &rep);
    FAIL() << "loaded";
  } catch (const StateError& x) {
    EXPECT_NE(std::string(x.what()).find("source `t.now` changed"), std::string::npos) << x.what();
  }
}

// Held events (a source with lateness) are carried; a field only the new rules read was not extracted from them
// (null there), which the report counts. (`name` is read by t.idp's link, so it was.)
TEST(Reload, HeldEventsAreCarried) {
  auto a = build({std::string(kTestSources) + rule("h.cnt", "session", "step x = kind == \"x\"\n when count(x) >= 2")});
  auto b = build({std::string(kTestSources) + rule("h.cnt", "session", "step x = kind == \"x\"\n when count(x) >= 2") +
                  rule("h.opt", "event", "opt == \"z\"")});
  ASSERT_TRUE(a->prog && b->prog);
  // t.src holds events for 10 minutes: both `x` are still held at the reload.
  std::vector<std::string> first = {ev(0, "u", "k", "\"kind\":\"x\""), ev(1, "u", "k", "\"kind\":\"x\",\"opt\":\"z\"")};
  Split s = reload_run(*a->prog, *b->prog, first, {ev(30, "u", "k", "\"kind\":\"y\"")});
  EXPECT_EQ(s.report.held_events, 2u);
  EXPECT_EQ(s.report.held_missing_fields, 2u);
  EXPECT_EQ(ids_of(s.after, "h.cnt").size(), 1u);
  EXPECT_EQ(ids_of(s.after, "h.opt").size(), 0u) << "`opt` was not extracted before the reload";
}

// The checkpoint tests' rules and stream (sessions, chains, mints, links, held events, absence windows, prefixes,
// suppression), cut anywhere and carried to `b` under another program id. The alerts of every rule `b` kept are
// those of one uninterrupted run with `a`: checks every index map of the carry at once.
void carry_everywhere(const ir::Program& a, const ir::Program& b, const std::vector<std::string>& want_kept,
                      const std::vector<std::string>& want_reset) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    auto evs = checkpoint_events(seed, 160);
    Result whole = run(a, evs);
    for (size_t k = 0; k <= evs.size(); k += 9) {
      Split s = reload_run(a, b, std::vector<std::string>(evs.begin(), evs.begin() + k),
                           std::vector<std::string>(evs.begin() + k, evs.end()));
      ASSERT_EQ(sorted(s.report.kept), sorted(want_kept)) << k;
      ASSERT_EQ(sorted(s.report.reset), sorted(want_reset)) << k;
      auto kept = [&](const std::vector<Alert>& v) {
        std::vector<Alert> out;
        for (const Alert& x : v)
          if (std::find(want_kept.begin(), want_kept.end(), x.rule) != want_kept.end()) out.push_back(x);
        return rendered(out);
      };
      std::vector<Alert> got = s.before;
      got.insert(got.end(), s.after.begin(), s.after.end());
      ASSERT_EQ(first_difference(kept(got), kept(whole.alerts)), "") << "seed " << seed << ", reload after " << k;
    }
  }
}

std::vector<std::string> rule_ids(const ir::Program& p) {
  std::vector<std::string> ids;
  for (const ir::Rule& r : p.rules) ids.push_back(r.id);
  return ids;
}

// The same rules under another program id: every rule is kept, and the run is the uninterrupted one throughout.
TEST(Reload, SameRulesCarriedAnywhereGiveOneRun) {
  auto a = checkpoint_rules();
  ASSERT_TRUE(a->prog);
  carry_everywhere(*a->prog, *a->prog, rule_ids(*a->prog), {});
}

// A rule added (with a step of its own), a chain rule changed: the others go on as one run with the old rules.
TEST(Reload, AddedAndChangedRulesLeaveTheOthersAsOneRun) {
  auto a = checkpoint_rules();
  std::string text = checkpoint_rules_text();
  std::string chain_close = "rule c.chain_close {\n  title \"c.chain_close\"\n  severity high";
  size_t at = text.find(chain_close);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, chain_close.size(), "rule c.chain_close {\n  title \"c.chain_close\"\n  severity low");
  auto b = build({text + rule("c.added", "session", "step o = kind == \"other\"\n when count(o) >= 2")});
  ASSERT_TRUE(a->prog && b->prog);
  std::vector<std::string> kept = rule_ids(*a->prog);
  kept.erase(std::find(kept.begin(), kept.end(), "c.chain_close"));
  carry_everywhere(*a->prog, *b->prog, kept, {});
}

// A changed session rule whose steps other rules share (`kind == "a"`, `kind == "b"`): those are reset, the rest
// (here c.distinct, c.ips, the chain and event rules) still go on as one run.
TEST(Reload, RulesSharingAChangedRulesStepsAreResetTheRestGoOn) {
  auto a = checkpoint_rules();
  std::string text = checkpoint_rules_text();
  size_t at = text.find("\"{count(a)}\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 12, "\"{count(b)}\"");
  auto b = build({text});
  ASSERT_TRUE(a->prog && b->prog);
  // (Group rules keep their own state, shared with no other rule: kept.)
  carry_everywhere(*a->prog, *b->prog, {"c.ev", "c.distinct", "c.ips", "c.chain", "c.link", "c.chain_close", "c.group",
                                        "c.group_close", "c.group_absent"},
                   {"c.absent", "c.seq"});
}

// A source added in front of the others (every source moves by one): the sessions, held events, link records and
// windows of the others are carried to their new places, and every rule goes on as one run.
const char* kExtraSource = R"(
source t.extra {
  recognize src == "extra"
  time ts
  id id
  identity user
  session gap 30m max 2h
  fields { src: string, ts: time, id?: string, user?: string }
}
)";

TEST(Reload, AnAddedSourceMovesTheOthersAndTheyGoOn) {
  auto a = checkpoint_rules();
  auto b = build({std::string(kExtraSource) + checkpoint_rules_text()});
  ASSERT_TRUE(a->prog && b->prog);
  ASSERT_EQ(b->prog->sources.front().name, "t.extra");
  carry_everywhere(*a->prog, *b->prog, rule_ids(*a->prog), {});
}

// A source that is gone: its sessions cannot be carried anywhere.
TEST(Reload, ARemovedSourceIsRefused) {
  auto a = build({std::string(kExtraSource) + checkpoint_rules_text()});
  auto b = checkpoint_rules();
  ASSERT_TRUE(a->prog && b->prog);
  Engine e(*a->prog);
  std::string state = e.save_state("A");
  Engine f(*b->prog);
  CarryReport rep;
  try {
    f.load_state(state, "B", &rep);
    FAIL() << "loaded";
  } catch (const StateError& x) {
    EXPECT_NE(std::string(x.what()).find("source `t.extra` is not in the new rules"), std::string::npos) << x.what();
  }
}

}  // namespace
}  // namespace braid::rt::test
