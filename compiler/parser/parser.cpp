// The Braid parser driver: UTF-8 validation, lexing (with lexer-error tokens turned into diagnostics), a nesting
// pre-scan, the two-stage ANTLR parse (SLL, then LL on error) with readable syntax errors, then the AST builder.
#include "parser/parser.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "BraidLexer.h"
#include "BraidParser.h"
#include "antlr4-runtime.h"
#include "parser/parser_internal.h"
#include "text/utf8.h"

namespace braid {
namespace parser_detail {

using grammar::BraidLexer;
using grammar::BraidParser;

// ---------------------------------------------------------------------------------------------------------------
// Offsets

OffsetMap::OffsetMap(std::string_view text, uint32_t base) : base_(base), size_(static_cast<uint32_t>(text.size())) {
  for (unsigned char ch : text) {
    if (ch >= 0x80) {
      ascii_ = false;
      break;
    }
  }
  if (ascii_) return;
  starts_.reserve(text.size() + 1);
  for (uint32_t i = 0; i < text.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(text[i]);
    if ((ch & 0xC0) != 0x80) starts_.push_back(i);
  }
  starts_.push_back(size_);
}

uint32_t OffsetMap::byte(size_t cp) const {
  uint32_t b = ascii_ ? static_cast<uint32_t>(std::min<size_t>(cp, size_)) : cp >= starts_.size() ? size_ : starts_[cp];
  if (!cuts_.empty()) {  // past a cut's stand-in byte: after the bytes cut there
    auto it = std::lower_bound(cuts_.begin(), cuts_.end(), b,
                               [](const std::pair<uint32_t, uint32_t>& c, uint32_t x) { return c.first < x; });
    if (it != cuts_.begin()) b += std::prev(it)->second;
  }
  return base_ + b;
}

namespace {

// Returns the offset of the first byte that is not valid UTF-8 (NUL counts as invalid), or npos.
size_t find_invalid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\0') return i;
    size_t n = valid_utf8_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string hex_byte(unsigned char b) {
  static const char* digits = "0123456789ABCDEF";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

std::string shorten(std::string s, size_t max = 30) {
  if (s.size() > max) {
    size_t cut = max - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    s = s.substr(0, cut) + "...";
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Syntax-error collection: readable messages, no cascades.

class Collector {
 public:
  Collector(FileId file, const OffsetMap& map, DiagnosticSink& diags, const RunConfig& cfg)
      : file_(file), map_(map), diags_(diags), cfg_(cfg) {}

  Span span_of(antlr4::Token* t) const {
    if (!t || t->getType() == antlr4::Token::EOF || t->getStartIndex() == INVALID_INDEX) {
      uint32_t at = t && t->getStartIndex() != INVALID_INDEX ? map_.byte(t->getStartIndex()) : map_.end();
      return Span{file_, at, at};
    }
    size_t stop = t->getStopIndex();
    uint32_t b = map_.byte(t->getStartIndex());
    uint32_t e = stop == INVALID_INDEX || stop < t->getStartIndex() ? b : map_.byte(stop + 1);
    return Span{file_, b, e};
  }

  void lexical(Code code, antlr4::Token* t, std::string msg) {
    size_t line = t->getLine();
    lexer_lines_.insert(line);
    if (!lexical_lines_.insert({line, static_cast<int>(code)}).second) return;  // one per line and kind
    if (++lexical_count_ > kMaxLexical) return;
    diags_.report(code, span_of(t), std::move(msg));
  }

  void syntax(antlr4::Parser* p, antlr4::Token* t, std::string msg, std::string help = {}) {
    if (t && t->getTokenIndex() != INVALID_INDEX) error_tokens_.insert(t->getTokenIndex());
    size_t line = t ? t->getLine() : 0;
    if (lexer_lines_.count(line)) return;   // the lexical error explains it
    if (!syntax_lines_.insert(line).second) return;  // one per line
    int64_t decl = -1;
    for (antlr4::RuleContext* c = p ? p->getContext() : nullptr; c; c = c->parent ? dynamic_cast<antlr4::RuleContext*>(c->parent) : nullptr) {
      if (auto* d = dynamic_cast<BraidParser::DeclContext*>(c)) {
        decl = d->getStart() ? static_cast<int64_t>(d->getStart()->getTokenIndex()) : -1;
        break;
      }
    }
    if (++per_decl_[decl] > kMaxPerDecl) return;
    if (++syntax_count_ > kMaxSyntax) return;
    Diagnostic& d = diags_.report(cfg_.syntax_code, span_of(t), std::move(msg));
    d.help = std::move(help);
  }

  size_t reported() const { return syntax_count_; }
  const std::set<size_t>& error_tokens() const { return error_tokens_; }

 private:
  static constexpr size_t kMaxLexical = 50;
  static constexpr size_t kMaxSyntax = 50;
  static constexpr int kMaxPerDecl = 3;

  FileId file_;
  const OffsetMap& map_;
  DiagnosticSink& diags_;
  RunConfig cfg_;
  std::set<size_t> lexer_lines_;
  std::set<std::pair<size_t, int>> lexical_lines_;
  std::set<size_t> syntax_lines_;
  std::set<size_t> error_tokens_;
  std::map<int64_t, int> per_decl_;
  size_t lexical_count_ = 0;
  size_t syntax_count_ = 0;
};

// Token sets used to summarise "expected ..." lists.
struct Categories {
  std::vector<std::pair<antlr4::misc::IntervalSet, std::string>> sets;

  explicit Categories(const antlr4::atn::ATN& atn) {
    auto first = [&](size_t rule) { return atn.nextTokens(atn.ruleToStartState[rule]); };
    // Larger sets first: an expression can start with a name, and every clause keyword is also a name.
    sets.emplace_back(first(BraidParser::RuleExpr), "an expression");
    sets.emplace_back(first(BraidParser::RuleAdditive), "an expression");
    sets.emplace_back(first(BraidParser::RuleIdent), "a name");
    sets.emplace_back(first(BraidParser::RuleRuleItem), "a rule clause");
    sets.emplace_back(first(BraidParser::RuleSourceItem), "a source clause");
    sets.emplace_back(first(BraidParser::RuleDecl), "a declaration (`source`, `list`, `macro` or `rule`)");
    sets.emplace_back(first(BraidParser::RuleJsonValue), "a JSON value");
  }
};

std::string token_display(antlr4::Token* t, const char* eof_name) {
  if (!t || t->getType() == antlr4::Token::EOF) return eof_name;
  std::string text = t->getText();
  if (t->getType() == BraidParser::STRING || t->getType() == BraidParser::RAW_STRING) {
    return "string " + shorten(text);
  }
  return "`" + shorten(text) + "`";
}

std::string type_display(const antlr4::dfa::Vocabulary& v, ssize_t type, const char* eof_name) {
  if (type == -1) return eof_name;
  switch (type) {
    case BraidParser::IDENT: return "a name";
    case BraidParser::STRING: return "a string";
    case BraidParser::RAW_STRING: return "a raw string";
    case BraidParser::INT: return "an integer";
    case BraidParser::FLOAT: return "a number";
    case BraidParser::DURATION: return "a duration (like `5m`)";
    case BraidParser::ELLIPSIS: return "`...`";
    default: break;
  }
  std::string lit = v.getLiteralName(static_cast<size_t>(type));
  if (lit.size() >= 2 && lit.front() == '\'') lit = lit.substr(1, lit.size() - 2);
  if (lit.empty()) lit = v.getDisplayName(static_cast<size_t>(type));
  return "`" + lit + "`";
}

// "rule `x`" for the innermost construct that a `}` would close.
std::string closing_what(antlr4::Parser* p) {
  for (antlr4::RuleContext* c = p->getContext(); c; c = dynamic_cast<antlr4::RuleContext*>(c->parent)) {
    if (auto* r = dynamic_cast<BraidParser::RuleDeclContext*>(c)) {
      return "rule `" + (r->declName() ? r->declName()->getText() : std::string("?")) + "`";
    }
    if (auto* s = dynamic_cast<BraidParser::SourceDeclContext*>(c)) {
      return "source `" + (s->declName() ? s->declName()->getText() : std::string("?")) + "`";
    }
    if (auto* sc = dynamic_cast<BraidParser::RuleScopeContext*>(c)) {
      return std::string("the `") + (sc->scope ? sc->scope->getText() : "session") + "` block";
    }
    if (auto* t = dynamic_cast<BraidParser::RuleTestContext*>(c)) {
      return "test " + (t->STRING() ? shorten(t->STRING()->getText()) : std::string("block"));
    }
    if (dynamic_cast<BraidParser::SrcLinkContext*>(c)) return "the `link` block";
    if (dynamic_cast<BraidParser::RecordTypeContext*>(c)) return "the record type";
    if (dynamic_cast<BraidParser::JsonObjectContext*>(c)) return "the JSON object";
  }
  return {};
}

std::string describe_expected(antlr4::Parser* p, const antlr4::misc::IntervalSet& expected,
                              const Categories& cats, const char* eof_name) {
  std::vector<std::string> items;
  antlr4::misc::IntervalSet rest = expected;
  for (const auto& [set, label] : cats.sets) {
    if (set.isEmpty() || set.size() < 2) continue;
    if (set.subtract(rest).isEmpty()) {
      items.push_back(label);
      rest = rest.subtract(set);
    }
  }
  const auto& vocab = p->getVocabulary();
  bool truncated = false;
  for (ssize_t type : rest.toList()) {
    if (items.size() >= 8) {
      truncated = true;
      break;
    }
    std::string s = type_display(vocab, type, eof_name);
    if (type == BraidParser::IDENT && std::find(items.begin(), items.end(), "a name") != items.end()) continue;
    if (s == "`}`") {
      std::string what = closing_what(p);
      if (!what.empty()) s += " to close " + what;
    }
    items.push_back(std::move(s));
  }
  if (items.empty()) return {};
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size() && !truncated) ? " or " : ", ";
    out += items[i];
  }
  if (truncated) out += ", or another token";
  return out;
}

// For an unexpected `-` inside a run of tokens with no space between them that reads as a dotted name
// (`acme.bad-ips`, `aws.s3-buckets.v2`), the name's quoted spelling (`acme."bad-ips"`); otherwise empty.
std::string dashed_name_spelling(antlr4::TokenStream* ts, antlr4::Token* dash) {
  auto word = [](antlr4::Token* x) {
    switch (x->getType()) {
      case BraidParser::INT: case BraidParser::FLOAT: case BraidParser::DURATION: return true;
      default: break;
    }
    const std::string s = x->getText();
    return !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_');
  };
  auto joinable = [&](antlr4::Token* x) { return word(x) || x->getText() == "." || x->getText() == "-"; };
  auto adjacent = [](antlr4::Token* a, antlr4::Token* b) { return b->getStartIndex() == a->getStopIndex() + 1; };
  // The stream has buffered only what the parser looked at so far; the tokens after the `-` are needed too.
  if (auto* buffered = dynamic_cast<antlr4::BufferedTokenStream*>(ts)) buffered->fill();
  size_t first = dash->getTokenIndex(), last = first;
  while (first > 0) {
    antlr4::Token* prev = ts->get(first - 1);
    if (prev->getChannel() != antlr4::Token::DEFAULT_CHANNEL || !joinable(prev) ||
        !adjacent(prev, ts->get(first)))
      break;
    --first;
  }
  while (last + 1 < ts->size()) {
    antlr4::Token* next = ts->get(last + 1);
    if (next->getType() == antlr4::Token::EOF || next->getChannel() != antlr4::Token::DEFAULT_CHANNEL ||
        !joinable(next) || !adjacent(ts->get(last), next))
      break;
    ++last;
  }
  if (first == dash->getTokenIndex() || last == dash->getTokenIndex()) return {};
  // Segments: split at dots; a `-` joins its neighbours into one segment.
  std::vector<std::string> segs(1);
  bool dotted = false;
  for (size_t i = first; i <= last; ++i) {
    std::string s = ts->get(i)->getText();
    if (s == ".") {
      dotted = true;
      segs.emplace_back();
    } else {
      segs.back() += s;
    }
  }
  if (!dotted || !ast::is_plain_segment(segs[0])) return {};
  std::string text;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].empty() || !ast::invalid_segment_reason(segs[i]).empty()) return {};
    text += (i ? "." : "") + segs[i];
  }
  return ast::name_spelling(text);
}

class Strategy : public antlr4::DefaultErrorStrategy {
 public:
  Strategy(Collector& col, const Categories& cats, const char* eof_name)
      : col_(col), cats_(cats), eof_name_(eof_name) {}

 protected:
  void report(antlr4::Parser* p, antlr4::Token* t, const antlr4::misc::IntervalSet* expected) {
    std::string msg = "unexpected " + token_display(t, eof_name_);
    std::string help;
    if (expected) {
      std::string exp = describe_expected(p, *expected, cats_, eof_name_);
      if (!exp.empty()) msg += ", expected " + exp;
    }
    if (t && t->getTokenIndex() != INVALID_INDEX && t->getText() == "-") {
      std::string spelled = dashed_name_spelling(p->getTokenStream(), t);
      if (!spelled.empty()) help = "a `-` is a minus; if this is a name, quote the segment: `" + spelled + "`";
    }
    if (t && t->getTokenIndex() != INVALID_INDEX && ast::is_reserved_word(t->getText())) {
      const std::string w = t->getText();
      bool after_dot = t->getTokenIndex() > 0 && p->getTokenStream()->get(t->getTokenIndex() - 1)->getText() == ".";
      if (after_dot) {
        // Quoting works after any dot: field paths and dotted names alike.
        help = "`" + w + "` is a reserved word; after a dot, quote it: `.\"" + w + "\"`";
      } else if (expected && expected->contains(static_cast<size_t>(BraidParser::IDENT))) {
        help = "`" + w + "` is a reserved word and cannot start a name; a field of that name is read through its "
               "parent with a quoted segment (`parent.\"" + w + "\"`)";
      }
    }
    col_.syntax(p, t, std::move(msg), std::move(help));
  }

  void reportNoViableAlternative(antlr4::Parser* p, const antlr4::NoViableAltException& e) override {
    antlr4::Token* t = e.getOffendingToken();
    antlr4::Token* start = e.getStartToken();
    if (t && start && t->getTokenIndex() == start->getTokenIndex()) {
      antlr4::misc::IntervalSet exp = p->getExpectedTokens();
      report(p, t, &exp);
    } else {
      report(p, t, nullptr);
    }
  }

  void reportInputMismatch(antlr4::Parser* p, const antlr4::InputMismatchException& e) override {
    antlr4::misc::IntervalSet exp = e.getExpectedTokens();
    report(p, e.getOffendingToken(), &exp);
  }

  void reportFailedPredicate(antlr4::Parser* p, const antlr4::FailedPredicateException& e) override {
    report(p, e.getOffendingToken(), nullptr);
  }

  void reportUnwantedToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    antlr4::misc::IntervalSet exp = getExpectedTokens(p);
    report(p, p->getCurrentToken(), &exp);
  }

  void reportMissingToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    antlr4::misc::IntervalSet exp = getExpectedTokens(p);
    report(p, p->getCurrentToken(), &exp);
  }

 private:
  Collector& col_;
  const Categories& cats_;
  const char* eof_name_;
};

// Anything ANTLR reports outside the strategy (should not happen) still becomes a diagnostic, never stderr.
class Listener : public antlr4::BaseErrorListener {
 public:
  explicit Listener(Collector& col) : col_(col) {}
  void syntaxError(antlr4::Recognizer* r, antlr4::Token* t, size_t, size_t, const std::string& msg,
                   std::exception_ptr) override {
    col_.syntax(dynamic_cast<antlr4::Parser*>(r), t, msg);
  }

 private:
  Collector& col_;
};

// A backstop behind the nesting pre-scan: if rule invocations ever nest deeper than `limit` (during error
// recovery, say), stop with an exception instead of growing the stack.
struct TooDeep {
  antlr4::Token* at;
};

class GuardedParser : public BraidParser {
 public:
  GuardedParser(antlr4::TokenStream* input, size_t limit) : BraidParser(input), limit_(limit) {}

  void enterRule(antlr4::ParserRuleContext* localctx, size_t state, size_t rule_index) override {
    size_t depth = 0;
    for (antlr4::tree::ParseTree* c = localctx; c && depth <= limit_; c = c->parent) ++depth;
    if (depth > limit_) throw TooDeep{getCurrentToken()};
    BraidParser::enterRule(localctx, state, rule_index);
  }

 private:
  size_t limit_;
};

// ---------------------------------------------------------------------------------------------------------------
// One parser run

enum class Entry { File, Expr };

struct Result {
  ast::File file;
  ast::ExprPtr expr;
  bool ok = false;  // the parse ran (not stopped by UTF-8/nesting/internal errors)
};

bool is_operand_end(size_t type) {
  switch (type) {
    case BraidParser::IDENT: case BraidParser::INT: case BraidParser::FLOAT: case BraidParser::DURATION:
    case BraidParser::STRING: case BraidParser::RAW_STRING:
      return true;
    default:
      return false;
  }
}

// Keyword tokens (`when`, `and`, `contains`, ...): their literal starts with a letter.
bool is_word_token(const antlr4::dfa::Vocabulary& v, size_t type) {
  static const std::vector<bool> words = [&v] {
    std::vector<bool> out(BraidLexer::ERROR_CHAR + 1, false);
    for (size_t i = 1; i < out.size(); ++i) {
      std::string lit = v.getLiteralName(i);
      out[i] = lit.size() > 2 && std::isalpha(static_cast<unsigned char>(lit[1]));
    }
    return out;
  }();
  return type < words.size() && words[type];
}

// Words that continue an expression after an operand (or begin a part of it).
bool is_operator_word(const std::string& s) {
  static const std::set<std::string> words = {"and", "or", "not", "in", "is", "contains", "startswith", "endswith",
                                              "like", "matches", "any", "cidr", "within"};
  return words.count(s) != 0;
}

Result run(const SourceManager& sm, FileId file, std::string_view text, uint32_t base, DiagnosticSink& diags,
           const ParseOptions& opts, const RunConfig& cfg, Entry entry) {
  Result res;
  res.file.file = file;
  size_t bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    unsigned char b = static_cast<unsigned char>(text[bad]);
    uint32_t at = base + static_cast<uint32_t>(bad);
    diags.report(Code::BRD0006, Span{file, at, at + 1},
                 b == 0 ? std::string("NUL byte in source: the file looks binary")
                        : "invalid UTF-8 byte " + hex_byte(b) + " (Braid files must be UTF-8)");
    return res;
  }

  OffsetMap map(text, base);
  if (cfg.cuts)
    for (const auto& [at, len] : *cfg.cuts) map.add_cut(at, len);
  Collector col(file, map, diags, cfg);
  const std::string_view source_text = file < sm.size() ? std::string_view(sm.file(file).text()) : std::string_view();

  antlr4::ANTLRInputStream input{std::string(text)};
  BraidLexer lexer(&input);
  lexer.removeErrorListeners();
  Listener listener(col);
  lexer.addErrorListener(&listener);

  // Lex everything first: report lexer-error tokens, keep comments, and hand the parser a cleaned stream.
  std::vector<std::unique_ptr<antlr4::Token>> tokens;
  for (;;) {
    std::unique_ptr<antlr4::Token> t = lexer.nextToken();
    const size_t type = t->getType();
    auto* ct = dynamic_cast<antlr4::CommonToken*>(t.get());
    switch (type) {
      case BraidLexer::LINE_COMMENT:
      case BraidLexer::BLOCK_COMMENT:
        if (entry == Entry::File) {
          ast::Comment c;
          c.span = col.span_of(t.get());
          c.text = std::string(sm.slice(c.span));
          uint32_t i = c.span.begin;
          bool own = true;
          while (i > 0) {
            char ch = source_text[i - 1];
            if (ch == '\n') break;
            if (ch != ' ' && ch != '\t' && ch != '\r') {
              own = false;
              break;
            }
            --i;
          }
          c.own_line = own;
          res.file.comments.push_back(std::move(c));
        }
        break;
      case BraidLexer::UNTERMINATED_STRING:
      case BraidLexer::UNTERMINATED_RAW_STRING:
        col.lexical(Code::BRD0002, t.get(), "unterminated string: the line ends before the closing `\"`");
        if (ct) ct->setType(type == BraidLexer::UNTERMINATED_STRING ? BraidLexer::STRING : BraidLexer::RAW_STRING);
        break;
      case BraidLexer::UNTERMINATED_COMMENT:
        col.lexical(Code::BRD0004, t.get(), "unterminated block comment: `/*` is not closed by `*/`");
        if (ct) ct->setChannel(antlr4::Token::HIDDEN_CHANNEL);
        break;
      case BraidLexer::ERROR_CHAR: {
        std::string ch = t->getText();
        std::string shown;
        unsigned char c0 = ch.empty() ? 0 : static_cast<unsigned char>(ch[0]);
        if (c0 < 0x20 || c0 == 0x7F) {
          shown = "control character " + hex_byte(c0);
        } else if (c0 >= 0x80) {
          uint32_t cp = c0 >= 0xF0 ? c0 & 0x07 : c0 >= 0xE0 ? c0 & 0x0F : c0 & 0x1F;
          for (size_t k = 1; k < ch.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(ch[k]) & 0x3F);
          char buf[16];
          std::snprintf(buf, sizeof buf, "U+%04X", cp);
          shown = "character `" + ch + "` (" + buf + "); outside strings and comments, Braid is ASCII";
        } else {
          shown = "character `" + ch + "`";
        }
        col.lexical(Code::BRD0005, t.get(), "invalid " + shown);
        if (ct) ct->setChannel(antlr4::Token::HIDDEN_CHANNEL);
        break;
      }
      default:
        break;
    }
    tokens.push_back(std::move(t));
    if (type == antlr4::Token::EOF) break;
  }

  // Nesting pre-scan. Brackets nest; so do runs of prefix `not`/`-` (the parser recurses on them) and chains of
  // arithmetic operators (they build a left-deep AST). Such a run ends at `and`, `or` or `,` at its bracket level,
  // and at the start of a new clause: a word right after a complete operand (expressions never juxtapose).
  {
    struct Level {
      uint32_t depth;
      uint32_t saved_prefix;
    };
    std::vector<Level> stack;
    uint32_t prefix = 0;
    bool prev_operand = false;
    const uint32_t max = opts.max_nesting;
    auto too_deep = [&](antlr4::Token* t) {
      diags.report(Code::BRD0007, col.span_of(t),
                   "nesting too deep: more than " + std::to_string(max) + " levels of brackets and operators");
    };
    for (auto& t : tokens) {
      if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
      const size_t type = t->getType();
      const uint32_t top = stack.empty() ? 0 : stack.back().depth;
      bool operand = false;
      if (type == antlr4::Token::EOF) break;
      if (is_operand_end(type)) {
        operand = true;
        if (prev_operand) prefix = 0;  // a new clause
      } else if (is_word_token(lexer.getVocabulary(), type)) {
        const std::string s = t->getText();
        if (s == "and" || s == "or") {
          prefix = 0;
        } else if (s == "not") {
          if (top + ++prefix > max) {
            too_deep(t.get());
            return res;
          }
        } else if (!is_operator_word(s)) {
          operand = true;
          if (prev_operand) prefix = 0;  // a new clause
        }
      } else {
        const std::string s = t->getText();
        if (s == "(" || s == "[" || s == "{") {
          uint32_t d = top + prefix + 1;
          if (d > max) {
            too_deep(t.get());
            return res;
          }
          stack.push_back(Level{d, prefix});
          prefix = 0;
        } else if (s == ")" || s == "]" || s == "}") {
          if (!stack.empty()) {
            prefix = stack.back().saved_prefix;
            stack.pop_back();
          }
          operand = true;
        } else if (s == "-" || s == "+" || s == "*" || s == "/" || s == "%") {
          if (top + ++prefix > max) {
            too_deep(t.get());
            return res;
          }
        } else if (s == ",") {
          prefix = 0;
        }
      }
      prev_operand = operand;
    }
  }

  try {
    // Declared before the parser so they outlive it: the error strategy refers to them, and the parse tree
    // refers to the tokens the strategy conjures (it owns them), so the strategy must stay installed.
    std::optional<Categories> cats;
    antlr4::ListTokenSource source(std::move(tokens));
    antlr4::CommonTokenStream stream(&source);
    // About 10 rule frames per bracket level; prefix operators add one each.
    GuardedParser parser(&stream, static_cast<size_t>(opts.max_nesting) * 16 + 64);
    parser.removeErrorListeners();
    parser.removeParseListeners();

    // Stage 1: SLL prediction, bail out at the first error.
    auto* interp = parser.getInterpreter<antlr4::atn::ParserATNSimulator>();
    interp->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    BraidParser::FileContext* file_ctx = nullptr;
    BraidParser::StandaloneExprContext* expr_ctx = nullptr;
    try {
      if (entry == Entry::File) file_ctx = parser.file();
      else expr_ctx = parser.standaloneExpr();
    } catch (const antlr4::ParseCancellationException&) {
      // Stage 2: full LL with error reporting and recovery.
      file_ctx = nullptr;
      expr_ctx = nullptr;
      stream.seek(0);
      parser.reset();
      interp->setPredictionMode(antlr4::atn::PredictionMode::LL);
      cats.emplace(parser.getATN());
      const char* eof_name = entry == Entry::File                  ? "end of file"
                             : cfg.syntax_code == Code::BRD0010 ? "end of the interpolation"
                                                                : "end of the expression";
      parser.setErrorHandler(std::make_shared<Strategy>(col, *cats, eof_name));
      parser.addErrorListener(&listener);
      if (entry == Entry::File) file_ctx = parser.file();
      else expr_ctx = parser.standaloneExpr();
      parser.removeErrorListeners();
    }

    BuildContext bc{sm, file, text, base, map, diags, opts, cfg, &col.error_tokens()};
    AstBuilder builder(bc);
    if (file_ctx) {
      ast::File f = builder.build_file(file_ctx);
      f.comments = std::move(res.file.comments);
      res.file = std::move(f);
    }
    if (expr_ctx) res.expr = builder.build_expr(expr_ctx->expr());
    res.ok = true;
  } catch (const TooDeep& e) {
    diags.report(Code::BRD0007, col.span_of(e.at),
                 "nesting too deep: more than " + std::to_string(opts.max_nesting) +
                     " levels of brackets and operators");
    res.file.decls.clear();
  } catch (const std::exception& e) {
    diags.report(cfg.syntax_code, Span{file, base, base},
                 std::string("the parser stopped unexpectedly: ") + e.what());
  } catch (...) {
    diags.report(cfg.syntax_code, Span{file, base, base}, "the parser stopped unexpectedly");
  }
  return res;
}

}  // namespace

ast::ExprPtr parse_expression_text(const SourceManager& sm, std::string_view text, Span base,
                                   DiagnosticSink& diags, const ParseOptions& opts, const RunConfig& cfg) {
  size_t before = diags.error_count();
  Result r = run(sm, base.file, text, base.begin, diags, opts, cfg, Entry::Expr);
  if (!r.ok || diags.error_count() != before) return nullptr;
  return std::move(r.expr);
}

}  // namespace parser_detail

ast::File parse_file(const SourceManager& sm, FileId file, DiagnosticSink& diags, const ParseOptions& opts) {
  if (file >= sm.size()) {
    ast::File f;
    f.file = file;
    return f;
  }
  const std::string& text = sm.file(file).text();
  if (text.size() > UINT32_MAX - 16) {
    diags.report(Code::BRD0001, Span{file, 0, 0}, "file too large to parse (4 GB or more)");
    ast::File f;
    f.file = file;
    return f;
  }
  parser_detail::RunConfig cfg;
  if (opts.skip_tests) {
    std::vector<std::pair<uint32_t, uint32_t>> cuts;
    std::string lean = cut_test_blocks(text, cuts);
    cfg.cuts = &cuts;
    return std::move(parser_detail::run(sm, file, lean, 0, diags, opts, cfg, parser_detail::Entry::File).file);
  }
  parser_detail::Result r =
      parser_detail::run(sm, file, text, 0, diags, opts, cfg, parser_detail::Entry::File);
  return std::move(r.file);
}

// A scan with the lexer's rules for what can hide a brace or the word `test`: strings ("..." with backslash
// escapes, on one line), raw strings (r"..."), line and block comments. It tracks brace depth and which top-level
// braces open a rule's body; on anything it cannot follow (an unterminated string or comment), it stops and blanks
// only what it had fully matched before.
std::string cut_test_blocks(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>& cuts) {
  cuts.clear();
  std::string out;
  size_t copied = 0;  // text[0, copied) is in `out`
  const size_t n = text.size();
  size_t i = 0;
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  // Skips whitespace and comments from i; false at an unterminated block comment.
  auto skip_space = [&](size_t& p) {
    for (;;) {
      while (p < n && std::isspace(static_cast<unsigned char>(text[p]))) ++p;
      if (p + 1 < n && text[p] == '/' && text[p + 1] == '/') {
        while (p < n && text[p] != '\n') ++p;
      } else if (p + 1 < n && text[p] == '/' && text[p + 1] == '*') {
        size_t e = text.find("*/", p + 2);
        if (e == std::string_view::npos) return false;
        p = e + 2;
      } else {
        return true;
      }
    }
  };
  // Skips a string or raw string starting at p (its opening quote, or the `r` of r"); false when unterminated.
  auto skip_string = [&](size_t& p) {
    bool raw = text[p] == 'r';
    p += raw ? 2 : 1;
    while (p < n && text[p] != '"' && text[p] != '\n') {
      if (!raw && text[p] == '\\' && p + 1 < n && text[p + 1] != '\n') ++p;
      ++p;
    }
    if (p >= n || text[p] != '"') return false;
    ++p;
    return true;
  };
  int depth = 0;
  bool rule_pending = false;  // `rule` seen at depth 0: its next `{` opens a rule body
  int rule_depth = -1;        // depth inside the current rule's body (-1: not in a rule)
  char prev = 0;              // the last significant character before the current token
  while (i < n) {
    if (!skip_space(i) || i >= n) break;
    char c = text[i];
    if (c == '"' || (c == 'r' && i + 1 < n && text[i + 1] == '"' && !(i > 0 && ident_char(text[i - 1])))) {
      if (!skip_string(i)) break;
      prev = '"';
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t b = i;
      while (i < n && ident_char(text[i])) ++i;
      std::string_view word = text.substr(b, i - b);
      if (depth == 0 && word == "rule") rule_pending = true;
      if (word == "test" && depth == rule_depth && prev != '.') {
        // `test "NAME" {` ... the matching `}`.
        size_t p = i;
        if (skip_space(p) && p < n && text[p] == '"' && skip_string(p) && skip_space(p) && p < n && text[p] == '{') {
          int d = 0;
          bool ok = false;
          while (p < n) {
            if (!skip_space(p) || p >= n) break;
            char x = text[p];
            if (x == '"' || (x == 'r' && p + 1 < n && text[p + 1] == '"' && !ident_char(text[p - 1]))) {
              if (!skip_string(p)) break;
              continue;
            }
            ++p;
            if (x == '{') ++d;
            if (x == '}' && --d == 0) {
              ok = true;
              break;
            }
          }
          if (!ok) break;  // unbalanced: parse the rest as it is
          if (out.empty()) out.reserve(text.size());
          out.append(text.substr(copied, b - copied));
          cuts.emplace_back(static_cast<uint32_t>(out.size()), static_cast<uint32_t>(p - b - 1));
          out += ' ';
          copied = p;
          i = p;
          prev = '}';
          continue;
        }
      }
      prev = 'a';
      continue;
    }
    if (c == '{') {
      ++depth;
      if (rule_pending && depth == 1) {
        rule_depth = 1;
        rule_pending = false;
      }
    } else if (c == '}') {
      if (depth == rule_depth) rule_depth = -1;
      if (depth > 0) --depth;
    }
    prev = c;
    ++i;
  }
  if (cuts.empty()) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

ast::ExprPtr parse_expression(const SourceManager& sm, Span base, DiagnosticSink& diags, const ParseOptions& opts) {
  if (!base.valid() || base.file >= sm.size()) return nullptr;
  std::string_view text = sm.slice(base);
  Span exact{base.file, base.begin, base.begin + static_cast<uint32_t>(text.size())};
  return parser_detail::parse_expression_text(sm, text, exact, diags, opts, parser_detail::RunConfig{});
}

}  // namespace braid
