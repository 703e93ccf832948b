// The JIT's on-disk object cache (codegen, then cache; keys; unsafe directories; corrupt entries), native code
// from a pack, and error paths that must report rather than abort.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "jit_harness.h"

namespace braid::jittest {
namespace {

namespace fs = std::filesystem;

const std::string kRules = event_rule("j.a", "s in [\"a\", \"b\"] and i > 1") + event_rule("j.b", "s2 endswith \"z\"");

std::vector<std::string> sample_events() {
  return {"{\"src\":\"j\",\"ts\":\"2024-01-01T10:00:00Z\",\"id\":\"e1\",\"user\":\"u\",\"s\":\"a\",\"i\":2}",
          "{\"src\":\"j\",\"ts\":\"2024-01-01T10:00:01Z\",\"id\":\"e2\",\"user\":\"u\",\"s\":\"c\",\"i\":2}",
          "{\"src\":\"j\",\"ts\":\"2024-01-01T10:00:02Z\",\"id\":\"e3\",\"user\":\"u\",\"s2\":\"xyz\"}"};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t files_in(const fs::path& d) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(d)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

std::string bitcode_of(const ir::Program& p) {
  codegen::CodegenResult cg = codegen::lower_program(p);
  EXPECT_TRUE(cg.ok()) << cg.error;
  EXPECT_FALSE(cg.bitcode.empty());
  return cg.bitcode;
}

std::unique_ptr<rt::JitProgram> load(const ir::Program& p, const std::string& bitcode, const fs::path& dir,
                                     int level = rt::kDefaultJitOptLevel) {
  rt::JitOptions o;
  o.cache_dir = dir.string();
  o.opt_level = level;
  std::string error;
  auto j = rt::JitProgram::load(p, bitcode, o, error);
  EXPECT_TRUE(j) << error;
  return j;
}

// The JIT's alerts on the sample must be the interpreter's (the loaded object really runs).
void expect_runs(const ir::Program& p, const rt::JitProgram& j) {
  Fired interp = run_engine(p, sample_events(), nullptr);
  Fired native = run_engine(p, sample_events(), j.make_matcher());
  EXPECT_EQ(interp.hits.size(), 2u);
  EXPECT_EQ(interp.hits, native.hits);
}

// The literal prefilter's vectorscan databases are cached next to the objects: built and stored by the first load,
// loaded by the next; a damaged entry is built again (and replaced), never trusted.
TEST(JitCache, PrefilterDatabasesAreCached) {
  std::string rules;
  for (const char* lit : {"alpha", "beta", "gamma", "delta", "eps"})
    rules += event_rule(std::string("j.") + lit, std::string("s2 contains \"") + lit + "\"");
  rules += kRules;
  auto b = build_rules(rules);
  ASSERT_TRUE(b->prog);
  fs::path dir = fresh_dir("prefilter-cache");
  std::string bc = bitcode_of(*b->prog);
  std::vector<std::string> events = sample_events();
  events.push_back("{\"src\":\"j\",\"ts\":\"2024-01-01T10:00:03Z\",\"id\":\"e4\",\"user\":\"u\",\"s2\":\"xgammaz\"}");
  auto check = [&](const rt::JitProgram& j) {
    Fired interp = run_engine(*b->prog, events, nullptr);
    Fired native = run_engine(*b->prog, events, j.make_matcher());
    EXPECT_EQ(interp.hits.size(), 4u);  // j.a on e1; j.b (endswith z) on e3 and e4; j.gamma on e4
    EXPECT_EQ(interp.hits, native.hits);
  };
  auto first = load(*b->prog, bc, dir);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->stats().prefilter_databases, 1u);
  EXPECT_EQ(first->stats().prefilter_cached, 0u);
  check(*first);
  std::vector<fs::path> hs;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".hs") hs.push_back(e.path());
  ASSERT_EQ(hs.size(), 1u);

  auto second = load(*b->prog, bc, dir);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->stats().prefilter_cached, 1u);
  check(*second);

  // Damaged: truncated, then garbage of the right size.
  std::string good = slurp(hs[0]);
  for (const std::string& bad : {good.substr(0, good.size() / 2), std::string(good.size(), '\x5a')}) {
    {
      std::ofstream out(hs[0], std::ios::binary | std::ios::trunc);
      out << bad;
    }
    auto again = load(*b->prog, bc, dir);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->stats().prefilter_cached, 0u);
    EXPECT_EQ(again->stats().prefilter_databases, 1u);
    check(*again);
    EXPECT_EQ(slurp(hs[0]), good) << "the damaged entry is replaced";
  }
}

TEST(JitCache, CodegenThenCache) {
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  fs::path dir = fresh_dir("cache") / "nested" / "jit";  // created on demand, 0700 at every level
  std::string bc = bitcode_of(*b->prog);

  auto first = load(*b->prog, bc, dir);
  ASSERT_TRUE(first);
  const rt::JitStats& s1 = first->stats();
  EXPECT_EQ(s1.object_source, rt::JitStats::ObjectSource::Codegen);
  EXPECT_EQ(rt::object_source_name(s1.object_source), "codegen");
  EXPECT_TRUE(s1.cache_warning.empty()) << s1.cache_warning;
  ASSERT_FALSE(s1.cache_file.empty());
  EXPECT_EQ(fs::path(s1.cache_file).parent_path(), dir);
  ASSERT_TRUE(fs::exists(s1.cache_file));
  std::string obj = slurp(s1.cache_file);
  EXPECT_EQ(obj.size(), s1.object_bytes);
  EXPECT_EQ(obj.compare(0, 4, "\x7f" "ELF"), 0);
  EXPECT_EQ(fs::status(dir).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(s1.cache_file).permissions() & (fs::perms::group_write | fs::perms::others_write),
            fs::perms::none);
  EXPECT_EQ(s1.bitcode_bytes, bc.size());
  EXPECT_FALSE(s1.cpu.empty());
  expect_runs(*b->prog, *first);

  auto second = load(*b->prog, bc, dir);
  ASSERT_TRUE(second);
  const rt::JitStats& s2 = second->stats();
  EXPECT_EQ(s2.object_source, rt::JitStats::ObjectSource::Cache);
  EXPECT_EQ(rt::object_source_name(s2.object_source), "cache");
  EXPECT_EQ(s2.codegen_ms, 0.0);
  EXPECT_EQ(s2.cache_file, s1.cache_file);
  EXPECT_EQ(s2.object_bytes, s1.object_bytes);
  EXPECT_EQ(files_in(dir), 1u);
  expect_runs(*b->prog, *second);

  // The same program compiled again gives the same bitcode, hence the same key: a cache hit.
  auto again = build_rules(kRules);
  ASSERT_TRUE(again->prog);
  auto third = load(*again->prog, bitcode_of(*again->prog), dir);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->stats().object_source, rt::JitStats::ObjectSource::Cache);
}

TEST(JitCache, OptLevelAndBitcodeAreInTheKey) {
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  fs::path dir = fresh_dir("cache");
  std::string bc = bitcode_of(*b->prog);
  auto l1 = load(*b->prog, bc, dir, 1);
  ASSERT_TRUE(l1);
  EXPECT_EQ(l1->stats().object_source, rt::JitStats::ObjectSource::Codegen);
  auto l2 = load(*b->prog, bc, dir, 2);
  ASSERT_TRUE(l2);
  EXPECT_EQ(l2->stats().object_source, rt::JitStats::ObjectSource::Codegen);
  EXPECT_NE(l2->stats().cache_file, l1->stats().cache_file);
  auto l0 = load(*b->prog, bc, dir, 0);
  ASSERT_TRUE(l0);
  EXPECT_EQ(l0->stats().object_source, rt::JitStats::ObjectSource::Codegen);
  expect_runs(*b->prog, *l0);
  EXPECT_EQ(files_in(dir), 3u);
  // Each is now cached.
  for (int level : {0, 1, 2}) {
    auto j = load(*b->prog, bc, dir, level);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->stats().object_source, rt::JitStats::ObjectSource::Cache) << level;
  }

  // Different rules: different bitcode, a miss.
  auto other = build_rules(kRules + event_rule("j.c", "i == 7"));
  ASSERT_TRUE(other->prog);
  std::string obc = bitcode_of(*other->prog);
  ASSERT_NE(obc, bc);
  auto o = load(*other->prog, obc, dir, 1);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->stats().object_source, rt::JitStats::ObjectSource::Codegen);
  EXPECT_NE(o->stats().cache_file, l1->stats().cache_file);
}

TEST(JitCache, UnsafeDirectoryIsRefused) {
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  std::string bc = bitcode_of(*b->prog);
  for (mode_t mode : {mode_t{0777}, mode_t{0770}, mode_t{0702}}) {
    fs::path dir = fresh_dir("unsafe" + std::to_string(mode));
    ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
    for (int round = 0; round < 2; ++round) {
      auto j = load(*b->prog, bc, dir);
      ASSERT_TRUE(j);
      EXPECT_FALSE(j->stats().cache_warning.empty()) << std::oct << mode;
      EXPECT_NE(j->stats().cache_warning.find(dir.string()), std::string::npos) << j->stats().cache_warning;
      EXPECT_EQ(j->stats().object_source, rt::JitStats::ObjectSource::Codegen) << "round " << round;
      EXPECT_TRUE(j->stats().cache_file.empty());
      expect_runs(*b->prog, *j);
    }
    EXPECT_EQ(files_in(dir), 0u) << "nothing may be written to an unsafe cache directory";
    ::chmod(dir.c_str(), 0700);
  }
  // A path that is a file, not a directory.
  fs::path file = fresh_dir("file") / "not-a-dir";
  std::ofstream(file) << "x";
  auto j = load(*b->prog, bc, file);
  ASSERT_TRUE(j);
  EXPECT_FALSE(j->stats().cache_warning.empty());
  EXPECT_EQ(j->stats().object_source, rt::JitStats::ObjectSource::Codegen);
}

TEST(JitCache, NoCacheWhenDisabled) {
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  fs::path dir = fresh_dir("off");
  rt::JitOptions o;
  o.cache_dir = dir.string();
  o.use_cache = false;
  std::string error;
  std::string bc = bitcode_of(*b->prog);
  for (int round = 0; round < 2; ++round) {
    auto j = rt::JitProgram::load(*b->prog, bc, o, error);
    ASSERT_TRUE(j) << error;
    EXPECT_EQ(j->stats().object_source, rt::JitStats::ObjectSource::Codegen);
    EXPECT_TRUE(j->stats().cache_file.empty());
    EXPECT_TRUE(j->stats().cache_warning.empty());
  }
  EXPECT_EQ(files_in(dir), 0u);
}

TEST(JitCache, CorruptEntryIsRegenerated) {
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  fs::path dir = fresh_dir("corrupt");
  std::string bc = bitcode_of(*b->prog);
  auto first = load(*b->prog, bc, dir);
  ASSERT_TRUE(first);
  std::string file = first->stats().cache_file;
  std::string good = slurp(file);
  for (const std::string& junk : {std::string("this is not an object file"), std::string(), std::string("\x7f" "EL"),
                                  std::string("MZ\x90\x00", 4) + std::string(200, 'x')}) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << junk;
    auto j = load(*b->prog, bc, dir);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->stats().object_source, rt::JitStats::ObjectSource::Codegen) << "junk of " << junk.size() << " bytes";
    EXPECT_EQ(slurp(file), good) << "the entry must be rewritten";
    expect_runs(*b->prog, *j);
  }
}

TEST(JitCache, TruncatedElfEntryDoesNotAbort) {
  // An entry that starts like ELF but is cut short (a crash mid-write by an older version, a full disk) must not
  // take the process down: either regenerated, or a reported error.
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  fs::path dir = fresh_dir("truncated");
  std::string bc = bitcode_of(*b->prog);
  auto first = load(*b->prog, bc, dir);
  ASSERT_TRUE(first);
  std::string file = first->stats().cache_file;
  std::string good = slurp(file);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << good.substr(0, 64);
  rt::JitOptions o;
  o.cache_dir = dir.string();
  std::string error;
  auto j = rt::JitProgram::load(*b->prog, bc, o, error);
  if (j) {
    EXPECT_EQ(j->stats().object_source, rt::JitStats::ObjectSource::Codegen);
    expect_runs(*b->prog, *j);
  } else {
    EXPECT_FALSE(error.empty());
    ADD_FAILURE() << "a truncated cache entry makes the JIT fail instead of regenerating it: " << error;
  }
}

TEST(JitCache, NativeObjectFromAPack) {
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  fs::path dir = fresh_dir("pack");
  std::string bc = bitcode_of(*b->prog);
  std::string error;
  auto obj = rt::compile_object(bc, rt::kDefaultJitOptLevel, error);
  ASSERT_TRUE(obj) << error;
  EXPECT_EQ(obj->compare(0, 4, "\x7f" "ELF"), 0);
  rt::JitOptions o;
  o.cache_dir = dir.string();
  o.native_object = &*obj;
  auto j = rt::JitProgram::load(*b->prog, bc, o, error);
  ASSERT_TRUE(j) << error;
  EXPECT_EQ(j->stats().object_source, rt::JitStats::ObjectSource::Pack);
  EXPECT_EQ(rt::object_source_name(j->stats().object_source), "pack");
  EXPECT_EQ(j->stats().codegen_ms, 0.0);
  EXPECT_EQ(j->stats().object_bytes, obj->size());
  EXPECT_EQ(files_in(dir), 0u);  // a pack's code is not cached
  expect_runs(*b->prog, *j);

  // Garbage native code is an error, not a crash.
  std::string junk = "definitely not an object";
  o.native_object = &junk;
  error.clear();
  EXPECT_FALSE(rt::JitProgram::load(*b->prog, bc, o, error));
  EXPECT_FALSE(error.empty());
}

// ---------------------------------------------------------------------------------------------------------------
// Errors never abort

TEST(JitErrors, CorruptProgramIsAnErrorNamingTheRule) {
  // A Program is move-only: compile the text once per corruption.
  std::string rules = event_rule("j.fine", "s == \"a\"") + event_rule("j.bad_set", "i > 0 and s2 in [\"x\", \"y\"]") +
                      event_rule("j.bad_str", "i > 1 and s2 == \"q\"");
  {
    auto b = build_rules(rules);
    ASSERT_TRUE(b->prog);
    ir::Program& p = *b->prog;
    EXPECT_TRUE(codegen::lower_program(p).ok());
    bool done = false;
    for (ir::Node& n : p.nodes)
      if (n.op == ir::Op::InSet) n.imm = static_cast<int64_t>(p.sets.size() + 5), done = true;
    ASSERT_TRUE(done);
    codegen::CodegenResult cg = codegen::lower_program(p);
    EXPECT_FALSE(cg.ok());
    EXPECT_EQ(cg.error_rule, "j.bad_set");
    EXPECT_FALSE(cg.error.empty());
    EXPECT_TRUE(cg.bitcode.empty());
  }
  {
    auto b = build_rules(rules);
    ASSERT_TRUE(b->prog);
    ir::Program& p = *b->prog;
    const ir::Rule& r = *p.find_rule("j.bad_str");
    // The string constant of the rule's `s2 == "q"`.
    const ir::Node& and_node = p.node(r.condition);
    const ir::Node& eq = p.node(p.op(and_node, 1));
    ASSERT_EQ(eq.op, ir::Op::Eq);
    ir::NodeId c = p.node(p.op(eq, 1)).op == ir::Op::String ? p.op(eq, 1) : p.op(eq, 0);
    ASSERT_EQ(p.node(c).op, ir::Op::String);
    p.nodes[c].imm = static_cast<int64_t>(p.strings.size() + 100);
    codegen::CodegenResult cg = codegen::lower_program(p);
    EXPECT_FALSE(cg.ok());
    EXPECT_EQ(cg.error_rule, "j.bad_str");
  }
  {
    // In a source's `recognize`: the error names the source.
    auto b = build_rules(rules);
    ASSERT_TRUE(b->prog);
    ir::Program& p = *b->prog;
    const ir::Source& s = *p.find_source("j.alt");
    bool done = false;
    std::vector<ir::NodeId> stack{s.recognize};
    while (!stack.empty()) {
      ir::NodeId id = stack.back();
      stack.pop_back();
      ir::Node& n = p.nodes[id];
      if (n.op == ir::Op::InSet) {
        n.imm = 1 << 30;
        done = true;
      }
      for (ir::NodeId c : p.ops(n)) stack.push_back(c);
    }
    ASSERT_TRUE(done);
    codegen::CodegenResult cg = codegen::lower_program(p);
    EXPECT_FALSE(cg.ok());
    EXPECT_EQ(cg.error_rule, "source j.alt");
  }
}

TEST(JitErrors, GarbageBitcodeIsAnError) {
  auto b = build_rules(kRules);
  ASSERT_TRUE(b->prog);
  rt::JitOptions o;
  o.use_cache = false;
  for (const std::string& bc : {std::string(), std::string("garbage"), std::string("BC\xc0\xde", 4) + std::string(64, '\0')}) {
    std::string error;
    auto j = rt::JitProgram::load(*b->prog, bc, o, error);
    EXPECT_FALSE(j);
    EXPECT_FALSE(error.empty());
  }
  // Valid bitcode of another program (one source only): the missing dispatch function is reported.
  {
    auto small = rt::test::build({"source k.only {\n  recognize src == \"k\"\n  time ts\n  identity user\n"
                                  "  session gap 30m max 2h\n  fields { src: string, ts: time, user?: string }\n}\n"});
    ASSERT_TRUE(small->prog);
    std::string bc = bitcode_of(*small->prog);
    std::string error;
    auto j = rt::JitProgram::load(*b->prog, bc, o, error);
    EXPECT_FALSE(j);
    EXPECT_NE(error.find("dispatch"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace braid::jittest
