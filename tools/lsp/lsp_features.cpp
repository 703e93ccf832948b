// Completion, hover, go to definition, references and symbols: all read the compiler's ASTs (and the checker's
// names), kept up to date by the Workspace.
#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <variant>

#include "check/checker.h"
#include "diag/codes.h"
#include "lsp_ast.h"
#include "lsp_server.h"

namespace braid::lsp {

namespace {

// LSP CompletionItemKind and SymbolKind values.
enum CompletionKind { kText = 1, kFunction = 3, kField = 5, kVariable = 6, kClass = 7, kModule = 9, kProperty = 10,
                      kValue = 12, kEnum = 13, kKeyword = 14, kConstant = 21, kStruct = 22, kEvent = 23 };
enum SymbolKind { kSymClass = 5, kSymMethod = 6, kSymField = 8, kSymFunction = 12, kSymVariable = 13,
                  kSymArray = 18, kSymEvent = 24 };

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

bool contains(const Span& s, uint32_t off) {
  return s.valid() && s.begin <= off && off <= s.end;
}

struct Sym {
  Document* doc;
  const ast::Decl* decl;
};

// Every declaration of the workspace and the stdlib, by name.
std::multimap<std::string, Sym> symbol_index(Workspace& ws) {
  std::multimap<std::string, Sym> out;
  for (const auto& d : ws.docs()) {
    for (const ast::Decl& decl : d->ast.decls) out.emplace(decl_name(decl).text, Sym{d.get(), &decl});
  }
  return out;
}

const Sym* find_sym(const std::multimap<std::string, Sym>& idx, const std::string& name, bool rules_too = false) {
  auto [b, e] = idx.equal_range(name);
  for (auto it = b; it != e; ++it) {
    if (rules_too || !std::holds_alternative<ast::RuleDecl>(*it->second.decl)) return &it->second;
  }
  return nullptr;
}

// The comment lines right above `pos` (own-line comments, no blank line between), without their markers.
std::string doc_comment(const Workspace& ws, const Document& d, uint32_t pos) {
  const std::string& text = ws.text(d);
  std::vector<std::string> lines;
  uint32_t next = pos;
  for (auto it = d.ast.comments.rbegin(); it != d.ast.comments.rend(); ++it) {
    if (it->span.end > next) continue;
    std::string_view between(text.data() + it->span.end, next - it->span.end);
    if (between.find_first_not_of(" \t\r\n") != std::string_view::npos) break;
    if (std::count(between.begin(), between.end(), '\n') > 1 || !it->own_line) break;
    std::string c = it->text;
    if (c.rfind("//", 0) == 0) {
      c = c.substr(2);
    } else if (c.rfind("/*", 0) == 0 && c.size() >= 4) {
      c = c.substr(2, c.size() - 4);
    }
    if (!c.empty() && c[0] == ' ') c.erase(0, 1);
    if (c.find_first_not_of("-=") == std::string::npos && !c.empty()) break;  // a separator line
    lines.push_back(c);
    next = it->span.begin;
  }
  std::string out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) out += (out.empty() ? "" : "\n") + *it;
  return out;
}

std::string type_text(const ast::TypeExpr* t) {
  if (!t) return "?";
  switch (t->kind) {
    case ast::TypeExpr::Kind::Named: return t->name.text;
    case ast::TypeExpr::Kind::List: return "[" + type_text(t->elem.get()) + "]";
    case ast::TypeExpr::Kind::Record: {
      std::string s = "{ ";
      for (size_t i = 0; i < t->fields.size() && i < 4; ++i) s += (i ? ", " : "") + t->fields[i].name;
      if (t->fields.size() > 4 || t->open) s += t->fields.empty() ? "..." : ", ...";
      return s + " }";
    }
  }
  return "?";
}

std::string field_type_text(const ast::FieldDecl& f) {
  return type_text(f.type.get()) + (f.nocase ? " nocase" : "") + (f.optional ? " (optional)" : "");
}

// The record a path can descend into: a record, or a list of records.
const ast::TypeExpr* record_of(const ast::TypeExpr* t) {
  while (t && t->kind == ast::TypeExpr::Kind::List) t = t->elem.get();
  return t && t->kind == ast::TypeExpr::Kind::Record ? t : nullptr;
}

struct FieldHit {
  const Document* doc;
  const ast::FieldDecl* field;
};

// The members of `path` (field names) in the schemas of `sources`; `path` empty: the top-level fields.
std::vector<FieldHit> members(const std::multimap<std::string, Sym>& idx, const std::vector<std::string>& sources,
                              const std::vector<std::string>& path) {
  std::vector<FieldHit> out;
  std::set<std::string> seen;
  for (const std::string& src : sources) {
    const Sym* s = find_sym(idx, src);
    if (!s) continue;
    const auto* sd = std::get_if<ast::SourceDecl>(s->decl);
    if (!sd || !sd->fields) continue;
    const ast::TypeExpr* rec = &sd->fields->record;
    for (const std::string& seg : path) {
      const ast::TypeExpr* next = nullptr;
      for (const ast::FieldDecl& f : rec->fields) {
        if (f.name == seg) next = record_of(f.type.get());
      }
      rec = next;
      if (!rec) break;
    }
    if (!rec) continue;
    for (const ast::FieldDecl& f : rec->fields) {
      if (seen.insert(f.name).second) out.push_back({s->doc, &f});
    }
  }
  return out;
}

// The field `path` names in the schemas of `sources`.
std::optional<FieldHit> field_at(const std::multimap<std::string, Sym>& idx, const std::vector<std::string>& sources,
                                 std::vector<std::string> path) {
  if (path.empty()) return std::nullopt;
  std::string last = path.back();
  path.pop_back();
  for (const FieldHit& h : members(idx, sources, path)) {
    if (h.field->name == last) return h;
  }
  return std::nullopt;
}

std::vector<std::string> split(const std::string& dotted) {
  std::vector<std::string> out;
  size_t b = 0;
  for (;;) {
    size_t e = dotted.find('.', b);
    out.push_back(dotted.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

// Where the cursor is: the declaration around it, the sources whose fields apply there, and the step labels.
struct Context {
  const ast::Decl* decl = nullptr;
  std::vector<std::string> sources;
  std::vector<const ast::Step*> steps;
  std::vector<std::string> step_names;
  bool in_rule = false;
  bool in_scope_block = false;
  bool in_group = false;  // a `group by` rule: no session or chain attributes
  bool in_test = false;
};

Context context_at(const Workspace& ws, const Document& d, uint32_t off) {
  Context c;
  for (const ast::Decl& decl : d.ast.decls) {
    if (contains(decl_span(decl), off)) c.decl = &decl;
  }
  if (c.decl) {
    if (const auto* r = std::get_if<ast::RuleDecl>(c.decl)) {
      c.in_rule = true;
      if (r->sources) {
        for (const ast::Name& n : r->sources->value) c.sources.push_back(n.text);
      }
      if (r->scope_block) {
        c.in_scope_block = contains(r->scope_block->span, off);
        c.in_group = r->scope_block->scope == ast::Scope::Group;
        for (const ast::Step& s : r->scope_block->steps) {
          c.steps.push_back(&s);
          c.step_names.push_back(s.label.text);
        }
      }
      for (const ast::TestCase& t : r->tests) {
        if (contains(t.span, off)) c.in_test = true;
      }
    } else if (const auto* s = std::get_if<ast::SourceDecl>(c.decl)) {
      c.sources.push_back(s->name.text);
    }
    if (!c.sources.empty() || !c.in_rule) return c;
  }
  // The rule did not parse (it is being typed): read its `source` and `step` lines from the text.
  const std::string& text = ws.text(d);
  size_t start = 0;
  for (size_t p = off < text.size() ? off : text.size(); p > 0; --p) {
    if ((p == 1 || text[p - 2] == '\n') && text.compare(p - 1, 5, "rule ") == 0) {
      start = p - 1;
      break;
    }
  }
  if (start == 0 && text.compare(0, 5, "rule ") != 0) return c;
  c.in_rule = true;
  size_t end = text.find("\nrule ", start + 1);
  if (end == std::string::npos) end = text.size();
  for (size_t ls = start; ls < end;) {
    size_t le = text.find('\n', ls);
    if (le == std::string::npos || le > end) le = end;
    std::string_view line(text.data() + ls, le - ls);
    size_t i = line.find_first_not_of(" \t");
    if (i != std::string_view::npos) {
      line = line.substr(i);
      if (line.rfind("source ", 0) == 0 && c.sources.empty()) {
        std::string names(line.substr(7));
        std::string cur;
        for (char ch : names + ",") {
          if (ch == ',' || ch == ' ' || ch == '/') {
            if (!cur.empty()) c.sources.push_back(cur);
            cur.clear();
            if (ch == '/') break;
          } else {
            cur += ch;
          }
        }
      } else if (line.rfind("step ", 0) == 0) {
        std::string_view rest = line.substr(5);
        size_t n = 0;
        while (n < rest.size() && is_word(rest[n])) ++n;
        if (n) c.step_names.emplace_back(rest.substr(0, n));
      } else if ((line.rfind("session {", 0) == 0 || line.rfind("chain {", 0) == 0) && ls < off) {
        c.in_scope_block = true;
      } else if (line.rfind("group by ", 0) == 0 && ls < off) {
        c.in_scope_block = true;
        c.in_group = true;
      }
    }
    ls = le + 1;
  }
  return c;
}

uint32_t offset_of(const Workspace& ws, const Document& d, const json& params) {
  const json& p = params.at("position");
  LineIndex idx(ws.text(d));
  return idx.offset(Position{p.at("line").get<uint32_t>(), p.at("character").get<uint32_t>()});
}

std::string first_paragraph(std::string_view text) {
  size_t e = text.find("\n\n");
  std::string s(text.substr(0, e));
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

const char* const kExprKeywords[] = {"and", "or", "not", "in", "is", "null", "true", "false", "contains",
                                     "startswith", "endswith", "like", "matches", "any", "cidr", "within"};
const char* const kRuleClauses[] = {"title", "description", "severity", "attack", "tags", "author", "references",
                                    "false_positives", "enabled", "source", "message", "suppress", "when", "session",
                                    "chain", "group", "test", "org_data"};
const char* const kSourceClauses[] = {"recognize", "time", "id", "identity", "credential", "ip", "account",
                                      "session", "lateness", "mints", "link", "fields"};
const char* const kTopKeywords[] = {"rule", "source", "list", "macro", "type", "tune", "override"};
const char* const kTactics[] = {"TA0001", "TA0002", "TA0003", "TA0004", "TA0005", "TA0006", "TA0007",
                                "TA0008", "TA0009", "TA0010", "TA0011", "TA0040", "TA0042", "TA0043"};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Completion

json Server::completion(const json& params) {
  Document& d = document(params);
  uint32_t off = offset_of(*ws_, d, params);
  const std::string& text = ws_->text(d);
  auto idx = symbol_index(*ws_);
  Context ctx = context_at(*ws_, d, off);

  // The dotted word being typed, and the text of its line before it.
  uint32_t b = off;
  while (b > 0 && (is_word(text[b - 1]) || text[b - 1] == '.')) --b;
  std::string word = text.substr(b, off - b);
  uint32_t line_start = b;
  while (line_start > 0 && text[line_start - 1] != '\n') --line_start;
  std::string before = text.substr(line_start, b - line_start);
  while (!before.empty() && (before.back() == ' ' || before.back() == '\t')) before.pop_back();
  size_t lead = before.find_first_not_of(" \t");
  before = lead == std::string::npos ? std::string() : before.substr(lead);
  size_t dot = word.rfind('.');
  std::string prefix = dot == std::string::npos ? std::string() : word.substr(0, dot);
  uint32_t replace_from = dot == std::string::npos ? b : b + static_cast<uint32_t>(dot) + 1;

  LineIndex li(text);
  Position rs = li.position(replace_from), re = li.position(off);
  json edit_range = {{"start", {{"line", rs.line}, {"character", rs.character}}},
                     {"end", {{"line", re.line}, {"character", re.character}}}};
  json items = json::array();
  std::set<std::string> seen;
  auto add = [&](const std::string& label, int kind, const std::string& detail, const std::string& doc,
                 const std::string& sort) {
    if (label.empty() || !seen.insert(label).second) return;
    json it = {{"label", label}, {"kind", kind}, {"sortText", sort + label},
               {"textEdit", {{"range", edit_range}, {"newText", label}}}};
    if (!detail.empty()) it["detail"] = detail;
    if (!doc.empty()) it["documentation"] = {{"kind", "markdown"}, {"value", doc}};
    items.push_back(std::move(it));
  };
  auto add_globals = [&](const std::string& pfx, bool lists, bool macros, bool sources) {
    for (const auto& [name, sym] : idx) {
      const ast::Decl& decl = *sym.decl;
      bool want = (lists && std::holds_alternative<ast::ListDecl>(decl)) ||
                  (macros && std::holds_alternative<ast::MacroDecl>(decl)) ||
                  (sources && std::holds_alternative<ast::SourceDecl>(decl));
      if (!want) continue;
      if (!pfx.empty() && name.rfind(pfx + ".", 0) != 0) continue;
      std::string label = pfx.empty() ? name : name.substr(pfx.size() + 1);
      int kind = std::holds_alternative<ast::ListDecl>(decl) ? kConstant
                 : std::holds_alternative<ast::MacroDecl>(decl) ? kFunction : kModule;
      add(label, kind, decl_kind(decl),
          doc_comment(*ws_, *sym.doc, decl_span(decl).begin), std::holds_alternative<ast::SourceDecl>(decl) ? "3" : "2");
    }
  };
  auto add_fields = [&](const std::vector<std::string>& path) {
    for (const FieldHit& h : members(idx, ctx.sources, path)) {
      add(h.field->name, kField, field_type_text(*h.field), doc_comment(*ws_, *h.doc, h.field->span.begin), "0");
    }
  };

  // Clause values.
  if (ctx.in_test && prefix.empty() && (before == "expect" || before == "events")) {
    add(before == "expect" ? "none" : "file", kKeyword, "", "", "0");
    return json{{"isIncomplete", false}, {"items", items}};
  }
  if ((before == "severity" || before == "else") && prefix.empty()) {  // `else` exists only in a computed severity
    for (std::string_view s : severity_names()) add(std::string(s), kEnum, "severity", "", "0");
    return json{{"isIncomplete", false}, {"items", items}};
  }
  if (before.rfind("attack", 0) == 0 && (before.size() == 6 || before[6] == ' ' || before.back() == ',')) {
    std::set<std::string> ids(std::begin(kTactics), std::end(kTactics));
    for (const auto& doc : ws_->docs()) {
      for (const ast::Decl& decl : doc->ast.decls) {
        if (const auto* r = std::get_if<ast::RuleDecl>(&decl); r && r->attack) {
          for (const ast::AttackId& a : r->attack->value) ids.insert(a.text);
        }
      }
    }
    for (const std::string& id : ids) {
      if (prefix.empty()) add(id, kValue, "ATT&CK", "", "0");
    }
    if (!prefix.empty()) {  // T1098.<sub-technique>
      for (const std::string& id : ids) {
        if (id.rfind(prefix + ".", 0) == 0) add(id.substr(prefix.size() + 1), kValue, "ATT&CK " + id, "", "0");
      }
    }
    return json{{"isIncomplete", false}, {"items", items}};
  }
  if ((before == "source" || (before.rfind("source ", 0) == 0 && before.back() == ',')) && ctx.in_rule) {
    add_globals(prefix, false, false, true);
    return json{{"isIncomplete", false}, {"items", items}};
  }
  if (before.size() >= 2 && (before.ends_with(" in") || before.ends_with(" in~") || before.ends_with(" any") ||
                             before.ends_with(" cidr"))) {
    add_globals(prefix, true, false, false);
    return json{{"isIncomplete", false}, {"items", items}};
  }

  if (!prefix.empty()) {
    std::vector<std::string> path = split(prefix);
    if (path[0] == "session" || path[0] == "chain") {
      for (std::string_view a : attribute_names()) {
        std::string s(a);
        if (s.rfind(prefix + ".", 0) != 0) continue;
        std::string rest = s.substr(prefix.size() + 1);
        add(rest.substr(0, rest.find('.')), kProperty, rest.find('.') == std::string::npos ? "attribute" : "",
            "", "0");
      }
    }
    if (std::find(ctx.step_names.begin(), ctx.step_names.end(), path[0]) != ctx.step_names.end()) {
      path.erase(path.begin());
    }
    add_fields(path);
    add_globals(prefix, true, true, true);
    return json{{"isIncomplete", false}, {"items", items}};
  }

  // The start of a name: fields, steps, attributes' heads, functions, lists and macros, keywords.
  add_fields({});
  for (const std::string& s : ctx.step_names) add(s, kVariable, "step", "", "1");
  if (ctx.in_rule) {
    if (!ctx.in_group) add("session", kStruct, "session attributes", "", "4");
    if (ctx.in_scope_block && !ctx.in_group) add("chain", kStruct, "chain attributes", "", "4");
    for (std::string_view f : function_names()) {
      std::string_view sig = function_signature(f);  // a builtin's; an aggregate has none
      add(std::string(f), kFunction, sig.empty() ? "aggregate" : std::string(sig), "", "4");
    }
  }
  add_globals("", true, true, false);
  for (const char* k : kExprKeywords) add(k, kKeyword, "", "", "5");
  bool clause_start = before.empty();
  if (clause_start) {
    if (!ctx.decl && !ctx.in_rule) {
      for (const char* k : kTopKeywords) add(k, kKeyword, "", "", "6");
    } else if (ctx.in_test) {
      add("events", kKeyword, "test clause", "", "6");
      add("expect", kKeyword, "test clause", "", "6");
    } else if (ctx.in_rule && !ctx.in_scope_block) {
      for (const char* k : kRuleClauses) add(k, kKeyword, "rule clause", "", "6");
    } else if (ctx.in_scope_block) {
      add("step", kKeyword, "", "", "6");
      add("when", kKeyword, "", "", "6");
    } else if (ctx.decl && std::holds_alternative<ast::SourceDecl>(*ctx.decl)) {
      for (const char* k : kSourceClauses) add(k, kKeyword, "source clause", "", "6");
    }
  }
  return json{{"isIncomplete", false}, {"items", items}};
}

// ---------------------------------------------------------------------------------------------------------------
// What the cursor is on: shared by hover, definition and references.

namespace {

struct Target {
  enum class Kind { None, Global, Step, Field, Attribute } kind = Kind::None;
  std::string name;           // Global: the declared name; Step: the label; Field: the dotted path; Attribute
  Span span;                  // the reference under the cursor
  const Sym* sym = nullptr;   // Global
  const ast::Step* step = nullptr;
  std::optional<FieldHit> field;
};

Target target_at(const Workspace& ws, Document& d, uint32_t off, const std::multimap<std::string, Sym>& idx) {
  Target t;
  Context ctx = context_at(ws, d, off);
  // On a declaration's own name.
  for (const ast::Decl& decl : d.ast.decls) {
    const ast::Name& n = decl_name(decl);
    if (contains(n.span, off)) {
      auto [b, e] = idx.equal_range(n.text);
      for (auto it = b; it != e; ++it) {
        if (it->second.decl == &decl) t.sym = &it->second;
      }
      t.kind = Target::Kind::Global;
      t.name = n.text;
      t.span = n.span;
      return t;
    }
  }
  if (!ctx.decl) return t;
  // On a field's name in a source's schema.
  if (const auto* src = std::get_if<ast::SourceDecl>(ctx.decl); src && src->fields) {
    std::function<bool(const ast::TypeExpr*, const std::string&)> find = [&](const ast::TypeExpr* rec,
                                                                              const std::string& path) {
      rec = record_of(rec);
      if (!rec) return false;
      for (const ast::FieldDecl& f : rec->fields) {
        std::string name = path.empty() ? f.name : path + "." + f.name;
        uint32_t len = static_cast<uint32_t>(f.name.size() + (f.quoted ? 2 : 0));
        if (f.span.valid() && f.span.begin <= off && off <= f.span.begin + len) {
          t.kind = Target::Kind::Field, t.name = name, t.span = Span{f.span.file, f.span.begin, f.span.begin + len};
          t.field = FieldHit{&d, &f};
          return true;
        }
        if (contains(f.span, off) && find(f.type.get(), name)) return true;
      }
      return false;
    };
    if (find(&src->fields->record, "")) return t;
  }
  for (const ast::Step* s : ctx.steps) {
    if (contains(s->label.span, off)) {
      t.kind = Target::Kind::Step, t.name = s->label.text, t.span = s->label.span, t.step = s;
      return t;
    }
  }
  // The shortest reference that reaches the cursor: on `b` of `a.b.c`, that is `a.b`.
  std::vector<NameRef> refs = name_refs(*ctx.decl);
  const NameRef* best = nullptr;
  for (const NameRef& r : refs) {
    if (!contains(r.span, off)) continue;
    if (!best || r.span.end < best->span.end || (r.span.end == best->span.end && r.span.begin > best->span.begin)) {
      best = &r;
    }
  }
  if (!best) return t;
  // A declared name wins over fields: on `aws` of `aws.recon_prefixes`, the list.
  for (const NameRef& r : refs) {
    if (!contains(r.span, off) || r.step) continue;
    if (const Sym* s = find_sym(idx, r.name)) {
      t.kind = Target::Kind::Global, t.name = r.name, t.sym = s, t.span = r.span;
      return t;
    }
  }
  t.span = best->span;
  std::vector<std::string> path = split(best->name);
  for (const ast::Step* s : ctx.steps) {
    if (s->label.text == path[0]) {
      if (path.size() == 1) {
        t.kind = Target::Kind::Step, t.name = path[0], t.step = s;
        return t;
      }
      path.erase(path.begin());
      break;
    }
  }
  for (std::string_view a : attribute_names()) {
    if (a == best->name) {
      t.kind = Target::Kind::Attribute, t.name = best->name;
      return t;
    }
  }
  if (auto f = field_at(idx, ctx.sources, path)) {
    t.kind = Target::Kind::Field, t.name = best->name, t.field = f;
  }
  return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Hover

json Server::hover(const json& params) {
  Document& d = document(params);
  if (ws_->pending()) idle(*out_);  // diagnostics of the current text
  uint32_t off = offset_of(*ws_, d, params);
  auto idx = symbol_index(*ws_);
  Target t = target_at(*ws_, d, off, idx);
  std::string md;
  Span span = t.span;
  const std::string fence = "```braid\n";
  switch (t.kind) {
    case Target::Kind::Global: {
      if (!t.sym) break;
      const ast::Decl& decl = *t.sym->decl;
      std::string comment = doc_comment(*ws_, *t.sym->doc, decl_span(decl).begin);
      std::string_view body = ws_->sm().slice(decl_span(decl));
      if (const auto* r = std::get_if<ast::RuleDecl>(&decl)) {
        md = "**rule** `" + r->name.text + "`";
        if (r->title) md += ": " + r->title->value.value;
        md += "\n\n";
        if (r->severity && !r->severity->computed) md += "- severity: " + r->severity->value.text + "\n";
        if (r->severity && r->severity->computed) {
          md += "- severity: computed:";
          for (const ast::SeverityArm& a : r->severity->arms)
            if (a.when) md += " " + a.level.text + ",";
          md += " else " + r->severity->value.text + "\n";
        }
        md += "- scope: ";
        switch (r->scope()) {
          case ast::Scope::Event: md += "event\n"; break;
          case ast::Scope::Session: md += "session\n"; break;
          case ast::Scope::Chain: md += "chain\n"; break;
          case ast::Scope::Group: {
            md += "group by";
            const auto& g = r->scope_block->group;
            for (size_t i = 0; g && i < g->keys.size(); ++i)
              if (g->keys[i]) md += std::string(i ? ", " : " ") + "`" + std::string(ws_->sm().slice(g->keys[i]->span)) + "`";
            md += "\n";
            break;
          }
        }
        if (r->sources) {
          md += "- source:";
          for (const ast::Name& n : r->sources->value) md += " `" + n.text + "`";
          md += "\n";
        }
        if (r->attack) {
          md += "- attack:";
          for (const ast::AttackId& a : r->attack->value) md += " " + a.text;
          md += "\n";
        }
        if (r->description) md += "\n" + r->description->value.value + "\n";
      } else if (const auto* s = std::get_if<ast::SourceDecl>(&decl)) {
        md = "**source** `" + s->name.text + "`";
        if (s->fields) md += " (" + std::to_string(s->fields->record.fields.size()) + " fields)";
        if (!comment.empty()) md += "\n\n" + comment;
      } else {
        // Lists and macros: the declaration as written (a long list is cut).
        std::string shown(body.substr(0, 1500));
        if (body.size() > 1500) shown += "\n  ...";
        md = fence + shown + "\n```";
        if (!comment.empty()) md += "\n\n" + comment;
      }
      break;
    }
    case Target::Kind::Step:
      if (t.step) md = "**step** `" + t.name + "`\n\n" + fence + std::string(ws_->sm().slice(t.step->span)) + "\n```";
      break;
    case Target::Kind::Field: {
      const ast::FieldDecl& f = *t.field->field;
      md = "**field** `" + t.name + "`: `" + field_type_text(*t.field->field) + "`";
      std::string comment = doc_comment(*ws_, *t.field->doc, f.span.begin);
      if (!comment.empty()) md += "\n\n" + comment;
      break;
    }
    case Target::Kind::Attribute:
      md = "**attribute** `" + t.name + "`";
      break;
    case Target::Kind::None: break;
  }
  // A diagnostic under the cursor: its code's title and short explanation.
  for (const Diagnostic& diag : d.diags) {
    if (diag.code == Code::BRD0000 || !contains(diag.span, off)) continue;
    const CodeInfo& info = code_info(diag.code);
    std::string s = "**" + std::string(info.id) + "** (" + std::string(info.slug) + "): " + std::string(info.title) +
                    "\n\n" + first_paragraph(info.text) + "\n\n`braid explain " + std::string(info.id) + "`";
    md = md.empty() ? s : md + "\n\n---\n\n" + s;
    if (!span.valid()) span = diag.span;
  }
  if (md.empty()) return nullptr;
  json h = {{"contents", {{"kind", "markdown"}, {"value", md}}}};
  if (span.valid()) h["range"] = range(span);
  return h;
}

// ---------------------------------------------------------------------------------------------------------------
// Definition and references

json Server::definition(const json& params) {
  Document& d = document(params);
  uint32_t off = offset_of(*ws_, d, params);
  auto idx = symbol_index(*ws_);
  Target t = target_at(*ws_, d, off, idx);
  switch (t.kind) {
    case Target::Kind::Global:
      if (t.sym) return location(decl_name(*t.sym->decl).span);
      break;
    case Target::Kind::Step:
      if (t.step) return location(t.step->label.span);
      break;
    case Target::Kind::Field:
      return location(t.field->field->span);
    default: break;
  }
  return nullptr;
}

json Server::references(const json& params) {
  Document& d = document(params);
  uint32_t off = offset_of(*ws_, d, params);
  auto idx = symbol_index(*ws_);
  Target t = target_at(*ws_, d, off, idx);
  bool with_decl = params.contains("context") && params["context"].value("includeDeclaration", false);
  json out = json::array();
  if (t.kind == Target::Kind::Global && t.sym) {
    if (with_decl) out.push_back(location(decl_name(*t.sym->decl).span));
    for (const auto& doc : ws_->docs()) {
      if (!doc->refs.count(t.name)) continue;
      for (const ast::Decl& decl : doc->ast.decls) {
        for (const NameRef& r : name_refs(decl)) {
          if (r.name == t.name && !r.step) out.push_back(location(r.span));
        }
      }
    }
  } else if (t.kind == Target::Kind::Field && t.field) {
    // Every path, in every rule and source of the workspace and the stdlib, that reads this very field.
    if (with_decl) out.push_back(location(Span{t.field->field->span.file, t.field->field->span.begin,
                                               t.field->field->span.begin +
                                                   static_cast<uint32_t>(t.field->field->name.size())}));
    for (const auto& doc : ws_->docs()) {
      for (const ast::Decl& decl : doc->ast.decls) {
        std::vector<std::string> sources;
        std::set<std::string> steps;
        if (const auto* r = std::get_if<ast::RuleDecl>(&decl)) {
          if (r->sources) {
            for (const ast::Name& n : r->sources->value) sources.push_back(n.text);
          }
          if (r->scope_block) {
            for (const ast::Step& st : r->scope_block->steps) steps.insert(st.label.text);
          }
        } else if (const auto* src = std::get_if<ast::SourceDecl>(&decl)) {
          sources.push_back(src->name.text);
        }
        if (sources.empty()) continue;
        for (const NameRef& r : name_refs(decl)) {
          if (r.step) continue;
          std::vector<std::string> path = split(r.name);
          if (steps.count(path[0])) path.erase(path.begin());
          if (path.empty() || path.back() != t.field->field->name) continue;
          std::optional<FieldHit> hit = field_at(idx, sources, path);
          if (hit && hit->field == t.field->field) out.push_back(location(r.span));
        }
      }
    }
  } else if (t.kind == Target::Kind::Step && t.step) {
    Context ctx = context_at(*ws_, d, off);
    if (with_decl) out.push_back(location(t.step->label.span));
    if (ctx.decl) {
      for (const NameRef& r : name_refs(*ctx.decl)) {
        if (r.name == t.name) out.push_back(location(Span{r.span.file, r.span.begin,
                                                          r.span.begin + static_cast<uint32_t>(t.name.size())}));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Symbols

json Server::document_symbols(const json& params) {
  Document& d = document(params);
  json out = json::array();
  for (const ast::Decl& decl : d.ast.decls) {
    const ast::Name& n = decl_name(decl);
    if (n.text.empty()) continue;
    int kind = std::holds_alternative<ast::SourceDecl>(decl)  ? kSymClass
               : std::holds_alternative<ast::ListDecl>(decl)  ? kSymArray
               : std::holds_alternative<ast::MacroDecl>(decl) ? kSymFunction
                                                              : kSymEvent;
    json sym = {{"name", n.text}, {"detail", decl_kind(decl)}, {"kind", kind}, {"range", range(decl_span(decl))},
                {"selectionRange", range(n.span)}};
    json children = json::array();
    if (const auto* r = std::get_if<ast::RuleDecl>(&decl)) {
      if (r->title) sym["detail"] = r->title->value.value;
      if (r->scope_block) {
        for (const ast::Step& s : r->scope_block->steps) {
          children.push_back({{"name", s.label.text}, {"detail", "step"}, {"kind", kSymVariable},
                              {"range", range(s.span)}, {"selectionRange", range(s.label.span)}});
        }
      }
      for (const ast::TestCase& tc : r->tests) {
        children.push_back({{"name", "test " + tc.name.value}, {"kind", kSymMethod}, {"range", range(tc.span)},
                            {"selectionRange", range(tc.name.span)}});
      }
    } else if (const auto* s = std::get_if<ast::SourceDecl>(&decl); s && s->fields) {
      for (const ast::FieldDecl& f : s->fields->record.fields) {
        children.push_back({{"name", f.name}, {"detail", field_type_text(f)}, {"kind", kSymField},
                            {"range", range(f.span)}, {"selectionRange", range(f.span)}});
      }
    }
    if (!children.empty()) sym["children"] = children;
    out.push_back(std::move(sym));
  }
  return out;
}

json Server::workspace_symbols(const json& params) {
  std::string query = params.value("query", std::string());
  for (char& c : query) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  json out = json::array();
  for (const auto& d : ws_->docs()) {
    for (const ast::Decl& decl : d->ast.decls) {
      std::string name = decl_name(decl).text, low = name;
      for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name.empty() || low.find(query) == std::string::npos) continue;
      int kind = std::holds_alternative<ast::SourceDecl>(decl)  ? kSymClass
                 : std::holds_alternative<ast::ListDecl>(decl)  ? kSymArray
                 : std::holds_alternative<ast::MacroDecl>(decl) ? kSymFunction
                                                                : kSymEvent;
      out.push_back({{"name", name}, {"kind", kind}, {"containerName", decl_kind(decl)},
                     {"location", location(decl_name(decl).span)}});
      if (out.size() >= 500) return out;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Semantic tokens: what each name in an expression is, as the checker would resolve it (lists, macros, sources,
// steps, attributes, fields), for editors that colour by meaning.

namespace {

enum TokenType { kTokType, kTokVariable, kTokFunction, kTokParameter, kTokProperty, kTokEnumMember, kTokEvent };
enum TokenMod { kModDeclaration = 1, kModReadonly = 2, kModDefaultLibrary = 4 };

struct Tok {
  uint32_t begin, end;
  int type, mods;
};

int global_type(const ast::Decl& d) {
  switch (d.index()) {
    case 0: return kTokType;
    case 1: return kTokVariable;
    case 2: return kTokFunction;
    default: return kTokEvent;
  }
}

void field_decl_tokens(const ast::TypeExpr* t, std::vector<Tok>& out) {
  if (!t) return;
  if (t->kind == ast::TypeExpr::Kind::List) return field_decl_tokens(t->elem.get(), out);
  if (t->kind != ast::TypeExpr::Kind::Record) return;
  for (const ast::FieldDecl& f : t->fields) {
    uint32_t len = static_cast<uint32_t>(f.name.size() + (f.quoted ? 2 : 0));
    out.push_back({f.span.begin, f.span.begin + len, kTokProperty, kModDeclaration});
    field_decl_tokens(f.type.get(), out);
  }
}

}  // namespace

json Server::semantic_tokens(const json& params) {
  Document& d = document(params);
  auto idx = symbol_index(*ws_);
  std::set<std::string_view> builtins;
  for (std::string_view f : function_names()) builtins.insert(f);
  std::set<std::string_view> attributes;
  for (std::string_view a : attribute_names()) attributes.insert(a);
  std::vector<Tok> toks;
  auto global_mods = [&](const Sym* s) {
    int m = std::holds_alternative<ast::ListDecl>(*s->decl) ? kModReadonly : 0;
    return s->doc->stdlib ? m | kModDefaultLibrary : m;
  };
  for (const ast::Decl& decl : d.ast.decls) {
    const ast::Name& n = decl_name(decl);
    if (n.span.valid()) toks.push_back({n.span.begin, n.span.end, global_type(decl), kModDeclaration});
    std::set<std::string> locals;  // step labels and macro parameters
    if (const auto* r = std::get_if<ast::RuleDecl>(&decl)) {
      if (r->scope_block) {
        for (const ast::Step& st : r->scope_block->steps) {
          locals.insert(st.label.text);
          toks.push_back({st.label.span.begin, st.label.span.end, kTokParameter, kModDeclaration});
        }
      }
      if (r->sources) {
        for (const ast::Name& s : r->sources->value) {
          const Sym* sym = find_sym(idx, s.text);
          toks.push_back({s.span.begin, s.span.end, kTokType, sym ? global_mods(sym) : 0});
        }
      }
    } else if (const auto* m = std::get_if<ast::MacroDecl>(&decl)) {
      for (const ast::Ident& p : m->params) {
        locals.insert(p.text);
        toks.push_back({p.span.begin, p.span.end, kTokParameter, kModDeclaration});
      }
    } else if (const auto* src = std::get_if<ast::SourceDecl>(&decl)) {
      if (src->fields) field_decl_tokens(&src->fields->record, toks);
      for (const ast::LinkClause& l : src->links) toks.push_back({l.target.span.begin, l.target.span.end, kTokType, 0});
    }
    for_each_expr(decl, [&](const ast::Expr& e) {
      if (e.kind == ast::ExprKind::Call) {
        if (builtins.count(e.callee.text)) {
          toks.push_back({e.callee.span.begin, e.callee.span.end, kTokFunction, kModDefaultLibrary});
        } else if (const Sym* s = find_sym(idx, e.callee.text)) {
          toks.push_back({e.callee.span.begin, e.callee.span.end, kTokFunction, global_mods(s)});
        }
        return;
      }
      if (e.kind == ast::ExprKind::Sequence) {
        for (const ast::SeqItem& it : e.seq) toks.push_back({it.step.span.begin, it.step.span.end, kTokParameter, 0});
        return;
      }
      if (e.kind != ast::ExprKind::Path || !e.children.empty() || e.head.empty()) return;
      auto seg_tok = [&](const ast::PathSeg& sg) {
        if (sg.kind == ast::PathSeg::Kind::Field && sg.span.end > sg.span.begin + 1) {
          toks.push_back({sg.span.begin + 1, sg.span.end, kTokProperty, 0});  // after the dot
        }
      };
      // The longest prefix that names a list, macro or source.
      std::string name = e.head;
      std::string best_name;
      size_t best_k = SIZE_MAX;
      if (find_sym(idx, name)) best_name = name, best_k = 0;
      for (size_t k = 0; k < e.segs.size() && e.segs[k].kind == ast::PathSeg::Kind::Field; ++k) {
        name += "." + e.segs[k].name;
        if (find_sym(idx, name)) best_name = name, best_k = k + 1;
      }
      if (best_k != SIZE_MAX && !locals.count(e.head)) {
        const Sym* s = find_sym(idx, best_name);
        uint32_t end = best_k == 0 ? e.head_span.end : e.segs[best_k - 1].span.end;
        toks.push_back({e.head_span.begin, end, global_type(*s->decl), global_mods(s)});
        for (size_t k = best_k; k < e.segs.size(); ++k) seg_tok(e.segs[k]);
        return;
      }
      std::string dotted = e.dotted();
      if ((e.head == "session" || e.head == "chain") && attributes.count(dotted)) {
        toks.push_back({e.head_span.begin, e.segs.empty() ? e.head_span.end : e.segs.back().span.end, kTokEnumMember,
                        kModDefaultLibrary});
        return;
      }
      toks.push_back({e.head_span.begin, e.head_span.end, locals.count(e.head) ? kTokParameter : kTokProperty, 0});
      for (const ast::PathSeg& sg : e.segs) seg_tok(sg);
    });
  }
  std::sort(toks.begin(), toks.end(), [](const Tok& a, const Tok& b) { return a.begin < b.begin; });
  const std::string& text = ws_->text(d);
  LineIndex li(text);
  json data = json::array();
  uint32_t last_line = 0, last_char = 0, covered = 0;
  bool any = false;
  for (const Tok& t : toks) {
    if (t.end <= t.begin || t.end > text.size() || (any && t.begin < covered)) continue;  // overlapping: skipped
    if (std::string_view(text).substr(t.begin, t.end - t.begin).find('\n') != std::string_view::npos) continue;
    Position b = li.position(t.begin), e = li.position(t.end);
    data.push_back(b.line - last_line);
    data.push_back(b.line == last_line ? b.character - last_char : b.character);
    data.push_back(e.character - b.character);
    data.push_back(t.type);
    data.push_back(t.mods);
    last_line = b.line, last_char = b.character, covered = t.end, any = true;
  }
  return json{{"data", data}};
}

}  // namespace braid::lsp
