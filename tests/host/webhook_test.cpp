// runtime/host/webhook.h in process: URL and header rules, back-pressure with a stuck receiver, the spool across
// sinks, a stop signal while the queue is full, compaction (docs/operations.md, "Webhook"). `braid run --webhook`
// is tested in run_webhook_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>

#include "host/webhook.h"
#include "webhook_receiver.h"

namespace braid::host {
namespace {

using namespace test;

// --- Unit tests of the parsing ---

TEST(Webhook, ParsesUrls) {
  WebhookUrl u = parse_webhook_url("http://127.0.0.1:8080/hook?x=1");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.target, "/hook?x=1");
  EXPECT_EQ(u.redacted(), "http://127.0.0.1:8080");
  u = parse_webhook_url("HTTPS://user:p%40ss@alerts.example.com");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.user, "user");
  EXPECT_EQ(u.password, "p@ss");
  EXPECT_EQ(u.redacted(), "https://alerts.example.com:443");
  u = parse_webhook_url("http://[::1]:9000?token=abc");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.target, "/?token=abc");
  EXPECT_EQ(u.redacted(), "http://[::1]:9000");
  for (const char* bad : {"", "127.0.0.1:80/hook", "ftp://host/", "http://", "http://host:0/", "http://host:99999/",
                          "http://host:/", "http://ho st/", "http://host/a b", "http://host/#frag", "http://[::1/",
                          "http://host:8o/", "http://ho$t/"}) {
    EXPECT_THROW(parse_webhook_url(bad), WebhookError) << bad;
  }
  // The message never repeats the URL (its path may be a token).
  try {
    parse_webhook_url("ftp://host/SECRET");
  } catch (const WebhookError& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

TEST(Webhook, ParsesHeaders) {
  auto h = parse_webhook_header("Authorization:  Bearer abc ");
  EXPECT_EQ(h.first, "Authorization");
  EXPECT_EQ(h.second, "Bearer abc");
  for (const char* bad : {"NoColon", ": value", "Bad Name: v", "X-Ok: a\nb", "content-type: text/plain",
                          "Idempotency-Key: 1", "X-Braid-Alert-Id: 1", "Host: h", "Content-Length: 3"}) {
    EXPECT_THROW(parse_webhook_header(bad), WebhookError) << bad;
  }
  try {
    parse_webhook_header("X-Token: SECRET\r");
    ADD_FAILURE();
  } catch (const WebhookError& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

// --- The sink in process ---

WebhookOptions options(const std::string& url) {
  WebhookOptions o;
  o.url = parse_webhook_url(url);
  o.timeout = 2s;
  o.min_backoff = 20ms;
  o.max_backoff = 200ms;
  return o;
}

std::string fake_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%032x", i);
  return buf;
}
std::string fake_alert(int i) { return "{\"schema_version\":3,\"id\":\"" + fake_id(i) + "\",\"n\":" + std::to_string(i) + "}"; }

// The queue is bounded: with the receiver stuck, send() returns for one alert in flight and `queue` waiting, then
// waits (it never drops one); once the receiver answers, it returns and everything is delivered in order.
TEST(Webhook, BackPressureNeverDrops) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  Receiver rx([&](size_t, const Request&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return Plan{};
  });
  WebhookOptions o = options(rx.url());
  o.queue = 2;
  o.timeout = 60s;
  WebhookSink sink(std::move(o));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink.send(fake_id(i), fake_alert(i)));  // 1 in flight (once taken), 2 queued
  // Wait for the first to be in flight, so that the queue holds exactly two.
  for (int i = 0; i < 500 && rx.requests().empty(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(rx.requests().size(), 1u);
  std::atomic<bool> returned{false};
  std::thread t([&] {
    sink.send(fake_id(3), fake_alert(3));
    returned = true;
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(returned.load()) << "send() returned while the queue was full";
  EXPECT_EQ(sink.stats().queued, 3u);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  t.join();
  EXPECT_TRUE(sink.drain(30s));
  WebhookStats s = sink.stats();
  EXPECT_EQ(s.delivered, 4u);
  EXPECT_EQ(s.queued, 0u);
  std::vector<Request> got = rx.requests();
  ASSERT_EQ(got.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i].alert_id, fake_id(i));
    EXPECT_EQ(got[i].body, fake_alert(i));
  }
  EXPECT_EQ(sink.lost(), 0u);
}

// The spool: alerts sent while the receiver is down stay in it (without their delivered mark) when the sink goes;
// the next sink sends them first and does not queue them again when the engine decides them again.
TEST(Webhook, SpoolKeepsUndeliveredAlertsForTheNextRun) {
  Work w("spool");
  const int port = free_port();
  WebhookOptions o = options("http://127.0.0.1:" + std::to_string(port) + "/hook");
  o.spool = w / "webhook.spool";
  {
    WebhookSink sink(o);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink.send(fake_id(i), fake_alert(i)));
    EXPECT_EQ(sink.sync_spool(), "");
    EXPECT_FALSE(sink.drain(300ms));
    EXPECT_GT(sink.stats().retries, 0u);
    EXPECT_EQ(sink.lost(), 0u) << "spooled alerts are not lost";
  }
  EXPECT_EQ(spool_pending(o.spool), 3u);
  Receiver rx([](size_t, const Request&) { return Plan{}; }, port);
  {
    WebhookSink sink(o);
    EXPECT_EQ(sink.stats().resent, 3u);
    ASSERT_TRUE(sink.send(fake_id(1), fake_alert(1)));  // decided again after the restart: already spooled
    ASSERT_TRUE(sink.send(fake_id(7), fake_alert(7)));
    EXPECT_TRUE(sink.drain(30s));
    EXPECT_EQ(sink.stats().skipped, 1u);
    EXPECT_EQ(sink.stats().delivered, 4u);
  }
  std::vector<Request> got = rx.requests();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].alert_id, fake_id(0));
  EXPECT_EQ(got[2].alert_id, fake_id(2));
  EXPECT_EQ(got[3].alert_id, fake_id(7));
  EXPECT_EQ(got[1].body, fake_alert(1));
  EXPECT_EQ(spool_pending(o.spool), 0u);
}

// A long run keeps the spool small: once it outgrows the bound, it is rewritten with only the undelivered alerts.
TEST(Webhook, SpoolIsCompacted) {
  Work w("compact");
  Receiver rx([](size_t, const Request&) { return Plan{}; });
  WebhookOptions o = options(rx.url());
  o.spool = w / "webhook.spool";
  o.spool_compact_bytes = 8192;
  WebhookSink sink(o);
  uint64_t largest = 0;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(sink.send(fake_id(i), fake_alert(i)));
    if (i % 100 == 99) {  // a steady stream: at most 100 undelivered at a time
      ASSERT_TRUE(sink.drain(60s));
      largest = std::max<uint64_t>(largest, fs::file_size(o.spool));
    }
  }
  ASSERT_TRUE(sink.drain(60s)) << sink.stats().delivered << " delivered, " << sink.stats().queued << " queued, "
                               << sink.stats().retries << " retries, " << rx.requests().size() << " requests";
  EXPECT_EQ(sink.stats().delivered, 3000u);
  // 3000 alerts are about 330 KB of spool lines; the spool never holds much more than the bound plus what is
  // undelivered (100 alerts, about 11 KB).
  EXPECT_LT(fs::file_size(o.spool), 8192u + 200u);
  EXPECT_LT(largest, 8192u + 12000u);
  EXPECT_EQ(spool_pending(o.spool), 0u);
}

// A stop signal (SIGTERM with --state) while send() waits for room: it returns, the alert stays in the spool for
// the next run (never dropped).
TEST(Webhook, StopWhileQueueFullKeepsTheAlertInTheSpool) {
  Work w("stop");
  std::atomic<int> stop{0};
  WebhookOptions o = options("http://127.0.0.1:" + std::to_string(free_port()) + "/hook");
  o.spool = w / "webhook.spool";
  o.queue = 1;
  o.stop = &stop;
  {
    WebhookSink sink(o);
    ASSERT_TRUE(sink.send(fake_id(0), fake_alert(0)));
    for (int i = 0; i < 500 && sink.stats().retries == 0; ++i) std::this_thread::sleep_for(10ms);  // in flight
    ASSERT_TRUE(sink.send(fake_id(1), fake_alert(1)));  // queued: the queue is full
    std::thread signal([&] {
      std::this_thread::sleep_for(300ms);
      stop = SIGTERM;
    });
    auto t0 = Clock::now();
    EXPECT_TRUE(sink.send(fake_id(2), fake_alert(2)));
    EXPECT_GE(Clock::now() - t0, 250ms) << "send() did not wait for room";
    signal.join();
    EXPECT_EQ(sink.stats().queued, 3u);
    EXPECT_EQ(sink.lost(), 0u);
  }
  EXPECT_EQ(spool_pending(o.spool), 3u);
}

// https: the receiver's certificate is checked against --webhook-ca-file (a self-signed one here, made with the
// openssl command); without it, the system's CAs refuse it and the alert is retried, not lost.
TEST(Webhook, HttpsVerifiesTheCertificate) {
  Work w("tls");
  const std::string key = w / "key.pem", cert = w / "cert.pem";
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext "
                    "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" + key + "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "no openssl command to make a certificate";
  httplib::SSLServer server(cert.c_str(), key.c_str());
  ASSERT_TRUE(server.is_valid());
  std::mutex mu;
  std::vector<std::string> got;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    got.push_back(req.get_header_value("X-Braid-Alert-Id"));
    res.status = 204;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/hook";
  {
    WebhookOptions o = options(url);
    std::vector<std::string> logged;
    o.log = [&](const std::string& l) { logged.push_back(l); };
    WebhookSink sink(o);
    ASSERT_TRUE(sink.send(fake_id(1), fake_alert(1)));
    EXPECT_FALSE(sink.drain(500ms)) << "a self-signed certificate was trusted";
    EXPECT_GT(sink.stats().retries, 0u);
    EXPECT_EQ(sink.stats().delivered, 0u);
  }
  {
    WebhookOptions o = options(url);
    o.ca_file = cert;
    WebhookSink sink(o);
    ASSERT_TRUE(sink.send(fake_id(2), fake_alert(2)));
    EXPECT_TRUE(sink.drain(30s));
    EXPECT_EQ(sink.stats().delivered, 1u);
  }
  while (!server.is_running()) std::this_thread::sleep_for(1ms);
  server.stop();
  t.join();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), fake_id(2));
}

TEST(Webhook, RefusesAForeignSpool) {
  Work w("foreign");
  { std::ofstream(w / "webhook.spool") << "something else\n"; }
  WebhookOptions o = options("http://127.0.0.1:9/hook");
  o.spool = w / "webhook.spool";
  EXPECT_THROW(WebhookSink sink(o), WebhookError);
}

}  // namespace
}  // namespace braid::host
