// The checkpoint tests' rules and stream (host_test.cpp, reload_test.cpp): every kind of state the engine keeps.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace braid::rt::test {

inline std::string checkpoint_rules_text() {
  return std::string(kTestSources) +
                rule("c.ev", "event", "kind == \"x\"", "{user}", "  suppress 20m by user\n") +
                rule("c.absent", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> not b within 5m",
                     "{session.identity}") +
                rule("c.seq", "session", "step a = kind == \"a\"\n step x = kind == \"x\"\n step b = kind == \"b\"\n"
                                         " when a -> x -> b within 30m", "{session.identity}") +
                rule("c.distinct", "session", "step x = kind == \"x\" or kind == \"a\"\n"
                                              " when distinct(x.kind) >= 2 and count(x) >= 3",
                     "{distinct(x.kind)} {sum(x.n)} {max(x.n)} {first(x).kind} {last(x).kind}") +
                rule("c.close", "session", "step a = kind == \"a\"\n step b = kind == \"b\"\n when a and not b",
                     "{count(a)}") +
                rule("c.ips", "session", "step any = true\n when count(any) >= 2 and session.source_ips >= 2",
                     "{session.source_ips}") +
                rule("c.chain", "chain", "step m = kind == \"mint\"\n step act = kind == \"x\"\n"
                                         " when m -> act within 1h and chain.depth >= 2",
                     "{chain.root.identity} {chain.identities}") +
                rule("c.link", "chain", "step sso = kind == \"sso\"\n step act = kind == \"act\"\n"
                                        " when sso -> act within 1h", "{chain.root.identity}", "", "t.idp, t.src") +
                rule("c.chain_close", "chain", "step m = kind == \"mint\"\n step b = kind == \"b\"\n when m and not b") +
                // Group rules: a group spans users, and its windows and absences end by the watermark.
                rule("c.group", "group by ip window 10m", "step x = kind == \"x\" or kind == \"a\"\n"
                                                          " when distinct(x.user) >= 2", "{distinct(x.user)} {first(x).ip}") +
                rule("c.group_close", "group by kind gap 3m max 20m", "step any = kind != \"sso\"\n"
                                                                     " when count(any) < 4", "{count(any)}") +
                rule("c.group_absent", "group by ip window 30m",
                     "step a = kind == \"a\"\n step b = kind == \"b\"\n when a -> not b within 5m", "{first(a).user}");
}
inline std::unique_ptr<Built> checkpoint_rules() { return build({checkpoint_rules_text()}); }

// A stream with everything the state holds: several users and keys, minted keys used later, SSO links, events
// out of order within the lateness (held), absence windows that end by the watermark, suppression.
inline std::vector<std::string> checkpoint_events(uint32_t seed, int n) {
  std::vector<std::string> v;
  uint64_t x = seed * 2654435761u + 1;
  auto rnd = [&](uint64_t m) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x % m;
  };
  const char* kinds[] = {"a", "b", "x", "x", "a", "mint", "other", "sso", "saml", "act"};
  double t = 0;
  for (int i = 0; i < n; ++i) {
    t += static_cast<double>(rnd(20)) / 10.0;                 // up to 2 minutes apart
    double when = t - static_cast<double>(rnd(4) == 0 ? rnd(80) : 0) / 10.0;  // some up to 8m out of order
    std::string user = "u" + std::to_string(rnd(3));
    std::string kind = kinds[rnd(10)];
    std::string extra = "\"kind\":\"" + kind + "\",\"n\":" + std::to_string(rnd(100)) + ",\"ip\":\"10.0.0." +
                        std::to_string(rnd(3)) + "\"";
    if (kind == "mint") extra += ",\"newkey\":\"K" + std::to_string(rnd(3)) + "\"";
    if (kind == "sso") {
      v.push_back(ev(when, user + "@ex.com", "", "\"sid\":\"s" + std::to_string(rnd(3)) + "\",\"kind\":\"sso\"", "idp"));
      continue;
    }
    if (kind == "saml") extra += ",\"name\":\"" + user + "@ex.com\"";
    // Keys: the user's own, or a minted one (a child session when it was minted before).
    std::string key = rnd(3) == 0 ? "K" + std::to_string(rnd(3)) : "key-" + user;
    v.push_back(ev(when, user, key, extra));
  }
  return v;
}

inline std::vector<std::string> rendered(const std::vector<Alert>& alerts) {
  std::vector<std::string> out;
  for (const Alert& a : alerts) out.push_back(render_alert_json(a));
  return out;
}

// "" when equal, else where they first differ.
inline std::string first_difference(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    if (i >= got.size()) return "missing alert " + std::to_string(i) + ": " + want[i];
    if (i >= want.size()) return "extra alert " + std::to_string(i) + ": " + got[i];
    if (got[i] != want[i]) return "alert " + std::to_string(i) + " differs:\n got  " + got[i] + "\n want " + want[i];
  }
  return "";
}

}  // namespace braid::rt::test
