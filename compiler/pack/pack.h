// Rule packs: a compiled rule set (the typed IR, rule metadata and a source map) in one versioned, digested and
// optionally Ed25519-signed file. The byte layout is specified in docs/pack-format.md; this header is the API.
//
//   std::string bytes = pack::write_pack(program, sm, opts);            // opts.sign_key: sign it
//   auto loaded = pack::load_pack(bytes, trusted_keys, allow_unsigned);
//   if (!loaded) report(loaded.error().message);                       // nothing was loaded
//   rt::Engine e(loaded->program);                                      // runs without parser or checker
//
// A pack may also carry the rule set lowered to LLVM bitcode (PackOptions::bitcode, portable) and to a native
// ELF relocatable object for one CPU (PackOptions::native, advisory). Both are opaque bytes here (this library
// does not link LLVM); the reader checks their framing and magic only. Before using the native object, a loader
// asks native_usable() (same CPU, LLVM version and features); otherwise it JITs the bitcode.
//
// The reader validates everything (bounds of every offset, size and count, enum ranges, spans against the source
// map, the digest, the signature, the version and the target architecture, and through ir::validate
// (ir/validate.h) node operands and every id against its table) before it returns anything: a pack is either
// loaded whole or rejected with one PackError.
// What it does NOT re-verify is typing (that each node's operands have the types its op expects): that is the
// checker's job, and the signature is what vouches for a pack's author.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "diag/source.h"
#include "ir/ir.h"

namespace braid::pack {

inline constexpr char kMagic[8] = {'B', 'R', 'A', 'I', 'D', 'P', 'K', '\0'};
inline constexpr uint32_t kFormatVersion = 8;  // 1: no bitcode or native sections; 2: no json() fields;
                                               // 3: no `cased` node flag; 4: no computed severities;
                                               // 5: no group scope (Rule::group); 6: no zipped fields;
                                               // 7: dispatch functions without the prefilter bitset

// Section kinds (docs/pack-format.md). Numbers are stable; a reader rejects kinds it does not know.
enum class SectionKind : uint32_t {
  Meta = 1,       // rule metadata (for inspect) + the compiler version
  Ir = 2,         // the typed IR: every ir::Program table
  SourceMap = 3,  // the rule source files (paths and texts) that every span points into
  LlvmBitcode = 4,   // LLVM bitcode of the whole rule set (optional, opaque)
  NativeObject = 5,  // an ELF relocatable object for the header's arch and CPU (optional, advisory, opaque)
};
// "meta", "ir", "source-map", "llvm-bitcode", "native-object", or "unknown"
std::string_view section_kind_name(uint32_t kind);

// The architecture this binary was built for ("x86_64", "aarch64", ...): the default target of a pack.
std::string_view host_arch();

// ---------------------------------------------------------------------------------------------------------------
// Keys (Ed25519, libsodium)

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;  // libsodium's layout: seed + public key

struct KeyPair {
  PublicKey pub{};
  SecretKey secret{};
};
KeyPair generate_keypair();

// Key files are text: one key as lower-case hex on a line. A secret key file holds 128 hex digits; a public key
// (trusted keys) file holds one or more 64-digit keys, one per line ('#' comments and blank lines ignored).
std::string format_public_key(const PublicKey& k);  // hex + '\n'
std::string format_secret_key(const SecretKey& k);  // hex + '\n'
// nullopt + `error` on a malformed file. A secret key whose public half does not match its seed is malformed.
std::optional<SecretKey> parse_secret_key(std::string_view text, std::string& error);
std::optional<std::vector<PublicKey>> parse_public_keys(std::string_view text, std::string& error);
PublicKey public_of(const SecretKey& k);
// A short id for display: the first 16 hex digits of SHA-256(public key).
std::string key_id(const PublicKey& k);

// ---------------------------------------------------------------------------------------------------------------
// Writing

// Native object code of the rule set for one CPU (section kind 5). Advisory: a loader uses it only when
// native_usable() says so, and otherwise JITs the bitcode.
struct NativeCode {
  std::string cpu;           // the LLVM CPU name it was compiled for ("znver3", "neoverse-n1"); 1..31 bytes,
                             // printable ASCII without spaces. Also written to the header's target CPU field.
  std::string features;      // LLVM feature string, "+avx2,+bmi2,-avx512f" (may be empty); printable ASCII
  std::string llvm_version;  // the LLVM that produced it ("17.0.6"); 1..64 bytes, printable ASCII
  std::string object;        // an ELF64 little-endian relocatable (ET_REL) for the pack's target_arch; opaque
  bool operator==(const NativeCode&) const = default;
};

struct PackOptions {
  std::string compiler_version;                        // recorded in the meta section ("braid 0.4.0")
  std::optional<SecretKey> sign_key;                   // sign the pack
  std::string target_arch = std::string(host_arch());  // at most 15 bytes
  std::string target_cpu = "generic";                  // at most 31 bytes; the CPU of the native section: when
                                                       // `native` is set, left "generic" or equal to native->cpu
  std::string bitcode;                 // LLVM bitcode of the whole rule set (opaque); written (kind 4) when non-empty
  std::optional<NativeCode> native;    // written (kind 5) when set; needs `bitcode` (the fallback)
};

// Serialises a checked program (free of errors) and the sources its spans point into (for a Compilation: its
// `sm`). Throws std::invalid_argument when the target arch/cpu is empty, too long or not printable ASCII, when
// `bitcode` does not pass the checks load_pack makes (magic, see docs/pack-format.md), or when `native` is set
// without bitcode, with an invalid cpu/features/llvm_version, a cpu other than a non-generic target_cpu, or an
// object that is not an ELF relocatable for target_arch. A program whose spans name files `sm` does not have makes
// a pack that load_pack rejects.
std::string write_pack(const ir::Program& program, const SourceManager& sm, const PackOptions& opts);

// ---------------------------------------------------------------------------------------------------------------
// Reading

enum class PackErrorKind : uint8_t {
  Truncated,           // the file ends before the layout says it does
  BadMagic,            // not a Braid pack
  UnsupportedVersion,  // a format version this reader does not know
  WrongArchitecture,   // built for another target architecture
  DigestMismatch,      // the SHA-256 digest does not match: corrupted or tampered
  Unsigned,            // no signature, and unsigned packs were not allowed
  BadSignature,        // a signature that does not verify against its key: tampered
  UntrustedKey,        // a valid signature by a key that is not trusted
  Malformed,           // digest fine but the content is invalid (bad section table, an id out of range, ...)
};
std::string_view error_kind_name(PackErrorKind k);  // "truncated", "bad-magic", ...

struct PackError {
  PackErrorKind kind = PackErrorKind::Malformed;
  std::string message;  // one line, says what is wrong and where (byte offset or table/index)
};

// A value or a PackError (C++20 has no std::expected).
template <class T>
class Expected {
 public:
  Expected(T v) : v_(std::in_place_index<0>, std::move(v)) {}
  Expected(PackError e) : v_(std::in_place_index<1>, std::move(e)) {}
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const PackError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, PackError> v_;
};

struct SectionInfo {
  uint32_t kind = 0;
  uint64_t offset = 0, size = 0;
};
struct RuleInfo {  // the meta section's entry for one rule
  std::string id, title;
  ir::Scope scope = ir::Scope::Event;
  ir::Severity severity = ir::Severity::Medium;
  bool enabled = true;
  FileId file = kNoFile;
  uint32_t line = 0;
};
struct PackInfo {
  uint32_t version = 0;
  uint32_t flags = 0;
  std::string arch, cpu;
  uint64_t contents_size = 0, file_size = 0;
  std::vector<SectionInfo> sections;
  std::array<uint8_t, 32> digest{};  // SHA-256 of the contents (header, table, every section): the pack's identity
  std::string digest_hex() const;    // the digest as 64 lower-case hex digits (a key for the JIT object cache)
  bool is_signed = false;
  PublicKey signer{};    // when signed
  bool trusted = false;  // signed by one of the trusted keys
  std::string compiler_version;
  std::vector<RuleInfo> rules;
};

struct LoadedPack {
  PackInfo info;
  ir::Program program;
  SourceManager sources;              // FileIds equal to those the spans of `program` use
  std::string bitcode;                // the llvm-bitcode section (empty when the pack has none); magic checked
  std::optional<NativeCode> native;   // the native-object section; its cpu equals info.cpu
};

// Loads a pack, refusing it unless it is signed by one of `trusted_keys` (or, with allow_unsigned, unsigned).
// A signed pack is never accepted on allow_unsigned alone: its key must be trusted too.
Expected<LoadedPack> load_pack(std::string_view bytes, std::span<const PublicKey> trusted_keys, bool allow_unsigned);

// Validates a pack exactly like load_pack (a bad signature is still an error) but reports trust instead of
// enforcing it (PackInfo::is_signed / trusted). For `braid inspect`.
Expected<LoadedPack> inspect_pack(std::string_view bytes, std::span<const PublicKey> trusted_keys = {});

// Whether the pack's native object can run here: it has one, compiled for exactly `host_cpu` by exactly
// `llvm_version`, and every feature it enables ("+name", or a bare "name") is enabled in `host_features` (an LLVM
// feature string, "+a,+b,-c"; for a repeated name the last one wins). A mismatch is not an error: the loader JITs
// the bitcode instead. native_mismatch says why not ("" when usable), for a log line.
bool native_usable(const LoadedPack& pack, std::string_view host_cpu, std::string_view host_features,
                   std::string_view llvm_version);
std::string native_mismatch(const LoadedPack& pack, std::string_view host_cpu, std::string_view host_features,
                            std::string_view llvm_version);

inline constexpr size_t kHeaderFixedSize = 80;
inline constexpr size_t kSectionEntrySize = 24;
inline constexpr size_t kDigestSize = 32;
inline constexpr size_t kSignatureBlockSize = 32 + 64;
inline constexpr uint32_t kFlagSigned = 1u << 0;
inline constexpr uint32_t kMaxSections = 16;
inline constexpr size_t kMaxLlvmVersionSize = 64;
inline constexpr size_t kMaxFeaturesSize = 65535;

}  // namespace braid::pack
