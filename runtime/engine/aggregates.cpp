#include "engine/aggregates.h"

#include <array>

#include "engine/interp.h"

namespace braid::rt {

namespace {

using K = ir::AggKind;

// The state of shape S in g, made if g holds another (a reused state of the same rule holds S already).
template <class S>
S& make(AggState& g) {
  if (S* s = std::get_if<S>(&g)) return *s;
  return g.emplace<S>();
}

void init_held(AggState& g) {
  HeldState& h = make<HeldState>(g);
  h.has = false;
  h.t = 0;
}

Value held_read(const AggState& g) {
  const HeldState& h = std::get<HeldState>(g);
  return h.has ? h.val.v : Value::null();
}

// One struct per aggregate. A row is made from all three functions of its struct (row<A>() below), so an aggregate
// without init, update or read does not compile.

// count(step)
struct CountAgg {
  static constexpr K kind = K::Count;
  static constexpr bool reads_value = false;
  static void init(AggState& g) { make<CountState>(g).n = 0; }
  static void update(AggState& g, const AggUpdate&) { ++std::get<CountState>(g).n; }
  static Value read(const AggState& g, const ir::Aggregate&) {
    return Value::integer(static_cast<int64_t>(std::get<CountState>(g).n));
  }
};

// distinct(step.field): exact up to the bound, then saturated (the alert lists it)
struct DistinctAgg {
  static constexpr K kind = K::Distinct;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { make<DistinctSet>(g).clear(); }
  static void update(AggState& g, const AggUpdate& u) {
    std::get<DistinctSet>(g).add(u.value, u.distinct_bound, *u.scratch);
  }
  static Value read(const AggState& g, const ir::Aggregate&) {
    return Value::integer(std::get<DistinctSet>(g).count());
  }
};

// sum(step.field): int overflow makes it null; a float anywhere makes it a float
struct SumAgg {
  static constexpr K kind = K::Sum;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { make<SumState>(g) = SumState{}; }
  static void update(AggState& g, const AggUpdate& u) {
    SumState& s = std::get<SumState>(g);
    const Value& v = u.value;
    if (v.tag == Tag::Int || v.tag == Tag::Duration) {
      if (__builtin_add_overflow(s.isum, v.i, &s.isum)) s.overflow = true;
    } else if (v.tag == Tag::Float) {
      s.fsum += v.f;
      s.floats = true;
    }
  }
  static Value read(const AggState& g, const ir::Aggregate& d) {
    const SumState& s = std::get<SumState>(g);
    if (s.overflow) return Value::null();
    if (d.type.kind == ir::Kind::Float || s.floats) return Value::floating(s.fsum + static_cast<double>(s.isum));
    if (d.type.kind == ir::Kind::Duration) return Value::duration(s.isum);
    return Value::integer(s.isum);
  }
};

// min/max(step.field): nulls and incomparable values are skipped
template <K Kind, int Sign>
struct ExtremeAgg {
  static constexpr K kind = Kind;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_held(g); }
  static void update(AggState& g, const AggUpdate& u) {
    if (u.value.is_null()) return;
    HeldState& h = std::get<HeldState>(g);
    if (!h.has) {
      h.val.set(u.value);
      h.has = true;
      return;
    }
    auto c = compare_values(u.value, h.val.v, false, false);
    if (c && *c * Sign > 0) h.val.set(u.value);
  }
  static Value read(const AggState& g, const ir::Aggregate&) { return held_read(g); }
};

// first/last(step).field: the value on the earliest (latest; ties: the later arrival) matching event, null included
struct FirstAgg {
  static constexpr K kind = K::First;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_held(g); }
  static void update(AggState& g, const AggUpdate& u) {
    HeldState& h = std::get<HeldState>(g);
    if (!h.has || u.time < h.t) {
      h.val.set(u.value);
      h.t = u.time;
      h.has = true;
    }
  }
  static Value read(const AggState& g, const ir::Aggregate&) { return held_read(g); }
};
struct LastAgg {
  static constexpr K kind = K::Last;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_held(g); }
  static void update(AggState& g, const AggUpdate& u) {
    HeldState& h = std::get<HeldState>(g);
    if (!h.has || u.time >= h.t) {
      h.val.set(u.value);
      h.t = u.time;
      h.has = true;
    }
  }
  static Value read(const AggState& g, const ir::Aggregate&) { return held_read(g); }
};

template <class A>
constexpr AggOps row() {
  return AggOps{A::kind, A::reads_value, &A::init, &A::update, &A::read};
}

constexpr std::array<AggOps, ir::kAggKindCount> kAggOps = {{
    row<CountAgg>(),
    row<DistinctAgg>(),
    row<SumAgg>(),
    row<ExtremeAgg<K::Min, -1>>(),
    row<ExtremeAgg<K::Max, 1>>(),
    row<FirstAgg>(),
    row<LastAgg>(),
}};

constexpr bool table_in_order() {
  for (size_t i = 0; i < kAggOps.size(); ++i)
    if (static_cast<size_t>(kAggOps[i].kind) != i || kAggOps[i].kind != ir::kAggKinds[i].kind) return false;
  return true;
}
static_assert(table_in_order(), "kAggOps needs one row per ir::AggKind, in the order of ir::kAggKinds");

}  // namespace

const AggOps& agg_ops(ir::AggKind k) { return kAggOps[static_cast<size_t>(k)]; }

}  // namespace braid::rt
