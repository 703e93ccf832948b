// The server's workspace (tools/lsp/lsp_workspace.h) without the protocol: the stdlib is checked once, not with
// every check unit.
#include <gtest/gtest.h>

#include "driver/driver.h"
#include "lsp_workspace.h"

namespace braid::lsp {
namespace {

const char* const kList = "list acme.admins = [\"alice\", \"bob\"]\n";
const char* const kRule = R"(rule acme.admin_login {
  title "An admin signed in"
  severity low
  source aws.cloudtrail
  when eventName == "ConsoleLogin" and userIdentity.userName in acme.admins
  message "{userIdentity.userName} signed in"
}
)";

std::vector<Diagnostic> errors(const Document& d) {
  std::vector<Diagnostic> out;
  for (const Diagnostic& x : d.diags)
    if (x.severity == Severity::Error) out.push_back(x);
  return out;
}

TEST(LspWorkspace, StdlibCheckedOnce) {
  Workspace ws("braid-stdlib:/");
  ws.set_text("file:///w/lists.braid", "/w/lists.braid", kList);
  ws.set_text("file:///w/rule.braid", "/w/rule.braid", kRule);
  ws.recheck();
  const CheckCounts first = ws.check_counts();
  // The stdlib's files, then the two user files; its declarations are a few dozen.
  ASSERT_GT(first.files, 2u);
  const size_t stdlib_files_n = first.files - 2;
  EXPECT_EQ(stdlib_files_n, stdlib_files().size());
  const size_t stdlib_decls = first.declarations - 2;
  EXPECT_GT(stdlib_decls, 20u);

  // A one-character edit of the rule: its unit is the list file and the rule, and no stdlib file or declaration is
  // checked again.
  std::string edited = kRule;
  edited.replace(edited.find("low"), 3, "high");
  ws.set_text("file:///w/rule.braid", "/w/rule.braid", edited);
  ws.recheck();
  EXPECT_EQ(ws.stats().units, 1u);
  EXPECT_EQ(ws.check_counts().files, first.files + 2);
  EXPECT_EQ(ws.check_counts().declarations, first.declarations + 2);
  Document* rule = ws.find("file:///w/rule.braid");
  ASSERT_TRUE(rule);
  EXPECT_EQ(errors(*rule).size(), 0u);

  // A typo in a stdlib field still gets its error: the unit sees the stdlib's schemas through the kept check.
  edited.replace(edited.find("eventName"), 9, "eventNmae");
  ws.set_text("file:///w/rule.braid", "/w/rule.braid", edited);
  ws.recheck();
  std::vector<Diagnostic> errs = errors(*rule);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].message.find("eventNmae"), std::string::npos);
  ASSERT_TRUE(errs[0].fix);
  EXPECT_EQ(errs[0].fix->replacement, "eventName");
  EXPECT_EQ(ws.check_counts().files, first.files + 4);
}

// A stdlib document given new text (an editor opening the read-only copy) is parsed again, and the kept check,
// which points into its old syntax tree, is redone once.
TEST(LspWorkspace, StdlibCheckedAgainWhenItsTextIsSet) {
  Workspace ws("braid-stdlib:/");
  ws.set_text("file:///w/rule.braid", "/w/rule.braid", kRule);
  ws.recheck();
  const size_t before = ws.check_counts().files;
  const StdlibFile& f = stdlib_files()[0];
  std::string uri = "braid-stdlib:/" + std::string(f.path);
  ASSERT_TRUE(ws.find(uri));
  ws.set_text(uri, std::string(kStdlibPathPrefix) + std::string(f.path), std::string(f.text));
  ws.set_text("file:///w/rule.braid", "/w/rule.braid", kRule);
  ws.recheck();
  EXPECT_EQ(ws.check_counts().files, before + stdlib_files().size() + 1);
}

}  // namespace
}  // namespace braid::lsp
