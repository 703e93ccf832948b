// `braid doc`: the generated rule catalogue (docs/rules.md). It compiles the given rules (stdlib included, as for
// check) and writes one Markdown document: a summary, then per provider (the first component of the rule id) a
// table of every rule, sorted by id: id, title, severity, ATT&CK ids, scope, sources, number of embedded tests and,
// with --benign, the number of alerts the rule raised on a benign stream (an NDJSON file of alerts written by
// `braid run`). Rules that alerted on benign traffic are listed again below the tables with their
// `false_positives` text, which is where a rule justifies such alerts. The output depends only on the rules and the
// alerts file, never on the clock or the directory order, so a test can regenerate it and diff it.
//
// ATT&CK coverage: the document ends with the techniques the enabled rules list (each with its number of rules and
// their ids) and the tactics; --attack-layer FILE also writes that coverage as a MITRE ATT&CK Navigator layer
// (JSON, layer format 4.5, https://github.com/mitre-attack/attack-navigator/blob/master/layers/LAYERFORMATv4_5.md):
// one technique object per technique or sub-technique id, scored by its number of rules, the rule ids in its
// comment. Tactic ids (TA....) are not techniques in that format, so only the Markdown lists them.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
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
  std::vector<std::string> attack_ids;
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

// "T1234" or "T1234.567": a technique or sub-technique id, as the Navigator layer wants it.
bool is_technique_id(std::string_view id) {
  auto digits = [&](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i) {
      if (i >= id.size() || id[i] < '0' || id[i] > '9') return false;
    }
    return true;
  };
  if (id.size() == 5) return id[0] == 'T' && digits(1, 4);
  if (id.size() == 9) return id[0] == 'T' && digits(1, 4) && id[5] == '.' && digits(6, 3);
  return false;
}

bool is_tactic_id(std::string_view id) {
  return id.size() == 6 && id.substr(0, 2) == "TA" &&
         std::all_of(id.begin() + 2, id.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// ATT&CK id -> the ids of the enabled rules that list it (sorted, each rule once), in id order.
using Coverage = std::map<std::string, std::vector<std::string>>;
Coverage attack_coverage(const std::vector<Row>& rows, bool tactics) {
  Coverage c;
  for (const Row& r : rows) {
    if (!r.enabled) continue;
    for (const std::string& id : r.attack_ids) {
      if (tactics ? !is_tactic_id(id) : !is_technique_id(id)) continue;
      auto& ids = c[id];
      if (std::find(ids.begin(), ids.end(), r.id) == ids.end()) ids.push_back(r.id);
    }
  }
  for (auto& [id, ids] : c) std::sort(ids.begin(), ids.end());
  return c;
}

constexpr const char* kTacticNames[][2] = {
    {"TA0001", "Initial Access"},     {"TA0002", "Execution"},          {"TA0003", "Persistence"},
    {"TA0004", "Privilege Escalation"}, {"TA0005", "Defense Evasion"},  {"TA0006", "Credential Access"},
    {"TA0007", "Discovery"},          {"TA0008", "Lateral Movement"},   {"TA0009", "Collection"},
    {"TA0010", "Exfiltration"},       {"TA0011", "Command and Control"}, {"TA0040", "Impact"},
    {"TA0042", "Resource Development"}, {"TA0043", "Reconnaissance"},
};

std::string tactic_name(const std::string& id) {
  for (const auto& t : kTacticNames) {
    if (id == t[0]) return t[1];
  }
  return "";
}

// The Navigator layer (format 4.5) for the technique coverage. `paths` and the rule count go in the description.
std::string navigator_layer(const Coverage& techniques, size_t enabled_rules, const std::vector<std::string>& paths) {
  using json::Value;
  auto str = [](std::string s) {
    Value v;
    v.kind = Value::Kind::String;
    v.text = std::move(s);
    return v;
  };
  auto num = [](size_t n) {
    Value v;
    v.kind = Value::Kind::Number;
    v.text = std::to_string(n);
    return v;
  };
  auto boolean = [](bool b) {
    Value v;
    v.kind = Value::Kind::Bool;
    v.boolean = b;
    return v;
  };
  auto object = [](std::vector<std::pair<std::string, Value>> members) {
    Value v;
    v.kind = Value::Kind::Object;
    v.members = std::move(members);
    return v;
  };
  auto array = [](std::vector<Value> items) {
    Value v;
    v.kind = Value::Kind::Array;
    v.items = std::move(items);
    return v;
  };

  size_t max_score = 1;
  for (const auto& [id, ids] : techniques) max_score = std::max(max_score, ids.size());
  std::vector<Value> techs;
  for (const auto& [id, ids] : techniques) {
    // A technique whose sub-techniques are scored too opens on them by default.
    bool has_sub = false;
    if (id.size() == 5) {
      auto next = techniques.upper_bound(id);
      has_sub = next != techniques.end() && next->first.rfind(id + ".", 0) == 0;
    }
    std::vector<std::pair<std::string, Value>> m = {
        {"techniqueID", str(id)},
        {"score", num(ids.size())},
        {"comment", str(join(ids, ", "))},
        {"enabled", boolean(true)},
    };
    if (has_sub) m.emplace_back("showSubtechniques", boolean(true));
    techs.push_back(object(std::move(m)));
  }
  Value layer = object({
      {"name", str("Braid rules: ATT&CK coverage")},
      {"versions", object({{"attack", str("16")}, {"navigator", str("5.1.0")}, {"layer", str("4.5")}})},
      {"domain", str("enterprise-attack")},
      {"description",
       str(fmt::format("The ATT&CK techniques and sub-techniques listed by the {} enabled rules of `braid doc {}`. "
                       "Score: the number of rules that list the technique; comment: their ids. Generated by braid "
                       "doc --attack-layer; tactic ids are not techniques and are left out.",
                       enabled_rules, join(paths, " ")))},
      {"sorting", num(3)},
      {"layout", object({{"layout", str("side")},
                         {"showID", boolean(true)},
                         {"showName", boolean(true)},
                         {"showAggregateScores", boolean(false)},
                         {"countUnscored", boolean(false)},
                         {"aggregateFunction", str("sum")},
                         {"expandedSubtechniques", str("annotated")}})},
      {"hideDisabled", boolean(false)},
      {"techniques", array(std::move(techs))},
      {"gradient", object({{"colors", array({str("#e8f1fb"), str("#1f6fc5")})},
                           {"minValue", num(0)},
                           {"maxValue", num(max_score)}})},
      {"legendItems", array({object({{"label", str("listed by 1 rule")}, {"color", str("#e8f1fb")}}),
                             object({{"label", str(fmt::format("listed by {} rules", max_score))},
                                     {"color", str("#1f6fc5")}})})},
      {"showTacticRowBackground", boolean(false)},
      {"tacticRowBackground", str("#dddddd")},
      {"selectTechniquesAcrossTactics", boolean(true)},
      {"selectSubtechniquesWithParent", boolean(false)},
      {"selectVisibleTechniques", boolean(false)},
      {"metadata", array({object({{"name", str("generator")}, {"value", str("braid doc")}}),
                          object({{"name", str("rules")}, {"value", str(std::to_string(enabled_rules))}})})},
  });
  return json::print(layer, 2) + "\n";
}

// Writes `text` to `path`; false after printing the reason.
bool write_text(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    err(fmt::format("braid: error[BRD0901]: cannot write `{}`: {}\n", sanitize_utf8(path), std::strerror(errno)));
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    err(fmt::format("braid: error[BRD0901]: cannot write `{}`: {}\n", sanitize_utf8(path), std::strerror(errno)));
  }
  return ok;
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

  int rc = kExitClean;
  auto c = compile_or_report(o.paths, DriverOptions{}, o.color,
                             "braid: not documenting: the rules have errors (see `braid check`)\n", rc);
  if (!c) return rc;
  const ir::Program& prog = *c->program;

  std::vector<Row> rows;
  for (const ir::Rule& rule : prog.rules) {
    if (rule.file_path.rfind(kStdlibPathPrefix, 0) == 0) continue;
    Row r;
    r.id = rule.id;
    r.provider = rule.id.substr(0, rule.id.find('.'));
    r.title = rule.meta.title;
    r.severity = std::string(ir::severity_name(rule.meta.severity));
    if (!rule.severity_arms.empty()) {  // a computed severity: the range of its levels, "medium to high"
      ir::Severity lo = rule.meta.severity, hi = rule.meta.severity;
      for (const ir::SeverityArm& a : rule.severity_arms) lo = std::min(lo, a.level), hi = std::max(hi, a.level);
      r.severity = std::string(ir::severity_name(lo)) + " to " + std::string(ir::severity_name(hi));
    }
    r.attack = join(rule.meta.attack, ", ");
    r.attack_ids = rule.meta.attack;
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
  d += fmt::format("{} rules ({} with event scope, {} session, {} chain, {} group), {} embedded tests.\n\n",
                   rows.size(), per_scope["event"], per_scope["session"], per_scope["chain"], per_scope["group"], tests);
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
  // ATT&CK coverage, from the enabled rules' `attack` metadata.
  const Coverage techniques = attack_coverage(rows, false);
  const Coverage tactics = attack_coverage(rows, true);
  size_t enabled_rules = 0, unmapped = 0;
  for (const Row& r : rows) {
    if (!r.enabled) continue;
    ++enabled_rules;
    if (std::none_of(r.attack_ids.begin(), r.attack_ids.end(), [](const std::string& id) { return is_technique_id(id); })) {
      ++unmapped;
    }
  }
  d += "## ATT&CK coverage\n\n";
  d += fmt::format(
      "The {} techniques and sub-techniques that the {} enabled rules list in their `attack` metadata, each with the "
      "number of rules that list it (a rule that lists a sub-technique counts for the sub-technique, not for its "
      "parent). Enabled rules that list no technique: {}.",
      techniques.size(), enabled_rules, unmapped);
  if (!o.attack_layer.empty()) {
    std::string base = o.attack_layer.substr(o.attack_layer.find_last_of('/') + 1);
    d += fmt::format(" The same coverage, as a MITRE ATT&CK Navigator layer (layer format 4.5, the score of each "
                     "technique its number of rules and its comment their ids), is [{}]({}), written by `braid doc "
                     "--attack-layer`.",
                     base, base);
  }
  d += "\n\n| technique | rules | rule ids |\n| --- | ---: | --- |\n";
  for (const auto& [id, ids] : techniques) {
    std::vector<std::string> quoted;
    for (const std::string& r : ids) quoted.push_back("`" + r + "`");
    d += fmt::format("| {} | {} | {} |\n", id, ids.size(), join(quoted, ", "));
  }
  d += "\nBy tactic (the `TA` ids the rules list):\n\n| tactic | name | rules |\n| --- | --- | ---: |\n";
  for (const auto& [id, ids] : tactics) d += fmt::format("| {} | {} | {} |\n", id, tactic_name(id), ids.size());
  d += "\n";
  while (d.size() >= 2 && d[d.size() - 1] == '\n' && d[d.size() - 2] == '\n') d.pop_back();

  if (!o.attack_layer.empty()) {
    if (!write_text(o.attack_layer, navigator_layer(techniques, enabled_rules, o.paths))) return kExitUsage;
    err(fmt::format("wrote {} ({} techniques)\n", o.attack_layer, techniques.size()));
  }
  if (o.output.empty() || o.output == "-") {
    out(d);
    return kExitClean;
  }
  if (!write_text(o.output, d)) return kExitUsage;
  err(fmt::format("wrote {} ({} rules)\n", o.output, rows.size()));
  return kExitClean;
}

VerbAction add_doc_verb(CLI::App& sub) {
  auto o = std::make_shared<DocOptions>();
  sub.add_option("paths", o->paths, "Rule files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  sub.add_option("--output,-o", o->output, "Write to FILE instead of stdout")->type_name("FILE");
  sub.add_option("--benign", o->benign, "Alerts (NDJSON from `braid run`) over a benign stream: count them")
      ->type_name("FILE");
  sub.add_option("--benign-command", o->benign_command, "How the --benign file was made (quoted in the output)")
      ->type_name("TEXT");
  sub.add_option("--attack-layer", o->attack_layer,
                 "Also write the ATT&CK coverage as a MITRE ATT&CK Navigator layer (JSON, layer format 4.5)")
      ->type_name("FILE");
  sub.fallthrough();
  return [o](const Globals& g) {
    if (g.format_given && g.format != "text") throw UsageError{"doc writes Markdown; --format does not apply"};
    o->color = g.color;
    return run_doc(*o);
  };
}

}  // namespace braid::cli
