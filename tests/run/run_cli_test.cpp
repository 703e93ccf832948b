// `braid run` and `braid test` end to end (the real binaries), the demo stream, and the Stratus corpus.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "json.h"

namespace {

namespace fs = std::filesystem;
using braid::testjson::Parser;
using braid::testjson::Value;

const std::string kSrc = BRAID_SOURCE_DIR;

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path temp_dir() {
  fs::path d = fs::path(::testing::TempDir()) /
               ("braid-run-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  fs::create_directories(d);
  return d;
}

// Runs `exe args` from the source directory; stdin from `stdin_file` when given.
Result run(const std::string& exe, const std::string& args, const std::string& stdin_file = "") {
  fs::path d = temp_dir();
  fs::path out = d / "stdout", err = d / "stderr";
  std::string cmd = "cd '" + kSrc + "' && '" + exe + "' " + args + " >'" + out.string() + "' 2>'" + err.string() +
                    "'" + (stdin_file.empty() ? " </dev/null" : " <'" + stdin_file + "'");
  int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}
Result braid(const std::string& args, const std::string& stdin_file = "") { return run(BRAID_EXE, args, stdin_file); }

std::string show(const Result& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout\n" + r.out.substr(0, 4000) + "\n--- stderr\n" +
         r.err.substr(0, 4000);
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l)) v.push_back(l);
  return v;
}

// Every line of `ndjson` must be a JSON object (strictly parsed); returns them.
std::vector<Value> parse_ndjson(const std::string& ndjson) {
  std::vector<Value> v;
  for (const std::string& l : lines(ndjson)) {
    Value a = Parser(l).parse_document();
    EXPECT_TRUE(a.is_object()) << l;
    v.push_back(std::move(a));
  }
  return v;
}

// The JSON statistics: the last line of stderr.
Value stats_of(const Result& r) {
  std::vector<std::string> ls = lines(r.err);
  if (ls.empty()) throw std::runtime_error("no stderr");
  return Parser(ls.back()).parse_document();
}
int64_t num(const Value& v, const std::string& key) { return static_cast<int64_t>(v.at(key).num); }

// ---------------------------------------------------------------------------------------------------------------
// braid run

TEST(Run, ExitCodes) {
  Result r = braid("run --rules tests/run/data/run");
  EXPECT_EQ(r.code, 2) << show(r);  // no input

  r = braid("run --rules tests/run/data/run/run_rules.braid tests/run/data/does-not-exist.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);
  EXPECT_NE(r.err.find("does-not-exist.ndjson"), std::string::npos) << show(r);
  EXPECT_TRUE(r.out.empty());

  r = braid("run --pack rules.pack examples/demo.ndjson");  // a missing pack (pack verbs: tests/pack)
  EXPECT_EQ(r.code, 2) << show(r);
  EXPECT_NE(r.err.find("cannot read pack `rules.pack`"), std::string::npos) << show(r);

  r = braid("run --rules tests/run/data/run/broken.braid examples/demo.ndjson");
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.err.find("BRD"), std::string::npos) << show(r);
  EXPECT_TRUE(r.out.empty()) << show(r);

  r = braid("run --rules tests/run/data/no-such-rules examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);

  r = braid("run --frobnicate examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);

  r = braid("--format json run --rules rules examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);

  r = braid("run --rules rules examples/demo.ndjson");
  EXPECT_EQ(r.code, 0) << show(r);
}

// A CPU (or a forced kernel) the event input cannot run is a clear one-line error with exit 2, not an internal error.
TEST(Run, UnusableSimdKernelIsAUsageError) {
  ::setenv("BRAID_SIMD_KERNEL", "bogus", 1);
  Result r = braid("run --rules rules examples/demo.ndjson");
  ::unsetenv("BRAID_SIMD_KERNEL");
  EXPECT_EQ(r.code, 2) << show(r);
  EXPECT_EQ(r.err.rfind("braid: error: BRAID_SIMD_KERNEL=bogus", 0), 0u) << show(r);
  EXPECT_EQ(lines(r.err).size(), 1u) << show(r);
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << show(r);
}

// --threads: validated, the same alerts as one thread (processing_time aside), and the per-worker statistics.
TEST(Run, Threads) {
  Result r = braid("run --threads 0 --rules rules examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << show(r);

  auto strip = [](const std::string& ndjson) {
    std::string out;
    for (const std::string& l : lines(ndjson)) {
      Value a = Parser(l).parse_document();
      EXPECT_TRUE(a.is_object()) << l;
      size_t at = l.find("\"processing_time\":");
      size_t end = at == std::string::npos ? at : l.find(',', at);
      out += at == std::string::npos ? l : l.substr(0, at) + l.substr(end + 1);
      out += '\n';
    }
    return out;
  };
  Result one = braid("run --threads 1 --stats-format json --rules rules examples/demo.ndjson");
  Result two = braid("run --threads 2 --stats-format json --rules rules examples/demo.ndjson");
  ASSERT_EQ(one.code, 0) << show(one);
  ASSERT_EQ(two.code, 0) << show(two);
  EXPECT_FALSE(one.out.empty());
  EXPECT_EQ(strip(one.out), strip(two.out));
  Value s1 = stats_of(one), s2 = stats_of(two);
  EXPECT_EQ(num(s1, "threads"), 1);
  EXPECT_EQ(num(s2, "threads"), 2);
  EXPECT_TRUE(s1.at("worker_seconds").is_array());
  EXPECT_EQ(s1.at("worker_seconds").items.size(), 0u);
  EXPECT_EQ(s2.at("worker_seconds").items.size(), 2u);
  EXPECT_EQ(s2.at("engine_prepare_seconds").kind, Value::Kind::Number);
  EXPECT_TRUE(s1.at("json_kernel").is_string());
  EXPECT_NE(s1.at("json_kernel").str, "none");
  for (const char* k : {"alerts", "sessions_opened", "chains", "events_parsed", "sessions_live", "chains_retired"})
    EXPECT_EQ(num(s1, k), num(s2, k)) << k;
}

// The README's main command: the shipped rules over the demo print alerts, among them chain alerts with a chain
// path of two or more hops.
TEST(Run, DemoPrintsChainAlerts) {
  Result r = braid("run --rules rules examples/demo.ndjson");
  ASSERT_EQ(r.code, 0) << show(r);
  std::vector<Value> alerts = parse_ndjson(r.out);
  ASSERT_FALSE(alerts.empty()) << show(r);
  std::set<std::string> rules;
  size_t chain_alerts = 0, longest = 0;
  for (const Value& a : alerts) {
    rules.insert(a.at("rule").str);
    EXPECT_EQ(a.at("schema_version").num, 2);
    if (a.at("scope").str == "chain") {
      ++chain_alerts;
      longest = std::max(longest, a.at("chain").items.size());
    }
  }
  EXPECT_GE(chain_alerts, 1u);
  EXPECT_GE(longest, 3u);  // Okta session -> AssumeRoleWithSAML -> role session -> cross-account role session
  for (const char* id : {"okta.persistence.mfa_factors_reset", "aws.lateral_movement.cross_account_role_then_persistence",
                         "okta.defense_evasion.proxied_sso_to_aws_then_logging_tampering",
                         "aws.privilege_escalation.recon_then_admin_policy",
                         "aws.defense_evasion.cloudtrail_logging_stopped",
                         "aws.persistence.console_user_created_without_mfa",
                         "github.collection.session_token_clones_many_repositories"}) {
    EXPECT_TRUE(rules.count(id)) << id << "\n" << show(r);
  }
  // Alerts from three providers (Okta, AWS and GitHub), as the README promises.
  std::set<std::string> providers;
  for (const std::string& id : rules) providers.insert(id.substr(0, id.find('.')));
  EXPECT_GE(providers.size(), 3u) << show(r);
  // The cross-source chain alert goes from Dana's Okta session (linked) to the SAML exchange, then (minted) to
  // the role sessions.
  bool found = false;
  for (const Value& a : alerts) {
    if (a.at("rule").str != "okta.defense_evasion.proxied_sso_to_aws_then_logging_tampering") continue;
    found = true;
    const auto& chain = a.at("chain").items;
    size_t okta = chain.size();
    for (size_t i = 0; i < chain.size(); ++i) {
      if (chain[i].at("source").str == "okta.system" && chain[i].at("identity").str == "dana.reyes@example.com") {
        okta = i;
      }
    }
    ASSERT_LT(okta + 3, chain.size() + 1) << show(r);
    EXPECT_EQ(chain[okta + 1].at("source").str, "aws.cloudtrail");
    EXPECT_EQ(chain[okta + 1].at("link").str, "link");
    EXPECT_EQ(chain[okta + 2].at("link").str, "mint");
    EXPECT_EQ(chain.back().at("link").str, "mint");
    EXPECT_NE(chain.back().at("identity").str.find("444455556666"), std::string::npos);
  }
  EXPECT_TRUE(found);
}

TEST(Run, OutputStdinAndStats) {
  Result plain = braid("run --rules rules examples/demo.ndjson");
  ASSERT_EQ(plain.code, 0) << show(plain);
  // The alerts are deterministic except for processing_time.
  auto strip = [](const std::string& ndjson) {
    std::string o;
    for (const std::string& l : lines(ndjson)) {
      size_t p = l.find("\"processing_time\":\"");
      size_t e = l.find('"', p + 19);
      o += l.substr(0, p) + l.substr(e + 1) + "\n";
    }
    return o;
  };

  fs::path out = temp_dir() / "alerts.ndjson";
  Result to_file = braid("run --rules rules --output '" + out.string() + "' examples/demo.ndjson");
  ASSERT_EQ(to_file.code, 0) << show(to_file);
  EXPECT_TRUE(to_file.out.empty()) << show(to_file);
  EXPECT_EQ(strip(slurp(out)), strip(plain.out));

  Result from_stdin = braid("run --rules rules -", kSrc + "/examples/demo.ndjson");
  ASSERT_EQ(from_stdin.code, 0) << show(from_stdin);
  EXPECT_EQ(strip(from_stdin.out), strip(plain.out));

  Result text = braid("run --rules rules --stats examples/demo.ndjson");
  ASSERT_EQ(text.code, 0) << show(text);
  for (const char* label : {"events read", "events parsed", "malformed", "unrouted", "late", "sessions opened",
                            "sessions closed", "chains", "alerts", "RULE", "TIME"}) {
    EXPECT_NE(text.err.find(label), std::string::npos) << label << "\n" << show(text);
  }
  EXPECT_EQ(strip(text.out), strip(plain.out));

  Result js = braid("run --rules rules --stats-format json examples/demo.ndjson");
  ASSERT_EQ(js.code, 0) << show(js);
  Value s = stats_of(js);
  size_t demo_lines = lines(slurp(kSrc + "/examples/demo.ndjson")).size();
  EXPECT_EQ(num(s, "events_read"), static_cast<int64_t>(demo_lines));
  EXPECT_EQ(num(s, "events_parsed"), static_cast<int64_t>(demo_lines));
  EXPECT_EQ(num(s, "malformed"), 0);
  EXPECT_EQ(num(s, "unrouted"), 0);
  EXPECT_EQ(num(s, "late"), 0);
  EXPECT_EQ(num(s, "sessions_opened"), num(s, "sessions_closed"));
  EXPECT_GE(num(s, "chains"), 1);
  EXPECT_EQ(num(s, "alerts"), static_cast<int64_t>(lines(plain.out).size()));
  int64_t by_rule = 0, timed = 0;
  for (const Value& r : s.at("rules").items) {
    by_rule += num(r, "alerts");
    timed += num(r, "nanos");
  }
  EXPECT_EQ(by_rule, num(s, "alerts"));
  EXPECT_GT(timed, 0);  // --stats turns rule timing on
}

// A stream with bad lines of every kind is read to the end; each bad line is counted and reported with its file
// and line; the good events around them produce their alerts.
TEST(Run, MalformedStream) {
  fs::path f = temp_dir() / "bad.ndjson";
  {
    std::ofstream o(f, std::ios::binary);
    o << R"({"src":"t","ts":"2025-01-01T10:00:00Z","id":"g1","user":"alice","kind":"bad","n":1})" << "\n";  // 1
    o << R"({"src":"t","ts":"2025-01-01T10:00:01Z","id":"x2","user":"alice","ki)" << "\n";               // 2 truncated
    o << "{\"src\":\"t\",\"ts\":\"2025-01-01T10:00:02Z\",\"id\":\"x3\",\"user\":\"\xff\xfe\",\"kind\":\"bad\"}\n";  // 3
    o << R"({"src":"t","ts":"2025-01-01T10:00:03Z","id":"x4","user":"alice","kind":"bad","pad":")"
      << std::string(size_t{20} << 20, 'a') << "\"}\n";                                                    // 4: 20 MB
    o << R"({"src":"t","ts":"2025-01-01T10:00:04Z","id":"g5","user":"alice","kind":"bad","n":"five"})" << "\n";  // 5
    o << R"({"src":"t","id":"x6","user":"alice","kind":"bad"})" << "\n";                                   // 6 no time
    o << R"([1,2,3])" << "\n";                                                                             // 7
    o << "\n";                                                                                             // 8 empty
    o << R"({"src":"t","ts":"2025-01-01T10:00:09Z","id":"g9","user":"bob","kind":"bad","n":9})" << "\n";  // 9
    o << R"({"src":"t","ts":"not a time","id":"x10","user":"bob","kind":"bad"})" << "\n";                 // 10
    o << R"({"src":"t","ts":"2025-01-01T10:00:11Z","id":"g11","user":"bob","kind":"bad","n":11})" << "\n"; // 11
    o << R"({"src":"nobody","ts":"2025-01-01T10:00:12Z","id":"x12"})";                                  // 12, no \n
  }
  Result r = braid("run --rules tests/run/data/run/run_rules.braid --stats-format json '" + f.string() + "'");
  ASSERT_EQ(r.code, 0) << show(r);
  std::vector<Value> alerts = parse_ndjson(r.out);
  std::vector<std::string> ids;
  for (const Value& a : alerts) ids.push_back(a.at("event_id").str);
  EXPECT_EQ(ids, (std::vector<std::string>{"g1", "g5", "g9", "g11"})) << show(r);
  // The wrong type reads as null.
  for (const Value& a : alerts) {
    if (a.at("event_id").str == "g5") {
      EXPECT_EQ(a.at("message").str, "alice g5 n=null");
    }
  }
  for (int line : {2, 3, 4, 6, 7, 10, 12}) {  // 12: unrouted, located too
    std::string where = f.string() + ":" + std::to_string(line) + ":";
    EXPECT_NE(r.err.find(where), std::string::npos) << where << "\n" << show(r);
  }
  EXPECT_EQ(r.err.find(f.string() + ":8:"), std::string::npos) << show(r);  // an empty line is not an error
  Value s = stats_of(r);
  EXPECT_EQ(num(s, "malformed"), 4) << show(r);  // lines 2, 3, 4, 7
  EXPECT_EQ(num(s, "no_time"), 2) << show(r);    // lines 6, 10
  EXPECT_EQ(num(s, "unrouted"), 1) << show(r);     // line 12
  EXPECT_NE(r.err.find(":12: no source recognises this record"), std::string::npos) << show(r);
  EXPECT_EQ(num(s, "events_read"), 11) << show(r);
  EXPECT_EQ(num(s, "events_parsed"), 7) << show(r);
  EXPECT_GE(num(s, "type_mismatches"), 1) << show(r);
  EXPECT_EQ(num(s, "alerts"), 4);
}

// ---------------------------------------------------------------------------------------------------------------
// braid test

TEST(Test, FailuresShowADiffAndUntestedRules) {
  Result r = braid("test --color never tests/run/data/failing");
  ASSERT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.out.find("ok   failt.event :: passes"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("FAIL failt.event :: wrong message"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("message: expected \"bob did x\""), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("actual   \"alice did x\""), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("missing_member: expected 1"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("(missing)"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("\"rule\": \"failt.event\""), std::string::npos) << show(r);  // the actual alert, pretty
  EXPECT_NE(r.out.find("FAIL failt.event :: wrong count"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("expected 2 alerts, got 1"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("expected no alert, got 1"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("FAIL failt.event :: unrouted events never pass"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("(unrouted)"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("FAIL failt.event :: malformed events never pass"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("malformed.ndjson:2:"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("FAIL failt.event :: an event without time never passes"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("rules without tests (1):\n  failt.untested"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("7 tests: 1 passed, 6 failed"), std::string::npos) << show(r);

  Result j = braid("--format json test tests/run/data/failing");
  ASSERT_EQ(j.code, 1) << show(j);
  Value doc = Parser(j.out).parse_document();
  EXPECT_EQ(doc.at("summary").at("failed").num, 6);
  EXPECT_EQ(doc.at("summary").at("passed").num, 1);
  ASSERT_EQ(doc.at("untested_rules").items.size(), 1u);
  EXPECT_EQ(doc.at("untested_rules").items[0].at("id").str, "failt.untested");
  const Value& wrong = doc.at("tests").items[1];
  EXPECT_EQ(wrong.at("name").str, "wrong message");
  EXPECT_FALSE(wrong.at("passed").b);
  ASSERT_EQ(wrong.at("unmatched").items.size(), 1u);
  EXPECT_EQ(wrong.at("unmatched").items[0].at("mismatches").items.size(), 3u);
  EXPECT_EQ(wrong.at("alerts").items.size(), 1u);

  EXPECT_EQ(braid("--format sarif test tests/run/data/failing").code, 2);
  EXPECT_EQ(braid("test tests/run/data/no-such-dir").code, 2);
  EXPECT_EQ(braid("test tests/run/data/run/broken.braid").code, 1);
}

TEST(Test, ShippedRulesAndSemanticsPass) {
  Result r = braid("test rules");
  EXPECT_EQ(r.code, 0) << show(r);
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << show(r);
  Result s = braid("test --distinct-bound 4 tests/semantics");
  EXPECT_EQ(s.code, 0) << show(s);
  // The distinct() tests depend on the bound: at the default bound one of them fails, as it should.
  Result d = braid("test tests/semantics/sources.braid tests/semantics/distinct.braid");
  EXPECT_EQ(d.code, 1) << show(d);
}

// ---------------------------------------------------------------------------------------------------------------
// The demo stream: examples/demo.ndjson is exactly what the documented braid-gen command produces.

TEST(Demo, RegeneratesIdentically) {
  fs::path out = temp_dir() / "demo.ndjson";
  // Keep in sync with examples/README.md.
  Result r = run(BRAID_GEN_EXE, "--seed 1 --story --background 300 --hours 2 --output '" + out.string() + "'");
  ASSERT_EQ(r.code, 0) << show(r);
  std::string fresh = slurp(out), committed = slurp(kSrc + "/examples/demo.ndjson");
  EXPECT_FALSE(committed.empty());
  EXPECT_TRUE(fresh == committed) << "examples/demo.ndjson differs from the generator's output: regenerate it with "
                                     "the command in examples/README.md and review the change";
  // Another seed gives another stream.
  Result other = run(BRAID_GEN_EXE, "--seed 2 --story --background 300 --hours 2");
  EXPECT_NE(other.out, committed);
}

// ---------------------------------------------------------------------------------------------------------------
// Real data: the sessions and chains built over each Stratus Red Team detonation.

TEST(Stratus, SessionsAndChains) {
  fs::path dir = fs::path(BRAID_CORPORA_DIR) / "stratus";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "corpus not present: " << dir.string();
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".ndjson") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());

  std::string table;
  for (const fs::path& f : files) {
    Result r = braid("run --rules tests/run/data/run/noop.braid --stats-format json '" + f.string() + "'");
    ASSERT_EQ(r.code, 0) << f << show(r);
    Value s = stats_of(r);
    int64_t sessions_in_chains = 0;
    for (const Value& c : s.at("chain_list").items) sessions_in_chains += num(c, "sessions");
    table += f.filename().string() + " events=" + std::to_string(num(s, "events_parsed")) +
             " unrouted=" + std::to_string(num(s, "unrouted")) + " sessions=" + std::to_string(num(s, "sessions_opened")) +
             " chains=" + std::to_string(num(s, "chains")) + " chained_sessions=" + std::to_string(sessions_in_chains) +
             " max_depth=" + std::to_string(num(s, "chain_max_depth")) + "\n";
    EXPECT_EQ(num(s, "malformed"), 0) << f;

    if (f.filename() == "aws.credential-access.ec2-get-password-data.ndjson") {
      // An AssumeRole mints an ASIA key and 30 later events use it: one chain of depth 2.
      ASSERT_EQ(s.at("chain_list").items.size(), 1u) << show(r);
      const Value& c = s.at("chain_list").items[0];
      EXPECT_EQ(num(c, "sessions"), 2);
      EXPECT_EQ(num(c, "depth"), 2);
      EXPECT_GE(num(c, "events"), 31);
    }
  }
  fs::path expected = fs::path(kSrc) / "tests/run/stratus_expected.txt";
  const char* update = std::getenv("BRAID_UPDATE_STRATUS");
  if (update && std::string(update) == "1") {
    std::ofstream(expected, std::ios::binary) << table;
    GTEST_SKIP() << "wrote " << expected.string() << ": review it";
  }
  EXPECT_EQ(table, slurp(expected)) << "sessions or chains changed; if intended, regenerate with "
                                       "BRAID_UPDATE_STRATUS=1 and review";
}

}  // namespace
