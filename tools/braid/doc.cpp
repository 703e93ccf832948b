// `braid doc`: the generated rule catalogue (docs/rules.md). It compiles the given rules (stdlib included, as for
// check) and writes one Markdown document: a summary, then per provider (the first component of the rule id) a
// table of every rule, sorted by id: id, title, severity, ATT&CK ids, scope, sources, number of embedded tests and,
// with --benign, the number of alerts the rule raised on a benign stream (an NDJSON file of alerts written by
// `braid run`). Rules that alerted on benign traffic are listed again below the tables with their
// `false_positives` text, which is where a rule justifies such alerts. The output depends only on the rules and the
// alerts file, never on the clock or the directory order, so a test can regenerate it and diff it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "diag/render.h"
#include "driver/driver.h"
#include "ir/ir.h"
#include "json_tree.h"
#include "verbs.h"

namespace braid::cli {

namespace {

struct ProviderName {
  const char* key;
  const char* title;
};
constexpr ProviderName kProviders[] = {
    {"aws", "AWS"}, {"okta", "Okta"}, {"entra", "Microsoft Entra ID"}, {"gcp", "Google Cloud"},
    {"github", "GitHub"}, {"vault", "HashiCorp Vault"},
};

std::string provider_title(const std::string& key) {
  for (const ProviderName& p : kProviders) {
    if (key == p.key) return p.title;
  }
  return key;
}

// One table cell: no line breaks, pipes escaped, backticks kept.
std::string cell(std::string_view s) {
  std::string o;
  for (char ch : s) {
    if (ch == '\n' || ch == '\r' || ch == '\t') o += ' ';
    else if (ch == '|') o += "\\|";
    else o += ch;
  }
  return sanitize_utf8(o);
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? std::string(sep) : "") + v[i];
  return s;
}

struct Row {
  std::string provider, id, title, severity, attack, scope, sources, false_positives;
  size_t tests = 0;
  bool enabled = true;
};

// Counts alerts per rule in an NDJSON file written by `braid run`. False and `error` set when the file cannot be
// read or a line is not an alert.
bool count_alerts(const std::string& path, std::map<std::string, size_t>& counts, size_t& total, std::string& error) {
  std::string text;
  if (!read_file(path, text, error)) return false;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string perr;
    auto v = json::parse(line, &perr);
    const json::Value* rule = v ? v->get("rule") : nullptr;
    if (!rule || rule->kind != json::Value::Kind::String) {
      error = fmt::format("line {} is not an alert (a JSON object with a \"rule\")", line_no);
      return false;
    }
    ++counts[rule->text];
    ++total;
  }
  return true;
}

}  // namespace

int run_doc(const DocOptions& o) {
  std::map<std::string, size_t> benign;
  size_t benign_total = 0;
  if (!o.benign.empty()) {
    std::string error;
    if (!count_alerts(o.benign, benign, benign_total, error)) {
      err(fmt::format("braid: error[BRD0901]: cannot use `{}` as --benign alerts: {}\n", sanitize_utf8(o.benign),
                      error));
      return kExitUsage;
    }
  }

  auto c = compile(o.paths, DriverOptions{});
  RenderOptions ro;
  ro.color = use_color(o.color, STDERR_FILENO);
  ro.tool_version = BRAID_VERSION;
  if (c->input_error) {
    err(render_text(c->diags.all(), c->sm, ro));
    return kExitUsage;
  }
  if (c->diags.error_count() != 0 || !c->program) {
    err(render_text(c->diags.all(), c->sm, ro));
    err("braid: not documenting: the rules have errors (see `braid check`)\n");
    return kExitFindings;
  }
  const ir::Program& prog = *c->program;

  std::vector<Row> rows;
  for (const ir::Rule& rule : prog.rules) {
    if (rule.file_path.rfind(kStdlibPathPrefix, 0) == 0) continue;
    Row r;
    r.id = rule.id;
    r.provider = rule.id.substr(0, rule.id.find('.'));
    r.title = rule.meta.title;
    r.severity = std::string(ir::severity_name(rule.meta.severity));
    r.attack = join(rule.meta.attack, ", ");
    r.scope = std::string(ir::scope_name(rule.scope));
    std::vector<std::string> sources;
    for (uint32_t s : rule.sources) sources.push_back(prog.sources[s].name);
    r.sources = join(sources, ", ");
    r.false_positives = join(rule.meta.false_positives, " ");
    r.tests = rule.tests.size();
    r.enabled = rule.meta.enabled;
    rows.push_back(std::move(r));
  }
  // Providers in a fixed order (the known ones first, then any other alphabetically), rules by id within each.
  auto rank = [](const std::string& key) {
    size_t i = 0;
    for (const ProviderName& p : kProviders) {
      if (key == p.key) return i;
      ++i;
    }
    return i;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    size_t ra = rank(a.provider), rb = rank(b.provider);
    if (ra != rb) return ra < rb;
    if (a.provider != b.provider) return a.provider < b.provider;
    return a.id < b.id;
  });

  std::vector<std::string> provider_order;
  std::map<std::string, size_t> per_provider;
  std::map<std::string, size_t> per_scope;
  size_t tests = 0;
  for (const Row& r : rows) {
    if (per_provider[r.provider]++ == 0) provider_order.push_back(r.provider);
    ++per_scope[r.scope];
    tests += r.tests;
  }

  bool with_benign = !o.benign.empty();
  std::string d;
  d += "# Rule catalogue\n\n";
  d += fmt::format("<!-- Generated by `braid doc {}`{}. Do not edit by hand: change the rules and regenerate. -->\n\n",
                   join(o.paths, " "), with_benign ? " (see \"Benign traffic\" below for the full command)" : "");
  d += fmt::format(
      "This file is generated by `braid doc {}` from the rules' metadata and must not be edited by hand; a test "
      "regenerates it and fails when it differs. ",
      join(o.paths, " "));
  d += fmt::format("{} rules ({} with event scope, {} session, {} chain), {} embedded tests.\n\n", rows.size(),
                   per_scope["event"], per_scope["session"], per_scope["chain"], tests);
  d += "| provider | rules |\n| --- | ---: |\n";
  for (const std::string& p : provider_order) d += fmt::format("| {} | {} |\n", provider_title(p), per_provider[p]);
  d += "\n";

  if (with_benign) {
    d += "## Benign traffic\n\n";
    d += "The column *benign alerts* counts the alerts each rule raised over a benign stream from the project's "
         "generator (background only, no attack story), made and run with:\n\n";
    d += "```sh\n";
    d += o.benign_command.empty() ? fmt::format("braid doc {} --benign {}\n", join(o.paths, " "), o.benign)
                                  : o.benign_command + "\n";
    d += "```\n\n";
    size_t firing = 0;
    for (const Row& r : rows) {
      auto it = benign.find(r.id);
      if (it != benign.end() && it->second != 0) ++firing;
    }
    d += fmt::format("{} alerts from {} of {} rules. Each rule that alerts on this traffic justifies it in its "
                     "`false_positives` metadata, repeated here:\n\n",
                     benign_total, firing, rows.size());
    if (firing != 0) {
      d += "| rule | severity | benign alerts | why (the rule's `false_positives`) |\n| --- | --- | ---: | --- |\n";
      for (const Row& r : rows) {
        auto it = benign.find(r.id);
        if (it == benign.end() || it->second == 0) continue;
        d += fmt::format("| `{}` | {} | {} | {} |\n", r.id, r.severity, it->second,
                         r.false_positives.empty() ? "(none given)" : cell(r.false_positives));
      }
      d += "\n";
    }
    std::vector<std::string> unknown;
    for (const auto& [id, n] : benign) {
      if (std::none_of(rows.begin(), rows.end(), [&](const Row& r) { return r.id == id; })) {
        unknown.push_back(fmt::format("`{}` ({})", id, n));
      }
    }
    if (!unknown.empty()) d += "Alerts from rules not in this catalogue: " + join(unknown, ", ") + ".\n\n";
  }

  for (const std::string& p : provider_order) {
    d += fmt::format("## {}\n\n", provider_title(p));
    d += "| id | title | severity | ATT&CK | scope | sources | tests |";
    d += with_benign ? " benign alerts |\n" : "\n";
    d += "| --- | --- | --- | --- | --- | --- | ---: |";
    d += with_benign ? " ---: |\n" : "\n";
    for (const Row& r : rows) {
      if (r.provider != p) continue;
      d += fmt::format("| `{}` | {}{} | {} | {} | {} | {} | {} |", r.id, cell(r.title), r.enabled ? "" : " (disabled)",
                       r.severity, cell(r.attack), r.scope, cell(r.sources), r.tests);
      if (with_benign) {
        auto it = benign.find(r.id);
        d += fmt::format(" {} |", it == benign.end() ? 0 : it->second);
      }
      d += "\n";
    }
    d += "\n";
  }
  while (d.size() >= 2 && d[d.size() - 1] == '\n' && d[d.size() - 2] == '\n') d.pop_back();

  if (o.output.empty() || o.output == "-") {
    out(d);
    return kExitClean;
  }
  FILE* f = std::fopen(o.output.c_str(), "wb");
  if (!f) {
    err(fmt::format("braid: error[BRD0901]: cannot write `{}`: {}\n", sanitize_utf8(o.output), std::strerror(errno)));
    return kExitUsage;
  }
  bool ok = std::fwrite(d.data(), 1, d.size(), f) == d.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    err(fmt::format("braid: error[BRD0901]: cannot write `{}`: {}\n", sanitize_utf8(o.output), std::strerror(errno)));
    return kExitUsage;
  }
  err(fmt::format("wrote {} ({} rules)\n", o.output, rows.size()));
  return kExitClean;
}

}  // namespace braid::cli
