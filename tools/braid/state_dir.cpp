// The state directory and the alert file of `braid run --state` (see state_dir.h).
#include "state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/value_codec.h"
#include "verbs.h"

namespace braid::cli {

namespace {

constexpr std::string_view kHeader = "BRAID-CHECKPOINT ";
// 1: the first host checkpoint format (engine state format 1).
constexpr int kHostFormat = 1;

std::string hex64(uint64_t v) { return fmt::format("{:016x}", v); }

std::string fresh_hint(const std::string& dir) {
  return fmt::format("to start fresh, move `{}/checkpoint` away (the alert file is kept; inputs are then read from "
                     "their start)",
                     dir);
}

nlohmann::json position_json(const rt::InputPosition& p) {
  nlohmann::json marks = nlohmann::json::array();
  for (const auto& m : p.marks) marks.push_back({{"stream", m.stream}, {"done", m.done}});
  const auto& c = p.current;
  return {{"input", p.input},
          {"resumable", p.resumable},
          {"has_current", p.has_current},
          {"current",
           {{"file", c.file},
            {"device", c.identity.device},
            {"inode", c.identity.inode},
            {"head_hash", c.identity.head_hash},
            {"head_size", c.identity.head_size},
            {"offset", c.offset},
            {"line", c.line},
            {"element", c.element}}},
          {"marks", marks}};
}

rt::InputPosition position_from(const nlohmann::json& j) {
  rt::InputPosition p;
  p.input = j.at("input").get<std::string>();
  p.resumable = j.at("resumable").get<bool>();
  p.has_current = j.at("has_current").get<bool>();
  const auto& c = j.at("current");
  p.current.file = c.at("file").get<std::string>();
  p.current.identity.device = c.at("device").get<uint64_t>();
  p.current.identity.inode = c.at("inode").get<uint64_t>();
  p.current.identity.head_hash = c.at("head_hash").get<uint64_t>();
  p.current.identity.head_size = c.at("head_size").get<uint32_t>();
  p.current.offset = c.at("offset").get<uint64_t>();
  p.current.line = c.at("line").get<uint64_t>();
  p.current.element = c.at("element").get<uint32_t>();
  for (const auto& m : j.at("marks")) p.marks.push_back({m.at("stream").get<std::string>(), m.at("done").get<std::string>()});
  return p;
}

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw StateFileError{fmt::format("cannot open `{}` to sync it: {}", path, std::strerror(errno))};
  bool ok = ::fsync(fd) == 0;
  int e = errno;
  ::close(fd);
  if (!ok) throw StateFileError{fmt::format("cannot sync `{}`: {}", path, std::strerror(e))};
}

}  // namespace

std::string ProgramDigest::of(const std::string& ir_dump) {
  return hex64(rt::fnv1a(ir_dump)) + hex64(rt::fast_hash(ir_dump));
}

StateDir::StateDir(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) {
    throw UsageError{fmt::format("--state: cannot use `{}` as a state directory: {}", dir_,
                                 ec ? ec.message() : "not a directory")};
  }
  std::string lock = dir_ + "/lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw UsageError{fmt::format("--state: cannot create `{}`: {}", lock, std::strerror(errno))};
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw UsageError{fmt::format("--state: `{}` is in use by another braid process (it holds `{}`)", dir_, lock)};
  }
}

StateDir::~StateDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

std::optional<Checkpoint> StateDir::load() const {
  std::string path = checkpoint_path();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT || !std::filesystem::exists(path)) return std::nullopt;
    throw StateFileError{fmt::format("cannot read `{}`: {}", path, std::strerror(errno))};
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](std::string_view why) {
    return StateFileError{fmt::format("`{}` cannot be used: {}; {}", path, why, fresh_hint(dir_))};
  };
  if (bytes.rfind(kHeader, 0) != 0) throw bad("it is not a Braid checkpoint");
  size_t eol = bytes.find('\n');
  if (eol == std::string::npos) throw bad("it is truncated");
  int format = std::atoi(bytes.substr(kHeader.size(), eol - kHeader.size()).c_str());
  if (format != kHostFormat) {
    throw bad(fmt::format("it was written in checkpoint format {}, and this braid ({}) reads format {}", format,
                          BRAID_VERSION, kHostFormat));
  }
  // The checksum: the last line, 16 hex digits of the hash of everything before it.
  if (bytes.size() < eol + 18 || bytes.back() != '\n') throw bad("it is truncated");
  std::string sum = bytes.substr(bytes.size() - 17, 16);
  std::string_view body(bytes.data(), bytes.size() - 17);
  if (sum != hex64(rt::fast_hash(body))) throw bad("it is damaged (its checksum does not match)");
  size_t meta_end = bytes.find('\n', eol + 1);
  size_t len_end = meta_end == std::string::npos ? meta_end : bytes.find('\n', meta_end + 1);
  if (len_end == std::string::npos || len_end >= body.size()) throw bad("it is damaged");
  Checkpoint c;
  try {
    auto meta = nlohmann::json::parse(bytes.substr(eol + 1, meta_end - eol - 1));
    c.program_id = meta.at("program").get<std::string>();
    c.output = meta.at("output").get<std::string>();
    c.output_size = meta.at("output_size").get<uint64_t>();
    c.bad_records = meta.value("bad_records", std::string());  // newer than the format: optional
    c.bad_records_size = meta.value("bad_records_size", uint64_t{0});
    c.taken_at = meta.at("taken_at").get<int64_t>();
    c.checkpoints = meta.at("checkpoints").get<uint64_t>();
    for (const auto& p : meta.at("inputs")) c.positions.push_back(position_from(p));
  } catch (const nlohmann::json::exception& e) {
    throw bad(fmt::format("its metadata is damaged ({})", e.what()));
  }
  uint64_t n = std::strtoull(bytes.substr(meta_end + 1, len_end - meta_end - 1).c_str(), nullptr, 10);
  if (n != body.size() - len_end - 1) throw bad("its engine state has the wrong length");
  c.engine_state.assign(body.substr(len_end + 1));
  return c;
}

void StateDir::save(const Checkpoint& c) const {
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& p : c.positions) inputs.push_back(position_json(p));
  nlohmann::json meta = {{"braid_version", BRAID_VERSION}, {"program", c.program_id},     {"output", c.output},
                         {"output_size", c.output_size},   {"taken_at", c.taken_at},       {"checkpoints", c.checkpoints},
                         {"inputs", inputs}};
  if (!c.bad_records.empty()) {
    meta["bad_records"] = c.bad_records;
    meta["bad_records_size"] = c.bad_records_size;
  }
  std::string body = fmt::format("{}{}\n{}\n{}\n", kHeader, kHostFormat, meta.dump(), c.engine_state.size());
  body += c.engine_state;
  std::string bytes = body + hex64(rt::fast_hash(body)) + "\n";
  std::string tmp = checkpoint_path() + ".tmp";
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw StateFileError{fmt::format("cannot write `{}`: {}", tmp, std::strerror(errno))};
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        int e = errno;
        ::close(fd);
        throw StateFileError{fmt::format("cannot write `{}`: {}", tmp, std::strerror(e))};
      }
      done += static_cast<size_t>(w);
    }
    bool ok = ::fsync(fd) == 0;
    int e = errno;
    ::close(fd);
    if (!ok) throw StateFileError{fmt::format("cannot sync `{}`: {}", tmp, std::strerror(e))};
  }
  if (const char* kill = std::getenv("BRAID_FAULT_KILL_BEFORE_RENAME"); kill && *kill) {
    // Fault injection for the kill test (tests/run/state_kill_test.sh): die between writing and renaming.
    if (c.checkpoints == std::strtoull(kill, nullptr, 10)) ::kill(::getpid(), SIGKILL);
  }
  if (std::rename(tmp.c_str(), checkpoint_path().c_str()) != 0)
    throw StateFileError{fmt::format("cannot rename `{}`: {}", tmp, std::strerror(errno))};
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
}

AlertFile::AlertFile(const std::string& path, std::optional<uint64_t> covered, std::string& warning,
                     std::function<std::string(std::string_view line)> key_of) {
  // What the previous run wrote after its last checkpoint: read it, and cut a partial last line.
  std::error_code ec;
  uint64_t size = std::filesystem::exists(path, ec) ? std::filesystem::file_size(path, ec) : 0;
  if (ec) throw StateFileError{fmt::format("cannot read `{}`: {}", path, ec.message())};
  if (covered && size < *covered) {
    warning = fmt::format("`{}` is shorter ({} bytes) than when the last checkpoint was taken ({} bytes): it was "
                          "truncated or replaced; alerts decided again after the restart may appear twice",
                          path, size, *covered);
  } else if (covered && size > *covered) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(*covered));
    std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t complete = tail.rfind('\n');
    complete = complete == std::string::npos ? 0 : complete + 1;
    if (complete < tail.size()) {
      if (::truncate(path.c_str(), static_cast<off_t>(*covered + complete)) != 0)
        throw StateFileError{fmt::format("cannot cut the partial last line of `{}`: {}", path, std::strerror(errno))};
    }
    // Lines start `{"schema_version":N,"id":"<32 hex>"`.
    std::istringstream lines(tail.substr(0, complete));
    for (std::string line; std::getline(lines, line);) {
      if (key_of) {
        written_.insert(key_of(line));
        continue;
      }
      size_t at = line.find("\"id\":\"");
      if (at != std::string::npos && at < 40 && line.size() >= at + 6 + 32) written_.insert(line.substr(at + 6, 32));
    }
  }
  f_ = std::fopen(path.c_str(), "ab");
  if (!f_) throw StateFileError{fmt::format("cannot write `{}`: {}", path, std::strerror(errno))};
}

AlertFile::~AlertFile() {
  if (f_) std::fclose(f_);
}

bool AlertFile::write(const std::string& id, const std::string& line) {
  if (!written_.empty()) {
    auto it = written_.find(id);
    if (it != written_.end()) {
      written_.erase(it);
      ++dropped_;
      return true;
    }
  }
  return std::fwrite(line.data(), 1, line.size(), f_) == line.size() && std::fputc('\n', f_) != EOF;
}

bool AlertFile::flush() { return std::fflush(f_) == 0; }

std::optional<uint64_t> AlertFile::sync() {
  if (std::fflush(f_) != 0 || ::fsync(::fileno(f_)) != 0) return std::nullopt;
  struct stat st {};
  if (::fstat(::fileno(f_), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

bool AlertFile::close() {
  bool ok = sync().has_value();
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  return ok;
}

}  // namespace braid::cli
