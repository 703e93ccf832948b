// The language's second edition end to end (the real binary): `json(field, type)` (and the checker's errors for
// `+` on strings), and `braid run --include-disabled`.
//
// `json(field, type)` (the real binary, both engines): a document is parsed at most once per event
// however many rules read it, a document over the size limit or malformed reads as null and is counted as a type
// mismatch, and the JIT and the interpreter agree. The semantics themselves are in tests/semantics/json.braid.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "json.h"

namespace {

namespace fs = std::filesystem;
using braid::testjson::Parser;
using braid::testjson::Value;

const std::string kSrc = BRAID_SOURCE_DIR;
constexpr size_t kMaxJsonDocument = 128 * 1024;  // rt::Preparer::kMaxJsonDocument, docs/language.md

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
               ("braid-jsondoc-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Result braid(const fs::path& dir, const std::string& args) {
  fs::path out = dir / "stdout", err = dir / "stderr";
  std::string cmd = "cd '" + kSrc + "' && BRAID_CACHE_DIR='" + (dir / "cache").string() + "' '" +
                    std::string(BRAID_EXE) + "' " + args + " >'" + out.string() + "' 2>'" + err.string() +
                    "' </dev/null";
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

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

double mismatches(const Result& r) {
  std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  return Parser(last).parse_document().at("type_mismatches").num;
}

// Three rules read one document: a malformed one counts one type mismatch per event, not three.
constexpr const char* kRules = R"(
source t.doc {
  recognize src == "doc"
  time ts
  id id
  identity user
  session gap 10m max 1h
  fields { src: string, ts: time, id: string, user: string, doc?: string }
}
type t.policy = { S?: [{ E?: string, ... }], V?: string, ... }
rule t.allow { title "a" severity low source t.doc when json(doc, t.policy).S[*].E == "Allow" message "{id}" }
rule t.deny { title "d" severity low source t.doc when json(doc, t.policy).S[*].E == "Deny" message "{id}" }
rule t.version { title "v" severity low source t.doc when json(doc, t.policy).V == "1" message "{id}" }
)";

std::string event(const std::string& id, const std::string& doc_json_text) {
  std::string esc;
  for (char c : doc_json_text) {
    if (c == '"' || c == '\\') esc += '\\';
    esc += c;
  }
  return R"({"src": "doc", "ts": "2024-01-01T00:00:00Z", "user": "u", "id": ")" + id + R"(", "doc": ")" + esc +
         "\"}\n";
}

// A valid document of exactly `size` bytes whose statement allows.
std::string doc_of_size(size_t size) {
  std::string head = R"({"S": [{"E": "Allow"}], "pad": ")", tail = "\"}";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

TEST(JsonDoc, ParsedOncePerEventAndBounded) {
  fs::path d = temp_dir();
  std::ofstream(d / "rules.braid") << kRules;
  {
    std::ofstream ev(d / "events.ndjson");
    ev << event("good", R"({"S": [{"E": "Allow"}, {"E": "Deny"}], "V": "1"})");
    ev << event("malformed", R"({"S": [{"E": "Allow"})");
    ev << event("at_limit", doc_of_size(kMaxJsonDocument));
    ev << event("over_limit", doc_of_size(kMaxJsonDocument + 1));
  }
  std::string out;
  for (const char* engine : {"jit", "interp"}) {
    Result r = braid(d, std::string("run --engine ") + engine + " --stats-format json --rules '" +
                            (d / "rules.braid").string() + "' '" + (d / "events.ndjson").string() + "'");
    ASSERT_EQ(r.code, 0) << show(r);
    // good: three rules; at_limit: allow; malformed and over_limit: nothing.
    EXPECT_EQ(count_lines(r.out), 4u) << show(r);
    EXPECT_NE(r.out.find("\"message\":\"at_limit\""), std::string::npos) << show(r);
    EXPECT_EQ(r.out.find("malformed"), std::string::npos) << show(r);
    EXPECT_EQ(r.out.find("over_limit"), std::string::npos) << show(r);
    // One rejected parse per event (malformed, over_limit), however many rules read the document.
    EXPECT_EQ(mismatches(r), 2) << show(r);
    std::string alerts;
    for (size_t p = 0, e; (e = r.out.find('\n', p)) != std::string::npos; p = e + 1) {
      std::string l = r.out.substr(p, e - p);
      size_t t = l.find("\"processing_time\":\"");
      if (t != std::string::npos) l.erase(t, l.find('"', t + 19) + 2 - t);
      alerts += l + "\n";
    }
    if (out.empty()) out = alerts;
    else EXPECT_EQ(alerts, out) << "the JIT and the interpreter disagree";
  }
  // Through a rule pack: the paths into the document (and their base) survive the pack format.
  Result b = braid(d, "build '" + (d / "rules.braid").string() + "' -o '" + (d / "rules.braidpack").string() + "'");
  ASSERT_EQ(b.code, 0) << show(b);
  Result p = braid(d, "run --pack '" + (d / "rules.braidpack").string() + "' --allow-unsigned '" +
                          (d / "events.ndjson").string() + "'");
  ASSERT_EQ(p.code, 0) << show(p);
  EXPECT_EQ(count_lines(p.out), 4u) << show(p);
}

TEST(JsonDoc, CheckerErrors) {
  fs::path d = temp_dir();
  std::ofstream(d / "bad.braid") << R"(
source t.doc {
  recognize src == "doc"
  time ts
  identity user
  session gap 10m max 1h
  fields { src: string, ts: time, user: string, doc?: string, n?: int, docs?: [string] }
}
type t.policy = { S?: [{ E?: string }] }
rule t.a { title "a" severity low source t.doc when json(doc, t.polcy).S[*].E == "Allow" }
rule t.b { title "b" severity low source t.doc when json(doc, t.policy).S[*].X == "Allow" }
rule t.c { title "c" severity low source t.doc when json(n, t.policy).S[*].E == "Allow" }
rule t.d { title "d" severity low source t.doc when exists(json(doc, t.policy)) }
rule t.e { title "e" severity low source t.doc when json(docs[*], t.policy).S[*].E == "Allow" }
rule t.f { title "f" severity low source t.doc when any(doc == "x") }
rule t.g { title "g" severity low source t.doc when doc + n == "x" }
)";
  Result r = braid(d, "check '" + (d / "bad.braid").string() + "'");
  EXPECT_EQ(r.code, 1) << show(r);
  for (const char* want :
       {"unknown type `t.polcy`", "did you mean `t.policy`?", "unknown field `X` in `S[*]`",
        "`json` takes a string field of the event, but this is `int`", "`json(...)` is a document", "did you mean `E`?",
        "cannot contain `[*]`", "reads no `[*]` path", "cannot apply `+` to `string` and `int`"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << show(r);
}

// `enabled false` rules: skipped by `braid run` with one note on stderr, run with --include-disabled.
TEST(RunDisabled, NoteThenFlag) {
  fs::path d = temp_dir();
  std::ofstream(d / "rules.braid") << R"(
source t.doc {
  recognize src == "doc"
  time ts
  identity user
  session gap 10m max 1h
  fields { src: string, ts: time, user: string }
}
rule t.off1 { title "o" severity low enabled false source t.doc when user == "u" message "off1" }
rule t.off2 { title "o" severity low enabled false source t.doc when user == "u" message "off2" }
rule t.on { title "o" severity low source t.doc when user == "u" message "on" }
)";
  std::ofstream(d / "events.ndjson") << R"({"src": "doc", "ts": "2024-01-01T00:00:00Z", "user": "u"})" << "\n"
                                     << R"({"src": "doc", "ts": "2024-01-01T00:00:01Z", "user": "u"})" << "\n";
  std::string args = "--rules '" + (d / "rules.braid").string() + "' '" + (d / "events.ndjson").string() + "'";
  Result skip = braid(d, "run " + args);
  ASSERT_EQ(skip.code, 0) << show(skip);
  EXPECT_EQ(count_lines(skip.out), 2u) << show(skip);
  EXPECT_EQ(skip.out.find("off"), std::string::npos) << show(skip);
  const std::string note = "braid: note: 2 rules marked `enabled false` are not run; --include-disabled runs them";
  EXPECT_NE(skip.err.find(note), std::string::npos) << show(skip);
  EXPECT_EQ(skip.err.find(note), skip.err.rfind(note)) << "said once";
  Result all = braid(d, "run --include-disabled " + args);
  ASSERT_EQ(all.code, 0) << show(all);
  EXPECT_EQ(count_lines(all.out), 6u) << show(all);
  EXPECT_EQ(all.err.find("note:"), std::string::npos) << show(all);
}

}  // namespace
