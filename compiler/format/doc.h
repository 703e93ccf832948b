// A small Wadler/Prettier-style document algebra for the formatter: the formatter turns the AST into a Doc, and
// render() chooses, for each group, whether it fits flat on the rest of its line or must break.
//
// Internal to compiler/format/; nothing outside this folder includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace braid::format {

enum class DocKind : uint8_t {
  Text,         // literal text (may contain newlines: block comments; then it forces a break)
  Comment,      // comment text: printed like Text, but its width is ignored when deciding whether a group fits
  Concat,       // parts in order
  Group,        // parts[0] printed flat if it fits in the remaining width, else broken
  Nest,         // parts[0] with `indent` more columns after each line break
  Line,         // a space when flat, a line break when broken
  SoftLine,     // nothing when flat, a line break when broken
  HardLine,     // always a line break (forces every enclosing group to break)
  IfBreak,      // parts[0] when the enclosing group is broken, parts[1] when flat
  FreshLine,    // a line break unless the current line is still empty (forces a break)
  SoftSpace,    // a space unless at the start of a line or right after a space (or, if asked, `(` or `[`)
  Pending,      // a line break before the next text (after a `//` comment); a following line break absorbs it
  BreakParent,  // nothing; forces every enclosing group to break
};

struct DocNode;
using Doc = std::shared_ptr<const DocNode>;

struct DocNode {
  DocKind kind = DocKind::Text;
  std::string text;
  std::vector<Doc> parts;
  int indent = 0;
  bool hard = false;  // contains a forced line break
};

Doc text(std::string s);
Doc comment_text(std::string s);
Doc concat(std::vector<Doc> parts);
Doc group(Doc d);
Doc nest(int indent, Doc d);
Doc line();
Doc softline();
Doc hardline();
Doc if_break(Doc broken, Doc flat);
Doc fresh_line();
Doc soft_space(bool after_open_bracket = true);  // false: no space right after `(` or `[` either
Doc pending_newline();
Doc break_parent();

bool is_empty(const Doc& d);

// Renders with a maximum line width. Trailing spaces are removed from every line.
std::string render(const Doc& d, int width);

}  // namespace braid::format
