// The reference interpreter, through event-scope rules: null semantics, case folding, [*], strings, regexes,
// CIDRs, sets, arithmetic and builtins. Each case is a condition, one event, and whether the rule must fire.
#include <gtest/gtest.h>

#include "engine/interp.h"
#include "harness.h"

namespace braid::rt::test {
namespace {

struct Case {
  std::string cond;
  std::string event;  // extra JSON members
  bool fires;
};

const std::vector<Case> kCases = {
    // Missing and null (docs/language.md 8)
    {"opt == \"x\"", "", false},
    {"opt != \"x\"", "", true},
    {"opt != \"x\"", "\"opt\":null", true},
    {"opt != \"x\"", "\"opt\":\"x\"", false},
    {"opt == \"x\"", "\"opt\":\"x\"", true},
    {"opt > \"a\"", "", false},
    {"not (opt > \"a\")", "", true},
    {"opt contains \"x\"", "", false},
    {"not (opt contains \"x\")", "", true},
    {"opt in [\"a\", \"b\"]", "", false},
    {"opt not in [\"a\", \"b\"]", "", true},
    {"opt is null", "", true},
    {"opt is null", "\"opt\":\"\"", false},
    {"exists(opt)", "\"opt\":\"\"", true},
    {"len(opt) > 0", "", false},
    {"not (len(opt) > 0)", "", true},
    {"coalesce(opt, \"none\") == \"none\"", "", true},
    {"coalesce(opt, \"none\") == \"none\"", "\"opt\":\"x\"", false},
    {"n + 1 > 0", "", false},
    {"not (n + 1 > 0)", "", true},
    {"flag", "", false},
    {"not flag", "", true},
    {"flag", "\"flag\":true", true},
    {"flag == false", "", false},
    {"flag != true", "", true},
    {"n == 3", "\"n\":\"3\"", false},  // wrong JSON type reads as null
    {"n != 3", "\"n\":\"3\"", true},
    // Case
    {"user == \"ALICE\"", "", false},
    {"user ==~ \"ALICE\"", "", true},
    {"user !=~ \"ALICE\"", "", false},
    {"name == \"ALICE\"", "\"name\":\"alice\"", true},  // nocase field
    {"name != \"ALICE\"", "\"name\":\"alice\"", false},
    {"name in [\"ALICE\", \"BOB\"]", "\"name\":\"alice\"", true},
    {"name startswith \"AL\"", "\"name\":\"alice\"", true},
    {"name endswith \"CE\"", "\"name\":\"alice\"", true},
    {"name contains any [\"LIC\"]", "\"name\":\"alice\"", true},
    {"name matches r\"^ALI\"", "\"name\":\"alice\"", true},
    {"user in~ [\"ALICE\"]", "", true},
    {"user in [\"ALICE\"]", "", false},
    {"user contains~ \"LIC\"", "", true},
    {"user contains \"LIC\"", "", false},
    {"user startswith~ any [\"AL\", \"BO\"]", "", true},
    {"user like~ \"A*E\"", "", true},
    {"user like \"A*E\"", "", false},
    // Strings
    {"user like \"al*e\"", "", true},
    {"user like \"a?ice\"", "", true},
    {"user like \"a?ce\"", "", false},
    {"user like \"*\"", "", true},
    {"user like \"al\"", "", false},
    {"opt like \"a\\\\*b\"", "\"opt\":\"a*b\"", true},
    {"opt like \"a\\\\*b\"", "\"opt\":\"axb\"", false},
    {"opt like \"?\"", "\"opt\":\"\\u00e9\"", true},  // one UTF-8 character
    {"len(opt) == 2", "\"opt\":\"\\u00e9x\"", true},
    {"user startswith \"al\" and user endswith \"ce\" and user contains \"lic\"", "", true},
    {"user endswith any [\"x\", \"ice\"]", "", true},
    {"user like any [\"x*\", \"*ic*\"]", "", true},
    // Regexes: unanchored RE2 search
    {"user matches r\"lic\"", "", true},
    {"user matches r\"^lic\"", "", false},
    {"user matches~ r\"^ALICE$\"", "", true},
    {"user matches any [r\"^z\", r\"e$\"]", "", true},
    {"replace(user, r\"[aeiou]\", \"_\") == \"_l_c_\"", "", true},
    {"replace(user, r\"(a)(l)\", \"\\\\2\\\\1\") == \"laice\"", "", true},
    {"lower(opt) == \"mixed\"", "\"opt\":\"MiXeD\"", true},
    {"upper(opt) == \"MIXED\"", "\"opt\":\"MiXeD\"", true},
    // CIDR
    {"ip in cidr [\"10.0.0.0/8\"]", "\"ip\":\"10.1.2.3\"", true},
    {"ip in cidr [\"10.0.0.0/8\"]", "\"ip\":\"11.1.2.3\"", false},
    {"ip in cidr [\"10.0.0.0/8\"]", "\"ip\":\"AWS Internal\"", false},
    {"ip not in cidr [\"10.0.0.0/8\"]", "\"ip\":\"AWS Internal\"", true},
    {"ip in cidr [\"2001:db8::/32\"]", "\"ip\":\"2001:db8:1::5\"", true},
    {"ip in cidr [\"2001:db8::/32\"]", "\"ip\":\"2001:db9::5\"", false},
    {"ip in cidr [\"0.0.0.0/0\"]", "\"ip\":\"::1\"", false},
    {"ip in cidr [\"192.168.1.7\"]", "\"ip\":\"192.168.1.7\"", true},
    {"ip in cidr [\"10.1.2.0/23\"]", "\"ip\":\"10.1.3.255\"", true},
    {"ip in cidr [\"10.1.2.0/23\"]", "\"ip\":\"10.1.4.0\"", false},
    {"ip == \"10.1.2.3\"", "\"ip\":\"10.1.2.3\"", true},
    // [*]
    {"items[*].v == \"a\"", "\"items\":[{\"v\":\"b\"},{\"v\":\"a\"}]", true},
    {"items[*].v == \"a\"", "\"items\":[{\"v\":\"b\"}]", false},
    {"items[*].v != \"a\"", "\"items\":[{\"v\":\"b\"},{\"v\":\"a\"}]", false},
    {"items[*].v != \"a\"", "\"items\":[{\"v\":\"b\"}]", true},
    {"items[*].v != \"a\"", "", true},
    {"items[*].v == \"a\"", "\"items\":[]", false},
    {"items[*].n > 2", "\"items\":[{\"n\":1},{\"n\":3}]", true},
    {"items[*].n > 2 and items[*].n < 2", "\"items\":[{\"n\":1},{\"n\":3}]", true},
    {"items[*].v in [\"x\", \"y\"]", "\"items\":[{\"v\":\"b\"},{\"v\":\"y\"}]", true},
    {"exists(items[*].v)", "\"items\":[{\"n\":1}]", false},
    {"exists(items[*].v)", "\"items\":[{\"n\":1},{\"v\":\"q\"}]", true},
    {"items[0].v == \"b\"", "\"items\":[{\"v\":\"b\"},{\"v\":\"a\"}]", true},
    {"items[5].v is null", "\"items\":[{\"v\":\"b\"}]", true},
    {"len(tags) == 3", "\"tags\":[\"a\",\"b\",\"c\"]", true},
    {"tags[*] == \"b\"", "\"tags\":[\"a\",\"b\",\"c\"]", true},
    // Sets, numbers, arithmetic
    {"n in [1, 5, 9]", "\"n\":5", true},
    {"n in [1, 5, 9]", "\"n\":6", false},
    {"f in [1.5, 2.5]", "\"f\":2.5", true},
    {"f > 1", "\"f\":1.5", true},
    {"f > n", "\"f\":1.5,\"n\":2", false},
    {"n * 2 == 10", "\"n\":5", true},
    {"n / 2 == 2", "\"n\":5", true},
    {"n / -2 == -2", "\"n\":5", true},
    {"n % 3 == 2", "\"n\":5", true},
    {"-n % 3 == -2", "\"n\":5", true},
    {"coalesce(n / 0, -1) == -1", "\"n\":5", true},
    {"coalesce(n % 0, -1) == -1", "\"n\":5", true},
    {"coalesce(n * 4611686018427387904, -1) == -1", "\"n\":5", true},  // overflow is null
    {"n - 10 < 0", "\"n\":5", true},
    {"ts + 1h > ts", "", true},
    {"ts - ts == 0s", "", true},
    {"(ts + 90m) - ts == 1h30m", "", true},
    {"1h * 2 == 2h", "", true},
    {"1h / 4 == 15m", "", true},
    {"-1h < 0s", "", true},
    // object fields: run-time types
    {"obj.x == \"y\"", "\"obj\":{\"x\":\"y\"}", true},
    {"obj.x contains \"5\"", "\"obj\":{\"x\":5}", false},
    {"obj.x == 5", "\"obj\":{\"x\":5}", true},
    {"obj.x > 4.5", "\"obj\":{\"x\":5}", true},
    // len() of JSON arrays and objects held by object fields counts their top-level elements / members
    {"len(obj.ids) == 3", "\"obj\":{\"ids\":[\"a\",\"b,]\",[1,2]]}", true},
    {"len(obj.ids) == 0", "\"obj\":{\"ids\":[ ]}", true},
    {"len(obj.m) == 2", "\"obj\":{\"m\":{\"k\":{\"x\":1},\"q\":\"}\"}}", true},
    {"len(obj) == 1", "\"obj\":{\"ids\":[]}", true},
    {"obj.x == \"5\"", "\"obj\":{\"x\":5}", false},
    {"obj.z is null", "\"obj\":{\"x\":5}", true},
    {"undeclared_top == \"v\"", "\"undeclared_top\":\"v\"", true},
    // and/or/not with null operands
    {"opt == \"x\" or user == \"alice\"", "", true},
    {"not (opt == \"x\") and user == \"alice\"", "", true},
    {"not (opt == \"x\" or n > 1)", "", true},
};

TEST(Semantics, EventConditions) {
  std::string text = kTestSources;
  for (size_t i = 0; i < kCases.size(); ++i)
    text += rule("t.c" + std::to_string(i), "event", "id == \"c" + std::to_string(i) + "\" and (" + kCases[i].cond + ")");
  auto b = build({text});
  ASSERT_TRUE(b->prog);
  std::vector<std::string> events;
  for (size_t i = 0; i < kCases.size(); ++i) {
    std::string e = "{\"src\":\"t\",\"ts\":\"" + at(static_cast<double>(i) * 0.01) + "\",\"id\":\"c" +
                    std::to_string(i) + "\",\"user\":\"alice\"";
    if (!kCases[i].event.empty()) e += "," + kCases[i].event;
    events.push_back(e + "}");
  }
  Result r = run(*b->prog, events);
  EXPECT_EQ(r.stats.malformed, 0u);
  EXPECT_EQ(r.stats.unrouted, 0u);
  for (size_t i = 0; i < kCases.size(); ++i) {
    size_t n = r.count("t.c" + std::to_string(i));
    EXPECT_EQ(n, kCases[i].fires ? 1u : 0u) << "case " << i << ": " << kCases[i].cond << "  with {" << kCases[i].event
                                            << "}";
  }
}

TEST(Semantics, GlobAndCompareHelpers) {
  EXPECT_TRUE(glob_match("abc", "a*c", false));
  EXPECT_TRUE(glob_match("ac", "a*c", false));
  EXPECT_FALSE(glob_match("ab", "a*c", false));
  EXPECT_TRUE(glob_match("a*c", "a\\*c", false));
  EXPECT_FALSE(glob_match("abc", "a\\*c", false));
  EXPECT_TRUE(glob_match("ABC", "a?c", true));
  EXPECT_TRUE(glob_match("xaaab", "*a*b", false));
  EXPECT_FALSE(glob_match("", "?", false));
  EXPECT_TRUE(glob_match("", "*", false));
  auto c = compare_values(Value::integer(2), Value::floating(2.5), false, false);
  ASSERT_TRUE(c);
  EXPECT_LT(*c, 0);
  EXPECT_FALSE(compare_values(Value::null(), Value::integer(1), false, false));
  EXPECT_FALSE(compare_values(Value::string("1"), Value::integer(1), false, false));
  auto ip = compare_values(Value::string("::ffff:0:1"), Value::string("10.0.0.1"), false, true);
  ASSERT_TRUE(ip);
  EXPECT_GT(*ip, 0);  // IPv4 before IPv6
}

TEST(Semantics, ScratchArenaIsReusedAcrossEvents) {
  // lower()/replace() results go to the scratch arena; after many events it still has its first block only.
  std::string text = kTestSources;
  text += rule("t.low", "event", "lower(user) == \"alice\" and replace(user, r\"[A-Z]\", \"x\") == \"xxxxx\"");
  auto b = build({text});
  ASSERT_TRUE(b->prog);
  Interpreter in(*b->prog);
  const ir::Rule* r = b->prog->find_rule("t.low");
  ASSERT_NE(r, nullptr);
  const ir::Source& s = b->prog->sources[0];
  std::vector<Value> slots(s.slots.size() + 1);
  std::string user = "ALICE";
  uint32_t us = s.slot_of(b->prog->fields.size() ? [&] {
    for (ir::FieldId f = 0; f < b->prog->fields.size(); ++f)
      if (b->prog->fields[f].text == "user") return f;
    return ir::FieldId{0};
  }() : 0);
  ASSERT_NE(us, ir::kNone);
  slots[us] = Value::string(user);
  EvalContext ctx{slots.data(), in.field_slots(0), nullptr};
  for (int i = 0; i < 100000; ++i) {
    in.reset();
    ASSERT_TRUE(in.test(r->condition, ctx));
  }
  EXPECT_EQ(in.arena().blocks(), 1u);
}

}  // namespace
}  // namespace braid::rt::test
