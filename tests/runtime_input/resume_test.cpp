// RecordReader::positions() and resume(): a reader that resumes from the positions taken after any record yields
// exactly the records not yet handed out (none twice, none skipped), for every container and format; replaced,
// truncated and removed files are reported and read from the start.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "test_util.h"

namespace braid::rt::testing {
namespace {

std::string ndjson_lines(int from, int to, size_t pad = 0) {
  std::string s;
  for (int i = from; i < to; ++i)
    s += "{\"i\":" + std::to_string(i) + ",\"p\":\"" + std::string(pad + static_cast<size_t>(i * 131 % 977), 'x') +
         "\"}\n";
  return s;
}

TEST(Resume, NdjsonEveryRecord) {
  TempDir d;
  // Blank lines, CRLF, no final newline, lines across 4 KiB chunks.
  write_file(d.file("a.ndjson"), "\n" + ndjson_lines(0, 40) + "\n  \n{\"crlf\":1}\r\n" + ndjson_lines(40, 60) +
                                     "{\"last\":true}");
  ReaderOptions o;
  o.chunk_size = 4096;
  expect_exact_resume([&](RecordReader& r) { r.add_path(d.file("a.ndjson")); }, o);
}

TEST(Resume, NdjsonLineNumbersContinue) {
  TempDir d;
  write_file(d.file("a.ndjson"), "{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n");
  RecordReader a;
  a.add_path(d.file("a.ndjson"));
  read_n(a, 2);
  auto pos = a.positions();
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_EQ(pos[0].input, d.file("a.ndjson"));
  EXPECT_TRUE(pos[0].resumable);
  EXPECT_TRUE(pos[0].has_current);
  EXPECT_EQ(pos[0].current.offset, 17u);
  EXPECT_EQ(pos[0].current.line, 3u);
  EXPECT_EQ(pos[0].current.file, "");
  EXPECT_TRUE(pos[0].marks.empty());
  RecordReader b;
  b.add_path(d.file("a.ndjson"));
  b.resume(pos);
  auto c = read_all(b);
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.origins[0].line, 4u);  // the line of the file, not of the resumed part
}

TEST(Resume, GzipWithConcatenatedMembers) {
  TempDir d;
  // Several members, decompressing to more than one 4 KiB chunk each.
  write_file(d.file("a.json.gz"),
             gzip(ndjson_lines(0, 30, 200)) + gzip(ndjson_lines(30, 31)) + gzip(ndjson_lines(31, 70, 100)));
  ReaderOptions o;
  o.chunk_size = 4096;
  expect_exact_resume([&](RecordReader& r) { r.add_path(d.file("a.json.gz")); }, o);
}

TEST(Resume, CloudTrailRecordsFiles) {
  TempDir d;
  std::string doc = "{\"Records\":[\n";
  for (int i = 0; i < 25; ++i) doc += std::string(i ? ",\n" : "") + "  {\"eventID\":\"" + std::to_string(i) + "\"}";
  doc += "\n]}\n";
  write_file(d.file("ct.json"), doc);
  write_file(d.file("ct.json.gz"), gzip(doc));
  expect_exact_resume([&](RecordReader& r) {
    r.add_path(d.file("ct.json"));
    r.add_path(d.file("ct.json.gz"));
  });
  RecordReader a;
  a.add_path(d.file("ct.json"));
  read_n(a, 3);
  auto pos = a.positions();
  EXPECT_EQ(pos[0].current.element, 3u);
  EXPECT_EQ(pos[0].current.line, 4u);  // element 3 starts on line 5
  EXPECT_EQ(doc.substr(pos[0].current.offset, 15), "{\"eventID\":\"3\"}");
}

TEST(Resume, JsonArrayFile) {
  TempDir d;
  write_file(d.file("arr.json"), "[{\"a\":1},{\"a\":2},\n{\"a\":3},{\"a\":4}]");
  expect_exact_resume([&](RecordReader& r) { r.add_path(d.file("arr.json")); });
}

TEST(Resume, DirectoryAndSeveralInputs) {
  TempDir d;
  write_file(d.file("dir/b.ndjson"), ndjson_lines(0, 5));
  write_file(d.file("dir/a.json.gz"), gzip(ndjson_lines(5, 9)));
  write_file(d.file("dir/sub/c.json"), "{\"Records\":[{\"c\":1},{\"c\":2}]}");
  write_file(d.file("dir/sub/empty.ndjson"), "");
  write_file(d.file("dir/z.json"), "[{\"z\":1}]");
  write_file(d.file("one.ndjson"), ndjson_lines(9, 12));
  expect_exact_resume([&](RecordReader& r) {
    r.add_path(d.file("one.ndjson"));
    r.add_path(d.file("dir"));
    r.add_path(d.file("one.ndjson"));  // the same file twice: two inputs, two positions
  });
  // A directory's position: one mark for its plain files, and the file being read.
  RecordReader a;
  a.add_path(d.file("dir"));
  read_n(a, 5);  // a.json.gz (4) and the first line of b.ndjson
  auto pos = a.positions();
  ASSERT_EQ(pos.size(), 1u);
  ASSERT_EQ(pos[0].marks.size(), 1u);
  EXPECT_EQ(pos[0].marks[0].stream, "");
  EXPECT_EQ(pos[0].marks[0].done, "a.json.gz");
  EXPECT_TRUE(pos[0].has_current);
  EXPECT_EQ(pos[0].current.file, "b.ndjson");
  EXPECT_EQ(pos[0].current.line, 1u);
  Collected rest = read_all(a);
  pos = a.positions();
  EXPECT_FALSE(pos[0].has_current);
  ASSERT_EQ(pos[0].marks.size(), 1u);
  EXPECT_EQ(pos[0].marks[0].done, "z.json");
}

TEST(Resume, AppendedDataIsReadAfterTheEnd) {
  TempDir d;
  write_file(d.file("dir/a.ndjson"), ndjson_lines(0, 3));
  write_file(d.file("f.ndjson.gz"), gzip(ndjson_lines(10, 12)));
  RecordReader a;
  a.add_path(d.file("dir"));
  a.add_path(d.file("f.ndjson.gz"));
  ASSERT_EQ(read_all(a).records.size(), 5u);
  auto pos = a.positions();
  // New data: a line appended, a gzip member appended, a new file in the directory, one sorting before the mark.
  {
    std::ofstream out(d.file("dir/a.ndjson"), std::ios::app);
    out << "{\"appended\":1}\n";
  }
  {
    std::ofstream out(d.file("f.ndjson.gz"), std::ios::app | std::ios::binary);
    out << gzip("{\"member\":2}\n");
  }
  write_file(d.file("dir/b.ndjson"), "{\"new\":\"b\"}\n");
  write_file(d.file("dir/0.ndjson"), "{\"new\":\"0\"}\n");  // ordered before the mark: counts as done
  RecordReader b;
  b.add_path(d.file("dir"));
  b.add_path(d.file("f.ndjson.gz"));
  b.resume(pos);
  Collected c = read_all(b);
  EXPECT_TRUE(c.errors.empty());
  std::vector<std::string> expect = {"{\"new\":\"b\"}", "{\"member\":2}"};
  // a.ndjson was finished and its stream's mark moved past it: what is appended to it later is not read (files
  // of a directory are taken as complete once finished; a file input is followed to its new end).
  EXPECT_EQ(c.records, expect);
}

TEST(Resume, AppendedToAFileInput) {
  TempDir d;
  write_file(d.file("a.ndjson"), ndjson_lines(0, 3));
  RecordReader a;
  a.add_path(d.file("a.ndjson"));
  read_all(a);
  auto pos = a.positions();
  {
    std::ofstream out(d.file("a.ndjson"), std::ios::app);
    out << "{\"appended\":1}\n";
  }
  RecordReader b;
  b.add_path(d.file("a.ndjson"));
  b.resume(pos);
  Collected c = read_all(b);
  EXPECT_EQ(c.records, std::vector<std::string>{"{\"appended\":1}"});
  EXPECT_EQ(c.origins[0].line, 4u);
}

TEST(Resume, ReplacedFileIsReportedAndReadFromTheStart) {
  TempDir d;
  write_file(d.file("a.ndjson"), ndjson_lines(0, 5));
  RecordReader a;
  a.add_path(d.file("a.ndjson"));
  read_n(a, 3);
  auto pos = a.positions();
  // Rotated: a new file (new inode) under the same name.
  write_file(d.file("a.ndjson.new"), ndjson_lines(100, 102));
  std::filesystem::rename(d.file("a.ndjson.new"), d.file("a.ndjson"));
  RecordReader b;
  b.add_path(d.file("a.ndjson"));
  b.resume(pos);
  Collected c = read_all(b);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Resume);
  EXPECT_NE(c.errors[0].find(d.file("a.ndjson") + ": the file is not the one of the saved position"),
            std::string::npos)
      << c.errors[0];
  EXPECT_NE(c.errors[0].find("read from the start"), std::string::npos) << c.errors[0];
  EXPECT_EQ(c.records.size(), 2u);
  EXPECT_EQ(b.stats().count(InputErrorKind::Resume), 1u);
  EXPECT_EQ(b.stats().bytes, ndjson_lines(100, 102).size());
}

TEST(Resume, SameInodeRewrittenIsReported) {
  TempDir d;
  write_file(d.file("a.ndjson"), ndjson_lines(0, 5));
  RecordReader a;
  a.add_path(d.file("a.ndjson"));
  read_n(a, 1);
  auto pos = a.positions();
  write_file(d.file("a.ndjson"), ndjson_lines(200, 205));  // truncated and rewritten in place (copytruncate)
  RecordReader b;
  b.add_path(d.file("a.ndjson"));
  b.resume(pos);
  Collected c = read_all(b);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Resume);
  EXPECT_EQ(c.records.size(), 5u);
}

TEST(Resume, TruncatedPlainFileIsReported) {
  TempDir d;
  std::string text = ndjson_lines(0, 60);  // well over kIdentityHeadBytes
  ASSERT_GT(text.size(), 3 * size_t{kIdentityHeadBytes});
  write_file(d.file("a.ndjson"), text);
  RecordReader a;
  a.add_path(d.file("a.ndjson"));
  read_n(a, 55);
  auto pos = a.positions();
  ASSERT_EQ(::truncate(d.file("a.ndjson").c_str(), static_cast<off_t>(2 * kIdentityHeadBytes)), 0);
  RecordReader b;
  b.add_path(d.file("a.ndjson"));
  b.resume(pos);
  Collected c = read_all(b);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Resume);
  EXPECT_NE(c.errors[0].find("shorter"), std::string::npos) << c.errors[0];
  ASSERT_FALSE(c.records.empty());
  EXPECT_EQ(c.records[0], ndjson_lines(0, 1).substr(0, ndjson_lines(0, 1).size() - 1));
}

TEST(Resume, TruncatedGzipIsReported) {
  TempDir d;
  // The first member is over kIdentityHeadBytes compressed, so the identity survives losing the second member.
  std::string text;
  uint64_t x = 88172645463325252ull;  // xorshift: text that does not compress much
  for (int i = 0; i < 400; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    text += "{\"r\":" + std::to_string(x) + "}\n";
  }
  std::string first = gzip(text);
  ASSERT_GT(first.size(), size_t{kIdentityHeadBytes});
  write_file(d.file("a.gz"), first + gzip(ndjson_lines(0, 10)));
  RecordReader a;
  a.add_path(d.file("a.gz"));
  read_n(a, 405);
  auto pos = a.positions();
  ASSERT_EQ(::truncate(d.file("a.gz").c_str(), static_cast<off_t>(first.size())), 0);
  RecordReader b;
  b.add_path(d.file("a.gz"));
  b.resume(pos);
  Collected c = read_all(b);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Resume);
  EXPECT_NE(c.errors[0].find("decompresses to"), std::string::npos) << c.errors[0];
  EXPECT_EQ(c.records.size(), 400u);
}

TEST(Resume, RecordsFileReplacedIsReported) {
  TempDir d;
  write_file(d.file("ct.json"), "{\"Records\":[{\"a\":1},{\"a\":2},{\"a\":3}]}");
  RecordReader a;
  a.add_path(d.file("ct.json"));
  read_n(a, 2);
  auto pos = a.positions();
  write_file(d.file("ct.json"), "{\"Records\":[{\"a\":1}]}");
  RecordReader b;
  b.add_path(d.file("ct.json"));
  b.resume(pos);
  Collected c = read_all(b);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Resume);
  EXPECT_EQ(c.records.size(), 1u);
}

TEST(Resume, CurrentFileOfADirectoryReplaced) {
  TempDir d;
  write_file(d.file("dir/a.ndjson"), ndjson_lines(0, 3));
  write_file(d.file("dir/b.ndjson"), ndjson_lines(3, 6));
  write_file(d.file("dir/c.ndjson"), ndjson_lines(6, 9));
  RecordReader a;
  a.add_path(d.file("dir"));
  read_n(a, 4);
  auto pos = a.positions();
  write_file(d.file("dir/b.ndjson.new"), ndjson_lines(30, 32));
  std::filesystem::rename(d.file("dir/b.ndjson.new"), d.file("dir/b.ndjson"));
  RecordReader b;
  b.add_path(d.file("dir"));
  b.resume(pos);
  Record rec;
  std::vector<std::string> errors;
  b.set_error_handler([&](const InputError& e) { errors.push_back(e.to_string()); });
  ASSERT_TRUE(b.next(rec));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("b.ndjson: the file is not the one"), std::string::npos) << errors[0];
  EXPECT_NE(rec.json().find("\"i\":30"), std::string::npos);
  // While the replaced file is read, it is the current file, not a done one.
  auto now = b.positions();
  EXPECT_TRUE(now[0].has_current);
  EXPECT_EQ(now[0].current.file, "b.ndjson");
  ASSERT_EQ(now[0].marks.size(), 1u);
  EXPECT_EQ(now[0].marks[0].done, "a.ndjson");
  size_t n = 1;
  while (b.next(rec)) ++n;
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(b.stats().inputs, 2u);
}

TEST(Resume, CurrentFileOfADirectoryRemoved) {
  TempDir d;
  write_file(d.file("dir/a.ndjson"), ndjson_lines(0, 3));
  write_file(d.file("dir/b.ndjson"), ndjson_lines(3, 6));
  write_file(d.file("dir/c.ndjson"), ndjson_lines(6, 9));
  RecordReader a;
  a.add_path(d.file("dir"));
  read_n(a, 4);
  auto pos = a.positions();
  ASSERT_EQ(pos[0].current.file, "b.ndjson");
  std::filesystem::remove(d.file("dir/b.ndjson"));
  RecordReader b;
  b.add_path(d.file("dir"));
  b.resume(pos);
  Collected c = read_all(b);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Resume);
  EXPECT_NE(c.errors[0].find("b.ndjson, is gone"), std::string::npos) << c.errors[0];
  EXPECT_EQ(c.records.size(), 3u);  // c.ndjson
}

TEST(Resume, StreamsAndStdinAreNotResumable) {
  std::istringstream in("{\"a\":1}\n");
  RecordReader a;
  a.add_stream(in, "s");
  a.add_buffer("{\"b\":1}\n", "buf");
  a.add_path("-");
  auto pos = a.positions();
  ASSERT_EQ(pos.size(), 3u);
  for (const auto& p : pos) EXPECT_FALSE(p.resumable);
  EXPECT_EQ(pos[1].input, "buf");
  // Resuming ignores them: the buffer is read whole.
  RecordReader b;
  b.add_buffer("{\"b\":1}\n", "buf");
  std::vector<InputPosition> saved = {pos[1]};
  saved[0].has_current = true;
  saved[0].current.offset = 8;
  b.resume(saved);
  EXPECT_EQ(read_all(b).records.size(), 1u);
}

TEST(Resume, PipeGivenByNameIsNotResumable) {
  TempDir d;
  std::string fifo = d.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    int fd = ::open(fifo.c_str(), O_WRONLY);
    std::string text = "{\"a\":1}\n";
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  });
  RecordReader r;
  r.add_path(fifo);
  Collected c = read_all(r);
  writer.join();
  EXPECT_EQ(c.records.size(), 1u);
  EXPECT_FALSE(r.positions()[0].resumable);
}

TEST(Resume, SavedPositionsAreMatchedByName) {
  TempDir d;
  write_file(d.file("a.ndjson"), ndjson_lines(0, 3));
  write_file(d.file("b.ndjson"), ndjson_lines(3, 6));
  RecordReader a;
  a.add_path(d.file("a.ndjson"));
  a.add_path(d.file("b.ndjson"));
  read_n(a, 4);
  auto pos = a.positions();
  // Another order, and one input more: each input gets its own saved position; the new one starts afresh.
  write_file(d.file("c.ndjson"), ndjson_lines(6, 7));
  RecordReader b;
  b.add_path(d.file("c.ndjson"));
  b.add_path(d.file("b.ndjson"));
  b.add_path(d.file("a.ndjson"));
  b.resume(pos);
  Collected c = read_all(b);
  EXPECT_TRUE(c.errors.empty());
  ASSERT_EQ(c.records.size(), 3u);  // c's one record, b's last two, nothing of a
  EXPECT_NE(c.records[0].find("\"i\":6"), std::string::npos);
  EXPECT_NE(c.records[1].find("\"i\":4"), std::string::npos);
}

}  // namespace
}  // namespace braid::rt::testing
