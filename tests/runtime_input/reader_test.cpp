// RecordReader: containers (plain, gzip, directory, stdin/stream), formats (NDJSON, Records, JSON array), and
// every malformed case counted with its file and line while the good records around it are still produced.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "input/convert.h"
#include "test_util.h"

namespace braid::rt::testing {
namespace {

TEST(Reader, NdjsonLinesAndOrigins) {
  TempDir d;
  write_file(d.file("a.ndjson"), "{\"a\":1}\n\n  \n{\"a\":2}\r\n{\"a\":3}");  // blank lines, CRLF, no final \n
  RecordReader r;
  r.add_path(d.file("a.ndjson"));
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[0], "{\"a\":1}");
  EXPECT_EQ(c.records[1], "{\"a\":2}\r");
  EXPECT_EQ(c.records[2], "{\"a\":3}");
  EXPECT_EQ(c.origins[0].line, 1u);
  EXPECT_EQ(c.origins[1].line, 4u);
  EXPECT_EQ(c.origins[2].line, 5u);
  EXPECT_EQ(c.origins[2].element, kNoElement);
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(r.stats().empty_lines, 2u);
  EXPECT_EQ(r.stats().records, 3u);
  EXPECT_EQ(r.stats().malformed(), 0u);
  EXPECT_EQ(r.path(c.origins[0].input), d.file("a.ndjson"));
}

TEST(Reader, RecordsArePaddedForSimdjson) {
  RecordReader r;
  r.add_buffer("{\"a\":1}\n{\"b\":2}\n", "buf");
  Record rec;
  ASSERT_TRUE(r.next(rec));
  // The padding is readable (ASan would flag it otherwise); touch it.
  volatile char sum = 0;
  for (size_t i = 0; i < rec.size + kRecordPadding; ++i) sum = static_cast<char>(sum + rec.data[i]);
  (void)sum;
  EXPECT_EQ(rec.json(), "{\"a\":1}");
}

TEST(Reader, LinesAcrossChunkBoundaries) {
  // Many lines of varying length with a tiny chunk: every line comes back intact with its number.
  std::string text;
  std::vector<std::string> lines;
  for (int i = 0; i < 500; ++i) {
    std::string line = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(static_cast<size_t>(i * 37 % 9000), 'x') + "\"}";
    lines.push_back(line);
    text += line + "\n";
  }
  ReaderOptions o;
  o.chunk_size = 4096;
  RecordReader r(o);
  r.add_buffer(text, "chunks");
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(c.records[i], lines[i]);
    EXPECT_EQ(c.origins[i].line, i + 1);
  }
  EXPECT_EQ(r.stats().bytes, text.size());
}

TEST(Reader, GzipDetectedByMagicNotName) {
  TempDir d;
  std::string text = "{\"a\":1}\n{\"a\":2}\n";
  write_file(d.file("events.json"), gzip(text));  // no .gz suffix
  write_file(d.file("plain.gz"), text);           // .gz suffix but plain
  RecordReader r;
  r.add_path(d.file("events.json"));
  r.add_path(d.file("plain.gz"));
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 4u);
  EXPECT_EQ(c.records[1], "{\"a\":2}");
  EXPECT_EQ(c.records[3], "{\"a\":2}");
  EXPECT_EQ(c.origins[1].line, 2u);
  EXPECT_TRUE(c.errors.empty());
}

TEST(Reader, ConcatenatedGzipMembers) {
  TempDir d;
  write_file(d.file("x.gz"), gzip("{\"a\":1}\n") + gzip("{\"a\":2}\n"));
  RecordReader r;
  r.add_path(d.file("x.gz"));
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[1], "{\"a\":2}");
  EXPECT_TRUE(c.errors.empty());
}

// A gzip member built by hand (RFC 1952): the header's optional fields, then raw deflate data and the trailer.
struct GzipMember {
  bool extra = false, name = false, comment = false, header_crc = false;
  int32_t crc_delta = 0, size_delta = 0;  // spoil the trailer's CRC-32 or length
};
std::string gzip_member(const std::string& text, const GzipMember& m) {
  std::string h = {'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\x03'};
  uint8_t flags = 0;
  if (m.header_crc) flags |= 0x02;
  if (m.extra) {
    flags |= 0x04;
    h += std::string("\x06\0" "AB\x02\0" "xy", 8);  // XLEN 6: one subfield "AB", 2 bytes
  }
  if (m.name) {
    flags |= 0x08;
    h += std::string("events.ndjson\0", 14);
  }
  if (m.comment) {
    flags |= 0x10;
    h += std::string("exported by a test\0", 19);
  }
  h[3] = static_cast<char>(flags);
  if (m.header_crc) {
    uint16_t c = static_cast<uint16_t>(crc32(0, reinterpret_cast<const Bytef*>(h.data()), static_cast<uInt>(h.size())));
    h += static_cast<char>(c & 0xff);
    h += static_cast<char>(c >> 8);
  }
  const std::string body = deflate_text(text, -15);
  auto le32 = [](uint32_t v) {
    std::string o(4, '\0');
    for (int i = 0; i < 4; ++i) o[i] = static_cast<char>(v >> (8 * i));
    return o;
  };
  uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
  return h + body + le32(crc + static_cast<uint32_t>(m.crc_delta)) +
         le32(static_cast<uint32_t>(text.size()) + static_cast<uint32_t>(m.size_delta));
}

TEST(Reader, GzipHeaderFieldsAreSkipped) {
  // gzip -N stores the name; other tools add an extra field, a comment or a header CRC: all are read past.
  TempDir d;
  const std::string text = "{\"a\":1}\n{\"a\":2}\n";
  write_file(d.file("all.gz"), gzip_member(text, {true, true, true, true}) + gzip_member(text, {false, true}));
  RecordReader r;
  r.add_path(d.file("all.gz"));
  auto c = read_all(r);
  EXPECT_TRUE(c.errors.empty()) << c.errors[0];
  ASSERT_EQ(c.records.size(), 4u);
  EXPECT_EQ(c.records[3], "{\"a\":2}");
}

TEST(Reader, GzipTrailerIsChecked) {
  // A member whose CRC-32 or length does not match what it inflates to is corrupt, as is anything after the last
  // member that is not another member.
  TempDir d;
  const std::string text = "{\"a\":1}\n";
  GzipMember bad_crc, bad_size;
  bad_crc.crc_delta = 1;
  bad_size.size_delta = 1;
  write_file(d.file("crc.gz"), gzip_member(text, bad_crc));
  write_file(d.file("size.gz"), gzip_member(text, bad_size));
  write_file(d.file("garbage.gz"), gzip_member(text, {}) + "not gzip");
  for (const char* f : {"crc.gz", "size.gz", "garbage.gz"}) {
    RecordReader r;
    r.add_path(d.file(f));
    auto c = read_all(r);
    ASSERT_EQ(c.kinds.size(), 1u) << f;
    EXPECT_EQ(c.kinds[0], InputErrorKind::Decompress) << f;
    if (std::string(f) == "garbage.gz") {
      EXPECT_NE(c.errors[0].find("trailing garbage"), std::string::npos) << c.errors[0];
    } else {
      EXPECT_NE(c.errors[0].find("corrupt gzip data"), std::string::npos) << c.errors[0];
    }
  }
}

TEST(Reader, TruncatedGzipIsReportedAndWhatCameBeforeIsRead) {
  TempDir d;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "{\"eventID\":\"" + std::to_string(i) + "\",\"x\":\"" + std::to_string(i * 7919) + "\"}\n";
  std::string gz = gzip(text);
  write_file(d.file("t.gz"), gz.substr(0, gz.size() / 2));
  write_file(d.file("next.ndjson"), "{\"after\":true}\n");
  RecordReader r;
  r.add_path(d.file("t.gz"));
  r.add_path(d.file("next.ndjson"));
  auto c = read_all(r);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Decompress);
  EXPECT_NE(c.errors[0].find("t.gz:"), std::string::npos) << c.errors[0];
  EXPECT_NE(c.errors[0].find("truncated gzip"), std::string::npos) << c.errors[0];
  ASSERT_GT(c.records.size(), 10u);
  EXPECT_EQ(c.records[0], "{\"eventID\":\"0\",\"x\":\"0\"}");
  EXPECT_EQ(c.records.back(), "{\"after\":true}");  // the next input is still read
  EXPECT_EQ(r.stats().count(InputErrorKind::Decompress), 1u);
}

TEST(Reader, CorruptGzipIsReported) {
  TempDir d;
  std::string gz = gzip(std::string(100000, 'a'));
  for (size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  write_file(d.file("c.gz"), gz);
  RecordReader r;
  r.add_path(d.file("c.gz"));
  auto c = read_all(r);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Decompress);
}

TEST(Reader, CloudTrailRecordsFile) {
  TempDir d;
  std::string text =
      "{\n  \"Records\": [\n    {\"eventName\":\"A\"},\n    {\"eventName\":\"B\",\n     \"x\":[1,2]},\n"
      "    {\"eventName\":\"C\"}\n  ]\n}\n";
  write_file(d.file("ct.json"), text);
  write_file(d.file("ct.json.gz"), gzip(text));
  RecordReader r;
  r.add_path(d.file("ct.json"));
  r.add_path(d.file("ct.json.gz"));
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 6u);
  EXPECT_EQ(c.records[0], "{\"eventName\":\"A\"}");
  EXPECT_EQ(c.records[1], "{\"eventName\":\"B\",\n     \"x\":[1,2]}");
  EXPECT_EQ(c.origins[0].line, 3u);
  EXPECT_EQ(c.origins[1].line, 4u);
  EXPECT_EQ(c.origins[2].line, 6u);
  EXPECT_EQ(c.origins[2].element, 2u);
  EXPECT_EQ(c.origins[5].element, 2u);
  EXPECT_EQ(c.origins[5].input, 1u);
  EXPECT_TRUE(c.errors.empty());
  // Each handed-out element is extractable in place (padding after it).
  RecordReader r2;
  r2.add_path(d.file("ct.json"));
  FieldExtractor ex(paths({"eventName"}));
  Record rec;
  std::vector<std::string> names;
  while (r2.next(rec)) {
    ASSERT_TRUE(ex.extract(rec)) << ex.error();
    names.emplace_back(ex[0].str());
    EXPECT_EQ(rec.format, InputFormat::CloudTrailRecords);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(Reader, NdjsonLineStartingWithRecordsKeyOnFirstLineIsARecordsFile) {
  // Real CloudTrail delivery files are one line: {"Records":[...]}.
  RecordReader r;
  r.add_buffer("{\"Records\":[{\"a\":1},{\"a\":2}]}", "one-line");
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.origins[1].line, 1u);
  EXPECT_EQ(c.origins[1].element, 1u);
}

TEST(Reader, RecordsFileWithOtherKeysAndNonArray) {
  RecordReader r;
  r.add_buffer("{\"Records\":[{\"a\":1}],\"Other\":{\"b\":[1,2,3]}}", "other-keys");
  r.add_buffer("{\"Records\": 5}", "not-array");  // detected as NDJSON (Records is not followed by '[')
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0], "{\"a\":1}");
  EXPECT_EQ(c.records[1], "{\"Records\": 5}");
  EXPECT_TRUE(c.errors.empty());
}

TEST(Reader, MalformedRecordsFileIsReported) {
  RecordReader r;
  // A structurally truncated file fails simdjson's structural check up front: one error, no records.
  r.add_buffer("{\"Records\":[{\"a\":1},\n{\"a\":2},\n{\"a\":", "truncated");
  // A bad literal inside a well-formed structure: the split does not parse atoms, so the element is handed out
  // and the extractor reports it with its line and element index.
  r.add_buffer("{\"Records\":[{\"a\":1},\n{\"a\":2},\n{\"a\":tru}]}", "bad-literal");
  r.add_buffer("{\"ok\":1}\n", "next");
  std::vector<std::string> errors;
  r.set_error_handler([&](const InputError& e) { errors.push_back(e.to_string()); });
  FieldExtractor ex(paths({"a", "ok"}));
  Record rec;
  size_t good = 0;
  while (r.next(rec)) {
    if (ex.extract(rec)) ++good;
    else r.report(rec, ex.error_kind(), ex.error());
  }
  EXPECT_EQ(good, 3u);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].rfind("truncated: ", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1].rfind("bad-literal:3: element 2: ", 0), 0u) << errors[1];
  EXPECT_EQ(r.stats().malformed(), 2u);
  EXPECT_EQ(r.stats().count(InputErrorKind::MalformedJson), 2u);
}

TEST(Reader, JsonArrayFile) {
  RecordReader r;
  r.add_buffer("  [ {\"a\":1}, {\"a\":[2]}, 3 ]", "array");
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[1], "{\"a\":[2]}");
  EXPECT_EQ(c.records[2], "3");  // handed out; the extractor reports "not an object"
  EXPECT_EQ(c.origins[2].element, 2u);
}

TEST(Reader, DocumentLargerThanLimit) {
  ReaderOptions o;
  o.max_document_size = 1000;
  o.chunk_size = 4096;
  RecordReader r(o);
  std::string big = "{\"Records\":[";
  for (int i = 0; i < 1000; ++i) big += std::string(i ? "," : "") + "{\"a\":1}";
  big += "]}";
  r.add_buffer(big, "big");
  r.add_buffer("{\"ok\":1}\n", "next");
  auto c = read_all(r);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::TooLarge);
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0], "{\"ok\":1}");
}

TEST(Reader, DirectoryRecursiveSortedHiddenSkipped) {
  TempDir d;
  write_file(d.file("dir/b.ndjson"), "{\"f\":\"b\"}\n");
  write_file(d.file("dir/a.ndjson"), "{\"f\":\"a\"}\n");
  write_file(d.file("dir/sub/c.ndjson.gz"), gzip("{\"f\":\"sub/c\"}\n"));
  write_file(d.file("dir/a2/z.ndjson"), "{\"f\":\"a2/z\"}\n");
  write_file(d.file("dir/.hidden"), "{\"f\":\"hidden\"}\n");
  write_file(d.file("dir/.git/x"), "{\"f\":\"git\"}\n");
  RecordReader r;
  r.add_path(d.file("dir"));
  auto c = read_all(r);
  std::vector<std::string> expect = {"{\"f\":\"a\"}", "{\"f\":\"a2/z\"}", "{\"f\":\"b\"}", "{\"f\":\"sub/c\"}"};
  // Byte-wise order of full paths: "a.ndjson" < "a2/z.ndjson" ('.' < '2') < "b.ndjson" < "sub/...".
  EXPECT_EQ(c.records, expect);
  ASSERT_EQ(r.paths().size(), 4u);
  EXPECT_EQ(r.paths()[3], d.file("dir/sub/c.ndjson.gz"));
  EXPECT_TRUE(c.errors.empty());
}

TEST(Reader, UnreadableFileIsReportedAndSkipped) {
  TempDir d;
  write_file(d.file("ok.ndjson"), "{\"a\":1}\n");
  RecordReader r;
  r.add_path(d.file("missing.ndjson"));
  r.add_path(d.file("ok.ndjson"));
  auto c = read_all(r);
  ASSERT_EQ(c.kinds.size(), 1u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::Unreadable);
  EXPECT_NE(c.errors[0].find("missing.ndjson: cannot open"), std::string::npos) << c.errors[0];
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(r.stats().count(InputErrorKind::Unreadable), 1u);
  ASSERT_EQ(r.errors().size(), 1u);
  EXPECT_EQ(r.errors()[0], c.errors[0]);
}

TEST(Reader, StreamInput) {
  std::istringstream in("{\"a\":1}\n{\"a\":2}\n");
  RecordReader r;
  r.add_stream(in, "-");
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(r.path(0), "-");
}

TEST(Reader, GzipStreamInput) {
  std::istringstream in(gzip("{\"a\":1}\n{\"a\":2}\n"));
  RecordReader r;
  r.add_stream(in, "stdin");
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 2u);
}

TEST(Reader, StdinThroughAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int saved = ::dup(0);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(::dup2(fds[0], 0), 0);
  ::close(fds[0]);
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "{\"i\":" + std::to_string(i) + "}\n";
  std::thread writer([&] {
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = ::write(fds[1], text.data() + off, std::min<size_t>(1000, text.size() - off));  // small writes
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  RecordReader r;
  r.add_path("-");
  auto c = read_all(r);
  writer.join();
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_EQ(c.records.size(), 3000u);
  EXPECT_EQ(c.records[2999], "{\"i\":2999}");
  EXPECT_EQ(c.origins[2999].line, 3000u);
}

TEST(Reader, TooLargeLineIsSkippedAndCounted) {
  ReaderOptions o;
  o.max_record_size = 1000;
  o.chunk_size = 4096;
  RecordReader r(o);
  std::string huge = "{\"x\":\"" + std::string(50000, 'y') + "\"}";
  std::string medium = "{\"x\":\"" + std::string(1500, 'y') + "\"}";  // over the limit but inside one chunk
  r.add_buffer("{\"a\":1}\n" + huge + "\n{\"a\":2}\n" + medium + "\n{\"a\":3}\n" + huge, "big");
  auto c = read_all(r);
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[2], "{\"a\":3}");
  EXPECT_EQ(c.origins[1].line, 3u);
  EXPECT_EQ(c.origins[2].line, 5u);
  ASSERT_EQ(c.kinds.size(), 3u);
  EXPECT_EQ(c.kinds[0], InputErrorKind::TooLarge);
  EXPECT_NE(c.errors[0].find("big:2:"), std::string::npos) << c.errors[0];
  EXPECT_NE(c.errors[1].find("big:4:"), std::string::npos) << c.errors[1];
  EXPECT_NE(c.errors[2].find("big:6:"), std::string::npos) << c.errors[2];
  EXPECT_EQ(r.stats().count(InputErrorKind::TooLarge), 3u);
}

TEST(Reader, TwentyMegabyteLine) {
  std::string big = "{\"eventName\":\"Big\",\"blob\":\"" + std::string(20u << 20, 'z') + "\"}";
  std::string text = "{\"eventName\":\"A\"}\n" + big + "\n{\"eventName\":\"B\"}\n";
  {
    RecordReader r;  // default limit 16 MiB: rejected
    r.add_buffer(text, "s");
    auto c = read_all(r);
    ASSERT_EQ(c.records.size(), 2u);
    ASSERT_EQ(c.kinds.size(), 1u);
    EXPECT_EQ(c.kinds[0], InputErrorKind::TooLarge);
    EXPECT_NE(c.errors[0].find("s:2:"), std::string::npos);
  }
  {
    ReaderOptions o;
    o.max_record_size = 32u << 20;  // accepted and extracted
    RecordReader r(o);
    r.add_buffer(text, "s");
    FieldExtractor ex(paths({"eventName", "blob"}));
    Record rec;
    std::vector<std::string> names;
    while (r.next(rec)) {
      ASSERT_TRUE(ex.extract(rec)) << ex.error();
      names.emplace_back(ex[0].str());
    }
    EXPECT_EQ(names, (std::vector<std::string>{"A", "Big", "B"}));
    EXPECT_EQ(r.stats().malformed(), 0u);
  }
}

// The malformed stream: every bad line counted with file and line, the good ones around it produced.
TEST(Reader, MalformedStreamEndToEnd) {
  TempDir d;
  std::string text;
  text += "{\"eventName\":\"Good1\",\"eventTime\":\"2024-07-30T21:53:13Z\"}\n";          // 1
  text += "{\"eventName\":\"Trunc\",\"eventTime\":\"2024-07-30T21:5\n";                   // 2 truncated
  text += "{\"eventName\":\"Bad\xff\xfe\",\"eventTime\":\"2024-07-30T21:53:13Z\"}\n";     // 3 invalid UTF-8
  text += "{\"eventName\":\"Big\",\"x\":\"" + std::string(20u << 20, 'a') + "\"}\n";      // 4 20 MB
  text += "\n";                                                                           // 5 empty
  text += "[1,2,3]\n";                                                                    // 6 not an object
  text += "{\"eventName\":42,\"eventTime\":\"2024-07-30T21:53:14Z\"}\n";                  // 7 wrong type
  text += "{\"eventName\":\"NoTime\"}\n";                                                 // 8 missing time
  text += "{\"eventName\":\"Trailing\"} x\n";                                             // 9 trailing garbage
  text += "{\"eventName\":\"Good2\",\"eventTime\":\"2024-07-30T21:53:15.5+01:00\"}\n";    // 10
  write_file(d.file("bad.ndjson"), text);
  RecordReader r;
  std::vector<std::string> errors;
  r.set_error_handler([&](const InputError& e) { errors.push_back(e.to_string()); });
  r.add_path(d.file("bad.ndjson"));
  FieldExtractor ex(paths({"eventName", "eventTime"}));
  Record rec;
  std::vector<std::string> good;
  int missing_time = 0, wrong_type = 0;
  while (r.next(rec)) {
    if (!ex.extract(rec)) {
      r.report(rec, ex.error_kind(), ex.error());
      continue;
    }
    if (ex[0].tag != Tag::String) {
      ++wrong_type;
      continue;
    }
    auto t = ex[1].tag == Tag::String ? parse_timestamp(ex[1].str()) : std::nullopt;
    if (!t) {
      ++missing_time;
      continue;
    }
    good.emplace_back(ex[0].str());
  }
  EXPECT_EQ(good, (std::vector<std::string>{"Good1", "Good2"}));
  EXPECT_EQ(wrong_type, 1);
  EXPECT_EQ(missing_time, 1);
  const auto& s = r.stats();
  EXPECT_EQ(s.count(InputErrorKind::MalformedJson), 2u);
  EXPECT_EQ(s.count(InputErrorKind::InvalidUtf8), 1u);
  EXPECT_EQ(s.count(InputErrorKind::TooLarge), 1u);
  EXPECT_EQ(s.count(InputErrorKind::NotObject), 1u);
  EXPECT_EQ(s.malformed(), 5u);
  EXPECT_EQ(s.empty_lines, 1u);
  ASSERT_EQ(errors.size(), 5u);
  std::string f = d.file("bad.ndjson");
  EXPECT_EQ(errors[0].rfind(f + ":2: ", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1].rfind(f + ":3: ", 0), 0u) << errors[1];
  EXPECT_NE(errors[1].find("UTF-8"), std::string::npos) << errors[1];
  EXPECT_EQ(errors[2].rfind(f + ":4: ", 0), 0u) << errors[2];
  EXPECT_EQ(errors[3].rfind(f + ":6: not a JSON object", 0), 0u) << errors[3];
  EXPECT_EQ(errors[4].rfind(f + ":9: ", 0), 0u) << errors[4];
}

TEST(Reader, KernelIsReported) {
  EXPECT_FALSE(simd_kernel_name().empty());
  EXPECT_TRUE(simd_kernel_supported());
}

}  // namespace
}  // namespace braid::rt::testing
