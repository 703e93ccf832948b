// `braid run --metrics-addr 127.0.0.1:0 -`, scraped with httplib::Client while it reads a stdin pipe that the test
// keeps open: the figures of the demo stream as the engine publishes them, then the end of the run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of one sample ("name" or "name{labels}") in a scrape, or -1.
double sample(const std::string& text, const std::string& key) {
  size_t at = 0;
  while ((at = text.find(key + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + key.size() + 1));
    at += key.size();
  }
  return -1;
}

struct Child {
  pid_t pid = -1;
  int in = -1;  // its stdin
};

Child spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  int p[2];
  if (::pipe(p) != 0) throw std::runtime_error("pipe");
  Child c;
  c.pid = ::fork();
  if (c.pid == 0) {
    ::dup2(p[0], 0);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::close(p[0]);
    ::close(p[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(p[0]);
  c.in = p[1];
  return c;
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

TEST(RunMetrics, ScrapedWhileReadingAnOpenPipe) {
  std::signal(SIGPIPE, SIG_IGN);
  const fs::path src = BRAID_SOURCE_DIR;
  const fs::path work = fs::temp_directory_path() / ("braid-run-metrics-" + std::to_string(::getpid()));
  fs::create_directories(work);
  const std::string rules = (src / "rules").string(), demo_path = (src / "examples/demo.ndjson").string();
  const std::string demo = slurp(demo_path);
  const size_t demo_records = static_cast<size_t>(std::count(demo.begin(), demo.end(), '\n'));

  // The reference: the demo read from the file in one run, with its statistics.
  std::string ref_cmd = std::string(BRAID_EXE) + " run --engine interp --rules '" + rules + "' --stats --stats-format json '" +
                        demo_path + "' > '" + (work / "ref.ndjson").string() + "' 2> '" + (work / "ref.json").string() + "'";
  ASSERT_EQ(std::system(ref_cmd.c_str()), 0) << slurp(work / "ref.json");
  json ref = json::parse(slurp(work / "ref.json"));
  std::map<std::string, std::string> severity;  // of the rules that fired
  {
    std::istringstream in(slurp(work / "ref.ndjson"));
    std::string line;
    while (std::getline(in, line)) {
      json a = json::parse(line);
      severity[a["rule"]] = a["severity"];
    }
  }
  ASSERT_GT(severity.size(), 3u);

  Child c = spawn({BRAID_EXE, "run", "--engine", "interp", "--rules", rules, "--metrics-addr", "127.0.0.1:0", "-o",
                   (work / "alerts.ndjson").string(), "-"},
                  work / "stdout", work / "stderr");
  ASSERT_GT(c.pid, 0);
  // The address it serves on (port 0: a free one), from its stderr.
  int port = 0;
  const std::regex url_re(R"(braid: metrics on http://127\.0\.0\.1:([0-9]+)/metrics)");
  for (int i = 0; i < 1200 && !port; ++i) {
    std::smatch m;
    std::string err = slurp(work / "stderr");
    if (std::regex_search(err, m, url_re)) port = std::stoi(m[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(port, 0) << "no `metrics on` line: " << slurp(work / "stderr");
  httplib::Client client("127.0.0.1", port);
  auto scrape = [&] {
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) return std::string();
    return r->body;
  };
  std::string text = scrape();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(sample(text, "braid_records_read_total"), 0);
  EXPECT_EQ(sample(text, "braid_inputs_done"), 0);
  EXPECT_EQ(sample(text, "braid_rules"), static_cast<double>(ref["rules"].size()));
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "ok\n");

  // The demo, then one unroutable record every 50 ms: the engine publishes between records (at most every
  // second), so records must keep coming until a scrape shows the whole demo.
  ASSERT_TRUE(write_all(c.in, demo));
  size_t fillers = 0;
  double read = 0;
  for (int i = 0; i < 1200; ++i) {
    ASSERT_TRUE(write_all(c.in, "{\"braid_test_filler\":" + std::to_string(++fillers) + "}\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = scrape();
    read = sample(text, "braid_records_read_total");
    if (read >= static_cast<double>(demo_records)) break;
  }
  ASSERT_GE(read, static_cast<double>(demo_records)) << text;
  ASSERT_LE(read, static_cast<double>(demo_records + fillers));
  for (const json& s : ref["sources"]) {
    EXPECT_EQ(sample(text, "braid_events_total{source=\"" + s["name"].get<std::string>() + "\"}"), s["events"].get<double>())
        << s["name"];
  }
  // Every record after the demo is a filler, and no source recognises one.
  EXPECT_EQ(sample(text, "braid_bad_records_total{kind=\"unrouted\"}"),
            ref["unrouted"].get<double>() + (read - static_cast<double>(demo_records)));
  EXPECT_EQ(sample(text, "braid_inputs_done"), 0);
  EXPECT_GT(sample(text, "braid_input_bytes_total"), static_cast<double>(demo.size()) - 1);
  // Alerts so far: some (the event rules' at least), none that the whole run does not have, each with its rule's
  // severity.
  double alerts = 0;
  for (const json& r : ref["rules"]) {
    std::string id = r["id"];
    std::string sev = severity.count(id) ? severity[id] : "";
    if (sev.empty()) continue;
    double v = sample(text, "braid_alerts_total{rule=\"" + id + "\",severity=\"" + sev + "\"}");
    EXPECT_GE(v, 0) << id << " has no sample with severity " << sev;
    EXPECT_LE(v, r["alerts"].get<double>()) << id;
    alerts += std::max(v, 0.0);
  }
  EXPECT_GT(alerts, 0);
  EXPECT_LE(alerts, ref["alerts"].get<double>());

  // The end of the input: braid finishes, exits 0, and wrote the demo's alerts (the fillers add none).
  ::close(c.in);
  int status = 0;
  ASSERT_EQ(::waitpid(c.pid, &status, 0), c.pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(work / "stderr");
  std::string out = slurp(work / "alerts.ndjson");
  EXPECT_EQ(static_cast<double>(std::count(out.begin(), out.end(), '\n')), ref["alerts"].get<double>());
  EXPECT_FALSE(client.Get("/metrics")) << "still serving after the run ended";
  fs::remove_all(work);
}

// A refused address is a usage error (exit 2) before anything runs.
TEST(RunMetrics, RefusedAddresses) {
  for (const char* addr : {"0.0.0.0:9464", "127.0.0.1", "example.com:80"}) {
    std::string cmd = std::string(BRAID_EXE) + " run --rules '" + BRAID_SOURCE_DIR + "/rules' --metrics-addr " + addr +
                      " '" + BRAID_SOURCE_DIR + "/examples/demo.ndjson' > /dev/null 2>&1";
    int rc = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(rc));
    EXPECT_EQ(WEXITSTATUS(rc), 2) << addr;
  }
}

}  // namespace
