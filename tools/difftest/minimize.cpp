#include "minimize.h"

#include <algorithm>

namespace braid::difftest {

std::vector<size_t> ddmin(std::vector<size_t> items, const FailsFn& fails) {
  size_t n = 2;
  while (items.size() >= 2) {
    const size_t len = items.size();
    n = std::min(n, len);
    const size_t chunk = (len + n - 1) / n;
    bool reduced = false;
    // Try each chunk alone, then each complement.
    for (size_t start = 0; start < len && !reduced; start += chunk) {
      std::vector<size_t> sub(items.begin() + static_cast<std::ptrdiff_t>(start),
                              items.begin() + static_cast<std::ptrdiff_t>(std::min(len, start + chunk)));
      if (sub.size() < len && fails(sub)) {
        items = std::move(sub);
        n = 2;
        reduced = true;
      }
    }
    for (size_t start = 0; start < len && !reduced && n > 2; start += chunk) {
      std::vector<size_t> comp;
      for (size_t i = 0; i < len; ++i)
        if (i < start || i >= start + chunk) comp.push_back(items[i]);
      if (!comp.empty() && fails(comp)) {
        items = std::move(comp);
        n = std::max<size_t>(n - 1, 2);
        reduced = true;
      }
    }
    if (reduced) continue;
    if (n >= len) break;  // single elements tried: 1-minimal
    n = std::min(len, n * 2);
  }
  // ddmin with n == 2 never tries complements (they equal the chunks); finish with a one-at-a-time removal pass so
  // that the result is 1-minimal in every case.
  for (size_t i = 0; i < items.size() && items.size() > 1;) {
    std::vector<size_t> without = items;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
    if (fails(without)) items = std::move(without);
    else ++i;
  }
  return items;
}

std::vector<size_t> minimize_rules(size_t n, const FailsFn& fails) {
  for (size_t i = 0; i < n; ++i)
    if (fails({i})) return {i};
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  return ddmin(all, fails);
}

}  // namespace braid::difftest
