// Rule packs: round trip, equivalence with running from sources, and rejection of every kind of bad pack.
#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
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

// Group rules (`group by`): keys, key texts, gap and max survive the round trip (the dump prints them; the
// re-serialised bytes cover the spans), and the validator refuses a group rule without its `group by`, a `group by`
// on another scope, an empty or mismatched key list, a bad window and a key node out of range.
TEST(Pack, RoundTripGroupRules) {
  auto c = compile_clean({kSrc + "/tests/semantics/sources.braid", kSrc + "/tests/semantics/groups.braid"});
  ASSERT_TRUE(c->program);
  expect_round_trip(*c);
  pack::PackOptions o;
  o.compiler_version = "braid test";
  auto loaded = pack::load_pack(pack::write_pack(*c->program, c->sm, o), {}, true);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const ir::Rule* spray = loaded->program.find_rule("sem.group.spray");
  const ir::Rule* seq = loaded->program.find_rule("sem.group.sequence");
  const ir::Rule* burst = loaded->program.find_rule("sem.group.burst");
  ASSERT_TRUE(spray && seq && burst);
  EXPECT_EQ(spray->scope, ir::Scope::Group);
  ASSERT_TRUE(spray->group);
  EXPECT_EQ(spray->group->key_text, std::vector<std::string>{"acct"});
  EXPECT_EQ(spray->group->gap, int64_t{3600} * 1000000000);
  EXPECT_EQ(spray->group->max, spray->group->gap);
  EXPECT_EQ(seq->group->key_text, (std::vector<std::string>{"acct", "name"}));
  EXPECT_EQ(burst->group->gap, int64_t{600} * 1000000000);
  EXPECT_EQ(burst->group->max, int64_t{3600} * 1000000000);
  EXPECT_EQ(ir::dump_expr(loaded->program, seq->group->keys[1]), "$name");
  EXPECT_EQ(c->sm.slice(spray->group->span), "group by acct window 1h");
  for (const pack::RuleInfo& ri : loaded->info.rules) {
    if (ri.id == "sem.group.spray") {
      EXPECT_EQ(ri.scope, ir::Scope::Group);
    }
  }

  auto index_of = [&](std::string_view id) {
    for (size_t i = 0; i < c->program->rules.size(); ++i)
      if (c->program->rules[i].id == id) return i;
    return size_t{0};
  };
  const size_t gi = index_of("sem.group.spray");
  const std::vector<std::pair<const char*, std::function<void(ir::Program&)>>> bad = {
      {"without `group by`", [&](ir::Program& p) { p.rules[gi].group.reset(); }},
      {"is not a group rule", [&](ir::Program& p) { p.rules[gi].scope = ir::Scope::Session; }},
      {"key texts", [&](ir::Program& p) { p.rules[gi].group->key_text.push_back("x"); }},
      {"key texts", [&](ir::Program& p) {
         p.rules[gi].group->keys.clear();
         p.rules[gi].group->key_text.clear();
       }},
      {"invalid group window", [&](ir::Program& p) { p.rules[gi].group->gap = 0; }},
      {"invalid group window", [&](ir::Program& p) { p.rules[gi].group->max = p.rules[gi].group->gap - 1; }},
      {"group key", [&](ir::Program& p) { p.rules[gi].group->keys[0] = static_cast<ir::NodeId>(p.nodes.size() + 5); }},
  };
  for (const auto& [what, mutate] : bad) {
    ir::Program p = c->program->clone();
    mutate(p);
    auto r = pack::load_pack(pack::write_pack(p, c->sm, o), {}, true);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().kind, PackErrorKind::Malformed) << what;
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
  }
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
  size_t header_end = pack::kHeaderFixedSize + get_u32(good, 64) * pack::kSectionEntrySize;
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
  EXPECT_EQ(get_u32(b.signed_pack, 8), 8u);
  for (uint32_t v : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 9u, 0xFFFFFFFFu}) {
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

// A source reads each field through one slot, found by its index (the engine converts an event's slots from the
// fields it has): a pack with a second slot for a field, or an index entry naming another slot, is malformed.
TEST(Pack, ValidatorRejectsTwoSlotsForOneField) {
  const Built& b = small();
  for (int variant = 0; variant < 2; ++variant) {
    ir::Program p = b.c->program->clone();
    ir::Source* src = nullptr;
    for (ir::Source& s : p.sources)
      if (s.slots.size() >= 2) src = &s;
    ASSERT_NE(src, nullptr);
    if (variant == 0) {
      src->slots.push_back(src->slots[0]);  // a second slot for slot 0's field, not in the index
    } else {
      auto it = src->slot_index.begin();
      it->second = it->second == 0 ? 1 : 0;  // the entry names another slot than its field's
    }
    pack::PackOptions o;
    o.compiler_version = "braid test";
    auto r = pack::load_pack(pack::write_pack(p, b.c->sm, o), {}, true);
    ASSERT_FALSE(r) << variant;
    EXPECT_EQ(r.error().kind, PackErrorKind::Malformed) << variant;
    EXPECT_NE(r.error().message.find("slot index"), std::string::npos) << r.error().message;
  }
}

// Zipped fields (`any()` over several paths of one element): the preparer reads each element of the anchor again
// for the members, so a pack whose zip names a later member, an anchor that is not a `[*]` list, or a member
// outside the anchor's elements is malformed.
TEST(Pack, ValidatorRejectsMalformedZips) {
  auto c = compile_clean({kSrc + "/tests/semantics/sources.braid", kSrc + "/tests/semantics/elements.braid"});
  ASSERT_TRUE(c->program);
  size_t zip = 0;
  while (zip < c->program->fields.size() && !c->program->fields[zip].is_zip()) ++zip;
  ASSERT_LT(zip, c->program->fields.size()) << "elements.braid reads no zipped field";
  pack::PackOptions o;
  o.compiler_version = "braid test";
  ASSERT_TRUE(pack::load_pack(pack::write_pack(*c->program, c->sm, o), {}, true));
  ir::FieldId outside = ir::kNone;  // a plain field that is not under the anchor
  const auto& anchor = c->program->fields[c->program->fields[zip].zip_anchor].segs;
  for (ir::FieldId f = 0; f < zip && outside == ir::kNone; ++f) {
    const ir::FieldPath& fp = c->program->fields[f];
    if (!fp.is_zip() && !fp.in_json() && (fp.segs.size() < anchor.size() || !std::equal(anchor.begin(), anchor.end(), fp.segs.begin())))
      outside = f;
  }
  ASSERT_NE(outside, ir::kNone);
  for (int variant = 0; variant < 4; ++variant) {
    ir::Program p = c->program->clone();
    ir::FieldPath& z = p.fields[zip];
    if (variant == 0) z.zip[0] = static_cast<ir::FieldId>(zip);  // itself: not an earlier field
    if (variant == 1) z.zip_anchor = outside;                    // not a `[*]` list
    if (variant == 2) z.zip.back() = outside;                    // outside the anchor's elements
    if (variant == 3) p.fields[outside].zip.push_back(outside);  // members without an anchor
    auto r = pack::load_pack(pack::write_pack(p, c->sm, o), {}, true);
    ASSERT_FALSE(r) << variant;
    EXPECT_EQ(r.error().kind, PackErrorKind::Malformed) << variant;
    EXPECT_NE(r.error().message.find("zip"), std::string::npos) << r.error().message;
  }
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

// ---------------------------------------------------------------------------------------------------------------
// The compiled-code sections: llvm-bitcode (4) and native-object (5). The blobs are fake but pass the reader's
// checks (magic, framing); the pack library treats them as opaque bytes.

std::string fake_bitcode(size_t words = 16) {
  std::string b = "BC";
  b += static_cast<char>(0xC0);
  b += static_cast<char>(0xDE);
  for (size_t i = 1; i < words; ++i) b += std::string{'\x35', '\x14', '\x00', static_cast<char>(i)};
  return b;
}

// The bitcode wrapper: magic 0x0B17C0DE, version, offset, size, cputype (u32 LE each), then raw bitcode.
std::string fake_wrapped_bitcode() {
  std::string raw = fake_bitcode(8);
  std::string w(20, '\0');
  put_u32(w, 0, 0x0B17C0DE);
  put_u32(w, 8, 20);
  put_u32(w, 12, static_cast<uint32_t>(raw.size()));
  put_u32(w, 16, 0x01000007);
  return w + raw;
}

uint16_t host_elf_machine() {
  std::string_view a = pack::host_arch();
  return a == "x86_64" ? 62 : a == "aarch64" ? 183 : a == "riscv64" ? 243 : 0;
}

// An ELF64 little-endian relocatable header for this machine, then `payload` bytes of filler.
std::string fake_elf(size_t payload = 100) {
  std::string e(64, '\0');
  e[0] = 0x7f;
  e[1] = 'E';
  e[2] = 'L';
  e[3] = 'F';
  e[4] = 2;  // ELFCLASS64
  e[5] = 1;  // ELFDATA2LSB
  e[6] = 1;  // EV_CURRENT
  e[16] = 1;  // ET_REL
  e[18] = static_cast<char>(host_elf_machine() & 0xFF);
  e[19] = static_cast<char>(host_elf_machine() >> 8);
  for (size_t i = 0; i < payload; ++i) e += static_cast<char>(i * 7);
  return e;
}

pack::NativeCode fake_native(std::string cpu = "znver3") {
  pack::NativeCode n;
  n.cpu = std::move(cpu);
  n.features = "+avx2,+bmi2,+sse4.2,-avx512f";
  n.llvm_version = "17.0.6";
  n.object = fake_elf();
  return n;
}

pack::PackOptions code_options(bool sign, bool native = true) {
  pack::PackOptions o;
  o.compiler_version = "braid test";
  if (sign) o.sign_key = test_key().secret;
  o.bitcode = fake_bitcode();
  if (native) o.native = fake_native();
  return o;
}

std::string code_pack(bool sign, bool native = true) {
  const Built& b = small();
  return pack::write_pack(*b.c->program, b.c->sm, code_options(sign, native));
}

struct Section {
  uint32_t kind;
  std::string bytes;
};

std::vector<Section> sections_of(const std::string& p) {
  std::vector<Section> out;
  uint32_t n = get_u32(p, 64);
  for (uint32_t i = 0; i < n; ++i) {
    size_t e = pack::kHeaderFixedSize + size_t{i} * pack::kSectionEntrySize;
    out.push_back({get_u32(p, e), p.substr(static_cast<size_t>(get_u64(p, e + 8)),
                                           static_cast<size_t>(get_u64(p, e + 16)))});
  }
  return out;
}

void put_u64(std::string& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(v >> (8 * i)));
}

// The header of `p` with a new section table and sections, resealed (unsigned, digest recomputed).
std::string rebuild(const std::string& p, const std::vector<Section>& secs) {
  std::string b = p.substr(0, pack::kHeaderFixedSize);
  put_u32(b, 64, static_cast<uint32_t>(secs.size()));
  b.resize(pack::kHeaderFixedSize + secs.size() * pack::kSectionEntrySize, '\0');
  uint64_t at = b.size();
  for (size_t i = 0; i < secs.size(); ++i) {
    size_t e = pack::kHeaderFixedSize + i * pack::kSectionEntrySize;
    put_u32(b, e, secs[i].kind);
    put_u32(b, e + 4, 0);
    put_u64(b, e + 8, at);
    put_u64(b, e + 16, secs[i].bytes.size());
    at += secs[i].bytes.size();
  }
  put_u64(b, 72, at);
  for (const Section& s : secs) b += s.bytes;
  b.append(pack::kDigestSize, '\0');  // reseal cuts at contents_size and appends the digest
  return reseal(std::move(b));
}

// `p` with the section of `kind` replaced by `bytes`, resealed.
std::string with_section(const std::string& p, uint32_t kind, const std::string& bytes) {
  std::vector<Section> secs = sections_of(p);
  for (Section& s : secs) {
    if (s.kind == kind) s.bytes = bytes;
  }
  return rebuild(p, secs);
}

// The native-object section's bytes for `n`, laid out as the format says (to build bad ones by hand).
std::string native_section(const pack::NativeCode& n, std::optional<uint64_t> object_size = std::nullopt) {
  std::string b;
  auto str = [&](const std::string& s) {
    std::string len(4, '\0');
    put_u32(len, 0, static_cast<uint32_t>(s.size()));
    b += len + s;
  };
  str(n.cpu);
  str(n.features);
  str(n.llvm_version);
  std::string size(8, '\0');
  put_u64(size, 0, object_size.value_or(n.object.size()));
  return b + size + n.object;
}

pack::PackError malformed_error(const std::string& bad, const char* what) {
  auto r = pack::load_pack(bad, {}, true);
  EXPECT_FALSE(r) << what;
  if (r) return {};
  EXPECT_EQ(r.error().kind, PackErrorKind::Malformed) << what << ": " << r.error().message;
  return r.error();
}

void expect_malformed(const std::string& bad, const char* what, const std::string& needle) {
  pack::PackError e = malformed_error(bad, what);
  EXPECT_NE(e.message.find(needle), std::string::npos) << what << ": " << e.message;
}

TEST(PackCode, RoundTripBitcodeAndNative) {
  const Built& b = small();
  std::string bytes = code_pack(true);
  auto loaded = pack::load_pack(bytes, trusted(), false);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->info.version, pack::kFormatVersion);
  EXPECT_EQ(loaded->bitcode, fake_bitcode());
  ASSERT_TRUE(loaded->native);
  EXPECT_EQ(*loaded->native, fake_native());
  EXPECT_EQ(loaded->info.cpu, "znver3");  // the header names the native code's CPU
  ASSERT_EQ(loaded->info.sections.size(), 5u);
  EXPECT_EQ(loaded->info.sections[3].kind, 4u);
  EXPECT_EQ(loaded->info.sections[4].kind, 5u);
  EXPECT_EQ(pack::section_kind_name(4), "llvm-bitcode");
  EXPECT_EQ(pack::section_kind_name(5), "native-object");
  EXPECT_EQ(ir::dump(loaded->program), ir::dump(*b.c->program));
  // Writing the loaded pack again gives the same bytes.
  pack::PackOptions o = code_options(true);
  o.bitcode = loaded->bitcode;
  o.native = loaded->native;
  EXPECT_TRUE(pack::write_pack(loaded->program, loaded->sources, o) == bytes);
  // inspect_pack sees the same.
  auto inspected = pack::inspect_pack(bytes);
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ(inspected->bitcode, loaded->bitcode);
  EXPECT_EQ(inspected->native, loaded->native);

  // Bitcode alone; the wrapper form; an explicit target CPU equal to the native one.
  auto only = pack::load_pack(code_pack(false, false), {}, true);
  ASSERT_TRUE(only) << only.error().message;
  EXPECT_EQ(only->bitcode, fake_bitcode());
  EXPECT_FALSE(only->native);
  EXPECT_EQ(only->info.cpu, "generic");
  EXPECT_EQ(only->info.sections.size(), 4u);
  o = code_options(false);
  o.bitcode = fake_wrapped_bitcode();
  o.target_cpu = "znver3";
  auto wrapped = pack::load_pack(pack::write_pack(*b.c->program, b.c->sm, o), {}, true);
  ASSERT_TRUE(wrapped) << wrapped.error().message;
  EXPECT_EQ(wrapped->bitcode, fake_wrapped_bitcode());
  // Empty features are allowed.
  o.native->features.clear();
  auto nofeat = pack::load_pack(pack::write_pack(*b.c->program, b.c->sm, o), {}, true);
  ASSERT_TRUE(nofeat) << nofeat.error().message;
  EXPECT_EQ(nofeat->native->features, "");
  // Without code, a pack has no code sections (and equals a version 1-style pack but for the version).
  auto plain = pack::load_pack(b.unsigned_pack, {}, true);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->bitcode.empty());
  EXPECT_FALSE(plain->native);
}

TEST(PackCode, DigestIdentifiesThePack) {
  auto a = pack::load_pack(code_pack(false), {}, true);
  ASSERT_TRUE(a) << a.error().message;
  std::string hex = a->info.digest_hex();
  ASSERT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  char first[3];
  std::snprintf(first, sizeof first, "%02x", a->info.digest[0]);
  EXPECT_EQ(hex.substr(0, 2), first);
  // The digest is of the whole contents: other bitcode (or other native code) is another pack.
  pack::PackOptions o = code_options(false);
  o.bitcode = fake_bitcode(17);
  auto b = pack::load_pack(pack::write_pack(*small().c->program, small().c->sm, o), {}, true);
  ASSERT_TRUE(b);
  EXPECT_NE(b->info.digest_hex(), hex);
  o = code_options(false);
  o.native->object = fake_elf(101);
  auto c = pack::load_pack(pack::write_pack(*small().c->program, small().c->sm, o), {}, true);
  ASSERT_TRUE(c);
  EXPECT_NE(c->info.digest_hex(), hex);
  // The same inputs give the same digest.
  auto d = pack::load_pack(code_pack(false), {}, true);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->info.digest_hex(), hex);
}

TEST(PackCode, WriterRefusesBadCode) {
  const Built& b = small();
  auto refuses = [&](const pack::PackOptions& o, const char* what) {
    EXPECT_THROW(pack::write_pack(*b.c->program, b.c->sm, o), std::invalid_argument) << what;
  };
  pack::PackOptions o = code_options(false);
  o.bitcode = "not bitcode!";
  refuses(o, "bitcode magic");
  o = code_options(false);
  o.bitcode = fake_bitcode() + "xy";
  refuses(o, "bitcode size not a multiple of 4");
  o = code_options(false);
  o.bitcode.clear();
  refuses(o, "native without bitcode");
  o = code_options(false);
  o.native->object[0] = 'X';
  refuses(o, "ELF magic");
  o = code_options(false);
  o.native->object[16] = 2;  // ET_EXEC
  refuses(o, "not relocatable");
  o = code_options(false);
  o.native->object.resize(40);
  refuses(o, "short ELF");
  o = code_options(false);
  o.native->cpu = "";
  refuses(o, "empty cpu");
  o = code_options(false);
  o.native->cpu = std::string(32, 'x');
  refuses(o, "long cpu");
  o = code_options(false);
  o.native->cpu = "zen 3";
  refuses(o, "cpu with a space");
  o = code_options(false);
  o.native->llvm_version = "";
  refuses(o, "empty LLVM version");
  o = code_options(false);
  o.native->features = "+avx2\n";
  refuses(o, "control character in features");
  o = code_options(false);
  o.target_cpu = "skylake";
  refuses(o, "target CPU other than the native one");
  if (host_elf_machine() != 0) {
    o = code_options(false);
    o.native->object[18] = static_cast<char>(o.native->object[18] ^ 1);
    refuses(o, "another machine");
  }
  o = code_options(false);
  EXPECT_NO_THROW(pack::write_pack(*b.c->program, b.c->sm, o));
}

TEST(PackCode, BadCodeSectionsAreMalformed) {
  const std::string good = code_pack(false);
  ASSERT_TRUE(pack::load_pack(rebuild(good, sections_of(good)), {}, true)) << "rebuild must be faithful";
  ASSERT_TRUE(pack::load_pack(good, {}, true));
  std::string bc = fake_bitcode();

  // Bitcode.
  std::string bad = bc;
  bad[1] = 'D';
  expect_malformed(with_section(good, 4, bad), "bitcode magic", "llvm-bitcode section, byte");
  expect_malformed(with_section(good, 4, "\x7f" "ELF" + bc), "ELF as bitcode", "not LLVM bitcode");
  expect_malformed(with_section(good, 4, ""), "empty bitcode", "not LLVM bitcode");
  expect_malformed(with_section(good, 4, bc.substr(0, 3)), "3 bytes of bitcode", "not LLVM bitcode");
  expect_malformed(with_section(good, 4, bc + "xy"), "bitcode size", "not a multiple of 4");
  std::string w = fake_wrapped_bitcode();
  bad = w;
  put_u32(bad, 12, static_cast<uint32_t>(w.size()));  // size runs past the end
  expect_malformed(with_section(good, 4, bad), "wrapper size", "run past");
  bad = w;
  put_u32(bad, 8, 0xFFFFFFF0u);  // offset far past the end
  expect_malformed(with_section(good, 4, bad), "wrapper offset", "run past");
  bad = w;
  put_u32(bad, 8, 16);  // points at the cputype field, not at bitcode
  expect_malformed(with_section(good, 4, bad), "wrapper points at junk", "does not hold LLVM bitcode");
  expect_malformed(with_section(good, 4, w.substr(0, 12)), "wrapper header cut", "cut short");

  // Native object.
  pack::NativeCode n = fake_native();
  auto native_with = [&](auto change) {
    pack::NativeCode m = n;
    change(m);
    return with_section(good, 5, native_section(m));
  };
  expect_malformed(native_with([](pack::NativeCode& m) { m.object[0] = 0; }), "ELF magic", "not an ELF file");
  expect_malformed(native_with([](pack::NativeCode& m) { m.object = "BC\xC0\xDE"; }), "bitcode as an object",
                   "not an ELF file");
  expect_malformed(native_with([](pack::NativeCode& m) { m.object.clear(); }), "empty object", "not an ELF file");
  expect_malformed(native_with([](pack::NativeCode& m) { m.object.resize(63); }), "short ELF", "ELF64 header");
  expect_malformed(native_with([](pack::NativeCode& m) { m.object[4] = 1; }), "ELF32", "64-bit");
  expect_malformed(native_with([](pack::NativeCode& m) { m.object[5] = 2; }), "big-endian", "little-endian");
  expect_malformed(native_with([](pack::NativeCode& m) { m.object[6] = 0; }), "ELF version", "ELF version");
  expect_malformed(native_with([](pack::NativeCode& m) { m.object[16] = 3; }), "ET_DYN", "ET_REL");
  if (host_elf_machine() != 0) {
    expect_malformed(native_with([](pack::NativeCode& m) { m.object[18] = 40; }), "ARM32 object", "ELF machine 40");
  }
  expect_malformed(native_with([](pack::NativeCode& m) { m.cpu = "skylake"; }), "cpu differs from the header",
                   "header names cpu znver3");
  expect_malformed(native_with([](pack::NativeCode& m) { m.cpu = ""; }), "empty cpu", "cpu must be");
  expect_malformed(native_with([](pack::NativeCode& m) { m.llvm_version = ""; }), "empty LLVM version",
                   "LLVM version must be");
  expect_malformed(native_with([](pack::NativeCode& m) { m.llvm_version = std::string(65, '1'); }),
                   "long LLVM version", "LLVM version must be");
  expect_malformed(native_with([](pack::NativeCode& m) { m.features = std::string("+a\0", 3); }), "NUL in features",
                   "feature string");
  expect_malformed(with_section(good, 5, native_section(n) + "z"), "trailing bytes", "trailing bytes");
  expect_malformed(with_section(good, 5, native_section(n, n.object.size() + 1)), "object size too large",
                   "runs past the end of the section");
  expect_malformed(with_section(good, 5, native_section(n, ~uint64_t{0})), "object size 2^64-1",
                   "runs past the end of the section");
  std::string sec = native_section(n);
  put_u32(sec, 0, 0xFFFFFFFFu);  // cpu length
  expect_malformed(with_section(good, 5, sec), "cpu length", "too large");

  // The section table.
  std::vector<Section> secs = sections_of(good);
  ASSERT_EQ(secs.size(), 5u);
  std::vector<Section> t = {secs[0], secs[1], secs[2], secs[4]};
  expect_malformed(rebuild(good, t), "native without bitcode", "without an llvm-bitcode section");
  t = {secs[0], secs[1], secs[2], secs[3], secs[3], secs[4]};
  expect_malformed(rebuild(good, t), "two bitcode sections", "a second llvm-bitcode section");
  t = {secs[0], secs[1], secs[2], secs[3], secs[4], secs[4]};
  expect_malformed(rebuild(good, t), "two native sections", "a second native-object section");
  for (uint32_t kind : {0u, 6u, 7u, 0xFFFFFFFFu}) {
    t = secs;
    t.push_back({kind, fake_bitcode()});
    expect_malformed(rebuild(good, t), "unknown kind", "unknown section kind " + std::to_string(kind));
  }
  // Any order of the sections is fine; the required three are still required.
  t = {secs[4], secs[3], secs[2], secs[1], secs[0]};
  EXPECT_TRUE(pack::load_pack(rebuild(good, t), {}, true));
  t = {secs[0], secs[1], secs[3], secs[4]};
  expect_malformed(rebuild(good, t), "no source map", "source-map section is missing");
}

size_t section_offset(const std::string& p, uint32_t kind, size_t* size = nullptr) {
  uint32_t n = get_u32(p, 64);
  for (uint32_t i = 0; i < n; ++i) {
    size_t e = pack::kHeaderFixedSize + size_t{i} * pack::kSectionEntrySize;
    if (get_u32(p, e) == kind) {
      if (size) *size = static_cast<size_t>(get_u64(p, e + 16));
      return static_cast<size_t>(get_u64(p, e + 8));
    }
  }
  ADD_FAILURE() << "no section of kind " << kind;
  return 0;
}

TEST(PackCode, TruncationInsideCodeSections) {
  const std::string good = code_pack(true);
  size_t bc_size = 0, obj_size = 0;
  size_t bc = section_offset(good, 4, &bc_size), obj = section_offset(good, 5, &obj_size);
  ASSERT_GT(bc_size, 0u);
  ASSERT_GT(obj_size, 0u);
  // The file cut anywhere inside them: the header promises more.
  for (size_t len = bc; len < obj + obj_size; ++len) {
    EXPECT_EQ(error_of(good.substr(0, len)), PackErrorKind::Truncated) << "length " << len;
  }
  // The sections themselves cut short behind a valid digest (the table says so): every prefix is refused.
  std::string unsigned_good = code_pack(false);
  std::string native = sections_of(unsigned_good)[4].bytes;
  for (size_t len = 0; len < native.size(); ++len) {
    malformed_error(with_section(unsigned_good, 5, native.substr(0, len)), "cut native section");
  }
  std::string bitcode = fake_bitcode();
  for (size_t len = 0; len < bitcode.size(); ++len) {
    if (len >= 4 && len % 4 == 0) continue;  // a shorter, well-formed bitcode blob
    malformed_error(with_section(unsigned_good, 4, bitcode.substr(0, len)), "cut bitcode");
  }
}

TEST(PackCode, FlippedBytesInCodeSectionsBreakTheDigest) {
  const std::string good = code_pack(true);
  size_t bc_size = 0, obj_size = 0;
  size_t bc = section_offset(good, 4, &bc_size), obj = section_offset(good, 5, &obj_size);
  ASSERT_EQ(bc + bc_size, obj);
  int k = 0;
  for (size_t pos = bc; pos < obj + obj_size; ++pos) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (k++ % 8)));
    EXPECT_EQ(error_of(bad), PackErrorKind::DigestMismatch) << "byte " << pos;
  }
  // The same flips in an unsigned pack: still the digest.
  const std::string u = code_pack(false);
  for (size_t pos = bc; pos < obj + obj_size; pos += 3) {
    std::string bad = u;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    EXPECT_EQ(error_of(bad, true), PackErrorKind::DigestMismatch) << "byte " << pos;
  }
}

TEST(PackCode, SignatureCoversCodeSections) {
  const std::string good = code_pack(true);
  ASSERT_TRUE(pack::load_pack(good, trusted(), false));
  uint64_t cs = get_u64(good, 72);
  // Swap in other (well-formed) code of the same size and recompute the digest, keeping the signature block:
  // the signature no longer verifies.
  auto redigest = [&](std::string b) {
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(b.data()), static_cast<size_t>(cs));
    std::memcpy(b.data() + cs, d, sizeof d);
    return b;
  };
  size_t bc = section_offset(good, 4);
  std::string bad = good;
  bad[bc + 7] = static_cast<char>(bad[bc + 7] ^ 1);
  EXPECT_EQ(error_of(redigest(bad)), PackErrorKind::BadSignature);
  size_t size = 0, obj = section_offset(good, 5, &size);
  bad = good;
  bad[obj + size - 1] = static_cast<char>(bad[obj + size - 1] ^ 1);  // the object's last byte
  EXPECT_EQ(error_of(redigest(bad)), PackErrorKind::BadSignature);
  bad = good;
  bad[obj + 4 + 5] = 'Z';  // znver3 -> znverZ in the section (header cpu unchanged)
  EXPECT_EQ(error_of(redigest(bad)), PackErrorKind::BadSignature);
  // The same content signed by someone else: valid but untrusted.
  pack::PackOptions o = code_options(false);
  o.sign_key = pack::generate_keypair().secret;
  o.native->object = fake_elf(120);
  EXPECT_EQ(error_of(pack::write_pack(*small().c->program, small().c->sm, o)), PackErrorKind::UntrustedKey);
}

TEST(PackCode, VersionOneIsRefused) {
  // Packs of older readers (version 1: no code sections; version 2: no JSON-document fields in the IR; version 3:
  // no `cased` flag; version 4: no computed severities; version 5: no group scope; version 6: no zipped fields;
  // version 7: code whose dispatch functions take no prefilter bitset) are refused with the version error, even
  // when their digest and signature are otherwise in order.
  for (uint32_t old_version : {1u, 2u, 3u, 4u, 5u, 6u, 7u}) {
    std::string v1 = small().signed_pack;
    put_u32(v1, 8, old_version);
    std::string resealed = reseal(v1);
    for (const std::string& b : {v1, resealed}) {
      auto r = pack::load_pack(b, trusted(), true);
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().kind, PackErrorKind::UnsupportedVersion);
      EXPECT_NE(r.error().message.find("version " + std::to_string(old_version) + " is not supported"),
                std::string::npos)
          << r.error().message;
      EXPECT_NE(r.error().message.find("reads version 8"), std::string::npos) << r.error().message;
    }
  }
  EXPECT_EQ(pack::kFormatVersion, 8u);
}

TEST(PackCode, NativeUsableMatrix) {
  auto loaded = pack::load_pack(code_pack(false), {}, true);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const pack::LoadedPack& p = *loaded;  // znver3, "+avx2,+bmi2,+sse4.2,-avx512f", LLVM 17.0.6
  struct Case {
    const char* cpu;
    const char* features;
    const char* llvm;
    bool usable;
    const char* reason;  // a part of native_mismatch's answer
  };
  const Case cases[] = {
      {"znver3", "+avx2,+bmi2,+sse4.2,-avx512f", "17.0.6", true, ""},
      {"znver3", "+sse4.2,+bmi2,+avx2", "17.0.6", true, ""},                     // order, no -avx512f
      {"znver3", "+avx2,+bmi2,+sse4.2,+avx512f,+adx", "17.0.6", true, ""},       // a superset
      {"znver3", "avx2, bmi2 ,sse4.2", "17.0.6", true, ""},                      // bare names, spaces
      {"znver3", "+avx2,+sse4.2", "17.0.6", false, "lacks: +bmi2"},              // a feature missing
      {"znver3", "+avx2,-bmi2,+sse4.2", "17.0.6", false, "+bmi2"},               // disabled on the host
      {"znver3", "+avx2,+bmi2,+sse4.2,-bmi2", "17.0.6", false, "+bmi2"},         // last one wins
      {"znver3", "+avx2,-bmi2,+sse4.2,+bmi2", "17.0.6", true, ""},
      {"znver3", "", "17.0.6", false, "+avx2,+bmi2,+sse4.2"},
      {"skylake", "+avx2,+bmi2,+sse4.2", "17.0.6", false, "for cpu znver3, this machine is skylake"},
      {"znver3", "+avx2,+bmi2,+sse4.2", "18.1.8", false, "LLVM 17.0.6, this braid has LLVM 18.1.8"},
      {"znver3", "+avx2,+bmi2,+sse4.2", "17.0.5", false, "LLVM 17.0.6"},
      {"", "+avx2,+bmi2,+sse4.2", "17.0.6", false, "for cpu znver3"},
      {"ZNVER3", "+avx2,+bmi2,+sse4.2", "17.0.6", false, "for cpu znver3"},
      {"znver3", "+avx2,+bmi2,+sse4.2", "", false, "LLVM"},
  };
  for (const Case& c : cases) {
    std::string why = pack::native_mismatch(p, c.cpu, c.features, c.llvm);
    EXPECT_EQ(pack::native_usable(p, c.cpu, c.features, c.llvm), c.usable)
        << c.cpu << " | " << c.features << " | " << c.llvm << ": " << why;
    EXPECT_EQ(why.empty(), c.usable) << why;
    EXPECT_NE(why.find(c.reason), std::string::npos) << why;
  }
  // No native code: never usable, whatever the host.
  auto plain = pack::load_pack(code_pack(false, false), {}, true);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(pack::native_usable(*plain, "znver3", "+avx2,+bmi2,+sse4.2", "17.0.6"));
  EXPECT_EQ(pack::native_mismatch(*plain, "znver3", "", "17.0.6"), "the pack has no native code");
  // Native code that needs no features runs on any host of its CPU and LLVM.
  pack::PackOptions o = code_options(false);
  o.native->features = "-avx512f";
  auto nofeat = pack::load_pack(pack::write_pack(*small().c->program, small().c->sm, o), {}, true);
  ASSERT_TRUE(nofeat);
  EXPECT_TRUE(pack::native_usable(*nofeat, "znver3", "", "17.0.6"));
  EXPECT_FALSE(pack::native_usable(*nofeat, "znver4", "", "17.0.6"));
}

TEST(PackCode, RandomMutationsOfCodeSectionsNeverCrash) {
  const std::string good = code_pack(false);
  size_t bc_size = 0, obj_size = 0;
  size_t bc = section_offset(good, 4, &bc_size), obj = section_offset(good, 5, &obj_size);
  size_t lo = bc, hi = obj + obj_size;
  std::mt19937_64 rng(4);
  int malformed = 0, accepted = 0;
  for (int iter = 0; iter < 800; ++iter) {
    std::string b = good;
    for (int e = 0, edits = 1 + static_cast<int>(rng() % 3); e < edits; ++e) {
      size_t pos = lo + rng() % (hi - lo);
      b[pos] = static_cast<char>(rng() % 4 == 0 ? 0xFF : rng());
    }
    auto r = pack::load_pack(reseal(b), {}, true);
    if (r) {
      ++accepted;
    } else {
      EXPECT_EQ(r.error().kind, PackErrorKind::Malformed) << r.error().message;
      ++malformed;
    }
  }
  EXPECT_GT(malformed, 100);
  std::cout << "code section mutations: malformed=" << malformed << " accepted=" << accepted << "\n";
}

}  // namespace
