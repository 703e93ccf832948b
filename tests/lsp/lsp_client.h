// A minimal LSP client for the tests: runs `braid lsp` as a child process and talks JSON-RPC to it over pipes.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace braid::lsptest {

using json = nlohmann::json;

class Client {
 public:
  // `env` entries ("NAME=value") are added to the child's environment.
  Client(const std::string& exe, const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv{const_cast<char*>(exe.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Client() {
    close_input();
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (from_ >= 0) ::close(from_);
  }

  void send_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(to_, bytes.data() + off, bytes.size() - off);
      if (n <= 0) throw std::runtime_error("write to the server failed");
      off += static_cast<size_t>(n);
    }
  }
  void send(const json& msg) {
    std::string body = msg.dump(-1, ' ', false, json::error_handler_t::replace);
    send_raw("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  // Several messages in one write, so that the server reads them together (before it re-checks).
  void send_batch(const std::vector<json>& msgs) {
    std::string bytes;
    for (const json& m : msgs) {
      std::string body = m.dump(-1, ' ', false, json::error_handler_t::replace);
      bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }
    send_raw(bytes);
  }
  void notify(const std::string& method, const json& params) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
  }
  int send_request(const std::string& method, const json& params) {
    int id = next_id_++;
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
    return id;
  }
  // The response to a request (the whole message: "result" or "error"); notifications read meanwhile are kept.
  json request(const std::string& method, const json& params, int timeout_ms = kTimeout) {
    return response(send_request(method, params), timeout_ms);
  }
  json response(const json& id, int timeout_ms = kTimeout) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->contains("id") && (*it)["id"] == id && !it->contains("method")) {
        json m = *it;
        pending_.erase(it);
        return m;
      }
    }
    auto deadline = now() + timeout_ms;
    for (;;) {
      std::optional<json> m = read(deadline - now());
      if (!m) throw std::runtime_error("no response to request " + id.dump());
      if (m->contains("id") && (*m)["id"] == id && !m->contains("method")) return *m;
      pending_.push_back(*m);
    }
  }
  // The next response (a message without `method`), keeping the notifications read meanwhile.
  std::optional<json> next_response(int timeout_ms = kTimeout) {
    auto deadline = now() + timeout_ms;
    for (;;) {
      std::optional<json> m = read(deadline - now());
      if (!m || !m->contains("method")) return m;
      pending_.push_back(*m);
    }
  }
  // The next notification `method` whose params satisfy `pred`, or nullopt after the timeout.
  std::optional<json> wait_notification(const std::string& method, const std::function<bool(const json&)>& pred,
                                        int timeout_ms = kTimeout) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->value("method", "") == method && pred((*it)["params"])) {
        json m = (*it)["params"];
        pending_.erase(it);
        return m;
      }
    }
    auto deadline = now() + timeout_ms;
    for (;;) {
      std::optional<json> m = read(deadline - now());
      if (!m) return std::nullopt;
      if (m->value("method", "") == method && pred((*m)["params"])) return (*m)["params"];
      pending_.push_back(*m);
    }
  }
  // The diagnostics published for `uri` next.
  std::optional<json> diagnostics(const std::string& uri, int timeout_ms = kTimeout) {
    auto p = wait_notification("textDocument/publishDiagnostics",
                               [&](const json& params) { return params.value("uri", "") == uri; }, timeout_ms);
    if (!p) return std::nullopt;
    return (*p)["diagnostics"];
  }
  // The diagnostics published for version `version` of the open document `uri`.
  std::optional<json> diagnostics_of_version(const std::string& uri, int version, int timeout_ms = kTimeout) {
    auto p = wait_notification("textDocument/publishDiagnostics", [&](const json& params) {
      return params.value("uri", "") == uri && params.value("version", -1) == version;
    }, timeout_ms);
    if (!p) return std::nullopt;
    return (*p)["diagnostics"];
  }
  // Any message, or nullopt when none arrives within the time.
  std::optional<json> read(long timeout_ms) {
    for (;;) {
      size_t h = buf_.find("\r\n\r\n");
      if (h != std::string::npos) {
        size_t cl = buf_.find("Content-Length: ");
        if (cl == std::string::npos || cl > h) throw std::runtime_error("a frame without Content-Length");
        size_t n = std::stoul(buf_.substr(cl + 16, h - cl - 16));
        if (buf_.size() >= h + 4 + n) {
          std::string body = buf_.substr(h + 4, n);
          buf_.erase(0, h + 4 + n);
          return json::parse(body);
        }
      }
      if (timeout_ms <= 0) return std::nullopt;
      pollfd p{from_, POLLIN, 0};
      auto t0 = now();
      int r = ::poll(&p, 1, static_cast<int>(timeout_ms));
      timeout_ms -= now() - t0;
      if (r <= 0) return std::nullopt;
      char chunk[65536];
      ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  void close_input() {
    if (to_ >= 0) ::close(to_);
    to_ = -1;
  }
  // Waits for the server to end; its exit status (or -1 when it was killed by a signal).
  int wait_exit(int timeout_ms = kTimeout) {
    auto deadline = now() + timeout_ms;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        return -2;
      }
      ::usleep(10000);
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static constexpr int kTimeout = 30000;

 private:
  static long now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  bool reaped_ = false;
  int next_id_ = 1;
  std::string buf_;
  std::deque<json> pending_;
};

}  // namespace braid::lsptest
