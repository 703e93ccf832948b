// Braid's abstract syntax tree: what the parser builds straight from the ANTLR parse tree, and what the checker
// and the formatter read. No ANTLR type appears here.
//
// The AST is faithful to the source: names are not resolved, macros are not expanded, clauses keep their spans
// (so the formatter can restore their order) and comments are kept on the File. Meaning is decided later, in the
// checker, which produces the typed IR (compiler/ir).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "diag/source.h"

namespace braid::ast {

// ---------------------------------------------------------------------------------------------------------------
// Small pieces

struct Ident {
  std::string text;
  Span span;
};

// A dotted declaration name: `aws.recon_prefixes`.
struct Name {
  std::string text;  // "aws.recon_prefixes"
  Span span;
};

// A string literal, already unescaped. `raw_span` covers the quotes.
struct StringLit {
  std::string value;
  Span span;
};

// Durations are held in nanoseconds, like the runtime's time values.
struct DurationLit {
  int64_t nanos = 0;
  std::string text;  // as written: "15m", "1h30m"
  Span span;
};

// ---------------------------------------------------------------------------------------------------------------
// Expressions

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class LitKind : uint8_t { String, RawString, Int, Float, Duration, Bool, Null };

struct Literal {
  LitKind kind = LitKind::Null;
  std::string text;   // String/RawString: the value (unescaped); Int/Float: the digits as written
  int64_t int_value = 0;     // Int; Duration (nanoseconds)
  double float_value = 0.0;  // Float
  bool bool_value = false;   // Bool
};

struct PathSeg {
  enum class Kind : uint8_t { Field, Index, Any };
  Kind kind = Kind::Field;
  std::string name;   // Field
  bool quoted = false;  // Field written as ."quoted-name"
  int64_t index = 0;  // Index
  Span span;
};

enum class ExprKind : uint8_t {
  Literal,    // lit
  List,       // children: the elements
  Path,       // head (+ segs); or base = children[0] (a Call or parenthesised expr) followed by segs
  Call,       // callee(children...): lower(x), exists(p), count(step), first(step), aws.is_admin_policy(arn)
  Unary,      // op = Neg; children[0]
  Binary,     // op = Add/Sub/Mul/Div/Mod; children[0], children[1]
  Compare,    // op = Eq/Ne/Lt/Le/Gt/Ge; nocase for ==~ and !=~; children[0], children[1]
  StringOp,   // op = Contains/StartsWith/EndsWith/Like/Matches; nocase (~); any_of: rhs is `any <list>`
  In,         // children[0] in children[1] (List literal or Path naming a list); negated for `not in`; nocase
  InCidr,     // children[0] in cidr children[1] (string Literal, List literal, or Path naming a list); negated
  IsNull,     // children[0] is null; negated for `is not null`
  Not,        // not children[0]
  And,        // children: two or more operands, flattened
  Or,         // children: two or more operands, flattened
  Sequence,   // seq: a -> b -> not c [within d]
  Tuple,      // (children[0], children[1], ...): two or more; a list element, or the left of `in` / `like any`
};

enum class Op : uint8_t {
  None,
  Neg,
  Add, Sub, Mul, Div, Mod,
  Eq, Ne, Lt, Le, Gt, Ge,
  Contains, StartsWith, EndsWith, Like, Matches,
};

struct SeqItem {
  Ident step;
  bool absent = false;  // `-> not b`
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  Span span;

  Literal lit;                      // Literal
  std::string head;                 // Path without base: the first identifier
  Span head_span;
  std::vector<PathSeg> segs;        // Path
  Name callee;                      // Call
  Op op = Op::None;                 // Unary, Binary, Compare, StringOp
  bool nocase = false;              // Compare (==~ !=~), StringOp (~), In (in~)
  bool cased = false;               // Compare, StringOp, In written with `cased`: exact even on nocase fields
  bool negated = false;             // In (not in), InCidr (not in cidr), IsNull (is not null)
  bool any_of = false;              // StringOp: rhs is `any <list>`
  bool parenthesized = false;       // written inside ( ), kept for the formatter
  std::vector<ExprPtr> children;
  std::vector<SeqItem> seq;         // Sequence
  std::optional<DurationLit> within;  // Sequence

  // The dotted text of a Path without base and without index segments ("recon.eventName"), or empty.
  std::string dotted() const;
};

// ---------------------------------------------------------------------------------------------------------------
// JSON inside tests (events and expected alerts). Numbers keep their text so nothing is lost.

struct JsonMember;

struct Json {
  enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool bool_value = false;
  std::string text;  // Number: as written; String: the value, unescaped
  std::vector<Json> items;                               // Array
  std::vector<JsonMember> members;                       // Object, in source order
  Span span;
};

// A named member. (Not std::pair: libstdc++'s pair cannot hold the still-incomplete Json under clang.)
struct JsonMember {
  std::string first;  // the key
  Json second;        // the value
  Span key_span;      // the key's string, quotes included
};

// ---------------------------------------------------------------------------------------------------------------
// Sources

struct TypeExpr;

struct FieldDecl {
  std::string name;
  bool quoted = false;
  bool optional = false;  // `name?: type`: the field may be missing or null
  bool nocase = false;    // `name: string nocase`: values are case-insensitive in the real world
  std::unique_ptr<TypeExpr> type;
  Span span;
};

struct TypeExpr {
  enum class Kind : uint8_t { Named, List, Record };
  Kind kind = Kind::Named;
  Ident name;                        // Named: string, int, float, bool, time, duration, ip, cidr, object
  std::unique_ptr<TypeExpr> elem;    // List
  std::vector<FieldDecl> fields;     // Record
  bool open = false;                 // Record ends with `...`: undeclared fields are allowed (as `object`)
  Span span;
};

// An expression clause of a source, such as `time eventTime`.
struct ExprClause {
  ExprPtr expr;
  Span span;  // the whole clause, keyword included
};

struct MintsClause {
  ExprPtr credential;
  ExprPtr when;  // may be null
  Span span;
};

struct LinkSide {
  ExprPtr when;
  ExprPtr key;
  Span span;
};

// `link aws.cloudtrail within 5m { parent when .. key ..  child when .. key .. }`
struct LinkClause {
  Name target;
  DurationLit within;
  LinkSide parent;  // evaluated on this source's events
  LinkSide child;   // evaluated on the target source's events
  Span span;
};

struct SessionClause {
  DurationLit gap;
  DurationLit max;
  Span span;
};

struct LatenessClause {
  DurationLit lateness;
  Span span;
};

struct FieldsClause {
  TypeExpr record;  // Kind::Record
  Span span;
};

struct SourceDecl {
  Name name;
  std::optional<ExprClause> recognize, time, id, identity, credential;
  std::optional<ExprClause> ip;       // the client address, for session.source_ips
  std::optional<ExprClause> account;  // the account/tenant, for chain.accounts
  std::optional<SessionClause> session;
  std::optional<LatenessClause> lateness;
  std::vector<MintsClause> mints;
  std::vector<LinkClause> links;
  std::optional<FieldsClause> fields;
  Span span;
};

// `type aws.iam_policy = { Version?: string, ... }`: a named schema type, for `json(field, type)`.
struct TypeDecl {
  Name name;
  TypeExpr type;
  Span span;
};

// ---------------------------------------------------------------------------------------------------------------
// Lists and macros

struct ListDecl {
  Name name;
  ExprPtr value;  // a List expression
  bool org_data = false;  // `list L = [...] org_data`: organisation data, a placeholder the user overrides
  Span span;
};

struct MacroDecl {
  Name name;
  std::vector<Ident> params;
  bool has_parens = false;  // `macro m() = ..` vs `macro m = ..`
  ExprPtr body;
  Span span;
};

// ---------------------------------------------------------------------------------------------------------------
// Rules

template <typename T>
struct Clause {
  T value;
  Span span;  // the whole clause, keyword included
};

// One arm of a computed severity: `critical when COND`, or `else medium` (when == nullptr).
struct SeverityArm {
  Ident level;
  ExprPtr when;  // null for `else`
  Span span;
};

// `severity high`, or the computed form `severity { critical when C  high when D  else medium }`.
struct SeverityClause {
  Ident value;                    // the level of `severity high`; of the computed form, its (first) `else` level
                                  // (empty text when it has none, which the checker reports)
  bool computed = false;          // the braced form
  std::vector<SeverityArm> arms;  // computed: every arm in written order, `else` arms included
  Span span;                      // the whole clause, keyword included
};

struct AttackId {
  std::string text;  // "T1098.003"
  bool quoted = false;
  Span span;
};

struct SuppressClause {
  DurationLit window;
  std::vector<ExprPtr> keys;
  Span span;
};

// A message template: "{session.identity} made {count(recon)} calls" -> literal and expression parts.
struct TemplatePart {
  std::string literal;  // when expr is null
  ExprPtr expr;         // spans point into the original file
};

struct MessageClause {
  StringLit raw;
  std::vector<TemplatePart> parts;
  Span span;
};

enum class Scope : uint8_t { Event, Session, Chain, Group };

struct Step {
  Ident label;
  ExprPtr pred;
  Span span;
};

// `group by K1, K2 window D { .. }` or `group by K gap G max M { .. }`: the head of a group block.
struct GroupHead {
  std::vector<ExprPtr> keys;
  std::optional<DurationLit> window;    // `window D`; else gap and max
  std::optional<DurationLit> gap, max;
  Span span;                            // `group` to the last duration
};

// `session { step a = ..  step b = ..  when .. }`, `chain { .. }` or `group by .. { .. }`
struct ScopeBlock {
  Scope scope = Scope::Session;
  std::optional<GroupHead> group;  // Scope::Group
  std::vector<Step> steps;
  std::optional<ExprClause> when;
  Span span;
};

struct TestEvents {
  std::optional<Json> inline_events;      // `events [ {...}, ... ]`: a Json array
  std::optional<StringLit> file;          // `events file "path.ndjson"`, relative to the rule's file
  Span span;
};

struct TestExpect {
  enum class Kind : uint8_t { None, Count, Alerts };
  Kind kind = Kind::None;
  int64_t count = 0;        // Count
  Json alerts;              // Alerts: an array of partial alert objects
  Span span;
};

struct TestCase {
  StringLit name;
  std::vector<TestEvents> events;
  std::optional<TestExpect> expect;
  Span span;
};

struct RuleDecl {
  Name name;
  std::optional<Clause<StringLit>> title, description, author;
  std::optional<SeverityClause> severity;
  std::optional<Clause<std::vector<AttackId>>> attack;
  std::optional<Clause<std::vector<StringLit>>> tags, references, false_positives;
  std::optional<Clause<bool>> enabled;
  std::optional<Clause<std::vector<Name>>> sources;
  std::optional<MessageClause> message;
  std::optional<SuppressClause> suppress;
  std::optional<ExprClause> when;        // event scope
  std::optional<ScopeBlock> scope_block; // session, chain or group scope
  std::vector<TestCase> tests;
  std::optional<Clause<std::vector<Name>>> org_data;  // `org_data L, ...`: the organisation-data lists it needs
  Span span;

  Scope scope() const { return scope_block ? scope_block->scope : Scope::Event; }
};

// ---------------------------------------------------------------------------------------------------------------
// Tuning (docs/language.md, section 23): changes the user makes to rules and lists declared in other files.

// `tune NAME { enabled B  severity LEVEL  except when COND ... }`, or `tune "GLOB" { ... }`.
struct TuneDecl {
  Name name;            // the rule id, or the glob as written inside the quotes
  bool glob = false;    // written as a string: `*` and `?` match any run / one character of a rule id
  std::optional<Clause<bool>> enabled;
  std::optional<Clause<Ident>> severity;
  std::vector<ExprClause> exceptions;  // `except when COND`, in written order
  Span span;
};

// `override list NAME = [...]` (replace) or `override list NAME += [...]` (append).
struct OverrideDecl {
  Name name;
  bool append = false;
  ExprPtr value;  // a List expression
  Span span;
};

// ---------------------------------------------------------------------------------------------------------------
// Files

using Decl = std::variant<SourceDecl, ListDecl, MacroDecl, RuleDecl, TypeDecl, TuneDecl, OverrideDecl>;

struct Comment {
  std::string text;   // including the // or /* */ markers
  Span span;
  bool own_line = false;  // nothing but whitespace precedes it on its line
};

struct File {
  FileId file = kNoFile;
  std::vector<Decl> decls;
  std::vector<Comment> comments;  // in source order
};

// A readable, stable dump of an expression (S-expression style), for tests and debugging.
std::string dump(const Expr& e);

// ---------------------------------------------------------------------------------------------------------------
// Names: a declared name is its segments joined with dots (`Name::text`). A segment that is not an identifier, or
// is a reserved word, is written quoted after a dot (`GCP.DNS.Zone.Modified."or".Deleted`), like a field path's.

// The eight reserved words: `and`, `or`, `not`, `in`, `is`, `true`, `false`, `null`.
bool is_reserved_word(std::string_view s);

// Whether a name segment is written without quotes: an identifier that is not a reserved word.
bool is_plain_segment(std::string_view s);

// Why `s` cannot be a (quoted) name segment, or empty when it can. A segment is 1 to 128 printable ASCII
// characters other than space, `.` (it separates segments), `"`, `\` and `` ` ``.
std::string invalid_segment_reason(std::string_view s);

// How a dotted name is written in source: `acme."dns-zone".modified` for "acme.dns-zone.modified".
std::string name_spelling(std::string_view dotted);

}  // namespace braid::ast
