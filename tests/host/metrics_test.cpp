// runtime/host/metrics.h: the Prometheus text of a fake snapshot, listen addresses, and the server scraped with
// httplib::Client.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <regex>
#include <thread>
#include <set>
#include <sstream>

#include "host/metrics.h"

namespace braid::host {
namespace {

MetricsSnapshot fake_snapshot() {
  MetricsSnapshot s;
  rt::EngineStats& e = s.engine;
  e.records_read = 1000;
  e.events_parsed = 990;
  e.malformed = 10;
  e.unrouted = 5;
  e.no_time = 2;
  e.type_mismatches = 3;
  e.sessions_live = 40;
  e.chains_live = 7;
  e.chains = 6;
  e.chain_links = 15;
  e.chains_retired = 35;
  e.chain_max_depth = 6;
  e.mints_recorded = 9;
  e.mints_evicted = 1;
  e.link_parents_recorded = 8;
  e.link_parents_evicted = 3;
  e.worker_nanos = {1500000000, 250000000};
  e.wait_nanos = 500000000;
  e.help_nanos = 250000000;
  e.prefilter_scans = 690;
  e.prefilter_literals = 12;
  e.prefilter_selected = 15;
  rt::SourceStats aws;
  aws.name = "aws.cloudtrail";
  aws.events = 700;
  aws.late = 4;
  aws.quarantined = 2;
  aws.no_identity = 1;
  aws.sessions_opened = 20;
  aws.sessions_closed = 12;
  rt::SourceStats odd;
  odd.name = "we\"ird\\na\nme";  // never a real source name: the escaping
  odd.events = 283;
  e.sources = {aws, odd};
  rt::RuleStats r1;
  r1.id = "aws.persistence.iam_user_created";
  r1.alerts = 3;
  r1.suppressed = 1;
  r1.evaluations = 700;
  rt::RuleStats r2;
  r2.id = "okta.new_rule";
  e.rules = {r1, r2};
  s.input.bytes = 123456;
  s.input.inputs = 2;
  s.input.errors[static_cast<size_t>(rt::InputErrorKind::MalformedJson)] = 10;
  s.inputs_done = true;
  s.taken = 1733500000.5;
  return s;
}

MetricsInfo fake_info() {
  MetricsInfo info;
  info.version = "0.1.0";
  info.engine = "jit";
  info.severities = {{"aws.persistence.iam_user_created", "medium"}, {"okta.new_rule", "high"}};
  info.start_time = 1733499000;
  return info;
}

// The samples of a text, "name{labels}" -> value; checks the format on the way: every sample's family has HELP
// and TYPE lines before it, names are braid_*, counters end in _total.
std::map<std::string, std::string> parse(const std::string& text) {
  std::map<std::string, std::string> samples;
  std::map<std::string, std::string> types;
  std::set<std::string> helps;
  std::istringstream in(text);
  std::string line;
  const std::regex sample_re(R"(^([a-z_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? (\S+)$)");
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(helps.insert(name).second) << "two HELP lines for " << name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string rest = line.substr(7);
      std::string name = rest.substr(0, rest.find(' ')), type = rest.substr(rest.find(' ') + 1);
      EXPECT_TRUE(type == "counter" || type == "gauge") << line;
      EXPECT_TRUE(helps.count(name)) << "TYPE before HELP: " << name;
      EXPECT_EQ(name.rfind("braid_", 0), 0u) << name;
      EXPECT_EQ(type == "counter", name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0) << name;
      types[name] = type;
      continue;
    }
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, sample_re)) << "not a sample: " << line;
    if (m.empty()) continue;
    EXPECT_TRUE(types.count(m[1])) << "no TYPE for " << m[1];
    EXPECT_NO_THROW((void)std::stod(m[3]));
    EXPECT_TRUE(samples.emplace(std::string(m[1]) + std::string(m[2]), m[3]).second) << "twice: " << line;
  }
  return samples;
}

TEST(Metrics, RendersEveryFamilyInTheTextFormat) {
  std::string text = render_metrics(fake_info(), fake_snapshot());
  auto s = parse(text);
  EXPECT_EQ(s["braid_build_info{version=\"0.1.0\",engine=\"jit\"}"], "1");
  EXPECT_EQ(s["braid_records_read_total"], "1000");
  EXPECT_EQ(s["braid_events_parsed_total"], "990");
  EXPECT_EQ(s["braid_bad_records_total{kind=\"malformed\"}"], "10");
  EXPECT_EQ(s["braid_bad_records_total{kind=\"unrouted\"}"], "5");
  EXPECT_EQ(s["braid_bad_records_total{kind=\"no_time\"}"], "2");
  EXPECT_EQ(s["braid_type_mismatches_total"], "3");
  EXPECT_EQ(s["braid_input_errors_total{kind=\"malformed_json\"}"], "10");
  EXPECT_EQ(s["braid_input_errors_total{kind=\"unreadable\"}"], "0");
  EXPECT_EQ(s["braid_input_bytes_total"], "123456");
  EXPECT_EQ(s["braid_events_total{source=\"aws.cloudtrail\"}"], "700");
  EXPECT_EQ(s["braid_late_events_total{source=\"aws.cloudtrail\"}"], "4");
  EXPECT_EQ(s["braid_quarantined_events_total{source=\"aws.cloudtrail\"}"], "2");
  EXPECT_EQ(s["braid_events_without_identity_total{source=\"aws.cloudtrail\"}"], "1");
  EXPECT_EQ(s["braid_sessions_opened_total{source=\"aws.cloudtrail\"}"], "20");
  EXPECT_EQ(s["braid_sessions_open{source=\"aws.cloudtrail\"}"], "8");
  EXPECT_EQ(s["braid_sessions_in_memory"], "40");
  EXPECT_EQ(s["braid_chains_live"], "7");
  EXPECT_EQ(s["braid_chains_total"], "6");
  EXPECT_EQ(s["braid_chain_max_depth"], "6");
  EXPECT_EQ(s["braid_mint_evictions_total"], "1");
  EXPECT_EQ(s["braid_link_parent_evictions_total"], "3");
  EXPECT_EQ(s["braid_rules"], "2");
  EXPECT_EQ(s["braid_alerts_total{rule=\"aws.persistence.iam_user_created\",severity=\"medium\"}"], "3");
  EXPECT_EQ(s["braid_alerts_total{rule=\"okta.new_rule\",severity=\"high\"}"], "0");
  EXPECT_EQ(s["braid_alerts_suppressed_total{rule=\"aws.persistence.iam_user_created\",severity=\"medium\"}"], "1");
  EXPECT_EQ(s["braid_rule_evaluations_total{rule=\"aws.persistence.iam_user_created\"}"], "700");
  EXPECT_EQ(s["braid_worker_busy_seconds_total{worker=\"0\"}"], "1.5");
  EXPECT_EQ(s["braid_engine_wait_seconds_total"], "0.5");
  EXPECT_EQ(s["braid_engine_prepare_seconds_total"], "0.25");
  EXPECT_EQ(s["braid_prefilter_scans_total"], "690");
  EXPECT_EQ(s["braid_prefilter_literals_total"], "12");
  EXPECT_EQ(s["braid_prefilter_selected_total"], "15");
  EXPECT_EQ(s["braid_inputs_done"], "1");
  EXPECT_EQ(s["braid_last_refresh_timestamp_seconds"], "1733500000.5");
  EXPECT_EQ(s["braid_start_time_seconds"], "1733499000");
  // Label values escaped: backslash, quote, line feed.
  EXPECT_EQ(s["braid_events_total{source=\"we\\\"ird\\\\na\\nme\"}"], "283") << text;
}

// The held-events cap, evictions, watermarks, silent sources and checkpoints.
TEST(Metrics, CapsWatermarksSilenceAndCheckpoints) {
  MetricsSnapshot snap = fake_snapshot();
  rt::SourceStats& ct = snap.engine.sources[0];
  ct.released_early = 9;
  ct.held = 120;
  ct.newest = int64_t{1733500000} * 1000000000;
  ct.watermark = ct.newest - int64_t{900} * 1000000000;
  snap.engine.sessions_evicted = 11;
  snap.source_last_seen.assign(snap.engine.sources.size(), 0);
  snap.source_last_seen[0] = 1733500100.25;
  std::string text = render_metrics(fake_info(), snap);
  auto s = parse(text);
  EXPECT_EQ(s["braid_held_events_released_early_total{source=\"aws.cloudtrail\"}"], "9") << text;
  EXPECT_EQ(s["braid_held_events{source=\"aws.cloudtrail\"}"], "120");
  EXPECT_EQ(s["braid_source_newest_event_timestamp_seconds{source=\"aws.cloudtrail\"}"], "1733500000");
  EXPECT_EQ(s["braid_source_watermark_lag_seconds{source=\"aws.cloudtrail\"}"], "900");
  EXPECT_EQ(s["braid_source_last_event_received_timestamp_seconds{source=\"aws.cloudtrail\"}"], "1733500100.25");
  EXPECT_EQ(s.count("braid_source_last_event_received_timestamp_seconds{source=\"we\\\"ird\\\\na\\nme\"}"), 0u)
      << "a source never seen has no sample";
  EXPECT_EQ(s["braid_session_evictions_total"], "11");
  EXPECT_EQ(s.count("braid_checkpoints_total"), 0u) << "no --state, no checkpoint families";
  snap.checkpoints = MetricsSnapshot::Checkpoints{3, 1733500200.5, 0.25, 4096};
  s = parse(render_metrics(fake_info(), snap));
  EXPECT_EQ(s["braid_checkpoints_total"], "3");
  EXPECT_EQ(s["braid_last_checkpoint_timestamp_seconds"], "1733500200.5");
  EXPECT_EQ(s["braid_last_checkpoint_duration_seconds"], "0.25");
  EXPECT_EQ(s["braid_last_checkpoint_bytes"], "4096");
}

// --webhook: the braid_webhook_* families, only when a webhook is configured; the server reads them live through
// MetricsInfo::webhook at each scrape (the sink counts on its own thread).
// Reloads are counted by result; after one, the severity label follows the rules now running.
TEST(Metrics, ReloadsAndTheSeveritiesAfterOne) {
  MetricsSnapshot snap = fake_snapshot();
  auto before = parse(render_metrics(fake_info(), snap));
  EXPECT_EQ(before["braid_reloads_total{result=\"ok\"}"], "0");
  EXPECT_EQ(before["braid_reloads_total{result=\"failed\"}"], "0");
  snap.reloads_ok = 2;
  snap.reloads_failed = 1;
  snap.severities = std::make_shared<const std::map<std::string, std::string>>(
      std::map<std::string, std::string>{{"aws.persistence.iam_user_created", "critical"}});
  auto s = parse(render_metrics(fake_info(), snap));
  EXPECT_EQ(s["braid_reloads_total{result=\"ok\"}"], "2");
  EXPECT_EQ(s["braid_reloads_total{result=\"failed\"}"], "1");
  EXPECT_EQ(s["braid_alerts_total{rule=\"aws.persistence.iam_user_created\",severity=\"critical\"}"], "3");
  EXPECT_EQ(s["braid_alerts_total{rule=\"okta.new_rule\",severity=\"unknown\"}"], "0");
}

TEST(Metrics, WebhookFamilies) {
  auto none = parse(render_metrics(fake_info(), fake_snapshot()));
  for (const auto& [k, v] : none) EXPECT_NE(k.rfind("braid_webhook_", 0), 0u) << k;
  MetricsSnapshot snap = fake_snapshot();
  WebhookStats h;
  h.sent = 20;
  h.delivered = 17;
  h.retries = 9;
  h.failed = 2;
  h.dead_lettered = 1;
  h.queued = 1;
  h.resent = 4;
  snap.webhook = h;
  auto s = parse(render_metrics(fake_info(), snap));
  EXPECT_EQ(s["braid_webhook_alerts_total"], "20");
  EXPECT_EQ(s["braid_webhook_delivered_total"], "17");
  EXPECT_EQ(s["braid_webhook_retries_total"], "9");
  EXPECT_EQ(s["braid_webhook_failed_total{outcome=\"dead_letter\"}"], "1");
  EXPECT_EQ(s["braid_webhook_failed_total{outcome=\"dropped\"}"], "1");
  EXPECT_EQ(s["braid_webhook_queue_depth"], "1");
  EXPECT_EQ(s["braid_webhook_resent_total"], "4");

  MetricsInfo info = fake_info();
  std::atomic<uint64_t> delivered{5};
  info.webhook = [&] {
    WebhookStats live;
    live.delivered = delivered.load();
    return live;
  };
  MetricsServer server("127.0.0.1:0", false, std::move(info));
  httplib::Client client("127.0.0.1", server.port());
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(parse(r->body)["braid_webhook_delivered_total"], "5");
  delivered = 6;  // no publish in between
  r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(parse(r->body)["braid_webhook_delivered_total"], "6");
}

TEST(Metrics, ListenAddresses) {
  ListenAddress a = parse_listen_address("127.0.0.1:9464");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9464);
  EXPECT_TRUE(a.loopback);
  EXPECT_TRUE(parse_listen_address("127.1.2.3:0").loopback);
  EXPECT_TRUE(parse_listen_address("[::1]:80").loopback);
  EXPECT_EQ(parse_listen_address("[::1]:80").host, "::1");
  EXPECT_TRUE(parse_listen_address("localhost:1").loopback);
  EXPECT_FALSE(parse_listen_address("0.0.0.0:9464").loopback);
  EXPECT_FALSE(parse_listen_address("10.1.2.3:9464").loopback);
  EXPECT_FALSE(parse_listen_address("[::]:9464").loopback);
  for (const char* bad : {"9464", "127.0.0.1", "127.0.0.1:", ":9464", "127.0.0.1:65536", "127.0.0.1:x", "::1:80",
                          "example.com:80", "127.0.0.1:-1"}) {
    EXPECT_THROW(parse_listen_address(bad), MetricsError) << bad;
  }
}

TEST(Metrics, RefusesARemoteAddressUnlessAllowed) {
  try {
    MetricsServer s("0.0.0.0:0", false, fake_info());
    FAIL() << "0.0.0.0 was accepted";
  } catch (const MetricsError& e) {
    EXPECT_NE(std::string(e.what()).find("not a loopback address"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--metrics-allow-remote"), std::string::npos) << e.what();
  }
  MetricsServer allowed("0.0.0.0:0", true, fake_info());
  EXPECT_GT(allowed.port(), 0);
}

TEST(Metrics, ServesTheLastPublishedSnapshot) {
  MetricsServer server("127.0.0.1:0", false, fake_info());
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()));
  httplib::Client client("127.0.0.1", server.port());
  // Before the first publish: zeros, and the start time as the refresh time.
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(parse(r->body)["braid_records_read_total"], "0");
  EXPECT_EQ(parse(r->body)["braid_last_refresh_timestamp_seconds"], "1733499000");
  server.publish(fake_snapshot());
  r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(parse(r->body)["braid_records_read_total"], "1000");
  MetricsSnapshot later = fake_snapshot();
  later.engine.records_read = 2000;
  server.publish(later);
  r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(parse(r->body)["braid_records_read_total"], "2000");
  r = client.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
  r = client.Get("/other");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

// A port in use: a clear error, not a server that silently does not serve.
TEST(Metrics, PortInUse) {
  MetricsServer first("127.0.0.1:0", false, fake_info());
  std::string addr = "127.0.0.1:" + std::to_string(first.port());
  try {
    MetricsServer second(addr, false, fake_info());
    FAIL() << "two servers on " << addr;
  } catch (const MetricsError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen there"), std::string::npos) << e.what();
  }
}

// Publishing while clients scrape (the engine's thread and the HTTP threads): run under the sanitizers, and
// by tools/tsan-threads.sh's kind of build, this is where a missing lock would show.
TEST(Metrics, PublishWhileScraping) {
  MetricsServer server("127.0.0.1:0", false, fake_info());
  std::atomic<bool> stop{false};
  std::thread scraper([&] {
    httplib::Client client("127.0.0.1", server.port());
    while (!stop) {
      auto r = client.Get("/metrics");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200);
    }
  });
  MetricsSnapshot s = fake_snapshot();
  uint64_t i = 0;
  for (auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
       std::chrono::steady_clock::now() < end;) {
    s.engine.records_read = ++i;
    s.engine.rules[0].alerts = i;
    server.publish(s);
  }
  stop = true;
  scraper.join();
  httplib::Client client("127.0.0.1", server.port());
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(parse(r->body)["braid_records_read_total"], std::to_string(i));
}

}  // namespace
}  // namespace braid::host
