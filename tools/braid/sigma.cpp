// `braid import sigma`: see sigma.h and docs/sigma.md.
//
// Mapping, in short:
//   - logsource (product, service) -> a Braid source, with a table from Sigma field names to source paths; a field the
//     source does not declare is refused (the rule is not converted), never dropped;
//   - a selection (map) -> the conjunction of its field conditions; a list of maps -> their disjunction; a field with a
//     list of values -> any of them (all of them with |all);
//   - values: Sigma compares strings case-insensitively and `*`/`?` are wildcards, so plain values become `==~`, or
//     `like~` when they hold a wildcard; contains/startswith/endswith their `~` operators; |cased drops the `~`;
//     |re is RE2 `matches` (case-sensitive, |i makes it `matches~`, |m and |s become (?m) and (?s)); |cidr `in cidr`;
//     |exists `exists()`; |gt.. numeric comparisons; |neq the negation; |fieldref a comparison with the other field;
//     null `is null`; 'true'/'false' through the field's declared type (bool or free-form object: a JSON boolean;
//     string: the text);
//   - condition: and, or, not, parentheses, `1 of` / `all of` a name pattern or `them`;
//   - metadata: title, id, status, description, author, references, falsepositives, level -> severity, attack.* tags
//     -> ATT&CK ids; the Sigma id, the author and the Detection Rule License notice are kept in the rule and in every
//     alert's message.
//   - correlation rules (v2.1) grouped by the session's identity or credential: session rules (see correlation_rule).
// Everything else is refused with the construct and the reason: encoding modifiers (base64, utf16, windash), expand,
// time modifiers, keyword (field-less) searches, Sigma 1.x aggregations, correlations grouped by other fields,
// logsources without a Braid source.
#include "sigma.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "diag/codes.h"
#include "diag/render.h"
#include "driver/driver.h"
#include "format/formatter.h"
#include "ir/ir.h"
#include "verbs.h"

namespace braid::cli {

namespace {

namespace fs = std::filesystem;

struct Refused {
  SigmaRefusal r;
};
[[noreturn]] void refuse(std::string construct, std::string reason) {
  throw Refused{SigmaRefusal{std::move(construct), std::move(reason)}};
}

// ---------------------------------------------------------------------------------------------------------------
// Logsources and field names

struct FieldRename {
  const char* sigma;
  const char* braid;
};

struct LogSource {
  const char* product;
  const char* service;
  const char* source;           // the Braid source
  const char* message_fields;   // the part of the alert message after the Sigma attribution
  std::vector<FieldRename> renames;
};

const std::vector<FieldRename> kWorkspaceRenames = {
    {"eventService", "protoPayload.serviceName"},
    {"eventName", "protoPayload.metadata.event[*].eventName"},
    {"protoPayload.metadata.event.eventName", "protoPayload.metadata.event[*].eventName"},
    {"protoPayload.metadata.event.eventType", "protoPayload.metadata.event[*].eventType"}};

const std::vector<LogSource>& log_sources() {
  static const std::vector<LogSource> sources = {
      {"aws", "cloudtrail", "aws.cloudtrail", "{userIdentity.arn} called {eventSource} {eventName}", {}},
      {"okta", "okta", "okta.system", "{actor.alternateId}: {eventType}",
       {{"target.displayName", "target[*].displayName"},
        {"target.alternateId", "target[*].alternateId"},
        {"target.type", "target[*].type"},
        {"target.id", "target[*].id"}}},
      {"github", "audit", "github.audit", "{actor}: {action}", {}},
      {"gcp", "gcp.audit", "gcp.audit", "{protoPayload.authenticationInfo.principalEmail}: {protoPayload.methodName}",
       {{"gcp.audit.method_name", "protoPayload.methodName"},
        {"data.protoPayload.methodName", "protoPayload.methodName"},
        {"data.protoPayload.serviceName", "protoPayload.serviceName"},
        {"data.protoPayload.resource.type", "resource.type"},
        {"data.protoPayload.logName", "logName"},
        {"data.protoPayload.authorizationInfo.permission", "protoPayload.authorizationInfo[*].permission"},
        {"data.protoPayload.authorizationInfo.granted", "protoPayload.authorizationInfo[*].granted"},
        {"protoPayload.authorizationInfo.permission", "protoPayload.authorizationInfo[*].permission"},
        {"protoPayload.authorizationInfo.granted", "protoPayload.authorizationInfo[*].granted"}}},
      // Sigma's Azure rules use the flattened names of the Azure Monitor export; the Braid sources keep its
      // `properties` object (stdlib/entra). Names with no counterpart (Status of a sign-in, ActivityDetails,
      // ConsentContext...) are refused.
      {"azure", "signinlogs", "entra.signin", "{properties.userPrincipalName}: {properties.appDisplayName}",
       {{"ResultType", "properties.status.errorCode"},
        {"ResultDescription", "properties.status.failureReason"},
        {"Resultdescription", "properties.status.failureReason"},
        {"AuthenticationRequirement", "properties.authenticationRequirement"},
        {"ConditionalAccessStatus", "properties.conditionalAccessStatus"},
        {"conditionalAccessStatus", "properties.conditionalAccessStatus"},
        {"ClientApp", "properties.clientAppUsed"},
        {"userAgent", "properties.userAgent"},
        {"ResourceDisplayName", "properties.resourceDisplayName"},
        {"RiskState", "properties.riskState"},
        {"Username", "properties.userPrincipalName"},
        {"DeviceDetail.deviceId", "properties.deviceDetail.deviceId"},
        {"DeviceDetail.isCompliant", "properties.deviceDetail.isCompliant"},
        {"DeviceDetail.trusttype", "properties.deviceDetail.trustType"}}},
      {"azure", "auditlogs", "entra.audit", "{properties.activityDisplayName}",
       {{"ActivityDisplayName", "properties.activityDisplayName"},
        {"activityDisplayName", "properties.activityDisplayName"},
        {"OperationName", "operationName"},
        {"Category", "properties.category"},
        {"LoggedByService", "properties.loggedByService"},
        {"Status", "properties.result"},
        {"ResultReason", "properties.resultReason"},
        {"failure_status_reason", "properties.resultReason"},
        {"TargetResources.ModifiedProperties.DisplayName", "properties.targetResources[*].modifiedProperties[*].displayName"},
        {"TargetResources.ModifiedProperties.NewValue", "properties.targetResources[*].modifiedProperties[*].newValue"},
        {"TargetResources.modifiedProperties.newValue", "properties.targetResources[*].modifiedProperties[*].newValue"},
        {"targetResources.type", "properties.targetResources[*].type"}}},
      // The Log Analytics columns of AzureActivity (`OperationNameValue`, `CategoryValue`, `ResourceId`) mapped to the
      // diagnostic export's members. `ResourceProviderValue` has no member there (it is the first segment of
      // operationName): refused as an undeclared field.
      {"azure", "activitylogs", "azure.activity", "{operationName} on {resourceId}",
       {{"OperationNameValue", "operationName"},
        {"OperationName", "operationName"},
        {"CategoryValue", "category"},
        {"Category", "category"},
        {"ResourceId", "resourceId"},
        {"CallerIpAddress", "callerIpAddress"}}},
      // Google Workspace audit logs shared with Google Cloud arrive as Cloud Audit Logs (serviceName
      // admin.googleapis.com, login.googleapis.com; the Workspace event in protoPayload.metadata.event[]), which
      // gcp.audit recognises. Sigma's flattened names eventService and eventName are mapped; protoPayload.Servicename
      // (an upstream case error) is kept as written, like other upstream bugs. The event parameters (setting_name,
      // new_value) are name/value pairs with no path: refused.
      {"gcp", "google_workspace.admin", "gcp.audit",
       "{protoPayload.authenticationInfo.principalEmail}: {protoPayload.methodName}", kWorkspaceRenames},
      {"gcp", "google_workspace.login", "gcp.audit",
       "{protoPayload.authenticationInfo.principalEmail}: {protoPayload.methodName}", kWorkspaceRenames},
  };
  return sources;
}

// ---------------------------------------------------------------------------------------------------------------
// Text helpers

std::string quote(std::string_view s) { return quote_string(s); }

// A message template's literal text: braces escaped.
std::string template_literal(std::string_view s) {
  std::string q = quote_string(s);  // "..." with JSON escapes
  std::string o;
  for (char c : q.substr(1, q.size() - 2)) {
    if (c == '{' || c == '}') o += '\\';
    o += c;
  }
  return o;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A dotted-name segment: lower case letters, digits and underscores, not starting with a digit.
std::string name_segment(std::string_view s) {
  std::string o;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    o += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
  }
  if (o.empty() || std::isdigit(static_cast<unsigned char>(o[0]))) o = "r_" + o;
  return o;
}

// A Braid field path for a Sigma field name: segments that are not identifiers are quoted.
std::string braid_path(const std::string& field) {
  std::string o;
  size_t i = 0;
  while (i <= field.size()) {
    size_t dot = field.find('.', i);
    if (dot == std::string::npos) dot = field.size();
    std::string seg = field.substr(i, dot - i);
    bool any = seg.size() > 3 && seg.compare(seg.size() - 3, 3, "[*]") == 0;
    std::string base = any ? seg.substr(0, seg.size() - 3) : seg;
    bool ident = !base.empty() && (std::isalpha(static_cast<unsigned char>(base[0])) || base[0] == '_') &&
                 std::all_of(base.begin(), base.end(),
                             [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!o.empty()) o += '.';
    o += ident ? base : quote(base);
    if (any) o += "[*]";
    i = dot + 1;
  }
  return o;
}

// Does a Sigma string value hold an unescaped wildcard?
bool has_wildcard(std::string_view v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\') {
      ++i;
      continue;
    }
    if (v[i] == '*' || v[i] == '?') return true;
  }
  return false;
}

// The literal text of a Sigma value without wildcards: `\*`, `\?`, `\\` unescaped; other backslashes kept.
std::string unescape(std::string_view v) {
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
      o += v[++i];
      continue;
    }
    o += v[i];
  }
  return o;
}

// A Sigma value with wildcards as a Braid glob (same `*`, `?`; `\` escapes the next character in both, but a Sigma
// backslash before another character is literal, which a Braid glob must write `\\`).
std::string glob(std::string_view v) {
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\') {
      if (i + 1 < v.size() && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
        o += '\\';
        o += v[++i];
      } else {
        o += "\\\\";
      }
      continue;
    }
    o += v[i];
  }
  return o;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  return std::all_of(s.begin() + static_cast<long>(i), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// ---------------------------------------------------------------------------------------------------------------
// Detection

// The detection as data, for the generated tests: a selection is an OR of maps, a map an AND of field conditions.
struct FieldCond {
  std::string field;              // the Braid field path (mapped), e.g. "target[*].displayName"
  std::string type;               // its declared type
  std::vector<std::string> mods;
  std::vector<YAML::Node> values;
  bool all = false;
};
using MapSel = std::vector<FieldCond>;
struct Selection {
  std::vector<MapSel> alts;
};

struct Ctx {
  const LogSource* ls = nullptr;
  const FieldTypeLookup* types = nullptr;
  MapSel* collect = nullptr;  // the map being converted
};

std::string map_field(const Ctx& c, const std::string& sigma_field) {
  std::string f = sigma_field;
  for (const FieldRename& r : c.ls->renames) {
    if (f == r.sigma) f = r.braid;
  }
  std::string type = (*c.types)(c.ls->source, f);
  if (type.empty()) {
    refuse("field `" + sigma_field + "`",
           fmt::format("the source {} declares no field `{}`", c.ls->source, f) +
               (f != sigma_field ? fmt::format(" (mapped from `{}`)", sigma_field) : std::string()));
  }
  return f;
}

// A string operator on a field declared as a whole free-form object (CloudTrail `requestParameters`): Sigma backends
// match the object's serialised JSON text, Braid's operators read JSON values and do not serialise objects.
[[noreturn]] void refuse_whole_object(const std::string& field) {
  refuse("string match on `" + field + "`",
         "the field is a whole JSON object; Sigma matches its serialised text, and Braid does not serialise objects "
         "for string operators (name a member instead)");
}

// One condition on one field for one value.
std::string value_condition(const Ctx& c, const std::string& field, const std::string& path,
                            const std::vector<std::string>& mods, const YAML::Node& value) {
  const std::string type = (*c.types)(c.ls->source, field);
  bool cased = std::find(mods.begin(), mods.end(), "cased") != mods.end();
  const std::string t = cased ? "" : "~";
  std::string op;  // the one modifier that decides the operator
  for (const std::string& m : mods) {
    if (m == "all" || m == "cased" || m == "i" || m == "m" || m == "s") continue;
    if (!op.empty()) refuse("modifiers `" + op + "|" + m + "`", "two operator modifiers on one field");
    op = m;
  }
  if (value.IsNull() || (value.IsScalar() && value.Tag() == "tag:yaml.org,2002:null") ||
      (value.IsScalar() && value.Tag() == "?" && value.Scalar() == "null")) {
    if (!op.empty()) refuse("`null` with |" + op, "a null value takes no modifier");
    return path + " is null";
  }
  if (!value.IsScalar()) refuse("value of `" + field + "`", "a value must be a string, number or null");
  const std::string v = value.Scalar();
  const bool quoted = value.Tag() == "!";  // yaml-cpp tags quoted scalars "!" and plain ones "?"

  if (op.empty()) {
    if (!quoted && is_number(v)) {
      if (type == "int" || type == "float") return path + " == " + v;
      if (type == "any") return "(" + path + " == " + v + " or " + path + " ==~ " + quote(v) + ")";
      return path + " == " + quote(v);
    }
    if (v == "true" || v == "false" || (!quoted && (v == "True" || v == "False"))) {
      // Sigma writes booleans as strings; the field's declared type says what the events carry.
      const std::string b = lower(v);
      if (type == "bool") return path + " == " + b;
      if (type == "any") return "(" + path + " == " + b + " or " + path + " ==~ " + quote(b) + ")";
      if (type != "string") refuse("value '" + v + "' of `" + field + "`", "a boolean on a field of type " + type);
    }
    if (type == "object") refuse_whole_object(field);
    if (type != "string" && type != "any" && type != "ip") {
      refuse("value of `" + field + "`", "a string compared with a field of type " + type);
    }
    if (v.empty()) return path + " == \"\"";
    if (has_wildcard(v)) {
      if (v == "*") return "exists(" + path + ")";
      return path + " like" + t + " " + quote(glob(v));
    }
    return path + " ==" + (cased ? "" : "~") + " " + quote(unescape(v));
  }
  if (op == "contains" || op == "startswith" || op == "endswith") {
    if (type == "object") refuse_whole_object(field);
    if (type != "string" && type != "any" && type != "ip") {
      refuse("|" + op + " on `" + field + "`", "the field has type " + type);
    }
    if (v == "*" && op == "contains") return "exists(" + path + ")";
    if (has_wildcard(v)) {
      std::string g = glob(v);
      if (op == "contains") g = "*" + g + "*";
      if (op == "startswith") g = g + "*";
      if (op == "endswith") g = "*" + g;
      return path + " like" + t + " " + quote(g);
    }
    return path + " " + op + t + " " + quote(unescape(v));
  }
  if (op == "re") {
    std::string flags;
    for (const std::string& m : mods) {
      if (m == "m") flags += "m";
      if (m == "s") flags += "s";
    }
    bool insensitive = std::find(mods.begin(), mods.end(), "i") != mods.end();
    std::string re = flags.empty() ? v : "(?" + flags + ")" + v;
    // A raw string cannot hold a double quote; an ordinary string can.
    std::string lit = re.find('"') == std::string::npos ? "r\"" + re + "\"" : quote(re);
    return path + " matches" + (insensitive ? "~" : "") + " " + lit;
  }
  if (op == "cidr") return path + " in cidr " + quote(v);
  if (op == "exists") {
    if (v != "true" && v != "false") refuse("|exists", "the value must be true or false");
    return v == "true" ? "exists(" + path + ")" : path + " is null";
  }
  if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
    if (!is_number(v)) refuse("|" + op, "the value must be a number");
    if (type != "int" && type != "float") refuse("|" + op + " on `" + field + "`", "the field is not numeric");
    const char* sym = op == "gt" ? ">" : op == "gte" ? ">=" : op == "lt" ? "<" : "<=";
    return path + " " + sym + " " + v;
  }
  if (op == "neq") {
    if (has_wildcard(v)) return "not (" + path + " like" + t + " " + quote(glob(v)) + ")";
    return path + " !=" + (cased ? "" : "~") + " " + quote(unescape(v));
  }
  if (op == "fieldref") {
    std::string other = braid_path(map_field(c, v));
    return path + " ==" + (cased ? "" : "~") + " " + other;
  }
  static const std::set<std::string> known_unmappable = {
      "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide", "windash", "expand",
      "minute", "hour",         "day",     "week",    "month", "year"};
  if (known_unmappable.count(op)) {
    refuse("modifier |" + op, op == "expand" ? "placeholders need site values that a converted rule cannot know"
                                             : "an encoding or time modifier with no Braid operator");
  }
  refuse("modifier |" + op, "not a modifier of the Sigma specification v2.1");
}

// One field condition `key: value(s)`.
std::string field_condition(const Ctx& c, const std::string& key, const YAML::Node& value) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '|')) parts.push_back(part);
  if (parts.empty() || parts[0].empty()) refuse("field `" + key + "`", "a keyword search inside a selection map");
  const std::string field = map_field(c, parts[0]);
  const std::string path = braid_path(field);
  std::vector<std::string> mods(parts.begin() + 1, parts.end());
  bool all = std::find(mods.begin(), mods.end(), "all") != mods.end();
  if (c.collect) {
    FieldCond fc;
    fc.field = field;
    fc.type = (*c.types)(c.ls->source, field);
    fc.mods = mods;
    fc.all = all;
    if (value.IsSequence()) {
      for (const YAML::Node& v : value) fc.values.push_back(v);
    } else {
      fc.values.push_back(value);
    }
    c.collect->push_back(std::move(fc));
  }
  if (value.IsSequence()) {
    if (value.size() == 0) refuse("field `" + key + "`", "an empty list of values");
    std::vector<std::string> alts;
    for (const YAML::Node& v : value) alts.push_back(value_condition(c, field, path, mods, v));
    if (alts.size() == 1) return alts[0];
    std::string j;
    for (const std::string& a : alts) j += (j.empty() ? "" : (all ? " and " : " or ")) + a;
    return "(" + j + ")";
  }
  if (value.IsMap()) refuse("field `" + key + "`", "a map as a value");
  return value_condition(c, field, path, mods, value);
}

std::string map_condition(const Ctx& c, const YAML::Node& map) {
  std::vector<std::string> conj;
  // (c.collect, when set, receives the field conditions)
  for (const auto& kv : map) conj.push_back(field_condition(c, kv.first.as<std::string>(), kv.second));
  if (conj.empty()) refuse("an empty selection", "a selection must test at least one field");
  if (conj.size() == 1) return conj[0];
  std::string j;
  for (const std::string& a : conj) j += (j.empty() ? "" : " and ") + a;
  return "(" + j + ")";
}

std::string selection_condition(Ctx c, const std::string& name, const YAML::Node& sel, Selection& out) {
  if (sel.IsMap()) {
    out.alts.emplace_back();
    c.collect = &out.alts.back();
    return map_condition(c, sel);
  }
  if (sel.IsSequence()) {
    std::vector<std::string> alts;
    for (const YAML::Node& item : sel) {
      out.alts.emplace_back();
      c.collect = &out.alts.back();
      if (item.IsMap()) alts.push_back(map_condition(c, item));
      else refuse("keyword search `" + name + "`",
                  "field-less values search the whole event, and a Braid source has no full-text field");
    }
    if (alts.empty()) refuse("selection `" + name + "`", "an empty list");
    if (alts.size() == 1) return alts[0];
    std::string j;
    for (const std::string& a : alts) j += (j.empty() ? "" : " or ") + a;
    return "(" + j + ")";
  }
  refuse("keyword search `" + name + "`", "field-less values search the whole event, and a Braid source has no full-text field");
}

// Sigma name patterns use `*` as a wildcard.
bool name_matches(const std::string& pattern, const std::string& name) {
  if (pattern.find('*') == std::string::npos) return pattern == name;
  // simple glob
  size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// A condition over selection names.
struct CNode {
  enum class Kind { And, Or, Not, Sel } kind = Kind::Sel;
  std::string sel;
  std::vector<CNode> kids;
  bool eval(const std::map<std::string, bool>& truth) const {
    switch (kind) {
      case Kind::Sel: return truth.at(sel);
      case Kind::Not: return !kids[0].eval(truth);
      case Kind::And:
        for (const CNode& k : kids) {
          if (!k.eval(truth)) return false;
        }
        return true;
      case Kind::Or:
        for (const CNode& k : kids) {
          if (k.eval(truth)) return true;
        }
        return false;
    }
    return false;
  }
};

class ConditionParser {
 public:
  ConditionParser(std::string text, const std::map<std::string, std::string>& selections)
      : text_(std::move(text)), sel_(selections) {
    tokenize();
  }
  std::string parse() {
    std::string e = expr();
    if (pos_ != toks_.size()) refuse("condition `" + text_ + "`", "unexpected `" + toks_[pos_] + "`");
    return e;
  }
  CNode tree() {
    pos_ = 0;
    CNode n = texpr();
    return n;
  }

 private:
  void tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      char ch = text_[i];
      if (std::isspace(static_cast<unsigned char>(ch))) {
        ++i;
        continue;
      }
      if (ch == '(' || ch == ')') {
        toks_.emplace_back(1, ch);
        ++i;
        continue;
      }
      if (ch == '|') refuse("condition `" + text_ + "`", "an aggregation (`| count()`...): Sigma 1.x syntax, replaced by correlation rules");
      size_t j = i;
      while (j < text_.size() && !std::isspace(static_cast<unsigned char>(text_[j])) && text_[j] != '(' &&
             text_[j] != ')')
        ++j;
      toks_.push_back(text_.substr(i, j - i));
      i = j;
    }
  }
  bool at(const char* w) const { return pos_ < toks_.size() && toks_[pos_] == w; }
  std::string expr() {
    std::string l = conj();
    while (at("or")) {
      ++pos_;
      l = "(" + l + " or " + conj() + ")";
    }
    return l;
  }
  std::string conj() {
    std::string l = neg();
    while (at("and")) {
      ++pos_;
      l = "(" + l + " and " + neg() + ")";
    }
    return l;
  }
  std::string neg() {
    if (at("not")) {
      ++pos_;
      return "not " + neg();
    }
    return primary();
  }
  std::string primary() {
    if (pos_ >= toks_.size()) refuse("condition `" + text_ + "`", "ends too early");
    if (at("(")) {
      ++pos_;
      std::string e = expr();
      if (!at(")")) refuse("condition `" + text_ + "`", "a parenthesis is not closed");
      ++pos_;
      return "(" + e + ")";
    }
    const std::string t = toks_[pos_++];
    if (t == "1" || t == "all" || t == "any") {
      if (!at("of")) refuse("condition `" + text_ + "`", "`" + t + "` must be followed by `of`");
      ++pos_;
      if (pos_ >= toks_.size()) refuse("condition `" + text_ + "`", "`of` needs a name pattern or `them`");
      const std::string pat = toks_[pos_++];
      std::vector<std::string> names;
      for (const auto& [name, cond] : sel_) {
        if (pat == "them" ? name[0] != '_' : name_matches(pat, name)) names.push_back(cond);
      }
      if (names.empty()) refuse("condition `" + text_ + "`", "`" + pat + "` matches no selection");
      if (names.size() == 1) return names[0];
      std::string j;
      for (const std::string& n : names) j += (j.empty() ? "" : (t == "all" ? " and " : " or ")) + n;
      return "(" + j + ")";
    }
    if (std::isdigit(static_cast<unsigned char>(t[0]))) {
      refuse("condition `" + text_ + "`", "`" + t + " of` (only `1 of` and `all of` are defined)");
    }
    auto it = sel_.find(t);
    if (it == sel_.end()) refuse("condition `" + text_ + "`", "no selection named `" + t + "`");
    return it->second;
  }

  // The same grammar, building the tree (parse() has already refused anything malformed).
  CNode texpr() {
    CNode l = tconj();
    while (at("or")) {
      ++pos_;
      CNode n;
      n.kind = CNode::Kind::Or;
      n.kids = {l, tconj()};
      l = n;
    }
    return l;
  }
  CNode tconj() {
    CNode l = tneg();
    while (at("and")) {
      ++pos_;
      CNode n;
      n.kind = CNode::Kind::And;
      n.kids = {l, tneg()};
      l = n;
    }
    return l;
  }
  CNode tneg() {
    if (at("not")) {
      ++pos_;
      CNode n;
      n.kind = CNode::Kind::Not;
      n.kids = {tneg()};
      return n;
    }
    return tprimary();
  }
  CNode tprimary() {
    if (at("(")) {
      ++pos_;
      CNode e = texpr();
      ++pos_;
      return e;
    }
    const std::string t = toks_[pos_++];
    if (t == "1" || t == "all" || t == "any") {
      ++pos_;
      const std::string pat = toks_[pos_++];
      CNode n;
      n.kind = t == "all" ? CNode::Kind::And : CNode::Kind::Or;
      for (const auto& [name, cond] : sel_) {
        if (pat == "them" ? name[0] != '_' : name_matches(pat, name)) {
          CNode leaf;
          leaf.sel = name;
          n.kids.push_back(leaf);
        }
      }
      return n;
    }
    CNode leaf;
    leaf.sel = t;
    return leaf;
  }

  std::string text_;
  const std::map<std::string, std::string>& sel_;
  std::vector<std::string> toks_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// Metadata

const std::map<std::string, std::string>& tactic_ids() {
  static const std::map<std::string, std::string> m = {
      {"reconnaissance", "TA0043"},      {"resource-development", "TA0042"}, {"initial-access", "TA0001"},
      {"execution", "TA0002"},           {"persistence", "TA0003"},          {"privilege-escalation", "TA0004"},
      {"defense-evasion", "TA0005"},     {"credential-access", "TA0006"},    {"discovery", "TA0007"},
      {"lateral-movement", "TA0008"},    {"collection", "TA0009"},           {"command-and-control", "TA0011"},
      {"exfiltration", "TA0010"},        {"impact", "TA0040"},
  };
  return m;
}

std::vector<std::string> strings_of(const YAML::Node& n) {
  std::vector<std::string> v;
  if (!n) return v;
  if (n.IsScalar()) v.push_back(n.Scalar());
  if (n.IsSequence()) {
    for (const YAML::Node& x : n) {
      if (x.IsScalar()) v.push_back(x.Scalar());
    }
  }
  return v;
}

std::string one_line(std::string s) {
  for (char& ch : s) {
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string list_clause(const char* name, const std::vector<std::string>& items) {
  if (items.empty()) return "";
  std::string s = std::string("  ") + name + " ";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + quote(one_line(items[i]));
  return s + "\n";
}


// ---------------------------------------------------------------------------------------------------------------
// Generated tests: events built from the rule's own selections. An event that satisfies the condition must fire the
// converted rule; events that break one required selection, or that also meet a filter (a selection the condition
// negates), must not. The expectation comes from evaluating the Sigma detection on the event here (Sigma semantics:
// case-insensitive strings, `*`/`?` wildcards), not from the Braid text, so the tests check the translation.

using json = nlohmann::json;

struct GenFail {
  std::string why;
};

// The values at a path ("a.b[*].c"): missing parts give none; [*] expands arrays.
void values_at(const json& j, const std::vector<std::string>& segs, size_t i, std::vector<const json*>& out) {
  if (i == segs.size()) {
    out.push_back(&j);
    return;
  }
  std::string seg = segs[i];
  bool any = seg.size() > 3 && seg.compare(seg.size() - 3, 3, "[*]") == 0;
  if (any) seg.resize(seg.size() - 3);
  if (!j.is_object() || !j.contains(seg)) return;
  const json& v = j.at(seg);
  if (any) {
    if (!v.is_array()) return;
    for (const json& e : v) values_at(e, segs, i + 1, out);
  } else {
    values_at(v, segs, i + 1, out);
  }
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> segs;
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '.')) segs.push_back(seg);
  return segs;
}

// Sets (or with `erase`, removes) the value at a path, making objects and one-element arrays as needed.
void set_at(json& j, const std::vector<std::string>& segs, size_t i, const json* value) {
  std::string seg = segs[i];
  bool any = seg.size() > 3 && seg.compare(seg.size() - 3, 3, "[*]") == 0;
  if (any) seg.resize(seg.size() - 3);
  if (!j.is_object()) j = json::object();
  if (i + 1 == segs.size() && !any) {
    if (value) j[seg] = *value;
    else j.erase(seg);
    return;
  }
  if (any) {
    if (!j.contains(seg) || !j[seg].is_array() || j[seg].empty()) {
      if (!value) return;
      j[seg] = json::array({json::object()});
    }
    if (i + 1 == segs.size()) {
      if (value) j[seg][0] = *value;
      return;
    }
    set_at(j[seg][0], segs, i + 1, value);
    return;
  }
  if (!j.contains(seg)) {
    if (!value) return;
    j[seg] = json::object();
  }
  set_at(j[seg], segs, i + 1, value);
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return v.dump();
  return v.dump();
}

// Sigma glob match (case-insensitive unless `cased`): `*`, `?`, `\` escapes the next wildcard or backslash.
bool sigma_glob(const std::string& pat, const std::string& text, bool cased) {
  auto eq = [&](char a, char b) {
    return cased ? a == b : std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  std::vector<std::pair<char, int>> p;  // char, 0 literal / 1 star / 2 question
  for (size_t i = 0; i < pat.size(); ++i) {
    if (pat[i] == '\\' && i + 1 < pat.size() && (pat[i + 1] == '*' || pat[i + 1] == '?' || pat[i + 1] == '\\')) {
      p.emplace_back(pat[++i], 0);
    } else if (pat[i] == '*') {
      p.emplace_back('*', 1);
    } else if (pat[i] == '?') {
      p.emplace_back('?', 2);
    } else {
      p.emplace_back(pat[i], 0);
    }
  }
  size_t pi = 0, ti = 0, star = std::string::npos, mark = 0;
  while (ti < text.size()) {
    if (pi < p.size() && (p[pi].second == 2 || (p[pi].second == 0 && eq(p[pi].first, text[ti])))) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi].second == 1) {
      star = pi++;
      mark = ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi].second == 1) ++pi;
  return pi == p.size();
}

// One Sigma value against one event value.
bool value_matches(const FieldCond& fc, const std::string& op, const YAML::Node& v, const json& ev_value) {
  bool cased = std::find(fc.mods.begin(), fc.mods.end(), "cased") != fc.mods.end();
  if (ev_value.is_null() || ev_value.is_object() || ev_value.is_array()) return false;
  const std::string text = text_of(ev_value);
  const std::string sv = v.Scalar();
  if (op.empty()) return sigma_glob(sv, text, cased);
  if (op == "contains") return sigma_glob("*" + sv + "*", text, cased);
  if (op == "startswith") return sigma_glob(sv + "*", text, cased);
  if (op == "endswith") return sigma_glob("*" + sv, text, cased);
  if (op == "neq") return !sigma_glob(sv, text, cased);
  if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
    if (!ev_value.is_number()) return false;
    double a = ev_value.get<double>(), b = 0;
    try {
      b = std::stod(sv);
    } catch (const std::exception&) {
      return false;
    }
    return op == "gt" ? a > b : op == "gte" ? a >= b : op == "lt" ? a < b : a <= b;
  }
  throw GenFail{"no generator for |" + op};
}

std::string op_of(const FieldCond& fc) {
  for (const std::string& m : fc.mods) {
    if (m != "all" && m != "cased" && m != "i" && m != "m" && m != "s") return m;
  }
  return "";
}

bool is_null_value(const YAML::Node& v) {
  return v.IsNull() || (v.IsScalar() && v.Tag() == "?" && (v.Scalar() == "null" || v.Scalar() == "~"));
}

bool cond_matches(const FieldCond& fc, const json& ev) {
  std::vector<const json*> vals;
  values_at(ev, split_path(fc.field), 0, vals);
  const std::string op = op_of(fc);
  if (op == "exists") {
    bool present = std::any_of(vals.begin(), vals.end(), [](const json* x) { return !x->is_null(); });
    return fc.values[0].Scalar() == "true" ? present : !present;
  }
  if (op == "fieldref") {
    std::vector<const json*> other;
    values_at(ev, split_path(fc.values[0].Scalar()), 0, other);
    for (const json* a : vals) {
      for (const json* b : other) {
        if (!a->is_null() && !b->is_null() && lower(text_of(*a)) == lower(text_of(*b))) return true;
      }
    }
    return false;
  }
  if (op == "re" || op == "cidr") throw GenFail{"no generator for |" + op};
  auto one = [&](const YAML::Node& v) {
    if (is_null_value(v)) {
      return std::all_of(vals.begin(), vals.end(), [](const json* x) { return x->is_null(); });
    }
    return std::any_of(vals.begin(), vals.end(), [&](const json* x) { return value_matches(fc, op, v, *x); });
  };
  if (fc.all) return std::all_of(fc.values.begin(), fc.values.end(), one);
  return std::any_of(fc.values.begin(), fc.values.end(), one);
}

bool map_matches(const MapSel& m, const json& ev) {
  return std::all_of(m.begin(), m.end(), [&](const FieldCond& fc) { return cond_matches(fc, ev); });
}
bool selection_matches(const Selection& s, const json& ev) {
  return std::any_of(s.alts.begin(), s.alts.end(), [&](const MapSel& m) { return map_matches(m, ev); });
}

// A value of `type` holding the Sigma text `t` (JSON booleans and numbers where the schema says so).
json typed(const std::string& type, const std::string& t) {
  if ((type == "bool" || type == "any") && (lower(t) == "true" || lower(t) == "false")) return json(lower(t) == "true");
  try {
    if ((type == "int" || type == "any") && is_number(t)) return json(std::stoll(t));
    if (type == "float" && is_number(t)) return json(std::stod(t));
  } catch (const std::out_of_range&) {
    throw GenFail{"the number " + t + " does not fit in 64 bits"};
  }
  return json(t);
}

// The text a wildcard pattern's `*` and `?` are filled with.
std::string fill(const std::string& v) {
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
      o += v[++i];
    } else if (v[i] == '*') {
      o += "";
    } else if (v[i] == '?') {
      o += "q";
    } else {
      o += v[i];
    }
  }
  return o;
}

// Makes the event meet one field condition (its first value, or all of them with |all).
void satisfy(const FieldCond& fc, json& ev) {
  const auto segs = split_path(fc.field);
  const std::string op = op_of(fc);
  const YAML::Node& v0 = fc.values[0];
  if (op == "exists") {
    json present("present");
    set_at(ev, segs, 0, v0.Scalar() == "true" ? &present : nullptr);
    return;
  }
  if (op == "fieldref") {
    std::vector<const json*> other;
    values_at(ev, split_path(v0.Scalar()), 0, other);
    json val = other.empty() || other[0]->is_null() ? json("same-value") : *other[0];
    set_at(ev, split_path(v0.Scalar()), 0, &val);
    set_at(ev, segs, 0, &val);
    return;
  }
  if (op == "re" || op == "cidr") throw GenFail{"no generator for |" + op};
  if (is_null_value(v0)) {
    set_at(ev, segs, 0, nullptr);
    return;
  }
  std::string text;
  if (fc.all && fc.values.size() > 1) {
    for (const YAML::Node& v : fc.values) text += " " + fill(v.Scalar()) + " ";
  } else {
    text = fill(v0.Scalar());
  }
  json val;
  if (op.empty()) val = typed(fc.type, text);
  else if (op == "contains") val = json("pre-" + text + "-post");
  else if (op == "startswith") val = json(text + "-tail");
  else if (op == "endswith") val = json("head-" + text);
  else if (op == "neq") val = json(text + "-other");
  else if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
    long long n = 0;
    try {
      n = std::stoll(v0.Scalar());
    } catch (const std::exception&) {
      throw GenFail{"the bound " + v0.Scalar() + " is not a 64-bit integer"};
    }
    if (n == std::numeric_limits<long long>::max() || n == std::numeric_limits<long long>::min()) {
      throw GenFail{"the bound " + v0.Scalar() + " has no neighbour"};
    }
    val = json(op[0] == 'g' ? n + 1 : n - 1);
  }
  else throw GenFail{"no generator for |" + op};
  set_at(ev, segs, 0, &val);
}

// Makes the event meet every field condition of a map. Several conditions on one field (a `startswith` and an
// `endswith`, say) are met together: prefix, the `contains` values, suffix.
void satisfy_map(const MapSel& m, json& ev) {
  std::map<std::string, std::vector<const FieldCond*>> by_field;
  for (const FieldCond& fc : m) by_field[fc.field].push_back(&fc);
  for (const auto& [field, conds] : by_field) {
    bool composable = conds.size() > 1;
    std::string prefix, middle, suffix;
    for (const FieldCond* fc : conds) {
      const std::string op = op_of(*fc);
      const std::string v = fill(fc->values[0].Scalar());
      if (is_null_value(fc->values[0]) || fc->all) composable = false;
      else if (op == "startswith") prefix += v;
      else if (op == "endswith") suffix = v + suffix;
      else if (op == "contains") middle += v;
      else composable = false;
    }
    if (!composable) {
      for (const FieldCond* fc : conds) satisfy(*fc, ev);
      continue;
    }
    json val(prefix + "-" + middle + "-" + suffix);
    set_at(ev, split_path(field), 0, &val);
  }
}

// Makes the event fail one field condition.
void violate(const std::string& source, const FieldCond& fc, json& ev) {
  const auto segs = split_path(fc.field);
  const std::string op = op_of(fc);
  if (op == "exists") {
    json present("present");
    set_at(ev, segs, 0, fc.values[0].Scalar() == "true" ? nullptr : &present);
    return;
  }
  if (is_null_value(fc.values[0])) {
    json present = typed(fc.type, "zz-present");
    if (fc.type == "bool") present = json(true);
    if (fc.type == "int" || fc.type == "float") present = json(424242);
    set_at(ev, segs, 0, &present);
    return;
  }
  // Fields the sources' `recognize` clauses read keep a recognisable shape.
  json val(fc.field == "eventSource" ? "zz-no-match.amazonaws.com"
           : fc.field == "logName"   ? "projects/zz/logs/cloudaudit.googleapis.com%2Fzz-no-match"
                                     : "zz-no-match");
  // azure.activity recognises its categories only: another one of them.
  if (source == "azure.activity" && fc.field == "category") {
    for (const char* other : {"Security", "Policy", "Alert"}) {
      val = json(other);
      if (!cond_matches(fc, json{{"category", other}})) break;
    }
  }
  if (fc.type == "bool") {
    bool want = lower(fc.values[0].Scalar()) == "true";
    val = json(!want);
  } else if (fc.type == "int" || fc.type == "float") {
    val = json(987654321);
  }
  set_at(ev, segs, 0, &val);
}

// A base event that the source recognises; `n` makes its id and time unique.
json base_event(const std::string& source, int n) {
  const std::string id = fmt::format("5eed5e1a-0000-4000-8000-{:012d}", n);
  const std::string t = fmt::format("2025-02-03T04:{:02d}:{:02d}Z", n / 60 % 60, n % 60);
  if (source == "aws.cloudtrail") {
    return json{{"eventVersion", "1.09"},
                {"eventTime", t},
                {"eventSource", "example.amazonaws.com"},
                {"eventName", "ExampleCall"},
                {"awsRegion", "us-east-1"},
                {"sourceIPAddress", "203.0.113.10"},
                {"userIdentity",
                 {{"type", "IAMUser"},
                  {"arn", "arn:aws:iam::111122223333:user/sigma-test"},
                  {"accountId", "111122223333"},
                  {"accessKeyId", "AKIAEXAMPLESIGMA0001"}}},
                {"eventID", id},
                {"eventType", "AwsApiCall"},
                {"recipientAccountId", "111122223333"}};
  }
  if (source == "okta.system") {
    return json{{"uuid", id},
                {"published", t},
                {"eventType", "example.event"},
                {"actor", {{"id", "00u1example"}, {"type", "User"}, {"alternateId", "sigma.test@example.com"}}}};
  }
  if (source == "github.audit") {
    return json{{"action", "example.action"}, {"actor", "sigma-test"}, {"created_at", t}, {"_document_id", id}};
  }
  if (source == "gcp.audit") {
    return json{{"logName", "projects/example/logs/cloudaudit.googleapis.com%2Factivity"},
                {"insertId", id},
                {"timestamp", t},
                {"protoPayload",
                 {{"serviceName", "example.googleapis.com"},
                  {"methodName", "example.method"},
                  {"authenticationInfo", {{"principalEmail", "sigma.test@example.com"}}}}}};
  }
  if (source == "entra.signin") {
    return json{{"time", t},
                {"operationName", "Sign-in activity"},
                {"category", "SignInLogs"},
                {"properties", {{"id", id}, {"userPrincipalName", "sigma.test@example.com"}}}};
  }
  if (source == "azure.activity") {
    return json{{"time", t},
                {"category", "Administrative"},
                {"operationName", "Microsoft.Example/widgets/write"},
                {"resourceId", "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/sigma-test/providers/"
                               "Microsoft.Example/widgets/sigma-test"},
                {"resultType", "Success"},
                {"correlationId", id},
                {"identity", {{"claims", {{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
                                           "sigma.test@example.com"}}}}}};
  }
  if (source == "entra.audit") {
    return json{{"time", t},
                {"operationName", "Example activity"},
                {"category", "AuditLogs"},
                {"properties",
                 {{"id", id},
                  {"activityDisplayName", "Example activity"},
                  {"initiatedBy", {{"user", {{"userPrincipalName", "sigma.test@example.com"}}}}}}}};
  }
  throw GenFail{"no base event for source " + source};
}

// Gives an event the id and time of the base event `n` (unique ids; times one second apart, so that events stamped
// with consecutive numbers fall in one session).
void stamp(const std::string& source, json& ev, int n) {
  const json b = base_event(source, n);
  for (const char* key : {"eventID", "eventTime", "uuid", "published", "_document_id", "created_at", "insertId",
                          "timestamp", "correlationId", "time"}) {
    if (b.contains(key)) ev[key] = b[key];
  }
  if (b.contains("properties") && b["properties"].contains("id")) ev["properties"]["id"] = b["properties"]["id"];
}

struct Generated {
  std::vector<json> fire;   // each must fire the rule once
  std::vector<json> quiet;  // none may fire it
};

Generated generate(const std::string& source, const std::map<std::string, Selection>& sels, const CNode& root) {
  std::vector<std::string> names;
  for (const auto& [n, _] : sels) names.push_back(n);
  if (names.size() > 12) throw GenFail{"more than 12 selections"};
  std::vector<uint32_t> masks;
  for (uint32_t m = 0; m < (1u << names.size()); ++m) masks.push_back(m);
  std::stable_sort(masks.begin(), masks.end(),
                   [](uint32_t a, uint32_t b) { return __builtin_popcount(a) < __builtin_popcount(b); });
  auto truth_of = [&](const json& ev) {
    std::map<std::string, bool> t;
    for (const auto& [n, s] : sels) t[n] = selection_matches(s, ev);
    return t;
  };
  const int counter = 1;
  for (uint32_t mask : masks) {
    std::map<std::string, bool> want;
    for (size_t i = 0; i < names.size(); ++i) want[names[i]] = (mask >> i) & 1u;
    if (!root.eval(want)) continue;
    json ev = base_event(source, counter);
    for (size_t i = 0; i < names.size(); ++i) {
      if (!want[names[i]]) continue;
      satisfy_map(sels.at(names[i]).alts[0], ev);
    }
    for (size_t i = 0; i < names.size(); ++i) {
      if (want[names[i]]) continue;
      for (const MapSel& alt : sels.at(names[i]).alts) {
        if (!map_matches(alt, ev)) continue;
        // Break it on a field no true selection constrains.
        for (const FieldCond& fc : alt) {
          bool used = false;
          for (size_t k = 0; k < names.size(); ++k) {
            if (!want[names[k]]) continue;
            for (const FieldCond& o : sels.at(names[k]).alts[0]) used = used || o.field == fc.field;
          }
          if (!used) {
            violate(source, fc, ev);
            break;
          }
        }
      }
    }
    if (truth_of(ev) != want) continue;
    Generated g;
    g.fire.push_back(ev);
    // Near misses: each required selection broken, each negated selection met.
    for (size_t i = 0; i < names.size(); ++i) {
      json miss = ev;
      if (want[names[i]]) {
        for (const MapSel& alt : sels.at(names[i]).alts) {
          if (!alt.empty()) violate(source, alt[0], miss);
        }
      } else {
        satisfy_map(sels.at(names[i]).alts[0], miss);
      }
      std::map<std::string, bool> t = truth_of(miss);
      if (!root.eval(t)) g.quiet.push_back(miss);
    }
    // Unique ids and times for the near misses.
    int k = 1;
    for (json& q : g.quiet) stamp(source, q, 100 + k++);
    return g;
  }
  throw GenFail{"no event satisfies the condition with the selections' first values"};
}

std::string events_clause(const std::vector<json>& evs) {
  std::string s = "    events [\n";
  for (size_t i = 0; i < evs.size(); ++i) {
    s += "      " + evs[i].dump() + (i + 1 < evs.size() ? ",\n" : "\n");
  }
  return s + "    ]\n";
}
// ---------------------------------------------------------------------------------------------------------------
// One rule's detection, and the metadata every converted rule carries.

// A converted detection: its source, its Braid condition and the selections as data (for the generated tests).
struct Detection {
  const LogSource* ls = nullptr;
  std::string when;
  std::map<std::string, Selection> sels;
  CNode root;
};

Detection convert_detection(const YAML::Node& doc, const FieldTypeLookup& types) {
  Detection d;
  const YAML::Node logsource = doc["logsource"];
  if (!logsource || !logsource.IsMap()) refuse("logsource", "missing");
  const std::string product = logsource["product"] ? logsource["product"].as<std::string>() : "";
  const std::string service = logsource["service"] ? logsource["service"].as<std::string>() : "";
  if (logsource["category"]) refuse("logsource category", "categories (process_creation...) name no cloud source");
  for (const LogSource& s : log_sources()) {
    if (product == s.product && service == s.service) d.ls = &s;
  }
  if (!d.ls) refuse(fmt::format("logsource {}/{}", product, service), "no Braid source for it");
  Ctx c{d.ls, &types};

  const YAML::Node det = doc["detection"];
  if (!det || !det.IsMap()) refuse("detection", "missing");
  std::map<std::string, std::string> selections;
  for (const auto& kv : det) {
    const std::string name = kv.first.as<std::string>();
    if (name == "condition" || name == "timeframe") continue;
    selections[name] = selection_condition(c, name, kv.second, d.sels[name]);
  }
  if (det["timeframe"]) refuse("timeframe", "a time window belongs to correlation rules");
  const YAML::Node cond = det["condition"];
  if (!cond) refuse("condition", "missing");
  std::vector<std::string> conds = strings_of(cond);
  if (conds.empty()) refuse("condition", "not a string");
  d.root.kind = CNode::Kind::Or;
  for (const std::string& cs : conds) {
    ConditionParser cp(cs, selections);
    std::string e = cp.parse();
    d.when += (d.when.empty() ? "" : " or ") + e;
    d.root.kids.push_back(cp.tree());
  }
  return d;
}

bool detection_matches(const Detection& d, const json& ev) {
  std::map<std::string, bool> t;
  for (const auto& [n, s] : d.sels) t[n] = selection_matches(s, ev);
  return d.root.eval(t);
}

// The rule's header (comments, `rule ... {`, metadata and `source`) and the attribution its message starts with.
struct Header {
  std::string text;
  std::string attribution;
  std::string rule_id;
  std::string sigma_id;
  std::string title;
};

Header rule_header(const YAML::Node& doc, const std::string& path, const LogSource& ls, const std::string& note) {
  Header h;
  h.title = doc["title"] ? doc["title"].as<std::string>() : "";
  if (h.title.empty()) refuse("title", "missing");
  h.sigma_id = doc["id"] ? doc["id"].as<std::string>() : "";
  std::string level = doc["level"] ? doc["level"].as<std::string>() : "medium";
  std::string severity = level == "informational" ? "info" : level;
  if (severity != "info" && severity != "low" && severity != "medium" && severity != "high" && severity != "critical") {
    refuse("level `" + level + "`", "not a Sigma level");
  }
  std::vector<std::string> attack, other_tags;
  for (const std::string& tag : strings_of(doc["tags"])) {
    std::string t = lower(tag);
    if (t.rfind("attack.t", 0) == 0 && t.size() >= 12 && std::isdigit(static_cast<unsigned char>(t[8]))) {
      std::string id = "T" + t.substr(8);
      for (char& ch : id) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      attack.push_back(id);
    } else if (t.rfind("attack.", 0) == 0 && tactic_ids().count(t.substr(7))) {
      attack.push_back(tactic_ids().at(t.substr(7)));
    } else {
      other_tags.push_back(tag);
    }
  }
  const std::string author = doc["author"] ? one_line(doc["author"].as<std::string>()) : "";
  const std::string status = doc["status"] ? doc["status"].as<std::string>() : "";
  const std::string stem = fs::path(path).stem().string();
  h.rule_id = "sigma." + name_segment(ls.product) + "." + name_segment(stem);

  std::vector<std::string> tags = {"sigma"};
  if (!status.empty()) tags.push_back("sigma-status:" + status);
  if (!h.sigma_id.empty()) tags.push_back("sigma-id:" + h.sigma_id);
  tags.push_back("license:DRL-1.1");
  for (const std::string& t : other_tags) tags.push_back(t);
  std::vector<std::string> refs;
  if (!h.sigma_id.empty()) refs.push_back("sigma:" + h.sigma_id);
  for (const std::string& r : strings_of(doc["references"])) refs.push_back(r);
  refs.push_back("https://github.com/SigmaHQ/Detection-Rule-License (Detection Rule License 1.1)");

  h.attribution = fmt::format("Sigma rule \"{}\" ({}) by {}, Detection Rule License 1.1", h.title,
                              h.sigma_id.empty() ? "no id" : h.sigma_id, author.empty() ? "unknown" : author);
  std::string& t = h.text;
  t += fmt::format("// Converted by `braid import sigma` from {} ({}).\n", fs::path(path).filename().string(),
                   h.sigma_id.empty() ? "no Sigma id" : "Sigma id " + h.sigma_id);
  t += "// Sigma rules are under the Detection Rule License 1.1: keep the author's attribution when sharing this rule.\n";
  if (!note.empty()) t += "// " + note + "\n";
  t += "rule " + h.rule_id + " {\n";
  t += "  title " + quote(one_line(h.title)) + "\n";
  if (doc["description"]) t += "  description " + quote(one_line(doc["description"].as<std::string>())) + "\n";
  t += "  severity " + severity + "\n";
  if (!attack.empty()) {
    t += "  attack ";
    for (size_t i = 0; i < attack.size(); ++i) t += (i ? ", " : "") + quote(attack[i]);
    t += "\n";
  }
  t += list_clause("tags", tags);
  t += "  author " + quote(author.empty() ? "unknown" : author) + "\n";
  t += list_clause("references", refs);
  t += list_clause("false_positives", strings_of(doc["falsepositives"]));
  t += std::string("  source ") + ls.source + "\n";
  return h;
}

std::string test_clause(const char* name, const std::vector<json>& events, const std::string& expect) {
  return std::string("\n  test \"") + name + "\" {\n" + events_clause(events) + "    expect " + expect + "\n  }\n";
}

SigmaRule base_rule(const YAML::Node& doc, const std::string& path, const FieldTypeLookup& types) {
  Detection d = convert_detection(doc, types);
  Header h = rule_header(doc, path, *d.ls, "");
  std::string t = h.text;
  t += "  when " + d.when + "\n";
  t += "  message \"" + template_literal(h.attribution) + ": " + d.ls->message_fields + "\"\n";
  std::string untested;
  try {
    Generated g = generate(d.ls->source, d.sels, d.root);
    t += test_clause("an event built from the Sigma selections fires", g.fire, "1");
    if (!g.quiet.empty()) t += test_clause("events that break a selection or meet a filter do not fire", g.quiet, "none");
  } catch (const GenFail& f) {
    untested = f.why;
  }
  t += "}\n";
  SigmaRule r;
  r.id = h.rule_id;
  r.sigma_id = h.sigma_id;
  r.title = h.title;
  r.source = d.ls->source;
  r.text = std::move(t);
  r.untested = untested;
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Correlation rules (specification v2.1). A correlation whose group-by names only the session's identity and
// credential fields becomes a session rule: event_count `count(hit)`, value_count `distinct(hit.F)`, temporal and
// temporal_ordered sequences of one step per referenced rule within the timespan. Anything else is refused.

const std::set<std::string>& correlation_ops() {
  static const std::set<std::string> ops = {"gt", "gte", "lt", "lte", "eq", "neq"};
  return ops;
}

// The correlation's condition as (operator, number) pairs, met together.
std::vector<std::pair<std::string, long long>> count_condition(const YAML::Node& cond, const std::string& type) {
  std::vector<std::pair<std::string, long long>> out;
  if (!cond || !cond.IsMap()) refuse("correlation condition", "a " + type + " correlation needs a condition map (gte: N ...)");
  for (const auto& kv : cond) {
    const std::string op = kv.first.as<std::string>();
    if (op == "field") continue;
    if (!correlation_ops().count(op)) refuse("correlation condition `" + op + "`", "not gt, gte, lt, lte, eq or neq");
    const std::string v = kv.second.IsScalar() ? kv.second.Scalar() : "";
    if (!is_number(v)) refuse("correlation condition `" + op + ": " + v + "`", "the value must be an integer");
    try {
      out.emplace_back(op, std::stoll(v));
    } catch (const std::out_of_range&) {
      refuse("correlation condition `" + op + ": " + v + "`", "the value does not fit in 64 bits");
    }
  }
  if (out.empty()) refuse("correlation condition", "no comparison (gt, gte, lt, lte, eq, neq)");
  return out;
}

bool count_holds(const std::vector<std::pair<std::string, long long>>& cond, long long k) {
  for (const auto& [op, n] : cond) {
    bool ok = op == "gt" ? k > n : op == "gte" ? k >= n : op == "lt" ? k < n : op == "lte" ? k <= n
              : op == "eq" ? k == n : k != n;
    if (!ok) return false;
  }
  return true;
}

// `count(hit) >= 10 and ...`; a condition that holds for small counts (lt, lte, eq, neq) also needs one match,
// since a Sigma group exists only once an event is in it.
std::string count_expr(const std::string& agg, const std::vector<std::pair<std::string, long long>>& cond,
                       const std::string& step) {
  std::string e;
  bool lower_bound = false;
  for (const auto& [op, n] : cond) {
    const char* sym = op == "gt" ? ">" : op == "gte" ? ">=" : op == "lt" ? "<" : op == "lte" ? "<=" : op == "eq" ? "==" : "!=";
    if ((op == "gt" && n >= 0) || (op == "gte" && n >= 1)) lower_bound = true;
    e += (e.empty() ? "" : " and ") + agg + " " + sym + " " + std::to_string(n);
  }
  return lower_bound ? e : step + " and " + e;
}

// A step label for a referenced rule: its `name` when that is a usable label (not a reserved word, a label already
// taken, or a field of the source, which the label would hide), else r1, r2...
std::string step_label(const std::string& name, size_t i, const std::set<std::string>& taken, bool is_field) {
  static const std::set<std::string> reserved = {"and", "or", "not", "in", "is", "true", "false", "null", "hit"};
  std::string l = name.empty() ? "" : name_segment(name);
  if (l.empty() || reserved.count(l) || taken.count(l) || is_field) l = "r" + std::to_string(i + 1);
  return l;
}

std::string duration_of(const std::string& timespan) {
  if (timespan.size() < 2) refuse("timespan `" + timespan + "`", "a number and one of s, m, h, d");
  const char unit = timespan.back();
  const std::string num = timespan.substr(0, timespan.size() - 1);
  if (!is_number(num) || num[0] == '-' || (unit != 's' && unit != 'm' && unit != 'h' && unit != 'd')) {
    refuse("timespan `" + timespan + "`", "a number and one of s, m, h, d");
  }
  return timespan;
}

struct Referenced {
  std::string ref;   // as written in `rules`
  std::string name;  // the rule's `name`
  Detection d;
};

SigmaRule correlation_rule(const YAML::Node& doc, const std::string& path, const FieldTypeLookup& types,
                           const std::map<std::string, YAML::Node>& local, const SigmaEnv& env) {
  const YAML::Node corr = doc["correlation"];
  if (!corr.IsMap()) refuse("correlation", "not a map");
  const std::string type = corr["type"] ? corr["type"].as<std::string>() : "";
  if (type == "value_sum" || type == "value_avg" || type == "value_percentile") {
    refuse("correlation type " + type, "not mapped (event_count, value_count, temporal and temporal_ordered are)");
  }
  if (type != "event_count" && type != "value_count" && type != "temporal" && type != "temporal_ordered") {
    refuse("correlation type `" + type + "`", "not a type of the Sigma correlation specification v2.1");
  }
  if (corr["generate"] && corr["generate"].IsScalar() && corr["generate"].Scalar() == "true") {
    refuse("correlation generate: true", "the referenced rules converted on their own too: give them files of their own");
  }
  if (corr["aliases"]) {
    refuse("correlation aliases", "aliases group the events of different rules by different fields; that awaits "
                                  "grouping by arbitrary keys (issue 11)");
  }

  // The referenced rules: in this file first, then in the other inputs.
  std::vector<Referenced> refs;
  const std::vector<std::string> names = strings_of(corr["rules"]);
  if (names.empty()) refuse("correlation rules", "a correlation needs the rules it correlates");
  for (const std::string& ref : names) {
    auto it = local.find(ref);
    const YAML::Node* target = it != local.end() ? &it->second : nullptr;
    if (!target && env.rules) {
      auto jt = env.rules->find(ref);
      if (jt != env.rules->end()) target = &jt->second;
    }
    if (!target) refuse("rule reference `" + ref + "`", "no Sigma rule with this id or name among the input files");
    if ((*target)["correlation"]) {
      refuse("correlation of correlation `" + ref + "`",
             "a correlation over another correlation's results (a chain of correlations) is not mapped");
    }
    Referenced r;
    r.ref = ref;
    r.name = (*target)["name"] ? (*target)["name"].as<std::string>() : "";
    try {
      r.d = convert_detection(*target, types);
    } catch (const Refused& x) {
      refuse("referenced rule `" + ref + "`: " + x.r.construct, x.r.reason);
    }
    if (!refs.empty() && std::string(r.d.ls->source) != refs[0].d.ls->source) {
      refuse("rules of sources " + std::string(refs[0].d.ls->source) + " and " + r.d.ls->source,
             "a session belongs to one source");
    }
    refs.push_back(std::move(r));
  }
  const LogSource& ls = *refs[0].d.ls;
  const std::string source = ls.source;

  // Grouping: only by what a session is keyed on.
  const std::vector<std::string> identity_paths = env.key_fields ? env.key_fields(source, false) : std::vector<std::string>{};
  const std::vector<std::string> credential_paths = env.key_fields ? env.key_fields(source, true) : std::vector<std::string>{};
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? std::string("none") : s;
  };
  const std::vector<std::string> group_by = strings_of(corr["group-by"]);
  if (group_by.empty()) {
    refuse("correlation without group-by", "a count over all events of the source, not per identity; that awaits "
                                            "grouping by arbitrary keys (issue 11)");
  }
  Ctx c{&ls, &types};
  std::vector<std::string> group_fields;  // mapped, unquoted
  for (const std::string& g : group_by) {
    const std::string f = map_field(c, g);
    const std::string p = braid_path(f);
    const bool key = std::find(identity_paths.begin(), identity_paths.end(), p) != identity_paths.end() ||
                     std::find(credential_paths.begin(), credential_paths.end(), p) != credential_paths.end();
    if (!key) {
      refuse("group-by `" + g + "`",
             fmt::format("sessions of {} group by its identity ({}) and credential ({}); grouping by other fields "
                         "awaits grouping by arbitrary keys (issue 11)",
                         source, join(identity_paths), join(credential_paths)));
    }
    group_fields.push_back(f);
  }
  if (!corr["timespan"]) refuse("correlation timespan", "missing");
  const std::string within = duration_of(corr["timespan"].as<std::string>());

  // The rule.
  std::string note;
  std::string session, message_tail;
  std::vector<std::pair<std::string, long long>> cond;
  std::string counted;  // value_count: the field (mapped)
  std::set<std::string> taken;
  std::vector<std::string> labels;
  if (type == "event_count" || type == "value_count") {
    cond = count_condition(corr["condition"], type);
    std::string hit;
    for (const Referenced& r : refs) hit += (hit.empty() ? "" : " or ") + ("(" + r.d.when + ")");
    session = "    step hit = " + hit + "\n";
    std::string agg = "count(hit)";
    if (type == "value_count") {
      const YAML::Node f = corr["condition"]["field"];
      if (!f || !f.IsScalar()) refuse("value_count condition", "needs `field`");
      counted = map_field(c, f.Scalar());
      agg = "distinct(hit." + braid_path(counted) + ")";
      message_tail = "{" + agg + "} distinct " + f.Scalar() + " in the session of {session.identity}";
    } else {
      message_tail = "{count(hit)} events in the session of {session.identity}";
    }
    session += "    when " + count_expr(agg, cond, "hit") + "\n";
    note = fmt::format("Sigma counts within a sliding window of {}; this rule counts within one session of {} "
                       "(its identity and credential; docs/sources.md gives the session's gap and max length).",
                       within, source);
  } else {
    if (corr["condition"]) {
      auto tc = count_condition(corr["condition"], type);
      if (!count_holds(tc, static_cast<long long>(refs.size())) ||
          count_holds(tc, static_cast<long long>(refs.size()) - 1)) {
        refuse("temporal condition", "a condition met by fewer than all of the rules is not mapped");
      }
    }
    if (refs.size() > 4 && type == "temporal") {
      refuse("temporal correlation of " + std::to_string(refs.size()) + " rules", "more than 4 (every order is written out)");
    }
    for (size_t i = 0; i < refs.size(); ++i) {
      const std::string candidate = refs[i].name.empty() ? "" : name_segment(refs[i].name);
      const std::string field_type = candidate.empty() ? "" : types(source, candidate);
      labels.push_back(step_label(refs[i].name, i, taken, !field_type.empty() && field_type != "any"));
      taken.insert(labels.back());
      session += "    step " + labels.back() + " = " + refs[i].d.when + "\n";
    }
    std::vector<size_t> order(refs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::string when;
    do {
      std::string seq;
      for (size_t i : order) seq += (seq.empty() ? "" : " -> ") + labels[i];
      if (refs.size() > 1) seq += " within " + within;
      when += (when.empty() ? "" : " or ") + (refs.size() > 1 && type == "temporal" ? "(" + seq + ")" : seq);
      if (type == "temporal_ordered") break;
    } while (std::next_permutation(order.begin(), order.end()));
    session += "    when " + when + "\n";
    message_tail = "the correlated rules matched within " + within + " in the session of {session.identity}";
  }

  Header h = rule_header(doc, path, ls, note);
  std::string t = h.text;
  t += "  session {\n" + session + "  }\n";
  t += "  message \"" + template_literal(h.attribution) + ": " + message_tail + "\"\n";

  // Generated tests: events of one session (the base events share identity and credential), one second apart.
  std::string untested;
  try {
    std::vector<json> firing;  // one event per referenced rule that fires it (alone)
    for (const Referenced& r : refs) {
      json ev = generate(source, r.d.sels, r.d.root).fire.at(0);
      for (size_t k = 0; k < refs.size(); ++k) {
        if (&refs[k] != &r && type.rfind("temporal", 0) == 0 && detection_matches(refs[k].d, ev)) {
          throw GenFail{"an event built for one rule also matches another"};
        }
      }
      firing.push_back(ev);
    }
    // Every event must fall in one session: equal values on every path the identity and credential read.
    std::vector<std::string> key_paths = identity_paths;
    key_paths.insert(key_paths.end(), credential_paths.begin(), credential_paths.end());
    for (const std::string& kp : key_paths) {
      std::string unquoted;
      for (char ch : kp) {
        if (ch != '"') unquoted += ch;
      }
      std::vector<const json*> a;
      values_at(firing[0], split_path(unquoted), 0, a);
      for (const json& ev : firing) {
        std::vector<const json*> b;
        values_at(ev, split_path(unquoted), 0, b);
        if (a.size() != b.size() || (!a.empty() && *a[0] != *b[0])) {
          throw GenFail{"the rules' events differ in the session's identity or credential (" + kp + ")"};
        }
      }
    }
    std::vector<json> fire, quiet, quiet_high, quiet_none;
    int n = 1;
    if (type == "event_count" || type == "value_count") {
      // The smallest count that meets the condition fires; the nearest counts below and above it that do not (a
      // lower and an upper bound each get a test) stay quiet.
      long long k_fire = -1, k_low = -1, k_high = -1;
      for (long long k = 1; k <= 60 && k_fire < 0; ++k) {
        if (count_holds(cond, k)) k_fire = k;
      }
      if (k_fire < 0) throw GenFail{"no count of at most 60 events meets the condition"};
      for (long long k = k_fire - 1; k >= 1 && k_low < 0; --k) {
        if (!count_holds(cond, k)) k_low = k;
      }
      for (long long k = k_fire + 1; k <= 61 && k_high < 0; ++k) {
        if (!count_holds(cond, k)) k_high = k;
      }
      if (!counted.empty()) {
        for (const auto& [_, sel] : refs[0].d.sels) {
          for (const MapSel& m : sel.alts) {
            for (const FieldCond& fc : m) {
              if (fc.field == counted) throw GenFail{"the counted field is tested by the rule's selections"};
            }
          }
        }
      }
      const std::string counted_type = counted.empty() ? "" : types(source, counted);
      auto events = [&](long long k, int first) {
        std::vector<json> v;
        for (long long i = 0; i < k; ++i) {
          json ev = firing[0];
          stamp(source, ev, first + static_cast<int>(i));
          if (!counted.empty()) {
            json val = counted_type == "int" || counted_type == "float" ? json(i + 1) : json("value-" + std::to_string(i + 1));
            set_at(ev, split_path(counted), 0, &val);
          }
          v.push_back(std::move(ev));
        }
        return v;
      };
      fire = events(k_fire, 1);
      if (k_low >= 1) quiet = events(k_low, 200);
      if (k_high >= 1) quiet_high = events(k_high, 300);
      // A condition that a count of 0 meets (lt, lte, neq) must still not fire on a session without a match.
      if (count_holds(cond, 0)) {
        json other = base_event(source, 400);
        if (std::none_of(refs.begin(), refs.end(), [&](const Referenced& r) { return detection_matches(r.d, other); })) {
          quiet_none.push_back(other);
        }
      }
    } else {
      for (json ev : firing) {
        stamp(source, ev, n++);
        fire.push_back(std::move(ev));
      }
      if (refs.size() > 1) {
        if (type == "temporal_ordered") {
          // The same events in the reverse order.
          n = 200;
          for (auto it = firing.rbegin(); it != firing.rend(); ++it) {
            json ev = *it;
            stamp(source, ev, n++);
            quiet.push_back(std::move(ev));
          }
        } else {
          // One rule's event missing.
          quiet.assign(fire.begin(), fire.end() - 1);
        }
      }
    }
    t += test_clause("events built from the correlated rules' selections fire", fire, "1");
    if (!quiet.empty()) {
      t += test_clause(type.rfind("temporal", 0) == 0 ? (type == "temporal" ? "one rule's event missing does not fire"
                                                                            : "the events in the reverse order do not fire")
                                                      : "a smaller count that does not meet the condition does not fire",
                       quiet, "none");
    }
    if (!quiet_high.empty()) {
      t += test_clause("a larger count that does not meet the condition does not fire", quiet_high, "none");
    }
    if (!quiet_none.empty()) {
      t += test_clause("a session without a matching event does not fire", quiet_none, "none");
    }
  } catch (const GenFail& f) {
    untested = f.why;
  }
  t += "}\n";

  SigmaRule r;
  r.id = h.rule_id;
  r.sigma_id = h.sigma_id;
  r.title = h.title;
  r.source = source;
  r.text = std::move(t);
  r.untested = untested;
  r.note = note;
  return r;
}

}  // namespace

SigmaResult convert_sigma(const std::string& yaml_text, const std::string& path, const FieldTypeLookup& types,
                          const SigmaEnv& env) {
  SigmaResult res;
  try {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(yaml_text);
    } catch (const YAML::Exception& e) {
      refuse("YAML", e.what());
    }
    if (docs.empty()) refuse("YAML", "no document");
    for (const YAML::Node& d : docs) {
      if (!d.IsMap()) refuse("YAML", "a document is not a map");
    }
    std::vector<size_t> correlations;
    for (size_t i = 0; i < docs.size(); ++i) {
      if (docs[i]["correlation"]) correlations.push_back(i);
    }
    if (correlations.empty()) {
      if (docs.size() != 1) {
        refuse("a file of " + std::to_string(docs.size()) + " YAML documents",
               "a Sigma rule file holds one document (rule collections are not supported)");
      }
      res.rule = base_rule(docs[0], path, types);
      return res;
    }
    if (correlations.size() > 1) {
      refuse(std::to_string(correlations.size()) + " correlation rules in one file",
             "a chain of correlations (one over another's results) is not mapped, and a file converts to one rule");
    }
    // The other documents are the rules the correlation refers to; each must be one of them (none dropped).
    const YAML::Node& corr = docs[correlations[0]];
    std::map<std::string, YAML::Node> local;
    for (size_t i = 0; i < docs.size(); ++i) {
      if (i == correlations[0]) continue;
      for (const char* key : {"id", "name"}) {
        if (docs[i][key] && docs[i][key].IsScalar()) local[docs[i][key].Scalar()] = docs[i];
      }
    }
    const std::vector<std::string> refs = strings_of(corr["correlation"].IsMap() ? corr["correlation"]["rules"] : YAML::Node());
    for (size_t i = 0; i < docs.size(); ++i) {
      if (i == correlations[0]) continue;
      bool used = false;
      for (const char* key : {"id", "name"}) {
        if (docs[i][key] && docs[i][key].IsScalar() &&
            std::find(refs.begin(), refs.end(), docs[i][key].Scalar()) != refs.end()) {
          used = true;
        }
      }
      if (!used) {
        const std::string what = docs[i]["title"] ? docs[i]["title"].as<std::string>() : "document " + std::to_string(i + 1);
        refuse("rule `" + what + "`", "the file's correlation does not refer to it, and a file converts to one rule");
      }
    }
    res.rule = correlation_rule(corr, path, types, local, env);
  } catch (const Refused& x) {
    res.refusal = x.r;
    res.rule.reset();
  } catch (const YAML::Exception& e) {
    res.refusal = SigmaRefusal{"YAML", e.what()};
    res.rule.reset();
  }
  return res;
}

// ---------------------------------------------------------------------------------------------------------------
// The verb

namespace {

// Field types from the stdlib's source schemas.
class SchemaTypes {
 public:
  explicit SchemaTypes(const ir::Program& p) : prog_(p) {}
  std::string operator()(const std::string& source, const std::string& path) const {
    const ir::Source* src = nullptr;
    for (const ir::Source& s : prog_.sources) {
      if (s.name == source) src = &s;
    }
    if (!src) return "";
    const ir::SchemaType* t = &src->schema;
    size_t i = 0;
    while (i <= path.size()) {
      size_t dot = path.find('.', i);
      if (dot == std::string::npos) dot = path.size();
      std::string seg = path.substr(i, dot - i);
      bool any = seg.size() > 3 && seg.compare(seg.size() - 3, 3, "[*]") == 0;
      if (any) seg.resize(seg.size() - 3);
      // Beneath a free-form object, or in an open record: any JSON value.
      if (t->shape == ir::SchemaType::Shape::Object) return "any";
      if (t->shape != ir::SchemaType::Shape::Record) return "";
      const ir::SchemaType* next = nullptr;
      for (const ir::SchemaField& f : t->fields) {
        if (f.name == seg) next = &f.type;
      }
      if (!next) return t->open ? "any" : "";
      t = next;
      if (any) {
        if (t->shape != ir::SchemaType::Shape::List || !t->elem) return "";
        t = t->elem.get();
      } else if (t->shape == ir::SchemaType::Shape::List) {
        return dot == path.size() ? "list" : "";
      }
      i = dot + 1;
    }
    switch (t->shape) {
      case ir::SchemaType::Shape::Object: return "object";
      case ir::SchemaType::Shape::Record: return "record";
      case ir::SchemaType::Shape::List: return "list";
      case ir::SchemaType::Shape::Scalar: return std::string(ir::kind_name(t->scalar));
    }
    return "";
  }

 private:
  const ir::Program& prog_;
};

// The field paths a source's identity or credential expression reads (through coalesce, lower...).
std::vector<std::string> key_fields(const ir::Program& p, const std::string& source, bool credential) {
  std::vector<std::string> out;
  for (const ir::Source& s : p.sources) {
    if (s.name != source) continue;
    std::vector<ir::NodeId> todo;
    if ((credential ? s.credential : s.identity) != ir::kNoNode) todo.push_back(credential ? s.credential : s.identity);
    while (!todo.empty()) {
      const ir::Node& n = p.node(todo.back());
      todo.pop_back();
      if (n.op == ir::Op::Field) out.push_back(p.fields[static_cast<size_t>(n.imm)].text);
      for (ir::NodeId k : p.ops(n)) todo.push_back(k);
    }
  }
  return out;
}

bool write_text_file(const fs::path& p, const std::string& text) {
  FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return (std::fclose(f) == 0) && ok;
}

}  // namespace

int run_import_sigma(const ImportSigmaOptions& o) {
  if (o.output.empty()) throw UsageError{"import sigma needs -o DIR (where the Braid files go)"};
  std::vector<fs::path> files;
  for (const std::string& p : o.paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); it != fs::recursive_directory_iterator(); ++it) {
        const auto ext = it->path().extension();
        if (it->is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path());
      }
    } else if (fs::is_regular_file(p, ec)) {
      files.emplace_back(p);
    } else {
      err(fmt::format("braid: error[BRD0901]: cannot read `{}`: no such file or directory\n", sanitize_utf8(p)));
      return kExitUsage;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    err("braid: error[BRD0901]: no Sigma rule files (*.yml, *.yaml) in the given paths\n");
    return kExitUsage;
  }
  std::error_code ec;
  fs::create_directories(o.output, ec);
  if (ec) {
    err(fmt::format("braid: error[BRD0901]: cannot create `{}`: {}\n", sanitize_utf8(o.output), ec.message()));
    return kExitUsage;
  }

  // The stdlib's schemas, from a compilation of an empty rule file.
  const fs::path probe_dir = fs::path(o.output) / ".braid-import-probe";
  fs::create_directories(probe_dir, ec);
  write_text_file(probe_dir / "empty.braid", "// no rules\n");
  auto stdlib = compile({probe_dir.string()});
  fs::remove_all(probe_dir, ec);
  if (!stdlib->program) {
    err("braid: internal error: the standard library does not check\n");
    return kExitUsage;
  }
  SchemaTypes schema(*stdlib->program);
  FieldTypeLookup types = [&](const std::string& s, const std::string& p) { return schema(s, p); };

  // Every rule of the inputs by id and by name, for correlation rules that refer to rules in other files.
  std::map<std::string, YAML::Node> all_rules;
  std::vector<std::string> texts;
  for (const fs::path& f : files) {
    std::string text, error;
    if (!read_file(f.string(), text, error)) {
      err(fmt::format("braid: error[BRD0901]: cannot read `{}`: {}\n", sanitize_utf8(f.string()), error));
      return kExitUsage;
    }
    try {
      for (const YAML::Node& d : YAML::LoadAll(text)) {
        if (!d.IsMap()) continue;
        for (const char* key : {"id", "name"}) {
          if (d[key] && d[key].IsScalar()) all_rules.emplace(d[key].Scalar(), d);
        }
      }
    } catch (const YAML::Exception&) {
      // convert_sigma refuses the file with the parser's message.
    }
    texts.push_back(std::move(text));
  }
  SigmaEnv env;
  env.rules = &all_rules;
  env.key_fields = [&](const std::string& source, bool credential) {
    return key_fields(*stdlib->program, source, credential);
  };

  struct Outcome {
    fs::path input;
    std::optional<SigmaRule> rule;
    std::optional<SigmaRefusal> refusal;
    fs::path output;
  };
  std::vector<Outcome> outcomes;
  std::set<std::string> ids;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    const fs::path& f = files[fi];
    Outcome out_;
    out_.input = f;
    SigmaResult r = convert_sigma(texts[fi], f.string(), types, env);
    if (r.rule && !ids.insert(r.rule->id).second) {
      r.refusal = SigmaRefusal{"rule id " + r.rule->id, "another file converts to the same id"};
      r.rule.reset();
    }
    out_.rule = std::move(r.rule);
    out_.refusal = std::move(r.refusal);
    if (out_.rule) {
      out_.output = fs::path(o.output) / (out_.rule->id.substr(out_.rule->id.rfind('.') + 1) + ".braid");
      if (!write_text_file(out_.output, out_.rule->text)) {
        err(fmt::format("braid: error[BRD0901]: cannot write `{}`\n", sanitize_utf8(out_.output.string())));
        return kExitUsage;
      }
    }
    outcomes.push_back(std::move(out_));
  }

  // Check and lint every converted file with the stdlib; a file with an error is refused and removed.
  std::vector<std::string> written;
  for (const Outcome& x : outcomes) {
    if (x.rule) written.push_back(x.output.string());
  }
  size_t warnings = 0;
  if (!written.empty()) {
    DriverOptions lint;
    lint.run_lint = true;
    auto comp = compile(written, lint);
    std::map<std::string, std::string> first_error;
    for (const Diagnostic& d : comp->diags.all()) {
      if (!d.span.valid()) continue;
      const std::string file = comp->sm.file(d.span.file).path();
      if (d.severity == Severity::Error) {
        if (!first_error.count(file)) first_error[file] = fmt::format("{}: {}", code_info(d.code).id, d.message);
      } else {
        ++warnings;
      }
    }
    for (Outcome& x : outcomes) {
      if (!x.rule) continue;
      auto it = first_error.find(x.output.string());
      if (it == first_error.end()) continue;
      x.refusal = SigmaRefusal{"the converted rule", "does not check: " + it->second};
      x.rule.reset();
      fs::remove(x.output, ec);
    }
    // Format the accepted files (the canonical layout of `braid fmt`).
    for (size_t i = 0; i < comp->user_files.size() && i + comp->stdlib_file_count < comp->asts.size(); ++i) {
      const ast::File& file = comp->asts[comp->stdlib_file_count + i];
      const std::string& p = comp->sm.file(comp->user_files[i]).path();
      if (first_error.count(p)) continue;
      write_text_file(p, format_file(file, comp->sm));
    }
  }

  size_t converted = 0, refused = 0, untested = 0;
  for (const Outcome& x : outcomes) {
    if (x.rule) {
      ++converted;
      if (!x.rule->note.empty()) {
        err(fmt::format("braid: note: {}: {}\n", sanitize_utf8(x.input.string()), x.rule->note));
      }
      if (!x.rule->untested.empty()) {
        ++untested;
        err(fmt::format("braid: converted {} without a generated test: {}\n", sanitize_utf8(x.input.string()),
                        x.rule->untested));
      }
      continue;
    }
    ++refused;
    err(fmt::format("braid: refused {}: {}: {}\n", sanitize_utf8(x.input.string()), x.refusal->construct,
                    x.refusal->reason));
  }
  err(fmt::format("braid import sigma: {} rule file(s): {} converted into {} ({} without a generated test), {} "
                  "refused; {} lint warning(s)\n",
                  outcomes.size(), converted, sanitize_utf8(o.output), untested, refused, warnings));
  return kExitClean;
}

}  // namespace braid::cli
