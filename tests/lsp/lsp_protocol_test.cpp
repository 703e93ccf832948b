// Protocol tests: `braid lsp` driven over stdio as an editor would drive it (tests/lsp/lsp_client.h).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "lsp_client.h"

namespace braid::lsptest {
namespace {

namespace fs = std::filesystem;

std::string uri_of(const fs::path& p) {
  return "file://" + p.string();
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string slurp(const fs::path& p) {
  std::ifstream i(p, std::ios::binary);
  std::stringstream s;
  s << i.rdbuf();
  return s.str();
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while (f && (n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  if (f) ::pclose(f);
  return out;
}

const char* const kLists = R"(// Policies that give a principal full control of the account.
list acme.admin_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]

// An administrator policy attached to a user.
macro acme.is_admin_attach = eventName == "AttachUserPolicy" and requestParameters.policyArn in acme.admin_arns
)";

const char* const kGood = R"(rule acme.admin_attached {
  title "Administrator policy attached"
  severity high
  attack T1098.003
  source aws.cloudtrail
  when acme.is_admin_attach and userIdentity.type == "IAMUser"
  message "{userIdentity.arn} attached an administrator policy"
  description "An administrator policy was attached to an IAM user."
  test "quiet" {
    events [{"eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "awsRegion": "us-east-1", "eventTime": "2025-01-01T00:00:00Z", "eventID": "1", "eventType": "AwsApiCall", "recipientAccountId": "1", "sourceIPAddress": "1.2.3.4", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a", "accessKeyId": "AKIA1"}}]
    expect none
  }
}
)";

const char* const kSession = R"(rule acme.recon_then_admin {
  title "Discovery calls, then an administrator policy"
  severity critical
  attack T1087.004
  source aws.cloudtrail
  session {
    step recon = eventName startswith "List" and readOnly
    step admin = acme.is_admin_attach
    when count(recon) >= 5 and recon -> admin within 15m
  }
  message "{session.identity} listed, then attached {admin.requestParameters.policyArn}"
  description "Five discovery calls, then an administrator policy attached, in one session."
  test "quiet" {
    events [{"eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "awsRegion": "us-east-1", "eventTime": "2025-01-01T00:00:00Z", "eventID": "1", "eventType": "AwsApiCall", "recipientAccountId": "1", "sourceIPAddress": "1.2.3.4", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a", "accessKeyId": "AKIA1"}}]
    expect none
  }
}
)";

// A misspelt field (`eventNmae`) on line 6.
const char* const kTypo = R"(rule acme.typo {
  title "A rule with a misspelt field"
  severity low
  attack T1098
  source aws.cloudtrail
  when eventNmae == "CreateUser"
  message "{userIdentity.arn} created a user"
  description "A user was created."
  test "quiet" {
    events [{"eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "awsRegion": "us-east-1", "eventTime": "2025-01-01T00:00:00Z", "eventID": "1", "eventType": "AwsApiCall", "recipientAccountId": "1", "sourceIPAddress": "1.2.3.4", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a", "accessKeyId": "AKIA1"}}]
    expect none
  }
}
)";

class LspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid-lsp-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "ws");
    ws_ = dir_ / "ws";
    write(ws_ / "lists.braid", kLists);
    write(ws_ / "good.braid", kGood);
    write(ws_ / "session.braid", kSession);
    client_ = std::make_unique<Client>(BRAID_EXE, std::vector<std::string>{"lsp"},
                                       std::vector<std::string>{"XDG_CACHE_HOME=" + (dir_ / "cache").string()});
  }
  void TearDown() override {
    client_.reset();
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    for (auto& e : fs::recursive_directory_iterator(dir_, ec)) fs::permissions(e.path(), fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  json initialize() {
    json r = client_->request("initialize", {{"processId", nullptr},
                                             {"rootUri", uri_of(ws_)},
                                             {"capabilities", json::object()}});
    client_->notify("initialized", json::object());
    return r;
  }
  void open(const std::string& uri, const std::string& text, int version = 1) {
    client_->notify("textDocument/didOpen",
                    {{"textDocument", {{"uri", uri}, {"languageId", "braid"}, {"version", version}, {"text", text}}}});
  }
  json pos_params(const std::string& uri, int line, int character) {
    return {{"textDocument", {{"uri", uri}}}, {"position", {{"line", line}, {"character", character}}}};
  }
  json result(const std::string& method, const json& params) {
    json r = client_->request(method, params);
    EXPECT_TRUE(r.contains("result")) << r.dump();
    return r.value("result", json());
  }
  std::set<std::string> labels(const json& completion) {
    std::set<std::string> out;
    for (const json& it : completion["items"]) out.insert(it["label"].get<std::string>());
    return out;
  }
  const json* item(const json& completion, const std::string& label) {
    for (const json& it : completion["items"]) {
      if (it["label"] == label) return &it;
    }
    return nullptr;
  }

  fs::path dir_, ws_;
  std::unique_ptr<Client> client_;
};

TEST_F(LspTest, InitializeAdvertisesTheFeatures) {
  json r = initialize();
  ASSERT_TRUE(r.contains("result")) << r.dump();
  const json& caps = r["result"]["capabilities"];
  EXPECT_EQ(caps["positionEncoding"], "utf-16");
  EXPECT_EQ(caps["textDocumentSync"]["change"], 2);
  EXPECT_EQ(caps["completionProvider"]["triggerCharacters"], json::array({"."}));
  EXPECT_EQ(caps["semanticTokensProvider"]["full"], true);
  for (const char* c : {"hoverProvider", "definitionProvider", "referencesProvider", "documentSymbolProvider",
                        "workspaceSymbolProvider", "documentFormattingProvider"}) {
    EXPECT_EQ(caps[c], true) << c;
  }
  EXPECT_EQ(caps["codeActionProvider"]["codeActionKinds"], json::array({"quickfix"}));
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "braid");
}

TEST_F(LspTest, DiagnosticsOnOpenWithFixItAndCodeAction) {
  initialize();
  std::string uri = uri_of(ws_ / "typo.braid");
  write(ws_ / "typo.braid", kTypo);
  open(uri, kTypo);
  auto diags = client_->diagnostics(uri);
  ASSERT_TRUE(diags);
  ASSERT_EQ(diags->size(), 1u) << diags->dump();
  const json& d = (*diags)[0];
  EXPECT_EQ(d["code"], "BRD0301");
  EXPECT_EQ(d["severity"], 1);
  EXPECT_EQ(d["source"], "braid");
  EXPECT_EQ(d["range"]["start"], json({{"line", 5}, {"character", 7}}));
  EXPECT_EQ(d["range"]["end"], json({{"line", 5}, {"character", 16}}));
  EXPECT_NE(d["message"].get<std::string>().find("unknown field `eventNmae`"), std::string::npos);
  EXPECT_NE(d["message"].get<std::string>().find("did you mean `eventName`?"), std::string::npos);

  json actions = result("textDocument/codeAction",
                        {{"textDocument", {{"uri", uri}}},
                         {"range", {{"start", {{"line", 5}, {"character", 9}}}, {"end", {{"line", 5}, {"character", 9}}}}},
                         {"context", {{"diagnostics", *diags}}}});
  ASSERT_EQ(actions.size(), 1u) << actions.dump();
  EXPECT_EQ(actions[0]["kind"], "quickfix");
  EXPECT_EQ(actions[0]["title"], "Did you mean `eventName`?");
  const json& edits = actions[0]["edit"]["changes"][uri];
  ASSERT_EQ(edits.size(), 1u);
  EXPECT_EQ(edits[0]["newText"], "eventName");
  EXPECT_EQ(edits[0]["range"], d["range"]);

  // Nothing to fix elsewhere.
  json none = result("textDocument/codeAction",
                     {{"textDocument", {{"uri", uri}}},
                      {"range", {{"start", {{"line", 1}, {"character", 0}}}, {"end", {{"line", 1}, {"character", 3}}}}},
                      {"context", {{"diagnostics", json::array()}}}});
  EXPECT_TRUE(none.empty()) << none.dump();

  // A change and a code action sent together: the action's fix-it is that of the changed text (two lines were
  // inserted above, so the misspelling is now on line 7), not a stale one.
  std::string shifted = std::string("// one\n// two\n") + kTypo;
  int change_then_action = 0;
  {
    client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                               {"contentChanges", json::array({{{"text", shifted}}})}});
    change_then_action = client_->send_request(
        "textDocument/codeAction",
        {{"textDocument", {{"uri", uri}}},
         {"range", {{"start", {{"line", 7}, {"character", 9}}}, {"end", {{"line", 7}, {"character", 9}}}}},
         {"context", {{"diagnostics", json::array()}}}});
  }
  json fresh = client_->response(change_then_action)["result"];
  ASSERT_EQ(fresh.size(), 1u) << fresh.dump();
  EXPECT_EQ(fresh[0]["edit"]["changes"][uri][0]["range"]["start"], json({{"line", 7}, {"character", 7}}));
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 3}}},
                                             {"contentChanges", json::array({{{"text", std::string(kTypo)}}})}});
  client_->diagnostics_of_version(uri, 3);

  // Applying the fix-it as an incremental change clears the diagnostic.
  client_->notify("textDocument/didChange",
                  {{"textDocument", {{"uri", uri}, {"version", 4}}},
                   {"contentChanges", json::array({{{"range", edits[0]["range"]}, {"text", "eventName"}}})}});
  auto after = client_->diagnostics_of_version(uri, 4);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty()) << after->dump();
}

// The diagnostics equal `braid lint --format json` on the same files: codes, lines, columns and fix-its.
TEST_F(LspTest, DiagnosticsMatchBraidLint) {
  const char* text = R"(rule acme.several {
  title "Several problems"
  severity hihg
  source aws.cloudtrail
  when eventName == "CreateUser" and userIdentity.tpye == "IAMUser" and acme.admin_arnz == 1
  message "{userIdentity.arn}"
}
)";
  write(ws_ / "several.braid", text);
  initialize();
  std::string uri = uri_of(ws_ / "several.braid");
  open(uri, text);
  auto diags = client_->diagnostics(uri);
  ASSERT_TRUE(diags);
  std::string cli = run("cd " + ws_.string() + " && " + BRAID_EXE + " --format json lint . 2>/dev/null");
  json expected = json::parse(cli);
  std::multiset<std::string> want, got;
  for (const json& d : expected["diagnostics"]) {
    if (d["file"] != "several.braid") continue;
    want.insert(d["code"].get<std::string>() + "@" + std::to_string(d["line"].get<int>() - 1) + ":" +
                std::to_string(d["column"].get<int>() - 1) + "-" + std::to_string(d["end_line"].get<int>() - 1) +
                ":" + std::to_string(d["end_column"].get<int>() - 1) + " " + d["message"].get<std::string>());
  }
  for (const json& d : *diags) {
    std::string message = d["message"];
    got.insert(d["code"].get<std::string>() + "@" + d["range"]["start"]["line"].dump() + ":" +
               d["range"]["start"]["character"].dump() + "-" + d["range"]["end"]["line"].dump() + ":" +
               d["range"]["end"]["character"].dump() + " " + message.substr(0, message.find('\n')));
  }
  EXPECT_FALSE(want.empty()) << cli;
  EXPECT_EQ(got, want) << cli << "\n" << diags->dump();
}

TEST_F(LspTest, RangesAreUtf16) {
  initialize();
  // "é" is 2 bytes and 1 UTF-16 unit; "😀" is 4 bytes and 2 units: `nmae` starts at byte 30, unit 25.
  const std::string text = "rule acme.u {\n  title \"t\"\n  severity low\n  attack T1098\n  source aws.cloudtrail\n"
                           "  when eventName == \"é😀\" or nmae == \"x\"\n  message \"m\"\n}\n";
  std::string uri = uri_of(ws_ / "utf16.braid");
  open(uri, text);
  auto diags = client_->diagnostics(uri);
  ASSERT_TRUE(diags);
  ASSERT_FALSE(diags->empty());
  const json& d = (*diags)[0];
  EXPECT_EQ(d["code"], "BRD0301");
  EXPECT_EQ(d["range"]["start"], json({{"line", 5}, {"character", 29}}));
  EXPECT_EQ(d["range"]["end"], json({{"line", 5}, {"character", 33}}));
  // Completion at a UTF-16 position after the emoji lands after `n`.
  json c = result("textDocument/completion", pos_params(uri, 5, 30));
  EXPECT_TRUE(item(c, "name") == nullptr);  // CloudTrail has no `name` field ...
  EXPECT_NE(item(c, "eventName"), nullptr);  // ... but offers its fields there
}

TEST_F(LspTest, CompletionOfNestedFieldsListsMacrosAndKeywords) {
  initialize();
  std::string uri = uri_of(ws_ / "new.braid");
  std::string text = std::string(kGood).replace(std::string(kGood).find("userIdentity.type"), 17, "userIdentity.");
  open(uri, text);
  client_->diagnostics(uri);
  // Line 5: `  when acme.is_admin_attach and userIdentity. == "IAMUser"`: after the dot (column 45).
  json c = result("textDocument/completion", pos_params(uri, 5, 45));
  std::set<std::string> l = labels(c);
  for (const char* f : {"type", "arn", "accessKeyId", "principalId", "sessionContext"}) {
    EXPECT_TRUE(l.count(f)) << f << " in " << c.dump();
  }
  EXPECT_FALSE(l.count("eventName"));
  const json* arn = item(c, "arn");
  ASSERT_NE(arn, nullptr);
  EXPECT_EQ((*arn)["kind"], 5);
  EXPECT_EQ((*arn)["detail"], "string (optional)");
  const json* type = item(c, "type");
  ASSERT_NE(type, nullptr);
  EXPECT_NE((*type)["documentation"]["value"].get<std::string>().find("IAMUser"), std::string::npos);
  EXPECT_EQ((*type)["textEdit"]["range"]["start"], json({{"line", 5}, {"character", 45}}));

  // Deeper: userIdentity.sessionContext.
  std::string deeper = text;
  deeper.replace(deeper.find("userIdentity. "), 13, "userIdentity.sessionContext.");
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                             {"contentChanges", json::array({{{"text", deeper}}})}});
  json c2 = result("textDocument/completion", pos_params(uri, 5, 60));
  EXPECT_TRUE(labels(c2).count("attributes")) << c2.dump();

  // `acme.` offers the workspace's lists and macros; a bare name offers fields, lists, functions, keywords.
  json c3 = result("textDocument/completion", pos_params(uri, 5, 12));
  EXPECT_TRUE(labels(c3).count("is_admin_attach")) << c3.dump();
  EXPECT_TRUE(labels(c3).count("admin_arns"));
  json c4 = result("textDocument/completion", pos_params(uri, 5, 7));
  std::set<std::string> l4 = labels(c4);
  for (const char* w : {"eventName", "acme.admin_arns", "aws.sts_minting_calls", "exists", "and", "session"}) {
    EXPECT_TRUE(l4.count(w)) << w;
  }
  // Builtins show their signature (compiler/check/builtins.def), aggregates say what they are.
  const json* lower = item(c4, "lower");
  ASSERT_NE(lower, nullptr);
  EXPECT_EQ((*lower)["detail"], "lower(s: string) -> string");
  const json* count = item(c4, "count");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ((*count)["detail"], "aggregate");
}

TEST_F(LspTest, CompletionOfStepsAttributesSeveritiesAttackAndClauses) {
  initialize();
  std::string uri = uri_of(ws_ / "session.braid");
  open(uri, kSession);
  client_->diagnostics(uri);
  // Line 8: `    when count(recon) >= 5 ...`: at column 9 a bare name: the steps are offered.
  json c = result("textDocument/completion", pos_params(uri, 8, 9));
  EXPECT_TRUE(labels(c).count("recon"));
  EXPECT_TRUE(labels(c).count("admin"));
  EXPECT_TRUE(labels(c).count("count"));

  std::string text = kSession;
  text.replace(text.find("  severity critical"), 19, "  severity \n  session.\n  recon.userIdentity.\n  attack ");
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                             {"contentChanges", json::array({{{"text", text}}})}});
  json sev = result("textDocument/completion", pos_params(uri, 2, 11));
  EXPECT_EQ(labels(sev), (std::set<std::string>{"info", "low", "medium", "high", "critical"}));
  json attr = result("textDocument/completion", pos_params(uri, 3, 10));
  EXPECT_TRUE(labels(attr).count("identity")) << attr.dump();
  EXPECT_TRUE(labels(attr).count("source_ips"));
  json step_fields = result("textDocument/completion", pos_params(uri, 4, 21));
  EXPECT_TRUE(labels(step_fields).count("arn")) << step_fields.dump();
  json attack = result("textDocument/completion", pos_params(uri, 5, 9));
  EXPECT_TRUE(labels(attack).count("T1087.004")) << attack.dump();
  EXPECT_TRUE(labels(attack).count("TA0004"));
  // After `source`, sources only; after `in`, lists only.
  std::string more = kSession;
  more.replace(more.find("  source aws.cloudtrail"), 22, "  source \n  source aws.cloudtrail");
  more.replace(more.find("step recon = eventName startswith"), 33, "step recon = eventName in  and eventName startswith");
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 3}}},
                                             {"contentChanges", json::array({{{"text", more}}})}});
  json sources = result("textDocument/completion", pos_params(uri, 4, 9));
  EXPECT_TRUE(labels(sources).count("aws.cloudtrail")) << sources.dump();
  EXPECT_TRUE(labels(sources).count("okta.system"));
  EXPECT_FALSE(labels(sources).count("acme.admin_arns"));
  json lists = result("textDocument/completion", pos_params(uri, 7, 30));
  EXPECT_TRUE(labels(lists).count("acme.admin_arns")) << lists.dump();
  EXPECT_FALSE(labels(lists).count("acme.is_admin_attach"));
  EXPECT_FALSE(labels(lists).count("eventName"));
  // Inside a test: its clauses, and `none` after `expect`.
  std::string in_test = kSession;
  in_test.replace(in_test.find("    expect none"), 15, "    \n    expect ");
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 4}}},
                                             {"contentChanges", json::array({{{"text", in_test}}})}});
  int test_line = 0;
  for (size_t i = 0; i < in_test.find("    \n    expect "); ++i) test_line += in_test[i] == '\n';
  json test_kw = result("textDocument/completion", pos_params(uri, test_line, 4));
  EXPECT_TRUE(labels(test_kw).count("events")) << test_kw.dump();
  EXPECT_TRUE(labels(test_kw).count("expect"));
  EXPECT_FALSE(labels(test_kw).count("severity"));
  json none_kw = result("textDocument/completion", pos_params(uri, test_line + 1, 11));
  EXPECT_EQ(labels(none_kw), std::set<std::string>{"none"}) << none_kw.dump();
  // A clause keyword at the start of a rule line.
  json clause = result("textDocument/completion", pos_params(uri, 1, 2));
  EXPECT_TRUE(labels(clause).count("description")) << clause.dump();
  EXPECT_TRUE(labels(clause).count("false_positives"));
}

TEST_F(LspTest, HoverShowsFieldsListsMacrosRulesAndCodes) {
  initialize();
  std::string good = uri_of(ws_ / "good.braid");
  open(good, kGood);
  client_->diagnostics(good);
  // `userIdentity.type` on line 5, `type` at column 48.
  json h = result("textDocument/hover", pos_params(good, 5, 48));
  std::string md = h["contents"]["value"];
  EXPECT_NE(md.find("`userIdentity.type`: `string`"), std::string::npos) << md;
  EXPECT_NE(md.find("IAMUser"), std::string::npos) << md;
  EXPECT_EQ(h["range"]["start"], json({{"line", 5}, {"character", 32}}));
  // The macro: its body and doc comment.
  json hm = result("textDocument/hover", pos_params(good, 5, 12));
  md = hm["contents"]["value"];
  EXPECT_NE(md.find("macro acme.is_admin_attach = eventName"), std::string::npos) << md;
  EXPECT_NE(md.find("An administrator policy attached to a user."), std::string::npos) << md;
  // The rule's own name: its metadata.
  json hr = result("textDocument/hover", pos_params(good, 0, 8));
  md = hr["contents"]["value"];
  EXPECT_NE(md.find("Administrator policy attached"), std::string::npos) << md;
  EXPECT_NE(md.find("severity: high"), std::string::npos) << md;
  // A list (in lists.braid, from the workspace folder): its values.
  std::string lists = uri_of(ws_ / "lists.braid");
  open(lists, kLists);
  json hl = result("textDocument/hover", pos_params(lists, 4, 100));
  md = hl["contents"]["value"];
  EXPECT_NE(md.find("AdministratorAccess"), std::string::npos) << md;
  // A diagnostic: its code's title and short explanation.
  std::string typo = uri_of(ws_ / "typo.braid");
  open(typo, kTypo);
  client_->diagnostics(typo);
  json hd = result("textDocument/hover", pos_params(typo, 5, 10));
  md = hd["contents"]["value"];
  EXPECT_NE(md.find("**BRD0301** (unknown-field)"), std::string::npos) << md;
  // Nothing under the cursor: null.
  json hn = client_->request("textDocument/hover", pos_params(good, 1, 0));
  EXPECT_TRUE(hn["result"].is_null()) << hn.dump();
}

// A group rule: hover names its keys; completion in its block offers its steps but no `session` or `chain`
// attributes (a group has none); a field read in a `group by` key is one of the field's references.
TEST_F(LspTest, GroupRulesHoverCompletionAndReferences) {
  initialize();
  const std::string text = R"(rule acme.spray {
  title "Sign-in failures for many user names from one address"
  severity medium
  source aws.cloudtrail
  group by sourceIPAddress, recipientAccountId window 1h {
    step fail = eventName == "ConsoleLogin"
    when distinct(fail.userIdentity.userName) >= 10
  }
  message "{count(fail)}"
}
)";
  std::string uri = uri_of(ws_ / "group.braid");
  open(uri, text);
  client_->diagnostics(uri);
  json hr = result("textDocument/hover", pos_params(uri, 0, 8));
  std::string md = hr["contents"]["value"];
  EXPECT_NE(md.find("scope: group by `sourceIPAddress`, `recipientAccountId`"), std::string::npos) << md;
  // Line 6, column 9: the start of `distinct`: a bare name in the block.
  json c = result("textDocument/completion", pos_params(uri, 6, 9));
  EXPECT_TRUE(labels(c).count("fail")) << c.dump();
  EXPECT_TRUE(labels(c).count("distinct"));
  EXPECT_FALSE(labels(c).count("session")) << c.dump();
  EXPECT_FALSE(labels(c).count("chain")) << c.dump();
  // A rule clause at the start of a line offers `group`.
  json clause = result("textDocument/completion", pos_params(uri, 1, 2));
  EXPECT_TRUE(labels(clause).count("group")) << clause.dump();
  // References of `recipientAccountId` (line 4, column 30) include the key.
  json refs = result("textDocument/references", {{"textDocument", {{"uri", uri}}},
                                                 {"position", {{"line", 4}, {"character", 30}}},
                                                 {"context", {{"includeDeclaration", false}}}});
  bool key = false;
  for (const json& r : refs) key = key || (r["uri"] == uri && r["range"]["start"]["line"] == 4);
  EXPECT_TRUE(key) << refs.dump();
}

TEST_F(LspTest, DefinitionAndReferencesAcrossTheWorkspaceAndIntoTheStdlib) {
  initialize();
  std::string good = uri_of(ws_ / "good.braid");
  std::string lists = uri_of(ws_ / "lists.braid");
  std::string session = uri_of(ws_ / "session.braid");
  open(good, kGood);
  client_->diagnostics(good);
  // The macro, in lists.braid (line 4, after `macro `).
  json def = result("textDocument/definition", pos_params(good, 5, 12));
  EXPECT_EQ(def["uri"], lists);
  EXPECT_EQ(def["range"]["start"], json({{"line", 4}, {"character", 6}}));
  // The source, in the stdlib: a read-only file whose text is the embedded stdlib's.
  json src = result("textDocument/definition", pos_params(good, 4, 12));
  std::string src_uri = src["uri"];
  ASSERT_EQ(src_uri.rfind("file://", 0), 0u) << src.dump();
  fs::path src_path = src_uri.substr(7);
  EXPECT_EQ(src_path.filename(), "cloudtrail.braid");
  EXPECT_NE(slurp(src_path).find("source aws.cloudtrail {"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(src_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0222, 0u) << "the stdlib copy must be read-only";
  // A field: its declaration in the schema.
  json field = result("textDocument/definition", pos_params(good, 5, 48));
  EXPECT_EQ(field["uri"], src_uri);
  // References of the macro: both rule files, and the declaration when asked.
  json refs = result("textDocument/references", {{"textDocument", {{"uri", good}}},
                                                 {"position", {{"line", 5}, {"character", 12}}},
                                                 {"context", {{"includeDeclaration", true}}}});
  std::multiset<std::string> where;
  for (const json& r : refs) where.insert(r["uri"].get<std::string>() + ":" + r["range"]["start"]["line"].dump());
  EXPECT_EQ(where, (std::multiset<std::string>{lists + ":4", good + ":5", session + ":7"})) << refs.dump();
  // A step: its label, and its uses in the rule.
  open(session, kSession);
  json step_def = result("textDocument/definition", pos_params(session, 8, 16));
  EXPECT_EQ(step_def["range"]["start"], json({{"line", 6}, {"character", 9}}));
  json step_refs = result("textDocument/references", {{"textDocument", {{"uri", session}}},
                                                      {"position", {{"line", 6}, {"character", 10}}},
                                                      {"context", {{"includeDeclaration", false}}}});
  EXPECT_EQ(step_refs.size(), 2u) << step_refs.dump();  // count(recon), recon -> admin
  // A field: every path that reads it (here `userIdentity.type` in good.braid, and in the stdlib's own uses, if any).
  json field_refs = result("textDocument/references", {{"textDocument", {{"uri", good}}},
                                                       {"position", {{"line", 5}, {"character", 48}}},
                                                       {"context", {{"includeDeclaration", true}}}});
  std::multiset<std::string> fr;
  for (const json& r : field_refs) fr.insert(r["uri"].get<std::string>() + ":" + r["range"]["start"]["line"].dump());
  EXPECT_TRUE(fr.count(good + ":5")) << field_refs.dump();
  EXPECT_TRUE(fr.count(src_uri + ":" + field["range"]["start"]["line"].dump())) << field_refs.dump();
  // `session.braid` reads `admin.requestParameters.policyArn` (through a step), not `userIdentity.type`.
  for (const json& r : field_refs) EXPECT_NE(r["uri"], session) << field_refs.dump();
  json arn_refs = result("textDocument/references", {{"textDocument", {{"uri", good}}},
                                                     {"position", {{"line", 6}, {"character", 25}}},
                                                     {"context", {{"includeDeclaration", false}}}});
  std::set<std::string> arn_files;
  for (const json& r : arn_refs) arn_files.insert(r["uri"].get<std::string>());
  EXPECT_TRUE(arn_files.count(good)) << arn_refs.dump();       // the message's {userIdentity.arn}
  EXPECT_TRUE(arn_files.count(src_uri)) << arn_refs.dump();    // identity coalesce(userIdentity.arn, ...)
  // A list used in the stdlib: references inside the stdlib itself.
  json stdlib_refs = result("workspace/symbol", {{"query", "sts_minting"}});
  ASSERT_FALSE(stdlib_refs.empty());
}

TEST_F(LspTest, FormattingEqualsBraidFmt) {
  initialize();
  const std::string messy = "rule acme.messy {title \"t\"\n severity   low attack T1098\n  source aws.cloudtrail\n"
                            "when eventName==\"x\"   and  readOnly\n  message \"m\" }\n";
  write(ws_ / "messy.braid", messy);
  std::string uri = uri_of(ws_ / "messy.braid");
  open(uri, messy);
  json edits = result("textDocument/formatting",
                      {{"textDocument", {{"uri", uri}}}, {"options", {{"tabSize", 2}, {"insertSpaces", true}}}});
  ASSERT_EQ(edits.size(), 1u) << edits.dump();
  // Apply the edit to the text.
  std::vector<std::string> lines;
  std::string applied;
  {
    const json& r = edits[0]["range"];
    std::istringstream in(messy);
    std::string line;
    size_t off = 0, b = 0, e = 0;
    for (int n = 0; std::getline(in, line); ++n) {
      if (n == r["start"]["line"]) b = off + r["start"]["character"].get<size_t>();
      if (n == r["end"]["line"]) e = off + r["end"]["character"].get<size_t>();
      off += line.size() + 1;
    }
    if (r["end"]["line"].get<size_t>() >= 5) e = messy.size();
    applied = messy.substr(0, b) + edits[0]["newText"].get<std::string>() + messy.substr(e);
  }
  run(std::string(BRAID_EXE) + " fmt " + (ws_ / "messy.braid").string() + " 2>/dev/null");
  EXPECT_EQ(applied, slurp(ws_ / "messy.braid"));
  // Formatted already: no edits. A syntax error: an error response, not a guess.
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                             {"contentChanges", json::array({{{"text", applied}}})}});
  EXPECT_TRUE(result("textDocument/formatting", {{"textDocument", {{"uri", uri}}}, {"options", json::object()}}).empty());
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 3}}},
                                             {"contentChanges", json::array({{{"text", "rule { {"}}})}});
  json bad = client_->request("textDocument/formatting", {{"textDocument", {{"uri", uri}}}, {"options", json::object()}});
  ASSERT_TRUE(bad.contains("error")) << bad.dump();
  EXPECT_EQ(bad["error"]["code"], -32803);
}

TEST_F(LspTest, DocumentAndWorkspaceSymbols) {
  initialize();
  std::string session = uri_of(ws_ / "session.braid");
  open(session, kSession);
  json syms = result("textDocument/documentSymbol", {{"textDocument", {{"uri", session}}}});
  ASSERT_EQ(syms.size(), 1u);
  EXPECT_EQ(syms[0]["name"], "acme.recon_then_admin");
  EXPECT_EQ(syms[0]["detail"], "Discovery calls, then an administrator policy");
  ASSERT_EQ(syms[0]["children"].size(), 3u);
  EXPECT_EQ(syms[0]["children"][0]["name"], "recon");
  EXPECT_EQ(syms[0]["children"][1]["name"], "admin");
  EXPECT_EQ(syms[0]["children"][2]["name"], "test quiet");
  json ws = result("workspace/symbol", {{"query", "ACME."}});
  std::set<std::string> names;
  for (const json& s : ws) names.insert(s["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"acme.admin_arns", "acme.is_admin_attach", "acme.admin_attached",
                                          "acme.recon_then_admin"}));
  json cloudtrail = result("workspace/symbol", {{"query", "aws.cloudtrail"}});
  ASSERT_FALSE(cloudtrail.empty());
}

// Semantic tokens: names coloured by what they resolve to.
TEST_F(LspTest, SemanticTokensClassifyNames) {
  json init = initialize();
  const json& legend = init["result"]["capabilities"]["semanticTokensProvider"]["legend"];
  ASSERT_EQ(legend["tokenTypes"].size(), 7u);
  std::string uri = uri_of(ws_ / "session.braid");
  open(uri, kSession);
  json data = result("textDocument/semanticTokens/full", {{"textDocument", {{"uri", uri}}}})["data"];
  ASSERT_EQ(data.size() % 5, 0u);
  std::vector<std::string> lines;
  {
    std::istringstream in(kSession);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  std::multiset<std::string> got;  // "text:type:mods"
  int line = 0, ch = 0;
  for (size_t i = 0; i < data.size(); i += 5) {
    int dl = data[i], dc = data[i + 1], len = data[i + 2];
    ch = dl == 0 ? ch + dc : dc;
    line += dl;
    got.insert(lines[line].substr(ch, len) + ":" + legend["tokenTypes"][data[i + 3].get<int>()].get<std::string>() + ":" +
               std::to_string(data[i + 4].get<int>()));
  }
  for (const char* want : {"acme.recon_then_admin:event:1", "aws.cloudtrail:type:4", "recon:parameter:1",
                           "admin:parameter:1", "eventName:property:0", "readOnly:property:0",
                           "acme.is_admin_attach:function:0", "count:function:4", "recon:parameter:0",
                           "admin:parameter:0", "session.identity:enumMember:4", "requestParameters:property:0",
                           "policyArn:property:0"}) {
    EXPECT_TRUE(got.count(want)) << want << " in " << ::testing::PrintToString(got);
  }
}

// An edit to a shared list re-checks the files that use it, open or not; a broken file stops nothing.
TEST_F(LspTest, SharedEditsRecheckDependentsAndBrokenFilesStopNothing) {
  initialize();
  std::string lists = uri_of(ws_ / "lists.braid");
  std::string good = uri_of(ws_ / "good.braid");
  std::string session = uri_of(ws_ / "session.braid");
  open(lists, kLists);
  client_->diagnostics(lists);
  std::string renamed = kLists;
  renamed.replace(renamed.find("macro acme.is_admin_attach"), 26, "macro acme.is_admin_attached");
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", lists}, {"version", 2}}},
                                             {"contentChanges", json::array({{{"text", renamed}}})}});
  auto g = client_->diagnostics(good);
  ASSERT_TRUE(g) << "good.braid (not open) was not re-checked";
  ASSERT_FALSE(g->empty());
  EXPECT_EQ((*g)[0]["code"], "BRD0101") << g->dump();
  auto s = client_->diagnostics(session);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->empty());

  // lists.braid now has a syntax error after the macro: its list and macro still count, so the rule files are
  // clean again once the name is back, and the broken file reports its syntax error alone.
  std::string broken = kLists;
  broken += "\nlist acme.broken = [\"a\",\n";
  client_->notify("textDocument/didChange", {{"textDocument", {{"uri", lists}, {"version", 3}}},
                                             {"contentChanges", json::array({{{"text", broken}}})}});
  auto lb = client_->diagnostics_of_version(lists, 3);
  ASSERT_TRUE(lb);
  ASSERT_FALSE(lb->empty());
  EXPECT_LT((*lb)[0]["code"].get<std::string>(), "BRD0100") << lb->dump();
  auto g2 = client_->diagnostics(good);
  ASSERT_TRUE(g2);
  EXPECT_TRUE(g2->empty()) << g2->dump();

  // A broken rule file next to a good one: the good one is still checked.
  std::string typo = uri_of(ws_ / "typo.braid");
  open(uri_of(ws_ / "broken_rule.braid"), "rule acme.half { title \"x\" when ==\n");
  open(typo, kTypo);
  auto t = client_->diagnostics(typo);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 1u) << t->dump();
  EXPECT_EQ((*t)[0]["code"], "BRD0301");
}

// A rule id declared in two rule files: the re-check of one file cannot see it; saving re-checks everything, and
// the duplicate is reported where `braid check` reports it (the second file in path order).
TEST_F(LspTest, SaveFindsRuleIdsDuplicatedAcrossFiles) {
  initialize();
  std::string dup = uri_of(ws_ / "a_dup.braid");
  std::string good = uri_of(ws_ / "good.braid");
  write(ws_ / "a_dup.braid", kGood);
  open(dup, kGood);
  auto first = client_->diagnostics(dup);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->empty()) << first->dump();
  client_->notify("textDocument/didSave", {{"textDocument", {{"uri", dup}}}});
  auto g = client_->diagnostics(good);
  ASSERT_TRUE(g);
  ASSERT_FALSE(g->empty());
  EXPECT_EQ((*g)[0]["code"], "BRD0102") << g->dump();
  std::string cli = run("cd " + ws_.string() + " && " + BRAID_EXE + " check . 2>&1");
  EXPECT_NE(cli.find("good.braid:1:6: error[BRD0102]"), std::string::npos) << cli;
}

// Files changed, created or deleted on disk by other programs (workspace/didChangeWatchedFiles) are re-read.
TEST_F(LspTest, WatchedFileChangesAreReread) {
  initialize();
  std::string lists = uri_of(ws_ / "lists.braid"), good = uri_of(ws_ / "good.braid");
  // Deleted: the macro is gone, so good.braid (not open) reports it.
  fs::remove(ws_ / "lists.braid");
  client_->notify("workspace/didChangeWatchedFiles", {{"changes", json::array({{{"uri", lists}, {"type", 3}}})}});
  auto g = client_->diagnostics(good);
  ASSERT_TRUE(g);
  ASSERT_FALSE(g->empty());
  EXPECT_EQ((*g)[0]["code"], "BRD0301") << g->dump();  // no acme.* name at all: `acme` reads as a field
  // Created again: clean.
  write(ws_ / "lists.braid", kLists);
  client_->notify("workspace/didChangeWatchedFiles", {{"changes", json::array({{{"uri", lists}, {"type", 1}}})}});
  auto g2 = client_->diagnostics(good);
  ASSERT_TRUE(g2);
  EXPECT_TRUE(g2->empty()) << g2->dump();
  // A new rule file with a problem, never opened.
  write(ws_ / "new.braid", kTypo);
  client_->notify("workspace/didChangeWatchedFiles",
                  {{"changes", json::array({{{"uri", uri_of(ws_ / "new.braid")}, {"type", 1}}})}});
  auto n = client_->diagnostics(uri_of(ws_ / "new.braid"));
  ASSERT_TRUE(n);
  ASSERT_EQ(n->size(), 1u);
  EXPECT_EQ((*n)[0]["code"], "BRD0301");
}

// An error in one rule file does not hold back the lint warnings of another checked with it.
TEST_F(LspTest, ErrorsInOneRuleFileDoNotHoldBackLintOfAnother) {
  std::string warn_text = kGood;
  warn_text.replace(warn_text.find("acme.admin_attached"), 19, "acme.undescribed");
  warn_text.erase(warn_text.find("  description"), warn_text.find('\n', warn_text.find("  description")) -
                                                       warn_text.find("  description") + 1);
  write(ws_ / "warn.braid", warn_text);
  write(ws_ / "typo.braid", kTypo);
  initialize();
  std::string warn = uri_of(ws_ / "warn.braid"), typo = uri_of(ws_ / "typo.braid");
  // Both opened in one batch: one re-check of both, in one unit.
  auto open_msg = [](const std::string& uri, const std::string& text) {
    return json{{"jsonrpc", "2.0"}, {"method", "textDocument/didOpen"},
                {"params", {{"textDocument", {{"uri", uri}, {"languageId", "braid"}, {"version", 7}, {"text", text}}}}}};
  };
  client_->send_batch({open_msg(warn, warn_text), open_msg(typo, kTypo)});
  auto t = client_->diagnostics_of_version(typo, 7);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 1u) << t->dump();
  EXPECT_EQ((*t)[0]["code"], "BRD0301");
  auto w = client_->diagnostics_of_version(warn, 7);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->size(), 1u) << w->dump();
  EXPECT_EQ((*w)[0]["code"], "BRD0812");
}

// A workspace that holds a copy of the stdlib (this repository's root) does not declare its names twice.
TEST_F(LspTest, StdlibCopiesInTheWorkspaceAreSkipped) {
  fs::create_directories(ws_ / "stdlib" / "aws");
  fs::copy_file(fs::path(BRAID_SOURCE_DIR) / "stdlib" / "aws" / "cloudtrail.braid", ws_ / "stdlib" / "aws" / "cloudtrail.braid");
  initialize();
  json syms = result("workspace/symbol", {{"query", "aws.cloudtrail"}});
  size_t n = 0;
  for (const json& s : syms) n += s["name"] == "aws.cloudtrail";
  EXPECT_EQ(n, 1u) << syms.dump();
}

// The .braid files of the repository (every test case, the fuzz corpus and the syntax-error cases included; a
// sample of rules/ and stdlib/), opened, then asked
// for symbols, formatting, and hover, completion, definition and references at a few places: every request gets a
// result or a JSON-RPC error, and the server lives on.
TEST_F(LspTest, SurvivesEveryRepositoryFile) {
  initialize();
  std::vector<fs::path> files;
  for (const char* dir : {"rules", "stdlib", "tests", "editors"}) {
    std::vector<fs::path> in_dir;
    for (auto& e : fs::recursive_directory_iterator(fs::path(BRAID_SOURCE_DIR) / dir)) {
      if (e.path().extension() == ".braid") in_dir.push_back(e.path());
    }
    std::sort(in_dir.begin(), in_dir.end());
    // Every test case (syntax errors, the fuzz corpus); one in four of the well-formed rules and stdlib files.
    bool all = std::string_view(dir) == "tests" || std::string_view(dir) == "editors";
    for (size_t i = 0; i < in_dir.size(); ++i) {
      if (all || i % 4 == 0) files.push_back(in_dir[i]);
    }
  }
  ASSERT_GT(files.size(), 100u);
  size_t requests = 0;
  for (const fs::path& f : files) {
    std::string text = slurp(f), uri = uri_of(f);
    open(uri, text);
    int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    std::vector<int> ids;
    ids.push_back(client_->send_request("textDocument/documentSymbol", {{"textDocument", {{"uri", uri}}}}));
    ids.push_back(client_->send_request("textDocument/formatting", {{"textDocument", {{"uri", uri}}}, {"options", json::object()}}));
    for (int k = 1; k <= 3; ++k) {
      int line = lines * k / 4, character = 4 * k + 2;
      for (const char* m : {"textDocument/hover", "textDocument/completion", "textDocument/definition"}) {
        ids.push_back(client_->send_request(m, pos_params(uri, line, character)));
      }
      json refs = pos_params(uri, line, character);
      refs["context"] = {{"includeDeclaration", true}};
      ids.push_back(client_->send_request("textDocument/references", refs));
    }
    for (int id : ids) {
      json r = client_->response(id);
      ++requests;
      ASSERT_TRUE(r.contains("result") || (r.contains("error") && r["error"]["code"] == -32803)) << f << " " << r.dump();
    }
    client_->notify("textDocument/didClose", {{"textDocument", {{"uri", uri}}}});
  }
  EXPECT_GT(requests, 1500u);
  EXPECT_EQ(client_->request("shutdown", nullptr)["result"], nullptr);
}

TEST_F(LspTest, BadInputGetsErrorsNotCrashes) {
  // Before initialize: ServerNotInitialized.
  json early = client_->request("textDocument/hover", pos_params("file:///x.braid", 0, 0));
  EXPECT_EQ(early["error"]["code"], -32002) << early.dump();
  initialize();
  // Malformed JSON: a parse error with a null id.
  client_->send_raw("Content-Length: 9\r\n\r\n{\"jsonrpc");
  auto parse = client_->next_response();
  ASSERT_TRUE(parse);
  EXPECT_EQ((*parse)["error"]["code"], -32700);
  EXPECT_TRUE((*parse)["id"].is_null());
  // Invalid UTF-8 inside the JSON text: a parse error too.
  std::string bad_utf8 = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"x\xff\"}";
  client_->send_raw("Content-Length: " + std::to_string(bad_utf8.size()) + "\r\n\r\n" + bad_utf8);
  auto utf8 = client_->next_response();
  ASSERT_TRUE(utf8);
  EXPECT_EQ((*utf8)["error"]["code"], -32700);
  // A header without Content-Length.
  client_->send_raw("Content-Type: x\r\n\r\n");
  auto header = client_->next_response();
  ASSERT_TRUE(header);
  EXPECT_EQ((*header)["error"]["code"], -32700);
  // Not an object; no method.
  client_->send_raw("Content-Length: 2\r\n\r\n[]");
  auto arr = client_->next_response();
  ASSERT_TRUE(arr);
  EXPECT_EQ((*arr)["error"]["code"], -32600);
  client_->send({{"jsonrpc", "2.0"}, {"id", 77}});
  json nomethod = client_->response(77);
  EXPECT_EQ(nomethod["error"]["code"], -32600);
  // Unknown method: MethodNotFound; an unknown notification: ignored.
  EXPECT_EQ(client_->request("textDocument/teleport", json::object())["error"]["code"], -32601);
  client_->notify("acme/unknownNotification", {{"x", 1}});
  // Bad params: missing fields, wrong types, unknown or non-file documents.
  EXPECT_EQ(client_->request("textDocument/hover", json::object())["error"]["code"], -32602);
  EXPECT_EQ(client_->request("textDocument/hover", {{"textDocument", {{"uri", 5}}}})["error"]["code"], -32602);
  EXPECT_EQ(client_->request("textDocument/hover", pos_params("file:///nowhere/x.braid", 0, 0))["error"]["code"], -32602);
  EXPECT_EQ(client_->request("textDocument/completion", pos_params("http://example.com/%zz", 0, 0))["error"]["code"],
            -32602);
  EXPECT_EQ(client_->request("textDocument/hover", {{"textDocument", {{"uri", uri_of(ws_ / "good.braid")}}},
                                                    {"position", {{"line", "x"}}}})["error"]["code"],
            -32602);
  EXPECT_EQ(client_->request("initialize", json::object())["error"]["code"], -32600);  // twice
  // A document with a strange URI still works (it is not a file).
  open("untitled:Untitled-1", kTypo);
  auto d = client_->diagnostics("untitled:Untitled-1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 1u);
  // Positions past the end are clamped.
  json far = client_->request("textDocument/completion", pos_params("untitled:Untitled-1", 999, 999));
  EXPECT_TRUE(far.contains("result")) << far.dump();
  // Still alive and well.
  json syms = client_->request("workspace/symbol", {{"query", "admin"}});
  EXPECT_TRUE(syms.contains("result"));
  EXPECT_EQ(client_->request("shutdown", nullptr)["result"], nullptr);
  EXPECT_EQ(client_->request("workspace/symbol", {{"query", "x"}})["error"]["code"], -32600);
  client_->notify("exit", nullptr);
  EXPECT_EQ(client_->wait_exit(), 0);
}

TEST_F(LspTest, ExitWithoutShutdownIsAnError) {
  initialize();
  client_->notify("exit", nullptr);
  EXPECT_EQ(client_->wait_exit(), 1);
}

TEST_F(LspTest, EndOfInputEndsTheServer) {
  initialize();
  client_->close_input();
  EXPECT_EQ(client_->wait_exit(), 1);
}

// A stdlib folder that cannot be written: the server falls back to virtual documents rather than failing.
TEST_F(LspTest, UnwritableStdlibFolderFallsBackToVirtualDocuments) {
  client_ = std::make_unique<Client>(BRAID_EXE, std::vector<std::string>{"lsp", "--stdlib-dir", "/dev/null/stdlib"});
  initialize();
  json syms = result("workspace/symbol", {{"query", "aws.cloudtrail"}});
  ASSERT_FALSE(syms.empty());
  EXPECT_EQ(syms[0]["location"]["uri"], "braid-stdlib:/aws/cloudtrail.braid") << syms.dump();
}

TEST_F(LspTest, VirtualStdlibDocuments) {
  json r = client_->request("initialize", {{"processId", nullptr},
                                           {"rootUri", uri_of(ws_)},
                                           {"initializationOptions", {{"stdlibScheme", "braid-stdlib"}}},
                                           {"capabilities", json::object()}});
  ASSERT_TRUE(r.contains("result"));
  std::string good = uri_of(ws_ / "good.braid");
  open(good, kGood);
  json src = result("textDocument/definition", pos_params(good, 4, 12));
  EXPECT_EQ(src["uri"], "braid-stdlib:/aws/cloudtrail.braid");
  std::string text = result("braid/stdlibText", {{"textDocument", {{"uri", "braid-stdlib:/aws/cloudtrail.braid"}}}});
  EXPECT_NE(text.find("source aws.cloudtrail {"), std::string::npos);
  // Hover works inside a stdlib document too, on a field's declaration as well.
  json h = result("textDocument/hover", pos_params("braid-stdlib:/aws/cloudtrail.braid", 19, 25));
  EXPECT_FALSE(h.is_null());
  std::string t = text;
  size_t at = t.find("userIdentity: {");
  ASSERT_NE(at, std::string::npos);
  size_t type_at = t.find("type: string", at);
  int line = static_cast<int>(std::count(t.begin(), t.begin() + static_cast<long>(type_at), '\n'));
  int col = static_cast<int>(type_at - t.rfind('\n', type_at) - 1);
  json hf = result("textDocument/hover", pos_params("braid-stdlib:/aws/cloudtrail.braid", line, col + 1));
  std::string md = hf["contents"]["value"];
  EXPECT_NE(md.find("`userIdentity.type`: `string`"), std::string::npos) << md;
  EXPECT_NE(md.find("IAMUser"), std::string::npos) << md;
}

}  // namespace
}  // namespace braid::lsptest
