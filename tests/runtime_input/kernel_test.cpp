// SIMD kernels (runtime/input/kernel.h): the choice at run time, the refusal of CPUs below x86-64-v2 and of
// kernels the CPU cannot run, BRAID_SIMD_KERNEL, and that every kernel this CPU runs extracts exactly the same
// values over the test corpus, and reports exactly the same errors (but for simdjson's scalar stage 1, see
// BothStagesAcrossProcesses).
//
// CMakeLists.txt also runs this whole test binary once per kernel with BRAID_SIMD_KERNEL=<kernel> (ctest
// runtime_input_kernel_<kernel>), so every test of the input library runs on every kernel; a kernel this CPU
// cannot run is skipped there (exit code 77).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "input/kernel.h"
#include "test_util.h"

extern char** environ;

namespace braid::rt::testing {
namespace {

namespace fs = std::filesystem;
using detail::CpuFeatures;
using detail::KernelOps;

int dump_corpus(const char* path);  // below

// With BRAID_SIMD_KERNEL naming a kernel this CPU cannot run, every test would fail in the constructors: skip the
// whole run instead (ctest's SKIP_RETURN_CODE).
class ForcedKernelEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* forced = std::getenv("BRAID_SIMD_KERNEL");
    if (forced != nullptr && !simd_kernel_supported()) {
      std::printf("BRAID_SIMD_KERNEL=%s cannot run here: skipping every test\n", forced);
      std::fflush(stdout);
      std::_Exit(77);
    }
    // The child of KernelEquivalence.BothStagesAcrossProcesses: write the corpus run and exit.
    if (const char* dump = std::getenv("BRAID_KERNEL_DUMP")) std::_Exit(dump_corpus(dump));
  }
};
[[maybe_unused]] ::testing::Environment* const g_forced_env =
    ::testing::AddGlobalTestEnvironment(new ForcedKernelEnvironment);

std::vector<const KernelOps*> runnable_kernels() {
  std::vector<const KernelOps*> v;
  for (std::string_view k : detail::built_kernels())
    if (const KernelOps* ops = detail::find_kernel(k)) v.push_back(ops);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// The choice.

CpuFeatures v2_cpu() {
  CpuFeatures f;
  f.sse3 = f.ssse3 = f.sse4_1 = f.sse4_2 = f.popcnt = f.cmpxchg16b = f.x86_64_v2 = true;
  return f;
}
CpuFeatures westmere_cpu() {
  CpuFeatures f = v2_cpu();
  f.pclmul = true;
  return f;
}
CpuFeatures haswell_cpu() {
  CpuFeatures f = westmere_cpu();
  f.avx2 = f.bmi1 = f.lzcnt = true;
  return f;
}
CpuFeatures icelake_cpu() {
  CpuFeatures f = haswell_cpu();
  f.avx512f = f.avx512dq = f.avx512cd = f.avx512bw = f.avx512vl = f.avx512vbmi = f.avx512vbmi2 = true;
  return f;
}

bool x86_64_build() { return detail::built_kernels().size() == 4; }

TEST(Kernel, ActiveIsTheBestThisCpuRunsOrTheForcedOne) {
  ASSERT_TRUE(simd_kernel_supported());
  const char* forced = std::getenv("BRAID_SIMD_KERNEL");
  if (forced != nullptr && *forced != '\0' && std::string_view(forced) != "auto") {
    EXPECT_EQ(simd_kernel_name(), forced);
  } else {
    std::string_view best;
    for (std::string_view k : detail::built_kernels()) {
      if (detail::find_kernel(k)) {
        best = detail::find_kernel(k)->name;
        break;
      }
    }
    EXPECT_EQ(simd_kernel_name(), best);
  }
  EXPECT_EQ(detail::active_kernel().name, simd_kernel_name());
  EXPECT_EQ(std::string_view(detail::active_kernel().name), detail::active_kernel().simdjson);
}

TEST(Kernel, StageOneFollowsTheKernel) {
  // libsimdjson's stage 1 is the active kernel's (under valgrind, which hides AVX-512, both say haswell).
  EXPECT_STREQ(detail::active_kernel().stage1(), detail::active_kernel().simdjson);
}

TEST(Kernel, ChoiceByCpu) {
  if (!x86_64_build()) GTEST_SKIP() << "x86-64 only";
  struct Case {
    CpuFeatures cpu;
    const char* kernel;
  } cases[] = {{icelake_cpu(), "icelake"}, {haswell_cpu(), "haswell"}, {westmere_cpu(), "westmere"},
               {v2_cpu(), "fallback"}};
  for (const auto& c : cases) {
    detail::KernelChoice ch = detail::choose_kernel(nullptr, c.cpu);
    ASSERT_NE(ch.ops, nullptr) << c.kernel << ": " << ch.error;
    EXPECT_STREQ(ch.ops->name, c.kernel);
    EXPECT_STREQ(detail::choose_kernel("", c.cpu).ops->name, c.kernel);
    EXPECT_STREQ(detail::choose_kernel("auto", c.cpu).ops->name, c.kernel);
  }
  // AVX-512 without VBMI2 (Skylake-X): haswell.
  CpuFeatures skx = icelake_cpu();
  skx.avx512vbmi = skx.avx512vbmi2 = false;
  EXPECT_STREQ(detail::choose_kernel(nullptr, skx).ops->name, "haswell");
  // AVX2 without PCLMULQDQ (not a real CPU; the flags need both): fallback.
  CpuFeatures odd = haswell_cpu();
  odd.pclmul = false;
  EXPECT_STREQ(detail::choose_kernel(nullptr, odd).ops->name, "fallback");
}

TEST(Kernel, BelowX86_64_V2IsRefusedNamingTheMissingFeature) {
  if (!x86_64_build()) GTEST_SKIP() << "x86-64 only";
  CpuFeatures penryn = v2_cpu();  // Core 2 (2008): SSE4.1 but not SSE4.2
  penryn.sse4_2 = penryn.popcnt = penryn.x86_64_v2 = false;
  detail::KernelChoice ch = detail::choose_kernel(nullptr, penryn);
  EXPECT_EQ(ch.ops, nullptr);
  EXPECT_EQ(ch.error, "this CPU lacks SSE4.2: Braid's event input needs an x86-64-v2 CPU (SSE4.2, POPCNT, ...)");
  CpuFeatures k8;  // the first x86-64 CPUs: none of it
  EXPECT_EQ(detail::choose_kernel(nullptr, k8).error.rfind("this CPU lacks SSE3: ", 0), 0u);
  CpuFeatures no_lahf = v2_cpu();
  no_lahf.x86_64_v2 = false;
  EXPECT_EQ(detail::choose_kernel(nullptr, no_lahf).error.rfind("this CPU lacks LAHF/SAHF: ", 0), 0u);
  // Forcing a kernel does not get around it.
  ch = detail::choose_kernel("fallback", penryn);
  EXPECT_EQ(ch.ops, nullptr);
  EXPECT_EQ(ch.error, "BRAID_SIMD_KERNEL=fallback: this CPU lacks SSE4.2: Braid's event input needs an x86-64-v2 "
                      "CPU (SSE4.2, POPCNT, ...)");
}

TEST(Kernel, ForcedKernelTheCpuCannotRunIsRefused) {
  if (!x86_64_build()) GTEST_SKIP() << "x86-64 only";
  detail::KernelChoice ch = detail::choose_kernel("icelake", haswell_cpu());
  EXPECT_EQ(ch.ops, nullptr);
  EXPECT_EQ(ch.error, "BRAID_SIMD_KERNEL=icelake: this CPU lacks AVX512F, which the 'icelake' JSON kernel needs");
  EXPECT_EQ(detail::choose_kernel("westmere", v2_cpu()).error,
            "BRAID_SIMD_KERNEL=westmere: this CPU lacks PCLMULQDQ, which the 'westmere' JSON kernel needs");
  EXPECT_STREQ(detail::choose_kernel("westmere", icelake_cpu()).ops->name, "westmere");
  EXPECT_STREQ(detail::choose_kernel("fallback", icelake_cpu()).ops->name, "fallback");
  ch = detail::choose_kernel("avx9\n000", icelake_cpu());
  EXPECT_EQ(ch.ops, nullptr);
  EXPECT_EQ(ch.error, "BRAID_SIMD_KERNEL=avx9?000: not a JSON kernel of this build (icelake, haswell, westmere, "
                      "fallback, or auto)");
}

TEST(Kernel, ReasonsForThisCpu) {
  for (std::string_view k : detail::built_kernels()) {
    std::string why = detail::kernel_unsupported_reason(k);
    EXPECT_EQ(why.empty(), detail::find_kernel(k) != nullptr) << k;
    if (!why.empty()) {
      EXPECT_EQ(why.rfind("this CPU lacks ", 0), 0u) << why;
    }
  }
  EXPECT_EQ(detail::kernel_unsupported_reason("nope").rfind("unknown kernel 'nope'", 0), 0u);
  EXPECT_EQ(detail::find_kernel("nope"), nullptr);
  // Whatever this CPU is, it runs at least the kernel in use.
  EXPECT_NE(detail::find_kernel(simd_kernel_name()), nullptr);
}

// Runs `path` with this environment, BRAID_SIMD_KERNEL replaced by `kernel` (removed when null) and `extra` added;
// stdout and stderr together in `out`.
struct ProcessResult {
  int exit_code = -1;
  std::string out;
};
// A file name of its own in the temporary directory (TempDir is one per test).
std::string temp_file(const std::string& what) {
  static int n = 0;
  return (fs::temp_directory_path() /
          ("braid_rtin_" + std::to_string(::getpid()) + "_" + what + "_" + std::to_string(++n) + ".txt"))
      .string();
}

ProcessResult run_process(const std::string& path, const char* kernel, const std::vector<std::string>& extra) {
  std::string out_file = temp_file("out");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v(*e);
    if (v.rfind("BRAID_SIMD_KERNEL=", 0) != 0 && v.rfind("BRAID_KERNEL_DUMP=", 0) != 0) env_strings.emplace_back(v);
  }
  if (kernel) env_strings.push_back(std::string("BRAID_SIMD_KERNEL=") + kernel);
  for (const auto& x : extra) env_strings.push_back(x);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::string program = path;
  char* argv[] = {program.data(), nullptr};
  pid_t pid = 0;
  ProcessResult r;
  int rc = posix_spawn(&pid, program.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  EXPECT_EQ(rc, 0) << program;
  if (rc != 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.out = ss.str();
  fs::remove(out_file);
  return r;
}

// The probe (kernel_probe.cpp) reads BRAID_SIMD_KERNEL afresh in a process of its own: it prints the kernel, or the
// one-line error and exits 2, as `braid` does.
ProcessResult run_probe(const char* kernel) { return run_process(BRAID_KERNEL_PROBE, kernel, {}); }

TEST(Kernel, EnvironmentVariableEndToEnd) {
  ProcessResult def = run_probe(nullptr);
  EXPECT_EQ(def.exit_code, 0) << def.out;
  for (std::string_view k : detail::built_kernels()) {
    ProcessResult r = run_probe(std::string(k).c_str());
    if (detail::find_kernel(k)) {
      EXPECT_EQ(r.exit_code, 0) << k << ": " << r.out;
      EXPECT_EQ(r.out, std::string(detail::find_kernel(k)->name) + "\n");
    } else {
      EXPECT_EQ(r.exit_code, 2) << k << ": " << r.out;
      EXPECT_EQ(r.out, "braid-probe: error: BRAID_SIMD_KERNEL=" + std::string(k) + ": " +
                           detail::kernel_unsupported_reason(k) + "\n");
    }
  }
  ProcessResult bad = run_probe("sse9");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out.rfind("braid-probe: error: BRAID_SIMD_KERNEL=sse9: not a JSON kernel of this build (", 0), 0u)
      << bad.out;
  EXPECT_EQ(std::count(bad.out.begin(), bad.out.end(), '\n'), 1) << bad.out;  // one line
}

// ---------------------------------------------------------------------------------------------------------------
// Equivalence of the kernels over the corpus.

// The fields read from every record: CloudTrail's and the other providers' usual fields, every path form
// ([N], [*], nested [*]), objects and arrays as raw JSON leaves, declared lists, and paths that are prefixes of
// others.
const char* const kPaths[] = {
    // CloudTrail
    "eventTime", "eventName", "eventSource", "eventType", "eventCategory", "awsRegion", "sourceIPAddress",
    "userAgent", "errorCode", "errorMessage", "eventID", "readOnly", "recipientAccountId",
    "sessionCredentialFromConsole",
    "userIdentity", "userIdentity.type", "userIdentity.arn", "userIdentity.accessKeyId", "userIdentity.accountId",
    "userIdentity.principalId", "userIdentity.sessionContext.attributes.mfaAuthenticated",
    "userIdentity.sessionContext.sessionIssuer.arn", "userIdentity.sessionContext.sessionIssuer.userName",
    "requestParameters", "requestParameters.roleArn", "requestParameters.roleSessionName",
    "requestParameters.userName", "requestParameters.policyArn", "requestParameters.bucketName",
    "requestParameters.instancesSet.items[*].instanceId", "requestParameters.ipPermissions.items[0].ipRanges",
    "responseElements", "responseElements.credentials.accessKeyId", "responseElements.credentials.expiration",
    "responseElements.assumedRoleUser.arn", "responseElements.ConsoleLogin", "additionalEventData",
    "additionalEventData.MFAUsed", "resources[*].ARN", "resources[0].type", "resources[1]", "tlsDetails.tlsVersion",
    // Okta
    "published", "actor.alternateId", "actor.id", "actor", "client.ipAddress", "client.geographicalContext.city",
    "outcome.result", "outcome.reason", "target[*].alternateId", "target[*].type", "target[0].id",
    "authenticationContext.externalSessionId", "debugContext.debugData.requestUri", "securityContext.isProxy",
    // GCP
    "timestamp", "protoPayload.methodName", "protoPayload.serviceName",
    "protoPayload.authenticationInfo.principalEmail", "protoPayload.requestMetadata.callerIp",
    "protoPayload.authorizationInfo[*].permission", "protoPayload.authorizationInfo[*].granted",
    "protoPayload.serviceData.policyDelta.bindingDeltas[*].member", "resource.labels.project_id", "severity",
    // GitHub
    "created_at", "action", "actor_ip", "repo", "org", "user", "programmatic_access_type",
    "token_scopes", "hashed_token",
    // Azure / Entra ID
    "time", "operationName", "category", "resultType", "callerIpAddress", "identity", "properties",
    "properties.userPrincipalName", "properties.status.errorCode",
    "properties.appliedConditionalAccessPolicies[*].result",
    "properties.authenticationDetails[*].authenticationMethod", "properties.initiatedBy.user.userPrincipalName",
    "properties.targetResources[*].modifiedProperties[*].newValue",
    // Vault, generic and synthetic ones
    "type", "auth.display_name", "auth.policies", "request.path", "request.operation", "response.auth.accessor",
    "a", "b", "b.c", "n", "tags", "list", "list[*]", "list[2]", "arr[*][*]", "x.y.z", "x.\"k\\\"q\"",
    "deep.a.b.c.d.e.f",
    "u", "e", "big", "f", "neg",
    // Panther test files (whole documents)
    "rule_id", "tests[*].name", "tests[*].expect", "tests[*].log.eventName", "tests[*].log.userIdentity.arn",
    "tests[*].log", "reports", "log_types[*]",
};
constexpr size_t kFields = sizeof kPaths / sizeof kPaths[0];

FieldExtractor make_extractor() {
  std::vector<ir::FieldPath> ps;
  for (const char* p : kPaths) ps.push_back(path(p));
  std::vector<bool> list_leaf(kFields, false);
  for (size_t i = 0; i < kFields; ++i) {
    std::string_view p = kPaths[i];
    list_leaf[i] = p == "tags" || p == "list" || p == "auth.policies" || p == "token_scopes" || p == "resources[1]";
  }
  return FieldExtractor(std::move(ps), std::move(list_leaf));
}

// A value, exactly (floats by their bits, strings by their bytes).
void dump(std::string& out, const Value& v) {
  char buf[64];
  switch (v.tag) {
    case Tag::Null: out += 'N'; return;
    case Tag::Bool: out += v.b ? 'T' : 'F'; return;
    case Tag::Int:
    case Tag::Time:
    case Tag::Duration:
      std::snprintf(buf, sizeof buf, "I%" PRId64, v.i);
      out += buf;
      return;
    case Tag::Float: {
      uint64_t bits;
      std::memcpy(&bits, &v.f, sizeof bits);
      std::snprintf(buf, sizeof buf, "D%016" PRIx64, bits);
      out += buf;
      return;
    }
    case Tag::String:
    case Tag::Json:
      out += v.tag == Tag::String ? 'S' : 'J';
      out += std::to_string(v.len);
      out += ':';
      for (char c : v.str()) {  // one line per record: control bytes escaped
        if (static_cast<unsigned char>(c) < 0x20 || c == '\\') {
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
      }
      return;
    case Tag::List:
      out += "L[";
      for (uint32_t i = 0; i < v.len; ++i) {
        if (i) out += ',';
        dump(out, v.items[i]);
      }
      out += ']';
      return;
  }
  out += '?';
}

std::string dump_record(const FieldExtractor& ex, bool ok) {
  std::string s;
  if (!ok) {
    s += "ERROR ";
    s += input_error_kind_name(ex.error_kind());
    s += ": ";
    s += ex.error();
  }
  for (size_t f = 0; f < ex.field_count(); ++f) {
    const Value& v = ex[static_cast<ir::FieldId>(f)];
    if (v.is_null()) continue;
    s += ' ';
    s += std::to_string(f);
    s += '=';
    dump(s, v);
  }
  return s;
}

struct CorpusInput {
  std::string name;
  std::string path;  // a file, or
  std::string text;  // an in-memory input (when path is empty)
  bool whole_document = false;  // extract the file as one record (extract_json) instead of reading it
  bool malformed = false;       // not valid JSON (UTF-8 included) throughout
};

// One line per record and per reported input error, with the kernel `ops` for the walk (stage 2; stage 1 is the
// process's). Lines of malformed inputs start with "M ", the others with "V ".
std::vector<std::string> run_corpus(const KernelOps& ops, const std::vector<CorpusInput>& inputs, size_t& records) {
  detail::ScopedKernelOverride use(ops);
  std::vector<std::string> lines;
  FieldExtractor ex = make_extractor();
  records = 0;
  for (const CorpusInput& in : inputs) {
    std::string mark = in.malformed ? "M " : "V ";
    if (in.whole_document) {
      std::ifstream is(in.path, std::ios::binary);
      std::stringstream ss;
      ss << is.rdbuf();
      bool ok = ex.extract_json(ss.str());
      lines.push_back(mark + in.name + ": " + dump_record(ex, ok));
      ++records;
      continue;
    }
    RecordReader r;
    r.set_error_handler([&](const InputError& e) {
      lines.push_back(mark + "input error " + std::string(input_error_kind_name(e.kind)) + " " + e.to_string());
    });
    if (in.path.empty()) r.add_buffer(in.text, in.name);
    else r.add_path(in.path);
    Record rec;
    while (r.next(rec)) {
      bool ok = ex.extract(rec);
      lines.push_back(mark + r.where(rec.origin) + ": " + dump_record(ex, ok));
      ++records;
    }
  }
  return lines;
}

// Random JSON: objects with the corpus's keys and random ones, every value kind, escapes, unicode, long strings
// (so that strings and escapes straddle the 64-byte blocks of every kernel's stage 1), deep nesting.
class RandomJson {
 public:
  explicit RandomJson(uint32_t seed) : rng_(seed) {}

  std::string object(int depth) {
    std::string s = "{";
    int n = pick(0, depth > 3 ? 3 : 9);
    for (int i = 0; i < n; ++i) {
      if (i) s += ws() + ",";
      s += ws() + key() + ws() + ":" + ws() + value(depth + 1);
    }
    return s + ws() + "}";
  }

 private:
  std::mt19937 rng_;
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string ws() {
    static const char* const kWs[] = {"", "", "", " ", "\n", "\t ", "  \r\n"};
    return kWs[pick(0, 6)];
  }
  std::string key() {
    static const char* const kKeys[] = {"eventName", "userIdentity", "arn", "accessKeyId", "requestParameters",
                                        "resources", "ARN", "a", "b", "c", "list", "tags", "arr", "x", "y", "z",
                                        "k\\\"q", "n", "actor", "alternateId", "target", "items", "instanceId",
                                        "deep", "d", "e", "f", "big", "neg", "u", "properties", "Records"};
    if (pick(0, 5) == 0) return "\"" + text(pick(0, 12)) + "\"";
    return std::string("\"") + kKeys[pick(0, static_cast<int>(std::size(kKeys)) - 1)] + "\"";
  }
  std::string text(int n) {
    static const char* const kPieces[] = {"a", "Z", "0", " ", "\\\"", "\\\\", "\\n", "\\t", "\\/", "\\u00e9",
                                          "\\ud83d\\ude00",
                                          "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "{", "}", "[", "]", ":", ",",
                                          "arn:aws:iam::123456789012:role/x", "ASIA"};
    std::string s;
    for (int i = 0; i < n; ++i) s += kPieces[pick(0, static_cast<int>(std::size(kPieces)) - 1)];
    return s;
  }
  std::string number() {
    switch (pick(0, 9)) {
      case 0: return "0";
      case 1: return "-0";
      case 2: return std::to_string(pick(-1000000, 1000000));
      case 3: return "9223372036854775807";
      case 4: return "-9223372036854775808";
      case 5: return "18446744073709551615";
      case 6: return "123456789012345678901234567890";
      case 7: return "1.5e300";
      case 8: return "-2.2250738585072014e-308";
      default:
        return std::to_string(pick(0, 99999)) + "." + std::to_string(pick(0, 99999)) + "E-" +
               std::to_string(pick(0, 20));
    }
  }
  std::string value(int depth) {
    int k = pick(0, depth > 6 ? 5 : 8);
    switch (k) {
      case 0:
      case 1: return "\"" + text(pick(0, pick(0, 1) ? 8 : 90)) + "\"";
      case 2: return number();
      case 3: return pick(0, 1) ? "true" : "false";
      case 4: return "null";
      case 5: return "\"" + text(pick(60, 200)) + "\"";
      case 6:
      case 7: return object(depth);
      default: {
        std::string s = "[";
        int n = pick(0, 6);
        for (int i = 0; i < n; ++i) s += (i ? "," : "") + ws() + value(depth + 1);
        return s + ws() + "]";
      }
    }
  }
};

// Damages a record: truncation, a flipped byte, a stray byte, invalid UTF-8 (the error paths must agree too).
std::string damage(std::string s, std::mt19937& rng) {
  if (s.empty()) return s;
  auto at = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  switch (at(5)) {
    case 0: s.resize(at(s.size())); break;
    case 1: s[at(s.size())] = "{}[]\",:\\x0"[at(11)]; break;
    case 2: s.insert(at(s.size()), 1, static_cast<char>(at(256))); break;
    case 3: s.insert(at(s.size()), "\xff\xfe"); break;
    default: s += " x"; break;
  }
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

std::vector<CorpusInput> corpus(bool& have_shared) {
  std::vector<CorpusInput> inputs;
  // Hand-written records: every path form and value kind; then malformed ones.
  const char* const handwritten[] = {
      R"({"a":"x","b":{"c":"y","d":{"e":7},"skip":[1,{"q":2}]},"n":null,"f":1.5,"t":true,)"
      R"("big":18446744073709551615,"neg":-9223372036854775808})",
      R"({"u":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","x":{"k\"q":1},"e":"\u0000"})",
      R"({"list":[1,"two",null,{"three":3},[4]],"tags":["a",null,{"b":1}],"arr":[[1,2],[3,[4]],5,[]]})",
      R"({"list":"scalar","tags":{"not":"a list"},"arr":{"x":1}})",
      R"({"resources":[{"ARN":"a","type":"t"},{"ARN":"b"},{"type":"no arn"},"str",null],"x":{"y":{"z":[1,2,3]}}})",
      R"({"requestParameters":{"roleArn":"r","instancesSet":{"items":[{"instanceId":"i-1"},{"instanceId":"i-2"}]}},)"
      R"("requestParameters":{"roleArn":"second"}})",
      R"({"a":1,"a":2,"b":{"c":1,"c":2}})",
      R"({"deep":{"a":{"b":{"c":{"d":{"e":{"f":[{"g":1}]}}}}}}})",
      R"([{"a":1}])",
      R"("just a string")",
      "42",
      R"({"a":123456789012345678901234567890e999999})",
  };
  const char* const malformed[] = {
      R"({"a":"x","b":{"c":)",
      R"({"a":"x","b":{"c":1})",
      R"({"a":"unterminated})",
      R"({"a":1} {"a":2})",
      R"({"a":tru})",
      "{\"a\":\"\xc3\x28\"}",
      "{\"skip\":\"\xff\",\"a\":1}",
      "garbage",
      R"({"a":01})",
      R"({"a":"bad escape \q"})",
      R"({"a":"\ud800"})",
  };
  std::string text;
  for (const char* r : handwritten) text += std::string(r) + "\n";
  inputs.push_back({"handwritten", "", text, false, false});
  text.clear();
  for (const char* r : malformed) text += std::string(r) + "\n";
  inputs.push_back({"handwritten-malformed", "", text, false, true});
  // CloudTrail Records files and JSON array files (the splitter).
  inputs.push_back({"records.json", "",
                    R"({"Records":[{"eventName":"A","userIdentity":{"arn":"x"}},)"
                    R"({"eventName":"B","resources":[{"ARN":"r"}]},)"
                    R"( 7, "s", [1], {"eventName":"C"}], "other": 1})",
                    false, false});
  inputs.push_back({"array.json", "", "[\n {\"eventName\":\"A\"},\n {\"eventName\":\"B\"},\n null\n]", false, false});
  inputs.push_back({"records-not-array.json", "", R"({"Records":{"a":1}})", false, false});
  inputs.push_back({"bad-array.json", "", "[\n {\"eventName\":\"A\"},\n {\"eventName\":\"B\"\n", false, true});
  inputs.push_back({"bad-records.json", "", "{\"Records\":[{\"a\":1},{\"b\":\"\xc3\x28\"}]}", false, true});
  // Random records, intact and damaged, and random Records files.
  RandomJson gen(20261206);
  std::mt19937 rng(7);
  std::string intact, damaged;
  for (int i = 0; i < 4000; ++i) {
    std::string r = gen.object(0);
    for (char& c : r)
      if (c == '\n') c = ' ';
    if (i % 4 == 3) damaged += damage(r, rng) + "\n";
    else intact += r + "\n";
  }
  inputs.push_back({"random.ndjson", "", intact, false, false});
  inputs.push_back({"random-damaged.ndjson", "", damaged, false, true});
  for (int i = 0; i < 20; ++i) {
    std::string f = "{\"Records\":[";
    for (int k = 0, n = static_cast<int>(rng() % 20); k < n; ++k) f += (k ? "," : "") + gen.object(1);
    f += "]}";
    bool bad = i % 5 == 4;
    inputs.push_back({"random-records-" + std::to_string(i) + ".json", "", bad ? damage(f, rng) : f, false, bad});
  }
  // The bundled demo stream.
  fs::path demo = fs::path(BRAID_SOURCE_DIR) / "examples" / "demo.ndjson";
  if (fs::exists(demo)) inputs.push_back({"demo", demo.string(), "", false, false});
  // The shared corpora, when present: Stratus, the providers' samples, Panther's test files (pretty-printed JSON
  // documents, each extracted whole).
  fs::path root(BRAID_CORPORA_DIR);
  have_shared = fs::is_directory(root);
  for (const char* sub : {"stratus", "samples", "panther-aws-cloudtrail"}) {
    if (!fs::is_directory(root / sub)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(root / sub))
      if (e.path().extension() == ".ndjson" || e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) inputs.push_back({f, f, "", std::string_view(sub) == "panther-aws-cloudtrail", false});
  }
  return inputs;
}

// Lines that differ between two corpus runs (the first three are reported as failures, with `what`).
size_t compare_runs(const std::vector<std::string>& ref, const std::vector<std::string>& got, const std::string& what,
                    bool valid_only) {
  size_t diffs = 0;
  for (size_t i = 0; i < std::max(ref.size(), got.size()); ++i) {
    const std::string& a = i < ref.size() ? ref[i] : "<none>";
    const std::string& b = i < got.size() ? got[i] : "<none>";
    if (a == b || (valid_only && a.rfind("M ", 0) == 0 && b.rfind("M ", 0) == 0)) continue;
    if (++diffs <= 3)
      ADD_FAILURE() << what << ": line " << i << " differs:\n  " << a.substr(0, 2000) << "\n  " << b.substr(0, 2000);
  }
  return diffs;
}

// Stage 2 (the walks) of every kernel, with this process's stage 1: equal on everything, malformed input included.
TEST(KernelEquivalence, CorpusFieldsEqualAcrossKernels) {
  std::vector<const KernelOps*> kernels = runnable_kernels();
  ASSERT_FALSE(kernels.empty());
  bool have_shared = false;
  std::vector<CorpusInput> inputs = corpus(have_shared);
  if (!have_shared) std::printf("note: %s is absent; the built-in corpus only\n", BRAID_CORPORA_DIR);

  // The reference: the kernel in use (BRAID_SIMD_KERNEL, or the best one), as the library's users get it.
  const KernelOps& active = detail::active_kernel();
  size_t ref_records = 0;
  std::vector<std::string> ref = run_corpus(active, inputs, ref_records);
  EXPECT_GT(ref_records, 4000u);
  size_t errors = 0, values = 0;
  for (const auto& l : ref) {
    errors += l.find(": ERROR ") != std::string::npos || l.find("input error ") != std::string::npos;
    values += static_cast<size_t>(std::count(l.begin(), l.end(), '='));
  }
  EXPECT_GT(errors, 500u);  // the error paths are exercised too
  EXPECT_GT(values, 20000u);
  std::printf("kernel %s (stage 1 %s): %zu records, %zu lines with errors, about %zu values; the walks of", active.name,
              active.stage1(), ref_records, errors, values);
  for (const KernelOps* k : kernels) {
    if (k == &active) continue;
    std::printf(" %s", k->name);
    size_t n = 0;
    std::vector<std::string> got = run_corpus(*k, inputs, n);
    EXPECT_EQ(n, ref_records) << k->name;
    EXPECT_EQ(compare_runs(ref, got, std::string("walk of ") + k->name + " vs " + active.name, false), 0u);
  }
  std::printf(" agree with it\n");
}

// The child of BothStagesAcrossProcesses (ForcedKernelEnvironment calls it): the corpus with the process's kernel.
int dump_corpus(const char* path) {
  bool have_shared = false;
  std::vector<CorpusInput> inputs = corpus(have_shared);
  const KernelOps& k = detail::active_kernel();
  size_t records = 0;
  std::vector<std::string> lines = run_corpus(k, inputs, records);
  std::ofstream out(path, std::ios::binary);
  out << "kernel " << k.name << " stage1 " << k.stage1() << "\n";
  for (const auto& l : lines) out << l << "\n";
  out.close();
  return out ? 0 : 1;
}

// Both stages: each kernel in a process of its own (BRAID_SIMD_KERNEL), since libsimdjson's stage 1 is
// process-wide. Every kernel agrees on valid input. On malformed input the SIMD kernels agree with each other, but
// simdjson's scalar `fallback` stage 1 validates less (UTF-8 outside the strings it reads, escapes) and classifies
// some errors differently, so there only valid input is compared.
TEST(KernelEquivalence, BothStagesAcrossProcesses) {
  if (std::getenv("BRAID_SIMD_KERNEL")) GTEST_SKIP() << "it sets BRAID_SIMD_KERNEL itself: run without it";
  std::vector<const KernelOps*> kernels = runnable_kernels();
  std::vector<std::pair<const KernelOps*, std::vector<std::string>>> runs;
  for (const KernelOps* k : kernels) {
    std::string out = temp_file("dump");
    ProcessResult r = run_process("/proc/self/exe", k->name, {"BRAID_KERNEL_DUMP=" + out});
    ASSERT_EQ(r.exit_code, 0) << k->name << ": " << r.out;
    std::vector<std::string> lines;
    {
      std::ifstream in(out, std::ios::binary);
      for (std::string l; std::getline(in, l);) lines.push_back(l);
    }
    fs::remove(out);
    ASSERT_FALSE(lines.empty()) << k->name;
    EXPECT_EQ(lines.front(), std::string("kernel ") + k->name + " stage1 " + k->simdjson);
    lines.erase(lines.begin());
    runs.emplace_back(k, std::move(lines));
  }
  for (size_t i = 1; i < runs.size(); ++i) {
    bool fallback =
        std::string_view(runs[0].first->name) == "fallback" || std::string_view(runs[i].first->name) == "fallback";
    std::string what = std::string(runs[i].first->name) + " vs " + runs[0].first->name;
    EXPECT_EQ(compare_runs(runs[0].second, runs[i].second, what, fallback), 0u) << what;
  }
}

TEST(KernelEquivalence, OverrideAppliesToNewObjectsOnThisThreadOnly) {
  std::vector<const KernelOps*> kernels = runnable_kernels();
  for (const KernelOps* k : kernels) {
    detail::ScopedKernelOverride use(*k);
    EXPECT_EQ(&detail::kernel_for_new_object(), k);
    FieldExtractor ex(paths({"a"}));
    ASSERT_TRUE(ex.extract_json(R"({"a":"x"})")) << k->name;
    EXPECT_EQ(ex[0].str(), "x");
  }
  EXPECT_EQ(&detail::kernel_for_new_object(), &detail::active_kernel());
}

}  // namespace
}  // namespace braid::rt::testing
