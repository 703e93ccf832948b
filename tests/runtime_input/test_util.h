// Helpers shared by the runtime/input tests.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "input/extract.h"
#include "input/reader.h"

namespace braid::rt::testing {

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("braid_rtin_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// `text` compressed by zlib: a gzip member (window_bits 15 + 16), or raw deflate data (-15).
inline std::string deflate_text(const std::string& text, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::string gzip(const std::string& text) { return deflate_text(text, 15 + 16); }

struct Collected {
  std::vector<std::string> records;       // the JSON text of each record
  std::vector<RecordOrigin> origins;
  std::vector<std::string> errors;        // InputError::to_string()
  std::vector<InputErrorKind> kinds;
};

// Reads everything from `r`, recording records and errors.
inline Collected read_all(RecordReader& r) {
  Collected c;
  r.set_error_handler([&](const InputError& e) {
    c.errors.push_back(e.to_string());
    c.kinds.push_back(e.kind);
  });
  Record rec;
  while (r.next(rec)) {
    c.records.emplace_back(rec.json());
    c.origins.push_back(rec.origin);
  }
  return c;
}

using Setup = std::function<void(RecordReader&)>;

inline std::vector<std::string> read_n(RecordReader& r, size_t n) {
  std::vector<std::string> out;
  Record rec;
  while (out.size() < n && r.next(rec)) out.emplace_back(rec.json());
  return out;
}

// For every k: read k records, take the positions, resume a new reader from them: it yields the rest exactly,
// and ends at the same positions as one reader that read everything.
inline void expect_exact_resume(const Setup& setup, ReaderOptions o = {}) {
  RecordReader full(o);
  setup(full);
  Collected all = read_all(full);
  ASSERT_TRUE(all.errors.empty()) << all.errors[0];
  ASSERT_FALSE(all.records.empty());
  const auto end_positions = full.positions();
  for (size_t k = 0; k <= all.records.size(); ++k) {
    RecordReader a(o);
    setup(a);
    auto got = read_n(a, k);
    ASSERT_EQ(got.size(), k);
    auto pos = a.positions();
    RecordReader b(o);
    setup(b);
    b.resume(pos);
    EXPECT_EQ(b.positions(), pos) << "before the first next(), the positions are the saved ones";
    Collected rest = read_all(b);
    EXPECT_TRUE(rest.errors.empty()) << "k=" << k << ": " << rest.errors[0];
    got.insert(got.end(), rest.records.begin(), rest.records.end());
    ASSERT_EQ(got, all.records) << "resumed after " << k << " records";
    EXPECT_EQ(b.positions(), end_positions) << "k=" << k;
  }
}

inline ir::FieldPath path(std::string_view text) {
  auto p = FieldExtractor::parse_path(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p ? *p : ir::FieldPath{};
}

inline std::vector<ir::FieldPath> paths(std::initializer_list<std::string_view> texts) {
  std::vector<ir::FieldPath> v;
  for (auto t : texts) v.push_back(path(t));
  return v;
}

}  // namespace braid::rt::testing
