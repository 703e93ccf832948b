// A small unified diff (for `braid fmt --diff`): line based, three lines of context, `patch -p0` compatible.
#pragma once

#include <string>
#include <string_view>

namespace braid::cli {

// Empty when `before` and `after` are equal.
std::string unified_diff(std::string_view path, std::string_view before, std::string_view after);

}  // namespace braid::cli
