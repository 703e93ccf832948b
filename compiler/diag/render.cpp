#include "diag/render.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <system_error>

#include <fmt/format.h>

namespace braid {

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Locations

struct Loc {
  bool valid = false;
  const SourceFile* file = nullptr;
  LineCol begin, end;  // end is exclusive
};

Loc locate(const SourceManager& sm, const Span& span) {
  Loc l;
  if (!span.valid() || span.file >= sm.size()) return l;
  l.valid = true;
  l.file = &sm.file(span.file);
  uint32_t b = span.begin;
  uint32_t e = std::max(span.end, span.begin);
  l.begin = l.file->line_col(b);
  l.end = l.file->line_col(e);
  return l;
}

// ---------------------------------------------------------------------------------------------------------------
// Text

constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kRed = "\x1b[1;31m";
constexpr std::string_view kYellow = "\x1b[1;33m";
constexpr std::string_view kCyan = "\x1b[1;36m";
constexpr std::string_view kBlue = "\x1b[1;34m";
constexpr std::string_view kGreen = "\x1b[1;32m";

class TextOut {
 public:
  TextOut(std::string& out, bool color) : out_(out), color_(color) {}
  void put(std::string_view s) { out_ += s; }
  void styled(std::string_view style, std::string_view s) {
    if (color_) out_ += style;
    out_ += s;
    if (color_) out_ += kReset;
  }

 private:
  std::string& out_;
  bool color_;
};

std::string_view severity_color(Severity s) {
  switch (s) {
    case Severity::Error: return kRed;
    case Severity::Warning: return kYellow;
    case Severity::Note: return kCyan;
  }
  return kRed;
}

constexpr uint32_t kTabWidth = 4;

// A source line prepared for display: tabs expanded, control characters and invalid UTF-8 shown as U+FFFD, and
// the display column of every byte offset (0..size) so carets line up.
struct DisplayLine {
  std::string text;
  std::vector<uint32_t> col;  // col[i] = display column (0-based) where byte i starts; col[size] = width
};

DisplayLine display_line(std::string_view line) {
  DisplayLine d;
  d.col.assign(line.size() + 1, 0);
  uint32_t width = 0;
  size_t i = 0;
  while (i < line.size()) {
    uint32_t cp = 0;
    bool ok = true;
    size_t n = decode_utf8(line, i, cp, ok);
    for (size_t k = 0; k < n; ++k) d.col[i + k] = width;
    if (cp == '\t') {
      d.text.append(kTabWidth, ' ');
      width += kTabWidth;
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      append_utf8(d.text, 0xFFFD);
      width += 1;
    } else {
      append_utf8(d.text, cp);
      width += 1;
    }
    i += n;
  }
  d.col[line.size()] = width;
  return d;
}

size_t digits(uint32_t n) {
  size_t d = 1;
  while (n >= 10) n /= 10, ++d;
  return d;
}

// Writes the source line of `loc` and a caret line under its span. Multi-line spans are underlined to the end
// of their first line; empty spans and spans past the end of the line get a single caret.
void snippet(TextOut& t, const Loc& loc, size_t gutter, Severity sev, const std::optional<FixIt>& fix,
             const SourceManager& sm) {
  std::string_view raw = loc.file->line_text(loc.begin.line);
  DisplayLine d = display_line(raw);
  auto gutter_line = [&](std::string_view label) {
    t.styled(kBlue, fmt::format(" {:>{}} |", label, gutter));
  };
  gutter_line(std::to_string(loc.begin.line));
  if (!d.text.empty()) t.put(" ");
  t.put(d.text);
  t.put("\n");

  auto clamp = [&](uint32_t byte_col) { return std::min<size_t>(byte_col - 1, raw.size()); };
  uint32_t start = d.col[clamp(loc.begin.col)];
  uint32_t stop = loc.end.line == loc.begin.line ? d.col[clamp(loc.end.col)] : d.col[raw.size()];
  uint32_t width = stop > start ? stop - start : 1;
  gutter_line("");
  t.put(" ");
  t.put(std::string(start, ' '));
  t.styled(severity_color(sev), "^" + std::string(width - 1, '~'));
  t.put("\n");

  // A fix-it on the same line, clang style: the replacement printed under the text it replaces.
  if (fix && fix->span.valid() && fix->replacement.find('\n') == std::string::npos) {
    Loc f = locate(sm, fix->span);
    if (f.valid && f.file == loc.file && f.begin.line == loc.begin.line && !fix->replacement.empty()) {
      uint32_t fstart = d.col[clamp(f.begin.col)];
      gutter_line("");
      t.put(" ");
      t.put(std::string(fstart, ' '));
      t.styled(kGreen, sanitize_utf8(fix->replacement));
      t.put("\n");
    }
  }
}

void header(TextOut& t, const Loc& loc, Severity sev, std::string_view code, std::string_view message) {
  if (loc.valid) {
    t.styled(kBold, fmt::format("{}:{}:{}:", sanitize_utf8(loc.file->path()), loc.begin.line, loc.begin.col));
  } else {
    t.styled(kBold, "braid:");
  }
  t.put(" ");
  std::string label(severity_name(sev));
  if (!code.empty()) label += fmt::format("[{}]", code);
  t.styled(severity_color(sev), label + ":");
  t.put(" ");
  t.styled(kBold, sanitize_utf8(message));
  t.put("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// SARIF helpers

std::string percent_encode_path(std::string_view p) {
  std::string out;
  for (char ch : p) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

struct ArtifactUri {
  std::string uri;
  std::string base;  // uriBaseId; empty for absolute URIs
};

constexpr std::string_view kStdlibPrefix = "<stdlib>/";

ArtifactUri artifact_uri(const std::string& path, const std::string& working_dir) {
  namespace fs = std::filesystem;
  if (path.rfind(kStdlibPrefix, 0) == 0) {
    return {percent_encode_path(path.substr(kStdlibPrefix.size())), "BRAID_STDLIB"};
  }
  fs::path p(path);
  std::error_code ec;
  fs::path cwd = working_dir.empty() ? fs::current_path(ec) : fs::path(working_dir);
  if (p.is_absolute()) {
    fs::path rel = p.lexically_normal().lexically_relative(cwd.lexically_normal());
    if (!rel.empty() && *rel.begin() != "..") p = rel;
  }
  p = p.lexically_normal();
  std::string s = p.generic_string();
  if (p.is_absolute()) return {"file://" + percent_encode_path(s), ""};
  return {percent_encode_path(s), "%SRCROOT%"};
}

void write_region(JsonWriter& w, const Loc& loc) {
  std::string_view first = loc.file->line_text(loc.begin.line);
  std::string_view last = loc.file->line_text(loc.end.line);
  w.key("region");
  w.begin_object();
  w.key("startLine");
  w.value(loc.begin.line);
  w.key("startColumn");
  w.value(utf16_column(first, loc.begin.col));
  w.key("endLine");
  w.value(loc.end.line);
  w.key("endColumn");
  w.value(utf16_column(last, loc.end.col));
  w.end_object();
}

void write_physical_location(JsonWriter& w, const Loc& loc, const RenderOptions& opts) {
  ArtifactUri a = artifact_uri(loc.file->path(), opts.working_dir);
  w.key("physicalLocation");
  w.begin_object();
  w.key("artifactLocation");
  w.begin_object();
  w.key("uri");
  w.value(a.uri);
  if (!a.base.empty()) {
    w.key("uriBaseId");
    w.value(a.base);
  }
  w.end_object();
  write_region(w, loc);
  w.end_object();
}

std::string_view sarif_level(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

// JSON location fields shared by diagnostics, fixes and related locations.
void write_json_location(JsonWriter& w, const Loc& loc) {
  w.key("file");
  if (loc.valid) w.value(loc.file->path()); else w.null();
  const char* names[] = {"line", "column", "end_line", "end_column"};
  uint32_t values[] = {loc.begin.line, loc.begin.col, loc.end.line, loc.end.col};
  for (int i = 0; i < 4; ++i) {
    w.key(names[i]);
    if (loc.valid) w.value(values[i]); else w.null();
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Public helpers

uint32_t utf16_column(std::string_view line, uint32_t byte_col) {
  size_t limit = std::min<size_t>(byte_col == 0 ? 0 : byte_col - 1, line.size());
  uint32_t units = 0;
  size_t i = 0;
  while (i < limit) {
    uint32_t cp = 0;
    bool ok = true;
    size_t n = decode_utf8(line, i, cp, ok);
    units += cp >= 0x10000 ? 2 : 1;
    i += n;
  }
  // A byte column past the end of the line text (e.g. at the newline) keeps counting one unit per byte.
  if (byte_col > 0 && byte_col - 1 > line.size()) units += static_cast<uint32_t>(byte_col - 1 - line.size());
  return units + 1;
}

std::string summary_text(size_t errors, size_t warnings, size_t notes) {
  if (errors == 0 && warnings == 0 && notes == 0) return "no problems";
  std::string s;
  auto add = [&](size_t n, std::string_view word) {
    if (n == 0) return;
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
  };
  add(errors, "error");
  add(warnings, "warning");
  add(notes, "note");
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Text

std::string render_text(const std::vector<Diagnostic>& diags, const SourceManager& sm, const RenderOptions& opts) {
  std::string out;
  TextOut t(out, opts.color);
  size_t errors = 0, warnings = 0, notes = 0;
  for (const Diagnostic& d : diags) {
    if (d.severity == Severity::Error) ++errors;
    if (d.severity == Severity::Warning) ++warnings;
    if (d.severity == Severity::Note) ++notes;

    Loc loc = locate(sm, d.span);
    std::vector<Loc> related;
    size_t gutter = 1;
    if (loc.valid) gutter = digits(loc.begin.line);
    for (const RelatedLocation& r : d.related) {
      related.push_back(locate(sm, r.span));
      if (related.back().valid) gutter = std::max(gutter, digits(related.back().begin.line));
    }

    std::string_view code = d.code == Code::BRD0000 ? std::string_view() : code_info(d.code).id;
    header(t, loc, d.severity, code, d.message);
    if (loc.valid) snippet(t, loc, gutter, d.severity, d.fix, sm);
    std::string help = d.help;
    if (help.empty() && d.fix && !d.fix->replacement.empty() && !loc.valid) {
      help = fmt::format("replace with `{}`", d.fix->replacement);
    }
    if (!help.empty()) {
      if (loc.valid) t.put(std::string(gutter + 2, ' ') + "= ");
      t.styled(kCyan, "help:");
      t.put(" " + sanitize_utf8(help) + "\n");
    }
    for (size_t i = 0; i < d.related.size(); ++i) {
      header(t, related[i], Severity::Note, {}, d.related[i].message.empty() ? "related location"
                                                                             : d.related[i].message);
      if (related[i].valid) snippet(t, related[i], gutter, Severity::Note, std::nullopt, sm);
    }
  }
  if (opts.summary && !diags.empty()) {
    out += '\n';
    t.styled(kBold, summary_text(errors, warnings, notes));
    out += '\n';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

std::string render_json(const std::vector<Diagnostic>& diags, const SourceManager& sm, const RenderOptions&) {
  std::string out;
  JsonWriter w(out);
  size_t errors = 0, warnings = 0;
  w.begin_object();
  w.key("version");
  w.value(1);
  w.key("diagnostics");
  w.begin_array();
  for (const Diagnostic& d : diags) {
    if (d.severity == Severity::Error) ++errors;
    if (d.severity == Severity::Warning) ++warnings;
    w.begin_object();
    w.key("code");
    w.value(code_info(d.code).id);
    w.key("severity");
    w.value(severity_name(d.severity));
    w.key("message");
    w.value(d.message);
    write_json_location(w, locate(sm, d.span));
    w.key("help");
    if (d.help.empty()) w.null(); else w.value(d.help);
    w.key("fix");
    if (d.fix) {
      w.begin_object();
      write_json_location(w, locate(sm, d.fix->span));
      w.key("replacement");
      w.value(d.fix->replacement);
      w.end_object();
    } else {
      w.null();
    }
    w.key("related");
    w.begin_array();
    for (const RelatedLocation& r : d.related) {
      w.begin_object();
      w.key("message");
      w.value(r.message);
      write_json_location(w, locate(sm, r.span));
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("summary");
  w.begin_object();
  w.key("errors");
  w.value(static_cast<uint64_t>(errors));
  w.key("warnings");
  w.value(static_cast<uint64_t>(warnings));
  w.end_object();
  w.end_object();
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// SARIF 2.1.0

std::string render_sarif(const std::vector<Diagnostic>& diags, const SourceManager& sm, const RenderOptions& opts) {
  // The rules: every code that occurs, in code order; results refer to them by index.
  std::map<int, size_t> rule_index;
  for (const Diagnostic& d : diags) rule_index.emplace(static_cast<int>(d.code), 0);
  size_t n = 0;
  for (auto& [code, index] : rule_index) index = n++;

  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("$schema");
  w.value("https://json.schemastore.org/sarif-2.1.0.json");
  w.key("version");
  w.value("2.1.0");
  w.key("runs");
  w.begin_array();
  w.begin_object();

  w.key("tool");
  w.begin_object();
  w.key("driver");
  w.begin_object();
  w.key("name");
  w.value("braid");
  if (!opts.tool_version.empty()) {
    w.key("version");
    w.value(opts.tool_version);
    w.key("semanticVersion");
    w.value(opts.tool_version);
  }
  w.key("informationUri");
  w.value(opts.information_uri);
  w.key("rules");
  w.begin_array();
  for (const auto& [code, index] : rule_index) {
    const CodeInfo& info = code_info(static_cast<Code>(code));
    w.begin_object();
    w.key("id");
    w.value(info.id);
    w.key("name");
    w.value(info.slug);
    w.key("shortDescription");
    w.begin_object();
    w.key("text");
    w.value(info.title);
    w.end_object();
    w.key("fullDescription");
    w.begin_object();
    w.key("text");
    w.value(info.text.empty() ? info.title : info.text);
    w.end_object();
    w.key("help");
    w.begin_object();
    w.key("text");
    w.value(info.text.empty() ? info.title : info.text);
    w.key("markdown");
    w.value(info.text.empty() ? info.title : info.text);
    w.end_object();
    w.key("defaultConfiguration");
    w.begin_object();
    w.key("level");
    w.value(sarif_level(info.severity));
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.end_object();  // driver
  w.end_object();  // tool

  w.key("columnKind");
  w.value("utf16CodeUnits");

  w.key("results");
  w.begin_array();
  for (const Diagnostic& d : diags) {
    const CodeInfo& info = code_info(d.code);
    w.begin_object();
    w.key("ruleId");
    w.value(info.id);
    w.key("ruleIndex");
    w.value(static_cast<uint64_t>(rule_index[static_cast<int>(d.code)]));
    w.key("level");
    w.value(sarif_level(d.severity));
    w.key("message");
    w.begin_object();
    w.key("text");
    w.value(d.help.empty() ? d.message : d.message + " (help: " + d.help + ")");
    w.end_object();
    Loc loc = locate(sm, d.span);
    if (loc.valid) {  // file-less problems (an unreadable path) have no location
      w.key("locations");
      w.begin_array();
      w.begin_object();
      write_physical_location(w, loc, opts);
      w.end_object();
      w.end_array();
    }
    if (d.fix && d.fix->span.valid()) {
      Loc f = locate(sm, d.fix->span);
      if (f.valid) {
        ArtifactUri a = artifact_uri(f.file->path(), opts.working_dir);
        w.key("fixes");
        w.begin_array();
        w.begin_object();
        w.key("description");
        w.begin_object();
        w.key("text");
        w.value(d.help.empty() ? fmt::format("Replace with `{}`", d.fix->replacement) : d.help);
        w.end_object();
        w.key("artifactChanges");
        w.begin_array();
        w.begin_object();
        w.key("artifactLocation");
        w.begin_object();
        w.key("uri");
        w.value(a.uri);
        if (!a.base.empty()) {
          w.key("uriBaseId");
          w.value(a.base);
        }
        w.end_object();
        w.key("replacements");
        w.begin_array();
        w.begin_object();
        w.key("deletedRegion");
        {
          // write_region writes `"region": {...}`; a deleted region needs its own key.
          std::string_view first = f.file->line_text(f.begin.line);
          std::string_view last = f.file->line_text(f.end.line);
          w.begin_object();
          w.key("startLine");
          w.value(f.begin.line);
          w.key("startColumn");
          w.value(utf16_column(first, f.begin.col));
          w.key("endLine");
          w.value(f.end.line);
          w.key("endColumn");
          w.value(utf16_column(last, f.end.col));
          w.end_object();
        }
        w.key("insertedContent");
        w.begin_object();
        w.key("text");
        w.value(d.fix->replacement);
        w.end_object();
        w.end_object();
        w.end_array();  // replacements
        w.end_object();
        w.end_array();  // artifactChanges
        w.end_object();
        w.end_array();  // fixes
      }
    }
    bool any_related = false;
    for (const RelatedLocation& r : d.related) any_related |= locate(sm, r.span).valid;
    if (any_related) {
      w.key("relatedLocations");
      w.begin_array();
      int id = 0;
      for (const RelatedLocation& r : d.related) {
        Loc rl = locate(sm, r.span);
        if (!rl.valid) continue;
        w.begin_object();
        w.key("id");
        w.value(id++);
        write_physical_location(w, rl, opts);
        w.key("message");
        w.begin_object();
        w.key("text");
        w.value(r.message.empty() ? "related location" : r.message);
        w.end_object();
        w.end_object();
      }
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();  // results
  w.end_object();  // run
  w.end_array();   // runs
  w.end_object();
  return out;
}

}  // namespace braid
