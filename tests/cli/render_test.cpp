// Unit tests of diagnostic rendering (compiler/diag/render.h): text layout, JSON escaping, SARIF structure and
// columns. Diagnostics are built by hand so every feature (fixes, related notes, tabs, UTF-8) is exercised.
#include <gtest/gtest.h>

#include "diag/render.h"
#include "json.h"
#include "sarif_validator.h"

namespace braid {
namespace {

using testjson::SarifValidator;

struct Fixture {
  SourceManager sm;
  FileId add(std::string path, std::string text) { return sm.add(std::move(path), std::move(text)); }
};

Span span_of(const SourceManager& sm, FileId f, std::string_view needle, size_t nth = 0) {
  const std::string& t = sm.file(f).text();
  size_t pos = t.find(needle);
  while (nth-- > 0) pos = t.find(needle, pos + 1);
  EXPECT_NE(pos, std::string::npos) << needle;
  return Span{f, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + needle.size())};
}

Diagnostic diag(Code code, Span s, std::string msg) {
  Diagnostic d;
  d.code = code;
  d.severity = code_info(code).severity;
  d.span = s;
  d.message = std::move(msg);
  return d;
}

RenderOptions plain() {
  RenderOptions o;
  o.tool_version = "9.9.9";
  o.working_dir = "/work/project";
  return o;
}

TEST(RenderText, HeaderSnippetCaretHelpAndSummary) {
  Fixture fx;
  FileId f = fx.add("rules/a.braid", "rule r {\n  when eventNme == \"x\"\n}\n");
  Diagnostic d = diag(Code::BRD0001, span_of(fx.sm, f, "eventNme"), "unknown field `eventNme`");
  d.help = "did you mean `eventName`?";
  std::string out = render_text({d}, fx.sm, plain());
  EXPECT_EQ(out,
            "rules/a.braid:2:8: error[BRD0001]: unknown field `eventNme`\n"
            " 2 |   when eventNme == \"x\"\n"
            "   |        ^~~~~~~~\n"
            "   = help: did you mean `eventName`?\n"
            "\n"
            "1 error\n");
}

TEST(RenderText, TabsAreExpandedAndCaretsStayAligned) {
  Fixture fx;
  FileId f = fx.add("t.braid", "\twhen\tx == 1\n");
  std::string out = render_text({diag(Code::BRD0001, span_of(fx.sm, f, "x"), "m")}, fx.sm, plain());
  EXPECT_NE(out.find(" 1 |     when    x == 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("   |             ^\n"), std::string::npos) << out;
  EXPECT_EQ(out.find('\t'), std::string::npos);
}

TEST(RenderText, MultiLineSpanIsUnderlinedToTheEndOfItsFirstLine) {
  Fixture fx;
  FileId f = fx.add("m.braid", "rule r {\n  title \"x\"\n}\n");
  Span s{f, 5, static_cast<uint32_t>(fx.sm.file(f).text().size())};  // from `r` to the end
  std::string out = render_text({diag(Code::BRD0001, s, "m")}, fx.sm, plain());
  EXPECT_NE(out.find(" 1 | rule r {\n   |      ^~~\n"), std::string::npos) << out;
}

TEST(RenderText, SpanPastTheEndOfTheLineAndEmptySpanGetOneCaret) {
  Fixture fx;
  FileId f = fx.add("e.braid", "rule r {");  // no newline: EOF right after `{`
  uint32_t end = static_cast<uint32_t>(fx.sm.file(f).text().size());
  std::string out = render_text({diag(Code::BRD0001, Span{f, end, end}, "unexpected end of file")}, fx.sm, plain());
  EXPECT_NE(out.find("e.braid:1:9: error[BRD0001]"), std::string::npos) << out;
  EXPECT_NE(out.find(" 1 | rule r {\n   |         ^\n"), std::string::npos) << out;
  // A span that starts at the newline.
  FileId g = fx.add("g.braid", "ab\ncd\n");
  out = render_text({diag(Code::BRD0001, Span{g, 2, 4}, "m")}, fx.sm, plain());
  EXPECT_NE(out.find(" 1 | ab\n   |   ^\n"), std::string::npos) << out;
}

TEST(RenderText, RelatedNotesHaveTheirOwnLocationAndLine) {
  Fixture fx;
  FileId f = fx.add("d.braid", "list a = [\"x\"]\nlist a = [\"y\"]\n");
  Diagnostic d = diag(Code::BRD0001, span_of(fx.sm, f, "a", 1), "`a` is declared twice");
  d.related.push_back({span_of(fx.sm, f, "a"), "first declared here"});
  std::string out = render_text({d}, fx.sm, plain());
  EXPECT_NE(out.find("d.braid:2:6: error[BRD0001]: `a` is declared twice\n"), std::string::npos) << out;
  EXPECT_NE(out.find("d.braid:1:6: note: first declared here\n 1 | list a = [\"x\"]\n   |      ^\n"),
            std::string::npos)
      << out;
}

TEST(RenderText, GutterIsAsWideAsTheLargestLineNumber) {
  Fixture fx;
  std::string text;
  for (int i = 0; i < 120; ++i) text += "x\n";
  FileId f = fx.add("g.braid", text);
  Diagnostic d = diag(Code::BRD0001, Span{f, 2 * 119, 2 * 119 + 1}, "m");
  d.related.push_back({Span{f, 0, 1}, "here"});
  std::string out = render_text({d}, fx.sm, plain());
  EXPECT_NE(out.find(" 120 | x\n     | ^\n"), std::string::npos) << out;
  EXPECT_NE(out.find("   1 | x\n     | ^\n"), std::string::npos) << out;
}

TEST(RenderText, FixItOnTheSameLineIsShownUnderTheCaret) {
  Fixture fx;
  FileId f = fx.add("f.braid", "when x == null\n");
  Diagnostic d = diag(Code::BRD0001, span_of(fx.sm, f, "x == null"), "comparison with null");
  d.fix = FixIt{span_of(fx.sm, f, "x == null"), "x is null"};
  std::string out = render_text({d}, fx.sm, plain());
  EXPECT_NE(out.find("   |      ^~~~~~~~~\n   |      x is null\n"), std::string::npos) << out;
}

TEST(RenderText, FilelessDiagnosticAndSummaryPlurals) {
  SourceManager sm;
  Diagnostic a = diag(Code::BRD0901, Span{}, "cannot read `x.braid`: No such file or directory");
  Diagnostic w = a;
  w.severity = Severity::Warning;
  std::string out = render_text({a, a, w}, sm, plain());
  EXPECT_NE(out.find("braid: error[BRD0901]: cannot read `x.braid`: No such file or directory\n"), std::string::npos);
  EXPECT_NE(out.find("\n2 errors, 1 warning\n"), std::string::npos) << out;
  EXPECT_EQ(summary_text(0, 0), "no problems");
  EXPECT_EQ(summary_text(0, 2), "2 warnings");
  EXPECT_EQ(summary_text(1, 0), "1 error");
  EXPECT_EQ(summary_text(0, 1, 2), "1 warning, 2 notes");
  EXPECT_EQ(render_text({}, sm, plain()), "");
}

TEST(RenderText, ColourOnlyWhenEnabled) {
  Fixture fx;
  FileId f = fx.add("c.braid", "x\n");
  std::vector<Diagnostic> ds = {diag(Code::BRD0001, Span{f, 0, 1}, "m")};
  RenderOptions o = plain();
  EXPECT_EQ(render_text(ds, fx.sm, o).find('\x1b'), std::string::npos);
  o.color = true;
  std::string out = render_text(ds, fx.sm, o);
  EXPECT_NE(out.find("\x1b[1;31merror[BRD0001]:"), std::string::npos) << out;
}

TEST(RenderText, InvalidUtf8AndControlCharactersAreShownAsReplacementCharacters) {
  Fixture fx;
  FileId f = fx.add("u.braid", std::string("a\xff\x01z\n"));
  std::string out = render_text({diag(Code::BRD0001, Span{f, 3, 4}, "m")}, fx.sm, plain());
  EXPECT_NE(out.find(" 1 | a\xEF\xBF\xBD\xEF\xBF\xBDz\n   |    ^\n"), std::string::npos) << out;
}

// ---------------------------------------------------------------------------------------------------------------

TEST(Json, QuoteEscapesControlCharactersAndReplacesInvalidUtf8) {
  EXPECT_EQ(json_quote("a\"b\\c\n\t\r\b\f\x01\x1f\x7f"), "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(json_quote("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(json_quote("\xC0\xAF"), "\"\\ufffd\\ufffd\"");           // overlong
  EXPECT_EQ(json_quote("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(json_quote("\xE2\x82"), "\"\\ufffd\\ufffd\"");           // truncated
  EXPECT_EQ(json_quote("h\xC3\xA9 \xF0\x9F\x98\x80"), "\"h\xC3\xA9 \xF0\x9F\x98\x80\"");  // valid UTF-8 kept
  EXPECT_EQ(sanitize_utf8("a\xffz"), "a\xEF\xBF\xBDz");
}

TEST(Json, DocumentShapeIsStable) {
  Fixture fx;
  FileId f = fx.add("j.braid", "list a = [1]\nlist a = [2]\n");
  Diagnostic d = diag(Code::BRD0001, span_of(fx.sm, f, "a", 1), "twice \x01\xff");
  d.help = "rename one";
  d.fix = FixIt{span_of(fx.sm, f, "a", 1), "b"};
  d.related.push_back({span_of(fx.sm, f, "a"), "first declared here"});
  Diagnostic io = diag(Code::BRD0901, Span{}, "cannot read");
  std::string out = render_json({d, io}, fx.sm, plain());
  testjson::Value v = testjson::parse(out);
  EXPECT_EQ(v.at("version").num, 1);
  ASSERT_EQ(v.at("diagnostics").items.size(), 2u);
  const auto& a = v.at("diagnostics").items[0];
  EXPECT_EQ(a.at("code").str, "BRD0001");
  EXPECT_EQ(a.at("severity").str, "error");
  EXPECT_EQ(a.at("message").str, "twice \x01\xEF\xBF\xBD");
  EXPECT_EQ(a.at("file").str, "j.braid");
  EXPECT_EQ(a.at("line").num, 2);
  EXPECT_EQ(a.at("column").num, 6);
  EXPECT_EQ(a.at("end_line").num, 2);
  EXPECT_EQ(a.at("end_column").num, 7);
  EXPECT_EQ(a.at("help").str, "rename one");
  EXPECT_EQ(a.at("fix").at("replacement").str, "b");
  EXPECT_EQ(a.at("fix").at("column").num, 6);
  EXPECT_EQ(a.at("related").items.at(0).at("message").str, "first declared here");
  EXPECT_EQ(a.at("related").items.at(0).at("line").num, 1);
  const auto& b = v.at("diagnostics").items[1];
  EXPECT_TRUE(b.at("file").is_null());
  EXPECT_TRUE(b.at("line").is_null());
  EXPECT_TRUE(b.at("help").is_null());
  EXPECT_TRUE(b.at("fix").is_null());
  EXPECT_TRUE(b.at("related").items.empty());
  EXPECT_EQ(v.at("summary").at("errors").num, 2);
  EXPECT_EQ(v.at("summary").at("warnings").num, 0);
  // Empty input is still a full document.
  testjson::Value e = testjson::parse(render_json({}, fx.sm, plain()));
  EXPECT_TRUE(e.at("diagnostics").items.empty());
}

// ---------------------------------------------------------------------------------------------------------------

TEST(Sarif, Utf16Columns) {
  EXPECT_EQ(utf16_column("abc", 1), 1u);
  EXPECT_EQ(utf16_column("abc", 3), 3u);
  EXPECT_EQ(utf16_column("\xC3\xA9x", 3), 2u);              // é is 2 bytes, 1 unit
  EXPECT_EQ(utf16_column("\xF0\x9F\x98\x80x", 5), 3u);      // 😀 is 4 bytes, 2 units
  EXPECT_EQ(utf16_column("\xE2\x82\xACx", 4), 2u);          // € is 3 bytes, 1 unit
  EXPECT_EQ(utf16_column("ab", 4), 4u);                      // past the end: one unit per byte
}

TEST(Sarif, LogIsValidAndCarriesRulesLocationsFixesAndRelatedLocations) {
  Fixture fx;
  FileId f = fx.add("/work/project/rules/my rules/a.braid", "// \xF0\x9F\x98\x80\nwhen \xC3\xA9t\xC3\xA9 == null\n");
  FileId g = fx.add("<stdlib>/aws/cloudtrail.braid", "source aws.cloudtrail {}\n");
  Diagnostic d = diag(Code::BRD0001, span_of(fx.sm, f, "== null"), "comparison with null");
  d.fix = FixIt{span_of(fx.sm, f, "== null"), "is null"};
  d.related.push_back({span_of(fx.sm, g, "aws.cloudtrail"), "source declared here"});
  Diagnostic w = diag(Code::BRD0002, Span{f, 0, 2}, "a warning");
  w.severity = Severity::Warning;
  Diagnostic io = diag(Code::BRD0901, Span{}, "cannot read `x`");
  std::string out = render_sarif({d, w, io}, fx.sm, plain());
  testjson::Value log = testjson::parse(out);

  std::vector<std::string> errors = SarifValidator().validate(log);
  EXPECT_TRUE(errors.empty()) << [&] {
    std::string s;
    for (auto& e : errors) s += e + "\n";
    return s + out;
  }();

  EXPECT_EQ(log.at("$schema").str, "https://json.schemastore.org/sarif-2.1.0.json");
  const auto& run = log.at("runs").items.at(0);
  EXPECT_EQ(run.at("columnKind").str, "utf16CodeUnits");
  const auto& driver = run.at("tool").at("driver");
  EXPECT_EQ(driver.at("name").str, "braid");
  EXPECT_EQ(driver.at("version").str, "9.9.9");
  ASSERT_EQ(driver.at("rules").items.size(), 3u);  // each used code once, in code order
  EXPECT_EQ(driver.at("rules").items[0].at("id").str, "BRD0001");
  EXPECT_EQ(driver.at("rules").items[0].at("name").str, "syntax-error");
  EXPECT_EQ(driver.at("rules").items[2].at("defaultConfiguration").at("level").str, "error");

  const auto& results = run.at("results").items;
  ASSERT_EQ(results.size(), 3u);
  const auto& r0 = results[0];
  EXPECT_EQ(r0.at("level").str, "error");
  EXPECT_EQ(results[1].at("level").str, "warning");
  const auto& loc = r0.at("locations").items.at(0).at("physicalLocation");
  EXPECT_EQ(loc.at("artifactLocation").at("uri").str, "rules/my%20rules/a.braid");
  EXPECT_EQ(loc.at("artifactLocation").at("uriBaseId").str, "%SRCROOT%");
  // `when été == null`: `==` is byte column 12 but UTF-16 column 10 (é is two bytes, one unit).
  EXPECT_EQ(loc.at("region").at("startLine").num, 2);
  EXPECT_EQ(loc.at("region").at("startColumn").num, 10);
  EXPECT_EQ(loc.at("region").at("endColumn").num, 17);
  const auto& rep = r0.at("fixes").items.at(0).at("artifactChanges").items.at(0).at("replacements").items.at(0);
  EXPECT_EQ(rep.at("insertedContent").at("text").str, "is null");
  EXPECT_EQ(rep.at("deletedRegion").at("startColumn").num, 10);
  const auto& rel = r0.at("relatedLocations").items.at(0);
  EXPECT_EQ(rel.at("message").at("text").str, "source declared here");
  EXPECT_EQ(rel.at("physicalLocation").at("artifactLocation").at("uri").str, "aws/cloudtrail.braid");
  EXPECT_FALSE(results[2].has("locations"));  // file-less
  // A surrogate-pair character counts two units: the comment's end on line 1.
  std::string one = render_sarif({diag(Code::BRD0001, Span{f, 0, 7}, "m")}, fx.sm, plain());
  EXPECT_NE(one.find("\"endColumn\": 6"), std::string::npos) << one;  // "// " 3 units + 😀 2 units -> col 6
}

TEST(Sarif, ValidatorRejectsBrokenLogs) {
  // The validator must be able to fail, or the tests above prove nothing.
  auto check = [](const char* text) { return SarifValidator().validate(testjson::parse(text)); };
  EXPECT_FALSE(check(R"({"runs": []})").empty());                        // no version
  EXPECT_FALSE(check(R"({"version": "2.0.0", "runs": []})").empty());    // wrong version
  EXPECT_FALSE(check(R"({"version": "2.1.0", "runs": [{}]})").empty());  // run without tool
  EXPECT_FALSE(check(R"({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "b"}},
      "results": [{"ruleId": "X", "ruleIndex": 0, "message": {"text": "m"}}]}]})").empty());  // bad ruleIndex
  EXPECT_FALSE(check(R"({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "b"}},
      "results": [{"message": {"text": "m"}, "level": "fatal"}]}]})").empty());  // bad level
  EXPECT_FALSE(check(R"({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "b"}},
      "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation":
      {"uri": "a\\b.braid", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 0}}}]}]}]})").empty());
  EXPECT_FALSE(check(R"({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "b"}}, "colour": 1}]})").empty());
  EXPECT_TRUE(check(R"({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "b"}}, "results": []}]})").empty());
}

TEST(Json, StrictParserRejectsInvalidJson) {
  for (const char* bad : {"{\"a\": 1,}", "[1 2]", "{\"a\": 1, \"a\": 2}", "\"\x01\"", "\"\xff\"", "01", "{", ""}) {
    EXPECT_THROW(testjson::parse(bad), testjson::JsonError) << bad;
  }
}

}  // namespace
}  // namespace braid
