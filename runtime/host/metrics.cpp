#include "host/metrics.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace braid::host {

namespace {

// Label values: backslash, double quote and line feed are escaped (text format 0.0.4).
std::string escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  // A sample of the current family; `labels` alternate names and values.
  void sample(std::initializer_list<std::string_view> labels, uint64_t v) {
    head(labels);
    fmt::format_to(std::back_inserter(out_), " {}\n", v);
  }
  void sample(std::initializer_list<std::string_view> labels, double v) {
    head(labels);
    fmt::format_to(std::back_inserter(out_), " {}\n", v);
  }
  void sample(uint64_t v) { sample({}, v); }
  void sample(double v) { sample({}, v); }
  std::string take() { return std::move(out_); }

 private:
  void head(std::initializer_list<std::string_view> labels) {
    out_ += name_;
    if (labels.size() == 0) return;
    out_ += '{';
    const std::string_view* l = labels.begin();
    for (size_t i = 0; i + 1 < labels.size(); i += 2) {
      if (i) out_ += ',';
      fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", l[i], escape(l[i + 1]));
    }
    out_ += '}';
  }
  std::string out_, name_;
};

}  // namespace

std::string render_metrics(const MetricsInfo& info, const MetricsSnapshot& s) {
  const rt::EngineStats& e = s.engine;
  Writer w;
  w.family("braid_build_info", "gauge", "Always 1; the labels name the braid version and the rule engine.");
  w.sample({"version", info.version, "engine", info.engine}, uint64_t{1});
  w.family("braid_start_time_seconds", "gauge", "When the host started, in Unix seconds.");
  w.sample(info.start_time);
  w.family("braid_last_refresh_timestamp_seconds", "gauge",
           "When the engine last published these figures (between records, at most every second), in Unix seconds.");
  w.sample(s.taken);
  w.family("braid_inputs_done", "gauge", "1 once every input has been read to its end.");
  w.sample(uint64_t{s.inputs_done});

  // Input.
  w.family("braid_input_bytes_total", "counter", "Bytes of input text read (decompressed).");
  w.sample(s.input.bytes);
  w.family("braid_inputs_opened_total", "counter", "Files and streams opened.");
  w.sample(s.input.inputs);
  w.family("braid_input_errors_total", "counter",
           "Problems the reader met, by kind (records too large, malformed JSON, invalid UTF-8, unreadable files...).");
  for (size_t k = 0; k < rt::kInputErrorKinds; ++k)
    w.sample({"kind", rt::input_error_kind_name(static_cast<rt::InputErrorKind>(k))}, s.input.errors[k]);
  w.family("braid_records_read_total", "counter", "Records handed to the engine (lines, Records[] elements).");
  w.sample(e.records_read);
  w.family("braid_events_parsed_total", "counter", "Records that were JSON objects.");
  w.sample(e.events_parsed);
  w.family("braid_bad_records_total", "counter",
           "Records the engine could not use: not a JSON object (malformed), recognised by no source (unrouted), "
           "or without a time (no_time).");
  w.sample({"kind", "malformed"}, e.malformed);
  w.sample({"kind", "unrouted"}, e.unrouted);
  w.sample({"kind", "no_time"}, e.no_time);
  w.family("braid_type_mismatches_total", "counter", "Field values whose JSON type did not fit the schema (read as null).");
  w.sample(e.type_mismatches);

  // By source.
  w.family("braid_events_total", "counter", "Events routed to each source.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.events);
  w.family("braid_late_events_total", "counter",
           "Events older than their source's watermark: event-scope rules only, no sessions or chains.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.late);
  w.family("braid_quarantined_events_total", "counter",
           "Events dated too far ahead of their source's others, refuted by the next ones (--max-time-jump): "
           "event rules only.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.quarantined);
  w.family("braid_held_events_released_early_total", "counter",
           "Held events released before their source's lateness had passed, at --max-held-events.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.released_early);
  w.family("braid_held_events", "gauge", "Events held for reordering now (and held aside as time jumps).");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.held);
  w.family("braid_source_newest_event_timestamp_seconds", "gauge",
           "Event time of the newest event the source delivered (Unix seconds); absent before its first.");
  for (const auto& src : e.sources)
    if (src.newest != INT64_MIN) w.sample({"source", src.name}, static_cast<double>(src.newest) / 1e9);
  w.family("braid_source_watermark_lag_seconds", "gauge",
           "How far the source's watermark is behind its newest event: its lateness, less when --max-held-events "
           "moved it up.");
  for (const auto& src : e.sources)
    if (src.newest != INT64_MIN && src.watermark != INT64_MIN)
      w.sample({"source", src.name}, static_cast<double>(src.newest - src.watermark) / 1e9);
  if (s.source_last_seen.size() == e.sources.size()) {
    w.family("braid_source_last_event_received_timestamp_seconds", "gauge",
             "Wall time (Unix seconds) when the host last received an event of the source; absent before its first. "
             "time() minus it is how long the source has been silent.");
    for (size_t i = 0; i < e.sources.size(); ++i)
      if (s.source_last_seen[i] > 0) w.sample({"source", e.sources[i].name}, s.source_last_seen[i]);
  }
  w.family("braid_events_without_identity_total", "counter", "Events whose identity was null: no session.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.no_identity);
  w.family("braid_sessions_opened_total", "counter", "Sessions opened.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.sessions_opened);
  w.family("braid_sessions_closed_total", "counter", "Sessions closed.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.sessions_closed);
  w.family("braid_sessions_open", "gauge", "Sessions open now.");
  for (const auto& src : e.sources) w.sample({"source", src.name}, src.sessions_opened - src.sessions_closed);

  // Memory: sessions, chains, mint and link records.
  w.family("braid_session_evictions_total", "counter",
           "Open sessions closed early at the open-session cap (--max-open-sessions); their decisions are degraded.");
  w.sample(e.sessions_evicted);
  w.family("braid_sessions_in_memory", "gauge", "Sessions in memory: open, or closed but part of a live chain.");
  w.sample(e.sessions_live);
  w.family("braid_chains_live", "gauge", "Chains in memory.");
  w.sample(e.chains_live);
  w.family("braid_chains_total", "counter", "Chains that grew a second session.");
  w.sample(e.chains);
  w.family("braid_chain_links_total", "counter", "Parent-to-child session links made (mint and link records).");
  w.sample(e.chain_links);
  w.family("braid_chains_retired_total", "counter", "Chains dropped from memory (no open session, no live record).");
  w.sample(e.chains_retired);
  w.family("braid_chain_max_depth", "gauge", "Sessions on the longest root-to-leaf path of any chain so far.");
  w.sample(e.chain_max_depth);
  w.family("braid_mints_recorded_total", "counter", "Minted credentials recorded (to link the sessions that use them).");
  w.sample(e.mints_recorded);
  w.family("braid_mint_evictions_total", "counter", "Mint records evicted before a session used them.");
  w.sample(e.mints_evicted);
  w.family("braid_link_parents_recorded_total", "counter", "Link parent records kept.");
  w.sample(e.link_parents_recorded);
  w.family("braid_link_parent_evictions_total", "counter", "Link parent records evicted.");
  w.sample(e.link_parents_evicted);
  w.family("braid_chain_record_evictions_total", "counter",
           "Mint and link records evicted at the chain-record cap (--max-chain-records); chains that lost a parent "
           "to it are degraded.");
  w.sample(e.chain_records_evicted);
  w.family("braid_partial_matches_dropped_total", "counter",
           "Sequence starts dropped at the partial-match cap (--max-partial-matches); the rules' decisions are "
           "degraded.");
  w.sample(e.partial_matches_dropped);

  // Groups of group-scope rules.
  w.family("braid_groups_opened_total", "counter", "Groups of group-scope rules opened.");
  w.sample(e.groups_opened);
  w.family("braid_groups_open", "gauge", "Groups of group-scope rules open now.");
  w.sample(e.groups_live);
  w.family("braid_group_evictions_total", "counter",
           "Open groups closed early at the open-group cap (--max-open-groups); their decisions are degraded.");
  w.sample(e.groups_evicted);
  w.family("braid_group_key_null_total", "counter",
           "Events that matched a group rule's step with a null part in its key (they join no group).");
  w.sample(e.no_group_key);

  // Rules.
  w.family("braid_rules", "gauge", "Rules running.");
  w.sample(uint64_t{e.rules.size()});
  const std::map<std::string, std::string>& severities = s.severities ? *s.severities : info.severities;
  auto severity = [&](const std::string& id) -> std::string_view {
    auto it = severities.find(id);
    return it == severities.end() ? std::string_view("unknown") : std::string_view(it->second);
  };
  w.family("braid_alerts_total", "counter", "Alerts written, by rule.");
  for (const auto& r : e.rules) w.sample({"rule", r.id, "severity", severity(r.id)}, r.alerts);
  w.family("braid_alerts_suppressed_total", "counter", "Alerts dropped by the rule's `suppress`, by rule.");
  for (const auto& r : e.rules) w.sample({"rule", r.id, "severity", severity(r.id)}, r.suppressed);
  w.family("braid_rule_evaluations_total", "counter",
           "Event rules: events of their sources; session and chain rules: visits of their state, and closes.");
  for (const auto& r : e.rules) w.sample({"rule", r.id}, r.evaluations);

  w.family("braid_reloads_total", "counter",
           "Rule reloads (SIGHUP): ok, or failed (the new rules refused, the rules in use kept).");
  w.sample({"result", "ok"}, s.reloads_ok);
  w.sample({"result", "failed"}, s.reloads_failed);

  // Threads (--threads N > 1).
  w.family("braid_worker_busy_seconds_total", "counter", "Time each worker thread spent preparing events.");
  for (size_t i = 0; i < e.worker_nanos.size(); ++i)
    w.sample({"worker", std::to_string(i)}, static_cast<double>(e.worker_nanos[i]) / 1e9);
  w.family("braid_engine_wait_seconds_total", "counter", "Time the engine's thread waited for prepared events.");
  w.sample(static_cast<double>(e.wait_nanos) / 1e9);
  w.family("braid_engine_prepare_seconds_total", "counter",
           "Time the engine's thread spent preparing events itself instead of waiting for the workers.");
  w.sample(static_cast<double>(e.help_nanos) / 1e9);

  // The JIT's prefilter.
  w.family("braid_prefilter_scans_total", "counter", "Field values the multi-pattern prefilter scanned.");
  w.sample(e.prefilter_scans);
  w.family("braid_prefilter_literals_total", "counter", "Literals the prefilter found.");
  w.sample(e.prefilter_literals);
  w.family("braid_prefilter_selected_total", "counter", "Predicates a found literal selected for evaluation.");
  w.sample(e.prefilter_selected);

  // Checkpoints (--state).
  if (s.checkpoints) {
    w.family("braid_checkpoints_total", "counter", "Checkpoints taken by this process.");
    w.sample(s.checkpoints->taken);
    if (s.checkpoints->taken > 0) {
      w.family("braid_last_checkpoint_timestamp_seconds", "gauge",
               "When the last checkpoint was written (Unix seconds); time() minus it is the checkpoint's age.");
      w.sample(s.checkpoints->last_time);
      w.family("braid_last_checkpoint_duration_seconds", "gauge",
               "How long the last checkpoint took: state, alert sync, write, fsync and rename.");
      w.sample(s.checkpoints->last_duration);
      w.family("braid_last_checkpoint_bytes", "gauge", "Size of the last checkpoint file's engine state.");
      w.sample(s.checkpoints->last_bytes);
    }
  }

  // The webhook sink (--webhook).
  if (s.webhook) {
    const WebhookStats& h = *s.webhook;
    w.family("braid_webhook_alerts_total", "counter",
             "Alerts handed to the webhook sink (not those a restart decided again that its spool already held).");
    w.sample(h.sent);
    w.family("braid_webhook_delivered_total", "counter", "Alerts the webhook answered with 2xx.");
    w.sample(h.delivered);
    w.family("braid_webhook_retries_total", "counter",
             "Failed webhook requests that are retried (connection errors, timeouts, 408, 429, 5xx).");
    w.sample(h.retries);
    w.family("braid_webhook_failed_total", "counter",
             "Alerts the webhook refused for good (another 4xx, a redirect), by where they went.");
    w.sample({"outcome", "dead_letter"}, h.dead_lettered);
    w.sample({"outcome", "dropped"}, h.failed - h.dead_lettered);
    w.family("braid_webhook_queue_depth", "gauge", "Alerts waiting for the webhook or in flight.");
    w.sample(h.queued);
    w.family("braid_webhook_resent_total", "counter", "Undelivered alerts read back from the spool at start.");
    w.sample(h.resent);
  }
  return w.take();
}

ListenAddress parse_listen_address(std::string_view addr) {
  auto bad = [&](std::string_view why) {
    return MetricsError(fmt::format("--metrics-addr `{}`: {} (expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)",
                                    addr, why));
  };
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) throw bad("no port");
  std::string_view host = addr.substr(0, colon), port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos) throw bad("an IPv6 address goes in brackets");
  if (host.empty()) throw bad("no host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
    throw bad("the port is not a number");
  ListenAddress out;
  out.host = std::string(host);
  out.port = std::stoi(std::string(port));
  if (out.port > 65535) throw bad("the port is above 65535");
  in_addr v4{};
  in6_addr v6{};
  if (out.host == "localhost") {
    out.host = "127.0.0.1";
    out.loopback = true;
  } else if (inet_pton(AF_INET, out.host.c_str(), &v4) == 1) {
    out.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (inet_pton(AF_INET6, out.host.c_str(), &v6) == 1) {
    out.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    throw bad("the host is not an IP address or localhost");
  }
  return out;
}

struct MetricsServer::Impl {
  MetricsInfo info;
  ListenAddress addr;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> done{false};  // listen_after_bind returned
  std::mutex mu;
  MetricsSnapshot snapshot;  // guarded by mu
};

MetricsServer::MetricsServer(std::string_view addr, bool allow_remote, MetricsInfo info)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.info = std::move(info);
  m.addr = parse_listen_address(addr);
  if (!m.addr.loopback && !allow_remote) {
    throw MetricsError(fmt::format(
        "--metrics-addr `{}` is not a loopback address: the endpoint has no authentication and no TLS, and its "
        "metrics name every rule and how often it fires; serve it on 127.0.0.1 or ::1 (behind a proxy that adds "
        "both), or pass --metrics-allow-remote",
        addr));
  }
  m.snapshot.taken = m.info.start_time;
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second braid on the same port would bind too and
  // take half the scrapes: SO_REUSEADDR only (a restart may bind while old connections linger).
  m.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Two threads are plenty for a scrape every few seconds; cpp-httplib's default is one per core (at least 8).
  m.server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  m.server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    MetricsSnapshot copy;
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      copy = impl_->snapshot;
    }
    if (impl_->info.webhook) copy.webhook = impl_->info.webhook();
    res.set_content(render_metrics(impl_->info, copy), "text/plain; version=0.0.4; charset=utf-8");
  });
  // The process serves and its engine thread has not failed (it would have ended the process): the liveness
  // probe. Whether events still flow is braid_last_refresh_timestamp_seconds' business.
  m.server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  bool bound = m.addr.port == 0 ? (m.addr.port = m.server.bind_to_any_port(m.addr.host)) > 0
                                : m.server.bind_to_port(m.addr.host, m.addr.port);
  if (!bound) {
    throw MetricsError(fmt::format("--metrics-addr `{}`: cannot listen there: {}", addr,
                                   errno ? std::strerror(errno) : "bind failed"));
  }
  m.thread = std::thread([this] {
    impl_->server.listen_after_bind();
    impl_->done = true;
  });
}

MetricsServer::~MetricsServer() {
  // stop() only acts once the server runs (and must be called once): wait for that, or for the thread's end.
  while (!impl_->done) {
    if (impl_->server.is_running()) {
      impl_->server.stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->thread.join();
}

void MetricsServer::publish(MetricsSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->snapshot = std::move(snapshot);
}

int MetricsServer::port() const { return impl_->addr.port; }

std::string MetricsServer::url() const {
  bool v6 = impl_->addr.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", impl_->addr.host, v6 ? "]" : "", impl_->addr.port);
}

}  // namespace braid::host
