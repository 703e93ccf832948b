// The host's metrics and health endpoint (`braid run --metrics-addr`; docs/operations.md, "Metrics"):
// Prometheus text format 0.0.4 on /metrics, and /healthz, served by cpp-httplib on its own threads.
//
// The engine is single-threaded and not thread-safe: the HTTP threads never touch it. The engine's thread
// publishes a copy of its statistics (MetricsSnapshot) between records; the HTTP threads render the last copy,
// taken under a mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "host/webhook.h"
#include "input/reader.h"

namespace braid::host {

// What does not change while the host runs.
struct MetricsInfo {
  std::string version;                           // braid_build_info{version=...}
  std::string engine;                            // "jit" or "interp"
  std::map<std::string, std::string> severities;  // rule id -> severity ("high"), the `severity` label
  double start_time = 0;                         // Unix seconds
  std::function<WebhookStats()> webhook;         // --webhook: its counts, read live at each scrape (thread-safe)
};

// One consistent copy of the counters, taken on the engine's thread.
struct MetricsSnapshot {
  rt::EngineStats engine;
  rt::InputStats input;
  bool inputs_done = false;  // every input read to its end
  double taken = 0;          // Unix seconds
  std::optional<WebhookStats> webhook;  // --webhook only: the braid_webhook_* families
  // Per source (as in engine.sources): when, in Unix seconds of wall time, the host last saw the source's event
  // count grow (0: never). The host tracks it; the engine knows only event time.
  std::vector<double> source_last_seen;
  // --state only: the checkpoints taken by this process and the last one (Unix seconds, seconds, bytes).
  struct Checkpoints {
    uint64_t taken = 0;
    double last_time = 0, last_duration = 0;
    uint64_t last_bytes = 0;
  };
  std::optional<Checkpoints> checkpoints;
  // Rule reloads (SIGHUP) in this process: accepted, and refused (the rules in use kept): braid_reloads_total.
  uint64_t reloads_ok = 0, reloads_failed = 0;
  // After a reload: rule id -> severity of the rules now running, in place of MetricsInfo::severities.
  std::shared_ptr<const std::map<std::string, std::string>> severities;
};

// The Prometheus text (format 0.0.4) of a snapshot: braid_* families with HELP and TYPE lines, counters named
// *_total. Label values are escaped as the format wants.
std::string render_metrics(const MetricsInfo& info, const MetricsSnapshot& s);

// A bad --metrics-addr, a refused one, or one that cannot be bound.
class MetricsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "HOST:PORT" split, HOST an IPv4 address, "[IPv6]" or "localhost"; PORT 0 to 65535 (0: any free port).
struct ListenAddress {
  std::string host;  // without brackets
  int port = 0;
  bool loopback = false;  // 127.0.0.0/8, ::1 or localhost
};
ListenAddress parse_listen_address(std::string_view addr);  // throws MetricsError

class MetricsServer {
 public:
  // Binds `addr` and serves on a thread of its own until destroyed. A non-loopback address is refused unless
  // `allow_remote`: the endpoint has no authentication and no TLS, and the metrics name every rule and how often
  // it fires. Throws MetricsError.
  MetricsServer(std::string_view addr, bool allow_remote, MetricsInfo info);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Called on the engine's thread: replaces the snapshot the endpoint serves.
  void publish(MetricsSnapshot snapshot);

  int port() const;          // the bound port (useful with port 0)
  std::string url() const;   // "http://127.0.0.1:9464"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::host
