#include "input/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <isa-l/igzip_lib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <istream>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <stdexcept>
#include <system_error>

#include "input/records.h"

namespace braid::rt {

namespace fs = std::filesystem;

std::string_view input_format_name(InputFormat f) {
  switch (f) {
    case InputFormat::Ndjson: return "ndjson";
    case InputFormat::CloudTrailRecords: return "cloudtrail-records";
    case InputFormat::JsonArray: return "json-array";
  }
  return "?";
}

std::string_view input_error_kind_name(InputErrorKind k) {
  switch (k) {
    case InputErrorKind::Unreadable: return "unreadable";
    case InputErrorKind::Decompress: return "decompress";
    case InputErrorKind::TooLarge: return "too_large";
    case InputErrorKind::MalformedJson: return "malformed_json";
    case InputErrorKind::InvalidUtf8: return "invalid_utf8";
    case InputErrorKind::NotObject: return "not_object";
    case InputErrorKind::InflateLimit: return "inflate_limit";
    case InputErrorKind::Resume: return "resume";
  }
  return "?";
}

bool input_error_is_record(InputErrorKind k) {
  return k == InputErrorKind::TooLarge || k == InputErrorKind::MalformedJson || k == InputErrorKind::InvalidUtf8 ||
         k == InputErrorKind::NotObject;
}

std::string InputError::to_string() const {
  std::string s(path);
  if (origin.line != 0) s += ":" + std::to_string(origin.line);
  if (origin.element != kNoElement) s += ": element " + std::to_string(origin.element);
  s += ": ";
  s += reason;
  return s;
}

uint64_t InputStats::malformed() const {
  return count(InputErrorKind::TooLarge) + count(InputErrorKind::MalformedJson) +
         count(InputErrorKind::InvalidUtf8) + count(InputErrorKind::NotObject);
}

namespace {

// A source of raw bytes. read() returns the number of bytes read, 0 at the end, -1 on error (with `error`).
struct ByteSource {
  virtual ~ByteSource() = default;
  virtual long read(char* out, size_t n) = 0;
  // Moves to byte `offset` of the source; false when the source cannot seek.
  virtual bool seek(uint64_t /*offset*/) { return false; }
  std::string error;
};

struct FdSource final : ByteSource {
  int fd;
  bool owned;
  FdSource(int f, bool own) : fd(f), owned(own) {}
  ~FdSource() override {
    if (owned && fd >= 0) ::close(fd);
  }
  long read(char* out, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd, out, n);
      if (r >= 0) return static_cast<long>(r);
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return -1;
    }
  }
  bool seek(uint64_t offset) override {
    return ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) == static_cast<off_t>(offset);
  }
};

struct StreamSource final : ByteSource {
  std::istream* in;
  explicit StreamSource(std::istream* s) : in(s) {}
  long read(char* out, size_t n) override {
    if (!*in) return 0;
    in->read(out, static_cast<std::streamsize>(n));
    if (in->bad()) {
      error = "stream read error";
      return -1;
    }
    return static_cast<long>(in->gcount());
  }
};

struct BufferSource final : ByteSource {
  std::string text;
  size_t pos = 0;
  explicit BufferSource(std::string t) : text(std::move(t)) {}
  long read(char* out, size_t n) override {
    size_t k = std::min(n, text.size() - pos);
    std::memcpy(out, text.data() + pos, k);
    pos += k;
    return static_cast<long>(k);
  }
};

// Decompresses gzip when the content starts with the gzip magic bytes, else passes bytes through. The inflate is
// ISA-L's (libisal, Debian's libisal-dev: igzip), which runs about four times as fast as zlib's on CloudTrail's
// gzip files (docs/performance.md, Session 13); it parses the gzip header and checks each member's CRC-32 and
// length, as zlib's did.
class Decoder {
 public:
  Decoder() = default;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  struct Limits {
    uint64_t ratio = 0, floor = 0, max = 0;  // ReaderOptions::max_inflate_ratio, inflate_floor, max_inflated_size
  };

  // Starts on a new source: reads the first bytes to detect gzip. False on a read error (see error()).
  bool start(ByteSource* src, Limits limits) {
    src_ = src;
    limits_ = limits;
    compressed_ = inflated_ = 0;
    limit_hit_ = false;
    in_.resize(kInSize);
    in_pos_ = in_len_ = 0;
    src_eof_ = false;
    stream_end_ = false;
    error_.clear();
    // Read at least two bytes (or to the end) to see the magic.
    while (in_len_ < 2 && !src_eof_) {
      if (!fill()) return false;
    }
    gzip_ = in_len_ >= 2 && static_cast<unsigned char>(in_[0]) == 0x1f && static_cast<unsigned char>(in_[1]) == 0x8b;
    if (gzip_) new_member();
    return true;
  }
  bool gzip() const { return gzip_; }
  const std::string& error() const { return error_; }

  // Plain sources only: continues at byte `offset` of the source. False when it cannot seek.
  bool seek_plain(uint64_t offset) {
    if (gzip_) return false;
    in_pos_ = in_len_ = 0;
    src_eof_ = false;
    return src_->seek(offset);
  }

  // Reads decompressed bytes. >0: bytes; 0: end; -1: error (read error or corrupt/truncated gzip; error() says
  // which, and read_error() tells a read error from a decompression error).
  long read(char* out, size_t n) {
    if (!gzip_) {
      if (in_pos_ < in_len_) {
        size_t k = std::min(n, in_len_ - in_pos_);
        std::memcpy(out, in_.data() + in_pos_, k);
        in_pos_ += k;
        return static_cast<long>(k);
      }
      if (src_eof_) return 0;
      long r = src_->read(out, n);
      if (r < 0) {
        error_ = src_->error;
        read_error_ = true;
        return -1;
      }
      if (r == 0) src_eof_ = true;
      return r;
    }
    for (;;) {
      if (stream_end_) {
        // Another gzip member may follow (concatenated gzip files are one stream).
        if (in_pos_ == in_len_ && !src_eof_ && !fill()) return -1;
        if (in_pos_ == in_len_) return 0;
        if (in_len_ - in_pos_ < 2 && !src_eof_ && !fill()) return -1;
        if (in_len_ - in_pos_ < 2 || static_cast<unsigned char>(in_[in_pos_]) != 0x1f ||
            static_cast<unsigned char>(in_[in_pos_ + 1]) != 0x8b) {
          error_ = "trailing garbage after the gzip stream";
          read_error_ = false;
          in_pos_ = in_len_;
          src_eof_ = true;
          return -1;
        }
        new_member();
        stream_end_ = false;
      }
      if (in_pos_ == in_len_ && !src_eof_) {
        if (!fill()) return -1;
      }
      inflate_state& st = *state_;
      st.next_in = reinterpret_cast<uint8_t*>(in_.data() + in_pos_);
      st.avail_in = static_cast<uint32_t>(in_len_ - in_pos_);
      st.next_out = reinterpret_cast<uint8_t*>(out);
      st.avail_out = static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX));
      int rc = isal_inflate(&st);
      compressed_ += in_len_ - st.avail_in - in_pos_;
      in_pos_ = in_len_ - st.avail_in;
      size_t produced = static_cast<size_t>(reinterpret_cast<char*>(st.next_out) - out);
      inflated_ += produced;
      if (over_limit()) {
        // The bytes of this call are dropped with the rest: the cap is a bound, not an exact cut.
        limit_hit_ = true;
        read_error_ = false;
        error_ = "gzip data inflates to more than " + limit_text() + ": the rest of the file is not read";
        in_pos_ = in_len_;
        src_eof_ = true;
        stream_end_ = true;
        return -1;
      }
      if (rc < 0) {
        error_ = std::string("corrupt gzip data: ") + inflate_error_text(rc);
        read_error_ = false;
        return -1;
      }
      if (st.block_state == ISAL_BLOCK_FINISH) {  // the member's trailer read and checked
        stream_end_ = true;
        if (produced > 0) return static_cast<long>(produced);
        continue;
      }
      if (produced > 0) return static_cast<long>(produced);
      if (in_pos_ == in_len_ && src_eof_) {
        error_ = "truncated gzip stream (unexpected end of file)";
        read_error_ = false;
        return -1;
      }
    }
  }
  bool read_error() const { return read_error_; }
  bool limit_hit() const { return limit_hit_; }

 private:
  bool over_limit() const {
    if (limits_.max != 0 && inflated_ > limits_.max) return true;
    return limits_.ratio != 0 && inflated_ > limits_.floor && inflated_ / limits_.ratio > compressed_;
  }
  std::string limit_text() const {
    if (limits_.max != 0 && inflated_ > limits_.max)
      return std::to_string(limits_.max) + " bytes (ReaderOptions::max_inflated_size)";
    return std::to_string(limits_.ratio) + " times its compressed size after " + std::to_string(inflated_) +
           " bytes (ReaderOptions::max_inflate_ratio)";
  }
  static const char* inflate_error_text(int rc) {
    switch (rc) {
      case ISAL_INVALID_BLOCK: return "invalid deflate block";
      case ISAL_INVALID_SYMBOL: return "invalid code in a deflate block";
      case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
      case ISAL_INVALID_WRAPPER: return "invalid gzip header";
      case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
      case ISAL_INCORRECT_CHECKSUM: return "incorrect data check (CRC-32 or length)";
      default: return "inflate failed";
    }
  }
  // Ready for a gzip member: header, deflate data, then its CRC-32 and length, all checked by isal_inflate.
  void new_member() {
    if (!state_) {
      state_ = std::make_unique<inflate_state>();
      isal_inflate_init(state_.get());
    } else {
      isal_inflate_reset(state_.get());
    }
    state_->crc_flag = ISAL_GZIP;
  }

  static constexpr size_t kInSize = size_t{256} << 10;

  bool fill() {
    if (in_pos_ == in_len_) in_pos_ = in_len_ = 0;
    if (in_pos_ > 0) {
      std::memmove(in_.data(), in_.data() + in_pos_, in_len_ - in_pos_);
      in_len_ -= in_pos_;
      in_pos_ = 0;
    }
    long r = src_->read(in_.data() + in_len_, in_.size() - in_len_);
    if (r < 0) {
      error_ = src_->error;
      read_error_ = true;
      return false;
    }
    if (r == 0) src_eof_ = true;
    in_len_ += static_cast<size_t>(r);
    return true;
  }

  ByteSource* src_ = nullptr;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_len_ = 0;
  bool src_eof_ = false;
  bool gzip_ = false;
  bool stream_end_ = false;
  bool read_error_ = false;
  bool limit_hit_ = false;
  Limits limits_;
  uint64_t compressed_ = 0, inflated_ = 0;  // this source's gzip bytes consumed and produced, all members
  std::unique_ptr<inflate_state> state_;     // (about 40 KB: made at the first gzip file, reused for the next)
  std::string error_;
};

// ReaderOptions::read_ahead: one thread, started at the first file that uses it and kept for the next ones, reads
// the current file's decoder (Decoder::read: the read system calls and the inflate) into a few chunks ahead of the
// caller. It owns the decoder from begin() to the end of the file (a read that returns 0 or less) or end(); the
// caller sees exactly the sequence of reads it would have made itself.
//
// A chunk's bytes are read after `headroom` free bytes, so that the caller can take the chunk as its buffer and put
// the unread end of its old one (a partial line, usually far shorter) in front of them instead of copying the
// chunk (take()); the old buffer becomes a chunk. Only a partial line longer than the headroom is copied (next()).
class ReadAhead {
 public:
  ReadAhead(size_t chunk, size_t headroom) : chunk_(chunk), headroom_(headroom) {
    for (int i = 0; i < kChunks; ++i) free_.emplace_back(capacity());
  }
  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  size_t headroom() const { return headroom_; }

  // Starts reading `dec` ahead (its source positioned where reading goes on).
  void begin(Decoder* dec) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = dec;
    }
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    cv_.notify_all();
  }
  // Stops reading the current file (if still going) and drops what was read ahead of the caller.
  void end() {
    std::unique_lock<std::mutex> lk(mu_);
    job_ = nullptr;
    cv_.wait(lk, [&] { return !busy_; });
    for (Chunk& c : full_) free_.push_back(std::move(c.bytes));
    full_.clear();
  }
  // The next read's result, as Decoder::read(out, chunk) would have returned it; its bytes copied to `out`.
  long next(char* out) {
    Chunk c = pop();
    if (c.n > 0) std::memcpy(out, c.bytes.data() + headroom_, static_cast<size_t>(c.n));
    recycle(std::move(c.bytes));
    return c.n;
  }
  // The next read's result, its bytes left where they were read: when it has bytes, `buf` is exchanged for the
  // chunk, whose bytes are at [headroom(), headroom() + n), and `keep` bytes of the old buffer from `from` (at
  // most headroom()) are copied just before them, at [headroom() - keep, headroom()). Otherwise `buf` is unchanged.
  long take(std::vector<char>& buf, size_t from, size_t keep) {
    Chunk c = pop();
    if (c.n > 0) {
      if (keep) std::memcpy(c.bytes.data() + headroom_ - keep, buf.data() + from, keep);
      buf.swap(c.bytes);
    }
    recycle(std::move(c.bytes));
    return c.n;
  }

 private:
  static constexpr int kChunks = 4;
  struct Chunk {
    long n = 0;
    std::vector<char> bytes;
  };
  size_t capacity() const { return headroom_ + chunk_ + kRecordPadding; }
  Chunk pop() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !full_.empty(); });
    Chunk c = std::move(full_.front());
    full_.pop_front();
    return c;
  }
  void recycle(std::vector<char> b) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      free_.push_back(std::move(b));
    }
    cv_.notify_all();
  }
  void run() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return quit_ || (job_ && !free_.empty()); });
      if (quit_) return;
      Decoder* dec = job_;
      std::vector<char> b = std::move(free_.back());
      free_.pop_back();
      busy_ = true;
      lk.unlock();
      // (A buffer the caller gave back may be its first one, smaller than a chunk: grown once.)
      if (b.size() < capacity()) b.resize(capacity());
      long n = dec->read(b.data() + headroom_, chunk_);
      lk.lock();
      busy_ = false;
      if (job_ == dec) {  // (end() may have taken the file away meanwhile: then the bytes are dropped)
        full_.push_back(Chunk{n, std::move(b)});
        if (n <= 0) job_ = nullptr;  // the end of the file, or an error the caller reads from the decoder
      } else {
        free_.push_back(std::move(b));
      }
      cv_.notify_all();
    }
  }

  const size_t chunk_, headroom_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  Decoder* job_ = nullptr;
  bool busy_ = false, quit_ = false;
  std::deque<Chunk> full_;
  std::vector<std::vector<char>> free_;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// What fstat and the file's first bytes say about an open file.
struct FileInfo {
  FileIdentity id;
  bool regular = false;
  uint64_t size = 0;
};

// FNV-1a, 64 bit: a file's head, for FileIdentity (not a defence against forgery: a replaced file is what it
// must tell apart, and the device and inode must match too).
uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

// Identifies an open file, hashing its first min(size, head) bytes (read with pread: the offset is unchanged).
bool identify(int fd, uint32_t head, FileInfo& out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  out.regular = S_ISREG(st.st_mode);
  out.id.device = static_cast<uint64_t>(st.st_dev);
  out.id.inode = static_cast<uint64_t>(st.st_ino);
  out.size = static_cast<uint64_t>(st.st_size);
  out.id.head_size = 0;
  out.id.head_hash = fnv1a(nullptr, 0);
  if (!out.regular) return true;
  char buf[kIdentityHeadBytes];
  size_t want = static_cast<size_t>(std::min<uint64_t>({out.size, head, kIdentityHeadBytes}));
  size_t got = 0;
  while (got < want) {
    ssize_t r = ::pread(fd, buf + got, want - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.id.head_size = static_cast<uint32_t>(got);
  out.id.head_hash = fnv1a(buf, got);
  return true;
}

// A directory's file: its stream (StreamMark) and its place in the reading order. `key` orders the whole
// directory; within one stream it is also the stream's order, so "every file of the stream up to the mark" is
// one comparison.
struct DirFile {
  std::string full, rel, stream, key;
};

bool digits(std::string_view s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A CloudTrail log file in its delivery tree:
//   .../<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<id>.json[.gz]
// with the account, region and date of the folders equal to those in the name (what is above <account> is free:
// AWSLogs/, AWSLogs/<org id>/, a bucket prefix). Its stream is "ct:<account>/<region>"; `stamp` YYYYMMDDTHHMMZ.
bool cloudtrail_file(const std::string& full, std::string& stream, std::string& stamp) {
  std::vector<std::string_view> c;
  std::string_view rest(full);
  while (!rest.empty()) {
    size_t k = rest.find('/');
    std::string_view part = rest.substr(0, k);
    if (!part.empty()) c.push_back(part);
    if (k == std::string_view::npos) break;
    rest.remove_prefix(k + 1);
  }
  size_t n = c.size();
  if (n < 7) return false;
  std::string_view name = c[n - 1];
  // <account>_CloudTrail_<region>_<stamp>_<id>.json[.gz]
  size_t a = name.find('_');
  if (a == std::string_view::npos) return false;
  std::string_view account = name.substr(0, a);
  static constexpr std::string_view kMid = "_CloudTrail_";
  if (!digits(account, 12) || name.substr(a, kMid.size()) != kMid) return false;
  std::string_view tail = name.substr(a + kMid.size());
  size_t r = tail.find('_');
  if (r == std::string_view::npos) return false;
  std::string_view region = tail.substr(0, r);
  std::string_view st = tail.substr(r + 1, 14);
  if (st.size() != 14 || !digits(st.substr(0, 8), 8) || st[8] != 'T' || !digits(st.substr(9, 4), 4) || st[13] != 'Z')
    return false;
  std::string_view id = tail.substr(r + 1 + 14);
  if (id.size() < 2 || id[0] != '_') return false;
  id.remove_prefix(1);
  size_t dot = id.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  std::string_view ext = id.substr(dot);
  if (ext != ".json.gz" && ext != ".json") return false;
  if (c[n - 2] != st.substr(6, 2) || c[n - 3] != st.substr(4, 2) || c[n - 4] != st.substr(0, 4) ||
      c[n - 5] != region || c[n - 6] != "CloudTrail" || c[n - 7] != account)
    return false;
  stream = "ct:" + std::string(account) + "/" + std::string(region);
  stamp = std::string(st);
  return true;
}

// The reading order of a directory: first every file that is not part of a CloudTrail tree, in byte-wise order of
// the path; then the tree's files by the time in their names (minute precision), across accounts and regions,
// ties in byte-wise order of the path. Each stream's files are in the same order among themselves.
void classify(DirFile& f) {
  std::string stamp;
  if (cloudtrail_file(f.full, f.stream, stamp)) {
    f.key = "\x02" + stamp + "\x01" + f.rel;
  } else {
    f.stream.clear();
    f.key = "\x01" + f.rel;
  }
}

}  // namespace

struct RecordReader::Impl {
  struct Pending {
    enum class Kind : uint8_t { Path, Stream, Buffer } kind = Kind::Path;
    std::string name;
    std::istream* stream = nullptr;
    std::string text;
    uint32_t added = 0;   // index into `added`
    bool in_dir = false;  // a file found in a directory input
    std::string rel, stream_id;
  };
  // One input as added: its live position (but the open file's offsets, filled in by fill_offsets) and the saved
  // one resume() gave it.
  struct Added {
    std::string name;
    bool by_path = false;  // add_path (not a stream or a buffer)
    InputPosition pos;
    std::optional<InputPosition> saved;
  };

  ReaderOptions opt;
  ErrorHandler handler;
  InputStats stats;
  std::vector<std::string> error_texts;
  std::vector<std::string> paths;
  std::deque<Pending> queue;
  std::vector<Added> added;

  // The current input.
  bool open = false;
  uint32_t input = 0;
  std::unique_ptr<ByteSource> src;
  int fd = -1;  // of a file input (for identity and seeking), else -1
  FileInfo info;
  Decoder dec;
  std::unique_ptr<ReadAhead> ahead;  // ReaderOptions::read_ahead (declared after dec: stopped before it goes)
  bool reading_ahead = false;        // `ahead` owns dec for the current file
  InputFormat format = InputFormat::Ndjson;
  uint32_t cur_added = 0;
  bool cur_in_dir = false;
  std::string cur_rel, cur_stream;
  uint64_t file_bytes = 0;  // this file's share of stats.bytes

  // NDJSON state: buf[pos, end) holds unread text; capacity >= end + kRecordPadding. buf[0] is byte buf_off of
  // the decompressed text.
  std::vector<char> buf;
  size_t pos = 0, end = 0;
  uint64_t buf_off = 0;
  bool eof = false;
  bool cut = false;       // the text ended with a decoder error (corrupt, truncated, over the inflate cap)
  bool skipping = false;  // inside an over-long line being discarded
  uint64_t line = 0;      // lines consumed so far

  // Array (Records / JSON array) state.
  std::vector<detail::ElementSpan> elems;
  size_t elem_next = 0;
  std::vector<size_t> elem_lines;
  uint64_t doc_lines = 0;  // newlines in the whole document
  std::unique_ptr<detail::ArraySplitter> splitter;

  void emit(InputErrorKind kind, RecordOrigin origin, std::string_view reason) {
    ++stats.errors[static_cast<size_t>(kind)];
    InputError e;
    e.kind = kind;
    e.origin = origin;
    e.path = origin.input < paths.size() ? std::string_view(paths[origin.input]) : std::string_view("?");
    e.reason = reason;
    if (error_texts.size() < opt.keep_errors) error_texts.push_back(e.to_string());
    if (handler) handler(e);
  }
  void file_error(InputErrorKind kind, std::string_view reason, uint64_t at_line = 0) {
    emit(kind, RecordOrigin{input, at_line, kNoElement}, reason);
  }
  // An error about a path that is not (yet) an input of its own (a directory).
  void path_error(const std::string& name, InputErrorKind kind, std::string_view reason) {
    input = intern(name);
    file_error(kind, reason);
  }
  // The index of a path in `paths`: one entry per distinct path, so that reading the same files again (rescan)
  // does not grow it.
  std::unordered_map<std::string, uint32_t> path_index;
  uint32_t intern(const std::string& name) {
    auto [it, added_now] = path_index.try_emplace(name, static_cast<uint32_t>(paths.size()));
    if (added_now) paths.push_back(name);
    return it->second;
  }

  void ensure_capacity(size_t need) {
    if (buf.size() < need) buf.resize(std::max(need, buf.size() * 2));
  }

  InputErrorKind decoder_error_kind() const {
    if (dec.read_error()) return InputErrorKind::Unreadable;
    return dec.limit_hit() ? InputErrorKind::InflateLimit : InputErrorKind::Decompress;
  }

  // Reads more decompressed bytes at buf[end]. False when nothing more comes (end or error). `sequential`: the
  // caller goes on reading the file to its end from here (NDJSON lines), so it may be read ahead.
  bool read_more(bool sequential = false) {
    if (eof) return false;
    if (sequential && !reading_ahead && opt.read_ahead && !opt.hold_partial_line && fd >= 0 && info.regular) {
      // (Headroom for the partial line carried into the next chunk: a quarter of a chunk, 256 KiB by default.)
      if (!ahead) ahead = std::make_unique<ReadAhead>(opt.chunk_size, std::max<size_t>(opt.chunk_size / 4, 1024));
      ahead->begin(&dec);
      reading_ahead = true;
    }
    long r;
    if (reading_ahead && end - pos <= ahead->headroom()) {
      // The chunk becomes the buffer, the unread text moved in front of it. buf_off keeps "buf[0] is byte buf_off"
      // true modulo 2^64 (it is only ever added to: buf_off + pos is the offset of the first unread byte).
      const size_t keep = end - pos;
      r = ahead->take(buf, pos, keep);
      ++stats.read_ahead_chunks;
      if (r > 0) {
        const size_t start = ahead->headroom() - keep;
        buf_off = buf_off + pos - start;
        pos = start;
        end = ahead->headroom();
      } else {
        reading_ahead = false;  // the thread is done with the file
      }
    } else if (reading_ahead) {
      ensure_capacity(end + opt.chunk_size + kRecordPadding);
      r = ahead->next(buf.data() + end);
      ++stats.read_ahead_chunks;
      ++stats.read_ahead_copied;
      if (r <= 0) reading_ahead = false;
    } else {
      ensure_capacity(end + opt.chunk_size + kRecordPadding);
      r = dec.read(buf.data() + end, opt.chunk_size);
    }
    if (r < 0) {
      // Located at the line where the text breaks off; that line's partial text is not handed out (next_line).
      uint64_t at = line + 1;
      if (format == InputFormat::Ndjson && pos < end)
        at += static_cast<uint64_t>(std::count(buf.data() + pos, buf.data() + end, '\n'));
      file_error(decoder_error_kind(), dec.error() + " (a partial last line is not read)", at);
      eof = true;
      cut = true;
      return false;
    }
    if (r == 0) {
      eof = true;
      return false;
    }
    end += static_cast<size_t>(r);
    stats.bytes += static_cast<uint64_t>(r);
    file_bytes += static_cast<uint64_t>(r);
    return true;
  }

  // The open file's offsets: the first record not yet handed out.
  void fill_offsets(FilePosition& c) const {
    if (format == InputFormat::Ndjson) {
      c.offset = buf_off + pos;
      c.line = line;
      c.element = 0;
    } else if (elem_next < elems.size()) {
      c.offset = elems[elem_next].offset;
      c.line = elem_lines[elem_next] - 1;
      c.element = static_cast<uint32_t>(elem_next);
    } else {
      c.offset = end;
      c.line = doc_lines;
      c.element = static_cast<uint32_t>(elems.size());
    }
  }

  static void set_mark(InputPosition& p, const std::string& stream, const std::string& done) {
    for (auto& m : p.marks) {
      if (m.stream == stream) {
        m.done = done;
        return;
      }
    }
    p.marks.push_back(StreamMark{stream, done});
  }

  // A directory's file is finished (read, or skipped because it could not be read): its stream's mark moves.
  void file_done(uint32_t a, const std::string& stream, const std::string& rel) {
    InputPosition& p = added[a].pos;
    set_mark(p, stream, rel);
    p.has_current = false;
    p.current = FilePosition{};
  }

  void close_input() {
    if (open && fd >= 0 && added[cur_added].pos.has_current) {
      if (cur_in_dir)
        file_done(cur_added, cur_stream, cur_rel);
      else
        fill_offsets(added[cur_added].pos.current);
    }
    release_source();
  }
  void release_source() {
    open = false;
    if (reading_ahead) {
      ahead->end();
      reading_ahead = false;
    }
    src.reset();
    fd = -1;
    elems.clear();
    elem_lines.clear();
    elem_next = 0;
  }

  // Opens the next queued input; false when there is none left.
  bool open_next() {
    while (!queue.empty()) {
      Pending p = std::move(queue.front());
      queue.pop_front();
      if (p.kind == Pending::Kind::Path && p.name != "-" && !p.in_dir) {
        std::error_code ec;
        auto st = fs::status(p.name, ec);
        if (!ec && fs::is_directory(st)) {
          expand_directory(p);
          continue;
        }
      }
      input = intern(p.name);
      cur_added = p.added;
      cur_in_dir = p.in_dir;
      cur_rel = p.rel;
      cur_stream = p.stream_id;
      if (!open_source(p)) {
        if (p.in_dir) file_done(p.added, p.stream_id, p.rel);
        continue;
      }
      // The saved position of this file, if resume() gave one.
      Added& a = added[p.added];
      if (fd >= 0 && a.saved && a.saved->has_current && (!p.in_dir || a.saved->current.file == p.rel)) {
        FilePosition from = a.saved->current;
        a.saved->has_current = false;  // used once
        std::string why = resume_file(from);
        if (!why.empty()) {
          file_error(InputErrorKind::Resume, why + ": read from the start");
          stats.bytes -= file_bytes;
          --stats.inputs;  // counted again
          release_source();
          if (!open_source(p)) {
            if (p.in_dir) file_done(p.added, p.stream_id, p.rel);
            continue;
          }
        }
      }
      return true;
    }
    return false;
  }

  // Opens a queued input and reads its head (format; a whole array document). False when it cannot be read
  // (reported; stats.inputs counts it).
  bool open_source(const Pending& p) {
    Added& a = added[p.added];
    fd = -1;
    switch (p.kind) {
      case Pending::Kind::Path:
        if (p.name == "-") {
          src = std::make_unique<FdSource>(0, false);
        } else {
          int f = ::open(p.name.c_str(), O_RDONLY | O_CLOEXEC);
          if (f < 0) {
            file_error(InputErrorKind::Unreadable, std::string("cannot open: ") + std::strerror(errno));
            return false;
          }
          src = std::make_unique<FdSource>(f, true);
          info = FileInfo{};
          if (identify(f, kIdentityHeadBytes, info) && info.regular) {
            fd = f;
            a.pos.has_current = true;
            a.pos.current = FilePosition{p.in_dir ? p.rel : std::string(), info.id, 0, 0, 0};
          } else {
            a.pos.resumable = false;  // a pipe or device given by name
          }
        }
        break;
      case Pending::Kind::Stream: src = std::make_unique<StreamSource>(p.stream); break;
      case Pending::Kind::Buffer: src = std::make_unique<BufferSource>(p.text); break;
    }
    ++stats.inputs;
    if (!dec.start(src.get(), Decoder::Limits{opt.max_inflate_ratio, opt.inflate_floor, opt.max_inflated_size})) {
      file_error(InputErrorKind::Unreadable, std::string("cannot read: ") + dec.error());
      src.reset();
      fd = -1;
      return false;
    }
    pos = end = 0;
    buf_off = 0;
    file_bytes = 0;
    eof = false;
    cut = false;
    skipping = false;
    line = 0;
    doc_lines = 0;
    open = true;
    detect_format();
    if (format != InputFormat::Ndjson) load_array();
    return true;
  }

  // Moves the just opened file to the saved position `from`. Empty when done; else why the position does not
  // apply (the caller reads the file from the start).
  std::string resume_file(const FilePosition& from) {
    FileInfo now;
    if (!identify(fd, from.identity.head_size, now) || now.id != from.identity)
      return "the file is not the one of the saved position (replaced or rotated: its device, inode or first " +
             std::to_string(from.identity.head_size) + " bytes differ)";
    if (format != InputFormat::Ndjson) {
      bool same = from.element < elems.size() ? elems[from.element].offset == from.offset
                                              : from.element == elems.size() && end == from.offset;
      if (!same)
        return "the file no longer has the saved element " + std::to_string(from.element) + " at offset " +
               std::to_string(from.offset);
      elem_next = from.element;
      return {};
    }
    line = from.line;
    if (from.offset <= end) {  // within what detect_format() read
      pos = static_cast<size_t>(from.offset);
      stats.bytes -= from.offset;
      file_bytes -= from.offset;
      return {};
    }
    if (eof && !dec.gzip())
      return "the file is now shorter (" + std::to_string(end) + " bytes) than the saved offset " +
             std::to_string(from.offset);
    stats.bytes -= end;
    file_bytes -= end;
    if (!dec.gzip()) {
      if (info.size < from.offset)
        return "the file is now shorter (" + std::to_string(info.size) + " bytes) than the saved offset " +
               std::to_string(from.offset);
      if (!dec.seek_plain(from.offset)) return std::string("cannot seek: ") + std::strerror(errno);
      buf_off = from.offset;
      pos = end = 0;
      eof = false;
      return {};
    }
    // gzip: decompress and discard up to the offset.
    uint64_t at = end;
    pos = end = 0;
    ensure_capacity(opt.chunk_size + kRecordPadding);
    while (at < from.offset) {
      if (eof)
        return "the file now decompresses to " + std::to_string(at) + " bytes, fewer than the saved offset " +
               std::to_string(from.offset);
      long r = dec.read(buf.data(), opt.chunk_size);
      if (r < 0) {
        // Damaged before the saved offset: nothing after it can be read either.
        file_error(decoder_error_kind(), dec.error(), line + 1);
        eof = true;
        buf_off = at;
        return {};
      }
      if (r == 0) {
        eof = true;
        continue;
      }
      uint64_t n = static_cast<uint64_t>(r);
      if (at + n > from.offset) {
        buf_off = at;
        pos = static_cast<size_t>(from.offset - at);
        end = static_cast<size_t>(n);
        stats.bytes += end - pos;
        file_bytes += end - pos;
        return {};
      }
      at += n;
    }
    buf_off = at;
    return {};
  }

  // Follow: every input added by path is queued again, resuming from its position.
  void rescan() {
    if (open) return;  // only after next() returned false
    for (uint32_t i = 0; i < added.size(); ++i) {
      Added& a = added[i];
      if (!a.by_path || !a.pos.resumable) continue;
      a.saved = a.pos;
      Pending p;
      p.kind = Pending::Kind::Path;
      p.name = a.name;
      p.added = i;
      queue.push_back(std::move(p));
    }
  }

  void queue_input(Pending p) {
    Added a;
    a.name = p.name;
    a.pos.input = p.name;
    a.by_path = p.kind == Pending::Kind::Path;
    a.pos.resumable = a.by_path && p.name != "-";
    p.added = static_cast<uint32_t>(added.size());
    added.push_back(std::move(a));
    queue.push_back(std::move(p));
  }

  void expand_directory(const Pending& dir) {
    std::vector<DirFile> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir.name, fs::directory_options::none, ec), last;
    if (ec) {
      path_error(dir.name, InputErrorKind::Unreadable, "cannot read directory: " + ec.message());
      return;
    }
    for (; it != last; it.increment(ec)) {
      if (ec) {
        path_error(dir.name, InputErrorKind::Unreadable, "cannot read directory: " + ec.message());
        break;
      }
      const auto& p = it->path();
      std::string name = p.filename().string();
      if (!name.empty() && name[0] == '.') {
        std::error_code ec2;
        if (it->is_directory(ec2)) it.disable_recursion_pending();
        continue;
      }
      std::error_code ec2;
      if (it->is_regular_file(ec2)) {
        DirFile f;
        f.full = p.string();
        f.rel = p.lexically_relative(dir.name).string();
        classify(f);
        files.push_back(std::move(f));
      }
    }
    std::sort(files.begin(), files.end(), [](const DirFile& x, const DirFile& y) { return x.key < y.key; });
    // Resumed: what the marks say is done is not read again.
    Added& a = added[dir.added];
    std::vector<std::pair<std::string, std::string>> mark_keys;  // stream, key of its mark
    for (const auto& m : a.pos.marks) {
      DirFile f;
      f.rel = m.done;
      f.full = (fs::path(dir.name) / m.done).string();
      classify(f);
      mark_keys.emplace_back(m.stream, f.key);
    }
    auto done = [&](const DirFile& f) {
      for (const auto& [stream, key] : mark_keys)
        if (stream == f.stream) return f.key <= key;
      return false;
    };
    std::vector<DirFile> todo;
    bool current_found = false;
    for (auto& f : files) {
      if (done(f)) continue;
      if (a.saved && a.saved->has_current && a.saved->current.file == f.rel) current_found = true;
      todo.push_back(std::move(f));
    }
    if (a.saved && a.saved->has_current && !current_found) {
      path_error(dir.name, InputErrorKind::Resume,
                 "the file of the saved position, " + a.saved->current.file +
                     ", is gone: its records after offset " + std::to_string(a.saved->current.offset) +
                     " cannot be read");
      a.saved->has_current = false;
      a.pos.has_current = false;
      a.pos.current = FilePosition{};
    }
    for (auto f = todo.rbegin(); f != todo.rend(); ++f) {
      Pending q;
      q.kind = Pending::Kind::Path;
      q.name = std::move(f->full);
      q.added = dir.added;
      q.in_dir = true;
      q.rel = std::move(f->rel);
      q.stream_id = std::move(f->stream);
      queue.push_front(std::move(q));
    }
  }
  // Looks at the first non-whitespace bytes: {"Records": [ -> Records; [ -> array; else NDJSON.
  void detect_format() {
    format = InputFormat::Ndjson;
    // Make sure enough text is buffered to decide (up to 4 KiB of leading whitespace is looked at).
    while (end < 4096 && read_more()) {
    }
    size_t i = 0;
    if (end >= 3 && static_cast<unsigned char>(buf[0]) == 0xEF && static_cast<unsigned char>(buf[1]) == 0xBB &&
        static_cast<unsigned char>(buf[2]) == 0xBF)
      i = 3;  // UTF-8 byte order mark
    auto skip = [&] {
      while (i < end && is_space(buf[i])) ++i;
    };
    skip();
    if (i >= end) return;
    if (buf[i] == '[') {
      format = InputFormat::JsonArray;
      return;
    }
    if (buf[i] != '{') return;
    ++i;
    skip();
    static constexpr std::string_view kKey = "\"Records\"";
    if (end - i < kKey.size() || std::string_view(buf.data() + i, kKey.size()) != kKey) return;
    i += kKey.size();
    skip();
    if (i >= end || buf[i] != ':') return;
    ++i;
    skip();
    if (i < end && buf[i] == '[') format = InputFormat::CloudTrailRecords;
  }

  // Reads the whole (Records / array) document and splits it into elements.
  void load_array() {
    while (!eof) {
      if (end > opt.max_document_size) {
        file_error(InputErrorKind::TooLarge, "document of more than " + std::to_string(opt.max_document_size) +
                                                 " bytes (ReaderOptions::max_document_size): file skipped");
        elems.clear();
        return;
      }
      read_more();
    }
    ensure_capacity(end + kRecordPadding);
    std::memset(buf.data() + end, ' ', kRecordPadding);
    if (!splitter) splitter = std::make_unique<detail::ArraySplitter>();
    InputErrorKind kind{};
    std::string reason;
    size_t bad = 0;
    elems.clear();
    bool ok = splitter->split(buf.data(), end, format, elems, kind, reason, bad);
    // 1-based line of each element's first byte.
    elem_lines.resize(elems.size());
    uint64_t ln = 1;
    size_t at = 0;
    auto line_at = [&](size_t off) {
      while (at < off) {
        const void* nl = std::memchr(buf.data() + at, '\n', off - at);
        if (!nl) {
          at = off;
          break;
        }
        ++ln;
        at = static_cast<size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
      }
      return ln;
    };
    for (size_t k = 0; k < elems.size(); ++k) elem_lines[k] = line_at(elems[k].offset);
    doc_lines = line_at(end) - 1;
    if (!ok) {
      uint64_t where = bad < elems.size() ? elem_lines[bad] : 0;
      emit(kind, RecordOrigin{input, where, static_cast<uint32_t>(bad)},
           std::string(input_format_name(format)) + " file: " + reason +
               (bad > 0 || !elems.empty() ? " (the elements before it are read)" : ""));
    }
    elem_next = 0;
  }

  bool next_array(Record& out) {
    if (elem_next >= elems.size()) return false;
    size_t k = elem_next++;
    out.data = buf.data() + elems[k].offset;
    out.size = elems[k].size;
    out.origin = RecordOrigin{input, elem_lines[k], static_cast<uint32_t>(k)};
    out.format = format;
    return true;
  }

  bool next_line(Record& out) {
    for (;;) {
      const char* base = buf.data();
      const void* nl = pos < end ? std::memchr(base + pos, '\n', end - pos) : nullptr;
      size_t line_end;
      if (nl) {
        line_end = static_cast<size_t>(static_cast<const char*>(nl) - base);
      } else if (eof) {
        if (pos >= end) return false;
        if (cut) {  // the text broke off inside this line (reported by read_more)
          pos = end;
          return false;
        }
        // Following a file that is being written: the line is read once its newline arrives (rescan()).
        if (opt.hold_partial_line && fd >= 0 && !cur_in_dir && !skipping) return false;
        line_end = end;  // the last line has no newline
      } else {
        // Need more text for this line.
        size_t have = end - pos;
        if (skipping) {
          buf_off += end;
          pos = end = 0;
        } else if (have > opt.max_record_size) {
          file_error(InputErrorKind::TooLarge,
                     "line longer than " + std::to_string(opt.max_record_size) +
                         " bytes (ReaderOptions::max_record_size): skipped",
                     line + 1);
          skipping = true;
          buf_off += end;
          pos = end = 0;
        } else if (pos > 0) {
          std::memmove(buf.data(), buf.data() + pos, have);
          buf_off += pos;
          pos = 0;
          end = have;
        }
        read_more(true);
        continue;
      }
      ++line;
      size_t start = pos;
      pos = line_end + (nl ? 1 : 0);
      if (skipping) {
        skipping = false;
        continue;
      }
      size_t len = line_end - start;
      if (len > opt.max_record_size) {
        file_error(InputErrorKind::TooLarge,
                   "line of " + std::to_string(len) + " bytes exceeds " + std::to_string(opt.max_record_size) +
                       " bytes (ReaderOptions::max_record_size): skipped",
                   line);
        continue;
      }
      bool blank = true;
      for (size_t k = start; k < line_end; ++k) {
        if (!is_space(base[k])) {
          blank = false;
          break;
        }
      }
      if (blank) {
        ++stats.empty_lines;
        continue;
      }
      out.data = base + start;
      out.size = len;
      out.origin = RecordOrigin{input, line, kNoElement};
      out.format = InputFormat::Ndjson;
      return true;
    }
  }
};

void check_simd_kernel();  // kernel.cpp

RecordReader::RecordReader(ReaderOptions options) {
  check_simd_kernel();
  impl_ = std::make_unique<Impl>();
  impl_->opt = options;
  if (impl_->opt.chunk_size < 4096) impl_->opt.chunk_size = 4096;
}
RecordReader::~RecordReader() = default;

void RecordReader::add_path(std::string path) {
  Impl::Pending p;
  p.kind = Impl::Pending::Kind::Path;
  p.name = std::move(path);
  impl_->queue_input(std::move(p));
}
void RecordReader::add_stream(std::istream& in, std::string name) {
  Impl::Pending p;
  p.kind = Impl::Pending::Kind::Stream;
  p.name = std::move(name);
  p.stream = &in;
  impl_->queue_input(std::move(p));
}
void RecordReader::add_buffer(std::string text, std::string name) {
  Impl::Pending p;
  p.kind = Impl::Pending::Kind::Buffer;
  p.name = std::move(name);
  p.text = std::move(text);
  impl_->queue_input(std::move(p));
}

std::vector<InputPosition> RecordReader::positions() const {
  const Impl& m = *impl_;
  std::vector<InputPosition> out;
  out.reserve(m.added.size());
  for (const auto& a : m.added) out.push_back(a.pos);
  if (m.open && m.fd >= 0 && out[m.cur_added].has_current) m.fill_offsets(out[m.cur_added].current);
  return out;
}

void RecordReader::rescan() { impl_->rescan(); }

void RecordReader::resume(const std::vector<InputPosition>& saved) {
  std::vector<bool> used(saved.size(), false);
  for (auto& a : impl_->added) {
    if (!a.pos.resumable) continue;
    for (size_t i = 0; i < saved.size(); ++i) {
      if (used[i] || !saved[i].resumable || saved[i].input != a.name) continue;
      used[i] = true;
      a.saved = saved[i];
      a.pos = saved[i];
      break;
    }
  }
}

void RecordReader::set_error_handler(ErrorHandler handler) { impl_->handler = std::move(handler); }

bool RecordReader::next(Record& out) {
  Impl& m = *impl_;
  for (;;) {
    if (!m.open && !m.open_next()) return false;
    bool got = m.format == InputFormat::Ndjson ? m.next_line(out) : m.next_array(out);
    if (got) {
      ++m.stats.records;
      return true;
    }
    m.close_input();
  }
}

void RecordReader::report(const Record& record, InputErrorKind kind, std::string_view reason) {
  impl_->emit(kind, record.origin, reason);
}

const InputStats& RecordReader::stats() const { return impl_->stats; }
const std::vector<std::string>& RecordReader::errors() const { return impl_->error_texts; }
const std::vector<std::string>& RecordReader::paths() const { return impl_->paths; }
std::string_view RecordReader::path(uint32_t input) const {
  return input < impl_->paths.size() ? std::string_view(impl_->paths[input]) : std::string_view();
}
std::string RecordReader::where(const RecordOrigin& origin) const {
  std::string s(path(origin.input));
  if (origin.line != 0) s += ":" + std::to_string(origin.line);
  if (origin.element != kNoElement) s += ": element " + std::to_string(origin.element);
  return s;
}

}  // namespace braid::rt
