// Firing classification (design brief 9): monotone or at close.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

// ---------------------------------------------------------------------------------------------------------------
// Firing classification (design brief 9)

void Checker::classify(ir::Rule& r) {
  if (r.scope == ir::Scope::Event) {
    r.firing = ir::Firing::Immediate;
    return;
  }
  if (r.condition == kNoNode) {
    r.firing = ir::Firing::AtClose;
    return;
  }
  enum class Trend { Const, Grows, Shrinks, Stable, StableOnceSet, Other };
  using Known = std::set<uint32_t>;  // steps known to have matched (guaranteed by a monotone conjunct)
  // How a value evolves as a session gains events.
  std::function<Trend(NodeId, const Known&)> trend = [&](NodeId id, const Known& known) -> Trend {
    const ir::Node& n = P.node(id);
    switch (n.op) {
      case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
        return Trend::Const;
      case Op::Attr:
        switch (static_cast<ir::Attribute>(n.imm)) {
          case ir::Attribute::SessionEvents:
          case ir::Attribute::SessionSourceIps:
          case ir::Attribute::SessionDuration:
          case ir::Attribute::SessionEnd:
          case ir::Attribute::ChainDepth:
          case ir::Attribute::ChainIdentities:
          case ir::Attribute::ChainAccounts: return Trend::Grows;
          case ir::Attribute::SessionId:
          case ir::Attribute::SessionIdentity:
          case ir::Attribute::SessionCredential:
          case ir::Attribute::SessionStart:
          case ir::Attribute::ChainRootIdentity:
          case ir::Attribute::ChainRootCredential:
          case ir::Attribute::ChainRootStart: return Trend::Stable;
        }
        return Trend::Other;
      case Op::Agg: {
        const auto& a = r.aggregates[static_cast<size_t>(n.imm)];
        switch (a.kind) {
          case ir::AggKind::Count:
          case ir::AggKind::Distinct:
          case ir::AggKind::Max: return Trend::Grows;
          case ir::AggKind::Min: return Trend::Shrinks;
          // The first matching event is fixed once it exists.
          case ir::AggKind::First: return known.count(a.step) ? Trend::Stable : Trend::StableOnceSet;
          case ir::AggKind::Sum:
          case ir::AggKind::Last: return Trend::Other;
        }
        return Trend::Other;
      }
      case Op::ToFloat: return trend(P.op(n, 0), known);
      case Op::Field: case Op::Elem: case Op::Not: case Op::And: case Op::Or: case Op::Eq: case Op::Lt: case Op::Le:
      case Op::Gt: case Op::Ge: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
      case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
      case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::AnyElem: case Op::Seq: case Op::Concat: case Op::ListAt: {
        // Functions of constants and stable values are stable.
        bool once = false;
        if (n.ops_count == 0) return Trend::Other;
        for (NodeId o : P.ops(n)) {
          Trend t = trend(o, known);
          if (t == Trend::StableOnceSet) once = true;
          else if (t != Trend::Const && t != Trend::Stable) return Trend::Other;
        }
        return once ? Trend::StableOnceSet : Trend::Stable;
      }
    }
    return Trend::Other;
  };
  // Steps that must have matched when `id` is true (for monotone positive parts only).
  std::function<void(NodeId, Known&)> guaranteed = [&](NodeId id, Known& out) {
    const ir::Node& n = P.node(id);
    if (n.op == Op::And) {
      for (NodeId o : P.ops(n)) guaranteed(o, out);
    } else if (n.op == Op::Seq) {
      for (const auto& it : r.sequences[static_cast<size_t>(n.imm)].items)
        if (!it.absent) out.insert(it.step);
    } else if ((n.op == Op::Gt || n.op == Op::Ge) && n.ops_count == 2) {
      const ir::Node& a = P.node(P.op(n, 0));
      const ir::Node& b = P.node(P.op(n, 1));
      if (a.op == Op::Agg && b.op == Op::Int) {
        const auto& ag = r.aggregates[static_cast<size_t>(a.imm)];
        bool counts = ag.kind == ir::AggKind::Count || ag.kind == ir::AggKind::Distinct;
        if (counts && (b.imm > 0 || (n.op == Op::Gt && b.imm == 0))) out.insert(ag.step);
      }
    }
  };
  Span reason;
  // Is the truth of `id` (under polarity `pos`) monotone: once true, true forever?
  std::function<bool(NodeId, bool, const Known&)> mono = [&](NodeId id, bool pos, const Known& known) -> bool {
    const ir::Node& n = P.node(id);
    auto fail = [&] {
      if (!reason.valid()) reason = n.span;
      return false;
    };
    switch (n.op) {
      case Op::Bool: return true;
      case Op::Not: return mono(P.op(n, 0), !pos, known);
      case Op::And:
      case Op::Or: {
        Known inner = known;
        // A conjunction that is true has all its parts true: its monotone parts' steps have matched.
        if (pos && n.op == Op::And)
          for (NodeId o : P.ops(n)) {
            Known tmp;
            guaranteed(o, tmp);
            Span saved = reason;
            if (!tmp.empty() && mono(o, true, known)) inner.insert(tmp.begin(), tmp.end());
            reason = saved;
          }
        bool all = true;
        for (NodeId o : P.ops(n)) all = mono(o, pos, inner) && all;
        return all;
      }
      case Op::Seq: {
        const auto& sq = r.sequences[static_cast<size_t>(n.imm)];
        if (pos && !sq.has_absence()) return true;
        return fail();
      }
      case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Eq: {
        Trend a = trend(P.op(n, 0), known), b = trend(P.op(n, 1), known);
        auto stable = [](Trend t) { return t == Trend::Const || t == Trend::Stable; };
        if (stable(a) && stable(b)) return true;
        if ((stable(a) || a == Trend::StableOnceSet) && (stable(b) || b == Trend::StableOnceSet))
          return pos ? true : fail();
        Op op = n.op;
        Trend var = a;
        if (stable(a)) {  // constant on the left: mirror
          var = b;
          op = op == Op::Lt ? Op::Gt : op == Op::Le ? Op::Ge : op == Op::Gt ? Op::Lt : op == Op::Ge ? Op::Le : op;
        } else if (!stable(b)) {
          return fail();
        }
        bool up = op == Op::Gt || op == Op::Ge, down = op == Op::Lt || op == Op::Le;
        if (var == Trend::Grows && ((pos && up) || (!pos && down))) return true;
        if (var == Trend::Shrinks && ((pos && down) || (!pos && up))) return true;
        return fail();
      }
      case Op::Null: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set: case Op::Field:
      case Op::Attr: case Op::Agg: case Op::Elem: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul:
      case Op::Div: case Op::Mod: case Op::ToFloat: case Op::Contains: case Op::StartsWith: case Op::EndsWith:
      case Op::Like: case Op::Matches: case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny:
      case Op::LikeAny: case Op::InSet: case Op::InCidr: case Op::Exists: case Op::Lower: case Op::Upper:
      case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem: case Op::Concat: case Op::ListAt: {
        Trend t = trend(id, known);
        if (t == Trend::Const || t == Trend::Stable) return true;
        if (t == Trend::StableOnceSet && pos) return true;
        return fail();
      }
    }
    return fail();
  };
  bool m = mono(r.condition, true, Known{});
  r.firing = m ? ir::Firing::Monotone : ir::Firing::AtClose;
  if (!m) r.firing_reason = reason;
}

}  // namespace braid::check_internal
