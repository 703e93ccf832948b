#include "format/doc.h"

#include <string_view>
#include <utility>

namespace braid::format {

namespace {

Doc make(DocKind kind, std::string text = {}, std::vector<Doc> parts = {}, int indent = 0, bool hard = false) {
  auto n = std::make_shared<DocNode>();
  n->kind = kind;
  n->text = std::move(text);
  n->parts = std::move(parts);
  n->indent = indent;
  n->hard = hard;
  for (const Doc& p : n->parts) {
    if (p && p->hard) n->hard = true;
  }
  return n;
}

// Display width of UTF-8 text: code points, not bytes.
int width_of(std::string_view s) {
  int w = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++w;
  }
  return w;
}

}  // namespace

Doc text(std::string s) {
  bool multi_line = s.find('\n') != std::string::npos;
  return make(DocKind::Text, std::move(s), {}, 0, multi_line);
}
Doc comment_text(std::string s) {
  bool multi_line = s.find('\n') != std::string::npos;
  return make(DocKind::Comment, std::move(s), {}, 0, multi_line);
}
Doc concat(std::vector<Doc> parts) {
  std::vector<Doc> kept;
  kept.reserve(parts.size());
  for (Doc& p : parts) {
    if (p && !is_empty(p)) kept.push_back(std::move(p));
  }
  if (kept.size() == 1) return kept[0];
  return make(DocKind::Concat, {}, std::move(kept));
}
Doc group(Doc d) { return make(DocKind::Group, {}, {std::move(d)}); }
Doc nest(int indent, Doc d) { return make(DocKind::Nest, {}, {std::move(d)}, indent); }
Doc line() { return make(DocKind::Line); }
Doc softline() { return make(DocKind::SoftLine); }
Doc hardline() { return make(DocKind::HardLine, {}, {}, 0, true); }
Doc if_break(Doc broken, Doc flat) { return make(DocKind::IfBreak, {}, {std::move(broken), std::move(flat)}); }
Doc fresh_line() { return make(DocKind::FreshLine, {}, {}, 0, true); }
Doc soft_space(bool after_open_bracket) { return make(DocKind::SoftSpace, {}, {}, after_open_bracket ? 1 : 0); }
Doc pending_newline() { return make(DocKind::Pending, {}, {}, 0, true); }
Doc break_parent() { return make(DocKind::BreakParent, {}, {}, 0, true); }

bool is_empty(const Doc& d) {
  if (!d) return true;
  switch (d->kind) {
    case DocKind::Text:
    case DocKind::Comment:
      return d->text.empty();
    case DocKind::Concat:
      for (const Doc& p : d->parts) {
        if (!is_empty(p)) return false;
      }
      return true;
    default:
      return false;
  }
}

namespace {

struct Cmd {
  int indent;
  bool flat;
  const DocNode* doc;
};

class Renderer {
 public:
  explicit Renderer(int width) : width_(width) {}

  std::string run(const Doc& root) {
    stack_.push_back({0, false, root.get()});
    while (!stack_.empty()) {
      Cmd c = stack_.back();
      stack_.pop_back();
      step(c);
    }
    trim_trailing_spaces();
    return std::move(out_);
  }

 private:
  void step(const Cmd& c) {
    const DocNode* d = c.doc;
    if (!d) return;
    switch (d->kind) {
      case DocKind::Text:
      case DocKind::Comment:
        write(d->text, c.indent);
        break;
      case DocKind::Concat:
        for (auto it = d->parts.rbegin(); it != d->parts.rend(); ++it) stack_.push_back({c.indent, c.flat, it->get()});
        break;
      case DocKind::Nest:
        stack_.push_back({c.indent + d->indent, c.flat, d->parts[0].get()});
        break;
      case DocKind::Group: {
        bool flat = c.flat || (!d->hard && fits(d->parts[0].get(), width_ - col_));
        stack_.push_back({c.indent, flat, d->parts[0].get()});
        break;
      }
      case DocKind::Line:
        if (c.flat && !pending_) {
          if (out_.empty() || out_.back() != ' ') {
            out_ += ' ';
            ++col_;
          }
        } else {
          newline(c.indent);
        }
        break;
      case DocKind::SoftLine:
        if (!(c.flat && !pending_)) newline(c.indent);
        break;
      case DocKind::HardLine:
        newline(c.indent);
        break;
      case DocKind::IfBreak:
        stack_.push_back({c.indent, c.flat, d->parts[c.flat ? 1 : 0].get()});
        break;
      case DocKind::FreshLine:
        if (has_content_ || pending_) newline(c.indent);
        break;
      case DocKind::SoftSpace:
        if (has_content_ && !pending_ && !out_.empty()) {
          char last = out_.back();
          if (last != ' ' && (d->indent == 1 || (last != '(' && last != '['))) {
            out_ += ' ';
            ++col_;
          }
        }
        break;
      case DocKind::Pending:
        if (has_content_) pending_ = true;
        break;
      case DocKind::BreakParent:
        break;
    }
  }

  void write(std::string_view s, int indent) {
    if (pending_) newline(indent);
    // One space between pieces: a piece that starts with a space after one that ended with a space (a comment
    // followed by ` -> `, say) does not double it.
    if (!s.empty() && s.front() == ' ' && !out_.empty() && out_.back() == ' ' && has_content_) s.remove_prefix(1);
    if (s.empty()) return;
    out_ += s;
    size_t nl = s.rfind('\n');
    if (nl == std::string_view::npos) {
      col_ += width_of(s);
    } else {
      col_ = width_of(s.substr(nl + 1));
    }
    has_content_ = true;
  }

  void newline(int indent) {
    trim_trailing_spaces();
    out_ += '\n';
    out_.append(static_cast<size_t>(indent), ' ');
    col_ = indent;
    has_content_ = false;
    pending_ = false;
  }

  void trim_trailing_spaces() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
  }

  // Whether `d`, printed flat, and then the rest of the pending commands up to their first possible line break,
  // fit in `w` columns. Comment text counts as zero width so that comments never change the layout of code.
  bool fits(const DocNode* d, int w) const {
    std::vector<std::pair<const DocNode*, bool>> work{{d, true}};
    size_t rest = stack_.size();
    while (w >= 0) {
      if (work.empty()) {
        if (rest == 0) return true;
        const Cmd& r = stack_[--rest];
        work.emplace_back(r.doc, r.flat);
        continue;
      }
      auto [n, flat] = work.back();
      work.pop_back();
      if (!n) continue;
      switch (n->kind) {
        case DocKind::Text: {
          size_t nl = n->text.find('\n');
          if (nl != std::string::npos) return w - width_of(std::string_view(n->text).substr(0, nl)) >= 0;
          w -= width_of(n->text);
          break;
        }
        case DocKind::Comment:
          if (n->text.find('\n') != std::string::npos) return true;
          break;
        case DocKind::Concat:
          for (auto it = n->parts.rbegin(); it != n->parts.rend(); ++it) work.emplace_back(it->get(), flat);
          break;
        case DocKind::Nest:
          work.emplace_back(n->parts[0].get(), flat);
          break;
        case DocKind::Group:
          work.emplace_back(n->parts[0].get(), flat && !n->hard);
          break;
        case DocKind::Line:
          if (!flat) return true;
          w -= 1;
          break;
        case DocKind::SoftLine:
          if (!flat) return true;
          break;
        case DocKind::IfBreak:
          work.emplace_back(n->parts[flat ? 1 : 0].get(), flat);
          break;
        case DocKind::HardLine:
        case DocKind::FreshLine:
        case DocKind::Pending:
          return true;
        case DocKind::SoftSpace:
        case DocKind::BreakParent:
          break;
      }
    }
    return false;
  }

  int width_;
  std::string out_;
  int col_ = 0;
  bool has_content_ = false;
  bool pending_ = false;
  std::vector<Cmd> stack_;
};

}  // namespace

std::string render(const Doc& d, int width) { return Renderer(width).run(d); }

}  // namespace braid::format
