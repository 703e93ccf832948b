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

// count(step)
void count_update(AggState& g, const AggUpdate&) { ++g.count; }
Value count_read(const AggState& g, const ir::Aggregate&) { return Value::integer(static_cast<int64_t>(g.count)); }

// distinct(step.field): exact up to the bound, then saturated (the alert lists it)
void distinct_update(AggState& g, const AggUpdate& u) { g.set.add(u.value, u.distinct_bound, *u.scratch); }
Value distinct_read(const AggState& g, const ir::Aggregate&) { return Value::integer(g.set.count()); }

// sum(step.field): int overflow makes it null; a float anywhere makes it a float
void sum_update(AggState& g, const AggUpdate& u) {
  const Value& v = u.value;
  if (v.tag == Tag::Int || v.tag == Tag::Duration) {
    if (__builtin_add_overflow(g.isum, v.i, &g.isum)) g.sum_overflow = true;
  } else if (v.tag == Tag::Float) {
    g.fsum += v.f;
    g.sum_float = true;
  }
}
Value sum_read(const AggState& g, const ir::Aggregate& d) {
  if (g.sum_overflow) return Value::null();
  if (d.type.kind == ir::Kind::Float || g.sum_float) return Value::floating(g.fsum + static_cast<double>(g.isum));
  if (d.type.kind == ir::Kind::Duration) return Value::duration(g.isum);
  return Value::integer(g.isum);
}

// min/max(step.field): nulls and incomparable values are skipped
template <int Sign>
void extreme_update(AggState& g, const AggUpdate& u) {
  if (u.value.is_null()) return;
  if (!g.has) {
    g.val.set(u.value);
    g.has = true;
    return;
  }
  auto c = compare_values(u.value, g.val.v, false, false);
  if (c && *c * Sign > 0) g.val.set(u.value);
}

// first/last(step).field: the value on the earliest (latest; ties: the later arrival) matching event, null included
void first_update(AggState& g, const AggUpdate& u) {
  if (!g.has || u.time < g.t) {
    g.val.set(u.value);
    g.t = u.time;
    g.has = true;
  }
}
void last_update(AggState& g, const AggUpdate& u) {
  if (!g.has || u.time >= g.t) {
    g.val.set(u.value);
    g.t = u.time;
    g.has = true;
  }
}
Value held_read(const AggState& g, const ir::Aggregate&) { return g.has ? g.val.v : Value::null(); }

constexpr std::array<AggOps, ir::kAggKindCount> kAggOps = {{
    {K::Count, false, init_all, count_update, count_read},
    {K::Distinct, true, init_all, distinct_update, distinct_read},
    {K::Sum, true, init_all, sum_update, sum_read},
    {K::Min, true, init_all, extreme_update<-1>, held_read},
    {K::Max, true, init_all, extreme_update<1>, held_read},
    {K::First, true, init_all, first_update, held_read},
    {K::Last, true, init_all, last_update, held_read},
}};

constexpr bool table_complete() {
  for (size_t i = 0; i < kAggOps.size(); ++i) {
    const AggOps& o = kAggOps[i];
    if (static_cast<size_t>(o.kind) != i || o.kind != ir::kAggKinds[i].kind) return false;
    if (o.init == nullptr || o.update == nullptr || o.read == nullptr) return false;
  }
  return true;
}
static_assert(table_complete(), "kAggOps needs one row per ir::AggKind, in order, with init, update and read");

}  // namespace

const AggOps& agg_ops(ir::AggKind k) { return kAggOps[static_cast<size_t>(k)]; }

}  // namespace braid::rt
