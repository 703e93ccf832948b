// The reference interpreter: evaluates typed IR expressions (compiler/ir/ir.h) over runtime Values.
//
// It DEFINES the semantics the JIT must reproduce. Every rule below is also stated in docs/language.md
// ("Runtime semantics"); where the two disagree, fix one of them.
//
// Contexts
// - Event context: EvalContext::slots holds the current event's values converted to its source's schema, indexed
//   by slot; Field loads go through field_slot (FieldId -> slot of that source, kNone -> null). Attr reads go to
//   EvalContext::state (the event's session; null attributes when there is none).
// - Session/chain context: Agg, Seq and Attr go to EvalContext::state; Field loads are never evaluated there.
//
// Values and null (docs/language.md 8): every comparison, string operator, InSet, InCidr with a null operand is
// false; arithmetic and builtins with a null operand give null (Coalesce and Exists excepted); in a boolean
// position (Not/And/Or operands, test()) anything but Bool true is false. A value whose run-time type does not fit
// the operator (an `object` value that is a number under `contains`, a JSON object under `==` with a string) is
// treated like null.
//
// Comparisons (Eq, Lt, Le, Gt, Ge): numbers compare numerically (int with float as doubles); time with time and
// duration with duration as integers; strings bytewise (UTF-8 code unit order); two values of IR type ip compare
// as addresses when both parse (IPv4 before IPv6; by bytes), else as text; bools with bools (false < true);
// raw JSON (objects/arrays in `object` fields) only with raw JSON, by exact text. Anything else: not comparable
// (false). Case-insensitive forms (kFlagNoCase, or an operand read from a `nocase` field: kFlagNocaseField) fold
// ASCII letters A-Z to a-z on both sides; other characters compare exactly (so do lower()/upper()). Matches with
// such a field uses the regex compiled case-insensitively (RE2's own Unicode folding).
//
// Strings: contains/startswith/endswith are bytewise. like is a whole-string glob: `*` any run (also empty),
// `?` exactly one UTF-8 character, `\` makes the next pattern character literal (a trailing `\` matches `\`).
// len() counts UTF-8 characters (code points; invalid bytes count one each) or list elements; null otherwise.
// matches is an unanchored RE2 search; replace() is RE2::GlobalReplace.
//
// Arithmetic: int overflow, division or modulo by zero (int or float), and float results that are NaN give
// null. time - time = duration; time +/- duration = time; duration * number and duration / number = duration
// (float factors: the product truncated toward zero; out of int64 range: null).
//
// InCidr: the subject (a string) is parsed as an IPv4 dotted quad or IPv6 text (inet_pton); unparsable -> false.
// IPv4 is never inside an IPv6 network and vice versa (no v4-mapped special case).
//
// Concatenation (`a + b` on strings): null unless both operands are strings (a null operand, or an `object` value that
// is not a string at run time, gives null, as in SQL).
//
// Memory: results of lower()/upper()/replace()/concatenation live in a scratch arena reset by reset() (once per event); the
// arena keeps its blocks, so the steady state does not allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"
#include "value.h"

namespace braid::rt {

// A bump allocator whose blocks are kept across reset().
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  char* alloc(size_t n, size_t align = 1);
  std::string_view copy(std::string_view s);
  Value* values(size_t n);
  void reset();
  size_t blocks() const { return blocks_.size(); }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> sizes_;
  size_t cur_ = 0, used_ = 0;
};

// Session/chain state and attributes, supplied by the engine.
class StateView {
 public:
  virtual ~StateView() = default;
  virtual Value attr(ir::Attribute a) const = 0;
  virtual Value agg(uint32_t index) const = 0;  // index into the rule's aggregates
  virtual bool seq(uint32_t index) const = 0;   // index into the rule's sequences
};

struct EvalContext {
  const Value* slots = nullptr;          // event context: values by slot
  const uint32_t* field_slot = nullptr;  // FieldId -> slot of the event's source (kNone: the source never reads it)
  const StateView* state = nullptr;      // attributes, aggregates, sequences (nullptr: all null/false)
};

// Three-way comparison; nullopt when the values are not comparable (null, or types that do not compare).
std::optional<int> compare_values(const Value& a, const Value& b, bool nocase, bool as_ip);

// Parses an IPv4/IPv6 address; false when it is not one. v6 = false: addr[0..3] hold the IPv4 address.
bool parse_ip(std::string_view text, uint8_t addr[16], bool& v6);

// ASCII case folding (A-Z -> a-z), the folding of every case-insensitive comparison.
inline char fold_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Whole-string glob: `*`, `?` (one UTF-8 character), `\` escape.
bool glob_match(std::string_view text, std::string_view pattern, bool nocase);

class Interpreter {
 public:
  // Compiles every regex of the program (and the case-insensitive variant of those used on nocase fields) and
  // builds the per-source FieldId -> slot tables. Throws std::runtime_error if RE2 rejects a regex (the checker
  // validated them, so this means a corrupt program).
  explicit Interpreter(const ir::Program& program);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  Value eval(ir::NodeId id, const EvalContext& ctx);
  // A condition: true iff the value is Bool true.
  bool test(ir::NodeId id, const EvalContext& ctx);

  // The operators eval() applies, on already evaluated operands: the JIT's helpers (runtime/jit) call these, so
  // both engines share one definition. `s` is a String value's bytes.
  bool matches(uint32_t regex, bool nocase, std::string_view s) const;
  bool any_of(ir::Op op, uint32_t set, bool nocase, std::string_view s) const;  // ContainsAny ... LikeAny
  bool in_set(uint32_t set, bool nocase, const Value& x);
  bool in_cidr(uint32_t cidr_set, std::string_view s) const;
  static bool string_op(ir::Op op, std::string_view s, std::string_view pattern, bool nocase);  // Contains ... Like
  // `a + b` on strings: a new string in the per-event arena.
  Value concat(std::string_view a, std::string_view b);
  // Sets the current element of a `[*]` binding, for evaluating a subexpression inside a quantifier body.
  void set_elem(uint32_t binding, const Value& v);

  // FieldId -> slot table of a source (size: program.fields.size()).
  const uint32_t* field_slots(uint32_t source) const { return field_slot_[source].data(); }

  Arena& arena() { return arena_; }
  void reset() { arena_.reset(); }

  const ir::Program& program() const { return p_; }

 private:
  struct Impl;
  const ir::Program& p_;
  std::vector<std::vector<uint32_t>> field_slot_;
  Arena arena_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::rt
