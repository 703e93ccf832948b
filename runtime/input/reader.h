// Event input: turns files, gzip files, directories and stdin into a stream of JSON records.
//
// Containers (detected by content, not by name):
//   - a plain file;
//   - a gzip file (magic bytes 1f 8b; concatenated gzip members are read one after the other);
//   - a directory: every regular file below it, recursively, in byte-wise sorted order of the full path
//     (deterministic across machines); hidden entries (names starting with '.') are skipped;
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
};
inline constexpr size_t kInputErrorKinds = 6;
std::string_view input_error_kind_name(InputErrorKind k);  // "unreadable", "decompress", "too_large",
                                                           // "malformed_json", "invalid_utf8", "not_object"

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
  uint64_t errors[kInputErrorKinds] = {};
  uint64_t count(InputErrorKind k) const { return errors[static_cast<size_t>(k)]; }
  // Records that could not be used: too_large + malformed_json + invalid_utf8 + not_object.
  uint64_t malformed() const;
};

struct ReaderOptions {
  size_t max_record_size = kDefaultMaxRecordSize;      // longer NDJSON lines are skipped and reported (TooLarge)
  size_t max_document_size = kDefaultMaxDocumentSize;  // larger Records / JSON-array files are reported (TooLarge)
  size_t chunk_size = size_t{1} << 20;                 // read size
  size_t keep_errors = 1000;                           // how many InputErrors errors() keeps (0: none)
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

  // Reports a record-level problem found downstream (e.g. by FieldExtractor), with the record's origin.
  void report(const Record& record, InputErrorKind kind, std::string_view reason);

  const InputStats& stats() const;
  // The first ReaderOptions::keep_errors errors, rendered with InputError::to_string().
  const std::vector<std::string>& errors() const;
  // Every input opened so far (files found in directories included), indexed by RecordOrigin::input.
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
