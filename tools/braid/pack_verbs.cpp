// The pack verbs: `braid keygen`, `braid build`, `braid inspect`, and the pack loading of `braid run --pack`.
// Exit codes: 0 done; 1 the rules have errors (build) or the pack is refused (inspect, run: truncated, corrupted,
// wrong version or architecture, bad or untrusted signature, unsigned without --allow-unsigned); 2 usage errors
// and files that cannot be read or written.
#include <fcntl.h>
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

#include "codegen/codegen.h"
#include "diag/render.h"
#include "driver/driver.h"
#include "ir/ir.h"
#include "jit/jit.h"
#include "json_tree.h"
#include "pack/pack.h"
#include "verbs.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::cli {

struct PackVerbs {
  CLI::App* keygen = nullptr;
  CLI::App* build = nullptr;
  CLI::App* inspect = nullptr;
  std::string keygen_out;
  std::vector<std::string> build_paths;
  std::string build_out, build_sign;
  bool build_native = false;
  std::string inspect_file;
  std::vector<std::string> inspect_keys;
};

namespace {

std::string read_or_throw(const std::string& path, const char* what) {
  std::string text, error;
  if (!read_file(path, text, error)) {
    throw UsageError{fmt::format("cannot read {} `{}`: {}", what, sanitize_utf8(path), error)};
  }
  return text;
}

// Writes the whole file with the given mode; `exclusive`: fail if it exists. False + errno on failure.
bool write_whole(const std::string& path, std::string_view data, mode_t mode, bool exclusive) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

std::vector<pack::PublicKey> read_trusted_keys(const std::vector<std::string>& files) {
  std::vector<pack::PublicKey> keys;
  for (const std::string& f : files) {
    std::string text = read_or_throw(f, "trusted key file");
    std::string error;
    auto parsed = pack::parse_public_keys(text, error);
    if (!parsed) throw UsageError{fmt::format("trusted key file `{}`: {}", sanitize_utf8(f), error)};
    keys.insert(keys.end(), parsed->begin(), parsed->end());
  }
  return keys;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

int run_keygen(const PackVerbs& v) {
  pack::KeyPair kp = pack::generate_keypair();
  std::string pub_path = v.keygen_out + ".pub";
  for (const std::string& p : {v.keygen_out, pub_path}) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
      throw UsageError{fmt::format("`{}` exists: refusing to overwrite a key (remove it first)", sanitize_utf8(p))};
    }
  }
  if (!write_whole(v.keygen_out, pack::format_secret_key(kp.secret), 0600, true)) {
    throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(v.keygen_out), std::strerror(errno))};
  }
  if (!write_whole(pub_path, pack::format_public_key(kp.pub), 0644, true)) {
    int e = errno;
    ::unlink(v.keygen_out.c_str());
    throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(pub_path), std::strerror(e))};
  }
  err(fmt::format("braid: wrote the secret key to {} (mode 0600) and the public key to {}; key id {}\n",
                  sanitize_utf8(v.keygen_out), sanitize_utf8(pub_path), pack::key_id(kp.pub)));
  return kExitClean;
}

int run_build(const PackVerbs& v, const std::string& color) {
  std::optional<pack::SecretKey> key;
  if (!v.build_sign.empty()) {
    std::string text = read_or_throw(v.build_sign, "signing key");
    std::string error;
    key = pack::parse_secret_key(text, error);
    if (!key) throw UsageError{fmt::format("signing key `{}`: {}", sanitize_utf8(v.build_sign), error)};
  }
  auto c = compile(v.build_paths, DriverOptions{});
  RenderOptions ro;
  ro.color = use_color(color, STDERR_FILENO);
  ro.tool_version = BRAID_VERSION;
  if (c->input_error) {
    err(render_text(c->diags.all(), c->sm, ro));
    return kExitUsage;
  }
  if (c->diags.error_count() != 0 || !c->program) {
    err(render_text(c->diags.all(), c->sm, ro));
    err("braid: no pack written: the rules have errors (see `braid check`)\n");
    return kExitFindings;
  }
  if (!c->diags.all().empty()) err(render_text(c->diags.all(), c->sm, ro));

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
  if (v.build_native) {
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
  std::string tmp = v.build_out + ".tmp";
  ::unlink(tmp.c_str());
  if (!write_whole(tmp, bytes, 0644, true) || std::rename(tmp.c_str(), v.build_out.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(v.build_out), std::strerror(e))};
  }
  std::string signer = key ? fmt::format("signed by key {}", pack::key_id(pack::public_of(*key))) : "unsigned";
  std::string native = v.build_native ? fmt::format(", native code for {}", rt::host_cpu()) : std::string();
  err(fmt::format("braid: wrote {}: {} rules, {} bytes, {}{}\n", sanitize_utf8(v.build_out), c->program->rules.size(),
                  bytes.size(), signer, native));
  return kExitClean;
}

std::string signature_state(const pack::PackInfo& i, bool keys_given) {
  if (!i.is_signed) return "unsigned";
  if (!keys_given) return "valid";
  return i.trusted ? "valid, trusted" : "valid, NOT trusted";
}

// An LLVM feature string cut to about `width` characters at a comma, with the feature count when cut.
std::string abbreviate_features(const std::string& f, size_t width = 60) {
  if (f.empty()) return "(none)";
  if (f.size() <= width) return f;
  size_t n = 1;
  for (char c : f) n += c == ',' ? 1 : 0;
  size_t cut = f.rfind(',', width);
  if (cut == std::string::npos || cut == 0) cut = width;
  return fmt::format("{},... ({} features)", f.substr(0, cut), n);
}

int run_inspect(const PackVerbs& v, bool json_out) {
  std::string bytes = read_or_throw(v.inspect_file, "pack");
  std::vector<pack::PublicKey> keys = read_trusted_keys(v.inspect_keys);
  auto loaded = pack::inspect_pack(bytes, keys);
  if (!loaded) {
    err(fmt::format("braid: error: `{}` is not a valid pack: {} [{}]\n", sanitize_utf8(v.inspect_file),
                    loaded.error().message, pack::error_kind_name(loaded.error().kind)));
    return kExitFindings;
  }
  const pack::PackInfo& i = loaded->info;
  const ir::Program& p = loaded->program;
  const SourceManager& sm = loaded->sources;
  auto file_of = [&](const pack::RuleInfo& r) { return r.file < sm.size() ? sm.file(r.file).path() : std::string(); };
  std::string o;
  if (json_out) {
    using json::quote;
    o += fmt::format(
        "{{\"version\":{},\"flags\":{},\"arch\":{},\"cpu\":{},\"compiler\":{},\"size\":{},"
        "\"contents_size\":{},\"digest\":{}",
        i.version, i.flags, quote(i.arch), quote(i.cpu), quote(i.compiler_version), i.file_size, i.contents_size,
        quote("sha256:" + hex(i.digest.data(), i.digest.size())));
    o += fmt::format(",\"signature\":{{\"signed\":{},\"state\":{}", i.is_signed ? "true" : "false",
                     quote(signature_state(i, !keys.empty())));
    if (i.is_signed) {
      o += fmt::format(",\"key_id\":{},\"public_key\":{}", quote(pack::key_id(i.signer)),
                       quote(hex(i.signer.data(), i.signer.size())));
      if (!keys.empty()) o += fmt::format(",\"trusted\":{}", i.trusted ? "true" : "false");
    }
    o += "},\"sections\":[";
    for (size_t k = 0; k < i.sections.size(); ++k) {
      const pack::SectionInfo& s = i.sections[k];
      o += fmt::format("{}{{\"kind\":{},\"offset\":{},\"size\":{}}}", k ? "," : "",
                       quote(pack::section_kind_name(s.kind)), s.offset, s.size);
    }
    o += "],\"bitcode\":";
    o += loaded->bitcode.empty() ? std::string("null") : fmt::format("{{\"size\":{}}}", loaded->bitcode.size());
    o += ",\"native\":";
    if (const auto& n = loaded->native) {
      o += fmt::format("{{\"cpu\":{},\"features\":{},\"llvm_version\":{},\"size\":{}}}", quote(n->cpu),
                       quote(n->features), quote(n->llvm_version), n->object.size());
    } else {
      o += "null";
    }
    o += ",\"sources\":[";
    for (size_t k = 0; k < p.sources.size(); ++k) o += (k ? "," : "") + quote(p.sources[k].name);
    o += "],\"files\":[";
    for (size_t k = 0; k < sm.size(); ++k) o += (k ? "," : "") + quote(sm.file(static_cast<FileId>(k)).path());
    o += "],\"rules\":[";
    for (size_t k = 0; k < i.rules.size(); ++k) {
      const pack::RuleInfo& r = i.rules[k];
      o += fmt::format(
          "{}{{\"id\":{},\"scope\":{},\"severity\":{},\"enabled\":{},\"title\":{},\"file\":{},"
          "\"line\":{}}}",
          k ? "," : "", quote(r.id), quote(ir::scope_name(r.scope)), quote(ir::severity_name(r.severity)),
          r.enabled ? "true" : "false", quote(r.title), quote(file_of(r)), r.line);
    }
    o += "]}\n";
  } else {
    o += fmt::format("pack       {} ({} bytes)\n", sanitize_utf8(v.inspect_file), i.file_size);
    o += fmt::format("format     version {}, flags {:#x}\n", i.version, i.flags);
    o += fmt::format("target     {} (cpu {})\n", i.arch, i.cpu);
    o += fmt::format("compiler   {}\n", sanitize_utf8(i.compiler_version));
    o += fmt::format("digest     sha256:{}\n", hex(i.digest.data(), i.digest.size()));
    o += fmt::format("signature  {}", signature_state(i, !keys.empty()));
    if (i.is_signed) o += fmt::format(", key id {}", pack::key_id(i.signer));
    o += "\nsections\n";
    for (const pack::SectionInfo& s : i.sections) {
      o += fmt::format("  {:<13} offset {:>9}  size {:>9}\n", pack::section_kind_name(s.kind), s.offset, s.size);
    }
    if (!loaded->bitcode.empty()) o += fmt::format("bitcode    {} bytes\n", loaded->bitcode.size());
    if (const auto& n = loaded->native) {
      o += fmt::format("native     cpu {}, LLVM {}, {} bytes (advisory: used only on a matching CPU and LLVM)\n",
                       n->cpu, n->llvm_version, n->object.size());
      o += fmt::format("  features {}\n", abbreviate_features(n->features));
    }
    o += fmt::format("sources    {}\n", p.sources.size());
    for (const ir::Source& s : p.sources) o += fmt::format("  {}\n", sanitize_utf8(s.name));
    o += fmt::format("files      {}\n", sm.size());
    o += fmt::format("rules      {}\n", i.rules.size());
    for (const pack::RuleInfo& r : i.rules) {
      o += fmt::format("  {}  {} {}{}  {}:{}  {}\n", sanitize_utf8(r.id), ir::scope_name(r.scope),
                       ir::severity_name(r.severity), r.enabled ? "" : " (disabled)", sanitize_utf8(file_of(r)), r.line,
                       sanitize_utf8(r.title));
    }
  }
  out(o);
  return kExitClean;
}

}  // namespace

std::shared_ptr<PackVerbs> add_pack_verbs(CLI::App& app, const char* footer) {
  auto v = std::make_shared<PackVerbs>();
  v->keygen = app.add_subcommand("keygen", "Make an Ed25519 key pair for signing rule packs");
  v->keygen->add_option("--output,-o", v->keygen_out, "Secret key file (mode 0600); the public key goes to FILE.pub")
      ->required()
      ->type_name("KEYFILE");
  v->build = app.add_subcommand("build", "Compile rules (with the stdlib) into one rule pack file");
  v->build->add_option("paths", v->build_paths, "Rule files or directories (searched recursively for *.braid)")
      ->required()
      ->type_name("PATH");
  v->build->add_option("--output,-o", v->build_out, "The pack to write")->required()->type_name("FILE");
  v->build->add_option("--sign", v->build_sign, "Sign the pack with this secret key (from `braid keygen`)")
      ->type_name("KEYFILE");
  v->build->add_flag("--native", v->build_native,
                     "Also ship native code for this machine's CPU (used by `braid run --pack` on the same CPU and "
                     "LLVM; elsewhere the pack's bitcode is compiled)");
  v->inspect = app.add_subcommand("inspect", "Validate a rule pack and print its header, sections, sources and rules");
  v->inspect->add_option("pack", v->inspect_file, "The pack")->required()->type_name("FILE");
  v->inspect
      ->add_option("--trusted-keys", v->inspect_keys, "Public key files: also report whether the signer is trusted")
      ->type_name("FILE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  for (CLI::App* sub : {v->keygen, v->build, v->inspect}) {
    sub->footer(footer);
    sub->fallthrough();
  }
  return v;
}

std::optional<int> run_pack_verbs(const PackVerbs& v, const std::string& format, bool format_given,
                                  const std::string& color) {
  if (v.keygen->parsed()) {
    if (format_given) throw UsageError{"--format does not apply to keygen"};
    return run_keygen(v);
  }
  if (v.build->parsed()) {
    if (format_given) throw UsageError{"--format does not apply to build"};
    return run_build(v, color);
  }
  if (v.inspect->parsed()) {
    if (format_given && format == "sarif") throw UsageError{"inspect reports as text or JSON, not SARIF"};
    return run_inspect(v, format == "json");
  }
  return std::nullopt;
}

std::unique_ptr<pack::LoadedPack> load_pack_for_run(const RunOptions& o) {
  std::string bytes = read_or_throw(o.pack, "pack");
  std::vector<pack::PublicKey> keys = read_trusted_keys(o.trusted_keys);
  auto loaded = pack::load_pack(bytes, keys, o.allow_unsigned);
  if (!loaded) {
    err(fmt::format("braid: error: refusing the pack `{}`: {} [{}]\n", sanitize_utf8(o.pack), loaded.error().message,
                    pack::error_kind_name(loaded.error().kind)));
    return nullptr;
  }
  return std::make_unique<pack::LoadedPack>(std::move(*loaded));
}

}  // namespace braid::cli
