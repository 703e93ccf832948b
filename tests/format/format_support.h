// Helpers for the formatter tests: parse, format, and compare two parses structurally.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ast/ast.h"
#include "diag/codes.h"
#include "diag/diagnostic.h"
#include "format/formatter.h"
#include "parser/parser.h"

namespace braid::fmt_test {

struct Parsed {
  SourceManager sm;
  DiagnosticSink diags;
  FileId id = kNoFile;
  ast::File file;

  std::string errors() const {
    std::string out;
    for (const Diagnostic& d : diags.all()) {
      if (d.severity != Severity::Error) continue;
      LineCol lc = sm.file(id).line_col(d.span.begin);
      out += std::string(code_info(d.code).id) + " at " + std::to_string(lc.line) + ":" + std::to_string(lc.col) +
             ": " + d.message + "\n";
    }
    return out;
  }
};

inline std::unique_ptr<Parsed> parse(std::string text, std::string path = "test.braid") {
  auto p = std::make_unique<Parsed>();
  p->id = p->sm.add(std::move(path), std::move(text));
  p->file = parse_file(p->sm, p->id, p->diags);
  return p;
}

inline std::string format(const Parsed& p, const FormatOptions& o = {}) { return format_file(p.file, p.sm, o); }

// ---------------------------------------------------------------------------------------------------------------
// A structural dump of a whole file: every declaration and clause with its values (expressions through ast::dump,
// plus where parentheses were written), without spans or comments. Equal dumps mean the same program.

class Dumper {
 public:
  std::string file(const ast::File& f) {
    for (const ast::Decl& d : f.decls) std::visit([this](const auto& x) { decl(x); }, d);
    return std::move(out_);
  }

 private:
  void put(std::string_view s) { out_ += s; }
  void nl() { out_ += '\n'; }

  static void parens(std::string& out, const ast::Expr& e) {
    out += e.parenthesized ? '1' : '0';
    for (const auto& c : e.children) {
      if (c) parens(out, *c);
    }
  }
  void expr(const ast::ExprPtr& e) {
    if (!e) {
      put("<null>");
      return;
    }
    std::string p;
    parens(p, *e);
    put(ast::dump(*e) + " #" + p);
  }
  void dur(const ast::DurationLit& d) { put(d.text + "=" + std::to_string(d.nanos)); }
  void str(const ast::StringLit& s) { put("\"" + s.value + "\""); }
  void clause(const char* k, const std::optional<ast::ExprClause>& c) {
    if (!c) return;
    put(std::string("  ") + k + " ");
    expr(c->expr);
    nl();
  }

  void json(const ast::Json& j) {
    using K = ast::Json::Kind;
    switch (j.kind) {
      case K::Null: put("null"); break;
      case K::Bool: put(j.bool_value ? "true" : "false"); break;
      case K::Number: put("num:" + j.text); break;
      case K::String: put("str:\"" + j.text + "\""); break;
      case K::Array:
        put("[");
        for (const auto& i : j.items) {
          json(i);
          put(",");
        }
        put("]");
        break;
      case K::Object:
        put("{");
        for (const auto& m : j.members) {
          put("\"" + m.first + "\":");
          json(m.second);
          put(",");
        }
        put("}");
        break;
    }
  }

  void type(const ast::TypeExpr& t) {
    switch (t.kind) {
      case ast::TypeExpr::Kind::Named: put(t.name.text); break;
      case ast::TypeExpr::Kind::List:
        put("[");
        if (t.elem) type(*t.elem);
        put("]");
        break;
      case ast::TypeExpr::Kind::Record:
        put("{");
        for (const auto& f : t.fields) {
          put(std::string(f.quoted ? "q:" : "") + f.name + (f.optional ? "?" : "") + ":");
          if (f.type) type(*f.type);
          if (f.nocase) put(" nocase");
          put(",");
        }
        if (t.open) put("...");
        put("}");
        break;
    }
  }

  void decl(const ast::SourceDecl& s) {
    put("source " + s.name.text);
    nl();
    clause("recognize", s.recognize);
    clause("time", s.time);
    clause("id", s.id);
    clause("identity", s.identity);
    clause("credential", s.credential);
    clause("ip", s.ip);
    clause("account", s.account);
    if (s.session) {
      put("  session ");
      dur(s.session->gap);
      put(" ");
      dur(s.session->max);
      nl();
    }
    if (s.lateness) {
      put("  lateness ");
      dur(s.lateness->lateness);
      nl();
    }
    for (const auto& m : s.mints) {
      put("  mints ");
      expr(m.credential);
      put(" when ");
      expr(m.when);
      nl();
    }
    for (const auto& l : s.links) {
      put("  link " + l.target.text + " ");
      dur(l.within);
      put(" parent ");
      expr(l.parent.when);
      put(" ");
      expr(l.parent.key);
      put(" child ");
      expr(l.child.when);
      put(" ");
      expr(l.child.key);
      nl();
    }
    if (s.fields) {
      put("  fields ");
      type(s.fields->record);
      nl();
    }
  }
  void decl(const ast::TypeDecl& t) {
    put("type " + t.name.text + " = ");
    type(t.type);
    nl();
  }
  void decl(const ast::ListDecl& l) {
    put("list " + l.name.text + " = ");
    expr(l.value);
    if (l.org_data) put(" org_data");
    nl();
  }
  void decl(const ast::OverrideDecl& o) {
    put("override list " + o.name.text + (o.append ? " += " : " = "));
    expr(o.value);
    nl();
  }
  void decl(const ast::TuneDecl& t) {
    put(std::string("tune ") + (t.glob ? "glob:" : "") + t.name.text);
    nl();
    if (t.enabled) put(std::string("  enabled ") + (t.enabled->value ? "true" : "false") + "\n");
    if (t.severity) put("  severity " + t.severity->value.text + "\n");
    for (const auto& e : t.exceptions) {
      put("  except when ");
      expr(e.expr);
      nl();
    }
  }
  void decl(const ast::MacroDecl& m) {
    put("macro " + m.name.text + (m.has_parens ? "(" : ""));
    for (const auto& p : m.params) put(p.text + ",");
    put(m.has_parens ? ") = " : " = ");
    expr(m.body);
    nl();
  }
  void decl(const ast::RuleDecl& r) {
    put("rule " + r.name.text);
    nl();
    auto s = [this](const char* k, const auto& c) {
      if (!c) return;
      put(std::string("  ") + k + " ");
      str(c->value);
      nl();
    };
    auto ss = [this](const char* k, const auto& c) {
      if (!c) return;
      put(std::string("  ") + k);
      for (const auto& v : c->value) put(" \"" + v.value + "\"");
      nl();
    };
    s("title", r.title);
    s("description", r.description);
    s("author", r.author);
    if (r.severity) {
      put("  severity " + r.severity->value.text);
      for (const auto& a : r.severity->arms) {
        put(" | " + a.level.text + " when ");
        expr(a.when);
      }
      nl();
    }
    if (r.attack) {
      put("  attack");
      for (const auto& a : r.attack->value) put(std::string(" ") + (a.quoted ? "q:" : "") + a.text);
      nl();
    }
    ss("tags", r.tags);
    ss("references", r.references);
    ss("false_positives", r.false_positives);
    if (r.enabled) put(std::string("  enabled ") + (r.enabled->value ? "true" : "false") + "\n");
    if (r.sources) {
      put("  source");
      for (const auto& n : r.sources->value) put(" " + n.text);
      nl();
    }
    if (r.org_data) {
      put("  org_data");
      for (const auto& n : r.org_data->value) put(" " + n.text);
      nl();
    }
    if (r.message) {
      put("  message \"" + r.message->raw.value + "\"");
      for (const auto& part : r.message->parts) {
        put(" | ");
        if (part.expr) expr(part.expr);
        else put("'" + part.literal + "'");
      }
      nl();
    }
    if (r.suppress) {
      put("  suppress ");
      dur(r.suppress->window);
      for (const auto& k : r.suppress->keys) {
        put(" ");
        expr(k);
      }
      nl();
    }
    clause("when", r.when);
    if (r.scope_block) {
      switch (r.scope_block->scope) {
        case ast::Scope::Event:
        case ast::Scope::Session: put("  session\n"); break;
        case ast::Scope::Chain: put("  chain\n"); break;
        case ast::Scope::Group:
          put("  group by");
          if (const auto& g = r.scope_block->group) {
            for (const auto& k : g->keys) {
              put(" ");
              expr(k);
            }
            if (g->window) {
              put(" window ");
              dur(*g->window);
            }
            if (g->gap) {
              put(" gap ");
              dur(*g->gap);
            }
            if (g->max) {
              put(" max ");
              dur(*g->max);
            }
          }
          nl();
          break;
      }
      for (const auto& st : r.scope_block->steps) {
        put("    step " + st.label.text + " = ");
        expr(st.pred);
        nl();
      }
      clause("  when", r.scope_block->when);
    }
    for (const auto& t : r.tests) {
      put("  test \"" + t.name.value + "\"\n");
      for (const auto& ev : t.events) {
        put("    events ");
        if (ev.inline_events) json(*ev.inline_events);
        if (ev.file) put("file \"" + ev.file->value + "\"");
        nl();
      }
      if (t.expect) {
        put("    expect ");
        switch (t.expect->kind) {
          case ast::TestExpect::Kind::None: put("none"); break;
          case ast::TestExpect::Kind::Count: put(std::to_string(t.expect->count)); break;
          case ast::TestExpect::Kind::Alerts: json(t.expect->alerts); break;
        }
        nl();
      }
    }
  }

  std::string out_;
};

inline std::string dump_file(const ast::File& f) { return Dumper().file(f); }

// The comment texts in order, without trailing whitespace on any line (the formatter trims line ends, also inside
// block comments, and turns CRLF into LF).
inline std::vector<std::string> comment_texts(const ast::File& f) {
  std::vector<std::string> out;
  for (const ast::Comment& c : f.comments) {
    std::string t;
    for (char ch : c.text) {
      if (ch == '\n') {
        while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r')) t.pop_back();
      }
      t += ch;
    }
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r')) t.pop_back();
    out.push_back(std::move(t));
  }
  return out;
}

// Lines with trailing spaces or tabs, lines longer than `width` that contain a breakable construct, and a missing
// final newline are layout errors the formatter must never produce.
inline std::string layout_problems(std::string_view text) {
  std::string out;
  if (!text.empty() && text.back() != '\n') out += "no final newline\n";
  // (A block comment may hold blank lines of its own.)
  if (text.find("\n\n\n") != std::string_view::npos && text.find("/*") == std::string_view::npos) {
    out += "two blank lines in a row\n";
  }
  if (text.find('\r') != std::string_view::npos) out += "carriage return\n";
  if (text.starts_with("\n")) out += "leading blank line\n";
  size_t line_no = 1, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
      out += "line " + std::to_string(line_no) + ": trailing whitespace\n";
    }
    if (line.find('\t') != std::string_view::npos && line.find("//") == std::string_view::npos &&
        line.find("/*") == std::string_view::npos && line.find('"') == std::string_view::npos) {
      out += "line " + std::to_string(line_no) + ": tab\n";
    }
    start = end + 1;
    ++line_no;
  }
  return out;
}

// Formats `text` and checks every property the formatter promises for a valid input: the output parses cleanly,
// means the same (structural dump), keeps every comment in order, has no layout errors, and formats to itself.
// Returns the formatted text.
inline std::string check_round_trip(const std::string& text, const std::string& path = "test.braid") {
  auto p1 = parse(text, path);
  EXPECT_EQ(p1->errors(), "") << "the input must parse cleanly: " << path;
  if (p1->diags.has_errors()) return {};
  std::string out1 = format(*p1);
  auto p2 = parse(out1, path);
  EXPECT_EQ(p2->errors(), "") << "the formatted text does not parse: " << path << "\n" << out1;
  EXPECT_EQ(dump_file(p2->file), dump_file(p1->file)) << "formatting changed the meaning: " << path << "\n" << out1;
  EXPECT_EQ(comment_texts(p2->file), comment_texts(p1->file)) << "comments lost or reordered: " << path << "\n"
                                                              << out1;
  EXPECT_EQ(layout_problems(out1), "") << path << "\n" << out1;
  std::string out2 = format(*p2);
  EXPECT_EQ(out2, out1) << "not idempotent: " << path;
  return out1;
}

}  // namespace braid::fmt_test
