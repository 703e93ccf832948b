// `braid import sigma` (issue 13, docs/sigma.md), end to end with the real binary: Sigma rules in, formatted Braid
// files out, each with tests generated from its own selections; constructs that cannot be mapped are refused with the
// rule, the construct and the reason, and conversion goes on. The fixtures in tests/run/data/sigma/ run everywhere;
// the SigmaHQ corpus in ../shared/corpora/sigma runs when present (skipped with a message otherwise).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace fs = std::filesystem;

namespace {

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
               ("braid-sigma-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Result braid(const std::string& args) {
  static int n = 0;
  // Per process: ctest runs the tests of this file in parallel processes.
  fs::path d = fs::path(::testing::TempDir()) / ("braid-sigma-io-" + std::to_string(::getpid()));
  fs::create_directories(d);
  fs::path out = d / ("stdout" + std::to_string(++n)), err = d / ("stderr" + std::to_string(n));
  std::string cmd = "cd '" + kSrc + "' && '" + std::string(BRAID_EXE) + "' " + args + " >'" + out.string() + "' 2>'" +
                    err.string() + "' </dev/null";
  int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string show(const Result& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout\n" + r.out.substr(0, 3000) + "\n--- stderr\n" +
         r.err.substr(0, 3000);
}

// The summary line: files, converted, without a generated test, refused.
struct Summary {
  int files = -1, converted = -1, untested = -1, refused = -1;
};
Summary summary_of(const std::string& err) {
  static const std::regex re(R"(braid import sigma: (\d+) rule file\(s\): (\d+) converted into .* \((\d+) without a generated test\), (\d+) refused)");
  std::smatch m;
  Summary s;
  if (std::regex_search(err, m, re)) {
    s.files = std::stoi(m[1]);
    s.converted = std::stoi(m[2]);
    s.untested = std::stoi(m[3]);
    s.refused = std::stoi(m[4]);
  }
  return s;
}

// Refusal lines: file -> "construct: reason".
std::map<std::string, std::string> refusals_of(const std::string& err) {
  static const std::regex re(R"(braid: refused (\S+): (.+))");
  std::map<std::string, std::string> m;
  std::stringstream ss(err);
  std::string line;
  while (std::getline(ss, line)) {
    std::smatch x;
    if (std::regex_match(line, x, re)) m[fs::path(x[1].str()).filename().string()] = x[2];
  }
  return m;
}

}  // namespace

TEST(SigmaImport, FixturesConvertOrAreRefusedWithAReason) {
  const fs::path out = temp_dir() / "out";
  Result r = braid("import sigma -o '" + out.string() + "' tests/run/data/sigma");
  ASSERT_EQ(r.code, 0) << show(r);
  Summary s = summary_of(r.err);
  EXPECT_EQ(s.files, 10) << r.err;
  EXPECT_EQ(s.converted, 3) << r.err;
  EXPECT_EQ(s.untested, 1) << r.err;  // aws_modifiers.yml: no event generator for |re and |cidr
  EXPECT_EQ(s.refused, 7) << r.err;

  const auto refused = refusals_of(r.err);
  const std::map<std::string, std::string> want = {
      {"refuse_base64.yml", "modifier |base64: "},
      {"refuse_keywords.yml", "keyword search `keywords`: "},
      {"refuse_aggregation.yml", "condition `selection | count() > 5`: an aggregation"},
      {"refuse_correlation.yml", "group-by `sourceIPAddress`: sessions of aws.cloudtrail group by its identity"},
      {"refuse_logsource.yml", "logsource m365/threat_management: no Braid source"},
      {"refuse_field.yml", "field `status`: the source aws.cloudtrail declares no field `status`"},
      {"refuse_whole_object.yml", "string match on `requestParameters`: "},
  };
  for (const auto& [file, prefix] : want) {
    auto it = refused.find(file);
    ASSERT_NE(it, refused.end()) << file << " was not refused\n" << r.err;
    EXPECT_EQ(it->second.rfind(prefix, 0), 0u) << file << ": " << it->second;
  }

  // The converted files: formatted, checked, lint without errors, and their generated tests pass on both engines.
  EXPECT_TRUE(fs::exists(out / "aws_conditions.braid"));
  EXPECT_TRUE(fs::exists(out / "okta_targets.braid"));
  EXPECT_EQ(braid("fmt --check '" + out.string() + "'").code, 0);
  Result lint = braid("lint '" + out.string() + "'");
  EXPECT_EQ(lint.code, 0) << show(lint);
  Result test = braid("test '" + out.string() + "'");
  EXPECT_EQ(test.code, 0) << show(test);
  EXPECT_NE(test.out.find("4 tests: 4 passed"), std::string::npos) << test.out;
  EXPECT_EQ(braid("test --engine interp '" + out.string() + "'").code, 0);

  // What the conversion says: Sigma's case-insensitive operators, wildcards as globs, null, lists, the filter
  // negated, the metadata and the license attribution kept (and carried in the alert message).
  const std::string aws = slurp(out / "aws_conditions.braid");
  for (const char* want_text : {"rule sigma.aws.aws_conditions {", "severity high", "attack \"TA0005\", \"T1562.008\"",
                        "author \"Braid tests\"", "\"sigma-id:0f6b2c1e-8d4a-4f3b-9a7e-1c2d3e4f5a01\"",
                        "\"license:DRL-1.1\"", "userAgent contains~ \"aws-cli\" and userAgent contains~ \"Linux\"",
                        "userIdentity.arn startswith~ \"arn:aws:iam::\"", "errorCode is null",
                        "eventName ==~ \"StopLogging\" or eventName ==~ \"DeleteTrail\"",
                        "and not (userIdentity.arn endswith~ \":user/terraform\" or awsRegion like~ \"eu-*-1\")",
                        "by Braid tests, Detection Rule License 1.1",
                        "test \"an event built from the Sigma selections fires\"",
                        "test \"events that break a selection or meet a filter do not fire\""}) {
    EXPECT_NE(aws.find(want_text), std::string::npos) << "missing `" << want_text << "` in\n" << aws;
  }
  const std::string mods = slurp(out / "aws_modifiers.braid");
  for (const char* want_text : {"userAgent matches r\"^aws-cli/2\\.\"", "sourceIPAddress in cidr \"203.0.113.0/24\"",
                                "errorMessage is null", "eventName == \"StopLogging\"",
                                "userIdentity.type !=~ \"AWSService\"",
                                "(requestParameters.maxResults == 50 or requestParameters.maxResults ==~ \"50\")"}) {
    EXPECT_NE(mods.find(want_text), std::string::npos) << "missing `" << want_text << "` in\n" << mods;
  }
  EXPECT_NE(r.err.find("aws_modifiers.yml without a generated test: no generator for |"), std::string::npos) << r.err;
  const std::string okta = slurp(out / "okta_targets.braid");
  for (const char* want_text : {"target[*].displayName ==~ \"Okta Admin Console\"", "securityContext.isProxy == true",
                        "attack \"T1078.004\", \"TA0001\"", "severity medium"}) {
    EXPECT_NE(okta.find(want_text), std::string::npos) << "missing `" << want_text << "` in\n" << okta;
  }
}

// The generated tests check the translation: a converted rule whose condition is changed fails them.
TEST(SigmaImport, GeneratedTestsCatchAWrongTranslation) {
  const fs::path out = temp_dir() / "out";
  ASSERT_EQ(braid("import sigma -o '" + out.string() + "' tests/run/data/sigma").code, 0);
  const fs::path f = out / "aws_conditions.braid";
  std::string text = slurp(f);
  const std::string good = "and not (userIdentity.arn";
  ASSERT_NE(text.find(good), std::string::npos);
  text.replace(text.find(good), good.size(), "and (userIdentity.arn");  // the filter no longer negated
  std::ofstream(f, std::ios::binary) << text;
  Result test = braid("test '" + out.string() + "'");
  EXPECT_EQ(test.code, 1) << show(test);
  EXPECT_NE(test.out.find("FAIL sigma.aws.aws_conditions"), std::string::npos) << test.out;
}

// Correlation rules (tests/run/data/sigma-correlation): event_count and value_count grouped by the session's identity
// or credential become session rules counting in the session; temporal and temporal_ordered become sequences within
// the timespan; rules are found by id or name, in the same file or another input. Grouping by other fields, aliases,
// chains of correlations and the metric types are refused with the construct and the reason.
TEST(SigmaImport, CorrelationRules) {
  const fs::path out = temp_dir() / "out";
  Result r = braid("import sigma -o '" + out.string() + "' tests/run/data/sigma-correlation");
  ASSERT_EQ(r.code, 0) << show(r);
  Summary s = summary_of(r.err);
  EXPECT_EQ(s.files, 16) << r.err;
  EXPECT_EQ(s.converted, 11) << r.err;  // 4 plain rules, 7 correlations
  EXPECT_EQ(s.untested, 0) << r.err;
  EXPECT_EQ(s.refused, 5) << r.err;

  const auto refused = refusals_of(r.err);
  const std::map<std::string, std::string> want = {
      {"mr_refuse_group_by.yml", "group-by `sourceIPAddress`: sessions of aws.cloudtrail group by its identity ("},
      {"mr_refuse_value_sum.yml", "correlation type value_sum: not mapped"},
      {"mr_refuse_chain.yml", "correlation of correlation `6c1f0a3e-5b7d-4e2a-9c11-000000000010`: "},
      {"mr_refuse_aliases.yml", "correlation aliases: "},
      {"mr_refuse_unknown_rule.yml", "rule reference `no_such_rule`: no Sigma rule with this id or name"},
  };
  for (const auto& [file, prefix] : want) {
    auto it = refused.find(file);
    ASSERT_NE(it, refused.end()) << file << " was not refused\n" << r.err;
    EXPECT_EQ(it->second.rfind(prefix, 0), 0u) << file << ": " << it->second;
  }
  EXPECT_NE(refused.at("mr_refuse_group_by.yml").find("issue 11"), std::string::npos);
  EXPECT_NE(refused.at("mr_refuse_aliases.yml").find("issue 11"), std::string::npos);
  // The window differs from Sigma's: said on the command's output and in the file.
  EXPECT_NE(r.err.find("braid: note: tests/run/data/sigma-correlation/mr_event_count.yml: Sigma counts within a "
                       "sliding window of 1h; this rule counts within one session of aws.cloudtrail"),
            std::string::npos)
      << r.err;

  const std::map<std::string, std::vector<std::string>> texts = {
      {"mr_event_count.braid",
       {"session {", "step hit = (eventSource ==~ \"cloudtrail.amazonaws.com\" and eventName ==~ \"StopLogging\")",
        "when count(hit) >= 3", "// Sigma counts within a sliding window of 1h", "attack \"TA0005\", \"T1562.008\""}},
      {"mr_value_count.braid", {"when distinct(hit.requestParameters.secretId) > 4"}},
      {"mr_push_bombing.braid", {"when count(hit) >= 2 and count(hit) <= 3"}},
      {"mr_lt.braid", {"when hit and count(hit) < 3"}},
      {"mr_temporal.braid",
       {"step stop_logging = ", "step delete_trail = ",
        "when (stop_logging -> delete_trail within 10m) or (delete_trail -> stop_logging within 10m)"}},
      {"mr_temporal_ordered.braid", {"step recon = eventName ==~ \"ListUsers\"", "when recon -> admin_policy within 15m"}},
      // `outcome` is a field of okta.system: a step of that name would hide it.
      {"mr_label_is_a_field.braid", {"step push = ", "step r2 = ", "when push -> r2 within 5m"}},
  };
  for (const auto& [file, wants] : texts) {
    const std::string text = slurp(out / file);
    for (const std::string& w : wants) EXPECT_NE(text.find(w), std::string::npos) << "missing `" << w << "` in\n" << text;
  }
  Result lint = braid("lint '" + out.string() + "'");
  EXPECT_EQ(lint.code, 0) << show(lint);
  Result test = braid("test '" + out.string() + "'");
  EXPECT_EQ(test.code, 0) << show(test);
  EXPECT_NE(test.out.find("24 tests: 24 passed"), std::string::npos) << test.out;
  Result interp = braid("test --engine interp '" + out.string() + "'");
  EXPECT_EQ(interp.code, 0) << show(interp);

  // The generated tests check the threshold and the order: a wrong translation fails them.
  for (const auto& [file, from, to] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"mr_event_count.braid", "count(hit) >= 3", "count(hit) >= 4"},
           {"mr_push_bombing.braid", "count(hit) <= 3", "count(hit) <= 9"},
           {"mr_push_bombing.braid", "count(hit) >= 2", "count(hit) >= 1"},
           {"mr_lt.braid", "hit and count(hit) < 3", "count(hit) < 3"},
           {"mr_temporal_ordered.braid", "recon -> admin_policy", "admin_policy -> recon"}}) {
    const fs::path dir = out.parent_path() / ("wrong-" + file);
    fs::create_directories(dir);
    std::string text = slurp(out / file);
    ASSERT_NE(text.find(from), std::string::npos) << text;
    text.replace(text.find(from), from.size(), to);
    std::ofstream(dir / file, std::ios::binary) << text;
    Result wrong = braid("test '" + dir.string() + "'");
    EXPECT_EQ(wrong.code, 1) << file << "\n" << show(wrong);
  }
}

TEST(SigmaImport, UsageErrors) {
  EXPECT_EQ(braid("import sigma tests/run/data/sigma").code, 2);  // no -o
  EXPECT_EQ(braid("import sigma -o /tmp/braid-sigma-none no/such/dir").code, 2);
  EXPECT_EQ(braid("import").code, 2);
}

// The SigmaHQ corpus (216 rules): every rule converted or refused with a reason; every converted rule checks, lints
// without errors and passes the tests built from its selections.
TEST(SigmaImport, CorpusConvertsOrRefusesEveryRule) {
  const fs::path corpus = fs::path(kSrc) / "../shared/corpora/sigma/rules";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "Sigma corpus not found at " << corpus.string() << "; skipping";
  const fs::path out = temp_dir() / "out";
  Result r = braid("import sigma -o '" + out.string() + "' '" + corpus.string() + "'");
  ASSERT_EQ(r.code, 0) << show(r);
  Summary s = summary_of(r.err);
  EXPECT_EQ(s.files, 216) << r.err;
  EXPECT_EQ(s.converted + s.refused, 216) << r.err;
  EXPECT_EQ(static_cast<int>(refusals_of(r.err).size()), s.refused) << "every refusal names its rule file";
  // The counts docs/sigma.md reports.
  EXPECT_EQ(s.converted, 192) << r.err;
  EXPECT_EQ(s.untested, 2) << r.err;
  std::cout << "Sigma corpus: " << s.converted << " converted (" << s.untested << " without a generated test), "
            << s.refused << " refused\n";

  Result check = braid("check '" + out.string() + "'");
  EXPECT_EQ(check.code, 0) << show(check);
  Result lint = braid("lint '" + out.string() + "'");
  EXPECT_EQ(lint.code, 0) << show(lint);
  Result test = braid("test '" + out.string() + "'");
  EXPECT_EQ(test.code, 0) << show(test);
  // Azure Activity rules convert onto azure.activity, with the Log Analytics column names mapped; Google Workspace
  // rules onto gcp.audit, the Workspace event name inside protoPayload.metadata.event[].
  const std::string keyvault = slurp(out / "azure_keyvault_modified_or_deleted.braid");
  EXPECT_NE(keyvault.find("source azure.activity"), std::string::npos) << keyvault;
  EXPECT_NE(keyvault.find("operationName ==~ \"MICROSOFT.KEYVAULT/VAULTS/DELETE\""), std::string::npos) << keyvault;
  const std::string adfs = slurp(out / "azure_aadhybridhealth_adfs_new_server.braid");
  EXPECT_TRUE(adfs.empty()) << "ResourceProviderValue has no member in the export: refused";
  const std::string gws = slurp(out / "gcp_gworkspace_granted_domain_api_access.braid");
  EXPECT_NE(gws.find("source gcp.audit"), std::string::npos) << gws;
  EXPECT_NE(gws.find("protoPayload.metadata.event[*].eventName ==~ \"AUTHORIZE_API_CLIENT_ACCESS\""),
            std::string::npos)
      << gws;
  // Upstream bugs are reported, not fixed: the CloudTrail `status` field that does not exist.
  const auto refused = refusals_of(r.err);
  auto it = refused.find("aws_delete_saml_provider.yml");
  ASSERT_NE(it, refused.end());
  EXPECT_EQ(it->second.rfind("field `status`", 0), 0u) << it->second;
}
