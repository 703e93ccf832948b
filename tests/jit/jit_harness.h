// Shared helpers of the JIT tests: a test source with fields of every kind, building programs from Braid text
// (tests/runtime/harness.h), compiling them with codegen + the JIT, and running the engine with either matcher.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "codegen/codegen.h"
#include "engine/matcher.h"
#include "harness.h"
#include "ir/match_plan.h"
#include "jit/jit.h"

namespace braid::jittest {

using rt::test::Built;

// j.src: one field per kind the JIT lowers natively or hands to a helper. j.alt: a second source with a
// `recognize` that is not a plain equality (routing through the JIT's recognize function).
inline const char* kJitSources = R"(
source j.src {
  recognize src == "j"
  time ts
  id id
  identity user
  session gap 30m max 2h
  fields {
    src: string, ts: time, id?: string, user?: string,
    eventName?: string, eventSource?: string,
    s?: string, s2?: string, nc?: string nocase, i?: int, i2?: int, f?: float, t2?: time, d?: duration,
    ip?: ip, ip2?: ip, b?: bool, o?: object,
    items?: [{ v?: string, n?: int, subs?: [{ w?: string, k?: int }] }],
    tags?: [string], nums?: [int], ...
  }
}

source j.alt {
  recognize (src in ["alt", "alt2"] and not (kind == "skip")) or kind startswith "alt-"
  time ts
  id id
  identity user
  session gap 30m max 2h
  fields { src?: string, ts: time, id?: string, user?: string, kind?: string, s?: string, i?: int }
}
)";

inline std::string meta(const std::string& id, const std::string& sources = "j.src") {
  return "  title \"" + id + "\"\n  severity high\n  attack T1078\n  source " + sources + "\n  message \"m\"\n";
}

// An event rule `id` over `sources` with condition `cond`.
inline std::string event_rule(const std::string& id, const std::string& cond, const std::string& sources = "j.src") {
  return "rule " + id + " {\n" + meta(id, sources) + "  when " + cond + "\n}\n";
}

inline std::unique_ptr<Built> build_rules(const std::string& rules) {
  return rt::test::build({std::string(kJitSources) + rules});
}

// A fresh, empty directory under the test temp dir (mode 0700), unique per test and tag.
inline std::filesystem::path fresh_dir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path d = std::filesystem::path(::testing::TempDir()) /
                            ("braid-jit-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" + tag);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  std::filesystem::permissions(d, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  return d;
}

// Lowers and JIT-compiles `p` (no object cache). Fails the test (and returns nullptr) on any error.
inline std::unique_ptr<rt::JitProgram> jit_compile(const ir::Program& p, int opt_level = rt::kDefaultJitOptLevel) {
  codegen::CodegenResult cg = codegen::lower_program(p);
  EXPECT_TRUE(cg.ok()) << cg.error_rule << ": " << cg.error;
  if (!cg.ok()) return nullptr;
  rt::JitOptions o;
  o.use_cache = false;
  o.opt_level = opt_level;
  std::string error;
  auto jit = rt::JitProgram::load(p, cg.bitcode, o, error);
  EXPECT_TRUE(jit) << error;
  return jit;
}

// The (rule, event id) pairs that fired, and the rendered alerts.
struct Fired {
  std::set<std::pair<std::string, std::string>> hits;
  std::vector<std::string> rendered;
  rt::EngineStats stats;
};

inline Fired run_engine(const ir::Program& p, const std::vector<std::string>& events,
                        std::shared_ptr<rt::PredicateMatcher> matcher) {
  rt::EngineOptions o;
  o.matcher = std::move(matcher);
  rt::test::Result r = rt::test::run(p, events, o);
  Fired f;
  for (const rt::Alert& a : r.alerts) {
    f.hits.emplace(a.rule, a.event_id.value_or("<none>"));
    f.rendered.push_back(rt::render_alert_json(a));
  }
  f.stats = r.stats;
  return f;
}

}  // namespace braid::jittest
