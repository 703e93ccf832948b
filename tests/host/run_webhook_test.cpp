// `braid run --webhook` over the demo against a loopback receiver (webhook_receiver.h) that fails some requests
// (5xx, 429 with Retry-After, a dropped connection, a response slower than the timeout, a permanent 4xx) or is
// down: every alert id arrives at least once with the right body and headers; dead letters; exit 3; the spool
// across SIGKILL and restarts with --state (docs/operations.md, "Webhook").
#include <sys/wait.h>

#include <csignal>
#include <map>

#include "host/webhook.h"
#include "webhook_receiver.h"

namespace braid::host {
namespace {

using namespace test;

std::string q(const std::string& s) { return "'" + s + "'"; }

// braid run over the demo with the shipped rules; returns the exit code (-signal when killed).
int braid_run(const std::string& args, const Work& w, const std::string& tag, const std::string& env = "") {
  std::string cmd = env + " " + std::string(BRAID_EXE) + " run --engine interp --rules " +
                    q(std::string(BRAID_SOURCE_DIR) + "/rules") + " " + args + " " +
                    q(std::string(BRAID_SOURCE_DIR) + "/examples/demo.ndjson") + " > " + q(w / (tag + ".out")) +
                    " 2> " + q(w / (tag + ".err"));
  int rc = std::system(cmd.c_str());
  if (WIFSIGNALED(rc)) return -WTERMSIG(rc);
  // std::system runs sh -c: a child killed by a signal is reported by the shell as 128 + signal.
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The alerts of an uninterrupted run without a webhook: id -> NDJSON line, and the ids in order.
struct Reference {
  std::map<std::string, std::string> line;
  std::vector<std::string> order;
};
const Reference& reference() {
  static Reference ref = [] {
    Work w("ref");
    EXPECT_EQ(braid_run("-o " + q(w / "alerts.ndjson"), w, "ref"), 0) << slurp(w / "ref.err");
    Reference r;
    for (const std::string& l : lines_of(slurp(w / "alerts.ndjson"))) {
      std::string id = json::parse(l)["id"];
      r.line[id] = l;
      r.order.push_back(id);
    }
    return r;
  }();
  return ref;
}

const char* kFast = " --webhook-min-backoff 50ms --webhook-max-backoff 2s --webhook-timeout 1s";

// --- braid run --webhook ---

// Every alert id of the demo arrives, in order, with its NDJSON line as the body and the headers, through 503s, a
// 429 with Retry-After, a dropped connection and a response slower than the timeout.
TEST(RunWebhook, DeliversEveryAlertThroughFailures) {
  const Reference& ref = reference();
  ASSERT_GT(ref.order.size(), 5u);
  Work w("flaky");
  Receiver rx([](size_t n, const Request&) -> Plan {
    switch (n) {
      case 0: return {Act::Status, 503};
      case 1: return {Act::RetryAfter, 429};
      case 2: return {Act::Drop, 0};
      case 3: return {Act::Slow, 0};
      default: return n % 4 == 0 ? Plan{Act::Status, 500} : Plan{};
    }
  });
  std::ofstream(w / "headers") << "# a comment\nX-Team: detection\n";
  int rc = braid_run(std::string("--webhook ") + rx.url() + " --webhook-header 'Authorization: Bearer s3cret-token'" +
                         " --webhook-header-file " + q(w / "headers") + kFast +
                         " --stats-format json -o " + q(w / "alerts.ndjson"),
                     w, "run");
  std::string err = slurp(w / "run.err");
  ASSERT_EQ(rc, 0) << err;
  EXPECT_EQ(err.find("s3cret-token"), std::string::npos) << "a header value was printed: " << err;
  EXPECT_NE(err.find("retrying"), std::string::npos) << err;
  // -o still gets every alert; each body is its line there, byte for byte.
  std::map<std::string, std::string> written;
  for (const std::string& l : lines_of(slurp(w / "alerts.ndjson"))) written[json::parse(l)["id"]] = l;
  EXPECT_EQ(written.size(), ref.order.size());

  std::vector<std::string> in_order;
  for (const Request& r : rx.requests()) {
    ASSERT_TRUE(ref.line.count(r.alert_id)) << "unknown id " << r.alert_id;
    EXPECT_EQ(r.body, written[r.alert_id]);
    EXPECT_EQ(r.idempotency_key, r.alert_id);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.authorization, "Bearer s3cret-token");
    EXPECT_EQ(r.extra, "detection");
    EXPECT_EQ(r.user_agent.rfind("braid/", 0), 0u) << r.user_agent;
    if (r.delivered) in_order.push_back(r.alert_id);
  }
  EXPECT_EQ(in_order, ref.order) << "every alert delivered once, in order";
  std::vector<Request> got = rx.requests();
  ASSERT_GE(got.size(), 3u);
  EXPECT_GE(got[2].at - got[1].at, 900ms) << "Retry-After: 1 not honoured";

  json stats = json::parse(lines_of(err).back());
  const json& h = stats["webhook"];
  EXPECT_EQ(h["sent"], ref.order.size());
  EXPECT_EQ(h["delivered"], ref.order.size());
  EXPECT_GE(h["retries"].get<uint64_t>(), 5u);
  EXPECT_EQ(h["failed"], 0);
  EXPECT_EQ(h["queued"], 0);
}

// A 4xx is permanent: the alert goes to the dead-letter file (exit 0); without one it is reported, exit 3.
TEST(RunWebhook, PermanentFailureGoesToTheDeadLetterFile) {
  const Reference& ref = reference();
  Work w("dead");
  const std::string refused = ref.order[1];
  auto plan = [&](size_t, const Request& r) { return r.alert_id == refused ? Plan{Act::Status, 422} : Plan{}; };
  {
    Receiver rx(plan);
    int rc = braid_run("--webhook " + rx.url() + kFast + " --webhook-dead-letter " + q(w / "dead.ndjson") +
                           " --stats-format json",
                       w, "dl");
    std::string err = slurp(w / "dl.err");
    ASSERT_EQ(rc, 0) << err;
    EXPECT_NE(err.find("alert " + refused + " refused: HTTP 422 (bad alert)"), std::string::npos) << err;
    std::vector<std::string> dead = lines_of(slurp(w / "dead.ndjson"));
    ASSERT_EQ(dead.size(), 1u);
    json d = json::parse(dead[0]);
    EXPECT_EQ(d["status"], 422);
    EXPECT_EQ(d["response"], "bad alert");
    EXPECT_EQ(stable(d["alert"].dump()), stable(ref.line.at(refused)));
    json h = json::parse(lines_of(err).back())["webhook"];
    EXPECT_EQ(h["failed"], 1);
    EXPECT_EQ(h["dead_lettered"], 1);
    EXPECT_EQ(h["delivered"], ref.order.size() - 1);
    EXPECT_EQ(rx.delivered_ids().size(), ref.order.size() - 1);
    EXPECT_EQ(rx.delivered_ids().count(refused), 0u);
  }
  {
    Receiver rx(plan);
    int rc = braid_run("--webhook " + rx.url() + kFast, w, "nodl");
    std::string err = slurp(w / "nodl.err");
    EXPECT_EQ(rc, 3) << err;
    EXPECT_NE(err.find("1 alert was not delivered"), std::string::npos) << err;
    EXPECT_NE(err.find("ids: " + refused), std::string::npos) << err;
  }
}

// Without --state, a receiver that stays down: the run waits --webhook-drain-timeout, names what it could not
// deliver and exits 3; stdout still has every alert.
TEST(RunWebhook, ReceiverDownWithoutStateExits3) {
  const Reference& ref = reference();
  Work w("down");
  int port = free_port();
  auto t0 = Clock::now();
  int rc = braid_run("--webhook http://127.0.0.1:" + std::to_string(port) + "/hook" + kFast +
                         " --webhook-drain-timeout 1s",
                     w, "down");
  std::string err = slurp(w / "down.err");
  EXPECT_EQ(rc, 3) << err;
  EXPECT_LT(Clock::now() - t0, 60s);
  EXPECT_NE(err.find(std::to_string(ref.order.size()) + " alerts were not delivered"), std::string::npos) << err;
  EXPECT_NE(err.find("cannot connect"), std::string::npos) << err;
  EXPECT_EQ(lines_of(slurp(w / "down.out")).size(), ref.order.size());
}

TEST(RunWebhook, BadFlagsExit2BeforeAnythingRuns) {
  Work w("flags");
  for (const std::string& args :
       {std::string("--webhook ftp://host/"), std::string("--webhook http://127.0.0.1:1/ --webhook-header 'Bad'"),
        std::string("--webhook http://127.0.0.1:1/ --webhook-timeout soon"),
        std::string("--webhook http://127.0.0.1:1/ --webhook-ca-file /etc/hostname"),
        std::string("--webhook-header 'X-A: b'"),
        std::string("--webhook http://127.0.0.1:1/ --webhook-header-file /nonexistent"),
        std::string("--webhook http://127.0.0.1:1/ --webhook-min-backoff 2s --webhook-max-backoff 1s"),
        std::string("--webhook http://127.0.0.1:1/ --webhook-dead-letter /nonexistent/dir/file")}) {
    EXPECT_EQ(braid_run(args, w, "flags"), 2) << args << ": " << slurp(w / "flags.err");
    EXPECT_NE(slurp(w / "flags.err").find("webhook"), std::string::npos) << slurp(w / "flags.err");
  }
}

// At-least-once across SIGKILL: the receiver is down, the run is killed after a checkpoint; restarted with the
// receiver up, every alert id of an uninterrupted run is delivered.
TEST(RunWebhook, KilledWhileReceiverDownThenRestartedDeliversEverything) {
  const Reference& ref = reference();
  Work w("kill");
  const int port = free_port();
  const std::string common = "--webhook http://127.0.0.1:" + std::to_string(port) + "/hook" + kFast +
                             " --state " + q(w / "state") + " --checkpoint-interval 0 --close-at-end -o " + q(w / "alerts.ndjson");
  // 379 records: a checkpoint at record 256, then killed at 300 with alerts spooled after it.
  int rc = braid_run(common, w, "killed", "BRAID_FAULT_KILL_AFTER_RECORDS=300");
  EXPECT_TRUE(rc == -SIGKILL || rc == 128 + SIGKILL) << rc << ": " << slurp(w / "killed.err");
  ASSERT_GT(spool_pending(w / "state/webhook.spool"), 0u);
  Receiver rx([](size_t, const Request&) { return Plan{}; }, port);
  rc = braid_run(common + " --stats-format json", w, "restart");
  std::string err = slurp(w / "restart.err");
  ASSERT_EQ(rc, 0) << err;
  EXPECT_NE(err.find("from the last run queued again"), std::string::npos) << err;
  std::multiset<std::string> got = rx.delivered_ids();
  for (const std::string& id : ref.order) EXPECT_GE(got.count(id), 1u) << id << " never delivered";
  for (const std::string& id : got) EXPECT_TRUE(ref.line.count(id)) << id;
  EXPECT_EQ(spool_pending(w / "state/webhook.spool"), 0u);
  for (const Request& r : rx.requests()) EXPECT_EQ(stable(r.body), stable(ref.line.at(r.alert_id)));
}

// With --state, a run that ends while the receiver is down exits 0: the alerts stay in the spool. A run without
// --webhook says so; the next run with it delivers them.
TEST(RunWebhook, ReceiverDownWithStateKeepsTheSpool) {
  const Reference& ref = reference();
  Work w("keep");
  const int port = free_port();
  const std::string hook = "--webhook http://127.0.0.1:" + std::to_string(port) + "/hook" + kFast;
  const std::string state = " --state " + q(w / "state") + " --close-at-end -o " + q(w / "alerts.ndjson");
  int rc = braid_run(hook + " --webhook-drain-timeout 500ms" + state, w, "down");
  std::string err = slurp(w / "down.err");
  ASSERT_EQ(rc, 0) << err;
  EXPECT_NE(err.find(std::to_string(ref.order.size()) + " alerts not delivered yet: kept in the spool"),
            std::string::npos)
      << err;
  EXPECT_EQ(spool_pending(w / "state/webhook.spool"), ref.order.size());
  rc = braid_run(state, w, "nohook");
  EXPECT_EQ(rc, 0) << slurp(w / "nohook.err");
  EXPECT_NE(slurp(w / "nohook.err").find("not yet delivered to a webhook"), std::string::npos) << slurp(w / "nohook.err");
  Receiver rx([](size_t, const Request&) { return Plan{}; }, port);
  rc = braid_run(hook + state, w, "up");
  ASSERT_EQ(rc, 0) << slurp(w / "up.err");
  std::vector<std::string> in_order;
  for (const Request& r : rx.requests())
    if (r.delivered) in_order.push_back(r.alert_id);
  EXPECT_EQ(in_order, ref.order);
  EXPECT_EQ(spool_pending(w / "state/webhook.spool"), 0u);
}

}  // namespace
}  // namespace braid::host
