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

#include "driver/driver.h"
#include "pack/pack.h"

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

// A pack with llvm-bitcode and native-object sections (fake blobs with the right magic; `braid build` does not
// write them yet): inspect shows their sizes and the native code's CPU, features and LLVM version.
TEST_F(PackCli, InspectShowsCodeSections) {
  using namespace braid;
  auto c = compile({kSrc + "/tests/semantics"}, DriverOptions{});
  ASSERT_EQ(c->diags.error_count(), 0u);
  ASSERT_TRUE(c->program);
  pack::PackOptions o;
  o.compiler_version = "braid test";
  o.bitcode = std::string("BC\xC0\xDE", 4) + std::string(124, '\x11');  // 128 bytes
  pack::NativeCode n;
  n.cpu = "znver3";
  for (int i = 0; i < 40; ++i) n.features += (i ? ",+feature" : "+feature") + std::to_string(i);
  n.llvm_version = "17.0.6";
  n.object = std::string(64, '\0') + std::string(36, 'x');  // 100 bytes
  n.object[0] = 0x7f;
  n.object.replace(1, 3, "ELF");
  n.object[4] = 2;
  n.object[5] = 1;
  n.object[6] = 1;
  n.object[16] = 1;
  std::string_view arch = pack::host_arch();
  uint16_t machine = arch == "x86_64" ? 62 : arch == "aarch64" ? 183 : arch == "riscv64" ? 243 : 0;
  n.object[18] = static_cast<char>(machine & 0xFF);
  n.object[19] = static_cast<char>(machine >> 8);
  o.native = n;
  std::ofstream(p("code.braidpack"), std::ios::binary) << pack::write_pack(*c->program, c->sm, o);

  Result r = braid("inspect " + p("code.braidpack"));
  ASSERT_EQ(r.code, 0) << show(r);
  EXPECT_NE(r.out.find("format     version 8"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("target     " + std::string(arch) + " (cpu znver3)"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("llvm-bitcode"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("native-object"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("bitcode    128 bytes"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("native     cpu znver3, LLVM 17.0.6, 100 bytes"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("  features +feature0,+feature1,"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find(",... (40 features)"), std::string::npos) << show(r);  // abbreviated
  EXPECT_EQ(r.out.find("feature39"), std::string::npos) << show(r);

  r = braid("inspect " + p("code.braidpack") + " --format json");
  ASSERT_EQ(r.code, 0) << show(r);
  EXPECT_NE(r.out.find("\"version\":8"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("\"bitcode\":{\"size\":128}"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("\"native\":{\"cpu\":\"znver3\",\"features\":\"+feature0,"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("+feature39\",\"llvm_version\":\"17.0.6\",\"size\":100}"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("{\"kind\":\"native-object\""), std::string::npos) << show(r);

  // Without code sections: no bitcode or native lines, null in JSON.
  o.bitcode.clear();
  o.native.reset();
  std::ofstream(p("plain.braidpack"), std::ios::binary) << pack::write_pack(*c->program, c->sm, o);
  r = braid("inspect " + p("plain.braidpack"));
  ASSERT_EQ(r.code, 0) << show(r);
  EXPECT_EQ(r.out.find("bitcode "), std::string::npos) << show(r);
  EXPECT_EQ(r.out.find("native "), std::string::npos) << show(r);
  r = braid("inspect " + p("plain.braidpack") + " --format json");
  ASSERT_EQ(r.code, 0) << show(r);
  EXPECT_NE(r.out.find("\"bitcode\":null,\"native\":null"), std::string::npos) << show(r);

  // A bad native object: inspect refuses the pack like run does.
  std::string bytes = slurp(p("code.braidpack"));
  size_t at = bytes.find(std::string("\x7f" "ELF", 4));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = 'X';
  std::ofstream(p("bad.braidpack"), std::ios::binary) << bytes;
  r = braid("inspect " + p("bad.braidpack"));
  EXPECT_EQ(r.code, 1) << show(r);
  EXPECT_NE(r.err.find("digest mismatch"), std::string::npos) << show(r);
}

}  // namespace
