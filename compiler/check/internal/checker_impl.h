// The checker's internals, shared by the files of compiler/check (checker.h is the public API): the values
// expressions check to, the symbols, the context of an expression, and the Checker class, whose members are
// defined one concern per file:
//   checker.cpp         the passes (pass 1: declarations; run), check() and check_base()
//   suggest.cpp         edit distance, "did you mean", the names in scope
//   constants.cpp       lists, constant folding, regexes
//   sources.cpp         schemas, source headers and clauses
//   expressions.cpp     conditions, literals, arithmetic, comparisons, string operators, `in`, `in cidr`
//   paths.cpp           fields, steps' fields, `[*]`, attributes, macro parameters
//   calls.cpp           `name(...)`: builtins, aggregates, macros (expansion)
//   builtins.cpp        the builtins' typing functions (builtins.def), any/all
//   aggregates.cpp      step aggregates, sequences
//   rules.cpp           rules: metadata, steps, condition, message, suppress, org data, groups
//   tuning.cpp          `override list`, `tune`
//   embedded_tests.cpp  a rule's tests
//   classify.cpp        firing classification
#pragma once

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ast/ast.h"
#include "check/builtins.h"
#include "check/checker.h"
#include "diag/diagnostic.h"
#include "ir/ir.h"

namespace braid::check_internal {

using ir::Kind;
using ir::kNoNode;
using ir::kNone;
using ir::NodeId;
using ir::Op;
using ir::Type;

inline Type T(Kind k) { return Type::of(k); }
inline const Type kErr = T(Kind::Error);

inline bool stringish(Kind k) { return k == Kind::String || k == Kind::Ip || k == Kind::Object; }

inline std::string tn(Type t) { return "`" + ir::type_name(t) + "`"; }

inline std::string fold(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// The result of checking one expression.
struct Val {
  NodeId node = kNoNode;
  Type type = kErr;
  bool field = false;         // a direct field load (or the element of one)
  bool optional = false;      // ... which may be missing
  bool nocase_field = false;  // ... declared nocase
  bool ok() const { return type.kind != Kind::Error && node != kNoNode; }
};

// A compile-time constant (list elements, regex patterns).
struct ConstVal {
  Kind kind = Kind::Error;  // String, Int, Float, Duration, Bool; List for a tuple (its parts in `parts`)
  std::string s;
  int64_t i = 0;
  double f = 0;
  std::vector<ConstVal> parts;  // a tuple `("ci-*", "Describe*")`: its constants
  Span span;
};

struct ListVal {
  std::vector<ConstVal> elems;
  Kind elem = Kind::String;  // List: a list of tuples of `arity` parts, of kinds `part_kinds`
  uint32_t arity = 0;
  std::vector<Kind> part_kinds;
  bool ok = true;
  Span span;
};

// A list of plain constants as an IR constant set (before interning).
inline ir::ConstSet const_set(const ListVal& lv) {
  ir::ConstSet s;
  s.elem = lv.elem;
  for (const auto& x : lv.elems) {
    if (x.kind == Kind::String) s.strings.push_back(x.s);
    else if (x.kind == Kind::Float) s.floats.push_back(x.f);
    else s.ints.push_back(x.i);
  }
  return s;
}

// Macro parameters bound at one expansion.
struct Env {
  const ast::MacroDecl* macro = nullptr;
  std::string macro_name;
  std::map<std::string, const ast::Expr*> args;
  const Env* caller = nullptr;  // where the arguments are checked
  Span site;                    // the outermost use site (spans of nodes built from the body)
  uint32_t depth = 0;
};

enum class Place : uint8_t { Source, StepPred, EventWhen, ScopeWhen, Alert, AggValue, Decl, GroupKey };

struct Ctx {
  Place place = Place::Decl;
  ir::Rule* rule = nullptr;
  std::vector<uint32_t> sources;  // field resolution
  bool sources_failed = false;    // the rule's sources did not resolve: stay quiet about fields
  ir::Scope scope = ir::Scope::Event;
  const std::map<std::string, uint32_t>* steps = nullptr;
  bool session_ctx = false;  // sees a session: aggregates and steps allowed, bare fields not
  bool allow_seq = false;
  bool attrs_allowed = true;  // session.* (false in sources)
  const Env* env = nullptr;
  std::vector<std::pair<uint32_t, NodeId>> pending;  // open [*] bindings: (binding, list load)
  bool list_mode = false;  // a [*] path loads the list itself (top of a value context)
  // Inside `any(...)` / `all(...)`: the [*] paths met so far (field, list load); one path is one element.
  std::vector<std::pair<ir::FieldId, NodeId>>* scoped = nullptr;
  uint32_t scoped_level = 0;
};

// The `imm` of an Elem node of `any(...)`'s j-th path while its condition is checked (nesting `level`), renumbered
// to a binding depth when the quantifier closes.
inline constexpr int64_t kScopedElem = 1000;
constexpr int64_t scoped_elem(uint32_t level, size_t j) { return kScopedElem + 100 * int64_t{level} + static_cast<int64_t>(j); }

struct ListSym {
  const ast::ListDecl* decl = nullptr;
  uint32_t info = 0;
  bool checked = false;
  bool in_progress = false;
  ListVal value;
};

struct MacroSym {
  const ast::MacroDecl* decl = nullptr;
  uint32_t info = 0;
};

// `type name = ...`: a schema for `json(field, name)`.
struct TypeSym {
  const ast::TypeDecl* decl = nullptr;
  std::shared_ptr<ir::SchemaType> schema;  // built in pass 2 (shared: CheckerState is copied)
};

// The document a `json(field, type)` path reads from.
struct JsonBase {
  ir::FieldId base = kNone;          // the event field holding the JSON text
  const ir::SchemaType* root = nullptr;
  std::string type;                  // the type's name; "" for free-form
  Span span;                         // the `json(...)` call
};

struct GlobalSym {
  enum class Kind : uint8_t { Source, List, Macro, Rule, Type } kind;
  uint32_t index;  // into sources_/lists_/macros_/rules_ (checker-local vectors)
  Span span;
};

inline const char* sym_kind_name(GlobalSym::Kind k) {
  switch (k) {
    case GlobalSym::Kind::Source: return "source";
    case GlobalSym::Kind::List: return "list";
    case GlobalSym::Kind::Macro: return "macro";
    case GlobalSym::Kind::Rule: return "rule";
    case GlobalSym::Kind::Type: return "type";
  }
  return "declaration";
}

struct AttrDef {
  const char* name;
  ir::Attribute attr;
};
inline constexpr AttrDef kAttrs[] = {
    {"session.id", ir::Attribute::SessionId},
    {"session.identity", ir::Attribute::SessionIdentity},
    {"session.credential", ir::Attribute::SessionCredential},
    {"session.start", ir::Attribute::SessionStart},
    {"session.end", ir::Attribute::SessionEnd},
    {"session.duration", ir::Attribute::SessionDuration},
    {"session.events", ir::Attribute::SessionEvents},
    {"session.source_ips", ir::Attribute::SessionSourceIps},
    {"chain.depth", ir::Attribute::ChainDepth},
    {"chain.root.identity", ir::Attribute::ChainRootIdentity},
    {"chain.root.credential", ir::Attribute::ChainRootCredential},
    {"chain.root.start", ir::Attribute::ChainRootStart},
    {"chain.identities", ir::Attribute::ChainIdentities},
    {"chain.accounts", ir::Attribute::ChainAccounts},
};

// ---------------------------------------------------------------------------------------------------------------

// The builtins' names as BRD0107 suggests them and completion offers them: first and last are listed with the
// aggregates (they are suggested only where aggregates are).
std::vector<std::string_view> builtin_names();

// Everything the checker knows between its runs: what check_base keeps and check(base, ...) copies. The checker's
// data members live here, never in Checker itself (a static_assert below enforces it), so that a copy is whole.
struct CheckerState {
  std::set<std::tuple<int, FileId, uint32_t, uint32_t, std::string>> seen_;
  std::map<std::string, GlobalSym> globals_;
  std::vector<const ast::SourceDecl*> source_decls_;
  std::vector<ListSym> lists_;
  std::vector<MacroSym> macros_;
  std::vector<TypeSym> types_;
  std::vector<const ast::RuleDecl*> rule_decls_;
  std::map<std::string, uint32_t> source_index_;
  std::vector<const ast::TuneDecl*> tune_decls_;
  std::vector<const ast::OverrideDecl*> override_decls_;
  std::map<std::string, std::vector<const ast::TuneDecl*>> tunes_of_;  // rule id -> its tunings, in file order
};

class Checker : CheckerState {
 public:
  Checker(const SourceManager& sm, DiagnosticSink& diags, const CheckOptions& opts, ir::Program& p)
      : sm_(sm), diags_(diags), opts_(opts), P(p) {}
  // Continues from a kept state: `p` is a copy of the program that state was checked into.
  Checker(const CheckerState& base, const SourceManager& sm, DiagnosticSink& diags, const CheckOptions& opts,
          ir::Program& p)
      : CheckerState(base), sm_(sm), diags_(diags), opts_(opts), P(p) {}

  // Checks `files` after the declarations already checked (none, or a base's): passes 2 to 4 run over the new
  // declarations only.
  void run(const std::vector<const ast::File*>& files);
  const CheckerState& state() const { return *this; }

 private:
  // ---- diagnostics
  Diagnostic mk(Code code, Span span, std::string msg) {
    Diagnostic d;
    d.code = code;
    d.severity = code_info(code).severity;
    d.span = span;
    d.message = std::move(msg);
    return d;
  }
  void emit(Diagnostic d, const Ctx* c = nullptr) {
    if (c) {
      for (const Env* e = c->env; e && e->macro; e = e->caller) {
        if (e->caller && e->caller->macro) continue;  // only the outermost use site
        d.related.push_back({e->site, "in the expansion of macro `" + e->macro_name + "` here"});
      }
    }
    auto key = std::make_tuple(static_cast<int>(d.code), d.span.file, d.span.begin, d.span.end, d.message);
    if (!seen_.insert(key).second) return;
    diags_.add(std::move(d));
  }
  void err(Code code, Span span, std::string msg, const Ctx* c = nullptr) { emit(mk(code, span, std::move(msg)), c); }
  void err_suggest(Code code, Span span, std::string msg, std::string_view name,
                   const std::vector<std::string>& candidates, const Ctx* c = nullptr, bool declared = false) {
    auto d = mk(code, span, std::move(msg));
    std::string s = did_you_mean(name, candidates);
    if (declared && !s.empty()) s = ast::name_spelling(s);  // a declared name, as it is written: `acme."bad-ips"`
    if (!s.empty()) {
      d.help = "did you mean `" + s + "`?";
      d.fix = FixIt{span, s};
    }
    emit(std::move(d), c);
  }

  // A key given twice in one JSON object of a test: JSON leaves it undefined and readers disagree (the event
  // reader keeps the first), so the test would not say what it seems to.
  void duplicate_json_keys(const ast::Json& j, Code code) {
    if (j.kind == ast::Json::Kind::Object) {
      std::map<std::string_view, Span> seen;
      for (const auto& m : j.members) {
        auto [it, fresh] = seen.emplace(m.first, m.key_span);
        if (!fresh) {
          auto d = mk(code, m.key_span.valid() ? m.key_span : m.second.span,
                      "the key \"" + m.first + "\" appears twice in this JSON object");
          d.help = "JSON objects hold each key once; keep one of them (event readers keep the first)";
          d.related.push_back({it->second, "first given here"});
          emit(std::move(d));
        }
      }
    }
    for (const auto& x : j.items) duplicate_json_keys(x, code);
    for (const auto& m : j.members) duplicate_json_keys(m.second, code);
  }

  // ---- nodes
  NodeId mk_node(const Ctx& c, Op op, Type t, Span sp, std::initializer_list<NodeId> ops = {}, int64_t imm = 0,
                 uint8_t flags = 0) {
    return mk_node_v(c, op, t, sp, std::vector<NodeId>(ops), imm, flags);
  }
  NodeId mk_node_v(const Ctx& c, Op op, Type t, Span sp, const std::vector<NodeId>& ops, int64_t imm = 0,
                   uint8_t flags = 0) {
    ir::Node n;
    n.op = op;
    n.type = t;
    n.imm = imm;
    n.flags = flags;
    n.span = sp;
    if (c.env && c.env->macro) {
      n.span = c.env->site;
      n.flags |= ir::kFlagFromMacro;
    }
    return P.add_node(n, ops);
  }
  Val wrap_not(const Ctx& c, Val v, Span sp, bool sugar) {
    if (!v.ok()) return v;
    Val r = v;
    r.node = mk_node(c, Op::Not, T(Kind::Bool), sp, {v.node}, 0, sugar ? ir::kFlagSugar : 0);
    r.type = T(Kind::Bool);
    return r;
  }
  // Closes the [*] bindings opened since `mark` around the predicate `v`.
  Val close_any(Ctx& c, size_t mark, Val v, Span sp) {
    while (c.pending.size() > mark) {
      auto [binding, list] = c.pending.back();
      c.pending.pop_back();
      if (v.ok()) v.node = mk_node(c, Op::AnyElem, T(Kind::Bool), sp, {list, v.node}, binding);
    }
    return v;
  }

  // ---- passes
  void collect(const ast::File& f);
  void declare(const std::string& name, GlobalSym::Kind kind, uint32_t index, Span span);
  void check_list(ListSym& l);
  void build_schema(const ast::TypeExpr& t, ir::SchemaType& out);
  void check_source_header(uint32_t idx);
  void check_source_clauses(uint32_t idx);
  void check_rule(const ast::RuleDecl& r);
  void apply_overrides(size_t from);
  void match_tunings(size_t from);
  void tune_rule(const ast::RuleDecl& d, ir::Rule& r, const Ctx& base,
                 const std::function<std::optional<ir::Severity>(const ast::Ident&)>& level);
  void check_org_data(const ast::RuleDecl& d, ir::Rule& r);
  void check_tests(const ast::RuleDecl& r, ir::Rule& out);
  void classify(ir::Rule& r);
  void check_group(const ast::GroupHead& g, ir::Rule& r, const Ctx& base);

  // ---- expressions
  Val expr(const ast::Expr& e, Ctx& c);
  Val cond(const ast::Expr& e, Ctx& c, const char* what = "condition", Code not_bool = Code::BRD0204);
  Val value_top(const ast::Expr& e, Ctx& c);
  Val literal(const ast::Expr& e, Ctx& c);
  Val path(const ast::Expr& e, Ctx& c);
  Val path_segs(const ast::Expr& e, const std::vector<ast::PathSeg>& segs, Ctx& c);
  Val field(const std::string& head, Span head_span, const std::vector<ast::PathSeg>& segs, Span span, Ctx& c,
            const JsonBase* json = nullptr);
  // any/all once builtin_quantifier has checked the call's form.
  Val quantifier(const ast::Expr& e, Ctx& c);
  Val call(const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  // ---- builtins (builtins.def): each row's typing function, and the dispatch table in the order of its rows.
  using BuiltinCheck = Val (Checker::*)(const BuiltinInfo&, const ast::Expr&, const std::vector<ast::PathSeg>*,
                                        Ctx&);
  static const BuiltinCheck kBuiltinChecks[kBuiltinCount];
  // Reports BRD0206 with the row's message when `e` has the wrong number of arguments for `b`.
  bool builtin_arity(const BuiltinInfo& b, const ast::Expr& e, Ctx& c);
  Val builtin_exists(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val builtin_case(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val builtin_len(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val builtin_coalesce(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val builtin_replace(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val builtin_json(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val builtin_quantifier(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val builtin_list_end(const BuiltinInfo& b, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  // A string-typed argument of a builtin (BRD0206 otherwise).
  Val builtin_str_arg(const BuiltinInfo& b, const ast::Expr& e, size_t i, Ctx& c);
  Val aggregate(ir::AggKind kind, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c);
  Val expand(const MacroSym& m, const std::vector<const ast::Expr*>& args, Span use, Ctx& c);
  Val arith(const ast::Expr& e, Ctx& c);
  Val compare(const ast::Expr& e, Ctx& c);
  Val strop(const ast::Expr& e, Ctx& c);
  Val in(const ast::Expr& e, Ctx& c);
  // The exact-membership set of `x in elems` (an ip canonicalised, strings folded for `in~`, ints widened for a
  // float list; x may get a ToFloat); nullopt after reporting that they do not go together.
  std::optional<ir::ConstSet> member_set(Val& x, const std::vector<ConstVal>& elems, Kind le, const ast::Expr& e,
                                         const Span& lhs_span, Ctx& c);
  // `(a, b) in L` and `(a, b) like any L` over a list of tuples: Or over the tuples of And over their parts.
  Val tuple_match(const ast::Expr& e, Ctx& c);
  Val in_cidr(const ast::Expr& e, Ctx& c);
  Val sequence(const ast::Expr& e, Ctx& c);
  Val step_agg(ir::AggKind kind, uint32_t step, const std::vector<ast::PathSeg>& segs, Span span, Ctx& c);

  // Follows a head-only parameter reference to its argument (and the Env to check it in).
  const ast::Expr* deparam(const ast::Expr* e, const Env*& env) const;
  std::optional<ConstVal> const_of(const ast::Expr& e, const Env* env, int depth = 0);
  std::optional<ListVal> list_of(const ast::Expr& e, Ctx& c, int depth = 0);
  std::optional<ir::RegexId> regex(const ConstVal& pattern, bool nocase, Ctx& c);
  const ListSym* find_list(const std::string& name) {
    auto it = globals_.find(name);
    if (it == globals_.end() || it->second.kind != GlobalSym::Kind::List) return nullptr;
    return &lists_[it->second.index];
  }
  const MacroSym* find_macro(const std::string& name) {
    auto it = globals_.find(name);
    if (it == globals_.end() || it->second.kind != GlobalSym::Kind::Macro) return nullptr;
    return &macros_[it->second.index];
  }
  std::vector<std::string> names_in_scope(const Ctx& c, bool with_fields);
  static std::string dotted(const std::string& head, const std::vector<ast::PathSeg>& segs, bool* all_fields);

  const SourceManager& sm_;
  DiagnosticSink& diags_;
  const CheckOptions& opts_;
  ir::Program& P;
};
static_assert(sizeof(Checker) == sizeof(CheckerState) + 4 * sizeof(void*),
              "add the checker's data members to CheckerState, so that check(base, ...) copies them");

}  // namespace braid::check_internal
