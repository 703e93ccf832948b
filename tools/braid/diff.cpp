#include "diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

namespace braid::cli {

namespace {

struct Line {
  std::string_view text;  // without the newline
  bool newline = true;    // false for a last line without '\n'
  bool operator==(const Line& o) const { return text == o.text && newline == o.newline; }
};

std::vector<Line> split(std::string_view s) {
  std::vector<Line> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t nl = s.find('\n', i);
    if (nl == std::string_view::npos) {
      out.push_back({s.substr(i), false});
      break;
    }
    out.push_back({s.substr(i, nl - i), true});
    i = nl + 1;
  }
  return out;
}

enum class Op : uint8_t { Keep, Del, Add };

struct Edit {
  Op op;
  size_t a;  // index in before (Keep, Del)
  size_t b;  // index in after (Keep, Add)
};

// Edit script by longest common subsequence, after trimming the common prefix and suffix. A very large middle
// (over ~16M cells) is replaced wholesale, which is still a correct diff.
std::vector<Edit> edit_script(const std::vector<Line>& a, const std::vector<Line>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;

  std::vector<Edit> out;
  for (size_t i = 0; i < pre; ++i) out.push_back({Op::Keep, i, i});
  if (n * m > (size_t{1} << 24)) {
    for (size_t i = 0; i < n; ++i) out.push_back({Op::Del, pre + i, 0});
    for (size_t j = 0; j < m; ++j) out.push_back({Op::Add, 0, pre + j});
  } else {
    // lcs[i][j] = LCS length of a[pre+i..] and b[pre+j..]
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        out.push_back({Op::Keep, pre + i++, pre + j++});
      } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
        out.push_back({Op::Add, 0, pre + j++});
      } else {
        out.push_back({Op::Del, pre + i++, 0});
      }
    }
  }
  for (size_t k = 0; k < suf; ++k) out.push_back({Op::Keep, a.size() - suf + k, b.size() - suf + k});
  // Deletions before additions inside each changed run, as diff(1) prints them.
  for (size_t s = 0; s < out.size();) {
    if (out[s].op == Op::Keep) {
      ++s;
      continue;
    }
    size_t e = s;
    while (e < out.size() && out[e].op != Op::Keep) ++e;
    std::stable_partition(out.begin() + static_cast<std::ptrdiff_t>(s), out.begin() + static_cast<std::ptrdiff_t>(e),
                          [](const Edit& x) { return x.op == Op::Del; });
    s = e;
  }
  return out;
}

void put_line(std::string& out, char mark, const Line& l) {
  out += mark;
  out += l.text;
  out += '\n';
  if (!l.newline) out += "\\ No newline at end of file\n";
}

}  // namespace

std::string unified_diff(std::string_view path, std::string_view before, std::string_view after) {
  if (before == after) return {};
  std::vector<Line> a = split(before), b = split(after);
  std::vector<Edit> es = edit_script(a, b);
  constexpr size_t kContext = 3;

  std::string out = fmt::format("--- {}\n+++ {}\n", path, path);
  size_t k = 0;
  while (k < es.size()) {
    // Find the next change.
    while (k < es.size() && es[k].op == Op::Keep) ++k;
    if (k == es.size()) break;
    size_t start = k >= kContext ? k - kContext : 0;
    // Extend the hunk while changes are within 2*context lines of each other.
    size_t end = k;
    for (;;) {
      while (end < es.size() && es[end].op != Op::Keep) ++end;
      size_t next = end;
      while (next < es.size() && es[next].op == Op::Keep) ++next;
      if (next < es.size() && next - end <= 2 * kContext) {
        end = next;
        continue;
      }
      end = std::min(es.size(), end + kContext);
      break;
    }
    // Line numbers and counts.
    size_t a_start = 0, b_start = 0, a_count = 0, b_count = 0;
    bool a_set = false, b_set = false;
    for (size_t x = start; x < end; ++x) {
      if (es[x].op != Op::Add) {
        if (!a_set) a_start = es[x].a, a_set = true;
        ++a_count;
      }
      if (es[x].op != Op::Del) {
        if (!b_set) b_start = es[x].b, b_set = true;
        ++b_count;
      }
    }
    // An empty side is numbered by the line before it (diff -u convention).
    auto range = [](size_t first, size_t count, bool set, size_t fallback) {
      size_t line = set ? first + 1 : fallback;
      return count == 1 ? fmt::format("{}", line) : fmt::format("{},{}", line, count);
    };
    size_t a_fallback = 0, b_fallback = 0;
    if (!a_set) {
      // Count the lines of `before` preceding the hunk.
      a_fallback = 0;
      for (size_t x = 0; x < start; ++x) if (es[x].op != Op::Add) ++a_fallback;
    }
    if (!b_set) {
      b_fallback = 0;
      for (size_t x = 0; x < start; ++x) if (es[x].op != Op::Del) ++b_fallback;
    }
    out += fmt::format("@@ -{} +{} @@\n", range(a_start, a_count, a_set, a_fallback),
                       range(b_start, b_count, b_set, b_fallback));
    for (size_t x = start; x < end; ++x) {
      switch (es[x].op) {
        case Op::Keep: put_line(out, ' ', a[es[x].a]); break;
        case Op::Del: put_line(out, '-', a[es[x].a]); break;
        case Op::Add: put_line(out, '+', b[es[x].b]); break;
      }
    }
    k = end;
  }
  return out;
}

}  // namespace braid::cli
