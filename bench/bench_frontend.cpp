// Front-end benchmark: parse, and parse + check, over generated rule sets of 10, 100 and 1,000 rules
// (bench/rulegen.cpp). Build and run with bench/run.sh; figures are recorded in docs/performance.md.
//
//   BM_Parse/N        parse_file over the N-rule file              bytes/s (MB/s), decls/s, rules/s
//   BM_Check/N        check over the already parsed AST            decls/s, rules/s
//   BM_ParseCheck/N   parse_file + check, the whole front end      bytes/s, decls/s, rules/s
//
// Every benchmark first verifies that the generated text parses (and checks) without errors, and stops with an
// error otherwise: a benchmark of the error path would measure something else.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ast/ast.h"
#include "check/checker.h"
#include "diag/diagnostic.h"
#include "diag/source.h"
#include "ir/ir.h"
#include "parser/parser.h"
#include "rulegen.h"

namespace {

using namespace braid;

const bench::RuleSet& rule_set(size_t n) {
  static std::map<size_t, bench::RuleSet> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, bench::generate_rules(n)).first;
  return it->second;
}

std::string first_error(const DiagnosticSink& diags, const SourceManager& sm) {
  for (const Diagnostic& d : diags.all()) {
    if (d.severity != Severity::Error) continue;
    std::string where;
    if (d.span.valid()) {
      LineCol lc = sm.file(d.span.file).line_col(d.span.begin);
      where = std::to_string(lc.line) + ":" + std::to_string(lc.col) + ": ";
    }
    return where + std::string(code_info(d.code).id) + " " + d.message;
  }
  return "no error";
}

void set_counters(benchmark::State& state, const bench::RuleSet& rs, bool bytes) {
  const auto iters = static_cast<double>(state.iterations());
  if (bytes) state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(rs.text.size()));
  state.counters["decls/s"] = benchmark::Counter(iters * static_cast<double>(rs.decls), benchmark::Counter::kIsRate);
  state.counters["rules/s"] = benchmark::Counter(iters * static_cast<double>(rs.rules), benchmark::Counter::kIsRate);
  state.counters["KiB"] = static_cast<double>(rs.text.size()) / 1024.0;
}

void BM_Parse(benchmark::State& state) {
  const bench::RuleSet& rs = rule_set(static_cast<size_t>(state.range(0)));
  SourceManager sm;
  const FileId id = sm.add("bench.braid", rs.text);
  {
    DiagnosticSink diags;
    ast::File f = parse_file(sm, id, diags);
    if (diags.has_errors() || f.decls.size() != rs.decls) {
      state.SkipWithError(("the generated rules do not parse: " + first_error(diags, sm) + ", " +
                           std::to_string(f.decls.size()) + " declarations").c_str());
      return;
    }
  }
  for (auto _ : state) {
    DiagnosticSink diags;
    ast::File f = parse_file(sm, id, diags);
    benchmark::DoNotOptimize(f.decls.data());
  }
  set_counters(state, rs, true);
}

bool check_once(benchmark::State& state, const SourceManager& sm, const ast::File& f) {
  DiagnosticSink diags;
  std::vector<const ast::File*> files{&f};
  std::unique_ptr<ir::Program> p = check(files, sm, diags);
  if (!p || diags.has_errors()) {
    state.SkipWithError(("the generated rules do not check: " + first_error(diags, sm)).c_str());
    return false;
  }
  return true;
}

void BM_Check(benchmark::State& state) {
  const bench::RuleSet& rs = rule_set(static_cast<size_t>(state.range(0)));
  SourceManager sm;
  const FileId id = sm.add("bench.braid", rs.text);
  DiagnosticSink parse_diags;
  const ast::File f = parse_file(sm, id, parse_diags);
  if (parse_diags.has_errors()) {
    state.SkipWithError(("the generated rules do not parse: " + first_error(parse_diags, sm)).c_str());
    return;
  }
  if (!check_once(state, sm, f)) return;
  const std::vector<const ast::File*> files{&f};
  for (auto _ : state) {
    DiagnosticSink diags;
    std::unique_ptr<ir::Program> p = check(files, sm, diags);
    benchmark::DoNotOptimize(p.get());
  }
  set_counters(state, rs, false);
}

void BM_ParseCheck(benchmark::State& state) {
  const bench::RuleSet& rs = rule_set(static_cast<size_t>(state.range(0)));
  SourceManager sm;
  const FileId id = sm.add("bench.braid", rs.text);
  {
    DiagnosticSink diags;
    const ast::File f = parse_file(sm, id, diags);
    if (diags.has_errors()) {
      state.SkipWithError(("the generated rules do not parse: " + first_error(diags, sm)).c_str());
      return;
    }
    if (!check_once(state, sm, f)) return;
  }
  for (auto _ : state) {
    DiagnosticSink diags;
    const ast::File f = parse_file(sm, id, diags);
    const std::vector<const ast::File*> files{&f};
    std::unique_ptr<ir::Program> p = check(files, sm, diags);
    benchmark::DoNotOptimize(p.get());
  }
  set_counters(state, rs, true);
}

BENCHMARK(BM_Parse)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Check)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseCheck)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

// `--dump-rules=N` prints the generated N-rule file and exits (to look at it, or to time `braid check` on it).
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--dump-rules=", 0) == 0) {
      const bench::RuleSet rs = bench::generate_rules(std::stoul(arg.substr(13)));
      std::fwrite(rs.text.data(), 1, rs.text.size(), stdout);
      return 0;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
