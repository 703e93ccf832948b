// What the JIT's helpers need from the runtime for one evaluation (BraidFrame::runtime points at it).
#pragma once

#include <cstdint>

#include "engine/interp.h"

namespace braid::rt {

struct JitContext {
  Interpreter* in = nullptr;              // the engine's interpreter (operators, fallbacks, per-event arena)
  const uint32_t* field_slot = nullptr;   // FieldId -> slot of the current source
  const StateView* state = nullptr;       // the event's session (session.* attributes), or nullptr
};

// The helper symbols by name, for defining them in the JIT's symbol table.
struct HelperSymbol {
  const char* name;
  void* address;
};
const HelperSymbol* helper_symbols(size_t& count);

}  // namespace braid::rt
