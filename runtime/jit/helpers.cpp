// The runtime side of the JIT's C ABI (compiler/codegen/helper_abi.h). Each helper forwards to the reference
// interpreter's own operator functions, so native code and the interpreter share one definition of every
// operator the JIT does not inline.
#include "jit/helpers.h"

#include <strings.h>

#include <cstddef>
#include <cstring>

#include "codegen/helper_abi.h"
#include "engine/interp.h"

namespace braid::rt {

static_assert(sizeof(BraidValue) == sizeof(Value) && alignof(BraidValue) == alignof(Value),
              "BraidValue must have rt::Value's layout");
static_assert(offsetof(BraidValue, len) == 4 && offsetof(BraidValue, u) == 8, "BraidValue layout");
static_assert(static_cast<int>(Tag::String) == BRAID_TAG_STRING && static_cast<int>(Tag::List) == BRAID_TAG_LIST &&
                  static_cast<int>(Tag::Json) == BRAID_TAG_JSON && static_cast<int>(Tag::Bool) == BRAID_TAG_BOOL,
              "tags must agree");

namespace {
const Value& V(const BraidValue* v) { return *reinterpret_cast<const Value*>(v); }
JitContext& ctx_of(BraidFrame* f) { return *static_cast<JitContext*>(f->runtime); }
ir::Op any_op(uint32_t op) {
  return op == 0 ? ir::Op::ContainsAny : op == 1 ? ir::Op::StartsWithAny : op == 2 ? ir::Op::EndsWithAny : ir::Op::LikeAny;
}
ir::Op str_op(uint32_t op) {
  return op == 0 ? ir::Op::Contains : op == 1 ? ir::Op::StartsWith : op == 2 ? ir::Op::EndsWith : ir::Op::Like;
}
}  // namespace

}  // namespace braid::rt

using braid::rt::ctx_of;
using braid::rt::V;

extern "C" {

int32_t braid_rt_compare(const BraidValue* a, const BraidValue* b, uint32_t flags) {
  auto c = braid::rt::compare_values(V(a), V(b), (flags & BRAID_CMP_NOCASE) != 0, (flags & BRAID_CMP_AS_IP) != 0);
  return c ? *c : 2;
}

uint8_t braid_rt_strop(uint32_t op, const char* s, uint32_t slen, const char* p, uint32_t plen, uint32_t nocase) {
  return braid::rt::Interpreter::string_op(braid::rt::str_op(op), std::string_view(s, slen),
                                           std::string_view(p, plen), nocase != 0);
}

uint8_t braid_rt_matches(BraidFrame* frame, uint32_t regex, uint32_t nocase, const char* s, uint32_t len) {
  return ctx_of(frame).in->matches(regex, nocase != 0, std::string_view(s, len));
}

uint8_t braid_rt_anyop(BraidFrame* frame, uint32_t op, uint32_t set, uint32_t nocase, const char* s, uint32_t len) {
  return ctx_of(frame).in->any_of(braid::rt::any_op(op), set, nocase != 0, std::string_view(s, len));
}

uint8_t braid_rt_inset(BraidFrame* frame, uint32_t set, uint32_t nocase, const BraidValue* x) {
  return ctx_of(frame).in->in_set(set, nocase != 0, V(x));
}

uint8_t braid_rt_incidr(BraidFrame* frame, uint32_t cidr_set, const char* s, uint32_t len) {
  return ctx_of(frame).in->in_cidr(cidr_set, std::string_view(s, len));
}

void braid_rt_concat(BraidFrame* frame, const char* a, uint32_t alen, const char* b, uint32_t blen, BraidValue* out) {
  braid::rt::Value v = ctx_of(frame).in->concat(std::string_view(a, alen), std::string_view(b, blen));
  std::memcpy(out, &v, sizeof v);
}

void braid_rt_eval(BraidFrame* frame, uint32_t node, uint32_t bindings, BraidValue* out) {
  braid::rt::JitContext& c = ctx_of(frame);
  for (uint32_t b = 0; b < bindings && b < BRAID_MAX_BINDINGS; ++b) c.in->set_elem(b, V(&frame->elems[b]));
  braid::rt::EvalContext ectx{reinterpret_cast<const braid::rt::Value*>(frame->slots), c.field_slot, c.state};
  braid::rt::Value v = c.in->eval(node, ectx);
  std::memcpy(out, &v, sizeof v);
}

}  // extern "C"

namespace braid::rt {

const HelperSymbol* helper_symbols(size_t& count) {
  static const HelperSymbol table[] = {
      {"braid_rt_compare", reinterpret_cast<void*>(&braid_rt_compare)},
      {"braid_rt_strop", reinterpret_cast<void*>(&braid_rt_strop)},
      {"braid_rt_matches", reinterpret_cast<void*>(&braid_rt_matches)},
      {"braid_rt_anyop", reinterpret_cast<void*>(&braid_rt_anyop)},
      {"braid_rt_inset", reinterpret_cast<void*>(&braid_rt_inset)},
      {"braid_rt_incidr", reinterpret_cast<void*>(&braid_rt_incidr)},
      {"braid_rt_eval", reinterpret_cast<void*>(&braid_rt_eval)},
      {"braid_rt_concat", reinterpret_cast<void*>(&braid_rt_concat)},
      {"memcmp", reinterpret_cast<void*>(&memcmp)},
      {"bcmp", reinterpret_cast<void*>(&bcmp)},
      {"memcpy", reinterpret_cast<void*>(&memcpy)},
      {"memset", reinterpret_cast<void*>(&memset)},
  };
  count = sizeof table / sizeof table[0];
  return table;
}

}  // namespace braid::rt
