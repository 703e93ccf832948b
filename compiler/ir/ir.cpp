#include "ir/ir.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <sstream>

namespace braid::ir {

// ---------------------------------------------------------------------------------------------------------------
// Names

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::Error: return "<error>";
    case Kind::Null: return "null";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::Time: return "time";
    case Kind::Duration: return "duration";
    case Kind::Ip: return "ip";
    case Kind::Cidr: return "cidr";
    case Kind::List: return "list";
    case Kind::Object: return "object";
  }
  return "?";
}

std::string type_name(Type t) {
  if (t.kind == Kind::List) return "list<" + std::string(kind_name(t.elem)) + ">";
  return std::string(kind_name(t.kind));
}

std::string_view op_name(Op op) {
  return static_cast<size_t>(op) < kOpCount ? op_info(op).name : std::string_view("?");
}

std::string_view attribute_name(Attribute a) {
  switch (a) {
    case Attribute::SessionId: return "session.id";
    case Attribute::SessionIdentity: return "session.identity";
    case Attribute::SessionCredential: return "session.credential";
    case Attribute::SessionStart: return "session.start";
    case Attribute::SessionEnd: return "session.end";
    case Attribute::SessionDuration: return "session.duration";
    case Attribute::SessionEvents: return "session.events";
    case Attribute::SessionSourceIps: return "session.source_ips";
    case Attribute::ChainDepth: return "chain.depth";
    case Attribute::ChainRootIdentity: return "chain.root.identity";
    case Attribute::ChainRootCredential: return "chain.root.credential";
    case Attribute::ChainRootStart: return "chain.root.start";
    case Attribute::ChainIdentities: return "chain.identities";
    case Attribute::ChainAccounts: return "chain.accounts";
  }
  return "?";
}

Type attribute_type(Attribute a) {
  switch (a) {
    case Attribute::SessionId:
    case Attribute::SessionIdentity:
    case Attribute::SessionCredential:
    case Attribute::ChainRootIdentity:
    case Attribute::ChainRootCredential: return Type::of(Kind::String);
    case Attribute::SessionStart:
    case Attribute::SessionEnd:
    case Attribute::ChainRootStart: return Type::of(Kind::Time);
    case Attribute::SessionDuration: return Type::of(Kind::Duration);
    case Attribute::SessionEvents:
    case Attribute::SessionSourceIps:
    case Attribute::ChainDepth:
    case Attribute::ChainIdentities:
    case Attribute::ChainAccounts: return Type::of(Kind::Int);
  }
  return Type::of(Kind::Error);
}

std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::Event: return "event";
    case Scope::Session: return "session";
    case Scope::Chain: return "chain";
    case Scope::Group: return "group";
  }
  return "?";
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::Info: return "info";
    case Severity::Low: return "low";
    case Severity::Medium: return "medium";
    case Severity::High: return "high";
    case Severity::Critical: return "critical";
  }
  return "?";
}

std::string_view agg_kind_name(AggKind k) {
  auto i = static_cast<size_t>(k);
  return i < kAggKindCount ? kAggKinds[i].name : std::string_view("?");
}

std::optional<AggKind> agg_kind_from_name(std::string_view name) {
  for (const AggKindInfo& a : kAggKinds)
    if (a.name == name) return a.kind;
  return std::nullopt;
}

std::string_view firing_name(Firing f) {
  switch (f) {
    case Firing::Immediate: return "immediate";
    case Firing::Monotone: return "monotone";
    case Firing::AtClose: return "at-close";
  }
  return "?";
}

double Node::float_value() const { return std::bit_cast<double>(imm); }

bool FieldPath::has_any() const {
  return std::any_of(segs.begin(), segs.end(), [](const PathSeg& s) { return s.kind == PathSeg::Kind::Any; });
}

bool Sequence::has_absence() const {
  return std::any_of(items.begin(), items.end(), [](const SeqItem& i) { return i.absent; });
}

// ---------------------------------------------------------------------------------------------------------------
// Lookup and builders

const Source* Program::find_source(std::string_view name) const {
  for (const auto& s : sources)
    if (s.name == name) return &s;
  return nullptr;
}

uint32_t Program::source_index(std::string_view name) const {
  for (size_t i = 0; i < sources.size(); ++i)
    if (sources[i].name == name) return static_cast<uint32_t>(i);
  return kNone;
}

const Rule* Program::find_rule(std::string_view id) const {
  for (const auto& r : rules)
    if (r.id == id) return &r;
  return nullptr;
}

const ListInfo* Program::find_list(std::string_view name) const {
  for (const auto& l : lists)
    if (l.name == name) return &l;
  return nullptr;
}

const MacroInfo* Program::find_macro(std::string_view name) const {
  for (const auto& m : macros)
    if (m.name == name) return &m;
  return nullptr;
}

NodeId Program::add_node(Node n, std::span<const NodeId> ops_in) {
  n.ops_begin = static_cast<uint32_t>(operands.size());
  n.ops_count = static_cast<uint32_t>(ops_in.size());
  operands.insert(operands.end(), ops_in.begin(), ops_in.end());
  nodes.push_back(n);
  return static_cast<NodeId>(nodes.size() - 1);
}

StrId Program::intern_string(std::string_view s) {
  auto it = string_index_.find(s);
  if (it != string_index_.end()) return it->second;
  auto id = static_cast<StrId>(strings.size());
  strings.emplace_back(s);
  string_index_.emplace(std::string(s), id);
  return id;
}

namespace {

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string set_key(const ConstSet& s) {
  std::string k;
  k += static_cast<char>(s.elem);
  k += s.nocase ? '~' : '=';
  for (const auto& v : s.strings) k += std::to_string(v.size()) + ":" + v;
  for (auto v : s.ints) k += "i" + std::to_string(v);
  for (auto v : s.floats) k += "f" + std::to_string(std::bit_cast<uint64_t>(v));
  return k;
}

}  // namespace

SetId Program::intern_set(ConstSet s) {
  sort_unique(s.strings);
  sort_unique(s.ints);
  sort_unique(s.floats);
  std::string key = set_key(s);
  if (auto it = set_index_.find(key); it != set_index_.end()) return it->second;
  sets.push_back(std::move(s));
  auto id = static_cast<SetId>(sets.size() - 1);
  set_index_.emplace(std::move(key), id);
  return id;
}

RegexId Program::intern_regex(std::string_view pattern, bool nocase) {
  std::string key = (nocase ? "i:" : "c:") + std::string(pattern);
  if (auto it = regex_index_.find(key); it != regex_index_.end()) return it->second;
  regexes.push_back(Regex{std::string(pattern), nocase});
  auto id = static_cast<RegexId>(regexes.size() - 1);
  regex_index_.emplace(std::move(key), id);
  return id;
}

CidrSetId Program::intern_cidr_set(CidrSet s) {
  auto key = [](const Cidr& c) {
    return std::tuple(c.v6, std::string(reinterpret_cast<const char*>(c.addr), 16), c.prefix);
  };
  std::sort(s.cidrs.begin(), s.cidrs.end(), [&](const Cidr& a, const Cidr& b) { return key(a) < key(b); });
  s.cidrs.erase(std::unique(s.cidrs.begin(), s.cidrs.end(),
                            [&](const Cidr& a, const Cidr& b) { return key(a) == key(b); }),
                s.cidrs.end());
  for (size_t i = 0; i < cidr_sets.size(); ++i) {
    const auto& o = cidr_sets[i].cidrs;
    if (o.size() == s.cidrs.size() &&
        std::equal(o.begin(), o.end(), s.cidrs.begin(), [&](const Cidr& a, const Cidr& b) { return key(a) == key(b); }))
      return static_cast<CidrSetId>(i);
  }
  cidr_sets.push_back(std::move(s));
  return static_cast<CidrSetId>(cidr_sets.size() - 1);
}

namespace {

bool plain_ident(std::string_view s) {
  if (s.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string path_text(const std::vector<PathSeg>& segs) {
  std::string out;
  for (const auto& s : segs) {
    switch (s.kind) {
      case PathSeg::Kind::Field:
        if (!out.empty()) out += '.';
        if (plain_ident(s.name)) {
          out += s.name;
        } else {
          out += '"';
          for (char c : s.name) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
          }
          out += '"';
        }
        break;
      case PathSeg::Kind::Index: out += "[" + std::to_string(s.index) + "]"; break;
      case PathSeg::Kind::Any: out += "[*]"; break;
    }
  }
  return out;
}

}  // namespace

FieldId Program::intern_field(const std::vector<PathSeg>& segs) {
  std::string text = path_text(segs);
  auto it = field_index_.find(text);
  if (it != field_index_.end()) return it->second;
  auto id = static_cast<FieldId>(fields.size());
  fields.push_back(FieldPath{segs, text, UINT32_MAX, UINT32_MAX, {}});
  field_index_.emplace(text, id);
  return id;
}

FieldId Program::intern_json_field(FieldId base, std::string_view type, const std::vector<PathSeg>& segs) {
  std::string text = "json(" + fields[base].text + (type.empty() ? "" : ", " + std::string(type)) + ")";
  std::string rel = path_text(segs);
  if (!rel.empty()) text += (segs.front().kind == PathSeg::Kind::Field ? "." : "") + rel;
  auto it = field_index_.find(text);
  if (it != field_index_.end()) return it->second;
  auto id = static_cast<FieldId>(fields.size());
  fields.push_back(FieldPath{segs, text, base, UINT32_MAX, {}});
  field_index_.emplace(text, id);
  return id;
}

FieldId Program::intern_sibling_field(FieldId like, const std::vector<PathSeg>& segs) {
  const FieldPath& f = fields[like];
  if (!f.in_json()) return intern_field(segs);
  // The document's part of the text: "json(base, type)" before the relative path.
  std::string rel = path_text(f.segs);
  size_t cut = f.text.size() - rel.size();
  if (!f.segs.empty() && f.segs.front().kind == PathSeg::Kind::Field) --cut;  // the '.' before the path
  std::string head = f.text.substr(0, cut);
  std::string text = head;
  std::string srel = path_text(segs);
  if (!srel.empty()) text += (segs.front().kind == PathSeg::Kind::Field ? "." : "") + srel;
  auto it = field_index_.find(text);
  if (it != field_index_.end()) return it->second;
  auto id = static_cast<FieldId>(fields.size());
  fields.push_back(FieldPath{segs, text, f.json_base, UINT32_MAX, {}});
  field_index_.emplace(text, id);
  return id;
}

FieldId Program::intern_zip_field(FieldId anchor, const std::vector<FieldId>& members) {
  std::string text = "zip(" + fields[anchor].text + ":";
  for (size_t i = 0; i < members.size(); ++i) text += (i ? ", " : " ") + fields[members[i]].text;
  text += ")";
  auto it = field_index_.find(text);
  if (it != field_index_.end()) return it->second;
  auto id = static_cast<FieldId>(fields.size());
  FieldPath f;
  f.text = text;
  f.zip_anchor = anchor;
  f.zip = members;
  fields.push_back(std::move(f));
  field_index_.emplace(text, id);
  return id;
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses

std::optional<std::string> canonical_ip(std::string_view text) {
  std::string s(text);
  char buf[INET6_ADDRSTRLEN];
  unsigned char raw[16];
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), raw) != 1) return std::nullopt;
    if (!inet_ntop(AF_INET, raw, buf, sizeof buf)) return std::nullopt;
  } else {
    if (inet_pton(AF_INET6, s.c_str(), raw) != 1) return std::nullopt;
    if (!inet_ntop(AF_INET6, raw, buf, sizeof buf)) return std::nullopt;
  }
  return std::string(buf);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  Cidr c;
  std::string addr(text);
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = std::string(text.substr(0, slash));
    auto p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    prefix = 0;
    for (char ch : p) {
      if (ch < '0' || ch > '9') return std::nullopt;
      prefix = prefix * 10 + (ch - '0');
    }
  }
  c.v6 = addr.find(':') != std::string::npos;
  if (inet_pton(c.v6 ? AF_INET6 : AF_INET, addr.c_str(), c.addr) != 1) return std::nullopt;
  int max = c.v6 ? 128 : 32;
  if (prefix < 0) prefix = max;
  if (prefix > max) return std::nullopt;
  c.prefix = static_cast<uint8_t>(prefix);
  int bytes = c.v6 ? 16 : 4;
  for (int i = 0; i < bytes; ++i) {
    int bits = prefix - i * 8;
    if (bits >= 8) continue;
    if (bits <= 0) {
      c.addr[i] = 0;
    } else {
      c.addr[i] = static_cast<uint8_t>(c.addr[i] & (0xFF << (8 - bits)));
    }
  }
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(c.v6 ? AF_INET6 : AF_INET, c.addr, buf, sizeof buf)) return std::nullopt;
  c.text = std::string(buf) + "/" + std::to_string(prefix);
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Dumps

namespace {

// Not the JSON escaper (text/json_write.h) on purpose: checkpoints digest this text (runtime/engine/checkpoint.cpp),
// so changing it would make restarts see unchanged rules as changed.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

std::string fmt_float(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

std::string dump_set(const Program& p, SetId id) {
  const auto& s = p.sets[id];
  std::string out = "#" + std::to_string(id) + (s.nocase ? "~[" : "[");
  bool first = true;
  auto sep = [&] {
    if (!first) out += ", ";
    first = false;
  };
  for (const auto& v : s.strings) sep(), out += quote(v);
  for (auto v : s.ints) sep(), out += std::to_string(v);
  for (auto v : s.floats) sep(), out += fmt_float(v);
  return out + "]";
}

void dump_node(const Program& p, NodeId id, std::string& out) {
  if (id == kNoNode) {
    out += "<none>";
    return;
  }
  const Node& n = p.nodes[id];
  switch (n.op) {
    case Op::Null: out += "null"; return;
    case Op::Bool: out += n.imm ? "true" : "false"; return;
    case Op::Int: out += std::to_string(n.imm); return;
    case Op::Float: out += fmt_float(n.float_value()); return;
    case Op::String: out += quote(p.strings[static_cast<size_t>(n.imm)]); return;
    case Op::Duration: out += std::to_string(n.imm) + "ns"; return;
    case Op::Set: out += "(set " + dump_set(p, static_cast<SetId>(n.imm)) + ")"; return;
    case Op::Field: out += "$" + p.fields[static_cast<size_t>(n.imm)].text; return;
    case Op::Attr: out += std::string(attribute_name(static_cast<Attribute>(n.imm))); return;
    case Op::Agg: out += "@" + std::to_string(n.imm); return;
    case Op::Elem: out += "%" + std::to_string(n.imm); return;
    case Op::Seq: out += "(seq " + std::to_string(n.imm) + ")"; return;
    case Op::Not: case Op::And: case Op::Or: case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
    case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod: case Op::ToFloat:
    case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches: case Op::ContainsAny:
    case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet: case Op::InCidr: case Op::Exists:
    case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce: case Op::Replace: case Op::AnyElem:
    case Op::Concat: case Op::ListAt:
      break;
  }
  out += "(";
  out += op_name(n.op);
  if (n.has(kFlagNoCase)) out += "~";
  if (n.has(kFlagCased)) out += "-cased";
  switch (n.op) {
    case Op::Matches:
    case Op::Replace: {
      const auto& r = p.regexes[static_cast<size_t>(n.imm)];
      out += " /" + r.pattern + (r.nocase ? "/i" : "/");
      break;
    }
    case Op::ContainsAny:
    case Op::StartsWithAny:
    case Op::EndsWithAny:
    case Op::LikeAny:
    case Op::InSet: out += " " + dump_set(p, static_cast<SetId>(n.imm)); break;
    case Op::InCidr: {
      out += " #" + std::to_string(n.imm) + "[";
      const auto& cs = p.cidr_sets[static_cast<size_t>(n.imm)].cidrs;
      for (size_t i = 0; i < cs.size(); ++i) out += (i ? ", " : "") + cs[i].text;
      out += "]";
      break;
    }
    case Op::AnyElem: out += " %" + std::to_string(n.imm); break;
    case Op::ListAt: out += " " + std::to_string(n.imm); break;
    case Op::Null: case Op::Bool: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set:
    case Op::Field: case Op::Attr: case Op::Agg: case Op::Elem: case Op::Not: case Op::And: case Op::Or: case Op::Eq:
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul:
    case Op::Div: case Op::Mod: case Op::ToFloat: case Op::Contains: case Op::StartsWith: case Op::EndsWith:
    case Op::Like: case Op::Exists: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce: case Op::Seq:
    case Op::Concat:
      break;
  }
  for (NodeId o : p.ops(n)) {
    out += " ";
    dump_node(p, o, out);
  }
  out += ")";
}

void dump_schema(const SchemaType& t, std::string& out) {
  switch (t.shape) {
    case SchemaType::Shape::Scalar: out += kind_name(t.scalar); break;
    case SchemaType::Shape::Object: out += "object"; break;
    case SchemaType::Shape::List:
      out += "[";
      if (t.elem) dump_schema(*t.elem, out);
      out += "]";
      break;
    case SchemaType::Shape::Record: {
      out += "{";
      bool first = true;
      for (const auto& f : t.fields) {
        out += first ? " " : ", ";
        first = false;
        out += f.name + (f.optional ? "?: " : ": ");
        dump_schema(f.type, out);
        if (f.nocase) out += " nocase";
      }
      if (t.open) out += first ? " ..." : ", ...";
      out += " }";
      break;
    }
  }
}

std::string ns_text(int64_t ns) { return std::to_string(ns) + "ns"; }

}  // namespace

std::string dump_expr(const Program& p, NodeId id) {
  std::string out;
  dump_node(p, id, out);
  return out;
}

std::string dump_source(const Program& p, const Source& s) {
  std::string out = "source " + s.name + "\n";
  auto clause = [&](const char* name, NodeId id) {
    if (id != kNoNode) out += std::string("  ") + name + " " + dump_expr(p, id) + "\n";
  };
  clause("recognize", s.recognize);
  clause("time", s.time);
  clause("id", s.id);
  clause("identity", s.identity);
  clause("credential", s.credential);
  clause("ip", s.ip);
  clause("account", s.account);
  out += "  session gap " + ns_text(s.session_gap) + " max " + ns_text(s.session_max) + "\n";
  if (s.lateness) out += "  lateness " + ns_text(s.lateness) + "\n";
  for (const auto& m : s.mints)
    out += "  mints " + dump_expr(p, m.credential) + (m.when != kNoNode ? " when " + dump_expr(p, m.when) : "") + "\n";
  for (const auto& l : s.links) {
    out += "  link " + (l.target != kNone ? p.sources[l.target].name : std::string("<error>")) + " within " +
           ns_text(l.within) + "\n";
    out += "    parent when " + dump_expr(p, l.parent_when) + " key " + dump_expr(p, l.parent_key) + "\n";
    out += "    child when " + dump_expr(p, l.child_when) + " key " + dump_expr(p, l.child_key) + "\n";
  }
  out += "  fields ";
  dump_schema(s.schema, out);
  out += "\n";
  for (size_t i = 0; i < s.slots.size(); ++i) {
    const auto& sl = s.slots[i];
    out += "  slot " + std::to_string(i) + " $" + p.fields[sl.field].text + " : " + type_name(sl.type);
    if (sl.optional) out += " optional";
    if (sl.nocase) out += " nocase";
    out += "\n";
  }
  return out;
}

std::string dump_rule(const Program& p, const Rule& r) {
  std::string out = "rule " + r.id + " [" + std::string(scope_name(r.scope)) + ", " +
                    std::string(firing_name(r.firing)) + (r.meta.enabled ? "" : ", disabled") + "]\n";
  out += "  title " + quote(r.meta.title) + "\n";
  out += "  severity";
  for (const auto& a : r.severity_arms)
    out += " " + std::string(severity_name(a.level)) + " when " + dump_expr(p, a.when) + ",";
  out += (r.severity_arms.empty() ? " " : " else ") + std::string(severity_name(r.meta.severity)) + "\n";
  if (!r.meta.attack.empty()) {
    out += "  attack";
    for (const auto& a : r.meta.attack) out += " " + a;
    out += "\n";
  }
  out += "  source";
  for (auto s : r.sources) out += " " + p.sources[s].name;
  out += "\n";
  if (r.group) {
    out += "  group by";
    for (size_t i = 0; i < r.group->keys.size(); ++i) {
      out += std::string(i ? ", " : " ") + quote(i < r.group->key_text.size() ? r.group->key_text[i] : "") + " = " +
             dump_expr(p, r.group->keys[i]);
    }
    out += " gap " + ns_text(r.group->gap) + " max " + ns_text(r.group->max) + "\n";
  }
  for (size_t i = 0; i < r.steps.size(); ++i)
    out += "  step " + std::to_string(i) + " " + r.steps[i].label + " = " + dump_expr(p, r.steps[i].pred) + "\n";
  for (size_t i = 0; i < r.aggregates.size(); ++i) {
    const auto& a = r.aggregates[i];
    out += "  agg @" + std::to_string(i) + " " + std::string(agg_kind_name(a.kind)) + "(" +
           (a.step != kNone ? r.steps[a.step].label : std::string("?"));
    if (a.value != kNoNode) out += ", " + dump_expr(p, a.value);
    out += ") : " + type_name(a.type) + "\n";
  }
  for (size_t i = 0; i < r.sequences.size(); ++i) {
    const auto& s = r.sequences[i];
    out += "  seq " + std::to_string(i) + " ";
    for (size_t j = 0; j < s.items.size(); ++j) {
      if (j) out += " -> ";
      if (s.items[j].absent) out += "not ";
      out += s.items[j].step != kNone ? r.steps[s.items[j].step].label : std::string("?");
    }
    out += s.within ? " within " + ns_text(*s.within) : std::string(" unbounded");
    out += "\n";
  }
  out += "  when " + dump_expr(p, r.condition) + "\n";
  out += "  message";
  for (const auto& m : r.message) out += " " + (m.expr == kNoNode ? quote(m.literal) : "{" + dump_expr(p, m.expr) + "}");
  out += "\n";
  if (r.suppress) {
    out += "  suppress " + ns_text(r.suppress->window);
    for (size_t i = 0; i < r.suppress->keys.size(); ++i)
      out += (i ? ", " : " by ") + dump_expr(p, r.suppress->keys[i]);
    out += "\n";
  }
  for (const auto& t : r.tests) {
    out += "  test " + quote(t.name);
    for (const auto& e : t.events) out += e.file.empty() ? " events " + e.json : " events file " + quote(e.file);
    switch (t.expect) {
      case TestCase::Expect::Unspecified: break;
      case TestCase::Expect::None: out += " expect none"; break;
      case TestCase::Expect::Count: out += " expect " + std::to_string(t.count); break;
      case TestCase::Expect::Alerts: out += " expect " + t.alerts_json; break;
    }
    out += "\n";
  }
  return out;
}

std::string dump(const Program& p) {
  std::string out;
  for (size_t i = 0; i < p.fields.size(); ++i) out += "field " + std::to_string(i) + " $" + p.fields[i].text + "\n";
  for (size_t i = 0; i < p.sets.size(); ++i)
    out += "set " + dump_set(p, static_cast<SetId>(i)) + " : " + std::string(kind_name(p.sets[i].elem)) + "\n";
  for (size_t i = 0; i < p.regexes.size(); ++i)
    out += "regex " + std::to_string(i) + " /" + p.regexes[i].pattern + (p.regexes[i].nocase ? "/i" : "/") + "\n";
  for (size_t i = 0; i < p.cidr_sets.size(); ++i) {
    out += "cidrs " + std::to_string(i) + " [";
    for (size_t j = 0; j < p.cidr_sets[i].cidrs.size(); ++j) out += (j ? ", " : "") + p.cidr_sets[i].cidrs[j].text;
    out += "]\n";
  }
  for (const auto& l : p.lists) out += "list " + l.name + (l.used ? "" : " (unused)") + "\n";
  for (const auto& m : p.macros) out += "macro " + m.name + (m.used ? "" : " (unused)") + "\n";
  for (const auto& s : p.sources) out += dump_source(p, s);
  for (const auto& r : p.rules) out += dump_rule(p, r);
  return out;
}

}  // namespace braid::ir
