// Rule packs: round trip, equivalence with running from sources, and rejection of every kind of bad pack.
#include <sodium.h>

#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "ir/ir.h"
#include "pack/pack.h"

namespace {

using namespace braid;
using pack::PackErrorKind;

const std::string kSrc = BRAID_SOURCE_DIR;

uint32_t get_u32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}
uint64_t get_u64(const std::string& b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}
void put_u32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(v >> (8 * i)));
}

// Makes a (mutated) pack self-consistent again: unsigned, with the digest recomputed over its contents, so that
// the loader gets past the digest and exercises the decoder and validator.
std::string reseal(std::string b) {
  if (b.size() < pack::kHeaderFixedSize) return b;
  uint64_t cs = get_u64(b, 72);
  if (cs > b.size()) return b;
  put_u32(b, 12, get_u32(b, 12) & ~pack::kFlagSigned);
  b.resize(static_cast<size_t>(cs));
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(b.data()), b.size());
  b.append(reinterpret_cast<const char*>(d), sizeof d);
  return b;
}

struct Built {
  std::unique_ptr<Compilation> c;
  pack::KeyPair key;
  std::string signed_pack, unsigned_pack;
};

std::unique_ptr<Compilation> compile_clean(const std::vector<std::string>& paths) {
  auto c = compile(paths, DriverOptions{});
  EXPECT_EQ(c->diags.error_count(), 0u);
  EXPECT_TRUE(c->program);
  return c;
}

Built* build(const std::string& path, const pack::KeyPair& key) {
  auto* x = new Built;
  x->c = compile_clean({path});
  x->key = key;
  pack::PackOptions o;
  o.compiler_version = "braid test";
  x->unsigned_pack = pack::write_pack(*x->c->program, x->c->sm, o);
  o.sign_key = x->key.secret;
  x->signed_pack = pack::write_pack(*x->c->program, x->c->sm, o);
  return x;
}

const pack::KeyPair& test_key() {
  static const pack::KeyPair k = pack::generate_keypair();
  return k;
}

// The shipped rules (about 2.5 MB, most of it rule sources with their test events).
const Built& shipped() {
  static Built* b = build(kSrc + "/rules", test_key());
  return *b;
}

// The semantics suite (about 150 KB, sequences, absence, chains...): the per-byte and mutation tests use it so
// that thousands of loads stay quick under ASan.
const Built& small() {
  static Built* b = build(kSrc + "/tests/semantics", test_key());
  return *b;
}

std::vector<pack::PublicKey> trusted() { return {test_key().pub}; }

PackErrorKind error_of(const std::string& bytes, bool allow_unsigned = false) {
  auto keys = trusted();
  auto r = pack::load_pack(bytes, keys, allow_unsigned);
  EXPECT_FALSE(r.has_value()) << "a bad pack was accepted";
  return r ? PackErrorKind::Malformed : r.error().kind;
}

void expect_round_trip(const Compilation& c) {
  ASSERT_TRUE(c.program);
  pack::PackOptions o;
  std::string bytes = pack::write_pack(*c.program, c.sm, o);
  auto loaded = pack::load_pack(bytes, {}, true);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(ir::dump(loaded->program), ir::dump(*c.program));
  // Stronger than the dump (which omits spans, tests and some metadata): serialising the loaded program again
  // gives the same bytes.
  EXPECT_TRUE(pack::write_pack(loaded->program, loaded->sources, o) == bytes)
      << "the loaded program serialises differently from the original";
  ASSERT_EQ(loaded->sources.size(), c.sm.size());
  for (size_t i = 0; i < c.sm.size(); ++i) {
    EXPECT_EQ(loaded->sources.file(static_cast<FileId>(i)).path(), c.sm.file(static_cast<FileId>(i)).path());
    EXPECT_EQ(loaded->sources.file(static_cast<FileId>(i)).text(), c.sm.file(static_cast<FileId>(i)).text());
  }
}

TEST(Pack, RoundTripShippedRulesAndStdlib) {
  const Built& b = shipped();
  EXPECT_GT(b.c->program->rules.size(), 100u);
  expect_round_trip(*b.c);
  auto loaded = pack::load_pack(b.signed_pack, trusted(), false);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(ir::dump(loaded->program), ir::dump(*b.c->program));
  EXPECT_TRUE(loaded->info.is_signed);
  EXPECT_TRUE(loaded->info.trusted);
  EXPECT_EQ(loaded->info.compiler_version, "braid test");
  ASSERT_EQ(loaded->info.rules.size(), b.c->program->rules.size());
  // The source map points rules at their files and lines.
  const ir::Rule& r = b.c->program->rules.back();
  const pack::RuleInfo& ri = loaded->info.rules.back();
  EXPECT_EQ(ri.id, r.id);
  ASSERT_LT(ri.file, loaded->sources.size());
  EXPECT_EQ(loaded->sources.file(ri.file).path(), r.file_path);
  EXPECT_EQ(ri.line, b.c->sm.file(r.spans.rule.file).line_col(r.spans.rule.begin).line);
  EXPECT_GT(ri.line, 0u);
}

TEST(Pack, RoundTripSemanticsSuite) {
  // Sequences, absence, distinct, suppress, chains: the IR features the shipped rules may not all use.
  auto c = compile_clean({kSrc + "/tests/semantics"});
  expect_round_trip(*c);
}

std::vector<std::string> run_alerts(const ir::Program& p) {
  rt::EngineOptions eo;
  eo.processing_time = 0;
  rt::Engine e(p, eo);
  std::vector<std::string> alerts;
  e.set_sink([&](const rt::Alert& a) { alerts.push_back(rt::render_alert_json(a)); });
  EXPECT_TRUE(e.process_inputs({kSrc + "/examples/demo.ndjson"}));
  e.finish();
  return alerts;
}

TEST(Pack, AlertsFromPackEqualAlertsFromSources) {
  const Built& b = shipped();
  auto loaded = pack::load_pack(b.signed_pack, trusted(), false);
  ASSERT_TRUE(loaded) << loaded.error().message;
  std::vector<std::string> from_sources = run_alerts(*b.c->program);
  std::vector<std::string> from_pack = run_alerts(loaded->program);
  EXPECT_GT(from_sources.size(), 0u);
  EXPECT_EQ(from_pack, from_sources);
}

// Flips one bit at each of the positions (every header byte and the tail when `exhaustive`, else a sample) and
// expects a rejection; past the header the kind is known: the digest or the signature catches it.
void expect_flips_rejected(const std::string& good, size_t stride_count, bool exhaustive) {
  size_t n = good.size();
  uint64_t cs = get_u64(good, 72);
  size_t header_end = pack::kHeaderFixedSize + 3 * pack::kSectionEntrySize;
  std::vector<size_t> positions;
  size_t step = std::max<size_t>(1, n / stride_count);
  for (size_t i = 0; i < n; i += step) positions.push_back(i);
  if (exhaustive) {
    for (size_t i = 0; i < header_end; ++i) positions.push_back(i);
    for (size_t i = static_cast<size_t>(cs) - 64; i < n; ++i) positions.push_back(i);
  } else {
    for (size_t i = static_cast<size_t>(cs) - 64; i < n; i += 7) positions.push_back(i);
  }
  int k = 0;
  for (size_t pos : positions) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (k++ % 8)));
    PackErrorKind e = error_of(bad);
    if (pos >= header_end && pos < cs + pack::kDigestSize) {
      EXPECT_EQ(e, PackErrorKind::DigestMismatch) << "byte " << pos;
    } else if (pos >= cs + pack::kDigestSize) {
      EXPECT_EQ(e, PackErrorKind::BadSignature) << "byte " << pos;
    }
  }
}

TEST(Pack, FlippedBytesAreRejected) {
  expect_flips_rejected(small().signed_pack, 2000, true);
  expect_flips_rejected(shipped().signed_pack, 40, false);
}

TEST(Pack, TruncationIsRejected) {
  const std::string& good = small().signed_pack;
  size_t n = good.size();
  std::vector<size_t> lengths;
  for (size_t i = 0; i < 300 && i < n; ++i) lengths.push_back(i);
  for (size_t i = 300; i < n; i += std::max<size_t>(1, n / 1000)) lengths.push_back(i);
  for (size_t i = n - 200; i < n; ++i) lengths.push_back(i);
  for (size_t len : lengths) {
    EXPECT_EQ(error_of(good.substr(0, len)), PackErrorKind::Truncated) << "length " << len;
  }
  EXPECT_EQ(error_of(good + "x"), PackErrorKind::Malformed);
}

TEST(Pack, KeysAndSignatures) {
  const Built& b = shipped();
  pack::KeyPair other = pack::generate_keypair();
  std::vector<pack::PublicKey> others = {other.pub};
  // A valid signature by a key that is not trusted.
  auto r = pack::load_pack(b.signed_pack, others, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, PackErrorKind::UntrustedKey);
  EXPECT_NE(r.error().message.find(pack::key_id(b.key.pub)), std::string::npos) << r.error().message;
  // --allow-unsigned does not let a signed pack with an untrusted key through.
  r = pack::load_pack(b.signed_pack, {}, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, PackErrorKind::UntrustedKey);
  // Several trusted keys: any one of them will do.
  std::vector<pack::PublicKey> both = {other.pub, b.key.pub};
  EXPECT_TRUE(pack::load_pack(b.signed_pack, both, false));
  // The signer's key swapped for another one: the signature no longer verifies.
  std::string swapped = b.signed_pack;
  size_t block = swapped.size() - pack::kSignatureBlockSize;
  std::memcpy(swapped.data() + block, other.pub.data(), 32);
  EXPECT_EQ(error_of(swapped), PackErrorKind::BadSignature);
  // Re-signed by another key after the fact: valid, but untrusted.
  pack::PackOptions o;
  o.sign_key = other.secret;
  std::string resigned = pack::write_pack(*b.c->program, b.c->sm, o);
  EXPECT_EQ(error_of(resigned), PackErrorKind::UntrustedKey);
  // Inspect reports trust instead of enforcing it.
  auto i = pack::inspect_pack(resigned, trusted());
  ASSERT_TRUE(i) << i.error().message;
  EXPECT_TRUE(i->info.is_signed);
  EXPECT_FALSE(i->info.trusted);
  EXPECT_EQ(i->info.signer, other.pub);
}

TEST(Pack, UnsignedNeedsAllowUnsigned) {
  const Built& b = shipped();
  EXPECT_EQ(error_of(b.unsigned_pack, false), PackErrorKind::Unsigned);
  auto r = pack::load_pack(b.unsigned_pack, trusted(), true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->info.is_signed);
  // Stripping the signature of a signed pack (clearing the flag breaks the digest).
  std::string stripped = b.signed_pack;
  put_u32(stripped, 12, 0);
  stripped.resize(stripped.size() - pack::kSignatureBlockSize);
  EXPECT_EQ(error_of(stripped, true), PackErrorKind::DigestMismatch);
}

TEST(Pack, VersionArchitectureAndMagic) {
  const Built& b = shipped();
  for (uint32_t v : {0u, 2u, 0xFFFFFFFFu}) {
    std::string bad = b.signed_pack;
    put_u32(bad, 8, v);
    EXPECT_EQ(error_of(bad), PackErrorKind::UnsupportedVersion) << v;
  }
  pack::PackOptions o;
  o.sign_key = b.key.secret;
  o.target_arch = std::string(pack::host_arch()) == "sparc64" ? "x86_64" : "sparc64";
  std::string foreign = pack::write_pack(*b.c->program, b.c->sm, o);
  EXPECT_EQ(error_of(foreign), PackErrorKind::WrongArchitecture);
  std::string bad = b.signed_pack;
  bad[0] = 'X';
  EXPECT_EQ(error_of(bad), PackErrorKind::BadMagic);
  EXPECT_EQ(error_of("{\"not\": \"a pack\"}\n"), PackErrorKind::BadMagic);
  EXPECT_EQ(error_of(""), PackErrorKind::Truncated);
}

// Hand-made structural corruption behind a valid digest: the validator, not the digest, must catch it.
TEST(Pack, ValidatorRejectsBadIndicesBehindAValidDigest) {
  const std::string& good = small().unsigned_pack;
  ASSERT_TRUE(pack::load_pack(reseal(good), {}, true));
  size_t ir = 0;
  for (size_t s = 0; s < 3; ++s) {
    size_t e = pack::kHeaderFixedSize + s * pack::kSectionEntrySize;
    if (get_u32(good, e) == 2) ir = static_cast<size_t>(get_u64(good, e + 8));
  }
  ASSERT_NE(ir, 0u);
  uint32_t nodes = get_u32(good, ir);
  ASSERT_GT(nodes, 10u);
  size_t node0 = ir + 4, operands = ir + 4 + size_t{nodes} * 32;
  auto expect_malformed = [&](std::string bad, const char* what) {
    auto r = pack::load_pack(reseal(std::move(bad)), {}, true);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().kind, PackErrorKind::Malformed) << what;
    EXPECT_FALSE(r.error().message.empty());
  };
  std::string bad = good;
  bad[node0] = static_cast<char>(200);  // op out of range
  expect_malformed(bad, "op");
  bad = good;
  put_u32(bad, node0 + 8, 0xFFFFFFF0u);  // ops_count
  expect_malformed(bad, "ops_count");
  bad = good;
  ASSERT_GT(get_u32(good, operands), 0u);
  put_u32(bad, operands + 4, 0xFFFFFFFEu);  // the first operand: no such node
  expect_malformed(bad, "operand");
  bad = good;
  put_u32(bad, node0 + 24, 99999);  // the first node's span names a file that does not exist
  expect_malformed(bad, "span");
  bad = good;
  put_u32(bad, ir, nodes + 1);  // one more node than there are
  expect_malformed(bad, "count");
}

TEST(Pack, RandomMutationsNeverCrashTheLoader) {
  const std::string& good = small().unsigned_pack;
  size_t ir = static_cast<size_t>(get_u64(good, pack::kHeaderFixedSize + pack::kSectionEntrySize + 8));
  size_t ir_size = static_cast<size_t>(get_u64(good, pack::kHeaderFixedSize + pack::kSectionEntrySize + 16));
  ASSERT_EQ(get_u32(good, pack::kHeaderFixedSize + pack::kSectionEntrySize), 2u);
  std::mt19937_64 rng(20261127);
  auto pos_in = [&](size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi - 1)(rng); };
  std::map<PackErrorKind, int> kinds;
  int accepted = 0, raw_rejected = 0, raw_unchanged = 0, unchanged = 0;
  const int kRaw = 1000, kResealed = 2000;
  for (int iter = 0; iter < kRaw + kResealed; ++iter) {
    std::string b = good;
    bool resealed = iter >= kRaw;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      // Resealed mutations aim at the IR section (where the structure is) nine times in ten.
      size_t pos = resealed && rng() % 10 != 0 ? pos_in(ir, ir + ir_size) : pos_in(0, b.size());
      switch (rng() % 5) {
        case 0: b[pos] = static_cast<char>(b[pos] ^ static_cast<char>(1 + rng() % 255)); break;
        case 1: b[pos] = static_cast<char>(rng() % 2 ? 0xFF : 0x00); break;
        case 2: b.insert(pos, 1, static_cast<char>(rng())); break;
        case 3: b.erase(pos, 1 + rng() % 8); break;
        default:
          if (pos + 4 <= b.size()) put_u32(b, pos, static_cast<uint32_t>(rng()));
      }
    }
    if (b == good) {  // the edits cancelled out (or set a byte to its own value)
      ++unchanged;
      if (!resealed) ++raw_unchanged;
      continue;
    }
    if (resealed) b = reseal(std::move(b));
    auto r = pack::load_pack(b, {}, true);
    if (r) {
      ++accepted;
      EXPECT_TRUE(resealed) << "a raw mutation got past the digest, iteration " << iter;
      continue;
    }
    if (!resealed) ++raw_rejected;
    ++kinds[r.error().kind];
  }
  EXPECT_EQ(raw_rejected + raw_unchanged, kRaw);
  EXPECT_LT(unchanged, 100);
  // The resealed mutations must mostly reach the validator (not all stop at the header).
  EXPECT_GT(kinds[PackErrorKind::Malformed], kResealed / 2);
  EXPECT_GT(kinds[PackErrorKind::DigestMismatch], kRaw / 4);
  std::string summary;
  for (auto [k, count] : kinds) summary += std::string(pack::error_kind_name(k)) + "=" + std::to_string(count) + " ";
  std::cout << "mutations: unchanged=" << unchanged << " accepted=" << accepted << " " << summary << "\n";
}

TEST(Pack, KeyFiles) {
  pack::KeyPair kp = pack::generate_keypair();
  std::string error;
  auto sk = pack::parse_secret_key(pack::format_secret_key(kp.secret), error);
  ASSERT_TRUE(sk) << error;
  EXPECT_EQ(*sk, kp.secret);
  EXPECT_EQ(pack::public_of(*sk), kp.pub);
  std::string tampered = pack::format_secret_key(kp.secret);
  tampered[3] = tampered[3] == '0' ? '1' : '0';  // the seed no longer matches the public half
  EXPECT_FALSE(pack::parse_secret_key(tampered, error));
  EXPECT_FALSE(pack::parse_secret_key(pack::format_public_key(kp.pub), error));
  pack::KeyPair kp2 = pack::generate_keypair();
  auto pubs = pack::parse_public_keys(
      "# team keys\n" + pack::format_public_key(kp.pub) + "\n  " + pack::format_public_key(kp2.pub), error);
  ASSERT_TRUE(pubs) << error;
  ASSERT_EQ(pubs->size(), 2u);
  EXPECT_EQ((*pubs)[0], kp.pub);
  EXPECT_EQ((*pubs)[1], kp2.pub);
  EXPECT_FALSE(pack::parse_public_keys("zz" + pack::format_public_key(kp.pub).substr(2), error));
  EXPECT_FALSE(pack::parse_public_keys("# nothing\n", error));
  EXPECT_EQ(pack::key_id(kp.pub).size(), 16u);
  EXPECT_NE(pack::key_id(kp.pub), pack::key_id(kp2.pub));
}

}  // namespace
