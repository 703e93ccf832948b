// A directory holding a CloudTrail tree (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>) is read merged
// by the time in the file names across accounts and regions; other files first, in path order; positions keep one
// mark per account and region.
#include <cstdio>
#include <map>

#include "test_util.h"

namespace braid::rt::testing {
namespace {

// Writes one CloudTrail log file (gzip, Records) under `root` and returns its path relative to `root`.
// `stamp` is "YYYYMMDDTHHMMZ".
std::string ct_file(const TempDir& d, const std::string& root, const std::string& account, const std::string& region,
                    const std::string& stamp, const std::string& id, const std::vector<std::string>& names,
                    const std::string& prefix = "AWSLogs/") {
  std::string rel = prefix + account + "/CloudTrail/" + region + "/" + stamp.substr(0, 4) + "/" + stamp.substr(4, 2) +
                    "/" + stamp.substr(6, 2) + "/" + account + "_CloudTrail_" + region + "_" + stamp + "_" + id +
                    ".json.gz";
  std::string doc = "{\"Records\":[";
  for (size_t i = 0; i < names.size(); ++i)
    doc += std::string(i ? "," : "") + "{\"n\":\"" + names[i] + "\"}";
  doc += "]}";
  write_file(d.file(root + "/" + rel), gzip(doc));
  return rel;
}

TEST(Tree, MergedByTimeAcrossAccountsAndRegions) {
  TempDir d;
  // Path order would read eu-west-1 (both days), then us-east-1; time order interleaves them.
  ct_file(d, "t", "111122223333", "us-east-1", "20261201T0005Z", "bbbb", {"us1-0005"});
  ct_file(d, "t", "111122223333", "us-east-1", "20261202T0010Z", "aaaa", {"us1-d2-0010a", "us1-d2-0010b"});
  ct_file(d, "t", "111122223333", "eu-west-1", "20261201T0000Z", "cccc", {"eu1-0000"});
  ct_file(d, "t", "111122223333", "eu-west-1", "20261202T0010Z", "dddd", {"eu1-d2-0010"});
  ct_file(d, "t", "111122223333", "eu-west-1", "20261201T2355Z", "eeee", {"eu1-2355"});
  ct_file(d, "t", "444455556666", "us-east-1", "20261201T1200Z", "ffff", {"acct2-1200"});
  // An AWS Organizations trail (AWSLogs/<org>/<account>/...) is a tree too.
  ct_file(d, "t", "777788889999", "us-east-1", "20261201T0600Z", "gggg", {"org-0600"}, "AWSLogs/o-abc123/");
  // Files of no tree: read first, in path order.
  write_file(d.file("t/okta.ndjson"), "{\"n\":\"okta\"}\n");
  write_file(d.file("t/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/12/01/"
                    "111122223333_CloudTrail-Digest_us-east-1_x_20261201T0000Z.json.gz"),
             gzip("{\"n\":\"digest\"}\n"));
  // Named like a tree file but in the wrong folder (date of the folder differs from the name): not a tree file.
  write_file(d.file("t/AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/03/"
                    "111122223333_CloudTrail_us-east-1_20261201T0000Z_zzzz.json.gz"),
             gzip("{\"Records\":[{\"n\":\"misplaced\"}]}"));
  RecordReader r;
  r.add_path(d.file("t"));
  Collected c = read_all(r);
  EXPECT_TRUE(c.errors.empty());
  std::vector<std::string> names;
  for (const auto& rec : c.records) names.push_back(rec.substr(6, rec.size() - 8));
  std::vector<std::string> expect = {
      "digest", "misplaced", "okta",                       // no tree: path order
      "eu1-0000", "us1-0005", "org-0600", "acct2-1200", "eu1-2355",  // time order
      "eu1-d2-0010",                                       // same minute: path order (eu-west-1 < us-east-1)
      "us1-d2-0010a", "us1-d2-0010b"};
  EXPECT_EQ(names, expect);
  // One mark per stream: every account and region, and the other files.
  auto pos = r.positions();
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_FALSE(pos[0].has_current);
  std::map<std::string, std::string> marks;
  for (const auto& m : pos[0].marks) marks[m.stream] = m.done;
  EXPECT_EQ(marks.size(), 5u);
  EXPECT_EQ(marks[""], "okta.ndjson");
  EXPECT_EQ(marks["ct:111122223333/eu-west-1"],
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/12/02/"
            "111122223333_CloudTrail_eu-west-1_20261202T0010Z_dddd.json.gz");
  EXPECT_EQ(marks.count("ct:111122223333/us-east-1"), 1u);
  EXPECT_EQ(marks.count("ct:444455556666/us-east-1"), 1u);
  EXPECT_EQ(marks.count("ct:777788889999/us-east-1"), 1u);
}

TEST(Tree, ExactResumeEverywhere) {
  TempDir d;
  for (int day = 1; day <= 2; ++day) {
    for (const char* region : {"us-east-1", "eu-west-1"}) {
      for (int h = 0; h < 24; h += 8) {
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "202612%02dT%02d%02dZ", day, h, (region[0] == 'u') ? 5 : 0);
        ct_file(d, "t", "111122223333", region, stamp, "id" + std::to_string(h),
                {std::string(region) + stamp + "a", std::string(region) + stamp + "b"});
      }
    }
  }
  write_file(d.file("t/other.ndjson"), "{\"n\":\"o1\"}\n{\"n\":\"o2\"}\n");
  expect_exact_resume([&](RecordReader& r) { r.add_path(d.file("t")); });
}

TEST(Tree, LateFileOfAnotherRegionIsReadAfterResume) {
  TempDir d;
  ct_file(d, "t", "111122223333", "us-east-1", "20261201T0000Z", "a", {"us-0000"});
  ct_file(d, "t", "111122223333", "eu-west-1", "20261201T0005Z", "b", {"eu-0005"});
  ct_file(d, "t", "111122223333", "us-east-1", "20261201T0010Z", "c", {"us-0010"});
  RecordReader a;
  a.add_path(d.file("t"));
  ASSERT_EQ(read_all(a).records.size(), 3u);
  auto pos = a.positions();
  // Delivered late: eu-west-1 at 00:08, after that region's mark (00:05) but before the newest file read (us 00:10):
  // read. us-east-1 at 00:07, before its region's mark (00:10): counts as done.
  ct_file(d, "t", "111122223333", "eu-west-1", "20261201T0008Z", "d", {"eu-0008"});
  ct_file(d, "t", "111122223333", "us-east-1", "20261201T0007Z", "e", {"us-0007"});
  ct_file(d, "t", "111122223333", "us-east-1", "20261201T0015Z", "f", {"us-0015"});
  RecordReader b;
  b.add_path(d.file("t"));
  b.resume(pos);
  Collected c = read_all(b);
  EXPECT_TRUE(c.errors.empty());
  std::vector<std::string> expect = {"{\"n\":\"eu-0008\"}", "{\"n\":\"us-0015\"}"};
  EXPECT_EQ(c.records, expect);
}

TEST(Tree, RegionDirectoryGivenDirectly) {
  TempDir d;
  ct_file(d, "t", "111122223333", "us-east-1", "20261202T0000Z", "a", {"d2"});
  ct_file(d, "t", "111122223333", "us-east-1", "20261201T2300Z", "b", {"d1"});
  RecordReader r;
  r.add_path(d.file("t/AWSLogs/111122223333/CloudTrail/us-east-1"));
  Collected c = read_all(r);
  std::vector<std::string> expect = {"{\"n\":\"d1\"}", "{\"n\":\"d2\"}"};
  EXPECT_EQ(c.records, expect);
  ASSERT_EQ(r.positions()[0].marks.size(), 1u);
  EXPECT_EQ(r.positions()[0].marks[0].stream, "ct:111122223333/us-east-1");
}

}  // namespace
}  // namespace braid::rt::testing
