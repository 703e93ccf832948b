// ReaderOptions::read_ahead (`braid run --threads N`): a thread of the reader's own reads and inflates files ahead
// of next(). The caller must see exactly what it sees without it: the same records, origins, errors, counts and
// resumable positions, for plain and gzip files, files that break off, and a reader dropped in the middle.
#include "test_util.h"

namespace braid::rt::testing {
namespace {

std::string lines(int n, int from = 0) {
  std::string text;
  for (int i = from; i < from + n; ++i)
    text += "{\"eventID\":\"" + std::to_string(i) + "\",\"pad\":\"" + std::string(static_cast<size_t>(i * 131 % 3000), 'p') +
            "\"}\n";
  return text;
}

// Every kind of NDJSON input in one directory, plus a Records file (read whole: never read ahead).
void make_inputs(const TempDir& d) {
  write_file(d.file("in/a.ndjson"), lines(700));
  write_file(d.file("in/b.ndjson.gz"), gzip(lines(900, 1000)));
  std::string gz = gzip(lines(1500, 5000));
  write_file(d.file("in/c_truncated.gz"), gz.substr(0, gz.size() / 2));
  std::string bad = gzip(lines(400, 9000));
  for (size_t i = 200; i < 240 && i < bad.size(); ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  write_file(d.file("in/d_corrupt.gz"), bad);
  write_file(d.file("in/e_long_line.ndjson"), lines(3) + "{\"x\":\"" + std::string(20000, 'x') + "\"}\n" + lines(3, 50));
  write_file(d.file("in/f_empty.ndjson"), "");
  write_file(d.file("in/g_records.json"), "{\"Records\":[{\"eventID\":\"r1\"},{\"eventID\":\"r2\"}]}");
  write_file(d.file("in/h_no_final_newline.ndjson"), "{\"a\":1}\n{\"a\":2}");
}

ReaderOptions options(bool ahead) {
  ReaderOptions o;
  o.chunk_size = 4096;  // many chunks per file
  o.max_record_size = 10000;
  o.read_ahead = ahead;
  return o;
}

TEST(ReadAhead, SameRecordsErrorsCountsAndPositionsAsWithout) {
  TempDir d;
  make_inputs(d);
  Collected got[2];
  InputStats stats[2];
  std::vector<InputPosition> pos[2];
  for (int ahead = 0; ahead < 2; ++ahead) {
    RecordReader r(options(ahead));
    r.add_path(d.file("in"));
    r.add_path(d.file("in/a.ndjson"));  // a file given by name too (its own position)
    got[ahead] = read_all(r);
    stats[ahead] = r.stats();
    pos[ahead] = r.positions();
  }
  ASSERT_GT(got[0].records.size(), 2000u);
  EXPECT_EQ(got[1].records, got[0].records);
  ASSERT_EQ(got[1].origins.size(), got[0].origins.size());
  for (size_t i = 0; i < got[0].origins.size(); ++i) {
    EXPECT_EQ(got[1].origins[i].input, got[0].origins[i].input) << i;
    EXPECT_EQ(got[1].origins[i].line, got[0].origins[i].line) << i;
  }
  EXPECT_EQ(got[1].errors, got[0].errors);
  EXPECT_EQ(got[1].kinds.size(), 3u);  // truncated, corrupt, too long
  EXPECT_EQ(stats[1].bytes, stats[0].bytes);
  EXPECT_EQ(stats[1].records, stats[0].records);
  for (size_t k = 0; k < kInputErrorKinds; ++k) EXPECT_EQ(stats[1].errors[k], stats[0].errors[k]) << k;
  EXPECT_EQ(pos[1], pos[0]);
  EXPECT_EQ(stats[0].read_ahead_chunks, 0u);
  EXPECT_GT(stats[1].read_ahead_chunks, 100u);  // the NDJSON files went through the thread
  // Lines of up to 3,000 bytes against a headroom of 1,024 (a quarter of the 4 KiB chunk): both ways of carrying
  // a partial line into the next chunk were taken.
  EXPECT_GT(stats[1].read_ahead_copied, 0u);
  EXPECT_LT(stats[1].read_ahead_copied, stats[1].read_ahead_chunks);
}

TEST(ReadAhead, ChunksBecomeTheBufferWhenLinesFitTheHeadroom) {
  // Short lines: every chunk read ahead is taken as the reader's buffer, none copied, and nothing else changes.
  TempDir d;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "{\"eventID\":\"" + std::to_string(i) + "\",\"n\":" + std::to_string(i * 7) + "}\n";
  write_file(d.file("short.ndjson"), text);
  write_file(d.file("short.ndjson.gz"), gzip(text));
  Collected got[2];
  std::vector<InputPosition> pos[2];
  InputStats stats;
  for (int ahead = 0; ahead < 2; ++ahead) {
    RecordReader r(options(ahead));
    r.add_path(d.file("short.ndjson"));
    r.add_path(d.file("short.ndjson.gz"));
    got[ahead] = read_all(r);
    pos[ahead] = r.positions();
    if (ahead) stats = r.stats();
  }
  ASSERT_EQ(got[0].records.size(), 6000u);
  EXPECT_EQ(got[1].records, got[0].records);
  EXPECT_EQ(pos[1], pos[0]);
  EXPECT_GT(stats.read_ahead_chunks, 20u);
  EXPECT_EQ(stats.read_ahead_copied, 0u);
}

TEST(ReadAhead, PositionsMidFileResumeTheSame) {
  TempDir d;
  write_file(d.file("big.ndjson.gz"), gzip(lines(3000)));
  std::vector<InputPosition> saved[2];
  for (int ahead = 0; ahead < 2; ++ahead) {
    RecordReader r(options(ahead));
    r.add_path(d.file("big.ndjson.gz"));
    Record rec;
    for (int i = 0; i < 1234; ++i) ASSERT_TRUE(r.next(rec));
    EXPECT_EQ(rec.json().substr(0, 20), "{\"eventID\":\"1233\",\"p");
    saved[ahead] = r.positions();  // the caller's position, not how far the thread has read
  }
  EXPECT_EQ(saved[1], saved[0]);
  RecordReader again(options(true));
  again.add_path(d.file("big.ndjson.gz"));
  again.resume(saved[1]);
  Record rec;
  ASSERT_TRUE(again.next(rec));
  EXPECT_EQ(rec.json().substr(0, 20), "{\"eventID\":\"1234\",\"p");
}

TEST(ReadAhead, ReaderDroppedInTheMiddleOfAFile) {
  // The thread is reading ahead when the reader goes: it is stopped, nothing hangs or leaks (ASan/TSan builds).
  TempDir d;
  write_file(d.file("one.ndjson"), lines(4000));
  write_file(d.file("two.ndjson.gz"), gzip(lines(4000)));
  for (int stop_after : {1, 10, 3999, 4005}) {
    RecordReader r(options(true));
    r.add_path(d.file("one.ndjson"));
    r.add_path(d.file("two.ndjson.gz"));
    Record rec;
    for (int i = 0; i < stop_after; ++i) ASSERT_TRUE(r.next(rec));
  }
}

TEST(ReadAhead, NotInFollowMode) {
  // Following, a read at the end of a file waits for what is appended later: the reader reads it itself.
  TempDir d;
  write_file(d.file("f.ndjson"), lines(100));
  ReaderOptions o = options(true);
  o.hold_partial_line = true;
  RecordReader r(o);
  r.add_path(d.file("f.ndjson"));
  auto c = read_all(r);
  EXPECT_EQ(c.records.size(), 100u);
  EXPECT_EQ(r.stats().read_ahead_chunks, 0u);
}

}  // namespace
}  // namespace braid::rt::testing
