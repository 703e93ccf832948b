// libFuzzer target for the rule pack loader (compiler/pack; docs/pack-format.md). See tests/fuzz/README.md.
//
// Each input is a pack file. It is loaded twice: as it is (most mutations then fail the digest check), and with
// its SHA-256 digest recomputed over the contents its header claims, so that mutations reach the section and IR
// readers behind the digest. Besides crashes, sanitizer reports, hangs and leaks, the target aborts when the
// loader's contract is broken: a pack is either loaded whole or refused with a PackError that has a message; a
// pack that loads also passes inspect_pack, and every span of its rules lies in its source map.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "pack/pack.h"

namespace {

using namespace braid;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "braid_fuzz_pack: %s\n", what);
  std::abort();
}

void load(const std::string& bytes) {
  auto loaded = pack::load_pack(bytes, {}, /*allow_unsigned=*/true);
  if (!loaded) {
    if (loaded.error().message.empty()) fail("a refused pack without a message");
    return;
  }
  if (!pack::inspect_pack(bytes)) fail("load_pack accepted a pack that inspect_pack refuses");
  const SourceManager& sm = loaded->sources;
  for (const auto& rule : loaded->program.rules) {
    const Span& s = rule.spans.rule;
    if (!s.valid()) continue;
    if (s.file >= sm.size() || s.begin > s.end || s.end > sm.file(s.file).text().size())
      fail("a loaded rule's span lies outside its source map");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (sodium_init() < 0) fail("libsodium could not be initialised");
  std::string bytes(reinterpret_cast<const char*>(data), size);
  load(bytes);
  // The digest recomputed: bytes [72, 80) hold the contents size, where the digest starts.
  if (size >= pack::kHeaderFixedSize) {
    uint64_t contents = 0;
    for (int i = 7; i >= 0; --i) contents = (contents << 8) | data[72 + i];
    if (contents <= size && size - contents >= crypto_hash_sha256_BYTES) {
      crypto_hash_sha256(reinterpret_cast<unsigned char*>(bytes.data()) + contents, data, contents);
      load(bytes);
    }
  }
  return 0;
}
