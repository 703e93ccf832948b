// Test harness: builds a program from Braid text (parser + checker, optionally with the embedded standard
// library), runs events through the engine, and collects alerts and warnings.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "check/checker.h"
#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "input/convert.h"
#include "ir/ir.h"
#include "parser/parser.h"

namespace braid::rt::test {

// A source for the tests: sessions of `user` with `key`, minting `newkey` on kind == "mint".
inline const char* kTestSources = R"(
source t.src {
  recognize src == "t"
  time ts
  id id
  identity user
  credential key
  ip ip
  account acct
  session gap 30m max 2h
  lateness 10m
  mints newkey when kind == "mint"
  fields {
    src: string, ts: time, id?: string, user?: string, key?: string, ip?: ip, acct?: string, kind?: string,
    newkey?: string, name?: string nocase, opt?: string, n?: int, f?: float, flag?: bool,
    items?: [{ v?: string, n?: int }], tags?: [string], obj?: object, ...
  }
}

source t.now {
  recognize src == "now"
  time ts
  id id
  identity user
  credential key
  session gap 30m max 2h
  fields { src: string, ts: time, id?: string, user?: string, key?: string, kind?: string, n?: int, name?: string }
}

source t.idp {
  recognize src == "idp"
  time ts
  id id
  identity lower(user)
  credential sid
  session gap 1h max 12h
  link t.src within 10m {
    parent when kind == "sso" key lower(user)
    child when kind == "saml" key lower(name)
  }
  fields { src: string, ts: time, id?: string, user?: string, sid?: string, kind?: string }
}
)";

struct Built {
  SourceManager sm;
  DiagnosticSink diags;
  std::vector<ast::File> files;
  std::unique_ptr<ir::Program> prog;
};

// Parses and checks `texts` (each one file), with the standard library first when `stdlib` is set.
inline std::unique_ptr<Built> build(const std::vector<std::string>& texts, bool stdlib = false) {
  auto b = std::make_unique<Built>();
  std::vector<FileId> ids;
  if (stdlib)
    for (const auto& f : stdlib_files()) ids.push_back(b->sm.add(std::string(kStdlibPathPrefix) + std::string(f.path),
                                                                 std::string(f.text)));
  for (size_t i = 0; i < texts.size(); ++i) ids.push_back(b->sm.add("test" + std::to_string(i) + ".braid", texts[i]));
  for (FileId id : ids) b->files.push_back(parse_file(b->sm, id, b->diags));
  std::vector<const ast::File*> ptrs;
  for (const auto& f : b->files) ptrs.push_back(&f);
  if (!b->diags.has_errors()) b->prog = check(ptrs, b->sm, b->diags);
  if (b->diags.has_errors()) {
    std::string all;
    for (const auto& d : b->diags.all()) all += std::string(code_info(d.code).id) + ": " + d.message + "\n";
    ADD_FAILURE() << "the test program does not check:\n" << all;
    b->prog.reset();
  }
  return b;
}

// Minutes after 2024-01-01T10:00:00Z as RFC 3339 (fractions of minutes allowed).
inline std::string at(double minutes) {
  const int64_t base = 1704103200LL * 1000000000LL;
  return format_timestamp(base + static_cast<int64_t>(minutes * 60e9));
}
inline int64_t at_ns(double minutes) { return 1704103200LL * 1000000000LL + static_cast<int64_t>(minutes * 60e9); }

// An event of t.src: `extra` is more JSON members ("\"kind\":\"a\"") without braces.
inline std::string ev(double minutes, const std::string& user, const std::string& key, const std::string& extra = "",
                      const std::string& src = "t") {
  static int n = 0;
  std::string j = "{\"src\":\"" + src + "\",\"ts\":\"" + at(minutes) + "\",\"id\":\"e" + std::to_string(++n) + "\"";
  if (!user.empty()) j += ",\"user\":\"" + user + "\"";
  if (!key.empty()) j += ",\"key\":\"" + key + "\"";
  if (!extra.empty()) j += "," + extra;
  return j + "}";
}

struct Result {
  std::vector<Alert> alerts;
  std::vector<Alert> before_finish;  // alerts emitted before finish()
  std::vector<std::string> warnings;
  EngineStats stats;
  std::vector<ChainInfo> chains;
  size_t count(std::string_view rule) const {
    size_t c = 0;
    for (const auto& a : alerts) c += a.rule == rule;
    return c;
  }
  const Alert* first(std::string_view rule) const {
    for (const auto& a : alerts)
      if (a.rule == rule) return &a;
    return nullptr;
  }
};

inline Result run(const ir::Program& p, const std::vector<std::string>& events, EngineOptions o = {}) {
  Result r;
  o.processing_time = 0;
  o.on_warning = [&](const std::string& w) { r.warnings.push_back(w); };
  Engine e(p, o);
  e.set_sink([&](const Alert& a) { r.alerts.push_back(a); });
  uint64_t line = 0;
  for (const auto& j : events) e.process_json(j, "<test>", ++line);
  r.before_finish = r.alerts;
  e.finish();
  r.stats = e.stats();
  r.chains = e.chains();
  return r;
}

// A rule text: scope "event" uses `when`, else a session/chain block with `body`.
inline std::string rule(const std::string& id, const std::string& scope, const std::string& body,
                        const std::string& message = "m", const std::string& extra = "",
                        const std::string& sources = "t.src") {
  std::string s = "rule " + id + " {\n  title \"" + id + "\"\n  severity high\n  attack T1078\n  source " + sources +
                  "\n  message \"" + message + "\"\n" + extra + "\n";
  if (scope == "event") s += "  when " + body + "\n";
  else s += "  " + scope + " {\n" + body + "\n  }\n";
  return s + "}\n";
}

}  // namespace braid::rt::test
