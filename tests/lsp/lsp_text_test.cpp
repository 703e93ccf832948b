// The server's position and URI helpers (tools/lsp/lsp_text.h).
#include <gtest/gtest.h>

#include "lsp_text.h"

namespace braid::lsp {
namespace {

TEST(LspText, PositionsCountUtf16Units) {
  std::string text = "ab\nxé😀z\n";  // é: 2 bytes, 1 unit; 😀: 4 bytes, 2 units
  LineIndex idx(text);
  EXPECT_EQ(idx.position(0).line, 0u);
  Position z = idx.position(static_cast<uint32_t>(text.find('z')));
  EXPECT_EQ(z.line, 1u);
  EXPECT_EQ(z.character, 4u);
  EXPECT_EQ(idx.offset(Position{1, 4}), text.find('z'));
  EXPECT_EQ(idx.offset(Position{1, 3}), text.find('z') - 4);  // inside the pair: before the emoji
  EXPECT_EQ(idx.offset(Position{1, 99}), text.find('z') + 1);  // clamped to the line's end
  EXPECT_EQ(idx.offset(Position{9, 0}), text.size());          // clamped to the text's end
  std::string bad = "a\xff" "b";
  LineIndex bi(bad);
  EXPECT_EQ(bi.position(2).character, 2u);
}

TEST(LspText, FileUris) {
  EXPECT_EQ(uri_to_path("file:///a/b%20c.braid"), "/a/b c.braid");
  EXPECT_EQ(path_to_uri("/a/b c+é.braid"), "file:///a/b%20c%2B%C3%A9.braid");
  EXPECT_EQ(uri_to_path(path_to_uri("/x/ü y/#1.braid")), "/x/ü y/#1.braid");
  EXPECT_FALSE(uri_to_path("untitled:Untitled-1"));
  EXPECT_FALSE(uri_to_path("file://host/a.braid"));
  EXPECT_FALSE(uri_to_path("file:///a%2"));
  EXPECT_FALSE(uri_to_path("file:///a%zz"));
  EXPECT_FALSE(uri_to_path("file:///a%00b"));
}

}  // namespace
}  // namespace braid::lsp
