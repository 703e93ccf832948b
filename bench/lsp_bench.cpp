// The language server's latency (issue 12): the time from a `didChange` to the `publishDiagnostics` of the edited
// file, with `braid lsp` serving a workspace like rules/ (check and lint). Two edits, each toggled back and forth:
// one character in a typical rule's condition, and one character in a list of a shared list file (whose users, and
// the unused-list lint, need the whole workspace). Never run by ctest: bench/lsp.sh runs it.
//   braid_bench_lsp BRAID WORKSPACE RULE_FILE SHARED_FILE [ROUNDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lsp_client.h"

using braid::lsptest::Client;
using braid::lsptest::json;
namespace fs = std::filesystem;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string slurp(const fs::path& p) {
  std::ifstream i(p, std::ios::binary);
  std::stringstream s;
  s << i.rdbuf();
  return s.str();
}

// The first character of a string literal in a condition or list after `anchor`, changed to another letter.
std::string toggled(const std::string& text, const std::string& anchor) {
  size_t a = text.find(anchor);
  if (a == std::string::npos) throw std::runtime_error("anchor `" + anchor + "` not found");
  size_t q = text.find('"', a);
  std::string t = text;
  t[q + 1] = t[q + 1] == 'x' ? 'y' : 'x';
  return t;
}

void report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]; };
  std::printf("%-34s n=%-3zu median %7.1f ms  p90 %7.1f ms  min %7.1f ms  max %7.1f ms\n", what, v.size(), at(0.5),
              at(0.9), v.front(), v.back());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: braid_bench_lsp BRAID WORKSPACE RULE_FILE SHARED_FILE [ROUNDS]\n");
    return 2;
  }
  std::string braid = argv[1];
  fs::path ws = fs::absolute(argv[2]), rule = fs::absolute(argv[3]), shared = fs::absolute(argv[4]);
  int rounds = argc > 5 ? std::atoi(argv[5]) : 30;
  Client c(braid, {"lsp"});
  auto t0 = std::chrono::steady_clock::now();
  json init = c.request("initialize", {{"processId", nullptr}, {"rootUri", "file://" + ws.string()},
                                       {"capabilities", json::object()}});
  double init_ms = ms_since(t0);
  c.notify("initialized", json::object());
  size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(ws)) files += e.path().extension() == ".braid";

  struct Case {
    const char* name;
    fs::path file;
    std::string anchor;
  };
  // account_discovery.braid: `eventSource in [ "organizations...` ; lists_panther.braid: a list its rule uses.
  std::vector<Case> cases = {{"one character in a rule", rule, "eventSource in ["},
                             {"one character in a shared list", shared, "list aws.panther.account_discovery_calls"}};
  int version = 1;
  for (const Case& k : cases) {
    std::string uri = "file://" + k.file.string();
    std::string text = slurp(k.file);
    auto t1 = std::chrono::steady_clock::now();
    c.notify("textDocument/didOpen",
             {{"textDocument", {{"uri", uri}, {"languageId", "braid"}, {"version", ++version}, {"text", text}}}});
    auto first = c.diagnostics(uri);
    if (!first) throw std::runtime_error("no diagnostics for " + uri);
    if (k.file == rule) {
      std::printf("workspace: %zu .braid files under %s\n", files, ws.c_str());
      std::printf("%-34s %7.1f ms\n", "initialize (load and parse)", init_ms);
      std::printf("%-34s %7.1f ms  (the first full check and lint, then the open)\n", "didOpen -> diagnostics", ms_since(t1));
    }
    if (!first->empty()) std::printf("  note: %s has %zu diagnostics\n", k.file.c_str(), first->size());
    std::vector<double> times;
    std::string edited = toggled(text, k.anchor);
    for (int i = 0; i < rounds; ++i) {
      const std::string& next = i % 2 == 0 ? edited : text;
      auto t = std::chrono::steady_clock::now();
      c.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", ++version}}},
                                          {"contentChanges", json::array({{{"text", next}}})}});
      int want = version;
      auto got = c.wait_notification("textDocument/publishDiagnostics", [&](const json& p) {
        return p.value("uri", "") == uri && p.value("version", -1) == want;
      });
      if (!got) throw std::runtime_error("no diagnostics after a change");
      times.push_back(ms_since(t));
    }
    report(k.name, times);
    c.notify("textDocument/didClose", {{"textDocument", {{"uri", uri}}}});
  }
  c.request("shutdown", nullptr);
  c.notify("exit", nullptr);
  return c.wait_exit() == 0 ? 0 : 1;
}
