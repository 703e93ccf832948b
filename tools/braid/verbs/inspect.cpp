// `braid inspect FILE [--trusted-keys FILE]...`: validate a rule pack and print its header, sections, sources,
// rules and signature state (text, or JSON with --format json). Exit 1 when the pack is invalid.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/render.h"
#include "ir/ir.h"
#include "json_tree.h"
#include "pack/pack.h"
#include "pack_files.h"
#include "verbs.h"

namespace braid::cli {

namespace {

struct InspectOptions {
  std::string file;               // the pack
  std::vector<std::string> keys;  // --trusted-keys
};

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

int run_inspect(const InspectOptions& v, bool json_out) {
  std::string bytes = read_or_throw(v.file, "pack");
  std::vector<pack::PublicKey> keys = read_trusted_keys(v.keys);
  auto loaded = pack::inspect_pack(bytes, keys);
  if (!loaded) {
    err(fmt::format("braid: error: `{}` is not a valid pack: {} [{}]\n", sanitize_utf8(v.file),
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
    o += fmt::format("pack       {} ({} bytes)\n", sanitize_utf8(v.file), i.file_size);
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

VerbAction add_inspect_verb(CLI::App& sub) {
  auto o = std::make_shared<InspectOptions>();
  sub.add_option("pack", o->file, "The pack")->required()->type_name("FILE");
  sub.add_option("--trusted-keys", o->keys, "Public key files: also report whether the signer is trusted")
      ->type_name("FILE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  sub.fallthrough();
  return [o](const Globals& g) {
    if (g.format_given && g.format == "sarif") throw UsageError{"inspect reports as text or JSON, not SARIF"};
    return run_inspect(*o, g.format == "json");
  };
}

}  // namespace braid::cli
