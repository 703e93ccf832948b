// The engine's steady state allocates nothing per event (issue 9): not for events that match no rule, and not for
// the bookkeeping of events that do (sessions opening and closing, rule state, mints, links, chains retiring).
// Memory stays flat in the number of credentials, and an open session costs a bounded number of heap bytes.
//
// Heap allocations are counted with replaced operator new, or, under AddressSanitizer (the test preset), with the
// sanitizer's malloc hook, which sees every allocation including operator new's. The streams are built before
// counting starts; the engine runs the shipped rules, with the reference interpreter and with the JIT.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <malloc.h>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codegen/codegen.h"
#include "driver/driver.h"
#include "engine/engine.h"
#include "jit/jit.h"

static std::atomic<uint64_t> g_allocs{0};
// BRAID_ALLOC_TRAP=1: stop at the first counted allocation (run under gdb to see who allocates).
static std::atomic<bool> g_trap{false};

#if defined(__SANITIZE_ADDRESS__)
// From <sanitizer/allocator_interface.h>, which GCC 12 does not install; libasan defines it.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, size_t),
                                                         void (*free_hook)(const volatile void*));
extern "C" size_t __sanitizer_get_current_allocated_bytes();
namespace {
void on_malloc(const volatile void*, size_t) { g_allocs.fetch_add(1, std::memory_order_relaxed); }
void on_free(const volatile void*) {}
const int kHooked = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace
// Heap bytes in use (as the program asked for them).
static int64_t heap_bytes() { return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes()); }
#else
static std::atomic<int64_t> g_bytes{0};
static void* counted(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) {
    g_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
static void uncounted(void* p) {
  if (p) g_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
void* operator new(size_t n) {
  if (g_trap.load(std::memory_order_relaxed)) __builtin_trap();
  return counted(n);
}
void* operator new[](size_t n) { return counted(n); }
void operator delete(void* p) noexcept { uncounted(p); }
void operator delete(void* p, size_t) noexcept { uncounted(p); }
void operator delete[](void* p) noexcept { uncounted(p); }
void operator delete[](void* p, size_t) noexcept { uncounted(p); }
// Heap bytes in use through operator new (malloc's usable sizes: its rounding counts, its headers do not).
static int64_t heap_bytes() { return g_bytes.load(std::memory_order_relaxed); }
#endif

namespace braid::rt::alloctest {
namespace {

std::string rfc3339(int64_t secs) {
  std::time_t t = secs;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

constexpr int64_t kStart = 1735689600;  // 2025-01-01T00:00:00Z

// A CloudTrail record. `key` is the access key id; `resp` the responseElements JSON (or null).
std::string ct(int64_t t, const std::string& name, const std::string& source, const std::string& arn,
               const std::string& key, uint64_t id, const std::string& resp = "null",
               const std::string& req = "null") {
  return fmt::format(
      R"({{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:app","arn":"{}",)"
      R"("accountId":"111122223333","accessKeyId":"{}"}},"eventTime":"{}","eventSource":"{}","eventName":"{}",)"
      R"("awsRegion":"us-east-1","sourceIPAddress":"10.1.2.3","userAgent":"aws-sdk-go/1.44.0",)"
      R"("requestParameters":{},"responseElements":{},"requestID":"r{}","eventID":"e{:012d}","readOnly":true,)"
      R"("eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333"}})",
      arn, key, rfc3339(t), source, name, req, resp, id, id);
}

struct Stream {
  std::vector<std::string> warm, measured;
};

// One credential calling `api` every 10 s, `warm` events of warm-up, then `total - warm` counted.
Stream one_credential_stream(int total, int warm, const std::string& api, const std::string& arn,
                             const std::string& key) {
  Stream s;
  uint64_t id = 0;
  for (int i = 0; i < total; ++i)
    (i < warm ? s.warm : s.measured).push_back(ct(kStart + i * 10, api, "s3.amazonaws.com", arn, key, ++id));
  return s;
}

// One credential calling an API no shipped rule looks at: its session reaches the 12 h maximum, closes and reopens
// several times during the warm-up (28 h) and once in the counted 14 h.
Stream quiet_stream() {
  return one_credential_stream(15000, 10000, "GetObject", "arn:aws:sts::111122223333:assumed-role/app/worker",
                               "ASIAQUIETQUIETQUIET1");
}

// A role session that every 5 minutes assumes a role (minting a credential), and each minted credential makes
// a few calls (steps of session and chain rules match), then goes quiet: sessions open and close, chains grow,
// mint records expire after the retention, and chains retire. Days of it warm the pools; the next day is counted.
// The assumed role's session name repeats, as a CI job's does: distinct sets (chain.identities and the like)
// grow with new values, by doubling, which is growth of what the state holds rather than cost per event.
Stream churn_stream() {
  Stream s;
  uint64_t id = 0;
  const std::string parent_arn = "arn:aws:sts::111122223333:assumed-role/deployer/ci";
  const int per_day = 24 * 12;
  for (int i = 0; i < 5 * per_day; ++i) {
    int64_t t = kStart + int64_t{i} * 300;
    std::string minted = fmt::format("ASIAMINTED{:010d}", i);
    std::vector<std::string>& out = i < 4 * per_day ? s.warm : s.measured;
    out.push_back(ct(t, "AssumeRole", "sts.amazonaws.com", parent_arn, "ASIAPARENTPARENT0001", ++id,
                     fmt::format(R"({{"credentials":{{"accessKeyId":"{}","sessionToken":"x","expiration":"{}"}},)"
                                 R"("assumedRoleUser":{{"arn":"arn:aws:sts::111122223333:assumed-role/app/s{:06d}"}}}})",
                                 minted, rfc3339(t + 3600), i % 4),
                     R"({"roleArn":"arn:aws:iam::111122223333:role/app","roleSessionName":"s"})"));
    std::string child_arn = fmt::format("arn:aws:sts::111122223333:assumed-role/app/s{:06d}", i % 4);
    for (int k = 0; k < 3; ++k)
      out.push_back(ct(t + 10 + k * 20, k == 0 ? "GetCallerIdentity" : "ListBuckets",
                       k == 0 ? "sts.amazonaws.com" : "s3.amazonaws.com", child_arn, minted, ++id));
  }
  return s;
}

// One credential calling an API only suppress.braid's rule looks at, for 2 h 50 min: the rule fires on
// every event, alerts at 0, 1 h and 2 h, and every firing in the counted last 20 min is suppressed. (Events are
// released 15 min of event time after they arrive, CloudTrail's lateness: the 2 h alert comes at 2 h 15 min.)
Stream suppressed_stream() {
  return one_credential_stream(1020, 900, "PutBraidAllocMarker", "arn:aws:sts::111122223333:assumed-role/app/marker",
                               "ASIAMARKERMARKER0001");
}

struct Compiled {
  std::unique_ptr<Compilation> comp;
  std::unique_ptr<JitProgram> jit;
};

// The program of `paths`, and its object code (no JIT cache: the test must not depend on one).
Compiled compile_with_jit(const std::vector<std::string>& paths) {
  Compiled x;
  x.comp = compile(paths);
  if (!x.comp->program) return x;
  codegen::CodegenResult cg = codegen::lower_program(*x.comp->program);
  if (!cg.ok()) return x;
  JitOptions o;
  o.use_cache = false;
  std::string error;
  x.jit = JitProgram::load(*x.comp->program, cg.bitcode, o, error);
  return x;
}

Compiled& shipped() {
  // The shipped rules, rules that give CloudTrail's `userAgent` a literal prefilter (prefilter.braid), and one
  // whose alerts the suppression stream suppresses (suppress.braid).
  static Compiled c = compile_with_jit({std::string(BRAID_SOURCE_DIR) + "/rules",
                                        std::string(BRAID_SOURCE_DIR) + "/tests/engine_alloc/prefilter.braid",
                                        std::string(BRAID_SOURCE_DIR) + "/tests/engine_alloc/suppress.braid"});
  return c;
}

struct Count {
  uint64_t allocs = 0, alerts_warm = 0, alerts_measured = 0, events = 0;
  // What happened in the counted window (so that a pass means the bookkeeping really ran there).
  uint64_t sessions_opened = 0, sessions_closed = 0, mints = 0, mints_evicted = 0, chains_retired = 0,
           chain_links = 0, state_evaluations = 0, prefilter_scans = 0, suppressed = 0;
};

uint64_t state_evaluations(const EngineStats& st, const ir::Program& p) {
  uint64_t n = 0;
  for (const RuleStats& r : st.rules)
    for (const ir::Rule& rule : p.rules)
      if (rule.id == r.id && rule.scope != ir::Scope::Event) n += r.evaluations;
  return n;
}

Count run(const Stream& s, bool use_jit, uint32_t alert_events = 0) {
  Compiled& c = shipped();
  EngineOptions o;
  o.processing_time = 0;
  o.alert_events = alert_events;
  o.retired_chains_kept = 1;  // the summaries fill up during the warm-up (each new one allocates its strings)
  if (use_jit) o.matcher = c.jit->make_matcher();
  Engine e(*c.comp->program, o);
  uint64_t alerts = 0;
  e.set_sink([&](const Alert&) { ++alerts; });
  for (const std::string& j : s.warm) e.process_json(j);
  Count n;
  n.alerts_warm = alerts;
  EngineStats st0 = e.stats();
  uint64_t ev0 = state_evaluations(st0, *c.comp->program);
  uint64_t before = g_allocs.load();
  g_trap = std::getenv("BRAID_ALLOC_TRAP") != nullptr;
  for (const std::string& j : s.measured) e.process_json(j);
  g_trap = false;
  n.allocs = g_allocs.load() - before;
  const EngineStats& st1 = e.stats();
  n.sessions_opened = st1.sessions_opened - st0.sessions_opened;
  n.sessions_closed = st1.sessions_closed - st0.sessions_closed;
  n.mints = st1.mints_recorded - st0.mints_recorded;
  n.mints_evicted = st1.mints_evicted - st0.mints_evicted;
  n.chains_retired = st1.chains_retired - st0.chains_retired;
  n.chain_links = st1.chain_links - st0.chain_links;
  n.state_evaluations = state_evaluations(st1, *c.comp->program) - ev0;
  n.prefilter_scans = st1.prefilter_scans - st0.prefilter_scans;
  n.suppressed = st1.suppressed - st0.suppressed;
  n.alerts_measured = alerts - n.alerts_warm;
  n.events = s.measured.size();
  e.finish();
  return n;
}

class EngineAllocations : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(shipped().comp->program) << "the shipped rules do not compile";
    if (GetParam()) {
      ASSERT_TRUE(shipped().jit) << "the shipped rules do not JIT-compile";
    }
  }
};

TEST_P(EngineAllocations, NoneForEventsThatMatchNoRule) {
  Count n = run(quiet_stream(), GetParam());
  ASSERT_EQ(n.alerts_measured, 0u) << "the quiet stream must not raise alerts (alerts allocate)";
  EXPECT_EQ(n.sessions_closed, 1u);  // the 12 h maximum passes once in the counted window
  if (GetParam()) {
    EXPECT_GE(n.prefilter_scans, n.events);  // every event's userAgent was scanned
  }
  EXPECT_EQ(n.allocs, 0u) << n.allocs << " allocations over " << n.events << " warm events";
}

TEST_P(EngineAllocations, NoneForSessionChainAndMintBookkeeping) {
  Stream s = churn_stream();
  Count n = run(s, GetParam());
  ASSERT_EQ(n.alerts_measured, 0u) << "the churn stream must not raise alerts in the measured day (alerts allocate)";
  // The counted day really opens, closes, links, mints, evicts, retires and updates rule state.
  EXPECT_GT(n.sessions_opened, 200u);
  EXPECT_GT(n.sessions_closed, 200u);
  EXPECT_GT(n.chain_links, 200u);
  EXPECT_GT(n.mints, 200u);
  EXPECT_GT(n.mints_evicted, 200u);
  EXPECT_GT(n.chains_retired, 0u);
  EXPECT_GT(n.state_evaluations, 200u);
  EXPECT_EQ(n.allocs, 0u) << n.allocs << " allocations over " << n.events << " warm events";
}

// With raw events in alerts (braid run --alert-events), the record texts are copied into the batches and the
// steps' first events into their reused strings: still no allocation once warm.
TEST_P(EngineAllocations, NoneWithAlertEvents) {
  Stream s = churn_stream();
  Count n = run(s, GetParam(), 2);
  ASSERT_EQ(n.alerts_measured, 0u);
  EXPECT_GT(n.sessions_opened, 200u);
  EXPECT_GT(n.state_evaluations, 200u);
  EXPECT_EQ(n.allocs, 0u) << n.allocs << " allocations over " << n.events << " warm events";
}

// A suppressed alert is decided (its suppression key evaluated and looked up) without allocating.
TEST_P(EngineAllocations, NoneForSuppressedAlerts) {
  Count n = run(suppressed_stream(), GetParam());
  EXPECT_EQ(n.alerts_warm, 3u);  // at 0, 1 h and 2 h
  ASSERT_EQ(n.alerts_measured, 0u);
  EXPECT_EQ(n.suppressed, n.events);  // every counted event fired, and was suppressed
  EXPECT_EQ(n.allocs, 0u) << n.allocs << " allocations over " << n.events << " warm events";
}

// The counter must see the engine's allocations, or the two tests above prove nothing: a cold engine allocates.
TEST_P(EngineAllocations, CounterSeesTheEngine) {
  Stream s = churn_stream();
  Compiled& c = shipped();
  EngineOptions o;
  if (GetParam()) o.matcher = c.jit->make_matcher();
  Engine e(*c.comp->program, o);
  uint64_t before = g_allocs.load();
  for (size_t i = 0; i < 200; ++i) e.process_json(s.warm[i]);
  EXPECT_GT(g_allocs.load() - before, 0u);
}

// Memory is flat in the number of credentials: a stream of distinct credentials, one event each, 0.9 s apart (the
// memory benchmark's stream, scaled down), keeps about the sessions of one session gap in memory, whatever its
// length. Checked by structure (live sessions and chains) and by resident memory between a quarter and the end of
// the stream. The events are formatted into one reused buffer, so the test itself adds nothing.
size_t rss_kb() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * 4 : 0;
}

TEST_P(EngineAllocations, MemoryFlatInDistinctCredentials) {
  Compiled& c = shipped();
  EngineOptions o;
  o.processing_time = 0;
  if (GetParam()) o.matcher = c.jit->make_matcher();
  Engine e(*c.comp->program, o);
  uint64_t alerts = 0;
  e.set_sink([&](const Alert&) { ++alerts; });
  std::string ev;
  ev.reserve(2048);
  char ts[32];
  const int n = 120000;
  size_t rss_quarter = 0;
  uint64_t live_quarter = 0;
  uint64_t max_live = 0;
  for (int i = 0; i < n; ++i) {
    int64_t ns = int64_t{i} * 900;  // ms
    std::time_t t = kStart + ns / 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    ev.clear();
    fmt::format_to(std::back_inserter(ev),
                   R"({{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROA:{0}",)"
                   R"("arn":"arn:aws:sts::111122223333:assumed-role/app-{0}/s-{0}","accountId":"111122223333",)"
                   R"("accessKeyId":"ASIA{0:016d}"}},"eventTime":"{1}.{2:03d}Z","eventSource":"s3.amazonaws.com",)"
                   R"("eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1",)"
                   R"("requestParameters":{{"bucketName":"data","key":"k{0}"}},"responseElements":null,)"
                   R"("eventID":"e{0}","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}})",
                   i, ts, ns % 1000);
    e.process_json(ev);
    if (i % 1000 == 999) max_live = std::max<uint64_t>(max_live, e.stats().sessions_live);
    if (i == n / 4) {
      rss_quarter = rss_kb();
      live_quarter = e.stats().sessions_live;
    }
  }
  const EngineStats& st = e.stats();
  size_t rss_end = rss_kb();
  EXPECT_EQ(alerts, 0u);
  EXPECT_GT(st.sessions_opened, static_cast<uint64_t>(n) - 1100);  // the last 15 min are still held
  // One session per credential; a session closes 30 min (2,000 events) after its event, and its chain (no mint
  // record) retires with it. The lateness (15 min) holds about 1,000 more events before they open sessions.
  EXPECT_LT(max_live, 4000u);
  EXPECT_LT(st.chains_live, 4000u);
  EXPECT_GT(st.chains_retired, static_cast<uint64_t>(n) - 4000);
  EXPECT_LT(st.sessions_live, live_quarter + 500) << "sessions in memory grow with the stream";
  ASSERT_GT(rss_quarter, 0u);
  EXPECT_LT(static_cast<double>(rss_end), 1.15 * static_cast<double>(rss_quarter) + 4096)
      << "resident memory grew from " << rss_quarter << " KB at a quarter of the stream to " << rss_end
      << " KB at its end";
  e.finish();
}

// What an open session costs (issue 9, "flat session state"): its table entry, its keys, its share of the
// session tables and pools, the chain it roots, and the rule state and distinct sets its rules give it (none with
// quiet_sessions.braid, whose steps these events never match). Measured as a difference of heap bytes in use
// between two runs of the same shape, so that held events, batches and the program cancel out: 60,000 events
// 10 ms apart, each of its own credential and identity (60,000 open sessions, each the root of a chain), against
// the same events all of one credential (one session). A last event 26 min later releases the held events (15 min
// of lateness) before any session's 30 min gap has passed, so all of them are open.
Compiled& quiet_sessions() {
  static Compiled c = compile_with_jit({std::string(BRAID_SOURCE_DIR) + "/tests/engine_alloc/quiet_sessions.braid"});
  return c;
}

int64_t heap_after_open_sessions(Compiled& c, bool distinct, bool use_jit, uint64_t& open) {
  EngineOptions o;
  o.processing_time = 0;
  if (use_jit) o.matcher = c.jit->make_matcher();
  const int64_t before = heap_bytes();
  int64_t grown = 0;
  {
    Engine e(*c.comp->program, o);
    uint64_t alerts = 0;
    e.set_sink([&](const Alert&) { ++alerts; });
    std::string ev;
    ev.reserve(2048);
    char ts[32];
    const int n = 60000;
    for (int i = 0; i <= n; ++i) {
      int64_t ms = i < n ? int64_t{i} * 10 : int64_t{26} * 60 * 1000;
      std::time_t t = kStart + ms / 1000;
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
      int k = distinct ? i : 0;  // (the same length either way: the held events' texts cost the same)
      ev.clear();
      fmt::format_to(std::back_inserter(ev),
                     R"({{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROA:{0:06d}",)"
                     R"("arn":"arn:aws:sts::111122223333:assumed-role/app-{0:06d}/i-{0:06d}",)"
                     R"("accountId":"111122223333","accessKeyId":"ASIA{0:016d}"}},"eventTime":"{1}.{2:03d}Z",)"
                     R"("eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1",)"
                     R"("sourceIPAddress":"10.0.0.1","requestParameters":{{"bucketName":"data","key":"k{3:06d}"}},)"
                     R"("responseElements":null,"eventID":"e{3:06d}","readOnly":true,"eventType":"AwsApiCall",)"
                     R"("recipientAccountId":"111122223333"}})",
                     k, ts, ms % 1000, i);
      e.process_json(ev);
    }
    EXPECT_EQ(alerts, 0u);
    open = e.stats().sessions_live;
    grown = heap_bytes() - before;
  }
  return grown;
}

double bytes_per_open_session(Compiled& c, bool use_jit) {
  uint64_t open_many = 0, open_one = 0;
  int64_t many = heap_after_open_sessions(c, true, use_jit, open_many);
  int64_t one = heap_after_open_sessions(c, false, use_jit, open_one);
  EXPECT_EQ(open_many, 60000u) << "every session must still be open";
  EXPECT_EQ(open_one, 1u);
  return static_cast<double>(many - one) / static_cast<double>(open_many - open_one);
}

TEST_P(EngineAllocations, OpenSessionWithoutRuleState) {
  ASSERT_TRUE(quiet_sessions().comp->program) << "quiet_sessions.braid does not compile";
  ASSERT_TRUE(quiet_sessions().jit) << "quiet_sessions.braid does not JIT-compile";
  double per = bytes_per_open_session(quiet_sessions(), GetParam());
  std::printf("an open session that no rule touched, with the chain it roots: %.0f bytes of heap\n", per);
  // Issue 9 asks for at most 256 bytes for the session's entry and keys alone; docs/performance.md says how far
  // this is and what would close it. The bound keeps what has been reached (1,049 bytes before session 14, 405
  // after it).
  EXPECT_LE(per, 448.0);
}

// The same sessions under the shipped rules: rules whose steps match every S3 read keep state in each session,
// and the rules that read session.source_ips, chain.identities and chain.accounts keep those sets.
TEST_P(EngineAllocations, OpenSessionUnderTheShippedRules) {
  double per = bytes_per_open_session(shipped(), GetParam());
  std::printf("an open session under the shipped rules, with the chain it roots: %.0f bytes of heap\n", per);
  EXPECT_LE(per, 3072.0);  // (4,225 bytes before session 14, 2,797 after it)
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineAllocations, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "jit" : "interp"; });

}  // namespace
}  // namespace braid::rt::alloctest
