// `braid check PATH...` (and `--list`): parse and check rules; the diagnostics are the output, on stdout, as text,
// JSON or SARIF (--format). `braid lint` (verbs/lint.cpp) is this verb with the linter on.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/render.h"
#include "driver/driver.h"
#include "verbs.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::cli {

namespace {

enum class Format { Text, Json, Sarif };
Format parse_format(const std::string& s) {
  if (s == "json") return Format::Json;
  if (s == "sarif") return Format::Sarif;
  return Format::Text;
}

RenderOptions render_options(const Globals& g, int fd) {
  RenderOptions o;
  o.color = use_color(g.color, fd);
  o.tool_version = BRAID_VERSION;
  return o;
}

std::string render(Format f, const std::vector<Diagnostic>& diags, const SourceManager& sm,
                   const RenderOptions& o) {
  switch (f) {
    case Format::Json: return render_json(diags, sm, o);
    case Format::Sarif: return render_sarif(diags, sm, o);
    case Format::Text: return render_text(diags, sm, o);
  }
  return {};
}

std::string plural(size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

void print_rule_table(const std::vector<RuleSummary>& rules) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "SCOPE", "SEVERITY", "SOURCES", "TITLE"});
  for (const RuleSummary& r : rules) {
    std::string sources;
    for (size_t i = 0; i < r.sources.size(); ++i) sources += (i ? "," : "") + r.sources[i];
    rows.push_back({r.id, r.scope, r.severity.empty() ? "-" : r.severity, sources.empty() ? "-" : sources,
                    r.title + (r.enabled ? "" : " (disabled)") + (r.tuned ? " (tuned)" : "")});
  }
  std::vector<size_t> width(5, 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string s;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < 4; ++c) line += fmt::format("{:<{}}  ", row[c], width[c]);
    line += row[4];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += sanitize_utf8(line) + "\n";
  }
  out(s);
}

void print_rule_json(const std::vector<RuleSummary>& rules) {
  std::string s;
  JsonWriter w(s);
  w.begin_object();
  w.key("version");
  w.value(1);
  w.key("rules");
  w.begin_array();
  for (const RuleSummary& r : rules) {
    w.begin_object();
    w.key("id");
    w.value(r.id);
    w.key("scope");
    w.value(r.scope);
    w.key("severity");
    if (r.severity.empty()) w.null(); else w.value(r.severity);
    w.key("sources");
    w.begin_array();
    for (const std::string& src : r.sources) w.value(src);
    w.end_array();
    w.key("title");
    w.value(r.title);
    w.key("enabled");
    w.value(r.enabled);
    w.key("tuned");
    w.value(r.tuned);
    w.key("file");
    w.value(r.file);
    w.key("line");
    w.value(r.line);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out(s);
}

}  // namespace

int run_check(const Globals& g, const std::vector<std::string>& paths, bool list, bool lint, bool strict,
              bool costly) {
  Format f = parse_format(g.format);
  if (list && f == Format::Sarif) throw UsageError{"--list prints text or JSON, not SARIF"};

  DriverOptions opts;
  opts.run_lint = lint;
  opts.lint_costly = costly;
  auto c = compile(paths, opts);
  const auto& diags = c->diags.all();
  size_t errors = c->diags.error_count(), warnings = c->diags.warning_count();

  bool show_rules = list && errors == 0;
  // With --list and a clean check, text output shows any warnings before the table; JSON output is the one
  // rules document.
  if (!(show_rules && f == Format::Json)) out(render(f, diags, c->sm, render_options(g, STDOUT_FILENO)));
  if (show_rules) {
    if (f == Format::Json) print_rule_json(c->rules()); else print_rule_table(c->rules());
  }

  if (f == Format::Text && errors == 0) {
    err(fmt::format("{} {}, {} in {}: {}\n", lint ? "linted" : "checked", plural(c->rules().size(), "rule"),
                    plural(c->source_count(), "source"), plural(c->user_files.size(), "file"),
                    summary_text(errors, warnings)));
  }
  if (c->input_error) return kExitUsage;
  if (errors != 0) return kExitFindings;
  if (strict && warnings != 0) return kExitFindings;
  return kExitClean;
}

VerbAction add_check_verb(CLI::App& sub) {
  struct Options {
    std::vector<std::string> paths;
    bool list = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("paths", o->paths, "Files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  sub.add_flag("--list", o->list, "After a clean check, print the rules (id, scope, severity, sources, title)");
  sub.fallthrough();
  return [o](const Globals& g) { return run_check(g, o->paths, o->list, false, false, false); };
}

}  // namespace braid::cli
