#include "diag/source.h"

#include <algorithm>

namespace braid {

Span Span::cover(const Span& a, const Span& b) {
  if (!a.valid()) return b;
  if (!b.valid()) return a;
  return Span{a.file, std::min(a.begin, b.begin), std::max(a.end, b.end)};
}

SourceFile::SourceFile(FileId id, std::string path, std::string text)
    : id_(id), path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (uint32_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

LineCol SourceFile::line_col(uint32_t offset) const {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - line_starts_.begin());  // 1-based
  return LineCol{line, offset - line_starts_[line - 1] + 1};
}

std::string_view SourceFile::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  uint32_t b = line_starts_[line - 1];
  uint32_t e = line < line_starts_.size() ? line_starts_[line] - 1 : static_cast<uint32_t>(text_.size());
  if (e > b && text_[e - 1] == '\r') --e;
  return std::string_view(text_).substr(b, e - b);
}

FileId SourceManager::add(std::string path, std::string text) {
  FileId id = static_cast<FileId>(files_.size());
  files_.emplace_back(id, std::move(path), std::move(text));
  return id;
}

void SourceManager::replace(FileId id, std::string text) {
  std::string path = files_[id].path();
  files_[id] = SourceFile(id, std::move(path), std::move(text));
}

std::string_view SourceManager::slice(const Span& span) const {
  if (!span.valid() || span.file >= files_.size()) return {};
  const std::string& t = files_[span.file].text();
  uint32_t b = std::min<uint32_t>(span.begin, static_cast<uint32_t>(t.size()));
  uint32_t e = std::min<uint32_t>(std::max(span.end, b), static_cast<uint32_t>(t.size()));
  return std::string_view(t).substr(b, e - b);
}

}  // namespace braid
