// Delta debugging (Zeller and Hildebrandt's ddmin) over index sets: the minimizer shrinks a failing case's rule
// files and then its event lines while the two engines still disagree.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace braid::difftest {

// `fails(subset)` runs the case restricted to the given indices (sorted) and says whether the difference persists.
using FailsFn = std::function<bool(const std::vector<size_t>&)>;

// A 1-minimal subset of `items` for which `fails` holds (removing any single element makes it pass). `fails(items)`
// must hold. Deterministic: subsets are tried in a fixed order.
std::vector<size_t> ddmin(std::vector<size_t> items, const FailsFn& fails);

// Rules: a difference almost always comes from one rule, so each rule alone is tried first (N runs instead of
// ddmin's more); only when no single rule fails does it fall back to ddmin.
std::vector<size_t> minimize_rules(size_t n, const FailsFn& fails);

}  // namespace braid::difftest
