// Source files and spans. Every diagnostic and every AST/IR node points into a SourceManager by byte offsets;
// line and column are computed on demand, so spans stay small and cheap to copy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace braid {

using FileId = uint32_t;
inline constexpr FileId kNoFile = UINT32_MAX;

// A half-open byte range [begin, end) in one file.
struct Span {
  FileId file = kNoFile;
  uint32_t begin = 0;
  uint32_t end = 0;

  bool valid() const { return file != kNoFile; }
  // The smallest span covering both (same file assumed).
  static Span cover(const Span& a, const Span& b);
};

struct LineCol {
  uint32_t line = 0;  // 1-based
  uint32_t col = 0;   // 1-based, in bytes (UTF-8 code units), as GCC reports them; SARIF output converts to UTF-16
};

class SourceFile {
 public:
  SourceFile(FileId id, std::string path, std::string text);

  FileId id() const { return id_; }
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }

  LineCol line_col(uint32_t offset) const;
  // The text of 1-based line `line`, without its newline.
  std::string_view line_text(uint32_t line) const;
  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_.size()); }

 private:
  FileId id_;
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

class SourceManager {
 public:
  FileId add(std::string path, std::string text);
  // Replaces the text of file `id` (the language server's edited buffers). Spans into the old text, and so the
  // ASTs and diagnostics made from it, no longer apply.
  void replace(FileId id, std::string text);
  const SourceFile& file(FileId id) const { return files_[id]; }
  size_t size() const { return files_.size(); }
  std::string_view slice(const Span& span) const;

 private:
  std::vector<SourceFile> files_;
};

}  // namespace braid
