// SHA-256, the one digest of Braid: a pack's contents digest (pack/pack.h), key ids, and the JIT cache's keys.
//
// It is OpenSSL's (libcrypto, Debian's libssl-dev), which uses the CPU's SHA extensions or AVX2 where they exist:
// about 1.8 GB/s on the development machine against libsodium's portable code at about 0.2 GB/s. The pack is
// hashed at every `braid run --pack` start, so the difference is start-up time (docs/performance.md, Session 13).
// Signatures stay with libsodium (Ed25519).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace braid {

using Sha256 = std::array<uint8_t, 32>;

// The digest of `data`.
Sha256 sha256(const void* data, size_t size);
inline Sha256 sha256(std::string_view data) { return sha256(data.data(), data.size()); }

// The digest as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace braid
