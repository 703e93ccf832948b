// The linter (BRD08xx). See linter.h and compiler/diag/codes_lint.def for what each code flags and why.
//
// Everything here reads the typed IR only. The analyses are deliberately conservative: a lint warning that is
// wrong teaches people to ignore lint, so every "always true/false" claim below is a proof under the null
// semantics of docs/design-brief.md (1): a comparison with a null operand is false, a null in a boolean position
// is false, and Not/And/Or are two-valued on their (null-as-false) operands.
#include "lint/linter.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "ir/match_plan.h"

namespace braid {

namespace {

using ir::FieldId;
using ir::Kind;
using ir::Node;
using ir::NodeId;
using ir::Op;
using ir::kNoNode;
using ir::kNone;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool has_lower(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

enum class Tri : uint8_t { Unknown, False, True };

Tri tri(bool b) { return b ? Tri::True : Tri::False; }
Tri negate(Tri t) {
  if (t == Tri::True) return Tri::False;
  if (t == Tri::False) return Tri::True;
  return Tri::Unknown;
}

// Case-insensitive equality. Exact for ASCII; for other text only "equal bytes" is certain.
Tri fold_equal(std::string_view a, std::string_view b) {
  if (a == b) return Tri::True;
  if (is_ascii(a) && is_ascii(b)) return tri(ascii_lower(a) == ascii_lower(b));
  return Tri::Unknown;
}

// Classifications from the op table (compiler/ir/ops.def).
bool is_comparison(Op op) { return ir::op_is(op, ir::kOpComparison); }
bool is_any_op(Op op) { return ir::op_is(op, ir::kOpPatternSet); }
// A predicate that is false when one of its (non-constant) operands is null.
bool is_atom(Op op) { return ir::op_is(op, ir::kOpTest); }
// Operators whose result is null when an operand is null (coalesce excepted, on purpose).
bool null_propagating(Op op) { return ir::op_is(op, ir::kOpNullIn); }
// How the operator is written (`==`, `contains`, `in`, ...), for messages.
std::string_view op_word(Op op) { return ir::op_info(op).written; }

// A folded constant value.
struct Value {
  enum class K : uint8_t { Null, Bool, Int, Float, String };
  K k = K::Null;
  int64_t i = 0;
  double f = 0;
  std::string s;
};

// ---------------------------------------------------------------------------------------------------------------
// Field constraints, for contradictions such as `x == "a" and x == "b"` (BRD0804)

struct Constraint {
  enum class Kind : uint8_t { Eq, Ne, In, NotIn, Range };
  Kind kind = Kind::Eq;
  FieldId field = kNone;
  bool nocase = false;
  bool is_string = false;  // value/set elements are strings (else integers)
  std::string s;           // Eq/Ne string value
  int64_t i = 0;           // Eq/Ne integer value
  const ir::ConstSet* set = nullptr;  // In/NotIn
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();  // Range
  NodeId node = kNoNode;
};

// A value the field could take: an exact string/integer, or (cls) every spelling of a string up to case.
struct Candidate {
  bool is_string = false;
  bool cls = false;
  std::string s;
  int64_t i = 0;
};

bool may_equal(const Candidate& c, bool k_is_string, std::string_view ks, int64_t ki, bool k_nocase) {
  if (!c.is_string || !k_is_string) return c.is_string == k_is_string && c.i == ki;
  if (!c.cls && !k_nocase) return c.s == ks;
  return fold_equal(c.s, ks) != Tri::False;
}

bool must_equal(const Candidate& c, bool k_is_string, std::string_view ks, int64_t ki, bool k_nocase) {
  if (!c.is_string || !k_is_string) return c.is_string == k_is_string && c.i == ki;
  if (!c.cls && !k_nocase) return c.s == ks;
  if (!k_nocase) return false;  // a class of spellings is never entirely equal to one exact string
  return fold_equal(c.s, ks) == Tri::True;
}

bool accepts(const Constraint& k, const Candidate& c) {
  switch (k.kind) {
    case Constraint::Kind::Eq: return may_equal(c, k.is_string, k.s, k.i, k.nocase);
    case Constraint::Kind::Ne: return !must_equal(c, k.is_string, k.s, k.i, k.nocase);
    case Constraint::Kind::In:
      if (k.is_string) {
        return std::any_of(k.set->strings.begin(), k.set->strings.end(),
                           [&](const std::string& e) { return may_equal(c, true, e, 0, k.nocase); });
      }
      return std::any_of(k.set->ints.begin(), k.set->ints.end(),
                         [&](int64_t e) { return may_equal(c, false, "", e, false); });
    case Constraint::Kind::NotIn:
      if (k.is_string) {
        return !std::any_of(k.set->strings.begin(), k.set->strings.end(),
                            [&](const std::string& e) { return must_equal(c, true, e, 0, k.nocase); });
      }
      return !std::any_of(k.set->ints.begin(), k.set->ints.end(),
                          [&](int64_t e) { return must_equal(c, false, "", e, false); });
    case Constraint::Kind::Range:
      return c.is_string || (c.i >= k.lo && c.i <= k.hi);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// The linter

struct Reason {
  std::vector<std::pair<Span, std::string>> related;
};

class Linter {
 public:
  Linter(const ir::Program& p, const SourceManager& sm, DiagnosticSink& sink, const LintOptions& opts)
      : p_(p), sm_(sm), sink_(sink), opts_(opts) {}

  void run() {
    for (const ir::Rule& r : p_.rules) {
      if (!opts_.lint_stdlib && rule_is_stdlib(r)) continue;
      lint_rule(r);
    }
    lint_declarations();
    lint_tunings();
  }

 private:
  const ir::Program& p_;
  const SourceManager& sm_;
  DiagnosticSink& sink_;
  const LintOptions& opts_;

  const ir::Rule* rule_ = nullptr;
  std::optional<ir::MatchPlan> plan_;  // BRD0811, built on first use
  std::unordered_map<NodeId, Tri> memo_;
  std::unordered_map<NodeId, Reason> reasons_;
  struct Binding {
    FieldId field = kNone;  // the list field an AnyElem iterates (kNone when it is not a field)
    Span span;              // where that list was written
  };
  std::vector<Binding> bindings_;  // by AnyElem binding

  // ----------------------------------------------------------------------------------------------------------
  // Origins

  bool span_is_stdlib(const Span& s) const {
    return s.valid() && s.file < sm_.size() && starts_with(sm_.file(s.file).path(), kLintStdlibPrefix);
  }

  bool rule_is_stdlib(const ir::Rule& r) const {
    if (starts_with(r.file_path, kLintStdlibPrefix)) return true;
    return span_is_stdlib(r.spans.rule) || span_is_stdlib(r.spans.name);
  }

  Span rule_anchor(const ir::Rule& r) const {
    if (r.spans.name.valid()) return r.spans.name;
    return r.spans.rule;
  }

  const Node& node(NodeId id) const { return p_.node(id); }
  NodeId opnd(const Node& n, uint32_t i) const { return p_.op(n, i); }
  bool valid(NodeId id) const { return id != kNoNode && id < p_.nodes.size(); }

  std::string field_text(FieldId f) const { return f < p_.fields.size() ? p_.fields[f].text : "?"; }

  // What to guard a field with: the path itself, or for `list[*].x` the list (`exists(list)`).
  std::string guard_text(FieldId f) const {
    std::string t = field_text(f);
    size_t any = t.find("[*]");
    return any == std::string::npos || any == 0 ? t : t.substr(0, any);
  }

  // Short source text of a node for messages, or empty when it is long, multi-line or unknown.
  std::string snippet(const Node& n) const {
    std::string_view s = sm_.slice(n.span);
    if (s.empty() || s.size() > 80 || s.find('\n') != std::string_view::npos) return {};
    return std::string(s);
  }

  // ----------------------------------------------------------------------------------------------------------
  // Field facts for the current rule (from the source slots, falling back to the node flags)

  const ir::Slot* slot(const ir::Source& s, FieldId f) const {
    uint32_t i = s.slot_of(f);
    return i == kNone || i >= s.slots.size() ? nullptr : &s.slots[i];
  }

  // Some source of the rule may lack the field. nullopt: no source of the rule has a slot for it.
  std::optional<bool> field_optional(FieldId f) const {
    std::optional<bool> out;
    for (uint32_t si : rule_->sources) {
      if (si >= p_.sources.size()) continue;
      if (const ir::Slot* sl = slot(p_.sources[si], f)) out = out.value_or(false) || sl->optional;
    }
    return out;
  }

  bool field_nocase(FieldId f) const {
    for (uint32_t si : rule_->sources) {
      if (si >= p_.sources.size()) continue;
      if (const ir::Slot* sl = slot(p_.sources[si], f); sl && sl->nocase) return true;
    }
    return false;
  }

  bool plain_field(const Node& n) const {
    return n.op == Op::Field && static_cast<uint64_t>(n.imm) < p_.fields.size() &&
           !p_.fields[static_cast<FieldId>(n.imm)].has_any();
  }

  // The fields whose absence makes `id` null.
  void nullable_fields(NodeId id, std::vector<FieldId>& out) const {
    if (!valid(id)) return;
    const Node& n = node(id);
    if (n.op == Op::Field) {
      out.push_back(static_cast<FieldId>(n.imm));
    } else if (null_propagating(n.op)) {
      for (NodeId c : p_.ops(n)) nullable_fields(c, out);
    }
  }

  // The fields whose absence makes the predicate `id` false, one vector per operand "side". Empty when `id` is
  // not an atom (a comparison, string operator, `in`, or `[*]` quantification of one).
  std::vector<std::vector<FieldId>> atom_sides(NodeId id) const {
    std::vector<std::vector<FieldId>> sides;
    if (!valid(id)) return sides;
    const Node& n = node(id);
    if (is_atom(n.op)) {
      for (NodeId c : p_.ops(n)) {
        sides.emplace_back();
        nullable_fields(c, sides.back());
      }
    } else if (n.op == Op::AnyElem && n.ops_count == 2) {
      sides.emplace_back();
      nullable_fields(opnd(n, 0), sides.back());
      std::vector<std::vector<FieldId>> body = atom_sides(opnd(n, 1));
      if (body.empty()) return {};
      sides.emplace_back();
      for (auto& b : body) sides.back().insert(sides.back().end(), b.begin(), b.end());
    }
    return sides;
  }

  bool prefix_of(const ir::FieldPath& a, const ir::FieldPath& b) const {
    if (a.segs.size() > b.segs.size()) return false;
    return std::equal(a.segs.begin(), a.segs.end(), b.segs.begin());
  }

  bool guarded(FieldId f, const std::set<FieldId>& guards) const {
    if (guards.count(f)) return true;
    if (f >= p_.fields.size()) return false;
    const ir::FieldPath& fp = p_.fields[f];
    for (FieldId g : guards) {
      if (g >= p_.fields.size()) continue;
      const ir::FieldPath& gp = p_.fields[g];
      // `exists(a.b.c)` implies `a.b` is present.
      if (prefix_of(fp, gp)) return true;
      // `exists(list)` guards `list[*].x`.
      if (prefix_of(gp, fp) && gp.segs.size() < fp.segs.size() &&
          fp.segs[gp.segs.size()].kind == ir::PathSeg::Kind::Any)
        return true;
    }
    return false;
  }

  // `coalesce(f, k) == c` (or, `negated`, `coalesce(f, k) != c`) can only hold when f is present if it is false
  // with f's default k in its place: then the comparison guards f. The field, or kNone.
  FieldId coalesce_guard(NodeId id, bool negated) const {
    if (!valid(id)) return kNone;
    const Node& n = node(id);
    if (n.op != Op::Eq || n.ops_count != 2) return kNone;
    for (uint32_t i = 0; i < 2; ++i) {
      const Node& co = node(opnd(n, i));
      if (co.op != Op::Coalesce || co.ops_count != 2 || node(opnd(co, 0)).op != Op::Field) continue;
      std::optional<Value> k = value_of(opnd(co, 1)), c = value_of(opnd(n, 1 - i));
      if (!k || !c || k->k != c->k || k->k == Value::K::Null) return kNone;
      Tri eq = Tri::Unknown;
      if (k->k == Value::K::String) {
        bool nocase = n.has(ir::kFlagNoCase) || n.has(ir::kFlagNocaseField);
        eq = nocase ? fold_equal(k->s, c->s) : (k->s == c->s ? Tri::True : Tri::False);
      } else if (k->k == Value::K::Int || k->k == Value::K::Bool) {
        eq = k->i == c->i ? Tri::True : Tri::False;
      }
      // With the default, `==` must be false (for `==` to prove presence) or true (for `!=`).
      if (eq == (negated ? Tri::True : Tri::False)) return static_cast<FieldId>(node(opnd(co, 0)).imm);
      return kNone;
    }
    return kNone;
  }

  // Fields a conjunct proves present when it is true (exists(f), `f is not null`, a positive atom on f, and
  // `coalesce(f, "") != ""`-style tests that fail on the default).
  void collect_guards(NodeId id, std::set<FieldId>& out) const {
    if (!valid(id)) return;
    const Node& n = node(id);
    if (n.op == Op::And) {
      for (NodeId c : p_.ops(n)) collect_guards(c, out);
    } else if (n.op == Op::Exists && n.ops_count == 1) {
      const Node& x = node(opnd(n, 0));
      if (x.op == Op::Field) out.insert(static_cast<FieldId>(x.imm));
    } else if (n.op == Op::Not && n.ops_count == 1) {
      const Node& x = node(opnd(n, 0));
      if (x.op == Op::Not && x.ops_count == 1) collect_guards(opnd(x, 0), out);
      if (FieldId f = coalesce_guard(opnd(n, 0), true); f != kNone) out.insert(f);
    } else {
      for (auto& side : atom_sides(id)) out.insert(side.begin(), side.end());
      if (FieldId f = coalesce_guard(id, false); f != kNone) out.insert(f);
    }
  }

  // Disjuncts `f is null` of an Or: then a negated comparison on f beside them does not change the result.
  void collect_null_checks(NodeId id, std::set<FieldId>& out) const {
    if (!valid(id)) return;
    const Node& n = node(id);
    if (n.op == Op::Or) {
      for (NodeId c : p_.ops(n)) collect_null_checks(c, out);
    } else if (n.op == Op::Not && n.ops_count == 1) {
      const Node& x = node(opnd(n, 0));
      if (x.op == Op::Exists && x.ops_count == 1) {
        const Node& f = node(opnd(x, 0));
        if (f.op == Op::Field) out.insert(static_cast<FieldId>(f.imm));
      }
    }
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0801 / BRD0802: negated comparisons on fields that can be missing

  void check_missing(NodeId id, bool positive, const std::set<FieldId>& guards) {
    if (!valid(id)) return;
    const Node& n = node(id);
    switch (n.op) {
      case Op::And: {
        if (!positive) {
          for (NodeId c : p_.ops(n)) check_missing(c, positive, guards);
          return;
        }
        std::set<FieldId> g = guards;
        for (NodeId c : p_.ops(n)) collect_guards(c, g);
        for (NodeId c : p_.ops(n)) check_missing(c, positive, g);
        return;
      }
      case Op::Or: {
        std::set<FieldId> g = guards;
        if (positive)
          for (NodeId c : p_.ops(n)) collect_null_checks(c, g);
        for (NodeId c : p_.ops(n)) check_missing(c, positive, g);
        return;
      }
      case Op::Not: {
        if (n.ops_count != 1) return;
        if (positive) report_negated(id, guards);
        check_missing(opnd(n, 0), !positive, guards);
        return;
      }
      case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
      case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt:
      case Op::Ge: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
      case Op::ToFloat: case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
      case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
        return;  // atoms have no boolean sub-positions worth visiting (AnyElem bodies are atoms)
    }
  }

  void report_negated(NodeId not_id, const std::set<FieldId>& guards) {
    const Node& n = node(not_id);
    NodeId inner = opnd(n, 0);
    std::vector<std::vector<FieldId>> sides = atom_sides(inner);
    if (sides.empty()) return;
    std::vector<std::vector<FieldId>> open(sides.size());
    size_t open_sides = 0;
    std::vector<FieldId> all;
    for (size_t i = 0; i < sides.size(); ++i) {
      for (FieldId f : sides[i]) {
        if (guarded(f, guards)) continue;
        std::optional<bool> opt = field_optional(f);
        if (!opt.value_or(node(inner).has(ir::kFlagOptionalOperand))) continue;
        if (std::find(open[i].begin(), open[i].end(), f) == open[i].end()) open[i].push_back(f);
        if (std::find(all.begin(), all.end(), f) == all.end()) all.push_back(f);
      }
      if (!open[i].empty()) ++open_sides;
    }
    if (all.empty()) return;

    std::string text = snippet(n);
    std::string shown = text.empty() ? std::string("this negated comparison") : fmt::format("`{}`", text);
    std::string where = n.has(ir::kFlagFromMacro) ? " (in the macro expanded here)" : "";
    std::string body = text.empty() ? std::string("...") : text;
    bool sugar = n.has(ir::kFlagSugar);
    std::vector<FieldId> firsts;
    for (auto& o : open)
      if (!o.empty() && std::find(firsts.begin(), firsts.end(), o.front()) == firsts.end()) firsts.push_back(o.front());
    if (open_sides >= 2 && firsts.size() >= 2) {
      FieldId a = firsts[0], b = firsts[1];
      Diagnostic& d = sink_.report(
          Code::BRD0802, n.span,
          fmt::format("`{}` and `{}` can both be missing, and then {}{} is true", field_text(a), field_text(b),
                      shown, where));
      d.help = fmt::format(
          "a missing field is null and every comparison with null is false, so the negation is true; guard both "
          "fields: `exists({}) and exists({}) and {}`",
          guard_text(a), guard_text(b), body);
      return;
    }
    FieldId f = all.front();
    std::string fs = guard_text(f);
    Diagnostic& d = sink_.report(
        Code::BRD0801, n.span,
        fmt::format("`{}` can be missing, and then {}{} is true", field_text(f), shown, where));
    d.help = fmt::format(
        "{} is `not` of the positive comparison, which is false when `{}` is missing; if such events should not "
        "match, write `exists({}) and {}`; if they should, say so with `{} is null or {}`",
        sugar ? "a negated operator" : "`not`", fs, fs, body, fs, body);
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0803: case-sensitive comparison of a `nocase` field with a constant that has upper-case letters

  // The field an operand reads directly (a Field, or the element of a `[*]` list field).
  std::optional<FieldId> direct_field(NodeId id) const {
    if (!valid(id)) return std::nullopt;
    const Node& n = node(id);
    if (n.op == Op::Field) return static_cast<FieldId>(n.imm);
    if (n.op == Op::Elem && n.imm >= 0 && static_cast<size_t>(n.imm) < bindings_.size() &&
        bindings_[static_cast<size_t>(n.imm)].field != kNone)
      return bindings_[static_cast<size_t>(n.imm)].field;
    // A member of one element of a zipped list (`any()` over several paths of one element).
    if (n.op == Op::ListAt && n.ops_count == 1 && n.imm >= 0) {
      std::optional<FieldId> zf = direct_field(opnd(n, 0));
      if (zf && *zf < p_.fields.size() && static_cast<size_t>(n.imm) < p_.fields[*zf].zip.size())
        return p_.fields[*zf].zip[static_cast<size_t>(n.imm)];
    }
    return std::nullopt;
  }

  // Skips spaces and comments from `pos` in `t`.
  static size_t skip_blank(std::string_view t, size_t pos) {
    while (pos < t.size()) {
      char c = t[pos];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos;
      } else if (t.substr(pos, 2) == "//") {
        while (pos < t.size() && t[pos] != '\n') ++pos;
      } else if (t.substr(pos, 2) == "/*") {
        size_t e = t.find("*/", pos + 2);
        pos = e == std::string_view::npos ? t.size() : e + 2;
      } else {
        break;
      }
    }
    return pos;
  }

  static bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

  // The operator token written after `lhs` (for the `~` fix-it), or an invalid span when it cannot be found.
  Span operator_span(const Span& lhs, const Span& limit, std::string_view want_word, bool negated) const {
    if (!lhs.valid() || lhs.file >= sm_.size() || want_word.empty()) return {};
    std::string_view t = sm_.file(lhs.file).text();
    size_t pos = skip_blank(t, lhs.end);
    if (want_word == "==") {
      std::string_view tok = negated ? "!=" : "==";
      if (t.substr(pos, 2) != tok || t.substr(pos + 2, 1) == "~") return {};
      if (limit.valid() && pos + 2 > limit.end) return {};
      return Span{lhs.file, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + 2)};
    }
    if (negated) {
      if (t.substr(pos, 3) != "not" || (pos + 3 < t.size() && ident_char(t[pos + 3]))) return {};
      pos = skip_blank(t, pos + 3);
    }
    if (t.substr(pos, want_word.size()) != want_word) return {};
    size_t e = pos + want_word.size();
    if (e < t.size() && (ident_char(t[e]) || t[e] == '~')) return {};
    if (limit.valid() && e > limit.end) return {};
    return Span{lhs.file, static_cast<uint32_t>(pos), static_cast<uint32_t>(e)};
  }

  // `sugar_not`: the `!=` / `not in` node directly above (through a `[*]` quantifier), or kNoNode.
  void check_case(NodeId id, NodeId sugar_not) {
    if (!valid(id)) return;
    const Node& n = node(id);
    if (n.op == Op::AnyElem && n.ops_count == 2) {
      check_case(opnd(n, 0), kNoNode);
      std::optional<FieldId> lf = direct_field(opnd(n, 0));
      size_t b = n.imm >= 0 ? static_cast<size_t>(n.imm) : 0;
      if (bindings_.size() <= b) bindings_.resize(b + 1, Binding{});
      Binding saved = bindings_[b];
      bindings_[b] = Binding{lf.value_or(kNone), node(opnd(n, 0)).span};
      check_case(opnd(n, 1), sugar_not);
      bindings_[b] = saved;
      return;
    }
    bool sugar = n.op == Op::Not && n.has(ir::kFlagSugar);
    for (NodeId c : p_.ops(n)) check_case(c, sugar ? id : kNoNode);
    if (n.has(ir::kFlagNoCase) || n.has(ir::kFlagCased)) return;  // `~` or `cased`: the author chose

    std::optional<FieldId> field;
    std::string constant;
    NodeId lhs = kNoNode;
    if (n.op == Op::Eq || n.op == Op::Contains || n.op == Op::StartsWith || n.op == Op::EndsWith ||
        n.op == Op::Like) {
      if (n.ops_count != 2) return;
      for (uint32_t i = 0; i < 2; ++i) {
        // Only the subject of a string operator is a field value; a field used as the pattern is not.
        if (n.op != Op::Eq && i != 0) break;
        std::optional<FieldId> f = direct_field(opnd(n, i));
        const Node& other = node(opnd(n, 1 - i));
        if (!f || other.op != Op::String || static_cast<uint64_t>(other.imm) >= p_.strings.size()) continue;
        const std::string& s = p_.strings[static_cast<size_t>(other.imm)];
        if (!has_upper(s)) continue;
        field = f;
        constant = s;
        lhs = opnd(n, 0);
        break;
      }
    } else if (n.op == Op::InSet || is_any_op(n.op)) {
      if (n.ops_count != 1 || n.imm < 0 || static_cast<uint64_t>(n.imm) >= p_.sets.size()) return;
      const ir::ConstSet& set = p_.sets[static_cast<size_t>(n.imm)];
      if (set.nocase) return;
      field = direct_field(opnd(n, 0));
      for (const std::string& s : set.strings) {
        if (has_upper(s)) {
          constant = s;
          break;
        }
      }
      if (constant.empty()) return;
      lhs = opnd(n, 0);
    } else {
      return;
    }
    if (!field) return;
    if (!field_nocase(*field) && !n.has(ir::kFlagNocaseField)) return;

    bool negated = valid(sugar_not);
    std::string_view word = op_word(n.op);
    std::string written, fixed;
    if (n.op == Op::Eq) {
      written = negated ? "!=" : "==";
    } else {
      written = negated ? fmt::format("not {}", word) : std::string(word);
    }
    fixed = written + "~";
    Span at = negated && node(sugar_not).span.valid() ? node(sugar_not).span : n.span;

    bool macro = n.has(ir::kFlagFromMacro);
    Diagnostic& d = sink_.report(
        Code::BRD0803, at,
        fmt::format("`{}` is declared `nocase`, but `{}` compares it case-sensitively with \"{}\"{}",
                    field_text(*field), written, constant, macro ? " (in the macro expanded here)" : ""));
    d.help = fmt::format("values of a `nocase` field come in any case; use `{}` to match them all", fixed);

    // The fix-it: the operator token, found in the text right after the left operand.
    if (macro || !valid(lhs)) return;
    const Node& l = node(lhs);
    Span lspan = l.span;
    if (l.op == Op::Elem && l.imm >= 0 && static_cast<size_t>(l.imm) < bindings_.size())
      lspan = bindings_[static_cast<size_t>(l.imm)].span;
    Span op_span = operator_span(lspan, at, n.op == Op::Eq ? std::string_view("==") : word, negated);
    if (!op_span.valid()) return;
    d.fix = FixIt{op_span, std::string(sm_.slice(op_span)) + "~"};
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0804: constant folding

  std::optional<Value> value_of(NodeId id) const {
    if (!valid(id)) return std::nullopt;
    const Node& n = node(id);
    Value v;
    switch (n.op) {
      case Op::Null: v.k = Value::K::Null; return v;
      case Op::Bool: v.k = Value::K::Bool; v.i = n.imm != 0; return v;
      case Op::Int: case Op::Duration: v.k = Value::K::Int; v.i = n.imm; return v;
      case Op::Float: v.k = Value::K::Float; v.f = n.float_value(); return v;
      case Op::String:
        if (n.imm < 0 || static_cast<uint64_t>(n.imm) >= p_.strings.size()) return std::nullopt;
        v.k = Value::K::String;
        v.s = p_.strings[static_cast<size_t>(n.imm)];
        return v;
      case Op::Neg: {
        if (n.ops_count != 1) return std::nullopt;
        auto x = value_of(opnd(n, 0));
        if (!x) return std::nullopt;
        if (x->k == Value::K::Null) return x;
        if (x->k == Value::K::Int && x->i != std::numeric_limits<int64_t>::min()) {
          x->i = -x->i;
          return x;
        }
        if (x->k == Value::K::Float) {
          x->f = -x->f;
          return x;
        }
        return std::nullopt;
      }
      case Op::ToFloat: {
        if (n.ops_count != 1) return std::nullopt;
        auto x = value_of(opnd(n, 0));
        if (!x) return std::nullopt;
        if (x->k == Value::K::Null) return x;
        if (x->k != Value::K::Int) return std::nullopt;
        x->k = Value::K::Float;
        x->f = static_cast<double>(x->i);
        return x;
      }
      case Op::Lower: case Op::Upper: {
        if (n.ops_count != 1) return std::nullopt;
        auto x = value_of(opnd(n, 0));
        if (!x) return std::nullopt;
        if (x->k == Value::K::Null) return x;
        if (x->k != Value::K::String || !is_ascii(x->s)) return std::nullopt;
        x->s = n.op == Op::Lower ? ascii_lower(x->s) : ascii_upper(x->s);
        return x;
      }
      case Op::Set: case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And:
      case Op::Or: case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Add: case Op::Sub:
      case Op::Mul: case Op::Div: case Op::Mod: case Op::Contains: case Op::StartsWith: case Op::EndsWith:
      case Op::Like: case Op::Matches: case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny:
      case Op::LikeAny: case Op::InSet: case Op::InCidr: case Op::Exists: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
        return std::nullopt;
    }
    return std::nullopt;
  }

  static Tri compare_values(Op op, const Value& a, const Value& b, bool nocase) {
    if (a.k == Value::K::Null || b.k == Value::K::Null) return Tri::False;
    auto order = [&](auto x, auto y) -> Tri {
      switch (op) {
        case Op::Eq: return tri(x == y);
        case Op::Lt: return tri(x < y);
        case Op::Le: return tri(x <= y);
        case Op::Gt: return tri(x > y);
        case Op::Ge: return tri(x >= y);
        case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
        case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or:
        case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod: case Op::ToFloat:
        case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
        case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
        case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
        case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
          return Tri::Unknown;
      }
      return Tri::Unknown;
    };
    if ((a.k == Value::K::Int || a.k == Value::K::Bool) && a.k == b.k) return order(a.i, b.i);
    if (a.k == Value::K::Float && b.k == Value::K::Float) {
      if (a.f != a.f || b.f != b.f) return Tri::Unknown;  // NaN
      return order(a.f, b.f);
    }
    if (a.k == Value::K::String && b.k == Value::K::String) {
      if (nocase) return op == Op::Eq ? fold_equal(a.s, b.s) : Tri::Unknown;
      return order(std::string_view(a.s), std::string_view(b.s));
    }
    return Tri::Unknown;
  }

  // A non-negative, integer-valued operand: count/distinct aggregates, len(), count-like attributes.
  // `nullable`: it can be null (len of a missing value).
  bool non_negative(NodeId id, bool& nullable) const {
    if (!valid(id)) return false;
    const Node& n = node(id);
    if (n.op == Op::ToFloat && n.ops_count == 1) return non_negative(opnd(n, 0), nullable);
    if (n.op == Op::Len) {
      nullable = true;
      return true;
    }
    if (n.op == Op::Agg && rule_ && n.imm >= 0 && static_cast<uint64_t>(n.imm) < rule_->aggregates.size()) {
      ir::AggKind k = rule_->aggregates[static_cast<size_t>(n.imm)].kind;
      nullable = false;
      return k == ir::AggKind::Count || k == ir::AggKind::Distinct;
    }
    if (n.op == Op::Attr) {
      auto a = static_cast<ir::Attribute>(n.imm);
      nullable = false;
      return a == ir::Attribute::SessionEvents || a == ir::Attribute::SessionSourceIps ||
             a == ir::Attribute::SessionDuration || a == ir::Attribute::ChainDepth ||
             a == ir::Attribute::ChainIdentities || a == ir::Attribute::ChainAccounts;
    }
    return false;
  }

  static Op mirror(Op op) {
    switch (op) {
      case Op::Lt: return Op::Gt;
      case Op::Le: return Op::Ge;
      case Op::Gt: return Op::Lt;
      case Op::Ge: return Op::Le;
      case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
      case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or:
      case Op::Eq: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
      case Op::ToFloat: case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
      case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
        return op;
    }
    return op;
  }

  // `x op c` with x >= 0 (possibly null).
  static Tri compare_non_negative(Op op, const Value& c, bool nullable) {
    double v;
    if (c.k == Value::K::Int) v = static_cast<double>(c.i);
    else if (c.k == Value::K::Float && c.f == c.f) v = c.f;
    else return Tri::Unknown;
    switch (op) {
      case Op::Lt: if (v <= 0) return Tri::False; break;
      case Op::Le: case Op::Eq: if (v < 0) return Tri::False; break;
      case Op::Ge: if (v <= 0 && !nullable) return Tri::True; break;
      case Op::Gt: if (v < 0 && !nullable) return Tri::True; break;
      case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
      case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or:
      case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod: case Op::ToFloat:
      case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
      case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
        break;
    }
    return Tri::Unknown;
  }

  // lower(x)/upper(x) can never produce a constant with the other case.
  bool impossible_case(NodeId subject, std::string_view constant) const {
    if (!valid(subject)) return false;
    const Node& s = node(subject);
    if (s.op == Op::Lower) return has_upper(constant);
    if (s.op == Op::Upper) return has_lower(constant);
    return false;
  }

  void add_reason(NodeId id, Span s, std::string msg) { reasons_[id].related.emplace_back(s, std::move(msg)); }

  std::vector<NodeId> flatten(NodeId id, Op op) const {
    std::vector<NodeId> out;
    std::vector<NodeId> stack{id};
    while (!stack.empty()) {
      NodeId x = stack.back();
      stack.pop_back();
      if (!valid(x)) continue;
      const Node& n = node(x);
      if (n.op == op) {
        auto ops = p_.ops(n);
        for (auto it = ops.rbegin(); it != ops.rend(); ++it) stack.push_back(*it);
      } else {
        out.push_back(x);
      }
    }
    return out;
  }

  bool same(NodeId a, NodeId b) const {
    if (a == b) return true;
    if (!valid(a) || !valid(b)) return false;
    const Node& x = node(a);
    const Node& y = node(b);
    if (x.op != y.op || x.imm != y.imm || !(x.type == y.type) || x.ops_count != y.ops_count) return false;
    if (x.has(ir::kFlagNoCase) != y.has(ir::kFlagNoCase)) return false;
    for (uint32_t i = 0; i < x.ops_count; ++i)
      if (!same(opnd(x, i), opnd(y, i))) return false;
    return true;
  }

  // Peels Not nodes: the base predicate and whether an odd number of Nots was peeled.
  std::pair<NodeId, bool> peel(NodeId id) const {
    bool neg = false;
    while (valid(id) && node(id).op == Op::Not && node(id).ops_count == 1) {
      id = opnd(node(id), 0);
      neg = !neg;
    }
    return {id, neg};
  }

  // A constraint on a plain field from `id` (taken as true when positive, as false otherwise).
  std::optional<Constraint> constraint_of(NodeId id, bool positive) const {
    auto [base, neg] = peel(id);
    if (neg) positive = !positive;
    if (!valid(base)) return std::nullopt;
    const Node& n = node(base);
    Constraint k;
    k.node = id;
    k.nocase = n.has(ir::kFlagNoCase);
    auto field_kind_ok = [](Kind kind) {
      return kind == Kind::String || kind == Kind::Int || kind == Kind::Bool || kind == Kind::Duration;
    };
    if (is_comparison(n.op) && n.ops_count == 2) {
      const Node* f = &node(opnd(n, 0));
      NodeId cid = opnd(n, 1);
      Op op = n.op;
      if (!plain_field(*f)) {
        f = &node(opnd(n, 1));
        cid = opnd(n, 0);
        op = mirror(op);
      }
      if (!plain_field(*f) || !field_kind_ok(f->type.kind)) return std::nullopt;
      std::optional<Value> c = value_of(cid);
      if (!c || c->k == Value::K::Null || c->k == Value::K::Float) return std::nullopt;
      k.field = static_cast<FieldId>(f->imm);
      k.is_string = c->k == Value::K::String;
      if (k.is_string != (f->type.kind == Kind::String)) return std::nullopt;
      k.s = c->s;
      k.i = c->i;
      if (op == Op::Eq) {
        k.kind = positive ? Constraint::Kind::Eq : Constraint::Kind::Ne;
        return k;
      }
      if (!positive || k.is_string) return std::nullopt;  // `not (x < 5)` is also true for a missing x
      k.kind = Constraint::Kind::Range;
      constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
      switch (op) {
        case Op::Lt:
          if (c->i == kMin) { k.lo = 1; k.hi = 0; } else { k.hi = c->i - 1; }
          break;
        case Op::Le: k.hi = c->i; break;
        case Op::Gt:
          if (c->i == kMax) { k.lo = 1; k.hi = 0; } else { k.lo = c->i + 1; }
          break;
        case Op::Ge: k.lo = c->i; break;
        case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
        case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or:
        case Op::Eq: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
        case Op::ToFloat: case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
        case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
        case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
        case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt:
          return std::nullopt;
      }
      return k;
    }
    if (n.op == Op::InSet && n.ops_count == 1) {
      const Node& f = node(opnd(n, 0));
      if (!plain_field(f) || !field_kind_ok(f.type.kind)) return std::nullopt;
      if (n.imm < 0 || static_cast<uint64_t>(n.imm) >= p_.sets.size()) return std::nullopt;
      const ir::ConstSet& set = p_.sets[static_cast<size_t>(n.imm)];
      k.field = static_cast<FieldId>(f.imm);
      k.is_string = f.type.kind == Kind::String;
      if (k.is_string ? (set.elem != Kind::String || !set.ints.empty() || !set.floats.empty())
                      : (!set.strings.empty() || !set.floats.empty()))
        return std::nullopt;
      k.set = &set;
      k.nocase = k.nocase || set.nocase;
      k.kind = positive ? Constraint::Kind::In : Constraint::Kind::NotIn;
      return k;
    }
    return std::nullopt;
  }

  // Whether the constraints (all required to hold together) are unsatisfiable. `culprits` gets the nodes involved.
  bool unsatisfiable(const std::vector<NodeId>& parts, bool positive, std::vector<NodeId>& culprits) const {
    std::map<FieldId, std::vector<Constraint>> by_field;
    for (NodeId c : parts)
      if (auto k = constraint_of(c, positive)) by_field[k->field].push_back(std::move(*k));
    for (auto& [field, ks] : by_field) {
      (void)field;
      // Candidates from the first finite positive constraint.
      const Constraint* source = nullptr;
      for (const Constraint& k : ks)
        if (k.kind == Constraint::Kind::Eq || k.kind == Constraint::Kind::In) {
          source = &k;
          break;
        }
      if (!source) {
        int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
        bool any = false;
        for (const Constraint& k : ks)
          if (k.kind == Constraint::Kind::Range) {
            lo = std::max(lo, k.lo);
            hi = std::min(hi, k.hi);
            any = true;
          }
        if (any && lo > hi) {
          for (const Constraint& k : ks)
            if (k.kind == Constraint::Kind::Range) culprits.push_back(k.node);
          return true;
        }
        continue;
      }
      std::vector<Candidate> cands;
      if (source->kind == Constraint::Kind::Eq) {
        cands.push_back(Candidate{source->is_string, source->is_string && source->nocase, source->s, source->i});
      } else if (source->is_string) {
        for (const std::string& e : source->set->strings) cands.push_back(Candidate{true, source->nocase, e, 0});
      } else {
        for (int64_t e : source->set->ints) cands.push_back(Candidate{false, false, "", e});
      }
      bool alive = std::any_of(cands.begin(), cands.end(), [&](const Candidate& c) {
        return std::all_of(ks.begin(), ks.end(), [&](const Constraint& k) { return accepts(k, c); });
      });
      if (!alive) {
        culprits.push_back(source->node);
        // The first constraint that rejects some candidate, for the note.
        for (const Constraint& k : ks) {
          if (&k == source) continue;
          if (std::any_of(cands.begin(), cands.end(), [&](const Candidate& c) { return !accepts(k, c); })) {
            culprits.push_back(k.node);
            break;
          }
        }
        return true;
      }
    }
    return false;
  }

  Tri eval(NodeId id) {
    if (!valid(id)) return Tri::Unknown;
    if (auto it = memo_.find(id); it != memo_.end()) return it->second;
    Tri t = eval_uncached(id);
    memo_[id] = t;
    return t;
  }

  Tri eval_uncached(NodeId id) {
    const Node& n = node(id);
    switch (n.op) {
      case Op::Bool:
        return tri(n.imm != 0);
      case Op::Not:
        return n.ops_count == 1 ? negate(eval(opnd(n, 0))) : Tri::Unknown;
      case Op::And: case Op::Or: {
        bool is_and = n.op == Op::And;
        Tri absorbing = is_and ? Tri::False : Tri::True;
        std::vector<NodeId> parts = flatten(id, n.op);
        bool all_neutral = true;
        for (NodeId c : parts) {
          Tri t = eval(c);
          if (t == absorbing) {
            add_reason(id, node(c).span, fmt::format("this is always {}", is_and ? "false" : "true"));
            return absorbing;
          }
          if (t != negate(absorbing)) all_neutral = false;
        }
        if (all_neutral) return negate(absorbing);
        // `a and not a` / `a or not a`.
        for (size_t i = 0; i < parts.size(); ++i) {
          auto [bi, ni] = peel(parts[i]);
          for (size_t j = i + 1; j < parts.size(); ++j) {
            auto [bj, nj] = peel(parts[j]);
            if (ni != nj && same(bi, bj)) {
              add_reason(id, node(parts[i]).span, "this");
              add_reason(id, node(parts[j]).span, "is the negation of this");
              return absorbing;
            }
          }
        }
        // Field constraints: the conjuncts (or the negated disjuncts) cannot all hold.
        std::vector<NodeId> culprits;
        if (unsatisfiable(parts, is_and, culprits)) {
          for (size_t i = 0; i < culprits.size(); ++i)
            add_reason(id, node(culprits[i]).span,
                       i == 0 ? "this" : (is_and ? "contradicts this" : "together with this covers every value"));
          return absorbing;
        }
        return Tri::Unknown;
      }
      case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: {
        if (n.ops_count != 2) return Tri::Unknown;
        auto a = value_of(opnd(n, 0));
        auto b = value_of(opnd(n, 1));
        if (a && b) return compare_values(n.op, *a, *b, n.has(ir::kFlagNoCase));
        if ((a && a->k == Value::K::Null) || (b && b->k == Value::K::Null)) return Tri::False;
        bool nullable = false;
        if (b && non_negative(opnd(n, 0), nullable)) {
          Tri t = compare_non_negative(n.op, *b, nullable);
          if (t != Tri::Unknown) return t;
        }
        nullable = false;
        if (a && non_negative(opnd(n, 1), nullable)) {
          Tri t = compare_non_negative(mirror(n.op), *a, nullable);
          if (t != Tri::Unknown) return t;
        }
        if (n.op == Op::Eq && !n.has(ir::kFlagNoCase)) {
          if (b && b->k == Value::K::String && impossible_case(opnd(n, 0), b->s)) return Tri::False;
          if (a && a->k == Value::K::String && impossible_case(opnd(n, 1), a->s)) return Tri::False;
        }
        return Tri::Unknown;
      }
      case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: {
        if (n.ops_count != 2) return Tri::Unknown;
        auto a = value_of(opnd(n, 0));
        auto b = value_of(opnd(n, 1));
        if ((a && a->k == Value::K::Null) || (b && b->k == Value::K::Null)) return Tri::False;
        bool nocase = n.has(ir::kFlagNoCase);
        if (a && b && a->k == Value::K::String && b->k == Value::K::String && n.op != Op::Like) {
          std::string s = a->s, q = b->s;
          if (nocase) {
            if (!is_ascii(s) || !is_ascii(q)) return Tri::Unknown;
            s = ascii_lower(s);
            q = ascii_lower(q);
          }
          std::string_view sv(s);
          if (n.op == Op::Contains) return tri(sv.find(q) != std::string_view::npos);
          if (n.op == Op::StartsWith) return tri(starts_with(sv, q));
          return tri(sv.size() >= q.size() && sv.substr(sv.size() - q.size()) == q);
        }
        if (!nocase && b && b->k == Value::K::String && impossible_case(opnd(n, 0), b->s)) return Tri::False;
        return Tri::Unknown;
      }
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny:
        if (n.imm >= 0 && static_cast<uint64_t>(n.imm) < p_.sets.size() &&
            p_.sets[static_cast<size_t>(n.imm)].size() == 0)
          return Tri::False;
        return Tri::Unknown;
      case Op::InSet: {
        if (n.ops_count != 1 || n.imm < 0 || static_cast<uint64_t>(n.imm) >= p_.sets.size()) return Tri::Unknown;
        const ir::ConstSet& set = p_.sets[static_cast<size_t>(n.imm)];
        if (set.size() == 0) return Tri::False;
        auto x = value_of(opnd(n, 0));
        if (x && x->k == Value::K::Null) return Tri::False;
        if (x && x->k == Value::K::String && set.elem == Kind::String) {
          if (!set.nocase) return tri(std::binary_search(set.strings.begin(), set.strings.end(), x->s));
          if (!is_ascii(x->s)) return Tri::Unknown;
          bool ascii_set = std::all_of(set.strings.begin(), set.strings.end(), [](const std::string& e) {
            return is_ascii(e);
          });
          if (!ascii_set) return Tri::Unknown;
          std::string f = ascii_lower(x->s);
          return tri(std::any_of(set.strings.begin(), set.strings.end(),
                                 [&](const std::string& e) { return ascii_lower(e) == f; }));
        }
        if (x && (x->k == Value::K::Int || x->k == Value::K::Bool) && set.strings.empty() && set.floats.empty())
          return tri(std::binary_search(set.ints.begin(), set.ints.end(), x->i));
        if (!set.nocase && set.elem == Kind::String && !set.strings.empty() && valid(opnd(n, 0))) {
          const Node& s = node(opnd(n, 0));
          if ((s.op == Op::Lower || s.op == Op::Upper) &&
              std::all_of(set.strings.begin(), set.strings.end(),
                          [&](const std::string& e) { return impossible_case(opnd(n, 0), e); }))
            return Tri::False;
        }
        return Tri::Unknown;
      }
      case Op::Exists: {
        if (n.ops_count != 1) return Tri::Unknown;
        auto x = value_of(opnd(n, 0));
        if (!x) return Tri::Unknown;
        return tri(x->k != Value::K::Null);
      }
      case Op::Null: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set: case Op::Field:
      case Op::Attr: case Op::Agg: case Op::Elem: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul:
      case Op::Div: case Op::Mod: case Op::ToFloat: case Op::Matches: case Op::InCidr: case Op::Lower:
      case Op::Upper: case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem: case Op::Seq:
      case Op::Concat: case Op::ListAt:
        return Tri::Unknown;
    }
    return Tri::Unknown;
  }

  // Reports the largest constant boolean sub-conditions of `id`.
  void report_constants(NodeId id, bool root, const std::string& what) {
    if (!valid(id)) return;
    const Node& n = node(id);
    Tri t = n.type.kind == Kind::Bool ? eval(id) : Tri::Unknown;
    if (t != Tri::Unknown && (root || !n.has(ir::kFlagFromMacro))) {
      bool v = t == Tri::True;
      std::string msg;
      if (root) {
        msg = fmt::format("{} is always {}", what, v ? "true" : "false");
      } else {
        std::string text = snippet(n);
        msg = text.empty() ? fmt::format("this condition is always {}", v ? "true" : "false")
                           : fmt::format("`{}` is always {}", text, v ? "true" : "false");
      }
      Diagnostic& d = sink_.report(Code::BRD0804, n.span, std::move(msg));
      if (auto it = reasons_.find(id); it != reasons_.end()) {
        for (auto& [s, m] : it->second.related)
          if (s.valid()) d.related.push_back(RelatedLocation{s, m});
      }
      d.help = v ? "a condition that always holds tests nothing: remove it, or fix the comparison it was meant to be"
                 : "a condition that never holds makes the enclosing rule or step dead: fix or remove it";
      return;
    }
    if (n.op == Op::And || n.op == Op::Or || n.op == Op::Not) {
      for (NodeId c : p_.ops(n)) report_constants(c, false, what);
    }
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0805: the same condition twice in one and/or

  void check_duplicates(NodeId id) {
    if (!valid(id)) return;
    const Node& n = node(id);
    if (n.op == Op::And || n.op == Op::Or) {
      std::vector<NodeId> parts = flatten(id, n.op);
      for (size_t j = 0; j < parts.size(); ++j) {
        if (node(parts[j]).has(ir::kFlagFromMacro)) continue;
        for (size_t i = 0; i < j; ++i) {
          if (node(parts[i]).has(ir::kFlagFromMacro)) continue;
          auto [bi, ni] = peel(parts[i]);
          auto [bj, nj] = peel(parts[j]);
          if (ni == nj && same(bi, bj)) {
            Diagnostic& d = sink_.report(Code::BRD0805, node(parts[j]).span,
                                         fmt::format("this condition is already part of this `{}`",
                                                     n.op == Op::And ? "and" : "or"));
            d.related.push_back(RelatedLocation{node(parts[i]).span, "the same condition"});
            d.help = "remove the repeated condition; if a different one was meant, fix it";
            break;
          }
        }
      }
      for (NodeId c : parts) check_duplicates(c);
      return;
    }
    if (n.op == Op::Not)
      for (NodeId c : p_.ops(n)) check_duplicates(c);
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0810: state that needs more than the runtime's exact bound

  void check_distinct_bound(NodeId id) {
    if (!valid(id)) return;
    const Node& n = node(id);
    if (is_comparison(n.op) && n.ops_count == 2) {
      for (uint32_t i = 0; i < 2; ++i) {
        NodeId a = opnd(n, i);
        const Node* an = &node(a);
        if (an->op == Op::ToFloat && an->ops_count == 1) an = &node(opnd(*an, 0));
        if (an->op != Op::Agg || an->imm < 0 || static_cast<uint64_t>(an->imm) >= rule_->aggregates.size())
          continue;
        const ir::Aggregate& agg = rule_->aggregates[static_cast<size_t>(an->imm)];
        if (agg.kind != ir::AggKind::Distinct) continue;
        auto c = value_of(opnd(n, 1 - i));
        if (!c || c->k != Value::K::Int) continue;
        Op op = i == 0 ? n.op : mirror(n.op);
        // The smallest count at which the comparison's result can change.
        int64_t needed = c->i;
        if (op == Op::Gt || op == Op::Le || op == Op::Eq) needed = c->i == std::numeric_limits<int64_t>::max() ? c->i : c->i + 1;
        if (needed <= opts_.distinct_exact_bound) continue;
        std::string field = agg.field != kNone ? field_text(agg.field) : std::string("?");
        std::string step = agg.step < rule_->steps.size() ? rule_->steps[agg.step].label : std::string("?");
        Diagnostic& d = sink_.report(
            Code::BRD0810, n.span,
            fmt::format("deciding this needs {} distinct values of `{}.{}`; the runtime counts at most {} exactly",
                        needed, step, field, opts_.distinct_exact_bound));
        d.help = fmt::format(
            "keep distinct() thresholds at or below {}, or count a coarser field, or narrow step `{}`",
            opts_.distinct_exact_bound, step);
        return;
      }
    }
    for (NodeId c : p_.ops(n)) check_distinct_bound(c);
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0811: costly rules: predicates the match plan (ir/match_plan.h) can neither index nor prefilter, so every
  // engine evaluates them on every event of the source (SourcePlan::costly). The plan is the single definition:
  // the linter never guesses on its own.

  const ir::MatchPlan& plan() {
    if (!plan_) plan_ = ir::build_match_plan(p_);
    return *plan_;
  }

  // Why an expression that compares fields with constants still gives no discriminator: the specific hints.
  void costly_hints(NodeId id, std::set<std::string>& out) const {
    if (!valid(id)) return;
    const Node& n = node(id);
    auto field_and_constant = [&]() {
      bool field = false, constant = false;
      for (NodeId c : p_.ops(n)) {
        if (!valid(c)) continue;
        field = field || node(c).op == Op::Field;
        constant = constant || node(c).op == Op::String || node(c).op == Op::Int;
      }
      return field && (constant || n.op == Op::InSet);
    };
    switch (n.op) {
      case Op::Not:
        if (n.ops_count == 1 && valid(p_.op(n, 0))) {
          const Node& x = node(p_.op(n, 0));
          if ((x.op == Op::Eq || x.op == Op::InSet) && !x.has(ir::kFlagNoCase) && !x.has(ir::kFlagNocaseField))
            out.insert("negated comparisons (`!=`, `not in`) do not select events");
        }
        for (NodeId c : p_.ops(n)) costly_hints(c, out);
        return;
      case Op::And: case Op::Or:
        for (NodeId c : p_.ops(n)) costly_hints(c, out);
        return;
      case Op::AnyElem: {
        std::set<std::string> inner;
        if (n.ops_count == 2) costly_hints(p_.op(n, 1), inner);
        if (n.ops_count == 2 && valid(p_.op(n, 1)) &&
            (node(p_.op(n, 1)).op == Op::Eq || node(p_.op(n, 1)).op == Op::InSet))
          out.insert("comparisons on `[*]` paths are not indexed");
        out.insert(inner.begin(), inner.end());
        return;
      }
      case Op::Eq: case Op::InSet:
        if (!field_and_constant()) return;
        if (n.has(ir::kFlagNoCase) || n.has(ir::kFlagNocaseField)) {
          out.insert("case-insensitive comparisons (`==~`, `in~`, and any comparison with a `nocase` field) select "
                     "events through the literal prefilter only where every match needs them: not under `not`, and "
                     "in each branch of an `or`");
        } else {
          for (NodeId c : p_.ops(n)) {
            if (!valid(c) || node(c).op != Op::Field) continue;
            auto f = static_cast<size_t>(node(c).imm);
            if (f < p_.fields.size() && p_.fields[f].has_any())
              out.insert("comparisons on `[*]` paths are not indexed");
            else if (node(c).type.kind != Kind::String && node(c).type.kind != Kind::Ip &&
                     node(c).type.kind != Kind::Object)
              out.insert("only string fields are indexed, not " + std::string(ir::kind_name(node(c).type.kind)) +
                         " fields");
          }
        }
        return;
      case Op::StartsWith: case Op::StartsWithAny: case Op::EndsWith: case Op::EndsWithAny: case Op::Contains:
      case Op::ContainsAny: case Op::Like: case Op::LikeAny:
        if (n.ops_count >= 1 && valid(p_.op(n, 0)) && node(p_.op(n, 0)).op == Op::Field)
          out.insert("string operators (`startswith`, `contains`, `like`, ...) select events through the literal "
                     "prefilter only where every match needs them: not under `not`, in each branch of an `or`, on "
                     "a string field without `[*]`, with a non-empty constant");
        return;
      case Op::Matches:
        if (n.ops_count >= 1 && valid(p_.op(n, 0)) && node(p_.op(n, 0)).op == Op::Field)
          out.insert("a regular expression (`matches`) selects events only through a literal of 3 or more ASCII "
                     "characters that every match contains (RE2's prefilter atoms): not `^a+`, not `abc|\\d+`");
        return;
      case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
      case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
      case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod: case Op::ToFloat:
      case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::Seq: case Op::Concat: case Op::ListAt:
        return;
    }
  }

  void report_costly(const ir::Rule& r, const Span& anchor) {
    const ir::MatchPlan& mp = plan();
    auto rule_index = static_cast<uint32_t>(&r - p_.rules.data());
    // Per predicate (kNone: the condition; else the step), the sources whose plan evaluates it on every event.
    std::map<uint32_t, std::vector<std::string>> costly;
    std::map<uint32_t, NodeId> nodes;
    for (uint32_t s : r.sources) {
      if (s >= mp.sources.size() || s >= p_.sources.size()) continue;
      const ir::SourcePlan& sp = mp.sources[s];
      for (uint32_t k : sp.costly) {
        const ir::Predicate& pr = sp.predicates[k];
        if (pr.rule != rule_index) continue;
        costly[pr.step].push_back(p_.sources[s].name);
        nodes[pr.step] = pr.node;
      }
    }
    if (costly.empty()) return;
    auto what = [&](uint32_t step) {
      return step == kNone || step >= r.steps.size() ? std::string("its condition")
                                                      : fmt::format("step `{}`", r.steps[step].label);
    };
    auto names = [](const std::vector<std::string>& v) {
      std::string o;
      for (size_t i = 0; i < v.size(); ++i) o += fmt::format("{}`{}`", i == 0 ? "" : i + 1 == v.size() ? " and " : ", ", v[i]);
      return o;
    };
    // One source list for all parts when they agree (the usual case), else one per part.
    bool same = std::all_of(costly.begin(), costly.end(), [&](const auto& kv) { return kv.second == costly.begin()->second; });
    std::string parts;
    size_t i = 0;
    for (const auto& [step, srcs] : costly) {
      parts += (i == 0 ? "" : i + 1 == costly.size() ? " and " : ", ") + what(step);
      if (!same) parts += fmt::format(" (on {})", names(srcs));
      ++i;
    }
    std::string where = same ? fmt::format(" of {}", names(costly.begin()->second)) : std::string();
    Diagnostic& d = sink_.report(
        Code::BRD0811, anchor,
        fmt::format("rule `{}` is costly: {} {} evaluated on every event{}, because no string field is required to "
                    "equal a constant or to contain a literal",
                    r.id, parts, costly.size() == 1 ? "is" : "are", where));
    std::set<std::string> hints;
    for (const auto& [step, node_id] : nodes) costly_hints(node_id, hints);
    d.help = "select the events with exact string constants that every match must satisfy, such as "
             "`eventName == \"...\"` or `eventName in [...]` (in each branch of an `or`), or with literals they "
             "must contain (`userAgent contains \"...\"`)";
    for (const std::string& h : hints) d.help += "; " + h;
  }

  // ----------------------------------------------------------------------------------------------------------
  // Rules

  // `missing` false: an exception of a `tune`, where a missing field making it not hold (the rule fires) is meant.
  void lint_predicate(NodeId pred, const std::string& what, bool event_context, bool missing = true) {
    if (!valid(pred)) return;
    report_constants(pred, true, what);
    check_duplicates(pred);
    if (event_context) {
      if (missing) check_missing(pred, true, {});
      bindings_.clear();
      check_case(pred, kNoNode);
    }
  }

  void lint_rule(const ir::Rule& r) {
    rule_ = &r;
    memo_.clear();
    reasons_.clear();
    Span anchor = rule_anchor(r);

    // A tuned rule's condition is linted as its author wrote it, and each exception on its own.
    NodeId written = r.untuned_condition != kNoNode ? r.untuned_condition : r.condition;
    for (NodeId e : r.exceptions)
      lint_predicate(e, fmt::format("an exception of rule `{}`", r.id), r.scope == ir::Scope::Event, false);
    if (r.scope == ir::Scope::Event) {
      lint_predicate(written, fmt::format("the condition of rule `{}`", r.id), true);
    } else {
      for (const ir::Step& s : r.steps) lint_predicate(s.pred, fmt::format("the predicate of step `{}`", s.label), true);
      lint_predicate(written, fmt::format("the `when` of rule `{}`", r.id), false);
      check_distinct_bound(r.condition);

      // A sequence without `within` spans the whole session or chain, which may last for days. A group's window
      // is always bounded (`window D`, or `max M`), and `within` defaults to it: nothing to warn about.
      bool unbounded = false;
      switch (r.scope) {
        case ir::Scope::Event:
        case ir::Scope::Group: break;
        case ir::Scope::Session:
        case ir::Scope::Chain: unbounded = true; break;
      }
      for (const ir::Sequence& seq : r.sequences) {
        if (seq.within || !unbounded) continue;
        Diagnostic& d = sink_.report(
            Code::BRD0808, seq.span.valid() ? seq.span : anchor,
            fmt::format("this sequence has no `within` bound: it may span the whole {}",
                        r.scope == ir::Scope::Chain ? "chain" : "session"));
        d.help = "add a time bound, e.g. `within 1h`, for how close together the steps must be";
        // A step matching every event, in an unbounded sequence: every event is a candidate.
        for (const ir::SeqItem& it : seq.items) {
          if (it.absent || it.step >= r.steps.size()) continue;
          const ir::Step& st = r.steps[it.step];
          if (eval(st.pred) != Tri::True) continue;
          Diagnostic& u = sink_.report(
              Code::BRD0810, seq.span.valid() ? seq.span : anchor,
              fmt::format("step `{}` matches every event and this sequence has no `within`: every event of the {} "
                          "is a candidate match, for as long as the {} lasts",
                          st.label, r.scope == ir::Scope::Chain ? "chain" : "session",
                          r.scope == ir::Scope::Chain ? "chain" : "session"));
          if (st.span.valid()) u.related.push_back(RelatedLocation{st.span, "this step matches every event"});
          u.help = "give the sequence a `within` bound, and the step a predicate that selects the events it means";
          break;
        }
      }
    }
    // BRD0817: a `group by` key on a `nocase` field groups exactly: "Alice" and "alice" are two groups.
    if (r.group) {
      for (size_t i = 0; i < r.group->keys.size(); ++i) {
        std::optional<FieldId> f = direct_field(r.group->keys[i]);
        if (!f || !field_nocase(*f)) continue;
        const Node& k = node(r.group->keys[i]);
        const std::string& text = i < r.group->key_text.size() ? r.group->key_text[i] : field_text(*f);
        Diagnostic& d = sink_.report(
            Code::BRD0817, k.span.valid() ? k.span : anchor,
            fmt::format("group key `{}` is declared `nocase`, but group keys compare exactly: values that differ only "
                        "in case open separate groups",
                        text));
        d.help = fmt::format("group by `lower({})`", text);
        if (k.span.valid() && !k.has(ir::kFlagFromMacro)) d.fix = FixIt{k.span, fmt::format("lower({})", text)};
      }
    }

    // A computed severity's conditions: the same checks as a condition of the same context (constants, repeats;
    // missing fields and case in event scope, where they read event fields).
    for (const ir::SeverityArm& a : r.severity_arms) {
      lint_predicate(a.when, fmt::format("the `{} when` severity condition of rule `{}`", ir::severity_name(a.level), r.id),
                     r.scope == ir::Scope::Event);
    }

    if (r.tests.empty()) {
      Diagnostic& d = sink_.report(Code::BRD0809, anchor, fmt::format("rule `{}` has no test", r.id));
      d.help = "add a `test \"...\" { events [...] expect 1 }` with an event that fires, and one that does not";
    }
    // Organisation data: which enabled rules still run on a shipped placeholder, and which read one without saying so.
    for (uint32_t li : r.org_lists_read) {
      const ir::ListInfo& l = p_.lists[li];
      if (std::find(r.org_data.begin(), r.org_data.end(), l.name) == r.org_data.end()) {
        Diagnostic& d = sink_.report(Code::BRD0815, anchor,
                                     fmt::format("rule `{}` reads organisation-data list `{}` but its `org_data` "
                                                 "metadata does not name it",
                                                 r.id, l.name));
        d.related.push_back(RelatedLocation{l.span, "the list is declared here"});
        d.help = fmt::format("add `org_data {}` to the rule", l.name);
      }
      if (r.meta.enabled && !l.overridden) {
        Diagnostic& d = sink_.report(Code::BRD0814, anchor,
                                     fmt::format("rule `{}` runs on the shipped default of organisation-data list `{}`",
                                                 r.id, l.name));
        d.related.push_back(RelatedLocation{l.span, "the default is declared here"});
        d.help = fmt::format("set your organisation's values in a file of your own: `override list {} = [...]`",
                             l.name);
      }
    }
    if (r.meta.enabled) {
      if (r.meta.description.empty()) {
        Diagnostic& d = sink_.report(Code::BRD0812, anchor, fmt::format("rule `{}` has no `description`", r.id));
        d.help = "say what the rule detects and why it matters: the description is shown with every alert";
      }
      if (r.meta.attack.empty()) {
        Diagnostic& d = sink_.report(Code::BRD0813, anchor, fmt::format("rule `{}` has no `attack` ids", r.id));
        d.help = "add the MITRE ATT&CK technique and tactic ids, e.g. `attack T1078.004, TA0001`";
      }
    }

    if (opts_.costly) report_costly(r, anchor);
    rule_ = nullptr;
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0816: what each `tune` does, at the declaration, so a review of the tuning files sees its effect

  void lint_tunings() {
    std::map<std::pair<FileId, uint32_t>, std::pair<Span, std::vector<const ir::Rule*>>> tunes;  // in file order
    for (const ir::Rule& r : p_.rules)
      for (const Span& s : r.tuned_by) {
        auto& e = tunes[{s.file, s.begin}];
        e.first = s;
        e.second.push_back(&r);
      }
    for (const auto& [key, entry] : tunes) {
      const auto& [span, rules] = entry;
      std::string msg;
      if (rules.size() == 1) {
        const ir::Rule& r = *rules[0];
        msg = fmt::format("rule `{}` is tuned: it is {}, severity {}", r.id, r.meta.enabled ? "enabled" : "disabled",
                          r.severity_arms.empty() ? std::string(ir::severity_name(r.meta.severity)) : "computed");
        if (!r.exceptions.empty())
          msg += fmt::format(", {} exception{} in all", r.exceptions.size(), r.exceptions.size() == 1 ? "" : "s");
      } else {
        msg = fmt::format("this tuning applies to {} rules:", rules.size());
        for (size_t i = 0; i < rules.size() && i < 5; ++i) msg += fmt::format("{} `{}`", i ? "," : "", rules[i]->id);
        if (rules.size() > 5) msg += fmt::format(" and {} more", rules.size() - 5);
      }
      Diagnostic& d = sink_.report(Code::BRD0816, span, msg);
      for (const ir::Rule* r : rules)
        if (rules.size() == 1 && r->spans.name.valid()) d.related.push_back(RelatedLocation{r->spans.name, "the rule"});
    }
  }

  // ----------------------------------------------------------------------------------------------------------
  // BRD0806 / BRD0807: unused lists and macros

  void lint_declarations() {
    for (const ir::ListInfo& l : p_.lists) {
      if (l.used || !l.span.valid() || (!opts_.lint_stdlib && span_is_stdlib(l.span))) continue;
      Diagnostic& d = sink_.report(Code::BRD0806, l.span, fmt::format("list `{}` is never used", l.name));
      d.help = "remove it, or use it: `field in " + l.name + "`";
    }
    for (const ir::MacroInfo& m : p_.macros) {
      if (m.used || !m.span.valid() || (!opts_.lint_stdlib && span_is_stdlib(m.span))) continue;
      Diagnostic& d = sink_.report(Code::BRD0807, m.span, fmt::format("macro `{}` is never used", m.name));
      d.help = "remove it, or use it in a rule condition or step";
    }
  }
};

}  // namespace

void lint(const ir::Program& program, const SourceManager& sm, DiagnosticSink& diags, const LintOptions& opts) {
  Linter(program, sm, diags, opts).run();
}

}  // namespace braid
