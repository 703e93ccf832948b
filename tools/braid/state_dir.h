// `braid run --state DIR`: the state directory of a long-running host (docs/operations.md, "State and restarts").
//
// DIR holds one checkpoint file, `checkpoint`, replaced atomically (written to `checkpoint.tmp`, fsynced, renamed,
// the directory fsynced), and a lock file, `lock` (flock: one host per directory). A checkpoint is:
//   - the program id (a digest of the compiled rules) and the engine's options, which must match on restart;
//   - the position of every input (runtime/input/reader.h: InputPosition), so a restart reads only what follows;
//   - the alert file and its size when the checkpoint was taken: every alert up to there is covered by the state;
//   - the engine's whole state (Engine::save_state);
//   - a checksum of all of it.
// Loading refuses a damaged file or one of another format, program or options with a message that says which and
// how to start fresh; it never misreads one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "input/reader.h"

namespace braid::cli {

struct Checkpoint {
  std::string program_id;
  std::vector<rt::InputPosition> positions;
  std::string output;         // the alert file as given (-o), "" for stdout
  uint64_t output_size = 0;   // its size in bytes when the checkpoint was taken
  std::string bad_records;    // the --bad-records file, "" for none (older checkpoints: none)
  uint64_t bad_records_size = 0;  // its size in bytes when the checkpoint was taken
  int64_t taken_at = 0;       // wall clock, ns since the epoch
  uint64_t checkpoints = 0;   // checkpoints taken in this directory so far (this one included)
  std::string engine_state;   // Engine::save_state
};

// A checkpoint file that cannot be used; what() says why and how to start fresh.
struct StateFileError {
  std::string message;
};

class StateDir {
 public:
  // Creates DIR if needed and locks it; a UsageError when it cannot, or when another process holds the lock.
  explicit StateDir(std::string dir);
  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  // The last checkpoint; nullopt when there is none. Throws StateFileError.
  std::optional<Checkpoint> load() const;
  // Writes a checkpoint atomically (tmp, fsync, rename, fsync of the directory). Throws StateFileError.
  void save(const Checkpoint& c) const;

  const std::string& dir() const { return dir_; }
  std::string checkpoint_path() const { return dir_ + "/checkpoint"; }

 private:
  std::string dir_;
  int lock_fd_ = -1;
};

// The program id: a digest of the program as compiled (ir::dump), so the same rules give the same id however they
// were loaded (sources or a pack), and any change of a rule's meaning gives another.
struct ProgramDigest {
  static std::string of(const std::string& ir_dump);
};

// The alert file of a host with a state directory: appended to, synced before each checkpoint, and, after a
// restart, free of the alerts the previous run wrote after its last checkpoint (they are decided again, with the
// same ids, and dropped here instead of being written twice). A partial last line (a crash in the middle of a
// write) is cut off first. The --bad-records file is kept the same way, its lines keyed by `key_of` instead of
// the alert id.
class AlertFile {
 public:
  // Opens `path` for appending. `covered`: the size recorded by the checkpoint (nullopt: no checkpoint). Reads the
  // ids (keys) written after it. Throws StateFileError when the file cannot be opened or read.
  AlertFile(const std::string& path, std::optional<uint64_t> covered, std::string& warning,
            std::function<std::string(std::string_view line)> key_of = {});
  ~AlertFile();
  // Writes one rendered alert (a line without its newline) unless the previous run already wrote it (`id`: its
  // id, or key); false on a write error.
  bool write(const std::string& id, const std::string& line);
  // Hands what was written to the OS (no fsync): readers of the file see it. False on a write error.
  bool flush();
  // Flushes and fsyncs; returns the file's size (what a checkpoint covers), or nullopt on an error.
  std::optional<uint64_t> sync();
  uint64_t dropped() const { return dropped_; }  // alerts not written again after a restart
  bool close();

 private:
  FILE* f_ = nullptr;
  std::unordered_set<std::string> written_;  // ids the previous run wrote after its last checkpoint
  uint64_t dropped_ = 0;
};

}  // namespace braid::cli
