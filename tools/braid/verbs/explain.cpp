// `braid explain CODE` and `braid explain --list`: the diagnostic codes (compiler/diag/codes_*.def).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/codes.h"
#include "diag/render.h"
#include "verbs.h"

namespace braid::cli {

namespace {

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

}  // namespace

VerbAction add_explain_verb(CLI::App& sub) {
  struct Options {
    std::string code;
    bool list = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("code", o->code, "A code (BRD0301) or its name (unknown-field)")->type_name("CODE");
  sub.add_flag("--list", o->list, "List every diagnostic code");
  sub.fallthrough();
  return [o](const Globals& g) { return run_explain(g, o->code, o->list); };
}

}  // namespace braid::cli
