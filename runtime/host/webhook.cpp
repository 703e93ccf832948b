#include "host/webhook.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "text/json_write.h"

namespace braid::host {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kSpoolHeader = "BRAID-WEBHOOK-SPOOL 1\n";
constexpr size_t kMaxLostIds = 100;
// Retried failures and permanent ones are each logged at most once per this long; the lines in between are
// counted and the count is given with the next one.
constexpr auto kLogEvery = std::chrono::seconds(10);

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// What a receiver answered, for the log and the dead-letter file: printable ASCII, at most 200 characters.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : ' ';
  if (body.size() > 200) out += "...";
  return out;
}

std::string error_text(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "cannot connect";
    case httplib::Error::ConnectionTimeout: return "connecting timed out";
    case httplib::Error::Read: return "no complete response (the connection was closed, or the response timed out)";
    case httplib::Error::Write: return "the request could not be sent (the connection was closed, or timed out)";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts: return "TLS: cannot load the CA certificates";
    case httplib::Error::SSLServerVerification: return "TLS: the server's certificate is not trusted";
    default: return "HTTP client error: " + httplib::to_string(e);
  }
}

std::string duration_text(milliseconds d) {
  if (d.count() < 1000) return fmt::format("{}ms", d.count());
  return d.count() < 10000 ? fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0)
                           : fmt::format("{}s", d.count() / 1000);
}

// Retry-After: seconds, or an HTTP date (RFC 9110 10.2.3); nullopt when absent or unreadable.
std::optional<milliseconds> retry_after(const httplib::Response& r) {
  if (!r.has_header("Retry-After")) return std::nullopt;
  std::string v = r.get_header_value("Retry-After");
  if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos && v.size() < 10)
    return milliseconds(std::stoll(v) * 1000);
  std::tm tm{};
  const char* end = ::strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end) return std::nullopt;
  time_t at = ::timegm(&tm);
  time_t now = std::time(nullptr);
  return milliseconds(at > now ? (at - now) * 1000 : 0);
}

void write_all(int fd, std::string_view s, const std::string& path) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw WebhookError(fmt::format("cannot write the webhook spool `{}`: {}", path, std::strerror(errno)));
    s.remove_prefix(static_cast<size_t>(n));
  }
}

struct Item {
  std::string id, json;
};

// A spool read back: the alerts without a delivered mark, in order, and every id it names.
struct SpoolContents {
  std::vector<Item> pending;
  std::unordered_set<std::string> known;
  uint64_t damaged = 0;  // lines that are neither (a crash can leave a partial or zeroed tail)
};

SpoolContents read_spool(const std::string& path) {
  SpoolContents out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) return out;
  if (bytes.rfind(kSpoolHeader, 0) != 0) {
    throw WebhookError(fmt::format("`{}` is not a webhook spool of this braid version (its first line is not `{}`); to "
                                   "start fresh, move it away (its undelivered alerts are then not sent again)",
                                   path, kSpoolHeader.substr(0, kSpoolHeader.size() - 1)));
  }
  std::vector<Item> added;
  std::unordered_set<std::string> done;
  size_t at = kSpoolHeader.size();
  while (at < bytes.size()) {
    size_t eol = bytes.find('\n', at);
    if (eol == std::string::npos) {  // a partial last line: its alert was never queued
      ++out.damaged;
      break;
    }
    std::string_view line(bytes.data() + at, eol - at);
    at = eol + 1;
    if (line.size() > 35 && line[0] == '+' && line[1] == ' ' && line[34] == ' ') {
      std::string id(line.substr(2, 32));
      if (out.known.insert(id).second) added.push_back({id, std::string(line.substr(35))});
    } else if (line.size() == 34 && line[0] == '-' && line[1] == ' ') {
      std::string id(line.substr(2, 32));
      done.insert(id);
      out.known.insert(id);
    } else {
      ++out.damaged;
    }
  }
  for (Item& it : added)
    if (!done.count(it.id)) out.pending.push_back(std::move(it));
  return out;
}

}  // namespace

std::string WebhookUrl::redacted() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

WebhookUrl parse_webhook_url(std::string_view url) {
  // The message never repeats the URL: its path or query may be a secret (many webhooks put the token there).
  auto bad = [](std::string_view why) { return WebhookError(fmt::format("--webhook: {}", why)); };
  WebhookUrl u;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) throw bad("not a URL (expected http://HOST[:PORT]/PATH or https://...)");
  u.scheme = lower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https")
    throw bad(fmt::format("the scheme must be http:// or https://, not {}://", excerpt(u.scheme)));
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw bad("the URL holds a space or a control character (percent-encode it)");
  }
  std::string_view rest = url.substr(sep + 3);
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (tail.find('#') != std::string_view::npos) throw bad("the URL has a fragment (#...), which is never sent");
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view info = authority.substr(0, at);
    size_t colon = info.find(':');
    u.user = percent_decode(info.substr(0, colon));
    if (colon != std::string_view::npos) u.password = percent_decode(info.substr(colon + 1));
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) throw bad("an IPv6 address lacks its closing `]`");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      throw bad("the host is not an IPv6 address");
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
        throw bad("the host name holds a character that is not a letter, digit, `-`, `.` or `_`");
    }
  }
  if (host.empty()) throw bad("no host");
  u.host = std::string(host);
  if (port.empty()) {
    if (authority.back() == ':') throw bad("an empty port");
    u.port = u.scheme == "https" ? 443 : 80;
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      throw bad("the port is not a number");
    u.port = std::stoi(std::string(port));
    if (u.port < 1 || u.port > 65535) throw bad("the port is not between 1 and 65535");
  }
  u.target = tail.empty() ? "/" : tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
  return u;
}

std::pair<std::string, std::string> parse_webhook_header(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw WebhookError("--webhook-header: expected `Name: value`");
  std::string name(text.substr(0, colon));
  for (char c : name) {
    if (!is_tchar(c)) throw WebhookError(fmt::format("--webhook-header: `{}` is not a header name", excerpt(name)));
  }
  std::string_view value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  for (char c : value) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      throw WebhookError(fmt::format("--webhook-header {}: the value holds a control character", name));
  }
  static const char* const kReserved[] = {"content-type", "content-length", "host", "idempotency-key",
                                          "x-braid-alert-id", "transfer-encoding", "connection"};
  for (const char* r : kReserved) {
    if (lower(name) == r)
      throw WebhookError(fmt::format("--webhook-header {}: braid sets this header itself", name));
  }
  return {name, std::string(value)};
}

uint64_t spool_pending(const std::string& path) { return read_spool(path).pending.size(); }

struct WebhookSink::Impl {
  WebhookOptions o;
  std::unique_ptr<httplib::Client> client;
  std::thread thread;
  std::atomic<bool> thread_done{false};

  std::mutex mu;  // guards everything below, and the spool's file
  std::condition_variable not_full, not_empty, idle, wake;
  std::deque<Item> queue;
  std::optional<Item> current;  // in flight
  std::vector<Item> overflow;   // spooled but not queued: a stop signal came while send() waited for room
  bool stopping = false;
  int spool_fd = -1;
  uint64_t spool_bytes = 0;
  bool spool_mark_failed = false;
  std::unordered_set<std::string> known;  // ids the spool held at start
  FILE* dead_letter = nullptr;
  uint64_t lost = 0;
  std::vector<std::string> lost_ids;

  std::atomic<uint64_t> sent{0}, delivered{0}, retries{0}, failed{0}, dead_lettered{0}, queued{0}, resent{0},
      skipped{0};

  // The rate limit of the log (delivery thread only).
  struct Limiter {
    std::optional<Clock::time_point> last;
    uint64_t held = 0;
  } retry_log, fail_log;
  uint64_t failures_in_a_row = 0;
  std::mt19937_64 rng{std::random_device{}()};

  ~Impl() {
    if (spool_fd >= 0) ::close(spool_fd);
    if (dead_letter) std::fclose(dead_letter);
  }

  void log(Limiter& l, const std::string& line) {
    if (!o.log) return;
    Clock::time_point now = Clock::now();
    if (l.last && now - *l.last < kLogEvery) {
      ++l.held;
      return;
    }
    o.log(l.held ? fmt::format("{} ({} similar line{} not shown)", line, l.held, l.held == 1 ? "" : "s") : line);
    l.last = now;
    l.held = 0;
  }

  void update_queued() { queued = queue.size() + (current ? 1 : 0) + overflow.size(); }

  // The spool rewritten with only what is undelivered (tmp, fsync, rename, fsync of the directory). Under mu.
  void rewrite_spool() {
    std::string bytes(kSpoolHeader);
    auto add = [&](const Item& it) { bytes += fmt::format("+ {} {}\n", it.id, it.json); };
    if (current) add(*current);
    for (const Item& it : queue) add(it);
    for (const Item& it : overflow) add(it);
    std::string tmp = o.spool + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw WebhookError(fmt::format("cannot write `{}`: {}", tmp, std::strerror(errno)));
    try {
      write_all(fd, bytes, tmp);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::fsync(fd) != 0) {
      int e = errno;
      ::close(fd);
      throw WebhookError(fmt::format("cannot sync `{}`: {}", tmp, std::strerror(e)));
    }
    ::close(fd);
    if (std::rename(tmp.c_str(), o.spool.c_str()) != 0)
      throw WebhookError(fmt::format("cannot rename `{}`: {}", tmp, std::strerror(errno)));
    std::string dir = o.spool.substr(0, o.spool.rfind('/') == std::string::npos ? 0 : o.spool.rfind('/'));
    if (int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    int fresh = ::open(o.spool.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fresh < 0) throw WebhookError(fmt::format("cannot open `{}`: {}", o.spool, std::strerror(errno)));
    if (spool_fd >= 0) ::close(spool_fd);
    spool_fd = fresh;
    spool_bytes = bytes.size();
  }

  // Delivered or refused for good: the spool's mark, and a rewrite once the spool is mostly delivered alerts.
  // Under mu; never throws (a lost mark means one more delivery after a restart, not a lost alert).
  void mark_done(const std::string& id) {
    if (spool_fd < 0) return;
    try {
      std::string line = fmt::format("- {}\n", id);
      write_all(spool_fd, line, o.spool);
      spool_bytes += line.size();
      uint64_t pending = 0;
      if (current) pending += current->json.size() + 36;
      for (const Item& it : queue) pending += it.json.size() + 36;
      for (const Item& it : overflow) pending += it.json.size() + 36;
      if (spool_bytes > o.spool_compact_bytes && spool_bytes > 2 * pending) rewrite_spool();
    } catch (const WebhookError& e) {
      if (!spool_mark_failed && o.log) o.log(fmt::format("webhook: {} (delivered alerts may be sent again after a restart)", e.what()));
      spool_mark_failed = true;
    }
  }

  enum class Outcome { Delivered, Retry, Refused };

  // One attempt; `why` and `wait` are set for Retry, `why` and `status` for Refused.
  Outcome attempt(const Item& it, std::string& why, std::optional<milliseconds>& wait, int& status,
                  std::string& response) {
    httplib::Headers h = {{"Idempotency-Key", it.id}, {"X-Braid-Alert-Id", it.id}};
    httplib::Result r = client->Post(o.url.target, h, it.json, "application/json");
    if (!r) {
      why = error_text(r.error());
      return Outcome::Retry;
    }
    status = r->status;
    if (status >= 200 && status < 300) return Outcome::Delivered;
    response = excerpt(r->body);
    if (status == 408 || status == 429 || status >= 500) {
      why = fmt::format("HTTP {}", status);
      wait = retry_after(*r);
      return Outcome::Retry;
    }
    why = status >= 300 && status < 400 ? fmt::format("HTTP {} (a redirect: redirects are not followed; check the URL)", status)
                                        : fmt::format("HTTP {}", status);
    return Outcome::Refused;
  }

  milliseconds backoff(uint64_t attempt) {
    double base = static_cast<double>(o.min_backoff.count());
    for (uint64_t i = 1; i < attempt && base < static_cast<double>(o.max_backoff.count()); ++i) base *= 2;
    base = std::min(base, static_cast<double>(o.max_backoff.count()));
    // "Equal jitter": half fixed, half random, so that many hosts behind one receiver do not retry in step.
    std::uniform_real_distribution<double> half(0, base / 2);
    return milliseconds(static_cast<int64_t>(base / 2 + half(rng)));
  }

  void refused(const Item& it, const std::string& why, int status, const std::string& response) {
    ++failed;
    std::string where;
    bool kept = false;  // in the dead-letter file
    if (dead_letter) {
      std::time_t now = std::time(nullptr);
      std::tm tm{};
      ::gmtime_r(&now, &tm);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
      std::string line = fmt::format("{{\"failed_at\":\"{}\",\"url\":{},\"status\":{},\"response\":{},\"alert\":{}}}\n",
                                     stamp, json_quote(o.url.redacted()), status, json_quote(response), it.json);
      bool ok = std::fwrite(line.data(), 1, line.size(), dead_letter) == line.size() && std::fflush(dead_letter) == 0 &&
                ::fsync(::fileno(dead_letter)) == 0;
      if (ok) {
        ++dead_lettered;
        kept = true;
        where = fmt::format("; written to the dead-letter file `{}`", o.dead_letter);
      } else {
        where = fmt::format("; cannot write it to the dead-letter file `{}`: {}", o.dead_letter, std::strerror(errno));
      }
    } else {
      where = "; it is not delivered (no --webhook-dead-letter file)";
    }
    if (!kept) {
      std::lock_guard<std::mutex> lock(mu);
      ++lost;
      if (lost_ids.size() < kMaxLostIds) lost_ids.push_back(it.id);
    }
    log(fail_log, fmt::format("webhook {}: alert {} refused: {}{}{}", o.url.redacted(), it.id, why,
                              response.empty() ? "" : fmt::format(" ({})", response), where));
  }

  void run() {
    for (;;) {
      Item it;
      {
        std::unique_lock<std::mutex> lock(mu);
        not_empty.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) break;
        it = std::move(queue.front());
        queue.pop_front();
        current = it;
        not_full.notify_one();
      }
      uint64_t attempts = 0;
      bool finished = false;  // delivered or refused for good
      for (;;) {
        std::string why, response;
        std::optional<milliseconds> wait;
        int status = 0;
        Outcome out = attempt(it, why, wait, status, response);
        if (out == Outcome::Delivered) {
          ++delivered;
          if (failures_in_a_row && o.log && retry_log.last)
            o.log(fmt::format("webhook {}: delivering again after {} failed attempt{}", o.url.redacted(),
                              failures_in_a_row, failures_in_a_row == 1 ? "" : "s"));
          failures_in_a_row = 0;
          retry_log = {};
          finished = true;
          break;
        }
        if (out == Outcome::Refused) {
          refused(it, why, status, response);
          finished = true;
          break;
        }
        ++retries;
        ++failures_in_a_row;
        milliseconds delay = wait ? std::min(*wait, o.max_backoff) : backoff(++attempts);
        log(retry_log, fmt::format("webhook {}: alert {}: {}; retrying in {}{}", o.url.redacted(), it.id, why,
                                   duration_text(delay), wait ? " (Retry-After)" : ""));
        std::unique_lock<std::mutex> lock(mu);
        if (wake.wait_for(lock, delay, [&] { return stopping; })) break;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!finished) break;  // stopping: `current` stays undelivered (in the spool, or lost without one)
      current.reset();  // first: a rewrite in mark_done must not keep the alert just finished
      mark_done(it.id);
      update_queued();
      if (queue.empty()) idle.notify_all();
      if (stopping) break;
    }
    thread_done = true;
  }
};

WebhookSink::WebhookSink(WebhookOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.o = std::move(options);
  if (m.o.queue == 0) m.o.queue = 1;
  if (!m.o.dead_letter.empty()) {
    m.dead_letter = std::fopen(m.o.dead_letter.c_str(), "ab");
    if (!m.dead_letter) {
      throw WebhookError(
          fmt::format("--webhook-dead-letter: cannot write `{}`: {}", m.o.dead_letter, std::strerror(errno)));
    }
  }
  std::vector<Item> pending;
  if (!m.o.spool.empty()) {
    SpoolContents sc = read_spool(m.o.spool);
    if (sc.damaged && m.o.log)
      m.o.log(fmt::format("webhook: {} damaged line{} in the spool `{}` skipped (a crash while it was written)",
                          sc.damaged, sc.damaged == 1 ? "" : "s", m.o.spool));
    m.known = std::move(sc.known);
    // Queued again below; rewritten first so that the spool starts clean (no partial line to append after).
    m.overflow = sc.pending;
    std::lock_guard<std::mutex> lock(m.mu);
    m.rewrite_spool();
    m.overflow.clear();
    pending = std::move(sc.pending);
    m.resent = pending.size();
  }
  m.client = std::make_unique<httplib::Client>(m.o.url.redacted());
  auto secs = [](milliseconds d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); };
  m.client->set_connection_timeout(secs(m.o.timeout));
  m.client->set_read_timeout(secs(m.o.timeout));
  m.client->set_write_timeout(secs(m.o.timeout));
  m.client->set_keep_alive(true);
  m.client->set_tcp_nodelay(true);  // headers and body go in two writes: no 40 ms delayed-ACK stall per alert
  m.client->set_follow_location(false);
  if (!m.o.url.user.empty() || !m.o.url.password.empty()) m.client->set_basic_auth(m.o.url.user, m.o.url.password);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  if (!m.o.ca_file.empty()) m.client->set_ca_cert_path(m.o.ca_file);
  m.client->enable_server_certificate_verification(true);
#else
  if (m.o.url.scheme == "https") throw WebhookError("--webhook: this braid was built without TLS: use http://");
#endif
  httplib::Headers defaults = {{"User-Agent", m.o.user_agent}};
  for (const auto& [k, v] : m.o.headers) defaults.emplace(k, v);
  m.client->set_default_headers(std::move(defaults));
  // Undelivered alerts of the last run go first, in their order (already in the spool: queued without a new line).
  {
    std::lock_guard<std::mutex> lock(m.mu);
    for (Item& it : pending) m.queue.push_back(std::move(it));
    m.update_queued();
  }
  m.thread = std::thread([&m] { m.run(); });
}

WebhookSink::~WebhookSink() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stopping = true;
  }
  m.not_empty.notify_all();
  m.wake.notify_all();
  m.not_full.notify_all();
  // Cut off a request in flight; again until the thread has seen `stopping` (it may start one just after a stop).
  while (!m.thread_done) {
    m.client->stop();
    std::this_thread::sleep_for(milliseconds(10));
  }
  m.thread.join();
}

bool WebhookSink::send(const std::string& id, const std::string& json) {
  Impl& m = *impl_;
  if (!m.known.empty()) {
    // Decided again after a restart: the spool has it, delivered or to be delivered.
    if (auto it = m.known.find(id); it != m.known.end()) {
      m.known.erase(it);
      ++m.skipped;
      return true;
    }
  }
  std::unique_lock<std::mutex> lock(m.mu);
  if (m.spool_fd >= 0) {
    std::string line = fmt::format("+ {} {}\n", id, json);
    try {
      write_all(m.spool_fd, line, m.o.spool);
    } catch (const WebhookError& e) {
      if (m.o.log) m.o.log(fmt::format("webhook: {}", e.what()));
      return false;
    }
    m.spool_bytes += line.size();
  }
  ++m.sent;
  while (m.queue.size() >= m.o.queue && !m.stopping) {
    if (m.spool_fd >= 0 && m.o.stop && m.o.stop->load()) {
      m.overflow.push_back({id, json});  // in the spool: sent after the restart
      m.update_queued();
      return true;
    }
    m.not_full.wait_for(lock, milliseconds(200));
  }
  m.queue.push_back({id, json});
  m.update_queued();
  m.not_empty.notify_one();
  return true;
}

std::string WebhookSink::sync_spool() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.spool_fd >= 0 && ::fsync(m.spool_fd) != 0)
    return fmt::format("cannot sync the webhook spool `{}`: {}", m.o.spool, std::strerror(errno));
  return "";
}

bool WebhookSink::drain(milliseconds limit) {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mu);
  return m.idle.wait_for(lock, limit, [&] { return m.queue.empty() && !m.current; });
}

WebhookStats WebhookSink::stats() const {
  const Impl& m = *impl_;
  WebhookStats s;
  s.sent = m.sent;
  s.delivered = m.delivered;
  s.retries = m.retries;
  s.failed = m.failed;
  s.dead_lettered = m.dead_lettered;
  s.queued = m.queued;
  s.resent = m.resent;
  s.skipped = m.skipped;
  return s;
}

uint64_t WebhookSink::lost() const {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  return m.lost + (!m.o.spool.empty() ? 0 : m.queue.size() + (m.current ? 1 : 0) + m.overflow.size());
}

std::vector<std::string> WebhookSink::lost_ids() const {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  std::vector<std::string> ids = m.lost_ids;
  if (m.o.spool.empty()) {
    if (m.current && ids.size() < kMaxLostIds) ids.push_back(m.current->id);
    for (const Item& it : m.queue) {
      if (ids.size() >= kMaxLostIds) break;
      ids.push_back(it.id);
    }
  }
  return ids;
}

bool WebhookSink::spooled() const { return !impl_->o.spool.empty(); }

}  // namespace braid::host
