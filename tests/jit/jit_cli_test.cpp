// `braid run --engine=jit|interp` end to end (the real binary): the same alerts on the demo stream, the JIT's
// statistics (object from codegen, then from the cache), and a bad engine name.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "json.h"

namespace {

namespace fs = std::filesystem;
using braid::testjson::Parser;
using braid::testjson::Value;

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

fs::path temp_dir(const std::string& tag) {
  fs::path d = fs::path(::testing::TempDir()) /
               ("braid-jitcli-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
                tag);
  fs::remove_all(d);
  fs::create_directories(d);
  fs::permissions(d, fs::perms::owner_all, fs::perm_options::replace);
  return d;
}

// Runs `env braid args` from the source directory.
Result braid(const std::string& args, const std::string& env = "") {
  static int n = 0;
  fs::path d = temp_dir("out" + std::to_string(++n));
  fs::path out = d / "stdout", err = d / "stderr";
  std::string cmd = "cd '" + kSrc + "' && " + env + " '" + std::string(BRAID_EXE) + "' " + args + " >'" +
                    out.string() + "' 2>'" + err.string() + "' </dev/null";
  int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string show(const Result& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout\n" + r.out.substr(0, 3000) + "\n--- stderr\n" +
         r.err.substr(0, 3000);
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l)) v.push_back(l);
  return v;
}

// The alerts without their processing_time (the only member that depends on the wall clock).
std::string strip_processing_time(const std::string& ndjson) {
  std::string o;
  for (const std::string& l : lines(ndjson)) {
    size_t p = l.find("\"processing_time\":\"");
    if (p == std::string::npos) {
      o += l + "\n";
      continue;
    }
    size_t e = l.find('"', p + 19);
    o += l.substr(0, p) + l.substr(e + 1) + "\n";
  }
  return o;
}

Value stats_of(const Result& r) {
  std::vector<std::string> ls = lines(r.err);
  if (ls.empty()) throw std::runtime_error("no stderr");
  return Parser(ls.back()).parse_document();
}

TEST(JitCli, JitAndInterpreterAgreeOnTheDemo) {
  std::string env = "BRAID_CACHE_DIR='" + temp_dir("cache").string() + "'";
  Result jit = braid("run --engine=jit --rules rules examples/demo.ndjson", env);
  Result interp = braid("run --engine=interp --rules rules examples/demo.ndjson", env);
  ASSERT_EQ(jit.code, 0) << show(jit);
  ASSERT_EQ(interp.code, 0) << show(interp);
  EXPECT_GT(lines(interp.out).size(), 3u) << "the demo must fire alerts";
  EXPECT_EQ(strip_processing_time(jit.out), strip_processing_time(interp.out));
  // The default engine is the JIT.
  Result dflt = braid("run --rules rules examples/demo.ndjson", env);
  ASSERT_EQ(dflt.code, 0) << show(dflt);
  EXPECT_EQ(strip_processing_time(dflt.out), strip_processing_time(interp.out));
}

TEST(JitCli, StatsReportCodegenThenCache) {
  fs::path cache = temp_dir("cache");
  std::string env = "BRAID_CACHE_DIR='" + cache.string() + "'";
  Result first = braid("run --engine=jit --rules rules --stats-format json examples/demo.ndjson", env);
  ASSERT_EQ(first.code, 0) << show(first);
  Value s1 = stats_of(first);
  EXPECT_EQ(s1.at("engine").str, "jit");
  EXPECT_EQ(s1.at("jit").at("object_source").str, "codegen");
  EXPECT_GT(s1.at("jit").at("object_bytes").num, 0);
  size_t cached = 0;
  for (const auto& e : fs::directory_iterator(cache)) cached += e.path().extension() == ".o";
  EXPECT_EQ(cached, 1u);
  // The shipped rules give GCP and Azure literal prefilters (the demo has no such events: nothing is scanned).
  EXPECT_GT(s1.at("jit").at("prefilter_databases").num, 0);
  EXPECT_EQ(s1.at("jit").at("prefilter_cached").num, 0);
  EXPECT_EQ(s1.at("jit").at("prefilter_warning").str, "");
  EXPECT_TRUE(s1.has("prefilter_scans") && s1.has("prefilter_literals") && s1.has("prefilter_selected"));

  Result second = braid("run --engine=jit --rules rules --stats-format json examples/demo.ndjson", env);
  ASSERT_EQ(second.code, 0) << show(second);
  Value s2 = stats_of(second);
  EXPECT_EQ(s2.at("engine").str, "jit");
  EXPECT_EQ(s2.at("jit").at("object_source").str, "cache");
  EXPECT_EQ(s2.at("jit").at("codegen_ms").num, 0);
  EXPECT_EQ(s2.at("jit").at("prefilter_cached").num, s1.at("jit").at("prefilter_databases").num);
  EXPECT_EQ(strip_processing_time(first.out), strip_processing_time(second.out));

  Result interp = braid("run --engine=interp --rules rules --stats-format json examples/demo.ndjson", env);
  ASSERT_EQ(interp.code, 0) << show(interp);
  Value si = stats_of(interp);
  EXPECT_EQ(si.at("engine").str, "interp");
  EXPECT_FALSE(si.has("jit"));
  EXPECT_EQ(si.at("prefilter_scans").num, 0);  // the interpreter has no prefilter
  EXPECT_EQ(si.at("alerts").num, s1.at("alerts").num);

  // An unsafe cache directory: a warning, and the run still succeeds with fresh code.
  fs::path unsafe = temp_dir("unsafe");
  fs::permissions(unsafe, fs::perms::all, fs::perm_options::replace);
  Result warned = braid("run --engine=jit --rules rules --stats-format json examples/demo.ndjson",
                        "BRAID_CACHE_DIR='" + unsafe.string() + "'");
  ASSERT_EQ(warned.code, 0) << show(warned);
  EXPECT_NE(warned.err.find("JIT object cache: "), std::string::npos) << show(warned);
  EXPECT_EQ(stats_of(warned).at("jit").at("object_source").str, "codegen");
  EXPECT_TRUE(fs::is_empty(unsafe));
  fs::permissions(unsafe, fs::perms::owner_all, fs::perm_options::replace);

  // --no-jit-cache: codegen every time, nothing written.
  fs::path off = temp_dir("off");
  Result nocache = braid("run --engine=jit --no-jit-cache --rules rules --stats-format json examples/demo.ndjson",
                         "BRAID_CACHE_DIR='" + off.string() + "'");
  ASSERT_EQ(nocache.code, 0) << show(nocache);
  EXPECT_EQ(stats_of(nocache).at("jit").at("object_source").str, "codegen");
  EXPECT_TRUE(fs::is_empty(off));
}

TEST(JitCli, BogusEngineIsAUsageError) {
  Result r = braid("run --engine=bogus --rules rules examples/demo.ndjson");
  EXPECT_EQ(r.code, 2) << show(r);
  EXPECT_TRUE(r.out.empty()) << show(r);
  Result t = braid("test --engine=bogus rules");
  EXPECT_EQ(t.code, 2) << show(t);
}

TEST(JitCli, BraidTestOnBothEnginesOnARuleFile) {
  fs::path cache = temp_dir("cache");
  std::string env = "BRAID_CACHE_DIR='" + cache.string() + "'";
  Result jit = braid("test --engine=jit tests/run/data/link_eviction_regression.braid", env);
  Result interp = braid("test --engine=interp tests/run/data/link_eviction_regression.braid", env);
  EXPECT_EQ(jit.code, 0) << show(jit);
  EXPECT_EQ(interp.code, 0) << show(interp);
}

}  // namespace
