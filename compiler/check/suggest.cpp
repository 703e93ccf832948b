// Name suggestions: the edit distance and "did you mean" (public, checker.h), and the names in scope.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid {

size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  std::string lname = lower(name);
  size_t best = SIZE_MAX;
  std::string best_name;
  for (const auto& c : candidates) {
    if (c == name) continue;
    // Case-only differences count as distance 0.5 (ranked first).
    size_t d = lower(c) == lname ? 0 : edit_distance(name, c) * 2;
    if (d < best || (d == best && c < best_name)) {
      best = d;
      best_name = c;
    }
  }
  size_t limit = std::max<size_t>(2, name.size() / 3 * 2 + 1);  // about a third of the length, at least 1 edit
  if (best <= limit && best != SIZE_MAX) return best_name;
  return {};
}

}  // namespace braid

namespace braid::check_internal {

std::vector<std::string> Checker::names_in_scope(const Ctx& c, bool with_fields) {
  std::vector<std::string> out;
  if (c.env && c.env->macro)
    for (const auto& [n, a] : c.env->args) out.push_back(n);
  if (c.steps)
    for (const auto& [n, i] : *c.steps) out.push_back(n);
  for (const auto& [n, g] : globals_)
    if (g.kind == GlobalSym::Kind::List || g.kind == GlobalSym::Kind::Macro) out.push_back(n);
  if (with_fields) {
    for (uint32_t s : c.sources) {
      if (s == kNone) continue;
      for (const auto& f : P.sources[s].schema.fields) out.push_back(f.name);
    }
  }
  return out;
}

}  // namespace braid::check_internal
