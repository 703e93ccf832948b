// The one escaper (text/json_write.h), UTF-8 (text/utf8.h) and the tools' JSON tree over nlohmann-json.
#include <gtest/gtest.h>

#include <string>

#include "json.h"  // tests/cli: a strict JSON parser of the tests' own, independent of the code under test
#include "json_tree.h"
#include "text/json_write.h"
#include "text/utf8.h"

namespace braid {
namespace {

TEST(JsonQuote, TheRule) {
  // Short escapes, \u00xx for the other controls and DEL, everything else as is.
  EXPECT_EQ(json_quote("a\"b\\c\n\t\r\b\f\x01\x1f\x7f/"), "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f/\"");
  EXPECT_EQ(json_quote(std::string("\0x", 2)), "\"\\u0000x\"");
  EXPECT_EQ(json_quote("h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_EQ(json_quote(""), "\"\"");
}

TEST(JsonQuote, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(json_quote("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(json_quote("a\xC0\xAF"), "\"a\\ufffd\\ufffd\"");          // overlong
  EXPECT_EQ(json_quote("\xED\xA0\x80z"), "\"\\ufffd\\ufffd\\ufffdz\"");  // a surrogate
  EXPECT_EQ(json_quote("\xE2\x82"), "\"\\ufffd\\ufffd\"");            // truncated
  EXPECT_EQ(json_quote("\xF4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
}

TEST(JsonQuote, AlwaysValidJson) {
  // Every byte value, alone and in a run, quotes to a JSON string that a strict parser accepts.
  std::string all;
  for (int c = 0; c < 256; ++c) {
    std::string one(1, static_cast<char>(c));
    std::string q = json_quote(one);
    EXPECT_NO_THROW(testjson::parse(q)) << c;
    all += one;
  }
  testjson::Value v = testjson::parse(json_quote(all + all));
  EXPECT_EQ(v.kind, testjson::Value::Kind::String);
  std::string q;
  append_json_quoted(q, "x");
  append_json_quoted(q, "y");
  EXPECT_EQ(q, "\"x\"\"y\"");  // appends
}

TEST(JsonQuote, EveryByteAtEveryPositionOfALongString) {
  // Plain runs are scanned 16 bytes at a time, a long string's tail with one overlapping load, a short string byte
  // by byte: a byte that needs escaping (or is not ASCII) must be found at any offset of a block, in any block, in
  // the tail, and in strings shorter than a block. Bases of 5, 15, 16 and 55 bytes, each with one byte inserted.
  const std::string plain = "The quick brown fox jumps over the lazy dog 0123456789.";
  for (const std::string& base : {std::string("short"), std::string(15, 'q'), std::string(16, 'q'), plain}) {
    for (int c = 0; c < 256; ++c) {
      const std::string inner = json_quote(std::string(1, static_cast<char>(c)));
      const std::string escaped = inner.substr(1, inner.size() - 2);
      for (size_t at = 0; at <= base.size(); ++at) {
        std::string s = base;
        s.insert(at, 1, static_cast<char>(c));
        ASSERT_EQ(json_quote(s), "\"" + base.substr(0, at) + escaped + base.substr(at) + "\"")
            << "byte " << c << " at " << at << " of " << s.size();
      }
    }
  }
  // Valid multi-byte UTF-8 at every offset is copied as is.
  for (std::string_view ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    for (size_t at = 0; at <= plain.size(); ++at) {
      std::string s = plain;
      s.insert(at, ch);
      ASSERT_EQ(json_quote(s), "\"" + s + "\"") << "at " << at;
    }
  }
}

TEST(Utf8, DecodeAndEncode) {
  uint32_t cp = 0;
  bool ok = false;
  EXPECT_EQ(decode_utf8("\xF0\x9F\x98\x80", 0, cp, ok), 4u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(cp, 0x1F600u);
  EXPECT_EQ(decode_utf8("\xC3", 0, cp, ok), 1u);
  EXPECT_FALSE(ok);
  EXPECT_EQ(cp, 0xFFFDu);
  EXPECT_EQ(valid_utf8_length("\xE2\x82\xAC", 0), 3u);
  EXPECT_EQ(valid_utf8_length("\xED\xB0\x80", 0), 0u);
  for (uint32_t c : {0x41u, 0xE9u, 0x20ACu, 0xFFFDu, 0x10FFFFu}) {
    std::string s;
    append_utf8(s, c);
    EXPECT_EQ(decode_utf8(s, 0, cp, ok), s.size());
    EXPECT_TRUE(ok);
    EXPECT_EQ(cp, c);
  }
  EXPECT_EQ(sanitize_utf8("a\xffz\xC3\xA9"), "a\xEF\xBF\xBDz\xC3\xA9");
}

TEST(JsonWriter, PrettyAndEscaped) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a\n");
  w.value("\xff");
  w.key("l");
  w.begin_array();
  w.value(1);
  w.null();
  w.end_array();
  w.end_object();
  EXPECT_EQ(out, "{\n  \"a\\n\": \"\\ufffd\",\n  \"l\": [\n    1,\n    null\n  ]\n}\n");
}

// The tools' tree: nlohmann-json reads, the tree keeps member order and numbers as written.
TEST(JsonTree, ReadsInOrderWithNumbersAsWritten) {
  std::string error;
  auto v = cli::json::parse(" {\"z\": 1.50, \"a\": [true, null, -3, 1e2, \"\\u00e9\\ud83d\\ude00\"], \"big\": "
                            "123456789012345678901234567890} ",
                            &error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ(cli::json::print(*v), "{\"z\":1.50,\"a\":[true,null,-3,1e2,\"\xC3\xA9\xF0\x9F\x98\x80\"],"
                                  "\"big\":123456789012345678901234567890}");
  EXPECT_EQ(v->members[0].first, "z");
  EXPECT_TRUE(cli::json::equal(*cli::json::parse("1.5"), *cli::json::parse("1.50")));
}

TEST(JsonTree, RefusesWhatIsNotJson) {
  for (const char* bad : {"{\"a\": 1,}", "[1 2]", "\"\x01\"", "\"\xff\"", "01", "{", "", "[1] x", "\"\\ud800\""}) {
    std::string error;
    EXPECT_FALSE(cli::json::parse(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(error.find("json.exception"), std::string::npos) << error;  // the library's id is cut
  }
  std::string deep(300, '[');
  std::string error;
  EXPECT_FALSE(cli::json::parse(deep + std::string(300, ']'), &error));
  EXPECT_EQ(error, "nesting too deep");
  EXPECT_TRUE(cli::json::parse(std::string(200, '[') + std::string(200, ']')));
}

}  // namespace
}  // namespace braid
