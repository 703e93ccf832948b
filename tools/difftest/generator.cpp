// The difftest generator: see generator.h. Layout: value pools; the field tables of the three sources (typed as in
// stdlib/); the rule builder (expressions per type, session/chain conditions, messages); the event builder.
#include "generator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace braid::difftest {

uint64_t case_seed(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

namespace {

using Strs = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------------------------
// Value pools, shared by rules (constants) and events (values), so that predicates hit often.

// Strings of one length that differ in one byte (at the end, or in the middle): a large `in` list of them stresses
// any perfect-hash or switch lowering of `in`.
Strs family(const std::string& head, const std::string& tail, const std::string& alphabet) {
  Strs out;
  for (char c : alphabet) out.push_back(head + c + tail);
  return out;
}

const std::map<std::string, Strs>& pools() {
  static const std::map<std::string, Strs> p = [] {
    std::map<std::string, Strs> m;
    m["aws.eventName"] = {"AssumeRole", "AssumeRoleWithSAML", "GetSessionToken", "GetCallerIdentity", "ListUsers",
                          "ListBuckets", "DescribeInstances", "GetSecretValue", "ListSecrets", "StopLogging",
                          "StartLogging", "DeleteTrail", "CreateAccessKey", "CreateUser", "AttachUserPolicy",
                          "AttachRolePolicy", "PutBucketPolicy", "ConsoleLogin", "GetObject", "PutObject",
                          "CreateLoginProfile", "UpdateTrail", "GetBucketAcl", "GetBucketAcm"};
    m["aws.eventName.family"] = family("DescribeFleet", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    for (const auto& s : family("Describe", "leetQ", "abcdefghijklmnop")) m["aws.eventName.family"].push_back(s);
    m["aws.eventSource"] = {"sts.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com",
                            "cloudtrail.amazonaws.com", "ec2.amazonaws.com", "signin.amazonaws.com",
                            "secretsmanager.amazonaws.com"};
    m["aws.region"] = {"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "us-east-2"};
    m["aws.userAgent"] = {"aws-cli/2.15.0 Python/3.11.6", "Boto3/1.34.0 Python/3.12", "pacu/1.5.2", "Mozilla/5.0",
                          "ScoutSuite/5.12", "console.amazonaws.com", "AWS Internal", "terraform/1.7.4"};
    m["aws.errorCode"] = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Throttling",
                          "NoSuchEntity"};
    m["aws.errorMessage"] = {"User is not authorized", "Rate exceeded", "The user with name x cannot be found."};
    m["aws.eventType"] = {"AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"};
    m["account"] = {"111122223333", "444455556666", "777788889999"};
    m["boolstr"] = {"true", "false"};
    m["aws.uiType"] = {"IAMUser", "AssumedRole", "Root", "SAMLUser", "AWSService"};
    m["aws.arn"] = {"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob",
                    "arn:aws:sts::111122223333:assumed-role/Admin/alice",
                    "arn:aws:sts::444455556666:assumed-role/Deploy/ci", "arn:aws:iam::111122223333:root",
                    "arn:aws:sts::777788889999:assumed-role/OrgAdmin/bob",
                    "arn:aws:sts::111122223333:assumed-role/OktaAdmin/alice@example.com"};
    m["aws.key"] = {"AKIAEXAMPLE00000001", "AKIAEXAMPLE00000002", "ASIAEXAMPLE00000001", "ASIAEXAMPLE00000002",
                    "ASIAEXAMPLE00000003", "ASIAEXAMPLE00000004", "ASIAEXAMPLE00000005", "ASIAEXAMPLE00000006"};
    m["aws.userName"] = {"alice", "bob", "ci", "alice@example.com", "Alice@Example.com", "backdoor"};
    m["aws.principalId"] = {"AIDAEXAMPLE1", "AROAEXAMPLE2:alice", "AROAEXAMPLE3:ci"};
    m["aws.invokedBy"] = {"cloudformation.amazonaws.com", "config.amazonaws.com"};
    m["aws.roleArn"] = {"arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::444455556666:role/Deploy",
                        "arn:aws:iam::777788889999:role/OrgAdmin", "arn:aws:iam::111122223333:role/OktaAdmin"};
    m["aws.category"] = {"Management", "Data"};
    m["aws.bucket"] = {"acme-logs", "acme-data", "acme-backup", "public-site"};
    m["aws.policyArn"] = {"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess",
                          "arn:aws:iam::111122223333:policy/OrgAdmin", "arn:aws:iam::111122223333:policy/superadmin"};
    m["aws.secret"] = {"prod/db", "prod/api-key", "dev/db"};
    m["aws.consoleResult"] = {"Success", "Failure"};
    m["yesno"] = {"Yes", "No"};
    m["aws.resourceArn"] = {"arn:aws:iam::111122223333:role/Admin", "arn:aws:s3:::acme-data",
                            "arn:aws:s3:::acme-logs/2024/", "arn:aws:iam::444455556666:user/ci"};
    m["iam.action"] = {"sts:AssumeRole", "s3:GetObject", "s3:PutObject", "iam:*", "*", "s3:*",
                       "sts:AssumeRoleWithWebIdentity"};
    m["iam.prefix"] = {"s3:", "sts:", "iam:", "S3:"};
    m["aws.principal"] = {"arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root", "444455556666",
                          "arn:aws:iam::777788889999:role/Deploy", "*", "arn:aws:sts::111122223333:assumed-role/Admin/x"};
    m["aws.resourceType"] = {"AWS::IAM::Role", "AWS::S3::Bucket", "AWS::IAM::User", "AWS::S3::Object"};
    m["ip"] = {"198.51.100.7", "203.0.113.9", "10.0.0.5", "192.168.1.20", "172.16.5.4", "2001:db8::1",
               "2001:db8:10::7", "::ffff:10.0.0.5", "0.0.0.0", "AWS Internal", "cloudformation.amazonaws.com"};
    m["ip.valid"] = {"198.51.100.7", "203.0.113.9", "10.0.0.5", "192.168.1.20", "172.16.5.4", "2001:db8::1",
                     "2001:db8:10::7", "::ffff:10.0.0.5", "0.0.0.0", "10.0.0.6", "2001:0db8:0000::1", "::1"};
    m["cidr"] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.51.100.0/24", "203.0.113.9",
                 "2001:db8::/32", "2001:db8:10::/48", "::/0", "0.0.0.0/0", "::ffff:0:0/96", "10.0.0.5/32"};
    m["int"] = {"0", "1", "3600", "900", "-1", "43200", "9223372036854775807", "-9223372036854775808", "7"};
    m["smallint"] = {"0", "1", "2", "3", "5"};
    m["asn"] = {"13335", "16509", "7922", "0", "-1", "9223372036854775807"};
    m["lat"] = {"40.7128", "-33.8688", "0.0", "51.5", "1e2"};
    m["lon"] = {"-74.006", "151.2093", "0.0", "-0.1276", "180.0"};
    m["okta.eventType"] = {"user.session.start", "user.authentication.sso", "user.mfa.factor.reset_all",
                           "user.account.privilege.grant", "policy.rule.update", "user.session.impersonation.initiate",
                           "user.authentication.auth_via_mfa", "system.api_token.create",
                           "user.account.reset_password", "group.privilege.grant", "user.mfa.factor.deactivate"};
    m["okta.eventType.family"] = family("user.fleet.", "x", "abcdefghijklmnopqrstuvwx");
    m["okta.severity"] = {"INFO", "WARN", "ERROR", "DEBUG"};
    m["okta.displayMessage"] = {"User login to Okta", "User single sign on to app", "Reset all factors for user"};
    m["okta.actorId"] = {"00u1alice", "00u2bob", "00u3carol", "0oa9system"};
    m["okta.actorType"] = {"User", "SystemPrincipal", "PublicClientApp"};
    m["okta.user"] = {"alice@example.com", "Alice@Example.com", "bob@example.com", "carol@example.org",
                      "admin@example.com", "\xc3\x84lice@example.com"};
    m["okta.displayName"] = {"Alice Liddell", "Bob", "Okta System"};
    m["okta.result"] = {"SUCCESS", "FAILURE", "DENY", "CHALLENGE", "success"};
    m["okta.reason"] = {"INVALID_CREDENTIALS", "VERIFICATION_ERROR", "User is not assigned"};
    m["okta.sid"] = {"idxS1", "idxS2", "idxS3", "idxS4", "102S5", "102S6"};
    m["okta.ua"] = {"Mozilla/5.0 (Windows NT 10.0)", "python-requests/2.31", "curl/8.4.0", "okhttp/4.9"};
    m["okta.country"] = {"United States", "Australia", "Germany", "Russia"};
    m["okta.city"] = {"New York", "Sydney", "Berlin", "M\xc3\xbcnchen"};
    m["okta.asOrg"] = {"cloudflare", "amazon", "digitalocean"};
    m["okta.app"] = {"AWS Account Federation", "Salesforce", "aws sso", "Okta Admin Console", "Slack"};
    m["okta.targetType"] = {"AppInstance", "User", "Group", "PolicyRule"};
    m["okta.behaviors"] = {"{New Device=POSITIVE, New Country=NEGATIVE}", "{New Device=NEGATIVE}",
                           "{New City=POSITIVE, New State=POSITIVE}"};
    m["okta.risk"] = {"{level=LOW}", "{level=HIGH}", "{reasons=Anomalous Location, level=MEDIUM}"};
    m["gh.action"] = {"git.clone", "repo.create", "org.add_member", "protected_branch.destroy",
                      "secret_scanning.disable", "repo.make_public", "personal_access_token.request_created",
                      "repo.download_zip", "git.fetch", "org.update_member"};
    m["gh.action.family"] = family("repo.fleet_", "", "abcdefghijklmnopqrst");
    m["gh.actor"] = {"octocat", "Octocat", "mona", "dependabot[bot]", "alice"};
    m["gh.org"] = {"acme", "Acme", "evil-corp"};
    m["gh.repo"] = {"acme/api", "acme/web", "ACME/api", "evil-corp/loot"};
    m["gh.visibility"] = {"private", "public", "internal"};
    m["gh.ua"] = {"git/2.43.0", "trufflehog/3.63", "Mozilla/5.0", "go-http-client/1.1"};
    m["gh.pat"] = {"personal_access_token", "oauth_access", "github_app"};
    m["gh.token"] = {"tok1+abc=", "tok2+def=", "tok3+ghi=", "TOK1+abc="};
    m["gh.op"] = {"access", "create", "modify", "remove"};
    m["gh.scopes"] = {"repo", "repo,workflow", "admin:org"};
    m["gh.reason"] = {"mirror", "backup", "Mirror"};
    m["unicode"] = {"\xc3\xa9v\xc3\xa9nement", "\xe2\x9c\x93", "\xf0\x9f\x98\x80", "\xc4\xb1", "\xef\xac\x80"};
    return m;
  }();
  return p;
}

const Strs& pool(const std::string& name) { return pools().at(name); }

bool has_pool(const std::string& name) { return pools().count(name) != 0; }

// ---------------------------------------------------------------------------------------------------------------
// Sources: the fields the rules read, typed as in stdlib/ (a mismatch here is a generator bug that braid check
// reports at once).

enum class T { Str, Int, Float, Bool, Time, Ip, Obj };

struct Field {
  std::string path;
  T type;
  std::string pool;     // value pool ("" for none)
  bool multi = false;   // the path has [*]: predicates only (not in aggregates, arithmetic or builtins)
};

struct Src {
  std::string name;
  std::string disc;         // the discriminator field (eventName, eventType, action)
  std::string disc_pool;
  std::vector<Field> fields;
};

const std::vector<Src>& sources() {
  static const std::vector<Src> s = {
      {"aws.cloudtrail",
       "eventName",
       "aws.eventName",
       {
           {"eventName", T::Str, "aws.eventName"},
           {"eventSource", T::Str, "aws.eventSource"},
           {"awsRegion", T::Str, "aws.region"},
           {"userAgent", T::Str, "aws.userAgent"},
           {"errorCode", T::Str, "aws.errorCode"},
           {"errorMessage", T::Str, "aws.errorMessage"},
           {"eventType", T::Str, "aws.eventType"},
           {"recipientAccountId", T::Str, "account"},
           {"sessionCredentialFromConsole", T::Str, "boolstr"},
           {"userIdentity.type", T::Str, "aws.uiType"},
           {"userIdentity.arn", T::Str, "aws.arn"},
           {"userIdentity.accountId", T::Str, "account"},
           {"userIdentity.accessKeyId", T::Str, "aws.key"},
           {"userIdentity.userName", T::Str, "aws.userName"},
           {"userIdentity.principalId", T::Str, "aws.principalId"},
           {"userIdentity.invokedBy", T::Str, "aws.invokedBy"},
           {"userIdentity.sessionContext.attributes.mfaAuthenticated", T::Str, "boolstr"},
           {"userIdentity.sessionContext.sessionIssuer.arn", T::Str, "aws.roleArn"},
           {"eventCategory", T::Str, "aws.category"},
           {"sourceIPAddress", T::Ip, "ip"},
           {"readOnly", T::Bool, ""},
           {"managementEvent", T::Bool, ""},
           {"eventTime", T::Time, ""},
           {"userIdentity.sessionContext.attributes.creationDate", T::Time, ""},
           {"requestParameters.roleArn", T::Obj, "aws.roleArn"},
           {"requestParameters.bucketName", T::Obj, "aws.bucket"},
           {"requestParameters.policyArn", T::Obj, "aws.policyArn"},
           {"requestParameters.userName", T::Obj, "aws.userName"},
           {"requestParameters.secretId", T::Obj, "aws.secret"},
           {"requestParameters.durationSeconds", T::Obj, "int"},
           {"responseElements.ConsoleLogin", T::Obj, "aws.consoleResult"},
           {"responseElements.credentials.accessKeyId", T::Obj, "aws.key"},
           {"additionalEventData.MFAUsed", T::Obj, "yesno"},
           {"requestParameters.ipPermissions.items[*].ipRanges.items[*].cidrIp", T::Obj, "cidr", true},
           {"resources[*].ARN", T::Str, "aws.resourceArn", true},
           {"resources[*].type", T::Str, "aws.resourceType", true},
           {"resources[*].accountId", T::Str, "account", true},
           {"resources[0].ARN", T::Str, "aws.resourceArn"},
       }},
      {"okta.system",
       "eventType",
       "okta.eventType",
       {
           {"eventType", T::Str, "okta.eventType"},
           {"severity", T::Str, "okta.severity"},
           {"displayMessage", T::Str, "okta.displayMessage"},
           {"actor.id", T::Str, "okta.actorId"},
           {"actor.type", T::Str, "okta.actorType"},
           {"actor.alternateId", T::Str, "okta.user"},  // nocase in the schema
           {"actor.displayName", T::Str, "okta.displayName"},
           {"outcome.result", T::Str, "okta.result"},
           {"outcome.reason", T::Str, "okta.reason"},
           {"authenticationContext.externalSessionId", T::Str, "okta.sid"},
           {"client.userAgent.rawUserAgent", T::Str, "okta.ua"},
           {"client.geographicalContext.country", T::Str, "okta.country"},
           {"client.geographicalContext.city", T::Str, "okta.city"},
           {"securityContext.asOrg", T::Str, "okta.asOrg"},
           {"client.ipAddress", T::Ip, "ip"},
           {"authenticationContext.authenticationStep", T::Int, "smallint"},
           {"securityContext.asNumber", T::Int, "asn"},
           {"client.geographicalContext.geolocation.lat", T::Float, "lat"},
           {"client.geographicalContext.geolocation.lon", T::Float, "lon"},
           {"securityContext.isProxy", T::Bool, ""},
           {"published", T::Time, ""},
           {"target[*].displayName", T::Str, "okta.app", true},
           {"target[*].alternateId", T::Str, "okta.user", true},
           {"target[*].type", T::Str, "okta.targetType", true},
           {"request.ipChain[*].ip", T::Ip, "ip", true},
           {"target[0].alternateId", T::Str, "okta.user"},
           {"debugContext.debugData.behaviors", T::Obj, "okta.behaviors"},
           {"debugContext.debugData.risk", T::Obj, "okta.risk"},
       }},
      {"github.audit",
       "action",
       "gh.action",
       {
           {"action", T::Str, "gh.action"},
           {"actor", T::Str, "gh.actor"},  // nocase
           {"org", T::Str, "gh.org"},      // nocase
           {"repo", T::Str, "gh.repo"},    // nocase
           {"visibility", T::Str, "gh.visibility"},
           {"user_agent", T::Str, "gh.ua"},
           {"programmatic_access_type", T::Str, "gh.pat"},
           {"hashed_token", T::Str, "gh.token"},
           {"operation_type", T::Str, "gh.op"},
           {"token_scopes", T::Str, "gh.scopes"},
           {"actor_id", T::Int, "smallint"},
           {"repo_id", T::Int, "int"},
           {"actor_ip", T::Ip, "ip"},
           {"actor_is_bot", T::Bool, ""},
           {"public_repo", T::Bool, ""},
           {"created_at", T::Time, ""},
           // The record is open (`...`): undeclared members read as `object`.
           {"data.hook_id", T::Obj, "int"},
           {"data.reason", T::Obj, "gh.reason"},
       }},
  };
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Text helpers (UTF-8 aware where they cut: a cut never splits a multi-byte character).

bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

std::string quote(const std::string& s) {  // a Braid (and JSON) string literal
  std::string o = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"') o += "\\\"";
    else if (c == '\\') o += "\\\\";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else o += ch;
  }
  return o + "\"";
}

// Start offsets of the UTF-8 characters of s, plus s.size().
std::vector<size_t> char_starts(const std::string& s) {
  std::vector<size_t> v;
  for (size_t i = 0; i < s.size(); ++i)
    if (!is_cont(static_cast<unsigned char>(s[i]))) v.push_back(i);
  v.push_back(s.size());
  return v;
}

std::string substring(Rng& r, const std::string& s) {
  auto cs = char_starts(s);
  if (cs.size() < 2) return s;
  size_t n = cs.size() - 1;
  size_t a = r.below(n), b = a + 1 + r.below(n - a);
  return s.substr(cs[a], cs[b] - cs[a]);
}
std::string prefix(Rng& r, const std::string& s) {
  auto cs = char_starts(s);
  if (cs.size() < 2) return s;
  return s.substr(0, cs[1 + r.below(cs.size() - 1)]);
}
std::string suffix(Rng& r, const std::string& s) {
  auto cs = char_starts(s);
  if (cs.size() < 2) return s;
  return s.substr(cs[r.below(cs.size() - 1)]);
}

std::string ascii_case(const std::string& s, int mode) {  // 0 lower, 1 upper, 2 swap
  std::string o = s;
  for (char& c : o) {
    bool lo = c >= 'a' && c <= 'z', up = c >= 'A' && c <= 'Z';
    if ((mode == 0 || mode == 2) && up) c = static_cast<char>(c - 'A' + 'a');
    else if ((mode == 1 || mode == 2) && lo) c = static_cast<char>(c - 'a' + 'A');
  }
  return o;
}

// A near miss of v: a case variant, a prefix, a one-byte change, a trailing space, a non-ASCII variant.
std::string near_miss(Rng& r, const std::string& v) {
  switch (r.below(7)) {
    case 0: return ascii_case(v, static_cast<int>(r.below(3)));
    case 1: return prefix(r, v);
    case 2: {
      std::string o = v;
      std::vector<size_t> ascii;
      for (size_t i = 0; i < o.size(); ++i)
        if (static_cast<unsigned char>(o[i]) < 0x80) ascii.push_back(i);
      if (ascii.empty()) return o + "x";
      size_t i = r.pick(ascii);
      o[i] = o[i] == 'z' ? 'y' : (o[i] == '9' ? '8' : static_cast<char>(o[i] + 1));
      return o;
    }
    case 3: return v + " ";
    case 4: {  // a non-ASCII first letter
      auto cs = char_starts(v);
      return "\xc3\x84" + v.substr(cs.size() > 1 ? cs[1] : 0);
    }
    case 5: return v + v.substr(0, char_starts(v).size() > 1 ? char_starts(v)[1] : 0);
    default: return "";
  }
}

std::string regex_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) o += '\\';
    o += c;
  }
  return o;
}

std::string glob_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// The rule builder.

struct Step {
  std::string label;
  const Src* src;
};

// Step predicates of earlier rules of a case that need no declarations of their own (they can be copied into
// another rule file as they are), by source name.
struct StepBank {
  std::vector<std::pair<std::string, std::string>> steps;  // (source name, predicate text)
};

class RuleBuilder {
 public:
  RuleBuilder(Rng& r, std::string id, StepBank* bank = nullptr, bool json_docs = false, bool groups = false)
      : r_(r), id_(std::move(id)), bank_(bank), json_(json_docs), groups_(groups) {}

  std::string build();
  // An event rule over CloudTrail whose condition needs a literal in `field` (its pool: `pool`): --prefilter.
  std::string literal_rule(const std::string& field, const std::string& pool);

 private:
  // Constants.
  std::string str_value(const std::string& pool_name) {
    const Strs& p = pool(pool_name);
    std::string v = r_.pick(p);
    if (has_pool(pool_name + ".family") && r_.chance(300)) v = r_.pick(pool(pool_name + ".family"));
    if (r_.chance(150)) v = near_miss(r_, v);
    if (r_.chance(20)) v = r_.pick(pool("unicode"));
    return v;
  }
  std::string str_const(const std::string& pool_name) { return quote(str_value(pool_name)); }
  std::string int_const(const Field& f) {
    if (!f.pool.empty() && r_.chance(700)) {
      std::string v = r_.pick(pool(f.pool));
      if (v == "-9223372036854775808") return "-9223372036854775807";  // no literal for INT64_MIN
      return v;
    }
    return std::to_string(r_.range(-3, 20));
  }
  std::string float_const() {
    static const Strs fl = {"40.5", "-33.0", "0.0", "51.5", "100.25", "1e2", "-0.5", "180.0", "3.25e1"};
    return r_.pick(fl);
  }
  std::string duration() {
    static const Strs d = {"500ms", "30s", "1m", "2m", "5m", "10m", "15m", "30m", "1h", "1h30m", "2h", "12h", "1d"};
    return r_.pick(d);
  }
  std::string list_name() { return id_ + ".l" + std::to_string(nlists_++); }
  // A list literal or (sometimes) a named list declared in this rule's file.
  std::string str_list(const std::string& pool_name, bool large) {
    Strs items;
    size_t n = large ? 17 + r_.below(24) : 1 + r_.below(5);
    const std::string fam = pool_name + ".family";
    for (size_t i = 0; i < n; ++i) {
      if (large && has_pool(fam) && r_.chance(700)) items.push_back(quote(r_.pick(pool(fam))));
      else items.push_back(str_const(pool_name));
    }
    return maybe_named(items);
  }
  std::string maybe_named(const Strs& items) {
    std::string lit = "[";
    for (size_t i = 0; i < items.size(); ++i) lit += (i ? ", " : "") + items[i];
    lit += "]";
    if (!r_.chance(200)) return lit;
    std::string name = list_name();
    decls_.push_back("list " + name + " = " + lit);
    return name;
  }
  // `in` on an `ip` field: every constant must be an address (BRD0213). Near misses stay addresses.
  std::string ip_list(bool large) {
    Strs items;
    size_t n = large ? 17 + r_.below(16) : 1 + r_.below(5);
    for (size_t i = 0; i < n; ++i) {
      std::string v = r_.pick(pool("ip.valid"));
      if (r_.chance(200)) v = large ? "10.0.0." + std::to_string(r_.below(40)) : ascii_case(v, 1);
      items.push_back(quote(v));
    }
    return maybe_named(items);
  }
  std::string cidr_rhs() {
    switch (r_.below(3)) {
      case 0: return quote(r_.pick(pool("cidr")));
      default: {
        Strs items;
        size_t n = 1 + r_.below(4);
        for (size_t i = 0; i < n; ++i) items.push_back(quote(r_.pick(pool("cidr"))));
        return maybe_named(items);
      }
    }
  }

  // A glob derived from v, so that it can match: some characters become `?`, some runs `*`, the rest escaped.
  std::string glob(const std::string& v) {
    std::string g;
    auto cs = char_starts(v);
    for (size_t i = 0; i + 1 < cs.size(); ++i) {
      std::string ch = v.substr(cs[i], cs[i + 1] - cs[i]);
      unsigned k = static_cast<unsigned>(r_.below(10));
      if (k == 0) g += "?";
      else if (k == 1) {
        g += "*";
        i += r_.below(3);
      } else g += glob_escape(ch);
    }
    if (r_.chance(200)) g = "*" + g;
    return g;
  }

  // A string operator and a constant derived from a pool value, so that it can hit.
  std::string strop_rhs(const std::string& pool_name, std::string& op) {
    static const Strs ops = {"contains", "startswith", "endswith", "like", "matches"};
    op = r_.pick(ops);
    std::string v = str_value(pool_name);
    std::string rhs;
    if (op == "contains") rhs = quote(substring(r_, v));
    else if (op == "startswith") rhs = quote(prefix(r_, v));
    else if (op == "endswith") rhs = quote(suffix(r_, v));
    else if (op == "like") rhs = quote(glob(v));
    else {  // matches: a raw-string RE2 pattern
      std::string re;
      switch (r_.below(5)) {
        case 0: re = "^" + regex_escape(prefix(r_, v)); break;
        case 1: re = regex_escape(suffix(r_, v)) + "$"; break;
        case 2: re = "(" + regex_escape(substring(r_, v)) + "|" + regex_escape(str_value(pool_name)) + ")"; break;
        case 3: re = "^[A-Za-z]+" + regex_escape(suffix(r_, v)); break;
        default: re = regex_escape(substring(r_, v)) + ".*\\d"; break;
      }
      rhs = "r\"" + re + "\"";
    }
    if (r_.chance(350)) op += "~";
    return rhs;
  }

  std::string null_test(const std::string& f) {
    switch (r_.below(4)) {
      case 0: return f + " is null";
      case 1: return f + " is not null";
      case 2: return "exists(" + f + ")";
      default: return "not exists(" + f + ")";
    }
  }
  std::string cmp_eq() {
    static const Strs ops = {"==", "!=", "==~", "!=~"};
    return r_.pick(ops);
  }
  // --edition2: sometimes `op cased`, exact even on the nocase fields (okta actor, GitHub actor/org/repo). Draws
  // nothing without --edition2, so the first edition's seeds keep their bytes.
  std::string cased(std::string op) {
    if (!json_ || op.find('~') != std::string::npos || !r_.chance(250)) return op;
    return op + " cased";
  }
  std::string cmp_ord() {
    static const Strs ops = {"<", "<=", ">", ">="};
    return r_.pick(ops);
  }
  std::string cmp_any() {
    static const Strs ops = {"==", "!=", "<", "<=", ">", ">="};
    return r_.pick(ops);
  }
  std::string in_op() {
    static const Strs ops = {"in", "not in", "in~", "not in~"};
    return r_.pick(ops);
  }

  const Field& pick_field(const Src& s, bool allow_multi) {
    for (;;) {
      const Field& f = r_.pick(s.fields);
      if (allow_multi || !f.multi) return f;
    }
  }
  const Field* other_field(const Src& s, T t, const Field& not_this) {
    std::vector<const Field*> c;
    for (const auto& f : s.fields)
      if (f.type == t && !f.multi && f.path != not_this.path) c.push_back(&f);
    return c.empty() ? nullptr : c[r_.below(c.size())];
  }

  std::string stringy_atom(const Src& s, const Field& f);
  std::string atom(const Src& s, bool session_attrs);
  std::string pred(const Src& s, int depth, bool session_attrs);
  std::string discriminated(const Src& s, int depth, bool session_attrs);
  std::string macro_use(const Src& s);
  std::string int_expr(const std::string& f);
  std::string json_atom();
  std::string tuple_atom(const Src& s);
  std::string concat_atom();
  std::string session_attr_pred();
  std::string agg_atom(const std::vector<Step>& steps, bool chain);
  std::string scope_when(const std::vector<Step>& steps, bool chain, int depth);
  std::string severity_clause(const std::string& level, const Src& src, const std::vector<Step>& steps, int scope);
  std::string sequence(const std::vector<Step>& steps);
  std::string message(const std::vector<const Src*>& srcs, const std::vector<Step>& steps, int scope);
  std::string step_value(const Step& st, T& type, std::string& pool_name);
  std::string group_head(const Src& s);

  Rng& r_;
  std::string id_;
  Strs decls_;
  StepBank* bank_ = nullptr;
  bool json_ = false;  // also paths into JSON documents in strings (json(...), any(...), all(...))
  bool groups_ = false;  // also `group by` rules (scope 3)
  bool no_attrs_ = false;  // building a group rule: no session.* or chain.* anywhere
  int nlists_ = 0, nmacros_ = 0;
};

std::string RuleBuilder::int_expr(const std::string& f) {
  std::string k = std::to_string(r_.range(-2, 9));
  switch (r_.below(7)) {
    case 0: return f + " + " + k;
    case 1: return f + " - " + k;
    case 2: return f + " * " + k;
    case 3: return f + " / " + k;  // k may be 0: null
    case 4: return f + " % " + k;
    case 5: return "-" + f;
    default: return f;
  }
}

std::string RuleBuilder::stringy_atom(const Src& s, const Field& f) {
  const std::string& p = f.pool.empty() ? std::string("aws.userName") : f.pool;
  const bool ipish = p == "ip" || p == "cidr";
  unsigned k = static_cast<unsigned>(r_.below(f.multi ? 7 : 12));
  if (ipish && r_.chance(350)) k = 100;  // in cidr
  switch (k) {
    case 0: return f.path + " " + cased(f.type == T::Ip ? std::string(r_.chance(500) ? "==" : "!=") : cmp_eq()) +
                   " " + str_const(p);
    case 1: {
      std::string op;
      std::string rhs = strop_rhs(p, op);
      return f.path + " " + cased(op) + " " + rhs;
    }
    case 2: {
      std::string op;
      Strs items;
      size_t n = 1 + r_.below(4);
      for (size_t i = 0; i < n; ++i) items.push_back(strop_rhs(p, op));
      // One operator for the whole list: take the last one, and keep only constants valid for it (a raw regex
      // is valid only for matches).
      bool is_re = op.rfind("matches", 0) == 0;
      Strs keep;
      for (auto& it : items)
        if ((it[0] == 'r') == is_re) keep.push_back(it);
      if (keep.empty()) keep.push_back(is_re ? "r\"x\"" : quote("x"));
      return f.path + " " + cased(op) + " any " + maybe_named(keep);
    }
    case 3: return f.path + " " + cased(in_op()) + " " + (f.type == T::Ip ? ip_list(false) : str_list(p, false));
    case 4: return f.path + " " + cased(in_op()) + " " + (f.type == T::Ip ? ip_list(true) : str_list(p, true));
    case 5: return null_test(f.path);
    // Ordered comparisons: strings only (the checker refuses `ip < string` and orders objects only at run time).
    case 6: return f.type != T::Str ? f.path + " == " + str_const(p) : f.path + " " + cmp_ord() + " " + str_const(p);
    case 7: {
      bool lo = r_.chance(500);
      std::string v = str_value(p);
      if (r_.chance(700)) v = ascii_case(v, lo ? 0 : 1);
      std::string fn = std::string(lo ? "lower(" : "upper(") + f.path + ")";
      if (r_.chance(500)) return fn + " " + cmp_eq() + " " + quote(v);
      return fn + " " + (r_.chance(500) ? "startswith " : "contains ") + quote(prefix(r_, v));
    }
    case 8: return "len(" + f.path + ") " + cmp_any() + " " + std::to_string(r_.range(0, 40));
    case 9: {
      const Field* g = other_field(s, f.type, f);
      std::string second = g ? g->path : quote("none");
      if (g && r_.chance(300)) second += ", " + quote("none");
      return "coalesce(" + f.path + ", " + second + ") " + (f.type == T::Str ? cmp_eq() : std::string("==")) + " " +
             str_const(p);
    }
    case 10: {
      std::string v = str_value(p);
      std::string re = regex_escape(substring(r_, v));
      std::string by = r_.chance(500) ? "" : "X";
      if (r_.chance(300)) {
        re = "^(" + re + ")";
        by = "<\\\\1>";
      }
      return "replace(" + f.path + ", r\"" + re + "\", \"" + by + "\") " +
             (r_.chance(500) ? std::string("==") : std::string("contains")) + " " + str_const(p);
    }
    case 11: return f.path + " " + std::string(r_.chance(500) ? "==~" : "!=~") + " " + str_const(p);
    default:
      return f.path + (r_.chance(300) ? " not in cidr " : " in cidr ") + cidr_rhs();
  }
}

std::string RuleBuilder::session_attr_pred() {
  switch (r_.below(8)) {
    case 0: return "session.events " + cmp_any() + " " + std::to_string(r_.range(1, 6));
    case 1: return "session.source_ips >= " + std::to_string(r_.range(1, 3));
    case 2: return "session.duration " + cmp_any() + " " + duration();
    case 3: return "session.identity contains " + quote(r_.chance(500) ? "alice" : "role/");
    case 4: return "session.credential startswith " + quote(r_.chance(500) ? "ASIA" : "idx");
    case 5: return null_test("session.credential");
    case 6: return "session.end - session.start " + cmp_any() + " " + duration();
    default: return "session.id is not null";
  }
}

std::string RuleBuilder::atom(const Src& s, bool session_attrs) {
  if (session_attrs && r_.chance(70)) return session_attr_pred();
  if (json_ && s.name == "aws.cloudtrail" && r_.chance(150)) return r_.chance(700) ? json_atom() : concat_atom();
  if (json_ && r_.chance(80)) return tuple_atom(s);
  if (r_.chance(50)) return macro_use(s);
  const Field& f = pick_field(s, true);
  switch (f.type) {
    case T::Str:
    case T::Ip:
      return stringy_atom(s, f);
    case T::Obj:
      if (f.pool == "int" && !f.multi) {
        // A number inside an object payload (sometimes a numeric string): compared at run time.
        if (r_.chance(500)) return f.path + " " + cmp_any() + " " + int_const(f);
        return f.path + (r_.chance(500) ? " == " : " != ") + quote(r_.pick(pool("int")));
      }
      return stringy_atom(s, f);
    case T::Int:
      switch (r_.below(5)) {
        case 0: return null_test(f.path);
        case 1: {
          Strs items;
          size_t n = 1 + r_.below(r_.chance(200) ? 30 : 4);
          for (size_t i = 0; i < n; ++i) items.push_back(r_.chance(100) ? "2.0" : int_const(f));
          return f.path + (r_.chance(500) ? " in " : " not in ") + maybe_named(items);
        }
        case 2: return "coalesce(" + f.path + ", " + int_const(f) + ") " + cmp_any() + " " + int_const(f);
        default: return int_expr(f.path) + " " + cmp_any() + " " + int_const(f);
      }
    case T::Float:
      switch (r_.below(4)) {
        case 0: return null_test(f.path);
        case 1: return f.path + " * 2 " + cmp_any() + " " + float_const();
        case 2: return f.path + " - " + std::to_string(r_.range(0, 9)) + " " + cmp_any() + " " + float_const();
        default: return f.path + " " + cmp_any() + " " + (r_.chance(300) ? std::to_string(r_.range(-40, 60))
                                                                          : float_const());
      }
    case T::Bool:
      switch (r_.below(6)) {
        case 0: return f.path;
        case 1: return "not " + f.path;
        case 2: return f.path + " == true";
        case 3: return f.path + " != false";
        case 4: return f.path + " == false";
        default: return null_test(f.path);
      }
    case T::Time: {
      const Field* g = other_field(s, T::Time, f);
      if (g && r_.chance(600)) return f.path + " - " + g->path + " " + cmp_any() + " " + duration();
      if (r_.chance(300)) return f.path + " - " + f.path + " == 0s";
      return null_test(f.path);
    }
  }
  return "true";
}

// A predicate on an IAM policy document held as text by the event (EventBuilder::policy_text): typed or free-form
// paths, one-or-many lists, `[N]`, null tests, and the element-scoped any()/all().
std::string RuleBuilder::json_atom() {
  static const Strs bases = {"requestParameters.policyDocument", "requestParameters.assumeRolePolicyDocument"};
  const std::string& base = r_.pick(bases);
  std::string doc = r_.chance(800) ? "json(" + base + ", aws.iam_policy)" : "json(" + base + ")";
  std::string p = doc + ".Statement[*].Principal.AWS[*]", a = doc + ".Statement[*].Action[*]";
  std::string op;
  switch (r_.below(17)) {
    case 0: return doc + ".Statement[*].Effect " + cmp_eq() + " " + quote(r_.chance(600) ? "Allow" : "Deny");
    case 1: return doc + ".Statement[0].Effect " + cmp_eq() + " " + quote(r_.chance(600) ? "Allow" : "allow");
    case 2: {
      std::string rhs = strop_rhs("iam.action", op);
      return a + " " + op + " " + rhs;
    }
    case 3: return a + (r_.chance(500) ? " in " : " not in ") + str_list("iam.action", r_.chance(200));
    case 4: {
      std::string rhs = strop_rhs("aws.principal", op);
      return p + " " + op + " " + rhs;
    }
    case 5: return doc + ".Statement[*].Principal " + cmp_eq() + " \"*\"";
    case 6: return null_test(doc + ".Version");
    case 7: return "exists(" + doc + ".Statement[*].Condition)";
    case 8:
      return "any(" + p + " != \"*\" and aws.account_of(" + p + ") " + (r_.chance(500) ? "!=" : "==") +
             " recipientAccountId)";
    case 9: return std::string(r_.chance(500) ? "all(" : "any(") + a + " startswith " + str_const("iam.prefix") + ")";
    case 10: return "any(" + a + " == " + doc + ".Statement[*].Resource[*])";
    case 11: return std::string(r_.chance(500) ? "first(" : "last(") + a + ") " + cmp_eq() + " " + str_const("iam.action");
    case 12:
      return std::string(r_.chance(500) ? "first(" : "last(") + "resources[*].ARN) " + cmp_eq() + " " +
             str_const("aws.resourceArn");
    case 13: {  // members of one statement (tied), one of them a list within it
      std::string rhs = strop_rhs("aws.principal", op);
      return "any(" + doc + ".Statement[*].Effect " + cmp_eq() + " " + quote(r_.chance(600) ? "Allow" : "Deny") +
             " and " + p + " " + op + " " + rhs + (r_.chance(500) ? " and " + doc + ".Statement[*].Condition is null" : "") +
             ")";
    }
    case 14:
      return "all(" + doc + ".Statement[*].Effect != \"Allow\" or " + a + " startswith " + str_const("iam.prefix") + ")";
    case 15:  // members of one element of the event's own list
      return std::string(r_.chance(600) ? "any(" : "all(") + "resources[*].type " + cmp_eq() + " " +
             str_const("aws.resourceType") + (r_.chance(500) ? " and " : " or ") + "resources[*].accountId " +
             (r_.chance(500) ? "!=" : "==") + " recipientAccountId)";
    default: return "len(" + doc + ".Statement[*].Action[*]) " + cmp_any() + " " + std::to_string(r_.range(0, 4));
  }
}

// --edition2: a tuple of two (sometimes three) scalar string fields against an allow-list of tuples (docs/language.md
// 6.1, 7.5): `like any` / `like~ any` with globs, or exact `in` / `in~` / `not in` / `not in~`, sometimes `cased`
// or under `not (...)`. Parts come from the fields' pools, so tuples match sometimes; the source's discriminator is
// often a part, since the dispatch index may use a constant part of the Or-of-And lowering.
std::string RuleBuilder::tuple_atom(const Src& s) {
  std::vector<const Field*> c;
  const Field* disc = nullptr;
  for (const auto& f : s.fields) {
    if (f.type != T::Str || f.multi) continue;
    c.push_back(&f);
    if (f.path == s.disc) disc = &f;
  }
  const size_t arity = r_.chance(250) ? 3 : 2;
  std::vector<const Field*> parts;
  for (size_t k = 0; k < arity; ++k) parts.push_back(c[r_.below(c.size())]);  // a field twice is fine
  if (disc && r_.chance(400)) parts[r_.below(arity)] = disc;
  static const Strs ops = {"like any", "like~ any", "in", "in~", "not in", "not in~"};
  const std::string op = r_.pick(ops);
  const bool like = op.rfind("like", 0) == 0;
  Strs items;
  const size_t n = 1 + r_.below(4);
  for (size_t i = 0; i < n; ++i) {
    std::string t = "(";
    for (size_t k = 0; k < arity; ++k) {
      std::string v = str_value(parts[k]->pool);
      t += (k ? ", " : "") + quote(like ? (r_.chance(150) ? std::string("*") : glob(v)) : v);
    }
    items.push_back(t + ")");
  }
  std::string lhs = "(";
  for (size_t k = 0; k < arity; ++k) lhs += (k ? ", " : "") + parts[k]->path;
  lhs += ")";
  // `cased` follows the operator (before `any`): `like cased any`, `in cased`, `not in cased`.
  std::string op_text = op;
  if (op.find('~') == std::string::npos && r_.chance(150))
    op_text = like ? "like cased any" : op + " cased";
  std::string a = lhs + " " + op_text + " " + maybe_named(items);
  if (op.rfind("not", 0) != 0 && r_.chance(300)) a = "not (" + a + ")";
  return a;
}

// A predicate on strings joined with `+` (null when an operand is null): built patterns, joined keys, objects.
std::string RuleBuilder::concat_atom() {
  switch (r_.below(5)) {
    case 0: return "userIdentity.arn endswith \"/\" + userIdentity.userName";
    case 1:
      return "requestParameters.userName + \"@\" + recipientAccountId == " +
             quote(r_.pick(pool("aws.userName")) + "@" + r_.pick(pool("account")));
    case 2: {
      Strs items;
      for (int i = 0; i < 3; ++i) items.push_back(quote(r_.pick(pool("aws.eventSource")) + ":" + r_.pick(pool("aws.eventName"))));
      std::string l = "[" + items[0] + ", " + items[1] + ", " + items[2] + "]";
      return std::string("eventSource + \":\" + eventName") + (r_.chance(500) ? " in " : " not in ") + l;
    }
    case 3: return "(userIdentity.userName + eventName) is null";
    default: return "lower(userAgent + \"/\" + awsRegion) contains " + str_const("aws.region");
  }
}

// Macros: a parameterised one applied to a string field, or a parameterless one over the source's fields
// (expanded inline, it sees the using rule's fields).
std::string RuleBuilder::macro_use(const Src& s) {
  std::string name = id_ + ".m" + std::to_string(nmacros_++);
  if (r_.chance(500)) {
    std::vector<const Field*> c;
    for (const auto& f : s.fields)
      if (f.type == T::Str && !f.multi) c.push_back(&f);
    const Field& f = *c[r_.below(c.size())];
    std::string op1, op2;
    std::string a = strop_rhs(f.pool, op1), b = strop_rhs(f.pool, op2);
    decls_.push_back("macro " + name + "(x, y) = x " + op1 + " " + a + " or (y and x " + op2 + " " + b + ")");
    return name + "(" + f.path + ", " + (r_.chance(500) ? "true" : "false") + ")";
  }
  decls_.push_back("macro " + name + " = " + atom(s, false));
  return name;
}

std::string RuleBuilder::pred(const Src& s, int depth, bool session_attrs) {
  if (depth <= 0 || r_.chance(350)) return atom(s, session_attrs);
  switch (r_.below(4)) {
    case 0: return pred(s, depth - 1, session_attrs) + " and " + pred(s, depth - 1, session_attrs);
    case 1: return "(" + pred(s, depth - 1, session_attrs) + " or " + pred(s, depth - 1, session_attrs) + ")";
    case 2: return "not (" + pred(s, depth - 1, session_attrs) + ")";
    default: return pred(s, depth - 1, session_attrs) + " or " + pred(s, depth - 1, session_attrs);
  }
}

// Most conditions start with an events discriminator (eventName == "X" / in [...]), as real rules do; some not.
std::string RuleBuilder::discriminated(const Src& s, int depth, bool session_attrs) {
  std::string body = pred(s, depth, session_attrs);
  if (!r_.chance(800)) return body;
  std::string d;
  switch (r_.below(4)) {
    case 0:
    case 1: d = s.disc + " == " + str_const(s.disc_pool); break;
    case 2: d = s.disc + " in " + str_list(s.disc_pool, false); break;
    default: d = s.disc + " in " + str_list(s.disc_pool, true); break;
  }
  return d + " and (" + body + ")";
}

// A value of the step's event for aggregates and first/last: a non-[*] field of the step's source.
std::string RuleBuilder::step_value(const Step& st, T& type, std::string& pool_name) {
  const Field& f = pick_field(*st.src, false);
  type = f.type;
  pool_name = f.pool;
  return f.path;
}

std::string RuleBuilder::sequence(const std::vector<Step>& steps) {
  auto lab = [&] { return r_.pick(steps).label; };
  std::string s;
  switch (r_.below(6)) {
    case 0: s = lab() + " -> " + lab(); break;
    case 1: s = lab() + " -> " + lab() + " -> " + lab(); break;
    case 2: s = lab() + " -> not " + lab(); break;
    case 3: s = lab() + " -> " + lab() + " -> not " + lab(); break;
    case 4: s = lab() + " -> not " + lab() + " -> " + lab(); break;
    default: s = lab() + " -> " + lab(); break;
  }
  if (r_.chance(850)) s += " within " + duration();
  return s;
}

std::string RuleBuilder::agg_atom(const std::vector<Step>& steps, bool chain) {
  const Step& st = r_.pick(steps);
  T t;
  std::string pn;
  switch (r_.below(chain ? 14 : 12)) {
    case 0: return st.label;
    case 1: return "not " + st.label;
    case 2: return "count(" + st.label + ") " + cmp_any() + " " + std::to_string(r_.range(0, 5));
    case 3: return "count(" + r_.pick(steps).label + ") + count(" + st.label + ") >= " + std::to_string(r_.range(1, 6));
    case 4: {
      std::string v = step_value(st, t, pn);
      return "distinct(" + st.label + "." + v + ") >= " + std::to_string(r_.range(1, 4));
    }
    case 5: {
      std::string v = step_value(st, t, pn);
      if (t == T::Int || t == T::Float)
        return std::string(r_.chance(500) ? "sum(" : "max(") + st.label + "." + v + ") >= " + std::to_string(r_.range(0, 20));
      if (t == T::Str) return std::string(r_.chance(500) ? "min(" : "max(") + st.label + "." + v + ") " + cmp_ord() +
                              " " + str_const(pn);
      if (t == T::Time) return "max(" + st.label + "." + v + ") - min(" + st.label + "." + v + ") >= " + duration();
      return "distinct(" + st.label + "." + v + ") >= 2";
    }
    case 6:
    case 7: {
      std::string v = step_value(st, t, pn);
      std::string which = r_.below(3) == 0 ? st.label + "." : std::string(r_.chance(500) ? "first(" : "last(") + st.label + ").";
      std::string x = which + v;
      switch (t) {
        case T::Str:
        case T::Ip:
        case T::Obj: {
          if (pn == "int" || pn.empty()) return null_test(x);
          if (r_.chance(400)) {
            std::string op;
            std::string rhs = strop_rhs(pn, op);
            return x + " " + op + " " + rhs;
          }
          return x + " " + (t == T::Str ? cmp_eq() : std::string("==")) + " " + str_const(pn);
        }
        case T::Int: return x + " " + cmp_any() + " " + std::to_string(r_.range(0, 5));
        case T::Float: return x + " " + cmp_any() + " " + float_const();
        case T::Bool: return x + (r_.chance(500) ? " == true" : " != true");
        case T::Time: return null_test(x);
      }
      return st.label;
    }
    case 8: {
      // first(a).f compared across steps of one source (monotone only under a guard: the checker classifies).
      const Step& st2 = r_.pick(steps);
      if (st2.src != st.src) return st.label;
      std::string v = step_value(st, t, pn);
      return "first(" + st.label + ")." + v + (r_.chance(500) ? " == " : " != ") + "first(" + st2.label + ")." + v;
    }
    case 9:
    case 10: return sequence(steps);
    case 11:
      if (chain) return "chain.root.identity contains " + quote(r_.chance(500) ? "alice" : "bob");
      if (no_attrs_) return "count(" + st.label + ") >= " + std::to_string(r_.range(1, 4));
      return session_attr_pred();
    case 12: {
      static const Strs c = {"chain.depth >= 1", "chain.depth >= 2", "chain.identities >= 2", "chain.accounts >= 2",
                             "chain.depth == 0", "chain.root.credential startswith \"AKIA\"",
                             "chain.root.credential is null", "chain.identities < 2"};
      return r_.pick(c);
    }
    default: return "chain.depth " + cmp_any() + " " + std::to_string(r_.range(0, 3));
  }
}

std::string RuleBuilder::scope_when(const std::vector<Step>& steps, bool chain, int depth) {
  if (depth <= 0 || r_.chance(300)) return agg_atom(steps, chain);
  switch (r_.below(4)) {
    case 0:
    case 1: return scope_when(steps, chain, depth - 1) + " and " + scope_when(steps, chain, depth - 1);
    case 2: return "(" + scope_when(steps, chain, depth - 1) + " or " + scope_when(steps, chain, depth - 1) + ")";
    default: return "not (" + scope_when(steps, chain, depth - 1) + ")";
  }
}

// `severity LEVEL`, or with --edition2 sometimes a computed severity whose conditions read what the message reads
// (the event's fields in event scope; steps, aggregates and attributes otherwise: no sequences there). Draws
// nothing without --edition2, so the first edition's seeds keep their bytes.
std::string RuleBuilder::severity_clause(const std::string& level, const Src& src, const std::vector<Step>& steps,
                                         int scope) {
  static const Strs severities = {"info", "low", "medium", "high", "critical"};
  if (!json_ || !r_.chance(300)) return "  severity " + level + "\n";
  auto cond = [&]() -> std::string {
    if (scope == 0) return pred(src, 1, true);
    for (;;) {  // agg_atom without its sequences, which only a scope block's `when` may use
      std::string a = agg_atom(steps, scope == 2);
      if (a.find("->") == std::string::npos) return a;
    }
  };
  std::string out = "  severity {\n";
  size_t n = 1 + r_.below(3);
  for (size_t i = 0; i < n; ++i) {
    std::string c = cond();
    if (r_.chance(250)) c += (r_.chance(500) ? " and " : " or ") + cond();
    out += "    " + r_.pick(severities) + " when " + c + "\n";
  }
  return out + "    else " + level + "\n  }\n";
}

// scope: 0 event, 1 session, 2 chain, 3 group. Interpolations are escaped for the template (quotes inside braces).
std::string RuleBuilder::message(const std::vector<const Src*>& srcs, const std::vector<Step>& steps, int scope) {
  Strs parts;
  size_t n = 1 + r_.below(3);
  for (size_t i = 0; i < n; ++i) {
    if (scope == 0) {
      const Src& s = *r_.pick(srcs);
      switch (r_.below(6)) {
        case 0: parts.push_back("{session.identity}"); break;
        case 1: parts.push_back("{session.events} events"); break;
        case 2: {
          const Field& f = pick_field(s, false);
          std::string dflt = f.type == T::Int ? "-1" : f.type == T::Float ? "0.5" : f.type == T::Bool ? "false"
                             : f.type == T::Time ? f.path : "\\\"none\\\"";
          parts.push_back("{coalesce(" + f.path + ", " + dflt + ")}");
          break;
        }
        case 3: parts.push_back("{" + s.fields[0].path + "}"); break;
        default: parts.push_back("{" + pick_field(s, true).path + "}"); break;
      }
      if (s.name == "aws.cloudtrail" && r_.chance(150)) parts.push_back("{requestParameters}");
    } else {
      const Step& st = r_.pick(steps);
      T t;
      std::string pn;
      std::string v = step_value(st, t, pn);
      switch (r_.below(9)) {
        case 0:
          if (no_attrs_) parts.push_back("{count(" + st.label + ")} of {last(" + st.label + ")." + v + "}");
          else parts.push_back("{session.identity} in {session.duration}");
          break;
        case 1: parts.push_back("{count(" + st.label + ")}"); break;
        case 2: parts.push_back("{distinct(" + st.label + "." + v + ")}"); break;
        case 3: parts.push_back("{first(" + st.label + ")." + v + "}"); break;
        case 4: parts.push_back("{last(" + st.label + ")." + v + "}"); break;
        case 5: parts.push_back("{" + st.label + "." + v + "}"); break;
        case 6:
          if (t == T::Int || t == T::Float || t == T::Str || t == T::Time)
            parts.push_back("{min(" + st.label + "." + v + ")}/{max(" + st.label + "." + v + ")}");
          else
            parts.push_back("{distinct(" + st.label + "." + v + ")}");
          break;
        case 7:
          if (no_attrs_) parts.push_back("{count(" + st.label + ")} events");
          else parts.push_back("{session.source_ips} ips, {session.events} events");
          break;
        default:
          parts.push_back(scope == 3 ? "{first(" + st.label + ")." + v + "}"
                          : scope == 2 ? "{chain.root.identity} depth {chain.depth} ids {chain.identities} accts "
                                         "{chain.accounts}"
                                       : "{session.credential}");
      }
    }
  }
  std::string m = "difftest \\{" + id_ + "\\}:";
  for (const auto& p : parts) m += " " + p;
  return "\"" + m + "\"";
}

// `  group by K1[, K2] window D {` or `... gap G max M {`: one or two distinct scalar fields of the source (a string
// sometimes lower-cased), the key values drawn from the same pools as the events' so that groups form.
std::string RuleBuilder::group_head(const Src& s) {
  Strs keys;
  size_t n = 1 + r_.below(2);
  for (int tries = 0; keys.size() < n && tries < 20; ++tries) {
    const Field& f = pick_field(s, false);
    if (f.type == T::Obj) continue;
    std::string k = f.type == T::Str && r_.chance(200) ? "lower(" + f.path + ")" : f.path;
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  if (keys.empty()) keys.push_back(s.disc);
  std::string out = "  group by ";
  for (size_t i = 0; i < keys.size(); ++i) out += (i ? ", " : "") + keys[i];
  static const Strs windows = {"1m", "5m", "10m", "30m", "1h", "2h", "1d"};
  if (r_.chance(500)) {
    out += " window " + r_.pick(windows);
  } else {
    size_t g = r_.below(windows.size());
    size_t m = g + r_.below(windows.size() - g);  // max >= gap
    out += " gap " + windows[g] + " max " + windows[m];
  }
  return out + " {\n";
}

std::string RuleBuilder::build() {
  static const Strs severities = {"info", "low", "medium", "high", "critical"};
  const auto& srcs = sources();
  // Mostly CloudTrail, then Okta, then GitHub; session and chain rules sometimes span Okta and CloudTrail.
  unsigned sk = static_cast<unsigned>(r_.below(100));
  const Src& src = sk < 60 ? srcs[0] : (sk < 85 ? srcs[1] : srcs[2]);
  unsigned scope = static_cast<unsigned>(r_.below(100));
  scope = scope < 45 ? 0 : (scope < 78 ? 1 : 2);
  // --groups: a quarter of the rules group by keys of their source (drawn only then: other seeds keep their bytes).
  if (groups_ && r_.chance(250)) scope = 3;
  no_attrs_ = scope == 3;

  std::vector<const Src*> rule_srcs = {&src};
  if (scope != 0 && scope != 3 && src.name != "github.audit" && r_.chance(250)) rule_srcs = {&srcs[1], &srcs[0]};

  std::string body;
  std::vector<Step> steps;
  if (scope == 0) {
    body = "  when " + discriminated(src, 2, true) + "\n";
  } else {
    size_t n = 1 + r_.below(3);
    std::string block;
    for (size_t i = 0; i < n; ++i) {
      Step st{"s" + std::to_string(i), rule_srcs[r_.below(rule_srcs.size())]};
      steps.push_back(st);
      std::string pred;
      if (bank_ && scope != 3 && r_.chance(500)) {  // an earlier rule's step, when one on this source exists
        std::vector<size_t> same_src;
        for (size_t k = 0; k < bank_->steps.size(); ++k)
          if (bank_->steps[k].first == st.src->name) same_src.push_back(k);
        if (!same_src.empty()) pred = bank_->steps[r_.pick(same_src)].second;
      }
      if (pred.empty()) {
        size_t before = decls_.size();
        bool attrs = scope != 3 && r_.chance(150);
        pred = discriminated(*st.src, 1, attrs);
        if (bank_ && scope != 3 && decls_.size() == before) bank_->steps.emplace_back(st.src->name, pred);
      }
      block += "    step " + st.label + " = " + pred + "\n";
    }
    block += "    when " + scope_when(steps, scope == 2, 2) + "\n";
    body = std::string(scope == 1 ? "  session {\n" : scope == 2 ? "  chain {\n" : group_head(src)) + block + "  }\n";
  }

  std::string srcs_text;
  for (size_t i = 0; i < rule_srcs.size(); ++i) srcs_text += (i ? ", " : "") + rule_srcs[i]->name;

  std::string rule = "rule " + id_ + " {\n";
  rule += "  title \"difftest " + id_ + "\"\n";
  rule += severity_clause(r_.pick(severities), src, steps, static_cast<int>(scope));
  rule += "  source " + srcs_text + "\n";
  rule += body;
  rule += "  message " + message(rule_srcs, steps, static_cast<int>(scope)) + "\n";
  if (r_.chance(250)) {
    std::string sup = "  suppress " + duration();
    if (r_.chance(700)) {
      Strs keys;
      size_t nk = 1 + r_.below(2);
      for (size_t i = 0; i < nk; ++i) {
        if (scope == 0) keys.push_back(pick_field(src, true).path);
        else if (scope == 2 && r_.chance(500)) keys.push_back("chain.root.identity");
        else if (scope != 3 && r_.chance(500)) keys.push_back("session.identity");
        else {
          T t;
          std::string pn;
          const Step& st = r_.pick(steps);
          keys.push_back("first(" + st.label + ")." + step_value(st, t, pn));
        }
      }
      sup += " by ";
      for (size_t i = 0; i < keys.size(); ++i) sup += (i ? ", " : "") + keys[i];
    }
    rule += sup + "\n";
  }
  rule += "}\n";
  // --edition2: sometimes a `tune` of the rule (docs/language.md 23.2): another severity, and exceptions that the
  // checker compiles into the rule's condition (drawn only then: other seeds keep their bytes).
  if (json_ && r_.chance(150)) {
    rule += "tune " + id_ + " {\n";
    if (r_.chance(400)) rule += "  severity " + r_.pick(severities) + "\n";
    size_t ne = 1 + r_.below(2);
    for (size_t i = 0; i < ne; ++i) {
      if (scope == 0) rule += "  except when " + atom(src, false) + "\n";
      else rule += "  except when count(" + r_.pick(steps).label + ") >= " + std::to_string(r_.range(1, 4)) + "\n";
    }
    rule += "}\n";
  }

  std::string text = "// generated by braid-difftest\n";
  for (const auto& d : decls_) text += d + "\n";
  return text + rule;
}

// ---------------------------------------------------------------------------------------------------------------
// Events: a tiny ordered JSON tree, so that fields can be set by path and then damaged (wrong types, nulls,
// removals) before serialisation.

struct J {
  enum K { Null, Bool, Num, Str, Obj, Arr } k = Null;
  std::string s;  // Bool: "true"/"false"; Num: the number's text; Str: the text
  std::vector<std::pair<std::string, J>> o;
  std::vector<J> a;

  static J str(std::string v) { J j; j.k = Str; j.s = std::move(v); return j; }
  static J num(std::string v) { J j; j.k = Num; j.s = std::move(v); return j; }
  static J boolean(bool b) { J j; j.k = Bool; j.s = b ? "true" : "false"; return j; }
  static J obj() { J j; j.k = Obj; return j; }
  static J arr() { J j; j.k = Arr; return j; }

  J& member(const std::string& name) {
    if (k != Obj) { *this = obj(); }
    for (auto& [n, v] : o)
      if (n == name) return v;
    o.emplace_back(name, J{});
    return o.back().second;
  }
  void set(const std::string& path, J v) {  // dotted path of object members
    J* cur = this;
    size_t start = 0;
    for (;;) {
      size_t dot = path.find('.', start);
      if (dot == std::string::npos) {
        cur->member(path.substr(start)) = std::move(v);
        return;
      }
      cur = &cur->member(path.substr(start, dot - start));
      start = dot + 1;
    }
  }
  void write(std::string& out) const {
    switch (k) {
      case Null: out += "null"; break;
      case Bool:
      case Num: out += s; break;
      case Str: out += quote(s); break;
      case Obj:
        out += '{';
        for (size_t i = 0; i < o.size(); ++i) {
          if (i) out += ',';
          out += quote(o[i].first);
          out += ':';
          o[i].second.write(out);
        }
        out += '}';
        break;
      case Arr:
        out += '[';
        for (size_t i = 0; i < a.size(); ++i) {
          if (i) out += ',';
          a[i].write(out);
        }
        out += ']';
        break;
    }
  }
};

constexpr int64_t kSec = 1000, kMin = 60 * kSec, kHour = 60 * kMin;

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string rfc3339(int64_t ms, int style) {  // 0: seconds Z, 1: millis Z, 2: +02:00 offset
  int64_t offset = style == 2 ? 2 * kHour : 0;
  int64_t t = ms + offset;
  int64_t days = t >= 0 ? t / (86400 * kSec) : -((-t + 86400 * kSec - 1) / (86400 * kSec));
  int64_t rem = t - days * 86400 * kSec;
  // civil_from_days
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[64];
  int64_t h = rem / kHour, mi = rem % kHour / kMin, se = rem % kMin / kSec, msec = rem % kSec;
  if (style == 1)
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(h), static_cast<long long>(mi), static_cast<long long>(se),
                  static_cast<long long>(msec));
  else
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld%s", static_cast<long long>(y), m, d,
                  static_cast<long long>(h), static_cast<long long>(mi), static_cast<long long>(se),
                  style == 2 ? "+02:00" : "Z");
  return buf;
}

class EventBuilder {
 public:
  EventBuilder(Rng& r, uint64_t case_index, bool json_docs = false) : r_(r), case_(case_index), json_(json_docs) {
    t_ = (days_from_civil(2024, 10, 1) * 86400 + 9 * 3600) * kSec + static_cast<int64_t>(r_.below(86400)) * kSec;
  }

  std::vector<std::string> build(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      advance();
      if (r_.chance(5)) {
        static const Strs junk = {"{", "[]", "42", "{\"eventName\": }", "null", "\"text\""};
        out.push_back(r_.pick(junk));
        continue;
      }
      unsigned k = static_cast<unsigned>(r_.below(100));
      J e = k < 60 ? aws() : (k < 85 ? okta() : github());
      std::string line;
      e.write(line);
      out.push_back(line);
    }
    return out;
  }

 private:
  // Time mostly increases; sometimes a long quiet period (sessions close), sometimes an event from the past
  // (within and beyond each source's lateness: reordering and late events).
  int64_t event_time() {
    if (r_.chance(60)) return t_ - static_cast<int64_t>(r_.below(25 * kMin));
    return t_;
  }
  void advance() {
    if (r_.chance(15)) t_ += 35 * kMin + static_cast<int64_t>(r_.below(3 * kHour));
    else if (!r_.chance(100)) t_ += static_cast<int64_t>(r_.below(2 * kMin));
  }

  std::string val(const std::string& pool_name) {
    std::string v = r_.pick(pool(pool_name));
    if (has_pool(pool_name + ".family") && r_.chance(250)) v = r_.pick(pool(pool_name + ".family"));
    if (r_.chance(80)) v = near_miss(r_, v);
    if (r_.chance(10)) v = r_.pick(pool("unicode"));
    return v;
  }
  J sval(const std::string& pool_name) { return J::str(val(pool_name)); }

  // Sets path to v, or (rarely) to a wrong JSON type, JSON null, or leaves it out.
  void put(J& e, const std::string& path, J v) {
    unsigned k = static_cast<unsigned>(r_.below(1000));
    if (k < 15) return;                       // missing
    if (k < 25) { e.set(path, J{}); return; }  // null
    if (k < 40) {                              // wrong type
      if (v.k == J::Str) {
        static const Strs nums = {"123", "-1", "1.5", "1e3"};
        e.set(path, r_.chance(500) ? J::num(r_.pick(nums)) : J::boolean(r_.chance(500)));
      } else if (v.k == J::Num || v.k == J::Bool) {
        e.set(path, J::str(v.s));  // a number or boolean as a string
      } else {
        e.set(path, J::str("x"));
      }
      return;
    }
    e.set(path, std::move(v));
  }
  J num_from(const std::string& pool_name) { return J::num(r_.pick(pool(pool_name))); }

  std::string time_text(int64_t ms) {
    switch (r_.below(10)) {
      case 0: return rfc3339(ms, 1);
      case 1: return rfc3339(ms, 2);
      default: return rfc3339(ms, 0);
    }
  }

  J aws() {
    J e = J::obj();
    int64_t t = event_time();
    e.set("eventVersion", J::str("1.09"));
    // Identity: an IAM user, an assumed role (its session keys are the minted ASIA keys), root, a SAML user.
    // A key belongs to one principal (mostly), so that sessions (identity, key) last several events.
    const Strs& keys = pool("aws.key");
    const Strs& arns = pool("aws.arn");
    size_t ki = r_.below(keys.size());
    std::string key = keys[ki];
    std::string arn = r_.chance(850) ? arns[ki % arns.size()] : r_.pick(arns);
    std::string type = arn.find(":user/") != std::string::npos ? "IAMUser"
                       : arn.find(":root") != std::string::npos ? "Root"
                       : arn.find("@") != std::string::npos    ? "SAMLUser"
                                                                : "AssumedRole";
    if (r_.chance(50)) type = r_.pick(pool("aws.uiType"));
    put(e, "userIdentity.type", J::str(type));
    if (!r_.chance(40)) put(e, "userIdentity.arn", J::str(arn));
    else if (r_.chance(500)) put(e, "userIdentity.invokedBy", sval("aws.invokedBy"));
    put(e, "userIdentity.principalId", sval("aws.principalId"));
    put(e, "userIdentity.accountId", sval("account"));
    if (!r_.chance(120)) put(e, "userIdentity.accessKeyId", J::str(r_.chance(40) ? near_miss(r_, key) : key));
    if (type == "SAMLUser" || r_.chance(200)) put(e, "userIdentity.userName", sval("aws.userName"));
    if (r_.chance(400)) {
      put(e, "userIdentity.sessionContext.attributes.mfaAuthenticated", sval("boolstr"));
      put(e, "userIdentity.sessionContext.attributes.creationDate",
          J::str(rfc3339(t - static_cast<int64_t>(r_.below(3 * kHour)), 0)));
      put(e, "userIdentity.sessionContext.sessionIssuer.arn", sval("aws.roleArn"));
    }
    // The call.
    std::string name = val("aws.eventName");
    std::string source = name.rfind("Assume", 0) == 0 || name == "GetSessionToken" ? "sts.amazonaws.com"
                         : name == "ConsoleLogin"                                   ? "signin.amazonaws.com"
                         : name.find("Bucket") != std::string::npos || name.find("Object") != std::string::npos
                             ? "s3.amazonaws.com"
                         : name.find("Logging") != std::string::npos || name.find("Trail") != std::string::npos
                             ? "cloudtrail.amazonaws.com"
                             : "iam.amazonaws.com";
    if (r_.chance(80)) source = val("aws.eventSource");
    if (r_.chance(5)) source = "sts.amazonaws.co";  // not recognised: unrouted
    e.set("eventTime", r_.chance(30) ? J::num(std::to_string(t / kSec)) : J::str(time_text(t)));
    e.set("eventSource", J::str(source));
    e.set("eventName", J::str(name));
    put(e, "awsRegion", sval("aws.region"));
    put(e, "sourceIPAddress", sval("ip"));
    if (!r_.chance(100)) put(e, "userAgent", sval("aws.userAgent"));
    bool failed = r_.chance(220);
    if (failed) {
      put(e, "errorCode", sval("aws.errorCode"));
      put(e, "errorMessage", sval("aws.errorMessage"));
    }
    // Payloads by call: STS and CreateAccessKey mint keys that later events use; ConsoleLogin is the parent of
    // console sessions (sessionCredentialFromConsole).
    if (name.rfind("Assume", 0) == 0 || name == "GetSessionToken") {
      put(e, "requestParameters.roleArn", sval("aws.roleArn"));
      put(e, "requestParameters.roleSessionName", J::str("s" + std::to_string(r_.below(4))));
      put(e, "requestParameters.durationSeconds",
          r_.chance(200) ? J::str(r_.pick(pool("int"))) : num_from("int"));
      if (!failed) {
        put(e, "responseElements.credentials.accessKeyId", J::str(keys[2 + r_.below(keys.size() - 2)]));
        put(e, "responseElements.credentials.sessionToken", J::str("FwoG" + std::to_string(r_.below(1000))));
        put(e, "responseElements.credentials.expiration", J::str(rfc3339(t + kHour, 0)));
      }
    } else if (name == "CreateAccessKey") {
      put(e, "requestParameters.userName", sval("aws.userName"));
      if (!failed) put(e, "responseElements.accessKey.accessKeyId", J::str(r_.pick(keys)));
    } else if (name == "ConsoleLogin") {
      put(e, "responseElements.ConsoleLogin", J::str(failed ? "Failure" : val("aws.consoleResult")));
      put(e, "additionalEventData.MFAUsed", sval("yesno"));
    } else if (name.find("Bucket") != std::string::npos || name.find("Object") != std::string::npos) {
      put(e, "requestParameters.bucketName", sval("aws.bucket"));
    } else if (name.find("Policy") != std::string::npos) {
      put(e, "requestParameters.policyArn", sval("aws.policyArn"));
      put(e, "requestParameters.userName", sval("aws.userName"));
    } else if (name.find("Secret") != std::string::npos) {
      put(e, "requestParameters.secretId", sval("aws.secret"));
    } else if (r_.chance(300)) {
      J items = J::arr();
      size_t n = r_.below(3);
      for (size_t i = 0; i < n; ++i) {
        J ranges = J::arr();
        size_t m = r_.below(3);
        for (size_t j = 0; j < m; ++j) {
          J rg = J::obj();
          rg.set("cidrIp", sval("cidr"));
          ranges.a.push_back(rg);
        }
        J item = J::obj();
        item.set("ipProtocol", J::str("tcp"));
        item.set("ipRanges.items", ranges);
        items.a.push_back(item);
      }
      e.set("requestParameters.ipPermissions.items", items);
    } else if (r_.chance(100)) {
      e.set("requestParameters", J{});
    }
    if (json_ && r_.chance(250))
      put(e, r_.chance(500) ? "requestParameters.policyDocument" : "requestParameters.assumeRolePolicyDocument",
          J::str(policy_text()));
    if (r_.chance(400)) {
      J res = J::arr();
      size_t n = r_.below(4);
      for (size_t i = 0; i < n; ++i) {
        J x = J::obj();
        put(x, "ARN", sval("aws.resourceArn"));
        put(x, "type", sval("aws.resourceType"));
        if (r_.chance(500)) put(x, "accountId", sval("account"));
        res.a.push_back(x);
      }
      put(e, "resources", res);
    }
    if (!r_.chance(150)) put(e, "readOnly", J::boolean(name.rfind("Get", 0) == 0 || name.rfind("List", 0) == 0 ||
                                                      name.rfind("Describe", 0) == 0));
    if (r_.chance(300)) put(e, "managementEvent", J::boolean(r_.chance(800)));
    if (r_.chance(150)) put(e, "sessionCredentialFromConsole", J::str("true"));
    put(e, "eventType", J::str(name == "ConsoleLogin" ? "AwsConsoleSignIn" : val("aws.eventType")));
    put(e, "eventCategory", sval("aws.category"));
    put(e, "recipientAccountId", sval("account"));
    put(e, "eventID", J::str(next_id("ev")));
    return e;
  }

  J okta() {
    J e = J::obj();
    int64_t t = event_time();
    e.set("uuid", J::str(next_id("ok")));
    e.set("published", J::str(r_.chance(700) ? rfc3339(t, 1) : time_text(t)));
    e.set("eventType", J::str(val("okta.eventType")));
    put(e, "severity", sval("okta.severity"));
    put(e, "displayMessage", sval("okta.displayMessage"));
    e.set("actor.id", J::str(r_.pick(pool("okta.actorId"))));
    put(e, "actor.type", sval("okta.actorType"));
    // An Okta session belongs to one user (mostly).
    const Strs& sids = pool("okta.sid");
    const Strs& users = pool("okta.user");
    size_t si = r_.below(sids.size());
    put(e, "actor.alternateId", J::str(r_.chance(800) ? users[si % users.size()] : val("okta.user")));
    put(e, "actor.displayName", sval("okta.displayName"));
    put(e, "outcome.result", sval("okta.result"));
    if (r_.chance(300)) put(e, "outcome.reason", sval("okta.reason"));
    put(e, "authenticationContext.externalSessionId", J::str(r_.chance(900) ? sids[si] : val("okta.sid")));
    put(e, "authenticationContext.authenticationStep", num_from("smallint"));
    put(e, "client.ipAddress", sval("ip"));
    put(e, "client.userAgent.rawUserAgent", sval("okta.ua"));
    put(e, "client.geographicalContext.country", sval("okta.country"));
    put(e, "client.geographicalContext.city", sval("okta.city"));
    put(e, "client.geographicalContext.geolocation.lat", num_from("lat"));
    put(e, "client.geographicalContext.geolocation.lon", num_from("lon"));
    put(e, "securityContext.isProxy", J::boolean(r_.chance(300)));
    put(e, "securityContext.asNumber", num_from("asn"));
    put(e, "securityContext.asOrg", sval("okta.asOrg"));
    J target = J::arr();
    size_t n = r_.below(4);
    for (size_t i = 0; i < n; ++i) {
      J x = J::obj();
      put(x, "id", J::str("0oa" + std::to_string(r_.below(5))));
      put(x, "type", sval("okta.targetType"));
      put(x, "alternateId", sval("okta.user"));
      put(x, "displayName", sval("okta.app"));
      target.a.push_back(x);
    }
    put(e, "target", target);
    if (r_.chance(400)) {
      J chain = J::arr();
      size_t m = r_.below(3);
      for (size_t i = 0; i < m; ++i) {
        J x = J::obj();
        put(x, "ip", sval("ip"));
        chain.a.push_back(x);
      }
      e.set("request.ipChain", chain);
    }
    if (r_.chance(500)) put(e, "debugContext.debugData.behaviors", sval("okta.behaviors"));
    if (r_.chance(300)) put(e, "debugContext.debugData.risk", sval("okta.risk"));
    return e;
  }

  J github() {
    J e = J::obj();
    int64_t t = event_time();
    e.set("action", J::str(val("gh.action")));
    const Strs& actors = pool("gh.actor");
    const Strs& tokens = pool("gh.token");
    size_t ai = r_.below(actors.size());
    e.set("actor", J::str(r_.chance(850) ? actors[ai] : val("gh.actor")));
    e.set("created_at", r_.chance(800) ? J::num(std::to_string(t)) : J::str(time_text(t)));
    put(e, "_document_id", J::str(next_id("gh")));
    put(e, "actor_id", num_from("smallint"));
    put(e, "actor_ip", sval("ip"));
    put(e, "actor_is_bot", J::boolean(r_.chance(200)));
    put(e, "org", sval("gh.org"));
    put(e, "repo", sval("gh.repo"));
    put(e, "repo_id", num_from("int"));
    put(e, "visibility", sval("gh.visibility"));
    put(e, "public_repo", J::boolean(r_.chance(300)));
    put(e, "user_agent", sval("gh.ua"));
    put(e, "operation_type", sval("gh.op"));
    if (r_.chance(500)) {
      put(e, "programmatic_access_type", sval("gh.pat"));
      put(e, "hashed_token", J::str(r_.chance(850) ? tokens[ai % tokens.size()] : val("gh.token")));
      put(e, "token_scopes", sval("gh.scopes"));
    }
    if (r_.chance(300)) {
      put(e, "data.hook_id", r_.chance(700) ? num_from("int") : sval("int"));
      put(e, "data.reason", sval("gh.reason"));
    }
    return e;
  }

  // An IAM policy as JSON text: statements with one-or-many actions and principals (strings or lists), "*"
  // principals, conditions; sometimes malformed, an array, or an empty object.
  std::string policy_text() {
    switch (r_.below(20)) {
      case 0: return "{\"Statement\": [";
      case 1: return "[]";
      case 2: return "{}";
      default: break;
    }
    auto one_or_many = [&](const std::string& pool_name) {
      if (r_.chance(400)) return J::str(val(pool_name));
      J l = J::arr();
      size_t n = r_.below(4);
      for (size_t i = 0; i < n; ++i) l.a.push_back(r_.chance(30) ? J{} : J::str(val(pool_name)));
      return l;
    };
    J doc = J::obj();
    if (!r_.chance(100)) doc.set("Version", J::str(r_.chance(900) ? "2012-10-17" : "2008-10-17"));
    J stmts = J::arr();
    size_t n = r_.below(4);
    for (size_t i = 0; i < n; ++i) {
      J st = J::obj();
      put(st, "Effect", J::str(r_.chance(700) ? "Allow" : "Deny"));
      if (r_.chance(100)) st.set("Principal", J::str("*"));
      else if (r_.chance(800)) st.set("Principal.AWS", one_or_many("aws.principal"));
      else st.set("Principal.Service", one_or_many("aws.invokedBy"));
      st.set("Action", one_or_many("iam.action"));
      if (r_.chance(300)) st.set("Resource", one_or_many("iam.action"));
      if (r_.chance(200)) st.set("Condition.StringEquals.sts:ExternalId", J::str("x"));
      stmts.a.push_back(st);
    }
    doc.set("Statement", stmts);
    std::string out;
    doc.write(out);
    return out;
  }

  std::string next_id(const char* prefix) {
    // Mostly unique; sometimes a repeat of a recent id.
    if (r_.chance(20) && n_ > 0) return std::string(prefix) + "-" + std::to_string(case_) + "-" + std::to_string(r_.below(n_));
    return std::string(prefix) + "-" + std::to_string(case_) + "-" + std::to_string(n_++);
  }

  Rng& r_;
  uint64_t case_;
  bool json_ = false;
  int64_t t_;
  uint64_t n_ = 0;
};

}  // namespace

std::string RuleBuilder::literal_rule(const std::string& field, const std::string& pool_name) {
  auto atom = [&]() -> std::string {
    std::string v = str_value(pool_name);
    switch (r_.below(14)) {
      case 12: return field + " matches r\"" + regex_escape(substring(r_, v)) + "(" + regex_escape(suffix(r_, v)) +
                      "|x+)\"";
      case 13: return field + " matches~ r\"^" + regex_escape(prefix(r_, v)) + "\"";
      case 0: return field + " contains " + quote(substring(r_, v));
      case 1: return field + " startswith " + quote(prefix(r_, v));
      case 2: return field + " endswith " + quote(suffix(r_, v));
      case 3: return field + " like " + quote(glob(v));
      case 4: return field + " ==~ " + quote(ascii_case(v, static_cast<int>(r_.below(3))));
      case 5: return field + " contains~ " + quote(ascii_case(substring(r_, v), static_cast<int>(r_.below(3))));
      case 6: return field + " startswith~ " + quote(ascii_case(prefix(r_, v), static_cast<int>(r_.below(3))));
      case 7: return field + " endswith~ " + quote(ascii_case(suffix(r_, v), static_cast<int>(r_.below(3))));
      case 8: return field + " in~ " + str_list(pool_name, false);
      case 9: return field + " contains any [" + quote(substring(r_, v)) + ", " +
                     quote(substring(r_, str_value(pool_name))) + "]";
      case 10: return field + " == " + quote(v);
      default: return field + " like any [" + quote(glob(v)) + ", " + quote(glob(str_value(pool_name))) + "]";
    }
  };
  std::string cond = atom();
  switch (r_.below(4)) {
    case 0: cond = "(" + cond + " or " + atom() + ")"; break;
    case 1: cond += " and not (" + atom() + ")"; break;  // the literal of the positive part still selects
    case 2: cond += " and readOnly == " + std::string(r_.chance(500) ? "true" : "false"); break;
    default: break;
  }
  std::string rule = "rule " + id_ + " {\n";
  rule += "  title \"difftest " + id_ + "\"\n  severity low\n  source aws.cloudtrail\n";
  rule += "  when " + cond + "\n";
  rule += "  message \"{" + field + "}\"\n}\n";
  std::string text = "// generated by braid-difftest --prefilter\n";
  for (const auto& d : decls_) text += d + "\n";
  return text + rule;
}

Case generate_case(uint64_t seed, uint64_t case_index, int rules, int events, bool shared_steps, bool edition2,
                   bool groups, bool prefilter) {
  Rng r(seed);
  Case c;
  StepBank bank;
  for (int i = 0; i < rules; ++i) {
    std::string id = "dt.c" + std::to_string(case_index) + ".r" + std::to_string(i);
    RuleBuilder b(r, id, shared_steps ? &bank : nullptr, edition2, groups);
    c.rules.push_back({id, b.build()});
  }
  if (prefilter) {  // drawn only then: other seeds keep their bytes
    static const std::vector<std::pair<std::string, std::string>> fields = {
        {"userAgent", "aws.userAgent"}, {"eventName", "aws.eventName"}, {"userIdentity.arn", "aws.arn"},
        {"errorMessage", "aws.errorMessage"}, {"awsRegion", "aws.region"}};
    const auto& [field, pool_name] = r.pick(fields);
    int n = static_cast<int>(r.range(4, 9));
    for (int i = 0; i < n; ++i) {
      std::string id = "dt.c" + std::to_string(case_index) + ".p" + std::to_string(i);
      RuleBuilder b(r, id, nullptr, edition2, groups);
      c.rules.push_back({id, b.literal_rule(field, pool_name)});
    }
  }
  EventBuilder eb(r, case_index, edition2);
  c.events = eb.build(events);
  // Some cases run both engines with a tiny distinct() bound, so that saturation is exercised too.
  if (r.chance(200)) c.common_flags = {"--distinct-bound", std::to_string(r.range(1, 4))};
  return c;
}

}  // namespace braid::difftest
