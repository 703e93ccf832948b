// Stratus Red Team conformance (issue 5): the shipped detection pack, rules/ with the embedded standard library,
// runs over each real attack recording in ../shared/corpora/stratus/<technique>.ndjson, one engine per file.
//
// Asserted:
//   - strict detection: every technique has a row in kExpected naming the rule or rules meant for it, and each of
//     those rules raises a non-informational alert on the recording. An alert from another rule does not satisfy
//     the row, and aws.defense_evasion.activity_in_unapproved_region never counts (it fires on almost every
//     recording, whose region names were anonymised). A row marked blocked must NOT be satisfied yet: when it is,
//     the test fails so that the mark is removed. Every recording has a row and every row a recording;
//   - no rule keys on the `stratus-red-team_<uuid>` user-agent marker: every recording is run a second time with
//     the marker rewritten, and exactly the same rules must fire;
//   - every chain recording (a file where an AssumeRole or GetFederationToken response mints an access key that a
//     later record uses) produces an alert whose chain path has two or more hops.
// The test prints the technique -> rules table (kept in docs/conformance.md, section "Stratus").
// The corpus is never committed: without ../shared/corpora/stratus the test is skipped with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "ir/ir.h"

namespace fs = std::filesystem;

namespace {

struct Outcome {
  std::set<std::string> rules;        // rules that raised an alert
  std::set<std::string> strict_rules; // rules that raised a non-informational alert (the region rule excluded)
  std::set<std::string> chain_rules;  // rules whose alert carried a chain path of 2+ hops
};

// Fires on almost every recording because the recordings' region names are anonymised: it never satisfies a row.
constexpr const char* kRegionRule = "aws.defense_evasion.activity_in_unapproved_region";

// Technique (the recording's file name) -> the rule or rules meant to catch it; each must raise a
// non-informational alert. `blocked` names why a row cannot pass yet: it must then fail (and the test says so when it
// starts passing). Keep docs/conformance.md ("Stratus") in step.
struct Expectation {
  const char* technique;
  std::vector<std::string> rules;
  const char* blocked = nullptr;
};

const std::vector<Expectation> kExpected = {
    {"aws.credential-access.ec2-get-password-data", {"aws.credential_access.ec2_password_data_harvesting"}},
    {"aws.credential-access.ec2-steal-instance-credentials",
     {"aws.privilege_escalation.instance_credentials_used_outside_aws",
      "aws.execution.session_ssm_inventory_then_shell_command"}},
    {"aws.credential-access.secretsmanager-batch-retrieve-secrets",
     {"aws.credential_access.session_bulk_batch_secret_retrieval"}},
    {"aws.credential-access.secretsmanager-retrieve-secrets",
     {"aws.credential_access.secrets_enumerated_then_read", "aws.credential_access.many_secret_value_reads"}},
    {"aws.credential-access.ssm-retrieve-securestring-parameters",
     {"aws.credential_access.session_ssm_parameters_enumerated_then_decrypted"}},
    {"aws.defense-evasion.bedrock-guardrail-delete", {"aws.defense_evasion.bedrock_guardrail_updated_or_deleted"}},
    {"aws.defense-evasion.cloudtrail-delete", {"aws.defense_evasion.cloudtrail_logging_stopped"}},
    {"aws.defense-evasion.cloudtrail-event-selectors",
     {"aws.defense_evasion.cloudtrail_management_events_excluded"}},
    {"aws.defense-evasion.cloudtrail-stop", {"aws.defense_evasion.cloudtrail_logging_stopped"}},
    {"aws.defense-evasion.dns-delete-logs", {"aws.defense_evasion.dns_query_logging_removed"}},
    {"aws.defense-evasion.vpc-remove-flow-logs", {"aws.defense_evasion.vpc_flow_logs_deleted"}},
    {"aws.discovery.ec2-download-user-data", {"aws.discovery.instance_user_data_harvested"}},
    {"aws.execution.ec2-launch-unusual-instances", {"aws.impact.chain_assumed_role_launches_gpu_instances"}},
    {"aws.execution.ssm-send-command",
     {"aws.execution.ssm_command_sent_to_many_instances", "aws.execution.session_ssm_inventory_then_shell_command"}},
    {"aws.exfiltration.ec2-share-ami", {"aws.exfiltration.snapshot_or_ami_shared_externally"}},
    {"aws.exfiltration.ec2-share-ebs-snapshot",
     {"aws.exfiltration.ebs_snapshot_shared", "aws.exfiltration.snapshot_or_ami_shared_externally"}},
    {"aws.impact.bedrock-invoke-model", {"aws.impact.session_bedrock_model_access_enabled_then_invoked"}},
    {"aws.initial-access.console-login-without-mfa", {"aws.initial_access.console_login_without_mfa"}},
    {"aws.lateral-movement.ec2-instance-connect", {"aws.lateral_movement.ssh_keys_pushed_with_instance_connect"}},
    {"aws.persistence.iam-backdoor-role", {"aws.persistence.role_trust_policy_trusts_outside_account"}},
    {"aws.persistence.iam-backdoor-user", {"aws.persistence.access_key_created_for_another_user"}},
    {"aws.persistence.iam-create-admin-user", {"aws.persistence.session_admin_user_created_with_access_key"}},
    {"aws.persistence.iam-create-backdoor-role", {"aws.persistence.session_backdoor_role_with_external_trust"}},
    {"aws.persistence.iam-create-user-login-profile",
     {"aws.privilege_escalation.console_password_changed_for_another_user"}},
    {"aws.persistence.lambda-layer-extension", {"aws.persistence.lambda_layer_added_by_person"}},
    {"aws.persistence.rolesanywhere-create-trust-anchor",
     {"aws.persistence.rolesanywhere_trust_anchor_or_profile_changed"}},
    {"aws.persistence.sts-federation-token", {"aws.persistence.chain_federation_token_minted_and_used"}},
    {"aws.privilege-escalation.iam-update-user-login-profile",
     {"aws.privilege_escalation.console_password_changed_for_another_user"}},
};

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A file is a chain recording when an AssumeRole/GetFederationToken response mints a key a later record uses.
bool is_chain_recording(const std::vector<std::string>& lines) {
  static const std::regex minting(R"re("eventName"\s*:\s*"(AssumeRole|GetFederationToken)")re");
  static const std::regex minted_key(R"re("credentials"\s*:\s*\{[^}]*"accessKeyId"\s*:\s*"([A-Z0-9]+)")re");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_search(lines[i], minting) || !std::regex_search(lines[i], m, minted_key)) continue;
    const std::string used = "\"accessKeyId\":\"" + m[1].str() + "\"";
    for (size_t j = 0; j < lines.size(); ++j) {
      if (j != i && lines[j].find(used) != std::string::npos && lines[j].find("\"credentials\"") == std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

Outcome run_pack(const braid::ir::Program& program, const std::vector<std::string>& lines) {
  Outcome out;
  braid::rt::Engine engine(program);
  engine.set_sink([&](const braid::rt::Alert& a) {
    out.rules.insert(a.rule);
    if (a.severity != braid::ir::Severity::Info && a.rule != kRegionRule) out.strict_rules.insert(a.rule);
    if (a.chain.size() >= 2) out.chain_rules.insert(a.rule);
  });
  uint64_t n = 0;
  for (const auto& l : lines) engine.process_json(l, "<stratus>", ++n);
  engine.finish();
  return out;
}

std::string join(const std::set<std::string>& s) {
  std::string r;
  for (const auto& x : s) r += (r.empty() ? "" : ", ") + x;
  return r;
}

}  // namespace

// The table itself: no row may count the region rule, every row names at least one rule, techniques are unique. Runs
// without the corpus.
TEST(Stratus, ExpectationTableIsWellFormed) {
  std::set<std::string> seen;
  for (const Expectation& e : kExpected) {
    EXPECT_TRUE(seen.insert(e.technique).second) << "two rows for " << e.technique;
    EXPECT_FALSE(e.rules.empty()) << e.technique << ": a row must name the rule meant for the technique";
    for (const std::string& r : e.rules) {
      EXPECT_NE(r, kRegionRule) << e.technique << ": the region rule never satisfies a row";
    }
  }
}

TEST(Stratus, ShippedPackDetectsTechniques) {
  const fs::path corpus = fs::path(BRAID_CORPORA_DIR) / "stratus";
  if (!fs::is_directory(corpus)) {
    GTEST_SKIP() << "Stratus corpus not found at " << corpus.string()
                 << " (../shared/corpora/stratus is not part of the repository); skipping";
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (e.path().extension() == ".ndjson") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no .ndjson recordings in " << corpus.string();

  // BRAID_STRATUS_RULES=DIR runs another rule set (to see the test fail without a rule, or pass a blocked row).
  const char* rules_dir = std::getenv("BRAID_STRATUS_RULES");
  auto comp = braid::compile({rules_dir ? std::string(rules_dir) : std::string(BRAID_SOURCE_DIR) + "/rules"});
  ASSERT_TRUE(comp->program) << "the shipped pack does not check";
  std::set<std::string> shipped;
  for (const auto& r : comp->program->rules) shipped.insert(r.id);

  std::map<std::string, const Expectation*> expected;
  for (const Expectation& e : kExpected) {
    expected[e.technique] = &e;
    if (e.blocked) continue;  // a blocked row's rule may not exist yet
    for (const std::string& r : e.rules) {
      EXPECT_TRUE(shipped.count(r)) << e.technique << ": the table names " << r << ", which is not a shipped rule";
    }
  }

  static const std::regex marker("stratus-red-team_");
  size_t satisfied = 0, blocked = 0;
  std::set<std::string> recorded;
  std::vector<std::string> failures;
  std::ostringstream table;
  table << "| technique | chain | rules meant for it | satisfied | rules that fire |\n|---|---|---|---|---|\n";
  for (const auto& f : files) {
    const std::string technique = f.stem().string();
    recorded.insert(technique);
    const auto lines = read_lines(f);
    const bool chain = is_chain_recording(lines);
    const Outcome got = run_pack(*comp->program, lines);

    // The same recording without the Stratus user-agent marker must raise exactly the same rules.
    std::vector<std::string> unmarked;
    for (const auto& l : lines) unmarked.push_back(std::regex_replace(l, marker, "sdk-session_"));
    const Outcome neutral = run_pack(*comp->program, unmarked);
    if (neutral.rules != got.rules) {
      failures.push_back(technique + ": rules depend on the stratus-red-team user agent (with marker: " +
                         join(got.rules) + "; without: " + join(neutral.rules) + ")");
    }
    if (chain && got.chain_rules.empty()) {
      failures.push_back(technique + ": chain recording, but no alert carries a chain of 2+ hops");
    }

    std::string verdict = "no row";
    std::string meant = "-";
    auto it = expected.find(technique);
    if (it == expected.end()) {
      failures.push_back(technique + ": no row in kExpected (name the rule meant to catch this technique)");
    } else {
      const Expectation& e = *it->second;
      std::set<std::string> want(e.rules.begin(), e.rules.end());
      std::set<std::string> missing;
      for (const std::string& r : want) {
        if (!got.strict_rules.count(r)) missing.insert(r);
      }
      meant = join(want);
      if (e.blocked) {
        ++blocked;
        verdict = "no (blocked)";
        if (missing.empty()) {
          failures.push_back(technique + ": marked blocked (" + e.blocked + ") but " + meant +
                             " now fire(s): remove the blocked mark");
          verdict = "yes, but marked blocked";
        }
      } else if (missing.empty()) {
        ++satisfied;
        verdict = "yes";
      } else {
        verdict = "no";
        failures.push_back(technique + ": the rule(s) meant for it raised no non-informational alert: " +
                           join(missing) + " (rules that did fire: " +
                           (got.rules.empty() ? std::string("none") : join(got.rules)) + ")");
      }
    }
    table << "| " << technique << " | " << (chain ? "yes" : "") << " | " << meant << " | " << verdict << " | "
          << (got.rules.empty() ? "-" : join(got.rules)) << " |\n";
  }
  for (const Expectation& e : kExpected) {
    if (!recorded.count(e.technique)) {
      failures.push_back(std::string(e.technique) + ": a row of kExpected, but no recording " + e.technique +
                         ".ndjson in the corpus");
    }
  }
  std::cout << "\nStratus conformance (strict): " << satisfied << " of " << files.size()
            << " techniques caught by the rule meant for them; " << blocked << " row(s) blocked:\n";
  for (const Expectation& e : kExpected) {
    if (e.blocked) std::cout << "  " << e.technique << ": " << e.blocked << "\n";
  }
  std::cout << table.str() << std::flush;

  for (const auto& msg : failures) ADD_FAILURE() << msg;
}
