// Sources: schemas (`fields`, `type`), the source header and its clauses (pass 2 and 3).
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

// ---------------------------------------------------------------------------------------------------------------
// Sources

void Checker::build_schema(const ast::TypeExpr& t, ir::SchemaType& out) {
  out.span = t.span;
  switch (t.kind) {
    case ast::TypeExpr::Kind::Named: {
      static const std::map<std::string, Kind> kNames = {
          {"string", Kind::String}, {"int", Kind::Int},           {"float", Kind::Float}, {"bool", Kind::Bool},
          {"time", Kind::Time},     {"duration", Kind::Duration}, {"ip", Kind::Ip},       {"cidr", Kind::Cidr},
          {"object", Kind::Object}};
      auto it = kNames.find(t.name.text);
      if (it == kNames.end()) {
        std::vector<std::string> cands;
        for (const auto& [n, k] : kNames) cands.push_back(n);
        err_suggest(Code::BRD0303, t.name.span, "unknown type `" + t.name.text + "`", t.name.text, cands);
        out.shape = ir::SchemaType::Shape::Object;  // recover as free-form
        out.scalar = Kind::Error;
      } else if (it->second == Kind::Object) {
        out.shape = ir::SchemaType::Shape::Object;
      } else {
        out.shape = ir::SchemaType::Shape::Scalar;
        out.scalar = it->second;
      }
      break;
    }
    case ast::TypeExpr::Kind::List:
      out.shape = ir::SchemaType::Shape::List;
      out.elem = std::make_unique<ir::SchemaType>();
      if (t.elem) build_schema(*t.elem, *out.elem);
      break;
    case ast::TypeExpr::Kind::Record: {
      out.shape = ir::SchemaType::Shape::Record;
      out.open = t.open;
      std::map<std::string, Span> seen;
      for (const auto& f : t.fields) {
        auto [it, ins] = seen.emplace(f.name, f.span);
        if (!ins) {
          auto d = mk(Code::BRD0304, f.span, "field `" + f.name + "` is declared twice");
          d.related.push_back({it->second, "first declared here"});
          emit(std::move(d));
          continue;
        }
        ir::SchemaField sf;
        sf.name = f.name;
        sf.optional = f.optional;
        sf.nocase = f.nocase;
        sf.span = f.span;
        if (f.type) build_schema(*f.type, sf.type);
        if (f.nocase) {
          const ir::SchemaType* leaf = &sf.type;
          while (leaf->shape == ir::SchemaType::Shape::List && leaf->elem) leaf = leaf->elem.get();
          bool ok = leaf->shape == ir::SchemaType::Shape::Scalar && leaf->scalar == Kind::String;
          if (!ok && !(leaf->shape == ir::SchemaType::Shape::Object && leaf->scalar == Kind::Error))
            err(Code::BRD0308, f.span, "`nocase` applies only to string fields; `" + f.name + "` is not a string");
        }
        out.fields.push_back(std::move(sf));
      }
      break;
    }
  }
}

void Checker::check_source_header(uint32_t idx) {
  const ast::SourceDecl& s = *source_decls_[idx];
  ir::Source& out = P.sources[idx];
  if (s.fields) {
    build_schema(s.fields->record, out.schema);
  } else {
    out.schema.shape = ir::SchemaType::Shape::Record;
  }
  std::vector<std::string> missing;
  if (!s.recognize) missing.push_back("recognize");
  if (!s.time) missing.push_back("time");
  if (!s.identity) missing.push_back("identity");
  if (!s.session) missing.push_back("session gap .. max ..");
  if (!s.fields) missing.push_back("fields");
  for (const auto& m : missing)
    err(Code::BRD0302, s.name.span, "source `" + s.name.text + "` has no `" + m + "` clause");
  if (s.session) {
    out.session_gap = s.session->gap.nanos;
    out.session_max = s.session->max.nanos;
    if (out.session_gap <= 0)
      err(Code::BRD0306, s.session->gap.span, "the session gap must be positive");
    else if (out.session_max < out.session_gap)
      err(Code::BRD0306, s.session->max.span,
          "the session maximum (" + s.session->max.text + ") is shorter than the gap (" + s.session->gap.text + ")");
  }
  if (s.lateness) out.lateness = s.lateness->lateness.nanos;
}

void Checker::check_source_clauses(uint32_t idx) {
  const ast::SourceDecl& s = *source_decls_[idx];
  Ctx base;
  base.place = Place::Source;
  base.sources = {idx};
  base.attrs_allowed = false;
  if (!s.fields) base.sources_failed = true;

  auto want = [&](const std::optional<ast::ExprClause>& cl, const char* name, auto accept, const char* expect,
                  NodeId& slot) {
    if (!cl || !cl->expr) return;
    Ctx c = base;
    Val v = value_top(*cl->expr, c);
    if (!v.ok()) return;
    if (!accept(v.type)) {
      err(Code::BRD0305, cl->expr->span,
          std::string("`") + name + "` must be " + expect + ", but this is " + tn(v.type), &c);
      return;
    }
    slot = v.node;
  };
  ir::Source& out = P.sources[idx];
  if (s.recognize && s.recognize->expr) {
    Ctx c = base;
    Val v = cond(*s.recognize->expr, c, "`recognize`");
    if (v.ok()) out.recognize = v.node;
  }
  auto is_time = [](Type t) { return t.kind == Kind::Time; };
  auto is_str = [](Type t) { return stringish(t.kind); };
  want(s.time, "time", is_time, "a `time`", out.time);
  want(s.id, "id", is_str, "a string", out.id);
  want(s.identity, "identity", is_str, "a string", out.identity);
  want(s.credential, "credential", is_str, "a string", out.credential);
  want(s.ip, "ip", is_str, "an `ip` or a string", out.ip);
  want(s.account, "account", is_str, "a string", out.account);

  for (const auto& m : s.mints) {
    ir::Mint mint;
    mint.span = m.span;
    if (m.credential) {
      Ctx c = base;
      Val v = value_top(*m.credential, c);
      if (v.ok() && !stringish(v.type.kind))
        err(Code::BRD0305, m.credential->span, "`mints` must name a credential string, but this is " + tn(v.type), &c);
      else if (v.ok())
        mint.credential = v.node;
    }
    if (m.when) {
      Ctx c = base;
      Val v = cond(*m.when, c, "`mints ... when`");
      if (v.ok()) mint.when = v.node;
    }
    out.mints.push_back(mint);
  }

  for (const auto& l : s.links) {
    ir::Link link;
    link.span = l.span;
    link.within = l.within.nanos;
    auto it = source_index_.find(l.target.text);
    if (it == source_index_.end()) {
      std::vector<std::string> cands;
      for (const auto& [n, i] : source_index_) cands.push_back(n);
      std::string msg = "`" + l.target.text + "` is not a declared source";
      if (auto g = globals_.find(l.target.text); g != globals_.end())
        msg = "`" + l.target.text + "` is a " + sym_kind_name(g->second.kind) + ", not a source";
      err_suggest(Code::BRD0103, l.target.span, msg, l.target.text, cands, nullptr, true);
    } else {
      link.target = it->second;
    }
    Ctx pc = base;
    Ctx cc = base;
    cc.sources = {link.target};
    cc.sources_failed = link.target == kNone || !source_decls_[link.target]->fields;
    Val pk, ck;
    if (l.parent.when) {
      Ctx c = pc;
      Val v = cond(*l.parent.when, c, "link `parent when`");
      if (v.ok()) link.parent_when = v.node;
    }
    if (l.parent.key) {
      Ctx c = pc;
      pk = value_top(*l.parent.key, c);
      if (pk.ok()) link.parent_key = pk.node;
    }
    if (l.child.when) {
      Ctx c = cc;
      Val v = cond(*l.child.when, c, "link `child when`");
      if (v.ok()) link.child_when = v.node;
    }
    if (l.child.key) {
      Ctx c = cc;
      ck = value_top(*l.child.key, c);
      if (ck.ok()) link.child_key = ck.node;
    }
    if (pk.ok() && ck.ok()) {
      bool ok = (stringish(pk.type.kind) && stringish(ck.type.kind)) || pk.type == ck.type ||
                (pk.type.is_numeric() && ck.type.is_numeric());
      if (!ok)
        err(Code::BRD0305, Span::cover(l.parent.key->span, l.child.key->span),
            "link keys cannot be compared: parent key is " + tn(pk.type) + ", child key is " + tn(ck.type));
    }
    out.links.push_back(link);
  }
}

}  // namespace braid::check_internal
