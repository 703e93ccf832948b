// `braid run --webhook`: flags, checks, start and end of the sink (see run_webhook.h).
#include "run_webhook.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <csignal>
#include <fstream>

#include "input/convert.h"

namespace braid::cli {

namespace {

const WebhookFlags kDefaults;

std::chrono::milliseconds duration_flag(const std::string& text, std::string_view flag, bool zero_ok) {
  std::optional<int64_t> ns = text == "0" ? std::optional<int64_t>(0) : rt::parse_duration(text);
  if (!ns || *ns < 0 || (!zero_ok && *ns < 1000000))
    throw UsageError{fmt::format("{}: `{}` is not a duration{} (write 500ms, 10s, 1m)", flag, text,
                                 zero_ok ? "" : " of at least 1ms")};
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(*ns));
}

}  // namespace

void add_webhook_flags(CLI::App& run, WebhookFlags& f) {
  run.add_option("--webhook", f.url,
                 "Also POST every alert as JSON to URL (http:// or https://), retried until delivered "
                 "(docs/operations.md, Webhook)")
      ->type_name("URL");
  run.add_option("--webhook-header", f.headers,
                 "With --webhook: send this header too, e.g. 'Authorization: Bearer TOKEN' (repeatable; values are "
                 "never logged)")
      ->type_name("'NAME: VALUE'")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  run.add_option("--webhook-header-file", f.header_file,
                 "With --webhook: headers from FILE, one `Name: value` a line (keeps secrets out of the process "
                 "list)")
      ->type_name("FILE");
  run.add_option("--webhook-ca-file", f.ca_file, "With an https:// --webhook: trust the CAs in FILE (PEM) instead of "
                                                 "the system's")
      ->type_name("FILE");
  run.add_option("--webhook-timeout", f.timeout,
                 "With --webhook: the timeout to connect, and to send or read a response (default 10s)")
      ->type_name("DURATION");
  run.add_option("--webhook-min-backoff", f.min_backoff,
                 "With --webhook: about how long the first retry waits; each next one waits twice as long (default "
                 "500ms)")
      ->type_name("DURATION");
  run.add_option("--webhook-max-backoff", f.max_backoff,
                 "With --webhook: the longest wait between retries, also for a Retry-After (default 60s)")
      ->type_name("DURATION");
  run.add_option("--webhook-queue", f.queue,
                 "With --webhook: alerts queued in memory at most; when full, the engine waits (default 10000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}))
      ->type_name("N");
  run.add_option("--webhook-drain-timeout", f.drain_timeout,
                 "With --webhook: at the end of the input, how long to wait for undelivered alerts (default 30s)")
      ->type_name("DURATION");
  run.add_option("--webhook-dead-letter", f.dead_letter,
                 "With --webhook: append the alerts the receiver refuses for good (a 4xx) to FILE")
      ->type_name("FILE");
}

std::optional<host::WebhookOptions> webhook_options(const WebhookFlags& f) {
  if (f.url.empty()) {
    if (!f.headers.empty() || !f.header_file.empty() || !f.ca_file.empty() || f.timeout != kDefaults.timeout ||
        f.min_backoff != kDefaults.min_backoff || f.max_backoff != kDefaults.max_backoff ||
        f.queue != kDefaults.queue || f.drain_timeout != kDefaults.drain_timeout || !f.dead_letter.empty()) {
      throw UsageError{"the --webhook-* flags apply only with --webhook URL"};
    }
    return std::nullopt;
  }
  host::WebhookOptions o;
  try {
    o.url = host::parse_webhook_url(f.url);
    for (const std::string& h : f.headers) o.headers.push_back(host::parse_webhook_header(h));
    if (!f.header_file.empty()) {
      std::ifstream in(f.header_file);
      if (!in) throw UsageError{fmt::format("--webhook-header-file: cannot read `{}`", f.header_file)};
      uint64_t n = 0;
      for (std::string line; std::getline(in, line);) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
        try {
          o.headers.push_back(host::parse_webhook_header(line));
        } catch (const host::WebhookError& e) {
          throw UsageError{fmt::format("{}:{}: {}", f.header_file, n, e.what())};
        }
      }
    }
  } catch (const host::WebhookError& e) {
    throw UsageError{e.what()};
  }
  if (!f.ca_file.empty()) {
    if (o.url.scheme != "https") throw UsageError{"--webhook-ca-file applies only to an https:// --webhook"};
    if (::access(f.ca_file.c_str(), R_OK) != 0)
      throw UsageError{fmt::format("--webhook-ca-file: cannot read `{}`: {}", f.ca_file, std::strerror(errno))};
    o.ca_file = f.ca_file;
  }
  o.timeout = duration_flag(f.timeout, "--webhook-timeout", false);
  o.min_backoff = duration_flag(f.min_backoff, "--webhook-min-backoff", false);
  o.max_backoff = duration_flag(f.max_backoff, "--webhook-max-backoff", false);
  if (o.max_backoff < o.min_backoff)
    throw UsageError{"--webhook-max-backoff is shorter than --webhook-min-backoff"};
  duration_flag(f.drain_timeout, "--webhook-drain-timeout", true);
  o.queue = f.queue;
  o.dead_letter = f.dead_letter;
  o.user_agent = "braid/" BRAID_VERSION;
  o.log = [](const std::string& line) { err(fmt::format("braid: warning: {}\n", line)); };
  return o;
}

std::unique_ptr<host::WebhookSink> start_webhook(std::optional<host::WebhookOptions> options, const std::string& state_dir,
                                                const std::atomic<int>* stop) {
  std::string spool = state_dir.empty() ? std::string() : state_dir + "/webhook.spool";
  if (!options) {
    if (spool.empty()) return nullptr;
    uint64_t pending = 0;
    try {
      pending = host::spool_pending(spool);
    } catch (const host::WebhookError&) {
      pending = 0;  // not ours to judge without --webhook; a run with it says what is wrong
    }
    if (pending) {
      err(fmt::format("braid: warning: `{}` holds {} alert{} not yet delivered to a webhook: they are sent when "
                      "braid runs with --webhook again\n",
                      spool, pending, pending == 1 ? "" : "s"));
    }
    return nullptr;
  }
  options->spool = spool;
  options->stop = stop;
  // A receiver that closes a connection while braid writes to it must not kill the process: TLS writes go through
  // write(2), which raises SIGPIPE. Ignored, the write fails with EPIPE and the request is retried. (A closed
  // stdout then ends the run with a write error, exit 2, instead of the signal.)
  std::signal(SIGPIPE, SIG_IGN);
  try {
    auto sink = std::make_unique<host::WebhookSink>(std::move(*options));
    if (uint64_t resent = sink->stats().resent) {
      err(fmt::format("braid: webhook: {} undelivered alert{} from the last run queued again\n", resent,
                      resent == 1 ? "" : "s"));
    }
    return sink;
  } catch (const host::WebhookError& e) {
    throw UsageError{e.what()};
  }
}

bool finish_webhook(host::WebhookSink& sink, const WebhookFlags& f, bool stopped) {
  std::chrono::milliseconds limit = duration_flag(f.drain_timeout, "--webhook-drain-timeout", true);
  if (!(stopped && sink.spooled())) sink.drain(limit);
  host::WebhookStats s = sink.stats();
  if (sink.spooled() && s.queued) {
    err(fmt::format("braid: webhook: {} alert{} not delivered yet: kept in the spool, sent when braid runs again with "
                    "this --state\n",
                    s.queued, s.queued == 1 ? "" : "s"));
  }
  uint64_t lost = sink.lost();
  if (lost == 0) return true;
  std::vector<std::string> ids = sink.lost_ids();
  std::string list;
  for (const std::string& id : ids) list += (list.empty() ? "" : ", ") + id;
  err(fmt::format("braid: error: webhook: {} alert{} not delivered ({} refused for good without a dead-letter file, "
                  "{} still undelivered after --webhook-drain-timeout {}); ids: {}{}\n",
                  lost, lost == 1 ? " was" : "s were", s.failed - s.dead_lettered, lost - (s.failed - s.dead_lettered),
                  f.drain_timeout, list, ids.size() < lost ? ", ..." : ""));
  return false;
}

std::string webhook_stats_text(const host::WebhookSink* sink) {
  if (!sink) return "";
  host::WebhookStats s = sink->stats();
  return fmt::format("webhook            {} sent, {} delivered, {} retries, {} refused ({} dead-lettered), {} "
                     "queued{}\n",
                     s.sent, s.delivered, s.retries, s.failed, s.dead_lettered, s.queued,
                     s.resent || s.skipped ? fmt::format("; {} resent from the spool, {} already spooled", s.resent,
                                                         s.skipped)
                                           : "");
}

std::string webhook_stats_json(const host::WebhookSink* sink) {
  if (!sink) return "";
  host::WebhookStats s = sink->stats();
  return fmt::format(",\"webhook\":{{\"sent\":{},\"delivered\":{},\"retries\":{},\"failed\":{},\"dead_lettered\":{},"
                     "\"queued\":{},\"resent\":{},\"skipped\":{}}}",
                     s.sent, s.delivered, s.retries, s.failed, s.dead_lettered, s.queued, s.resent, s.skipped);
}

}  // namespace braid::cli
