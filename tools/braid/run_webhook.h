// `braid run --webhook URL`: the flags, their checks, and the run's use of the sink (host/webhook.h). run.cpp calls
// these; docs/operations.md ("Webhook") says what an operator can rely on.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "host/webhook.h"
#include "verbs.h"

namespace braid::cli {

// Some alerts were neither delivered to the webhook, nor written to its dead-letter file, nor spooled for the next
// run (docs/cli.md, "Exit codes").
constexpr int kExitUndelivered = 3;

// Checks the flags before the rules are compiled: a UsageError (exit 2) for a bad URL, header, duration or file.
// nullopt without --webhook (the other --webhook-* flags are then refused).
std::optional<host::WebhookOptions> webhook_options(const WebhookFlags& f);

// Starts the sink (with --state, its spool `DIR/webhook.spool`: undelivered alerts of the last run go first).
// Without --webhook, warns when DIR's spool still holds undelivered alerts. A UsageError when the spool or the
// dead-letter file cannot be used.
std::unique_ptr<host::WebhookSink> start_webhook(std::optional<host::WebhookOptions> options, const std::string& state_dir,
                                                const std::atomic<int>* stop);

// The end of the run: waits for the queue to drain (--webhook-drain-timeout; not after a stop signal with a spool,
// which keeps the rest), then reports on stderr what was not delivered. False when alerts were lost (exit 3).
bool finish_webhook(host::WebhookSink& sink, const WebhookFlags& f, bool stopped);

// The `webhook` line of --stats and the `"webhook":{...}` member of --stats-format json ("" without --webhook).
std::string webhook_stats_text(const host::WebhookSink* sink);
std::string webhook_stats_json(const host::WebhookSink* sink);

}  // namespace braid::cli
