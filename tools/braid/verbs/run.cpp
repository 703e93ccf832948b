// braid run: compile the rules (or load a verified rule pack: --pack), stream the inputs through the reference engine, write alerts as NDJSON.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/render.h"
#include "driver/driver.h"
#include "engine/alert.h"
#include "engine/engine.h"
#include "engine/raw_json.h"
#include "host/metrics.h"
#include "input/convert.h"
#include "input/reader.h"
#include "ir/ir.h"
#include "jit_setup.h"
#include "json_tree.h"
#include "pack/pack.h"
#include "run_webhook.h"
#include "state_dir.h"
#include "verbs.h"

namespace braid::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Most reader-level warnings (records over the size limit, unreadable files) printed; counts stay exact.
constexpr uint64_t kMaxReaderWarnings = 100;

// The progress line on stderr (only when stderr is a terminal). Warnings clear it before they print.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(Clock::now()), last_(start_) {}

  void tick(uint64_t records, uint64_t alerts) {
    if (!enabled_ || (records & 1023) != 0) return;
    Clock::time_point now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    std::string line = fmt::format("\r{} events, {:.0f} events/s, {} alert{}\x1b[K", records,
                                   secs > 0 ? static_cast<double>(records) / secs : 0.0, alerts,
                                   alerts == 1 ? "" : "s");
    std::fwrite(line.data(), 1, line.size(), stderr);
    shown_ = true;
  }
  void clear() {
    if (!shown_) return;
    std::fputs("\r\x1b[K", stderr);
    shown_ = false;
  }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  bool enabled_;
  bool shown_ = false;
  Clock::time_point start_, last_;
};

std::string ms(uint64_t nanos) { return fmt::format("{:.3f} ms", static_cast<double>(nanos) / 1e6); }

struct Totals {
  uint64_t read = 0, malformed = 0;  // the engine's counts plus records the reader refused (over the size limit)
  uint64_t inputs = 0, bytes = 0;
  double seconds = 0;
  uint64_t reloads_ok = 0, reloads_failed = 0;  // SIGHUP reloads accepted / refused
};

std::string stats_text(const rt::EngineStats& s, const Totals& t, const std::vector<rt::ChainInfo>& chains,
                       const PreparedEngine& pe, const host::WebhookSink* webhook) {
  std::string o;
  o += fmt::format("braid run: {} records from {} input{} ({} bytes) in {:.3f} s\n", t.read, t.inputs,
                   t.inputs == 1 ? "" : "s", t.bytes, t.seconds);
  o += jit_stats_text(pe);
  o += fmt::format("json kernel        {}\n", rt::simd_kernel_name());
  o += fmt::format("events read        {}\n", t.read);
  o += fmt::format("events parsed      {}\n", s.events_parsed);
  o += fmt::format("malformed          {}\n", t.malformed);
  o += fmt::format("unrouted           {}\n", s.unrouted);
  o += fmt::format("no time            {}\n", s.no_time);
  o += fmt::format("late               {}\n", s.late);
  o += fmt::format("quarantined        {}\n", s.quarantined);
  o += fmt::format("released early     {}\n", s.released_early);
  o += fmt::format("no identity        {}\n", s.no_identity);
  o += fmt::format("type mismatches    {}\n", s.type_mismatches);
  o += fmt::format("sessions opened    {}\n", s.sessions_opened);
  o += fmt::format("sessions closed    {} ({} evicted at the open-session cap)\n", s.sessions_closed,
                   s.sessions_evicted);
  o += fmt::format("chains             {} (longest: {} sessions), {} links\n", s.chains, s.chain_max_depth,
                   s.chain_links);
  o += fmt::format("mints              {} recorded, {} evicted\n", s.mints_recorded, s.mints_evicted);
  o += fmt::format("link parents       {} recorded, {} evicted\n", s.link_parents_recorded, s.link_parents_evicted);
  if (s.chain_records_evicted)
    o += fmt::format("chain record cap   {} mint and link records evicted\n", s.chain_records_evicted);
  if (s.partial_matches_dropped)
    o += fmt::format("partial-match cap  {} sequence starts dropped\n", s.partial_matches_dropped);
  if (s.groups_opened || s.no_group_key)
    o += fmt::format("groups             {} opened, {} closed ({} evicted at the open-group cap), {} open; {} events "
                     "with a null key part\n",
                     s.groups_opened, s.groups_closed, s.groups_evicted, s.groups_live, s.no_group_key);
  o += fmt::format("in memory          {} sessions, {} chains ({} chains retired)\n", s.sessions_live, s.chains_live,
                   s.chains_retired);
  if (!s.worker_nanos.empty()) {
    o += fmt::format("threads            {} preparing:", s.worker_nanos.size());
    for (uint64_t ns : s.worker_nanos) o += fmt::format(" {:.3f} s", static_cast<double>(ns) / 1e9);
    o += fmt::format("; in order: {:.3f} s preparing, {:.3f} s waiting for them\n",
                     static_cast<double>(s.help_nanos) / 1e9, static_cast<double>(s.wait_nanos) / 1e9);
  }
  if (s.prefilter_scans)
    o += fmt::format("prefilter          {} fields scanned, {} literals found, {} predicates selected\n",
                     s.prefilter_scans, s.prefilter_literals, s.prefilter_selected);
  o += fmt::format("alerts             {} ({} suppressed)\n", s.alerts, s.suppressed);
  if (t.reloads_ok || t.reloads_failed)
    o += fmt::format("reloads            {} ok, {} failed\n", t.reloads_ok, t.reloads_failed);
  o += webhook_stats_text(webhook);
  o += "sources:\n";
  for (const rt::SourceStats& src : s.sources) {
    o += fmt::format("  {:<24} {} events, {} late, {} quarantined, {} released early, {} without identity, sessions {} "
                     "opened / {} closed\n",
                     src.name, src.events, src.late, src.quarantined, src.released_early, src.no_identity,
                     src.sessions_opened, src.sessions_closed);
  }
  size_t listed = 0;
  for (const rt::ChainInfo& c : chains) {
    if (c.sessions < 2) continue;
    if (listed == 0) o += "chains (2+ sessions, largest first):\n";
    if (++listed > 10) {
      o += "  ...\n";
      break;
    }
    o += fmt::format("  {} sessions, depth {}, {} events, root {} ({})\n", c.sessions, c.depth, c.events,
                     sanitize_utf8(c.root_identity), c.root_session);
  }
  o += "rules:\n";
  size_t w = 4;
  for (const rt::RuleStats& r : s.rules) w = std::max(w, r.id.size());
  o += fmt::format("  {:<{}}  {:>7}  {:>10}  {:>11}  {:>12}\n", "RULE", w, "ALERTS", "SUPPRESSED", "EVALUATIONS",
                   "TIME");
  for (const rt::RuleStats& r : s.rules) {
    o += fmt::format("  {:<{}}  {:>7}  {:>10}  {:>11}  {:>12}\n", r.id, w, r.alerts, r.suppressed, r.evaluations,
                     ms(r.nanos));
  }
  return o;
}

std::string stats_json(const rt::EngineStats& s, const Totals& t, const std::vector<rt::ChainInfo>& chains,
                       const PreparedEngine& pe, const host::WebhookSink* webhook) {
  using json::quote;
  std::string o = "{\"version\":1";
  o += jit_stats_json(pe);
  o += fmt::format(",\"json_kernel\":{}", quote(std::string(rt::simd_kernel_name())));
  o += fmt::format(",\"inputs\":{},\"bytes\":{},\"seconds\":{:.6f}", t.inputs, t.bytes, t.seconds);
  o += fmt::format(",\"events_read\":{},\"events_parsed\":{},\"malformed\":{},\"unrouted\":{},\"no_time\":{}",
                   t.read, s.events_parsed, t.malformed, s.unrouted, s.no_time);
  o += fmt::format(",\"late\":{},\"quarantined\":{},\"released_early\":{},\"no_identity\":{},\"type_mismatches\":{}",
                   s.late, s.quarantined, s.released_early, s.no_identity, s.type_mismatches);
  o += fmt::format(",\"sessions_opened\":{},\"sessions_closed\":{},\"sessions_evicted\":{}", s.sessions_opened,
                   s.sessions_closed, s.sessions_evicted);
  o += fmt::format(",\"chains\":{},\"chain_links\":{},\"chain_max_depth\":{}", s.chains, s.chain_links,
                   s.chain_max_depth);
  o += fmt::format(",\"mints_recorded\":{},\"mints_evicted\":{}", s.mints_recorded, s.mints_evicted);
  o += fmt::format(",\"link_parents_recorded\":{},\"link_parents_evicted\":{}", s.link_parents_recorded,
                   s.link_parents_evicted);
  o += fmt::format(",\"chain_records_evicted\":{},\"partial_matches_dropped\":{}", s.chain_records_evicted,
                   s.partial_matches_dropped);
  o += fmt::format(",\"sessions_live\":{},\"chains_live\":{},\"chains_retired\":{}", s.sessions_live,
                   s.chains_live, s.chains_retired);
  o += fmt::format(",\"groups_opened\":{},\"groups_closed\":{},\"groups_evicted\":{},\"groups_live\":{},"
                   "\"no_group_key\":{}",
                   s.groups_opened, s.groups_closed, s.groups_evicted, s.groups_live, s.no_group_key);
  o += fmt::format(",\"threads\":{},\"worker_seconds\":[", std::max<size_t>(1, s.worker_nanos.size()));
  for (size_t i = 0; i < s.worker_nanos.size(); ++i)
    o += fmt::format("{}{:.6f}", i ? "," : "", static_cast<double>(s.worker_nanos[i]) / 1e9);
  o += fmt::format("],\"wait_seconds\":{:.6f},\"engine_prepare_seconds\":{:.6f}",
                   static_cast<double>(s.wait_nanos) / 1e9, static_cast<double>(s.help_nanos) / 1e9);
  o += fmt::format(",\"prefilter_scans\":{},\"prefilter_literals\":{},\"prefilter_selected\":{}",
                   s.prefilter_scans, s.prefilter_literals, s.prefilter_selected);
  o += fmt::format(",\"alerts\":{},\"suppressed\":{}", s.alerts, s.suppressed);
  o += fmt::format(",\"reloads_ok\":{},\"reloads_failed\":{}", t.reloads_ok, t.reloads_failed);
  o += ",\"sources\":[";
  for (size_t i = 0; i < s.sources.size(); ++i) {
    const rt::SourceStats& src = s.sources[i];
    o += fmt::format("{}{{\"name\":{},\"events\":{},\"late\":{},\"quarantined\":{},\"released_early\":{},"
                     "\"no_identity\":{},\"sessions_opened\":{},\"sessions_closed\":{}}}",
                     i ? "," : "", quote(src.name), src.events, src.late, src.quarantined, src.released_early,
                     src.no_identity, src.sessions_opened, src.sessions_closed);
  }
  o += "],\"rules\":[";
  for (size_t i = 0; i < s.rules.size(); ++i) {
    const rt::RuleStats& r = s.rules[i];
    o += fmt::format("{}{{\"id\":{},\"alerts\":{},\"suppressed\":{},\"evaluations\":{},\"nanos\":{}}}", i ? "," : "",
                     quote(r.id), r.alerts, r.suppressed, r.evaluations, r.nanos);
  }
  // The chains with two or more sessions, largest first (at most 1000).
  o += "],\"chain_list\":[";
  size_t listed = 0;
  for (const rt::ChainInfo& c : chains) {
    if (c.sessions < 2 || listed == 1000) continue;
    o += fmt::format("{}{{\"root_session\":{},\"root_identity\":{},\"sessions\":{},\"depth\":{},\"events\":{}}}",
                     listed ? "," : "", quote(c.root_session), quote(c.root_identity), c.sessions, c.depth,
                     c.events);
    ++listed;
  }
  o += "]" + webhook_stats_json(webhook) + "}\n";
  return o;
}

// Inputs are checked before anything runs, so that a typo fails at once (exit 2) rather than after the rest.
void check_inputs(const std::vector<std::string>& inputs) {
  for (const std::string& in : inputs) {
    if (in == "-") continue;
    struct stat st {};
    if (::stat(in.c_str(), &st) != 0) {
      throw UsageError{fmt::format("cannot read input `{}`: {}", sanitize_utf8(in), std::strerror(errno))};
    }
    if (!S_ISDIR(st.st_mode) && ::access(in.c_str(), R_OK) != 0) {
      throw UsageError{fmt::format("cannot read input `{}`: {}", sanitize_utf8(in), std::strerror(errno))};
    }
  }
}

// --bad-records: one line per bad record. Its key (what a restart with --state deduplicates by) is the text up to
// `,"reason"`: kind, input, line and element name one record.
std::string bad_record_line(std::string_view kind, std::string_view input, uint64_t line, uint32_t element,
                            std::string_view reason, const std::string_view* record, uint64_t size) {
  std::string o = "{\"kind\":";
  append_json_quoted(o, kind);
  o += ",\"input\":";
  append_json_quoted(o, input);
  o += fmt::format(",\"line\":{},\"element\":", line);
  o += element == rt::kNoElement ? std::string("null") : std::to_string(element);
  o += ",\"reason\":";
  append_json_quoted(o, reason);
  if (record) {
    o += fmt::format(",\"size\":{},\"truncated\":{},\"record\":", size, record->size() < size ? "true" : "false");
    append_json_quoted(o, *record);
  } else {
    o += ",\"size\":null,\"truncated\":false,\"record\":null";
  }
  o += '}';
  return o;
}
std::string bad_record_key(std::string_view line) {
  size_t at = line.find(",\"reason\":");
  return std::string(line.substr(0, at));
}

// A duration flag, in the language's syntax (`30s`, `5m`, `1h30m`, `500ms`); "0" is zero.
int64_t parse_interval(const std::string& text, std::string_view flag) {
  if (text == "0") return 0;
  std::optional<int64_t> ns = rt::parse_duration(text);
  if (!ns || *ns < 0) throw UsageError{fmt::format("{}: `{}` is not a duration (write 30s, 5m, 1h or 500ms)", flag, text)};
  return *ns;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Silent sources. The engine knows event time only; a source that stops delivering is noticed in wall time: when
// its event count last grew (braid_source_last_event_received_timestamp_seconds), and, with --source-silence D, a
// warning once a source that delivered goes D without an event (said again only after it delivers again).
class SourceWatch {
 public:
  explicit SourceWatch(double silence_seconds) : silence_(silence_seconds) {}
  bool enabled() const { return silence_ > 0; }
  template <class Warn>
  void update(const rt::EngineStats& s, double now, Warn&& warn) {
    if (events_.size() != s.sources.size()) {
      events_.assign(s.sources.size(), 0);
      last_.assign(s.sources.size(), 0);
      silent_.assign(s.sources.size(), false);
    }
    for (size_t i = 0; i < s.sources.size(); ++i) {
      if (s.sources[i].events != events_[i]) {
        events_[i] = s.sources[i].events;
        last_[i] = now;
        silent_[i] = false;
      } else if (enabled() && last_[i] > 0 && !silent_[i] && now - last_[i] >= silence_) {
        silent_[i] = true;
        warn(fmt::format("source {} has delivered no event for {:.0f} s (--source-silence); its last event came "
                         "at {} (wall time)",
                         s.sources[i].name, now - last_[i],
                         rt::format_time_rfc3339(static_cast<int64_t>(last_[i]) * 1000000000)));
      }
    }
  }
  const std::vector<double>& last_seen() const { return last_; }

 private:
  double silence_;
  std::vector<uint64_t> events_;
  std::vector<double> last_;
  std::vector<bool> silent_;
};

// SIGTERM and SIGINT with --state: stop reading, take a checkpoint, exit 0.
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }
// SIGHUP: reload the rules (at the next 256-record boundary, or while waiting for input).
std::atomic<bool> g_hangup{false};
extern "C" void on_hangup_signal(int) { g_hangup.store(true); }

// A rule set as `braid run` runs it: the program (compiled from --rules, or a verified --pack), its id (a digest
// of the compiled rules, recorded in checkpoints) and its evaluator (the JIT's code; none for the interpreter).
struct RuleSet {
  std::unique_ptr<Compilation> c;
  std::unique_ptr<pack::LoadedPack> pack;
  const ir::Program* program = nullptr;
  std::unique_ptr<PreparedEngine> prepared;
  // The program id (ProgramDigest), for checkpoints and reloads only: computed when first asked for, since dumping
  // a large program costs a few milliseconds of start-up.
  const std::string& id() const {
    if (id_.empty()) id_ = ProgramDigest::of(ir::dump(*program));
    return id_;
  }

 private:
  mutable std::string id_;
};

// Loads the rules named by --rules or --pack (a pack is verified against --trusted-keys exactly as at start-up),
// printing the diagnostics (errors and warnings) on stderr. Returns the exit code a start ends with when they
// fail (kExitClean: loaded). Unreadable files throw UsageError. The evaluator is prepared apart (prepare_engine).
int load_rules(const RunOptions& o, const std::vector<std::string>& rule_paths, RuleSet& rs) {
  if (!o.pack.empty()) {
    rs.pack = load_pack_for_run(o);
    if (!rs.pack) return kExitFindings;
    rs.program = &rs.pack->program;
  } else {
    int rc = kExitClean;
    DriverOptions dopt;
    dopt.skip_tests = true;  // a run never reads them; they are most of what start-up would parse
    rs.c = compile_or_report(rule_paths, dopt, o.color, "", rc);
    if (!rs.c) return rc;
    rs.program = rs.c->program.get();
  }
  return kExitClean;
}

// What a reload (or a restart with other rules) did with the state: one summary line after `head`, then a line
// per rule that did not keep its state, and what the new rules cannot see in the state carried over.
std::string carry_text(std::string_view head, const rt::CarryReport& r) {
  std::string o = fmt::format("braid: {}: {} kept, {} changed, {} added, {} removed", head, r.kept.size(),
                              r.changed.size(), r.added.size(), r.removed.size());
  if (!r.reset.empty()) o += fmt::format(", {} reset", r.reset.size());
  o += "\n";
  for (const auto& id : r.changed) o += fmt::format("braid: rule {} changed: it starts empty\n", id);
  for (const auto& id : r.added) o += fmt::format("braid: rule {} added: it sees the events from now on\n", id);
  for (const auto& id : r.removed) o += fmt::format("braid: rule {} removed: its state is dropped\n", id);
  for (const auto& id : r.reset)
    o += fmt::format("braid: rule {} unchanged but reset: a step of it is also a step of a changed or added rule, "
                     "whose counts must start empty\n",
                     id);
  if (r.held_missing_fields)
    o += fmt::format("braid: note: {} of the {} events held for reordering were read before: fields that no rule "
                     "read then are null in them\n",
                     r.held_missing_fields, r.held_events);
  for (const auto& n : r.notes) o += fmt::format("braid: note: {}\n", n);
  return o;
}

}  // namespace

int run_run(const RunOptions& o) {
  if (!o.pack.empty() && !o.rules.empty()) throw UsageError{"--pack and --rules exclude each other"};
  if (o.pack.empty() && (!o.trusted_keys.empty() || o.allow_unsigned)) {
    throw UsageError{"--trusted-keys and --allow-unsigned apply only to --pack"};
  }
  if (o.inputs.empty()) throw UsageError{"run needs at least one INPUT (a file, a directory, or - for stdin)"};
  std::vector<std::string> rule_paths = o.pack.empty() ? default_rule_paths(o.rules, "run") : std::vector<std::string>{};
  check_inputs(o.inputs);
  if (!o.metrics_addr.empty()) {
    try {
      host::parse_listen_address(o.metrics_addr);  // a bad address fails before the rules are compiled
    } catch (const host::MetricsError& e) {
      throw UsageError{e.what()};
    }
  }
  std::optional<host::WebhookOptions> webhook_opts = webhook_options(o.webhook);  // likewise a bad --webhook
  if (o.alert_events > rt::kMaxAlertEvents) {
    throw UsageError{fmt::format("--alert-events: {} is above the maximum, {} (every alert embeds up to N events per "
                                 "step)",
                                 o.alert_events, rt::kMaxAlertEvents)};
  }
  const bool bad_to_file = !o.bad_records.empty();
  if (bad_to_file && (o.bad_records == o.output || o.bad_records == "-"))
    throw UsageError{"--bad-records: give a file other than the alert output"};

  // The program comes from the sources (parse + check) or from a pack (verified, no parser or checker). SIGHUP
  // loads it again from the same arguments (reload, below).
  auto rules = std::make_unique<RuleSet>();
  if (int rc = load_rules(o, rule_paths, *rules); rc != kExitClean) {
    if (o.pack.empty() && rc == kExitFindings) err("braid: not running: the rules have errors (see `braid check`)\n");
    return rc;
  }

  // --state: the state directory, its last checkpoint, and the alert file that continues from it.
  const bool to_file = !o.output.empty() && o.output != "-";
  std::unique_ptr<StateDir> state;
  std::optional<Checkpoint> restored;
  std::unique_ptr<AlertFile> alert_file;
  std::chrono::milliseconds checkpoint_every{0};
  if (o.state.empty() && (o.close_at_end || o.checkpoint_interval != "60s"))
    throw UsageError{"--close-at-end and --checkpoint-interval apply only with --state"};
  // --follow: the inputs are read again as they grow, every --poll-interval, until SIGTERM or SIGINT.
  std::chrono::milliseconds poll_every{0};
  if (o.follow) {
    for (const std::string& in : o.inputs) {
      if (in == "-") {
        throw UsageError{"--follow reads files and directories again as they grow; standard input (`-`) is read "
                         "until it ends without it: drop --follow, or give files or directories"};
      }
    }
    poll_every = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(parse_interval(o.poll_interval, "--poll-interval")));
    if (poll_every.count() <= 0) throw UsageError{"--poll-interval: must be at least 1ms (for example 1s)"};
  } else if (o.poll_interval != "1s") {
    throw UsageError{"--poll-interval applies only with --follow"};
  }
  if (!o.state.empty()) {
    for (const std::string& in : o.inputs) {
      if (in == "-") {
        throw UsageError{"--state cannot be used with standard input (`-`): a restart could not re-read what stdin "
                         "delivered after the last checkpoint; give files or directories"};
      }
    }
    checkpoint_every = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(parse_interval(o.checkpoint_interval, "--checkpoint-interval")));
    state = std::make_unique<StateDir>(o.state);
    try {
      restored = state->load();
    } catch (const StateFileError& e) {
      err(fmt::format("braid: error: --state: {}\n", e.message));
      return kExitUsage;
    }
    // A checkpoint of other rules is carried over to these by the reload rules (below, when it is loaded).
    if (to_file) {
      std::optional<uint64_t> covered;
      if (restored && restored->output == o.output) covered = restored->output_size;
      std::string warning;
      try {
        alert_file = std::make_unique<AlertFile>(o.output, covered, warning);
      } catch (const StateFileError& e) {
        throw UsageError{e.message};
      }
      if (restored && restored->output != o.output) {
        warning = fmt::format("the last checkpoint wrote its alerts to `{}`, this run to `{}`: alerts decided again "
                              "after the restart are not checked against the old file",
                              restored->output.empty() ? "stdout" : restored->output, o.output);
      }
      if (!warning.empty()) err(fmt::format("braid: warning: --state: {}\n", sanitize_utf8(warning)));
    }
  }
  // --bad-records: with --state kept like the alert file (appended, synced before each checkpoint, the lines of
  // records read again after a restart not written twice); without, written anew.
  std::unique_ptr<AlertFile> bad_file;
  FILE* bad_sink = nullptr;
  if (bad_to_file && state) {
    std::optional<uint64_t> covered;
    if (restored && restored->bad_records == o.bad_records) covered = restored->bad_records_size;
    std::string warning;
    try {
      bad_file = std::make_unique<AlertFile>(o.bad_records, covered, warning, bad_record_key);
    } catch (const StateFileError& e) {
      throw UsageError{e.message};
    }
    if (restored && restored->bad_records != o.bad_records) {
      warning = fmt::format("the last checkpoint wrote bad records to `{}`, this run to `{}`: records read again after "
                            "the restart are not checked against the old file",
                            restored->bad_records.empty() ? "none" : restored->bad_records, o.bad_records);
    }
    if (!warning.empty()) err(fmt::format("braid: warning: --state: {}\n", sanitize_utf8(warning)));
  } else if (bad_to_file) {
    bad_sink = std::fopen(o.bad_records.c_str(), "wb");
    if (!bad_sink)
      throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(o.bad_records), std::strerror(errno))};
  }
  bool bad_write_failed = false;
  auto write_bad = [&](const std::string& line) {
    if (bad_file) {
      if (!bad_file->write(bad_record_key(line), line)) bad_write_failed = true;
    } else if (bad_sink) {
      if (std::fwrite(line.data(), 1, line.size(), bad_sink) != line.size() || std::fputc('\n', bad_sink) == EOF)
        bad_write_failed = true;
    }
  };
  auto flush_bad = [&] {
    if (bad_file ? !bad_file->flush() : bad_sink && std::fflush(bad_sink) != 0) bad_write_failed = true;
  };
  // SIGTERM and SIGINT stop reading (then checkpoint, or close everything) where stopping cleanly matters: with a
  // state directory, when following, and when a webhook has alerts to deliver.
  const bool stoppable = state || o.follow || !o.webhook.url.empty();
  // SIGHUP reloads the rules (its default action would end the process).
  std::signal(SIGHUP, on_hangup_signal);
  if (stoppable) {
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGINT, on_stop_signal);
  }
  FILE* sink = stdout;
  if (to_file && !alert_file) {
    sink = std::fopen(o.output.c_str(), "wb");
    if (!sink) {
      throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(o.output), std::strerror(errno))};
    }
  }

  // --webhook: delivery starts now (with --state, the last run's undelivered alerts first).
  std::unique_ptr<host::WebhookSink> webhook = start_webhook(std::move(webhook_opts), o.state, &g_stop_signal);
  const EngineChoice engine_choice{o.engine.engine, o.engine.jit_cache};
  rules->prepared = prepare_engine(*rules->program, rules->pack.get(), engine_choice);
  if (!rules->prepared) return kExitUsage;

  Progress progress(::isatty(STDERR_FILENO) != 0);
  const int64_t max_time_jump = parse_interval(o.max_time_jump, "--max-time-jump");
  uint64_t alerts = 0;
  bool write_failed = false;
  const rt::AlertSink alert_sink = [&](const rt::Alert& a) {
    std::string line = rt::render_alert_json(a);
    if (webhook && !webhook->send(a.id, line)) write_failed = true;  // the spool failed (logged)
    if (alert_file) {
      if (!alert_file->write(a.id, line)) write_failed = true;
    } else {
      line += '\n';
      if (std::fwrite(line.data(), 1, line.size(), sink) != line.size()) write_failed = true;
    }
    ++alerts;
  };
  // An engine for a rule set, with the run's options; the same at start-up and at each reload.
  auto make_engine = [&](const RuleSet& rs) {
    rt::EngineOptions eo;
    eo.matcher = rs.prepared->matcher();
    eo.threads = o.threads;
    eo.matcher_factory = [pe = rs.prepared.get()] { return pe->matcher(); };
    eo.rule_timing = o.stats;
    // Rules marked `enabled false` run only on request (--include-disabled); otherwise say that they are skipped.
    size_t disabled = 0;
    for (const auto& r : rs.program->rules) disabled += r.meta.enabled ? 0 : 1;
    if (o.include_disabled) {
      for (const auto& r : rs.program->rules) eo.only_rules.push_back(r.id);
      eo.include_disabled = true;
    } else if (disabled > 0) {
      err(fmt::format("braid: note: {} rule{} marked `enabled false` {} not run; --include-disabled runs {}\n",
                      disabled, disabled == 1 ? "" : "s", disabled == 1 ? "is" : "are", disabled == 1 ? "it" : "them"));
    }
    eo.max_open_sessions = o.max_open_sessions;
    eo.max_held_events = o.max_held_events;
    eo.max_chain_records = o.max_chain_records;
    eo.max_open_groups = o.max_open_groups;
    eo.max_partial_matches = o.max_partial_matches;
    eo.max_time_jump = max_time_jump;
    if (o.engine.distinct_bound) eo.distinct_bound = *o.engine.distinct_bound;
    eo.alert_events = o.alert_events;
    if (bad_to_file) {
      eo.on_bad_record = [&](const rt::BadRecord& b) {
        write_bad(bad_record_line(b.kind, b.input, b.line, b.element, b.reason, &b.record, b.size));
      };
    }
    eo.on_warning = [&](const std::string& w) {
      progress.clear();
      err(fmt::format("braid: warning: {}\n", sanitize_utf8(w)));
    };
    auto e = std::make_unique<rt::Engine>(*rs.program, eo);
    e->set_sink(alert_sink);
    return e;
  };
  std::unique_ptr<rt::Engine> engine = make_engine(*rules);
  if (restored) {
    // A checkpoint of other rules (a restart after the rules changed) is carried over by the reload rules.
    const bool other = restored->program_id != rules->id();
    rt::CarryReport carried;
    try {
      engine->load_state(restored->engine_state, rules->id(), &carried);
    } catch (const rt::StateError& e) {
      std::string why = e.what();
      if (other)
        why = fmt::format("it was taken with other rules (program {}, now {}), and cannot be carried over to these: {}",
                          restored->program_id, rules->id(), why);
      err(fmt::format("braid: error: --state: `{}`: {}; to start fresh, move it away (the alert file is kept; "
                      "inputs are then read from their start)\n",
                      sanitize_utf8(state->checkpoint_path()), why));
      return kExitUsage;
    }
    if (other) err(carry_text("--state: the checkpoint was taken with other rules; carried over", carried));
  }

  // The engine is fed record by record (rather than through Engine::process_inputs) so that the progress line
  // can be updated while a large file is read. Records the reader refuses before they reach the engine (over
  // the size limit) are counted here as malformed.
  rt::ReaderOptions reader_options;
  reader_options.hold_partial_line = o.follow;  // a line still being written is read once it is complete
  reader_options.read_ahead = o.threads > 1;    // the engine's thread only admits: files are read beside it
  rt::RecordReader reader(reader_options);
  for (const std::string& in : o.inputs) reader.add_path(in);
  bool unreadable = false;
  uint64_t refused = 0, reader_warnings = 0;
  reader.set_error_handler([&](const rt::InputError& e) {
    if (e.kind == rt::InputErrorKind::Unreadable) unreadable = true;
    if (rt::input_error_is_record(e.kind)) {
      ++refused;
      if (bad_to_file) {  // over the size limit: its text was never read; after the records before it
        engine->flush();
        write_bad(bad_record_line(rt::input_error_kind_name(e.kind), e.path, e.origin.line, e.origin.element,
                                  e.reason, nullptr, 0));
      }
    }
    if (reader_warnings++ < kMaxReaderWarnings) {
      progress.clear();
      err(fmt::format("braid: warning: {}: {}\n", sanitize_utf8(e.to_string()), rt::input_error_kind_name(e.kind)));
    }
  });
  if (restored) reader.resume(restored->positions);
  // --metrics-addr: the endpoint's threads serve copies of the statistics that this thread (the engine's)
  // publishes between records, at most every second, and at the end.
  std::unique_ptr<host::MetricsServer> metrics;
  auto last_publish = Clock::now();
  // Silent sources: when each source's event count last grew (wall time), and --source-silence warnings.
  SourceWatch watch(static_cast<double>(parse_interval(o.source_silence, "--source-silence")) / 1e9);
  host::MetricsSnapshot::Checkpoints checkpoint_info;
  Totals t;  // the reload counts now, the rest at the end
  std::shared_ptr<const std::map<std::string, std::string>> reloaded_severities;  // after a reload: the new rules'
  auto publish_metrics = [&](bool done) {
    host::MetricsSnapshot snap;
    snap.engine = engine->stats();
    snap.reloads_ok = t.reloads_ok;
    snap.reloads_failed = t.reloads_failed;
    snap.severities = reloaded_severities;
    snap.input = reader.stats();
    snap.inputs_done = done;
    snap.taken = unix_now();
    watch.update(snap.engine, snap.taken, [&](const std::string& w) {
      progress.clear();
      err(fmt::format("braid: warning: {}\n", sanitize_utf8(w)));
    });
    snap.source_last_seen = watch.last_seen();
    if (state) snap.checkpoints = checkpoint_info;
    if (metrics) metrics->publish(std::move(snap));
    last_publish = Clock::now();
  };
  if (!o.metrics_addr.empty()) {
    host::MetricsInfo info;
    info.version = BRAID_VERSION;
    info.engine = o.engine.engine;
    for (const ir::Rule& r : rules->program->rules) info.severities[r.id] = std::string(ir::severity_name(r.meta.severity));
    info.start_time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (webhook) info.webhook = [&webhook] { return webhook->stats(); };
    try {
      metrics = std::make_unique<host::MetricsServer>(o.metrics_addr, o.metrics_allow_remote, std::move(info));
    } catch (const host::MetricsError& e) {
      throw UsageError{e.what()};
    }
    publish_metrics(false);
    err(fmt::format("braid: metrics on {}/metrics\n", metrics->url()));
  }
  // A checkpoint: the engine's state (this first admits every record taken, which may emit alerts), then the
  // alerts synced, then the state written with the inputs' positions and the alert file's size.
  uint64_t checkpoints = restored ? restored->checkpoints : 0;
  auto checkpoint = [&] {
    const auto started = Clock::now();
    Checkpoint ck;
    ck.program_id = rules->id();  // after a reload, the new rules': a restart with them loads it as is
    ck.engine_state = engine->save_state(rules->id());
    ck.positions = reader.positions();
    ck.output = to_file ? o.output : std::string();
    if (bad_file) {
      std::optional<uint64_t> size = bad_file->sync();
      if (!size) throw StateFileError{fmt::format("cannot sync `{}`: {}", o.bad_records, std::strerror(errno))};
      ck.bad_records = o.bad_records;
      ck.bad_records_size = *size;
    }
    if (alert_file) {
      std::optional<uint64_t> size = alert_file->sync();
      if (!size) throw StateFileError{fmt::format("cannot sync `{}`: {}", o.output, std::strerror(errno))};
      ck.output_size = *size;
    } else {
      std::fflush(sink);
    }
    ck.taken_at = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
    ck.checkpoints = ++checkpoints;
    if (webhook) {
      if (std::string e = webhook->sync_spool(); !e.empty()) throw StateFileError{e};  // before the state covers it
    }
    state->save(ck);
    ++checkpoint_info.taken;
    checkpoint_info.last_time = unix_now();
    checkpoint_info.last_duration = std::chrono::duration<double>(Clock::now() - started).count();
    checkpoint_info.last_bytes = ck.engine_state.size();
  };
  // Fault injection for the kill test (tests/run/state_kill_test.sh): SIGKILL after this many records.
  uint64_t kill_after = 0;
  if (const char* k = std::getenv("BRAID_FAULT_KILL_AFTER_RECORDS"); k && *k) kill_after = std::strtoull(k, nullptr, 10);
  rt::Record rec;
  uint64_t records = 0, checkpointed_at = restored ? 0 : UINT64_MAX;
  auto last_checkpoint = Clock::now();
  bool stopped = false;
  auto checkpoint_if_due = [&] {
    if (state && records != checkpointed_at && Clock::now() - last_checkpoint >= checkpoint_every) {
      checkpoint();
      last_checkpoint = Clock::now();
      checkpointed_at = records;
    }
  };
  // SIGHUP: the rules are loaded again from the same --rules or --pack (and --trusted-keys), compiled and
  // prepared for the engine in use, and the running state carried over to them by the reload rules
  // (rt::CarryReport; docs/operations.md, "Reload"). Called between records only, so no event is cut in two.
  // Whatever fails (errors in the rules, a refused pack, sources that changed) leaves the rules in use running.
  auto reload = [&] {
    g_hangup.store(false);
    progress.clear();
    auto refuse = [&](const std::string& why) {
      ++t.reloads_failed;
      err(fmt::format("braid: error: SIGHUP: reload refused: {}; the rules in use are kept\n", why));
      if (metrics) publish_metrics(false);
    };
    std::string from;
    for (const std::string& path : rule_paths) from += (from.empty() ? "" : ", ") + sanitize_utf8(path);
    err(fmt::format("braid: SIGHUP: loading the rules again from {}\n", o.pack.empty() ? from : sanitize_utf8(o.pack)));
    auto next = std::make_unique<RuleSet>();
    int rc = kExitClean;
    try {
      rc = load_rules(o, rule_paths, *next);
    } catch (const UsageError& e) {
      return refuse(e.message);
    }
    if (rc != kExitClean) {
      if (!o.pack.empty()) return refuse("the pack was refused");
      return refuse(rc == kExitUsage ? "the rules could not be read (see above)" : "the rules have errors (see above)");
    }
    if (next->id() == rules->id()) {
      ++t.reloads_ok;
      err(fmt::format("braid: reloaded rules: unchanged ({} rules running)\n", engine->stats().rules.size()));
      if (metrics) publish_metrics(false);
      return;
    }
    next->prepared = prepare_engine(*next->program, next->pack.get(), engine_choice);
    if (!next->prepared) return refuse("the rules could not be prepared for the engine (see above)");
    std::unique_ptr<rt::Engine> fresh = make_engine(*next);
    rt::CarryReport carried;
    try {
      fresh->load_state(engine->save_state(rules->id()), next->id(), &carried);
    } catch (const rt::StateError& e) {
      return refuse(fmt::format("{}; to run these rules, stop braid, move the --state checkpoint away (if any) and "
                                "start it again",
                                e.what()));
    }
    engine = std::move(fresh);  // the old engine goes first, then the program and code it ran
    rules = std::move(next);
    ++t.reloads_ok;
    auto sev = std::make_shared<std::map<std::string, std::string>>();
    for (const ir::Rule& r : rules->program->rules) (*sev)[r.id] = std::string(ir::severity_name(r.meta.severity));
    reloaded_severities = std::move(sev);
    err(carry_text("reloaded rules", carried));
    if (state) {  // the new rules' id in the state directory at once: a restart loads it as is
      checkpoint();
      last_checkpoint = Clock::now();
      checkpointed_at = records;
    }
    if (metrics) publish_metrics(false);
  };
  try {
    for (;;) {
      while (reader.next(rec)) {
        engine->process_record(rec, reader.path(rec.origin.input), rec.origin.line);
        progress.tick(++records, alerts);
        if ((metrics || watch.enabled()) && (records & 15) == 0 && Clock::now() - last_publish >= std::chrono::seconds(1)) {
          publish_metrics(false);
        }
        if (kill_after && records == kill_after) ::kill(::getpid(), SIGKILL);
        if (write_failed) break;  // no point reading on: reported below, and no checkpoint covers lost alerts
        if ((records & 255) == 0 && g_hangup.load()) reload();
        if (stoppable && (records & 255) == 0) {
          if (g_stop_signal.load()) {
            stopped = true;
            break;
          }
          checkpoint_if_due();
        }
      }
      if (stopped || write_failed || !o.follow) break;
      // Following: the inputs are quiet. What was taken is admitted now (with threads, a batch may be part
      // full), so its alerts go out; then wait, checkpointing and publishing metrics as due, and look again.
      engine->flush();
      if (!(alert_file ? alert_file->flush() : std::fflush(sink) == 0)) write_failed = true;
      flush_bad();
      auto wake = Clock::now() + poll_every;
      while (!g_stop_signal.load() && Clock::now() < wake) {
        if (g_hangup.load()) reload();
        checkpoint_if_due();
        if ((metrics || watch.enabled()) && Clock::now() - last_publish >= std::chrono::seconds(1)) publish_metrics(true);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
        std::this_thread::sleep_for(std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(100)));
      }
      if (g_stop_signal.load()) {
        stopped = true;
        break;
      }
      reader.rescan();
    }
    if (stoppable && g_stop_signal.load()) stopped = true;
    // The end of the input (or a stop signal). Without --state everything closes; with it, open sessions and
    // pending windows stay in the checkpoint for the next run (unless --close-at-end, or a stop signal cut the
    // input short).
    if (!state || (o.close_at_end && !stopped)) engine->finish();
    if (state && !write_failed) checkpoint();
  } catch (const StateFileError& e) {
    progress.clear();
    err(fmt::format("braid: error: --state: {}\n", e.message));
    return kExitUsage;
  }
  if (metrics) publish_metrics(!stopped);
  progress.clear();
  if (stopped && state) {
    err(fmt::format("braid: stopped by {}: checkpoint {} taken in `{}`; run again with the same --state to go on\n",
                    g_stop_signal.load() == SIGTERM ? "SIGTERM" : "SIGINT", checkpoints, sanitize_utf8(o.state)));
  } else if (stopped) {
    err(fmt::format("braid: stopped by {}: every session and window was closed (with --state they would be kept "
                    "for the next run)\n",
                    g_stop_signal.load() == SIGTERM ? "SIGTERM" : "SIGINT"));
  }
  if (alert_file) {
    if (alert_file->dropped())
      err(fmt::format("braid: {} alert{} written before the restart not written again (same ids)\n",
                      alert_file->dropped(), alert_file->dropped() == 1 ? "" : "s"));
    if (!alert_file->close()) write_failed = true;
  } else if (sink != stdout) {
    if (std::fclose(sink) != 0) write_failed = true;
  } else if (std::fflush(stdout) != 0) {
    write_failed = true;
  }
  if (bad_file) {
    if (bad_file->dropped())
      err(fmt::format("braid: {} bad record{} written before the restart not written again\n", bad_file->dropped(),
                      bad_file->dropped() == 1 ? "" : "s"));
    if (!bad_file->close()) bad_write_failed = true;
  } else if (bad_sink && std::fclose(bad_sink) != 0) {
    bad_write_failed = true;
  }
  if (bad_write_failed) {
    err(fmt::format("braid: error: cannot write the bad records to `{}`: {}\n", sanitize_utf8(o.bad_records),
                    std::strerror(errno)));
    return kExitUsage;
  }
  if (write_failed) {
    err(fmt::format("braid: error: cannot write the alerts to `{}`: {}\n",
                    o.output.empty() ? "stdout" : sanitize_utf8(o.output), std::strerror(errno)));
    return kExitUsage;
  }
  // --webhook: wait for the queue to drain (bounded), then say what was not delivered.
  const bool webhook_ok = !webhook || finish_webhook(*webhook, o.webhook, stopped);

  const rt::EngineStats& s = engine->stats();
  t.read = s.records_read + refused;
  t.malformed = s.malformed + refused;
  t.inputs = reader.stats().inputs;
  t.bytes = reader.stats().bytes;
  t.seconds = progress.elapsed();
  if (o.stats) {
    std::vector<rt::ChainInfo> chains = engine->chains();
    err(o.stats_format == "json" ? stats_json(s, t, chains, *rules->prepared, webhook.get())
                                 : stats_text(s, t, chains, *rules->prepared, webhook.get()));
  } else if (t.malformed || s.unrouted || s.late || s.no_time || s.quarantined) {
    err(fmt::format("braid: {} records: {} malformed, {} unrouted, {} late, {} quarantined, {} without time "
                    "(--stats for more)\n",
                    t.read, t.malformed, s.unrouted, s.late, s.quarantined, s.no_time));
  }
  // The process ends next: the engine's memory (millions of rule states with a large rule set) goes back to the
  // OS with it, which is much faster than freeing it object by object. Sanitizer builds free it, so that their
  // leak check stays meaningful. (finish() has stopped the engine's threads.)
#if !defined(__SANITIZE_ADDRESS__)
  (void)engine.release();
  (void)rules.release();
#endif
  if (unreadable) {
    err("braid: error: some inputs could not be read (see the warnings above)\n");
    return kExitUsage;
  }
  if (!webhook_ok) return kExitUndelivered;
  return kExitClean;
}

VerbAction add_run_verb(CLI::App& sub) {
  auto o = std::make_shared<RunOptions>();
  sub.add_option("inputs", o->inputs,
                 "Event inputs: NDJSON or CloudTrail files, .gz, directories (recursively), - for stdin")
      ->required()
      ->type_name("INPUT");
  // One path per --rules (repeatable), so that `--rules rules events.ndjson` leaves the input positional.
  sub.add_option("--rules", o->rules,
                 "A rule file or directory; repeat for more (default: rules/ when it exists)")
      ->type_name("PATH")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  sub.add_option("--pack", o->pack, "Run a rule pack (from `braid build`) instead of --rules")->type_name("FILE");
  sub.add_option("--trusted-keys", o->trusted_keys, "Public key files (KEYFILE.pub) a --pack may be signed by")
      ->type_name("FILE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  sub.add_flag("--allow-unsigned", o->allow_unsigned, "Also run an unsigned --pack");
  sub.add_flag("--include-disabled", o->include_disabled,
               "Also run the rules marked `enabled false` (to backtest them)");
  sub.add_option("--output,-o", o->output, "Write the alerts to FILE instead of stdout")->type_name("FILE");
  sub.add_flag("--stats", o->stats, "Print statistics on stderr at the end (and time the rules)");
  sub.add_option("--stats-format", o->stats_format, "Statistics as text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT");
  add_engine_flags(sub, o->engine);  // --distinct-bound, --engine, --no-jit-cache
  sub.add_option("--threads,-j", o->threads,
                 "Threads that read and prepare events (default 1: one thread does everything); the alerts are "
                 "the same for every N")
      ->check(CLI::Range(1u, 256u))
      ->type_name("N");
  sub.add_option("--state", o->state,
                 "Keep the engine's state in DIR: checkpoints, and a restart resumes where the last one was "
                 "taken (docs/operations.md)")
      ->type_name("DIR");
  sub.add_option("--checkpoint-interval", o->checkpoint_interval,
                 "With --state: how often to take a checkpoint (default 60s; also at the end and on SIGTERM)")
      ->type_name("DURATION");
  sub.add_option("--max-open-sessions", o->max_open_sessions,
                 "Open sessions kept at most; at the cap the least recently used one is closed early and its "
                 "alerts are marked degraded (default 2000000; 0: no cap)")
      ->type_name("N");
  sub.add_option("--max-open-groups", o->max_open_groups,
                 "Open groups of group-scope rules kept at most, all rules together; at the cap the oldest is closed "
                 "early and its alerts are marked degraded (default 1000000; 0: no cap; docs/operations.md, Caps)")
      ->type_name("N");
  sub.add_option("--max-held-events", o->max_held_events,
                 "Events held for reordering per source at most; beyond it the oldest is released early and the "
                 "source's watermark moves up to it (default 1000000; 0: no cap; docs/operations.md, Caps)")
      ->type_name("N");
  sub.add_option("--max-chain-records", o->max_chain_records,
                 "Mint and link records kept at most, all together; at the cap the oldest is evicted, and alerts whose "
                 "chain lost its parent to it are marked degraded (default 2000000; 0: no cap; docs/operations.md, "
                 "Caps)")
      ->type_name("N");
  sub.add_option("--max-partial-matches", o->max_partial_matches,
                 "Starts of partial matches a sequence keeps per stage, rule and session or chain; beyond it the "
                 "oldest are dropped and the rule's decisions marked degraded (default 4096; docs/operations.md, "
                 "Caps)")
      ->check(CLI::Range(1u, 1000000u))
      ->type_name("N");
  sub.add_option("--max-time-jump", o->max_time_jump,
                 "How far past its source's newest event one event may move the source's clock before the next "
                 "events confirm it (default 24h; 0 turns the bound off; docs/operations.md, Time jumps)")
      ->type_name("DURATION");
  sub.add_option("--metrics-addr", o->metrics_addr,
                 "Serve Prometheus metrics on http://HOST:PORT/metrics and a health check on /healthz; HOST must "
                 "be a loopback address (127.0.0.1, [::1]); PORT 0 picks a free one (docs/operations.md, Metrics)")
      ->type_name("HOST:PORT");
  sub.add_flag("--metrics-allow-remote", o->metrics_allow_remote,
               "Allow a --metrics-addr that is not a loopback address (the endpoint has no authentication)");
  sub.add_flag("--close-at-end", o->close_at_end,
               "With --state: close every session and window at the end of the input instead of keeping them "
               "open for the next run");
  sub.add_flag("--follow,-f", o->follow,
               "At the end of the inputs, wait for more, like `tail -F`: lines appended to files, new files in "
               "directories (a CloudTrail tree in time order), rotated files; stop with SIGTERM or SIGINT "
               "(docs/operations.md, Following)");
  sub.add_option("--poll-interval", o->poll_interval,
                 "With --follow: how often to look for new input (default 1s)")
      ->type_name("DURATION");
  sub.add_option("--source-silence", o->source_silence,
                 "Warn on stderr when a source that was delivering events has delivered none for DURATION of wall "
                 "time (for example 1h; default 0: off); the metrics show it either way")
      ->type_name("DURATION");
  sub.add_option("--alert-events", o->alert_events,
                 "Embed the raw triggering events in each alert: per step the JSON objects of its first N matching "
                 "events (`events`), and an event rule's event (`event`); at most 100 (default 0: off; "
                 "docs/alerts.md, Raw events)")
      ->type_name("N");
  sub.add_option("--bad-records", o->bad_records,
                 "Write every malformed, unrouted or time-less record to FILE, one JSON line each with its input, "
                 "line and reason (docs/operations.md, Bad records)")
      ->type_name("FILE");
  add_webhook_flags(sub, o->webhook);
  sub.fallthrough();
  CLI::Option* stats_format = sub.get_option("--stats-format");
  return [o, stats_format](const Globals& g) {
    if (g.format_given) throw UsageError{"--format does not apply to run: alerts are NDJSON (see --stats-format)"};
    if (stats_format->count() != 0) o->stats = true;
    o->color = g.color;
    return run_run(*o);
  };
}

}  // namespace braid::cli
