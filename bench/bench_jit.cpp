// JIT benchmarks: compile time, pack load time (cold, cached object code, native code in the pack), and events
// per second of the JIT against the reference interpreter on the same stream. Figures: docs/performance.md, "JIT".
//
//   BM_Lower/N                 codegen::lower_program: typed IR -> LLVM bitcode (N generated rules)
//   BM_CompileObject/N/L       rt::compile_object(bitcode, L): bitcode -> relocatable object, opt level L
//   BM_JitLoad/N/C             rt::JitProgram::load at the default opt level; C = 0: cold (no cache, code
//                              generation), 1: the object from a warm on-disk cache (a temporary directory)
//   BM_PackReady/N/M           "ready to run": a signed pack's bytes in memory -> load_pack (verify, decode) ->
//                              JitProgram::load -> make_matcher. M = 0: cold (JIT the pack's bitcode, no cache),
//                              1: cached object code (warm cache), 2: native code shipped in the pack
//   BM_EventsInterp/R          the whole stream through rt::Engine (RecordReader -> process_json -> finish) with the
//                              interpreter; rules R = 0: the shipped rules (rules/ + stdlib, via the driver),
//                              1: 1,000 generated rules
//   BM_EventsJit/R/L           the same with the JIT at opt level L (compiled once per process, outside the loop)
//
// The generated rules come from bench/rulegen.cpp (self-contained: their own CloudTrail-like source, no stdlib).
// The stream is $BRAID_BENCH_STREAM, else /tmp/benign.ndjson, made with
//   braid-gen --seed 7 --background 100000 --hours 72 --gcp --github -o /tmp/benign.ndjson
// Run with --benchmark_repetitions=3 (the BM_Events* passes take seconds each; they run one pass per repetition).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ast/ast.h"
#include "check/checker.h"
#include "codegen/codegen.h"
#include "diag/diagnostic.h"
#include "diag/source.h"
#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "engine/matcher.h"
#include "input/reader.h"
#include "ir/ir.h"
#include "jit/jit.h"
#include "pack/pack.h"
#include "parser/parser.h"
#include "rulegen.h"

namespace {

using namespace braid;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// A checked rule set, its bitcode and (for packs) the source manager its spans point into.
struct RuleProgram {
  SourceManager sm;                       // generated rules
  std::unique_ptr<Compilation> compiled;  // shipped rules (the driver owns sm and program)
  ast::File file;
  std::unique_ptr<ir::Program> owned;
  const ir::Program* program = nullptr;
  const SourceManager* sources = nullptr;
  std::string bitcode;
  std::string error;  // non-empty: unusable
  size_t rules = 0;
};

std::string first_error(const DiagnosticSink& diags) {
  for (const Diagnostic& d : diags.all())
    if (d.severity == Severity::Error) return std::string(code_info(d.code).id) + " " + d.message;
  return "no error";
}

void lower_into(RuleProgram& r) {
  codegen::CodegenResult cg = codegen::lower_program(*r.program);
  if (!cg.ok()) r.error = "codegen failed on " + cg.error_rule + ": " + cg.error;
  r.bitcode = std::move(cg.bitcode);
}

// N generated rules, parsed and checked once per process (no stdlib: they declare their own source).
const RuleProgram& generated(size_t n) {
  static std::map<size_t, std::unique_ptr<RuleProgram>> cache;
  auto& slot = cache[n];
  if (slot) return *slot;
  slot = std::make_unique<RuleProgram>();
  RuleProgram& r = *slot;
  bench::RuleSet rs = bench::generate_rules(n);
  const FileId id = r.sm.add("bench.braid", std::move(rs.text));
  DiagnosticSink diags;
  r.file = parse_file(r.sm, id, diags);
  if (!diags.has_errors()) {
    std::vector<const ast::File*> files{&r.file};
    r.owned = check(files, r.sm, diags);
  }
  if (diags.has_errors() || !r.owned) {
    r.error = "the generated rules do not check: " + first_error(diags);
    return r;
  }
  r.program = r.owned.get();
  r.sources = &r.sm;
  r.rules = r.program->rules.size();
  lower_into(r);
  return r;
}

// The shipped rules (rules/ and the stdlib), through the driver as `braid run --rules rules` compiles them.
const RuleProgram& shipped() {
  static std::unique_ptr<RuleProgram> r = [] {
    auto p = std::make_unique<RuleProgram>();
    p->compiled = compile({BRAID_RULES_DIR}, DriverOptions{});
    if (p->compiled->input_error || p->compiled->diags.error_count() != 0 || !p->compiled->program) {
      p->error = "the shipped rules do not check: " + first_error(p->compiled->diags);
      return p;
    }
    p->program = p->compiled->program.get();
    p->sources = &p->compiled->sm;
    p->rules = p->program->rules.size();
    lower_into(*p);
    return p;
  }();
  return *r;
}

// A private JIT object cache directory (mkdtemp: mode 0700, as the cache requires), removed at exit.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/braid_bench_jit_cache.XXXXXX";
    if (const char* d = ::mkdtemp(tmpl)) path = d;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

const std::string& cache_dir() {
  static TempDir dir;
  if (dir.path.empty()) {
    std::perror("mkdtemp");
    std::exit(2);
  }
  return dir.path;
}

bool usable(benchmark::State& state, const RuleProgram& r) {
  if (!r.error.empty()) {
    state.SkipWithError(r.error.c_str());
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Compile time

void BM_Lower(benchmark::State& state) {
  const RuleProgram& r = generated(static_cast<size_t>(state.range(0)));
  if (!usable(state, r)) return;
  double lower = 0;
  uint32_t functions = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    codegen::CodegenResult cg = codegen::lower_program(*r.program);
    lower += cg.lower_ms;
    functions = cg.functions;
    bytes = cg.bitcode.size();
    benchmark::DoNotOptimize(cg.bitcode.data());
  }
  const auto it = static_cast<double>(state.iterations());
  state.counters["rules"] = static_cast<double>(r.rules);
  state.counters["functions"] = functions;
  state.counters["bitcode_KiB"] = static_cast<double>(bytes) / 1024.0;
  state.counters["lower_ms"] = lower / it;
}

void BM_CompileObject(benchmark::State& state) {
  const RuleProgram& r = generated(static_cast<size_t>(state.range(0)));
  if (!usable(state, r)) return;
  const int level = static_cast<int>(state.range(1));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string error;
    auto obj = rt::compile_object(r.bitcode, level, error);
    if (!obj) {
      state.SkipWithError(("compile_object failed: " + error).c_str());
      return;
    }
    bytes = obj->size();
    benchmark::DoNotOptimize(obj->data());
  }
  state.counters["rules"] = static_cast<double>(r.rules);
  state.counters["object_KiB"] = static_cast<double>(bytes) / 1024.0;
}

void add_jit_counters(benchmark::State& state, double codegen, double link, double total) {
  const auto it = static_cast<double>(state.iterations());
  state.counters["codegen_ms"] = codegen / it;
  state.counters["link_ms"] = link / it;
  state.counters["jit_total_ms"] = total / it;
}

void BM_JitLoad(benchmark::State& state) {
  const RuleProgram& r = generated(static_cast<size_t>(state.range(0)));
  if (!usable(state, r)) return;
  const bool cached = state.range(1) != 0;
  rt::JitOptions jo;
  jo.use_cache = cached;
  jo.cache_dir = cache_dir();
  const auto want = cached ? rt::JitStats::ObjectSource::Cache : rt::JitStats::ObjectSource::Codegen;
  std::string error;
  if (cached && !rt::JitProgram::load(*r.program, r.bitcode, jo, error)) {  // warm the cache
    state.SkipWithError(("JIT failed: " + error).c_str());
    return;
  }
  double codegen = 0, link = 0, total = 0;
  for (auto _ : state) {
    auto jit = rt::JitProgram::load(*r.program, r.bitcode, jo, error);
    if (!jit || jit->stats().object_source != want) {
      state.SkipWithError(jit ? "unexpected object source" : ("JIT failed: " + error).c_str());
      return;
    }
    auto m = jit->make_matcher();
    benchmark::DoNotOptimize(m.get());
    codegen += jit->stats().codegen_ms;
    link += jit->stats().link_ms;
    total += jit->stats().total_ms;
  }
  state.counters["rules"] = static_cast<double>(r.rules);
  add_jit_counters(state, codegen, link, total);
}

// ---------------------------------------------------------------------------------------------------------------
// Pack load: bytes in memory -> matcher

struct PackBytes {
  std::string plain;        // bitcode only
  std::string with_native;  // bitcode + native code for this CPU
  pack::PublicKey key{};
  std::string error;
};

const PackBytes& pack_bytes(size_t n) {
  static std::map<size_t, std::unique_ptr<PackBytes>> cache;
  auto& slot = cache[n];
  if (slot) return *slot;
  slot = std::make_unique<PackBytes>();
  PackBytes& p = *slot;
  const RuleProgram& r = generated(n);
  if (!r.error.empty()) {
    p.error = r.error;
    return p;
  }
  pack::KeyPair kp = pack::generate_keypair();
  p.key = kp.pub;
  pack::PackOptions po;
  po.compiler_version = "braid bench";
  po.sign_key = kp.secret;
  po.bitcode = r.bitcode;
  p.plain = pack::write_pack(*r.program, *r.sources, po);
  std::string error;
  auto obj = rt::compile_object(r.bitcode, rt::kDefaultJitOptLevel, error);
  if (!obj) {
    p.error = "compile_object failed: " + error;
    return p;
  }
  po.native = pack::NativeCode{rt::host_cpu(), rt::host_features(), rt::jit_llvm_version(), std::move(*obj)};
  p.with_native = pack::write_pack(*r.program, *r.sources, po);
  return p;
}

void BM_PackReady(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const PackBytes& p = pack_bytes(n);
  if (!p.error.empty()) {
    state.SkipWithError(p.error.c_str());
    return;
  }
  const int mode = static_cast<int>(state.range(1));  // 0 cold, 1 cached, 2 native in the pack
  const std::string& bytes = mode == 2 ? p.with_native : p.plain;
  const std::vector<pack::PublicKey> trusted{p.key};
  rt::JitOptions base;
  base.use_cache = mode == 1;
  base.cache_dir = cache_dir();
  const auto want = mode == 0   ? rt::JitStats::ObjectSource::Codegen
                    : mode == 1 ? rt::JitStats::ObjectSource::Cache
                                : rt::JitStats::ObjectSource::Pack;
  std::string error;
  if (mode == 1) {  // warm the cache with this pack's bitcode
    auto loaded = pack::load_pack(bytes, trusted, false);
    if (!loaded || !rt::JitProgram::load(loaded->program, loaded->bitcode, base, error)) {
      state.SkipWithError(loaded ? ("JIT failed: " + error).c_str() : loaded.error().message.c_str());
      return;
    }
  }
  double load_pack_ms = 0, codegen = 0, link = 0, total = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto loaded = pack::load_pack(bytes, trusted, false);
    if (!loaded) {
      state.SkipWithError(loaded.error().message.c_str());
      return;
    }
    load_pack_ms += ms_since(t0);
    rt::JitOptions jo = base;
    if (mode == 2) {
      if (!pack::native_usable(*loaded, rt::host_cpu(), rt::host_features(), rt::jit_llvm_version())) {
        state.SkipWithError("the pack's native code is not usable here");
        return;
      }
      jo.native_object = &loaded->native->object;
    }
    auto jit = rt::JitProgram::load(loaded->program, loaded->bitcode, jo, error);
    if (!jit || jit->stats().object_source != want) {
      state.SkipWithError(jit ? "unexpected object source" : ("JIT failed: " + error).c_str());
      return;
    }
    auto m = jit->make_matcher();
    benchmark::DoNotOptimize(m.get());
    codegen += jit->stats().codegen_ms;
    link += jit->stats().link_ms;
    total += jit->stats().total_ms;
  }
  state.counters["rules"] = static_cast<double>(n);
  state.counters["pack_KiB"] = static_cast<double>(bytes.size()) / 1024.0;
  state.counters["load_pack_ms"] = load_pack_ms / static_cast<double>(state.iterations());
  add_jit_counters(state, codegen, link, total);
}

// ---------------------------------------------------------------------------------------------------------------
// Events per second

std::string stream_path() {
  const char* env = std::getenv("BRAID_BENCH_STREAM");
  return env && *env ? env : "/tmp/benign.ndjson";
}

// The JIT of a rule set at one opt level, compiled once per process (outside the timed loops).
const rt::JitProgram* jit_for(const RuleProgram& r, int level, std::string& error) {
  static std::map<std::pair<const RuleProgram*, int>, std::unique_ptr<rt::JitProgram>> cache;
  auto& slot = cache[{&r, level}];
  if (!slot) {
    rt::JitOptions jo;
    jo.opt_level = level;
    jo.use_cache = false;
    slot = rt::JitProgram::load(*r.program, r.bitcode, jo, error);
  }
  return slot.get();
}

// One pass of the stream through an engine, as `braid run` feeds it (record by record, from the reader).
void run_events(benchmark::State& state, const RuleProgram& r, const rt::JitProgram* jit) {
  const std::string path = stream_path();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    state.SkipWithError(("no stream " + path + ": make it with braid-gen --seed 7 --background 100000 --hours 72 "
                         "--gcp --github -o /tmp/benign.ndjson, or set BRAID_BENCH_STREAM")
                            .c_str());
    return;
  }
  uint64_t records = 0, bytes = 0, alerts = 0, unrouted = 0, sessions = 0;
  for (auto _ : state) {
    rt::EngineOptions eo;
    eo.matcher = jit ? jit->make_matcher() : nullptr;
    eo.processing_time = 0;
    rt::Engine engine(*r.program, eo);
    uint64_t a = 0;
    engine.set_sink([&](const rt::Alert&) { ++a; });
    rt::RecordReader reader;
    reader.add_path(path);
    rt::Record rec;
    while (reader.next(rec)) engine.process_json(rec.json(), reader.path(rec.origin.input), rec.origin.line);
    engine.finish();
    records += engine.stats().records_read;
    bytes += reader.stats().bytes;
    alerts = a;
    unrouted = engine.stats().unrouted;
    sessions = engine.stats().sessions_opened;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["rules"] = static_cast<double>(r.rules);
  state.counters["alerts"] = static_cast<double>(alerts);
  state.counters["unrouted"] = static_cast<double>(unrouted);
  state.counters["sessions"] = static_cast<double>(sessions);
}

void BM_EventsInterp(benchmark::State& state) {
  const RuleProgram& r = state.range(0) == 0 ? shipped() : generated(1000);
  if (usable(state, r)) run_events(state, r, nullptr);
}

void BM_EventsJit(benchmark::State& state) {
  const RuleProgram& r = state.range(0) == 0 ? shipped() : generated(1000);
  if (!usable(state, r)) return;
  std::string error;
  const rt::JitProgram* jit = jit_for(r, static_cast<int>(state.range(1)), error);
  if (!jit) {
    state.SkipWithError(("JIT failed: " + error).c_str());
    return;
  }
  run_events(state, r, jit);
}

BENCHMARK(BM_Lower)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompileObject)
    ->ArgsProduct({{10, 100, 1000}, {0, 1, 2}})
    ->ArgNames({"rules", "opt"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JitLoad)
    ->ArgsProduct({{10, 100, 1000}, {0, 1}})
    ->ArgNames({"rules", "cached"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PackReady)
    ->ArgsProduct({{10, 100, 1000}, {0, 1, 2}})
    ->ArgNames({"rules", "mode"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EventsInterp)->ArgNames({"generated"})->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EventsJit)
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->ArgNames({"generated", "opt"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("JIT: LLVM %s, host cpu %s, default opt level %d; stream %s; cache %s\n",
              rt::jit_llvm_version().c_str(), rt::host_cpu().c_str(), rt::kDefaultJitOptLevel,
              stream_path().c_str(), cache_dir().c_str());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
