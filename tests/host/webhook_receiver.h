// The test side of the webhook sink (tests/host/webhook_test.cpp, run_webhook_test.cpp): a loopback cpp-httplib
// receiver whose plan decides each request (answer, fail with a status, 429 with Retry-After, cut the connection,
// answer too late), and small file helpers.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace braid::host::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// An alert line without `processing_time` (the wall clock when it was decided: it differs between runs).
inline std::string stable(const std::string& line) {
  json j = json::parse(line);
  j.erase("processing_time");
  return j.dump();
}

// A port nobody listens on (bound, read, closed): connections to it are refused until a Receiver takes it.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// What the receiver does with one request.
enum class Act { Ok, Status, RetryAfter, Drop, Slow };
struct Plan {
  Act act = Act::Ok;
  int status = 200;
};

struct Request {
  std::string alert_id, idempotency_key, body, content_type, authorization, user_agent, extra;
  Clock::time_point at;
  bool delivered = false;  // answered 2xx in time
};

// A webhook receiver on 127.0.0.1; `plan` decides each request (n counts from 0).
class Receiver {
 public:
  explicit Receiver(std::function<Plan(size_t n, const Request&)> plan, int port = 0) : plan_(std::move(plan)) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      Request r;
      r.alert_id = req.get_header_value("X-Braid-Alert-Id");
      r.idempotency_key = req.get_header_value("Idempotency-Key");
      r.body = req.body;
      r.content_type = req.get_header_value("Content-Type");
      r.authorization = req.get_header_value("Authorization");
      r.user_agent = req.get_header_value("User-Agent");
      r.extra = req.get_header_value("X-Team");
      r.at = Clock::now();
      size_t n;
      {
        std::lock_guard<std::mutex> lock(mu_);
        n = got_.size();
        got_.push_back(r);
      }
      Plan p = plan_(n, r);
      switch (p.act) {
        case Act::Ok:
          res.status = 200;
          res.set_content("{}", "application/json");
          break;
        case Act::Status:
          res.status = p.status;
          res.set_content("bad alert", "text/plain");
          break;
        case Act::RetryAfter:
          res.status = 429;
          res.set_header("Retry-After", "1");
          break;
        case Act::Drop:  // headers of a 200 with a body that never comes: the connection is cut
          res.set_content_provider(1000, "application/json", [](size_t, size_t, httplib::DataSink&) { return false; });
          break;
        case Act::Slow:
          std::this_thread::sleep_for(2500ms);
          res.status = 200;
          break;
      }
      if (p.act == Act::Ok) {
        std::lock_guard<std::mutex> lock(mu_);
        got_[n].delivered = true;
      }
    });
    server_.set_tcp_nodelay(true);  // headers and body go in two writes: no delayed-ACK stall per response
    bool ok = port ? server_.bind_to_port("127.0.0.1", port) : (port = server_.bind_to_any_port("127.0.0.1")) > 0;
    EXPECT_TRUE(ok);
    port_ = port;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);  // stop() only acts on a running server
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  std::multiset<std::string> delivered_ids() {
    std::multiset<std::string> ids;
    for (const Request& r : requests())
      if (r.delivered) ids.insert(r.alert_id);
    return ids;
  }

 private:
  std::function<Plan(size_t, const Request&)> plan_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Request> got_;
  int port_ = 0;
};

struct Work {
  fs::path dir;
  explicit Work(const std::string& name)
      : dir(fs::temp_directory_path() / ("braid-webhook-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Work() { fs::remove_all(dir); }
  std::string operator/(const std::string& f) const { return (dir / f).string(); }
};

}  // namespace braid::host::test
