// The builtin functions' registry, derived from builtins.def (one row per builtin: read its header). The checker
// dispatches calls through it; the language server and the tests read it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ir/ir.h"

namespace braid {

enum class Builtin : uint8_t {
#define BRAID_BUILTIN(Id, ...) Id,
#include "check/builtins.def"
#undef BRAID_BUILTIN
};

// How Checker::call treats a builtin (builtins.def, "form").
enum class BuiltinForm : uint8_t {
  Function,  // a value of its arguments: the dispatcher checks the `.field` suffix and the argument count
  Special,      // reads the call as written and checks it itself; a macro of the same name wins
  SpecialPath,  // ... and a path after the call is read from its result: `json(f).a.b`, `first(step).field`
};

struct BuiltinInfo {
  Builtin id;
  std::string_view name;
  BuiltinForm form;
  uint32_t min_args, max_args;   // exactly min (== max) or at least min (max == ir::kVariadic)
  std::string_view signature;    // as the language server shows it
  std::string_view arity_error;  // BRD0206's message for a wrong argument count ("" when `check` never reports it)
  std::span<const ir::Op> ops;   // the IR ops it is lowered to
  constexpr bool takes(size_t n) const { return n >= min_args && (max_args == ir::kVariadic || n <= max_args); }
};

namespace builtin_detail {
#define BRAID_BUILTIN(Id, name, form, min, max, check, signature, arity_error, ...) \
  inline constexpr ir::Op k##Id##Ops[] = {__VA_ARGS__};
#include "check/builtins.def"
#undef BRAID_BUILTIN
}  // namespace builtin_detail

// In the order of builtins.def (the order of `Builtin`).
inline constexpr BuiltinInfo kBuiltinTable[] = {
#define BRAID_BUILTIN(Id, name, form, min, max, check, signature, arity_error, ...) \
  {Builtin::Id, name, BuiltinForm::form, min, max, signature, arity_error, builtin_detail::k##Id##Ops},
#include "check/builtins.def"
#undef BRAID_BUILTIN
};
inline constexpr size_t kBuiltinCount = sizeof(kBuiltinTable) / sizeof(kBuiltinTable[0]);

constexpr const BuiltinInfo& builtin_info(Builtin b) { return kBuiltinTable[static_cast<size_t>(b)]; }

// The row named `name`, or nullptr.
constexpr const BuiltinInfo* find_builtin(std::string_view name) {
  for (const BuiltinInfo& b : kBuiltinTable)
    if (b.name == name) return &b;
  return nullptr;
}

// Names are unique, and only a Special(Path) row may share its name with an aggregate: a Function row would hide it.
constexpr bool builtin_table_ok() {
  for (size_t i = 0; i < kBuiltinCount; ++i) {
    const BuiltinInfo& b = kBuiltinTable[i];
    if (static_cast<size_t>(b.id) != i || b.min_args > b.max_args) return false;
    for (size_t j = 0; j < i; ++j)
      if (kBuiltinTable[j].name == b.name) return false;
    if (b.form == BuiltinForm::Function)
      for (const ir::AggKindInfo& a : ir::kAggKinds)
        if (a.name == b.name) return false;
  }
  return true;
}
static_assert(builtin_table_ok(), "builtins.def: a name given twice, bad arity, or a Function row named like an aggregate");

}  // namespace braid
