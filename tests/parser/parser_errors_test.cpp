// Parser tests: syntax and lexical errors, literal range errors, and hostile input (it must never crash).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "test_util.h"

namespace braid {
namespace {

using test::parse;

const Diagnostic& first(const test::Parsed& p) { return p.diags.all().at(0); }

// ---------------------------------------------------------------------------------------------------------------
// Syntax errors

TEST(ParserSyntax, TokenNamesAreLiteralText) {
  auto p = parse("list x when [1]");
  ASSERT_EQ(p->codes(), "BRD0001") << p->messages();
  EXPECT_EQ(first(*p).message, "unexpected `when`, expected `=`");
  EXPECT_EQ(p->text(first(*p).span), "when");
}

TEST(ParserSyntax, MissingCloseBraceNamesTheRule) {
  auto p = parse("rule aws.x {\n  title \"t\"\n  when a == 1\n");
  ASSERT_EQ(p->codes(), "BRD0001") << p->messages();
  EXPECT_NE(first(*p).message.find("unexpected end of file"), std::string::npos) << first(*p).message;
  EXPECT_NE(first(*p).message.find("`}` to close rule `aws.x`"), std::string::npos) << first(*p).message;
  // the rule is still in the AST
  ASSERT_EQ(p->file.decls.size(), 1u);
  EXPECT_TRUE(p->decl<ast::RuleDecl>(0).title);
}

TEST(ParserSyntax, UnknownClauseSummarisesExpected) {
  auto p = parse("rule r {\n  titel \"x\"\n}");
  ASSERT_FALSE(p->diags.all().empty());
  EXPECT_EQ(std::string(code_info(first(*p).code).id), "BRD0001");
  const std::string& m = first(*p).message;
  EXPECT_NE(m.find("unexpected `titel`"), std::string::npos) << m;
  EXPECT_NE(m.find("a rule clause"), std::string::npos) << m;
  EXPECT_NE(m.find("`}` to close rule `r`"), std::string::npos) << m;
  EXPECT_EQ(p->sm.file(p->id).line_col(first(*p).span.begin).line, 2u);
}

TEST(ParserSyntax, ExpectedExpression) {
  auto p = parse("rule r { when }");
  ASSERT_EQ(p->codes(), "BRD0001") << p->messages();
  EXPECT_NE(first(*p).message.find("expected an expression"), std::string::npos) << first(*p).message;
}

// Names copied from other tools (issue 11 item 9): one error at the offending token, the quoted spelling as a
// fix-it, and nothing blamed on later lines.
TEST(ParserNames, DashInDeclaredNamePointsAtTheDash) {
  auto p = parse("rule acme.dns-zone.modified {\n  title \"t\"\n  severity low\n  source gcp.audit\n"
                 "  when protoPayload.methodName == \"x\"\n}\n\nrule acme.other {\n  title \"t\"\n}\n");
  ASSERT_EQ(p->codes(), "BRD0011") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "-");
  EXPECT_EQ(p->sm.file(p->id).line_col(first(*p).span.begin).col, 14u);
  ASSERT_TRUE(first(*p).fix);
  EXPECT_EQ(p->text(first(*p).fix->span), "acme.dns-zone.modified");
  EXPECT_EQ(first(*p).fix->replacement, "acme.\"dns-zone\".modified");
  EXPECT_NE(first(*p).help.find("acme.\"dns-zone\".modified"), std::string::npos) << first(*p).help;
  // The rule keeps the id its author meant, and both rules are parsed.
  ASSERT_EQ(p->file.decls.size(), 2u);
  EXPECT_EQ(p->decl<ast::RuleDecl>(0).name.text, "acme.dns-zone.modified");
  EXPECT_TRUE(p->decl<ast::RuleDecl>(0).when);
  EXPECT_EQ(p->decl<ast::RuleDecl>(1).name.text, "acme.other");
}

TEST(ParserNames, ReservedWordInDeclaredName) {
  auto p = parse("rule GCP.DNS.Zone.Modified.or.Deleted {\n  title \"t\"\n}\nlist a.in = [1]\n");
  ASSERT_EQ(p->codes(), "BRD0011 BRD0011") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "or");
  ASSERT_TRUE(first(*p).fix);
  EXPECT_EQ(first(*p).fix->replacement, "GCP.DNS.Zone.Modified.\"or\".Deleted");
  EXPECT_EQ(p->diags.all()[1].fix->replacement, "a.\"in\"");
  EXPECT_EQ(p->decl<ast::RuleDecl>(0).name.text, "GCP.DNS.Zone.Modified.or.Deleted");
}

TEST(ParserNames, QuotedSegmentsSpellTheName) {
  auto p = parse("rule GCP.DNS.Zone.Modified.\"or\".Deleted {\n  source gcp.\"audit\"\n  when x in acme.\"bad-ips\" and "
                 "acme.\"is-admin\"(y)\n}\nlist acme.\"bad-ips\" = [\"a\"]\nmacro acme.\"2fa\".x = 1\n");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  EXPECT_EQ(r.name.text, "GCP.DNS.Zone.Modified.or.Deleted");
  ASSERT_TRUE(r.sources);
  EXPECT_EQ(r.sources->value.at(0).text, "gcp.audit");
  EXPECT_EQ(ast::dump(*r.when->expr), "(and (in x acme.\"bad-ips\") (call acme.is-admin y))");
  EXPECT_EQ(p->decl<ast::ListDecl>(1).name.text, "acme.bad-ips");
  EXPECT_EQ(p->decl<ast::MacroDecl>(2).name.text, "acme.2fa.x");
}

TEST(ParserNames, DigitAndBadQuotedSegments) {
  auto p = parse("rule acme.x.2fa {\n}\nrule acme.\"a.b\" {\n}\nrule acme.\"\" {\n}\nrule acme.\"a b\" {\n}\n");
  ASSERT_EQ(p->codes(), "BRD0011 BRD0011 BRD0011 BRD0011") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "2fa");
  EXPECT_EQ(first(*p).fix->replacement, "acme.x.\"2fa\"");
  EXPECT_NE(p->diags.all()[1].message.find("`.`"), std::string::npos);
  EXPECT_NE(p->diags.all()[2].message.find("empty"), std::string::npos);
  EXPECT_NE(p->diags.all()[3].message.find("spaces"), std::string::npos);
}

TEST(ParserNames, DashInFirstSegmentHasNoQuotedForm) {
  auto p = parse("rule acme.r {\n  source gcp-audit\n  when a == 1\n}\n");
  ASSERT_EQ(p->codes(), "BRD0011") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "-");
  EXPECT_FALSE(first(*p).fix);
  EXPECT_NE(first(*p).help.find("starts with an identifier"), std::string::npos) << first(*p).help;
  EXPECT_TRUE(p->decl<ast::RuleDecl>(0).when);
}

TEST(ParserNames, DashInAnExpressionNameGetsHelp) {
  auto p = parse("rule acme.r {\n  when x in acme.bad-ips\n  message \"m\"\n}\nrule acme.s {\n  title \"t\"\n}\n");
  ASSERT_EQ(p->codes(), "BRD0001") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "-");
  EXPECT_NE(first(*p).help.find("acme.\"bad-ips\""), std::string::npos) << first(*p).help;
  ASSERT_EQ(p->file.decls.size(), 2u);
  EXPECT_TRUE(p->decl<ast::RuleDecl>(0).message);
}

TEST(ParserNames, ReservedWordAfterADotSaysQuoteIt) {
  auto p = parse("macro m = x in acme.or.list");
  ASSERT_EQ(p->codes(), "BRD0001") << p->messages();
  EXPECT_NE(first(*p).help.find("after a dot, quote it: `.\"or\"`"), std::string::npos) << first(*p).help;
}

TEST(ParserSyntax, ReservedWordGetsHelp) {
  auto p = parse("macro m = requestParameters.in == 1");
  ASSERT_FALSE(p->diags.all().empty());
  EXPECT_EQ(std::string(code_info(first(*p).code).id), "BRD0001");
  EXPECT_NE(first(*p).help.find("reserved"), std::string::npos) << p->messages();
}

TEST(ParserSyntax, RecoversAndKeepsLaterDeclarations) {
  auto p = parse("rule a { when == }\nrule b { title \"ok\" }\nlist c = [1]");
  EXPECT_EQ(p->diags.error_count(), 1u) << p->messages();
  ASSERT_GE(p->file.decls.size(), 2u);
  bool found_b = false;
  for (const auto& d : p->file.decls) {
    if (auto* r = std::get_if<ast::RuleDecl>(&d); r && r->name.text == "b") found_b = r->title.has_value();
  }
  EXPECT_TRUE(found_b);
  EXPECT_TRUE(std::holds_alternative<ast::ListDecl>(p->file.decls.back()));
}

TEST(ParserSyntax, NoCascadeOfErrors) {
  // One broken line per declaration at most three errors, and never two on one line.
  std::string src = "rule r {\n";
  for (int i = 0; i < 50; ++i) src += "  when == == == ) ) ] ]\n";
  src += "}\n";
  auto p = parse(src);
  EXPECT_GE(p->diags.error_count(), 1u);
  EXPECT_LE(p->diags.error_count(), 3u) << p->messages();
}

TEST(ParserSyntax, GlobalCap) {
  std::string src;
  for (int i = 0; i < 500; ++i) src += "rule r" + std::to_string(i) + " { when == }\n";
  auto p = parse(src);
  EXPECT_LE(p->diags.error_count(), 50u);
  EXPECT_GE(p->diags.error_count(), 10u);
}

TEST(ParserSyntax, StrayTopLevelToken) {
  auto p = parse("rule r { }\n}\nrule s { }");
  EXPECT_EQ(p->codes(), "BRD0001") << p->messages();
  EXPECT_NE(first(*p).message.find("a declaration"), std::string::npos) << first(*p).message;
  EXPECT_EQ(p->file.decls.size(), 2u);
}

TEST(ParserSyntax, NothingIsPrintedToStderr) {
  testing::internal::CaptureStderr();
  auto p = parse("rule r { when a b c } list x y @ \"z\nmacro m = (((");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(p->diags.has_errors());
  EXPECT_EQ(err, "");
}

TEST(ParserSyntax, EmptyFile) {
  auto p = parse("");
  EXPECT_EQ(p->codes(), "");
  EXPECT_TRUE(p->file.decls.empty());
  EXPECT_TRUE(p->file.comments.empty());
  auto q = parse("  \n\t// only a comment\n");
  EXPECT_EQ(q->codes(), "");
  EXPECT_TRUE(q->file.decls.empty());
  EXPECT_EQ(q->file.comments.size(), 1u);
}

// ---------------------------------------------------------------------------------------------------------------
// Lexical errors

TEST(ParserLexical, UnterminatedString) {
  auto p = parse("rule r {\n  title \"abc\n  severity low\n}");
  ASSERT_EQ(p->codes(), "BRD0002") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "\"abc");
  // recovery: the rest of the rule is read
  const auto& r = p->decl<ast::RuleDecl>(0);
  ASSERT_TRUE(r.title);
  EXPECT_EQ(r.title->value.value, "abc");
  EXPECT_TRUE(r.severity);
}

TEST(ParserLexical, UnterminatedStringEndingInEscapedQuote) {
  auto p = parse("rule r { title \"abc\\\" }");
  EXPECT_EQ(p->codes().substr(0, 7), "BRD0002") << p->messages();
}

TEST(ParserLexical, UnterminatedMessageTemplateIsOneError) {
  auto p = parse("rule r {\n  message \"{a} and {b\n}");
  EXPECT_EQ(p->codes(), "BRD0002") << p->messages();
}

TEST(ParserLexical, UnterminatedRawString) {
  auto p = parse("macro m = x matches r\"abc\n");
  EXPECT_EQ(p->codes(), "BRD0002") << p->messages();
}

TEST(ParserLexical, InvalidEscapePointsAtIt) {
  std::string src = "macro m = x == \"a\\qb\"";
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "BRD0003") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "\\q");
  EXPECT_EQ(first(*p).span.begin, src.find("\\q"));
}

TEST(ParserLexical, InvalidEscapeHintsRawString) {
  auto p = parse("macro m = x matches \"\\d+\"");
  ASSERT_EQ(p->codes(), "BRD0003");
  EXPECT_NE(first(*p).message.find("raw string"), std::string::npos);
}

TEST(ParserLexical, BadUnicodeEscapes) {
  EXPECT_EQ(parse("macro m = \"\\u12\"")->codes(), "BRD0003");
  EXPECT_EQ(parse("macro m = \"\\uZZZZ\"")->codes(), "BRD0003");
  EXPECT_EQ(parse("macro m = \"\\uD83D\"")->codes(), "BRD0003");        // lone high surrogate
  EXPECT_EQ(parse("macro m = \"\\uDE00x\"")->codes(), "BRD0003");       // lone low surrogate
  EXPECT_EQ(parse("macro m = \"\\uD83D\\u0041\"")->codes(), "BRD0003"); // high + non-low
  auto p = parse("macro m = \"ok \\uD83Dx\"");
  ASSERT_EQ(p->codes(), "BRD0003");
  EXPECT_EQ(p->text(first(*p).span), "\\uD83D");
}

TEST(ParserLexical, InvalidEscapesInOtherStringPlaces) {
  EXPECT_EQ(parse("rule r { title \"\\x\" }")->codes(), "BRD0003");
  EXPECT_EQ(parse("rule r { test \"t\" { events [{\"a\\x\": 1}] } }")->codes(), "BRD0003");
  // inside a message template the escape is reported once
  EXPECT_EQ(parse("rule r { message \"{coalesce(a, \\\"\\q\\\")}\" }")->codes(), "BRD0003");
}

TEST(ParserLexical, UnterminatedComment) {
  auto p = parse("rule r { title \"t\" }\n/* never closed\nrule s { }");
  ASSERT_EQ(p->codes(), "BRD0004") << p->messages();
  EXPECT_EQ(first(*p).span.begin, 21u);
  EXPECT_EQ(p->file.decls.size(), 1u);
}

TEST(ParserLexical, InvalidCharacter) {
  auto p = parse("macro m = a @ b");
  ASSERT_EQ(p->codes().substr(0, 7), "BRD0005") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "@");
  auto q = parse("macro m = a \xC3\xA9 b");  // non-ASCII outside strings
  ASSERT_EQ(q->codes().substr(0, 7), "BRD0005") << q->messages();
  EXPECT_EQ(q->text(first(*q).span), "\xC3\xA9");
  EXPECT_NE(first(*q).message.find("U+00E9"), std::string::npos) << first(*q).message;
}

TEST(ParserLexical, InvalidCharacterDoesNotCascade) {
  auto p = parse("macro m = a @@@@@@@@@@@@@@@@@@ and b");
  EXPECT_EQ(p->codes(), "BRD0005") << p->messages();
  EXPECT_EQ(ast::dump(*p->decl<ast::MacroDecl>(0).body), "(and a b)");
}

// ---------------------------------------------------------------------------------------------------------------
// Literal ranges

TEST(ParserLiterals, IntOverflow) {
  auto p = parse("macro m = x > 9223372036854775808");
  ASSERT_EQ(p->codes(), "BRD0009") << p->messages();
  EXPECT_EQ(p->text(first(*p).span), "9223372036854775808");
  EXPECT_EQ(parse("macro m = x[99999999999999999999]")->codes(), "BRD0009");
  EXPECT_EQ(parse("rule r { test \"t\" { expect 99999999999999999999 } }")->codes(), "BRD0009");
}

TEST(ParserLiterals, DurationOverflow) {
  EXPECT_EQ(parse("macro m = x > 10001d")->codes(), "BRD0009");
  EXPECT_EQ(parse("macro m = x > 999999999999999999999999h")->codes(), "BRD0009");
  EXPECT_EQ(parse("macro m = x > 9999d1d")->codes(), "");
  EXPECT_EQ(parse("macro m = x > 9999d2d")->codes(), "BRD0009");
  EXPECT_EQ(parse("source s { session gap 10001d max 1h }")->codes(), "BRD0009");
}

TEST(ParserLiterals, FloatOverflow) {
  EXPECT_EQ(parse("macro m = x > 1e999")->codes(), "BRD0009");
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile input

TEST(ParserRobust, BinaryJunk) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    std::string junk(4096, '\0');
    for (char& c : junk) c = static_cast<char>(rng() & 0xFF);
    auto p = parse(junk);
    EXPECT_TRUE(p->diags.has_errors());
    EXPECT_EQ(p->codes(), "BRD0006");  // random bytes are never valid UTF-8 for long
  }
}

TEST(ParserRobust, PrintableJunk) {
  // Valid UTF-8 but not Braid: errors, capped, never a crash.
  std::mt19937 rng(777);
  const std::string alphabet = "{}[]()<>=!~-+*/%.,:?\"'@#$^&|;\\ \n\tabcxyz0123456789 and or not in is -> ...";
  for (int round = 0; round < 50; ++round) {
    std::string junk;
    for (int i = 0; i < 2000; ++i) junk += alphabet[rng() % alphabet.size()];
    auto p = parse(junk);
    EXPECT_TRUE(p->diags.has_errors());
    EXPECT_LE(p->diags.all().size(), 110u);
  }
}

TEST(ParserRobust, RealFragmentsShuffled) {
  // Truncations of a valid file at every position must not crash.
  std::string src = R"(source s { time t fields { a: int, b?: [{ c: string nocase }], ... } }
rule r { title "x" session { step a = x contains~ any ["a"] when a -> not b within 5m } message "{a} {b.c[0]}"
  test "t" { events [{"a": [1, {"b": null}]}] expect [{"x": -1}] } })";
  size_t with_errors = 0;
  for (size_t n = 0; n < src.size(); ++n) {
    auto p = parse(src.substr(0, n));
    if (p->diags.has_errors()) ++with_errors;
  }
  EXPECT_EQ(parse(src)->codes(), "");
  EXPECT_GT(with_errors, src.size() / 2);
}

TEST(ParserRobust, RandomMutationsOfValidSource) {
  // Delete, duplicate or swap random words of a valid file: error recovery must never crash, and a mutated
  // file still yields a File (possibly with fewer declarations).
  const std::string src = R"(source s { recognize a is not null time t session gap 30m max 12h
  mints k when x == "y" link o within 5m { parent when a key b child when c key d }
  fields { a: int, b?: [{ c: string nocase }], "q": { ... }, ... } }
list l = ["a", "b",]
macro m(p, q) = p startswith~ any l or q not in cidr ["10.0.0.0/8"]
rule r { title "x" severity high attack T1098.003 source s suppress 1h by a, b
  session { step a = x contains~ any ["a"] and -y.z[0] * 2 > 3 step b = first(a).f[*] is null
    when a -> not b within 5m or count(a) >= 3 }
  message "{a} and {lower(b.c[0])}"
  test "t" { events [{"a": [1, {"b": null}], "c": -2.5e1}] events file "x.ndjson" expect [{"x": -1}] } })";
  std::vector<std::string> words;
  {
    std::string cur;
    for (char c : src) {
      if (c == ' ' || c == '\n') {
        if (!cur.empty()) words.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) words.push_back(cur);
  }
  ASSERT_EQ(parse(src)->codes(), "") << parse(src)->messages();
  std::mt19937 rng(4242);
  size_t with_errors = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> w = words;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t i = rng() % w.size();
      switch (rng() % 3) {
        case 0: w.erase(w.begin() + static_cast<long>(i)); break;
        case 1: w.insert(w.begin() + static_cast<long>(i), w[rng() % w.size()]); break;
        default: std::swap(w[i], w[rng() % w.size()]); break;
      }
    }
    std::string text;
    for (const auto& x : w) text += x + " ";
    auto p = parse(text);
    if (p->diags.has_errors()) ++with_errors;
    EXPECT_LE(p->file.decls.size(), 6u);
  }
  EXPECT_GT(with_errors, 200u);
}

TEST(ParserRobust, NulByte) {
  std::string src = "rule r { title \"a\" }";
  src[9] = '\0';
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "BRD0006");
  EXPECT_EQ(first(*p).span.begin, 9u);
  EXPECT_TRUE(p->file.decls.empty());
}

TEST(ParserRobust, InvalidUtf8PointsAtFirstBadByte) {
  const char* cases[] = {"\xFF", "\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"};
  for (const char* bad : cases) {
    std::string src = std::string("rule r { title \"ok\xC3\xA9") + bad + "\" }";
    auto p = parse(src);
    ASSERT_EQ(p->codes(), "BRD0006") << bad;
    EXPECT_EQ(first(*p).span.begin, 20u);  // after `rule r { title "okÃ©`
  }
}

TEST(ParserRobust, TenThousandNestedParens) {
  std::string src = "macro m = " + std::string(10000, '(') + "a" + std::string(10000, ')');
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "BRD0007");
  EXPECT_EQ(first(*p).span.begin, 10u + 256u);  // the 257th opener
  EXPECT_EQ(p->text(first(*p).span), "(");
}

TEST(ParserRobust, TenThousandNots) {
  std::string src = "macro m = ";
  for (int i = 0; i < 10000; ++i) src += "not ";
  src += "a";
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "BRD0007");
  EXPECT_EQ(p->text(first(*p).span), "not");
}

TEST(ParserRobust, TenThousandUnaryMinus) {
  std::string src = "macro m = " + std::string(10000, '-') + "1";
  EXPECT_EQ(parse(src)->codes(), "BRD0007");
}

TEST(ParserRobust, MixedNesting) {
  std::string src = "macro m = ";
  for (int i = 0; i < 5000; ++i) src += "not [";
  EXPECT_EQ(parse(src)->codes(), "BRD0007");
  std::string json = "rule r { test \"t\" { events " + std::string(10000, '[') + " } }";
  EXPECT_EQ(parse(json)->codes(), "BRD0007");
}

TEST(ParserRobust, NestingJustUnderTheLimitWorks) {
  // 250 parentheses inside the macro: fine (the limit is 256).
  std::string src = "macro m = " + std::string(250, '(') + "a" + std::string(250, ')');
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "") << p->messages();
  EXPECT_EQ(ast::dump(*p->decl<ast::MacroDecl>(0).body), "a");
  std::string nots = "macro m = ";
  for (int i = 0; i < 250; ++i) nots += "not ";
  EXPECT_EQ(parse(nots + "a")->codes(), "");
  // many `not` in separate conjuncts do not add up
  std::string wide = "macro m = not a";
  for (int i = 0; i < 1000; ++i) wide += " and not a";
  EXPECT_EQ(parse(wide)->codes(), "");
}

TEST(ParserRobust, LongArithmeticChainsAreBounded) {
  // A left-deep chain of binary operators is nesting too: 10,000 `+` must not build a 10,000-deep AST.
  std::string src = "macro m = a";
  for (int i = 0; i < 10000; ++i) src += " + a";
  EXPECT_EQ(parse(src)->codes(), "BRD0007");
  std::string ok = "macro m = a";
  for (int i = 0; i < 200; ++i) ok += " * a";
  EXPECT_EQ(parse(ok)->codes(), "");
}

TEST(ParserRobust, OperatorRunsEndAtClauseBoundaries) {
  // Arithmetic and prefix operators in separate declarations and clauses never add up to "too deep".
  std::string src;
  for (int i = 0; i < 1000; ++i) src += "macro m" + std::to_string(i) + " = -x + 1 * 2 - y\n";
  src += "rule r {\n";
  for (int i = 0; i < 300; ++i) src += "  step s" + std::to_string(i) + " = not x - 1 > -2\n";
  src += "}\n";
  auto p = parse(src);
  EXPECT_EQ(p->codes().find("BRD0007"), std::string::npos) << p->messages().substr(0, 300);
  // ... while one long run inside a clause is still caught
  std::string run = "rule r { when x";
  for (int i = 0; i < 300; ++i) run += " - 1";
  EXPECT_EQ(parse(run + " > 0 }")->codes(), "BRD0007");
}

TEST(ParserRobust, MaxNestingOption) {
  ParseOptions opts;
  opts.max_nesting = 3;
  EXPECT_EQ(parse("macro m = (((a)))", opts)->codes(), "");
  EXPECT_EQ(parse("macro m = ((((a))))", opts)->codes(), "BRD0007");
}

TEST(ParserRobust, OneMegabyteIdentifier) {
  std::string id(1 << 20, 'a');
  auto p = parse("rule r { when " + id + " == 1 }");
  ASSERT_EQ(p->codes(), "");
  const auto& r = p->decl<ast::RuleDecl>(0);
  ASSERT_TRUE(r.when);
  EXPECT_EQ(r.when->expr->children.at(0)->head.size(), id.size());
}

TEST(ParserRobust, OneMegabyteString) {
  std::string s(1 << 20, 'x');
  auto p = parse("rule r { title \"" + s + "\" }");
  ASSERT_EQ(p->codes(), "");
  EXPECT_EQ(p->decl<ast::RuleDecl>(0).title->value.value.size(), s.size());
}

TEST(ParserRobust, ManyTokens) {
  std::string src = "macro m = a";
  for (int i = 0; i < 20000; ++i) src += " or a" + std::to_string(i);
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "");
  EXPECT_EQ(p->decl<ast::MacroDecl>(0).body->children.size(), 20001u);
}

TEST(ParserRobust, InvalidFileId) {
  SourceManager sm;
  DiagnosticSink diags;
  ast::File f = parse_file(sm, 7, diags);
  EXPECT_TRUE(f.decls.empty());
  EXPECT_EQ(parse_expression(sm, Span{}, diags), nullptr);
}

// ---------------------------------------------------------------------------------------------------------------
// Golden inputs: each tests/golden/BRD00xx/input.braid triggers exactly its own code.

TEST(ParserGolden, InputsTriggerTheirCode) {
  for (int n = 1; n <= 10; ++n) {
    char code[8];
    std::snprintf(code, sizeof code, "BRD%04d", n);
    std::string path = std::string(BRAID_TEST_DATA) + "/golden/" + code + "/input.braid";
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << path;
    std::stringstream ss;
    ss << in.rdbuf();
    auto p = parse(ss.str());
    EXPECT_EQ(p->codes(), code) << path << "\n" << p->messages();
  }
}

}  // namespace
}  // namespace braid
