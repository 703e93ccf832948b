// `braid fmt [--check] [--diff] PATH...`: rewrite files in the canonical layout (compiler/format).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/render.h"
#include "diff.h"
#include "driver/driver.h"
#include "format/formatter.h"
#include "parser/parser.h"
#include "verbs.h"

namespace braid::cli {

namespace {

std::string plural(size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

bool write_file_atomically(const std::string& path, const std::string& text, std::string& error) {
  namespace fs = std::filesystem;
  fs::path p(path);
  fs::path tmp = p;
  tmp += fmt::format(".braid-fmt-{}.tmp", ::getpid());
  FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (!fp) {
    error = std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), fp) == text.size();
  ok = (std::fclose(fp) == 0) && ok;
  struct stat st {};
  if (ok && ::stat(p.c_str(), &st) == 0) ::chmod(tmp.c_str(), st.st_mode & 07777);
  if (!ok || std::rename(tmp.c_str(), p.c_str()) != 0) {
    error = std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

int run_fmt(const Globals& g, const std::vector<std::string>& paths, bool check, bool diff) {
  if (g.format_given && g.format != "text") throw UsageError{"--format applies to check and lint, not fmt"};
  DiagnosticSink input;
  std::vector<std::string> files = find_braid_files(paths, input);
  RenderOptions ro;
  ro.color = use_color(g.color, STDERR_FILENO);
  if (input.has_errors()) {
    SourceManager none;
    err(render_text(input.all(), none, ro));
    return kExitUsage;
  }
  int rc = kExitClean;
  size_t changed = 0, refused = 0;
  for (const std::string& path : files) {
    std::string text, error;
    if (!read_file(path, text, error)) {
      err(fmt::format("braid: error[BRD0901]: cannot read `{}`: {}\n", path, error));
      rc = kExitUsage;
      continue;
    }
    SourceManager sm;
    FileId id = sm.add(path, text);
    DiagnosticSink diags;
    ast::File file = parse_file(sm, id, diags);
    if (diags.has_errors()) {
      diags.sort();
      RenderOptions quiet = ro;
      quiet.summary = false;
      err(render_text(diags.all(), sm, quiet));
      err(fmt::format("braid: not formatting `{}`: it has syntax errors\n", path));
      ++refused;
      if (rc == kExitClean) rc = kExitFindings;
      continue;
    }
    std::string formatted = format_file(file, sm);
    if (formatted == text) continue;
    ++changed;
    if (diff) out(unified_diff(path, text, formatted));
    if (check) {
      if (!diff) out(path + "\n");
      if (rc == kExitClean) rc = kExitFindings;
    } else if (!diff) {
      if (!write_file_atomically(path, formatted, error)) {
        err(fmt::format("braid: error[BRD0901]: cannot write `{}`: {}\n", path, error));
        rc = kExitUsage;
        continue;
      }
      err(fmt::format("formatted {}\n", path));
    }
  }
  if (check || diff) {
    err(fmt::format("{} would be reformatted, {} already formatted{}\n", plural(changed, "file"),
                    plural(files.size() - changed - refused, "file"),
                    refused ? fmt::format(", {} with syntax errors", refused) : std::string()));
  }
  return rc;
}

}  // namespace

VerbAction add_fmt_verb(CLI::App& sub) {
  struct Options {
    std::vector<std::string> paths;
    bool check = false;
    bool diff = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("paths", o->paths, "Files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  sub.add_flag("--check", o->check, "Write nothing; list the files that would change and exit 1 if any");
  sub.add_flag("--diff", o->diff, "Write nothing; print a unified diff of the changes");
  sub.fallthrough();
  return [o](const Globals& g) { return run_fmt(g, o->paths, o->check, o->diff); };
}

}  // namespace braid::cli
