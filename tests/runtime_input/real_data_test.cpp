// Real data: every record of every Stratus Red Team CloudTrail file (and the other providers' samples) parses,
// and every CloudTrail eventTime converts to a time.
#include <filesystem>
#include <map>

#include "input/convert.h"
#include "test_util.h"

namespace braid::rt::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> files_in(const fs::path& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RealData, StratusEveryRecordParsesAndEveryEventTimeConverts) {
  fs::path dir = fs::path(BRAID_CORPORA_DIR) / "stratus";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "corpus not found: " << dir << " (../shared/corpora is not in a fresh clone)";
  auto files = files_in(dir, ".ndjson");
  ASSERT_GE(files.size(), 28u);
  FieldExtractor ex(paths({"eventTime", "eventName", "eventSource", "userIdentity.arn", "userIdentity.accessKeyId",
                           "resources[*].ARN", "requestParameters", "responseElements.credentials.accessKeyId"}));
  size_t total = 0, space_form = 0;
  for (const auto& f : files) {
    RecordReader r;
    r.add_path(f);
    Record rec;
    size_t n = 0;
    while (r.next(rec)) {
      ++n;
      ASSERT_TRUE(ex.extract(rec)) << r.where(rec.origin) << ": " << ex.error();
      ASSERT_EQ(ex[0].tag, Tag::String) << r.where(rec.origin);
      auto t = parse_timestamp(ex[0].str());
      ASSERT_TRUE(t) << r.where(rec.origin) << ": eventTime " << ex[0].str();
      EXPECT_GT(*t, parse_timestamp("2020-01-01T00:00:00Z").value());
      EXPECT_LT(*t, parse_timestamp("2030-01-01T00:00:00Z").value());
      if (ex[0].str()[10] == ' ') ++space_form;
      EXPECT_EQ(ex[2].tag, Tag::String) << r.where(rec.origin);
    }
    EXPECT_GT(n, 0u) << f;
    EXPECT_EQ(r.stats().malformed() + r.stats().count(InputErrorKind::Unreadable), 0u) << f;
    total += n;
  }
  EXPECT_GE(total, 200u);
  EXPECT_GE(space_form, 1u);  // the "2025-03-26 17:22:33.000000000" variant is in the corpus
}

TEST(RealData, GetPasswordDataChainFields) {
  fs::path file = fs::path(BRAID_CORPORA_DIR) / "stratus" / "aws.credential-access.ec2-get-password-data.ndjson";
  if (!fs::exists(file)) GTEST_SKIP() << "corpus not found: " << file;
  FieldExtractor ex(paths({"eventName", "responseElements.credentials.accessKeyId", "userIdentity.accessKeyId"}));
  RecordReader r;
  r.add_path(file.string());
  Record rec;
  std::string minted;
  size_t using_minted = 0;
  while (r.next(rec)) {
    ASSERT_TRUE(ex.extract(rec)) << ex.error();
    if (ex[0].tag == Tag::String && ex[0].str() == "AssumeRole" && ex[1].tag == Tag::String) minted = std::string(ex[1].str());
  }
  ASSERT_FALSE(minted.empty());
  EXPECT_EQ(minted.rfind("ASIA", 0), 0u) << minted;
  RecordReader r2;
  r2.add_path(file.string());
  while (r2.next(rec)) {
    ASSERT_TRUE(ex.extract(rec));
    if (ex[2].tag == Tag::String && ex[2].str() == minted) ++using_minted;
  }
  EXPECT_EQ(using_minted, 30u);  // the issue: "30 later events use it"
}

TEST(RealData, ProviderSamplesParse) {
  fs::path dir = fs::path(BRAID_CORPORA_DIR) / "samples";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "corpus not found: " << dir;
  // The time field of each provider's stdlib source.
  std::map<std::string, std::string> time_field = {{"okta.ndjson", "published"},          {"gcp_audit.ndjson", "timestamp"},
                                                   {"github_audit.ndjson", "created_at"}, {"azure_signin.ndjson", "time"},
                                                   {"azure_activity.ndjson", "time"}};
  for (const auto& f : files_in(dir, ".ndjson")) {
    std::string name = fs::path(f).filename().string();
    FieldExtractor ex(paths({time_field.count(name) ? std::string_view(time_field[name]) : "time", "actor.alternateId"}));
    RecordReader r;
    r.add_path(f);
    Record rec;
    size_t n = 0, timed = 0;
    std::vector<std::string> unparsed;
    while (r.next(rec)) {
      ++n;
      ASSERT_TRUE(ex.extract(rec)) << r.where(rec.origin) << ": " << ex.error();
      const Value& v = ex[0];
      if (v.tag == Tag::String) {
        if (parse_timestamp(v.str())) ++timed;
        else unparsed.emplace_back(v.str());
      } else if (v.tag == Tag::Int || v.tag == Tag::Float) {
        if (v.tag == Tag::Int ? epoch_to_ns(v.i).has_value() : epoch_to_ns(v.f).has_value()) ++timed;
        else unparsed.push_back("number");
      }
    }
    EXPECT_GT(n, 0u) << f;
    EXPECT_EQ(r.stats().malformed(), 0u) << f;
    EXPECT_GT(timed, 0u) << f;
    // The samples carry a few junk times (anonymised or broken upstream); nothing else may fail to parse.
    for (const auto& u : unparsed)
      EXPECT_TRUE(u == "redacted" || u == "2024-12-17 00:00:00000000") << f << ": time does not parse: " << u;
  }
}

}  // namespace
}  // namespace braid::rt::testing
