// The builtins' typing functions, one per row of builtins.def (named in its `check` column), and the
// element-scoped quantifiers any/all.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

// The builtins' names as BRD0107 suggests them and completion offers them: first and last are listed with the
// aggregates (they are suggested only where aggregates are).
std::vector<std::string_view> builtin_names() {
  std::vector<std::string_view> out;
  for (const BuiltinInfo& b : kBuiltinTable)
    if (!ir::agg_kind_from_name(b.name)) out.push_back(b.name);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Builtins: the typing functions of builtins.def's rows.

const Checker::BuiltinCheck Checker::kBuiltinChecks[kBuiltinCount] = {
#define BRAID_BUILTIN(Id, name, form, min, max, check, ...) &Checker::check,
#include "check/builtins.def"
#undef BRAID_BUILTIN
};

bool Checker::builtin_arity(const BuiltinInfo& b, const ast::Expr& e, Ctx& c) {
  if (b.takes(e.children.size())) return true;
  err(Code::BRD0206, e.span, std::string(b.arity_error), &c);
  return false;
}

Val Checker::builtin_str_arg(const BuiltinInfo& b, const ast::Expr& e, size_t i, Ctx& c) {
  Val v = expr(*e.children[i], c);
  if (!v.ok()) return v;
  if (!stringish(v.type.kind)) {
    err(Code::BRD0206, e.children[i]->span,
        "`" + std::string(b.name) + "` takes a string, but this is " + tn(v.type), &c);
    return Val{};
  }
  return v;
}

Val Checker::builtin_exists(const BuiltinInfo&, const ast::Expr& e, const std::vector<ast::PathSeg>*, Ctx& c) {
  Span sp = e.span;
  size_t mark = c.pending.size();
  Val x = expr(*e.children[0], c);
  if (!x.ok()) return close_any(c, mark, Val{}, sp);
  Val r;
  r.type = T(Kind::Bool);
  r.node = mk_node(c, Op::Exists, r.type, sp, {x.node});
  return close_any(c, mark, r, sp);
}

// lower(s), upper(s): the row's op.
Val Checker::builtin_case(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>*, Ctx& c) {
  Val x = builtin_str_arg(b, e, 0, c);
  if (!x.ok()) return x;
  Val r;
  r.type = T(Kind::String);
  r.field = x.field;
  r.optional = x.optional;
  r.node = mk_node(c, b.ops[0], r.type, e.span, {x.node});
  return r;
}

Val Checker::builtin_len(const BuiltinInfo&, const ast::Expr& e, const std::vector<ast::PathSeg>*, Ctx& c) {
  Val x = expr(*e.children[0], c);
  if (!x.ok()) return x;
  if (!(stringish(x.type.kind) || x.type.kind == Kind::List)) {
    err(Code::BRD0206, e.children[0]->span, "`len` takes a string or a list, but this is " + tn(x.type), &c);
    return Val{};
  }
  Val r;
  r.type = T(Kind::Int);
  r.node = mk_node(c, Op::Len, r.type, e.span, {x.node});
  return r;
}

Val Checker::builtin_coalesce(const BuiltinInfo&, const ast::Expr& e, const std::vector<ast::PathSeg>*, Ctx& c) {
  std::vector<Val> vs;
  for (const auto& ch : e.children) {
    Val x = expr(*ch, c);
    if (!x.ok()) return Val{};
    vs.push_back(x);
  }
  Type t = T(Kind::Null);
  for (size_t i = 0; i < vs.size(); ++i) {
    Type u = vs[i].type;
    if (u.kind == Kind::Null || u == t) continue;
    if (t.kind == Kind::Null) t = u;
    else if (t.is_numeric() && u.is_numeric()) t = T(Kind::Float);
    else if (t.kind == Kind::Object || u.kind == Kind::Object) t = T(Kind::Object);
    else if (stringish(t.kind) && stringish(u.kind)) t = T(Kind::String);
    else {
      err(Code::BRD0206, e.children[i]->span,
          "`coalesce` arguments must have compatible types: " + tn(t) + " and " + tn(u), &c);
      return Val{};
    }
  }
  std::vector<NodeId> ops;
  for (auto& x : vs) {
    if (t.kind == Kind::Float && x.type.kind == Kind::Int)
      x.node = mk_node(c, Op::ToFloat, T(Kind::Float), P.node(x.node).span, {x.node});
    ops.push_back(x.node);
  }
  Val r;
  r.type = t;
  r.node = mk_node_v(c, Op::Coalesce, t, e.span, ops);
  return r;
}

Val Checker::builtin_replace(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>*, Ctx& c) {
  Val s = builtin_str_arg(b, e, 0, c);
  auto pat = const_of(*e.children[1], c.env);
  std::optional<ir::RegexId> rid;
  if (!pat || pat->kind != Kind::String)
    err(Code::BRD0217, e.children[1]->span, "the regex of `replace` must be a constant string", &c);
  else
    rid = regex(*pat, false, c);
  Val repl = builtin_str_arg(b, e, 2, c);
  if (!s.ok() || !rid || !repl.ok()) return Val{};
  Val r;
  r.type = T(Kind::String);
  r.node = mk_node(c, Op::Replace, r.type, e.span, {s.node, repl.node}, *rid);
  return r;
}

// first(list) / last(list): an element of a list. first(step) / last(step), and any other argument count, are
// the aggregates.
Val Checker::builtin_list_end(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs,
                              Ctx& c) {
  const std::string& name = e.callee.text;
  bool is_first = b.id == Builtin::First;
  if (e.children.size() == 1) {
    const ast::Expr* arg = e.children[0].get();
    const Env* aenv = c.env;
    arg = deparam(arg, aenv);
    bool step = arg && arg->kind == ast::ExprKind::Path && arg->children.empty() && c.steps &&
                c.steps->count(arg->head) != 0;
    if (!step) {
      if (segs && !segs->empty()) {
        err(Code::BRD0307, segs->front().span,
            "`" + name + "(list)` is one element; read a field with `" + name + "(list[*].field)` instead", &c);
        return Val{};
      }
      Val l = value_top(*e.children[0], c);
      if (!l.ok()) return Val{};
      if (l.type.kind != Kind::List) {
        err(Code::BRD0206, e.children[0]->span,
            "`" + name + "` takes a list (a `[*]` path or a list field) or a step, but this is " + tn(l.type), &c);
        return Val{};
      }
      Val r;
      Kind ek = l.type.elem;
      r.type = (ek == Kind::List || ek == Kind::Error) ? T(Kind::Object) : T(ek);
      r.node = mk_node(c, Op::ListAt, r.type, e.span, {l.node}, is_first ? 0 : -1);
      return r;
    }
  }
  return aggregate(is_first ? ir::AggKind::First : ir::AggKind::Last, e, segs, c);
}

// any(cond) / all(cond): the arguments are checked here, in this order, and Checker::quantifier builds the IR.
Val Checker::builtin_quantifier(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs,
                                Ctx& c) {
  if (segs && !segs->empty()) {
    err(Code::BRD0307, segs->front().span, "`" + std::string(b.name) + "(...)` is a condition; it has no fields", &c);
    return Val{};
  }
  if (!builtin_arity(b, e, c)) return Val{};
  return quantifier(e, c);
}

// `json(field, type).path`: a path into the JSON document held by a string field, typed by a declared `type`
// (without one, free-form: every value is `object`). The preparer parses the document once per event (runtime:
// engine/prepare.cpp); the path is an ordinary field load afterwards, in both engines.
Val Checker::builtin_json(const BuiltinInfo& info, const ast::Expr& e, const std::vector<ast::PathSeg>* segs,
                          Ctx& c) {
  Span sp = e.span;
  if (!builtin_arity(info, e, c)) return Val{};
  if (!segs || segs->empty()) {
    auto d = mk(Code::BRD0206, sp,
                "`json(...)` is a document: read a path from it, such as `json(...).Statement[*].Effect`");
    emit(std::move(d), &c);
    return Val{};
  }
  if (c.place == Place::Source) {
    err(Code::BRD0206, sp, "`json` can be used in rules, not in a source's clauses (they route events before it runs)",
        &c);
    return Val{};
  }
  JsonBase jb;
  jb.span = sp;
  // The type, by name.
  static ir::SchemaType free_form;  // shape Object: any path, every value `object`
  jb.root = &free_form;
  if (e.children.size() == 2) {
    const ast::Expr& t = *e.children[1];
    bool all_fields = false;
    std::string tname = t.kind == ast::ExprKind::Path && t.children.empty() ? dotted(t.head, t.segs, &all_fields) : "";
    auto it = all_fields ? globals_.find(tname) : globals_.end();
    if (it == globals_.end() || it->second.kind != GlobalSym::Kind::Type) {
      std::vector<std::string> cands;
      for (const auto& [n, g] : globals_)
        if (g.kind == GlobalSym::Kind::Type) cands.push_back(n);
      if (it != globals_.end())
        err(Code::BRD0206, t.span,
            "the second argument of `json` must name a `type`, but `" + tname + "` is a " + sym_kind_name(it->second.kind),
            &c);
      else if (tname.empty())
        err(Code::BRD0206, t.span, "the second argument of `json` must name a `type`", &c);
      else
        err_suggest(Code::BRD0101, t.span, "unknown type `" + tname + "`", tname, cands, &c);
      return Val{};
    }
    const TypeSym& ts = types_[it->second.index];
    if (!ts.schema) return Val{};
    jb.root = ts.schema.get();
    jb.type = tname;
  }
  // The base: a field of the event holding the JSON text.
  size_t mark = c.pending.size();
  bool lm = c.list_mode;
  c.list_mode = false;
  Val b = expr(*e.children[0], c);
  c.list_mode = lm;
  if (c.pending.size() > mark) {
    c.pending.resize(mark);
    err(Code::BRD0206, e.children[0]->span,
        "`json` parses one string per event: its argument cannot contain `[*]` (read the list inside the document instead)",
        &c);
    return Val{};
  }
  if (!b.ok()) return Val{};
  const ir::Node& bn = P.node(b.node);
  if (bn.op != Op::Field || P.fields[static_cast<size_t>(bn.imm)].in_json() ||
      !(b.type.kind == Kind::String || b.type.kind == Kind::Object)) {
    err(Code::BRD0206, e.children[0]->span,
        "`json` takes a string field of the event, but this is " +
            (bn.op == Op::Field ? tn(b.type) : std::string("a computed value")),
        &c);
    return Val{};
  }
  jb.base = static_cast<ir::FieldId>(bn.imm);
  Span full = Span::cover(sp, segs->back().span);
  return field("", sp, *segs, full, c, &jb);
}

// `any(cond)` / `all(cond)`: element-scoped quantifiers. Each `[*]` path in `cond` names one element (the same
// element wherever the same path appears, also through macros); `any` holds when some choice of elements makes
// `cond` true, `all` when every choice does (so `all` of an empty or missing list is true). Lowered to nested
// AnyElem nodes, one per distinct path, around the condition (`all` as not-any-not).
Val Checker::quantifier(const ast::Expr& e, Ctx& c) {
  const std::string& name = e.callee.text;
  if (c.scoped_level >= 9) {
    err(Code::BRD0206, e.span, "`" + name + "` is nested too deeply", &c);
    return Val{};
  }
  std::vector<std::pair<ir::FieldId, NodeId>> scoped;
  auto* saved = c.scoped;
  uint32_t level = c.scoped ? c.scoped_level + 1 : 0;
  uint32_t saved_level = c.scoped_level;
  c.scoped = &scoped;
  c.scoped_level = level;
  const auto base = static_cast<int64_t>(c.pending.size());
  Val body = cond(*e.children[0], c, name == "any" ? "the condition of `any`" : "the condition of `all`");
  c.scoped = saved;
  c.scoped_level = saved_level;
  if (!body.ok()) return Val{};
  if (scoped.empty()) {
    err(Code::BRD0206, e.children[0]->span,
        "the condition of `" + name + "` reads no `[*]` path: there is nothing to quantify over", &c);
    return Val{};
  }
  // Paths that share a prefix up to a `[*]` read one element there: `p[*].x` and `p[*].y` are tied to the same
  // element of `p`. Such a group reads one zipped field (ir::FieldPath::zip) whose items are the members' values
  // in one element; a binding runs over it and each member is `ListAt(item, m)`. A lone path keeps its own
  // binding over its (flattened) list. Each scoped path gets an access: a binding (an Elem) or an expression.
  struct Access {
    int64_t binding = -1;  // the path's own binding (relative to base), or -1 for a member:
    int64_t item = -1;     //   the binding of the zipped list's item (relative to base)
    int64_t member = -1;   //   and the member's index in it
  };
  std::vector<Access> access(scoped.size());
  std::vector<NodeId> lists;  // each binding's list, outermost first (binding base + index)
  auto segs_of = [&](size_t j) -> const std::vector<ir::PathSeg>& { return P.fields[scoped[j].first].segs; };
  auto any_at_or_after = [&](size_t j, size_t from) {
    const auto& sg = segs_of(j);
    for (size_t q = from; q < sg.size(); ++q)
      if (sg[q].kind == ir::PathSeg::Kind::Any) return q;
    return sg.size();
  };
  // Partitions `js` by the path up to their next `[*]` at or after `from` (paths without one: alone), in order of
  // first appearance.
  auto partition = [&](const std::vector<size_t>& js, size_t from) {
    std::vector<std::pair<size_t, std::vector<size_t>>> parts;  // (the [*]'s position or size, members)
    for (size_t j : js) {
      size_t q = any_at_or_after(j, from);
      bool placed = false;
      for (auto& [pq, members] : parts) {
        size_t f = members.front();
        if (q == segs_of(j).size() || pq == segs_of(f).size() || pq != q) continue;
        if (P.fields[scoped[f].first].json_base != P.fields[scoped[j].first].json_base) continue;
        if (!std::equal(segs_of(j).begin(), segs_of(j).begin() + static_cast<std::ptrdiff_t>(q) + 1,
                        segs_of(f).begin()))
          continue;
        members.push_back(j);
        placed = true;
        break;
      }
      if (!placed) parts.push_back({q, {j}});
    }
    return parts;
  };
  // The zipped field over the elements at anchor length `len` of the paths `js`, read by binding `b` (relative).
  std::function<ir::FieldId(const std::vector<size_t>&, size_t, int64_t)> zip_group =
      [&](const std::vector<size_t>& js, size_t len, int64_t b_item) -> ir::FieldId {
    auto item = [&] { return mk_node(c, Op::Elem, Type::list(Kind::Object), e.span, {}, base + b_item); };
    std::vector<ir::PathSeg> anchor_segs(segs_of(js.front()).begin(),
                                         segs_of(js.front()).begin() + static_cast<std::ptrdiff_t>(len));
    ir::FieldId anchor = P.intern_sibling_field(scoped[js.front()].first, anchor_segs);
    std::vector<ir::FieldId> members;
    for (auto& [q, part] : partition(js, len)) {
      auto m = static_cast<int64_t>(members.size());
      size_t j = part.front();
      if (part.size() == 1 && q == segs_of(j).size()) {  // one value per element
        members.push_back(scoped[j].first);
        access[j].item = b_item;
        access[j].member = m;
      } else if (part.size() == 1) {  // a list per element, quantified on its own
        members.push_back(scoped[j].first);
        access[j].binding = static_cast<int64_t>(lists.size());
        lists.push_back(mk_node(c, Op::ListAt, P.nodes[scoped[j].second].type, e.span, {item()}, m));
      } else {  // tied again further down
        members.push_back(0);
        auto b = static_cast<int64_t>(lists.size());
        lists.push_back(ir::kNoNode);
        members[static_cast<size_t>(m)] = zip_group(part, q + 1, b);
        lists[static_cast<size_t>(b)] = mk_node(c, Op::ListAt, Type::list(Kind::List), e.span, {item()}, m);
      }
    }
    return P.intern_zip_field(anchor, members);
  };
  std::vector<size_t> all_paths(scoped.size());
  for (size_t j = 0; j < scoped.size(); ++j) all_paths[j] = j;
  for (auto& [q, part] : partition(all_paths, 0)) {
    size_t j = part.front();
    if (part.size() == 1) {
      access[j].binding = static_cast<int64_t>(lists.size());
      lists.push_back(scoped[j].second);
      continue;
    }
    auto b = static_cast<int64_t>(lists.size());
    lists.push_back(ir::kNoNode);
    ir::FieldId zid = zip_group(part, q + 1, b);
    lists[static_cast<size_t>(b)] = mk_node(c, Op::Field, Type::list(Kind::List), e.span, {}, zid);
    // The anchor and the zipped field are read by every source that reads the members.
    ir::FieldId anchor = P.fields[zid].zip_anchor;
    for (uint32_t si : c.sources) {
      if (si == kNone) continue;
      ir::Source& src = P.sources[si];
      uint32_t member_slot = src.slot_of(scoped[j].first);
      if (member_slot == kNone) continue;
      for (ir::FieldId f : {anchor, zid}) {
        if (src.slot_of(f) != kNone) continue;
        ir::Slot slot;
        slot.field = f;
        slot.type = f == zid ? Type::list(Kind::List) : Type::list(Kind::Object);
        slot.optional = true;
        slot.first_use = src.slots[member_slot].first_use;
        src.slot_index[f] = static_cast<uint32_t>(src.slots.size());
        src.slots.push_back(slot);
      }
    }
  }
  if (base + static_cast<int64_t>(lists.size()) > 48) {
    err(Code::BRD0206, e.span, "too many `[*]` paths in one condition", &c);
    return Val{};
  }
  // Binding numbers are nesting depths: this quantifier's bindings take base .. base+k-1, and every binding
  // opened inside the condition moves k deeper.
  const auto k = static_cast<int64_t>(lists.size());
  std::vector<NodeId> stack{body.node};
  std::vector<std::pair<NodeId, size_t>> uses;  // this quantifier's Elem nodes and their scoped path
  std::set<NodeId> seen;
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    if (!seen.insert(id).second) continue;
    ir::Node& n = P.nodes[id];
    if (n.op == Op::Elem || n.op == Op::AnyElem) {
      if (n.imm >= scoped_elem(level, 0) && n.imm < scoped_elem(level, 100)) {
        if (n.op == Op::Elem && n.ops_count == 1) uses.emplace_back(id, static_cast<size_t>(n.imm - scoped_elem(level, 0)));
      } else if (n.imm < kScopedElem && n.imm >= base) {
        n.imm += k;
      }
    }
    for (NodeId o : P.ops(n)) stack.push_back(o);
  }
  for (auto [id, j] : uses) {
    ir::Node& use = P.nodes[id];
    ir::Node& item = P.nodes[P.op(use, 0)];
    if (access[j].binding >= 0) {  // an Elem of the path's own binding (the item stays unused)
      use.imm = item.imm = base + access[j].binding;
      use.ops_count = 0;
    } else {  // the member of the zipped list's current item
      item.imm = base + access[j].item;
      use.op = Op::ListAt;
      use.imm = access[j].member;
    }
  }
  Val r;
  r.type = T(Kind::Bool);
  NodeId inner = name == "all" ? mk_node(c, Op::Not, r.type, e.span, {body.node}) : body.node;
  for (auto b = k - 1; b >= 0; --b)
    inner = mk_node(c, Op::AnyElem, r.type, e.span, {lists[static_cast<size_t>(b)], inner}, base + b);
  r.node = name == "all" ? mk_node(c, Op::Not, r.type, e.span, {inner}) : inner;
  return r;
}

}  // namespace braid::check_internal
