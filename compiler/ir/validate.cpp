#include "ir/validate.h"

#include <algorithm>
#include <vector>

namespace braid::ir {
namespace {

struct Invalid {
  std::string what;
};

class Validator {
 public:
  explicit Validator(const Program& p) : p_(p) {}

  void run() {
    for (size_t i = 0; i < p_.nodes.size(); ++i) node(static_cast<NodeId>(i));
    for (size_t i = 0; i < p_.sets.size(); ++i) {
      const ConstSet& s = p_.sets[i];
      int used = !s.strings.empty() + !s.ints.empty() + !s.floats.empty();
      if (used > 1) bad("set " + std::to_string(i) + " uses more than one value vector");
    }
    for (size_t i = 0; i < p_.cidr_sets.size(); ++i) {
      for (const Cidr& c : p_.cidr_sets[i].cidrs) {
        if (c.prefix > (c.v6 ? 128 : 32))
          bad("cidr set " + std::to_string(i) + " has a prefix of " + std::to_string(c.prefix));
      }
    }
    for (size_t i = 0; i < p_.fields.size(); ++i) zip(i);
    for (size_t i = 0; i < p_.sources.size(); ++i)
      source(p_.sources[i], "source " + std::to_string(i) + " (" + p_.sources[i].name + ")");
    for (size_t i = 0; i < p_.rules.size(); ++i)
      rule(p_.rules[i], "rule " + std::to_string(i) + " (" + p_.rules[i].id + ")");
  }

 private:
  [[noreturn]] static void bad(std::string what) { throw Invalid{std::move(what)}; }

  // A zipped field (FieldPath::zip): an earlier anchor whose path ends in [*], earlier members whose paths (or
  // whose anchors' paths) extend it in the same document. The preparer's ZipReader relies on all of it.
  void zip(size_t i) const {
    const FieldPath& f = p_.fields[i];
    std::string where = "field " + std::to_string(i) + " (" + f.text + ")";
    if (!f.is_zip()) {
      if (!f.zip.empty()) bad(where + " has zip members but no anchor");
      return;
    }
    auto anchor_ok = [&](FieldId a) {
      return a < i && !p_.fields[a].is_zip() && !p_.fields[a].segs.empty() &&
             p_.fields[a].segs.back().kind == PathSeg::Kind::Any;
    };
    if (!anchor_ok(f.zip_anchor) || !f.segs.empty() || f.in_json() || f.zip.empty())
      bad(where + " is a malformed zipped field");
    const FieldPath& a = p_.fields[f.zip_anchor];
    for (FieldId m : f.zip) {
      if (m >= i) bad(where + " has a zip member " + std::to_string(m) + " that is not an earlier field");
      const FieldPath& mf = p_.fields[m];
      const FieldPath& path = mf.is_zip() ? p_.fields[mf.zip_anchor] : mf;
      bool prefix = path.json_base == a.json_base && path.segs.size() >= a.segs.size() &&
                    std::equal(a.segs.begin(), a.segs.end(), path.segs.begin());
      if (!prefix || (mf.is_zip() && path.segs.size() == a.segs.size()))
        bad(where + " has a zip member " + std::to_string(m) + " outside its anchor's elements");
    }
  }

  void ref(NodeId id, const std::string& where, bool optional = true) const {
    if (id == kNoNode && optional) return;
    if (id >= p_.nodes.size())
      bad(where + " refers to node " + std::to_string(id) + " of " + std::to_string(p_.nodes.size()));
  }
  static void in_table(int64_t imm, size_t size, const std::string& where, const char* table) {
    if (imm < 0 || static_cast<uint64_t>(imm) >= size)
      bad(where + " refers to " + table + " " + std::to_string(imm) + " of " + std::to_string(size));
  }

  void node(NodeId id) const {
    const Node& n = p_.nodes[id];
    if (static_cast<size_t>(n.op) >= kOpCount) bad("node " + std::to_string(id) + " has an invalid op");
    std::string where = "node " + std::to_string(id) + " (" + std::string(op_name(n.op)) + ")";
    if (static_cast<uint64_t>(n.ops_begin) + n.ops_count > p_.operands.size()) bad(where + ": operands out of range");
    const OpInfo& info = op_info(n.op);
    if (n.ops_count < info.min_ops || n.ops_count > info.max_ops)
      bad(where + ": " + std::to_string(n.ops_count) + " operands");
    for (uint32_t i = 0; i < n.ops_count; ++i) {
      NodeId o = p_.operands[n.ops_begin + i];
      // Operands precede their users in the arena (the checker builds bottom up): no cycles, bounded depth.
      if (o >= id) bad(where + ": operand " + std::to_string(o) + " does not precede it");
    }
    switch (info.imm) {
      case ImmKind::None:
      case ImmKind::Int:
      case ImmKind::FloatBits: break;
      case ImmKind::Bool:
        if (n.imm != 0 && n.imm != 1) bad(where + ": a boolean of " + std::to_string(n.imm));
        break;
      case ImmKind::Str: in_table(n.imm, p_.strings.size(), where, "string"); break;
      case ImmKind::Set: in_table(n.imm, p_.sets.size(), where, "set"); break;
      case ImmKind::Field: in_table(n.imm, p_.fields.size(), where, "field"); break;
      case ImmKind::Attribute:
        if (n.imm < 0 || n.imm > UINT8_MAX || !is_valid(static_cast<Attribute>(n.imm)))
          bad(where + ": no attribute " + std::to_string(n.imm));
        break;
      case ImmKind::Regex: in_table(n.imm, p_.regexes.size(), where, "regex"); break;
      case ImmKind::CidrSet: in_table(n.imm, p_.cidr_sets.size(), where, "cidr set"); break;
      case ImmKind::Binding: in_table(n.imm, kMaxBinding, where, "binding"); break;
      case ImmKind::Agg:
      case ImmKind::Seq:  // checked per rule, against that rule's tables
        in_table(n.imm, UINT32_MAX, where, "index");
        break;
    }
    Kind fixed = Kind::Error;
    switch (info.result) {
      case ResultRule::Bool: fixed = Kind::Bool; break;
      case ResultRule::Int: fixed = Kind::Int; break;
      case ResultRule::Float: fixed = Kind::Float; break;
      case ResultRule::String: fixed = Kind::String; break;
      case ResultRule::Literal:
      case ResultRule::Declared:
      case ResultRule::Arithmetic:
      case ResultRule::Common:
      case ResultRule::Element: break;  // typing: the checker's job
    }
    if (fixed != Kind::Error && n.type.kind != fixed)
      bad(where + ": its type is " + type_name(n.type) + ", not " + std::string(kind_name(fixed)));
  }

  void source(const Source& s, const std::string& where) const {
    for (NodeId id : {s.recognize, s.time, s.id, s.identity, s.credential, s.ip, s.account}) ref(id, where);
    for (const Mint& m : s.mints) {
      ref(m.credential, where + " mint", false);
      ref(m.when, where + " mint");
    }
    for (const Link& l : s.links) {
      if (l.target >= p_.sources.size()) bad(where + " links to source " + std::to_string(l.target));
      for (NodeId id : {l.parent_when, l.parent_key, l.child_when, l.child_key}) ref(id, where + " link");
    }
    for (const Slot& sl : s.slots) {
      if (sl.field >= p_.fields.size()) bad(where + " has a slot for field " + std::to_string(sl.field));
      // A path into a JSON string: its base is an event path this source reads (the preparer parses it).
      FieldId base = p_.fields[sl.field].json_base;
      if (base != kNone && (base >= p_.fields.size() || p_.fields[base].in_json() || s.slot_of(base) == kNone))
        bad(where + " reads field " + std::to_string(sl.field) + " from an invalid JSON base field");
    }
    // One slot per field, each indexed by its field (as the checker builds them): the engine converts an event's
    // slots from the fields it has, by this index.
    if (s.slot_index.size() != s.slots.size())
      bad(where + " has " + std::to_string(s.slots.size()) + " slots but " + std::to_string(s.slot_index.size()) +
          " slot index entries (one slot per field)");
    for (const auto& [field, index] : s.slot_index) {
      if (field >= p_.fields.size() || index >= s.slots.size() || s.slots[index].field != field)
        bad(where + " has an invalid slot index entry");
    }
  }

  void rule(const Rule& r, const std::string& where) const {
    for (uint32_t s : r.sources) {
      if (s >= p_.sources.size()) bad(where + " reads source " + std::to_string(s));
    }
    std::vector<NodeId> roots;
    auto root = [&](NodeId id, const std::string& what, bool optional) {
      ref(id, where + " " + what, optional);
      if (id != kNoNode) roots.push_back(id);
    };
    for (const Step& s : r.steps) root(s.pred, "step", true);
    // A group rule has its `group by` (keys, a positive gap, max >= gap); no other rule has one.
    if ((r.scope == Scope::Group) != r.group.has_value())
      bad(where + (r.group ? " has a `group by` but is not a group rule" : " is a group rule without `group by`"));
    if (r.group) {
      const GroupBy& g = *r.group;
      if (g.keys.empty() || g.keys.size() != g.key_text.size())
        bad(where + " has " + std::to_string(g.keys.size()) + " group keys and " + std::to_string(g.key_text.size()) +
            " key texts");
      if (g.gap <= 0 || g.max < g.gap) bad(where + " has an invalid group window");
      for (NodeId k : g.keys) root(k, "group key", false);
    }
    root(r.condition, "condition", true);
    for (const Aggregate& a : r.aggregates) {
      if (a.step != kNone && a.step >= r.steps.size()) bad(where + " aggregates step " + std::to_string(a.step));
      if (a.field != kNone && a.field >= p_.fields.size()) bad(where + " aggregates field " + std::to_string(a.field));
      root(a.value, "aggregate", true);
    }
    for (const Sequence& s : r.sequences) {
      for (const SeqItem& it : s.items) {
        if (it.step >= r.steps.size()) bad(where + " sequences step " + std::to_string(it.step));
      }
    }
    for (const MessagePart& m : r.message) root(m.expr, "message", true);
    if (r.suppress) {
      for (NodeId k : r.suppress->keys) root(k, "suppress key", false);
    }
    for (const SeverityArm& a : r.severity_arms) root(a.when, "severity condition", false);
    // Agg and Seq nodes index the tables of the rule that reads them.
    std::vector<bool> seen(p_.nodes.size());
    while (!roots.empty()) {
      NodeId id = roots.back();
      roots.pop_back();
      if (seen[id]) continue;
      seen[id] = true;
      const Node& n = p_.nodes[id];
      ImmKind k = op_info(n.op).imm;
      size_t size = k == ImmKind::Agg ? r.aggregates.size() : r.sequences.size();
      if ((k == ImmKind::Agg || k == ImmKind::Seq) && static_cast<uint64_t>(n.imm) >= size)  // imm >= 0: node()
        in_table(n.imm, size, where + ": node " + std::to_string(id) + " (" + std::string(op_name(n.op)) + ")",
                 k == ImmKind::Agg ? "aggregate" : "sequence");
      for (uint32_t i = 0; i < n.ops_count; ++i) roots.push_back(p_.operands[n.ops_begin + i]);
    }
  }

  const Program& p_;
};

}  // namespace

bool is_valid(Op op) { return static_cast<size_t>(op) < kOpCount; }
bool is_valid(Kind k) { return kind_name(k) != "?"; }
bool is_valid(Attribute a) { return attribute_name(a) != "?"; }
bool is_valid(Scope s) { return scope_name(s) != "?"; }
bool is_valid(Severity s) { return severity_name(s) != "?"; }
bool is_valid(AggKind k) { return static_cast<size_t>(k) < kAggKindCount; }
bool is_valid(Firing f) { return firing_name(f) != "?"; }
bool is_valid(PathSeg::Kind k) {
  switch (k) {
    case PathSeg::Kind::Field:
    case PathSeg::Kind::Index:
    case PathSeg::Kind::Any: return true;
  }
  return false;
}
bool is_valid(SchemaType::Shape s) {
  switch (s) {
    case SchemaType::Shape::Scalar:
    case SchemaType::Shape::List:
    case SchemaType::Shape::Record:
    case SchemaType::Shape::Object: return true;
  }
  return false;
}
bool is_valid(TestCase::Expect e) {
  switch (e) {
    case TestCase::Expect::Unspecified:
    case TestCase::Expect::None:
    case TestCase::Expect::Count:
    case TestCase::Expect::Alerts: return true;
  }
  return false;
}

std::string validate(const Program& p) {
  try {
    Validator(p).run();
  } catch (const Invalid& e) {
    return e.what;
  }
  return "";
}

}  // namespace braid::ir
