#include "digest/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace braid {

Sha256 sha256(const void* data, size_t size) {
  Sha256 out{};
  unsigned int len = 0;
  // One-shot EVP: no context to keep, and the implementation OpenSSL picks for this CPU.
  if (EVP_Digest(data, size, out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
    throw std::runtime_error("SHA-256 failed in libcrypto");
  return out;
}

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  Sha256 h = sha256(data);
  std::string out(h.size() * 2, '0');
  for (size_t i = 0; i < h.size(); ++i) {
    out[2 * i] = kHex[h[i] >> 4];
    out[2 * i + 1] = kHex[h[i] & 0xF];
  }
  return out;
}

}  // namespace braid
