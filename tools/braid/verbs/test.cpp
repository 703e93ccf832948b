// braid test: runs every rule's embedded tests with the reference engine and compares the alerts with the
// expectations (none / N / partial alerts).
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/render.h"
#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "ir/ir.h"
#include "jit_setup.h"
#include "json_tree.h"
#include "verbs.h"

namespace braid::cli {

namespace {

// Actual alerts printed in full under a failing test (the JSON report has them all).
constexpr size_t kShownAlerts = 5;

struct Unmatched {
  size_t expected_index = 0;
  std::optional<size_t> closest;            // the actual alert that differs least
  std::vector<json::Mismatch> mismatches;   // against `closest`
};

struct Result {
  const ir::Rule* rule = nullptr;
  const ir::TestCase* test = nullptr;
  uint32_t line = 0;
  bool passed = false;
  std::vector<std::string> problems;   // why the events could not be trusted, or the expectation is broken
  std::string summary;                 // "expected 1 alert, got 0"
  std::vector<json::Value> alerts;     // actual, in firing order
  std::vector<json::Value> expected;   // Expect::Alerts
  std::vector<Unmatched> unmatched;
  std::vector<size_t> unexpected;      // actual alerts no expected alert matched
  std::vector<std::string> warnings;   // engine warnings (late events, ...)
};

std::string alerts_word(size_t n) { return fmt::format("{} alert{}", n, n == 1 ? "" : "s"); }

uint32_t line_of(const SourceManager& sm, const Span& span) {
  if (!span.valid() || span.file >= sm.size()) return 0;
  return sm.file(span.file).line_col(span.begin).line;
}

// Maximum bipartite matching (Kuhn): expected i may take actual j when adj[i][j].
bool augment(size_t i, const std::vector<std::vector<bool>>& adj, std::vector<int>& owner, std::vector<bool>& seen) {
  for (size_t j = 0; j < owner.size(); ++j) {
    if (!adj[i][j] || seen[j]) continue;
    seen[j] = true;
    if (owner[j] < 0 || augment(static_cast<size_t>(owner[j]), adj, owner, seen)) {
      owner[j] = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

void compare_alerts(Result& r) {
  const auto& exp = r.expected;
  const auto& act = r.alerts;
  std::vector<std::vector<bool>> adj(exp.size(), std::vector<bool>(act.size(), false));
  for (size_t i = 0; i < exp.size(); ++i) {
    for (size_t j = 0; j < act.size(); ++j) adj[i][j] = json::match(exp[i], act[j]).empty();
  }
  std::vector<int> owner(act.size(), -1);
  std::vector<bool> matched(exp.size(), false);
  for (size_t i = 0; i < exp.size(); ++i) {
    std::vector<bool> seen(act.size(), false);
    matched[i] = augment(i, adj, owner, seen);
  }
  for (size_t j = 0; j < act.size(); ++j) {
    if (owner[j] < 0) r.unexpected.push_back(j);
  }
  for (size_t i = 0; i < exp.size(); ++i) {
    if (matched[i]) continue;
    Unmatched u;
    u.expected_index = i;
    // Prefer the actual alerts nothing else matched; fall back to any.
    std::vector<size_t> pool = r.unexpected;
    if (pool.empty()) {
      for (size_t j = 0; j < act.size(); ++j) pool.push_back(j);
    }
    for (size_t j : pool) {
      std::vector<json::Mismatch> m = json::match(exp[i], act[j]);
      if (!u.closest || m.size() < u.mismatches.size()) {
        u.closest = j;
        u.mismatches = std::move(m);
      }
    }
    r.unmatched.push_back(std::move(u));
  }
  r.passed = r.unmatched.empty() && r.unexpected.empty();
  if (!r.passed) {
    r.summary = fmt::format("expected {}, got {}", alerts_word(exp.size()), act.size());
    if (!r.unmatched.empty()) {
      r.summary += fmt::format("; {} of the expected alerts matched no actual alert", r.unmatched.size());
    }
    if (!r.unexpected.empty()) r.summary += fmt::format("; {} actual alert(s) were not expected", r.unexpected.size());
  }
}

Result run_one(const ir::Program& prog, const SourceManager& sm, const ir::Rule& rule, const ir::TestCase& tc,
               const TestOptions& o, const PreparedEngine& pe) {
  Result r;
  r.rule = &rule;
  r.test = &tc;
  r.line = line_of(sm, tc.span);

  rt::EngineOptions eo;
  eo.only_rules = {rule.id};
  eo.include_disabled = true;
  eo.processing_time = 0;
  if (o.engine.distinct_bound) eo.distinct_bound = *o.engine.distinct_bound;
  eo.on_warning = [&](const std::string& w) { r.warnings.push_back(w); };
  eo.matcher = pe.matcher();
  rt::Engine engine(prog, eo);
  std::vector<std::string> raw;
  engine.set_sink([&](const rt::Alert& a) { raw.push_back(rt::render_alert_json(a)); });

  for (const ir::TestCase::Events& ev : tc.events) {
    std::string where = fmt::format("{}:{}", rule.file_path, line_of(sm, ev.span));
    if (!ev.file.empty()) {
      if (!engine.process_inputs({ev.file})) {
        r.problems.push_back(fmt::format("cannot read the events file `{}`", ev.file));
      }
    } else {
      engine.process_json_array(ev.json, where);
    }
  }
  engine.finish();

  const rt::EngineStats& s = engine.stats();
  if (s.malformed) {
    r.problems.push_back(fmt::format("{} of the test's {} events are malformed (not JSON objects)", s.malformed,
                                     s.records_read));
  }
  if (s.unrouted) {
    r.problems.push_back(fmt::format("{} of the test's events matched no source's `recognize` (unrouted)",
                                     s.unrouted));
  }
  if (s.no_time) {
    r.problems.push_back(fmt::format("{} of the test's events have no time (skipped)", s.no_time));
  }
  if (s.records_read == 0 && r.problems.empty()) r.problems.push_back("the test feeds no events");
  uint64_t reached = 0;
  std::string names;
  for (uint32_t si : rule.sources) {
    const std::string& name = prog.sources[si].name;
    names += (names.empty() ? "" : ", ") + name;
    for (const rt::SourceStats& ss : s.sources) {
      if (ss.name == name) reached += ss.events;
    }
  }
  if (reached == 0 && s.events_parsed > 0 && r.problems.empty()) {
    r.problems.push_back(fmt::format("none of the test's events reached the rule's source(s) ({})", names));
  }

  for (const std::string& line : raw) {
    std::string error;
    auto v = json::parse(line, &error);
    if (!v) {
      r.problems.push_back(fmt::format("internal error: an alert is not valid JSON ({})", error));
      continue;
    }
    r.alerts.push_back(std::move(*v));
  }

  switch (tc.expect) {
    case ir::TestCase::Expect::Unspecified:
      r.problems.push_back("the test has no `expect`");
      break;
    case ir::TestCase::Expect::None:
      r.passed = r.alerts.empty();
      if (!r.passed) r.summary = fmt::format("expected no alert, got {}", r.alerts.size());
      for (size_t j = 0; j < r.alerts.size(); ++j) r.unexpected.push_back(j);
      break;
    case ir::TestCase::Expect::Count:
      r.passed = static_cast<int64_t>(r.alerts.size()) == tc.count;
      if (!r.passed) r.summary = fmt::format("expected {}, got {}", alerts_word(static_cast<size_t>(tc.count)),
                                             r.alerts.size());
      break;
    case ir::TestCase::Expect::Alerts: {
      std::string error;
      auto v = json::parse(tc.alerts_json, &error);
      if (!v || v->kind != json::Value::Kind::Array) {
        r.problems.push_back(fmt::format("the expected alerts are not a JSON array ({})", error));
        break;
      }
      r.expected = std::move(v->items);
      compare_alerts(r);
      break;
    }
  }
  if (!r.problems.empty()) r.passed = false;
  return r;
}

std::string indent_lines(const std::string& text, size_t n) {
  std::string pad(n, ' ');
  std::string o = pad;
  for (char ch : text) {
    o += ch;
    if (ch == '\n') o += pad;
  }
  return o;
}

std::string failure_text(const Result& r) {
  std::string o;
  const std::string pad = "     ";
  o += fmt::format("{}at {}:{}\n", pad, r.rule->file_path, r.line);
  for (const std::string& p : r.problems) o += fmt::format("{}{}\n", pad, sanitize_utf8(p));
  if (!r.summary.empty()) o += fmt::format("{}{}\n", pad, r.summary);
  for (const Unmatched& u : r.unmatched) {
    o += fmt::format("{}expected alert [{}]: {}\n", pad, u.expected_index + 1, sanitize_utf8(json::print(r.expected[u.expected_index])));
    if (!u.closest) {
      o += fmt::format("{}  (there is no actual alert to compare it with)\n", pad);
      continue;
    }
    o += fmt::format("{}  closest actual alert [{}] differs in:\n", pad, *u.closest + 1);
    for (const json::Mismatch& m : u.mismatches) {
      std::string path = m.path.empty() ? "(the whole alert)" : m.path;
      o += fmt::format("{}    {}: expected {}\n", pad, path, sanitize_utf8(m.expected));
      o += fmt::format("{}    {}  actual   {}\n", pad, std::string(path.size(), ' '),
                       m.actual ? sanitize_utf8(*m.actual) : std::string("(missing)"));
    }
  }
  if (!r.unexpected.empty() && r.test->expect == ir::TestCase::Expect::Alerts) {
    std::string list;
    for (size_t j : r.unexpected) list += fmt::format("{}[{}]", list.empty() ? "" : ", ", j + 1);
    o += fmt::format("{}not expected: actual alert {}\n", pad, list);
  }
  if (r.alerts.empty()) {
    o += fmt::format("{}actual alerts: none\n", pad);
  } else {
    o += fmt::format("{}actual alerts ({}):\n", pad, r.alerts.size());
    for (size_t j = 0; j < r.alerts.size() && j < kShownAlerts; ++j) {
      o += fmt::format("{}[{}] ", pad, j + 1);
      std::string body = indent_lines(json::print(r.alerts[j], 2), pad.size() + 4);
      o += sanitize_utf8(body.substr(pad.size() + 4)) + "\n";
    }
    if (r.alerts.size() > kShownAlerts) {
      o += fmt::format("{}... and {} more (see `braid test --format json`)\n", pad, r.alerts.size() - kShownAlerts);
    }
  }
  if (!r.warnings.empty()) {
    o += fmt::format("{}engine warnings:\n", pad);
    for (const std::string& w : r.warnings) o += fmt::format("{}  {}\n", pad, sanitize_utf8(w));
  }
  return o;
}

void json_string_array(std::string& o, const std::vector<std::string>& v) {
  o += '[';
  for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + json::quote(v[i]);
  o += ']';
}

std::string result_json(const Result& r) {
  using json::quote;
  std::string o = "{";
  o += fmt::format("\"rule\":{},\"name\":{},\"file\":{},\"line\":{},\"passed\":{}", quote(r.rule->id),
                   quote(r.test->name), quote(r.rule->file_path), r.line, r.passed ? "true" : "false");
  o += ",\"expect\":";
  switch (r.test->expect) {
    case ir::TestCase::Expect::Unspecified: o += "null"; break;
    case ir::TestCase::Expect::None: o += "{\"kind\":\"none\"}"; break;
    case ir::TestCase::Expect::Count: o += fmt::format("{{\"kind\":\"count\",\"count\":{}}}", r.test->count); break;
    case ir::TestCase::Expect::Alerts: {
      o += "{\"kind\":\"alerts\",\"alerts\":[";
      for (size_t i = 0; i < r.expected.size(); ++i) o += (i ? "," : "") + json::print(r.expected[i]);
      o += "]}";
      break;
    }
  }
  o += ",\"summary\":" + (r.summary.empty() ? std::string("null") : quote(r.summary));
  o += ",\"problems\":";
  json_string_array(o, r.problems);
  o += ",\"unmatched\":[";
  for (size_t i = 0; i < r.unmatched.size(); ++i) {
    const Unmatched& u = r.unmatched[i];
    o += fmt::format("{}{{\"expected_index\":{},\"closest_actual\":{},\"mismatches\":[", i ? "," : "",
                     u.expected_index, u.closest ? std::to_string(*u.closest) : "null");
    for (size_t k = 0; k < u.mismatches.size(); ++k) {
      const json::Mismatch& m = u.mismatches[k];
      o += fmt::format("{}{{\"path\":{},\"expected\":{},\"actual\":{}}}", k ? "," : "", quote(m.path), m.expected,
                       m.actual ? *m.actual : "null");
    }
    o += "]}";
  }
  o += "],\"unexpected\":[";
  for (size_t i = 0; i < r.unexpected.size(); ++i) o += fmt::format("{}{}", i ? "," : "", r.unexpected[i]);
  o += "],\"alerts\":[";
  for (size_t i = 0; i < r.alerts.size(); ++i) o += (i ? "," : "") + json::print(r.alerts[i]);
  o += "],\"warnings\":";
  json_string_array(o, r.warnings);
  o += "}";
  return o;
}

}  // namespace

int run_test(const TestOptions& o) {
  std::vector<std::string> paths = default_rule_paths(o.paths, "test");
  // A rule's tests describe the rule as its author wrote it: the user's tunings (checked all the same) would make a
  // shipped rule's tests fail for the very changes they were made for (docs/language.md, 23.5).
  DriverOptions dopts;
  dopts.apply_tuning = false;
  int rc = kExitClean;
  auto c = compile_or_report(paths, dopts, o.color, "braid: not testing: the rules have errors (see `braid check`)\n",
                             rc);
  if (!c) return rc;
  const ir::Program& prog = *c->program;
  // One native compilation of the whole rule set serves every test (each gets its own matcher).
  std::unique_ptr<PreparedEngine> prepared = prepare_engine(prog, nullptr, EngineChoice{o.engine.engine, o.engine.jit_cache});
  if (!prepared) return kExitUsage;

  bool color = !o.json && use_color(o.color, STDOUT_FILENO);
  auto paint = [&](std::string_view text, std::string_view code) {
    return color ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : std::string(text);
  };

  std::vector<Result> results;
  std::vector<const ir::Rule*> untested;
  size_t rules_with_tests = 0, user_rules = 0;
  std::string text;
  for (const ir::Rule& rule : prog.rules) {
    bool stdlib = rule.file_path.rfind(kStdlibPathPrefix, 0) == 0;
    if (!stdlib) ++user_rules;
    if (rule.tests.empty()) {
      if (!stdlib) untested.push_back(&rule);
      continue;
    }
    ++rules_with_tests;
    for (const ir::TestCase& tc : rule.tests) {
      Result r;
      try {
        r = run_one(prog, c->sm, rule, tc, o, *prepared);
      } catch (const std::exception& e) {
        r.rule = &rule;
        r.test = &tc;
        r.line = line_of(c->sm, tc.span);
        r.passed = false;
        r.problems.push_back(fmt::format("internal error while running the test: {}", e.what()));
      }
      if (!o.json) {
        std::string line = fmt::format("{} {} :: {}\n", r.passed ? paint("ok  ", "32") : paint("FAIL", "1;31"),
                                       rule.id, sanitize_utf8(tc.name));
        if (!r.passed) line += failure_text(r);
        out(line);
      }
      results.push_back(std::move(r));
    }
  }

  size_t failed = 0;
  for (const Result& r : results) failed += r.passed ? 0 : 1;

  if (o.json) {
    std::string j = "{\"version\":1,\"tests\":[";
    for (size_t i = 0; i < results.size(); ++i) j += (i ? "," : "") + result_json(results[i]);
    j += "],\"untested_rules\":[";
    for (size_t i = 0; i < untested.size(); ++i) {
      const ir::Rule& r = *untested[i];
      j += fmt::format("{}{{\"id\":{},\"file\":{},\"line\":{},\"enabled\":{}}}", i ? "," : "", json::quote(r.id),
                       json::quote(r.file_path), line_of(c->sm, r.spans.rule), r.meta.enabled ? "true" : "false");
    }
    j += fmt::format("],\"summary\":{{\"tests\":{},\"passed\":{},\"failed\":{},\"rules\":{},\"rules_with_tests\":{},"
                     "\"rules_without_tests\":{}}}}}\n",
                     results.size(), results.size() - failed, failed, user_rules, rules_with_tests, untested.size());
    out(j);
  } else {
    std::string s;
    if (!untested.empty()) {
      s += fmt::format("\nrules without tests ({}):\n", untested.size());
      for (const ir::Rule* r : untested) {
        s += fmt::format("  {}  ({}:{}){}\n", r->id, r->file_path, line_of(c->sm, r->spans.rule),
                         r->meta.enabled ? "" : " (disabled)");
      }
    }
    s += fmt::format("\n{} test{}: {} passed, {}; {} rule{}, {} with tests, {} without\n", results.size(),
                     results.size() == 1 ? "" : "s", results.size() - failed,
                     failed ? paint(fmt::format("{} failed", failed), "1;31") : std::string("0 failed"), user_rules,
                     user_rules == 1 ? "" : "s", rules_with_tests, untested.size());
    out(s);
  }
  return failed ? kExitFindings : kExitClean;
}

VerbAction add_test_verb(CLI::App& sub) {
  auto o = std::make_shared<TestOptions>();
  sub.add_option("paths", o->paths, "Rule files or directories (default: rules/ when it exists)")->type_name("PATH");
  add_engine_flags(sub, o->engine);
  sub.fallthrough();
  return [o](const Globals& g) {
    if (g.format_given && g.format == "sarif") throw UsageError{"test reports as text or JSON, not SARIF"};
    o->json = g.format == "json";
    o->color = g.color;
    return run_test(*o);
  };
}

}  // namespace braid::cli
