// braid_bench_fieldplan: the field plan of a rule set, and the simdjson ceiling generated from it.
//
// For the engine benchmark (bench/engine.sh). Compiles each rule set with the stdlib, as `braid run` does, and
// takes the slots of one source (default aws.cloudtrail): every field that source's clauses (recognize, time, id,
// identity, credential, ip, account, mints, links) and the set's rules read from its events. On a file of that
// source's records those are exactly the fields Braid must extract. (Braid's extractor takes the union of every
// source's fields; the route takes the first source whose `recognize` holds, and aws.cloudtrail comes first.)
//
//   braid_bench_fieldplan [--source NAME] --list NAME=PATH[,PATH...]...
//       prints, per set, the number of fields and their paths
//   braid_bench_fieldplan [--source NAME] --plan NAME=PATH[,PATH...]...
//       prints, per set, the source's match plan (ir/match_plan.h): its discriminator indexes, its prefilters
//       (with their literals) and the predicates evaluated on every event
//   braid_bench_fieldplan [--source NAME] -o FILE NAME=PATH[,PATH...]...
//       writes C++ (included by bench/ceiling.cpp): per set, one hand-written-style simdjson On-Demand walk that
//       reads exactly those paths and nothing else
//
// The generated walk, per object level: iterate the fields once, dispatch on the raw key (switch on its length,
// then compare), read a wanted leaf by its JSON type (string: get_string, unescaped; number, bool, null;
// object/array leaf: raw_json, as Braid keeps a `Json` value), descend into wanted objects and arrays (`[*]`,
// `[N]`), and stop iterating an object once every wanted key was seen. No validation of the rest of the record,
// no conversion (times, addresses), no copies. Every value is folded into a checksum so none is optimised away.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "ir/ir.h"
#include "ir/match_plan.h"

namespace {

using braid::ir::FieldPath;
using braid::ir::PathSeg;

struct Node {
  bool leaf = false;
  std::string path;                                 // the full path, for comments (leaf only)
  std::map<std::string, std::unique_ptr<Node>> fields;
  std::unique_ptr<Node> any;                        // [*]
  std::map<int64_t, std::unique_ptr<Node>> index;   // [N]
  bool container() const { return !fields.empty() || any || !index.empty(); }
};

void insert(Node& root, const FieldPath& p) {
  Node* n = &root;
  for (const PathSeg& s : p.segs) {
    std::unique_ptr<Node>* next = nullptr;
    switch (s.kind) {
      case PathSeg::Kind::Field: next = &n->fields[s.name]; break;
      case PathSeg::Kind::Any: next = &n->any; break;
      case PathSeg::Kind::Index: next = &n->index[s.index]; break;
    }
    if (!*next) *next = std::make_unique<Node>();
    n = next->get();
  }
  n->leaf = true;
  n->path = p.text;
}

std::string cxx_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A deep copy of `b` merged into `a` (for an array element wanted by both [*] and [N]: read it once, for both).
void merge(Node& a, const Node& b) {
  if (b.leaf) {
    a.leaf = true;
    a.path = b.path;
  }
  for (const auto& [k, child] : b.fields) {
    if (!a.fields[k]) a.fields[k] = std::make_unique<Node>();
    merge(*a.fields[k], *child);
  }
  if (b.any) {
    if (!a.any) a.any = std::make_unique<Node>();
    merge(*a.any, *b.any);
  }
  for (const auto& [i, child] : b.index) {
    if (!a.index[i]) a.index[i] = std::make_unique<Node>();
    merge(*a.index[i], *child);
  }
}

struct Emitter {
  std::ostringstream o;
  int tmp = 0;
  std::vector<std::unique_ptr<Node>> merged;  // nodes made by merge(), alive while emitting
  std::string ind(int d) { return std::string(static_cast<size_t>(2 * d), ' '); }
  std::string fresh(const char* base) { return base + std::to_string(tmp++); }

  // Emits code that consumes od::value `v` according to node `n`.
  void value(const Node& n, const std::string& v, int d) {
    if (!n.container()) {
      o << ind(d) << "leaf(" << v << ", s);  // " << n.path << "\n";
      return;
    }
    if (n.leaf) {
      // Both a leaf and a prefix: Braid keeps the raw JSON and also reads the paths below. The ceiling reads the
      // raw text (one skip), then walks the same bytes again with a second parser, as Braid's extractor does.
      std::string raw = fresh("raw"), sv = fresh("sub");
      o << ind(d) << "{  // " << n.path << " (also a prefix)\n";
      o << ind(d + 1) << "std::string_view " << raw << ";\n";
      o << ind(d + 1) << "od::value " << sv << ";\n";
      o << ind(d + 1) << "if (leaf_or_raw(" << v << ", " << raw << ", s) && s.push(" << raw << ", " << sv << ")) {\n";
      container(n, sv, d + 2);
      o << ind(d + 2) << "s.pop();\n";
      o << ind(d + 1) << "}\n";
      o << ind(d) << "}\n";
      return;
    }
    container(n, v, d);
  }

  void container(const Node& n, const std::string& v, int d) {
    const bool obj = !n.fields.empty(), arr = n.any || !n.index.empty();
    if (obj && arr) {
      // wanted as an object (a.b) and as an array (a[0], a[*]): the JSON decides
      std::string t = fresh("t");
      o << ind(d) << "od::json_type " << t << ";\n";
      o << ind(d) << "if (!" << v << ".type().get(" << t << ")) {\n";
      o << ind(d + 1) << "if (" << t << " == od::json_type::object) {\n";
      object(n, v, d + 2);
      o << ind(d + 1) << "} else if (" << t << " == od::json_type::array) {\n";
      array(n, v, d + 2);
      o << ind(d + 1) << "}\n";
      o << ind(d) << "}\n";
    } else if (obj) {
      object(n, v, d);
    } else {
      array(n, v, d);
    }
  }

  void object(const Node& n, const std::string& v, int d) {
    std::string obj = fresh("o"), fr = fresh("fr"), f = fresh("f"), k = fresh("k"), seen = fresh("seen");
    o << ind(d) << "od::object " << obj << ";\n";
    o << ind(d) << "if (!" << v << ".get_object().get(" << obj << ")) {\n";
    o << ind(d + 1) << "unsigned " << seen << " = 0;\n";
    o << ind(d + 1) << "for (auto " << fr << " : " << obj << ") {\n";
    o << ind(d + 2) << "od::field " << f << ";\n";
    o << ind(d + 2) << "if (std::move(" << fr << ").get(" << f << ")) return false;\n";
    o << ind(d + 2) << "const std::string_view " << k << " = raw_key(" << f << ");\n";
    // switch on the key's length, then compare
    std::map<size_t, std::vector<const std::pair<const std::string, std::unique_ptr<Node>>*>> by_len;
    for (const auto& kv : n.fields) by_len[kv.first.size()].push_back(&kv);
    o << ind(d + 2) << "switch (" << k << ".size()) {\n";
    for (const auto& [len, kvs] : by_len) {
      o << ind(d + 3) << "case " << len << ":\n";
      bool first = true;
      for (const auto* kv : kvs) {
        o << ind(d + 4) << (first ? "if" : "else if") << " (" << k << " == " << cxx_string(kv->first) << ") {\n";
        std::string fv = fresh("v");
        o << ind(d + 5) << "od::value " << fv << " = " << f << ".value();\n";
        value(*kv->second, fv, d + 5);
        o << ind(d + 5) << "++" << seen << ";\n";
        o << ind(d + 4) << "}\n";
        first = false;
      }
      o << ind(d + 4) << "break;\n";
    }
    o << ind(d + 3) << "default: break;\n";
    o << ind(d + 2) << "}\n";
    o << ind(d + 2) << "if (" << seen << " == " << n.fields.size() << ") break;  // every wanted key seen\n";
    o << ind(d + 1) << "}\n";
    o << ind(d) << "}\n";
  }

  void array(const Node& n, const std::string& v, int d) {
    std::string arr = fresh("a"), er = fresh("er"), ev = fresh("e"), i = fresh("i");
    int64_t max_index = n.index.empty() ? -1 : n.index.rbegin()->first;
    o << ind(d) << "od::array " << arr << ";\n";
    o << ind(d) << "if (!" << v << ".get_array().get(" << arr << ")) {\n";
    o << ind(d + 1) << "int64_t " << i << " = 0;\n";
    o << ind(d + 1) << "for (auto " << er << " : " << arr << ") {\n";
    if (!n.any) o << ind(d + 2) << "if (" << i << " > " << max_index << ") break;\n";
    o << ind(d + 2) << "od::value " << ev << ";\n";
    o << ind(d + 2) << "if (std::move(" << er << ").get(" << ev << ")) return false;\n";
    bool first = true;
    for (const auto& [idx, child] : n.index) {
      const Node* use = child.get();
      if (n.any) {  // wanted by [*] and [idx]: one walk of the union
        merged.push_back(std::make_unique<Node>());
        merge(*merged.back(), *n.any);
        merge(*merged.back(), *child);
        use = merged.back().get();
      }
      o << ind(d + 2) << (first ? "if" : "} else if") << " (" << i << " == " << idx << ") {\n";
      value(*use, ev, d + 3);
      first = false;
    }
    if (n.any) {
      if (!first) o << ind(d + 2) << "} else {\n";
      value(*n.any, ev, d + (first ? 2 : 3));
    }
    if (!first) o << ind(d + 2) << "}\n";
    o << ind(d + 2) << "++" << i << ";\n";
    o << ind(d + 1) << "}\n";
    o << ind(d) << "}\n";
  }
};

struct Set {
  std::string name;
  std::vector<std::string> paths;
  std::vector<FieldPath> fields;
  size_t rules = 0;
  size_t program_fields = 0;  // every source's fields: what Braid's extractor walks
  std::string plan;           // --plan: the source's match plan, as text
};

std::string describe_plan(const braid::ir::Program& p, uint32_t s) {
  braid::ir::MatchPlan mp = braid::ir::build_match_plan(p);
  const braid::ir::SourcePlan& sp = mp.sources[s];
  std::ostringstream o;
  auto pred = [&](uint32_t k) {
    const braid::ir::Predicate& pr = sp.predicates[k];
    const braid::ir::Rule& r = p.rules[pr.rule];
    return pr.step == braid::ir::kNone ? r.id : r.id + "/" + r.steps[pr.step].label;
  };
  o << "  " << sp.predicates.size() << " predicates: " << (sp.predicates.size() - sp.always.size() - sp.never.size() -
                                                           sp.prefiltered.size())
    << " indexed, " << sp.prefiltered.size() << " prefiltered, " << sp.always.size() << " always, "
    << sp.never.size() << " never\n";
  for (const auto& ix : sp.indexes) {
    size_t n = 0;
    for (const auto& v : ix.by_value) n += v.size();
    o << "  index " << p.fields[ix.field].text << ": " << ix.values.size() << " values, " << n << " entries\n";
  }
  for (const auto& pf : sp.prefilters) {
    o << "  prefilter " << p.fields[pf.field].text << ": " << pf.literals.size() << " literals\n";
    for (const auto& l : pf.literals) {
      o << "    \"" << l.text << "\"" << (l.nocase ? " nocase" : "") << ":";
      for (uint32_t k : l.predicates) o << " " << pred(k);
      o << "\n";
    }
  }
  for (uint32_t k : sp.always) o << "  always " << pred(k) << "\n";
  return o.str();
}

bool load(Set& set, const std::string& source) {
  std::unique_ptr<braid::Compilation> c = braid::compile(set.paths);
  if (c->input_error || c->diags.error_count() != 0 || !c->program) {
    std::cerr << "fieldplan: the rule set " << set.name << " does not check (see `braid check`)\n";
    return false;
  }
  const braid::ir::Program& p = *c->program;
  const braid::ir::Source* src = p.find_source(source);
  if (!src) {
    std::cerr << "fieldplan: no source " << source << "\n";
    return false;
  }
  // A zipped field (any() over several paths of one element) reads its anchor's path, which has a slot of its own.
  for (const auto& slot : src->slots)
    if (!p.fields[slot.field].is_zip()) set.fields.push_back(p.fields[slot.field]);
  set.rules = c->rules().size();
  set.program_fields = p.fields.size();
  set.plan = describe_plan(p, static_cast<uint32_t>(src - p.sources.data()));
  return true;
}

std::string emit(const std::vector<Set>& sets, const std::string& source) {
  std::ostringstream out;
  out << "// Generated by braid_bench_fieldplan (bench/fieldplan.cpp) for the engine benchmark: do not edit.\n";
  out << "// Per rule set: a simdjson On-Demand walk of exactly the fields source " << source
      << " reads for it.\n\n";
  for (const Set& s : sets) {
    Node root;
    for (const FieldPath& f : s.fields) insert(root, f);
    Emitter e;
    e.container(root, "root", 1);  // the root is an object
    out << "// " << s.name << ": " << s.fields.size() << " fields (" << s.rules << " rules; the program has "
        << s.program_fields << " fields over every source)\n";
    for (const FieldPath& f : s.fields) out << "//   " << f.text << "\n";
    out << "static bool walk_" << s.name << "(od::value root, Sink& s) {\n" << e.o.str() << "  return true;\n}\n\n";
  }
  out << "static const Walk kWalks[] = {\n";
  for (const Set& s : sets) {
    out << "  {" << cxx_string(s.name) << ", walk_" << s.name << ", " << s.fields.size() << ", "
        << s.program_fields << ", {";
    for (size_t i = 0; i < s.fields.size(); ++i) out << (i ? ", " : "") << cxx_string(s.fields[i].text);
    out << "}},\n";
  }
  out << "};\n";
  return out.str();
}

int usage() {
  std::cerr << "usage: braid_bench_fieldplan [--source NAME] (--list | --plan | -o FILE) NAME=PATH[,PATH...]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string source = "aws.cloudtrail", out_path;
  bool list = false, plan = false;
  std::vector<Set> sets;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--source" && i + 1 < argc) source = argv[++i];
    else if (a == "-o" && i + 1 < argc) out_path = argv[++i];
    else if (a == "--list") list = true;
    else if (a == "--plan") plan = true;
    else if (a.find('=') != std::string::npos && a[0] != '-') {
      Set s;
      s.name = a.substr(0, a.find('='));
      std::string rest = a.substr(a.find('=') + 1);
      for (size_t pos = 0; pos <= rest.size();) {
        size_t comma = rest.find(',', pos);
        if (comma == std::string::npos) comma = rest.size();
        if (comma > pos) s.paths.push_back(rest.substr(pos, comma - pos));
        pos = comma + 1;
      }
      sets.push_back(std::move(s));
    } else {
      return usage();
    }
  }
  if (sets.empty() || (!list && !plan && out_path.empty())) return usage();
  for (Set& s : sets)
    if (!load(s, source)) return 1;
  if (plan) {
    for (const Set& s : sets) std::cout << s.name << ": the match plan of " << source << "\n" << s.plan;
    return 0;
  }
  if (list) {
    for (const Set& s : sets) {
      std::cout << s.name << ": " << s.fields.size() << " fields of " << source << " (" << s.rules
                << " rules; " << s.program_fields << " fields over every source)\n";
      for (const FieldPath& f : s.fields) std::cout << "  " << f.text << "\n";
    }
    return 0;
  }
  std::string text = emit(sets, source);
  // Rewrite only when the content changed, so the ceiling is not rebuilt needlessly.
  std::ifstream old(out_path, std::ios::binary);
  std::stringstream ss;
  ss << old.rdbuf();
  if (old && ss.str() == text) return 0;
  std::ofstream os(out_path, std::ios::binary);
  os << text;
  return os ? 0 : 1;
}
