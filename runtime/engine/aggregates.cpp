#include "engine/aggregates.h"

#include <array>

#include "engine/interp.h"

namespace braid::rt {

namespace {

using K = ir::AggKind;

void init_all(AggState& g) {
  g.count = 0;
  g.set.clear();
  g.has = false;
  g.t = 0;
  g.isum = 0;
  g.fsum = 0;
  g.sum_float = g.sum_overflow = false;
}

Value held_read(const AggState& g) { return g.has ? g.val.v : Value::null(); }

// One struct per aggregate. A row is made from all three functions of its struct (row<A>() below), so an aggregate
// without init, update or read does not compile.

// count(step)
struct CountAgg {
  static constexpr K kind = K::Count;
  static constexpr bool reads_value = false;
  static void init(AggState& g) { init_all(g); }
  static void update(AggState& g, const AggUpdate&) { ++g.count; }
  static Value read(const AggState& g, const ir::Aggregate&) { return Value::integer(static_cast<int64_t>(g.count)); }
};

// distinct(step.field): exact up to the bound, then saturated (the alert lists it)
struct DistinctAgg {
  static constexpr K kind = K::Distinct;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_all(g); }
  static void update(AggState& g, const AggUpdate& u) { g.set.add(u.value, u.distinct_bound, *u.scratch); }
  static Value read(const AggState& g, const ir::Aggregate&) { return Value::integer(g.set.count()); }
};

// sum(step.field): int overflow makes it null; a float anywhere makes it a float
struct SumAgg {
  static constexpr K kind = K::Sum;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_all(g); }
  static void update(AggState& g, const AggUpdate& u) {
    const Value& v = u.value;
    if (v.tag == Tag::Int || v.tag == Tag::Duration) {
      if (__builtin_add_overflow(g.isum, v.i, &g.isum)) g.sum_overflow = true;
    } else if (v.tag == Tag::Float) {
      g.fsum += v.f;
      g.sum_float = true;
    }
  }
  static Value read(const AggState& g, const ir::Aggregate& d) {
    if (g.sum_overflow) return Value::null();
    if (d.type.kind == ir::Kind::Float || g.sum_float) return Value::floating(g.fsum + static_cast<double>(g.isum));
    if (d.type.kind == ir::Kind::Duration) return Value::duration(g.isum);
    return Value::integer(g.isum);
  }
};

// min/max(step.field): nulls and incomparable values are skipped
template <K Kind, int Sign>
struct ExtremeAgg {
  static constexpr K kind = Kind;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_all(g); }
  static void update(AggState& g, const AggUpdate& u) {
    if (u.value.is_null()) return;
    if (!g.has) {
      g.val.set(u.value);
      g.has = true;
      return;
    }
    auto c = compare_values(u.value, g.val.v, false, false);
    if (c && *c * Sign > 0) g.val.set(u.value);
  }
  static Value read(const AggState& g, const ir::Aggregate&) { return held_read(g); }
};

// first/last(step).field: the value on the earliest (latest; ties: the later arrival) matching event, null included
struct FirstAgg {
  static constexpr K kind = K::First;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_all(g); }
  static void update(AggState& g, const AggUpdate& u) {
    if (!g.has || u.time < g.t) {
      g.val.set(u.value);
      g.t = u.time;
      g.has = true;
    }
  }
  static Value read(const AggState& g, const ir::Aggregate&) { return held_read(g); }
};
struct LastAgg {
  static constexpr K kind = K::Last;
  static constexpr bool reads_value = true;
  static void init(AggState& g) { init_all(g); }
  static void update(AggState& g, const AggUpdate& u) {
    if (!g.has || u.time >= g.t) {
      g.val.set(u.value);
      g.t = u.time;
      g.has = true;
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
