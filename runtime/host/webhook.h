// The webhook alert sink of `braid run --webhook URL` (docs/operations.md, "Webhook"): every alert is POSTed, one
// per request, as the same JSON as its NDJSON line, with its id in the Idempotency-Key and X-Braid-Alert-Id headers.
//
// Delivery runs on a thread of its own, in order, one request at a time, from a bounded in-memory queue: the engine's
// thread only waits when the queue is full (back-pressure; an alert is never dropped to make room). Connection
// errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter (Retry-After honoured, up to the
// maximum backoff) until they succeed; any other non-2xx status is a permanent failure: logged, counted, and written
// to the dead-letter file when one is configured.
//
// With a spool (the state directory's `webhook.spool`), every alert is appended to it before it is queued and the
// spool is synced before each checkpoint (sync_spool), so an alert that a checkpoint covers is delivered or on disk.
// A delivered (or dead-lettered) alert gets a mark appended. On start, the alerts without a mark are queued again, and
// the alerts the spool knows are not queued a second time when the engine decides them again after a restart. The
// spool is rewritten with only the undelivered alerts when it has grown past a bound: it stays small for months.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::host {

// A bad --webhook URL or header, a spool that cannot be used, or a dead-letter file that cannot be written.
class WebhookError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// http[s]://[user:password@]host[:port][/path][?query]
struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  int port = 0;
  std::string target;  // path and query, "/" at least
  std::string user, password;  // userinfo (sent as basic authentication, never printed)
  std::string redacted() const;  // scheme://host:port: what logs show (the path and query may hold a secret)
};
WebhookUrl parse_webhook_url(std::string_view url);  // throws WebhookError

// "Name: value": a header token name, a value without control characters. The headers Braid sets itself
// (Content-Type, Content-Length, Host, Idempotency-Key, X-Braid-Alert-Id) cannot be given. Throws WebhookError,
// whose message never holds the value.
std::pair<std::string, std::string> parse_webhook_header(std::string_view text);

struct WebhookOptions {
  WebhookUrl url;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (secrets: never logged)
  std::string user_agent = "braid";
  std::string ca_file;                         // https: a CA bundle instead of the system's
  std::chrono::milliseconds timeout{10000};     // connect, read and write, each
  std::chrono::milliseconds min_backoff{500};   // the first retry waits about this long, then doubling...
  std::chrono::milliseconds max_backoff{60000};  // ...up to this (also the cap on a Retry-After)
  size_t queue = 10000;                        // alerts queued in memory at most
  std::string dead_letter;                     // alerts refused for good are appended here ("": not kept)
  std::string spool;                           // the spool file ("": none; without --state)
  uint64_t spool_compact_bytes = 1 << 20;      // rewrite the spool when it grows past this and twice what it holds
  std::function<void(const std::string&)> log;  // one line, without "braid: " or newline; called on any thread
  const std::atomic<int>* stop = nullptr;      // set (non-zero) by a stop signal: a send() waiting for room stops
                                               // waiting when the alert is already spooled
};

// Counts; every field is read atomically (any thread).
struct WebhookStats {
  uint64_t sent = 0;           // alerts handed to the sink (not those a restart decided again and the spool knew)
  uint64_t delivered = 0;      // alerts answered with 2xx
  uint64_t retries = 0;        // failed attempts that are retried
  uint64_t failed = 0;         // alerts refused for good (a 4xx other than 408 and 429, or a redirect)
  uint64_t dead_lettered = 0;  // of those, written to the dead-letter file
  uint64_t queued = 0;         // alerts waiting or in flight now
  uint64_t resent = 0;         // undelivered alerts read back from the spool at start
  uint64_t skipped = 0;        // alerts decided again after a restart that the spool already held
};

class WebhookSink {
 public:
  // Opens the spool (reads it: the undelivered alerts are queued first) and the dead-letter file, and starts the
  // delivery thread. Throws WebhookError.
  explicit WebhookSink(WebhookOptions options);
  // Stops the delivery thread (an in-flight request is cut off); what is undelivered stays in the spool.
  ~WebhookSink();
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  // The engine's thread: one alert (`json`: its rendered line without newline). Spools it, then queues it, waiting
  // while the queue is full. False (logged) when the spool cannot be written: no checkpoint may cover the alert.
  bool send(const std::string& id, const std::string& json);
  // Before a checkpoint: flushes the spool to disk. "" when done, else what failed.
  std::string sync_spool();
  // Waits until every queued alert is delivered or failed, at most `limit`; true when the queue is empty.
  bool drain(std::chrono::milliseconds limit);

  WebhookStats stats() const;
  // Alerts neither delivered, nor dead-lettered, nor spooled for a later run: refused for good without a
  // dead-letter file, or (without a spool) still queued. At most 100 ids are listed; the count is exact.
  uint64_t lost() const;
  std::vector<std::string> lost_ids() const;
  bool spooled() const;  // a spool keeps what is still queued for the next run

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The undelivered alerts in a spool file (0 when there is none); for a run with --state but without --webhook.
uint64_t spool_pending(const std::string& path);

}  // namespace braid::host
