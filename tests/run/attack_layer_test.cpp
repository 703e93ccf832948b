// `braid doc --attack-layer`: the ATT&CK coverage as a MITRE ATT&CK Navigator layer (issue 13). The layer must
// validate against the documented layer format 4.5 (navigator_layer_validator.h), and each technique's score must
// equal the number of enabled rules that list it, counted here independently from the compiled rules' metadata.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "ir/ir.h"
#include "json.h"
#include "navigator_layer_validator.h"

namespace fs = std::filesystem;
using braid::testjson::NavigatorLayerValidator;
using braid::testjson::Parser;
using braid::testjson::Value;

namespace {

const std::string kSrc = BRAID_SOURCE_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path temp_dir() {
  fs::path d = fs::path(::testing::TempDir()) /
               ("braid-attack-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  fs::create_directories(d);
  return d;
}

// `braid doc PATHS --attack-layer DIR/layer.json -o DIR/rules.md` from the source directory; the layer's text.
struct Doc {
  int code = -1;
  std::string layer, markdown, err;
};
Doc run_doc(const std::string& paths) {
  fs::path d = temp_dir();
  const fs::path layer = d / "layer.json", md = d / "rules.md", err = d / "stderr";
  fs::remove(layer);
  std::string cmd = "cd '" + kSrc + "' && '" + std::string(BRAID_EXE) + "' doc " + paths + " --attack-layer '" +
                    layer.string() + "' -o '" + md.string() + "' 2>'" + err.string() + "' </dev/null";
  int status = std::system(cmd.c_str());
  Doc r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.layer = slurp(layer);
  r.markdown = slurp(md);
  r.err = slurp(err);
  return r;
}

std::string errors_text(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) s += "  " + e + "\n";
  return s;
}

// Technique id -> the enabled rules listing it, from the compiled rules (stdlib rules excluded, as braid doc does).
std::map<std::string, std::set<std::string>> expected_coverage(const std::string& dir) {
  static const std::regex technique("^T[0-9]{4}(\\.[0-9]{3})?$");
  std::map<std::string, std::set<std::string>> c;
  auto comp = braid::compile({dir});
  EXPECT_TRUE(comp->program) << dir << " does not check";
  if (!comp->program) return c;
  for (const auto& rule : comp->program->rules) {
    if (rule.file_path.rfind(braid::kStdlibPathPrefix, 0) == 0 || !rule.meta.enabled) continue;
    for (const std::string& id : rule.meta.attack) {
      if (std::regex_match(id, technique)) c[id].insert(rule.id);
    }
  }
  return c;
}

// The layer's technique id -> (score, the rule ids of its comment).
std::map<std::string, std::pair<double, std::set<std::string>>> layer_coverage(const Value& layer) {
  std::map<std::string, std::pair<double, std::set<std::string>>> c;
  for (const Value& t : layer.at("techniques").items) {
    std::set<std::string> ids;
    std::stringstream ss(t.at("comment").str);
    std::string id;
    while (std::getline(ss, id, ',')) {
      id.erase(0, id.find_first_not_of(' '));
      if (!id.empty()) ids.insert(id);
    }
    c[t.at("techniqueID").str] = {t.at("score").num, ids};
  }
  return c;
}

void expect_scores_equal_rule_counts(const Value& layer, const std::string& dir) {
  const auto want = expected_coverage(dir);
  const auto got = layer_coverage(layer);
  for (const auto& [id, rules] : want) {
    auto it = got.find(id);
    if (it == got.end()) {
      ADD_FAILURE() << id << " is listed by " << rules.size() << " enabled rule(s) but is not in the layer";
      continue;
    }
    EXPECT_EQ(it->second.first, static_cast<double>(rules.size())) << id << ": score is not its number of rules";
    EXPECT_EQ(it->second.second, rules) << id << ": the comment does not list exactly its rules";
  }
  for (const auto& [id, _] : got) {
    EXPECT_TRUE(want.count(id)) << id << " is in the layer but no enabled rule lists it";
  }
}

}  // namespace

// The shipped rules' layer: valid layer format 4.5, scores equal to the rule counts.
TEST(AttackLayer, ShippedRulesLayerValidatesAndScoresAreRuleCounts) {
  Doc d = run_doc("rules");
  ASSERT_EQ(d.code, 0) << d.err;
  Value layer = Parser(d.layer).parse_document();
  const auto errors = NavigatorLayerValidator().validate(layer);
  EXPECT_TRUE(errors.empty()) << "the layer does not validate against the layer format 4.5:\n" << errors_text(errors);
  EXPECT_EQ(layer.at("domain").str, "enterprise-attack");
  EXPECT_EQ(layer.at("versions").at("layer").str, "4.5");
  ASSERT_TRUE(layer.at("techniques").is_array());
  EXPECT_GT(layer.at("techniques").items.size(), 40u);
  expect_scores_equal_rule_counts(layer, kSrc + "/rules");
  // The gradient spans the scores.
  double max_score = 0;
  for (const Value& t : layer.at("techniques").items) max_score = std::max(max_score, t.at("score").num);
  EXPECT_EQ(layer.at("gradient").at("maxValue").num, max_score);
}

// A fixture with known coverage: exact techniques, scores and comments; disabled rules and tactic ids left out; the
// Markdown table says the same.
TEST(AttackLayer, FixtureCoverageIsExact) {
  const std::string dir = "tests/run/data/doc/attack";
  Doc d = run_doc(dir);
  ASSERT_EQ(d.code, 0) << d.err;
  Value layer = Parser(d.layer).parse_document();
  const auto errors = NavigatorLayerValidator().validate(layer);
  EXPECT_TRUE(errors.empty()) << errors_text(errors);
  const auto got = layer_coverage(layer);
  using Entry = std::pair<double, std::set<std::string>>;
  const std::map<std::string, Entry> want = {
      {"T1098", {2, {"acme.one", "acme.two"}}},
      {"T1098.001", {1, {"acme.one"}}},
      {"T1562.008", {1, {"acme.two"}}},
  };
  EXPECT_EQ(got, want);
  expect_scores_equal_rule_counts(layer, kSrc + "/" + dir);
  // T1098 has a scored sub-technique, so it opens on it; the sub-techniques carry no showSubtechniques.
  for (const Value& t : layer.at("techniques").items) {
    EXPECT_EQ(t.has("showSubtechniques"), t.at("techniqueID").str == "T1098") << t.at("techniqueID").str;
  }
  EXPECT_NE(d.markdown.find("| T1098 | 2 | `acme.one`, `acme.two` |\n"), std::string::npos) << d.markdown;
  EXPECT_NE(d.markdown.find("| T1562.008 | 1 | `acme.two` |\n"), std::string::npos);
  EXPECT_EQ(d.markdown.find("| T1530 |"), std::string::npos) << "a disabled rule's technique was counted";
  EXPECT_NE(d.markdown.find("| TA0007 | Discovery | 1 |"), std::string::npos);
  EXPECT_NE(d.markdown.find("Enabled rules that list no technique: 1."), std::string::npos);
  EXPECT_NE(d.markdown.find("[layer.json](layer.json)"), std::string::npos);
}

// The committed layer is the one braid doc writes for rules/ (docs/attack-layer.json; regenerate with
// sh tests/run/rules_doc.sh BRAID BRAID_GEN docs/rules.md).
TEST(AttackLayer, CommittedLayerIsUpToDate) {
  Doc d = run_doc("rules/");
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(d.layer, slurp(kSrc + "/docs/attack-layer.json"))
      << "docs/attack-layer.json differs from `braid doc rules/ --attack-layer`: regenerate it with "
         "sh tests/run/rules_doc.sh BRAID BRAID_GEN docs/rules.md";
}

// The validator is not a rubber stamp: each documented constraint, broken once, is reported.
TEST(AttackLayer, ValidatorRejectsLayersOutsideTheFormat) {
  Doc d = run_doc("tests/run/data/doc/attack");
  ASSERT_EQ(d.code, 0) << d.err;
  const Value good = Parser(d.layer).parse_document();
  ASSERT_TRUE(NavigatorLayerValidator().validate(good).empty());

  auto member = [](Value& obj, const std::string& key) -> Value& {
    for (auto& [k, v] : obj.members) {
      if (k == key) return v;
    }
    obj.members.emplace_back(key, Value{});
    return obj.members.back().second;
  };
  auto str = [](const std::string& s) {
    Value v;
    v.kind = Value::Kind::String;
    v.str = s;
    return v;
  };
  auto rejected = [](const Value& layer, const std::string& what) {
    EXPECT_FALSE(NavigatorLayerValidator().validate(layer).empty()) << "not reported: " << what;
  };
  {
    Value v;
    v.kind = Value::Kind::Object;
    for (const auto& m : good.members) {
      if (m.first != "name") v.members.push_back(m);
    }
    rejected(v, "no name");
  }
  {
    Value v = good;
    member(member(v, "versions"), "layer") = str("4.4");
    rejected(v, "layer version 4.4");
  }
  {
    Value v = good;
    member(member(v, "versions"), "navigator") = str("4.8.2");
    rejected(v, "navigator older than 4.9.0");
  }
  {
    Value v = good;
    member(v, "domain") = str("cloud-attack");
    rejected(v, "unknown domain");
  }
  {
    Value v = good;
    member(member(v, "techniques").items[0], "techniqueID") = str("TA0003");
    rejected(v, "a tactic id as techniqueID");
  }
  {
    Value v = good;
    member(member(v, "techniques").items[1], "score") = str("1");
    rejected(v, "a score that is a string");
  }
  {
    Value v = good;
    member(member(v, "techniques").items[1], "showSubtechniques").kind = Value::Kind::Bool;
    rejected(v, "showSubtechniques on a sub-technique");
  }
  {
    Value v = good;
    member(v, "techniques").items.push_back(member(v, "techniques").items[0]);
    rejected(v, "a technique twice");
  }
  {
    Value v = good;
    Value& g = member(v, "gradient");
    member(g, "maxValue") = member(g, "minValue");
    rejected(v, "maxValue not above minValue");
  }
  {
    Value v = good;
    member(member(v, "gradient"), "colors").items.resize(1);
    rejected(v, "one gradient colour");
  }
  {
    Value v = good;
    member(member(v, "legendItems").items[0], "color") = str("blue");
    rejected(v, "a colour that is not #RRGGBB");
  }
  {
    Value v = good;
    member(member(v, "layout"), "expandedSubtechniques") = str("some");
    rejected(v, "expandedSubtechniques outside none/all/annotated");
  }
  {
    Value v = good;
    member(v, "score") = str("x");
    rejected(v, "an undocumented top-level property");
  }
}

// docs/coverage.md names rules by id: each must be a shipped rule, unless marked *planned* (then it must not exist
// yet, so that the mark is removed when the rule lands).
TEST(CoverageReview, NamesShippedRules) {
  const std::string text = slurp(kSrc + "/docs/coverage.md");
  ASSERT_FALSE(text.empty()) << "docs/coverage.md is missing";
  auto comp = braid::compile({kSrc + "/rules"});
  ASSERT_TRUE(comp->program);
  std::set<std::string> shipped;
  for (const auto& r : comp->program->rules) shipped.insert(r.id);

  static const std::regex id_re("`((aws|azure|okta|entra|gcp|github|vault)\\.[a-z_]+\\.[a-z0-9_]+)`( \\(\\*planned\\*\\))?");
  size_t named = 0, planned = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), id_re); it != std::sregex_iterator(); ++it) {
    const std::string id = (*it)[1].str();
    if ((*it)[3].matched) {
      ++planned;
      EXPECT_FALSE(shipped.count(id)) << id << " is shipped now: remove its *planned* mark in docs/coverage.md";
    } else {
      ++named;
      EXPECT_TRUE(shipped.count(id)) << "docs/coverage.md names " << id << ", which is not a shipped rule";
    }
  }
  EXPECT_GT(named, 50u) << "docs/coverage.md should name the rules it reviews";
  EXPECT_EQ(planned, 0u) << "no planned rule (the trust-policy rule is shipped)";
}
