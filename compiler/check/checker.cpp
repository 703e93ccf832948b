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
#include "check/builtins.h"

#include <re2/re2.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "text/json_write.h"

namespace braid {

// ---------------------------------------------------------------------------------------------------------------
// Suggestions

size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  std::string lname = lower(name);
  size_t best = SIZE_MAX;
  std::string best_name;
  for (const auto& c : candidates) {
    if (c == name) continue;
    // Case-only differences count as distance 0.5 (ranked first).
    size_t d = lower(c) == lname ? 0 : edit_distance(name, c) * 2;
    if (d < best || (d == best && c < best_name)) {
      best = d;
      best_name = c;
    }
  }
  size_t limit = std::max<size_t>(2, name.size() / 3 * 2 + 1);  // about a third of the length, at least 1 edit
  if (best <= limit && best != SIZE_MAX) return best_name;
  return {};
}

namespace {

using ir::Kind;
using ir::kNoNode;
using ir::kNone;
using ir::NodeId;
using ir::Op;
using ir::Type;

Type T(Kind k) { return Type::of(k); }
const Type kErr = T(Kind::Error);

bool stringish(Kind k) { return k == Kind::String || k == Kind::Ip || k == Kind::Object; }

std::string tn(Type t) { return "`" + ir::type_name(t) + "`"; }

std::string fold(std::string_view s) {
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
constexpr int64_t kScopedElem = 1000;
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

const char* sym_kind_name(GlobalSym::Kind k) {
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
constexpr AttrDef kAttrs[] = {
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

// The builtins' names as BRD0107 suggests them and completion offers them: first and last are listed with the
// aggregates (they are suggested only where aggregates are).
std::vector<std::string_view> builtin_names() {
  std::vector<std::string_view> out;
  for (const BuiltinInfo& b : kBuiltinTable)
    if (!ir::agg_kind_from_name(b.name)) out.push_back(b.name);
  return out;
}

// Compact JSON text of a test's events or expected alerts.
void json_text(const ast::Json& j, std::string& out) {
  auto str = [&](const std::string& s) { append_json_quoted(out, s); };
  switch (j.kind) {
    case ast::Json::Kind::Null: out += "null"; break;
    case ast::Json::Kind::Bool: out += j.bool_value ? "true" : "false"; break;
    case ast::Json::Kind::Number: out += j.text; break;
    case ast::Json::Kind::String: str(j.text); break;
    case ast::Json::Kind::Array:
      out += '[';
      for (size_t i = 0; i < j.items.size(); ++i) {
        if (i) out += ',';
        json_text(j.items[i], out);
      }
      out += ']';
      break;
    case ast::Json::Kind::Object:
      out += '{';
      for (size_t i = 0; i < j.members.size(); ++i) {
        if (i) out += ',';
        str(j.members[i].first);
        out += ':';
        json_text(j.members[i].second, out);
      }
      out += '}';
      break;
  }
}

bool valid_attack_id(std::string_view s) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > s.size()) return false;
    for (size_t i = from; i < from + n; ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
  };
  if (s.size() == 6 && s.substr(0, 2) == "TA") return digits(2, 4);
  if (s.size() == 5 && s[0] == 'T') return digits(1, 4);
  if (s.size() == 9 && s[0] == 'T' && s[5] == '.') return digits(1, 4) && digits(6, 3);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------

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
      P.lists.push_back(ir::ListInfo{l->name.text, l->name.span, Kind::String, 0, false});
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

// ---------------------------------------------------------------------------------------------------------------
// Lists and constants

void Checker::check_list(ListSym& l) {
  if (l.checked) return;
  if (l.in_progress) {  // a list whose literal names itself through a macro: impossible today, but be safe
    l.value.ok = false;
    return;
  }
  l.in_progress = true;
  Ctx c;
  c.place = Place::Decl;
  if (l.decl->value && l.decl->value->kind == ast::ExprKind::List) {
    auto v = list_of(*l.decl->value, c);
    if (v) l.value = *v;
    else l.value.ok = false;
  } else {
    l.value.ok = false;
  }
  l.value.span = l.decl->value ? l.decl->value->span : l.decl->span;
  P.lists[l.info].elem = l.value.elem;
  P.lists[l.info].size = l.value.elems.size();
  l.in_progress = false;
  l.checked = true;
}

const ast::Expr* Checker::deparam(const ast::Expr* e, const Env*& env) const {
  while (e && env && e->kind == ast::ExprKind::Path && e->children.empty() && e->segs.empty()) {
    auto it = env->args.find(e->head);
    if (it == env->args.end()) break;
    e = it->second;
    env = env->caller;
  }
  return e;
}

std::string Checker::dotted(const std::string& head, const std::vector<ast::PathSeg>& segs, bool* all_fields) {
  std::string s = head;
  bool all = true;
  for (const auto& sg : segs) {
    // A quoted segment can be part of a declared name (`acme."bad-ips"`), unless no name could hold it.
    if (sg.kind != ast::PathSeg::Kind::Field || (sg.quoted && !ast::invalid_segment_reason(sg.name).empty())) {
      all = false;
      break;
    }
    s += "." + sg.name;
  }
  if (all_fields) *all_fields = all;
  return s;
}

std::optional<ConstVal> Checker::const_of(const ast::Expr& e0, const Env* env, int depth) {
  if (depth > 64) return std::nullopt;
  const ast::Expr* e = deparam(&e0, env);
  if (!e) return std::nullopt;
  ConstVal v;
  v.span = e->span;
  switch (e->kind) {
    case ast::ExprKind::Literal:
      switch (e->lit.kind) {
        case ast::LitKind::String:
        case ast::LitKind::RawString: v.kind = Kind::String, v.s = e->lit.text; return v;
        case ast::LitKind::Int: v.kind = Kind::Int, v.i = e->lit.int_value; return v;
        case ast::LitKind::Float: v.kind = Kind::Float, v.f = e->lit.float_value; return v;
        case ast::LitKind::Duration: v.kind = Kind::Duration, v.i = e->lit.int_value; return v;
        case ast::LitKind::Bool: v.kind = Kind::Bool, v.i = e->lit.bool_value ? 1 : 0; return v;
        case ast::LitKind::Null: return std::nullopt;
      }
      return std::nullopt;
    case ast::ExprKind::Unary:
      if (e->op == ast::Op::Neg && e->children.size() == 1) {
        auto inner = const_of(*e->children[0], env, depth + 1);
        if (!inner) return std::nullopt;
        if (inner->kind == Kind::Int || inner->kind == Kind::Duration) inner->i = -inner->i;
        else if (inner->kind == Kind::Float) inner->f = -inner->f;
        else return std::nullopt;
        inner->span = e->span;
        return inner;
      }
      return std::nullopt;
    case ast::ExprKind::Path: {
      if (!e->children.empty()) return std::nullopt;
      bool all = false;
      std::string name = dotted(e->head, e->segs, &all);
      if (!all) return std::nullopt;
      if (const MacroSym* m = find_macro(name); m && m->decl->params.empty() && m->decl->body) {
        auto r = const_of(*m->decl->body, nullptr, depth + 1);
        if (r) {
          P.macros[m->info].used = true;
          r->span = e->span;
        }
        return r;
      }
      return std::nullopt;
    }
    case ast::ExprKind::Tuple:
      for (const auto& ch : e->children) {
        auto part = const_of(*ch, env, depth + 1);
        if (!part || part->kind == Kind::List) return std::nullopt;
        v.parts.push_back(std::move(*part));
      }
      v.kind = Kind::List;
      return v;
    default: return std::nullopt;
  }
}

std::optional<ListVal> Checker::list_of(const ast::Expr& e0, Ctx& c, int depth) {
  const Env* env = c.env;
  const ast::Expr* e = deparam(&e0, env);
  if (!e || depth > 64) return std::nullopt;
  if (e->kind == ast::ExprKind::List) {
    ListVal lv;
    lv.span = e->span;
    bool have_kind = false;
    for (const auto& ch : e->children) {
      auto v = const_of(*ch, env);
      if (!v) {
        err(Code::BRD0210, ch->span,
            ch->kind == ast::ExprKind::Tuple
                ? "the parts of a tuple in a list must be constants (strings, numbers, durations or booleans)"
                : "list elements must be constants (strings, numbers, durations or booleans)",
            &c);
        lv.ok = false;
        continue;
      }
      // A list of tuples (an allow-list of pairs): every element a tuple of the same length, each part of one kind.
      if (v->kind == Kind::List || lv.arity > 0) {
        if (!have_kind && v->kind == Kind::List) {
          lv.elem = Kind::List;
          lv.arity = static_cast<uint32_t>(v->parts.size());
          for (const auto& part : v->parts) lv.part_kinds.push_back(part.kind);
          have_kind = true;
        } else if (v->kind != Kind::List || v->parts.size() != lv.arity || lv.elem != Kind::List) {
          err(Code::BRD0211, ch->span,
              lv.elem == Kind::List ? "every element of a list of tuples must be a tuple of " +
                                          std::to_string(lv.arity) + " values"
                                    : "a tuple in a list of " + tn(T(lv.elem)),
              &c);
          lv.ok = false;
          continue;
        } else {
          bool same = true;
          for (size_t k = 0; k < lv.arity; ++k) {
            Kind a = lv.part_kinds[k], b = v->parts[k].kind;
            if (a == b) continue;
            if ((a == Kind::Int || a == Kind::Float) && (b == Kind::Int || b == Kind::Float)) {
              lv.part_kinds[k] = Kind::Float;
              continue;
            }
            err(Code::BRD0211, v->parts[k].span,
                "part " + std::to_string(k + 1) + " of this tuple is " + tn(T(b)) +
                    "; in the list's first tuple it is " + tn(T(a)),
                &c);
            same = false;
          }
          if (!same) {
            lv.ok = false;
            continue;
          }
        }
        lv.elems.push_back(*v);
        continue;
      }
      if (!have_kind) {
        lv.elem = v->kind;
        have_kind = true;
      } else if (lv.elem != v->kind) {
        bool num = (lv.elem == Kind::Int || lv.elem == Kind::Float) && (v->kind == Kind::Int || v->kind == Kind::Float);
        if (num) {
          lv.elem = Kind::Float;
        } else {
          err(Code::BRD0211, ch->span,
              "list element of type " + tn(T(v->kind)) + " in a list of " + tn(T(lv.elem)), &c);
          lv.ok = false;
          continue;
        }
      }
      lv.elems.push_back(*v);
    }
    if (lv.elem == Kind::Float)
      for (auto& v : lv.elems)
        if (v.kind == Kind::Int) v.kind = Kind::Float, v.f = static_cast<double>(v.i);
    for (size_t k = 0; k < lv.arity; ++k)
      if (lv.part_kinds[k] == Kind::Float)
        for (auto& v : lv.elems)
          if (v.parts[k].kind == Kind::Int) v.parts[k].kind = Kind::Float, v.parts[k].f = static_cast<double>(v.parts[k].i);
    return lv;
  }
  if (e->kind == ast::ExprKind::Path && e->children.empty()) {
    bool all = false;
    std::string name = dotted(e->head, e->segs, &all);
    if (all) {
      if (auto it = globals_.find(name); it != globals_.end() && it->second.kind == GlobalSym::Kind::List) {
        ListSym& l = lists_[it->second.index];
        check_list(l);
        P.lists[l.info].used = true;
        if (c.rule && P.lists[l.info].org_data &&
            std::find(c.rule->org_lists_read.begin(), c.rule->org_lists_read.end(), l.info) ==
                c.rule->org_lists_read.end())
          c.rule->org_lists_read.push_back(l.info);
        if (!l.value.ok) return std::nullopt;
        return l.value;
      }
      if (const MacroSym* m = find_macro(name); m && m->decl->params.empty() && m->decl->body &&
                                                m->decl->body->kind == ast::ExprKind::List) {
        P.macros[m->info].used = true;
        Ctx inner = c;
        inner.env = nullptr;
        return list_of(*m->decl->body, inner, depth + 1);
      }
    }
    std::vector<std::string> cands;
    for (const auto& [n, g] : globals_)
      if (g.kind == GlobalSym::Kind::List) cands.push_back(n);
    std::string what = "`" + name + "` is not a declared list";
    if (auto it = globals_.find(name); it != globals_.end())
      what = "`" + name + "` is a " + sym_kind_name(it->second.kind) + ", not a list";
    err_suggest(Code::BRD0108, e->span, what, name, cands, &c, true);
    return std::nullopt;
  }
  err(Code::BRD0217, e->span, "expected a list literal or the name of a list", &c);
  return std::nullopt;
}

std::optional<ir::RegexId> Checker::regex(const ConstVal& pat, bool nocase, Ctx& c) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_case_sensitive(!nocase);
  RE2 re(pat.s, o);
  if (re.ok()) return P.intern_regex(pat.s, nocase);
  const std::string& arg = re.error_arg();
  auto code = re.error_code();
  bool unsupported = code == RE2::ErrorBadPerlOp || code == RE2::ErrorPatternTooLarge;
  if (code == RE2::ErrorBadEscape && arg.size() == 2 && arg[0] == '\\' && arg[1] >= '1' && arg[1] <= '9')
    unsupported = true;
  if (code == RE2::ErrorRepeatOp && arg.size() >= 2 && arg.back() == '+') unsupported = true;
  if (code == RE2::ErrorRepeatOp && arg.size() >= 2 && arg.back() == '?' && arg[arg.size() - 2] == '?')
    unsupported = false;
  // Point at the offending piece when the pattern appears verbatim in the source (raw strings, simple strings).
  Span sp = pat.span;
  std::string_view src = sm_.slice(pat.span);
  size_t body_off = src.rfind(pat.s);
  if (!arg.empty() && body_off != std::string_view::npos && src.size() >= pat.s.size()) {
    size_t at = pat.s.find(arg);
    if (at != std::string::npos)
      sp = Span{pat.span.file, pat.span.begin + static_cast<uint32_t>(body_off + at),
                pat.span.begin + static_cast<uint32_t>(body_off + at + arg.size())};
  }
  if (unsupported) {
    std::string why = code == RE2::ErrorPatternTooLarge ? "the pattern is too large for RE2"
                      : code == RE2::ErrorBadEscape      ? "RE2 does not support backreferences (`" + arg + "`)"
                      : code == RE2::ErrorRepeatOp       ? "RE2 does not support possessive quantifiers (`" + arg + "`)"
                                                         : "RE2 does not support `" + arg + "` (lookaround or atomic group)";
    err(Code::BRD0216, sp, "unsupported regex: " + why, &c);
  } else {
    err(Code::BRD0203, sp, "invalid regex: " + re.error(), &c);
  }
  return std::nullopt;
}

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

// ---------------------------------------------------------------------------------------------------------------
// Expressions

std::vector<std::string> Checker::names_in_scope(const Ctx& c, bool with_fields) {
  std::vector<std::string> out;
  if (c.env && c.env->macro)
    for (const auto& [n, a] : c.env->args) out.push_back(n);
  if (c.steps)
    for (const auto& [n, i] : *c.steps) out.push_back(n);
  for (const auto& [n, g] : globals_)
    if (g.kind == GlobalSym::Kind::List || g.kind == GlobalSym::Kind::Macro) out.push_back(n);
  if (with_fields) {
    for (uint32_t s : c.sources) {
      if (s == kNone) continue;
      for (const auto& f : P.sources[s].schema.fields) out.push_back(f.name);
    }
  }
  return out;
}

Val Checker::cond(const ast::Expr& e, Ctx& c, const char* what, Code not_bool) {
  size_t mark = c.pending.size();
  bool saved = c.list_mode;
  c.list_mode = false;
  Val v = expr(e, c);
  c.list_mode = saved;
  v = close_any(c, mark, v, e.span);
  if (!v.ok()) return v;
  if (v.type.kind != Kind::Bool && v.type.kind != Kind::Object) {
    err(not_bool, e.span, std::string(what) + " must be a `bool`, but this is " + tn(v.type), &c);
    return Val{};
  }
  v.type = T(Kind::Bool);
  return v;
}

Val Checker::value_top(const ast::Expr& e, Ctx& c) {
  size_t mark = c.pending.size();
  bool saved = c.list_mode;
  c.list_mode = true;
  Val v = expr(e, c);
  c.list_mode = saved;
  if (c.pending.size() > mark) {
    c.pending.resize(mark);
    err(Code::BRD0215, e.span,
        "`[*]` can only be used in a condition, or alone as a value (which gives the list of all values)", &c);
    return Val{};
  }
  return v;
}

Val Checker::expr(const ast::Expr& e, Ctx& c) {
  // Only a bare path at the top of a value context loads a [*] path as a list; anything below is per element.
  bool lm = c.list_mode;
  if (e.kind != ast::ExprKind::Path) c.list_mode = false;
  Val v;
  switch (e.kind) {
    case ast::ExprKind::Literal: v = literal(e, c); break;
    case ast::ExprKind::List: {
      auto lv = list_of(e, c);
      if (lv && lv->ok && lv->arity > 0) {
        err(Code::BRD0417, e.span, "a list of tuples is not a value: use it on the right of `in` or `like any`", &c);
      } else if (lv && lv->ok) {
        ir::ConstSet s;
        s.elem = lv->elem;
        for (const auto& x : lv->elems) {
          if (x.kind == Kind::String) s.strings.push_back(x.s);
          else if (x.kind == Kind::Float) s.floats.push_back(x.f);
          else s.ints.push_back(x.i);
        }
        auto id = P.intern_set(std::move(s));
        v.type = Type::list(lv->elem);
        v.node = mk_node(c, Op::Set, v.type, e.span, {}, id);
      }
      break;
    }
    case ast::ExprKind::Path: v = path(e, c); break;
    case ast::ExprKind::Call: v = call(e, nullptr, c); break;
    case ast::ExprKind::Unary:
    case ast::ExprKind::Binary: v = arith(e, c); break;
    case ast::ExprKind::Compare: v = compare(e, c); break;
    case ast::ExprKind::StringOp: v = strop(e, c); break;
    case ast::ExprKind::In: v = in(e, c); break;
    case ast::ExprKind::InCidr: v = in_cidr(e, c); break;
    case ast::ExprKind::IsNull: {
      size_t mark = c.pending.size();
      Val x = e.children.empty() ? Val{} : expr(*e.children[0], c);
      if (x.ok()) {
        Val r;
        r.type = T(Kind::Bool);
        r.node = mk_node(c, Op::Exists, r.type, e.span, {x.node});
        r = close_any(c, mark, r, e.span);
        v = e.negated ? r : wrap_not(c, r, e.span, true);
      } else {
        close_any(c, mark, Val{}, e.span);
      }
      break;
    }
    case ast::ExprKind::Not: {
      Val x = e.children.empty() ? Val{} : cond(*e.children[0], c, "the operand of `not`");
      v = wrap_not(c, x, e.span, false);
      break;
    }
    case ast::ExprKind::And:
    case ast::ExprKind::Or: {
      std::vector<NodeId> ops;
      bool ok = true;
      for (const auto& ch : e.children) {
        Val x = cond(*ch, c, e.kind == ast::ExprKind::And ? "an operand of `and`" : "an operand of `or`");
        if (!x.ok()) ok = false;
        else ops.push_back(x.node);
      }
      if (ok && !ops.empty()) {
        v.type = T(Kind::Bool);
        v.node = mk_node_v(c, e.kind == ast::ExprKind::And ? Op::And : Op::Or, v.type, e.span, ops);
      }
      break;
    }
    case ast::ExprKind::Sequence: v = sequence(e, c); break;
    case ast::ExprKind::Tuple:
      err(Code::BRD0417, e.span,
          "a tuple can only be a list element or the left side of `in` or `like any` with a list of tuples", &c);
      break;
  }
  c.list_mode = lm;
  return v;
}

Val Checker::literal(const ast::Expr& e, Ctx& c) {
  Val v;
  switch (e.lit.kind) {
    case ast::LitKind::String:
    case ast::LitKind::RawString:
      v.type = T(Kind::String);
      v.node = mk_node(c, Op::String, v.type, e.span, {}, P.intern_string(e.lit.text));
      break;
    case ast::LitKind::Int:
      v.type = T(Kind::Int);
      v.node = mk_node(c, Op::Int, v.type, e.span, {}, e.lit.int_value);
      break;
    case ast::LitKind::Float:
      v.type = T(Kind::Float);
      v.node = mk_node(c, Op::Float, v.type, e.span, {}, std::bit_cast<int64_t>(e.lit.float_value));
      break;
    case ast::LitKind::Duration:
      v.type = T(Kind::Duration);
      v.node = mk_node(c, Op::Duration, v.type, e.span, {}, e.lit.int_value);
      break;
    case ast::LitKind::Bool:
      v.type = T(Kind::Bool);
      v.node = mk_node(c, Op::Bool, v.type, e.span, {}, e.lit.bool_value ? 1 : 0);
      break;
    case ast::LitKind::Null:
      v.type = T(Kind::Null);
      v.node = mk_node(c, Op::Null, v.type, e.span);
      break;
  }
  return v;
}

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
        ir::ConstSet s;
        s.elem = lv->elem;
        for (const auto& x : lv->elems) {
          if (x.kind == Kind::String) s.strings.push_back(x.s);
          else if (x.kind == Kind::Float) s.floats.push_back(x.f);
          else s.ints.push_back(x.i);
        }
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

Val Checker::step_agg(ir::AggKind kind, uint32_t step, const std::vector<ast::PathSeg>& segs, Span span, Ctx& c) {
  if (!c.session_ctx || !c.rule) {
    err(Code::BRD0208, span, "aggregates are only available in the condition of a session or chain rule", &c);
    return Val{};
  }
  ir::Rule& r = *c.rule;
  ir::Aggregate a;
  a.kind = kind;
  a.step = step;
  a.span = span;
  if (kind == ir::AggKind::Count) {
    a.type = T(Kind::Int);
  } else {
    if (segs.empty()) {
      err(Code::BRD0207, span,
          std::string("`") + std::string(ir::agg_kind_name(kind)) + "` needs a field: `" +
              std::string(ir::agg_kind_name(kind)) +
              (kind == ir::AggKind::First || kind == ir::AggKind::Last ? "(step).field`" : "(step.field)`"),
          &c);
      return Val{};
    }
    // The value is read from the step's events: an event context over the rule's sources.
    Ctx vc = c;
    vc.place = Place::AggValue;
    vc.session_ctx = false;
    vc.allow_seq = false;
    vc.list_mode = false;
    vc.pending.clear();
    std::vector<ast::PathSeg> rest(segs.begin() + 1, segs.end());
    if (segs[0].kind != ast::PathSeg::Kind::Field) {
      err(Code::BRD0207, segs[0].span, "expected a field name after the step", &c);
      return Val{};
    }
    Val fv = field(segs[0].name, segs[0].span, rest, span, vc);
    if (!vc.pending.empty()) {
      err(Code::BRD0215, span, "`[*]` cannot be used inside an aggregate", &c);
      return Val{};
    }
    if (!fv.ok()) return Val{};
    a.value = fv.node;
    a.field = static_cast<ir::FieldId>(P.node(fv.node).imm);
    Type t = fv.type;
    switch (kind) {
      case ir::AggKind::Distinct: a.type = T(Kind::Int); break;
      case ir::AggKind::Sum:
        if (t.kind == Kind::Object) t = T(Kind::Float);
        if (!(t.is_numeric() || t.kind == Kind::Duration)) {
          err(Code::BRD0207, span, "`sum` needs a number or a duration, but this field is " + tn(fv.type), &c);
          return Val{};
        }
        a.type = t;
        break;
      case ir::AggKind::Min:
      case ir::AggKind::Max:
        if (!(t.is_numeric() || t.kind == Kind::Duration || t.kind == Kind::Time || t.kind == Kind::String ||
              t.kind == Kind::Object)) {
          err(Code::BRD0207, span,
              "`" + std::string(ir::agg_kind_name(kind)) + "` needs an ordered type, but this field is " + tn(t), &c);
          return Val{};
        }
        a.type = t;
        break;
      case ir::AggKind::Count:  // no value: handled above
      case ir::AggKind::First:
      case ir::AggKind::Last: a.type = t; break;
    }
  }
  // Equal (kind, step, field) share one entry.
  uint32_t idx = kNone;
  for (uint32_t i = 0; i < r.aggregates.size(); ++i) {
    const auto& o = r.aggregates[i];
    if (o.kind == a.kind && o.step == a.step && o.field == a.field) idx = i;
  }
  if (idx == kNone) {
    idx = static_cast<uint32_t>(r.aggregates.size());
    r.aggregates.push_back(a);
  }
  Val v;
  v.type = r.aggregates[idx].type;
  v.node = mk_node(c, Op::Agg, v.type, span, {}, idx);
  return v;
}

Val Checker::aggregate(ir::AggKind kind, const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c) {
  std::string name(ir::agg_kind_name(kind));
  if (!c.session_ctx || !c.steps) {
    err(Code::BRD0208, e.span,
        "`" + name + "` is an aggregate: it is only available in the `when`, `message` or `suppress` of a " +
            (c.place == Place::GroupKey ? "rule, not in a `group by` key, which is read from each event"
                                        : "session or chain rule"),
        &c);
    return Val{};
  }
  bool bare_step = kind == ir::AggKind::Count || kind == ir::AggKind::First || kind == ir::AggKind::Last;
  std::string usage = kind == ir::AggKind::Count ? "count(step)"
                      : bare_step               ? name + "(step).field"
                                                : name + "(step.field)";
  if (e.children.size() != 1) {
    err(Code::BRD0207, e.span, "`" + name + "` takes one argument: `" + usage + "`", &c);
    return Val{};
  }
  const Env* env = c.env;
  const ast::Expr* arg = deparam(e.children[0].get(), env);
  // A parameter with segments (`m(s) = distinct(s.f)`): follow it.
  std::string head;
  Span head_span;
  std::vector<ast::PathSeg> asegs;
  if (arg->kind == ast::ExprKind::Path && arg->children.empty()) {
    head = arg->head;
    head_span = arg->head_span;
    asegs = arg->segs;
    if (env && env->macro) {
      auto it = env->args.find(head);
      if (it != env->args.end()) {
        const Env* env2 = env->caller;
        const ast::Expr* a2 = deparam(it->second, env2);
        if (a2->kind == ast::ExprKind::Path && a2->children.empty()) {
          std::vector<ast::PathSeg> s2 = a2->segs;
          s2.insert(s2.end(), asegs.begin(), asegs.end());
          head = a2->head;
          head_span = a2->head_span;
          asegs = std::move(s2);
        }
      }
    }
  } else {
    err(Code::BRD0207, arg->span, "`" + name + "` takes a step: `" + usage + "`", &c);
    return Val{};
  }
  auto it = c.steps->find(head);
  if (it == c.steps->end()) {
    std::vector<std::string> cands;
    for (const auto& [n, i] : *c.steps) cands.push_back(n);
    err_suggest(Code::BRD0111, head_span, "`" + head + "` is not a step of this rule", head, cands, &c);
    return Val{};
  }
  if (bare_step && !asegs.empty()) {
    err(Code::BRD0207, asegs.front().span,
        "`" + name + "` takes a step, not a field: write `" + usage + "`", &c);
    return Val{};
  }
  if (!bare_step && asegs.empty()) {
    err(Code::BRD0207, arg->span, "`" + name + "` takes a field of a step: `" + usage + "`", &c);
    return Val{};
  }
  Span span = e.span;
  if (kind == ir::AggKind::First || kind == ir::AggKind::Last) {
    if (!segs || segs->empty()) {
      err(Code::BRD0207, e.span, "`" + name + "(" + head + ")` needs a field: `" + usage + "`", &c);
      return Val{};
    }
    span = Span::cover(e.span, segs->back().span);
    return step_agg(kind, it->second, *segs, span, c);  // segs = [field, rest...]
  }
  if (segs && !segs->empty()) {
    err(Code::BRD0307, segs->front().span, "`" + name + "(...)` is a number; it has no fields", &c);
    return Val{};
  }
  return step_agg(kind, it->second, asegs, span, c);
}

Val Checker::expand(const MacroSym& m, const std::vector<const ast::Expr*>& args, Span use, Ctx& c) {
  const std::string& name = m.decl->name.text;
  // Recursion: is this macro already being expanded?
  std::vector<std::string> chain;
  bool cycle = false;
  for (const Env* e = c.env; e && e->macro; e = e->caller) {
    chain.push_back(e->macro_name);
    if (e->macro == m.decl) {
      cycle = true;
      break;
    }
  }
  if (cycle || (c.env && c.env->depth >= opts_.max_macro_depth)) {
    std::reverse(chain.begin(), chain.end());
    std::string path;
    for (const auto& n : chain) path += n + " -> ";
    path += name;
    auto d = mk(Code::BRD0106, m.decl->name.span, "macro `" + name + "` is recursive: " + path);
    d.related.push_back({use, "used recursively here"});
    emit(std::move(d));
    return Val{};
  }
  P.macros[m.info].used = true;
  if (!m.decl->body) return Val{};
  Env env;
  env.macro = m.decl;
  env.macro_name = name;
  env.caller = c.env;
  env.site = (c.env && c.env->macro) ? c.env->site : use;
  env.depth = c.env ? c.env->depth + 1 : 1;
  for (size_t i = 0; i < m.decl->params.size() && i < args.size(); ++i) env.args[m.decl->params[i].text] = args[i];
  const Env* saved = c.env;
  c.env = &env;
  Val v = expr(*m.decl->body, c);
  c.env = saved;
  return v;
}

// `name(...)`: a builtin (builtins.def), an aggregate (ir::kAggKinds), or a macro.
Val Checker::call(const ast::Expr& e, const std::vector<ast::PathSeg>* segs, Ctx& c) {
  const std::string& name = e.callee.text;
  Span sp = e.span;
  auto nargs = e.children.size();
  const MacroSym* macro = find_macro(name);
  const BuiltinInfo* b = find_builtin(name);
  if (b && b->form != BuiltinForm::Function && !macro) return (this->*kBuiltinChecks[static_cast<size_t>(b->id)])(*b, e, segs, c);
  if (auto ak = ir::agg_kind_from_name(name); ak && !macro) return aggregate(*ak, e, segs, c);
  if (segs && !segs->empty()) {
    err(Code::BRD0307, segs->front().span, "fields can only be read from `first(step)` or `last(step)`", &c);
    return Val{};
  }
  if (b && b->form == BuiltinForm::Function) {
    if (!builtin_arity(*b, e, c)) return Val{};
    return (this->*kBuiltinChecks[static_cast<size_t>(b->id)])(*b, e, segs, c);
  }
  if (macro) {
    if (macro->decl->params.size() != nargs) {
      err(Code::BRD0105, sp,
          "macro `" + name + "` takes " + std::to_string(macro->decl->params.size()) + " argument(s), but " +
              std::to_string(nargs) + " were given",
          &c);
      return Val{};
    }
    std::vector<const ast::Expr*> args;
    for (const auto& ch : e.children) args.push_back(ch.get());
    return expand(*macro, args, sp, c);
  }
  std::vector<std::string> cands;
  for (std::string_view n : builtin_names()) cands.emplace_back(n);
  if (c.session_ctx)
    for (const ir::AggKindInfo& a : ir::kAggKinds) cands.emplace_back(a.name);
  for (const auto& [n, g] : globals_)
    if (g.kind == GlobalSym::Kind::Macro) cands.push_back(n);
  err_suggest(Code::BRD0107, e.callee.span, "unknown function `" + name + "`", name, cands, &c, true);
  return Val{};
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

Val Checker::arith(const ast::Expr& e, Ctx& c) {
  if (e.kind == ast::ExprKind::Unary) {
    if (e.children.empty()) return Val{};
    Val x = expr(*e.children[0], c);
    if (!x.ok()) return x;
    if (!(x.type.is_numeric() || x.type.kind == Kind::Duration || x.type.kind == Kind::Object)) {
      err(Code::BRD0205, e.span, "cannot negate " + tn(x.type), &c);
      return Val{};
    }
    Val r;
    r.type = x.type;
    r.node = mk_node(c, Op::Neg, r.type, e.span, {x.node});
    return r;
  }
  if (e.children.size() != 2) return Val{};
  Val a = expr(*e.children[0], c);
  Val b = expr(*e.children[1], c);
  if (!a.ok() || !b.ok()) return Val{};
  Op op = Op::Add;
  const char* sym = "+";
  switch (e.op) {
    case ast::Op::Add: op = Op::Add, sym = "+"; break;
    case ast::Op::Sub: op = Op::Sub, sym = "-"; break;
    case ast::Op::Mul: op = Op::Mul, sym = "*"; break;
    case ast::Op::Div: op = Op::Div, sym = "/"; break;
    case ast::Op::Mod: op = Op::Mod, sym = "%"; break;
    default: break;
  }
  Kind ka = a.type.kind, kb = b.type.kind;
  // `+` with a string (or ip) on either side and a string, ip or object on the other: concatenation, null when
  // either operand is null or not a string at run time. Two `object` operands stay arithmetic (as before).
  if (op == Op::Add && (ka == Kind::String || ka == Kind::Ip || kb == Kind::String || kb == Kind::Ip)) {
    if (!stringish(ka) || !stringish(kb)) {
      auto d = mk(Code::BRD0205, e.span, "cannot apply `+` to " + tn(a.type) + " and " + tn(b.type));
      d.help = "`+` joins two strings; a number or time cannot be joined to a string";
      emit(std::move(d), &c);
      return Val{};
    }
    Val r;
    r.type = T(Kind::String);
    r.node = mk_node(c, Op::Concat, r.type, e.span, {a.node, b.node});
    return r;
  }
  Type t = kErr;
  auto num = [](Kind k) { return k == Kind::Int || k == Kind::Float; };
  if (ka == Kind::Object || kb == Kind::Object) {
    Kind other = ka == Kind::Object ? kb : ka;
    if (other == Kind::Object || num(other) || other == Kind::Time || other == Kind::Duration) t = T(Kind::Object);
  } else if (num(ka) && num(kb)) {
    if (op == Op::Mod && (ka != Kind::Int || kb != Kind::Int)) t = kErr;
    else t = T(ka == Kind::Float || kb == Kind::Float ? Kind::Float : Kind::Int);
  } else if (op == Op::Add) {
    if ((ka == Kind::Time && kb == Kind::Duration) || (ka == Kind::Duration && kb == Kind::Time)) t = T(Kind::Time);
    else if (ka == Kind::Duration && kb == Kind::Duration) t = T(Kind::Duration);
  } else if (op == Op::Sub) {
    if (ka == Kind::Time && kb == Kind::Time) t = T(Kind::Duration);
    else if (ka == Kind::Time && kb == Kind::Duration) t = T(Kind::Time);
    else if (ka == Kind::Duration && kb == Kind::Duration) t = T(Kind::Duration);
  } else if (op == Op::Mul) {
    if ((ka == Kind::Duration && kb == Kind::Int) || (ka == Kind::Int && kb == Kind::Duration)) t = T(Kind::Duration);
  } else if (op == Op::Div) {
    if (ka == Kind::Duration && kb == Kind::Int) t = T(Kind::Duration);
    else if (ka == Kind::Duration && kb == Kind::Duration) t = T(Kind::Int);
  }
  if (t.kind == Kind::Error) {
    err(Code::BRD0205, e.span, std::string("cannot apply `") + sym + "` to " + tn(a.type) + " and " + tn(b.type), &c);
    return Val{};
  }
  if (t.kind == Kind::Float) {
    if (ka == Kind::Int) a.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[0]->span, {a.node});
    if (kb == Kind::Int) b.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[1]->span, {b.node});
  }
  Val r;
  r.type = t;
  r.node = mk_node(c, op, t, e.span, {a.node, b.node});
  return r;
}

namespace {
uint8_t operand_flags(const Val& a, const Val& b) {
  uint8_t f = 0;
  if ((a.field && a.optional) || (b.field && b.optional)) f |= ir::kFlagOptionalOperand;
  if ((a.field && a.nocase_field) || (b.field && b.nocase_field)) f |= ir::kFlagNocaseField;
  return f;
}
// `op cased`: the schema's `nocase` does not apply to this comparison (both engines read only the case flags).
uint8_t cased_flags(const ast::Expr& e, uint8_t f) {
  if (!e.cased) return f;
  return static_cast<uint8_t>((f & ~ir::kFlagNocaseField) | ir::kFlagCased);
}
}  // namespace

Val Checker::compare(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  const char* sym = "==";
  Op op = Op::Eq;
  bool neg = false;
  switch (e.op) {
    case ast::Op::Eq: sym = e.nocase ? "==~" : "=="; break;
    case ast::Op::Ne: sym = e.nocase ? "!=~" : "!=", neg = true; break;
    case ast::Op::Lt: sym = "<", op = Op::Lt; break;
    case ast::Op::Le: sym = "<=", op = Op::Le; break;
    case ast::Op::Gt: sym = ">", op = Op::Gt; break;
    case ast::Op::Ge: sym = ">=", op = Op::Ge; break;
    default: break;
  }
  // `x == null`
  for (int side = 0; side < 2; ++side) {
    const Env* env = c.env;
    const ast::Expr* x = deparam(e.children[static_cast<size_t>(side)].get(), env);
    if (x && x->kind == ast::ExprKind::Literal && x->lit.kind == ast::LitKind::Null) {
      auto d = mk(Code::BRD0202, e.span,
                  std::string("comparison with `null` is always false; use `is null` or `is not null`"));
      if (op == Op::Eq && !(c.env && c.env->macro)) {
        const ast::Expr& other = *e.children[static_cast<size_t>(1 - side)];
        std::string text(sm_.slice(other.span));
        d.fix = FixIt{e.span, text + (neg ? " is not null" : " is null")};
        d.help = std::string("write `") + text + (neg ? " is not null`" : " is null`");
      }
      emit(std::move(d), &c);
      return Val{};
    }
  }
  size_t mark = c.pending.size();
  Val a = expr(*e.children[0], c);
  Val b = expr(*e.children[1], c);
  if (!a.ok() || !b.ok()) return close_any(c, mark, Val{}, e.span);
  Kind ka = a.type.kind, kb = b.type.kind;
  bool ordered = op != Op::Eq;
  bool ok = false;
  if (e.nocase) {
    ok = stringish(ka) && stringish(kb);
    if (!ok) {
      err(Code::BRD0205, e.span,
          std::string("`") + sym + "` compares strings, but the operands are " + tn(a.type) + " and " + tn(b.type), &c);
      return close_any(c, mark, Val{}, e.span);
    }
  } else if (ka == Kind::List || kb == Kind::List) {
    ok = false;
  } else if (ka == Kind::Object || kb == Kind::Object) {
    ok = ka != Kind::Null && kb != Kind::Null;
  } else if (a.type.is_numeric() && b.type.is_numeric()) {
    ok = true;
  } else if ((ka == Kind::String || ka == Kind::Ip) && (kb == Kind::String || kb == Kind::Ip)) {
    ok = !ordered || (ka == Kind::String && kb == Kind::String);
  } else if (ka == kb) {
    ok = ka == Kind::Time || ka == Kind::Duration || (!ordered && (ka == Kind::Bool || ka == Kind::Cidr));
  }
  if (!ok) {
    std::string msg = "cannot compare " + tn(a.type) + " with " + tn(b.type);
    if (ka == kb) msg = "values of type " + tn(a.type) + " cannot be ordered with `" + sym + "`";
    if (ka == Kind::List || kb == Kind::List) msg += "; to test membership use `in`";
    err(Code::BRD0201, e.span, msg, &c);
    return close_any(c, mark, Val{}, e.span);
  }
  if (ka == Kind::Int && kb == Kind::Float)
    a.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[0]->span, {a.node});
  if (ka == Kind::Float && kb == Kind::Int)
    b.node = mk_node(c, Op::ToFloat, T(Kind::Float), e.children[1]->span, {b.node});
  uint8_t flags = cased_flags(e, operand_flags(a, b));
  if (e.nocase) flags |= ir::kFlagNoCase;
  Val r;
  r.type = T(Kind::Bool);
  r.node = mk_node(c, op, r.type, e.span, {a.node, b.node}, 0, flags);
  r = close_any(c, mark, r, e.span);
  return neg ? wrap_not(c, r, e.span, true) : r;
}

Val Checker::strop(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  if (e.any_of && e.op == ast::Op::Like && e.children[0]->kind == ast::ExprKind::Tuple) return tuple_match(e, c);
  const char* name = "contains";
  Op op = Op::Contains, any_op = Op::ContainsAny;
  switch (e.op) {
    case ast::Op::Contains: name = "contains", op = Op::Contains, any_op = Op::ContainsAny; break;
    case ast::Op::StartsWith: name = "startswith", op = Op::StartsWith, any_op = Op::StartsWithAny; break;
    case ast::Op::EndsWith: name = "endswith", op = Op::EndsWith, any_op = Op::EndsWithAny; break;
    case ast::Op::Like: name = "like", op = Op::Like, any_op = Op::LikeAny; break;
    case ast::Op::Matches: name = "matches", op = Op::Matches, any_op = Op::Matches; break;
    default: break;
  }
  std::string opname = std::string(name) + (e.nocase ? "~" : "");
  size_t mark = c.pending.size();
  Val s = expr(*e.children[0], c);
  if (s.ok() && !stringish(s.type.kind)) {
    err(Code::BRD0205, e.children[0]->span,
        "`" + opname + "` takes a string on its left, but this is " + tn(s.type), &c);
    s = Val{};
  }
  uint8_t flags = e.nocase ? ir::kFlagNoCase : 0;
  Val r;
  r.type = T(Kind::Bool);
  if (e.any_of) {
    auto lv = list_of(*e.children[1], c);
    if (!s.ok() || !lv || !lv->ok) return close_any(c, mark, Val{}, e.span);
    if (lv->elem != Kind::String && !lv->elems.empty()) {
      err(lv->arity ? Code::BRD0417 : Code::BRD0205, e.children[1]->span,
          lv->arity ? "this is a list of tuples: only `like any` matches a tuple `(a, b)` against it"
                    : "`" + opname + " any` takes a list of strings, but this is a list of " + tn(T(lv->elem)),
          &c);
      return close_any(c, mark, Val{}, e.span);
    }
    flags = cased_flags(e, flags | operand_flags(s, Val{}));
    if (op == Op::Matches) {
      std::vector<NodeId> alts;
      bool ok = true;
      for (const auto& x : lv->elems) {
        auto rid = regex(x, e.nocase, c);
        if (!rid) {
          ok = false;
          continue;
        }
        alts.push_back(mk_node(c, Op::Matches, r.type, e.span, {s.node}, *rid, flags));
      }
      if (!ok) return close_any(c, mark, Val{}, e.span);
      if (alts.empty()) r.node = mk_node(c, Op::Bool, r.type, e.span, {}, 0);
      else if (alts.size() == 1) r.node = alts[0];
      else r.node = mk_node_v(c, Op::Or, r.type, e.span, alts);
    } else {
      ir::ConstSet set;
      set.elem = Kind::String;
      set.nocase = e.nocase;
      for (const auto& x : lv->elems) set.strings.push_back(e.nocase ? fold(x.s) : x.s);
      r.node = mk_node(c, any_op, r.type, e.span, {s.node}, P.intern_set(std::move(set)), flags);
    }
    return close_any(c, mark, r, e.span);
  }
  if (op == Op::Matches) {
    auto pat = const_of(*e.children[1], c.env);
    std::optional<ir::RegexId> rid;
    if (!pat || pat->kind != Kind::String)
      err(Code::BRD0217, e.children[1]->span, "the pattern of `matches` must be a constant string", &c);
    else
      rid = regex(*pat, e.nocase, c);
    if (!s.ok() || !rid) return close_any(c, mark, Val{}, e.span);
    flags = cased_flags(e, flags | operand_flags(s, Val{}));
    r.node = mk_node(c, Op::Matches, r.type, e.span, {s.node}, *rid, flags);
    return close_any(c, mark, r, e.span);
  }
  Val p = expr(*e.children[1], c);
  if (p.ok() && !stringish(p.type.kind)) {
    err(Code::BRD0205, e.children[1]->span,
        "`" + opname + "` takes a string on its right, but this is " + tn(p.type), &c);
    p = Val{};
  }
  if (!s.ok() || !p.ok()) return close_any(c, mark, Val{}, e.span);
  flags = cased_flags(e, flags | operand_flags(s, p));
  r.node = mk_node(c, op, r.type, e.span, {s.node, p.node}, 0, flags);
  return close_any(c, mark, r, e.span);
}

Val Checker::in(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  if (e.children[0]->kind == ast::ExprKind::Tuple) return tuple_match(e, c);
  size_t mark = c.pending.size();
  Val x = expr(*e.children[0], c);
  auto lv = list_of(*e.children[1], c);
  if (!x.ok() || !lv || !lv->ok) return close_any(c, mark, Val{}, e.span);
  if (lv->arity > 0 && !lv->elems.empty()) {
    err(Code::BRD0417, e.children[0]->span,
        "this is a list of tuples of " + std::to_string(lv->arity) + " values: the left side must be a tuple of " +
            std::to_string(lv->arity) + " values, `(a, b) in L`",
        &c);
    return close_any(c, mark, Val{}, e.span);
  }
  auto set = member_set(x, lv->elems, lv->elems.empty() ? x.type.kind : lv->elem, e, e.children[0]->span, c);
  if (!set) return close_any(c, mark, Val{}, e.span);
  Val r;
  r.type = T(Kind::Bool);
  uint8_t flags = cased_flags(e, operand_flags(x, Val{}) | (e.nocase ? ir::kFlagNoCase : 0));
  r.node = mk_node(c, Op::InSet, r.type, e.span, {x.node}, P.intern_set(std::move(*set)), flags);
  r = close_any(c, mark, r, e.span);
  return e.negated ? wrap_not(c, r, e.span, true) : r;
}

std::optional<ir::ConstSet> Checker::member_set(Val& x, const std::vector<ConstVal>& elems, Kind le,
                                                const ast::Expr& e, const Span& lhs_span, Ctx& c) {
  const char* opname = e.nocase ? "in~" : "in";
  ir::ConstSet set;
  set.nocase = e.nocase;
  Kind k = x.type.kind;
  if (k == Kind::Object) k = le;
  bool ok = true;
  if (e.nocase && !(stringish(k) && (le == Kind::String || elems.empty()))) {
    err(Code::BRD0205, lhs_span, std::string("`") + opname + "` compares strings, but the value is " + tn(x.type), &c);
    return std::nullopt;
  }
  if (k == Kind::Ip) {
    set.elem = Kind::Ip;
    if (le != Kind::String && le != Kind::Ip) ok = false;
    for (const auto& v : elems) {
      if (v.kind != Kind::String) continue;
      auto canon = ir::canonical_ip(v.s);
      if (!canon) {
        err(Code::BRD0213, v.span, "`" + v.s + "` is not an IP address (use `in cidr` for networks)", &c);
        return std::nullopt;
      }
      set.strings.push_back(*canon);
    }
  } else if (k == Kind::String) {
    set.elem = Kind::String;
    ok = le == Kind::String;
    for (const auto& v : elems) set.strings.push_back(e.nocase ? fold(v.s) : v.s);
  } else if (k == Kind::Int || k == Kind::Float) {
    ok = le == Kind::Int || le == Kind::Float;
    if (ok && (k == Kind::Float || le == Kind::Float)) {
      set.elem = Kind::Float;
      for (const auto& v : elems) set.floats.push_back(v.kind == Kind::Float ? v.f : static_cast<double>(v.i));
      if (k == Kind::Int) x.node = mk_node(c, Op::ToFloat, T(Kind::Float), lhs_span, {x.node});
    } else {
      set.elem = Kind::Int;
      for (const auto& v : elems) set.ints.push_back(v.i);
    }
  } else if (k == Kind::Duration || k == Kind::Bool) {
    set.elem = k;
    ok = le == k;
    for (const auto& v : elems) set.ints.push_back(v.i);
  } else {
    ok = false;
  }
  if (!ok) {
    err(Code::BRD0201, e.kind == ast::ExprKind::In && e.children[0]->kind != ast::ExprKind::Tuple ? e.span : lhs_span,
        "cannot test " + tn(x.type) + " for membership in a list of " + tn(T(le)), &c);
    return std::nullopt;
  }
  return set;
}

Val Checker::tuple_match(const ast::Expr& e, Ctx& c) {
  const ast::Expr& lhs = *e.children[0];
  const bool like = e.kind == ast::ExprKind::StringOp;
  const std::string opname = like ? (e.nocase ? "like~ any" : "like any") : (e.nocase ? "in~" : "in");
  size_t mark = c.pending.size();
  std::vector<Val> xs;
  bool ok = true;
  for (const auto& part : lhs.children) {
    size_t before = c.pending.size();
    Val x = expr(*part, c);
    if (c.pending.size() != before) {
      err(Code::BRD0417, part->span,
          "a part of a tuple is one value, not a `[*]` path (test the pairs of each element with any(...))", &c);
      ok = false;
    } else if (x.ok() && like && !stringish(x.type.kind)) {
      err(Code::BRD0205, part->span, "`" + opname + "` matches strings, but this part is " + tn(x.type), &c);
      ok = false;
    }
    if (!x.ok()) ok = false;
    xs.push_back(x);
  }
  auto lv = list_of(*e.children[1], c);
  if (!ok || !lv || !lv->ok) return close_any(c, mark, Val{}, e.span);
  if (!lv->elems.empty() && lv->arity != xs.size()) {
    err(Code::BRD0417, e.children[1]->span,
        "the left side is a tuple of " + std::to_string(xs.size()) + " values, but " +
            (lv->arity == 0 ? "this is a list of " + tn(T(lv->elem))
                            : "this list's tuples have " + std::to_string(lv->arity)),
        &c);
    return close_any(c, mark, Val{}, e.span);
  }
  Val r;
  r.type = T(Kind::Bool);
  std::vector<NodeId> alts;
  for (const ConstVal& t : lv->elems) {
    std::vector<NodeId> conj;
    for (size_t k = 0; k < xs.size(); ++k) {
      const ConstVal& part = t.parts[k];
      uint8_t flags = cased_flags(e, operand_flags(xs[k], Val{}) | (e.nocase ? ir::kFlagNoCase : 0));
      if (like) {
        if (part.kind != Kind::String) {
          err(Code::BRD0205, part.span, "`" + opname + "` matches strings, but this part is " + tn(T(part.kind)), &c);
          return close_any(c, mark, Val{}, e.span);
        }
        NodeId pat = mk_node(c, Op::String, T(Kind::String), part.span, {}, P.intern_string(part.s));
        conj.push_back(mk_node(c, Op::Like, r.type, e.span, {xs[k].node, pat}, 0, flags));
      } else {
        Val xk = xs[k];
        auto set = member_set(xk, {part}, part.kind, e, lhs.children[k]->span, c);
        if (!set) return close_any(c, mark, Val{}, e.span);
        conj.push_back(mk_node(c, Op::InSet, r.type, e.span, {xk.node}, P.intern_set(std::move(*set)), flags));
      }
    }
    alts.push_back(conj.size() == 1 ? conj[0] : mk_node_v(c, Op::And, r.type, e.span, conj));
  }
  if (alts.empty()) r.node = mk_node(c, Op::Bool, r.type, e.span, {}, 0);
  else if (alts.size() == 1) r.node = alts[0];
  else r.node = mk_node_v(c, Op::Or, r.type, e.span, alts);
  r = close_any(c, mark, r, e.span);
  return e.negated ? wrap_not(c, r, e.span, true) : r;
}

Val Checker::in_cidr(const ast::Expr& e, Ctx& c) {
  if (e.children.size() != 2) return Val{};
  size_t mark = c.pending.size();
  Val x = expr(*e.children[0], c);
  if (x.ok() && !stringish(x.type.kind)) {
    err(Code::BRD0205, e.children[0]->span, "`in cidr` takes an `ip`, but this is " + tn(x.type), &c);
    x = Val{};
  }
  std::vector<ConstVal> items;
  bool ok = true;
  const Env* env = c.env;
  const ast::Expr* rhs = deparam(e.children[1].get(), env);
  if (auto single = const_of(*rhs, env); single) {
    items.push_back(*single);
  } else {
    Ctx lc = c;
    lc.env = env;
    auto lv = list_of(*rhs, lc);
    if (!lv || !lv->ok) ok = false;
    else items = lv->elems;
  }
  ir::CidrSet cs;
  for (const auto& v : items) {
    if (v.kind != Kind::String) {
      err(Code::BRD0212, v.span, "a CIDR must be a string such as \"10.0.0.0/8\"", &c);
      ok = false;
      continue;
    }
    auto cidr = ir::parse_cidr(v.s);
    if (!cidr) {
      err(Code::BRD0212, v.span, "`" + v.s + "` is not a valid CIDR (e.g. \"10.0.0.0/8\" or \"2001:db8::/32\")", &c);
      ok = false;
      continue;
    }
    cs.cidrs.push_back(*cidr);
  }
  if (!x.ok() || !ok) return close_any(c, mark, Val{}, e.span);
  Val r;
  r.type = T(Kind::Bool);
  r.node = mk_node(c, Op::InCidr, r.type, e.span, {x.node}, P.intern_cidr_set(std::move(cs)),
                   operand_flags(x, Val{}));
  r = close_any(c, mark, r, e.span);
  return e.negated ? wrap_not(c, r, e.span, true) : r;
}

Val Checker::sequence(const ast::Expr& e, Ctx& c) {
  if (!c.allow_seq || !c.rule || !c.steps) {
    err(Code::BRD0209, e.span, "a sequence (`a -> b`) can only be used in the `when` of a session or chain rule", &c);
    return Val{};
  }
  ir::Sequence s;
  s.span = e.span;
  bool ok = true;
  for (const auto& it : e.seq) {
    std::string label = it.step.text;
    Span lsp = it.step.span;
    // A parameter bound to a step name.
    const Env* env = c.env;
    if (env && env->macro) {
      auto a = env->args.find(label);
      if (a != env->args.end()) {
        const Env* env2 = env->caller;
        const ast::Expr* x = deparam(a->second, env2);
        if (x->kind == ast::ExprKind::Path && x->children.empty() && x->segs.empty()) {
          label = x->head;
          lsp = x->head_span;
        }
      }
    }
    auto st = c.steps->find(label);
    if (st == c.steps->end()) {
      std::vector<std::string> cands;
      for (const auto& [n, i] : *c.steps) cands.push_back(n);
      err_suggest(Code::BRD0111, lsp, "`" + label + "` is not a step of this rule; sequences order steps", label,
                  cands, &c);
      ok = false;
      continue;
    }
    s.items.push_back(ir::SeqItem{st->second, it.absent});
  }
  if (e.within) s.within = e.within->nanos;
  if (!ok) return Val{};
  auto idx = static_cast<uint32_t>(c.rule->sequences.size());
  c.rule->sequences.push_back(std::move(s));
  Val r;
  r.type = T(Kind::Bool);
  r.node = mk_node(c, Op::Seq, r.type, e.span, {}, idx);
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

void Checker::check_rule(const ast::RuleDecl& d) {
  ir::Rule r;
  r.id = d.name.text;
  r.spans.rule = d.span;
  r.spans.name = d.name.span;
  if (d.name.span.valid()) r.file_path = sm_.file(d.name.span.file).path();

  // Metadata.
  if (d.title) r.meta.title = d.title->value.value, r.spans.title = d.title->span;
  if (d.description) r.meta.description = d.description->value.value;
  if (d.author) r.meta.author = d.author->value.value;
  // Severity: `severity LEVEL`, or the computed form (its arms are checked below, in the alert context).
  static const std::map<std::string, ir::Severity> kSev = {{"info", ir::Severity::Info},
                                                            {"low", ir::Severity::Low},
                                                            {"medium", ir::Severity::Medium},
                                                            {"high", ir::Severity::High},
                                                            {"critical", ir::Severity::Critical}};
  auto level = [&](const ast::Ident& id) -> std::optional<ir::Severity> {
    auto it = kSev.find(id.text);
    if (it != kSev.end()) return it->second;
    std::vector<std::string> cands;
    for (const auto& [n, s] : kSev) cands.push_back(n);
    err_suggest(Code::BRD0404, id.span, "unknown severity `" + id.text + "` (expected info, low, medium, high or critical)",
                id.text, cands);
    return std::nullopt;
  };
  if (d.severity) {
    r.spans.severity = d.severity->span;
    if (!d.severity->computed) {
      if (auto lv = level(d.severity->value)) r.meta.severity = *lv;
    } else {
      const auto& arms = d.severity->arms;
      const ast::SeverityArm* else_arm = nullptr;
      size_t whens = 0;
      for (const auto& a : arms) {
        if (a.when) {
          ++whens;
          if (else_arm) {
            auto diag = mk(Code::BRD0411, a.span, "a severity arm after `else` is never used: `else` comes last");
            diag.related.push_back({else_arm->span, "the `else` is here"});
            emit(std::move(diag));
          }
        } else if (else_arm) {
          auto diag = mk(Code::BRD0411, a.span, "the severity has two `else` levels");
          diag.related.push_back({else_arm->span, "the first `else` is here"});
          emit(std::move(diag));
        } else {
          else_arm = &a;
          if (auto lv = level(a.level)) r.meta.severity = *lv;
        }
      }
      if (!else_arm) {
        auto diag = mk(Code::BRD0411, d.severity->span,
                       "the computed severity has no `else LEVEL`: the level of alerts no `when` selects is required");
        diag.help = "add the default as the block's last line, e.g. `else medium`";
        emit(std::move(diag));
      }
      if (whens == 0)
        err(Code::BRD0411, d.severity->span,
            "the computed severity has no `LEVEL when CONDITION` arm: write `severity " +
                (else_arm ? else_arm->level.text : std::string("LEVEL")) + "` for a fixed level");
    }
  }
  if (d.attack) {
    for (const auto& a : d.attack->value) {
      if (!valid_attack_id(a.text))
        err(Code::BRD0405, a.span,
            "`" + a.text + "` is not an ATT&CK id (expected T1234, T1234.001 or TA0001)");
      r.meta.attack.push_back(a.text);
    }
  }
  auto strs = [](const auto& cl, std::vector<std::string>& out) {
    if (cl)
      for (const auto& s : cl->value) out.push_back(s.value);
  };
  strs(d.tags, r.meta.tags);
  strs(d.references, r.meta.references);
  strs(d.false_positives, r.meta.false_positives);
  if (d.enabled) r.meta.enabled = d.enabled->value, r.spans.enabled = d.enabled->span;

  std::vector<std::string> missing;
  if (!d.title) missing.push_back("title");
  if (!d.severity) missing.push_back("severity");
  if (!d.sources) missing.push_back("source");
  if (!d.message) missing.push_back("message");
  for (const auto& m : missing)
    err(Code::BRD0401, d.name.span, "rule `" + d.name.text + "` has no `" + m + "` clause");

  // Sources.
  bool sources_failed = !d.sources;
  if (d.sources) {
    r.spans.sources = d.sources->span;
    for (const auto& n : d.sources->value) {
      auto it = source_index_.find(n.text);
      if (it == source_index_.end()) {
        std::vector<std::string> cands;
        for (const auto& [s, i] : source_index_) cands.push_back(s);
        std::string msg = "`" + n.text + "` is not a declared source";
        if (auto g = globals_.find(n.text); g != globals_.end())
          msg = "`" + n.text + "` is a " + sym_kind_name(g->second.kind) + ", not a source";
        err_suggest(Code::BRD0103, n.span, msg, n.text, cands, nullptr, true);
        sources_failed = true;
        continue;
      }
      if (std::find(r.sources.begin(), r.sources.end(), it->second) == r.sources.end()) r.sources.push_back(it->second);
      if (!source_decls_[it->second]->fields) sources_failed = true;
    }
  }

  Ctx base;
  base.rule = &r;
  base.sources = r.sources;
  base.sources_failed = sources_failed;
  base.scope = static_cast<ir::Scope>(d.scope());

  // Condition.
  std::map<std::string, uint32_t> steps;
  if (d.when && d.scope_block) {
    auto diag = mk(Code::BRD0403, d.scope_block->span,
                   "a rule has either a `when` (event scope) or a `session`/`chain`/`group` block, not both");
    diag.related.push_back({d.when->span, "the event-scope `when` is here"});
    emit(std::move(diag));
  } else if (!d.when && !d.scope_block) {
    err(Code::BRD0402, d.name.span,
        "rule `" + d.name.text + "` has no condition (`when`, `session { }`, `chain { }` or `group by ... { }`)");
  }
  r.scope = d.scope_block ? base.scope : ir::Scope::Event;
  base.scope = r.scope;
  if (d.scope_block) {
    r.spans.scope_block = d.scope_block->span;
    std::map<std::string, Span> seen;
    for (const auto& st : d.scope_block->steps) {
      auto [it, ins] = seen.emplace(st.label.text, st.label.span);
      if (!ins) {
        auto diag = mk(Code::BRD0104, st.label.span, "step `" + st.label.text + "` is declared twice");
        diag.related.push_back({it->second, "first declared here"});
        emit(std::move(diag));
        continue;
      }
      steps[st.label.text] = static_cast<uint32_t>(r.steps.size());
      r.steps.push_back(ir::Step{st.label.text, kNoNode, st.span});
    }
    base.steps = &steps;
    if (d.scope_block->group) check_group(*d.scope_block->group, r, base);
    for (const auto& st : d.scope_block->steps) {
      auto it = steps.find(st.label.text);
      if (it == steps.end() || r.steps[it->second].span.begin != st.span.begin) continue;
      if (!st.pred) continue;
      Ctx c = base;
      c.place = Place::StepPred;
      Val v = cond(*st.pred, c, "a step predicate");
      if (v.ok()) r.steps[it->second].pred = v.node;
    }
    if (d.scope_block->when && d.scope_block->when->expr) {
      r.spans.when = d.scope_block->when->span;
      Ctx c = base;
      c.place = Place::ScopeWhen;
      c.session_ctx = true;
      c.allow_seq = true;
      Val v = cond(*d.scope_block->when->expr, c, "the `when` condition");
      if (v.ok()) r.condition = v.node;
    } else {
      err(Code::BRD0410, d.scope_block->span,
          "the `" + std::string(ir::scope_name(r.scope)) + "` block has no `when` condition");
    }
  } else if (d.when && d.when->expr) {
    r.spans.when = d.when->span;
    Ctx c = base;
    c.place = Place::EventWhen;
    Val v = cond(*d.when->expr, c, "the `when` condition");
    if (v.ok()) r.condition = v.node;
  }

  // Alert context: message and suppress keys.
  Ctx alert = base;
  alert.place = Place::Alert;
  alert.session_ctx = r.scope != ir::Scope::Event;
  if (d.message) {
    r.spans.message = d.message->span;
    r.message_raw = d.message->raw.value;
    for (const auto& part : d.message->parts) {
      ir::MessagePart mp;
      if (part.expr) {
        Ctx c = alert;
        Val v = value_top(*part.expr, c);
        mp.expr = v.ok() ? v.node : kNoNode;
        if (!v.ok()) continue;
      } else {
        mp.literal = part.literal;
      }
      r.message.push_back(std::move(mp));
    }
  }
  if (d.suppress) {
    ir::Suppress s;
    s.window = d.suppress->window.nanos;
    s.span = d.suppress->span;
    r.spans.suppress = d.suppress->span;
    for (const auto& k : d.suppress->keys) {
      if (!k) continue;
      Ctx c = alert;
      Val v = value_top(*k, c);
      if (v.ok()) s.keys.push_back(v.node);
    }
    r.suppress = std::move(s);
  }
  if (d.severity && d.severity->computed) {
    for (const auto& a : d.severity->arms) {
      if (!a.when) continue;
      auto lv = level(a.level);
      Ctx c = alert;
      Val v = cond(*a.when, c, "a severity condition", Code::BRD0411);
      if (lv && v.ok()) r.severity_arms.push_back(ir::SeverityArm{*lv, v.node, a.span});
    }
  }

  check_org_data(d, r);
  tune_rule(d, r, base, level);
  check_tests(d, r);
  classify(r);
  P.rules.push_back(std::move(r));
}

// `group by K1, K2 window D` / `group by K gap G max M` (docs/language.md, "Group scope"). The keys are event
// context, as the steps are: they see the event, never the group (no steps, aggregates or attributes), and each
// is a scalar, so that the engine can compare key values as encoded values.
void Checker::check_group(const ast::GroupHead& g, ir::Rule& r, const Ctx& base) {
  constexpr size_t kMaxKeys = 8;
  ir::GroupBy out;
  out.span = g.span;
  std::vector<std::pair<std::string, Span>> seen;  // each key's dump, against repeats
  for (size_t i = 0; i < g.keys.size(); ++i) {
    if (!g.keys[i]) continue;
    const ast::Expr& k = *g.keys[i];
    if (i == kMaxKeys) {
      auto d = mk(Code::BRD0415, Span::cover(k.span, g.keys.back() ? g.keys.back()->span : k.span),
                  "a group has at most " + std::to_string(kMaxKeys) + " keys; this one has " +
                      std::to_string(g.keys.size()));
      d.help = "group by fewer keys: a key that another key determines (an ARN and its account) adds nothing";
      emit(std::move(d));
      break;
    }
    std::string dumped = ast::dump(k);
    auto prev = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == dumped; });
    if (prev != seen.end()) {
      auto d = mk(Code::BRD0415, k.span, "group key `" + std::string(sm_.slice(k.span)) + "` is given twice");
      d.related.push_back({prev->second, "first given here"});
      emit(std::move(d));
      continue;
    }
    seen.emplace_back(std::move(dumped), k.span);
    Ctx c = base;
    c.place = Place::GroupKey;
    Val v = value_top(k, c);
    if (!v.ok()) continue;
    bool scalar = false;
    switch (v.type.kind) {
      case Kind::Bool: case Kind::Int: case Kind::Float: case Kind::String: case Kind::Time: case Kind::Duration:
      case Kind::Ip: case Kind::Cidr:
        scalar = true;
        break;
      case Kind::Error: case Kind::Null: case Kind::List: case Kind::Object: break;
    }
    if (!scalar) {
      auto d = mk(Code::BRD0415, k.span,
                  "group key `" + std::string(sm_.slice(k.span)) + "` is " + tn(v.type) + "; a key must be a scalar");
      if (v.type.kind == Kind::List) {
        std::string one(sm_.slice(k.span));
        if (auto at = one.find("[*]"); at != std::string::npos) one.replace(at, 3, "[0]");
        else one += "[0]";
        d.help = "group by one element (`" + one + "`), or count the values in the block: `distinct(step.field)`";
      }
      else if (v.type.kind == Kind::Object)
        d.help = "group by a field declared with a scalar type (`string`, `int`, `ip`, ...) in the source's "
                 "`fields`: an `object` or record value has no single value to compare";
      else
        d.help = "a key reads the event: a field, or an expression of fields such as `lower(userName)`";
      emit(std::move(d));
      continue;
    }
    // The key as written, on one line: it names the key's value in alerts ("sourceIPAddress").
    std::string text;
    for (char ch : sm_.slice(k.span)) {
      bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
      if (!space) text += ch;
      else if (!text.empty() && text.back() != ' ') text += ' ';
    }
    out.keys.push_back(v.node);
    out.key_text.push_back(std::move(text));
  }
  auto positive = [&](const std::optional<ast::DurationLit>& dl, const char* what) {
    if (dl && dl->span.valid() && dl->nanos <= 0) {
      err(Code::BRD0416, dl->span, std::string("the group ") + what + " must be positive");
      return false;
    }
    return true;
  };
  if (g.window) {
    if (positive(g.window, "window")) out.gap = out.max = g.window->nanos;
  } else if (g.gap && g.max) {
    if (positive(g.gap, "gap")) {
      out.gap = g.gap->nanos;
      out.max = g.max->nanos;
      if (out.max < out.gap && g.max->span.valid()) {
        auto d = mk(Code::BRD0416, g.max->span,
                    "the group maximum (" + g.max->text + ") is shorter than the gap (" + g.gap->text + ")");
        d.help = "a group closes `gap` after its latest event or `max` after its first; for a fixed window write "
                 "`window " + g.max->text + "`";
        emit(std::move(d));
      }
    }
  }
  r.group = std::move(out);
}

// ---------------------------------------------------------------------------------------------------------------
// Tuning (docs/language.md, section 23): `override list` and `tune`, declared in the user's files, change lists
// and rules declared elsewhere. Everything is checked; CheckOptions::apply_tuning decides whether it takes effect.

namespace {

// `*` any run of characters, `?` one character: the glob of `tune "aws.iam.*"`.
bool glob_match(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p, ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++, mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1, i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

void Checker::apply_overrides(size_t from) {
  // Replacements first, then appends in file order, whatever order the files come in.
  std::map<std::string, const ast::OverrideDecl*> replaced;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = from; i < override_decls_.size(); ++i) {
      const ast::OverrideDecl& o = *override_decls_[i];
      if (o.append != (pass == 1)) continue;
      auto g = globals_.find(o.name.text);
      if (g == globals_.end() || g->second.kind != GlobalSym::Kind::List) {
        std::vector<std::string> cands;
        for (const auto& [n, gs] : globals_)
          if (gs.kind == GlobalSym::Kind::List) cands.push_back(n);
        std::string msg = "`override list " + o.name.text + "`: no list of that name is declared";
        if (g != globals_.end())
          msg = "`" + o.name.text + "` is a " + sym_kind_name(g->second.kind) + ", not a list: only lists are overridden";
        err_suggest(Code::BRD0113, o.name.span, msg, o.name.text, cands, nullptr, true);
        continue;
      }
      ListSym& l = lists_[g->second.index];
      check_list(l);
      if (!o.append) {
        auto [it, fresh] = replaced.emplace(o.name.text, &o);
        if (!fresh) {
          auto d = mk(Code::BRD0114, o.name.span, "list `" + o.name.text + "` is replaced twice");
          d.help = "keep one `override list " + o.name.text + " = [...]`; add to it with `+=`";
          d.related.push_back({it->second->name.span, "first replaced here"});
          emit(std::move(d));
          continue;
        }
      }
      Ctx c;
      c.place = Place::Decl;
      if (!o.value || o.value->kind != ast::ExprKind::List) continue;
      auto v = list_of(*o.value, c);
      if (!v || !v->ok || !l.value.ok) continue;
      auto numeric = [](Kind k) { return k == Kind::Int || k == Kind::Float; };
      bool parts_differ = v->arity != l.value.arity;
      for (size_t k = 0; !parts_differ && k < v->arity; ++k)
        parts_differ = v->part_kinds[k] != l.value.part_kinds[k] &&
                       !(numeric(v->part_kinds[k]) && numeric(l.value.part_kinds[k]));
      if (!v->elems.empty() && !l.value.elems.empty() && v->arity > 0 && parts_differ) {
        auto d = mk(Code::BRD0413, o.value->span,
                    "list `" + o.name.text + "` holds " +
                        (l.value.arity ? "tuples of " + std::to_string(l.value.arity) + " values"
                                       : tn(T(l.value.elem)) + " values") +
                        "; this override gives tuples of " + std::to_string(v->arity) + " values" +
                        (v->arity == l.value.arity ? " whose parts have other types" : ""));
        d.related.push_back({l.decl->name.span, "the list is declared here"});
        emit(std::move(d));
        continue;
      }
      if (!v->elems.empty() && !l.value.elems.empty() && v->elem != l.value.elem &&
          !(numeric(v->elem) && numeric(l.value.elem))) {
        auto d = mk(Code::BRD0413, o.value->span,
                    "list `" + o.name.text + "` holds " + tn(T(l.value.elem)) + " values; this override gives " +
                        tn(T(v->elem)) + " values");
        d.related.push_back({l.decl->name.span, "the list is declared here"});
        emit(std::move(d));
        continue;
      }
      ir::ListInfo& info = P.lists[l.info];
      if (!info.overridden) info.override_span = o.name.span;
      info.overridden = true;
      if (!opts_.apply_tuning) continue;
      Kind elem = l.value.elems.empty() ? v->elem : l.value.elem;
      if (numeric(elem) && numeric(v->elem) && (elem == Kind::Float || v->elem == Kind::Float)) elem = Kind::Float;
      if (l.value.elems.empty() || !o.append) {  // (a tuple list's shape comes with its first elements)
        l.value.arity = v->arity;
        l.value.part_kinds = v->part_kinds;
      }
      if (o.append) l.value.elems.insert(l.value.elems.end(), v->elems.begin(), v->elems.end());
      else l.value.elems = v->elems;
      l.value.elem = elem;
      if (elem == Kind::Float)
        for (auto& e : l.value.elems)
          if (e.kind == Kind::Int) e.kind = Kind::Float, e.f = static_cast<double>(e.i);
      info.elem = elem;
      info.size = l.value.elems.size();
    }
  }
}

void Checker::match_tunings(size_t from) {
  for (size_t i = from; i < tune_decls_.size(); ++i) {
    const ast::TuneDecl& t = *tune_decls_[i];
    if (t.glob) {
      size_t n = 0;
      for (const ast::RuleDecl* r : rule_decls_) {
        if (!glob_match(t.name.text, r->name.text)) continue;
        tunes_of_[r->name.text].push_back(&t);
        ++n;
      }
      if (n == 0) err(Code::BRD0115, t.name.span, "`tune \"" + t.name.text + "\"` matches no rule");
      continue;
    }
    auto g = globals_.find(t.name.text);
    if (g == globals_.end() || g->second.kind != GlobalSym::Kind::Rule) {
      std::vector<std::string> cands;
      for (const ast::RuleDecl* r : rule_decls_) cands.push_back(r->name.text);
      std::string msg = "`tune " + t.name.text + "`: no rule of that id is declared";
      if (g != globals_.end())
        msg = "`" + t.name.text + "` is a " + sym_kind_name(g->second.kind) + ", not a rule: only rules are tuned";
      err_suggest(Code::BRD0113, t.name.span, msg, t.name.text, cands, nullptr, true);
      continue;
    }
    tunes_of_[t.name.text].push_back(&t);
  }
}

void Checker::tune_rule(const ast::RuleDecl& d, ir::Rule& r, const Ctx& base,
                        const std::function<std::optional<ir::Severity>(const ast::Ident&)>& level) {
  auto it = tunes_of_.find(d.name.text);
  if (it == tunes_of_.end()) return;
  const ast::TuneDecl* enabled_by = nullptr;
  const ast::TuneDecl* severity_by = nullptr;
  std::vector<NodeId> exceptions;
  Span cond_span = r.spans.when;
  for (const ast::TuneDecl* t : it->second) {
    r.tuned_by.push_back(t->span);
    auto conflict = [&](const char* what, Span here, const ast::TuneDecl* first, Span first_span) {
      auto diag = mk(Code::BRD0116, here, std::string("the ") + what + " of rule `" + d.name.text + "` is tuned twice");
      diag.related.push_back({first_span, "first tuned here"});
      (void)first;
      emit(std::move(diag));
    };
    if (t->enabled) {
      if (enabled_by) {
        conflict("`enabled` state", t->enabled->span, enabled_by, enabled_by->enabled->span);
      } else {
        enabled_by = t;
        if (opts_.apply_tuning) r.meta.enabled = t->enabled->value;
      }
    }
    if (t->severity) {
      if (severity_by) {
        conflict("severity", t->severity->span, severity_by, severity_by->severity->span);
      } else {
        severity_by = t;
        auto lv = level(t->severity->value);
        if (lv && opts_.apply_tuning) {
          r.meta.severity = *lv;
          r.severity_arms.clear();  // a tuned level replaces a computed one
        }
      }
    }
    // An exception is a condition in the rule's own scope, checked as the rule's `when` is (its sources' fields in
    // event scope; steps, aggregates and attributes in session and chain scope), and conjoined with it negated.
    for (const ast::ExprClause& ex : t->exceptions) {
      if (!ex.expr) continue;
      Ctx c = base;
      if (r.scope == ir::Scope::Event) {
        c.place = Place::EventWhen;
      } else {
        c.place = Place::ScopeWhen;
        c.session_ctx = true;
        c.allow_seq = true;
      }
      Val v = cond(*ex.expr, c, "an exception");
      if (v.ok()) exceptions.push_back(v.node);
    }
  }
  if (!opts_.apply_tuning || exceptions.empty() || r.condition == kNoNode) return;
  Ctx c = base;
  NodeId any = exceptions[0];
  if (exceptions.size() > 1) any = mk_node_v(c, Op::Or, T(Kind::Bool), P.node(exceptions[0]).span, exceptions);
  NodeId none = mk_node(c, Op::Not, T(Kind::Bool), P.node(any).span, {any});
  r.untuned_condition = r.condition;
  r.exceptions = exceptions;
  r.condition = mk_node(c, Op::And, T(Kind::Bool), cond_span, {r.condition, none});
}

void Checker::check_org_data(const ast::RuleDecl& d, ir::Rule& r) {
  if (!d.org_data) return;
  for (const ast::Name& n : d.org_data->value) {
    r.org_data.push_back(n.text);
    auto g = globals_.find(n.text);
    if (g == globals_.end() || g->second.kind != GlobalSym::Kind::List) {
      std::vector<std::string> cands;
      for (const auto& l : P.lists)
        if (l.org_data) cands.push_back(l.name);
      err_suggest(Code::BRD0412, n.span, "`" + n.text + "` is not a declared list", n.text, cands, nullptr, true);
      continue;
    }
    const ListSym& l = lists_[g->second.index];
    if (!P.lists[l.info].org_data) {
      auto diag = mk(Code::BRD0412, n.span, "list `" + n.text + "` is not marked `org_data`");
      diag.help = "mark the list as organisation data: `list " + ast::name_spelling(n.text) + " = [...] org_data`";
      diag.related.push_back({l.decl->name.span, "the list is declared here"});
      emit(std::move(diag));
      continue;
    }
    if (std::find(r.org_lists_read.begin(), r.org_lists_read.end(), l.info) == r.org_lists_read.end())
      err(Code::BRD0412, n.span, "rule `" + d.name.text + "` does not read list `" + n.text + "`");
  }
}

void Checker::check_tests(const ast::RuleDecl& d, ir::Rule& out) {
  std::map<std::string, Span> names;
  for (const auto& t : d.tests) {
    ir::TestCase tc;
    tc.name = t.name.value;
    tc.span = t.span;
    auto [it, ins] = names.emplace(t.name.value, t.name.span);
    if (!ins) {
      auto diag = mk(Code::BRD0406, t.name.span, "test `" + t.name.value + "` is declared twice in this rule");
      diag.related.push_back({it->second, "first declared here"});
      emit(std::move(diag));
    }
    for (const auto& ev : t.events) {
      ir::TestCase::Events e;
      e.span = ev.span;
      if (ev.inline_events) {
        const ast::Json& j = *ev.inline_events;
        if (j.kind != ast::Json::Kind::Array) {
          err(Code::BRD0407, j.span, "`events` takes a JSON array of event objects");
        } else {
          for (const auto& item : j.items)
            if (item.kind != ast::Json::Kind::Object)
              err(Code::BRD0407, item.span, "each test event must be a JSON object");
        }
        duplicate_json_keys(j, Code::BRD0407);
        json_text(j, e.json);
      } else if (ev.file) {
        std::filesystem::path p(ev.file->value);
        if (p.is_relative() && ev.file->span.valid()) {
          std::filesystem::path base = std::filesystem::path(sm_.file(ev.file->span.file).path()).parent_path();
          p = base / p;
        }
        e.file = p.lexically_normal().string();
      }
      tc.events.push_back(std::move(e));
    }
    if (t.expect) {
      const auto& x = *t.expect;
      switch (x.kind) {
        case ast::TestExpect::Kind::None: tc.expect = ir::TestCase::Expect::None; break;
        case ast::TestExpect::Kind::Count:
          tc.expect = ir::TestCase::Expect::Count;
          tc.count = x.count;
          if (x.count < 0) err(Code::BRD0408, x.span, "the expected alert count must be zero or more");
          break;
        case ast::TestExpect::Kind::Alerts:
          tc.expect = ir::TestCase::Expect::Alerts;
          if (x.alerts.kind != ast::Json::Kind::Array) {
            err(Code::BRD0408, x.alerts.span, "`expect` takes a JSON array of alert objects");
          } else {
            for (const auto& item : x.alerts.items)
              if (item.kind != ast::Json::Kind::Object)
                err(Code::BRD0408, item.span, "each expected alert must be a JSON object");
          }
          duplicate_json_keys(x.alerts, Code::BRD0408);
          json_text(x.alerts, tc.alerts_json);
          break;
      }
    }
    if (t.events.empty()) err(Code::BRD0409, t.name.span, "test `" + t.name.value + "` has no `events`");
    if (!t.expect) err(Code::BRD0409, t.name.span, "test `" + t.name.value + "` has no `expect`");
    out.tests.push_back(std::move(tc));
  }
}

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

}  // namespace

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
