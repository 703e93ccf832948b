// The JIT (jit.h): bitcode -> object (TargetMachine, host CPU) -> ORC LLJIT -> dispatch function pointers.
// We produce the object ourselves rather than letting LLJIT compile lazily, so the object can be cached on disk
// (and shipped in packs); LLJIT then only links it.
#include "jit/jit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/ErrorHandling.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "codegen/helper_abi.h"
#include "digest/sha256.h"
#include "jit/helpers.h"

namespace braid::rt {

namespace {

void init_llvm() {
  static const bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)done;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}


// LLVM's fatal errors must not return: end the process with a clear message and exit code 2, not an abort.
void on_llvm_fatal(void*, const char* reason, bool) {
  std::fprintf(stderr,
               "braid: error: LLVM failed while generating native code for the rules: %s\n"
               "braid: note: `--engine interp` runs the rules without LLVM\n",
               reason ? reason : "(no reason given)");
  std::fflush(stderr);
  std::_Exit(2);
}

// The cache directory, created 0700 if missing; empty (and `warning` set) when it is absent or unsafe.
std::string cache_dir(const JitOptions& o, std::string& warning) {
  std::string dir = o.cache_dir;
  if (dir.empty()) {
    if (const char* e = std::getenv("BRAID_CACHE_DIR"); e && *e) dir = e;
    else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::string(x) + "/braid/jit";
    else if (const char* h = std::getenv("HOME"); h && *h) dir = std::string(h) + "/.cache/braid/jit";
  }
  if (dir.empty()) {
    warning = "no cache directory (set BRAID_CACHE_DIR or HOME)";
    return {};
  }
  // mkdir -p, each missing level 0700.
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      warning = fmt::format("cannot create {}: {}", part, std::strerror(errno));
      return {};
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    warning = fmt::format("{} is not a directory", dir);
    return {};
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    warning = fmt::format("{} is owned by another user or writable by others; not using it (cached objects are "
                          "executed)",
                          dir);
    return {};
  }
  return dir;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return static_cast<bool>(in) || in.eof();
}

// Write to a temporary file and rename, so a concurrent reader never sees a partial object.
void write_file_atomic(const std::string& path, std::string_view data) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  ::close(fd);
  if (off == data.size()) ::rename(tmp.c_str(), path.c_str());
  else ::unlink(tmp.c_str());
}

}  // namespace

std::string_view object_source_name(JitStats::ObjectSource s) {
  switch (s) {
    case JitStats::ObjectSource::Codegen: return "codegen";
    case JitStats::ObjectSource::Cache: return "cache";
    case JitStats::ObjectSource::Pack: return "pack";
  }
  return "?";
}

std::string host_cpu() {
  return llvm::sys::getHostCPUName().str();
}

std::string host_features() {
  std::vector<std::string> on;
  for (const auto& kv : llvm::sys::getHostCPUFeatures())
    on.push_back((kv.getValue() ? "+" : "-") + kv.getKey().str());
  std::sort(on.begin(), on.end());
  std::string out;
  for (const auto& s : on) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string jit_llvm_version() { return LLVM_VERSION_STRING; }

std::optional<std::string> compile_object(std::string_view bitcode, int opt_level, std::string& error) {
  init_llvm();
  llvm::ScopedFatalErrorHandler fatal(on_llvm_fatal, nullptr);
  llvm::LLVMContext ctx;
  auto buf = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()), "braid", false);
  auto mod = llvm::parseBitcodeFile(buf->getMemBufferRef(), ctx);
  if (!mod) {
    error = "invalid LLVM bitcode: " + llvm::toString(mod.takeError());
    return std::nullopt;
  }
  std::string triple = llvm::sys::getProcessTriple();
  std::string terr;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, terr);
  if (!target) {
    error = "LLVM has no target for this host: " + terr;
    return std::nullopt;
  }
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, host_cpu(), host_features(), llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      opt_level <= 1 ? llvm::CodeGenOptLevel::None : llvm::CodeGenOptLevel::Default));
  if (!tm) {
    error = "cannot create an LLVM target machine for " + host_cpu();
    return std::nullopt;
  }
  (*mod)->setTargetTriple(triple);
  (*mod)->setDataLayout(tm->createDataLayout());
  if (opt_level > 0) {
    // The IR pipeline, for this CPU (the bitcode is unoptimised and CPU-neutral).
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(
        opt_level == 1 ? llvm::OptimizationLevel::O1 : llvm::OptimizationLevel::O2);
    mpm.run(**mod, mam);
  }
  llvm::SmallVector<char, 0> obj;
  llvm::raw_svector_ostream os(obj);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "LLVM cannot emit an object file for this target";
    return std::nullopt;
  }
  pm.run(**mod);
  return std::string(obj.data(), obj.size());
}

// ---------------------------------------------------------------------------------------------------------------

struct JitProgram::Impl {
  const ir::Program* program = nullptr;
  ir::MatchPlan plan;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  using DispatchFn = uint32_t (*)(BraidFrame*, uint32_t*, const uint64_t*);
  using RecognizeFn = uint8_t (*)(BraidFrame*);
  using ExprFn = void (*)(BraidFrame*, BraidValue*);
  std::unordered_map<uint64_t, ExprFn> exprs;  // (source << 32 | node) -> compiled source clause
  std::vector<DispatchFn> dispatch;
  std::vector<RecognizeFn> recognize;
  std::vector<std::vector<uint32_t>> field_slot;  // per source: FieldId -> slot
  std::unique_ptr<Prefilter> prefilter;           // the plan's literal prefilters (prefilter.h)
  JitStats stats;
};

JitProgram::JitProgram() : impl_(std::make_unique<Impl>()) {}
JitProgram::~JitProgram() = default;
const JitStats& JitProgram::stats() const { return impl_->stats; }
const ir::MatchPlan& JitProgram::plan() const { return impl_->plan; }

std::unique_ptr<JitProgram> JitProgram::load(const ir::Program& program, std::string_view bitcode,
                                             const JitOptions& options, std::string& error) {
  auto t0 = std::chrono::steady_clock::now();
  init_llvm();
  std::unique_ptr<JitProgram> jp(new JitProgram());
  Impl& m = *jp->impl_;
  m.program = &program;
  m.plan = ir::build_match_plan(program);
  m.stats.bitcode_bytes = bitcode.size();
  m.stats.cpu = host_cpu();
  m.stats.features = host_features();
  std::string dir = options.use_cache ? cache_dir(options, m.stats.cache_warning) : std::string();

  // The prefilter's databases: built, or loaded from the cache directory (keyed by their literals and the CPU).
  auto tp = std::chrono::steady_clock::now();
  PrefilterCache pcache;
  auto hs_file = [&](const std::string& key) {
    return dir + "/" + sha256_hex(fmt::format("{}\n{}\n{}", key, m.stats.cpu, m.stats.features)) + ".hs";
  };
  pcache.load = [&](const std::string& key, std::string& bytes) { return read_file(hs_file(key), bytes); };
  pcache.store = [&](const std::string& key, std::string_view bytes) { write_file_atomic(hs_file(key), bytes); };
  m.prefilter = Prefilter::build(m.plan, dir.empty() ? nullptr : &pcache);
  m.stats.prefilter_ms = ms_since(tp);
  m.stats.prefilter_databases = m.prefilter->databases();
  m.stats.prefilter_cached = m.prefilter->cached();
  m.stats.prefilter_warning = m.prefilter->warning();

  // The object: shipped in the pack, cached, or generated now.
  std::string object;
  if (options.native_object) {
    object = *options.native_object;
    m.stats.object_source = JitStats::ObjectSource::Pack;
  } else {
    std::string key = sha256_hex(fmt::format("{}\n{}\n{}\n{}\n{}", sha256_hex(bitcode), m.stats.cpu,
                                             m.stats.features, jit_llvm_version(), options.opt_level));
    if (!dir.empty()) m.stats.cache_file = dir + "/" + key + ".o";
    if (!m.stats.cache_file.empty() && read_file(m.stats.cache_file, object) && object.size() >= 4 &&
        object.compare(0, 4, "\x7f" "ELF") == 0) {
      m.stats.object_source = JitStats::ObjectSource::Cache;
    } else {
      auto tc = std::chrono::steady_clock::now();
      auto obj = compile_object(bitcode, options.opt_level, error);
      if (!obj) return nullptr;
      object = std::move(*obj);
      m.stats.codegen_ms = ms_since(tc);
      m.stats.object_source = JitStats::ObjectSource::Codegen;
      if (!m.stats.cache_file.empty()) write_file_atomic(m.stats.cache_file, object);
    }
  }
  m.stats.object_bytes = object.size();

  auto tl = std::chrono::steady_clock::now();
  // Links `object` into a fresh LLJIT and finds every entry point; false + `error` on any failure.
  auto link = [&](const std::string& bytes) -> bool {
    auto jit = llvm::orc::LLJITBuilder().create();
    if (!jit) {
      error = "cannot start the LLVM JIT: " + llvm::toString(jit.takeError());
      return false;
    }
    m.jit = std::move(*jit);
    llvm::orc::SymbolMap syms;
    size_t n = 0;
    const HelperSymbol* hs = helper_symbols(n);
    for (size_t i = 0; i < n; ++i)
      syms[m.jit->mangleAndIntern(hs[i].name)] = llvm::orc::ExecutorSymbolDef(
          llvm::orc::ExecutorAddr::fromPtr(hs[i].address), llvm::JITSymbolFlags::Exported);
    if (auto err = m.jit->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(syms)))) {
      error = "cannot define the JIT helper symbols: " + llvm::toString(std::move(err));
      return false;
    }
    // Anything else the code generator introduces (libc) resolves in the process.
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        m.jit->getDataLayout().getGlobalPrefix());
    if (!gen) {
      error = "cannot search the process for symbols: " + llvm::toString(gen.takeError());
      return false;
    }
    m.jit->getMainJITDylib().addGenerator(std::move(*gen));
    auto buf = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(bytes.data(), bytes.size()), "braid-rules.o");
    if (auto err = m.jit->addObjectFile(std::move(buf))) {
      error = "cannot load the compiled rules: " + llvm::toString(std::move(err));
      return false;
    }
    m.dispatch.assign(program.sources.size(), nullptr);
    m.recognize.assign(program.sources.size(), nullptr);
    for (uint32_t s = 0; s < program.sources.size(); ++s) {
      auto d = m.jit->lookup("braid_dispatch_" + std::to_string(s));
      if (!d) {
        error = fmt::format("the compiled rules lack the dispatch function of source {}: {}", program.sources[s].name,
                            llvm::toString(d.takeError()));
        return false;
      }
      m.dispatch[s] = d->toPtr<Impl::DispatchFn>();
      if (program.sources[s].recognize != ir::kNoNode) {
        auto r = m.jit->lookup("braid_recognize_" + std::to_string(s));
        if (!r) {
          error = fmt::format("the compiled rules lack the recognize function of source {}: {}",
                              program.sources[s].name, llvm::toString(r.takeError()));
          return false;
        }
        m.recognize[s] = r->toPtr<Impl::RecognizeFn>();
      }
    }
    for (const auto& [s, node] : ir::clause_expressions(program)) {
      auto e = m.jit->lookup(fmt::format("braid_expr_{}_{}", s, node));
      if (!e) {
        error = fmt::format("the compiled rules lack a clause of source {}: {}", program.sources[s].name,
                            llvm::toString(e.takeError()));
        return false;
      }
      m.exprs[(uint64_t{s} << 32) | node] = e->toPtr<Impl::ExprFn>();
    }
    return true;
  };
  if (!link(object)) {
    if (m.stats.object_source != JitStats::ObjectSource::Cache) return nullptr;
    // A damaged cache entry (truncated, or from a broken disk) must not stop the run: generate and replace it.
    m.stats.cache_warning = fmt::format("cached object {} was unusable ({}); regenerated", m.stats.cache_file, error);
    error.clear();
    auto tc = std::chrono::steady_clock::now();
    auto obj = compile_object(bitcode, options.opt_level, error);
    if (!obj) return nullptr;
    object = std::move(*obj);
    m.stats.codegen_ms = ms_since(tc);
    m.stats.object_source = JitStats::ObjectSource::Codegen;
    m.stats.object_bytes = object.size();
    write_file_atomic(m.stats.cache_file, object);
    if (!link(object)) return nullptr;
  }
  m.stats.link_ms = ms_since(tl);
  m.field_slot.resize(program.sources.size());
  for (size_t s = 0; s < program.sources.size(); ++s) {
    auto& t = m.field_slot[s];
    t.assign(program.fields.size() + 1, ir::kNone);
    for (const auto& [f, slot] : program.sources[s].slot_index)
      if (f < program.fields.size()) t[f] = slot;
  }
  m.stats.total_ms = ms_since(t0);
  return jp;
}

namespace {

class JitMatcher final : public PredicateMatcher {
 public:
  explicit JitMatcher(const JitProgram::Impl& m) : m_(m), scanner_(*m.prefilter) { frame_.runtime = &ctx_; }

  uint32_t match(Interpreter& in, uint32_t source, const Value* slots, const StateView* state,
                 uint32_t* out) override {
    prepare(in, source, slots, state);
    return m_.dispatch[source](&frame_, out, m_.prefilter->scan(scanner_, source, slots));
  }

  MatcherCounters counters() const override {
    const PrefilterCounters& c = scanner_.counters();
    return {c.scans, c.literals, c.selected};
  }

  bool eval(Interpreter& in, uint32_t source, ir::NodeId node, const Value* slots, Value& out) override {
    auto it = m_.exprs.find((uint64_t{source} << 32) | node);
    if (it == m_.exprs.end()) return false;
    prepare(in, source, slots, nullptr);
    it->second(&frame_, reinterpret_cast<BraidValue*>(&out));
    return true;
  }

  int recognize(Interpreter& in, uint32_t source, const Value* slots) override {
    auto fn = m_.recognize[source];
    if (!fn) return -1;
    prepare(in, source, slots, nullptr);
    return fn(&frame_) ? 1 : 0;
  }

 private:
  void prepare(Interpreter& in, uint32_t source, const Value* slots, const StateView* state) {
    ctx_.in = &in;
    ctx_.field_slot = m_.field_slot[source].data();
    ctx_.state = state;
    frame_.slots = reinterpret_cast<const BraidValue*>(slots);
  }

  const JitProgram::Impl& m_;
  Prefilter::Scanner scanner_;
  JitContext ctx_;
  BraidFrame frame_{};
};

}  // namespace

std::shared_ptr<PredicateMatcher> JitProgram::make_matcher() const { return std::make_shared<JitMatcher>(*impl_); }

}  // namespace braid::rt
