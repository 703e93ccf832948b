// Hostile input through the reader and the extractor together, as `braid run` uses them: malformed and truncated
// JSON, invalid UTF-8, NUL bytes, nesting 100,000 deep, a 100 MB line, wrong types, huge arrays, a file truncated
// while it is read. Every bad record is counted and located (file and line), nothing crashes, and the good
// records around the bad ones still come out whole.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "test_util.h"

namespace braid::rt::testing {
namespace {

struct Outcome {
  std::vector<std::string> good;    // the `id` of each record extracted
  std::vector<std::string> errors;  // InputError::to_string()
  std::vector<InputErrorKind> kinds;
};

// Reads every record and extracts `id` and `a.b` from it, reporting extraction failures back through the reader
// (what the engine does).
Outcome pipeline(RecordReader& r, const std::vector<std::string_view>& more_paths = {}) {
  Outcome o;
  r.set_error_handler([&](const InputError& e) {
    o.errors.push_back(e.to_string());
    o.kinds.push_back(e.kind);
  });
  std::vector<ir::FieldPath> fields = {path("id"), path("a.b")};
  for (auto p : more_paths) fields.push_back(path(p));
  FieldExtractor ex(fields);
  Record rec;
  while (r.next(rec)) {
    if (!ex.extract(rec)) {
      r.report(rec, ex.error_kind(), ex.error());
      continue;
    }
    const Value& id = ex[0];
    o.good.push_back(id.tag == Tag::String ? std::string(id.str()) : "<no id>");
  }
  EXPECT_EQ(r.stats().malformed(), static_cast<uint64_t>(std::count_if(o.kinds.begin(), o.kinds.end(), [](auto k) {
              return input_error_is_record(k);
            })));
  return o;
}

std::string good(int n) { return "{\"id\":\"g" + std::to_string(n) + "\",\"a\":{\"b\":" + std::to_string(n) + "}}"; }

// Each bad line is reported once, at its line, with kind `kind` (or `other`), and the good lines between them come
// out.
void expect_each_bad_line_located(const std::vector<std::string>& bad, InputErrorKind kind,
                                  InputErrorKind other = InputErrorKind::Unreadable) {
  TempDir d;
  std::string text;
  for (size_t i = 0; i < bad.size(); ++i) text += good(static_cast<int>(i)) + "\n" + bad[i] + "\n";
  text += good(static_cast<int>(bad.size())) + "\n";
  write_file(d.file("in.ndjson"), text);
  RecordReader r;
  r.add_path(d.file("in.ndjson"));
  Outcome o = pipeline(r);
  ASSERT_EQ(o.good.size(), bad.size() + 1);
  for (size_t i = 0; i <= bad.size(); ++i) EXPECT_EQ(o.good[i], "g" + std::to_string(i));
  ASSERT_EQ(o.errors.size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_TRUE(o.kinds[i] == kind || o.kinds[i] == other) << o.errors[i];
    std::string where = d.file("in.ndjson") + ":" + std::to_string(2 * i + 2) + ": ";
    EXPECT_EQ(o.errors[i].rfind(where, 0), 0u) << o.errors[i] << " (expected at " << where << ")";
  }
}

TEST(Hostile, MalformedAndTruncatedJson) {
  expect_each_bad_line_located(
      {R"({"id":"x","a":{"b":)", R"({"id":"x","a":{"b":1})", R"({"id":"x"}})", R"({"id":"x"} trailing)",
       R"({"id" "x"})", R"({"id":"x",})", R"({,})", R"({"id":'x'})", R"({"id":"x","a":{"b":1e999999}})",
       R"({"id":"x","a":{"b":01}})", R"({"id":"x","a":{"b":+1}})", R"({"id":"x","a":{"b":1.}})",
       R"({"id":"x","a":{"b":.5}})", R"({"id":"x","a":{"b":1e}})", R"({"id":"\u12"})", R"({"id":"x")", "{", "}", "]", "nul",
       R"({"id":"x","a":{"b":[1,2,}})"},
      InputErrorKind::MalformedJson, InputErrorKind::NotObject);
}

TEST(Hostile, InvalidUtf8) {
  expect_each_bad_line_located({"{\"id\":\"\xff\"}", "{\"id\":\"\xc3\x28\"}", "{\"\xfe\":1,\"id\":\"x\"}",
                                "{\"id\":\"\xc0\xaf\"}",            // overlong '/'
                                "{\"id\":\"\xed\xa0\x80\"}",        // a UTF-16 surrogate
                                "{\"id\":\"\xf4\x90\x80\x80\"}",    // beyond U+10FFFF
                                "{\"id\":\"x\",\"a\":{\"skipped\":\"\x80\"}}"},
                               InputErrorKind::InvalidUtf8);
}

TEST(Hostile, NulBytes) {
  using namespace std::string_literals;
  // NUL outside strings breaks the JSON; inside a string, unescaped, it is a control character, which JSON
  // forbids: malformed too. Escaped (\u0000) it is an ordinary character.
  expect_each_bad_line_located({"{\"id\":\"x\"}\0"s, "\0{\"id\":\"x\"}"s, "\0\0\0\0"s, "{\"id\":\"x\0y\"}"s,
                                "{\"id\":\"x\",\"a\":{\"b\":\"\0\"}}"s},
                               InputErrorKind::MalformedJson);
  RecordReader r;
  r.add_buffer("{\"id\":\"x\\u0000y\"}\n", "escaped");
  Outcome o = pipeline(r);
  ASSERT_EQ(o.good.size(), 1u);
  EXPECT_EQ(o.good[0], std::string("x\0y", 3));
}

TEST(Hostile, NestingOneHundredThousandDeep) {
  // Deep nesting is valid JSON, and is read: where no path goes, the extractor skips it without recursion; along a
  // path, it descends as deep as the path (the rules' paths bound the recursion, not the record).
  const size_t depth = 100000;
  std::string arrays = std::string(depth, '[') + std::string(depth, ']');
  std::string objects;
  for (size_t i = 0; i < depth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(depth, '}');
  {
    RecordReader r;
    r.add_buffer("{\"id\":\"skip-arrays\",\"c\":" + arrays + "}\n{\"id\":\"skip-objects\",\"c\":" + objects +
                     "}\n{\"id\":\"leaf\",\"a\":{\"b\":" + arrays + "}}\n",
                 "deep");
    Outcome o = pipeline(r);
    EXPECT_TRUE(o.errors.empty()) << o.errors[0];
    EXPECT_EQ(o.good, (std::vector<std::string>{"skip-arrays", "skip-objects", "leaf"}));
  }
  {
    // A path down the nesting: a.a.a... (200 segments; the walk recurses once per segment of a path, a few frames
    // each, so the rules' paths, not the records, bound its depth).
    std::string deep_path = "a";
    for (int i = 0; i < 199; ++i) deep_path += ".a";
    RecordReader r;
    r.add_buffer(good(0) + "\n" + objects + "\n" + good(1) + "\n", "deep");
    Outcome o = pipeline(r, {deep_path});
    EXPECT_TRUE(o.errors.empty()) << o.errors[0];
    EXPECT_EQ(o.good, (std::vector<std::string>{"g0", "<no id>", "g1"}));
    FieldExtractor ex({path(deep_path)});
    ASSERT_TRUE(ex.extract_json(objects)) << ex.error();
    ASSERT_EQ(ex[0].tag, Tag::Json);  // the object 200 levels down, as raw JSON
    EXPECT_EQ(ex[0].str().substr(0, 6), "{\"a\":{");
    EXPECT_EQ(ex[0].len, objects.size() - 200 * 5 - 200);
  }
  // In Records and JSON-array files too: nothing crashes, and the file's other records are read.
  for (std::string doc : {"{\"Records\":[" + good(0) + "," + "{\"id\":\"deep\",\"c\":" + arrays + "}]}",
                          "[" + good(0) + "," + objects + "]"}) {
    RecordReader r;
    r.add_buffer(doc, "deep.json");
    r.add_buffer(good(1) + "\n", "next");
    Outcome o = pipeline(r);
    ASSERT_FALSE(o.good.empty());
    EXPECT_EQ(o.good.front(), "g0");
    EXPECT_EQ(o.good.back(), "g1");
    for (const auto& e : o.errors) EXPECT_EQ(e.rfind("deep.json", 0), 0u) << e;
  }
}

TEST(Hostile, MalformedValuesWhereNoPathGoesAreNotSeen) {
  // simdjson On-Demand validates what it reads: a malformed value under a key no path reads is skipped by its
  // structure, unchecked (docs/operations.md, "Bad records"). The fields read are always correct.
  RecordReader r;
  r.add_buffer("{\"id\":\"a\",\"c\":01}\n{\"id\":\"b\",\"c\":tru}\n{\"id\":\"c\",\"c\":\"\\q\"}\n"
               "{\"id\":\"d\",\"c\":{\"d\":}}\n",
               "unread");
  Outcome o = pipeline(r);
  EXPECT_TRUE(o.errors.empty());
  EXPECT_EQ(o.good, (std::vector<std::string>{"a", "b", "c", "d"}));
  // Read, the same values are errors.
  RecordReader r2;
  r2.add_buffer("{\"id\":\"a\",\"c\":01}\n{\"id\":\"b\",\"c\":tru}\n{\"id\":\"c\",\"c\":\"\\q\"}\n", "read");
  Outcome o2 = pipeline(r2, {"c"});
  EXPECT_TRUE(o2.good.empty());
  EXPECT_EQ(o2.errors.size(), 3u);
}

TEST(Hostile, HundredMegabyteLine) {
  // Over the record cap (16 MiB): reported with its line, skipped without being held in memory, and the next
  // record is read. Written in pieces so the test itself holds no 100 MB string.
  TempDir d;
  {
    std::ofstream out(d.file("big.ndjson"), std::ios::binary);
    out << good(0) << "\n{\"id\":\"big\",\"pad\":\"";
    std::string piece(size_t{1} << 20, 'x');
    for (int i = 0; i < 100; ++i) out << piece;
    out << "\"}\n" << good(1) << "\n";
  }
  RecordReader r;
  r.add_path(d.file("big.ndjson"));
  Outcome o = pipeline(r);
  EXPECT_EQ(o.good, (std::vector<std::string>{"g0", "g1"}));
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_EQ(o.kinds[0], InputErrorKind::TooLarge);
  EXPECT_EQ(o.errors[0].rfind(d.file("big.ndjson") + ":2: ", 0), 0u) << o.errors[0];
  EXPECT_EQ(r.stats().malformed(), 1u);
}

TEST(Hostile, WrongTypes) {
  // Types other than expected are not errors of the reader or the extractor: a path through a non-object is null,
  // the value comes as what it is, and the typed conversion (convert.h) flags a mismatch.
  RecordReader r;
  r.add_buffer(
      "{\"id\":42,\"a\":\"not an object\"}\n"
      "{\"id\":[\"x\"],\"a\":[{\"b\":1}]}\n"
      "{\"id\":{\"nested\":true},\"a\":{\"b\":{\"deeper\":1}}}\n"
      "{\"id\":null,\"a\":null}\n"
      "{\"id\":true,\"a\":{\"b\":-9223372036854775809}}\n"
      "{\"id\":\"ok\",\"a\":{\"b\":18446744073709551616000}}\n",
      "types");
  Outcome o = pipeline(r);
  EXPECT_TRUE(o.errors.empty()) << o.errors[0];
  EXPECT_EQ(o.good, (std::vector<std::string>{"<no id>", "<no id>", "<no id>", "<no id>", "<no id>", "ok"}));
}

TEST(Hostile, HugeArrays) {
  // A million elements in one record (read with [*] and [N]), and a Records file of 200,000 records.
  std::string rec = "{\"id\":\"huge\",\"l\":[";
  for (int i = 0; i < 1000000; ++i) rec += i ? ",{\"x\":1}" : "{\"x\":1}";
  rec += "]}\n";
  {
    RecordReader r;
    r.add_buffer(rec + good(1) + "\n", "huge");
    Record record;
    FieldExtractor ex(paths({"l[*].x", "l[999999].x", "l[1000000].x"}));
    ASSERT_TRUE(r.next(record));
    ASSERT_TRUE(ex.extract(record)) << ex.error();
    ASSERT_EQ(ex[0].tag, Tag::List);
    EXPECT_EQ(ex[0].len, 1000000u);
    EXPECT_EQ(ex[1].tag, Tag::Int);
    EXPECT_EQ(ex[2].tag, Tag::Null);
    ASSERT_TRUE(r.next(record));
  }
  std::string doc = "{\"Records\":[";
  for (int i = 0; i < 200000; ++i) doc += std::string(i ? "," : "") + "{\"id\":\"r\"}";
  doc += "]}";
  RecordReader r;
  r.add_buffer(doc, "records");
  Outcome o = pipeline(r);
  EXPECT_TRUE(o.errors.empty());
  EXPECT_EQ(o.good.size(), 200000u);
}

TEST(Hostile, FileTruncatedWhileRead) {
  TempDir d;
  // Larger than what the reader asks for at once (256 KiB), so that most of it is read after the cut.
  std::string text;
  const int n = 40000;
  for (int i = 0; i < n; ++i) text += good(i) + "\n";
  write_file(d.file("t.ndjson"), text);
  ReaderOptions opt;
  opt.chunk_size = 4096;
  RecordReader r(opt);
  r.add_path(d.file("t.ndjson"));
  r.add_buffer(good(9999) + "\n", "next");
  FieldExtractor ex(paths({"id"}));
  std::vector<std::string> errors;
  r.set_error_handler([&](const InputError& e) { errors.push_back(e.to_string()); });
  Record rec;
  std::vector<std::string> ids;
  while (r.next(rec)) {
    if (!ex.extract(rec)) {
      r.report(rec, ex.error_kind(), ex.error());
      continue;
    }
    ids.emplace_back(ex[0].str());
    // After 100 records, the file is cut in the middle of a line far ahead.
    if (ids.size() == 100) {
      ASSERT_EQ(::truncate(d.file("t.ndjson").c_str(), static_cast<off_t>(text.size() / 2 + 7)), 0);  // `cut`
    }
  }
  // The records before the cut come out in order; the line cut in half is reported at its line; then the next
  // input.
  const size_t cut = text.size() / 2 + 7;
  const size_t whole = static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(cut), '\n'));
  ASSERT_NE(text[cut - 1], '\n');
  EXPECT_EQ(ids.size(), whole + 1);
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_EQ(ids[i], "g" + std::to_string(i));
  EXPECT_EQ(ids.back(), "g9999");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind(d.file("t.ndjson") + ":" + std::to_string(ids.size()) + ": ", 0), 0u) << errors[0];
}

TEST(Hostile, GzipTruncatedWhileRead) {
  TempDir d;
  std::string text;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    text += "{\"id\":\"g" + std::to_string(i) + "\",\"r\":" + std::to_string(x) + "}\n";
  }
  std::string gz = gzip(text);
  write_file(d.file("t.gz"), gz);
  ReaderOptions opt;
  opt.chunk_size = 4096;
  RecordReader r(opt);
  r.add_path(d.file("t.gz"));
  std::vector<std::string> errors;
  std::vector<InputErrorKind> kinds;
  r.set_error_handler([&](const InputError& e) {
    errors.push_back(e.to_string());
    kinds.push_back(e.kind);
  });
  Record rec;
  size_t n = 0;
  while (r.next(rec)) {
    if (++n == 10) {
      ASSERT_EQ(::truncate(d.file("t.gz").c_str(), static_cast<off_t>(gz.size() / 2)), 0);
    }
  }
  EXPECT_GT(n, 10u);
  EXPECT_LT(n, 20000u);
  ASSERT_EQ(kinds.size(), 1u);
  EXPECT_EQ(kinds[0], InputErrorKind::Decompress);
  EXPECT_NE(errors[0].find("truncated gzip"), std::string::npos) << errors[0];
  // Located at the line where the text breaks off: the one after the last record handed out.
  EXPECT_EQ(errors[0].rfind(d.file("t.gz") + ":" + std::to_string(n + 1) + ": ", 0), 0u) << errors[0];
}

}  // namespace
}  // namespace braid::rt::testing
