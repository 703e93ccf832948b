#include "digest/sha256.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <random>
#include <string>

namespace braid {
namespace {

// FIPS 180-2 appendix B and the NIST example values.
TEST(Sha256, PublishedVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Every length around the block size (64) and a few large ones, random bytes, against libsodium's code.
TEST(Sha256, AgreesWithLibsodium) {
  ASSERT_GE(sodium_init(), 0);
  std::mt19937_64 rng(7);
  std::string data;
  auto check = [&](size_t n) {
    data.resize(n);
    for (char& c : data) c = static_cast<char>(rng());
    unsigned char want[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(want, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    Sha256 got = sha256(data);
    ASSERT_EQ(std::string(got.begin(), got.end()), std::string(want, want + sizeof want)) << "length " << n;
  };
  for (size_t n = 0; n <= 300; ++n) check(n);
  for (size_t n : {4095, 4096, 4097, 1 << 20, (1 << 20) + 13}) check(n);
}

}  // namespace
}  // namespace braid
