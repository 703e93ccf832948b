// The checker: AST -> typed IR. See checker.h and docs/design-brief.md.
//
// Structure
//   pass 1  collect every declaration of every file into one global namespace (BRD0102 on duplicates)
//   pass 2  lists (constant elements), macro headers, source schemas (types, duplicates, nocase)
//   pass 3  source clauses (needs all schemas: a link's child side reads the target's schema)
//   pass 4  rules: metadata, sources, steps, condition, aggregates, sequences, message, suppress, tests, firing
//
// Expressions are checked by `Checker::expr` and friends against a Ctx (where the expression is, which sources
// its fields come from, whether it sees one event or a whole session). Macros are expanded at each use: the body
// is checked with an Env binding each parameter to the argument's AST (checked in the caller's Env), so the
// body's names resolve at the use site, as the brief requires.
#include "check/checker.h"

#include "check/internal/checker_impl.h"

namespace braid::check_internal {

// ---------------------------------------------------------------------------------------------------------------
// Pass 1: declarations

void Checker::declare(const std::string& name, GlobalSym::Kind kind, uint32_t index, Span span) {
  auto [it, inserted] = globals_.emplace(name, GlobalSym{kind, index, span});
  if (!inserted) {
    auto d = mk(Code::BRD0102, span,
                std::string(sym_kind_name(kind)) + " `" + name + "` is already declared (as a " +
                    sym_kind_name(it->second.kind) + ")");
    d.related.push_back({it->second.span, "first declared here"});
    emit(std::move(d));
  }
}

void Checker::collect(const ast::File& f) {
  for (const auto& decl : f.decls) {
    if (auto* s = std::get_if<ast::SourceDecl>(&decl)) {
      if (globals_.count(s->name.text)) {
        declare(s->name.text, GlobalSym::Kind::Source, 0, s->name.span);
        continue;
      }
      auto idx = static_cast<uint32_t>(source_decls_.size());
      source_decls_.push_back(s);
      declare(s->name.text, GlobalSym::Kind::Source, idx, s->name.span);
      source_index_[s->name.text] = idx;
      ir::Source src;
      src.name = s->name.text;
      src.span = s->span;
      src.name_span = s->name.span;
      P.sources.push_back(std::move(src));
    } else if (auto* l = std::get_if<ast::ListDecl>(&decl)) {
      if (globals_.count(l->name.text)) {
        declare(l->name.text, GlobalSym::Kind::List, 0, l->name.span);
        continue;
      }
      ListSym ls;
      ls.decl = l;
      ls.info = static_cast<uint32_t>(P.lists.size());
      P.lists.push_back(ir::ListInfo{l->name.text, l->name.span, Kind::String, 0, false, false, false, {}});
      P.lists.back().org_data = l->org_data;
      declare(l->name.text, GlobalSym::Kind::List, static_cast<uint32_t>(lists_.size()), l->name.span);
      lists_.push_back(std::move(ls));
    } else if (auto* m = std::get_if<ast::MacroDecl>(&decl)) {
      if (globals_.count(m->name.text)) {
        declare(m->name.text, GlobalSym::Kind::Macro, 0, m->name.span);
        continue;
      }
      MacroSym ms{m, static_cast<uint32_t>(P.macros.size())};
      ir::MacroInfo info{m->name.text, {}, m->name.span, false};
      std::map<std::string, Span> seen;
      for (const auto& p : m->params) {
        info.params.push_back(p.text);
        auto [it, ins] = seen.emplace(p.text, p.span);
        if (!ins) {
          auto d = mk(Code::BRD0112, p.span, "parameter `" + p.text + "` is declared twice");
          d.related.push_back({it->second, "first declared here"});
          emit(std::move(d));
        }
      }
      P.macros.push_back(std::move(info));
      declare(m->name.text, GlobalSym::Kind::Macro, static_cast<uint32_t>(macros_.size()), m->name.span);
      macros_.push_back(ms);
    } else if (auto* t = std::get_if<ast::TypeDecl>(&decl)) {
      if (globals_.count(t->name.text)) {
        declare(t->name.text, GlobalSym::Kind::Type, 0, t->name.span);
        continue;
      }
      declare(t->name.text, GlobalSym::Kind::Type, static_cast<uint32_t>(types_.size()), t->name.span);
      types_.push_back(TypeSym{t, nullptr});
    } else if (auto* r = std::get_if<ast::RuleDecl>(&decl)) {
      if (globals_.count(r->name.text)) {
        declare(r->name.text, GlobalSym::Kind::Rule, 0, r->name.span);
        continue;
      }
      declare(r->name.text, GlobalSym::Kind::Rule, static_cast<uint32_t>(rule_decls_.size()), r->name.span);
      rule_decls_.push_back(r);
    } else if (auto* tu = std::get_if<ast::TuneDecl>(&decl)) {
      tune_decls_.push_back(tu);  // they declare nothing: they change rules declared elsewhere
    } else if (auto* o = std::get_if<ast::OverrideDecl>(&decl)) {
      override_decls_.push_back(o);
    }
  }
}

void Checker::run(const std::vector<const ast::File*>& files) {
  size_t lists0 = lists_.size(), sources0 = source_decls_.size(), rules0 = rule_decls_.size();
  size_t types0 = types_.size();
  size_t tunes0 = tune_decls_.size(), overrides0 = override_decls_.size();
  size_t decls0 = globals_.size();
  for (const auto* f : files)
    if (f) collect(*f);
  for (size_t i = types0; i < types_.size(); ++i) {
    auto schema = std::make_shared<ir::SchemaType>();
    build_schema(types_[i].decl->type, *schema);
    types_[i].schema = std::move(schema);
  }
  for (size_t i = lists0; i < lists_.size(); ++i) check_list(lists_[i]);
  // Tuning applies before anything reads a list or checks a rule, so sources and rules see the effective values.
  apply_overrides(overrides0);
  match_tunings(tunes0);
  for (auto i = static_cast<uint32_t>(sources0); i < source_decls_.size(); ++i) check_source_header(i);
  for (auto i = static_cast<uint32_t>(sources0); i < source_decls_.size(); ++i) check_source_clauses(i);
  for (size_t i = rules0; i < rule_decls_.size(); ++i) check_rule(*rule_decls_[i]);
  if (opts_.counts) {
    opts_.counts->files += files.size();
    opts_.counts->declarations += globals_.size() - decls0;
  }
}

}  // namespace braid::check_internal

namespace braid {

using namespace check_internal;

std::vector<std::string_view> attribute_names() {
  std::vector<std::string_view> out;
  for (const AttrDef& a : kAttrs) out.push_back(a.name);
  return out;
}

std::vector<std::string_view> function_names() {
  std::vector<std::string_view> out = builtin_names();
  for (const ir::AggKindInfo& a : ir::kAggKinds) out.push_back(a.name);
  return out;
}

std::string_view function_signature(std::string_view name) {
  const BuiltinInfo* b = find_builtin(name);
  return b ? b->signature : std::string_view();
}

std::vector<std::string_view> severity_names() {
  return {"info", "low", "medium", "high", "critical"};
}

std::unique_ptr<ir::Program> check(const std::vector<const ast::File*>& files, const SourceManager& sm,
                                   DiagnosticSink& diags, const CheckOptions& opts) {
  auto p = std::make_unique<ir::Program>();
  Checker c(sm, diags, opts, *p);
  c.run(files);
  return p;
}

struct CheckedBase::Impl {
  ir::Program program;
  CheckerState state;
};

CheckedBase::CheckedBase() : impl_(std::make_unique<Impl>()) {}
CheckedBase::~CheckedBase() = default;
const ir::Program& CheckedBase::program() const { return impl_->program; }

std::shared_ptr<const CheckedBase> check_base(const std::vector<const ast::File*>& files, const SourceManager& sm,
                                              DiagnosticSink& diags, const CheckOptions& opts) {
  std::shared_ptr<CheckedBase> base(new CheckedBase());
  Checker c(sm, diags, opts, base->impl_->program);
  c.run(files);
  base->impl_->state = c.state();
  return base;
}

std::unique_ptr<ir::Program> check(const CheckedBase& base, const std::vector<const ast::File*>& files,
                                   const SourceManager& sm, DiagnosticSink& diags, const CheckOptions& opts) {
  auto p = std::make_unique<ir::Program>(base.impl_->program.clone());
  Checker c(base.impl_->state, sm, diags, opts, *p);
  c.run(files);
  return p;
}

}  // namespace braid
