// Golden pairs: input -> the exact canonical output, for every construct and every comment placement. Each pair
// also checks the round-trip properties (clean re-parse, same AST, comments kept, idempotence) on both the input
// and the expected output, and that the expected output is its own canonical form.
#include <gtest/gtest.h>

#include <string>

#include "format_support.h"

namespace braid::fmt_test {
namespace {

void expect_format(const std::string& in, const std::string& want, const FormatOptions& opts = {}) {
  auto p = parse(in);
  ASSERT_EQ(p->errors(), "") << "the golden input must parse:\n" << in;
  EXPECT_EQ(format(*p, opts), want);
  auto q = parse(want);
  ASSERT_EQ(q->errors(), "") << "the golden output must parse:\n" << want;
  EXPECT_EQ(format(*q, opts), want) << "the golden output is not canonical";
  if (opts.width == FormatOptions{}.width) {
    check_round_trip(in);
    check_round_trip(want);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files and declarations

TEST(FormatFile, EmptyFileStaysEmpty) {
  expect_format("", "");
  expect_format("\n\n  \n", "");
}

TEST(FormatFile, OnlyComments) {
  expect_format("  // one\n\n\n/* two */   \n", "// one\n\n/* two */\n");
  expect_format("// no final newline", "// no final newline\n");
}

TEST(FormatFile, ExactlyOneBlankLineBetweenDeclarations) {
  expect_format("list a = [1]\nlist b = [2]\n\n\n\nmacro m = a\n\n\nrule r {}\n",
                "list a = [1]\n\nlist b = [2]\n\nmacro m = a\n\nrule r {}\n");
}

TEST(FormatFile, LeadingAndTrailingBlankLinesRemoved) {
  expect_format("\n\n\nlist a = [1]\n\n\n", "list a = [1]\n");
}

TEST(FormatFile, CrlfLineEndingsBecomeLf) {
  expect_format("list a = [1]\r\n\r\nlist b = [2] // c\r\n", "list a = [1]\n\nlist b = [2] // c\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Lists and macros

// Names copied from other tools: quoted exactly where a segment needs it, whatever the author quoted.
TEST(FormatFile, NamesQuoteTheSegmentsThatNeedIt) {
  expect_format(
      R"b(rule GCP.DNS.Zone.Modified."or".Deleted { source gcp."audit" when x in acme."bad-ips" and acme."is-admin"(y) }
list acme."bad-ips" = ["a"]
macro acme."2fa"."x"(v) = v)b",
      R"b(rule GCP.DNS.Zone.Modified."or".Deleted {
  source gcp.audit
  when x in acme."bad-ips" and acme."is-admin"(y)
}

list acme."bad-ips" = ["a"]

macro acme."2fa".x(v) = v
)b");
}

TEST(FormatList, InlineWhenItFits) {
  expect_format("list   x.y=[ \"a\" ,\"b\",  ]", "list x.y = [\"a\", \"b\"]\n");
  expect_format("list e = [ ]", "list e = []\n");
  expect_format("list n = [1, -2, 3.5, 1e3, 2.50E+3, 15m, true, null, r\"\\d\"]",
                "list n = [1, -2, 3.5, 1e3, 2.50E+3, 15m, true, null, r\"\\d\"]\n");
}

TEST(FormatList, OneElementPerLineWithTrailingCommaWhenTooLong) {
  expect_format(
      "list aws.long = [\"AttachUserPolicy\", \"AttachRolePolicy\", \"PutUserPolicy\", \"PutRolePolicy\", "
      "\"CreateAccessKey\"]",
      R"b(list aws.long = [
  "AttachUserPolicy",
  "AttachRolePolicy",
  "PutUserPolicy",
  "PutRolePolicy",
  "CreateAccessKey",
]
)b");
}

TEST(FormatList, ExactlyOneHundredColumnsStaysInline) {
  // 100 characters: `list l = ["` (11) + 87 x's + `"]` (2).
  std::string at_limit = "list l = [\"" + std::string(87, 'x') + "\"]\n";
  ASSERT_EQ(at_limit.size(), 101u);
  expect_format(at_limit, at_limit);
  std::string over = "list l = [\"" + std::string(88, 'x') + "\"]\n";
  expect_format(over, "list l = [\n  \"" + std::string(88, 'x') + "\",\n]\n");
}

TEST(FormatMacro, AllForms) {
  expect_format("macro a=true\nmacro b( )=1\nmacro c(x,y)=x==y\n",
                "macro a = true\n\nmacro b() = 1\n\nmacro c(x, y) = x == y\n");
}

TEST(FormatMacro, LongBodyBreaksBeforeOperators) {
  expect_format(
      "macro aws.is_admin_policy(arn) = arn endswith \"/AdministratorAccess\" or arn like "
      "\"*:policy/*Admin*\" or arn == \"arn:aws:iam::aws:policy/IAMFullAccess\"",
      R"b(macro aws.is_admin_policy(arn) = arn endswith "/AdministratorAccess"
  or arn like "*:policy/*Admin*"
  or arn == "arn:aws:iam::aws:policy/IAMFullAccess"
)b");
}

// ---------------------------------------------------------------------------------------------------------------
// Sources and schemas

TEST(FormatSource, EveryClause) {
  expect_format(
      R"b(source s.x{recognize exists(a)   time t id i identity who credential cred ip addr account acct
session gap 1h30m max 12h lateness 90s
mints a.b when c==1 mints d
link s.x within 500ms{parent when x=="A" key k child when exists(k) key k}
fields{a:string}}
)b",
      R"b(source s.x {
  recognize exists(a)
  time t
  id i
  identity who
  credential cred
  ip addr
  account acct
  session gap 1h30m max 12h
  lateness 90s
  mints a.b when c == 1
  mints d
  link s.x within 500ms {
    parent when x == "A" key k
    child when exists(k) key k
  }
  fields {
    a: string,
  }
}
)b");
}

TEST(FormatSource, LinkSidesKeepTheirOrder) {
  expect_format("source s { link s within 5m { child when a key b parent when c key d } }",
                "source s {\n  link s within 5m {\n    child when a key b\n    parent when c key d\n  }\n}\n");
}

TEST(FormatSource, LongMintsAndLinkSidesContinueBeforeTheirKeyword) {
  expect_format(
      R"b(source s {
  mints responseElements.credentials.accessKeyId when eventSource == "sts.amazonaws.com" and errorCode is null
  link s within 5m {
    parent when eventName == "ConsoleLogin" and responseElements.ConsoleLogin == "Success" key userIdentity.arn
    child when exists(x) key y
  }
}
)b",
      R"b(source s {
  mints responseElements.credentials.accessKeyId
    when eventSource == "sts.amazonaws.com" and errorCode is null
  link s within 5m {
    parent when eventName == "ConsoleLogin" and responseElements.ConsoleLogin == "Success"
      key userIdentity.arn
    child when exists(x) key y
  }
}
)b");
  expect_format(
      R"b(source s {
  link s within 10m {
    parent when eventType == "user.authentication.sso" and outcome.result == "SUCCESS" and target[*].displayName contains~ "AWS" key lower(actor.alternateId)
    child when x key y
  }
}
)b",
      R"b(source s {
  link s within 10m {
    parent when eventType == "user.authentication.sso"
        and outcome.result == "SUCCESS"
        and target[*].displayName contains~ "AWS"
      key lower(actor.alternateId)
    child when x key y
  }
}
)b");
}

TEST(FormatSource, FieldsOnePerLineNestedRecordsInlineWhenTheyFit) {
  expect_format(
      R"b(source s { fields {a:string,"odd-name"?:string nocase,b:{c:int,d?:[string]},open?:{z:int,...},rec?:{...},
empty?:{},deep?:[[{q:float}]], ... } }
)b",
      R"b(source s {
  fields {
    a: string,
    "odd-name"?: string nocase,
    b: { c: int, d?: [string] },
    open?: { z: int, ... },
    rec?: { ... },
    empty?: {},
    deep?: [[{ q: float }]],
    ...
  }
}
)b");
}

TEST(FormatSource, LongNestedRecordBreaks) {
  expect_format(
      "source s { fields { tlsDetails?: { tlsVersion?: string, cipherSuite?: string, clientProvidedHostHeader?: "
      "string, other: int } } }",
      R"b(source s {
  fields {
    tlsDetails?: {
      tlsVersion?: string,
      cipherSuite?: string,
      clientProvidedHostHeader?: string,
      other: int,
    },
  }
}
)b");
}

TEST(FormatSource, EmptyFieldsAndOpenOnly) {
  expect_format("source s { fields {} }", "source s {\n  fields {}\n}\n");
  expect_format("source s { fields { ... } }", "source s {\n  fields { ... }\n}\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

TEST(FormatRule, MetadataClauses) {
  expect_format(
      R"b(rule a.b{title"T"
description "D" severity   critical attack T1098.003,TA0004,"T1078" tags "t1","t2"
author "me" references "https://example.com/a","https://example.com/b" false_positives "none"
enabled false source s.x , other.src
message   "{who} did {x}"
})b",
      R"b(rule a.b {
  title "T"
  description "D"
  severity critical
  attack T1098.003, TA0004, "T1078"
  tags "t1", "t2"
  author "me"
  references "https://example.com/a", "https://example.com/b"
  false_positives "none"
  enabled false
  source s.x, other.src
  message "{who} did {x}"
}
)b");
}

TEST(FormatRule, ClauseOrderIsKept) {
  expect_format("rule r { when x severity low title \"t\" }", "rule r {\n  when x\n  severity low\n  title \"t\"\n}\n");
}

TEST(FormatRule, BlankLinesBetweenClausesKeptAndCollapsed) {
  expect_format("rule r {\n\n\n  title \"t\"\n\n\n\n  severity low\n  source s\n\n  when x\n\n\n}\n",
                "rule r {\n  title \"t\"\n\n  severity low\n  source s\n\n  when x\n}\n");
}

TEST(FormatRule, LongCommaClausesContinueOnIndentedLines) {
  expect_format(
      "rule r { references \"https://attack.mitre.org/techniques/T1098/003/\", "
      "\"https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html\" }",
      R"b(rule r {
  references "https://attack.mitre.org/techniques/T1098/003/",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html"
}
)b");
}

TEST(FormatRule, MessageTemplateIsPrintedExactlyAsWritten) {
  expect_format(R"b(rule r { message   "{ count(recon) } calls by {session.identity}\n\{literal\} \u0041" })b",
                R"b(rule r {
  message "{ count(recon) } calls by {session.identity}\n\{literal\} \u0041"
}
)b");
}

TEST(FormatRule, Suppress) {
  expect_format("rule r { suppress 7d }", "rule r {\n  suppress 7d\n}\n");
  expect_format("rule r { suppress 1h30m by a.b,lower(c) }", "rule r {\n  suppress 1h30m by a.b, lower(c)\n}\n");
}

TEST(FormatRule, SessionAndChainBlocks) {
  expect_format(
      R"b(rule r { session { step a = x == "1" step b=x=="2" when a->b->not a within 1h and count(a)>2 } })b",
      R"b(rule r {
  session {
    step a = x == "1"
    step b = x == "2"
    when a -> b -> not a within 1h and count(a) > 2
  }
}
)b");
  expect_format("rule r { chain { when chain.depth>=3 } }", "rule r {\n  chain {\n    when chain.depth >= 3\n  }\n}\n");
  expect_format("rule r { session { } }", "rule r {\n  session {}\n}\n");
}

TEST(FormatRule, GroupBlocks) {
  expect_format(
      R"b(rule r { group   by  recipientAccountId ,awsRegion   window 1h { step fail=x=="F" when distinct(fail.u)>=10 } })b",
      R"b(rule r {
  group by recipientAccountId, awsRegion window 1h {
    step fail = x == "F"
    when distinct(fail.u) >= 10
  }
}
)b");
  expect_format("rule r { group by lower( sourceIPAddress ) gap 10m  max 1d { when a } }",
                "rule r {\n  group by lower(sourceIPAddress) gap 10m max 1d {\n    when a\n  }\n}\n");
  expect_format("rule r { group by k window 5m { } }", "rule r {\n  group by k window 5m {}\n}\n");
  // Comments between the keys stay with them.
  expect_format("rule r {\n  group by a, // the account\n    b window 1h {\n    when x\n  }\n}\n",
                "rule r {\n  group by a, // the account\n    b window 1h {\n    when x\n  }\n}\n");
}

// Keys too long for one line: one per line, indented, like `suppress ... by` keys.
TEST(FormatRule, LongGroupKeysContinueOnIndentedLines) {
  expect_format(
      "rule r { group by requestParameters.bucketName, userIdentity.sessionContext.sessionIssuer.arn, "
      "recipientAccountId window 1h { when a } }",
      R"b(rule r {
  group by requestParameters.bucketName,
    userIdentity.sessionContext.sessionIssuer.arn,
    recipientAccountId window 1h {
    when a
  }
}
)b");
}

TEST(FormatRule, EmptyRule) { expect_format("rule r {\n\n}", "rule r {}\n"); }

// ---------------------------------------------------------------------------------------------------------------
// Tests and JSON

TEST(FormatTests, EveryTestItem) {
  expect_format(
      R"b(rule r { test "t1"{events[{"x":"A"}] expect[{"rule":"r"}]} test "t2" {events file "f.ndjson" expect none}
test "t3" {events [] events [{}] expect 0} test "empty" {} })b",
      R"b(rule r {
  test "t1" {
    events [{"x": "A"}]
    expect [{"rule": "r"}]
  }
  test "t2" {
    events file "f.ndjson"
    expect none
  }
  test "t3" {
    events []
    events [{}]
    expect 0
  }
  test "empty" {}
}
)b");
}

TEST(FormatTests, JsonNumberTextAndEscapes) {
  expect_format(
      R"b(rule r { test "t" { events [{"n":-1.50e+3,"m":0,"f":1.0,"e":1E5,"a":[true,false,null],"s":"a\"b\\c\nd\u00e9\/"}] } })b",
      R"b(rule r {
  test "t" {
    events [
      {"n": -1.50e+3, "m": 0, "f": 1.0, "e": 1E5, "a": [true, false, null], "s": "a\"b\\c\ndé/"}
    ]
  }
}
)b");
}

TEST(FormatTests, LongJsonBreaksOneMemberPerLine) {
  // Written over several lines and too long for one: one member per line.
  expect_format(
      R"b(rule r { test "t" { events [{"eventName": "AttachUserPolicy",
  "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"}, "ok": true}, {"eventName": "ListUsers"}] } })b",
      R"b(rule r {
  test "t" {
    events [
      {
        "eventName": "AttachUserPolicy",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
        "ok": true
      },
      {"eventName": "ListUsers"}
    ]
  }
}
)b");
}

// An event or expected alert the author wrote on one line stays on one line, however long (issue 11: a rule with a
// few compact test events became hundreds of lines); the array around them still breaks one element per line.
TEST(FormatTests, CompactOneLineJsonStaysOnOneLine) {
  expect_format(
      R"b(rule r {
  test "t" {
    events [
      {"eventName":"AttachUserPolicy","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"},"requestParameters":{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}},
      {"eventName": "ListUsers", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"}, "n": [1, 2]}
    ]
    expect [{"rule": "r", "message": "a very long expected message that goes on and on past the line width of the formatter"}]
  }
}
)b",
      R"b(rule r {
  test "t" {
    events [
      {"eventName": "AttachUserPolicy", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"}, "requestParameters": {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}},
      {"eventName": "ListUsers", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"}, "n": [1, 2]}
    ]
    expect [
      {"rule": "r", "message": "a very long expected message that goes on and on past the line width of the formatter"}
    ]
  }
}
)b");
  // A comment inside a one-line object: the usual layout, so the comment keeps its place.
  expect_format("rule r {\n  test \"t\" {\n    events [{\"a\": 1, /* c */ \"b\": 2}]\n  }\n}\n",
                "rule r {\n  test \"t\" {\n    events [{\"a\": 1, /* c */ \"b\": 2}]\n  }\n}\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions

TEST(FormatExpr, OperatorsAreSpaced) {
  expect_format(
      R"b(rule r { when a==1 and b!=2 and c<3 and d<=4 and e>5 and f>=6 and g==~"x" and h!=~"y" })b",
      R"b(rule r {
  when a == 1 and b != 2 and c < 3 and d <= 4 and e > 5 and f >= 6 and g ==~ "x" and h !=~ "y"
}
)b");
}

// Computed severity: one arm per line in a block, long conditions broken like any value, comments kept.
TEST(FormatRule, ComputedSeverity) {
  expect_format("rule r { severity{critical when a==\"x\" and b in l.admins high  when  c   else medium} when x }",
                "rule r {\n  severity {\n    critical when a == \"x\" and b in l.admins\n    high when c\n"
                "    else medium\n  }\n  when x\n}\n");
  expect_format(R"b(rule r {
  severity { // most severe first
    critical when userIdentity.arn like "arn:aws:iam::*:role/OrganizationAccountAccessRole" and recipientAccountId in acme.production_accounts
    // the default
    else high
  }
})b",
                R"b(rule r {
  severity { // most severe first
    critical when userIdentity.arn like "arn:aws:iam::*:role/OrganizationAccountAccessRole"
      and recipientAccountId in acme.production_accounts
    // the default
    else high
  }
}
)b");
}

TEST(FormatExpr, CasedModifier) {
  expect_format(R"b(rule r { when a==cased b and c contains  cased any["X"] and d not in cased l.x })b",
                "rule r {\n  when a == cased b and c contains cased any [\"X\"] and d not in cased l.x\n}\n");
}

TEST(FormatExpr, StringOperators) {
  expect_format(
      R"b(rule r { when a contains"x" or a startswith~"y" or a endswith any["p","q"] or a like~ any l.x or a matches r"^\d+$" })b",
      R"b(rule r {
  when a contains "x"
    or a startswith~ "y"
    or a endswith any ["p", "q"]
    or a like~ any l.x
    or a matches r"^\d+$"
}
)b");
}

TEST(FormatExpr, InCidrAndNull) {
  expect_format(
      R"b(rule r { when a in["x"] and a not in l.y and a in~ ["z"] and a not in~ l.z and ip in cidr "10.0.0.0/8" })b",
      R"b(rule r {
  when a in ["x"] and a not in l.y and a in~ ["z"] and a not in~ l.z and ip in cidr "10.0.0.0/8"
}
)b");
  expect_format(R"b(rule r { when ip not in cidr l.c and ip in cidr ["1.2.3.0/24"] and x is null and y is not null })b",
                R"b(rule r {
  when ip not in cidr l.c and ip in cidr ["1.2.3.0/24"] and x is null and y is not null
}
)b");
}

TEST(FormatExpr, Arithmetic) {
  expect_format("macro m = (a+b)*(a-b)/-a%2 - (a - (b - 1)) >= 0 and - - x < -1",
                "macro m = (a + b) * (a - b) / -a % 2 - (a - (b - 1)) >= 0 and - -x < -1\n");
}

TEST(FormatExpr, PathsAndCalls) {
  expect_format(
      R"b(macro m = a.b[0][*]."odd-name".c == first(s).x and (x).y == 1 and coalesce( a , "b" , lower(c) ) == f())b",
      R"b(macro m = a.b[0][*]."odd-name".c == first(s).x and (x).y == 1 and coalesce(a, "b", lower(c)) == f()
)b");
}

TEST(FormatExpr, Sequences) {
  expect_format("rule r { session { when a->b   ->  not c within 1h30m and x->y } }",
                "rule r {\n  session {\n    when a -> b -> not c within 1h30m and x -> y\n  }\n}\n");
}

TEST(FormatExpr, StringsAreReEscapedRawStringsKept) {
  expect_format(R"b(rule r { title "a\/b \u0041 \{x\} \t\"q\"\\" when x matches r"\d+\.\d+" and y == "\u0001" })b",
                R"b(rule r {
  title "a/b A {x} \t\"q\"\\"
  when x matches r"\d+\.\d+" and y == "\u0001"
}
)b");
}

TEST(FormatExpr, AuthorParenthesesAreKept) {
  expect_format("macro m = (a) and ((b or c)) and not (d and e) and (not f)",
                "macro m = (a) and (b or c) and not (d and e) and (not f)\n");
  expect_format("macro m = (a and b) or c", "macro m = (a and b) or c\n");
  expect_format("macro m = a and b or c", "macro m = a and b or c\n");
}

TEST(FormatExpr, LongAndOrBreakBeforeTheOperatorWithNestedIndent) {
  expect_format(
      R"b(rule r { when x matches r"^a\d+$" and x=="y" or not x startswith~ any ["p","q"] and x not in~ l.short and addr in cidr "10.0.0.0/8" and (x == "a" or (x == "b" and (c > 1 or c < -1))) })b",
      R"b(rule r {
  when x matches r"^a\d+$" and x == "y"
    or not x startswith~ any ["p", "q"]
      and x not in~ l.short
      and addr in cidr "10.0.0.0/8"
      and (x == "a" or (x == "b" and (c > 1 or c < -1)))
}
)b");
}

TEST(FormatExpr, LongParenthesisedGroupBreaksInside) {
  expect_format(
      R"b(rule r { when eventSource == "iam.amazonaws.com" and (eventName == "AttachUserPolicy" or eventName == "AttachRolePolicy" or eventName == "PutUserPolicy") })b",
      R"b(rule r {
  when eventSource == "iam.amazonaws.com"
    and (eventName == "AttachUserPolicy"
      or eventName == "AttachRolePolicy"
      or eventName == "PutUserPolicy")
}
)b");
}

TEST(FormatExpr, LongListInsideAClauseBreaks) {
  expect_format(
      R"b(rule r { when eventName in ["AttachUserPolicy", "AttachRolePolicy", "PutUserPolicy", "PutRolePolicy", "CreateAccessKey"] })b",
      R"b(rule r {
  when eventName in [
    "AttachUserPolicy",
    "AttachRolePolicy",
    "PutUserPolicy",
    "PutRolePolicy",
    "CreateAccessKey",
  ]
}
)b");
}

TEST(FormatExpr, LongCallArgumentsBreak) {
  expect_format(
      R"b(macro m = coalesce(requestParameters.roleArn, requestParameters.userName, responseElements.user.arn, "x"))b",
      R"b(macro m = coalesce(
  requestParameters.roleArn,
  requestParameters.userName,
  responseElements.user.arn,
  "x"
)
)b");
}

// Parentheses the precedence needs are added even when the tree did not come from the parser with them.
TEST(FormatExpr, PrecedenceParenthesesAddedForSyntheticTrees) {
  auto p = parse("macro m = a and b\nmacro n = a * b\nmacro o = a - b\nmacro q = not a\n");
  ASSERT_EQ(p->errors(), "");
  auto body = [&](size_t i) -> ast::Expr& { return *std::get<ast::MacroDecl>(p->file.decls[i]).body; };
  // m: (x or y) and b, with the Or not marked as parenthesised.
  auto rebuilt = [&](size_t i, ast::ExprKind kind) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->children.push_back(std::move(body(i).children[0]));
    auto other = std::make_unique<ast::Expr>();
    other->kind = ast::ExprKind::Path;
    other->head = "y";
    e->children.push_back(std::move(other));
    return e;
  };
  body(0).children[0] = rebuilt(0, ast::ExprKind::Or);
  // n: (a + y) * b
  auto plus = rebuilt(1, ast::ExprKind::Binary);
  plus->op = ast::Op::Add;
  body(1).children[0] = std::move(plus);
  // o: a - (b - y)  (right operand of a left-associative operator)
  auto minus = std::make_unique<ast::Expr>();
  minus->kind = ast::ExprKind::Binary;
  minus->op = ast::Op::Sub;
  minus->children.push_back(std::move(body(2).children[1]));
  auto y = std::make_unique<ast::Expr>();
  y->kind = ast::ExprKind::Path;
  y->head = "y";
  minus->children.push_back(std::move(y));
  body(2).children[1] = std::move(minus);
  // q: not (a == y)  stays without parentheses (not binds looser), but (not a) == y needs them.
  auto eq = std::make_unique<ast::Expr>();
  eq->kind = ast::ExprKind::Compare;
  eq->op = ast::Op::Eq;
  eq->children.push_back(std::make_unique<ast::Expr>(std::move(body(3))));
  auto y2 = std::make_unique<ast::Expr>();
  y2->kind = ast::ExprKind::Path;
  y2->head = "y";
  eq->children.push_back(std::move(y2));
  std::get<ast::MacroDecl>(p->file.decls[3]).body = std::move(eq);
  EXPECT_EQ(format(*p),
            "macro m = (a or y) and b\n\nmacro n = (a + y) * b\n\nmacro o = a - (b - y)\n\nmacro q = (not a) == y\n");
}

TEST(FormatExpr, DurationsAsWritten) {
  expect_format("macro m = session.duration > 90m and x < 1h30m and y > 3600s",
                "macro m = session.duration > 90m and x < 1h30m and y > 3600s\n");
}

TEST(FormatWidth, WidthAndIndentAreOptions) {
  FormatOptions o;
  o.width = 30;
  o.indent = 4;
  expect_format("rule r { when aaaa == 1 and bbbb == 2 and cccc == 3 }",
                "rule r {\n    when aaaa == 1\n        and bbbb == 2\n        and cccc == 3\n}\n", o);
}

TEST(FormatQuote, CanonicalEscapes) {
  EXPECT_EQ(quote_string("plain"), "\"plain\"");
  EXPECT_EQ(quote_string("a\"b\\c\n\r\t\b\f"), R"b("a\"b\\c\n\r\t\b\f")b");
  EXPECT_EQ(quote_string(std::string("\x01\x7f", 2)), R"b("\u0001\u007f")b");
  EXPECT_EQ(quote_string("é/{}"), "\"é/{}\"");
}

// ---------------------------------------------------------------------------------------------------------------
// Comments

TEST(FormatComments, BeforeAndAfterDeclarations) {
  expect_format(R"b(// header

/* block before a list */
list a = [1] // trailing after a list
// before b, right after a
list b = [2]
/* trailing block */ // and a line comment
)b",
                R"b(// header

/* block before a list */
list a = [1] // trailing after a list

// before b, right after a
list b = [2]
/* trailing block */ // and a line comment
)b");
}

TEST(FormatComments, BlankLineBetweenCommentAndDeclarationKept) {
  expect_format("// license\n\n\n// about r\nrule r {}\n\n// about s\n\nrule s {}\n",
                "// license\n\n// about r\nrule r {}\n\n// about s\n\nrule s {}\n");
}

TEST(FormatComments, OnTheOpeningAndClosingBraceLines) {
  expect_format("rule r {   // opening\n  title \"t\"\n}   // closing\n",
                "rule r { // opening\n  title \"t\"\n} // closing\n");
}

TEST(FormatComments, AroundClauses) {
  expect_format(R"b(rule r {
    // before title
  title "t"   // after title
  /* block before severity */ severity low
  source s /* trailing block */

     // before when, after a blank line
  when x
  // last in the rule
}
)b",
                R"b(rule r {
  // before title
  title "t" // after title
  /* block before severity */ severity low
  source s /* trailing block */

  // before when, after a blank line
  when x
  // last in the rule
}
)b");
}

TEST(FormatComments, OnlyCommentsInABlock) {
  expect_format("rule r {\n// nothing yet\n}\n", "rule r {\n  // nothing yet\n}\n");
  expect_format("rule r { session { /* todo */\n} }\n", "rule r {\n  session { /* todo */\n  }\n}\n");
}

TEST(FormatComments, BetweenKeywordAndValue) {
  expect_format("rule r {\n  when // why\n    a and b\n}\n", "rule r {\n  when // why\n    a and b\n}\n");
  expect_format("rule r {\n  when\n  // why\n  a and b\n}\n", "rule r {\n  when\n    // why\n    a and b\n}\n");
  expect_format("rule r { when /* why */ a }", "rule r {\n  when /* why */ a\n}\n");
  expect_format("rule r {\n  when\n/* why */ a\n}", "rule r {\n  when\n    /* why */ a\n}\n");
  expect_format("macro m = // explain\n  a == b\n", "macro m = // explain\n  a == b\n");
  expect_format("rule r { severity /* odd */ low }", "rule r {\n  severity low /* odd */\n}\n");
}

TEST(FormatComments, InsideLongExpressions) {
  expect_format(R"b(rule r {
  when a == 1 // first
    // before the second
    and b == 2 and
    c == 3 // after c
    or d
}
)b",
                R"b(rule r {
  when a == 1 // first
      // before the second
      and b == 2
      and c == 3 // after c
    or d
}
)b");
}

TEST(FormatComments, ACommentBreaksTheLineItIsOn) {
  expect_format("macro m = a and // why a\n b\n", "macro m = a // why a\n  and b\n");
  expect_format("macro m = a and /* inline */ b\n", "macro m = a /* inline */ and b\n");
}

TEST(FormatComments, InsideListsAndCalls) {
  expect_format(R"b(list l = [ // opening
  "x", // why x
  // before y
  "y" /* after y */,
  // after the last element
]
macro m = f(a, // after a
  b)
macro n = lower(/* arg */ x)
)b",
                R"b(list l = [ // opening
  "x", // why x
  // before y
  "y", /* after y */
  // after the last element
]

macro m = f(
  a, // after a
  b
)

macro n = lower(/* arg */ x)
)b");
}

TEST(FormatComments, InsideParenthesesAndSequences) {
  expect_format(R"b(rule r { session { when (a // in parens
  or b) and a -> /* step */ b within 5m } }
)b",
                R"b(rule r {
  session {
    when (a // in parens
        or b)
      and a -> /* step */ b within 5m
  }
}
)b");
}

TEST(FormatComments, InsideSessionTestFieldsAndLinkBlocks) {
  expect_format(R"b(source s {
  link s within 5m {
    // before parent
    parent when a key b // after parent
    child when c key d
    // end of link
  }
  fields {
    // before the first field
    a: string, // after a
    /* inline before b */ b: int,
    c: { d: int, // nested
    ... },
    // before the ellipsis
    ...
    // before the closing brace
  }
}

rule r {
  session {
    // before a step
    step a = x == 1 // after the step

    /* before when */
    when a
    // end of session
  }
  test "t" {
    // before events
    events [
      // before the first event
      {"a": 1}, // after the first event
      {
        // before a member
        "b": 2,
        "c": 3 // after the last member
      }
    ]
    expect 1 // after expect
    // end of test
  }
}
)b",
                R"b(source s {
  link s within 5m {
    // before parent
    parent when a key b // after parent
    child when c key d
    // end of link
  }
  fields {
    // before the first field
    a: string, // after a
    /* inline before b */ b: int,
    c: {
      d: int, // nested
      ...
    },
    // before the ellipsis
    ...
    // before the closing brace
  }
}

rule r {
  session {
    // before a step
    step a = x == 1 // after the step

    /* before when */
    when a
    // end of session
  }
  test "t" {
    // before events
    events [
      // before the first event
      {"a": 1}, // after the first event
      {
        // before a member
        "b": 2,
        "c": 3 // after the last member
      }
    ]
    expect 1 // after expect
    // end of test
  }
}
)b");
}

TEST(FormatComments, InCommaClausesAndMacroParameters) {
  expect_format("rule r { attack T1098, // first\n T1078 tags \"a\", /* b */ \"b\" }\nmacro m(a, /* p */ b) = a\n",
                "rule r {\n  attack T1098, // first\n    T1078\n  tags \"a\", /* b */ \"b\"\n}\n\n"
                "macro m(a, /* p */ b) = a\n");
}

TEST(FormatComments, TrailingSpacesTrimmedBlockCommentsOtherwiseVerbatim) {
  expect_format("// trailing spaces   \nlist a = [1]\n/* keep  \n      this\t\n\n  indentation */\nlist b = [2]\n",
                "// trailing spaces\nlist a = [1]\n\n/* keep\n      this\n\n  indentation */\nlist b = [2]\n");
  expect_format("/* crlf\r\n   inside */\r\nlist a = [1]\r\n", "/* crlf\n   inside */\nlist a = [1]\n");
}

TEST(FormatComments, MultiLineBlockCommentInsideAnExpression) {
  expect_format("macro m = a and /* one\n two */ b\n", "macro m = a /* one\n two */\n  and b\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Tuning (docs/language.md, section 23)

TEST(FormatTuning, OverridesTunesAndOrgData) {
  expect_format("override list aws.regions=[\"a\",\"b\"]\noverride   list aws.regions  +=  [\"c\"]\n",
                "override list aws.regions = [\"a\", \"b\"]\n\noverride list aws.regions += [\"c\"]\n");
  expect_format("list acme.\"bad-ips\" = [\"10.0.0.1\"]   org_data\n", "list acme.\"bad-ips\" = [\"10.0.0.1\"] org_data\n");
  expect_format("tune acme.x {severity   low except when a==\"b\"\n except  when c  enabled false}\n",
                "tune acme.x {\n  severity low\n  except when a == \"b\"\n  except when c\n  enabled false\n}\n");
  expect_format("tune \"acme.*\" { }\n", "tune \"acme.*\" {}\n");
  expect_format("rule r {\n  source s\n  org_data  a.b ,c.d\n}\n", "rule r {\n  source s\n  org_data a.b, c.d\n}\n");
}

}  // namespace
}  // namespace braid::fmt_test
