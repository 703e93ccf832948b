// Rule packs: a compiled rule set (the typed IR, rule metadata and a source map) in one versioned, digested and
// optionally Ed25519-signed file. The byte layout is specified in docs/pack-format.md; this header is the API.
//
//   std::string bytes = pack::write_pack(program, sm, opts);            // opts.sign_key: sign it
//   auto loaded = pack::load_pack(bytes, trusted_keys, allow_unsigned);
//   if (!loaded) report(loaded.error().message);                       // nothing was loaded
//   rt::Engine e(loaded->program);                                      // runs without parser or checker
//
// The reader validates everything (bounds of every offset, size and count, enum ranges, node operands and every
// id against its table, spans against the source map, the digest, the signature, the version and the target
// architecture) before it returns anything: a pack is either loaded whole or rejected with one PackError.
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
inline constexpr uint32_t kFormatVersion = 1;

// Section kinds (docs/pack-format.md). Numbers are stable; a reader rejects kinds it does not know.
enum class SectionKind : uint32_t {
  Meta = 1,       // rule metadata (for inspect) + the compiler version
  Ir = 2,         // the typed IR: every ir::Program table
  SourceMap = 3,  // the rule source files (paths and texts) that every span points into
  // Reserved for the JIT half of issue 4 (not written, rejected by this reader): 4 LLVM bitcode, 5 native object.
};
std::string_view section_kind_name(uint32_t kind);  // "meta", "ir", "source-map", or "unknown"

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

struct PackOptions {
  std::string compiler_version;                        // recorded in the meta section ("braid 0.4.0")
  std::optional<SecretKey> sign_key;                   // sign the pack
  std::string target_arch = std::string(host_arch());  // at most 15 bytes
  std::string target_cpu = "generic";                  // at most 31 bytes; names the CPU of native code (none yet)
};

// Serialises a checked program (free of errors) and the sources its spans point into (for a Compilation: its
// `sm`). Throws std::invalid_argument when the target arch/cpu is empty, too long or not printable ASCII. A
// program whose spans name files `sm` does not have makes a pack that load_pack rejects.
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
  std::array<uint8_t, 32> digest{};
  bool is_signed = false;
  PublicKey signer{};    // when signed
  bool trusted = false;  // signed by one of the trusted keys
  std::string compiler_version;
  std::vector<RuleInfo> rules;
};

struct LoadedPack {
  PackInfo info;
  ir::Program program;
  SourceManager sources;  // FileIds equal to those the spans of `program` use
};

// Loads a pack, refusing it unless it is signed by one of `trusted_keys` (or, with allow_unsigned, unsigned).
// A signed pack is never accepted on allow_unsigned alone: its key must be trusted too.
Expected<LoadedPack> load_pack(std::string_view bytes, std::span<const PublicKey> trusted_keys, bool allow_unsigned);

// Validates a pack exactly like load_pack (a bad signature is still an error) but reports trust instead of
// enforcing it (PackInfo::is_signed / trusted). For `braid inspect`.
Expected<LoadedPack> inspect_pack(std::string_view bytes, std::span<const PublicKey> trusted_keys = {});

inline constexpr size_t kHeaderFixedSize = 80;
inline constexpr size_t kSectionEntrySize = 24;
inline constexpr size_t kDigestSize = 32;
inline constexpr size_t kSignatureBlockSize = 32 + 64;
inline constexpr uint32_t kFlagSigned = 1u << 0;

}  // namespace braid::pack
