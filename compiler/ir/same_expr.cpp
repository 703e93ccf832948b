#include "ir/same_expr.h"

namespace braid::ir {

namespace {

// Flags that only record how something was written (for lint and messages) do not change the value.
constexpr uint8_t kWrittenOnly = kFlagFromMacro | kFlagSugar | kFlagOptionalOperand;

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

uint64_t text_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The node's immediate, as a value comparable across nodes: interned strings and regexes compare by content.
// (An index out of its table, in a corrupt program, is never equal to anything: the engine that uses the node
// reports it.)
bool in_table(int64_t imm, size_t size) { return imm >= 0 && static_cast<uint64_t>(imm) < size; }

bool same_imm(const Program& p, const Node& a, const Node& b) {
  switch (op_info(a.op).imm) {
    case ImmKind::Str:
      if (!in_table(a.imm, p.strings.size()) || !in_table(b.imm, p.strings.size())) return false;
      return p.strings[static_cast<size_t>(a.imm)] == p.strings[static_cast<size_t>(b.imm)];
    case ImmKind::Regex: {
      if (!in_table(a.imm, p.regexes.size()) || !in_table(b.imm, p.regexes.size())) return false;
      const Regex& x = p.regexes[static_cast<size_t>(a.imm)];
      const Regex& y = p.regexes[static_cast<size_t>(b.imm)];
      return x.pattern == y.pattern && x.nocase == y.nocase;
    }
    // Sets, fields and cidr sets are interned: equal ids for equal contents.
    case ImmKind::None: case ImmKind::Bool: case ImmKind::Int: case ImmKind::FloatBits: case ImmKind::Set:
    case ImmKind::Field: case ImmKind::Attribute: case ImmKind::Agg: case ImmKind::Seq: case ImmKind::Binding:
    case ImmKind::CidrSet: return a.imm == b.imm;
  }
  return false;
}

uint64_t imm_hash(const Program& p, const Node& n) {
  switch (op_info(n.op).imm) {
    case ImmKind::Str:
      return in_table(n.imm, p.strings.size()) ? text_hash(p.strings[static_cast<size_t>(n.imm)])
                                               : static_cast<uint64_t>(n.imm);
    case ImmKind::Regex: {
      if (!in_table(n.imm, p.regexes.size())) return static_cast<uint64_t>(n.imm);
      const Regex& x = p.regexes[static_cast<size_t>(n.imm)];
      return mix(text_hash(x.pattern), x.nocase);
    }
    case ImmKind::None: case ImmKind::Bool: case ImmKind::Int: case ImmKind::FloatBits: case ImmKind::Set:
    case ImmKind::Field: case ImmKind::Attribute: case ImmKind::Agg: case ImmKind::Seq: case ImmKind::Binding:
    case ImmKind::CidrSet: return static_cast<uint64_t>(n.imm);
  }
  return static_cast<uint64_t>(n.imm);
}

}  // namespace

uint64_t expr_hash(const Program& p, NodeId id) {
  const Node& n = p.node(id);
  uint64_t h = mix(static_cast<uint64_t>(n.op), n.flags & ~kWrittenOnly);
  h = mix(h, static_cast<uint64_t>(n.type.kind) << 8 | static_cast<uint64_t>(n.type.elem));
  h = mix(h, n.op == Op::Agg || n.op == Op::Seq ? id : imm_hash(p, n));
  for (NodeId o : p.ops(n)) h = mix(h, expr_hash(p, o));
  return h;
}

bool same_expr(const Program& p, NodeId a, NodeId b) {
  if (a == b) return true;
  const Node& x = p.node(a);
  const Node& y = p.node(b);
  if (x.op != y.op || (x.flags & ~kWrittenOnly) != (y.flags & ~kWrittenOnly) || !(x.type == y.type) ||
      x.ops_count != y.ops_count)
    return false;
  if (x.op == Op::Agg || x.op == Op::Seq) return false;  // rule-relative (a != b here)
  if (!same_imm(p, x, y)) return false;
  for (uint32_t i = 0; i < x.ops_count; ++i)
    if (!same_expr(p, p.operands[x.ops_begin + i], p.operands[y.ops_begin + i])) return false;
  return true;
}

std::pair<uint32_t, bool> ExprClasses::intern(NodeId id) {
  if (id != kNoNode) {
    auto& same_hash = by_hash_[expr_hash(p_, id)];
    for (uint32_t c : same_hash)
      if (same_expr(p_, first_[c], id)) return {c, false};
    same_hash.push_back(size());
  }
  first_.push_back(id);
  return {size() - 1, true};
}

}  // namespace braid::ir
