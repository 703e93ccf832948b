// Braid's typed IR: what the checker produces from the AST, and the single input of every later stage (the
// reference interpreter, the LLVM JIT, the pack writer and the linter).
//
// Design
// - No AST or ANTLR type appears here; the only dependency is diag/ (spans, for the source map).
// - Names are resolved, macros are expanded (inlined at each use, with the use site's span), every expression
//   node carries its result type, and everything that can be decided at compile time has been: string
//   constants are interned in a pool, constant lists become sorted deduplicated sets, regexes are validated
//   with RE2 and stored in a table, CIDRs are parsed.
// - Expressions of the whole program live in ONE flat arena (`Program::nodes`) addressed by `NodeId` (uint32).
//   Operands are ranges of `Program::operands`. This is trivially serialisable (a pack is these vectors) and
//   cache friendly. Node ids are only meaningful inside their Program.
// - Everything is plain data (vectors, strings, integers). A Program is movable, not copyable.
//
// Evaluation contexts (what a node may read)
// - Event context: source clauses (recognize/time/...), mints and link expressions, step predicates, the `when`
//   of an event-scope rule, aggregate value expressions, and the message/suppress of an event-scope rule.
//   Reads fields of the current event (Op::Field) and, in rules (not sources), the attributes of the session the
//   event belongs to (Op::Attr; chain.* only in chain rules).
// - Session/chain context: the `when` of a session/chain rule and its message and suppress keys. Reads
//   aggregates (Op::Agg), sequences (Op::Seq) and attributes (Op::Attr). Never reads event fields directly:
//   `step.f` outside an aggregate was lowered to `last(step).f`, which is an aggregate.
//
// Null semantics (docs/design-brief.md, 1): missing == null. Every comparison, string operator, InSet, InCidr
// with a null operand is false. Arithmetic and builtins with a null operand give null (coalesce excepted). A null
// in a boolean position (Not/And/Or operand, a condition) is false. The IR has no Ne/NotIn/IsNull opcodes: the
// checker lowers `a != b` to Not(Eq(a, b)), `not in` to Not(InSet), `x is null` to Not(Exists(x)), and marks
// those Not nodes with kFlagSugar so the linter can tell them from a written `not`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "diag/source.h"

namespace braid::ir {

using NodeId = uint32_t;
inline constexpr NodeId kNoNode = UINT32_MAX;
inline constexpr uint32_t kNone = UINT32_MAX;  // "no index" for every other uint32 index in this file

// ---------------------------------------------------------------------------------------------------------------
// Types

enum class Kind : uint8_t {
  Error,     // produced after a reported error; never in a Program without errors
  Null,      // the type of the literal `null` (only valid as a coalesce operand)
  Bool,
  Int,       // int64
  Float,     // double
  String,    // UTF-8
  Time,      // int64 nanoseconds since the Unix epoch
  Duration,  // int64 nanoseconds
  Ip,        // v4 or v6 address (from the event; compared as text by string operators)
  Cidr,      // network + prefix
  List,      // list<elem>
  Object,    // dynamic: a record or any JSON value; subpaths allowed; checked at run time
};

// A value type. For lists, `elem` is the element kind (nested lists and records are recorded as
// list<list> / list<object>; their structure is in the source schema). For other kinds `elem` is Error.
struct Type {
  Kind kind = Kind::Error;
  Kind elem = Kind::Error;

  static constexpr Type of(Kind k) { return Type{k, Kind::Error}; }
  static constexpr Type list(Kind e) { return Type{Kind::List, e}; }
  bool operator==(const Type&) const = default;
  bool is_numeric() const { return kind == Kind::Int || kind == Kind::Float; }
};

std::string_view kind_name(Kind k);  // "string", "int", ...
std::string type_name(Type t);       // "string", "list<string>", ...

// ---------------------------------------------------------------------------------------------------------------
// Expression nodes

// The operators, their per-op comments and their facts are in ops.def (one row per op); everything below is
// derived from it.

// What Node::imm holds, per op (ops.def).
enum class ImmKind : uint8_t {
  None,       // unused
  Bool,       // 0 or 1
  Int,        // any int64 (a literal, nanoseconds, a list position)
  FloatBits,  // the IEEE-754 bits of a double
  Str,        // StrId
  Set,        // SetId
  Field,      // FieldId
  Attribute,  // an Attribute
  Agg,        // index into the reading rule's Rule::aggregates
  Seq,        // index into the reading rule's Rule::sequences
  Binding,    // AnyElem nesting depth (< kMaxBinding)
  Regex,      // RegexId
  CidrSet,    // CidrSetId
};

// The result type of an op (ops.def). Bool, Int, Float and String are fixed kinds, which ir::validate checks.
enum class ResultRule : uint8_t {
  Bool, Int, Float, String,
  Literal,     // the constant's own type
  Declared,    // the declared type of what it loads (slot, attribute, aggregate, list element)
  Arithmetic,  // by the operand types: int, float, time, duration
  Common,      // the operands' common type (coalesce)
  Element,     // the list operand's element type
};

// Op flags (ops.def). Classifications derived code needs; a new op states them in its row.
inline constexpr uint8_t kOpComparison = 1u << 0;  // Eq, Lt, Le, Gt, Ge: [lhs, rhs]
inline constexpr uint8_t kOpPattern = 1u << 1;     // a string operator with one pattern (contains, ..., matches)
inline constexpr uint8_t kOpPatternSet = 1u << 2;  // `op any L`: a string operator with a set of patterns
inline constexpr uint8_t kOpTest = 1u << 3;        // a test of values: false when an operand is null, so a
                                                   //   missing field makes it silently false (lint BRD0801)
inline constexpr uint8_t kOpNullIn = 1u << 4;      // null when an operand is null (the linter follows missing
                                                   //   fields through it)
inline constexpr uint8_t kOpConst = 1u << 5;       // a constant: no operands, the same value everywhere

inline constexpr uint32_t kVariadic = UINT32_MAX;  // OpInfo::max_ops of a variadic op
inline constexpr int64_t kMaxBinding = 64;         // AnyElem nesting depth limit (ImmKind::Binding)

enum class Op : uint8_t {
#define BRAID_OP(Name, name, written, min_ops, max_ops, imm, result, flags) Name,
#include "ir/ops.def"
#undef BRAID_OP
};

inline constexpr size_t kOpCount = 0
#define BRAID_OP(Name, name, written, min_ops, max_ops, imm, result, flags) +1
#include "ir/ops.def"
#undef BRAID_OP
    ;

struct OpInfo {
  Op op;
  std::string_view name;     // op_name
  std::string_view written;  // as spelled in Braid, for diagnostics; "" when it has no single spelling
  uint32_t min_ops, max_ops; // operand count: exactly min (== max) or at least min (max == kVariadic)
  ImmKind imm;
  ResultRule result;
  uint8_t flags;             // kOp* bits
};

inline constexpr OpInfo kOps[] = {
#define BRAID_OP(Name, name, written, min_ops, max_ops, imm, result, flags) \
  {Op::Name, name, written, min_ops, max_ops, ImmKind::imm, ResultRule::result, flags},
#include "ir/ops.def"
#undef BRAID_OP
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == kOpCount);

// The row of an op; `op` must be a valid Op (op < kOpCount), as every Op of a loaded or checked program is.
constexpr const OpInfo& op_info(Op op) { return kOps[static_cast<size_t>(op)]; }
constexpr bool op_is(Op op, uint8_t flag) { return (op_info(op).flags & flag) != 0; }

std::string_view op_name(Op op);  // "eq", "contains_any", ...; "?" for a value outside the enum

// Node flags.
inline constexpr uint8_t kFlagNoCase = 1u << 0;          // case-insensitive operator (`==~`, `contains~`, `in~`)
inline constexpr uint8_t kFlagSugar = 1u << 1;           // Not written as !=, !=~, not in, not in cidr, is null
inline constexpr uint8_t kFlagOptionalOperand = 1u << 2; // comparison/string/in: a field operand is optional
                                                         //   (may be missing), for lint
inline constexpr uint8_t kFlagNocaseField = 1u << 3;     // comparison/string/in: a field operand is declared
                                                         //   `nocase` in its schema, for lint
inline constexpr uint8_t kFlagFromMacro = 1u << 4;       // the node came from a macro body (span = the use site)
inline constexpr uint8_t kFlagCased = 1u << 5;           // comparison/string/in written with `cased`: exact even
                                                         //   on a nocase field (no kFlagNocaseField), for lint

struct Node {
  Op op = Op::Null;
  uint8_t flags = 0;
  Type type;
  uint32_t ops_begin = 0;  // operands: Program::operands[ops_begin, ops_begin + ops_count)
  uint32_t ops_count = 0;
  int64_t imm = 0;         // meaning per Op (see above)
  Span span;               // where it was written (for macro bodies: the macro use site)

  bool has(uint8_t flag) const { return (flags & flag) != 0; }
  double float_value() const;
};

// session.* and chain.* attributes (design brief 7, 8).
enum class Attribute : uint8_t {
  SessionId,          // string
  SessionIdentity,    // string
  SessionCredential,  // string
  SessionStart,       // time
  SessionEnd,         // time (the last event so far)
  SessionDuration,    // duration
  SessionEvents,      // int
  SessionSourceIps,   // int (distinct count of the source's `ip`)
  ChainDepth,         // int
  ChainRootIdentity,  // string
  ChainRootCredential,// string
  ChainRootStart,     // time
  ChainIdentities,    // int (distinct)
  ChainAccounts,      // int (distinct)
};
std::string_view attribute_name(Attribute a);  // "session.identity"
Type attribute_type(Attribute a);

// ---------------------------------------------------------------------------------------------------------------
// Interned tables

using StrId = uint32_t;
using SetId = uint32_t;
using RegexId = uint32_t;
using CidrSetId = uint32_t;
using FieldId = uint32_t;

// A constant set: deduplicated and sorted. Exactly one of the value vectors is used, by `elem`:
// String/Ip -> strings (sorted bytewise; case-folded when nocase); Int/Duration/Time -> ints; Float -> floats;
// Bool -> ints (0/1). Literal lists and declared `list`s both become sets; equal sets share one id.
struct ConstSet {
  Kind elem = Kind::String;
  bool nocase = false;
  std::vector<std::string> strings;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  size_t size() const { return strings.size() + ints.size() + floats.size(); }
};

// A regex, validated with RE2 at check time. The runtime compiles `pattern` with RE2 (case_sensitive =
// !nocase). Matching is an unanchored search.
struct Regex {
  std::string pattern;
  bool nocase = false;
};

struct Cidr {
  bool v6 = false;
  uint8_t prefix = 0;      // 0..32 (v4) or 0..128 (v6)
  uint8_t addr[16] = {};   // network address, host bits cleared; v4 uses addr[0..3]
  std::string text;        // canonical text "10.0.0.0/8"
};
struct CidrSet {
  std::vector<Cidr> cidrs;  // deduplicated, sorted (v4 first, then by address and prefix)
};

// A field path, program-wide. Equal paths (by segments) share one FieldId even across sources.
struct PathSeg {
  enum class Kind : uint8_t { Field, Index, Any };
  Kind kind = Kind::Field;
  std::string name;  // Field
  int64_t index = 0; // Index (from 0; out of range is null)
  bool operator==(const PathSeg&) const = default;
};
struct FieldPath {
  std::vector<PathSeg> segs;
  std::string text;       // "userIdentity.arn", "resources[*].ARN", "\"odd-name\".x"
  // A path into the JSON document held by another field's string (`json(base, type).segs`): the field whose
  // string is parsed (an event path), else kNone. `segs` are relative to that document, and `text` names the
  // base and the type ("json(requestParameters.policyDocument, aws.iam_policy).Statement[*].Effect"), so that
  // one path read with two types gets two fields (two slots, each with its own declared type).
  FieldId json_base = UINT32_MAX;
  // A zipped list, for `any()`/`all()` over several paths into one element (docs/language.md 9.1). `zip_anchor`
  // is a list field whose path ends in `[*]` (the elements); `zip` holds the members: fields whose paths start
  // with the anchor's (same document), or zipped fields whose anchors do. It loads one item per element: the
  // list of the members' values read in that element (null when missing; a member with a further `[*]` reads a
  // list, a zipped member a list of its own). `segs` is empty: the event extractor does not read it.
  FieldId zip_anchor = UINT32_MAX;
  std::vector<FieldId> zip;
  bool has_any() const;   // contains a [*] segment (loads a list)
  bool in_json() const { return json_base != UINT32_MAX; }
  bool is_zip() const { return zip_anchor != UINT32_MAX; }
};

// ---------------------------------------------------------------------------------------------------------------
// Sources

// A schema type tree, as declared in `fields { ... }` (for docs and lint; the runtime uses slots).
struct SchemaField;
struct SchemaType {
  enum class Shape : uint8_t { Scalar, List, Record, Object };
  Shape shape = Shape::Object;
  Kind scalar = Kind::Object;                // Scalar: string/int/float/bool/time/duration/ip/cidr
  std::unique_ptr<SchemaType> elem;          // List
  std::vector<SchemaField> fields;           // Record, in declaration order
  bool open = false;                         // Record with `...`
  Span span;

  SchemaType() = default;
  SchemaType(const SchemaType& o);  // deep (Program::clone)
  SchemaType& operator=(const SchemaType& o);
  SchemaType(SchemaType&&) = default;
  SchemaType& operator=(SchemaType&&) = default;
};
struct SchemaField {
  std::string name;
  bool optional = false;
  bool nocase = false;
  SchemaType type;
  Span span;
};
inline SchemaType::SchemaType(const SchemaType& o)
    : shape(o.shape), scalar(o.scalar), elem(o.elem ? std::make_unique<SchemaType>(*o.elem) : nullptr),
      fields(o.fields), open(o.open), span(o.span) {}
inline SchemaType& SchemaType::operator=(const SchemaType& o) {
  if (this != &o) *this = SchemaType(o);
  return *this;
}

// One field the runtime extracts from each event of a source, at load time.
struct Slot {
  FieldId field = kNone;   // the path (Program::fields[field])
  Type type;               // declared type (list<T> for paths with [*]; object for undeclared paths of open records)
  bool optional = false;   // some segment is optional, an index, or undeclared (open record)
  bool nocase = false;     // the leaf is declared `nocase`
  Span first_use;          // the first expression that reads it
};

struct Mint {
  NodeId credential = kNoNode;  // event context of this source
  NodeId when = kNoNode;        // kNoNode: always
  Span span;
};

// `link T within D { parent when C key K  child when C key K }`
struct Link {
  uint32_t target = kNone;      // index into Program::sources
  int64_t within = 0;           // ns
  NodeId parent_when = kNoNode, parent_key = kNoNode;  // event context of THIS source
  NodeId child_when = kNoNode, child_key = kNoNode;    // event context of the TARGET source
  Span span;
};

struct Source {
  std::string name;
  Span span, name_span;
  // Expression clauses (event context of this source); kNoNode when absent.
  NodeId recognize = kNoNode, time = kNoNode, id = kNoNode, identity = kNoNode, credential = kNoNode,
         ip = kNoNode, account = kNoNode;
  int64_t session_gap = 0, session_max = 0;  // ns
  int64_t lateness = 0;                      // ns; 0 when not given
  std::vector<Mint> mints;
  std::vector<Link> links;
  SchemaType schema;                         // Shape::Record
  std::vector<Slot> slots;                   // in order of first use
  std::map<FieldId, uint32_t> slot_index;    // FieldId -> index into slots

  // The slot for a field, or kNone if this source never reads it (then the value is null).
  uint32_t slot_of(FieldId f) const {
    auto it = slot_index.find(f);
    return it == slot_index.end() ? kNone : it->second;
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Rules

// Group: a window of the events of one source with equal values of the rule's `group by` keys (any event of the
// source, with or without identity): see GroupBy and docs/language.md, "Group scope".
enum class Scope : uint8_t { Event, Session, Chain, Group };
enum class Severity : uint8_t { Info, Low, Medium, High, Critical };
std::string_view scope_name(Scope s);
std::string_view severity_name(Severity s);

struct Metadata {
  std::string title, description, author;
  Severity severity = Severity::Medium;      // a computed severity's `else` level (Rule::severity_arms)
  std::vector<std::string> attack;           // "T1098.003", "TA0004"
  std::vector<std::string> tags, references, false_positives;
  bool enabled = true;
};

struct Step {
  std::string label;
  NodeId pred = kNoNode;  // event context
  Span span;
};

// The aggregates, in one table: the language's names come from here (the checker derives its list and its
// lookup from it), and the runtime's table of state operations (runtime/engine/aggregates.h) must have one entry
// per kind, in this order, or it does not compile. Adding an aggregate: a kind here, a row in kAggKinds, a row in
// the runtime's kAggOps, and its typing rule in the checker (Checker::step_agg).
enum class AggKind : uint8_t { Count, Distinct, Sum, Min, Max, First, Last };

struct AggKindInfo {
  AggKind kind;
  std::string_view name;  // as written in rules: `distinct(step.field)`
};
inline constexpr AggKindInfo kAggKinds[] = {
    {AggKind::Count, "count"}, {AggKind::Distinct, "distinct"}, {AggKind::Sum, "sum"}, {AggKind::Min, "min"},
    {AggKind::Max, "max"},     {AggKind::First, "first"},       {AggKind::Last, "last"},
};
inline constexpr size_t kAggKindCount = sizeof(kAggKinds) / sizeof(kAggKinds[0]);
constexpr bool agg_table_in_order() {
  for (size_t i = 0; i < kAggKindCount; ++i)
    if (static_cast<size_t>(kAggKinds[i].kind) != i) return false;
  return true;
}
static_assert(agg_table_in_order(), "kAggKinds must list every AggKind once, in declaration order");

std::string_view agg_kind_name(AggKind k);
std::optional<AggKind> agg_kind_from_name(std::string_view name);

// One piece of per-rule state, updated on each event that matches `step`. Equal (kind, step, field) triples
// share one entry. The table is the rule's state layout, in this order.
struct Aggregate {
  AggKind kind = AggKind::Count;
  uint32_t step = kNone;   // index into Rule::steps
  NodeId value = kNoNode;  // kNoNode for Count; otherwise event-context expression (a Field load)
  FieldId field = kNone;   // the field `value` reads (kNone for Count)
  Type type;               // result: Count/Distinct int; Sum int/float; Min/Max/First/Last the value's type
  Span span;               // first use
};

struct SeqItem {
  uint32_t step = kNone;
  bool absent = false;     // `-> not b`
};
struct Sequence {
  std::vector<SeqItem> items;
  std::optional<int64_t> within;  // ns; nullopt: the rest of the session (lint: unbounded)
  bool has_absence() const;
  Span span;
};

// When the runtime may fire a session/chain rule (design brief 9). Event rules are always Immediate.
enum class Firing : uint8_t {
  Immediate,  // event scope: fires on the matching event
  Monotone,   // once true stays true: fire as soon as the condition holds
  AtClose,    // evaluate when the session (chain) closes
};
std::string_view firing_name(Firing f);

struct MessagePart {
  std::string literal;     // when expr == kNoNode
  NodeId expr = kNoNode;
};

// One arm of a computed severity (`severity { critical when C ... else medium }`): the alert gets `level` when
// `when` (alert context, like the message) is true; null is false. The `else` level is Metadata::severity.
struct SeverityArm {
  Severity level = Severity::Medium;
  NodeId when = kNoNode;
  Span span;
};

struct Suppress {
  int64_t window = 0;          // ns
  std::vector<NodeId> keys;    // rule's alert context (event context for event scope, else session context)
  Span span;
};

// `group by K1, K2 window D` (gap = max = D: a tumbling window from the group's first event) or
// `group by K... gap G max M` (a session window: the group closes G after its latest event or M after its first,
// whichever comes first). The engine keeps one group per (source, key values); an event with a null key part
// joins no group.
struct GroupBy {
  std::vector<NodeId> keys;            // event context
  std::vector<std::string> key_text;   // each key as written (for alerts: "sourceIPAddress")
  int64_t gap = 0;                     // ns, > 0
  int64_t max = 0;                     // ns, >= gap
  Span span;
};

struct TestCase {
  struct Events {
    std::string json;          // inline: a JSON array as compact text; empty if `file` is used
    std::string file;          // `events file "..."` resolved against the rule file's directory
    Span span;
  };
  enum class Expect : uint8_t { Unspecified, None, Count, Alerts };
  std::string name;
  std::vector<Events> events;
  Expect expect = Expect::Unspecified;
  int64_t count = 0;           // Count
  std::string alerts_json;     // Alerts: a JSON array of partial alert objects, compact text
  Span span;
};

// Source map: where the rule's clauses were written.
struct RuleSpans {
  Span rule, name, title, severity, sources, message, when, scope_block, suppress, enabled;
};

struct Rule {
  std::string id;                   // dotted name, "aws.iam.recon_burst"
  Metadata meta;
  Scope scope = Scope::Event;
  std::vector<uint32_t> sources;    // indices into Program::sources
  std::vector<Step> steps;          // session/chain/group scope
  std::optional<GroupBy> group;     // group scope only
  NodeId condition = kNoNode;       // event scope: the `when` (event context); else the scope block's `when`
  std::vector<Aggregate> aggregates;
  std::vector<Sequence> sequences;
  Firing firing = Firing::Immediate;
  Span firing_reason;               // AtClose: the first part that forced it (e.g. the `not a`)
  std::string message_raw;
  std::vector<MessagePart> message;
  std::optional<Suppress> suppress;
  // A computed severity: the first arm whose `when` holds gives the alert's severity, else meta.severity. Empty
  // for `severity LEVEL`. Evaluated in the alert context when the rule fires, before suppression (docs/language.md).
  std::vector<SeverityArm> severity_arms;
  std::vector<TestCase> tests;
  RuleSpans spans;
  std::string file_path;            // the file that declared it
  // Organisation data (not in packs): the lists the rule's `org_data` clause names, and the indices into
  // Program::lists of the `org_data` lists its expressions read (directly or through macros), for the linter.
  std::vector<std::string> org_data;
  std::vector<uint32_t> org_lists_read;
  // The `tune` declarations that changed it (their spans), in file order; empty for an untuned rule.
  std::vector<Span> tuned_by;
  // With exceptions, `condition` is And(untuned_condition, Not(Or(exceptions...))); else kNoNode and empty. The
  // linter reads the parts (an exception on a missing field not holding is what the user means, not BRD0801).
  NodeId untuned_condition = kNoNode;
  std::vector<NodeId> exceptions;
};

// ---------------------------------------------------------------------------------------------------------------
// Declarations kept for the linter

struct ListInfo {
  std::string name;
  Span span;
  Kind elem = Kind::String;
  size_t size = 0;
  bool used = false;
  // Tuning (not in packs: a pack holds the effective sets). `org_data`: declared with the marker; `overridden`: an
  // `override list` of the rule set replaced or extended it (at `override_span`, the first one).
  bool org_data = false;
  bool overridden = false;
  Span override_span;
};
struct MacroInfo {
  std::string name;
  std::vector<std::string> params;
  Span span;
  bool used = false;
};

// ---------------------------------------------------------------------------------------------------------------
// The program

struct Program {
  Program() = default;
  Program& operator=(const Program&) = delete;
  Program(Program&&) = default;
  Program& operator=(Program&&) = default;
  // A deliberate copy (the copy constructor is private, so that a program is never copied by accident).
  Program clone() const { return Program(*this); }

  // Expression arena.
  std::vector<Node> nodes;
  std::vector<NodeId> operands;

  // Interned tables.
  std::vector<std::string> strings;  // StrId -> text
  std::vector<ConstSet> sets;        // SetId
  std::vector<Regex> regexes;        // RegexId
  std::vector<CidrSet> cidr_sets;    // CidrSetId
  std::vector<FieldPath> fields;     // FieldId

  std::vector<Source> sources;
  std::vector<Rule> rules;           // in declaration order (stdlib files first)
  std::vector<ListInfo> lists;
  std::vector<MacroInfo> macros;

  const Node& node(NodeId id) const { return nodes[id]; }
  std::span<const NodeId> ops(const Node& n) const {
    return std::span<const NodeId>(operands.data() + n.ops_begin, n.ops_count);
  }
  NodeId op(const Node& n, uint32_t i) const { return operands[n.ops_begin + i]; }

  // Lookup by full dotted name; nullptr when absent. Linear scans: cache the result in hot paths.
  const Source* find_source(std::string_view name) const;
  const Rule* find_rule(std::string_view id) const;
  const ListInfo* find_list(std::string_view name) const;
  const MacroInfo* find_macro(std::string_view name) const;
  uint32_t source_index(std::string_view name) const;  // kNone when absent

  // Builders used by the checker (and tests). Interning functions return the existing id for equal content
  // among the entries they added themselves (a Program filled directly, e.g. read back from a pack, has an empty
  // interning index: appending to it is fine, deduplication against the loaded entries does not happen).
  NodeId add_node(Node n, std::span<const NodeId> ops = {});
  StrId intern_string(std::string_view s);
  SetId intern_set(ConstSet s);  // sorts and deduplicates first
  RegexId intern_regex(std::string_view pattern, bool nocase);
  CidrSetId intern_cidr_set(CidrSet s);  // sorts and deduplicates first
  FieldId intern_field(const std::vector<PathSeg>& segs);
  // A path into the JSON document in field `base`'s string, read as `type` ("" for free-form `object`).
  FieldId intern_json_field(FieldId base, std::string_view type, const std::vector<PathSeg>& segs);
  // The path `segs` in the same document as field `like` (the event, or `like`'s JSON document and type).
  FieldId intern_sibling_field(FieldId like, const std::vector<PathSeg>& segs);
  // A zipped list over `anchor`'s elements with these members (FieldPath::zip).
  FieldId intern_zip_field(FieldId anchor, const std::vector<FieldId>& members);

 private:
  Program(const Program&) = default;
  std::map<std::string, StrId, std::less<>> string_index_;
  std::map<std::string, FieldId, std::less<>> field_index_;
  std::map<std::string, SetId, std::less<>> set_index_;      // key: a serialisation of the set's content
  std::map<std::string, RegexId, std::less<>> regex_index_;  // key: flag + pattern
};

// Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128). Host bits are cleared.
std::optional<Cidr> parse_cidr(std::string_view text);
// Parses an IPv4 or IPv6 address into a canonical text form; nullopt if invalid.
std::optional<std::string> canonical_ip(std::string_view text);

// ---------------------------------------------------------------------------------------------------------------
// Readable dumps, stable across runs, for tests and `braid ir` style debugging.

std::string dump_expr(const Program& p, NodeId id);                 // S-expression
std::string dump_rule(const Program& p, const Rule& r);
std::string dump_source(const Program& p, const Source& s);
std::string dump(const Program& p);                                  // tables, sources, rules

}  // namespace braid::ir
