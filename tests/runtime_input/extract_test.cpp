// FieldExtractor: one pass, only the referenced fields, every path form and value kind, malformed records, and no
// heap allocation per record in the steady state.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#include "test_util.h"

// Counts heap allocations (to check the steady state allocates nothing). Not under AddressSanitizer, which
// replaces the allocation functions itself (the allocation test is skipped there).
static std::atomic<uint64_t> g_allocs{0};
#if defined(__SANITIZE_ADDRESS__)
#define BRAID_COUNT_ALLOCS 0
#else
#define BRAID_COUNT_ALLOCS 1
void* operator new(size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// All four deletes are replaced too, so that every allocation and release pairs up (AddressSanitizer checks it).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#endif

namespace braid::rt::testing {
namespace {

std::string str(const Value& v) { return v.tag == Tag::String || v.tag == Tag::Json ? std::string(v.str()) : "<not a string>"; }

TEST(Extract, ScalarsAndNesting) {
  FieldExtractor ex(paths({"a", "b.c", "b.d.e", "n", "f", "t", "fa", "big", "neg", "missing", "b.missing"}));
  ASSERT_TRUE(ex.extract_json(
      R"({"a":"x","b":{"c":"y","d":{"e":7},"skip":[1,{"q":2}]},"n":null,"f":1.5,"t":true,"fa":false,)"
      R"("big":18446744073709551615,"neg":-9223372036854775808})"))
      << ex.error();
  EXPECT_EQ(str(ex[0]), "x");
  EXPECT_EQ(str(ex[1]), "y");
  ASSERT_EQ(ex[2].tag, Tag::Int);
  EXPECT_EQ(ex[2].i, 7);
  EXPECT_EQ(ex[3].tag, Tag::Null);
  ASSERT_EQ(ex[4].tag, Tag::Float);
  EXPECT_EQ(ex[4].f, 1.5);
  ASSERT_EQ(ex[5].tag, Tag::Bool);
  EXPECT_TRUE(ex[5].b);
  ASSERT_EQ(ex[6].tag, Tag::Bool);
  EXPECT_FALSE(ex[6].b);
  ASSERT_EQ(ex[7].tag, Tag::Float);  // beyond int64
  EXPECT_EQ(ex[7].f, 18446744073709551615.0);
  ASSERT_EQ(ex[8].tag, Tag::Int);
  EXPECT_EQ(ex[8].i, INT64_MIN);
  EXPECT_EQ(ex[9].tag, Tag::Null);
  EXPECT_EQ(ex[10].tag, Tag::Null);
  EXPECT_EQ(ex.field_count(), 11u);
}

TEST(Extract, HugeNumberReadsAsFloatOrFails) {
  FieldExtractor ex(paths({"z"}));
  // 1e400 is out of double range: simdjson rejects it; the record is malformed, not silently wrong.
  bool ok = ex.extract_json(R"({"z":1e400})");
  if (ok) {
    EXPECT_EQ(ex[0].tag, Tag::Float);
  } else {
    EXPECT_EQ(ex.error_kind(), InputErrorKind::MalformedJson);
  }
  ASSERT_TRUE(ex.extract_json(R"({"z":123456789012345678901234567890})")) << ex.error() << " " << input_error_kind_name(ex.error_kind());
  ASSERT_EQ(ex[0].tag, Tag::Float);
  EXPECT_NEAR(ex[0].f, 1.2345678901234568e29, 1e15);
}

TEST(Extract, StringsAreUnescaped) {
  FieldExtractor ex(paths({"s", "u", "e", "q"}));
  ASSERT_TRUE(ex.extract_json(R"({"s":"a\"b\\c\/d\n\t","u":"caf\u00e9 \ud83d\ude00","e":"","q":"plain"})"))
      << ex.error();
  EXPECT_EQ(str(ex[0]), "a\"b\\c/d\n\t");
  EXPECT_EQ(str(ex[1]), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(ex[2].tag, Tag::String);
  EXPECT_EQ(ex[2].len, 0u);
  EXPECT_EQ(str(ex[3]), "plain");
}

TEST(Extract, QuotedSegmentsAndEscapedKeys) {
  FieldExtractor ex(paths({R"(requestParameters."x-amz-acl")", R"(p."@type")", R"(k."a\"b")", "esc"}));
  ASSERT_TRUE(ex.extract_json(
      R"({"requestParameters":{"x-amz-acl":"public-read"},"p":{"@type":"t"},"k":{"a\"b":1},"e\u0073c":"yes"})"))
      << ex.error();
  EXPECT_EQ(str(ex[0]), "public-read");
  EXPECT_EQ(str(ex[1]), "t");
  ASSERT_EQ(ex[2].tag, Tag::Int);
  EXPECT_EQ(ex[2].i, 1);
  EXPECT_EQ(str(ex[3]), "yes");  // a key written with an escape matches its unescaped name
}

TEST(Extract, RawJsonLeaves) {
  FieldExtractor ex(paths({"o", "a", "empty"}));
  ASSERT_TRUE(ex.extract_json(R"({"o":{"x": [1, {"y":null}] ,"z":"w"},"a":[ 1,2 ],"empty":{}})")) << ex.error();
  ASSERT_EQ(ex[0].tag, Tag::Json);
  EXPECT_EQ(str(ex[0]), R"({"x": [1, {"y":null}] ,"z":"w"})");
  ASSERT_EQ(ex[1].tag, Tag::Json);
  EXPECT_EQ(str(ex[1]), "[ 1,2 ]");
  EXPECT_EQ(str(ex[2]), "{}");
}

TEST(Extract, IndexSegments) {
  FieldExtractor ex(paths({"r[0].ARN", "r[2].ARN", "r[5].ARN", "s[1]", "notlist[0]", "r[1]"}));
  ASSERT_TRUE(ex.extract_json(R"({"r":[{"ARN":"a0"},{"ARN":"a1"},{"type":"x","ARN":"a2"}],"s":["x","y"],"notlist":{"0":1}})"))
      << ex.error();
  EXPECT_EQ(str(ex[0]), "a0");
  EXPECT_EQ(str(ex[1]), "a2");
  EXPECT_EQ(ex[2].tag, Tag::Null);  // out of range
  EXPECT_EQ(str(ex[3]), "y");
  EXPECT_EQ(ex[4].tag, Tag::Null);  // not an array
  EXPECT_EQ(str(ex[5]), R"({"ARN":"a1"})");
}

std::vector<std::string> list_strings(const Value& v) {
  std::vector<std::string> out;
  if (v.tag != Tag::List) return {"<not a list>"};
  for (uint32_t i = 0; i < v.len; ++i) {
    const Value& e = v.items[i];
    if (e.tag == Tag::String || e.tag == Tag::Json) out.emplace_back(e.str());
    else if (e.tag == Tag::Int) out.push_back(std::to_string(e.i));
    else out.push_back("<other>");
  }
  return out;
}

TEST(Extract, AnySegments) {
  FieldExtractor ex(paths({"r[*].ARN", "r[*].type", "tags[*]", "none[*].x", "empty[*].x", "scalar[*]", "objs[*]"}));
  ASSERT_TRUE(ex.extract_json(
      R"({"r":[{"ARN":"a0","type":"t0"},{"type":"t1"},{"ARN":null},{"ARN":"a3"},"str",{"ARN":{"k":1}}],)"
      R"("tags":["x",null,3],"empty":[],"scalar":"s","objs":[{"a":1},[2]]})"))
      << ex.error();
  EXPECT_EQ(list_strings(ex[0]), (std::vector<std::string>{"a0", "a3", R"({"k":1})"}));
  EXPECT_EQ(list_strings(ex[1]), (std::vector<std::string>{"t0", "t1"}));
  EXPECT_EQ(list_strings(ex[2]), (std::vector<std::string>{"x", "3"}));  // nulls omitted
  EXPECT_EQ(ex[3].tag, Tag::Null);                                         // missing array
  ASSERT_EQ(ex[4].tag, Tag::List);                                         // present but empty
  EXPECT_EQ(ex[4].len, 0u);
  EXPECT_EQ(ex[5].tag, Tag::Null);  // not an array
  EXPECT_EQ(list_strings(ex[6]), (std::vector<std::string>{R"({"a":1})", "[2]"}));
}

TEST(Extract, NestedAnyFlattens) {
  FieldExtractor ex(paths({"p.items[*].ranges.items[*].cidrIp", "p.items[*].port", "p.items[0].ranges.items[1].cidrIp"}));
  ASSERT_TRUE(ex.extract_json(
      R"({"p":{"items":[{"port":22,"ranges":{"items":[{"cidrIp":"0.0.0.0/0"},{"cidrIp":"10.0.0.0/8"}]}},)"
      R"({"port":443,"ranges":{"items":[]}},{"port":80,"ranges":{"items":[{"cidrIp":"1.2.3.4/32"}]}}]}})"))
      << ex.error();
  EXPECT_EQ(list_strings(ex[0]), (std::vector<std::string>{"0.0.0.0/0", "10.0.0.0/8", "1.2.3.4/32"}));
  EXPECT_EQ(list_strings(ex[1]), (std::vector<std::string>{"22", "443", "80"}));
  EXPECT_EQ(str(ex[2]), "10.0.0.0/8");
}

TEST(Extract, PathThatIsAlsoAPrefix) {
  // `u` as a whole (Json) and `u.arn`; `r[*]` and `r[*].ARN`; `r[0].type` next to `r[*].ARN`.
  FieldExtractor ex(paths({"u", "u.arn", "r[*]", "r[*].ARN", "r[0].type", "u.s.t"}));
  ASSERT_TRUE(ex.extract_json(R"({"u":{"arn":"A","s":{"t":1}},"r":[{"ARN":"x","type":"T"},{"ARN":"y"}]})")) << ex.error();
  EXPECT_EQ(str(ex[0]), R"({"arn":"A","s":{"t":1}})");
  EXPECT_EQ(str(ex[1]), "A");
  EXPECT_EQ(list_strings(ex[2]), (std::vector<std::string>{R"({"ARN":"x","type":"T"})", R"({"ARN":"y"})"}));
  EXPECT_EQ(list_strings(ex[3]), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(str(ex[4]), "T");
  ASSERT_EQ(ex[5].tag, Tag::Int);
  // The same with a scalar where the prefix is: the sub-paths are null.
  ASSERT_TRUE(ex.extract_json(R"({"u":"text","r":[1,"two"]})")) << ex.error();
  EXPECT_EQ(str(ex[0]), "text");
  EXPECT_EQ(ex[1].tag, Tag::Null);
  EXPECT_EQ(list_strings(ex[2]), (std::vector<std::string>{"1", "two"}));
  ASSERT_EQ(ex[3].tag, Tag::List);
  EXPECT_EQ(ex[3].len, 0u);
  EXPECT_EQ(ex[4].tag, Tag::Null);
}

TEST(Extract, DuplicateKeysFirstWins) {
  FieldExtractor ex(paths({"a", "b.c", "l[*].x", "o"}));
  ASSERT_TRUE(ex.extract_json(
      R"({"a":"first","b":{"c":1,"c":2},"a":"second","l":[{"x":1,"x":2},{"x":3}],"o":{"k":1},"o":{"k":2},"b":{"c":3}})"))
      << ex.error();
  EXPECT_EQ(str(ex[0]), "first");
  ASSERT_EQ(ex[1].tag, Tag::Int);
  EXPECT_EQ(ex[1].i, 1);
  EXPECT_EQ(list_strings(ex[2]), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(str(ex[3]), R"({"k":1})");
}

TEST(Extract, TypeOfContainerMismatch) {
  FieldExtractor ex(paths({"a.b", "c[0]", "d[*].e"}));
  ASSERT_TRUE(ex.extract_json(R"({"a":"str","c":{"x":1},"d":{"e":1}})")) << ex.error();
  EXPECT_EQ(ex[0].tag, Tag::Null);
  EXPECT_EQ(ex[1].tag, Tag::Null);
  EXPECT_EQ(ex[2].tag, Tag::Null);
}

TEST(Extract, DeclaredListLeaf) {
  FieldExtractor ex(paths({"tags", "other"}), {true, false});
  ASSERT_TRUE(ex.extract_json(R"({"tags":["a",null,{"b":1}],"other":["a"]})")) << ex.error();
  EXPECT_EQ(list_strings(ex[0]), (std::vector<std::string>{"a", R"({"b":1})"}));
  EXPECT_EQ(str(ex[1]), R"(["a"])");
  ASSERT_TRUE(ex.extract_json(R"({"tags":"scalar"})")) << ex.error();
  EXPECT_EQ(str(ex[0]), "scalar");  // not an array: the value as is (the converter flags the mismatch)
}

TEST(Extract, MalformedRecords) {
  FieldExtractor ex(paths({"a", "b.c"}));
  struct Case {
    const char* json;
    InputErrorKind kind;
  } cases[] = {
      {R"({"a":"x","b":{"c":)", InputErrorKind::MalformedJson},
      {R"({"a":"x","b":{"c":1})", InputErrorKind::MalformedJson},
      {R"({"a":"x","skip":{"c":[1,2})", InputErrorKind::MalformedJson},
      {R"({"a":"unterminated)", InputErrorKind::MalformedJson},
      {R"({"a":1} {"a":2})", InputErrorKind::MalformedJson},
      {R"({"a":tru})", InputErrorKind::MalformedJson},
      {"{\"a\":\"\xc3\x28\"}", InputErrorKind::InvalidUtf8},
      {"{\"skip\":\"\xff\",\"a\":1}", InputErrorKind::InvalidUtf8},
      {R"([{"a":1}])", InputErrorKind::NotObject},
      {R"("just a string")", InputErrorKind::NotObject},
      {R"(42)", InputErrorKind::NotObject},
      {R"(garbage)", InputErrorKind::MalformedJson},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(ex.extract_json(R"({"a":"ok","b":{"c":2}})"));
    EXPECT_FALSE(ex.extract_json(c.json)) << c.json;
    EXPECT_EQ(ex.error_kind(), c.kind) << c.json << " -> " << ex.error();
    EXPECT_FALSE(ex.error().empty());
    EXPECT_EQ(ex[0].tag, Tag::Null) << c.json;  // nothing half-extracted is left behind
    EXPECT_EQ(ex[1].tag, Tag::Null) << c.json;
  }
}

TEST(Extract, ParsePath) {
  auto p = FieldExtractor::parse_path(R"(a."x-y"[3][*].b)");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->segs.size(), 5u);
  EXPECT_EQ(p->segs[1].name, "x-y");
  EXPECT_EQ(p->segs[2].kind, ir::PathSeg::Kind::Index);
  EXPECT_EQ(p->segs[2].index, 3);
  EXPECT_EQ(p->segs[3].kind, ir::PathSeg::Kind::Any);
  for (const char* bad : {"", "1a", "a.", "a[", "a[x]", "a.\"open", "a..b", "a b"})
    EXPECT_FALSE(FieldExtractor::parse_path(bad)) << bad;
}

TEST(Extract, TrieSharesPrefixes) {
  FieldExtractor ex(paths({"a.b.c", "a.b.d", "a.e", "a.b"}));
  EXPECT_EQ(ex.trie_size(), 6u);  // root, a, b, c, d, e
}

TEST(Extract, ManyKeysUseTheHashLookup) {
  std::vector<ir::FieldPath> ps;
  std::string json = "{";
  for (int i = 0; i < 40; ++i) {
    ps.push_back(path("k" + std::to_string(i)));
    json += (i ? "," : "") + std::string("\"k") + std::to_string(39 - i) + "\":" + std::to_string(39 - i);
  }
  json += ",\"unknown\":1}";
  FieldExtractor ex(std::move(ps));
  ASSERT_TRUE(ex.extract_json(json)) << ex.error();
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(ex[static_cast<ir::FieldId>(i)].tag, Tag::Int) << i;
    EXPECT_EQ(ex[static_cast<ir::FieldId>(i)].i, i);
  }
}

// Keys are compared as their first 16 bytes in two words, then the rest: keys that differ only past byte 8, past
// byte 16, in length, or by a prefix must each find their own field, with the hash lookup and without it.
TEST(Extract, KeysThatShareLongPrefixes) {
  const std::vector<std::string> keys = {"a",        "ab",        "abcdefgh",           "abcdefghi",
                                         "abcdefgX", "abcdefghijklmnop", "abcdefghijklmnoX", "abcdefghijklmnopq",
                                         "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyZ", "qrstuvwxyzABCDEFGHIJ"};
  for (bool many : {false, true}) {
    const size_t n = many ? keys.size() : 8;  // more than 8 children: the hash lookup; else a linear search
    std::vector<ir::FieldPath> ps;
    std::string json = "{";
    for (size_t i = 0; i < n; ++i) {
      std::string k = keys[i];
      ps.push_back(path(k));
      // The last key is written with an escape (\u004a is J): it is unescaped before the lookup.
      json += (i ? "," : "") + std::string("\"") + (i == 10 ? "qrstuvwxyzABCDEFGHI\\u004a" : k) + "\":" + std::to_string(i);
    }
    if (many)  // decoys that share the long keys' prefixes
      for (int d = 0; d < 8; ++d) json += ",\"abcdefghijklmnopqrstuvwxy" + std::to_string(d) + "\":-1";
    json += ",\"abcdefghijklmnopqrstuvwxyz0\":-2,\"abcdefg\":-3}";
    FieldExtractor ex(std::move(ps));
    ASSERT_TRUE(ex.extract_json(json)) << ex.error() << " " << json;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(ex[static_cast<ir::FieldId>(i)].tag, Tag::Int) << keys[i];
      EXPECT_EQ(ex[static_cast<ir::FieldId>(i)].i, static_cast<int64_t>(i)) << keys[i];
    }
  }
}

// touched() lists the fields a record set; every other field reads Null, also after a record that set more.
TEST(Extract, TouchedListsTheFieldsARecordSet) {
  FieldExtractor ex(paths({"a", "b.c", "d[*].e", "f", "g"}));
  auto sorted = [&] {
    std::vector<ir::FieldId> t(ex.touched().begin(), ex.touched().end());
    std::sort(t.begin(), t.end());
    return t;
  };
  ASSERT_TRUE(ex.extract_json(R"({"a":1,"b":{"c":"x"},"d":[{"e":1},{"e":2}],"f":null,"g":true})"));
  EXPECT_EQ(sorted(), (std::vector<ir::FieldId>{0, 1, 2, 3, 4}));
  ASSERT_TRUE(ex.extract_json(R"({"g":false})"));
  EXPECT_EQ(sorted(), (std::vector<ir::FieldId>{4}));
  for (ir::FieldId f : {0u, 1u, 2u, 3u}) EXPECT_EQ(ex[f].tag, Tag::Null) << f;
  ASSERT_EQ(ex[4].tag, Tag::Bool);
  EXPECT_FALSE(ex[4].b);
  // A malformed record leaves every field Null and nothing touched.
  ASSERT_TRUE(ex.extract_json(R"({"a":1,"b":{"c":"x"}})"));
  EXPECT_FALSE(ex.extract_json(R"({"a":2,"b":{"c":"y"},)"));
  EXPECT_TRUE(ex.touched().empty());
  for (ir::FieldId f = 0; f < 5; ++f) EXPECT_EQ(ex[f].tag, Tag::Null) << f;
}

TEST(Extract, NoAllocationPerRecordInSteadyState) {
  if (!BRAID_COUNT_ALLOCS) GTEST_SKIP() << "allocation counting is off under AddressSanitizer";
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += R"({"eventName":"E)" + std::to_string(i) + R"(","userIdentity":{"arn":"arn:aws:iam::1:user/u\u00e9","type":"IAMUser"},)"
            R"("resources":[{"ARN":"a"},{"ARN":"b"}],"requestParameters":{"x":[1,2,3]},"n":)" + std::to_string(i) + "}\n";
  }
  FieldExtractor ex(paths({"eventName", "userIdentity.arn", "resources[*].ARN", "requestParameters", "requestParameters.x[1]", "n"}));
  auto pass = [&] {
    RecordReader r;
    r.add_buffer(text, "steady");
    Record rec;
    uint64_t before = 0, n = 0;
    while (r.next(rec)) {
      if (n == 50) before = g_allocs.load();
      ASSERT_TRUE(ex.extract(rec)) << ex.error();
      ++n;
    }
    EXPECT_EQ(n, 200u);
    EXPECT_EQ(g_allocs.load() - before, 0u) << "allocations while reading and extracting records 50..199";
  };
  pass();
}

TEST(Extract, ValuesFromProgram) {
  ir::Program p;
  ir::FieldId name = p.intern_field({ir::PathSeg{ir::PathSeg::Kind::Field, "eventName", 0}});
  ir::FieldId tags = p.intern_field({ir::PathSeg{ir::PathSeg::Kind::Field, "tags", 0}});
  ir::Source s;
  s.name = "x";
  ir::Slot a;
  a.field = name;
  a.type = ir::Type::of(ir::Kind::String);
  ir::Slot b;
  b.field = tags;
  b.type = ir::Type::list(ir::Kind::String);
  s.slots = {a, b};
  s.slot_index = {{name, 0}, {tags, 1}};
  p.sources.push_back(std::move(s));
  FieldExtractor ex(p);
  ASSERT_TRUE(ex.extract_json(R"({"eventName":"E","tags":["a","b"]})")) << ex.error();
  EXPECT_EQ(str(ex[name]), "E");
  EXPECT_EQ(list_strings(ex[tags]), (std::vector<std::string>{"a", "b"}));  // declared list: a List, not Json
}

}  // namespace
}  // namespace braid::rt::testing
