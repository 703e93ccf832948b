#include "input/reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <istream>
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
  }
  return "?";
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

// Decompresses gzip when the content starts with the gzip magic bytes, else passes bytes through.
class Decoder {
 public:
  Decoder() = default;
  ~Decoder() { end_zlib(); }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Starts on a new source: reads the first bytes to detect gzip. False on a read error (see error()).
  bool start(ByteSource* src) {
    src_ = src;
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
    if (gzip_) {
      end_zlib();
      std::memset(&zs_, 0, sizeof zs_);
      if (inflateInit2(&zs_, 15 + 16) != Z_OK) {
        error_ = "zlib initialisation failed";
        return false;
      }
      zlib_live_ = true;
    }
    return true;
  }
  bool gzip() const { return gzip_; }
  const std::string& error() const { return error_; }

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
        inflateReset(&zs_);
        stream_end_ = false;
      }
      if (in_pos_ == in_len_ && !src_eof_) {
        if (!fill()) return -1;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
      zs_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
      zs_.next_out = reinterpret_cast<Bytef*>(out);
      zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, UINT32_MAX));
      int rc = inflate(&zs_, Z_NO_FLUSH);
      in_pos_ = in_len_ - zs_.avail_in;
      size_t produced = static_cast<size_t>(reinterpret_cast<char*>(zs_.next_out) - out);
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
        if (produced > 0) return static_cast<long>(produced);
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = std::string("corrupt gzip data: ") + (zs_.msg ? zs_.msg : "inflate failed");
        read_error_ = false;
        return -1;
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

 private:
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
  void end_zlib() {
    if (zlib_live_) inflateEnd(&zs_);
    zlib_live_ = false;
  }

  ByteSource* src_ = nullptr;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_len_ = 0;
  bool src_eof_ = false;
  bool gzip_ = false;
  bool stream_end_ = false;
  bool zlib_live_ = false;
  bool read_error_ = false;
  z_stream zs_{};
  std::string error_;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

struct RecordReader::Impl {
  struct Pending {
    enum class Kind : uint8_t { Path, Stream, Buffer } kind = Kind::Path;
    std::string name;
    std::istream* stream = nullptr;
    std::string text;
  };

  ReaderOptions opt;
  ErrorHandler handler;
  InputStats stats;
  std::vector<std::string> error_texts;
  std::vector<std::string> paths;
  std::deque<Pending> queue;

  // The current input.
  bool open = false;
  uint32_t input = 0;
  std::unique_ptr<ByteSource> src;
  Decoder dec;
  InputFormat format = InputFormat::Ndjson;
  bool dec_failed = false;  // the decoder reported an error: the input ends after the buffered bytes

  // NDJSON state: buf[pos, end) holds unread text; capacity >= end + kRecordPadding.
  std::vector<char> buf;
  size_t pos = 0, end = 0;
  bool eof = false;
  bool skipping = false;  // inside an over-long line being discarded
  uint64_t line = 0;      // lines consumed so far

  // Array (Records / JSON array) state.
  std::vector<detail::ElementSpan> elems;
  size_t elem_next = 0;
  std::vector<size_t> elem_lines;
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

  void ensure_capacity(size_t need) {
    if (buf.size() < need) buf.resize(std::max(need, buf.size() * 2));
  }

  // Reads more decompressed bytes at buf[end]. False when nothing more comes (end or error).
  bool read_more() {
    if (eof) return false;
    ensure_capacity(end + opt.chunk_size + kRecordPadding);
    long r = dec.read(buf.data() + end, opt.chunk_size);
    if (r < 0) {
      file_error(dec.read_error() ? InputErrorKind::Unreadable : InputErrorKind::Decompress, dec.error(), line + 1);
      eof = true;
      return false;
    }
    if (r == 0) {
      eof = true;
      return false;
    }
    end += static_cast<size_t>(r);
    stats.bytes += static_cast<uint64_t>(r);
    return true;
  }

  void close_input() {
    open = false;
    src.reset();
    elems.clear();
    elem_lines.clear();
    elem_next = 0;
  }

  // Opens the next queued input; false when there is none left.
  bool open_next() {
    while (!queue.empty()) {
      Pending p = std::move(queue.front());
      queue.pop_front();
      if (p.kind == Pending::Kind::Path && p.name != "-") {
        std::error_code ec;
        auto st = fs::status(p.name, ec);
        if (!ec && fs::is_directory(st)) {
          expand_directory(p.name);
          continue;
        }
      }
      input = static_cast<uint32_t>(paths.size());
      paths.push_back(p.name);
      switch (p.kind) {
        case Pending::Kind::Path:
          if (p.name == "-") {
            src = std::make_unique<FdSource>(0, false);
          } else {
            int fd = ::open(p.name.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
              file_error(InputErrorKind::Unreadable, std::string("cannot open: ") + std::strerror(errno));
              continue;
            }
            src = std::make_unique<FdSource>(fd, true);
          }
          break;
        case Pending::Kind::Stream: src = std::make_unique<StreamSource>(p.stream); break;
        case Pending::Kind::Buffer: src = std::make_unique<BufferSource>(std::move(p.text)); break;
      }
      ++stats.inputs;
      if (!dec.start(src.get())) {
        file_error(InputErrorKind::Unreadable, std::string("cannot read: ") + dec.error());
        src.reset();
        continue;
      }
      pos = end = 0;
      eof = false;
      skipping = false;
      line = 0;
      open = true;
      detect_format();
      if (format != InputFormat::Ndjson) load_array();
      return true;
    }
    return false;
  }

  void expand_directory(const std::string& dir) {
    std::vector<std::string> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), last;
    if (ec) {
      input = static_cast<uint32_t>(paths.size());
      paths.push_back(dir);
      file_error(InputErrorKind::Unreadable, "cannot read directory: " + ec.message());
      return;
    }
    for (; it != last; it.increment(ec)) {
      if (ec) {
        input = static_cast<uint32_t>(paths.size());
        paths.push_back(dir);
        file_error(InputErrorKind::Unreadable, "cannot read directory: " + ec.message());
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
      if (it->is_regular_file(ec2)) files.push_back(p.string());
    }
    std::sort(files.begin(), files.end());
    for (auto f = files.rbegin(); f != files.rend(); ++f) {
      Pending q;
      q.kind = Pending::Kind::Path;
      q.name = *f;
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
        line_end = end;  // the last line has no newline
      } else {
        // Need more text for this line.
        size_t have = end - pos;
        if (skipping) {
          pos = end = 0;
        } else if (have > opt.max_record_size) {
          file_error(InputErrorKind::TooLarge,
                     "line longer than " + std::to_string(opt.max_record_size) +
                         " bytes (ReaderOptions::max_record_size): skipped",
                     line + 1);
          skipping = true;
          pos = end = 0;
        } else if (pos > 0) {
          std::memmove(buf.data(), buf.data() + pos, have);
          pos = 0;
          end = have;
        }
        read_more();
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
  impl_->queue.push_back(std::move(p));
}
void RecordReader::add_stream(std::istream& in, std::string name) {
  Impl::Pending p;
  p.kind = Impl::Pending::Kind::Stream;
  p.name = std::move(name);
  p.stream = &in;
  impl_->queue.push_back(std::move(p));
}
void RecordReader::add_buffer(std::string text, std::string name) {
  Impl::Pending p;
  p.kind = Impl::Pending::Kind::Buffer;
  p.name = std::move(name);
  p.text = std::move(text);
  impl_->queue.push_back(std::move(p));
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
