// Lists of tuples (allow-lists of pairs, docs/language.md 6.1 and 7.5): they are data, so `override list` replaces
// or extends them like any list, and a tuple of another length is refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "check/checker.h"
#include "diag/codes.h"
#include "driver/driver.h"
#include "ir/ir.h"
#include "parser/parser.h"

namespace braid {
namespace {

struct Checked {
  SourceManager sm;
  DiagnosticSink diags;
  std::vector<ast::File> files;
  std::unique_ptr<ir::Program> prog;
  std::string codes() const {
    std::string s;
    for (const auto& d : diags.all()) s += std::string(code_info(d.code).id) + " ";
    return s;
  }
};

std::unique_ptr<Checked> check_texts(const std::vector<std::string>& texts) {
  auto c = std::make_unique<Checked>();
  std::vector<FileId> ids;
  for (const auto& f : stdlib_files())
    ids.push_back(c->sm.add(std::string(kStdlibPathPrefix) + std::string(f.path), std::string(f.text)));
  for (size_t i = 0; i < texts.size(); ++i) ids.push_back(c->sm.add("t" + std::to_string(i) + ".braid", texts[i]));
  for (FileId id : ids) c->files.push_back(parse_file(c->sm, id, c->diags));
  std::vector<const ast::File*> ptrs;
  for (const auto& f : c->files) ptrs.push_back(&f);
  c->prog = check(ptrs, c->sm, c->diags);
  return c;
}

const char* kRule = R"(
list acme.allowed = [("ci-*", "Describe*")]
rule acme.writes {
  title "t"
  severity low
  attack T1078
  source aws.cloudtrail
  when not ((userIdentity.userName, eventName) like any acme.allowed)
  message "m"
}
)";

std::string rule_dump(const Checked& c) {
  const ir::Rule* r = c.prog ? c.prog->find_rule("acme.writes") : nullptr;
  return r ? ir::dump_rule(*c.prog, *r) : std::string();
}

TEST(Tuples, AnOverrideExtendsOrReplacesTheirPairs) {
  auto plain = check_texts({kRule});
  ASSERT_EQ(plain->diags.error_count(), 0u) << plain->codes();
  EXPECT_NE(rule_dump(*plain).find("\"ci-*\""), std::string::npos) << rule_dump(*plain);

  auto added = check_texts({kRule, "override list acme.allowed += [(\"terraform\", \"*\")]\n"});
  ASSERT_EQ(added->diags.error_count(), 0u) << added->codes();
  std::string a = rule_dump(*added);
  EXPECT_NE(a.find("\"ci-*\""), std::string::npos) << a;
  EXPECT_NE(a.find("\"terraform\""), std::string::npos) << a;

  auto replaced = check_texts({kRule, "override list acme.allowed = [(\"deploy\", \"Put*\")]\n"});
  ASSERT_EQ(replaced->diags.error_count(), 0u) << replaced->codes();
  std::string r = rule_dump(*replaced);
  EXPECT_EQ(r.find("\"ci-*\""), std::string::npos) << r;
  EXPECT_NE(r.find("\"deploy\""), std::string::npos) << r;
}

TEST(Tuples, AnOverrideOfAnotherShapeIsRefused) {
  for (const char* o : {"override list acme.allowed += [(\"a\", \"b\", \"c\")]\n",
                        "override list acme.allowed = [(\"a\", 1)]\n", "override list acme.allowed += [\"a\"]\n"}) {
    auto c = check_texts({kRule, o});
    EXPECT_NE(c->codes().find("BRD0413"), std::string::npos) << o << ": " << c->codes();
  }
}

TEST(Tuples, MisplacedTuplesAreBRD0417) {
  for (const char* when : {"(eventName, awsRegion) == \"x\"", "eventName in acme.allowed",
                           "(eventName, awsRegion, eventSource) in acme.allowed",
                           "(eventName, resources[*].ARN) like any acme.allowed",
                           "(eventName, awsRegion) contains any acme.allowed", "len(acme.allowed) > 0"}) {
    std::string text = kRule;
    text.replace(text.find("not ((userIdentity.userName, eventName) like any acme.allowed)"),
                 std::string("not ((userIdentity.userName, eventName) like any acme.allowed)").size(), when);
    auto c = check_texts({text});
    EXPECT_NE(c->codes().find("BRD0417"), std::string::npos) << when << ": " << c->codes();
  }
}

}  // namespace
}  // namespace braid
