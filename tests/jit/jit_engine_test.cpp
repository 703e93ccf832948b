// Code generation + the JIT against the reference interpreter, on targeted expression tables. Each table is one
// program with one event rule per expression and one event per row; the engine runs it with the JIT's matcher
// and with none (the interpreter), and the (rule, event) pairs that fire must be the same for EVERY rule and
// event, and, where the row states it, what the language says.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jit_harness.h"

namespace braid::jittest {
namespace {

struct Row {
  std::string fields;             // extra JSON members of the event, without braces
  std::optional<bool> expect;     // what the rule's condition must give; nullopt: only JIT == interp
};
struct Case {
  std::string cond;
  std::vector<Row> rows;
};

std::string event_json(const std::string& id, double minute, const std::string& fields,
                       const std::string& src = "j", const std::string& user = "u") {
  std::string j = "{\"src\":\"" + src + "\",\"ts\":\"" + rt::test::at(minute) + "\",\"id\":\"" + id + "\"";
  if (!user.empty()) j += ",\"user\":\"" + user + "\"";
  if (!fields.empty()) j += "," + fields;
  return j + "}";
}

// Runs the table through both engines; returns the interpreter's hits for callers that check more.
Fired check_table(const std::vector<Case>& cases, const std::string& extra_rules = "",
                  rt::EngineStats* native_stats = nullptr) {
  std::string rules = extra_rules;
  for (size_t c = 0; c < cases.size(); ++c) rules += event_rule("j.c" + std::to_string(c), cases[c].cond);
  auto b = build_rules(rules);
  if (!b->prog) return {};
  auto jit = jit_compile(*b->prog);
  if (!jit) return {};
  std::vector<std::string> events;
  double minute = 0;
  for (size_t c = 0; c < cases.size(); ++c)
    for (size_t r = 0; r < cases[c].rows.size(); ++r)
      events.push_back(event_json("c" + std::to_string(c) + "_" + std::to_string(r), minute += 0.01,
                                  cases[c].rows[r].fields));
  Fired interp = run_engine(*b->prog, events, nullptr);
  Fired native = run_engine(*b->prog, events, jit->make_matcher());
  if (native_stats) *native_stats = native.stats;
  EXPECT_EQ(interp.stats.type_mismatches, native.stats.type_mismatches);
  // Every disagreement, over all rules and all events.
  for (const auto& h : interp.hits)
    EXPECT_TRUE(native.hits.count(h)) << "only the interpreter fires " << h.first << " on " << h.second;
  for (const auto& h : native.hits)
    EXPECT_TRUE(interp.hits.count(h)) << "only the JIT fires " << h.first << " on " << h.second;
  EXPECT_EQ(interp.rendered, native.rendered);
  // The stated expectations, per engine.
  for (size_t c = 0; c < cases.size(); ++c) {
    for (size_t r = 0; r < cases[c].rows.size(); ++r) {
      const Row& row = cases[c].rows[r];
      if (!row.expect) continue;
      std::pair<std::string, std::string> key{"j.c" + std::to_string(c), "c" + std::to_string(c) + "_" + std::to_string(r)};
      EXPECT_EQ(interp.hits.count(key) == 1, *row.expect)
          << "interpreter: `" << cases[c].cond << "` on {" << row.fields << "}";
      EXPECT_EQ(native.hits.count(key) == 1, *row.expect)
          << "JIT: `" << cases[c].cond << "` on {" << row.fields << "}";
    }
  }
  return interp;
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }
std::string list_of(const std::vector<std::string>& v) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + quote(v[i]);
  return o + "]";
}

// ---------------------------------------------------------------------------------------------------------------
// The string decision tree (the `in` set function and the dispatch switch)

std::vector<std::string> tree_strings() {
  std::vector<std::string> s = {"", "a", "ab", "abc", "abd", "abcd", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac", "prefix",
                                "prefixed", "\xce\xa9mega", "ABC"};
  for (int i = 0; i < 40; ++i) s.push_back("k" + std::string(i < 10 ? "0" : "") + std::to_string(i));  // k00..k39
  for (char c = '0'; c <= '9'; ++c) s.push_back(std::string("aaaa") + c + "aaaa");  // differ in byte 4 only
  for (char c = 'a'; c <= 'h'; ++c) s.push_back(std::string("zzzzzzz") + c);       // differ in the last byte
  return s;
}

std::vector<std::string> tree_probes() {
  std::vector<std::string> p = tree_strings();
  for (const char* miss : {"abe", "abcde", "ac", "b", "A", "AB", "abC", "k40", "k0", "k000", "K01", "aaaa0aaab",
                           "baaa0aaaa", "aaaaXaaaa", "aaaa:aaaa", "zzzzzzzi", "zzzzzzz", "zzzzzzza ", "\xc3\xa8t\xc3\xa9",
                           "\xe2\x82\xac\xe2\x82\xac", "\xe2\x82\xad", "prefi", "prefixe", "prefixes", "prefixedd",
                           "\xce\xa9meg", "abcd\xc3\xa9", " ", "a "})
    p.push_back(miss);
  return p;
}

TEST(JitEngine, StringSetDecisionTree) {
  const auto set = tree_strings();
  const auto probes = tree_probes();
  auto member = [&](const std::string& v) { return std::find(set.begin(), set.end(), v) != set.end(); };
  std::string L = list_of(set);
  std::vector<Case> cases;
  // Indexed (the dispatch switch over the values), negated (not indexed: the set function alone), on a second
  // field behind an `or` (not indexed), and on an object field (any JSON value).
  for (const std::string& cond : {"s in " + L, "not (s in " + L + ")", "s2 in " + L + " or i == 42", "o in " + L}) {
    Case c{cond, {}};
    bool negated = cond.rfind("not", 0) == 0;
    bool on_s2 = cond.rfind("s2", 0) == 0;
    bool on_o = cond.rfind("o ", 0) == 0;
    for (const std::string& v : probes) {
      std::string f = (on_s2 ? "\"s2\":" : on_o ? "\"o\":" : "\"s\":") + quote(v);
      c.rows.push_back({f, negated ? !member(v) : member(v)});
    }
    // Not a string: a missing field, a number in an object field, an object, an array.
    c.rows.push_back({"", negated});
    if (on_o) {
      c.rows.push_back({"\"o\":5", false});
      c.rows.push_back({"\"o\":{\"a\":\"abc\"}", false});
      c.rows.push_back({"\"o\":[\"abc\"]", false});
      c.rows.push_back({"\"o\":null", false});
    }
    if (on_s2) c.rows.push_back({"\"s2\":\"nope\",\"i\":42", true});
    cases.push_back(std::move(c));
  }
  check_table(cases);
}

// The literal prefilter (runtime/jit/prefilter.h): rules that need a literal in `s` are evaluated by the JIT
// only when a vectorscan scan finds it. Never a missed match: every probe is checked against the interpreter
// (which has no prefilter) and against the language, case folding, non-ASCII bytes, empty and missing values,
// and non-strings included.
TEST(JitEngine, PrefilteredStringOperators) {
  const std::vector<std::string> probes = {
      "",  "alpha", "ALPHA", "xxalphaxx", "alph", "prefix-z", "PREFIX-z", "z-prefix-", "file.EXE", "file.exe",
      "file.exe.bak", "Gamma", "gAmMa", "gamma ray", "abc-d-ef", "abcdef", "ab*cd", "\xc3\xa9t\xc3\xa9",
      "\xc3\x89T\xc3\x89", "needle\xe2\x82\xac", "haystack NEEDLE", "one", "two", "ONE", "three", "GAMMA  RAY!", "file.bat"};
  struct Op {
    std::string cond;
    std::function<bool(const std::string&)> holds;  // on a string value of `s`
  };
  auto lower = [](std::string s) {
    for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return s;
  };
  auto has = [](const std::string& s, const std::string& x) { return s.find(x) != std::string::npos; };
  const std::vector<Op> ops = {
      {"s contains \"alpha\"", [&](const std::string& s) { return has(s, "alpha"); }},
      {"s startswith \"prefix-\"", [&](const std::string& s) { return s.rfind("prefix-", 0) == 0; }},
      {"s endswith~ \".exe\"",
       [&](const std::string& s) { return s.size() >= 4 && lower(s.substr(s.size() - 4)) == ".exe"; }},
      {"s ==~ \"GAMMA\"", [&](const std::string& s) { return lower(s) == "gamma"; }},
      {"s like \"abc*d*ef\"",
       [&](const std::string& s) { return s.rfind("abc", 0) == 0 && s.size() >= 6 && has(s.substr(3, s.size() - 5), "d") &&
                                          s.substr(s.size() - 2) == "ef"; }},
      {"s contains~ any [\"needle\", \"\xc3\xa9t\"]",
       [&](const std::string& s) { return has(lower(s), "needle") || has(lower(s), "\xc3\xa9t"); }},
      {"s in~ [\"one\", \"two\"] and s != \"two\"", [&](const std::string& s) { return lower(s) == "one"; }},
      {"s contains \"alpha\" or s == \"three\"", [&](const std::string& s) { return has(s, "alpha") || s == "three"; }},
      // Regexes: selected by RE2's prefilter atoms (lowercased; the scan folds case).
      {"s matches r\"^file\\.(exe|bat)$\"", [&](const std::string& s) { return s == "file.exe" || s == "file.bat"; }},
      {"s matches~ r\"gamma\\s+ray\"", [&](const std::string& s) { return has(lower(s), "gamma ray") || has(lower(s), "gamma  ray"); }},
  };
  std::vector<Case> cases;
  for (const Op& op : ops) {
    Case c{op.cond, {}};
    for (const std::string& v : probes) c.rows.push_back({"\"s\":" + quote(v), op.holds(v)});
    c.rows.push_back({"", false});                // missing
    c.rows.push_back({"\"s\":null", false});
    c.rows.push_back({"\"s\":42", false});        // not a string (read as null)
    c.rows.push_back({"\"s2\":\"alpha\"", false});  // the literal in another field
    cases.push_back(std::move(c));
  }
  // The plan must really prefilter these (else this test checks nothing new).
  std::string rules;
  for (size_t c = 0; c < cases.size(); ++c) rules += event_rule("j.c" + std::to_string(c), cases[c].cond);
  auto b = build_rules(rules);
  ASSERT_TRUE(b->prog);
  ir::MatchPlan plan = ir::build_match_plan(*b->prog);
  const ir::SourcePlan& sp = plan.sources[b->prog->source_index("j.src")];
  ASSERT_EQ(sp.prefilters.size(), 1u);
  EXPECT_EQ(sp.prefiltered.size(), ops.size());
  rt::EngineStats st;
  check_table(cases, "", &st);
  EXPECT_GT(st.prefilter_scans, 0u);
  EXPECT_GT(st.prefilter_literals, 0u);
  EXPECT_LT(st.prefilter_selected, st.prefilter_scans * ops.size()) << "the scan selected every predicate";
}

TEST(JitEngine, StringDispatchManyEqualityRules) {
  // One rule per value: all indexed on `s`, so the dispatch switch holds every value, each selecting one rule.
  const auto set = tree_strings();
  const auto probes = tree_probes();
  std::vector<Case> cases;
  for (const std::string& v : set) {
    Case c{"s == " + quote(v), {}};
    for (const std::string& p : probes) c.rows.push_back({"\"s\":" + quote(p), p == v});
    c.rows.push_back({"", false});
    cases.push_back(std::move(c));
  }
  // Rules sharing values with others, and one whose values are a prefix-closed chain.
  cases.push_back({"s in [\"a\", \"ab\", \"abc\"] and i > 0",
                   {{"\"s\":\"ab\",\"i\":1", true}, {"\"s\":\"ab\",\"i\":0", false}, {"\"s\":\"abcd\",\"i\":1", false}}});
  cases.push_back({"s == \"\" or s == \"prefix\"",
                   {{"\"s\":\"\"", true}, {"\"s\":\"prefix\"", true}, {"\"s\":\"prefixed\"", false}, {"", false}}});
  check_table(cases);
}

TEST(JitEngine, EqualityOnOtherFieldsAndConstantsOnTheLeft) {
  check_table({
      {"\"abc\" == s", {{"\"s\":\"abc\"", true}, {"\"s\":\"abd\"", false}, {"", false}}},
      {"s == s2", {{"\"s\":\"x\",\"s2\":\"x\"", true}, {"\"s\":\"x\",\"s2\":\"y\"", false}, {"\"s\":\"x\"", false},
                   {"", false}}},
      {"s != \"a\"", {{"\"s\":\"a\"", false}, {"\"s\":\"b\"", true}, {"", true}}},
      {"s ==~ \"ABC\"", {{"\"s\":\"abc\"", true}, {"\"s\":\"AbC\"", true}, {"\"s\":\"abd\"", false}, {"", false}}},
      {"nc == \"Web01\"", {{"\"nc\":\"WEB01\"", true}, {"\"nc\":\"web01\"", true}, {"\"nc\":\"web02\"", false}}},
      {"nc in [\"Alpha\", \"beta\"]", {{"\"nc\":\"ALPHA\"", true}, {"\"nc\":\"Beta\"", true}, {"\"nc\":\"gamma\"", false}}},
      {"s in~ [\"Alpha\", \"\xc3\x89t\xc3\xa9\"]",
       {{"\"s\":\"aLPHA\"", true}, {"\"s\":\"\xc3\x89t\xc3\xa9\"", true}, {"\"s\":\"\xc3\xa9t\xc3\xa9\"", false}}},
      {"ip == \"10.0.0.1\"", {{"\"ip\":\"10.0.0.1\"", true}, {"\"ip\":\"10.0.0.2\"", false}, {"", false}}},
      {"ip == ip2", {{"\"ip\":\"10.0.0.1\",\"ip2\":\"10.0.0.1\"", true}, {"\"ip\":\"::1\",\"ip2\":\"0:0::1\"", true},
                     {"\"ip\":\"10.0.0.1\",\"ip2\":\"10.0.0.2\"", false}}},
      {"ip in [\"10.0.0.1\", \"::1\"]", {{"\"ip\":\"10.0.0.1\"", true}, {"\"ip\":\"::1\"", true},
                                          {"\"ip\":\"10.0.0.3\"", false}}},
      {"ip in cidr [\"10.0.0.0/8\"]", {{"\"ip\":\"10.1.2.3\"", true}, {"\"ip\":\"11.0.0.1\"", false}, {"", false}}},
      {"o == \"x\"", {{"\"o\":\"x\"", true}, {"\"o\":{\"a\":1}", false}, {"\"o\":[\"x\"]", false}, {"\"o\":1", false}}},
      {"b == true", {{"\"b\":true", true}, {"\"b\":false", false}, {"", false}}},
      {"b != true", {{"\"b\":true", false}, {"\"b\":false", true}, {"", true}}},
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Integers, floats, times, durations, nulls

TEST(JitEngine, IntegerSets) {
  std::string L = "[1, 2, 3, -5, 1000000, 9223372036854775807, -9223372036854775807]";
  std::vector<Row> rows;
  for (const char* v : {"1", "2", "3", "-5", "1000000", "9223372036854775807", "-9223372036854775807"})
    rows.push_back({std::string("\"i\":") + v, true});
  for (const char* v : {"0", "4", "-4", "999999", "1000001", "9223372036854775806", "-9223372036854775806"})
    rows.push_back({std::string("\"i\":") + v, false});
  rows.push_back({"", false});
  std::vector<Row> neg;
  for (const Row& r : rows) neg.push_back({r.fields, !*r.expect});
  check_table({
      {"i in " + L, rows},
      {"not (i in " + L + ")", neg},
      {"o in [1, 2, 3]",
       {{"\"o\":2", true}, {"\"o\":4", false}, {"\"o\":2.0", std::nullopt}, {"\"o\":2.5", false}, {"\"o\":\"2\"", false},
        {"\"o\":true", false}, {"\"o\":null", false}, {"", false}}},
      {"f in [1.5, 2.0]", {{"\"f\":1.5", true}, {"\"f\":2", true}, {"\"f\":2.5", false}, {"", false}}},
      {"d in [5m, 1h]", {{"\"d\":\"5m\"", true}, {"\"d\":\"60m\"", true}, {"\"d\":\"6m\"", false}, {"", false}}},
      {"nums[*] in [7, 8]", {{"\"nums\":[1,8]", true}, {"\"nums\":[1,9]", false}, {"\"nums\":[]", false}, {"", false}}},
  });
}

TEST(JitEngine, NumericTimeAndDurationComparisons) {
  std::string t10 = rt::test::at(1000), t0 = rt::test::at(0);
  check_table({
      {"i > 5", {{"\"i\":6", true}, {"\"i\":5", false}, {"\"i\":-1", false}, {"", false}}},
      {"i <= -3", {{"\"i\":-3", true}, {"\"i\":-2", false}, {"\"i\":-9223372036854775807", true}}},
      {"not (i > 5)", {{"\"i\":6", false}, {"\"i\":5", true}, {"", true}}},
      {"i >= i2", {{"\"i\":3,\"i2\":3", true}, {"\"i\":2,\"i2\":3", false}, {"\"i2\":3", false}, {"\"i\":3", false}}},
      {"i == f", {{"\"i\":2,\"f\":2.0", true}, {"\"i\":2,\"f\":2.5", false}, {"\"i\":2", false}}},
      {"i < 2.5", {{"\"i\":2", true}, {"\"i\":3", false}, {"", false}}},
      {"f < 2.5", {{"\"f\":2.4", true}, {"\"f\":2", true}, {"\"f\":2.5", false}, {"", false}}},
      {"f >= i", {{"\"f\":3.0,\"i\":3", true}, {"\"f\":2.9,\"i\":3", false}, {"\"f\":1e300,\"i\":-1", true}}},
      {"i == 9223372036854775807", {{"\"i\":9223372036854775807", true}, {"\"i\":9223372036854775806", false}}},
      {"o > 3", {{"\"o\":4", true}, {"\"o\":4.5", true}, {"\"o\":3", false}, {"\"o\":\"4\"", false},
                 {"\"o\":[4]", false}, {"", false}}},
      {"o == 3", {{"\"o\":3", true}, {"\"o\":3.0", std::nullopt}, {"\"o\":\"3\"", false}}},
      {"t2 > ts", {{"\"t2\":\"" + t10 + "\"", true}, {"\"t2\":\"" + t0 + "\"", false}, {"", false}}},
      {"t2 - ts > 5m", {{"\"t2\":\"" + t10 + "\"", true}, {"\"t2\":\"" + t0 + "\"", false}, {"", false}}},
      {"d > 5m", {{"\"d\":\"10m\"", true}, {"\"d\":\"5m\"", false}, {"\"d\":600000000000", true}, {"", false}}},
      {"d == 0s", {{"\"d\":\"0s\"", true}, {"\"d\":\"1ms\"", false}, {"", false}}},
      {"i + 1 > 5", {{"\"i\":5", true}, {"\"i\":4", false}, {"\"i\":9223372036854775807", false}, {"", false}}},
      {"i * 2 == i2", {{"\"i\":3,\"i2\":6", true}, {"\"i\":3,\"i2\":7", false}, {"\"i2\":0", false}}},
      {"i / 0 == 0 or i % 2 == 1", {{"\"i\":3", true}, {"\"i\":4", false}}},
      {"coalesce(i, 7) == 7", {{"", true}, {"\"i\":7", true}, {"\"i\":8", false}}},
      {"len(s) == 3", {{"\"s\":\"abc\"", true}, {"\"s\":\"\xc3\xa9t\xc3\xa9\"", true}, {"\"s\":\"ab\"", false}}},
  });
}

// ---------------------------------------------------------------------------------------------------------------
// String operators and their fast paths

TEST(JitEngine, StartsWithEndsWithFastPaths) {
  check_table({
      {"s startswith \"\"", {{"\"s\":\"\"", true}, {"\"s\":\"x\"", true}, {"", false}, {"\"s\":5", false}}},
      {"s endswith \"\"", {{"\"s\":\"\"", true}, {"\"s\":\"xyz\"", true}, {"", false}}},
      {"s contains \"\"", {{"\"s\":\"\"", true}, {"\"s\":\"x\"", true}, {"", false}}},
      {"s startswith \"abcdef\"", {{"\"s\":\"abc\"", false}, {"\"s\":\"abcdef\"", true}, {"\"s\":\"abcdefg\"", true},
                                   {"\"s\":\"abcdeF\"", false}, {"\"s\":\"\"", false}, {"\"s\":\"xabcdef\"", false}}},
      {"s endswith \"cdef\"", {{"\"s\":\"abcdef\"", true}, {"\"s\":\"def\"", false}, {"\"s\":\"cdef\"", true},
                               {"\"s\":\"cdeF\"", false}, {"\"s\":\"cdefx\"", false}, {"\"s\":\"\"", false}}},
      {"s startswith \"\xc3\xa9\"", {{"\"s\":\"\xc3\xa9t\xc3\xa9\"", true}, {"\"s\":\"e\"", false},
                                     {"\"s\":\"\xc3\"", std::nullopt}}},
      {"s endswith \"\xe2\x82\xac\"", {{"\"s\":\"10\xe2\x82\xac\"", true}, {"\"s\":\"\xe2\x82\xac\"", true},
                                       {"\"s\":\"\x82\xac\"", std::nullopt}, {"\"s\":\"10\"", false}}},
      {"s startswith~ \"AB\"", {{"\"s\":\"abc\"", true}, {"\"s\":\"aBx\"", true}, {"\"s\":\"a\"", false}}},
      {"s endswith~ \"XyZ\"", {{"\"s\":\"wxyz\"", true}, {"\"s\":\"yz\"", false}}},
      {"s contains \"bc\"", {{"\"s\":\"abcd\"", true}, {"\"s\":\"acbd\"", false}, {"\"s\":\"bc\"", true}}},
      {"s startswith s2", {{"\"s\":\"abc\",\"s2\":\"ab\"", true}, {"\"s\":\"abc\",\"s2\":\"\"", true},
                           {"\"s\":\"abc\",\"s2\":\"abcd\"", false}, {"\"s\":\"abc\"", false}}},
      {"s endswith s2", {{"\"s\":\"abc\",\"s2\":\"bc\"", true}, {"\"s\":\"bc\",\"s2\":\"abc\"", false}}},
      {"o startswith \"ab\"", {{"\"o\":\"abc\"", true}, {"\"o\":5", false}, {"\"o\":{\"ab\":1}", false}}},
      {"ip startswith \"10.\"", {{"\"ip\":\"10.1.1.1\"", true}, {"\"ip\":\"11.0.0.1\"", false}}},
      {"s like \"a*c\"", {{"\"s\":\"abbbc\"", true}, {"\"s\":\"ac\"", true}, {"\"s\":\"acd\"", false}}},
      {"s like \"?\"", {{"\"s\":\"\xc3\xa9\"", true}, {"\"s\":\"ab\"", false}}},
      {"s matches \"^a.c$\"", {{"\"s\":\"abc\"", true}, {"\"s\":\"abbc\"", false}}},
      {"s startswith any [\"x\", \"ab\"]", {{"\"s\":\"abc\"", true}, {"\"s\":\"xa\"", true}, {"\"s\":\"ba\"", false}}},
      {"s endswith any [\"\", \"z\"]", {{"\"s\":\"abc\"", true}, {"", false}}},
      {"s contains any [\"q\"]", {{"\"s\":\"aqa\"", true}, {"\"s\":\"a\"", false}}},
  });
}

// ---------------------------------------------------------------------------------------------------------------
// `[*]`, including nested quantifiers and bodies the JIT hands to the interpreter (braid_rt_eval with bindings)

TEST(JitEngine, AnyElementQuantifiers) {
  const std::string two = "\"items\":[{\"v\":\"b\",\"n\":1,\"subs\":[{\"w\":\"p\",\"k\":1}]},"
                          "{\"v\":\"ABC\",\"n\":5,\"subs\":[{\"w\":\"Q\",\"k\":2},{\"w\":\"x\",\"k\":5}]}]";
  check_table({
      {"items[*].v == \"b\"", {{two, true}, {"\"items\":[]", false}, {"", false}, {"\"items\":[{\"n\":1}]", false}}},
      {"items[*].v != \"b\"", {{two, false}, {"\"items\":[]", true}, {"", true}}},
      {"items[*].v in [\"zz\", \"ABC\"]", {{two, true}, {"\"items\":[{\"v\":\"abc\"}]", false}}},
      {"items[*].subs[*].w == \"x\"", {{two, true}, {"\"items\":[{\"subs\":[{\"w\":\"y\"}]},{\"subs\":[]}]", false},
                                       {"\"items\":[{\"v\":\"x\"}]", false}}},
      {"items[*].subs[*].k == items[*].n",
       {{two, true}, {"\"items\":[{\"n\":3,\"subs\":[{\"k\":1}]}]", false}}},
      {"lower(items[*].v) == \"abc\"", {{two, true}, {"\"items\":[{\"v\":\"abd\"}]", false}, {"", false}}},
      {"lower(items[*].subs[*].w) == \"q\"", {{two, true}, {"\"items\":[{\"subs\":[{\"w\":\"p\"}]}]", false}}},
      {"upper(items[*].v) startswith \"AB\"", {{two, true}, {"\"items\":[{\"v\":\"b\"}]", false}}},
      {"len(items[*].v) == 3", {{two, true}, {"\"items\":[{\"v\":\"ab\"}]", false}}},
      // `items[*].v` is the list of the `v` values present: none here, so no element to test.
      {"coalesce(items[*].v, \"none\") == \"none\"", {{"\"items\":[{\"n\":1}]", false}, {two, false}}},
      {"coalesce(items[*].v, \"none\") == \"b\"", {{two, true}, {"\"items\":[{\"v\":\"c\"}]", false}}},
      {"exists(items[*].v)", {{two, true}, {"\"items\":[{\"n\":1}]", false}, {"", false}}},
      {"items[*].v is null", {{two, false}, {"\"items\":[{\"n\":1}]", true}, {"", true}}},
      {"items[*].n > 4 and items[*].v == \"b\"", {{two, true}, {"\"items\":[{\"v\":\"b\",\"n\":1}]", false}}},
      {"tags[*] startswith \"ad\"", {{"\"tags\":[\"x\",\"admin\"]", true}, {"\"tags\":[\"a\"]", false}}},
      {"tags[*] == s", {{"\"tags\":[\"x\",\"y\"],\"s\":\"y\"", true}, {"\"tags\":[\"x\"],\"s\":\"y\"", false}}},
      {"nums[*] > 5", {{"\"nums\":[1,6]", true}, {"\"nums\":[1,5]", false}}},
      {"lower(tags[*]) in [\"admin\"]", {{"\"tags\":[\"x\",\"ADMIN\"]", true}, {"\"tags\":[\"adm\"]", false}}},
  });
}

TEST(JitEngine, ArithmeticOnAnElementIfTheLanguageAllowsIt) {
  // `[*]` inside arithmetic is BRD0215 today; if the checker ever accepts it, the JIT must still agree.
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = std::string(kJitSources) + event_rule("j.arith", "items[*].n + 1 > 5");
  FileId id = sm.add("arith.braid", text);
  ast::File f = parse_file(sm, id, diags);
  std::unique_ptr<ir::Program> p;
  if (!diags.has_errors()) p = check({&f}, sm, diags);
  if (diags.has_errors() || !p) GTEST_SKIP() << "the checker rejects arithmetic on an element";
  check_table({{"items[*].n + 1 > 5", {{"\"items\":[{\"n\":1},{\"n\":5}]", true}, {"\"items\":[{\"n\":4}]", false}}}});
}

// ---------------------------------------------------------------------------------------------------------------
// session.* in an event rule, `recognize`, and dispatch over several sources

TEST(JitEngine, SessionAttributesInAnEventRule) {
  // session.* are read by the interpreter through braid_rt_eval with the event's session state.
  std::string rules = event_rule("j.third", "s == \"go\" and session.events >= 3") +
                      event_rule("j.ident", "session.identity == \"alice\" and i > 0") +
                      event_rule("j.long", "session.duration > 2m") +
                      event_rule("j.srcs", "session.source_ips >= 1 and s == \"go\"");
  auto b = build_rules(rules);
  ASSERT_TRUE(b->prog);
  auto jit = jit_compile(*b->prog);
  ASSERT_TRUE(jit);
  std::vector<std::string> events;
  for (int k = 0; k < 6; ++k)
    events.push_back(event_json("a" + std::to_string(k), k, "\"s\":\"go\",\"i\":" + std::to_string(k), "j", "alice"));
  for (int k = 0; k < 2; ++k)
    events.push_back(event_json("b" + std::to_string(k), 10 + k, "\"s\":\"go\",\"i\":1", "j", "bob"));
  events.push_back(event_json("n0", 20, "\"s\":\"go\",\"i\":1", "j", ""));  // no identity: no session
  Fired interp = run_engine(*b->prog, events, nullptr);
  Fired native = run_engine(*b->prog, events, jit->make_matcher());
  EXPECT_EQ(interp.hits, native.hits);
  EXPECT_EQ(interp.rendered, native.rendered);
  // What the interpreter says, so that the comparison is not vacuous.
  using H = std::pair<std::string, std::string>;
  EXPECT_TRUE(interp.hits.count(H{"j.third", "a2"}));
  EXPECT_FALSE(interp.hits.count(H{"j.third", "a1"}));
  EXPECT_FALSE(interp.hits.count(H{"j.third", "b1"}));
  EXPECT_TRUE(interp.hits.count(H{"j.ident", "a1"}));
  EXPECT_FALSE(interp.hits.count(H{"j.ident", "a0"}));
  EXPECT_FALSE(interp.hits.count(H{"j.ident", "b1"}));
  EXPECT_TRUE(interp.hits.count(H{"j.long", "a3"}));
  EXPECT_FALSE(interp.hits.count(H{"j.long", "a2"}));
  EXPECT_FALSE(interp.hits.count(H{"j.third", "n0"}));
}

TEST(JitEngine, RecognizeThroughTheJit) {
  std::string rules = event_rule("j.on_src", "true") + event_rule("j.on_alt", "true", "j.alt") +
                      event_rule("j.alt_kind", "kind == \"alt-x\" or s == \"v\"", "j.alt");
  auto b = build_rules(rules);
  ASSERT_TRUE(b->prog);
  auto jit = jit_compile(*b->prog);
  ASSERT_TRUE(jit);
  // recognize: src "j" -> j.src; (src in [alt, alt2] and kind != skip) or kind startswith "alt-" -> j.alt.
  std::vector<std::string> events = {
      event_json("r0", 0.1, "\"kind\":\"k\""),                          // j.src
      event_json("r1", 0.2, "\"kind\":\"k\"", "alt"),                   // j.alt
      event_json("r2", 0.3, "\"kind\":\"skip\"", "alt2"),               // not routed
      event_json("r3", 0.4, "\"kind\":\"alt-x\"", "zzz"),               // j.alt (the `or`)
      event_json("r4", 0.5, "\"kind\":\"alt-x\"", "j"),                 // j.src: the first source wins
      event_json("r5", 0.6, "", "alt2"),                                // j.alt: kind missing is not "skip"
      event_json("r6", 0.7, "\"kind\":\"alt\"", "ALT"),                 // not routed: case matters
      event_json("r7", 0.8, "\"kind\":\"al\",\"s\":\"v\"", "alt"),      // j.alt
  };
  Fired interp = run_engine(*b->prog, events, nullptr);
  Fired native = run_engine(*b->prog, events, jit->make_matcher());
  EXPECT_EQ(interp.hits, native.hits);
  EXPECT_EQ(interp.rendered, native.rendered);
  using H = std::pair<std::string, std::string>;
  std::set<H> want = {{"j.on_src", "r0"}, {"j.on_alt", "r1"}, {"j.on_alt", "r3"}, {"j.alt_kind", "r3"},
                      {"j.on_src", "r4"}, {"j.on_alt", "r5"}, {"j.on_alt", "r7"}, {"j.alt_kind", "r7"}};
  EXPECT_EQ(native.hits, want);
  ASSERT_EQ(native.stats.sources.size(), 2u);
  EXPECT_EQ(native.stats.sources[0].events, 2u);
  EXPECT_EQ(native.stats.sources[1].events, 4u);
  EXPECT_EQ(native.stats.unrouted, 2u);
  EXPECT_EQ(interp.stats.unrouted, 2u);
}

TEST(JitEngine, MultiSourceRuleAndSessionSteps) {
  std::string rules = event_rule("j.both", "s == \"b\" or i == 3", "j.src, j.alt") +
                      // `never` on j.alt (no eventName there), indexed on j.src; and predicates that cannot hold.
                      event_rule("j.cross", "eventName == \"X\" and i > 1", "j.src, j.alt") +
                      event_rule("j.never_true", "false") + event_rule("j.contra", "s == \"b\" and s == \"c\"") +
                      "rule j.seq {\n" + meta("j.seq") +
                      "  session {\n    step x = eventName == \"X\"\n    step y = s startswith \"y\" and i > 1\n"
                      "    when x -> y within 10m\n  }\n}\n";
  auto b = build_rules(rules);
  ASSERT_TRUE(b->prog);
  auto jit = jit_compile(*b->prog);
  ASSERT_TRUE(jit);
  std::vector<std::string> events = {
      event_json("m0", 0.1, "\"s\":\"b\""), event_json("m1", 0.2, "\"s\":\"b\"", "alt"),
      event_json("m2", 0.3, "\"i\":3", "alt"), event_json("m3", 0.4, "\"eventName\":\"X\""),
      event_json("m4", 0.5, "\"s\":\"yes\",\"i\":1"), event_json("m5", 0.6, "\"s\":\"yes\",\"i\":2"),
      event_json("m6", 0.7, "\"eventName\":\"X\",\"i\":2"), event_json("m7", 0.8, "\"eventName\":\"X\",\"i\":2", "alt"),
  };
  Fired interp = run_engine(*b->prog, events, nullptr);
  Fired native = run_engine(*b->prog, events, jit->make_matcher());
  EXPECT_EQ(interp.hits, native.hits);
  EXPECT_EQ(interp.rendered, native.rendered);
  using H = std::pair<std::string, std::string>;
  std::set<H> want = {{"j.both", "m0"}, {"j.both", "m1"}, {"j.both", "m2"}, {"j.seq", "m5"}, {"j.cross", "m6"}};
  EXPECT_EQ(native.hits, want);
}

TEST(JitEngine, TheEngineReallyAsksTheJit) {
  // The differential tests above would pass vacuously if the engine ignored its matcher. Load the code of
  // another program (same sources, other constants) for this one: the alerts must follow the native code.
  auto a = build_rules(event_rule("j.r", "s == \"a\""));
  auto b = build_rules(event_rule("j.r", "s == \"b\""));
  ASSERT_TRUE(a->prog && b->prog);
  codegen::CodegenResult cg = codegen::lower_program(*b->prog);
  ASSERT_TRUE(cg.ok()) << cg.error;
  rt::JitOptions o;
  o.use_cache = false;
  std::string error;
  auto jit = rt::JitProgram::load(*a->prog, cg.bitcode, o, error);
  ASSERT_TRUE(jit) << error;
  std::vector<std::string> events = {event_json("va", 0.1, "\"s\":\"a\""), event_json("vb", 0.2, "\"s\":\"b\"")};
  using H = std::pair<std::string, std::string>;
  EXPECT_EQ(run_engine(*a->prog, events, nullptr).hits, (std::set<H>{{"j.r", "va"}}));
  EXPECT_EQ(run_engine(*a->prog, events, jit->make_matcher()).hits, (std::set<H>{{"j.r", "vb"}}));
}

TEST(JitEngine, EveryOptLevelAgrees) {
  std::string rules = event_rule("j.a", "s in [\"a\", \"ab\", \"\"] and i > 1") + event_rule("j.b", "s endswith \"b\"") +
                      event_rule("j.c", "lower(items[*].v) == \"x\"");
  auto b = build_rules(rules);
  ASSERT_TRUE(b->prog);
  std::vector<std::string> events = {event_json("o0", 0.1, "\"s\":\"ab\",\"i\":2"), event_json("o1", 0.2, "\"s\":\"\",\"i\":2"),
                                     event_json("o2", 0.3, "\"items\":[{\"v\":\"X\"}]"), event_json("o3", 0.4, "")};
  Fired interp = run_engine(*b->prog, events, nullptr);
  EXPECT_EQ(interp.hits.size(), 4u);
  for (int level : {0, 1, 2}) {
    auto jit = jit_compile(*b->prog, level);
    ASSERT_TRUE(jit) << level;
    Fired native = run_engine(*b->prog, events, jit->make_matcher());
    EXPECT_EQ(interp.hits, native.hits) << "opt level " << level;
  }
}

}  // namespace
}  // namespace braid::jittest
