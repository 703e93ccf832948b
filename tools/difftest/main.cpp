// braid-difftest: differential testing of Braid's two engines (the JIT and the reference interpreter).
//
//   braid-difftest --braid build/release/braid --seed 1 --cases 50 --rules-per-case 8 --events-per-case 300
//
// Each case is a random rule set (generator.h) written as one file per rule, and a random event stream. The
// `braid` binary runs the case twice, once with --engine-a's flags and once with --engine-b's, and the alert
// streams must be identical line for line (the engine is deterministic) once the wall-clock `processing_time`
// member is removed, and the exit codes must be equal. On a difference the case is minimized (minimize.h) to one
// rule and the fewest events that still differ, printed (and written under --keep DIR), and the exit code is 1.
//
// braid is run as a separate process rather than linked in, so that the harness tests exactly what users run
// (the CLI's engine selection, alert rendering and exit codes) and survives an engine crash or hang.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "generator.h"
#include "minimize.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace braid::difftest;

namespace {

struct Options {
  std::string braid;
  std::string braid_b;  // engine B's binary, when it is another build (default: --braid)
  uint64_t seed = 1;
  int cases = 20;
  int rules = 8;
  int events = 300;
  double time_budget = 0;  // seconds; 0: none
  std::string keep;
  bool verbose = false;
  std::string engine_a = "--engine=jit";
  std::string engine_b = "--engine=interp";
  int64_t only_case = -1;
  double run_timeout = 120;
  bool inject_difference = false;
  bool shared_steps = false;  // generate rules that share step predicates
  bool edition2 = false;      // also the language's second-edition constructs (json(), any/all, `+` on strings)
  bool groups = false;        // also `group by` rules
  bool prefilter = false;     // also rules the JIT's literal prefilter selects
  bool isolate = false;       // engine B runs each rule alone; compare as sorted alert lines
  std::string dump;  // write every case (rules/, events.ndjson) under DIR/caseI, e.g. to inspect the generator
};

std::vector<std::string> split_flags(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// One side's flags for `braid run`: its engine flags, then the case's own flags (e.g. --distinct-bound 3) unless
// the engine flags already set that option (a repeated option is a usage error).
std::vector<std::string> side_flags(const std::string& engine, const Case& c) {
  std::vector<std::string> out = split_flags(engine);
  if (!c.common_flags.empty() && engine.find(c.common_flags[0]) == std::string::npos)
    out.insert(out.end(), c.common_flags.begin(), c.common_flags.end());
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += " " + x;
  return s;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

// Runs argv with stdout and stderr to files; returns the exit code, 128+signal when killed by a signal, or -1
// when it ran longer than timeout_s (it is then killed).
int run_process(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err, double timeout_s) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  auto start = std::chrono::steady_clock::now();
  int status = 0;
  for (int sleep_us = 200;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > timeout_s) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    sleep_us = std::min(sleep_us * 2, 20000);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -2;
}

// One engine's result on one case, normalized.
struct Outcome {
  int exit = 0;
  std::vector<std::string> alerts;  // NDJSON lines without processing_time
  std::string stderr_text;
};

// processing_time is the only member stamped from the wall clock (runtime/engine/alert.cpp; docs/alerts.md), and
// `braid run` has no option to fix it, so it is cut out. Its value is an RFC 3339 string without quotes inside.
std::string normalize(std::string line) {
  const std::string key = ",\"processing_time\":\"";
  size_t at = line.find(key);
  if (at != std::string::npos) {
    size_t end = line.find('"', at + key.size());
    if (end != std::string::npos) line.erase(at, end + 1 - at);
  }
  return line;
}

bool same(const Outcome& a, const Outcome& b) { return a.exit == b.exit && a.alerts == b.alerts; }

class Harness {
 public:
  explicit Harness(Options o) : o_(std::move(o)) {
    char tmpl[] = "/tmp/braid-difftest.XXXXXX";
    const char* tmpdir = std::getenv("TMPDIR");
    std::string t = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/braid-difftest.XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    char* d = mkdtemp(buf.data());
    if (!d) d = mkdtemp(tmpl);
    if (!d) throw std::runtime_error("cannot create a temporary directory");
    work_ = d;
    // The JIT's object cache goes into the work directory: runs do not fill the user's cache with thousands of
    // random rule sets, and no object compiled by an earlier build of braid is reused.
    setenv("BRAID_CACHE_DIR", (work_ / "jit-cache").c_str(), 1);
  }
  ~Harness() {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  int run();

 private:
  // Writes rules (a subset, by index) and events (a subset) into a fresh directory under work_.
  fs::path write_case(const Case& c, const std::vector<size_t>& rules, const std::vector<size_t>& events) {
    fs::path dir = work_ / ("run" + std::to_string(dirs_++));
    fs::create_directories(dir / "rules");
    for (size_t i : rules) write_file(dir / "rules" / (c.rules[i].id + ".braid"), c.rules[i].text);
    std::string ev;
    for (size_t i : events) ev += c.events[i] + "\n";
    write_file(dir / "events.ndjson", ev);
    return dir;
  }
  // `events`: the events file (default: the case directory's); events without an id get one derived from the
  // file's path, so runs that must agree read the same file.
  Outcome run_side(const std::string& flags, const Case& c, const fs::path& dir, bool side_a,
                   const fs::path& events = {}) {
    std::vector<std::string> argv = {side_a || o_.braid_b.empty() ? o_.braid : o_.braid_b, "run"};
    for (auto& f : side_flags(flags, c)) argv.push_back(f);
    argv.push_back("--rules");
    argv.push_back((dir / "rules").string());
    argv.push_back((events.empty() ? dir / "events.ndjson" : events).string());
    const char* tag = side_a ? "a" : "b";
    fs::path out = dir / (std::string(tag) + ".out"), err = dir / (std::string(tag) + ".err");
    Outcome r;
    r.exit = run_process(argv, out, err, o_.run_timeout);
    std::istringstream in(read_file(out));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) r.alerts.push_back(normalize(line));
    r.stderr_text = read_file(err);
    // Harness self-test (--inject-difference): side A loses its first alert, so every case with an alert differs.
    if (side_a && o_.inject_difference && !r.alerts.empty()) r.alerts.erase(r.alerts.begin());
    return r;
  }
  std::pair<Outcome, Outcome> run_both(const Case& c, const std::vector<size_t>& rules,
                                       const std::vector<size_t>& events, fs::path* dir_out = nullptr) {
    fs::path dir = write_case(c, rules, events);
    auto a = run_side(o_.engine_a, c, dir, true);
    Outcome b;
    if (!o_.isolate) {
      b = run_side(o_.engine_b, c, dir, false);
    } else {
      // Each rule alone (nothing to share with), their alerts together: the same lines as all rules in one run.
      // Alerts of different rules interleave by processing order, so both sides are compared sorted.
      for (size_t r : rules) {
        fs::path one = write_case(c, {r}, {});
        Outcome o = run_side(o_.engine_b, c, one, false, dir / "events.ndjson");
        if (o.exit != 0 || b.exit == 0) b.exit = o.exit;
        b.alerts.insert(b.alerts.end(), o.alerts.begin(), o.alerts.end());
        b.stderr_text += o.stderr_text;
        fs::remove_all(one);
      }
      // An event without an id gets `h` + a hash of its extracted fields, which depend on the rule set: such
      // ids are masked on both sides, and so is the alert id, which hashes the deciding event's id.
      static const std::regex derived_id("\"h[0-9a-f]{16}\"");
      static const std::regex alert_id("^\\{\"schema_version\":([0-9]+),\"id\":\"[0-9a-f]{32}\"");
      for (auto* side : {&a, &b}) {
        for (auto& l : side->alerts) {
          l = std::regex_replace(l, derived_id, "\"h<derived>\"");
          l = std::regex_replace(l, alert_id, "{\"schema_version\":$1,\"id\":\"<masked>\"");
        }
        std::sort(side->alerts.begin(), side->alerts.end());
      }
    }
    if (dir_out) *dir_out = dir;
    else fs::remove_all(dir);
    return {std::move(a), std::move(b)};
  }

  bool check_rules(const Case& c, uint64_t index);
  int report_difference(const Case& c, uint64_t index, const Outcome& a0, const Outcome& b0);

  Options o_;
  fs::path work_;
  uint64_t dirs_ = 0;
};

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

void print_outcome(const char* name, const std::string& flags, const Outcome& o) {
  std::cout << "--- engine " << name << " (" << flags << "): exit " << o.exit << ", " << o.alerts.size()
            << " alert(s)\n";
  for (const auto& l : o.alerts) std::cout << l << "\n";
  if (!o.stderr_text.empty()) {
    std::string e = o.stderr_text.size() > 4000 ? o.stderr_text.substr(0, 4000) + "...\n" : o.stderr_text;
    std::cout << "--- engine " << name << " stderr:\n" << e;
    if (e.back() != '\n') std::cout << "\n";
  }
}

// `braid check` on the generated rules: a rejection is a generator bug (exit 2), reported with the rules named in
// the diagnostics.
bool Harness::check_rules(const Case& c, uint64_t index) {
  fs::path dir = write_case(c, iota(c.rules.size()), {});
  fs::path out = dir / "check.out", err = dir / "check.err";
  int rc = run_process({o_.braid, "check", (dir / "rules").string()}, out, err, o_.run_timeout);
  if (rc == 0) {
    fs::remove_all(dir);
    return true;
  }
  std::string diag = read_file(out) + read_file(err);
  std::cout << "braid-difftest: GENERATOR BUG: braid check rejected the rules of case " << index << " (seed "
            << o_.seed << ", --only-case " << index << "), exit " << rc << ":\n"
            << diag << "\n";
  for (const auto& r : c.rules) {
    if (diag.find(r.id + ".braid") == std::string::npos) continue;
    std::cout << "--- rejected rule file " << r.id << ".braid:\n" << r.text << "\n";
  }
  if (!o_.keep.empty()) {
    fs::create_directories(fs::path(o_.keep) / "rules");
    for (const auto& r : c.rules)
      if (diag.find(r.id + ".braid") != std::string::npos)
        write_file(fs::path(o_.keep) / "rules" / (r.id + ".braid"), r.text);
    write_file(fs::path(o_.keep) / "diagnostics.txt", diag);
  }
  return false;
}

int Harness::report_difference(const Case& c, uint64_t index, const Outcome& a0, const Outcome& b0) {
  std::cout << "braid-difftest: DIFFERENCE in case " << index << " (seed " << o_.seed << "): engine A exit "
            << a0.exit << " with " << a0.alerts.size() << " alert(s), engine B exit " << b0.exit << " with "
            << b0.alerts.size() << " alert(s); minimizing..." << std::endl;
  uint64_t runs = 0;
  auto all_events = iota(c.events.size());
  std::vector<size_t> rules = minimize_rules(c.rules.size(), [&](const std::vector<size_t>& sub) {
    ++runs;
    auto [a, b] = run_both(c, sub, all_events);
    return !same(a, b);
  });
  std::vector<size_t> events = ddmin(all_events, [&](const std::vector<size_t>& sub) {
    ++runs;
    auto [a, b] = run_both(c, rules, sub);
    return !same(a, b);
  });
  fs::path dir;
  auto [a, b] = run_both(c, rules, events, &dir);
  std::cout << "braid-difftest: minimized with " << runs << " runs to " << rules.size() << " rule(s) and "
            << events.size() << " event(s)\n";
  std::cout << "=== seed " << o_.seed << ", case " << index << " (reproduce: braid-difftest --braid " << o_.braid
            << (o_.braid_b.empty() ? std::string() : " --braid-b " + o_.braid_b)
            << " --seed " << o_.seed << " --only-case " << index << " --rules-per-case " << o_.rules
            << " --events-per-case " << o_.events << " --engine-a '" << o_.engine_a << "' --engine-b '"
            << o_.engine_b << "'" << (o_.shared_steps ? " --shared-steps" : "") << (o_.edition2 ? " --edition2" : "") << (o_.groups ? " --groups" : "") << (o_.prefilter ? " --prefilter" : "") << (o_.isolate ? " --isolate" : "")
            << (o_.inject_difference ? " --inject-difference" : "") << ")\n";
  std::cout << "=== engine A: braid run" << joined(side_flags(o_.engine_a, c)) << " --rules RULES EVENTS\n";
  std::cout << "=== engine B: braid run" << joined(side_flags(o_.engine_b, c)) << " --rules RULES EVENTS\n";
  std::cout << "=== minimal rule(s):\n";
  for (size_t i : rules) std::cout << c.rules[i].text;
  std::cout << "=== minimal events (" << events.size() << "):\n";
  for (size_t i : events) std::cout << c.events[i] << "\n";
  print_outcome("A", o_.engine_a, a);
  print_outcome("B", o_.engine_b, b);
  size_t k = 0;
  while (k < a.alerts.size() && k < b.alerts.size() && a.alerts[k] == b.alerts[k]) ++k;
  if (a.exit != b.exit) std::cout << "=== exit codes differ: " << a.exit << " vs " << b.exit << "\n";
  else std::cout << "=== first differing alert: #" << k << "\n";
  if (!o_.keep.empty()) {
    fs::path keep = o_.keep;
    fs::create_directories(keep / "rules");
    for (size_t i : rules) write_file(keep / "rules" / (c.rules[i].id + ".braid"), c.rules[i].text);
    std::string ev;
    for (size_t i : events) ev += c.events[i] + "\n";
    write_file(keep / "events.ndjson", ev);
    for (const char* f : {"a.out", "a.err", "b.out", "b.err"}) fs::copy_file(dir / f, keep / f, fs::copy_options::overwrite_existing);
    write_file(keep / "repro.sh",
               "#!/bin/sh\n# braid-difftest seed " + std::to_string(o_.seed) + " case " + std::to_string(index) +
                   ": the two commands' alerts (minus processing_time) differ" +
                   (o_.inject_difference ? " (here only by --inject-difference: A's first alert is dropped)" : "") +
                   ".\nBRAID=${BRAID:-" + o_.braid + "}\ncd \"$(dirname \"$0\")\"\n\"$BRAID\" run" +
                   joined(side_flags(o_.engine_a, c)) + " --rules rules events.ndjson > a.out\n\"$BRAID\" run" +
                   joined(side_flags(o_.engine_b, c)) + " --rules rules events.ndjson > b.out\n");
    std::cout << "=== minimal case written to " << keep.string() << "\n";
  }
  return 1;
}

int Harness::run() {
  auto start = std::chrono::steady_clock::now();
  uint64_t cases = 0, rules = 0, events = 0, alerts = 0;
  std::set<std::string> fired;
  const uint64_t first = o_.only_case >= 0 ? static_cast<uint64_t>(o_.only_case) : 0;
  const uint64_t last = o_.only_case >= 0 ? first + 1 : static_cast<uint64_t>(o_.cases);
  for (uint64_t i = first; i < last; ++i) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (o_.time_budget > 0 && elapsed >= o_.time_budget) {
      if (o_.verbose) std::cout << "time budget reached after " << cases << " cases\n";
      break;
    }
    Case c = generate_case(case_seed(o_.seed, i), i, o_.rules, o_.events, o_.shared_steps, o_.edition2, o_.groups,
                           o_.prefilter);
    if (!o_.dump.empty()) {
      fs::path d = fs::path(o_.dump) / ("case" + std::to_string(i));
      fs::create_directories(d / "rules");
      for (const auto& r : c.rules) write_file(d / "rules" / (r.id + ".braid"), r.text);
      std::string ev;
      for (const auto& e : c.events) ev += e + "\n";
      write_file(d / "events.ndjson", ev);
    }
    if (!check_rules(c, i)) return 2;
    auto [a, b] = run_both(c, iota(c.rules.size()), iota(c.events.size()));
    ++cases;
    rules += c.rules.size();
    events += c.events.size();
    alerts += b.alerts.size();
    for (const auto& l : b.alerts) {
      size_t at = l.find("\"rule\":\"");
      if (at != std::string::npos) fired.insert(l.substr(at + 8, l.find('"', at + 8) - at - 8));
    }
    if (o_.verbose)
      std::cout << "case " << i << ": " << c.rules.size() << " rules, " << c.events.size() << " events, exit "
                << a.exit << "/" << b.exit << ", alerts " << a.alerts.size() << "/" << b.alerts.size() << std::endl;
    if (!same(a, b)) return report_difference(c, i, a, b);
    if (a.exit != 0) {
      // Both engines failed the same way: the harness cannot compare anything (a usage error such as an unknown
      // --engine flag, or a broken build). Not a pass.
      std::cout << "braid-difftest: both engines exited " << a.exit << " on case " << i << "; stderr of A:\n"
                << a.stderr_text << "\n";
      return 2;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "braid-difftest: %llu cases, %llu rules (%zu fired), %llu events, %llu alerts compared, %.1f s: "
                "engines agree",
                static_cast<unsigned long long>(cases), static_cast<unsigned long long>(rules), fired.size(),
                static_cast<unsigned long long>(events), static_cast<unsigned long long>(alerts), secs);
  std::cout << buf << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "braid-difftest: random rules and events, run through two engines of `braid run` (default: the JIT and the "
      "interpreter); their alerts (without processing_time) and exit codes must be identical. On a difference the "
      "case is minimized to one rule and the fewest events and printed. Exit 0: all agree; 1: a difference; 2: "
      "usage or internal error (including a generated rule that braid check rejects: a generator bug)."};
  app.add_option("--braid", o.braid, "The braid binary to test")->required()->type_name("PATH");
  app.add_option("--seed", o.seed, "Run seed: the same seed and sizes give the same cases on every machine")
      ->type_name("S");
  app.add_option("--cases", o.cases, "Number of cases (rule set + event stream)")->check(CLI::Range(1, 100000000))
      ->type_name("N");
  app.add_option("--rules-per-case", o.rules, "Rules per case")->check(CLI::Range(1, 10000))->type_name("K");
  app.add_option("--events-per-case", o.events, "Event lines per case")->check(CLI::Range(0, 10000000))
      ->type_name("E");
  app.add_option("--time-budget", o.time_budget, "Start no new case after this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber)->type_name("SECONDS");
  app.add_option("--keep", o.keep, "On a difference, write the minimal case (rules/, events.ndjson, outputs, "
                                   "repro.sh) into DIR")->type_name("DIR");
  app.add_flag("--verbose,-v", o.verbose, "Print one line per case");
  app.add_option("--engine-a", o.engine_a, "Flags selecting engine A, split on spaces (default: --engine=jit)")
      ->type_name("FLAGS");
  app.add_option("--engine-b", o.engine_b, "Flags selecting engine B (default: --engine=interp)")
      ->type_name("FLAGS");
  app.add_option("--only-case", o.only_case, "Run only case I of the seed (to reproduce a failure)")
      ->check(CLI::NonNegativeNumber)->type_name("I");
  app.add_option("--run-timeout", o.run_timeout, "Seconds before one braid run counts as hung (default 120)")
      ->check(CLI::PositiveNumber)->type_name("SECONDS");
  app.add_option("--dump", o.dump, "Also write every case (rules/, events.ndjson) under DIR/caseI")
      ->type_name("DIR");
  app.add_option("--braid-b", o.braid_b,
                 "Engine B's braid binary, when it is another build (e.g. the last release): the two builds must "
                 "raise the same alerts")
      ->type_name("PATH");
  app.add_flag("--shared-steps", o.shared_steps,
               "Generate rules that often reuse an earlier rule's step predicate (the engine shares their state)");
  app.add_flag("--edition2", o.edition2,
               "Also generate the language's second-edition constructs: AWS rules that read IAM policies held as JSON "
               "text (json(...), any(...), all(...), several paths of one element) and join strings with +, tune "
               "blocks (severity, exceptions), and events that carry such policies");
  app.add_flag("--groups", o.groups,
               "Also generate `group by` rules (keys of the rule's source, `window D` or `gap G max M`, steps, "
               "aggregates, sequences and absence)");
  app.add_flag("--prefilter", o.prefilter,
               "Also generate 4 to 9 event rules per case that need literals in one CloudTrail string field (string "
               "operators, ==~, in~, contains any), so that the JIT's literal prefilter selects them");
  app.add_flag("--isolate", o.isolate,
               "Engine B runs each rule on its own and its alerts are pooled: all rules in one run must raise the "
               "same alerts as each rule alone (compared sorted). With --shared-steps, this checks the sharing of "
               "equal steps' state across rules");
  // Hidden: the harness's own test drops engine A's first alert, to prove that a difference is detected.
  app.add_flag("--inject-difference", o.inject_difference, "")->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (!fs::exists(o.braid)) {
      std::cerr << "braid-difftest: --braid " << o.braid << ": no such file\n";
      return 2;
    }
    o.braid = fs::absolute(o.braid).string();
    if (!o.braid_b.empty()) {
      if (!fs::exists(o.braid_b)) {
        std::cerr << "braid-difftest: --braid-b " << o.braid_b << ": no such file\n";
        return 2;
      }
      o.braid_b = fs::absolute(o.braid_b).string();
    }
    Harness h(o);
    return h.run();
  } catch (const std::exception& e) {
    std::cerr << "braid-difftest: internal error: " << e.what() << "\n";
    return 2;
  }
}
