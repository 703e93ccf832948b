// braid: the command-line front end. One binary, one verb per task: check, lint, fmt, explain, run, test.
// Exit codes (also in `braid --help` and docs/cli.md):
//   0  clean (run: the run completed, even over malformed records; test: every test passed)
//   1  errors in the rules (or warnings with `lint --strict`, files `fmt --check` would change, failed tests)
//   2  usage problems, unreadable inputs, or an internal error
// Diagnostics go to stdout (they are the output of check and lint); progress and summaries go to stderr.
// `run` writes alerts to stdout (NDJSON) and its diagnostics, warnings and statistics to stderr; `test` writes its
// report to stdout. run and test are in run.cpp and test.cpp.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/codes.h"
#include "diag/render.h"
#include "diff.h"
#include "driver/driver.h"
#include "parser/parser.h"
#include "input/reader.h"
#include "sigma.h"
#include "verbs.h"

#include "format/formatter.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::cli {

void out(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
}
void err(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stderr);
}

bool use_color(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") return false;
  return ::isatty(fd) != 0;
}

namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0  clean: no errors (check), no errors (lint; warnings allowed unless --strict),\n"
    "     every file already formatted (fmt --check), the run completed (run, even over malformed\n"
    "     records), every test passed (test)\n"
    "  1  errors found; with lint --strict, warnings too; with fmt --check, files that would change;\n"
    "     fmt refused a file with syntax errors; run and test refuse rules with errors; a test failed\n"
    "     build refuses rules with errors; inspect and run --pack refuse an invalid, unsigned or\n"
    "     untrusted pack\n"
    "  2  usage error (bad flag, unknown verb or code), a path that is missing or unreadable,\n"
    "     no .braid files found, or an internal error\n"
    "  3  run --webhook: some alerts were neither delivered, nor dead-lettered, nor spooled";

enum class Format { Text, Json, Sarif };
enum class ColorMode { Auto, Always, Never };

struct Globals {
  std::string format = "text";
  std::string color = "auto";
  bool format_given = false;
};

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

// ---------------------------------------------------------------------------------------------------------------
// check

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

// ---------------------------------------------------------------------------------------------------------------
// fmt

bool write_file_atomically(const std::string& path, const std::string& text, std::string& error) {
  namespace fs = std::filesystem;
  fs::path p(path);
  fs::path tmp = p;
  tmp += fmt::format(".braid-fmt-{}.tmp", ::getpid());
  FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (!fp) {
    error = std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), fp) == text.size();
  ok = (std::fclose(fp) == 0) && ok;
  struct stat st {};
  if (ok && ::stat(p.c_str(), &st) == 0) ::chmod(tmp.c_str(), st.st_mode & 07777);
  if (!ok || std::rename(tmp.c_str(), p.c_str()) != 0) {
    error = std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

int run_fmt(const Globals& g, const std::vector<std::string>& paths, bool check, bool diff) {
  if (g.format_given && g.format != "text") throw UsageError{"--format applies to check and lint, not fmt"};
  DiagnosticSink input;
  std::vector<std::string> files = find_braid_files(paths, input);
  RenderOptions ro = render_options(g, STDERR_FILENO);
  if (input.has_errors()) {
    SourceManager none;
    err(render_text(input.all(), none, ro));
    return kExitUsage;
  }
  int rc = kExitClean;
  size_t changed = 0, refused = 0;
  for (const std::string& path : files) {
    std::string text, error;
    if (!read_file(path, text, error)) {
      err(fmt::format("braid: error[BRD0901]: cannot read `{}`: {}\n", path, error));
      rc = kExitUsage;
      continue;
    }
    SourceManager sm;
    FileId id = sm.add(path, text);
    DiagnosticSink diags;
    ast::File file = parse_file(sm, id, diags);
    if (diags.has_errors()) {
      diags.sort();
      RenderOptions quiet = ro;
      quiet.summary = false;
      err(render_text(diags.all(), sm, quiet));
      err(fmt::format("braid: not formatting `{}`: it has syntax errors\n", path));
      ++refused;
      if (rc == kExitClean) rc = kExitFindings;
      continue;
    }
    std::string formatted = format_file(file, sm);
    if (formatted == text) continue;
    ++changed;
    if (diff) out(unified_diff(path, text, formatted));
    if (check) {
      if (!diff) out(path + "\n");
      if (rc == kExitClean) rc = kExitFindings;
    } else if (!diff) {
      if (!write_file_atomically(path, formatted, error)) {
        err(fmt::format("braid: error[BRD0901]: cannot write `{}`: {}\n", path, error));
        rc = kExitUsage;
        continue;
      }
      err(fmt::format("formatted {}\n", path));
    }
  }
  if (check || diff) {
    err(fmt::format("{} would be reformatted, {} already formatted{}\n", plural(changed, "file"),
                    plural(files.size() - changed - refused, "file"),
                    refused ? fmt::format(", {} with syntax errors", refused) : std::string()));
  }
  return rc;
}

// ---------------------------------------------------------------------------------------------------------------
// explain

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<Code> lookup_code(std::string_view arg) {
  if (auto c = parse_code(arg)) return c;
  std::string s(arg);
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
    while (s.size() < 4) s.insert(s.begin(), '0');
    if (auto c = parse_code("BRD" + s)) return c;
  }
  size_t n = 0;
  const CodeInfo* codes = all_codes(&n);
  for (size_t i = 0; i < n; ++i) {
    if (codes[i].slug == arg) return codes[i].code;
  }
  return std::nullopt;
}

int run_explain(const Globals& g, const std::string& arg, bool list) {
  if (g.format_given && g.format != "text") throw UsageError{"--format applies to check and lint, not explain"};
  size_t n = 0;
  const CodeInfo* codes = all_codes(&n);
  if (list) {
    size_t w = 0;
    for (size_t i = 0; i < n; ++i) w = std::max(w, codes[i].slug.size());
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      s += fmt::format("{}  {:<7}  {:<{}}  {}\n", codes[i].id, severity_name(codes[i].severity), codes[i].slug, w,
                       codes[i].title);
    }
    out(s);
    return kExitClean;
  }
  if (arg.empty()) throw UsageError{"explain needs a code, e.g. `braid explain BRD0901` (or --list)"};
  std::optional<Code> code = lookup_code(arg);
  if (!code) {
    // Nearest id or name; ties go to the longest common prefix (BRD0911 -> BRD0901 rather than BRD0111).
    std::string_view best;
    size_t best_d = SIZE_MAX, best_prefix = 0;
    std::string up(arg);
    for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (size_t i = 0; i < n; ++i) {
      for (std::string_view cand : {codes[i].id, codes[i].slug}) {
        size_t d = edit_distance(arg, cand);
        size_t prefix = 0;
        std::string_view probe = cand == codes[i].id ? std::string_view(up) : arg;
        while (prefix < probe.size() && prefix < cand.size() && probe[prefix] == cand[prefix]) ++prefix;
        if (d < best_d || (d == best_d && prefix > best_prefix)) best_d = d, best_prefix = prefix, best = codes[i].id;
      }
    }
    std::string msg = fmt::format("braid: error: unknown diagnostic code `{}`", sanitize_utf8(arg));
    if (!best.empty() && best_d <= std::max<size_t>(2, arg.size() / 3)) msg += fmt::format("; did you mean `{}`?", best);
    msg += "\nRun `braid explain --list` to see every code.\n";
    err(msg);
    return kExitUsage;
  }
  const CodeInfo& info = code_info(*code);
  out(fmt::format("{} ({}): {}\ndefault severity: {}\n\n{}\n", info.id, info.slug, info.title,
                  severity_name(info.severity), info.text));
  return kExitClean;
}

// ---------------------------------------------------------------------------------------------------------------

constexpr const char* kVerbs[] = {"check", "lint", "fmt", "explain", "run", "test", "doc", "keygen", "build", "inspect", "lsp", "import"};

// CLI11 reports an unknown verb as "A subcommand is required"; name it instead, with a suggestion.
void check_verb(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--format" || a == "--color") {
      ++i;  // skip the value
      continue;
    }
    if (a.empty() || a[0] == '-') continue;
    for (const char* v : kVerbs) {
      if (a == v) return;
    }
    std::string msg = fmt::format("unknown verb `{}`", sanitize_utf8(a));
    for (const char* v : kVerbs) {
      if (edit_distance(a, v) <= 2) {
        msg += fmt::format("; did you mean `{}`?", v);
        break;
      }
    }
    throw UsageError{msg + " (verbs: check, lint, fmt, explain, run, test, doc, keygen, build, inspect, lsp, import)"};
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Braid: a detection-rule language for sessions and chains over cloud identity events.", "braid"};
  app.set_version_flag("--version", std::string("braid ") + BRAID_VERSION, "Print the version and exit");
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(kExitCodesHelp);

  Globals g;
  auto* format_opt = app.add_option("--format", g.format, "Output format of check, lint (text, json, sarif) and test (text, json)")
                         ->check(CLI::IsMember({"text", "json", "sarif"}))
                         ->type_name("FORMAT");
  app.add_option("--color", g.color, "Colour text output: auto (a terminal and no NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");

  std::vector<std::string> check_paths;
  bool list = false;
  auto* check = app.add_subcommand("check", "Check rules: syntax, names, types, schemas and metadata");
  check->add_option("paths", check_paths, "Files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  check->add_flag("--list", list, "After a clean check, print the rules (id, scope, severity, sources, title)");
  check->footer(kExitCodesHelp);

  std::vector<std::string> lint_paths;
  bool strict = false;
  auto* lint = app.add_subcommand("lint", "Check rules, then report rule-quality warnings (BRD08xx)");
  lint->add_option("paths", lint_paths, "Files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  lint->add_flag("--strict", strict, "Exit with 1 when there are warnings");
  bool costly = false;
  lint->add_flag("--costly", costly, "Also report costly rules, whose predicates can match any event (BRD0811)");
  lint->footer(kExitCodesHelp);

  std::vector<std::string> fmt_paths;
  bool fmt_check = false, fmt_diff = false;
  auto* fmtc = app.add_subcommand("fmt", "Format .braid files in place (canonical layout, comments kept)");
  fmtc->add_option("paths", fmt_paths, "Files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  fmtc->add_flag("--check", fmt_check, "Write nothing; list the files that would change and exit 1 if any");
  fmtc->add_flag("--diff", fmt_diff, "Write nothing; print a unified diff of the changes");
  fmtc->footer(kExitCodesHelp);

  std::string code;
  bool explain_list = false;
  auto* explain = app.add_subcommand("explain", "Explain a diagnostic code, e.g. `braid explain BRD0301`");
  explain->add_option("code", code, "A code (BRD0301) or its name (unknown-field)")->type_name("CODE");
  explain->add_flag("--list", explain_list, "List every diagnostic code");
  explain->footer(kExitCodesHelp);

  RunOptions run_opts;
  auto* runc = app.add_subcommand("run", "Run rules over event streams and write alerts as NDJSON");
  runc->add_option("inputs", run_opts.inputs,
                   "Event inputs: NDJSON or CloudTrail files, .gz, directories (recursively), - for stdin")
      ->required()
      ->type_name("INPUT");
  // One path per --rules (repeatable), so that `--rules rules events.ndjson` leaves the input positional.
  runc->add_option("--rules", run_opts.rules,
                   "A rule file or directory; repeat for more (default: rules/ when it exists)")
      ->type_name("PATH")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  runc->add_option("--pack", run_opts.pack, "Run a rule pack (from `braid build`) instead of --rules")->type_name("FILE");
  runc->add_option("--trusted-keys", run_opts.trusted_keys, "Public key files (KEYFILE.pub) a --pack may be signed by")
      ->type_name("FILE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  runc->add_flag("--allow-unsigned", run_opts.allow_unsigned, "Also run an unsigned --pack");
  runc->add_flag("--include-disabled", run_opts.include_disabled,
                 "Also run the rules marked `enabled false` (to backtest them)");
  runc->add_option("--output,-o", run_opts.output, "Write the alerts to FILE instead of stdout")->type_name("FILE");
  runc->add_flag("--stats", run_opts.stats, "Print statistics on stderr at the end (and time the rules)");
  auto* stats_format = runc->add_option("--stats-format", run_opts.stats_format, "Statistics as text or json")
                           ->check(CLI::IsMember({"text", "json"}))
                           ->type_name("FORMAT");
  uint32_t run_bound = 0;
  auto* run_bound_opt = runc->add_option("--distinct-bound", run_bound, "Values kept per distinct() (default 4096)")
                            ->check(CLI::PositiveNumber)
                            ->type_name("N");
  runc->add_option("--threads,-j", run_opts.threads,
                   "Threads that read and prepare events (default 1: one thread does everything); the alerts are "
                   "the same for every N")
      ->check(CLI::Range(1u, 256u))
      ->type_name("N");
  runc->add_option("--engine", run_opts.engine,
                   "jit (default): rules compiled to native code with LLVM; interp: the reference interpreter")
      ->check(CLI::IsMember({"jit", "interp"}))
      ->type_name("ENGINE");
  runc->add_option("--state", run_opts.state,
                   "Keep the engine's state in DIR: checkpoints, and a restart resumes where the last one was "
                   "taken (docs/operations.md)")
      ->type_name("DIR");
  runc->add_option("--checkpoint-interval", run_opts.checkpoint_interval,
                   "With --state: how often to take a checkpoint (default 60s; also at the end and on SIGTERM)")
      ->type_name("DURATION");
  runc->add_option("--max-open-sessions", run_opts.max_open_sessions,
                   "Open sessions kept at most; at the cap the least recently used one is closed early and its "
                   "alerts are marked degraded (default 2000000; 0: no cap)")
      ->type_name("N");
  runc->add_option("--max-open-groups", run_opts.max_open_groups,
                   "Open groups of group-scope rules kept at most, all rules together; at the cap the oldest is closed "
                   "early and its alerts are marked degraded (default 1000000; 0: no cap; docs/operations.md, Caps)")
      ->type_name("N");
  runc->add_option("--max-held-events", run_opts.max_held_events,
                   "Events held for reordering per source at most; beyond it the oldest is released early and the "
                   "source's watermark moves up to it (default 1000000; 0: no cap; docs/operations.md, Caps)")
      ->type_name("N");
  runc->add_option("--max-chain-records", run_opts.max_chain_records,
                   "Mint and link records kept at most, all together; at the cap the oldest is evicted, and alerts whose "
                   "chain lost its parent to it are marked degraded (default 2000000; 0: no cap; docs/operations.md, "
                   "Caps)")
      ->type_name("N");
  runc->add_option("--max-partial-matches", run_opts.max_partial_matches,
                   "Starts of partial matches a sequence keeps per stage, rule and session or chain; beyond it the "
                   "oldest are dropped and the rule's decisions marked degraded (default 4096; docs/operations.md, "
                   "Caps)")
      ->check(CLI::Range(1u, 1000000u))
      ->type_name("N");
  runc->add_option("--max-time-jump", run_opts.max_time_jump,
                   "How far past its source's newest event one event may move the source's clock before the next "
                   "events confirm it (default 24h; 0 turns the bound off; docs/operations.md, Time jumps)")
      ->type_name("DURATION");
  runc->add_option("--metrics-addr", run_opts.metrics_addr,
                   "Serve Prometheus metrics on http://HOST:PORT/metrics and a health check on /healthz; HOST must "
                   "be a loopback address (127.0.0.1, [::1]); PORT 0 picks a free one (docs/operations.md, Metrics)")
      ->type_name("HOST:PORT");
  runc->add_flag("--metrics-allow-remote", run_opts.metrics_allow_remote,
                 "Allow a --metrics-addr that is not a loopback address (the endpoint has no authentication)");
  runc->add_flag("--close-at-end", run_opts.close_at_end,
                 "With --state: close every session and window at the end of the input instead of keeping them "
                 "open for the next run");
  runc->add_flag("--follow,-f", run_opts.follow,
                 "At the end of the inputs, wait for more, like `tail -F`: lines appended to files, new files in "
                 "directories (a CloudTrail tree in time order), rotated files; stop with SIGTERM or SIGINT "
                 "(docs/operations.md, Following)");
  runc->add_option("--poll-interval", run_opts.poll_interval,
                   "With --follow: how often to look for new input (default 1s)")
      ->type_name("DURATION");
  runc->add_option("--source-silence", run_opts.source_silence,
                   "Warn on stderr when a source that was delivering events has delivered none for DURATION of wall "
                   "time (for example 1h; default 0: off); the metrics show it either way")
      ->type_name("DURATION");
  runc->add_option("--alert-events", run_opts.alert_events,
                   "Embed the raw triggering events in each alert: per step the JSON objects of its first N matching "
                   "events (`events`), and an event rule's event (`event`); at most 100 (default 0: off; "
                   "docs/alerts.md, Raw events)")
      ->type_name("N");
  runc->add_option("--bad-records", run_opts.bad_records,
                   "Write every malformed, unrouted or time-less record to FILE, one JSON line each with its input, "
                   "line and reason (docs/operations.md, Bad records)")
      ->type_name("FILE");
  add_webhook_flags(*runc, run_opts.webhook);
  runc->add_flag("--no-jit-cache{false}", run_opts.jit_cache,
                 "Do not read or write the JIT's object cache ($BRAID_CACHE_DIR, else ~/.cache/braid/jit)");
  runc->footer(kExitCodesHelp);

  TestOptions test_opts;
  auto* testc = app.add_subcommand("test", "Run the rules' embedded tests and compare the alerts");
  testc->add_option("paths", test_opts.paths, "Rule files or directories (default: rules/ when it exists)")
      ->type_name("PATH");
  uint32_t test_bound = 0;
  auto* test_bound_opt = testc->add_option("--distinct-bound", test_bound, "Values kept per distinct() (default 4096)")
                             ->check(CLI::PositiveNumber)
                             ->type_name("N");
  testc->add_option("--engine", test_opts.engine, "jit (default) or interp: the engine the tests run on")
      ->check(CLI::IsMember({"jit", "interp"}))
      ->type_name("ENGINE");
  testc->add_flag("--no-jit-cache{false}", test_opts.jit_cache, "Do not read or write the JIT's object cache");
  testc->footer(kExitCodesHelp);

  DocOptions doc_opts;
  auto* docc = app.add_subcommand("doc", "Write the rule catalogue (Markdown): every rule's metadata, by provider");
  docc->add_option("paths", doc_opts.paths, "Rule files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  docc->add_option("--output,-o", doc_opts.output, "Write to FILE instead of stdout")->type_name("FILE");
  docc->add_option("--benign", doc_opts.benign, "Alerts (NDJSON from `braid run`) over a benign stream: count them")
      ->type_name("FILE");
  docc->add_option("--benign-command", doc_opts.benign_command, "How the --benign file was made (quoted in the output)")
      ->type_name("TEXT");
  docc->add_option("--attack-layer", doc_opts.attack_layer,
                   "Also write the ATT&CK coverage as a MITRE ATT&CK Navigator layer (JSON, layer format 4.5)")
      ->type_name("FILE");
  docc->footer(kExitCodesHelp);

  LspOptions lsp_opts;
  auto* lspc = app.add_subcommand("lsp", "Run the language server (LSP over stdin/stdout) for editors");
  lspc->add_option("--stdlib-dir", lsp_opts.stdlib_dir,
                   "Where to write the stdlib's files for go-to-definition (default: ~/.cache/braid/stdlib-*)")
      ->type_name("DIR");
  lspc->footer(
      "The server speaks LSP 3.17 on stdin/stdout; see docs/editors.md.\nExit codes:\n"
      "  0  after `shutdown` and `exit`\n"
      "  1  `exit` without `shutdown`, or the input ended before `shutdown`");

  ImportSigmaOptions sigma_opts;  // braid import sigma (sigma.cpp)
  auto* importc = app.add_subcommand("import", "Convert rules written in another language into Braid files");
  importc->require_subcommand(1);
  auto* sigmac = importc->add_subcommand("sigma", "Convert Sigma rules (YAML, specification v2.1) into Braid files");
  sigmac->add_option("paths", sigma_opts.paths, "Sigma rule files or directories (searched for *.yml, *.yaml)")
      ->required()
      ->type_name("PATH");
  sigmac->add_option("--output,-o", sigma_opts.output, "Write one Braid file per converted rule into DIR")
      ->required()
      ->type_name("DIR");
  sigmac->footer(kExitCodesHelp);

  auto pack_verbs = add_pack_verbs(app, kExitCodesHelp);  // keygen, build, inspect (pack_verbs.cpp)

  for (CLI::App* sub : {check, lint, fmtc, explain, runc, testc, docc}) sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app.exit(e, std::cout, std::cerr);
      return kExitClean;
    }
    if (app.get_subcommands().empty()) {
      try {
        check_verb(argc, argv);
      } catch (const UsageError& u) {
        err(fmt::format("braid: error: {}\nRun `braid --help` for usage.\n", u.message));
        return kExitUsage;
      }
    }
    std::cerr << "braid: error: " << e.what() << "\n";
    std::cerr << "Run `braid --help` (or `braid <verb> --help`) for usage.\n";
    return kExitUsage;
  }
  g.format_given = format_opt->count() != 0;

  try {
    if (check->parsed()) return run_check(g, check_paths, list, false, false, false);
    if (lint->parsed()) return run_check(g, lint_paths, false, true, strict, costly);
    if (fmtc->parsed()) return run_fmt(g, fmt_paths, fmt_check, fmt_diff);
    if (explain->parsed()) return run_explain(g, code, explain_list);
    if (runc->parsed()) {
      if (g.format_given) throw UsageError{"--format does not apply to run: alerts are NDJSON (see --stats-format)"};
      if (stats_format->count() != 0) run_opts.stats = true;
      if (run_bound_opt->count() != 0) run_opts.distinct_bound = run_bound;
      run_opts.color = g.color;
      return run_run(run_opts);
    }
    if (testc->parsed()) {
      if (g.format_given && g.format == "sarif") throw UsageError{"test reports as text or JSON, not SARIF"};
      test_opts.json = g.format == "json";
      if (test_bound_opt->count() != 0) test_opts.distinct_bound = test_bound;
      test_opts.color = g.color;
      return run_test(test_opts);
    }
    if (docc->parsed()) {
      if (g.format_given && g.format != "text") throw UsageError{"doc writes Markdown; --format does not apply"};
      doc_opts.color = g.color;
      return run_doc(doc_opts);
    }
    if (lspc->parsed()) return run_lsp(lsp_opts);
    if (sigmac->parsed()) {
      sigma_opts.color = g.color;
      return run_import_sigma(sigma_opts);
    }
    if (auto rc = run_pack_verbs(*pack_verbs, g.format, g.format_given, g.color)) return *rc;
  } catch (const UsageError& u) {
    err(fmt::format("braid: error: {}\n", u.message));
    return kExitUsage;
  }
  err("braid: error: no verb given\n");
  return kExitUsage;
}

}  // namespace

}  // namespace braid::cli

int main(int argc, char** argv) {
  try {
    int rc = braid::cli::run(argc, argv);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      std::fprintf(stderr, "braid: error: cannot write the output: %s\n", std::strerror(errno));
      return 2;
    }
    return rc;
  } catch (const braid::rt::SimdKernelError& e) {
    // Not a bug: this CPU cannot run Braid's event input (below x86-64-v2), or BRAID_SIMD_KERNEL asks for a kernel
    // it cannot run. One line, exit 2 (usage problem).
    std::fprintf(stderr, "braid: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fputs("braid: internal error: out of memory\n", stderr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "braid: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("braid: internal error: unknown exception\n", stderr);
  }
  std::fputs("This is a bug in braid; please report it with the input that caused it.\n", stderr);
  return 2;
}
