// The command line's shared pieces: the verb table (one file per verb in verbs/, registered in verb_table.cpp),
// exit codes, output streams, the flags several verbs share, and compile_or_report. main.cpp builds the command
// line from the table; `braid --help`, `braid completion` and the tests of tests/cli derive the verb list from it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI
namespace braid {
struct Compilation;
struct DriverOptions;
}  // namespace braid
namespace braid::pack {
struct LoadedPack;
}  // namespace braid::pack

namespace braid::cli {

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

// The exit codes, the footer of `braid --help` and of each verb's help.
extern const char* const kExitCodesHelp;

// A usage problem found after parsing (e.g. a flag that does not apply): message + exit 2.
struct UsageError {
  std::string message;
};

void out(std::string_view s);
void err(std::string_view s);
// Colour decision for a stream: --color always/never, or auto (a terminal, NO_COLOR unset, TERM not dumb).
bool use_color(const std::string& mode, int fd);

// The global flags, given before or after the verb.
struct Globals {
  std::string format = "text";  // --format text|json|sarif
  std::string color = "auto";   // --color auto|always|never
  bool format_given = false;
};

// ---------------------------------------------------------------------------------------------------------------
// The verb table

// What runs a verb once the command line is parsed.
using VerbAction = std::function<int(const Globals&)>;

struct Verb {
  const char* name;
  const char* summary;  // its line in `braid --help`
  // Adds the verb's arguments and flags to `sub` (the subcommand, named and described from this entry, with the
  // exit codes as its footer) and returns the action. The action owns the flags' storage.
  VerbAction (*add)(CLI::App& sub);
};

// Every verb, in the order of `braid --help`.
std::span<const Verb> verb_table();

// One per file of verbs/ (the file is named after the verb).
VerbAction add_check_verb(CLI::App& sub);
VerbAction add_lint_verb(CLI::App& sub);
VerbAction add_fmt_verb(CLI::App& sub);
VerbAction add_explain_verb(CLI::App& sub);
VerbAction add_run_verb(CLI::App& sub);
VerbAction add_test_verb(CLI::App& sub);
VerbAction add_doc_verb(CLI::App& sub);
VerbAction add_keygen_verb(CLI::App& sub);
VerbAction add_build_verb(CLI::App& sub);
VerbAction add_inspect_verb(CLI::App& sub);
VerbAction add_lsp_verb(CLI::App& sub);
VerbAction add_import_verb(CLI::App& sub);
VerbAction add_completion_verb(CLI::App& sub);

// ---------------------------------------------------------------------------------------------------------------
// Shared flags and steps

// The engine flags of the verbs that run rules (run, test): --engine, --no-jit-cache, --distinct-bound.
struct EngineFlags {
  std::string engine = "jit";               // --engine: jit | interp
  bool jit_cache = true;                    // --no-jit-cache clears it
  std::optional<uint32_t> distinct_bound;   // --distinct-bound N: values kept per distinct()
};
void add_engine_flags(CLI::App& verb, EngineFlags& f);

// Compiles the rules of a verb that goes on to use the program (run, test, doc, build): prints every diagnostic,
// errors and warnings alike, on stderr, and on errors the verb's `refusal` line (when not empty). Returns the
// compilation, or nullptr with `rc` set to the exit code to end with: kExitUsage for unreadable paths (or no rule
// file), kExitFindings for errors in the rules.
std::unique_ptr<Compilation> compile_or_report(const std::vector<std::string>& paths, const DriverOptions& opts,
                                               const std::string& color, std::string_view refusal, int& rc);

// Case-insensitive edit distance, for "did you mean" suggestions (unknown verbs, unknown codes).
size_t edit_distance(std::string_view a, std::string_view b);

// The rule paths of run and test: the given ones, else `rules` when that directory exists, else a UsageError.
std::vector<std::string> default_rule_paths(const std::vector<std::string>& given, std::string_view verb);

// ---------------------------------------------------------------------------------------------------------------
// The verbs' options and entry points used across files

// check and lint (verbs/check.cpp): the diagnostics on stdout in --format; --list prints the rules after a clean check.
int run_check(const Globals& g, const std::vector<std::string>& paths, bool list, bool lint, bool strict,
              bool costly);

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
  EngineFlags engine;               // --engine, --no-jit-cache, --distinct-bound
  std::string color = "auto";
  std::vector<std::string> inputs;
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
int run_run(const RunOptions& o);  // verbs/run.cpp

struct TestOptions {
  std::vector<std::string> paths;   // empty: rules/ when it exists
  bool json = false;                // --format json
  EngineFlags engine;               // --engine, --no-jit-cache, --distinct-bound
  std::string color = "auto";
};
int run_test(const TestOptions& o);  // verbs/test.cpp

struct DocOptions {
  std::vector<std::string> paths;   // rule files or directories
  std::string output;               // -o (empty: stdout)
  std::string benign;               // --benign: alerts (NDJSON from `braid run`) over a benign stream
  std::string benign_command;       // --benign-command: how that file was made, quoted in the document
  std::string attack_layer;         // --attack-layer: also write the ATT&CK Navigator layer (JSON) there
  std::string color = "auto";
};
int run_doc(const DocOptions& o);  // verbs/doc.cpp

struct LspOptions {
  std::string stdlib_dir;           // --stdlib-dir: where the stdlib's files are written for editors to open
};
int run_lsp(const LspOptions& o);  // verbs/lsp.cpp: the language server on stdin/stdout

// `braid run --pack`: reads and verifies the pack against the trusted keys. A UsageError for unreadable files
// (exit 2); nullptr after printing the reason when the pack is refused (exit 1). In pack_files.cpp.
std::unique_ptr<pack::LoadedPack> load_pack_for_run(const RunOptions& o);

}  // namespace braid::cli
