// braid-gen: a deterministic generator of demo and benign event streams (AWS CloudTrail and Okta System Log, and
// optionally GCP audit and GitHub audit), as NDJSON sorted by event time.
//
//   braid-gen --seed 1 --story --background 240 --output examples/demo.ndjson
//
// The same arguments always give the same bytes: a seeded SplitMix64 drives every choice, times start at a fixed
// instant (--start), and nothing reads the clock or the environment. Every value is synthetic: addresses are in
// the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), accounts and keys are made up.
//
// Background traffic is benign (docs/rules.md counts what the shipped rules raise on it): Okta sign-ins, MFA, SSO
// into apps (AWS among them, followed by the AssumeRoleWithSAML call and a console role session), an IAM
// administrator signing in to the console with MFA, CI assuming a deploy role in its own account, an inventory job
// assuming a read-only role in another account, instance and Lambda roles reading their parameters and secrets
// (without a cache), AWS services acting for principals, an app denied the same call over and over.
//
// --story adds one intrusion with credential hops, and a GitHub clone burst with a token stolen on the way (see
// examples/README.md for the timeline and what fires).
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "text/json_write.h"

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Determinism: SplitMix64 (the same sequence on every platform; <random> distributions are not portable).

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1))); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
  std::string chars(size_t n, std::string_view alphabet) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += alphabet[below(alphabet.size())];
    return s;
  }
  std::string hex(size_t n) { return chars(n, "0123456789abcdef"); }
  std::string uuid() {
    std::string h = hex(32);
    h[12] = '4';
    h[16] = "89ab"[below(4)];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
  }
  std::string key(std::string_view prefix) { return std::string(prefix) + chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"); }
  std::string base62(size_t n) {
    return chars(n, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  }

 private:
  uint64_t s_;
};

// ---------------------------------------------------------------------------------------------------------------
// Time: milliseconds since the epoch <-> RFC 3339 UTC.

constexpr int64_t kSec = 1000, kMin = 60 * kSec, kHour = 60 * kMin;

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// "2025-03-04T09:12:33Z" (millis = false) or "2025-03-04T09:12:33.123Z".
std::string rfc3339(int64_t ms, bool millis) {
  int64_t days = ms >= 0 ? ms / (86400 * kSec) : (ms - 86400 * kSec + 1) / (86400 * kSec);
  int64_t rem = ms - days * 86400 * kSec;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[96];  // room for any int64 year, so that -Wformat-truncation has nothing to say
  int64_t secs = rem / kSec;
  if (millis) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60), static_cast<long long>(rem % kSec));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60));
  }
  return buf;
}

// Parses "YYYY-MM-DDTHH:MM:SSZ" (the --start option); false if it is not that.
bool parse_start(const std::string& s, int64_t& ms) {
  int y, mo, d, h, mi, se;
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) != 7 || z != 'Z') {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return false;
  ms = (days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + se) *
       kSec;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON objects, built member by member in a fixed order.

std::string q(std::string_view s) { return braid::json_quote(s); }

class J {
 public:
  J& s(std::string_view k, std::string_view v) { return raw(k, q(v)); }
  J& i(std::string_view k, int64_t v) { return raw(k, std::to_string(v)); }
  J& f(std::string_view k, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", v);
    return raw(k, buf);
  }
  J& b(std::string_view k, bool v) { return raw(k, v ? "true" : "false"); }
  J& null(std::string_view k) { return raw(k, "null"); }
  J& raw(std::string_view k, std::string_view json) {
    if (!body_.empty()) body_ += ',';
    body_ += q(k);
    body_ += ':';
    body_ += json;
    return *this;
  }
  J& obj(std::string_view k, const J& o) { return raw(k, o.str()); }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

std::string arr(const std::vector<std::string>& items) {
  std::string o = "[";
  for (size_t k = 0; k < items.size(); ++k) o += (k ? "," : "") + items[k];
  return o + "]";
}

// ---------------------------------------------------------------------------------------------------------------
// The world: accounts, people, workloads.

constexpr const char* kMainAccount = "111122223333";     // corp-main: SSO lands here
constexpr const char* kPaymentsAccount = "444455556666"; // payments: reached through cross-account roles
constexpr const char* kExternalAccount = "999988887777"; // not ours: the attacker's
constexpr const char* kOktaAwsApp = "0oa1f3xkq9AWSfed697";
constexpr const char* kSamlIdp = "arn:aws:iam::111122223333:saml-provider/Okta";

const std::vector<std::string> kFirstNames = {"alex", "blair", "casey", "dana", "eli", "frankie", "gray", "harper",
                                              "indy", "jordan", "kai", "lee", "morgan", "noa", "oakley", "parker",
                                              "quinn", "riley", "sam", "taylor", "uma", "val", "wren", "yael"};
const std::vector<std::string> kLastNames = {"reyes", "okafor", "lindqvist", "tanaka", "moreau", "haddad", "novak",
                                             "silva", "kowalski", "mensah", "ibarra", "chen", "larsen", "duarte"};

const std::vector<std::string> kBrowsers = {
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.3; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"};

constexpr const char* kCliAgent =
    "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.1 os/linux#6.8.0-52-generic md/arch#x86_64 lang/python#3.12.9 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe sid/2f6d1a md/prompt#off md/command#";
constexpr const char* kBotoAgent = "Boto3/1.37.4 md/Botocore#1.37.4 ua/2.1 os/linux#5.10.233-224.894.amzn2.x86_64 "
                                   "md/arch#x86_64 lang/python#3.12.9 md/pyimpl#CPython cfg/retry-mode#legacy";
constexpr const char* kGoAgent = "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.23.6 md/GOOS#linux md/GOARCH#amd64";
constexpr const char* kConsoleAgent = "AWS Internal";

struct Person {
  std::string first, last, login, display, okta_id;
  std::string sid;  // the Okta session of the steady background traffic
  std::string ip, ua, city, country;
  double lat = 0, lon = 0;
};

struct Place {
  const char* city;
  const char* state;
  const char* country;
  double lat, lon;
};
const std::vector<Place> kOffices = {{"Lisbon", "Lisbon", "Portugal", 38.7223, -9.1393},
                                     {"Dublin", "Leinster", "Ireland", 53.3498, -6.2603},
                                     {"Toronto", "Ontario", "Canada", 43.6532, -79.3832}};

// An AWS principal as CloudTrail records it in userIdentity.
struct Principal {
  std::string type;  // IAMUser, AssumedRole, SAMLUser
  std::string arn, principal_id, account, access_key, user_name;
  std::string issuer_arn, issuer_id, issuer_name;  // AssumedRole
  std::string identity_provider;                   // SAMLUser
  int64_t created = 0;                             // AssumedRole: creation time
  bool mfa = false, ec2 = false, console = false;
  std::string ip, ua;
};

std::string user_identity(const Principal& p) {
  J u;
  u.s("type", p.type);
  if (!p.principal_id.empty()) u.s("principalId", p.principal_id);
  if (!p.arn.empty()) u.s("arn", p.arn);
  if (!p.account.empty()) u.s("accountId", p.account);
  if (!p.access_key.empty()) u.s("accessKeyId", p.access_key);
  if (p.type == "IAMUser" || p.type == "SAMLUser") u.s("userName", p.user_name);
  if (p.type == "SAMLUser") u.s("identityProvider", p.identity_provider);
  if (p.type == "AssumedRole") {
    J issuer;
    issuer.s("type", "Role").s("principalId", p.issuer_id).s("arn", p.issuer_arn).s("accountId", p.account)
        .s("userName", p.issuer_name);
    J attrs;
    attrs.s("creationDate", rfc3339(p.created, false)).s("mfaAuthenticated", p.mfa ? "true" : "false");
    J ctx;
    ctx.obj("sessionIssuer", issuer).raw("webIdFederationData", "{}").obj("attributes", attrs);
    if (p.ec2) ctx.s("ec2RoleDelivery", "2.0");
    u.obj("sessionContext", ctx);
  } else if (p.type == "IAMUser" && p.console) {
    J attrs;
    attrs.s("creationDate", rfc3339(p.created, false)).s("mfaAuthenticated", p.mfa ? "true" : "false");
    u.raw("sessionContext", "{\"attributes\":" + attrs.str() + "}");
  }
  return u.str();
}

struct Event {
  int64_t t = 0;
  uint64_t seq = 0;
  std::string json;
};

class World {
 public:
  World(uint64_t seed, int64_t start, int64_t span) : rng_(seed), start_(start), span_(span) {}

  Rng& rng() { return rng_; }
  std::vector<Event>& events() { return events_; }
  int64_t start() const { return start_; }
  int64_t span() const { return span_; }

  void emit(int64_t t, std::string json) { events_.push_back({t, seq_++, std::move(json)}); }

  // One CloudTrail record.
  struct Call {
    Call() = default;
    Call(std::string src, std::string n) : source(std::move(src)), name(std::move(n)) {}
    std::string source, name;
    std::string region = "us-east-1";
    std::string request = "null", response = "null";
    bool read_only = true;
    std::string error_code, error_message;
    std::string recipient;  // default: the principal's account
    std::string event_type = "AwsApiCall";
    std::string additional;  // additionalEventData (raw JSON) when set
    std::string resources;   // resources (raw JSON array) when set
  };
  std::string cloudtrail(const Principal& p, int64_t t, const Call& c) {
    J e;
    e.s("eventVersion", "1.11").raw("userIdentity", user_identity(p)).s("eventTime", rfc3339(t, false))
        .s("eventSource", c.source).s("eventName", c.name).s("awsRegion", c.region).s("sourceIPAddress", p.ip)
        .s("userAgent", p.ua);
    if (!c.error_code.empty()) e.s("errorCode", c.error_code).s("errorMessage", c.error_message);
    e.raw("requestParameters", c.request).raw("responseElements", c.response);
    if (!c.additional.empty()) e.raw("additionalEventData", c.additional);
    e.s("requestID", rng_.uuid()).s("eventID", rng_.uuid()).b("readOnly", c.read_only);
    if (!c.resources.empty()) e.raw("resources", c.resources);
    e.s("eventType", c.event_type).b("managementEvent", true)
        .s("recipientAccountId", c.recipient.empty() ? (p.account.empty() ? kMainAccount : p.account) : c.recipient)
        .s("eventCategory", "Management");
    if (p.console) e.s("sessionCredentialFromConsole", "true");
    J tls;
    tls.s("tlsVersion", "TLSv1.3").s("cipherSuite", "TLS_AES_128_GCM_SHA256")
        .s("clientProvidedHostHeader", host_of(c.source, c.region));
    if (c.event_type == "AwsApiCall") e.obj("tlsDetails", tls);
    return e.str();
  }
  void call(const Principal& p, int64_t t, const Call& c) { emit(t, cloudtrail(p, t, c)); }

  static std::string host_of(const std::string& source, const std::string& region) {
    std::string svc = source.substr(0, source.find('.'));
    if (svc == "iam" || svc == "organizations") return svc + ".amazonaws.com";
    return svc + "." + region + ".amazonaws.com";
  }

  // One Okta System Log event.
  struct OktaEvent {
    std::string type, display, legacy;
    std::string result = "SUCCESS", reason;
    std::vector<std::string> targets;  // raw JSON objects
    bool proxy = false;
    std::string threat = "false";
    std::string debug_uri;
  };
  std::string okta(const Person& actor, const std::string& session_id, int64_t t, const OktaEvent& o,
                   const std::string& ip, const std::string& ua, const Place& where, const std::string& as_org) {
    J a;
    a.s("id", actor.okta_id).s("type", "User").s("alternateId", actor.login).s("displayName", actor.display)
        .null("detailEntry");
    J agent;
    agent.s("rawUserAgent", ua).s("os", ua.find("Windows") != std::string::npos ? "Windows 10"
                                         : ua.find("Linux") != std::string::npos ? "Linux"
                                                                                  : "Mac OS X")
        .s("browser", ua.find("Firefox") != std::string::npos ? "FIREFOX" : "CHROME");
    J geo;
    geo.f("lat", where.lat).f("lon", where.lon);
    J place;
    place.s("city", where.city).s("state", where.state).s("country", where.country).obj("geolocation", geo);
    J client;
    client.obj("userAgent", agent).s("zone", "null").s("device", "Computer").null("id").s("ipAddress", ip)
        .obj("geographicalContext", place);
    J auth;
    auth.i("authenticationStep", 0).s("externalSessionId", session_id);
    J outcome;
    outcome.s("result", o.result);
    if (o.reason.empty()) outcome.null("reason"); else outcome.s("reason", o.reason);
    std::string txid = rng_.base62(20);
    J debug;
    debug.s("requestId", txid).s("requestUri", o.debug_uri.empty() ? "/api/v1/authn" : o.debug_uri)
        .s("threatSuspected", o.threat);
    J ipc;
    ipc.s("ip", ip).s("version", "V4").null("source");
    J sec;
    sec.i("asNumber", o.proxy ? 64511 : 64500).s("asOrg", as_org).s("isp", o.proxy ? "example anonymizer" : "example isp")
        .s("domain", o.proxy ? "example-vpn.net" : "example.net").b("isProxy", o.proxy);
    J e;
    e.s("uuid", rng_.uuid()).s("published", rfc3339(t, true)).s("eventType", o.type).s("version", "0")
        .s("severity", o.result == "SUCCESS" ? "INFO" : "WARN").s("legacyEventType", o.legacy)
        .s("displayMessage", o.display).obj("actor", a).obj("client", client).obj("authenticationContext", auth)
        .obj("outcome", outcome).raw("target", arr(o.targets))
        .raw("transaction", "{\"type\":\"WEB\",\"id\":" + q(txid) + ",\"detail\":{}}")
        .raw("debugContext", "{\"debugData\":" + debug.str() + "}")
        .raw("request", "{\"ipChain\":[" + ipc.str() + "]}").obj("securityContext", sec);
    return e.str();
  }

  static std::string app_target(const std::string& id, const std::string& label, const std::string& display) {
    J t;
    t.s("id", id).s("type", "AppInstance").s("alternateId", label).s("displayName", display)
        .raw("detailEntry", "{\"signOnModeType\":\"SAML_2_0\"}");
    return t.str();
  }
  static std::string user_target(const Person& p) {
    J t;
    t.s("id", p.okta_id).s("type", "User").s("alternateId", p.login).s("displayName", p.display).null("detailEntry");
    return t.str();
  }

  Person person(const std::string& first, const std::string& last) {
    Person p;
    p.first = first;
    p.last = last;
    p.login = first + "." + last + "@example.com";
    p.display = std::string(1, static_cast<char>(first[0] - 32)) + first.substr(1) + " " +
                std::string(1, static_cast<char>(last[0] - 32)) + last.substr(1);
    p.okta_id = "00u" + rng_.base62(17);
    p.ip = "198.51.100." + std::to_string(rng_.range(10, 99));
    p.ua = rng_.pick(kBrowsers);
    return p;
  }
  std::string okta_session_id() { return "102" + rng_.base62(22); }

  // A SAML federation into AWS: the AssumeRoleWithSAML call, and the console role session it mints.
  Principal saml_login(const Person& u, int64_t t, const std::string& role, const std::string& ip,
                       const std::string& ua, bool console) {
    Principal saml;
    saml.type = "SAMLUser";
    saml.principal_id = "Lr4mNHhk0b3nR9Ixyy5iU4fzKjE=:" + u.login;
    saml.user_name = u.login;
    saml.identity_provider = "Lr4mNHhk0b3nR9Ixyy5iU4fzKjE=";
    saml.ip = ip;
    saml.ua = ua;
    std::string key = rng_.key("ASIA");
    std::string role_id = "AROA" + rng_.chars(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    std::string role_arn = std::string("arn:aws:iam::") + kMainAccount + ":role/" + role;
    std::string session_arn = std::string("arn:aws:sts::") + kMainAccount + ":assumed-role/" + role + "/" + u.login;
    J creds;
    creds.s("accessKeyId", key).s("sessionToken", "IQoJb3JpZ2luX2VjE" + rng_.base62(40))
        .s("expiration", rfc3339(t + kHour, false));
    J assumed;
    assumed.s("assumedRoleId", role_id + ":" + u.login).s("arn", session_arn);
    J resp;
    resp.obj("credentials", creds).obj("assumedRoleUser", assumed).s("subject", u.login)
        .s("subjectType", "persistent").s("issuer", "http://www.okta.com/exk1f3xkq9AWSfed697")
        .s("audience", "https://signin.aws.amazon.com/saml").s("nameQualifier", "s1b2c3d4e5f6g7h8i9j0k1l2m3n=");
    J req;
    req.s("sAMLAssertionID", "id" + std::to_string(rng_.range(100000000, 999999999))).s("roleSessionName", u.login)
        .s("principalArn", kSamlIdp).s("roleArn", role_arn).i("durationSeconds", 3600);
    Call c;
    c.source = "sts.amazonaws.com";
    c.name = "AssumeRoleWithSAML";
    c.request = req.str();
    c.response = resp.str();
    c.recipient = kMainAccount;
    c.resources = arr({J().s("ARN", role_arn).s("accountId", kMainAccount).s("type", "AWS::IAM::Role").str(),
                       J().s("ARN", kSamlIdp).s("accountId", kMainAccount).s("type", "AWS::IAM::SAMLProvider").str()});
    call(saml, t, c);

    Principal r;
    r.type = "AssumedRole";
    r.arn = session_arn;
    r.principal_id = role_id + ":" + u.login;
    r.account = kMainAccount;
    r.access_key = key;
    r.issuer_arn = role_arn;
    r.issuer_id = role_id;
    r.issuer_name = role;
    r.created = t;
    r.console = console;
    r.ip = ip;
    r.ua = console ? kConsoleAgent : ua;
    return r;
  }

  // An AssumeRole call by `caller`, and the role session it mints.
  Principal assume_role(const Principal& caller, int64_t t, const std::string& account, const std::string& role,
                        const std::string& session_name, const std::string& ip, const std::string& ua) {
    std::string key = rng_.key("ASIA");
    std::string role_id = "AROA" + rng_.chars(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    std::string role_arn = "arn:aws:iam::" + account + ":role/" + role;
    std::string session_arn = "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session_name;
    J creds;
    creds.s("accessKeyId", key).s("sessionToken", "IQoJb3JpZ2luX2VjE" + rng_.base62(40))
        .s("expiration", rfc3339(t + kHour, false));
    J assumed;
    assumed.s("assumedRoleId", role_id + ":" + session_name).s("arn", session_arn);
    J resp;
    resp.obj("credentials", creds).obj("assumedRoleUser", assumed);
    J req;
    req.s("roleArn", role_arn).s("roleSessionName", session_name).i("durationSeconds", 3600);
    Call c;
    c.source = "sts.amazonaws.com";
    c.name = "AssumeRole";
    c.request = req.str();
    c.response = resp.str();
    c.resources = arr({J().s("ARN", role_arn).s("accountId", account).s("type", "AWS::IAM::Role").str()});
    call(caller, t, c);

    Principal r;
    r.type = "AssumedRole";
    r.arn = session_arn;
    r.principal_id = role_id + ":" + session_name;
    r.account = account;
    r.access_key = key;
    r.issuer_arn = role_arn;
    r.issuer_id = role_id;
    r.issuer_name = role;
    r.created = t;
    r.ip = ip;
    r.ua = ua;
    return r;
  }

  // Read-only calls, one every few seconds from `t`; returns the time after the last.
  int64_t reads(const Principal& p, int64_t t, const std::vector<std::pair<std::string, std::string>>& calls,
                int64_t min_gap = 2 * kSec, int64_t max_gap = 9 * kSec) {
    for (const auto& [source, name] : calls) {
      t += rng_.range(min_gap, max_gap);
      Call c;
      c.source = source;
      c.name = name;
      call(p, t, c);
    }
    return t;
  }

 private:
  Rng rng_;
  int64_t start_, span_;
  std::vector<Event> events_;
  uint64_t seq_ = 0;
};

using Call = World::Call;

// ---------------------------------------------------------------------------------------------------------------
// Benign background

struct Cast {
  std::vector<Person> people;
  Principal ci_user, admin_user, inventory_fn;
  std::vector<Principal> instance_roles;
  Principal orders_fn;
};

Principal iam_user(World& w, const std::string& name, const std::string& account, const std::string& ip,
                   const std::string& ua) {
  Principal p;
  p.type = "IAMUser";
  p.user_name = name;
  p.arn = "arn:aws:iam::" + account + ":user/" + name;
  p.principal_id = "AIDA" + w.rng().chars(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  p.account = account;
  p.access_key = w.rng().key("AKIA");
  p.ip = ip;
  p.ua = ua;
  return p;
}

Principal service_role(World& w, const std::string& role, const std::string& session, const std::string& ua,
                       bool ec2) {
  Principal p;
  p.type = "AssumedRole";
  std::string role_id = "AROA" + w.rng().chars(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  p.arn = std::string("arn:aws:sts::") + kMainAccount + ":assumed-role/" + role + "/" + session;
  p.principal_id = role_id + ":" + session;
  p.account = kMainAccount;
  p.access_key = w.rng().key("ASIA");
  p.issuer_arn = std::string("arn:aws:iam::") + kMainAccount + ":role/" + role;
  p.issuer_id = role_id;
  p.issuer_name = role;
  p.created = w.start() - 20 * kMin;
  p.ec2 = ec2;
  p.ip = ec2 ? "10.0." + std::to_string(w.rng().range(1, 9)) + "." + std::to_string(w.rng().range(10, 250))
             : "54.240.197." + std::to_string(w.rng().range(1, 250));
  p.ua = ua;
  return p;
}

Cast make_cast(World& w, size_t people) {
  Cast c;
  std::vector<std::string> used;
  for (size_t i = 0; c.people.size() < people && i < people * 20; ++i) {
    std::string first = w.rng().pick(kFirstNames), last = w.rng().pick(kLastNames);
    std::string login = first + "." + last;
    // dana.reyes is the story's victim and lee.okafor its help-desk admin: keep them out of the background.
    if (login == "dana.reyes" || login == "lee.okafor") continue;
    if (std::find(used.begin(), used.end(), login) != used.end()) continue;
    used.push_back(login);
    c.people.push_back(w.person(first, last));
  }
  c.ci_user = iam_user(w, "ci-deployer", kMainAccount, "198.51.100.140", kGoAgent);
  c.admin_user = iam_user(w, "ops-admin", kMainAccount, "198.51.100.12", kConsoleAgent);
  for (int k = 0; k < 3; ++k) {
    std::string instance = "i-0" + w.rng().hex(16);
    c.instance_roles.push_back(service_role(w, "web-tier", instance, kBotoAgent, true));
  }
  c.orders_fn = service_role(w, "orders-fn", "orders-fn", kBotoAgent, false);
  c.inventory_fn = service_role(w, "inventory-collector", "inventory-collector", kBotoAgent, false);
  return c;
}

const Place& office_of(const Person& p) {
  return kOffices[static_cast<size_t>(p.okta_id.back()) % kOffices.size()];
}

// An Okta sign-in with MFA, then SSO into some apps (AWS among them, now and then).
void okta_workday(World& w, const Person& p, int64_t t) {
  const Place& where = office_of(p);
  std::string sid = w.okta_session_id();
  World::OktaEvent e;
  e.type = "user.session.start";
  e.legacy = "core.user_auth.login_success";
  e.display = "User login to Okta";
  w.emit(t, w.okta(p, sid, t, e, p.ip, p.ua, where, "example corp transit"));
  t += w.rng().range(5, 25) * kSec;
  e.type = "user.authentication.auth_via_mfa";
  e.legacy = "core.user.factor.attempt_success";
  e.display = "Authentication of user via MFA";
  w.emit(t, w.okta(p, sid, t, e, p.ip, p.ua, where, "example corp transit"));
  int apps = static_cast<int>(w.rng().range(1, 3));
  static const std::vector<std::pair<std::string, std::string>> kApps = {
      {"Slack", "Slack"}, {"Google Workspace", "Google Workspace"}, {"GitHub Enterprise Cloud", "GitHub"},
      {"AWS Production", "AWS Account Federation"}, {"Jira Cloud", "Atlassian Cloud"}};
  for (int k = 0; k < apps; ++k) {
    t += w.rng().range(1, 20) * kMin + w.rng().range(0, 59) * kSec;
    const auto& [label, display] = w.rng().pick(kApps);
    bool aws = display == "AWS Account Federation";
    World::OktaEvent sso;
    sso.type = "user.authentication.sso";
    sso.legacy = "app.auth.sso";
    sso.display = "User single sign on to app";
    sso.debug_uri = aws ? "/app/amazon_aws/exk1f3xkq9AWSfed697/sso/saml" : "/app/generic/sso/saml";
    sso.targets = {World::app_target(aws ? kOktaAwsApp : "0oa" + w.rng().base62(17), label, display)};
    w.emit(t, w.okta(p, sid, t, sso, p.ip, p.ua, where, "example corp transit"));
    if (aws) {
      // The browser posts the assertion to AWS sign-in a few seconds later; the console then reads a little.
      int64_t ta = t + w.rng().range(2, 6) * kSec;
      Principal role = w.saml_login(p, ta, w.rng().chance(0.5) ? "OktaReadOnly" : "OktaEngineer", p.ip, p.ua, true);
      static const std::vector<std::pair<std::string, std::string>> kConsoleReads = {
          {"ec2.amazonaws.com", "DescribeInstances"}, {"cloudwatch.amazonaws.com", "DescribeAlarms"},
          {"s3.amazonaws.com", "ListBuckets"}, {"lambda.amazonaws.com", "ListFunctions20150331"},
          {"health.amazonaws.com", "DescribeEventAggregates"}, {"ce.amazonaws.com", "GetCostAndUsage"},
          {"cloudformation.amazonaws.com", "DescribeStacks"}, {"logs.amazonaws.com", "DescribeLogGroups"}};
      std::vector<std::pair<std::string, std::string>> mix;
      int n = static_cast<int>(w.rng().range(2, 5));
      for (int i = 0; i < n; ++i) mix.push_back(w.rng().pick(kConsoleReads));
      w.reads(role, ta + 20 * kSec, mix, 5 * kSec, 90 * kSec);
    }
  }
  if (w.rng().chance(0.3)) {
    t += w.rng().range(30, 120) * kMin;
    World::OktaEvent end;
    end.type = "user.session.end";
    end.legacy = "core.user_auth.logout_success";
    end.display = "User logout from Okta";
    w.emit(t, w.okta(p, sid, t, end, p.ip, p.ua, where, "example corp transit"));
  }
}

// A user resetting their own factor on a new phone: routine, and a near miss for okta.persistence.mfa_factors_reset.
void okta_self_service(World& w, const Person& p, int64_t t) {
  const Place& where = office_of(p);
  std::string sid = w.okta_session_id();
  World::OktaEvent e;
  e.type = "user.mfa.factor.deactivate";
  e.legacy = "core.user.factor.deactivate";
  e.display = "Reset factor for user";
  e.targets = {World::user_target(p), J().s("id", "mbl" + w.rng().base62(17)).s("type", "Factor")
                                           .s("alternateId", "unknown").s("displayName", "Okta Verify").str()};
  w.emit(t, w.okta(p, sid, t, e, p.ip, p.ua, where, "example corp transit"));
  t += w.rng().range(30, 90) * kSec;
  e.type = "user.mfa.factor.activate";
  e.legacy = "core.user.factor.activate";
  e.display = "Activate factor for user";
  w.emit(t, w.okta(p, sid, t, e, p.ip, p.ua, where, "example corp transit"));
}

// CI: the ci-deployer key assumes the deploy role in its own account, which deploys a stack.
void ci_deploy(World& w, Cast& c, int64_t t) {
  Principal ci = c.ci_user;
  w.call(ci, t, Call{"sts.amazonaws.com", "GetCallerIdentity"});
  Principal deploy = w.assume_role(ci, t + 2 * kSec, kMainAccount, "deploy",
                                   "gha-" + std::to_string(w.rng().range(1000000, 9999999)), ci.ip, kGoAgent);
  std::string stack = w.rng().chance(0.5) ? "orders-api" : "web-frontend";
  int64_t u = t + 5 * kSec;
  auto write = [&](std::string source, std::string name, std::string req) {
    u += w.rng().range(2, 12) * kSec;
    Call k;
    k.source = std::move(source);
    k.name = std::move(name);
    k.request = std::move(req);
    k.read_only = false;
    w.call(deploy, u, k);
  };
  u = w.reads(deploy, u, {{"cloudformation.amazonaws.com", "DescribeStacks"},
                          {"ecr.amazonaws.com", "GetAuthorizationToken"}});
  write("cloudformation.amazonaws.com", "CreateChangeSet",
        J().s("stackName", stack).s("changeSetName", "deploy-" + w.rng().hex(8)).str());
  u = w.reads(deploy, u, {{"cloudformation.amazonaws.com", "DescribeChangeSet"}});
  write("cloudformation.amazonaws.com", "ExecuteChangeSet", J().s("stackName", stack).str());
  write("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", J().s("functionName", stack + "-handler").str());
  w.reads(deploy, u, {{"cloudformation.amazonaws.com", "DescribeStackEvents"},
                      {"cloudformation.amazonaws.com", "DescribeStacks"}}, 20 * kSec, 60 * kSec);
}

// An inventory job assumes a read-only role in the payments account and describes things there: a benign
// cross-account hop (a near miss for aws.lateral_movement.cross_account_role_then_persistence).
void inventory(World& w, Cast& c, int64_t t) {
  Principal ro = w.assume_role(c.inventory_fn, t, kPaymentsAccount, "InventoryReadOnly", "inventory-collector",
                               c.inventory_fn.ip, kBotoAgent);
  w.reads(ro, t + 3 * kSec, {{"ec2.amazonaws.com", "DescribeInstances"}, {"ec2.amazonaws.com", "DescribeVolumes"},
                             {"rds.amazonaws.com", "DescribeDBInstances"}, {"s3.amazonaws.com", "ListBuckets"},
                             {"lambda.amazonaws.com", "ListFunctions20150331"}},
          1 * kSec, 4 * kSec);
}

// Workloads reading their configuration: the same parameters and secret, over and over.
void workload(World& w, Cast& c, int64_t t) {
  if (w.rng().chance(0.7)) {
    const Principal& p = w.rng().pick(c.instance_roles);
    Call k;
    int pick = static_cast<int>(w.rng().below(4));
    if (pick == 0) {
      k = Call{"ssm.amazonaws.com", "GetParameters"};
      k.request = "{\"names\":[\"/web/prod/db-host\",\"/web/prod/feature-flags\"],\"withDecryption\":false}";
    } else if (pick == 1) {
      k = Call{"secretsmanager.amazonaws.com", "GetSecretValue"};
      k.request = "{\"secretId\":\"prod/web/db-password\"}";
    } else if (pick == 2) {
      k = Call{"kms.amazonaws.com", "Decrypt"};
      k.request = "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}";
    } else {
      k = Call{"ec2.amazonaws.com", "DescribeTags"};
    }
    w.call(p, t, k);
  } else {
    Call k{"dynamodb.amazonaws.com", "DescribeTable"};
    k.request = "{\"tableName\":\"orders\"}";
    w.call(c.orders_fn, t, k);
    if (w.rng().chance(0.3)) {
      // The orders function lacks one permission and retries it: denied again and again, always the same call.
      Call d{"sqs.amazonaws.com", "GetQueueAttributes"};
      d.request = "{\"queueUrl\":\"https://sqs.us-east-1.amazonaws.com/111122223333/orders-dlq\"}";
      d.error_code = "AccessDenied";
      d.error_message = "User: " + c.orders_fn.arn + " is not authorized to perform: sqs:GetQueueAttributes";
      w.call(c.orders_fn, t + 1 * kSec, d);
    }
  }
}

// The administrator signs in to the console with MFA and reviews IAM (a near miss for the no-MFA rule).
void admin_console(World& w, Cast& c, int64_t t) {
  Principal a = c.admin_user;
  a.access_key.clear();
  a.ua = w.rng().pick(kBrowsers);
  Call login{"signin.amazonaws.com", "ConsoleLogin"};
  login.read_only = false;
  login.event_type = "AwsConsoleSignIn";
  login.response = "{\"ConsoleLogin\":\"Success\"}";
  login.additional = "{\"LoginTo\":\"https://console.aws.amazon.com/console/home\",\"MobileVersion\":\"No\","
                     "\"MFAIdentifier\":\"arn:aws:iam::111122223333:mfa/ops-admin\",\"MFAUsed\":\"Yes\"}";
  w.call(a, t, login);
  Principal console = c.admin_user;
  console.access_key = w.rng().key("ASIA");
  console.console = true;
  console.mfa = true;
  console.created = t;
  console.ua = kConsoleAgent;
  w.reads(console, t + 15 * kSec, {{"iam.amazonaws.com", "ListUsers"}, {"iam.amazonaws.com", "GetAccountSummary"},
                                   {"iam.amazonaws.com", "ListRoles"}, {"access-analyzer.amazonaws.com", "ListAnalyzers"}},
          5 * kSec, 40 * kSec);
}

// Services acting for principals (CloudFormation creating a log group, Config describing).
void service_activity(World& w, Cast& c, int64_t t) {
  Principal s = c.ci_user;
  s.ip = "cloudformation.amazonaws.com";
  s.ua = "cloudformation.amazonaws.com";
  Call k{"logs.amazonaws.com", "CreateLogStream"};
  k.read_only = false;
  k.request = "{\"logGroupName\":\"/aws/lambda/orders-api-handler\",\"logStreamName\":\"2025/03/04/[$LATEST]" +
              w.rng().hex(32) + "\"}";
  w.call(s, t, k);
}

// GCP audit: a service account's data pipeline, and an engineer in the console.
void gcp_activity(World& w, const Cast& c, int64_t t) {
  bool human = w.rng().chance(0.4);
  std::string email = human ? w.rng().pick(c.people).login : "etl-runner@data-platform-prod.iam.gserviceaccount.com";
  static const std::vector<std::pair<std::string, std::string>> kMethods = {
      {"bigquery.googleapis.com", "google.cloud.bigquery.v2.JobService.InsertJob"},
      {"storage.googleapis.com", "storage.objects.list"},
      {"compute.googleapis.com", "v1.compute.instances.list"},
      {"iam.googleapis.com", "google.iam.admin.v1.ListServiceAccounts"}};
  const auto& [service, method] = w.rng().pick(kMethods);
  J auth;
  auth.s("principalEmail", email);
  if (!human) auth.s("serviceAccountKeyName", "//iam.googleapis.com/projects/data-platform-prod/serviceAccounts/"
                                              "etl-runner@data-platform-prod.iam.gserviceaccount.com/keys/" +
                                                  w.rng().hex(40));
  J meta;
  meta.s("callerIp", human ? "198.51.100.77" : "private").s("callerSuppliedUserAgent", "google-cloud-sdk gcloud/512.0.0");
  J proto;
  proto.s("@type", "type.googleapis.com/google.cloud.audit.AuditLog").raw("status", "{}").obj("authenticationInfo", auth)
      .obj("requestMetadata", meta).s("serviceName", service).s("methodName", method)
      .s("resourceName", "projects/data-platform-prod");
  J e;
  e.obj("protoPayload", proto).s("insertId", w.rng().base62(12))
      .raw("resource", "{\"type\":\"project\",\"labels\":{\"project_id\":\"data-platform-prod\"}}")
      .s("timestamp", rfc3339(t, true)).s("severity", "INFO")
      .s("logName", "projects/data-platform-prod/logs/cloudaudit.googleapis.com%2Fdata_access")
      .s("receiveTimestamp", rfc3339(t + 400, true));
  w.emit(t, e.str());
}

// GitHub audit: pushes, pull requests, workflow runs.
void github_activity(World& w, const Cast& c, int64_t t) {
  const Person& p = w.rng().pick(c.people);
  static const std::vector<std::string> kActions = {"git.push", "pull_request.create", "pull_request.merge",
                                                    "workflows.completed_workflow_run", "repo.download_zip"};
  J e;
  e.s("@timestamp", rfc3339(t, true)).s("action", w.rng().pick(kActions)).s("actor", p.first + "-" + p.last)
      .s("actor_ip", p.ip).raw("actor_location", "{\"country_code\":\"PT\"}")
      .s("created_at", rfc3339(t, true)).s("_document_id", w.rng().base62(22)).s("org", "example-corp")
      .s("repo", "example-corp/" + std::string(w.rng().chance(0.5) ? "orders-api" : "web-frontend"))
      .s("operation_type", "create").s("transport_protocol_name", "http");
  w.emit(t, e.str());
}

// Okta's log never goes quiet in a company of any size: people keep opening apps. One such SSO every one to four
// minutes also keeps the okta.system watermark moving, which the Okta -> AWS link needs (the AWS side, with its
// larger lateness, is released later only while Okta events keep arriving).
void okta_steady(World& w, Cast& c) {
  static const std::vector<std::pair<std::string, std::string>> kApps = {
      {"Slack", "Slack"}, {"Google Workspace", "Google Workspace"}, {"Jira Cloud", "Atlassian Cloud"},
      {"Zoom", "Zoom"}};
  for (int64_t t = w.start() + w.rng().range(10, 90) * kSec; t < w.start() + w.span();
       t += w.rng().range(60, 240) * kSec) {
    Person& p = c.people[w.rng().below(c.people.size())];
    if (p.sid.empty()) p.sid = w.okta_session_id();
    const auto& [label, display] = w.rng().pick(kApps);
    World::OktaEvent sso;
    sso.type = "user.authentication.sso";
    sso.legacy = "app.auth.sso";
    sso.display = "User single sign on to app";
    sso.debug_uri = "/app/generic/sso/saml";
    sso.targets = {World::app_target("0oa" + w.rng().base62(17), label, display)};
    w.emit(t, w.okta(p, p.sid, t, sso, p.ip, p.ua, office_of(p), "example corp transit"));
  }
}

// CloudTrail is the busiest log of all: the workloads call AWS every minute or so, all day.
void aws_steady(World& w, Cast& c) {
  for (int64_t t = w.start() + w.rng().range(5, 60) * kSec; t < w.start() + w.span();
       t += w.rng().range(20, 100) * kSec) {
    workload(w, c, t);
  }
}

void background(World& w, Cast& c, size_t budget, bool gcp, bool github) {
  okta_steady(w, c);
  aws_steady(w, c);
  // Each activity adds a few events; keep adding until the budget is reached.
  while (w.events().size() < budget) {
    int64_t t = w.start() + static_cast<int64_t>(w.rng().below(static_cast<uint64_t>(w.span())));
    uint64_t roll = w.rng().below(100);
    if (roll < 30) okta_workday(w, w.rng().pick(c.people), t);
    else if (roll < 33) okta_self_service(w, w.rng().pick(c.people), t);
    else if (roll < 40) ci_deploy(w, c, t);
    else if (roll < 44) inventory(w, c, t);
    else if (roll < 47) admin_console(w, c, t);
    else if (roll < 50) service_activity(w, c, t);
    else if (roll < 60 && gcp) gcp_activity(w, c, t);
    else if (roll < 70 && github) github_activity(w, c, t);
    else workload(w, c, t);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The story: an Okta account takeover that hops into AWS and across accounts.

void story(World& w, int64_t s) {
  Rng& r = w.rng();
  Person victim = w.person("dana", "reyes");
  Person helpdesk = w.person("lee", "okafor");
  const Place& office = kOffices[0];
  const Place exit_node{"Frankfurt am Main", "Hesse", "Germany", 50.1109, 8.6821};
  const std::string proxy_ip = "203.0.113.66";
  const std::string attacker_ua = kBrowsers[3];

  // 1. The help desk, talked into it over the phone, resets all of Dana's MFA factors.
  World::OktaEvent reset;
  reset.type = "user.mfa.factor.reset_all";
  reset.legacy = "core.user.factor.reset_all";
  reset.display = "Reset all factors for user";
  reset.debug_uri = "/api/v1/users/" + victim.okta_id + "/lifecycle/reset_factors";
  reset.targets = {World::user_target(victim)};
  w.emit(s, w.okta(helpdesk, w.okta_session_id(), s, reset, helpdesk.ip, helpdesk.ua, office, "example corp transit"));

  // 2. Twelve minutes later: a sign-in as Dana from a new device behind an anonymising proxy, a new factor
  //    enrolled, and SSO into the AWS app.
  std::string sid = w.okta_session_id();
  int64_t t = s + 12 * kMin + 7 * kSec;
  World::OktaEvent e;
  e.proxy = true;
  e.threat = "true";
  e.type = "user.session.start";
  e.legacy = "core.user_auth.login_success";
  e.display = "User login to Okta";
  w.emit(t, w.okta(victim, sid, t, e, proxy_ip, attacker_ua, exit_node, "example anonymizer"));
  t += 41 * kSec;
  e.type = "user.mfa.factor.activate";
  e.legacy = "core.user.factor.activate";
  e.display = "Activate factor for user";
  e.targets = {World::user_target(victim)};
  w.emit(t, w.okta(victim, sid, t, e, proxy_ip, attacker_ua, exit_node, "example anonymizer"));
  t += 2 * kMin + 13 * kSec;
  e.type = "user.authentication.sso";
  e.legacy = "app.auth.sso";
  e.display = "User single sign on to app";
  e.debug_uri = "/app/amazon_aws/exk1f3xkq9AWSfed697/sso/saml";
  e.targets = {World::app_target(kOktaAwsApp, "AWS Production", "AWS Account Federation")};
  w.emit(t, w.okta(victim, sid, t, e, proxy_ip, attacker_ua, exit_node, "example anonymizer"));

  // The attacker looks around Dana's other apps from the same Okta session.
  for (auto [after, label, display] : {std::tuple{6 * kMin + 2 * kSec, "Google Workspace", "Google Workspace"},
                                       std::tuple{9 * kMin + 40 * kSec, "Slack", "Slack"}}) {
    World::OktaEvent more = e;
    more.debug_uri = "/app/generic/sso/saml";
    more.targets = {World::app_target("0oa" + r.base62(17), label, display)};
    w.emit(t + after, w.okta(victim, sid, t + after, more, proxy_ip, attacker_ua, exit_node, "example anonymizer"));
  }

  // 3. The SAML assertion is exchanged for role credentials (AssumeRoleWithSAML mints an ASIA key), used from the
  //    command line rather than the console.
  t += 4 * kSec;
  Principal eng = w.saml_login(victim, t, "OktaEngineer", proxy_ip, attacker_ua, false);
  eng.ua = std::string(kCliAgent) + "sts.get-caller-identity";

  // 4. A burst of discovery with the role session, then secrets listed and read.
  t = w.reads(eng, t + 50 * kSec,
              {{"sts.amazonaws.com", "GetCallerIdentity"}, {"iam.amazonaws.com", "ListAccountAliases"},
               {"iam.amazonaws.com", "GetAccountAuthorizationDetails"}, {"iam.amazonaws.com", "ListUsers"},
               {"iam.amazonaws.com", "ListRoles"}, {"iam.amazonaws.com", "ListPolicies"},
               {"iam.amazonaws.com", "ListAttachedRolePolicies"}, {"s3.amazonaws.com", "ListBuckets"},
               {"ec2.amazonaws.com", "DescribeRegions"}, {"ec2.amazonaws.com", "DescribeInstances"},
               {"cloudtrail.amazonaws.com", "DescribeTrails"}, {"organizations.amazonaws.com", "DescribeOrganization"},
               {"secretsmanager.amazonaws.com", "ListSecrets"}});
  {
    Call denied{"organizations.amazonaws.com", "ListAccounts"};
    denied.error_code = "AccessDeniedException";
    denied.error_message = "You don't have permissions to access this resource.";
    t += 6 * kSec;
    w.call(eng, t, denied);
  }
  for (const char* secret : {"prod/payments/stripe-api-key", "prod/orders/db-password", "prod/web/session-signing-key",
                             "prod/ci/github-token", "prod/payments/ledger-db", "prod/okta/scim-token"}) {
    t += r.range(3, 8) * kSec;
    Call g{"secretsmanager.amazonaws.com", "GetSecretValue"};
    g.request = J().s("secretId", secret).str();
    w.call(eng, t, g);
  }

  // 4b. One of the secrets is the CI machine user's GitHub token: from the proxy, the attacker clones the
  //     organisation's repositories with it, one after another (GitHub audit log; the AWS story goes on meanwhile).
  {
    int64_t g = t + 2 * kMin + 30 * kSec;
    const std::string token_hash = r.base62(43) + "=";
    static const std::vector<std::string> kRepos = {
        "orders-api", "web-frontend", "payments-service", "ledger", "infra-terraform", "k8s-manifests",
        "okta-scim-bridge", "mobile-app", "data-pipelines", "billing-jobs", "auth-gateway", "search-indexer",
        "notifications", "admin-portal", "feature-flags", "ci-templates", "docs-internal", "fraud-models",
        "support-tools", "release-scripts", "secrets-rotation", "partner-api"};
    for (const std::string& repo : kRepos) {
      g += r.range(20, 70) * kSec;
      J clone;
      clone.s("@timestamp", rfc3339(g, true)).s("action", "git.clone").s("actor", "example-corp-ci")
          .s("actor_ip", proxy_ip).raw("actor_location", "{\"country_code\":\"DE\"}")
          .s("created_at", rfc3339(g, true)).s("_document_id", r.base62(22)).s("org", "example-corp")
          .s("repo", "example-corp/" + repo).s("repository", "example-corp/" + repo)
          .s("programmatic_access_type", "personal_access_token").s("hashed_token", token_hash)
          .s("user_agent", "git/2.43.0").s("operation_type", "access").s("transport_protocol_name", "http");
      w.emit(g, clone.str());
    }
  }

  // 5. A hop into the payments account through the organisation's admin role: AssumeRole mints another ASIA key.
  t += 1 * kMin + 12 * kSec;
  Principal pay = w.assume_role(eng, t, kPaymentsAccount, "OrganizationAccountAccessRole", "dana.reyes", proxy_ip,
                                std::string(kCliAgent) + "sts.assume-role");

  // 6. Discovery again in the new account, then persistence: a user with a key, administrator rights and a
  //    console password (no MFA device).
  t = w.reads(pay, t + 35 * kSec,
              {{"sts.amazonaws.com", "GetCallerIdentity"}, {"iam.amazonaws.com", "GetAccountSummary"},
               {"iam.amazonaws.com", "ListUsers"}, {"iam.amazonaws.com", "ListRoles"},
               {"iam.amazonaws.com", "ListGroups"}, {"iam.amazonaws.com", "ListAttachedUserPolicies"},
               {"iam.amazonaws.com", "ListAccessKeys"}, {"s3.amazonaws.com", "ListBuckets"},
               {"ec2.amazonaws.com", "DescribeInstances"}, {"ec2.amazonaws.com", "DescribeSnapshots"},
               {"cloudtrail.amazonaws.com", "DescribeTrails"}, {"cloudtrail.amazonaws.com", "GetTrailStatus"},
               {"guardduty.amazonaws.com", "ListDetectors"}});
  const std::string backdoor = "svc-backup-sync";
  auto write = [&](const char* source, const char* name, std::string req, std::string resp) {
    t += r.range(8, 25) * kSec;
    Call k{source, name};
    k.read_only = false;
    k.request = std::move(req);
    k.response = std::move(resp);
    w.call(pay, t, k);
  };
  std::string user_id = "AIDA" + r.chars(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  write("iam.amazonaws.com", "CreateUser", J().s("userName", backdoor).str(),
        "{\"user\":" + J().s("path", "/").s("userName", backdoor).s("userId", user_id)
                           .s("arn", std::string("arn:aws:iam::") + kPaymentsAccount + ":user/" + backdoor)
                           .s("createDate", rfc3339(t, false)).str() + "}");
  std::string new_key = r.key("AKIA");
  write("iam.amazonaws.com", "CreateAccessKey", J().s("userName", backdoor).str(),
        "{\"accessKey\":" + J().s("userName", backdoor).s("accessKeyId", new_key).s("status", "Active")
                                .s("createDate", rfc3339(t, false)).str() + "}");
  write("iam.amazonaws.com", "AttachUserPolicy",
        J().s("userName", backdoor).s("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess").str(), "null");
  write("iam.amazonaws.com", "CreateLoginProfile", J().s("userName", backdoor).b("passwordResetRequired", false).str(),
        "{\"loginProfile\":" + J().s("userName", backdoor).s("createDate", rfc3339(t, false))
                                   .b("passwordResetRequired", false).str() + "}");

  // 7. Blind the account: stop the trail, delete the GuardDuty detector.
  write("cloudtrail.amazonaws.com", "StopLogging",
        J().s("name", std::string("arn:aws:cloudtrail:us-east-1:") + kPaymentsAccount + ":trail/payments-audit").str(),
        "null");
  write("guardduty.amazonaws.com", "DeleteDetector", J().s("detectorId", "7ec8f1a2b3c4d5e6f7a8b9c0d1e2f3a4").str(),
        "null");

  // 8. Later, the new long-term key is used from a server: the bucket list, then a snapshot shared out.
  Principal key_user;
  key_user.type = "IAMUser";
  key_user.user_name = backdoor;
  key_user.arn = std::string("arn:aws:iam::") + kPaymentsAccount + ":user/" + backdoor;
  key_user.principal_id = user_id;
  key_user.account = kPaymentsAccount;
  key_user.access_key = new_key;
  key_user.ip = "192.0.2.150";
  key_user.ua = kBotoAgent;
  t += 38 * kMin + 21 * kSec;
  t = w.reads(key_user, t, {{"sts.amazonaws.com", "GetCallerIdentity"}, {"s3.amazonaws.com", "ListBuckets"},
                            {"ec2.amazonaws.com", "DescribeSnapshots"}});
  t += 14 * kSec;
  Call share{"ec2.amazonaws.com", "ModifySnapshotAttribute"};
  share.read_only = false;
  share.request = J().s("snapshotId", "snap-0a1b2c3d4e5f67890")
                      .raw("createVolumePermission",
                           "{\"add\":{\"items\":[{\"userId\":\"" + std::string(kExternalAccount) + "\"}]}}")
                      .s("attributeType", "CREATE_VOLUME_PERMISSION").str();
  share.response = "{\"_return\":true}";
  w.call(key_user, t, share);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"braid-gen: deterministic demo and benign event streams (CloudTrail, Okta; optionally GCP, GitHub) "
               "as NDJSON sorted by event time.",
               "braid-gen"};
  uint64_t seed = 1;
  bool with_story = false, gcp = false, github = false;
  size_t background_events = 500, people = 30;
  double hours = 3;
  std::string start_text = "2025-03-04T08:00:00Z", output;
  app.add_option("--seed", seed, "Seed: the same seed and options give the same bytes")->type_name("N");
  app.add_flag("--story", with_story, "Add the attack story (Okta takeover, SSO into AWS, cross-account hop)");
  app.add_option("--background", background_events, "Approximate number of benign background events")
      ->type_name("N");
  app.add_option("--people", people, "Okta users in the background")->check(CLI::Range(1, 300))->type_name("N");
  app.add_option("--hours", hours, "Time span of the background")->check(CLI::Range(0.1, 240.0))->type_name("H");
  app.add_option("--start", start_text, "Start of the stream, YYYY-MM-DDTHH:MM:SSZ")->type_name("TIME");
  app.add_flag("--gcp", gcp, "Also generate GCP audit background events");
  app.add_flag("--github", github, "Also generate GitHub audit background events");
  app.add_option("--output,-o", output, "Write to FILE instead of stdout")->type_name("FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      app.exit(e, std::cout, std::cerr);
      return 0;
    }
    std::cerr << "braid-gen: error: " << e.what() << "\nRun `braid-gen --help` for usage.\n";
    return 2;
  }
  int64_t start = 0;
  if (!parse_start(start_text, start)) {
    std::cerr << "braid-gen: error: --start must look like 2025-03-04T08:00:00Z\n";
    return 2;
  }
  try {
    int64_t span = static_cast<int64_t>(hours * static_cast<double>(kHour));
    World w(seed, start, span);
    Cast cast = make_cast(w, people);
    background(w, cast, background_events, gcp, github);
    // The story starts a third of the way in (at most an hour), so background traffic surrounds it.
    if (with_story) story(w, start + std::min<int64_t>(kHour, span / 3));
    std::vector<Event>& ev = w.events();
    std::stable_sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) {
      return a.t != b.t ? a.t < b.t : a.seq < b.seq;
    });
    std::string text;
    for (const Event& e : ev) {
      text += e.json;
      text += '\n';
    }
    FILE* f = output.empty() || output == "-" ? stdout : std::fopen(output.c_str(), "wb");
    if (!f) {
      std::cerr << "braid-gen: error: cannot write `" << output << "`: " << std::strerror(errno) << "\n";
      return 2;
    }
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (f == stdout ? std::fflush(f) == 0 : std::fclose(f) == 0) && ok;
    if (!ok) {
      std::cerr << "braid-gen: error: cannot write the output: " << std::strerror(errno) << "\n";
      return 2;
    }
    std::cerr << "braid-gen: " << ev.size() << " events\n";
  } catch (const std::exception& e) {
    std::cerr << "braid-gen: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
