// libFuzzer target for event input: the RecordReader (containers, formats, gzip, the inflate cap, positions) and
// the FieldExtractor (see tests/fuzz/README.md for how to build and run it).
//
// Each input is the content of one input file (plain or gzip, NDJSON, Records or JSON array, as detected). It is
// read with small limits (so that the size caps are reached) and every record goes through a FieldExtractor with
// paths of every form. Besides crashes, sanitizer reports, hangs and leaks, the target aborts when a contract of
// the reader is broken:
//   - a record's bytes lie inside what was read, and lines only grow within the file;
//   - every error is counted in stats() once, with a kind in range;
//   - resuming: a reader that reads k records (k from the input), hands its positions to a new reader over the
//     same file, which yields exactly the remaining records (none twice, none skipped).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "input/extract.h"
#include "input/reader.h"

namespace {

using namespace braid::rt;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "braid_fuzz_input: %s\n", what);
  std::abort();
}

ReaderOptions small_limits() {
  ReaderOptions o;
  o.max_record_size = 4096;
  o.max_document_size = 1 << 16;
  o.chunk_size = 4096;
  o.inflate_floor = 1 << 16;
  o.max_inflate_ratio = 50;
  o.max_inflated_size = 1 << 20;
  o.keep_errors = 4;
  return o;
}

std::vector<braid::ir::FieldPath> fuzz_paths() {
  std::vector<braid::ir::FieldPath> out;
  for (const char* p : {"eventName", "userIdentity.arn", "a.b.c", "l[*].x", "l[0]", "l[2].y", "m[*]", "m[1]", "x.\"a.b\".c",
                        "Records", "x"}) {
    auto path = FieldExtractor::parse_path(p);
    if (!path) fail("a fuzz path does not parse");
    out.push_back(*path);
  }
  return out;
}

// Every record of `r` as text; checks the reader's contracts on the way.
std::vector<std::string> read_records(RecordReader& r, FieldExtractor* ex, size_t limit = SIZE_MAX) {
  std::vector<std::string> out;
  uint64_t errors = 0;
  r.set_error_handler([&](const InputError& e) {
    if (static_cast<size_t>(e.kind) >= kInputErrorKinds) fail("error kind out of range");
    ++errors;
  });
  Record rec;
  uint64_t last_line = 0;
  while (out.size() < limit && r.next(rec)) {
    if (rec.size > 0 && rec.data == nullptr) fail("record without data");
    if (rec.origin.line < last_line) fail("line numbers went backwards within a file");
    last_line = rec.origin.line;
    // Touch the record and its padding (ASan checks they are readable).
    volatile char sum = 0;
    for (size_t i = 0; i < rec.size + kRecordPadding; ++i) sum = static_cast<char>(sum + rec.data[i]);
    (void)sum;
    out.emplace_back(rec.json());
    if (ex != nullptr && !ex->extract(rec)) r.report(rec, ex->error_kind(), ex->error());
  }
  uint64_t counted = 0;
  for (uint64_t c : r.stats().errors) counted += c;
  if (counted != errors) fail("errors reported and errors counted differ");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<braid::ir::FieldPath> paths = fuzz_paths();
  std::string text(reinterpret_cast<const char*>(data), size);

  // The whole input, from memory, with the extractor.
  {
    RecordReader r(small_limits());
    FieldExtractor ex(paths);
    r.add_buffer(text, "fuzz");
    read_records(r, &ex);
  }

  // Positions: from a file (an anonymous memory file, opened by path so that it has an identity).
  int fd = memfd_create("braid-fuzz", 0);
  if (fd < 0) fail("memfd_create failed");
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) fail("write to the memfd failed");
  std::string file = "/proc/self/fd/" + std::to_string(fd);
  std::vector<std::string> all;
  {
    RecordReader r(small_limits());
    r.add_path(file);
    all = read_records(r, nullptr);
  }
  size_t k = size == 0 ? 0 : data[size - 1] % (all.size() + 1);
  std::vector<InputPosition> pos;
  std::vector<std::string> got;
  {
    RecordReader r(small_limits());
    r.add_path(file);
    got = read_records(r, nullptr, k);
    pos = r.positions();
  }
  {
    RecordReader r(small_limits());
    r.add_path(file);
    r.resume(pos);
    std::vector<std::string> rest = read_records(r, nullptr);
    got.insert(got.end(), rest.begin(), rest.end());
    if (r.stats().count(InputErrorKind::Resume) != 0) fail("the unchanged file did not match its saved position");
  }
  ::close(fd);
  if (got != all) fail("resuming from a position did not yield exactly the remaining records");
  return 0;
}
