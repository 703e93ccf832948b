// Paths: fields of the event, of a step, `[*]` elements, session and chain attributes, macro parameters.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

Val Checker::path(const ast::Expr& e, Ctx& c) { return path_segs(e, e.segs, c); }

Val Checker::path_segs(const ast::Expr& e, const std::vector<ast::PathSeg>& segs, Ctx& c) {
  // A path on a base expression: first(step).f / last(step).f, or a parenthesised expression.
  if (!e.children.empty()) {
    const ast::Expr& base = *e.children[0];
    const BuiltinInfo* b = base.kind == ast::ExprKind::Call ? find_builtin(base.callee.text) : nullptr;
    if (b && b->form == BuiltinForm::SpecialPath && !find_macro(base.callee.text)) return call(base, &segs, c);
    if (segs.empty()) return expr(base, c);
    if (base.kind == ast::ExprKind::Path) {  // ((a.b)).c
      std::vector<ast::PathSeg> all = base.segs;
      all.insert(all.end(), segs.begin(), segs.end());
      return path_segs(base, all, c);
    }
    err(Code::BRD0307, segs.front().span,
        "a field can be read only from a field, a parameter, or `first(step)` / `last(step)`", &c);
    return Val{};
  }

  // 1. Macro parameters.
  if (c.env && c.env->macro) {
    auto it = c.env->args.find(e.head);
    if (it != c.env->args.end()) {
      const ast::Expr* arg = it->second;
      const Env* saved = c.env;
      c.env = saved->caller;
      Val v;
      if (segs.empty()) {
        v = expr(*arg, c);
      } else if (arg->kind == ast::ExprKind::Path) {
        std::vector<ast::PathSeg> all = arg->segs;
        all.insert(all.end(), segs.begin(), segs.end());
        v = path_segs(*arg, all, c);
      } else if (arg->kind == ast::ExprKind::Call && arg->callee.text == "json" && !find_macro("json")) {
        v = call(*arg, &segs, c);  // `m(json(f, t))` with `doc.Statement[*]` in the body
      } else {
        c.env = saved;
        err(Code::BRD0307, segs.front().span,
            "parameter `" + e.head + "` is bound to an expression, not a field: it has no fields", &c);
        return Val{};
      }
      c.env = saved;
      return v;
    }
  }

  Span full = e.span;
  if (!segs.empty()) full = Span::cover(e.head_span, segs.back().span);

  // 2. Step labels.
  if (c.steps) {
    auto it = c.steps->find(e.head);
    if (it != c.steps->end()) {
      if (!c.session_ctx) {
        err(Code::BRD0208, e.head_span,
            "step `" + e.head + "` can only be used in the `when`, `message` or `suppress` of the rule" +
                (c.place == Place::GroupKey ? std::string(": a `group by` key is read from each event") : ""),
            &c);
        return Val{};
      }
      if (segs.empty()) {  // `a` means count(a) > 0
        Val cnt = step_agg(ir::AggKind::Count, it->second, {}, e.head_span, c);
        if (!cnt.ok()) return cnt;
        NodeId zero = mk_node(c, Op::Int, T(Kind::Int), e.head_span, {}, 0);
        Val r;
        r.type = T(Kind::Bool);
        r.node = mk_node(c, Op::Gt, r.type, e.head_span, {cnt.node, zero});
        return r;
      }
      return step_agg(ir::AggKind::Last, it->second, segs, full, c);  // `a.f` means last(a).f
    }
  }

  // 3. session.* / chain.*
  if (e.head == "session" || e.head == "chain") {
    bool all = false;
    std::string name = dotted(e.head, segs, &all);
    const AttrDef* found = nullptr;
    size_t used_segs = 0;
    for (const auto& a : kAttrs) {
      std::string_view an = a.name;
      if (name == an || (name.size() > an.size() && name.compare(0, an.size(), an) == 0 && name[an.size()] == '.')) {
        found = &a;
        used_segs = static_cast<size_t>(std::count(an.begin(), an.end(), '.'));
        break;
      }
    }
    if (!found) {
      std::vector<std::string> cands;
      for (const auto& a : kAttrs) cands.push_back(a.name);
      err_suggest(Code::BRD0109, full, "unknown attribute `" + name + "`", name, cands, &c);
      return Val{};
    }
    if (!c.attrs_allowed) {
      err(Code::BRD0110, full, "`" + std::string(found->name) + "` is not available in a source clause", &c);
      return Val{};
    }
    if (c.scope == ir::Scope::Group) {
      auto d = mk(Code::BRD0414, full,
                  "group scope has no " + e.head + ": `" + std::string(found->name) +
                      "` is not available in a `group by` rule");
      d.help = "a group holds the events of one source with equal `group by` keys, with or without an identity; "
               "read what you need from the events (`first(step).userIdentity.arn`, `distinct(step.sourceIPAddress)`) "
               "or add it to the `group by` keys";
      emit(std::move(d), &c);
      return Val{};
    }
    if (e.head == "chain" && c.scope != ir::Scope::Chain) {
      err(Code::BRD0110, full,
          "`" + std::string(found->name) + "` is only available in `chain { }` rules", &c);
      return Val{};
    }
    if (used_segs < segs.size()) {
      err(Code::BRD0307, segs[used_segs].span,
          "`" + std::string(found->name) + "` is " + tn(ir::attribute_type(found->attr)) + "; it has no fields", &c);
      return Val{};
    }
    Val v;
    v.type = ir::attribute_type(found->attr);
    v.node = mk_node(c, Op::Attr, v.type, full, {}, static_cast<int64_t>(found->attr));
    return v;
  }

  // 4. Lists and macros by full dotted name.
  {
    bool all = false;
    std::string name = dotted(e.head, segs, &all);
    if (all) {
      if (find_list(name)) {
        auto lv = list_of(e, c);
        if (!lv) return Val{};
        if (lv->arity > 0) {
          err(Code::BRD0417, full, "`" + name + "` is a list of tuples, not a value: use it on the right of `in` or `like any`",
              &c);
          return Val{};
        }
        ir::ConstSet s = const_set(*lv);
        Val v;
        v.type = Type::list(lv->elem);
        v.node = mk_node(c, Op::Set, v.type, full, {}, P.intern_set(std::move(s)));
        return v;
      }
      if (const MacroSym* m = find_macro(name)) {
        if (!m->decl->params.empty()) {
          err(Code::BRD0105, full,
              "macro `" + name + "` takes " + std::to_string(m->decl->params.size()) +
                  " argument(s); call it as `" + name + "(...)`",
              &c);
          return Val{};
        }
        return expand(*m, {}, full, c);
      }
    }
  }

  // 5. Fields of the rule's sources.
  return field(e.head, e.head_span, segs, full, c);
}

Val Checker::field(const std::string& head, Span head_span, const std::vector<ast::PathSeg>& segs, Span span,
                   Ctx& c, const JsonBase* json) {
  if (c.sources_failed) return Val{};
  if (c.sources.empty() && !json) {
    auto cands = names_in_scope(c, false);
    err_suggest(Code::BRD0101, head_span, "unknown name `" + head + "`", head, cands, &c);
    return Val{};
  }

  struct Res {
    bool ok = false;
    Type type;
    bool optional = false, nocase = false, any = false;
    std::optional<Diagnostic> diag;
  };
  // The segments from the root: the head and `segs` for an event path; `segs` alone inside a JSON document.
  std::vector<ast::PathSeg> all;
  if (!json) {
    ast::PathSeg h;
    h.kind = ast::PathSeg::Kind::Field;
    h.name = head;
    h.span = head_span;
    all.push_back(h);
  }
  all.insert(all.end(), segs.begin(), segs.end());

  // The text of the path before segment i, for messages: "resources[0]".
  auto prefix_text = [&](size_t i) {
    std::string out;
    for (size_t k = 0; k < i; ++k) {
      const auto& sg = all[k];
      if (sg.kind == ast::PathSeg::Kind::Field) out += (k ? "." : "") + sg.name;
      else if (sg.kind == ast::PathSeg::Kind::Index) out += "[" + std::to_string(sg.index) + "]";
      else out += "[*]";
    }
    return out;
  };
  auto resolve = [&](const ir::SchemaType& root, const std::string& root_name) {
    Res r;
    const ir::SchemaType* cur = &root;
    bool dyn = false;  // below an object or an open record's undeclared field
    for (size_t i = 0; i < all.size(); ++i) {
      const auto& sg = all[i];
      std::string so_far = prefix_text(i);
      if (dyn) {
        if (sg.kind == ast::PathSeg::Kind::Any) r.any = true;
        continue;
      }
      switch (sg.kind) {
        case ast::PathSeg::Kind::Field:
          if (cur->shape == ir::SchemaType::Shape::Record) {
            auto it = std::find_if(cur->fields.begin(), cur->fields.end(),
                                   [&](const ir::SchemaField& f) { return f.name == sg.name; });
            if (it == cur->fields.end()) {
              if (cur->open) {
                dyn = true;
                r.optional = true;
                break;
              }
              std::vector<std::string> cands;
              for (const auto& f : cur->fields) cands.push_back(f.name);
              if (i == 0 && !json) {
                auto more = names_in_scope(c, false);
                cands.insert(cands.end(), more.begin(), more.end());
              }
              std::string where = i == 0 ? root_name : "`" + so_far + "`";
              if (c.session_ctx && i == 0 && !json)
                where = "scope (no step, attribute, list or macro has this name)";
              Span name_span = sg.span;  // a segment's span starts at its `.`
              if (i > 0 && name_span.end > name_span.begin && sm_.slice(name_span).starts_with('.'))
                ++name_span.begin;
              bool as_name = i == 0 && c.session_ctx && !json;
              auto d = mk(as_name ? Code::BRD0101 : Code::BRD0301, name_span,
                          (as_name ? "unknown name `" : "unknown field `") + sg.name + "` in " + where);
              std::string s = did_you_mean(sg.name, cands);
              if (!s.empty()) {
                d.help = "did you mean `" + s + "`?";
                d.fix = FixIt{name_span, sg.quoted ? "\"" + s + "\"" : s};
              }
              r.diag = std::move(d);
              return r;
            }
            r.optional = r.optional || it->optional;
            r.nocase = it->nocase;
            cur = &it->type;
          } else if (cur->shape == ir::SchemaType::Shape::Object) {
            dyn = true;
            r.optional = true;
          } else if (cur->shape == ir::SchemaType::Shape::List) {
            r.diag = mk(Code::BRD0307, sg.span,
                        "`" + so_far + "` is a list: use `" + so_far + "[*]." + sg.name + "` (any element) or `" +
                            so_far + "[0]." + sg.name + "`");
            return r;
          } else {
            r.diag = mk(Code::BRD0307, sg.span,
                        "`" + so_far + "` is " + tn(T(cur->scalar)) + "; it has no field `" + sg.name + "`");
            return r;
          }
          break;
        case ast::PathSeg::Kind::Index:
        case ast::PathSeg::Kind::Any:
          if (cur->shape == ir::SchemaType::Shape::List && cur->elem) {
            cur = cur->elem.get();
            if (sg.kind == ast::PathSeg::Kind::Index) r.optional = true;
            else r.any = true;
          } else if (cur->shape == ir::SchemaType::Shape::Object) {
            dyn = true;
            r.optional = true;
            if (sg.kind == ast::PathSeg::Kind::Any) r.any = true;
          } else {
            r.diag = mk(Code::BRD0307, sg.span,
                        "`" + so_far + "` is not a list; `" + (sg.kind == ast::PathSeg::Kind::Any ? "[*]" : "[N]") +
                            "` does not apply");
            return r;
          }
          break;
      }
    }
    Kind leaf = Kind::Object;
    Type t = T(Kind::Object);
    if (!dyn) {
      switch (cur->shape) {
        case ir::SchemaType::Shape::Scalar: leaf = cur->scalar; t = T(leaf); break;
        case ir::SchemaType::Shape::Record:
        case ir::SchemaType::Shape::Object: t = T(Kind::Object); break;
        case ir::SchemaType::Shape::List: {
          Kind ek = Kind::Object;
          if (cur->elem && cur->elem->shape == ir::SchemaType::Shape::Scalar) ek = cur->elem->scalar;
          else if (cur->elem && cur->elem->shape == ir::SchemaType::Shape::List) ek = Kind::List;
          t = Type::list(ek);
          break;
        }
      }
      if (t.kind == Kind::Error) t = T(Kind::Object);  // a type that failed BRD0303
    }
    r.ok = true;
    r.type = t;
    return r;
  };

  std::vector<ir::PathSeg> irsegs;
  for (const auto& sg : all) {
    ir::PathSeg s;
    s.kind = sg.kind == ast::PathSeg::Kind::Field   ? ir::PathSeg::Kind::Field
             : sg.kind == ast::PathSeg::Kind::Index ? ir::PathSeg::Kind::Index
                                                    : ir::PathSeg::Kind::Any;
    s.name = sg.name;
    s.index = sg.index;
    irsegs.push_back(std::move(s));
  }

  // Inside a JSON document, a path is typed once (against the type), and gets a slot in every source that reads
  // the document's field.
  auto intern = [&] { return json ? P.intern_json_field(json->base, json->type, irsegs) : P.intern_field(irsegs); };
  std::optional<Res> found;
  std::optional<Diagnostic> first_diag;
  std::optional<Res> json_res;
  if (json) {
    json_res = resolve(*json->root, json->type.empty() ? std::string("the JSON document")
                                                        : "type `" + json->type + "`");
    if (!json_res->ok) {
      if (json_res->diag) emit(std::move(*json_res->diag), &c);
      return Val{};
    }
  }
  for (uint32_t si : c.sources) {
    if (si == kNone) continue;
    if (json && P.sources[si].slot_of(json->base) == kNone) continue;
    Res r = json ? *json_res : resolve(P.sources[si].schema, "source `" + P.sources[si].name + "`");
    if (!r.ok) {
      if (!first_diag && r.diag) first_diag = std::move(r.diag);
      continue;
    }
    if (c.session_ctx) {
      found = r;
      break;
    }
    ir::FieldId fid = intern();
    ir::Source& src = P.sources[si];
    if (src.slot_of(fid) == kNone) {
      ir::Slot slot;
      slot.field = fid;
      slot.type = r.any ? (r.type.kind == Kind::List ? Type::list(Kind::List) : Type::list(r.type.kind)) : r.type;
      slot.optional = r.optional || json;  // a document may be missing or malformed
      slot.nocase = r.nocase;
      slot.first_use = span;
      src.slot_index[fid] = static_cast<uint32_t>(src.slots.size());
      src.slots.push_back(slot);
    }
    if (!found) found = r;
  }
  if (!found) {
    // A misspelt list or macro name (`aws.is_admn`) reads better as such than as an unknown field `aws`.
    bool all_fields = false;
    std::string full = dotted(head, segs, &all_fields);
    if (first_diag && all_fields && !segs.empty() && first_diag->span.begin == head_span.begin) {
      std::vector<std::string> decls;
      for (const auto& [n, g] : globals_)
        if (g.kind == GlobalSym::Kind::List || g.kind == GlobalSym::Kind::Macro) decls.push_back(n);
      std::string s = did_you_mean(full, decls);
      if (!s.empty()) s = ast::name_spelling(s);
      if (!s.empty()) {
        auto d = mk(Code::BRD0101, span, "unknown name `" + full + "`");
        d.help = "did you mean `" + s + "`?";
        d.fix = FixIt{span, s};
        emit(std::move(d), &c);
        return Val{};
      }
    }
    if (first_diag) emit(std::move(*first_diag), &c);
    return Val{};
  }
  if (c.session_ctx) {
    err(Code::BRD0214, span,
        "field `" + dotted(head, segs, nullptr) + "` is read outside a step: in a " +
            (c.scope == ir::Scope::Group ? "group" : "session or chain") + " condition, use `step." + head +
            "`, `first(step)." + head + "` or an aggregate",
        &c);
    return Val{};
  }
  ir::FieldId fid = intern();
  Val v;
  v.field = true;
  v.optional = found->optional;
  v.nocase_field = found->nocase;
  if (found->any) {
    Type elem = found->type.kind == Kind::List ? Type::list(Kind::Object) : found->type;
    Type list_t = found->type.kind == Kind::List ? Type::list(Kind::List) : Type::list(found->type.kind);
    NodeId load = mk_node(c, Op::Field, list_t, span, {}, fid);
    if (c.list_mode) {
      v.type = list_t;
      v.node = load;
      return v;
    }
    if (c.scoped) {  // inside any()/all(): the same path is the same element
      size_t j = 0;
      while (j < c.scoped->size() && (*c.scoped)[j].first != fid) ++j;
      if (j == c.scoped->size()) c.scoped->emplace_back(fid, load);
      v.type = elem;
      // Provisional: quantifier() makes it an Elem of the path's own binding, or, when the path is tied to
      // others, `ListAt(item, member)` with `item` (its operand, made first so that operands precede their
      // nodes) the element of the zipped list.
      NodeId item = mk_node(c, Op::Elem, Type::list(Kind::Object), span, {}, scoped_elem(c.scoped_level, j));
      v.node = mk_node(c, Op::Elem, elem, span, {item}, scoped_elem(c.scoped_level, j));
      return v;
    }
    auto binding = static_cast<uint32_t>(c.pending.size());
    c.pending.emplace_back(binding, load);
    v.type = elem;
    v.node = mk_node(c, Op::Elem, elem, span, {}, binding);
    return v;
  }
  v.type = found->type;
  v.node = mk_node(c, Op::Field, v.type, span, {}, fid);
  return v;
}

}  // namespace braid::check_internal
