// Event input: turns files, gzip files, directories and stdin into a stream of JSON records.
//
// Containers (detected by content, not by name):
//   - a plain file;
//   - a gzip file (magic bytes 1f 8b; concatenated gzip members are read one after the other; the decompressed
//     size is capped against gzip bombs, see ReaderOptions);
//   - a directory: every regular file below it, recursively; hidden entries (names starting with '.') are
//     skipped. Files of a CloudTrail delivery tree (.../<account>/CloudTrail/<region>/YYYY/MM/DD/
//     <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<id>.json[.gz], folders agreeing with the name) are read merged
//     by the time in their names across accounts and regions, ties in byte-wise order of the path, after every
//     other file, which is read in byte-wise sorted order of the path (deterministic across machines);
//   - "-": standard input (plain or gzip), or any std::istream through add_stream().
// Formats (detected from the first non-whitespace bytes of the decompressed content):
//   - a CloudTrail delivery file: a single top-level object whose FIRST key is "Records" holding an array
//     (`{"Records":[...]}`, any whitespace, pretty-printed or not). Each array element is one record;
//   - a JSON array of records (`[{...},{...}]`), e.g. inline test events. Each element is one record;
//   - otherwise NDJSON: one record per line. Empty (all-whitespace) lines are skipped and not counted as errors.
// Records and JSON-array files are held in memory whole (bounded by ReaderOptions::max_document_size); NDJSON is
// streamed in chunks, so memory is bounded by max_record_size plus one chunk.
//
// Records are handed out as views into a reader-owned buffer that is reused (no per-record allocation in the
// steady state). A Record stays valid until the next call of next(). Its bytes are followed by at least
// kRecordPadding readable bytes (content unspecified), as simdjson On-Demand requires.
//
// positions() and resume() let a later reader continue exactly where this one stopped (docs/operations.md,
// "Reading input").
//
// Errors never stop the reader: each problem is counted in stats() and passed to the error handler (if any) with
// the file, the 1-based line and (for array files) the element index, and reading continues with the next record
// (or the next file when the file itself cannot be read further). JSON-level problems of a record (malformed JSON,
// invalid UTF-8, not an object) are found by the FieldExtractor, which does not know file names: the caller
// reports them back through RecordReader::report() so that every input problem goes through one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace braid::rt {

inline constexpr size_t kRecordPadding = 64;                  // == SIMDJSON_PADDING (checked in reader.cpp)
inline constexpr size_t kDefaultMaxRecordSize = size_t{16} << 20;     // 16 MiB
inline constexpr size_t kDefaultMaxDocumentSize = size_t{1} << 30;    // 1 GiB (a whole Records/array file)
inline constexpr uint32_t kNoElement = UINT32_MAX;

// Where a record came from.
struct RecordOrigin {
  uint32_t input = 0;              // index into RecordReader::paths()
  uint64_t line = 0;               // 1-based line (of the decompressed text) where the record starts; 0: whole file
  uint32_t element = kNoElement;   // Records / JSON-array files: the 0-based index in the array; else kNoElement
};

enum class InputFormat : uint8_t { Ndjson, CloudTrailRecords, JsonArray };
std::string_view input_format_name(InputFormat f);  // "ndjson", "cloudtrail-records", "json-array"

// One JSON record. data[0, size) is the text; data[size, size + kRecordPadding) is readable.
struct Record {
  const char* data = nullptr;
  size_t size = 0;
  RecordOrigin origin;
  InputFormat format = InputFormat::Ndjson;
  std::string_view json() const { return std::string_view(data, size); }
};

enum class InputErrorKind : uint8_t {
  Unreadable,     // a file or directory that cannot be opened or read (the file is skipped)
  Decompress,     // a corrupt or truncated gzip stream (what was decompressed before it is still read)
  TooLarge,       // a record (line) longer than max_record_size, or a Records file over max_document_size
  MalformedJson,  // not valid JSON, including truncated JSON and trailing garbage (from the extractor)
  InvalidUtf8,    // the record is not valid UTF-8 (from the extractor)
  NotObject,      // valid JSON but not an object (from the extractor), or a Records file whose Records is not
                  // an array of objects
  InflateLimit,   // a gzip file inflating beyond the cap (ReaderOptions::max_inflate_ratio, max_inflated_size):
                  // reading the file stops there (what was decompressed before it is still read)
  Resume,         // resume(): the file of a saved position was replaced, rotated, truncated or removed; it is
                  // read from the start (or, when removed, its unread rest is lost)
};
inline constexpr size_t kInputErrorKinds = 8;
std::string_view input_error_kind_name(InputErrorKind k);  // "unreadable", "decompress", "too_large",
                                                           // "malformed_json", "invalid_utf8", "not_object",
                                                           // "inflate_limit", "resume"
// True for the kinds that make one record unusable (too_large, malformed_json, invalid_utf8, not_object: what
// InputStats::malformed() counts); false for the kinds about a whole file or stream.
bool input_error_is_record(InputErrorKind k);

// One reported problem. The views are valid during the handler call only.
struct InputError {
  InputErrorKind kind = InputErrorKind::MalformedJson;
  RecordOrigin origin;
  std::string_view path;    // the input's name ("-" for stdin)
  std::string_view reason;  // e.g. simdjson's error message, "line of 20971520 bytes exceeds ..."
  // "PATH:LINE: REASON", "PATH:LINE: element 3: REASON" (Records / array files), "PATH: REASON" (line 0)
  std::string to_string() const;
};

struct InputStats {
  uint64_t inputs = 0;         // files (and streams) opened
  uint64_t bytes = 0;          // bytes of (decompressed) input text read
  uint64_t records = 0;        // records handed out by next()
  uint64_t empty_lines = 0;    // skipped, not errors
  uint64_t read_ahead_chunks = 0;  // reads next() took from the read-ahead thread (ReaderOptions::read_ahead)
  uint64_t read_ahead_copied = 0;  // ... of which copied, behind a partial line longer than the chunk's headroom
                                   // (the others became the reader's buffer as they were)
  uint64_t errors[kInputErrorKinds] = {};
  uint64_t count(InputErrorKind k) const { return errors[static_cast<size_t>(k)]; }
  // Records that could not be used: too_large + malformed_json + invalid_utf8 + not_object.
  uint64_t malformed() const;
};

// The gzip bomb cap. While a gzip file (or gzip stdin) is read, its decompressed bytes may exceed neither
// max_inflated_size nor max(inflate_floor, max_inflate_ratio x the compressed bytes read so far); beyond that,
// reading the file stops with an InflateLimit error (what came before is read). JSON logs gzip at about 5-20:1
// (CloudTrail files about 10:1), deflate's own maximum is 1032:1: a ratio of 100 passes every real log and
// stops a bomb after 100 times its own size (a 2 MB file that inflates to 2 GB stops after 200 MB). The floor
// lets small, very repetitive files through; the absolute cap bounds one file whatever its size (a month of
// NDJSON in one file is well under it). Plain files have no cap: their size is what it is.
inline constexpr uint64_t kDefaultMaxInflateRatio = 100;
inline constexpr uint64_t kDefaultInflateFloor = uint64_t{64} << 20;        // 64 MiB
inline constexpr uint64_t kDefaultMaxInflatedSize = uint64_t{64} << 30;     // 64 GiB

struct ReaderOptions {
  size_t max_record_size = kDefaultMaxRecordSize;      // longer NDJSON lines are skipped and reported (TooLarge)
  size_t max_document_size = kDefaultMaxDocumentSize;  // larger Records / JSON-array files are reported (TooLarge)
  uint64_t max_inflate_ratio = kDefaultMaxInflateRatio;  // 0: no ratio check
  uint64_t inflate_floor = kDefaultInflateFloor;
  uint64_t max_inflated_size = kDefaultMaxInflatedSize;  // 0: no absolute cap
  size_t chunk_size = size_t{1} << 20;                 // read size
  size_t keep_errors = 1000;                           // how many InputErrors errors() keeps (0: none)
  // Follow mode: a file input given by path whose text ends without a final newline is taken to be in the middle
  // of a write. Its last line is not handed out and the file's position stays before it, so that the next
  // rescan() reads the line once it is complete. (Off: a final line without a newline is a record.) Files found
  // in a directory are complete when they appear, so their last line is read either way.
  bool hold_partial_line = false;
  // Read and decompress NDJSON files ahead, on a thread of the reader's own, while the caller works on the records
  // already read (`braid run --threads N` > 1): the read system calls and gzip's inflate leave the thread that
  // calls next(). Regular files only, and not with hold_partial_line (a read there can wait for nothing).
  bool read_ahead = false;
};

// Resumable input positions. One InputPosition per input as added (add_path, add_stream, add_buffer), so the
// state stays small for a directory of months of files. Plain fields: the caller serialises them.
//
// A file is recognised by its identity: device, inode, and a hash of its first bytes as stored (compressed for
// gzip). It matches when all three are equal, the hash taken over the same number of bytes (so a file that grew
// still matches; one that was replaced, rotated, copied or truncated below those bytes does not).
inline constexpr uint32_t kIdentityHeadBytes = 4096;
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t head_hash = 0;  // FNV-1a 64 of the file's first head_size bytes
  uint32_t head_size = 0;  // min(the file's size when opened, kIdentityHeadBytes)
  bool operator==(const FileIdentity&) const = default;
};

// Where reading of one file stands: the first record not yet handed out.
struct FilePosition {
  std::string file;       // a directory input: the file's path relative to the directory; a file input: empty
  FileIdentity identity;
  uint64_t offset = 0;    // in the DECOMPRESSED text: the first byte not yet consumed
  uint64_t line = 0;      // newlines before `offset` (the text at `offset` is on line `line` + 1)
  uint32_t element = 0;   // Records / JSON-array files: elements handed out; NDJSON: 0
  bool operator==(const FilePosition&) const = default;
};

// A directory's files fall into streams, each read in its own order (see "Directories" in docs/operations.md):
// the files of one account and region of a CloudTrail tree ("ct:<account>/<region>"), and every other file ("").
// `done` is the last file of the stream (relative path) that was finished; every file of the stream ordered
// before it counts as done too. So a directory's state is one mark per stream, whatever its number of files.
struct StreamMark {
  std::string stream;
  std::string done;
  bool operator==(const StreamMark&) const = default;
};

struct InputPosition {
  std::string input;            // the path (or stream name) as added
  bool resumable = true;        // false for stdin ("-"), add_stream, add_buffer and non-regular files (pipes)
  bool has_current = false;     // `current` holds the file being read (a file input: the file, once opened)
  FilePosition current;
  std::vector<StreamMark> marks;  // directory inputs only
  bool operator==(const InputPosition&) const = default;
};

class RecordReader {
 public:
  using ErrorHandler = std::function<void(const InputError&)>;

  // Throws SimdKernelError (a std::runtime_error) when no SIMD kernel of the input library can run on this CPU
  // (see simd_kernel_name()).
  explicit RecordReader(ReaderOptions options = {});
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // Queues an input: a file, a directory (expanded when reached) or "-" (stdin). Inputs are read in the order
  // they were added.
  void add_path(std::string path);
  // Queues a stream (not owned; must outlive the reading). `name` is used in error messages.
  void add_stream(std::istream& in, std::string name);
  // Queues an in-memory text (copied), e.g. the events of a test.
  void add_buffer(std::string text, std::string name);

  // Called for every problem, in input order. Set it before the first next().
  void set_error_handler(ErrorHandler handler);

  // The next record, or false at the end of all inputs.
  bool next(Record& out);

  // The position of every input, in the order added, right after the last record next() returned (call it
  // between next() calls). An input read to its end keeps its last position: resuming from it reads only what
  // was appended to the file (or added to the directory) since.
  std::vector<InputPosition> positions() const;
  // Skips what `saved` (from positions() of an earlier reader over the same inputs) says was done. Call it after
  // the add_* calls and before the first next(). Each saved position goes to the first input added under the same
  // name; inputs without one are read from the start, saved positions without an input are ignored, and
  // non-resumable ones are ignored (stdin is read whole). A file whose identity no longer matches, or that is
  // now shorter than the saved offset, is reported (InputErrorKind::Resume) and read from the start. gzip files
  // are resumed exactly by decompressing and discarding the text before the offset (the cost of reading that
  // part again, without parsing it); plain files by seeking.
  void resume(const std::vector<InputPosition>& saved);

  // Follow mode, one step of `tail -F`: call it after next() returned false; then next() reads what arrived since,
  // in the same order and with the same positions as a resumed reader would: data appended to a file input, new
  // files of a directory (after its stream marks: a CloudTrail tree's new files in time order), and a file input
  // replaced under its name (rotated) is reported (InputErrorKind::Resume) and read from the start. Lines written
  // to the old file after the last rescan, once it is renamed away, are not read. stdin, streams and buffers are
  // not read again. Each distinct path keeps one index in paths(), however often it is read again.
  void rescan();

  // Reports a record-level problem found downstream (e.g. by FieldExtractor), with the record's origin.
  void report(const Record& record, InputErrorKind kind, std::string_view reason);

  const InputStats& stats() const;
  // The first ReaderOptions::keep_errors errors, rendered with InputError::to_string().
  const std::vector<std::string>& errors() const;
  // Every distinct input path opened so far (files found in directories included), indexed by
  // RecordOrigin::input.
  const std::vector<std::string>& paths() const;
  std::string_view path(uint32_t input) const;
  // "path:line" / "path:line: element 3" for an origin.
  std::string where(const RecordOrigin& origin) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SIMD kernels. The JSON code of the input library is compiled once per simdjson kernel and one is chosen at run
// time, once per process: on x86-64 the best of "icelake" (AVX-512), "haswell" (AVX2), "westmere" (SSE4.2 and
// PCLMULQDQ) and "fallback" (x86-64-v2 without PCLMULQDQ) that this CPU can run. The environment variable
// BRAID_SIMD_KERNEL=icelake|haswell|westmere|fallback forces one (for tests and benchmarks). A CPU below
// x86-64-v2 (no SSE4.2, POPCNT, ...) is refused, as is a forced kernel this CPU cannot run: RecordReader's and
// FieldExtractor's constructors throw SimdKernelError, whose what() is one line naming the missing feature.
class SimdKernelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The kernel in use ("icelake", "haswell", "westmere", "fallback"; elsewhere simdjson's name for the built-in
// one), or "none" when there is none; and whether there is one (when not, the constructors throw).
std::string_view simd_kernel_name();
bool simd_kernel_supported();

}  // namespace braid::rt
