// `braid build PATH... -o FILE [--sign KEYFILE] [--native]`: compile rules (with the stdlib) into one rule pack
// (docs/pack-format.md). Exit 1 when the rules have errors, 2 for unreadable or unwritable files.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "codegen/codegen.h"
#include "diag/render.h"
#include "driver/driver.h"
#include "ir/ir.h"
#include "jit/jit.h"
#include "pack/pack.h"
#include "pack_files.h"
#include "verbs.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::cli {

namespace {

struct BuildOptions {
  std::vector<std::string> paths;
  std::string out;    // --output
  std::string sign;   // --sign KEYFILE
  bool native = false;  // --native
};

int run_build(const BuildOptions& v, const std::string& color) {
  std::optional<pack::SecretKey> key;
  if (!v.sign.empty()) {
    std::string text = read_or_throw(v.sign, "signing key");
    std::string error;
    key = pack::parse_secret_key(text, error);
    if (!key) throw UsageError{fmt::format("signing key `{}`: {}", sanitize_utf8(v.sign), error)};
  }
  int rc = kExitClean;
  auto c = compile_or_report(v.paths, DriverOptions{}, color,
                             "braid: no pack written: the rules have errors (see `braid check`)\n", rc);
  if (!c) return rc;

  pack::PackOptions po;
  po.compiler_version = std::string("braid ") + BRAID_VERSION;
  po.sign_key = key;
  // The LLVM bitcode of every rule (what the runtime JIT-compiles), and optionally native code for this CPU.
  codegen::CodegenResult cg = codegen::lower_program(*c->program);
  if (!cg.ok()) {
    err(fmt::format("braid: error: cannot compile {} to LLVM IR: {}\nbraid: no pack written\n",
                    cg.error_rule.empty() ? std::string("the rules") : "rule `" + cg.error_rule + "`", cg.error));
    return kExitUsage;
  }
  po.bitcode = std::move(cg.bitcode);
  if (v.native) {
    std::string error;
    auto obj = rt::compile_object(po.bitcode, rt::kDefaultJitOptLevel, error);
    if (!obj) {
      err(fmt::format("braid: error: cannot compile native code: {}\nbraid: no pack written\n", error));
      return kExitUsage;
    }
    po.native = pack::NativeCode{rt::host_cpu(), rt::host_features(), rt::jit_llvm_version(), std::move(*obj)};
  }
  std::string bytes = pack::write_pack(*c->program, c->sm, po);

  // Written next to the target and renamed over it, so a reader never sees half a pack.
  std::string tmp = v.out + ".tmp";
  ::unlink(tmp.c_str());
  if (!write_whole(tmp, bytes, 0644, true) || std::rename(tmp.c_str(), v.out.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(v.out), std::strerror(e))};
  }
  std::string signer = key ? fmt::format("signed by key {}", pack::key_id(pack::public_of(*key))) : "unsigned";
  std::string native = v.native ? fmt::format(", native code for {}", rt::host_cpu()) : std::string();
  err(fmt::format("braid: wrote {}: {} rules, {} bytes, {}{}\n", sanitize_utf8(v.out), c->program->rules.size(),
                  bytes.size(), signer, native));
  return kExitClean;
}

}  // namespace

VerbAction add_build_verb(CLI::App& sub) {
  auto o = std::make_shared<BuildOptions>();
  sub.add_option("paths", o->paths, "Rule files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  sub.add_option("--output,-o", o->out, "The pack to write")->required()->type_name("FILE");
  sub.add_option("--sign", o->sign, "Sign the pack with this secret key (from `braid keygen`)")->type_name("KEYFILE");
  sub.add_flag("--native", o->native,
               "Also ship native code for this machine's CPU (used by `braid run --pack` on the same CPU and "
               "LLVM; elsewhere the pack's bitcode is compiled)");
  sub.fallthrough();
  return [o](const Globals& g) {
    if (g.format_given) throw UsageError{"--format does not apply to build"};
    return run_build(*o, g.color);
  };
}

}  // namespace braid::cli
