// The runtime verbs of the CLI (`braid run`, `braid test`), implemented in run.cpp and test.cpp; main.cpp parses
// the command line and calls them. Shared pieces of the CLI live here too.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI
namespace braid::pack {
struct LoadedPack;
}  // namespace braid::pack

namespace braid::cli {

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

// A usage problem found after parsing (e.g. a flag that does not apply): message + exit 2.
struct UsageError {
  std::string message;
};

void out(std::string_view s);
void err(std::string_view s);
// Colour decision for a stream: --color always/never, or auto (a terminal, NO_COLOR unset, TERM not dumb).
bool use_color(const std::string& mode, int fd);

// `braid run --webhook*` (run_webhook.h; durations in the language's syntax).
struct WebhookFlags {
  std::string url;                       // --webhook URL ("": no webhook)
  std::vector<std::string> headers;      // --webhook-header 'Name: value' (repeatable)
  std::string header_file;               // --webhook-header-file FILE
  std::string ca_file;                   // --webhook-ca-file FILE (https)
  std::string timeout = "10s";           // --webhook-timeout
  std::string min_backoff = "500ms";     // --webhook-min-backoff
  std::string max_backoff = "60s";       // --webhook-max-backoff
  uint64_t queue = 10000;                // --webhook-queue
  std::string drain_timeout = "30s";     // --webhook-drain-timeout
  std::string dead_letter;               // --webhook-dead-letter FILE
};
void add_webhook_flags(CLI::App& run, WebhookFlags& f);  // run_webhook.cpp

struct RunOptions {
  std::vector<std::string> rules;   // --rules (empty: rules/ when it exists)
  std::string pack;                 // --pack: run a compiled rule pack instead of --rules
  std::vector<std::string> trusted_keys;  // --trusted-keys: public key files (KEYFILE.pub) a pack may be signed by
  bool allow_unsigned = false;      // --allow-unsigned: also run unsigned packs
  bool include_disabled = false;    // --include-disabled: also run the rules marked `enabled false`
  std::string output;               // --output (empty: stdout)
  WebhookFlags webhook;             // --webhook URL and its flags
  bool stats = false;
  std::string stats_format = "text";
  std::optional<uint32_t> distinct_bound;
  std::string color = "auto";
  std::vector<std::string> inputs;
  std::string engine = "jit";       // --engine: jit | interp
  bool jit_cache = true;            // --no-jit-cache clears it
  uint32_t threads = 1;             // --threads: worker threads preparing events (1: none)
  std::string state;                // --state DIR: checkpoints and restarts (state_dir.h)
  std::string checkpoint_interval = "60s";  // --checkpoint-interval
  bool close_at_end = false;        // --close-at-end: with --state, close sessions and windows at the end
  std::string metrics_addr;         // --metrics-addr HOST:PORT: Prometheus /metrics and /healthz (host/metrics.h)
  bool metrics_allow_remote = false;  // --metrics-allow-remote: allow a non-loopback --metrics-addr
  uint64_t max_open_sessions = 2000000;  // --max-open-sessions: the cap (0: none)
  std::string max_time_jump = "24h";  // --max-time-jump: how far one event may move its source's clock (0: no bound)
  uint64_t max_held_events = 1000000;  // --max-held-events: events held for reordering per source (0: no cap)
  uint64_t max_open_groups = 1000000;    // --max-open-groups: groups of group-scope rules (0: no cap)
  uint64_t max_chain_records = 2000000;  // --max-chain-records: mint and link records, all together (0: no cap)
  uint32_t max_partial_matches = 4096;   // --max-partial-matches: sequence starts per stage, rule and session
  std::string source_silence = "0";  // --source-silence: warn when a source delivers nothing for this long (0: off)
  bool follow = false;              // --follow: at the end of the inputs, wait for more (tail -F)
  std::string poll_interval = "1s";  // --poll-interval: with --follow, how often to look for new input
  uint32_t alert_events = 0;        // --alert-events N: raw events per step in alerts (0: off)
  std::string bad_records;          // --bad-records FILE: the quarantine file of bad records (NDJSON)
};
int run_run(const RunOptions& o);

struct TestOptions {
  std::vector<std::string> paths;   // empty: rules/ when it exists
  bool json = false;                // --format json
  std::optional<uint32_t> distinct_bound;
  std::string color = "auto";
  std::string engine = "jit";       // --engine: jit | interp
  bool jit_cache = true;
};
int run_test(const TestOptions& o);

struct DocOptions {
  std::vector<std::string> paths;   // rule files or directories
  std::string output;               // -o (empty: stdout)
  std::string benign;               // --benign: alerts (NDJSON from `braid run`) over a benign stream
  std::string benign_command;       // --benign-command: how that file was made, quoted in the document
  std::string attack_layer;         // --attack-layer: also write the ATT&CK Navigator layer (JSON) there
  std::string color = "auto";
};
int run_doc(const DocOptions& o);  // doc.cpp

struct LspOptions {
  std::string stdlib_dir;           // --stdlib-dir: where the stdlib's files are written for editors to open
};
int run_lsp(const LspOptions& o);  // lsp.cpp: the language server on stdin/stdout

// The pack verbs (keygen, build, inspect) live in pack_verbs.cpp. main.cpp registers them on its app and, after
// parsing, asks them to run; nullopt: none of them was given.
struct PackVerbs;
std::shared_ptr<PackVerbs> add_pack_verbs(CLI::App& app, const char* footer);
std::optional<int> run_pack_verbs(const PackVerbs& v, const std::string& format, bool format_given,
                                  const std::string& color);
// `braid run --pack`: reads and verifies the pack against the trusted keys. A UsageError for unreadable files
// (exit 2); nullptr after printing the reason when the pack is refused (exit 1).
std::unique_ptr<pack::LoadedPack> load_pack_for_run(const RunOptions& o);

// The rule paths of run and test: the given ones, else `rules` when that directory exists, else a UsageError.
std::vector<std::string> default_rule_paths(const std::vector<std::string>& given, std::string_view verb);

}  // namespace braid::cli
