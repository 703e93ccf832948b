// Panther conformance: runs the unit tests of the Panther CloudTrail detections
// (../shared/corpora/panther-aws-cloudtrail/*.json, one file per detection, each test one event and the expected
// result) through the Braid rule that panther_map.tsv maps the detection to, and compares "the rule fired" with
// `expected_result`. Rules: docs/conformance.md, section "Panther".
//
// How each test is fed:
//   - one Engine per test, running only the mapped rule (EngineOptions::only_rules), processing_time = 0;
//   - tests with `mocks` are excluded (they stub Panther helper state: geo lookups, "seen before" caches) and
//     counted separately;
//   - a test event without `eventTime` or `awsRegion` gets a fixed one (2024-01-01T00:00:00Z, us-east-1): every
//     real CloudTrail record has both, and without a time the runtime skips the event (no_time) and without a
//     region the aws.cloudtrail source does not recognise it. Nothing else in the event is changed;
//   - Panther threshold detections alert after `threshold` matching events; their unit tests check one event.
//     The event is therefore fed `threshold` times (distinct eventIDs, same time), so a session-scope Braid rule
//     with count(...) >= threshold fires exactly when Panther's rule() would have matched every copy. A mapping
//     may name a field to vary (a third column, `vary=userIdentity.userName`): each copy then gets its own value
//     of it (the test's value with "-copyK" appended), for detections whose threshold counts distinct values of
//     it (password spraying: distinct user names), where identical copies would be one value.
// The test fails when agreement on the tests without mocks (of mapped detections) is under 97%, and then prints
// the per-rule table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "ir/ir.h"
#include "json_tree.h"

namespace fs = std::filesystem;
namespace json = braid::cli::json;

namespace {

constexpr double kRequiredAgreement = 0.97;
constexpr const char* kDefaultTime = "2024-01-01T00:00:00Z";
constexpr const char* kDefaultRegion = "us-east-1";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Mapping {
  std::string braid_id;
  std::string vary;  // a dotted path each threshold copy gets its own value of ("": none)
};

std::map<std::string, Mapping> read_map(const fs::path& p) {
  std::map<std::string, Mapping> m;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    Mapping& x = m[line.substr(0, tab)];
    std::string rest = line.substr(tab + 1);
    auto tab2 = rest.find('\t');
    x.braid_id = rest.substr(0, tab2);
    if (tab2 != std::string::npos && rest.compare(tab2 + 1, 5, "vary=") == 0) x.vary = rest.substr(tab2 + 6);
  }
  return m;
}

json::Value* member(json::Value& obj, std::string_view key) {
  for (auto& [k, v] : obj.members)
    if (k == key) return &v;
  return nullptr;
}

// The string at a dotted path of an object (nullptr when a step is missing or not an object).
json::Value* at_path(json::Value& obj, std::string_view path) {
  json::Value* cur = &obj;
  while (cur) {
    auto dot = path.find('.');
    std::string_view head = path.substr(0, dot);
    cur = cur->kind == json::Value::Kind::Object ? member(*cur, head) : nullptr;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return cur;
}

void set_string(json::Value& obj, const std::string& key, const std::string& value) {
  json::Value s;
  s.kind = json::Value::Kind::String;
  s.text = value;
  if (auto* v = member(obj, key)) {
    *v = s;
  } else {
    obj.members.emplace_back(key, s);
  }
}

struct RuleTally {
  std::string braid_id;
  int agree = 0, disagree = 0, mocked = 0;
  std::vector<std::string> disagreements;  // test names, with expected/actual
};

}  // namespace

TEST(Panther, AgreementOnTestsWithoutMocks) {
  const fs::path corpus = fs::path(BRAID_CORPORA_DIR) / "panther-aws-cloudtrail";
  if (!fs::is_directory(corpus)) {
    GTEST_SKIP() << "Panther corpus not found at " << corpus.string()
                 << " (../shared/corpora is not part of a clone): skipping the Panther conformance run";
  }
  const fs::path map_file = fs::path(BRAID_SOURCE_DIR) / "tests/conformance/panther_map.tsv";
  const auto mapping = read_map(map_file);
  ASSERT_FALSE(mapping.empty()) << "no mappings in " << map_file.string();

  auto comp = braid::compile({(fs::path(BRAID_SOURCE_DIR) / "rules").string()});
  ASSERT_TRUE(comp->program != nullptr && !comp->diags.has_errors()) << "rules/ does not check";
  std::vector<std::string> known;
  for (const auto& r : comp->rules()) known.push_back(r.id);

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(corpus))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());

  std::map<std::string, RuleTally> tally;  // by Panther id
  std::vector<std::string> unmapped;
  int unmapped_tests = 0, total_agree = 0, total_disagree = 0, total_mocked = 0;

  for (const auto& file : files) {
    std::string err;
    auto doc = json::parse(read_all(file), &err);
    ASSERT_TRUE(doc.has_value()) << file.string() << ": " << err;
    const json::Value* rid = doc->get("rule_id");
    const json::Value* tests = doc->get("tests");
    ASSERT_TRUE(rid && tests && tests->kind == json::Value::Kind::Array) << file.string();
    const std::string panther_id = rid->text;
    int threshold = 1;
    if (const json::Value* t = doc->get("threshold"); t && t->kind == json::Value::Kind::Number)
      threshold = std::max(1, std::atoi(t->text.c_str()));

    auto it = mapping.find(panther_id);
    if (it == mapping.end()) {
      unmapped.push_back(panther_id);
      unmapped_tests += static_cast<int>(tests->items.size());
      continue;
    }
    const std::string& braid_id = it->second.braid_id;
    const std::string& vary = it->second.vary;
    ASSERT_NE(std::find(known.begin(), known.end(), braid_id), known.end())
        << panther_id << " is mapped to " << braid_id << ", which is not a rule in rules/";
    RuleTally& rt = tally[panther_id];
    rt.braid_id = braid_id;

    for (const auto& test : tests->items) {
      const json::Value* mocks = test.get("mocks");
      if (mocks && mocks->kind == json::Value::Kind::Array && !mocks->items.empty()) {
        ++rt.mocked;
        ++total_mocked;
        continue;
      }
      const json::Value* name = test.get("name");
      const json::Value* expected = test.get("expected_result");
      const json::Value* log = test.get("log");
      ASSERT_TRUE(expected && log) << panther_id << ": malformed test";
      const bool want = expected->kind == json::Value::Kind::Bool && expected->boolean;

      json::Value event = *log;
      if (event.kind == json::Value::Kind::Object) {
        if (!event.get("eventTime")) set_string(event, "eventTime", kDefaultTime);
        if (!event.get("awsRegion")) set_string(event, "awsRegion", kDefaultRegion);
      }
      std::string base_id = "panther-test";
      if (const json::Value* id = event.get("eventID"); id && id->kind == json::Value::Kind::String) base_id = id->text;

      braid::rt::EngineOptions opts;
      opts.only_rules = {braid_id};
      opts.include_disabled = true;
      opts.processing_time = 0;
      braid::rt::Engine engine(*comp->program, opts);
      int alerts = 0;
      engine.set_sink([&](const braid::rt::Alert&) { ++alerts; });
      json::Value* varied = vary.empty() ? nullptr : at_path(event, vary);
      const std::string varied_base =
          varied && varied->kind == json::Value::Kind::String ? varied->text : std::string();
      for (int k = 0; k < threshold; ++k) {
        if (event.kind == json::Value::Kind::Object && threshold > 1)
          set_string(event, "eventID", base_id + "-copy" + std::to_string(k));
        if (varied && varied->kind == json::Value::Kind::String && threshold > 1)
          varied->text = varied_base + "-copy" + std::to_string(k);
        engine.process_json(json::print(event), file.filename().string(), 0);
      }
      engine.finish();
      const bool fired = alerts > 0;
      if (fired == want) {
        ++rt.agree;
        ++total_agree;
      } else {
        ++rt.disagree;
        ++total_disagree;
        rt.disagreements.push_back((name ? name->text : std::string("?")) + " (expected " +
                                   (want ? "true" : "false") + ", Braid " + (fired ? "fired" : "did not fire") + ")");
      }
    }
  }

  const int compared = total_agree + total_disagree;
  const double agreement = compared ? static_cast<double>(total_agree) / compared : 0.0;
  std::printf("Panther conformance: %d detections mapped, %zu unmapped (%d tests), %d tests compared, "
              "%d agree, %d disagree (%.1f%%), %d tests with mocks excluded\n",
              static_cast<int>(tally.size()), unmapped.size(), unmapped_tests, compared, total_agree, total_disagree,
              100.0 * agreement, total_mocked);
  for (const auto& [pid, rt] : tally)
    for (const auto& d : rt.disagreements) std::printf("  disagreement: %s -> %s: %s\n", pid.c_str(), rt.braid_id.c_str(), d.c_str());

  if (agreement < kRequiredAgreement) {
    std::printf("\n%-52s %-64s %6s %9s %6s\n", "Panther rule", "Braid rule", "agree", "disagree", "mocks");
    for (const auto& [pid, rt] : tally)
      std::printf("%-52s %-64s %6d %9d %6d\n", pid.c_str(), rt.braid_id.c_str(), rt.agree, rt.disagree, rt.mocked);
    for (const auto& u : unmapped) std::printf("%-52s %-64s\n", u.c_str(), "(not mapped)");
  }
  EXPECT_GE(agreement, kRequiredAgreement) << "agreement " << 100.0 * agreement << "% on " << compared
                                           << " tests without mocks is under 97%";
  EXPECT_GT(compared, 0);
}
