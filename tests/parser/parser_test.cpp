// Parser tests: every construct of grammar/Braid.g4 turned into the AST.
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace braid {
namespace {

using test::expr;
using test::parse;

// ---------------------------------------------------------------------------------------------------------------
// Sources

constexpr const char* kSource = R"(source aws.cloudtrail {
  recognize eventVersion is not null and eventSource endswith ".amazonaws.com"
  time eventTime
  id eventID
  identity userIdentity.arn
  credential userIdentity.accessKeyId
  ip sourceIPAddress
  account recipientAccountId
  session gap 30m max 12h
  lateness 5m
  mints responseElements.credentials.accessKeyId when eventName == "AssumeRole"
  mints responseElements.keyId
  link okta.system within 5m {
    parent when eventName == "AssumeRoleWithSAML" key lower(userIdentity.principalId)
    child when eventType == "user.session.start" key lower(actor.alternateId)
  }
  fields {
    eventName: string,
    eventTime: time,
    userIdentity: { arn: string, accessKeyId?: string, type: string nocase },
    resources?: [{ ARN: string, "type-x": string }],
    tags: [string],
    requestParameters: { ... },
    extra: object,
    ...
  }
})";

TEST(ParserSource, AllClauses) {
  auto p = parse(kSource);
  ASSERT_EQ(p->codes(), "") << p->messages();
  ASSERT_EQ(p->file.decls.size(), 1u);
  const auto& s = p->decl<ast::SourceDecl>(0);
  EXPECT_EQ(s.name.text, "aws.cloudtrail");
  EXPECT_EQ(p->text(s.name.span), "aws.cloudtrail");
  ASSERT_TRUE(s.recognize);
  EXPECT_EQ(ast::dump(*s.recognize->expr),
            "(and (is-not-null eventVersion) (endswith eventSource \".amazonaws.com\"))");
  EXPECT_EQ(p->text(s.recognize->span).substr(0, 10), "recognize ");
  ASSERT_TRUE(s.time && s.id && s.identity && s.credential && s.ip && s.account);
  EXPECT_EQ(ast::dump(*s.time->expr), "eventTime");
  EXPECT_EQ(p->text(s.time->span), "time eventTime");
  EXPECT_EQ(ast::dump(*s.id->expr), "eventID");
  EXPECT_EQ(s.identity->expr->dotted(), "userIdentity.arn");
  EXPECT_EQ(s.credential->expr->dotted(), "userIdentity.accessKeyId");
  EXPECT_EQ(s.ip->expr->dotted(), "sourceIPAddress");
  EXPECT_EQ(s.account->expr->dotted(), "recipientAccountId");
  ASSERT_TRUE(s.session);
  EXPECT_EQ(s.session->gap.nanos, 30LL * 60 * 1000000000);
  EXPECT_EQ(s.session->max.nanos, 12LL * 3600 * 1000000000);
  EXPECT_EQ(s.session->max.text, "12h");
  EXPECT_EQ(p->text(s.session->span), "session gap 30m max 12h");
  ASSERT_TRUE(s.lateness);
  EXPECT_EQ(s.lateness->lateness.nanos, 5LL * 60 * 1000000000);
  ASSERT_EQ(s.mints.size(), 2u);
  EXPECT_EQ(s.mints[0].credential->dotted(), "responseElements.credentials.accessKeyId");
  ASSERT_TRUE(s.mints[0].when);
  EXPECT_EQ(ast::dump(*s.mints[0].when), "(== eventName \"AssumeRole\")");
  EXPECT_FALSE(s.mints[1].when);
  ASSERT_EQ(s.links.size(), 1u);
  const auto& l = s.links[0];
  EXPECT_EQ(l.target.text, "okta.system");
  EXPECT_EQ(l.within.text, "5m");
  ASSERT_TRUE(l.parent.when && l.parent.key && l.child.when && l.child.key);
  EXPECT_EQ(ast::dump(*l.parent.key), "(call lower userIdentity.principalId)");
  EXPECT_EQ(ast::dump(*l.child.when), "(== eventType \"user.session.start\")");
  EXPECT_EQ(p->text(l.child.span).substr(0, 11), "child when ");
}

TEST(ParserSource, FieldTypes) {
  auto p = parse(kSource);
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& s = p->decl<ast::SourceDecl>(0);
  ASSERT_TRUE(s.fields);
  const ast::TypeExpr& r = s.fields->record;
  EXPECT_EQ(r.kind, ast::TypeExpr::Kind::Record);
  EXPECT_TRUE(r.open);
  ASSERT_EQ(r.fields.size(), 7u);
  EXPECT_EQ(r.fields[0].name, "eventName");
  EXPECT_EQ(r.fields[0].type->kind, ast::TypeExpr::Kind::Named);
  EXPECT_EQ(r.fields[0].type->name.text, "string");
  EXPECT_EQ(r.fields[1].type->name.text, "time");
  // nested record with optional and nocase fields
  const ast::TypeExpr& ui = *r.fields[2].type;
  EXPECT_EQ(ui.kind, ast::TypeExpr::Kind::Record);
  EXPECT_FALSE(ui.open);
  ASSERT_EQ(ui.fields.size(), 3u);
  EXPECT_FALSE(ui.fields[0].optional);
  EXPECT_TRUE(ui.fields[1].optional);
  EXPECT_EQ(ui.fields[1].name, "accessKeyId");
  EXPECT_TRUE(ui.fields[2].nocase);
  EXPECT_FALSE(ui.fields[1].nocase);
  // optional list of records with a quoted field name
  EXPECT_TRUE(r.fields[3].optional);
  const ast::TypeExpr& res = *r.fields[3].type;
  ASSERT_EQ(res.kind, ast::TypeExpr::Kind::List);
  ASSERT_TRUE(res.elem);
  ASSERT_EQ(res.elem->kind, ast::TypeExpr::Kind::Record);
  ASSERT_EQ(res.elem->fields.size(), 2u);
  EXPECT_EQ(res.elem->fields[1].name, "type-x");
  EXPECT_TRUE(res.elem->fields[1].quoted);
  EXPECT_FALSE(res.elem->fields[0].quoted);
  // list of a named type
  EXPECT_EQ(r.fields[4].type->kind, ast::TypeExpr::Kind::List);
  EXPECT_EQ(r.fields[4].type->elem->name.text, "string");
  // `{ ... }`: open, no fields
  EXPECT_EQ(r.fields[5].type->kind, ast::TypeExpr::Kind::Record);
  EXPECT_TRUE(r.fields[5].type->open);
  EXPECT_TRUE(r.fields[5].type->fields.empty());
  EXPECT_EQ(r.fields[6].type->name.text, "object");
  EXPECT_EQ(p->text(r.fields[2].span), "userIdentity: { arn: string, accessKeyId?: string, type: string nocase }");
}

TEST(ParserSource, TrailingCommaAndEmptyRecord) {
  auto p = parse("source s { fields { a: int, } }\nsource t { fields { } }");
  ASSERT_EQ(p->codes(), "") << p->messages();
  EXPECT_EQ(p->decl<ast::SourceDecl>(0).fields->record.fields.size(), 1u);
  EXPECT_FALSE(p->decl<ast::SourceDecl>(0).fields->record.open);
  EXPECT_TRUE(p->decl<ast::SourceDecl>(1).fields->record.fields.empty());
}

TEST(ParserSource, DuplicateClauseNamesFirst) {
  auto p = parse("source s {\n  time a\n  time b\n}");
  ASSERT_EQ(p->codes(), "BRD0008");
  const Diagnostic& d = p->diags.all()[0];
  EXPECT_EQ(p->text(d.span), "time b");
  ASSERT_EQ(d.related.size(), 1u);
  EXPECT_EQ(p->text(d.related[0].span), "time a");
  EXPECT_NE(d.message.find("`time`"), std::string::npos);
  // the first one is kept
  EXPECT_EQ(ast::dump(*p->decl<ast::SourceDecl>(0).time->expr), "a");
}

TEST(ParserSource, DuplicateLinkSide) {
  auto p = parse("source s { link t within 1m { parent when a key b parent when c key d } }");
  EXPECT_EQ(p->codes(), "BRD0008");
}

// ---------------------------------------------------------------------------------------------------------------
// Lists and macros

TEST(ParserDecl, List) {
  auto p = parse(R"(list aws.recon_prefixes = ["Describe", "List", "Get",])");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& l = p->decl<ast::ListDecl>(0);
  EXPECT_EQ(l.name.text, "aws.recon_prefixes");
  ASSERT_TRUE(l.value);
  EXPECT_EQ(ast::dump(*l.value), R"((list "Describe" "List" "Get"))");
  EXPECT_EQ(p->text(l.span), R"(list aws.recon_prefixes = ["Describe", "List", "Get",])");
}

TEST(ParserDecl, EmptyList) {
  auto p = parse("list x = []");
  ASSERT_EQ(p->codes(), "");
  EXPECT_EQ(ast::dump(*p->decl<ast::ListDecl>(0).value), "(list)");
}

TEST(ParserDecl, MacroWithParams) {
  auto p = parse("macro aws.is_admin(arn, name) = arn endswith \"/Admin\" or name == \"root\"");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& m = p->decl<ast::MacroDecl>(0);
  EXPECT_EQ(m.name.text, "aws.is_admin");
  EXPECT_TRUE(m.has_parens);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0].text, "arn");
  EXPECT_EQ(p->text(m.params[1].span), "name");
  EXPECT_EQ(ast::dump(*m.body), R"((or (endswith arn "/Admin") (== name "root")))");
}

TEST(ParserDecl, MacroWithoutParams) {
  auto p = parse("macro console_login = eventName == \"ConsoleLogin\"\nmacro empty() = true");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& m = p->decl<ast::MacroDecl>(0);
  EXPECT_FALSE(m.has_parens);
  EXPECT_TRUE(m.params.empty());
  const auto& m2 = p->decl<ast::MacroDecl>(1);
  EXPECT_TRUE(m2.has_parens);
  EXPECT_TRUE(m2.params.empty());
  EXPECT_EQ(ast::dump(*m2.body), "true");
}

TEST(ParserDecl, KeywordsAreNames) {
  // Contextual keywords work as names and fields everywhere.
  auto p = parse("macro source = message.severity == rule.title and time.source in list");
  ASSERT_EQ(p->codes(), "") << p->messages();
  EXPECT_EQ(ast::dump(*p->decl<ast::MacroDecl>(0).body),
            "(and (== message.severity rule.title) (in time.source list))");
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

constexpr const char* kRule = R"(rule aws.recon_burst {
  title "Reconnaissance burst"
  description "Many \"describe\" calls"
  severity medium
  attack T1087, T1098.003, TA0007, "T1580"
  tags "recon", "aws"
  author "Braid team"
  references "https://attack.mitre.org/techniques/T1087/"
  false_positives "inventory tools", "CSPM scanners"
  enabled false
  source aws.cloudtrail, okta.system
  message "{session.identity} made {count(recon)} calls from {session.source_ips} IPs"
  suppress 1h by session.identity, sourceIPAddress
  when eventName startswith~ any aws.recon_prefixes
})";

TEST(ParserRule, AllClauses) {
  auto p = parse(kRule);
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  EXPECT_EQ(r.name.text, "aws.recon_burst");
  ASSERT_TRUE(r.title);
  EXPECT_EQ(r.title->value.value, "Reconnaissance burst");
  EXPECT_EQ(p->text(r.title->span), "title \"Reconnaissance burst\"");
  EXPECT_EQ(p->text(r.title->value.span), "\"Reconnaissance burst\"");
  ASSERT_TRUE(r.description);
  EXPECT_EQ(r.description->value.value, "Many \"describe\" calls");
  ASSERT_TRUE(r.severity);
  EXPECT_EQ(r.severity->value.text, "medium");
  ASSERT_TRUE(r.attack);
  ASSERT_EQ(r.attack->value.size(), 4u);
  EXPECT_EQ(r.attack->value[0].text, "T1087");
  EXPECT_EQ(r.attack->value[1].text, "T1098.003");
  EXPECT_EQ(p->text(r.attack->value[1].span), "T1098.003");
  EXPECT_EQ(r.attack->value[2].text, "TA0007");
  EXPECT_EQ(r.attack->value[3].text, "T1580");
  EXPECT_TRUE(r.attack->value[3].quoted);
  EXPECT_FALSE(r.attack->value[0].quoted);
  ASSERT_TRUE(r.tags);
  ASSERT_EQ(r.tags->value.size(), 2u);
  EXPECT_EQ(r.tags->value[1].value, "aws");
  ASSERT_TRUE(r.author);
  EXPECT_EQ(r.author->value.value, "Braid team");
  ASSERT_TRUE(r.references);
  EXPECT_EQ(r.references->value[0].value, "https://attack.mitre.org/techniques/T1087/");
  ASSERT_TRUE(r.false_positives);
  EXPECT_EQ(r.false_positives->value.size(), 2u);
  ASSERT_TRUE(r.enabled);
  EXPECT_FALSE(r.enabled->value);
  ASSERT_TRUE(r.sources);
  ASSERT_EQ(r.sources->value.size(), 2u);
  EXPECT_EQ(r.sources->value[1].text, "okta.system");
  ASSERT_TRUE(r.suppress);
  EXPECT_EQ(r.suppress->window.nanos, 3600LL * 1000000000);
  ASSERT_EQ(r.suppress->keys.size(), 2u);
  EXPECT_EQ(r.suppress->keys[0]->dotted(), "session.identity");
  ASSERT_TRUE(r.when);
  EXPECT_EQ(ast::dump(*r.when->expr), "(startswith~ eventName (any aws.recon_prefixes))");
  EXPECT_EQ(r.scope(), ast::Scope::Event);
  EXPECT_TRUE(r.tests.empty());
}

TEST(ParserRule, EnabledTrueAndSuppressWithoutKeys) {
  auto p = parse("rule r { enabled true suppress 10m when a }");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  EXPECT_TRUE(r.enabled->value);
  EXPECT_TRUE(r.suppress->keys.empty());
  EXPECT_EQ(r.suppress->window.text, "10m");
}

// Computed severity (issue 11 item 5): arms in written order, `else` as one of them and as the clause's value.
TEST(ParserRule, ComputedSeverity) {
  auto p = parse(R"(rule r {
  severity {
    critical when acct in l.prod and role like "*Admin*"
    high when else == 1
    else medium
  }
  when a
})");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  ASSERT_TRUE(r.severity);
  EXPECT_TRUE(r.severity->computed);
  EXPECT_EQ(r.severity->value.text, "medium");
  ASSERT_EQ(r.severity->arms.size(), 3u);
  EXPECT_EQ(r.severity->arms[0].level.text, "critical");
  EXPECT_EQ(ast::dump(*r.severity->arms[0].when), "(and (in acct l.prod) (like role \"*Admin*\"))");
  EXPECT_EQ(p->text(r.severity->arms[0].span), "critical when acct in l.prod and role like \"*Admin*\"");
  // `else` is a contextual keyword: a field may be called `else`.
  EXPECT_EQ(ast::dump(*r.severity->arms[1].when), "(== else 1)");
  EXPECT_EQ(r.severity->arms[2].level.text, "medium");
  EXPECT_EQ(r.severity->arms[2].when, nullptr);
  // The rule's own `when` is not taken for a severity arm.
  ASSERT_TRUE(r.when);
  EXPECT_EQ(ast::dump(*r.when->expr), "a");

  // The plain form is unchanged, also right before the rule's `when`.
  auto q = parse("rule r { severity high\n when severity == \"x\" }");
  ASSERT_EQ(q->codes(), "") << q->messages();
  const auto& r2 = q->decl<ast::RuleDecl>(0);
  EXPECT_FALSE(r2.severity->computed);
  EXPECT_EQ(r2.severity->value.text, "high");
  EXPECT_EQ(ast::dump(*r2.when->expr), "(== severity \"x\")");
  // A block without `else` parses (the checker reports it, BRD0411); arms without a condition do not.
  EXPECT_EQ(parse("rule r { severity { high when a } }")->codes(), "");
  EXPECT_NE(parse("rule r { severity { high } }")->codes(), "");
  // Given twice: the usual duplicate-clause error.
  EXPECT_NE(parse("rule r { severity high  severity { high when a  else low } }")->codes(), "");
}

TEST(ParserRule, MessageTemplate) {
  auto p = parse(kRule);
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& m = *p->decl<ast::RuleDecl>(0).message;
  EXPECT_EQ(m.raw.value, "{session.identity} made {count(recon)} calls from {session.source_ips} IPs");
  ASSERT_EQ(m.parts.size(), 6u);
  ASSERT_TRUE(m.parts[0].expr);
  EXPECT_EQ(ast::dump(*m.parts[0].expr), "session.identity");
  EXPECT_EQ(p->text(m.parts[0].expr->span), "session.identity");  // spans point into the file
  EXPECT_EQ(m.parts[1].literal, " made ");
  EXPECT_FALSE(m.parts[1].expr);
  EXPECT_EQ(ast::dump(*m.parts[2].expr), "(call count recon)");
  EXPECT_EQ(p->text(m.parts[2].expr->span), "count(recon)");
  EXPECT_EQ(m.parts[3].literal, " calls from ");
  EXPECT_EQ(m.parts[5].literal, " IPs");
}

TEST(ParserRule, MessageTemplateEscapesAndStrings) {
  auto p = parse(R"(rule r { message "a \{b\} {coalesce(x, \"n/a\")}\n{ lower(y) }" })");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& m = *p->decl<ast::RuleDecl>(0).message;
  EXPECT_EQ(m.raw.value, "a {b} {coalesce(x, \"n/a\")}\n{ lower(y) }");
  ASSERT_EQ(m.parts.size(), 4u);
  EXPECT_EQ(m.parts[0].literal, "a {b} ");
  ASSERT_TRUE(m.parts[1].expr);
  EXPECT_EQ(ast::dump(*m.parts[1].expr), R"((call coalesce x "n/a"))");
  EXPECT_EQ(m.parts[2].literal, "\n");
  EXPECT_EQ(p->text(m.parts[3].expr->span), "lower(y)");
}

TEST(ParserRule, MessageTemplatePlainText) {
  auto p = parse(R"(rule r { message "no interpolation" })");
  ASSERT_EQ(p->codes(), "");
  const auto& m = *p->decl<ast::RuleDecl>(0).message;
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(m.parts[0].literal, "no interpolation");
}

TEST(ParserRule, MessageTemplateErrors) {
  EXPECT_EQ(parse(R"(rule r { message "x {a" })")->codes(), "BRD0010");
  EXPECT_EQ(parse(R"(rule r { message "x {a ==} y" })")->codes(), "BRD0010");
  EXPECT_EQ(parse(R"(rule r { message "x {} y" })")->codes(), "BRD0010");
  EXPECT_EQ(parse(R"(rule r { message "x } y" })")->codes(), "BRD0010");
  EXPECT_EQ(parse(R"(rule r { message "x {a {b}} y" })")->codes(), "BRD0010");
  // the error points into the interpolation
  auto p = parse(R"(rule r { message "x {a == } y" })");
  ASSERT_EQ(p->codes(), "BRD0010");
  uint32_t at = p->diags.all()[0].span.begin;
  EXPECT_GT(at, 20u);
  EXPECT_LT(at, 28u);
}

TEST(ParserRule, DuplicateClauses) {
  const char* clauses[] = {
      "title \"a\"", "description \"a\"", "severity low", "attack T1", "tags \"a\"", "author \"a\"",
      "references \"a\"", "false_positives \"a\"", "enabled true", "source a", "message \"a\"", "suppress 1m",
      "when a", "session { when a }",
  };
  for (const char* c : clauses) {
    std::string src = std::string("rule r {\n  ") + c + "\n  " + c + "\n}";
    auto p = parse(src);
    ASSERT_EQ(p->codes(), "BRD0008") << src << "\n" << p->messages();
    const Diagnostic& d = p->diags.all()[0];
    ASSERT_EQ(d.related.size(), 1u);
    EXPECT_EQ(p->sm.file(p->id).line_col(d.related[0].span.begin).line, 2u) << c;
    EXPECT_EQ(p->sm.file(p->id).line_col(d.span.begin).line, 3u) << c;
  }
}

TEST(ParserRule, SessionAndChainTogetherIsDuplicate) {
  auto p = parse("rule r { session { when a } chain { when b } }");
  EXPECT_EQ(p->codes(), "BRD0008");
  EXPECT_EQ(p->decl<ast::RuleDecl>(0).scope(), ast::Scope::Session);
}

TEST(ParserRule, SessionScope) {
  auto p = parse(R"(rule r {
  session {
    step recon = eventName startswith "Describe"
    step escalate = eventName in ["AttachUserPolicy", "PutUserPolicy"]
    when count(recon) >= 20 and recon -> escalate within 30m
  }
})");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  EXPECT_EQ(r.scope(), ast::Scope::Session);
  ASSERT_TRUE(r.scope_block);
  const auto& b = *r.scope_block;
  ASSERT_EQ(b.steps.size(), 2u);
  EXPECT_EQ(b.steps[0].label.text, "recon");
  EXPECT_EQ(p->text(b.steps[0].label.span), "recon");
  EXPECT_EQ(ast::dump(*b.steps[0].pred), R"((startswith eventName "Describe"))");
  EXPECT_EQ(p->text(b.steps[1].span), R"(step escalate = eventName in ["AttachUserPolicy", "PutUserPolicy"])");
  ASSERT_TRUE(b.when);
  EXPECT_EQ(ast::dump(*b.when->expr), "(and (>= (call count recon) 20) (seq recon escalate (within 30m)))");
  EXPECT_FALSE(r.when);
}

TEST(ParserRule, ChainScope) {
  auto p = parse("rule r { chain { step a = x == 1 when chain.depth > 2 and a } }");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  EXPECT_EQ(r.scope(), ast::Scope::Chain);
  EXPECT_EQ(ast::dump(*r.scope_block->when->expr), "(and (> chain.depth 2) a)");
}

TEST(ParserRule, GroupScopeWindow) {
  auto p = parse(R"(rule r {
  group by recipientAccountId, lower(awsRegion) window 1h {
    step fail = eventName == "ConsoleLogin"
    when distinct(fail.userIdentity.userName) >= 10
  }
})");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  EXPECT_EQ(r.scope(), ast::Scope::Group);
  ASSERT_TRUE(r.scope_block && r.scope_block->group);
  const auto& g = *r.scope_block->group;
  ASSERT_EQ(g.keys.size(), 2u);
  EXPECT_EQ(ast::dump(*g.keys[0]), "recipientAccountId");
  EXPECT_EQ(p->text(g.keys[1]->span), "lower(awsRegion)");
  ASSERT_TRUE(g.window);
  EXPECT_EQ(g.window->nanos, int64_t{3600} * 1000000000);
  EXPECT_FALSE(g.gap);
  EXPECT_EQ(p->text(g.span), "group by recipientAccountId, lower(awsRegion) window 1h");
  ASSERT_EQ(r.scope_block->steps.size(), 1u);
  EXPECT_EQ(ast::dump(*r.scope_block->when->expr), "(>= (call distinct fail.userIdentity.userName) 10)");
}

TEST(ParserRule, GroupScopeGapMax) {
  auto p = parse("rule r { group by sourceIPAddress gap 10m max 24h { step a = x == 1 when count(a) > 3 } }");
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& g = *p->decl<ast::RuleDecl>(0).scope_block->group;
  ASSERT_EQ(g.keys.size(), 1u);
  EXPECT_FALSE(g.window);
  ASSERT_TRUE(g.gap && g.max);
  EXPECT_EQ(g.gap->text, "10m");
  EXPECT_EQ(g.max->text, "24h");
}

TEST(ParserRule, GroupWordsStayNames) {
  // `group`, `by` and `window` are contextual: fields, keys and macro names may use them.
  auto p = parse(R"(macro group = window.by == by and group.window > 1
rule r {
  suppress 1h by group
  group by group, window, by.group window 5m { step window = group == "x" when count(window) > 1 }
})");
  ASSERT_EQ(p->codes(), "") << p->messages();
  EXPECT_EQ(ast::dump(*p->decl<ast::MacroDecl>(0).body), "(and (== window.by by) (> group.window 1))");
  const auto& r = p->decl<ast::RuleDecl>(1);
  ASSERT_TRUE(r.suppress);
  ASSERT_EQ(r.suppress->keys.size(), 1u);
  const auto& g = *r.scope_block->group;
  ASSERT_EQ(g.keys.size(), 3u);
  EXPECT_EQ(ast::dump(*g.keys[1]), "window");
  EXPECT_EQ(ast::dump(*g.keys[2]), "by.group");
  EXPECT_EQ(r.scope_block->steps[0].label.text, "window");
}

TEST(ParserRule, GroupAndSessionTogetherIsDuplicate) {
  auto p = parse("rule r { session { when a } group by x window 1h { when b } }");
  EXPECT_EQ(p->codes(), "BRD0008");
  EXPECT_NE(p->messages().find("`group` follows `session`"), std::string::npos) << p->messages();
}

TEST(ParserRule, GroupWithoutWindowIsASyntaxError) {
  auto p = parse("rule r { group by x { when b } }");
  EXPECT_NE(p->codes(), "");
}

TEST(ParserRule, ScopeWhenTwice) {
  auto p = parse("rule r { session { when a when b } }");
  EXPECT_EQ(p->codes(), "BRD0008");
}

constexpr const char* kTests = R"(rule r {
  when eventName == "X"
  test "fires once" {
    events [
      {"eventName": "X", "n": -1.5e3, "ok": true, "none": null, "list": [1, "two", false], "z": {"b": 1, "a": 2}},
      {"eventName": "Y\u00e9"}
    ]
    expect 1
  }
  test "from a file" {
    events file "data/recon.ndjson"
    expect none
  }
  test "alerts" {
    events []
    events file "more.ndjson"
    expect [{"rule": "r", "severity": "high"}]
  }
})";

TEST(ParserRule, TestBlocks) {
  auto p = parse(kTests);
  ASSERT_EQ(p->codes(), "") << p->messages();
  const auto& r = p->decl<ast::RuleDecl>(0);
  ASSERT_EQ(r.tests.size(), 3u);
  const ast::TestCase& t0 = r.tests[0];
  EXPECT_EQ(t0.name.value, "fires once");
  ASSERT_EQ(t0.events.size(), 1u);
  ASSERT_TRUE(t0.events[0].inline_events);
  EXPECT_FALSE(t0.events[0].file);
  const ast::Json& evs = *t0.events[0].inline_events;
  EXPECT_EQ(evs.kind, ast::Json::Kind::Array);
  ASSERT_EQ(evs.items.size(), 2u);
  const ast::Json& e0 = evs.items[0];
  ASSERT_EQ(e0.kind, ast::Json::Kind::Object);
  ASSERT_EQ(e0.members.size(), 6u);
  EXPECT_EQ(e0.members[0].first, "eventName");
  EXPECT_EQ(e0.members[0].second.text, "X");
  EXPECT_EQ(e0.members[1].second.kind, ast::Json::Kind::Number);
  EXPECT_EQ(e0.members[1].second.text, "-1.5e3");
  EXPECT_EQ(e0.members[2].second.kind, ast::Json::Kind::Bool);
  EXPECT_TRUE(e0.members[2].second.bool_value);
  EXPECT_EQ(e0.members[3].second.kind, ast::Json::Kind::Null);
  const ast::Json& list = e0.members[4].second;
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_EQ(list.items[0].text, "1");
  EXPECT_EQ(list.items[1].kind, ast::Json::Kind::String);
  EXPECT_FALSE(list.items[2].bool_value);
  EXPECT_EQ(list.items[2].kind, ast::Json::Kind::Bool);
  // member order is kept (not sorted)
  EXPECT_EQ(e0.members[5].second.members[0].first, "b");
  EXPECT_EQ(e0.members[5].second.members[1].first, "a");
  EXPECT_EQ(evs.items[1].members[0].second.text, "Y\xC3\xA9");
  EXPECT_EQ(p->text(evs.items[1].span), R"({"eventName": "Y\u00e9"})");
  ASSERT_TRUE(t0.expect);
  EXPECT_EQ(t0.expect->kind, ast::TestExpect::Kind::Count);
  EXPECT_EQ(t0.expect->count, 1);

  const ast::TestCase& t1 = r.tests[1];
  ASSERT_EQ(t1.events.size(), 1u);
  ASSERT_TRUE(t1.events[0].file);
  EXPECT_EQ(t1.events[0].file->value, "data/recon.ndjson");
  EXPECT_EQ(t1.expect->kind, ast::TestExpect::Kind::None);
  EXPECT_EQ(p->text(t1.expect->span), "expect none");

  const ast::TestCase& t2 = r.tests[2];
  ASSERT_EQ(t2.events.size(), 2u);
  EXPECT_TRUE(t2.events[0].inline_events->items.empty());
  ASSERT_EQ(t2.expect->kind, ast::TestExpect::Kind::Alerts);
  ASSERT_EQ(t2.expect->alerts.items.size(), 1u);
  EXPECT_EQ(t2.expect->alerts.items[0].members[1].second.text, "high");
}

TEST(ParserRule, ExpectTwice) {
  auto p = parse("rule r { test \"t\" { expect none expect 2 } }");
  EXPECT_EQ(p->codes(), "BRD0008");
}

TEST(ParserFile, ManyDeclarationsInOrder) {
  auto p = parse(std::string(kSource) + "\nlist l = [1]\nmacro m = true\n" + kRule);
  ASSERT_EQ(p->codes(), "") << p->messages();
  ASSERT_EQ(p->file.decls.size(), 4u);
  EXPECT_TRUE(std::holds_alternative<ast::SourceDecl>(p->file.decls[0]));
  EXPECT_TRUE(std::holds_alternative<ast::ListDecl>(p->file.decls[1]));
  EXPECT_TRUE(std::holds_alternative<ast::MacroDecl>(p->file.decls[2]));
  EXPECT_TRUE(std::holds_alternative<ast::RuleDecl>(p->file.decls[3]));
  EXPECT_EQ(p->file.file, p->id);
  const auto& r = p->decl<ast::RuleDecl>(3);
  EXPECT_EQ(p->text(r.span).substr(0, 20), "rule aws.recon_burst");
  EXPECT_EQ(p->text(r.span).back(), '}');
}

// ---------------------------------------------------------------------------------------------------------------
// Comments

TEST(ParserComments, KeptWithPositions) {
  std::string src =
      "// header\n"
      "rule r { /* inline */ title \"t\" // trailing\n"
      "  /* own\n     line */\n"
      "}\n"
      "\t// last";
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "") << p->messages();
  ASSERT_EQ(p->file.comments.size(), 5u);
  const auto& c = p->file.comments;
  EXPECT_EQ(c[0].text, "// header");
  EXPECT_TRUE(c[0].own_line);
  EXPECT_EQ(c[0].span.begin, 0u);
  EXPECT_EQ(c[1].text, "/* inline */");
  EXPECT_FALSE(c[1].own_line);
  EXPECT_EQ(p->text(c[1].span), "/* inline */");
  EXPECT_EQ(c[2].text, "// trailing");
  EXPECT_FALSE(c[2].own_line);
  EXPECT_EQ(c[3].text, "/* own\n     line */");
  EXPECT_TRUE(c[3].own_line);
  EXPECT_EQ(c[4].text, "// last");
  EXPECT_TRUE(c[4].own_line);
  EXPECT_EQ(c[4].span.end, src.size());
}

TEST(ParserComments, CommentsInsideExpressionsDoNotBreakThem) {
  auto p = parse("macro m = a /* x */ and // y\n b");
  ASSERT_EQ(p->codes(), "");
  EXPECT_EQ(ast::dump(*p->decl<ast::MacroDecl>(0).body), "(and a b)");
  EXPECT_EQ(p->file.comments.size(), 2u);
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions

TEST(ParserExpr, CompareOperators) {
  EXPECT_EQ(expr("a == 1"), "(== a 1)");
  EXPECT_EQ(expr("a != 1"), "(!= a 1)");
  EXPECT_EQ(expr("a < 1"), "(< a 1)");
  EXPECT_EQ(expr("a <= 1"), "(<= a 1)");
  EXPECT_EQ(expr("a > 1"), "(> a 1)");
  EXPECT_EQ(expr("a >= 1"), "(>= a 1)");
  EXPECT_EQ(expr("a ==~ \"x\""), "(==~ a \"x\")");
  EXPECT_EQ(expr("a !=~ \"x\""), "(!=~ a \"x\")");
}

// `cased` (issue 11 item 8): exact even on nocase fields; still an ordinary name everywhere else.
TEST(ParserExpr, CasedModifier) {
  EXPECT_EQ(expr("a == cased b"), "(==-cased a b)");
  EXPECT_EQ(expr("a != cased \"X\""), "(!=-cased a \"X\")");
  EXPECT_EQ(expr("a contains cased \"X\""), "(contains-cased a \"X\")");
  EXPECT_EQ(expr("a startswith cased any [\"X\"]"), "(startswith-cased a (any (list \"X\")))");
  EXPECT_EQ(expr("a in cased l.x"), "(in-cased a l.x)");
  EXPECT_EQ(expr("a not in cased [\"X\"]"), "(not-in-cased a (list \"X\"))");
  // A field named `cased`.
  EXPECT_EQ(expr("a == cased"), "(== a cased)");
  EXPECT_EQ(expr("cased == a and cased.b in [1]"), "(and (== cased a) (in cased.b (list 1)))");
  EXPECT_EQ(expr("a == cased cased"), "(==-cased a cased)");
  // Contradictions are syntax errors with a fix-it that removes `cased`.
  EXPECT_EQ(expr("a ==~ cased b"), "error: BRD0001");
  EXPECT_EQ(expr("a contains~ cased b"), "error: BRD0001");
  EXPECT_EQ(expr("a in cased cidr \"10.0.0.0/8\""), "error: BRD0001");
}

TEST(ParserExpr, CompareFields) {
  SourceManager sm;
  DiagnosticSink diags;
  FileId id = sm.add("e", "a !=~ b");
  auto e = parse_expression(sm, Span{id, 0, 7}, diags);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ast::ExprKind::Compare);
  EXPECT_EQ(e->op, ast::Op::Ne);
  EXPECT_TRUE(e->nocase);
  EXPECT_EQ(e->span.begin, 0u);
  EXPECT_EQ(e->span.end, 7u);
}

TEST(ParserExpr, StringOperators) {
  EXPECT_EQ(expr("a contains \"x\""), "(contains a \"x\")");
  EXPECT_EQ(expr("a contains~ \"x\""), "(contains~ a \"x\")");
  EXPECT_EQ(expr("a startswith \"x\""), "(startswith a \"x\")");
  EXPECT_EQ(expr("a startswith~ \"x\""), "(startswith~ a \"x\")");
  EXPECT_EQ(expr("a endswith \"x\""), "(endswith a \"x\")");
  EXPECT_EQ(expr("a endswith~ \"x\""), "(endswith~ a \"x\")");
  EXPECT_EQ(expr("a like \"x*\""), "(like a \"x*\")");
  EXPECT_EQ(expr("a like~ \"x?\""), "(like~ a \"x?\")");
  EXPECT_EQ(expr("a matches r\"^\\d+$\""), "(matches a r\"^\\\\d+$\")");
  EXPECT_EQ(expr("a matches~ \"x\""), "(matches~ a \"x\")");
  EXPECT_EQ(expr("lower(a) contains b.c"), "(contains (call lower a) b.c)");
}

TEST(ParserExpr, AnyLists) {
  EXPECT_EQ(expr("a contains any [\"x\", \"y\"]"), "(contains a (any (list \"x\" \"y\")))");
  EXPECT_EQ(expr("a like~ any aws.patterns"), "(like~ a (any aws.patterns))");
  EXPECT_EQ(expr("a endswith any l"), "(endswith a (any l))");
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = "a startswith~ any aws.p";
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->any_of);
  EXPECT_TRUE(e->nocase);
  EXPECT_EQ(e->op, ast::Op::StartsWith);
  EXPECT_EQ(e->children[1]->dotted(), "aws.p");
  EXPECT_EQ(sm.slice(e->children[1]->span), "aws.p");
  EXPECT_EQ(sm.slice(e->children[1]->head_span), "aws");
  ASSERT_EQ(e->children[1]->segs.size(), 1u);
  EXPECT_EQ(sm.slice(e->children[1]->segs[0].span), ".p");
}

TEST(ParserExpr, InForms) {
  EXPECT_EQ(expr("a in [1, 2]"), "(in a (list 1 2))");
  EXPECT_EQ(expr("a in aws.admins"), "(in a aws.admins)");
  EXPECT_EQ(expr("a not in [1]"), "(not-in a (list 1))");
  EXPECT_EQ(expr("a in~ [\"X\"]"), "(in~ a (list \"X\"))");
  EXPECT_EQ(expr("a not in~ names"), "(not-in~ a names)");
  EXPECT_EQ(expr("ip in cidr \"10.0.0.0/8\""), "(in-cidr ip \"10.0.0.0/8\")");
  EXPECT_EQ(expr("ip in cidr [\"10.0.0.0/8\", \"192.168.0.0/16\"]"),
            "(in-cidr ip (list \"10.0.0.0/8\" \"192.168.0.0/16\"))");
  EXPECT_EQ(expr("ip in cidr corp.ranges"), "(in-cidr ip corp.ranges)");
  EXPECT_EQ(expr("ip not in cidr corp.ranges"), "(not-in-cidr ip corp.ranges)");
  // `cidr` alone is a list name
  EXPECT_EQ(expr("ip in cidr"), "(in ip cidr)");
}

TEST(ParserExpr, IsNull) {
  EXPECT_EQ(expr("a.b is null"), "(is-null a.b)");
  EXPECT_EQ(expr("a.b is not null"), "(is-not-null a.b)");
  EXPECT_EQ(expr("not a is null"), "(not (is-null a))");
}

TEST(ParserExpr, BooleanStructure) {
  EXPECT_EQ(expr("a and b and c"), "(and a b c)");
  EXPECT_EQ(expr("a or b or c or d"), "(or a b c d)");
  EXPECT_EQ(expr("a or b and c or d"), "(or a (and b c) d)");
  EXPECT_EQ(expr("(a or b) and c"), "(and (or a b) c)");
  EXPECT_EQ(expr("not a and not not b"), "(and (not a) (not (not b)))");
  EXPECT_EQ(expr("not (a or b)"), "(not (or a b))");
  EXPECT_EQ(
      expr("eventName == \"X\" and userAgent startswith~ any aws.recon_prefixes"),
      "(and (== eventName \"X\") (startswith~ userAgent (any aws.recon_prefixes)))");
}

TEST(ParserExpr, FlattenedChildrenAndParens) {
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = "a and (b and c) and d";
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, ast::ExprKind::And);
  ASSERT_EQ(e->children.size(), 3u);  // the parenthesised group stays a group
  EXPECT_TRUE(e->children[1]->parenthesized);
  EXPECT_FALSE(e->children[0]->parenthesized);
  EXPECT_EQ(e->children[1]->kind, ast::ExprKind::And);
  EXPECT_EQ(sm.slice(e->children[1]->span), "(b and c)");
}

TEST(ParserExpr, ArithmeticPrecedence) {
  EXPECT_EQ(expr("a + b * c"), "(+ a (* b c))");
  EXPECT_EQ(expr("a * b + c"), "(+ (* a b) c)");
  EXPECT_EQ(expr("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(expr("a / b % c"), "(% (/ a b) c)");
  EXPECT_EQ(expr("(a + b) * c"), "(* (+ a b) c)");
  EXPECT_EQ(expr("-a * b"), "(* (neg a) b)");
  EXPECT_EQ(expr("- -a"), "(neg (neg a))");
  EXPECT_EQ(expr("a + b > c * 2"), "(> (+ a b) (* c 2))");
  EXPECT_EQ(expr("session.end - session.start >= 1h"), "(>= (- session.end session.start) 1h)");
}

TEST(ParserExpr, Paths) {
  EXPECT_EQ(expr("a.b.c"), "a.b.c");
  EXPECT_EQ(expr("requestParameters.\"in\".x"), "requestParameters.\"in\".x");
  EXPECT_EQ(expr("resources[0].ARN"), "resources[0].ARN");
  EXPECT_EQ(expr("resources[*].ARN"), "resources[*].ARN");
  EXPECT_EQ(expr("a[1][*]"), "a[1][*]");
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = "x.\"a-b\"[3][*].y";
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, ast::ExprKind::Path);
  EXPECT_EQ(e->head, "x");
  EXPECT_EQ(sm.slice(e->head_span), "x");
  ASSERT_EQ(e->segs.size(), 4u);
  EXPECT_TRUE(e->segs[0].quoted);
  EXPECT_EQ(e->segs[0].name, "a-b");
  EXPECT_EQ(e->segs[1].kind, ast::PathSeg::Kind::Index);
  EXPECT_EQ(e->segs[1].index, 3);
  EXPECT_EQ(sm.slice(e->segs[1].span), "[3]");
  EXPECT_EQ(e->segs[2].kind, ast::PathSeg::Kind::Any);
  EXPECT_EQ(e->segs[3].name, "y");
  EXPECT_EQ(sm.slice(e->segs[3].span), ".y");
  EXPECT_EQ(sm.slice(e->segs[0].span), ".\"a-b\"");
  EXPECT_EQ(e->dotted(), "");  // index segments: not a dotted name
  EXPECT_EQ(sm.slice(e->span), text);
}

TEST(ParserExpr, Calls) {
  EXPECT_EQ(expr("exists(a.b)"), "(call exists a.b)");
  EXPECT_EQ(expr("coalesce(a, b, \"c\")"), "(call coalesce a b \"c\")");
  EXPECT_EQ(expr("aws.is_admin_policy(arn)"), "(call aws.is_admin_policy arn)");
  EXPECT_EQ(expr("m()"), "(call m)");
  EXPECT_EQ(expr("replace(s, r\"\\d\", \"#\")"), "(call replace s r\"\\\\d\" \"#\")");
  EXPECT_EQ(expr("first(recon).sourceIPAddress"), "(path (call first recon) .sourceIPAddress)");
  EXPECT_EQ(expr("last(a).b[0]"), "(path (call last a) .b[0])");
  EXPECT_EQ(expr("(a).b"), "(path a .b)");
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = "first(x).f";
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, ast::ExprKind::Path);
  ASSERT_EQ(e->children.size(), 1u);
  EXPECT_EQ(e->children[0]->kind, ast::ExprKind::Call);
  EXPECT_EQ(e->children[0]->callee.text, "first");
  EXPECT_EQ(sm.slice(e->children[0]->callee.span), "first");
  EXPECT_EQ(e->dotted(), "");
  EXPECT_EQ(sm.slice(e->span), "first(x).f");
}

TEST(ParserExpr, Sequences) {
  EXPECT_EQ(expr("a -> b"), "(seq a b)");
  EXPECT_EQ(expr("a -> b -> c within 10m"), "(seq a b c (within 10m))");
  EXPECT_EQ(expr("a -> not b within 1h"), "(seq a (absent b) (within 1h))");
  EXPECT_EQ(expr("not a -> b"), "(not (seq a b))");
  EXPECT_EQ(expr("x > 1 and a -> b"), "(and (> x 1) (seq a b))");
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = "recon -> not escalate within 15m";
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, ast::ExprKind::Sequence);
  ASSERT_EQ(e->seq.size(), 2u);
  EXPECT_FALSE(e->seq[0].absent);
  EXPECT_TRUE(e->seq[1].absent);
  EXPECT_EQ(sm.slice(e->seq[1].step.span), "escalate");
  ASSERT_TRUE(e->within);
  EXPECT_EQ(e->within->nanos, 15LL * 60 * 1000000000);
  EXPECT_EQ(sm.slice(e->span), text);
}

TEST(ParserExpr, Literals) {
  EXPECT_EQ(expr("42"), "42");
  EXPECT_EQ(expr("3.25"), "3.25");
  EXPECT_EQ(expr("1e3"), "1e3");
  EXPECT_EQ(expr("2.5E-2"), "2.5E-2");
  EXPECT_EQ(expr("true"), "true");
  EXPECT_EQ(expr("false"), "false");
  EXPECT_EQ(expr("null"), "null");
  EXPECT_EQ(expr("\"a\\tb\""), "\"a\\tb\"");
  EXPECT_EQ(expr("r\"C:\\path\""), "r\"C:\\\\path\"");
  EXPECT_EQ(expr("[1, \"a\", [true]]"), "(list 1 \"a\" (list true))");
  EXPECT_EQ(expr("9223372036854775807"), "9223372036854775807");
}

ast::Literal lit(const std::string& text) {
  SourceManager sm;
  DiagnosticSink diags;
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  EXPECT_TRUE(e) << text;
  if (!e) return {};
  EXPECT_EQ(e->kind, ast::ExprKind::Literal) << text;
  return e->lit;
}

TEST(ParserExpr, LiteralValues) {
  EXPECT_EQ(lit("42").int_value, 42);
  EXPECT_EQ(lit("42").kind, ast::LitKind::Int);
  EXPECT_EQ(lit("9223372036854775807").int_value, INT64_MAX);
  EXPECT_DOUBLE_EQ(lit("3.25").float_value, 3.25);
  EXPECT_EQ(lit("3.25").kind, ast::LitKind::Float);
  EXPECT_DOUBLE_EQ(lit("1e3").float_value, 1000.0);
  EXPECT_TRUE(lit("true").bool_value);
  EXPECT_EQ(lit("false").kind, ast::LitKind::Bool);
  EXPECT_EQ(lit("null").kind, ast::LitKind::Null);
  EXPECT_EQ(lit("r\"\\d+\\.\\d+\"").text, "\\d+\\.\\d+");
  EXPECT_EQ(lit("r\"\\d+\"").kind, ast::LitKind::RawString);
  EXPECT_EQ(lit("\"x\"").kind, ast::LitKind::String);
}

TEST(ParserExpr, Durations) {
  const int64_t s = 1000000000;
  EXPECT_EQ(lit("500ms").int_value, 500LL * 1000000);
  EXPECT_EQ(lit("30s").int_value, 30 * s);
  EXPECT_EQ(lit("15m").int_value, 15 * 60 * s);
  EXPECT_EQ(lit("2h").int_value, 2 * 3600 * s);
  EXPECT_EQ(lit("7d").int_value, 7 * 86400 * s);
  EXPECT_EQ(lit("1h30m").int_value, 90 * 60 * s);
  EXPECT_EQ(lit("1d2h3m4s5ms").int_value, 86400 * s + 2 * 3600 * s + 3 * 60 * s + 4 * s + 5000000);
  EXPECT_EQ(lit("10000d").int_value, 10000LL * 86400 * s);
  EXPECT_EQ(lit("1h30m").kind, ast::LitKind::Duration);
  EXPECT_EQ(lit("1h30m").text, "1h30m");
}

TEST(ParserExpr, StringEscapes) {
  EXPECT_EQ(lit(R"("\" \\ \/ \b \f \n \r \t \{ \}")").text, "\" \\ / \b \f \n \r \t { }");
  EXPECT_EQ(lit(R"("\u0041\u00e9\u20AC")").text, "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(lit(R"("\uD83D\uDE00")").text, "\xF0\x9F\x98\x80");  // surrogate pair -> U+1F600
  EXPECT_EQ(lit("\"h\xC3\xA9llo\"").text, "h\xC3\xA9llo");      // UTF-8 passes through
}

TEST(ParserExpr, NonAsciiSpansAreBytes) {
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = "\"\xC3\xA9\xF0\x9F\x98\x80\" == name";
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 0, static_cast<uint32_t>(text.size())}, diags);
  ASSERT_TRUE(e);
  EXPECT_EQ(sm.slice(e->children[1]->span), "name");
  EXPECT_EQ(sm.slice(e->children[0]->span), "\"\xC3\xA9\xF0\x9F\x98\x80\"");
}

TEST(ParserExpr, ParseExpressionOnSubSpan) {
  SourceManager sm;
  DiagnosticSink diags;
  std::string text = "xxxx a == b yyyy";
  FileId id = sm.add("e", text);
  auto e = parse_expression(sm, Span{id, 5, 11}, diags);
  ASSERT_TRUE(e);
  EXPECT_EQ(ast::dump(*e), "(== a b)");
  EXPECT_EQ(e->span.begin, 5u);
  EXPECT_EQ(e->span.end, 11u);
  EXPECT_EQ(sm.slice(e->children[1]->span), "b");
}

TEST(ParserExpr, ParseExpressionRejectsTrailingInput) {
  EXPECT_EQ(expr("a == b c"), "error: BRD0001");
  EXPECT_EQ(expr(""), "error: BRD0001");
}

TEST(ParserExpr, DottedNames) {
  SourceManager sm;
  DiagnosticSink diags;
  FileId id = sm.add("e", "aws.recon_prefixes");
  auto e = parse_expression(sm, Span{id, 0, 18}, diags);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dotted(), "aws.recon_prefixes");
  ast::Expr lit_expr;
  EXPECT_EQ(lit_expr.dotted(), "");
}

TEST(ParserPerf, LargeRuleSetParsesCleanly) {
  std::string src;
  for (int i = 0; i < 400; ++i) {
    src += "rule r" + std::to_string(i) + " {\n  title \"t\"\n  severity high\n  source aws.cloudtrail\n"
           "  message \"{eventName} by {userIdentity.arn}\"\n"
           "  when eventName in [\"A\", \"B\"] and (userAgent startswith~ any aws.p or x.y[0] > 3 + 4 * 2)"
           " and not sourceIPAddress in cidr corp.ranges\n}\n";
  }
  auto p = parse(src);
  ASSERT_EQ(p->codes(), "") << p->messages();
  EXPECT_EQ(p->file.decls.size(), 400u);
}

}  // namespace
}  // namespace braid
