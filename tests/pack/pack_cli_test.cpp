// The pack verbs end to end: braid keygen, braid build, braid inspect, braid run --pack (exit codes and messages).
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

const std::string kSrc = BRAID_SOURCE_DIR;

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PackCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("braid-pack-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string p(const std::string& name) const { return (dir_ / name).string(); }

  // Runs braid from the source directory.
  Result braid(const std::string& args) {
    fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    std::string cmd = "cd '" + kSrc + "' && '" + std::string(BRAID_EXE) + "' " + args + " >'" + out.string() + "' 2>'" +
                      err.string() + "' </dev/null";
    int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  static std::string show(const Result& r) {
    return "exit " + std::to_string(r.code) + "\n--- stdout\n" + r.out.substr(0, 3000) + "\n--- stderr\n" +
           r.err.substr(0, 3000);
  }
  // Alerts without their processing time (the wall clock at emission).
  static std::vector<std::string> alerts(const std::string& ndjson) {
    std::vector<std::string> v;
    std::stringstream ss(ndjson);
    std::string l;
    while (std::getline(ss, l)) {
      size_t at = l.find("\"processing_time\":\"");
      if (at != std::string::npos) l.erase(at, l.find('"', at + 19) + 1 - at);
      v.push_back(l);
    }
    return v;
  }

  fs::path dir_;
};

TEST_F(PackCli, KeygenBuildInspectRun) {
  Result r = braid("keygen -o " + p("k"));
  ASSERT_EQ(r.code, 0) << show(r);
  struct stat st {};
  ASSERT_EQ(::stat(p("k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(slurp(p("k.pub")).size(), 65u);
  r = braid("keygen -o " + p("k"));
  EXPECT_EQ(r.code, 2) << show(r);  // never overwrites a key
  EXPECT_NE(r.err.find("exists"), std::string::npos) << show(r);

  r = braid("build rules -o " + p("rules.braidpack") + " --sign " + p("k"));
  ASSERT_EQ(r.code, 0) << show(r);
  EXPECT_NE(r.err.find("signed by key"), std::string::npos) << show(r);

  r = braid("inspect " + p("rules.braidpack") + " --trusted-keys " + p("k.pub"));
  ASSERT_EQ(r.code, 0) << show(r);
  EXPECT_NE(r.out.find("signature  valid, trusted, key id"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("aws.cloudtrail"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("source-map"), std::string::npos) << show(r);
  r = braid("inspect " + p("rules.braidpack") + " --format json");
  ASSERT_EQ(r.code, 0) << show(r);
  EXPECT_NE(r.out.find("\"signed\":true"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("\"key_id\":"), std::string::npos) << show(r);

  Result from_pack =
      braid("run --pack " + p("rules.braidpack") + " --trusted-keys " + p("k.pub") + " examples/demo.ndjson");
  ASSERT_EQ(from_pack.code, 0) << show(from_pack);
  Result from_sources = braid("run --rules rules examples/demo.ndjson");
  ASSERT_EQ(from_sources.code, 0) << show(from_sources);
  EXPECT_FALSE(alerts(from_sources.out).empty());
  EXPECT_EQ(alerts(from_pack.out), alerts(from_sources.out));
}

TEST_F(PackCli, RefusedPacks) {
  ASSERT_EQ(braid("keygen -o " + p("k")).code, 0);
  ASSERT_EQ(braid("keygen -o " + p("other")).code, 0);
  ASSERT_EQ(braid("build rules -o " + p("s.braidpack") + " --sign " + p("k")).code, 0);
  ASSERT_EQ(braid("build rules -o " + p("u.braidpack")).code, 0);
  const std::string in = " examples/demo.ndjson";

  Result r = braid("run --pack " + p("s.braidpack") + in);  // no trusted keys
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.err.find("untrusted key"), std::string::npos) << show(r);
  EXPECT_TRUE(r.out.empty());
  r = braid("run --pack " + p("s.braidpack") + " --trusted-keys " + p("other.pub") + in);
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.err.find("untrusted key"), std::string::npos) << show(r);
  r = braid("run --pack " + p("s.braidpack") + " --allow-unsigned" + in);
  EXPECT_EQ(r.code, 1) << show(r);
  r = braid("run --pack " + p("s.braidpack") + " --trusted-keys " + p("other.pub") + " --trusted-keys " + p("k.pub") +
            in);
  EXPECT_EQ(r.code, 0) << show(r);

  r = braid("run --pack " + p("u.braidpack") + " --trusted-keys " + p("k.pub") + in);
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.err.find("unsigned"), std::string::npos) << show(r);
  r = braid("run --pack " + p("u.braidpack") + " --allow-unsigned" + in);
  EXPECT_EQ(r.code, 0) << show(r);

  std::string bytes = slurp(p("s.braidpack"));
  std::string corrupt = bytes;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x20);
  std::ofstream(p("c.braidpack"), std::ios::binary) << corrupt;
  r = braid("run --pack " + p("c.braidpack") + " --trusted-keys " + p("k.pub") + in);
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.err.find("digest mismatch"), std::string::npos) << show(r);
  r = braid("inspect " + p("c.braidpack"));
  EXPECT_EQ(r.code, 1) << show(r);
  std::ofstream(p("t.braidpack"), std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  r = braid("inspect " + p("t.braidpack"));
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << show(r);
}

TEST_F(PackCli, UsageErrors) {
  Result r = braid("run --pack " + p("missing.braidpack") + " --allow-unsigned examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);
  r = braid("run --rules rules --trusted-keys " + p("k.pub") + " examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);
  r = braid("run --rules rules --allow-unsigned examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);
  r = braid("build rules");  // no -o
  EXPECT_EQ(r.code, 2) << show(r);
  r = braid("build " + p("nope") + " -o " + p("x.braidpack"));
  EXPECT_EQ(r.code, 2) << show(r);
  std::ofstream(p("bad.braid")) << "rule broken {\n";
  r = braid("build " + p("bad.braid") + " -o " + p("x.braidpack"));
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_FALSE(fs::exists(p("x.braidpack")));
  std::ofstream(p("junk.key")) << "not a key\n";
  r = braid("build rules -o " + p("x.braidpack") + " --sign " + p("junk.key"));
  EXPECT_EQ(r.code, 2) << show(r);
  r = braid("inspect " + p("x.braidpack") + " --format sarif");
  EXPECT_EQ(r.code, 2) << show(r);
}

}  // namespace
