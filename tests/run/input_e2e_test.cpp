// Event input end to end, with the built `braid` (issue 10):
// - a CloudTrail tree of two regions and two days, 48 events: read in path order, the second region's events
//   arrive behind the watermark and are late; read merged by the time in the file names, none is;
// - duplicate keys: `braid test` (events inline in a rule's test) and `braid run` (the same events in NDJSON)
//   both take the first occurrence.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "json.h"

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::string gzip(const std::string& text) {
  uLongf n = compressBound(static_cast<uLong>(text.size())) + 64;
  std::string out(n, '\0');
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct RunResult {
  int code = -1;
  std::string out, err;
};

RunResult braid_run(const std::string& args, const fs::path& dir) {
  fs::path out = dir / "stdout", err = dir / "stderr";
  std::string cmd = "cd '" + std::string(BRAID_SOURCE_DIR) + "' && '" + BRAID_EXE + "' run " + args + " >'" +
                    out.string() + "' 2>'" + err.string() + "' </dev/null";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The late events of a run's JSON stats (the last line of stderr).
int64_t late_of(const RunResult& r) {
  std::string last = r.err;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
  braid::testjson::Value s = braid::testjson::Parser(last).parse_document();
  EXPECT_EQ(static_cast<int64_t>(s.at("events_read").num), 48) << r.err;
  EXPECT_EQ(static_cast<int64_t>(s.at("unrouted").num), 0) << r.err;
  return static_cast<int64_t>(s.at("late").num);
}

// Two regions, two days; three delivery files per region and day, four events each in the five minutes after the
// file's time. `layout(region, day, name)` gives the path of each file under `root`.
template <class Layout>
void write_tree(const fs::path& root, Layout layout) {
  const std::string account = "111122223333";
  int n = 0;
  for (const std::string region : {"eu-west-1", "us-east-1"}) {
    for (int day = 1; day <= 2; ++day) {
      for (int hour : {1, 9, 17}) {
        int minute = region == "us-east-1" ? 5 : 0;
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "202612%02dT%02d%02dZ", day, hour, minute);
        std::string doc = "{\"Records\":[";
        for (int e = 0; e < 4; ++e, ++n) {
          char time[32];
          std::snprintf(time, sizeof time, "2026-12-%02dT%02d:%02d:%02dZ", day, hour, minute + e, 10 * e);
          doc += std::string(e ? "," : "") +
                 R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE",)"
                 R"("arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333",)"
                 R"("accessKeyId":"AKIAEXAMPLE"},"eventTime":")" +
                 time + R"(","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":")" + region +
                 R"(","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","readOnly":true,)"
                 R"("eventID":"e-)" + std::to_string(n) + R"(","eventType":"AwsApiCall",)"
                 R"("recipientAccountId":"111122223333"})";
        }
        doc += "]}";
        std::string name = account + "_CloudTrail_" + region + "_" + stamp + "_id" + std::to_string(n) + ".json.gz";
        write(root / layout(region, day, name), gzip(doc));
      }
    }
  }
  ASSERT_EQ(n, 48);
}

TEST(InputTree, MergedByTimeNoLateEvents) {
  fs::path d = fs::path(::testing::TempDir()) / ("braid-input-tree-" + std::to_string(::getpid()));
  fs::remove_all(d);
  // The delivery layout: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<name>.
  write_tree(d / "tree", [](const std::string& region, int day, const std::string& name) {
    char date[16];
    std::snprintf(date, sizeof date, "2026/12/%02d", day);
    return fs::path("AWSLogs/111122223333/CloudTrail") / region / date / name;
  });
  // The same files where they are not recognised as a tree: read in path order, region after region.
  write_tree(d / "flat", [](const std::string& region, int day, const std::string& name) {
    return fs::path(region) / ("day" + std::to_string(day)) / name;
  });
  const std::string rules = "--rules tests/run/data/run/noop.braid --stats-format json ";
  RunResult flat = braid_run(rules + "'" + (d / "flat").string() + "'", d);
  ASSERT_EQ(flat.code, 0) << flat.err;
  RunResult tree = braid_run(rules + "'" + (d / "tree").string() + "'", d);
  ASSERT_EQ(tree.code, 0) << tree.err;
  int64_t late_flat = late_of(flat), late_tree = late_of(tree);
  std::printf("late events: %lld in path order, %lld merged by time\n", static_cast<long long>(late_flat),
              static_cast<long long>(late_tree));
  EXPECT_GE(late_flat, 20);  // the second region's events older than the first region's last file (20 of 24)
  EXPECT_EQ(late_tree, 0);
  fs::remove_all(d);
}

TEST(InputDuplicateKeys, BraidRunAndBraidTestAgree) {
  fs::path d = fs::path(::testing::TempDir()) / ("braid-input-dup-" + std::to_string(::getpid()));
  fs::create_directories(d);
  const std::string rules = "tests/runtime_input/data/duplicate_keys.braid";
  // braid test: the rule's two tests pass (the first values fire, a later PutUserPolicy does not).
  std::string cmd = "cd '" + std::string(BRAID_SOURCE_DIR) + "' && '" + BRAID_EXE + "' test " + rules + " >'" +
                    (d / "test.out").string() + "' 2>&1";
  int status = std::system(cmd.c_str());
  std::string out = slurp(d / "test.out");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  // braid run over the same events: one alert, with the first values.
  RunResult run = braid_run("--rules " + rules + " tests/runtime_input/data/duplicate_keys.ndjson", d);
  ASSERT_EQ(run.code, 0) << run.err;
  std::vector<std::string> alerts;
  std::stringstream ss(run.out);
  for (std::string line; std::getline(ss, line);) alerts.push_back(line);
  ASSERT_EQ(alerts.size(), 1u) << run.out;
  braid::testjson::Value a = braid::testjson::Parser(alerts[0]).parse_document();
  EXPECT_EQ(a.at("message").str, "first arn:aws:iam::111122223333:user/first");
  fs::remove_all(d);
}

}  // namespace
