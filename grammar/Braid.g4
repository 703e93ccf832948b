// The Braid rule language. docs/language.md is the reference; this grammar is its syntax.
//
// Design notes:
// - Only the operator words (and, or, not, in, is, true, false, null) are reserved. Every other keyword is
//   contextual (see `ident`), because real log schemas use words like `source`, `severity` and `message` as
//   field names.
// - A dotted name in an expression (`recon.eventName`, `aws.recon_prefixes`, `session.identity`) is parsed as a
//   plain path; the checker decides whether it names a field, a step, a list, a macro or an attribute.
// - Comments go to a hidden channel so the formatter can put them back.
grammar Braid;

// ---------------------------------------------------------------------------------------------------------------
// Files and declarations

file        : decl* EOF ;

decl        : sourceDecl
            | typeDecl
            | listDecl
            | macroDecl
            | ruleDecl
            | tuneDecl
            | overrideDecl
            ;

// A dotted name: `aws.recon_prefixes`. After a dot a segment may be quoted, as in field paths (`a."x-y".c`), for
// names copied from other tools: `GCP.DNS.Zone.Modified."or".Deleted`, `sigma."dns-zone-deleted"`.
name        : ident ('.' nameSeg)* ;

nameSeg     : ident | STRING ;

// The name a declaration or clause introduces or refers to, outside expressions. Besides `name` it reads the
// spellings other tools use and Braid does not (`acme.dns-zone.modified`, `GCP.DNS.Zone.Modified.or.Deleted`,
// `acme.v.2`), so the AST builder can report them with the quoted spelling as a fix-it and the parse goes on
// with the next clause instead of blaming a later line.
declName    : ident (sep+=('.' | '-') declSeg)* ;

declSeg     : ident | STRING
            | (INT | FLOAT | DURATION) (INT | FLOAT | DURATION | IDENT)*
            | 'and' | 'or' | 'not' | 'in' | 'is' | 'true' | 'false' | 'null'
            ;

// ---------------------------------------------------------------------------------------------------------------
// Sources

sourceDecl  : 'source' declName '{' sourceItem* '}' ;

sourceItem  : 'recognize' expr                                         # srcRecognize
            | 'time' expr                                              # srcTime
            | 'id' expr                                                # srcId
            | 'identity' expr                                          # srcIdentity
            | 'credential' expr                                        # srcCredential
            | 'ip' expr                                                # srcIp
            | 'account' expr                                           # srcAccount
            | 'session' 'gap' duration 'max' duration                  # srcSession
            | 'lateness' duration                                      # srcLateness
            | 'mints' expr ('when' expr)?                              # srcMints
            | 'link' declName 'within' duration '{' linkSide linkSide '}'  # srcLink
            | 'fields' recordType                                      # srcFields
            ;

linkSide    : side=('parent' | 'child') 'when' expr 'key' expr ;

// Schema types: `string`, `[string]`, `{ a: int, b?: string }`, `[{ ARN: string }]`, `object` (free-form).
typeExpr    : ident                                                    # namedType
            | '[' typeExpr ']'                                         # listType
            | recordType                                               # recordTypeExpr
            ;

recordType  : '{' (fieldDecl (',' fieldDecl)* (',' ELLIPSIS)? ','?)? '}'
            | '{' ELLIPSIS '}'
            ;

// `nocase` marks a field whose values compare case-insensitively in the real world (emails, hostnames).
fieldDecl   : fieldName optional='?'? ':' typeExpr nocase='nocase'? ;

fieldName   : ident | STRING ;

// A named schema type, for documents parsed from JSON strings: `json(field, aws.iam_policy)`.
typeDecl    : 'type' declName '=' typeExpr ;

// ---------------------------------------------------------------------------------------------------------------
// Lists and macros

// `org_data` marks a list whose contents describe the user's own organisation (its accounts, regions, deployment
// roles): the shipped value is a placeholder that `override list` replaces, and `braid lint` says which rules still
// run on it.
listDecl    : 'list' declName '=' listLiteral orgData='org_data'? ;

macroDecl   : 'macro' declName ('(' (ident (',' ident)*)? ')')? '=' expr ;

// ---------------------------------------------------------------------------------------------------------------
// Rules

ruleDecl    : 'rule' declName '{' ruleItem* '}' ;

ruleItem    : 'title' STRING                                           # ruleTitle
            | 'description' STRING                                     # ruleDescription
            | 'severity' ident                                         # ruleSeverity
            | 'severity' '{' severityArm* '}'                          # ruleSeverityCase
            | 'attack' attackId (',' attackId)*                        # ruleAttack
            | 'tags' STRING (',' STRING)*                              # ruleTags
            | 'author' STRING                                          # ruleAuthor
            | 'references' STRING (',' STRING)*                        # ruleReferences
            | 'false_positives' STRING (',' STRING)*                   # ruleFalsePositives
            | 'enabled' boolLit                                        # ruleEnabled
            | 'source' declName (',' declName)*                        # ruleSource
            | 'message' STRING                                         # ruleMessage
            | 'suppress' duration ('by' expr (',' expr)*)?             # ruleSuppress
            | 'when' expr                                              # ruleWhen
            | (scope=('session' | 'chain') | groupBy) '{' scopeItem* '}' # ruleScope
            | 'test' STRING '{' testItem* '}'                          # ruleTest
            | 'org_data' declName (',' declName)*                      # ruleOrgData
            ;

// ATT&CK ids: T1098, T1098.003, TA0004; quoted ids are accepted too.
attackId    : IDENT ('.' INT)?
            | STRING
            ;

// A severity computed from the alert's context: `severity { critical when C  high when D  else medium }`. The
// first arm whose condition holds gives the level; `else` (required, last) gives it otherwise. Braces, not
// `severity high when C`: a plain `severity high` followed by the rule's own `when` clause would read as one.
severityArm : ident 'when' expr                                        # sevWhen
            | 'else' ident                                             # sevElse
            ;

// `group by K1, K2 window D` (a tumbling window) or `group by K gap G max M` (a session window): the rule's
// events grouped by any keys, with or without identity (docs/language.md, "Group scope").
groupBy     : 'group' 'by' expr (',' expr)* ('window' window=duration | 'gap' gap=duration 'max' max=duration) ;

scopeItem   : 'step' ident '=' expr                                    # scopeStep
            | 'when' expr                                              # scopeWhen
            ;

testItem    : 'events' jsonArray                                       # testEvents
            | 'events' 'file' STRING                                   # testEventsFile
            | 'expect' 'none'                                          # testExpectNone
            | 'expect' INT                                             # testExpectCount
            | 'expect' jsonArray                                       # testExpectAlerts
            ;

// ---------------------------------------------------------------------------------------------------------------
// Tuning: the user's own changes to rules and lists declared elsewhere (a shipped pack), without editing them.

// `tune aws.x.y { ... }` tunes one rule; `tune "aws.iam.*" { ... }` every rule whose id the glob matches.
tuneDecl    : 'tune' (declName | STRING) '{' tuneItem* '}' ;

tuneItem    : 'enabled' boolLit                                        # tuneEnabled
            | 'severity' ident                                         # tuneSeverity
            | 'except' 'when' expr                                     # tuneExcept
            ;

// `override list L = [...]` replaces a list's contents; `override list L += [...]` appends to them.
overrideDecl : 'override' 'list' declName op=('=' | '+=') listLiteral ;

// ---------------------------------------------------------------------------------------------------------------
// Expressions, lowest precedence first.

expr        : orExpr ;

// Entry point for a standalone expression (message-template interpolations, tests).
standaloneExpr : expr EOF ;

orExpr      : andExpr ('or' andExpr)* ;

andExpr     : notExpr ('and' notExpr)* ;

notExpr     : 'not' notExpr                                            # notNot
            | sequence                                                 # notSequence
            | predicate                                                # notPredicate
            ;

// `a -> b -> not c within 10m`: ordered steps in one session (or chain). Only step names take part.
sequence    : ident seqNext+ ('within' duration)? ;

seqNext     : '->' neg='not'? ident ;

// `cased` after an operator compares exactly even when an operand is a `nocase` field (Sigma's `|cased`):
// `actor.alternateId == cased target.alternateId`, `userName in cased acme.service_users`.
predicate   : lhs=additive
              ( compareOp cased='cased'? rhs=additive
              | strOp cased='cased'? (anyOf=anyRhs | rhs=additive)
              | negIn='not'? inOp cased='cased'? inRhs
              | 'is' negIs='not'? 'null'
              )?
            ;

compareOp   : '==' | '!=' | '<' | '<=' | '>' | '>=' | '==~' | '!=~' ;

strOp       : op=('contains' | 'startswith' | 'endswith' | 'like' | 'matches') nocase='~'? ;

anyRhs      : 'any' (listLiteral | name) ;

inOp        : 'in' nocase='~'? ;

inRhs       : 'cidr' (STRING | listLiteral | name)                     # inCidr
            | listLiteral                                              # inList
            | name                                                     # inNamed
            ;

additive    : multiplicative (op+=('+' | '-') multiplicative)* ;

multiplicative : unary (op+=('*' | '/' | '%') unary)* ;

unary       : '-' unary                                                # unaryMinus
            | postfix                                                  # unaryPostfix
            ;

postfix     : primary pathSeg* ;

primary     : literal                                                  # primLiteral
            | listLiteral                                              # primList
            | '(' expr ')'                                             # primParen
            | '(' expr (',' expr)+ ')'                                 # primTuple
            | name '(' (expr (',' expr)*)? ')'                         # primCall
            | ident                                                    # primIdent
            ;

// Path segments after the head: `.name`, `."quoted-name"`, `[0]`, `[*]`.
pathSeg     : '.' ident                                                # segField
            | '.' STRING                                               # segQuoted
            | '[' INT ']'                                              # segIndex
            | '[' '*' ']'                                              # segAny
            ;

literal     : STRING | RAW_STRING | INT | FLOAT | duration | boolLit | 'null' ;

duration    : DURATION ;

boolLit     : 'true' | 'false' ;

listLiteral : '[' (expr (',' expr)* ','?)? ']' ;

// ---------------------------------------------------------------------------------------------------------------
// JSON, for events and expected alerts inside tests.

jsonValue   : jsonObject | jsonArray | STRING | jsonNumber | 'true' | 'false' | 'null' ;

jsonObject  : '{' (jsonMember (',' jsonMember)*)? '}' ;

jsonMember  : STRING ':' jsonValue ;

jsonArray   : '[' (jsonValue (',' jsonValue)*)? ']' ;

jsonNumber  : '-'? (INT | FLOAT) ;

// ---------------------------------------------------------------------------------------------------------------
// Contextual keywords are identifiers everywhere a name is expected.

ident       : IDENT
            | 'source' | 'recognize' | 'time' | 'id' | 'identity' | 'credential' | 'session' | 'gap' | 'max'
            | 'lateness' | 'mints' | 'when' | 'link' | 'within' | 'parent' | 'child' | 'key' | 'fields'
            | 'list' | 'macro' | 'rule' | 'title' | 'description' | 'severity' | 'attack' | 'tags' | 'author'
            | 'references' | 'false_positives' | 'enabled' | 'message' | 'suppress' | 'by' | 'chain' | 'test'
            | 'step' | 'events' | 'file' | 'expect' | 'none' | 'contains' | 'startswith' | 'endswith' | 'like'
            | 'matches' | 'any' | 'cidr' | 'ip' | 'account' | 'nocase' | 'type' | 'cased' | 'else'
            | 'tune' | 'except' | 'override' | 'org_data' | 'group' | 'window'
            ;

// ---------------------------------------------------------------------------------------------------------------
// Lexer

ELLIPSIS    : '...' ;

// Durations are one or more number+unit parts: 500ms, 30s, 15m, 2h, 7d, 1h30m.
DURATION    : ([0-9]+ ('ms' | 's' | 'm' | 'h' | 'd'))+ ;

FLOAT       : [0-9]+ '.' [0-9]+ ([eE] [+-]? [0-9]+)?
            | [0-9]+ [eE] [+-]? [0-9]+
            ;

INT         : [0-9]+ ;

// Raw strings take no escapes, for regexes: r"\d+\.\d+". A raw string cannot contain a double quote.
RAW_STRING  : 'r"' ~["\r\n]* '"' ;

// Escapes are lexed loosely and validated by the parser, which can then point at the bad escape itself.
STRING      : '"' ('\\' ~[\r\n] | ~["\\\r\n])* '"' ;

// A string that runs to the end of its line: reported as "unterminated string", not as a stray quote.
UNTERMINATED_STRING : '"' ('\\' ~[\r\n] | ~["\\\r\n])* ;

UNTERMINATED_RAW_STRING : 'r"' ~["\r\n]* ;

IDENT       : [a-zA-Z_] [a-zA-Z0-9_]* ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(2) ;

BLOCK_COMMENT : '/*' .*? '*/' -> channel(2) ;

UNTERMINATED_COMMENT : '/*' (~[*] | '*'+ ~[*/])* '*'* EOF ;

WS          : [ \t\r\n]+ -> channel(HIDDEN) ;

// Anything else is one bad character; the parser reports it with its position rather than the lexer failing.
ERROR_CHAR  : . ;
