// The builtins' registry (compiler/check/builtins.def): each row's ops, argument counts and form, the names the
// checker and the language server derive from it, and the VS Code grammar's list of builtins.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "check/builtins.h"
#include "check/checker.h"
#include "ir/ir.h"
#include "parser/parser.h"

namespace braid {
namespace {

const char* kSource = R"(
source test.src {
  recognize eventSource == "test"
  time eventTime
  identity userIdentity.arn
  credential userIdentity.accessKeyId
  ip sourceIPAddress
  session gap 30m max 12h
  fields {
    eventSource: string,
    eventName: string,
    eventTime: time,
    sourceIPAddress: ip,
    n: int,
    bytes?: float,
    userIdentity: { arn: string, accessKeyId?: string },
    resources?: [{ ARN: string, type: string }],
    tags: [string],
  }
}
)";

struct Checked {
  SourceManager sm;
  DiagnosticSink diags;
  ast::File file;
  std::unique_ptr<ir::Program> prog;
  std::string diag_text() const {
    std::string out;
    for (const Diagnostic& d : diags.all()) out += std::string(code_info(d.code).id) + ": " + d.message + "\n";
    return out;
  }
};

// An event rule `t.r` whose condition is `when`, after `extra` declarations.
std::unique_ptr<Checked> event_rule(const std::string& when, const std::string& extra = "") {
  auto r = std::make_unique<Checked>();
  std::string text = std::string(kSource) + extra + "\nrule t.r {\n  title \"t\"\n  severity high\n  source test.src\n" +
                     "  message \"m\"\n  when " + when + "\n}\n";
  FileId id = r->sm.add("t.braid", text);
  r->file = parse_file(r->sm, id, r->diags);
  EXPECT_FALSE(r->diags.has_errors()) << r->diag_text();
  r->prog = check({&r->file}, r->sm, r->diags);
  return r;
}

// The ops of the nodes reachable from `root`.
std::set<ir::Op> ops_under(const ir::Program& p, ir::NodeId root) {
  std::set<ir::Op> out;
  std::vector<ir::NodeId> stack{root};
  while (!stack.empty()) {
    ir::NodeId id = stack.back();
    stack.pop_back();
    if (id == ir::kNoNode) continue;
    out.insert(p.node(id).op);
    for (ir::NodeId o : p.ops(p.node(id))) stack.push_back(o);
  }
  return out;
}

// One condition per builtin, using it as its row says: a new row fails here until it has one.
const std::map<std::string_view, std::string> kExamples = {
    {"exists", "exists(resources[*].ARN)"},
    {"lower", "lower(eventName) == \"x\""},
    {"upper", "upper(eventName) == \"X\""},
    {"len", "len(tags) > 1"},
    {"coalesce", "coalesce(n, bytes) > 1.5"},
    {"replace", "replace(eventName, r\"[0-9]+\", \"\") == \"x\""},
    {"json", "json(eventName).Statement == \"x\""},
    {"any", "any(resources[*].type == \"x\" and resources[*].ARN == \"y\")"},
    {"all", "all(resources[*].type == \"x\")"},
    {"first", "first(tags) == \"a\""},
    {"last", "last(tags) == \"a\""},
};

TEST(Builtins, EachExampleChecksAndLowersToTheRowsOps) {
  for (const BuiltinInfo& b : kBuiltinTable) {
    SCOPED_TRACE(std::string(b.name));
    auto it = kExamples.find(b.name);
    ASSERT_NE(it, kExamples.end()) << "add an example of `" << b.name << "` to kExamples";
    auto r = event_rule(it->second);
    ASSERT_FALSE(r->diags.has_errors()) << r->diag_text();
    const ir::Rule* rule = r->prog->find_rule("t.r");
    ASSERT_NE(rule, nullptr);
    std::set<ir::Op> ops = ops_under(*r->prog, rule->condition);
    for (ir::Op op : b.ops) EXPECT_TRUE(ops.count(op)) << ir::op_name(op) << " in " << ir::dump_expr(*r->prog, rule->condition);
  }
  EXPECT_EQ(kExamples.size(), kBuiltinCount) << "an example names no builtin";
}

// A wrong argument count is BRD0206 with the row's message, for every row that has one.
TEST(Builtins, WrongArgumentCountReportsTheRowsMessage) {
  for (const BuiltinInfo& b : kBuiltinTable) {
    if (b.arity_error.empty()) continue;
    SCOPED_TRACE(std::string(b.name));
    size_t n = b.max_args == ir::kVariadic ? 0 : b.max_args + 1;
    ASSERT_FALSE(b.takes(n));
    std::string args;
    for (size_t i = 0; i < n; ++i) args += i ? ", eventName" : "eventName";
    auto r = event_rule(std::string(b.name) + "(" + args + ") == \"x\"");
    EXPECT_EQ(r->diag_text(), "BRD0206: " + std::string(b.arity_error) + "\n");
  }
}

// first/last: one list argument is the builtin; a step (or another argument count) is the aggregate.
TEST(Builtins, FirstAndLastOfAStepAreTheAggregates) {
  auto list = event_rule("first(tags) == \"a\" and last(tags) == \"b\"");
  EXPECT_FALSE(list->diags.has_errors()) << list->diag_text();
  auto two = event_rule("first(tags, tags) == \"a\"");
  EXPECT_EQ(two->diag_text(),
            "BRD0208: `first` is an aggregate: it is only available in the `when`, `message` or `suppress` of a "
            "session or chain rule\n");
}

// A macro named like a Special builtin is called instead of it; a Function builtin wins over a macro.
TEST(Builtins, MacrosOfTheSameNameAndTheForms) {
  auto special = event_rule("json(eventName)", "macro json(x) = x == \"j\"\n");
  EXPECT_FALSE(special->diags.has_errors()) << special->diag_text();
  auto function = event_rule("lower(eventName) == \"x\"", "macro lower(x) = x == \"j\"\n");
  EXPECT_FALSE(function->diags.has_errors()) << function->diag_text();
  const ir::Rule* rule = function->prog->find_rule("t.r");
  ASSERT_NE(rule, nullptr);
  EXPECT_TRUE(ops_under(*function->prog, rule->condition).count(ir::Op::Lower));
}

// A path after a SpecialPath builtin is read from its result; after any other builtin it is BRD0307.
TEST(Builtins, PathsOnlyAfterSpecialPathBuiltins) {
  for (const char* call : {"lower(eventName)", "any(resources[*].type == \"x\")"}) {
    auto r = event_rule(std::string(call) + ".x == \"a\"");
    EXPECT_EQ(r->diag_text(),
              "BRD0307: a field can be read only from a field, a parameter, or `first(step)` / `last(step)`\n")
        << call;
  }
  EXPECT_EQ(builtin_info(Builtin::Json).form, BuiltinForm::SpecialPath);
  auto json = event_rule("json(eventName).a.b == \"x\"");
  EXPECT_FALSE(json->diags.has_errors()) << json->diag_text();
}

TEST(Builtins, FunctionNamesAreTheRowsThenTheAggregates) {
  std::vector<std::string_view> want;
  for (const BuiltinInfo& b : kBuiltinTable)
    if (!ir::agg_kind_from_name(b.name)) want.push_back(b.name);
  for (const ir::AggKindInfo& a : ir::kAggKinds) want.push_back(a.name);
  EXPECT_EQ(function_names(), want);
  EXPECT_EQ(function_signature("lower"), "lower(s: string) -> string");
  EXPECT_EQ(function_signature("count"), "");
  EXPECT_EQ(function_signature("first"), builtin_info(Builtin::First).signature);
}

// BRD0107 suggests builtins by the registry's names.
TEST(Builtins, UnknownFunctionSuggestsABuiltin) {
  auto r = event_rule("coalesc(eventName) == \"a\"");
  ASSERT_EQ(r->diags.all().size(), 1u) << r->diag_text();
  EXPECT_EQ(r->diags.all()[0].help, "did you mean `coalesce`?");
}

// The VS Code grammar highlights the builtins by name (editors/vscode/syntaxes/braid.tmLanguage.json, repository
// "calls", its first pattern: `\b(exists|lower|...)\s*(?=\()`); it must list exactly function_names().
TEST(Builtins, VsCodeGrammarListsEveryFunctionName) {
  std::ifstream in(std::string(BRAID_SOURCE_DIR) + "/editors/vscode/syntaxes/braid.tmLanguage.json");
  ASSERT_TRUE(in) << "cannot read the VS Code grammar";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string g = ss.str();
  size_t calls = g.find("\"calls\": {");
  ASSERT_NE(calls, std::string::npos) << "the grammar has no \"calls\" repository entry";
  const std::string head = "\"match\": \"\\\\b(";
  size_t m = g.find(head, calls);
  ASSERT_NE(m, std::string::npos) << "the first pattern of \"calls\" is not `\\b(name|...)`";
  size_t from = m + head.size(), to = g.find(')', from);
  ASSERT_NE(to, std::string::npos);
  std::set<std::string> listed;
  std::stringstream names(g.substr(from, to - from));
  for (std::string n; std::getline(names, n, '|');) listed.insert(n);
  std::set<std::string> want;
  for (std::string_view f : function_names()) want.insert(std::string(f));
  EXPECT_EQ(listed, want) << "update the builtin names of \"calls\" in braid.tmLanguage.json";
}

}  // namespace
}  // namespace braid
