// End-to-end tests of the `braid` binary: exit codes, help, bad flags, output formats, fmt, explain.
// Each test runs the real binary (BRAID_EXE) in a scratch directory and looks at stdout, stderr and the status.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "diag/codes.h"
#include "json.h"
#include "sarif_validator.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;       // exit status, or -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs braid with `args` in the scratch directory. `env` entries are NAME=VALUE (empty value: unset).
  Result run(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    fs::path out = dir_ / ".stdout", err = dir_ / ".stderr";
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir_.c_str()) != 0) ::_exit(127);
      ::setenv("LC_ALL", "C", 1);
      ::unsetenv("NO_COLOR");
      for (const std::string& e : env) {
        auto eq = e.find('=');
        std::string name = e.substr(0, eq), value = e.substr(eq + 1);
        if (value.empty()) ::unsetenv(name.c_str()); else ::setenv(name.c_str(), value.c_str(), 1);
      }
      int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int fi = ::open("/dev/null", O_RDONLY);
      if (fo < 0 || fe < 0 || fi < 0) ::_exit(127);
      ::dup2(fi, 0);
      ::dup2(fo, 1);
      ::dup2(fe, 2);
      std::vector<char*> argv;
      std::string exe = BRAID_EXE;
      argv.push_back(exe.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    Result r;
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (WIFEXITED(st)) r.status = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
    r.out = slurp(out);
    r.err = slurp(err);
    fs::remove(out);
    fs::remove(err);
    return r;
  }

  fs::path path(const std::string& rel) const { return dir_ / rel; }
  void write(const std::string& rel, const std::string& text) { spit(dir_ / rel, text); }

  fs::path dir_;
};

std::string show(const Result& r) {
  return "status " + std::to_string(r.status) + " signal " + std::to_string(r.signal) + "\n--- stdout\n" + r.out +
         "--- stderr\n" + r.err;
}

const char* kClean = "// nothing but a comment: a valid, empty rule file\n";
const char* kBroken = "rule broken {\n  title \"x\"\n  SYNTAXERR ]]] {\n";

// ---------------------------------------------------------------------------------------------------------------
// Help, version, usage errors

TEST_F(Cli, VersionPrintsTheVersion) {
  Result r = run({"--version"});
  EXPECT_EQ(r.status, 0) << show(r);
  EXPECT_EQ(r.out, std::string("braid ") + BRAID_VERSION_STRING + "\n");
}

TEST_F(Cli, HelpListsEveryVerbAndTheExitCodes) {
  Result r = run({"--help"});
  EXPECT_EQ(r.status, 0) << show(r);
  for (const char* verb : {"check", "lint", "fmt", "explain", "--format", "--color", "Exit codes", "0  clean"}) {
    EXPECT_NE(r.out.find(verb), std::string::npos) << verb << "\n" << show(r);
  }
}

TEST_F(Cli, EveryVerbHasHelp) {
  struct Case {
    const char* verb;
    std::vector<const char*> mentions;
  };
  for (const Case& c : std::vector<Case>{{"check", {"--list", "PATH"}},
                                         {"lint", {"--strict", "--costly", "PATH"}},
                                         {"fmt", {"--check", "--diff", "PATH"}},
                                         {"explain", {"CODE", "--list"}}}) {
    for (const char* flag : {"--help", "-h"}) {
      Result r = run({c.verb, flag});
      EXPECT_EQ(r.status, 0) << c.verb << " " << flag << "\n" << show(r);
      EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << c.verb << "\n" << show(r);
      for (const char* m : c.mentions) EXPECT_NE(r.out.find(m), std::string::npos) << c.verb << ": " << m;
    }
  }
}

TEST_F(Cli, UsageErrorsExitWith2AndAClearMessage) {
  write("ok.braid", kClean);
  struct Case {
    std::vector<std::string> args;
    const char* mention;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "subcommand"},                             // no verb
           {{"frobnicate"}, "frobnicate"},                 // unknown verb
           {{"check"}, "paths"},                           // missing PATH
           {{"check", "--bogus", "ok.braid"}, "--bogus"},  // unknown flag
           {{"--format", "xml", "check", "ok.braid"}, "xml"},
           {{"check", "ok.braid", "--format", "yaml"}, "yaml"},
           {{"--color", "sometimes", "check", "ok.braid"}, "sometimes"},
           {{"lint", "--strict=maybe", "ok.braid"}, "strict"},
           {{"fmt", "--format", "json", "ok.braid"}, "--format"},
           {{"check", "--list", "--format", "sarif", "ok.braid"}, "SARIF"},
           {{"explain"}, "code"},
       }) {
    Result r = run(c.args);
    std::string what;
    for (const auto& a : c.args) what += a + " ";
    EXPECT_EQ(r.status, 2) << what << "\n" << show(r);
    EXPECT_EQ(r.signal, 0) << what;
    EXPECT_NE(r.err.find("error"), std::string::npos) << what << "\n" << show(r);
    EXPECT_NE(r.err.find(c.mention), std::string::npos) << what << "\n" << show(r);
    EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << what;
  }
}

TEST_F(Cli, GlobalFlagsWorkBeforeAndAfterTheVerb) {
  write("ok.braid", kClean);
  Result a = run({"--format", "json", "check", "ok.braid"});
  Result b = run({"check", "--format", "json", "ok.braid"});
  Result c = run({"check", "ok.braid", "--format=json"});
  EXPECT_EQ(a.status, 0) << show(a);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out, c.out);
  EXPECT_NO_THROW(braid::testjson::parse(a.out)) << a.out;
}

// ---------------------------------------------------------------------------------------------------------------
// check: exit codes and inputs

TEST_F(Cli, CleanCheckExitsZeroAndSummarisesOnStderr) {
  write("rules/a.braid", kClean);
  write("rules/sub/b.braid", kClean);
  write("rules/notes.txt", "not a rule file");
  Result r = run({"check", "rules"});
  EXPECT_EQ(r.status, 0) << show(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("checked 0 rules, 0 sources in 2 files: no problems\n"), std::string::npos) << show(r);
}

// A rule id copied from another tool (issue 11 item 9) round-trips: fmt keeps its quotes, braid test, the pack
// and the alerts carry the id without them.
TEST_F(Cli, QuotedRuleIdRoundTrips) {
  const std::string rule = R"(rule GCP.DNS.Zone.Modified."or".Deleted {
  title "DNS zone modified or deleted"
  severity low
  source gcp.audit
  when protoPayload.methodName startswith "dns.managedZones."
    and protoPayload.requestMetadata.callerIp in acme."bad-ips"
  message "{protoPayload.methodName}"

  test "fires" {
    events [
      {"logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity", "insertId": "1", "timestamp": "2024-10-02T09:00:00.120Z", "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "dns.googleapis.com", "methodName": "dns.managedZones.delete", "authenticationInfo": {"principalEmail": "m@example.com"}, "requestMetadata": {"callerIp": "198.51.100.40"}}}
    ]
    expect [{"rule": "GCP.DNS.Zone.Modified.or.Deleted"}]
  }
}

list acme."bad-ips" = ["198.51.100.40"]
)";
  write("r.braid", rule);
  Result f = run({"fmt", "--check", "r.braid"});
  EXPECT_EQ(f.status, 0) << show(f);
  Result t = run({"test", "r.braid"});
  EXPECT_EQ(t.status, 0) << show(t);
  EXPECT_NE(t.out.find("GCP.DNS.Zone.Modified.or.Deleted :: fires"), std::string::npos) << show(t);
  Result b = run({"build", "r.braid", "-o", "r.pack"});
  ASSERT_EQ(b.status, 0) << show(b);
  Result i = run({"inspect", "r.pack"});
  EXPECT_NE(i.out.find("GCP.DNS.Zone.Modified.or.Deleted"), std::string::npos) << show(i);
  write("ev.ndjson", "{\"logName\": \"projects/p/logs/cloudaudit.googleapis.com%2Factivity\", \"insertId\": \"1\", "
                     "\"timestamp\": \"2024-10-02T09:00:00.120Z\", \"protoPayload\": {\"methodName\": "
                     "\"dns.managedZones.delete\", \"authenticationInfo\": {\"principalEmail\": \"m@example.com\"}, "
                     "\"requestMetadata\": {\"callerIp\": \"198.51.100.40\"}}}\n");
  Result a = run({"run", "--pack", "r.pack", "--allow-unsigned", "ev.ndjson"});
  EXPECT_EQ(a.status, 0) << show(a);
  EXPECT_NE(a.out.find("\"rule\":\"GCP.DNS.Zone.Modified.or.Deleted\""), std::string::npos) << show(a);
}

TEST_F(Cli, SyntaxErrorsExitOne) {
  write("bad.braid", kBroken);
  Result r = run({"check", "--color", "never", "bad.braid"});
  EXPECT_EQ(r.status, 1) << show(r);
  EXPECT_NE(r.out.find("bad.braid:"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("error[BRD00"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find(" | "), std::string::npos) << show(r);  // a source snippet
  EXPECT_NE(r.out.find('^'), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("error"), std::string::npos);
  EXPECT_EQ(r.err.find("checked"), std::string::npos) << "no clean summary when there are errors";
}

TEST_F(Cli, MissingPathIsAnInputErrorWithTheOsReason) {
  write("ok.braid", kClean);
  Result r = run({"check", "--color", "never", "ok.braid", "missing.braid"});
  EXPECT_EQ(r.status, 2) << show(r);
  EXPECT_NE(r.out.find("error[BRD0901]: cannot read `missing.braid`: No such file or directory"), std::string::npos)
      << show(r);
}

TEST_F(Cli, NoBraidFilesIsAnInputError) {
  write("empty/README", "nothing here");
  Result r = run({"check", "--color", "never", "empty"});
  EXPECT_EQ(r.status, 2) << show(r);
  EXPECT_NE(r.out.find("error[BRD0902]"), std::string::npos) << show(r);
}

TEST_F(Cli, FileOrderIsSortedAndDeterministic) {
  write("z/b.braid", kBroken);
  write("a.braid", kBroken);
  write("z/a.braid", kBroken);
  Result r1 = run({"check", "--color", "never", "z", "a.braid", "z/a.braid"});
  Result r2 = run({"check", "--color", "never", "a.braid", "z"});
  EXPECT_EQ(r1.status, 1) << show(r1);
  EXPECT_EQ(r1.out, r2.out);
  size_t a = r1.out.find("a.braid:"), za = r1.out.find("z/a.braid:"), zb = r1.out.find("z/b.braid:");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(za, std::string::npos);
  ASSERT_NE(zb, std::string::npos);
  EXPECT_LT(a, za);
  EXPECT_LT(za, zb);
}

TEST_F(Cli, ListPrintsTheRulesAsATableOrJson) {
  write("ok.braid", kClean);
  Result t = run({"check", "--list", "ok.braid"});
  EXPECT_EQ(t.status, 0) << show(t);
  EXPECT_EQ(t.out.rfind("ID", 0), 0u) << show(t);
  for (const char* col : {"SCOPE", "SEVERITY", "SOURCES", "TITLE"}) EXPECT_NE(t.out.find(col), std::string::npos);
  Result j = run({"check", "--list", "--format", "json", "ok.braid"});
  EXPECT_EQ(j.status, 0) << show(j);
  braid::testjson::Value v = braid::testjson::parse(j.out);
  EXPECT_EQ(v.at("version").num, 1);
  EXPECT_TRUE(v.at("rules").is_array());
}

// ---------------------------------------------------------------------------------------------------------------
// Output formats

void expect_valid_diagnostics_json(const std::string& text, size_t min_diags) {
  braid::testjson::Value v;
  try {
    v = braid::testjson::parse(text);
  } catch (const braid::testjson::JsonError& e) {
    ADD_FAILURE() << "invalid JSON: " << e.what() << "\n" << text;
    return;
  }
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.at("version").num, 1);
  const auto& ds = v.at("diagnostics");
  ASSERT_TRUE(ds.is_array());
  EXPECT_GE(ds.items.size(), min_diags);
  size_t errors = 0, warnings = 0;
  for (const auto& d : ds.items) {
    for (const char* k : {"code", "severity", "message", "file", "line", "column", "end_line", "end_column", "help",
                          "fix", "related"}) {
      EXPECT_TRUE(d.has(k)) << "diagnostic without `" << k << "`:\n" << text;
    }
    EXPECT_TRUE(braid::parse_code(d.at("code").str).has_value()) << d.at("code").str;
    errors += d.at("severity").str == "error";
    warnings += d.at("severity").str == "warning";
    EXPECT_TRUE(d.at("related").is_array());
    if (!d.at("file").is_null()) {
      EXPECT_TRUE(d.at("line").is_int());
      EXPECT_GE(d.at("line").num, 1);
      EXPECT_GE(d.at("column").num, 1);
    }
  }
  EXPECT_EQ(v.at("summary").at("errors").num, static_cast<double>(errors));
  EXPECT_EQ(v.at("summary").at("warnings").num, static_cast<double>(warnings));
}

TEST_F(Cli, JsonOutputIsValidJson) {
  write("bad.braid", kBroken);
  write("ok.braid", kClean);
  Result r = run({"check", "--format", "json", "bad.braid", "ok.braid"});
  EXPECT_EQ(r.status, 1) << show(r);
  expect_valid_diagnostics_json(r.out, 1);
  Result clean = run({"check", "--format", "json", "ok.braid"});
  EXPECT_EQ(clean.status, 0) << show(clean);
  expect_valid_diagnostics_json(clean.out, 0);
  Result io = run({"lint", "--format", "json", "nope"});
  EXPECT_EQ(io.status, 2) << show(io);
  expect_valid_diagnostics_json(io.out, 1);
}

TEST_F(Cli, JsonEscapesControlCharactersAndInvalidUtf8InMessages) {
  // A path with a quote, a tab, a control character and an invalid byte ends up in the BRD0901 message.
  std::string name = "we\"ird\t\x01\xff.braid";
  Result r = run({"check", "--format", "json", name});
  EXPECT_EQ(r.status, 2) << show(r);
  braid::testjson::Value v = braid::testjson::parse(r.out);  // throws on invalid JSON
  std::string msg = v.at("diagnostics").items.at(0).at("message").str;
  EXPECT_NE(msg.find("we\"ird\t\x01\xEF\xBF\xBD.braid"), std::string::npos) << msg;
  EXPECT_NE(r.out.find("\\u0001"), std::string::npos);
  EXPECT_NE(r.out.find("\\ufffd"), std::string::npos);
}

TEST_F(Cli, SarifOutputHasTheStructureOfSarif210) {
  write("rules/bad.braid", kBroken);
  Result r = run({"check", "--format", "sarif", "rules", "missing.braid"});
  EXPECT_EQ(r.status, 2) << show(r);
  braid::testjson::Value log = braid::testjson::parse(r.out);
  std::vector<std::string> errors = braid::testjson::SarifValidator().validate(log);
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_TRUE(errors.empty()) << all << r.out;
  EXPECT_EQ(log.at("version").str, "2.1.0");
  EXPECT_EQ(log.at("$schema").str, "https://json.schemastore.org/sarif-2.1.0.json");
  const auto& run0 = log.at("runs").items.at(0);
  EXPECT_EQ(run0.at("tool").at("driver").at("name").str, "braid");
  EXPECT_EQ(run0.at("tool").at("driver").at("version").str, BRAID_VERSION_STRING);
  EXPECT_FALSE(run0.at("tool").at("driver").at("rules").items.empty());
  bool saw_file = false;
  for (const auto& res : run0.at("results").items) {
    if (!res.has("locations")) continue;
    const auto& al = res.at("locations").items.at(0).at("physicalLocation").at("artifactLocation");
    EXPECT_EQ(al.at("uri").str, "rules/bad.braid");
    EXPECT_EQ(al.at("uriBaseId").str, "%SRCROOT%");
    saw_file = true;
  }
  EXPECT_TRUE(saw_file) << r.out;
  // Absolute paths under the working directory become relative URIs too.
  Result abs = run({"check", "--format", "sarif", path("rules/bad.braid").string()});
  EXPECT_NE(abs.out.find("\"uri\": \"rules/bad.braid\""), std::string::npos) << abs.out;
  EXPECT_TRUE(braid::testjson::SarifValidator().validate(braid::testjson::parse(abs.out)).empty());
}

TEST_F(Cli, ColourFollowsTheFlagTtyAndNoColor) {
  write("bad.braid", kBroken);
  EXPECT_NE(run({"check", "--color", "always", "bad.braid"}).out.find("\x1b["), std::string::npos);
  EXPECT_NE(run({"check", "--color", "always", "bad.braid"}, {"NO_COLOR=1"}).out.find("\x1b["), std::string::npos)
      << "--color always overrides NO_COLOR";
  EXPECT_EQ(run({"check", "--color", "never", "bad.braid"}).out.find('\x1b'), std::string::npos);
  EXPECT_EQ(run({"check", "bad.braid"}).out.find('\x1b'), std::string::npos) << "stdout is not a terminal";
  EXPECT_EQ(run({"check", "--format", "json", "--color", "always", "bad.braid"}).out.find('\x1b'), std::string::npos);
}

// Every golden case's input, rendered as JSON and SARIF, is valid: this covers every diagnostic the compiler can
// produce (fixes, related locations, file-less problems), not only the ones built above.
TEST_F(Cli, JsonAndSarifAreValidForEveryGoldenCase) {
  size_t cases = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(BRAID_GOLDEN_DIR)) {
    std::string code = e.path().filename().string();
    if (!e.is_directory() || code.rfind("BRD", 0) != 0 || !fs::exists(e.path() / "input.braid")) continue;
    ++cases;
    SCOPED_TRACE(code);
    fs::remove_all(dir_);
    fs::copy(e.path(), dir_, fs::copy_options::recursive);
    std::vector<std::string> args = {code.rfind("BRD08", 0) == 0 ? "lint" : "check"};
    std::string extra = fs::exists(dir_ / "args") ? slurp(dir_ / "args") : "input.braid";
    std::istringstream words(extra);
    for (std::string w; words >> w;) args.push_back(w);
    for (const char* format : {"json", "sarif"}) {
      std::vector<std::string> a = args;
      a.push_back("--format");
      a.push_back(format);
      Result r = run(a);
      EXPECT_LE(r.status, 2) << code << " " << format << "\n" << show(r);
      EXPECT_EQ(r.signal, 0) << code << " " << format << "\n" << show(r);
      if (r.status < 0) continue;
      if (std::string(format) == "json") {
        expect_valid_diagnostics_json(r.out, 1);
        continue;
      }
      braid::testjson::Value log;
      ASSERT_NO_THROW(log = braid::testjson::parse(r.out)) << code << "\n" << r.out;
      std::vector<std::string> errors = braid::testjson::SarifValidator().validate(log);
      std::string all;
      for (const auto& x : errors) all += x + "\n";
      EXPECT_TRUE(errors.empty()) << code << ":\n" << all << r.out;
      EXPECT_NE(r.out.find("\"ruleId\": \"" + code + "\""), std::string::npos) << code << "\n" << r.out;
    }
  }
  EXPECT_GT(cases, 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// lint

TEST_F(Cli, LintOnCleanInputExitsZero) {
  write("ok.braid", kClean);
  Result r = run({"lint", "ok.braid"});
  EXPECT_EQ(r.status, 0) << show(r);
  Result s = run({"lint", "--strict", "ok.braid"});
  EXPECT_EQ(s.status, 0) << show(s);
  Result b = run({"lint", "--strict", "--color", "never", "missing"});
  EXPECT_EQ(b.status, 2) << show(b);
}

// ---------------------------------------------------------------------------------------------------------------
// fmt

const char* kUnformatted = "list   cli.things=[ \"a\",\"b\" ]\n";

TEST_F(Cli, FmtCheckReportsFilesThatWouldChangeAndWritesNothing) {
  write("u.braid", kUnformatted);
  Result r = run({"fmt", "--check", "u.braid"});
  EXPECT_EQ(r.status, 1) << show(r);
  EXPECT_NE(r.out.find("u.braid"), std::string::npos) << show(r);
  EXPECT_EQ(slurp(path("u.braid")), kUnformatted) << "--check must not write";

  Result d = run({"fmt", "--diff", "u.braid"});
  EXPECT_EQ(d.status, 0) << show(d);
  EXPECT_NE(d.out.find("--- u.braid\n+++ u.braid\n@@ "), std::string::npos) << show(d);
  EXPECT_NE(d.out.find("\n-list   cli.things"), std::string::npos) << show(d);
  EXPECT_EQ(slurp(path("u.braid")), kUnformatted) << "--diff must not write";
}

TEST_F(Cli, FmtWritesInPlaceAndIsIdempotent) {
  write("u.braid", kUnformatted);
  Result r = run({"fmt", "u.braid"});
  EXPECT_EQ(r.status, 0) << show(r);
  std::string once = slurp(path("u.braid"));
  EXPECT_NE(once, kUnformatted);
  Result again = run({"fmt", "--check", "u.braid"});
  EXPECT_EQ(again.status, 0) << "formatting is not idempotent\n" << show(again) << once;
  EXPECT_EQ(slurp(path("u.braid")), once);
}

TEST_F(Cli, FmtRefusesFilesWithSyntaxErrors) {
  write("bad.braid", kBroken);
  Result r = run({"fmt", "bad.braid"});
  EXPECT_EQ(r.status, 1) << show(r);
  EXPECT_NE(r.err.find("syntax errors"), std::string::npos) << show(r);
  EXPECT_EQ(slurp(path("bad.braid")), kBroken);
  Result m = run({"fmt", "--check", "missing.braid"});
  EXPECT_EQ(m.status, 2) << show(m);
}

// ---------------------------------------------------------------------------------------------------------------
// explain

TEST_F(Cli, ExplainPrintsTheLongText) {
  Result r = run({"explain", "BRD0901"});
  EXPECT_EQ(r.status, 0) << show(r);
  const braid::CodeInfo& info = braid::code_info(braid::Code::BRD0901);
  EXPECT_NE(r.out.find(std::string(info.title)), std::string::npos) << show(r);
  EXPECT_NE(r.out.find(std::string(info.text)), std::string::npos) << show(r);
  EXPECT_EQ(run({"explain", "brd0901"}).status, 0);
  EXPECT_EQ(run({"explain", "cannot-read"}).out, r.out);  // by name
}

TEST_F(Cli, ExplainUnknownCodeSuggestsTheNearestOne) {
  Result r = run({"explain", "BRD0911"});
  EXPECT_EQ(r.status, 2) << show(r);
  EXPECT_NE(r.err.find("unknown diagnostic code `BRD0911`"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("did you mean `BRD09"), std::string::npos) << show(r);
  Result far = run({"explain", "completely-unrelated-words"});
  EXPECT_EQ(far.status, 2);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << show(far);
}

TEST_F(Cli, ExplainListHasEveryCode) {
  Result r = run({"explain", "--list"});
  EXPECT_EQ(r.status, 0) << show(r);
  size_t n = 0;
  const braid::CodeInfo* codes = braid::all_codes(&n);
  for (size_t i = 0; i < n; ++i) EXPECT_NE(r.out.find(std::string(codes[i].id)), std::string::npos) << codes[i].id;
}

}  // namespace
