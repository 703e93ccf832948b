#include "driver/driver.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "parser/parser.h"

#include "check/checker.h"
#include "ir/ir.h"
#include "lint/linter.h"

namespace braid {

namespace fs = std::filesystem;

namespace {

std::string display_path(const fs::path& p) {
  std::string s = p.lexically_normal().generic_string();
  return s.empty() ? "." : s;
}

std::string os_reason(const std::error_code& ec) {
  std::string m = ec.message();
  return m.empty() ? "unknown error" : m;
}

bool hidden(const fs::path& p) {
  std::string n = p.filename().string();
  return !n.empty() && n[0] == '.' && n != "." && n != "..";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Files

bool read_file(const std::string& path, std::string& text, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  text.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > UINT32_MAX - sizeof buf) {  // spans are 32-bit offsets
      error = "file too large (spans are limited to 4 GiB)";
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

std::vector<std::string> find_braid_files(const std::vector<std::string>& paths, DiagnosticSink& diags) {
  std::set<std::string> found;
  bool missing = false;
  for (const std::string& arg : paths) {
    fs::path root(arg);
    std::error_code ec;
    fs::file_status st = fs::status(root, ec);
    if (ec || !fs::exists(st)) {
      diags.report(Code::BRD0901, Span{}, fmt::format("cannot read `{}`: {}", arg,
                                                      os_reason(ec ? ec : std::make_error_code(std::errc::no_such_file_or_directory))));
      missing = true;
      continue;
    }
    if (!fs::is_directory(st)) {
      found.insert(display_path(root));
      continue;
    }
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) {
      diags.report(Code::BRD0901, Span{}, fmt::format("cannot read directory `{}`: {}", arg, os_reason(ec)));
      missing = true;
      continue;
    }
    for (fs::recursive_directory_iterator end; it != end;) {
      const fs::directory_entry& e = *it;
      if (hidden(e.path())) {
        if (e.is_directory(ec)) it.disable_recursion_pending();
      } else if (e.path().extension() == ".braid" && e.is_regular_file(ec)) {
        found.insert(display_path(e.path()));
      }
      it.increment(ec);
      if (ec) {
        diags.report(Code::BRD0901, Span{},
                     fmt::format("cannot read directory under `{}`: {}", arg, os_reason(ec)));
        missing = true;
        break;
      }
    }
  }
  std::vector<std::string> out(found.begin(), found.end());
  if (out.empty() && !missing && !paths.empty()) {
    std::string list;
    for (size_t i = 0; i < paths.size(); ++i) list += fmt::format("{}`{}`", i ? ", " : "", paths[i]);
    diags.report(Code::BRD0902, Span{}, fmt::format("no .braid files found in {}", list));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation

Compilation::Compilation() = default;
Compilation::~Compilation() = default;

bool Compilation::has_syntax_errors() const {
  for (const Diagnostic& d : diags.all()) {
    if (d.severity == Severity::Error && static_cast<int>(d.code) != 0 && code_info(d.code).id < "BRD0100") {
      return true;
    }
  }
  return false;
}

std::vector<RuleSummary> Compilation::rules() const {
  std::vector<RuleSummary> out;
  for (size_t i = stdlib_file_count; i < asts.size(); ++i) {
    const ast::File& f = asts[i];
    for (const ast::Decl& decl : f.decls) {
      const auto* r = std::get_if<ast::RuleDecl>(&decl);
      if (!r) continue;
      RuleSummary s;
      s.id = r->name.text;
      switch (r->scope()) {
        case ast::Scope::Event: s.scope = "event"; break;
        case ast::Scope::Session: s.scope = "session"; break;
        case ast::Scope::Chain: s.scope = "chain"; break;
        case ast::Scope::Group: s.scope = "group"; break;
      }
      if (r->severity) s.severity = r->severity->value.text;
      if (r->sources) {
        for (const ast::Name& n : r->sources->value) s.sources.push_back(n.text);
      }
      if (r->title) s.title = r->title->value.value;
      if (r->enabled) s.enabled = r->enabled->value;
      if (const ir::Rule* ir_rule = program ? program->find_rule(s.id) : nullptr; ir_rule && !ir_rule->tuned_by.empty()) {
        s.tuned = true;
        s.enabled = ir_rule->meta.enabled;
        if (ir_rule->severity_arms.empty()) s.severity = std::string(ir::severity_name(ir_rule->meta.severity));
      }
      s.file = sm.file(f.file).path();
      s.line = sm.file(f.file).line_col(r->span.begin).line;
      out.push_back(std::move(s));
    }
  }
  return out;
}

size_t Compilation::source_count() const {
  std::set<std::string> names;
  for (const RuleSummary& r : rules()) names.insert(r.sources.begin(), r.sources.end());
  return names.size();
}

std::unique_ptr<Compilation> compile(const std::vector<std::string>& paths, const DriverOptions& opts) {
  auto c = std::make_unique<Compilation>();
  std::vector<std::string> files = find_braid_files(paths, c->diags);
  if (c->diags.has_errors()) c->input_error = true;

  // Read everything first: the standard library, then the user's files.
  if (opts.load_stdlib) {
    for (const StdlibFile& f : stdlib_files()) {
      c->sm.add(std::string(kStdlibPathPrefix) + std::string(f.path), std::string(f.text));
      ++c->stdlib_file_count;
    }
  }
  for (const std::string& path : files) {
    std::string text, error;
    if (!read_file(path, text, error)) {
      c->diags.report(Code::BRD0901, Span{}, fmt::format("cannot read `{}`: {}", path, error));
      c->input_error = true;
      continue;
    }
    c->user_files.push_back(c->sm.add(path, std::move(text)));
  }

  c->asts.reserve(c->sm.size());
  ParseOptions po;
  po.skip_tests = opts.skip_tests;
  for (FileId id = 0; id < c->sm.size(); ++id) c->asts.push_back(parse_file(c->sm, id, c->diags, po));

  // Checking a set of files with syntax errors only produces follow-on noise: report the syntax errors alone.
  if (opts.run_check && !c->input_error && !c->has_syntax_errors()) {
    std::vector<const ast::File*> ptrs;
    for (const ast::File& f : c->asts) ptrs.push_back(&f);
    CheckOptions co;
    co.apply_tuning = opts.apply_tuning;
    c->program = check(ptrs, c->sm, c->diags, co);
    c->checked = true;
    if (opts.run_lint && c->program && !c->diags.has_errors()) {
      LintOptions lo;
      lo.costly = opts.lint_costly;
      lint(*c->program, c->sm, c->diags, lo);
      c->linted = true;
    }
  }
  c->diags.sort();
  return c;
}

}  // namespace braid
