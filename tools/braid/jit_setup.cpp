// Engine preparation for braid run / braid test (jit_setup.h).
#include "jit_setup.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "codegen/codegen.h"
#include "pack/pack.h"
#include "json_tree.h"
#include "verbs.h"

namespace braid::cli {

std::unique_ptr<PreparedEngine> prepare_engine(const ir::Program& program, const pack::LoadedPack* pack,
                                               const EngineChoice& choice) {
  auto out = std::make_unique<PreparedEngine>();
  if (choice.engine == "interp") return out;
  std::string bitcode;
  rt::JitOptions jo;
  if (pack && !pack->bitcode.empty()) {
    // The pack's bitcode (signed with it); its native code when it was built for this CPU and LLVM.
    bitcode = pack->bitcode;
    std::string why = pack::native_mismatch(*pack, rt::host_cpu(), rt::host_features(), rt::jit_llvm_version());
    if (pack->native && why.empty()) jo.native_object = &pack->native->object;
    else if (pack->native) err(fmt::format("braid: note: the pack's native code is not used: {}\n", why));
  } else {
    codegen::CodegenResult cg = codegen::lower_program(program);
    if (!cg.ok()) {
      err(fmt::format("braid: error: cannot compile {} to native code: {}\n"
                      "braid: note: `--engine=interp` runs the rules with the interpreter instead\n",
                      cg.error_rule.empty() ? std::string("the rules") : "rule `" + cg.error_rule + "`", cg.error));
      return nullptr;
    }
    out->codegen_lower_ms = cg.lower_ms;
    bitcode = std::move(cg.bitcode);
  }
  if (const char* dump = std::getenv("BRAID_DUMP_BITCODE"); dump && *dump) {  // a debugging aid (docs/development.md)
    if (FILE* f = std::fopen(dump, "wb")) {
      std::fwrite(bitcode.data(), 1, bitcode.size(), f);
      std::fclose(f);
    }
  }
  jo.use_cache = choice.cache;
  if (const char* lvl = std::getenv("BRAID_JIT_OPT"); lvl && *lvl >= '0' && *lvl <= '2' && !lvl[1]) jo.opt_level = *lvl - '0';
  std::string error;
  out->jit = rt::JitProgram::load(program, bitcode, jo, error);
  if (!out->jit) {
    err(fmt::format("braid: error: the JIT failed: {}\n"
                    "braid: note: `--engine=interp` runs the rules with the interpreter instead\n",
                    error));
    return nullptr;
  }
  if (!out->jit->stats().cache_warning.empty() && choice.cache)
    err(fmt::format("braid: warning: JIT object cache: {}\n", out->jit->stats().cache_warning));
  if (!out->jit->stats().prefilter_warning.empty())
    err(fmt::format("braid: warning: prefilter: {}\n", out->jit->stats().prefilter_warning));
  return out;
}

std::string jit_stats_text(const PreparedEngine& e) {
  if (!e.jit) return "engine             interp\n";
  const rt::JitStats& s = e.jit->stats();
  return fmt::format(
      "engine             jit ({}; cpu {}; object from {}, {} bytes)\n"
      "jit time           lower {:.1f} ms, codegen {:.1f} ms, link {:.1f} ms, prefilter {:.1f} ms ({} databases, {} "
      "cached)\n",
      rt::jit_llvm_version(), s.cpu, rt::object_source_name(s.object_source), s.object_bytes, e.codegen_lower_ms,
      s.codegen_ms, s.link_ms, s.prefilter_ms, s.prefilter_databases, s.prefilter_cached);
}

std::string jit_stats_json(const PreparedEngine& e) {
  if (!e.jit) return ",\"engine\":\"interp\"";
  const rt::JitStats& s = e.jit->stats();
  return fmt::format(
      ",\"engine\":\"jit\",\"jit\":{{\"cpu\":\"{}\",\"object_source\":\"{}\",\"object_bytes\":{},\"lower_ms\":{:.3f},"
      "\"codegen_ms\":{:.3f},\"link_ms\":{:.3f},\"prefilter_ms\":{:.3f},\"prefilter_databases\":{},"
      "\"prefilter_cached\":{},\"prefilter_warning\":{}}}",
      s.cpu, rt::object_source_name(s.object_source), s.object_bytes, e.codegen_lower_ms, s.codegen_ms,
      s.link_ms, s.prefilter_ms, s.prefilter_databases, s.prefilter_cached, json::quote(s.prefilter_warning));
}

}  // namespace braid::cli
