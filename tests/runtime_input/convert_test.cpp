// parse_timestamp / format_timestamp / epoch numbers / durations, and SlotConverter's typed conversion with its
// mismatch statistics.
#include <ctime>
#include <random>

#include "input/convert.h"
#include "test_util.h"

namespace braid::rt::testing {
namespace {

constexpr int64_t kS = 1'000'000'000;

int64_t ts(const char* text) {
  auto v = parse_timestamp(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(INT64_MIN);
}

TEST(Timestamp, Rfc3339Basics) {
  EXPECT_EQ(ts("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ts("2024-07-30T21:53:13Z"), 1722376393 * kS);
  EXPECT_EQ(ts("2024-07-30t21:53:13z"), 1722376393 * kS);
  EXPECT_EQ(ts("2024-07-30T21:53:13"), 1722376393 * kS);  // no zone: UTC
  EXPECT_EQ(ts("2024-07-30 21:53:13"), 1722376393 * kS);
  EXPECT_EQ(ts("2025-03-26 17:22:33.000000000"), 1743009753 * kS);  // the Stratus variant
  EXPECT_EQ(ts("2025-03-26 17:22:33.5Z"), 1743009753 * kS + 500'000'000);
  EXPECT_EQ(ts("1969-12-31T23:59:59Z"), -kS);
  EXPECT_EQ(ts("1969-12-31T23:59:59.999999999Z"), -1);
}

TEST(Timestamp, Offsets) {
  int64_t utc = ts("2024-04-02T17:17:37.621Z");
  EXPECT_EQ(ts("2024-04-02T19:17:37.621+02:00"), utc);
  EXPECT_EQ(ts("2024-04-02T19:17:37.621+0200"), utc);
  EXPECT_EQ(ts("2024-04-02T19:17:37.621+02"), utc);
  EXPECT_EQ(ts("2024-04-02T12:47:37.621-04:30"), utc);
  EXPECT_EQ(ts("2024-04-02T12:47:37.621-0430"), utc);
  EXPECT_EQ(ts("2024-04-02T17:17:37.621+00:00"), utc);
  EXPECT_EQ(ts("2024-04-02T17:17:37.621-00:00"), utc);
  EXPECT_EQ(ts("2024-04-01T23:47:37.621-17:30"), utc);
  // An offset crossing a year boundary.
  EXPECT_EQ(ts("2024-01-01T01:00:00+02:00"), ts("2023-12-31T23:00:00Z"));
  EXPECT_EQ(ts("2023-12-31T20:00:00-05:00"), ts("2024-01-01T01:00:00Z"));
}

TEST(Timestamp, FractionLengths) {
  int64_t base = ts("2024-07-30T21:31:10Z");
  const char* digits = "123456789";
  for (int n = 1; n <= 9; ++n) {
    std::string text = "2024-07-30T21:31:10." + std::string(digits, static_cast<size_t>(n)) + "Z";
    int64_t frac = std::stoll(std::string(digits, static_cast<size_t>(n)));
    for (int k = n; k < 9; ++k) frac *= 10;
    EXPECT_EQ(ts(text.c_str()), base + frac) << text;
  }
  // More than 9 digits: truncated, not rounded.
  EXPECT_EQ(ts("2024-07-30T21:31:10.1234567899999Z"), base + 123456789);
  EXPECT_EQ(ts("2024-07-30T21:31:10.9999999999+00:00"), base + 999999999);
  EXPECT_EQ(ts("2024-07-30T21:31:10.000000000000000000000001Z"), base);
  EXPECT_EQ(ts("2024-07-30T21:31:10.0"), base);
}

TEST(Timestamp, LeapYearsAndMonthLengths) {
  EXPECT_TRUE(parse_timestamp("2024-02-29T00:00:00Z"));
  EXPECT_TRUE(parse_timestamp("2000-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("1900-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2100-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2024-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2024-04-31T00:00:00Z"));
  EXPECT_TRUE(parse_timestamp("2024-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_timestamp("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2024-00-01T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2024-01-00T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2024-01-32T00:00:00Z"));
  EXPECT_EQ(ts("2024-03-01T00:00:00Z") - ts("2024-02-28T00:00:00Z"), 2 * 86400 * kS);
  EXPECT_EQ(ts("2023-03-01T00:00:00Z") - ts("2023-02-28T00:00:00Z"), 86400 * kS);
}

TEST(Timestamp, TimeOfDayRanges) {
  EXPECT_FALSE(parse_timestamp("2024-01-01T24:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2024-01-01T23:60:00Z"));
  EXPECT_FALSE(parse_timestamp("2024-01-01T23:59:61Z"));
  // A leap second reads as the last nanosecond of second 59.
  EXPECT_EQ(ts("2016-12-31T23:59:60Z"), ts("2017-01-01T00:00:00Z") - 1);
  EXPECT_FALSE(parse_timestamp("2024-01-01T00:00:00+24:00"));
  EXPECT_FALSE(parse_timestamp("2024-01-01T00:00:00+01:60"));
}

TEST(Timestamp, Garbage) {
  for (const char* bad : {"", "2024", "2024-07-30", "2024-07-30T21:53", "2024-07-30T21:53:1", "2024/07/30T21:53:13Z",
                          "2024-07-30X21:53:13Z", "2024-07-30T21-53-13Z", "2024-07-30T21:53:13ZZ", "2024-07-30T21:53:13 Z",
                          "2024-07-30T21:53:13.Z", "2024-07-30T21:53:13.", "2024-07-30T21:53:13+1", "2024-07-30T21:53:13+01:0",
                          "2024-07-30T21:53:13+01:00x", "2024-07-30T21:53:13UTC", " 2024-07-30T21:53:13Z",
                          "2024-07-30T21:53:13Z ", "20240730T215313Z", "2024-7-30T21:53:13Z", "+2024-07-30T21:53:13Z",
                          "abcd-ef-ghTij:kl:mnZ", "2024-07-30T21:53:13,5Z", "Jul 30, 2024 9:53:13 PM"})
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
}

TEST(Timestamp, OutOfRangeOfInt64Nanoseconds) {
  EXPECT_TRUE(parse_timestamp("1677-09-21T00:12:44Z"));
  EXPECT_TRUE(parse_timestamp("2262-04-11T23:47:16.854775807Z"));
  EXPECT_FALSE(parse_timestamp("2262-04-11T23:47:16.854775808Z"));
  EXPECT_FALSE(parse_timestamp("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_timestamp("0001-01-01T00:00:00Z"));
}

TEST(Timestamp, AgreesWithTimegmOnRandomInstants) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> secs(-2'000'000'000LL, 7'000'000'000LL);
  std::uniform_int_distribution<int64_t> fracs(0, kS - 1);
  std::uniform_int_distribution<int> offs(-23 * 60 - 59, 23 * 60 + 59);
  for (int i = 0; i < 20000; ++i) {
    time_t t = static_cast<time_t>(secs(rng));
    int64_t frac = fracs(rng);
    int off = offs(rng);  // minutes
    time_t local = t + off * 60;
    std::tm tm{};
    ASSERT_TRUE(gmtime_r(&local, &tm));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lld%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac), off < 0 ? '-' : '+',
                  std::abs(off) / 60, std::abs(off) % 60);
    ASSERT_EQ(ts(buf), static_cast<int64_t>(t) * kS + frac) << buf;
    // Round trip through the formatter.
    int64_t ns = static_cast<int64_t>(t) * kS + frac;
    ASSERT_EQ(ts(format_timestamp(ns).c_str()), ns) << format_timestamp(ns);
  }
}

TEST(Timestamp, Format) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(1722375070LL * kS + 123'000'000), "2024-07-30T21:31:10.123Z");
  EXPECT_EQ(format_timestamp(1722375070LL * kS + 123'400'000), "2024-07-30T21:31:10.123400Z");
  EXPECT_EQ(format_timestamp(1722375070LL * kS + 123'456'789), "2024-07-30T21:31:10.123456789Z");
  EXPECT_EQ(format_timestamp(1722375070LL * kS + 1), "2024-07-30T21:31:10.000000001Z");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_timestamp(-kS), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_timestamp(ts("2024-02-29T12:00:00Z")), "2024-02-29T12:00:00Z");
  EXPECT_EQ(format_timestamp(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(format_timestamp(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
}

TEST(Timestamp, EpochNumbersByMagnitude) {
  EXPECT_EQ(epoch_to_ns(int64_t{1722376393}), 1722376393 * kS);           // seconds
  EXPECT_EQ(epoch_to_ns(int64_t{1722376393123}), 1722376393123'000'000);  // milliseconds
  EXPECT_EQ(epoch_to_ns(int64_t{1722376393123456}), 1722376393123456'000);  // microseconds
  EXPECT_EQ(epoch_to_ns(int64_t{1722376393123456789}), 1722376393123456789);  // nanoseconds
  EXPECT_EQ(epoch_to_ns(int64_t{0}), 0);
  EXPECT_EQ(epoch_to_ns(int64_t{99'999'999'999}), std::nullopt);  // seconds that overflow int64 ns
  EXPECT_EQ(epoch_to_ns(int64_t{100'000'000'000}), 100'000'000'000'000'000);  // 1e11: milliseconds
  EXPECT_EQ(epoch_to_ns(int64_t{-1722376393}), -1722376393 * kS);
  EXPECT_EQ(epoch_to_ns(1722376393.5), 1722376393 * kS + 500'000'000);
  EXPECT_EQ(epoch_to_ns(1722376393123.0), 1722376393123'000'000);
  EXPECT_EQ(epoch_to_ns(std::nan("")), std::nullopt);
  EXPECT_EQ(epoch_to_ns(1e30), std::nullopt);
}

TEST(Duration, Syntax) {
  EXPECT_EQ(parse_duration("15m"), 15 * 60 * kS);
  EXPECT_EQ(parse_duration("1h30m"), 90 * 60 * kS);
  EXPECT_EQ(parse_duration("500ms"), 500'000'000);
  EXPECT_EQ(parse_duration("1d12h"), 36 * 3600 * kS);
  EXPECT_EQ(parse_duration("-2s"), -2 * kS);
  for (const char* bad : {"", "m", "15", "15x", "1h 30m", "-", "1.5h", "99999999999999999999s"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

// A program with one source whose slots have the given types (paths f0, f1, ...).
ir::Program program_with(std::vector<ir::Type> types) {
  ir::Program p;
  ir::Source s;
  s.name = "test.source";
  for (size_t i = 0; i < types.size(); ++i) {
    ir::FieldId f = p.intern_field({ir::PathSeg{ir::PathSeg::Kind::Field, "f" + std::to_string(i), 0}});
    ir::Slot slot;
    slot.field = f;
    slot.type = types[i];
    s.slot_index[f] = static_cast<uint32_t>(s.slots.size());
    s.slots.push_back(slot);
  }
  p.sources.push_back(std::move(s));
  return p;
}

TEST(Convert, EachDeclaredType) {
  using K = ir::Kind;
  auto p = program_with({ir::Type::of(K::String), ir::Type::of(K::Int), ir::Type::of(K::Float), ir::Type::of(K::Bool),
                         ir::Type::of(K::Time), ir::Type::of(K::Time), ir::Type::of(K::Ip), ir::Type::of(K::Object),
                         ir::Type::of(K::Duration), ir::Type::of(K::Int), ir::Type::of(K::Time)});
  FieldExtractor ex(p);
  SlotConverter conv(p);
  ASSERT_TRUE(ex.extract_json(R"({"f0":"s","f1":3.0,"f2":2,"f3":true,"f4":"2024-07-30T21:53:13Z","f5":1722376393123,)"
                              R"("f6":"AWS Internal","f7":{"a":1},"f8":"15m","f9":null})"))
      << ex.error();
  std::vector<Value> out(p.sources[0].slots.size());
  conv.begin_event();
  EXPECT_EQ(conv.convert(0, ex.values(), out), 0u);
  EXPECT_EQ(out[0].str(), "s");
  ASSERT_EQ(out[1].tag, Tag::Int);
  EXPECT_EQ(out[1].i, 3);
  ASSERT_EQ(out[2].tag, Tag::Float);
  EXPECT_EQ(out[2].f, 2.0);
  EXPECT_EQ(out[3].tag, Tag::Bool);
  ASSERT_EQ(out[4].tag, Tag::Time);
  EXPECT_EQ(out[4].i, 1722376393 * kS);
  ASSERT_EQ(out[5].tag, Tag::Time);
  EXPECT_EQ(out[5].i, 1722376393123'000'000);
  EXPECT_EQ(out[6].tag, Tag::String);
  EXPECT_EQ(out[7].tag, Tag::Json);
  ASSERT_EQ(out[8].tag, Tag::Duration);
  EXPECT_EQ(out[8].i, 15 * 60 * kS);
  EXPECT_EQ(out[9].tag, Tag::Null);   // null is not a mismatch
  EXPECT_EQ(out[10].tag, Tag::Null);  // missing is not a mismatch
  EXPECT_EQ(conv.total_mismatches(), 0u);
}

TEST(Convert, WrongTypesReadAsNullAndAreCounted) {
  using K = ir::Kind;
  auto p = program_with({ir::Type::of(K::String), ir::Type::of(K::Int), ir::Type::of(K::Float), ir::Type::of(K::Bool),
                         ir::Type::of(K::Time), ir::Type::of(K::Time), ir::Type::of(K::Int)});
  FieldExtractor ex(p);
  SlotConverter conv(p);
  std::vector<Value> out(7);
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(ex.extract_json(R"({"f0":42,"f1":"3","f2":"x","f3":"true","f4":"yesterday","f5":{"t":1},"f6":3.5})"));
    conv.begin_event();
    EXPECT_EQ(conv.convert(0, ex.values(), out), 7u);
    for (const auto& v : out) EXPECT_EQ(v.tag, Tag::Null);
  }
  for (uint32_t s = 0; s < 7; ++s) EXPECT_EQ(conv.mismatches(0, s), 3u);
  EXPECT_EQ(conv.total_mismatches(), 21u);
  auto stats = conv.mismatch_stats();
  ASSERT_EQ(stats.size(), 7u);
  EXPECT_EQ(stats[4].field, p.sources[0].slots[4].field);
}

TEST(Convert, Lists) {
  using K = ir::Kind;
  ir::Program p;
  ir::Source s;
  s.name = "l";
  for (const char* text : {"a[*].t", "a[*].n", "b"}) {
    auto fp = FieldExtractor::parse_path(text);
    ir::Slot slot;
    slot.field = p.intern_field(fp->segs);
    s.slot_index[slot.field] = static_cast<uint32_t>(s.slots.size());
    s.slots.push_back(slot);
  }
  s.slots[0].type = ir::Type::list(K::Time);
  s.slots[1].type = ir::Type::list(K::Int);
  s.slots[2].type = ir::Type::list(K::String);
  p.sources.push_back(std::move(s));
  FieldExtractor ex(p);
  SlotConverter conv(p);
  ASSERT_TRUE(ex.extract_json(R"({"a":[{"t":"2024-01-01T00:00:00Z","n":1},{"t":"bad","n":"2"},{"t":0,"n":3}],"b":["x","y"]})"))
      << ex.error();
  std::vector<Value> out(3);
  conv.begin_event();
  EXPECT_EQ(conv.convert(0, ex.values(), out), 2u);  // one bad element in each of the first two lists
  ASSERT_EQ(out[0].tag, Tag::List);
  ASSERT_EQ(out[0].len, 2u);
  EXPECT_EQ(out[0].items[0].tag, Tag::Time);
  EXPECT_EQ(out[0].items[1].i, 0);
  ASSERT_EQ(out[1].len, 2u);
  EXPECT_EQ(out[1].items[1].i, 3);
  ASSERT_EQ(out[2].tag, Tag::List);
  EXPECT_EQ(out[2].len, 2u);
  // A scalar where a list is declared: null and a mismatch.
  ASSERT_TRUE(ex.extract_json(R"({"b":"x"})"));
  conv.begin_event();
  EXPECT_EQ(conv.convert(0, ex.values(), out), 1u);
  EXPECT_EQ(out[2].tag, Tag::Null);
}

}  // namespace
}  // namespace braid::rt::testing
