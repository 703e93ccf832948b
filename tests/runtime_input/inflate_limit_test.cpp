// The gzip bomb cap (ReaderOptions::max_inflate_ratio, inflate_floor, max_inflated_size): a small gzip file that
// inflates to a lot stops at the cap with an InflateLimit error naming the file, what came before is read, and
// the next input is read.
#include <chrono>
#include <sstream>

#include "test_util.h"

namespace braid::rt::testing {
namespace {

// `members` concatenated gzip members of `each` zero bytes: about 1 KiB of gzip per MiB of text.
std::string zero_bomb(size_t members, size_t each) {
  std::string one = gzip(std::string(each, '\0'));
  std::string out;
  out.reserve(one.size() * members);
  for (size_t i = 0; i < members; ++i) out += one;
  return out;
}

TEST(InflateLimit, TwoMegabytesInflatingToTwoGigabytesStopsAtTheDefaultCap) {
  TempDir d;
  // A good member first, then 256 members of 8 MiB of zeros: about 2 MB that inflate to 2 GiB.
  std::string bomb = gzip("{\"good\":1}\n{\"good\":2}\n") + zero_bomb(256, size_t{8} << 20);
  ASSERT_LT(bomb.size(), size_t{3} << 20);
  write_file(d.file("bomb.json.gz"), bomb);
  write_file(d.file("next.ndjson"), "{\"after\":true}\n");
  RecordReader r;
  r.add_path(d.file("bomb.json.gz"));
  r.add_path(d.file("next.ndjson"));
  auto t0 = std::chrono::steady_clock::now();
  Collected c = read_all(r);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<std::string> expect = {"{\"good\":1}", "{\"good\":2}", "{\"after\":true}"};
  EXPECT_EQ(c.records, expect);
  ASSERT_EQ(r.stats().count(InputErrorKind::InflateLimit), 1u);
  bool found = false;
  for (size_t i = 0; i < c.kinds.size(); ++i) {
    if (c.kinds[i] != InputErrorKind::InflateLimit) continue;
    found = true;
    EXPECT_EQ(c.errors[i].rfind(d.file("bomb.json.gz") + ":", 0), 0u) << c.errors[i];
    EXPECT_NE(c.errors[i].find("100 times its compressed size"), std::string::npos) << c.errors[i];
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(input_error_is_record(InputErrorKind::InflateLimit));
  EXPECT_EQ(input_error_kind_name(InputErrorKind::InflateLimit), "inflate_limit");
  // Stopped just past the floor (64 MiB), far from the 2 GiB: one decompressed chunk at most beyond it.
  EXPECT_LT(r.stats().bytes, kDefaultInflateFloor + (size_t{2} << 20));
  EXPECT_GT(r.stats().bytes, kDefaultInflateFloor - (size_t{2} << 20));
  std::printf("bomb: stopped after %llu bytes in %.2f s\n", static_cast<unsigned long long>(r.stats().bytes),
              seconds);
}

TEST(InflateLimit, GzipStreamIsCappedToo) {
  std::istringstream in(zero_bomb(64, size_t{4} << 20));  // 256 MiB of zeros on "stdin"
  ReaderOptions o;
  o.inflate_floor = size_t{1} << 20;
  RecordReader r(o);
  r.add_stream(in, "-");
  Collected c = read_all(r);
  EXPECT_EQ(r.stats().count(InputErrorKind::InflateLimit), 1u);
  EXPECT_LT(r.stats().bytes, size_t{4} << 20);
}

TEST(InflateLimit, AbsoluteCap) {
  TempDir d;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "{\"i\":" + std::to_string(i) + "}\n";
  write_file(d.file("a.gz"), gzip(text));
  ReaderOptions o;
  o.max_inflated_size = 100000;
  o.chunk_size = 4096;
  RecordReader r(o);
  r.add_path(d.file("a.gz"));
  Collected c = read_all(r);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::InflateLimit);
  EXPECT_NE(c.errors[0].find("more than 100000 bytes (ReaderOptions::max_inflated_size)"), std::string::npos)
      << c.errors[0];
  // What came before the cap was read, whole records only.
  EXPECT_GT(c.records.size(), 5000u);
  EXPECT_LT(c.records.size(), 20000u);
  for (size_t i = 0; i < c.records.size(); ++i) EXPECT_EQ(c.records[i], "{\"i\":" + std::to_string(i) + "}");
}

TEST(InflateLimit, RatioBelowTheCapPasses) {
  // Ordinary, repetitive logs (about 20:1 here) pass the default ratio even above the floor; with the ratio set
  // below theirs they are stopped, which shows the ratio is what is checked.
  std::string text;
  for (int i = 0; i < 40000; ++i)
    text += "{\"eventName\":\"GetObject\",\"eventSource\":\"s3.amazonaws.com\",\"i\":" + std::to_string(i) + "}\n";
  std::string gz = gzip(text);
  ASSERT_GT(text.size() / gz.size(), 10u);
  ReaderOptions o;
  o.inflate_floor = 1 << 20;
  {
    RecordReader r(o);
    r.add_buffer(gz, "ok.gz");
    Collected c = read_all(r);
    EXPECT_TRUE(c.errors.empty());
    EXPECT_EQ(c.records.size(), 40000u);
  }
  o.max_inflate_ratio = 5;
  {
    RecordReader r(o);
    r.add_buffer(gz, "low-ratio.gz");
    Collected c = read_all(r);
    ASSERT_EQ(c.kinds.size(), 1u);
    EXPECT_EQ(c.kinds[0], InputErrorKind::InflateLimit);
    EXPECT_LT(c.records.size(), 40000u);
  }
}

TEST(InflateLimit, PlainFilesHaveNoCap) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "{\"i\":" + std::to_string(i) + "}\n";
  ReaderOptions o;
  o.max_inflated_size = 100;
  o.inflate_floor = 0;
  o.max_inflate_ratio = 1;
  RecordReader r(o);
  r.add_buffer(text, "plain");
  EXPECT_EQ(read_all(r).records.size(), 1000u);
}

}  // namespace
}  // namespace braid::rt::testing
