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
// Everything else is refused with the construct and the reason: encoding modifiers (base64, utf16, windash), expand,
// time modifiers, keyword (field-less) searches, aggregations and correlation rules, logsources without a Braid source.
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
  const char* source;           // the Braid source; nullptr: none yet (refused with `missing`)
  const char* message_fields;   // the part of the alert message after the Sigma attribution
  std::vector<FieldRename> renames;
  const char* missing = nullptr;
};

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
      {"azure", "activitylogs", nullptr, "", {},
       "Azure Activity logs have no Braid source yet (issue 13 asks for one; stdlib/azure is not written)"},
      {"gcp", "google_workspace.admin", nullptr, "", {}, "Google Workspace has no Braid source yet"},
      {"gcp", "google_workspace.login", nullptr, "", {}, "Google Workspace has no Braid source yet"},
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
void violate(const FieldCond& fc, json& ev) {
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
            violate(fc, ev);
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
          if (!alt.empty()) violate(alt[0], miss);
        }
      } else {
        satisfy_map(sels.at(names[i]).alts[0], miss);
      }
      std::map<std::string, bool> t = truth_of(miss);
      if (!root.eval(t)) g.quiet.push_back(miss);
    }
    // Unique ids and times for the near misses.
    int k = 1;
    for (json& q : g.quiet) {
      json b = base_event(source, 100 + k++);
      if (source == "aws.cloudtrail") {
        q["eventID"] = b["eventID"];
        q["eventTime"] = b["eventTime"];
      } else if (source == "okta.system") {
        q["uuid"] = b["uuid"];
        q["published"] = b["published"];
      } else if (source == "github.audit") {
        q["_document_id"] = b["_document_id"];
        q["created_at"] = b["created_at"];
      } else if (source == "gcp.audit") {
        q["insertId"] = b["insertId"];
        q["timestamp"] = b["timestamp"];
      } else {
        q["properties"]["id"] = b["properties"]["id"];
        q["time"] = b["time"];
      }
    }
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
}  // namespace

SigmaResult convert_sigma(const std::string& yaml_text, const std::string& path, const FieldTypeLookup& types) {
  SigmaResult res;
  try {
    YAML::Node doc;
    try {
      std::vector<YAML::Node> docs = YAML::LoadAll(yaml_text);
      if (docs.size() != 1) refuse("a file of " + std::to_string(docs.size()) + " YAML documents", "a Sigma rule file holds one document (rule collections are not supported)");
      doc = docs[0];
    } catch (const YAML::Exception& e) {
      refuse("YAML", e.what());
    }
    if (!doc.IsMap()) refuse("YAML", "the document is not a map");
    if (doc["correlation"]) refuse("correlation rule", "correlation rules are not mapped yet (sessions have one identity; the language issue's grouping scope will take them)");
    const std::string title = doc["title"] ? doc["title"].as<std::string>() : "";
    if (title.empty()) refuse("title", "missing");
    const std::string sigma_id = doc["id"] ? doc["id"].as<std::string>() : "";
    const YAML::Node logsource = doc["logsource"];
    if (!logsource || !logsource.IsMap()) refuse("logsource", "missing");
    const std::string product = logsource["product"] ? logsource["product"].as<std::string>() : "";
    const std::string service = logsource["service"] ? logsource["service"].as<std::string>() : "";
    if (logsource["category"]) refuse("logsource category", "categories (process_creation...) name no cloud source");
    const LogSource* ls = nullptr;
    for (const LogSource& s : log_sources()) {
      if (product == s.product && service == s.service) ls = &s;
    }
    if (!ls) refuse(fmt::format("logsource {}/{}", product, service), "no Braid source for it");
    if (!ls->source) refuse(fmt::format("logsource {}/{}", product, service), ls->missing);
    Ctx c{ls, &types};

    const YAML::Node det = doc["detection"];
    if (!det || !det.IsMap()) refuse("detection", "missing");
    std::map<std::string, std::string> selections;
    std::map<std::string, Selection> sel_data;
    for (const auto& kv : det) {
      const std::string name = kv.first.as<std::string>();
      if (name == "condition" || name == "timeframe") continue;
      selections[name] = selection_condition(c, name, kv.second, sel_data[name]);
    }
    if (det["timeframe"]) refuse("timeframe", "a time window belongs to correlation rules");
    const YAML::Node cond = det["condition"];
    if (!cond) refuse("condition", "missing");
    std::vector<std::string> conds = strings_of(cond);
    if (conds.empty()) refuse("condition", "not a string");
    std::string when;
    CNode root;
    root.kind = CNode::Kind::Or;
    for (const std::string& cs : conds) {
      ConditionParser cp(cs, selections);
      std::string e = cp.parse();
      when += (when.empty() ? "" : " or ") + e;
      root.kids.push_back(cp.tree());
    }

    // Metadata.
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
    const std::string rule_id = "sigma." + name_segment(product) + "." + name_segment(stem);

    std::vector<std::string> tags = {"sigma"};
    if (!status.empty()) tags.push_back("sigma-status:" + status);
    if (!sigma_id.empty()) tags.push_back("sigma-id:" + sigma_id);
    tags.push_back("license:DRL-1.1");
    for (const std::string& t : other_tags) tags.push_back(t);
    std::vector<std::string> refs;
    if (!sigma_id.empty()) refs.push_back("sigma:" + sigma_id);
    for (const std::string& r : strings_of(doc["references"])) refs.push_back(r);
    refs.push_back("https://github.com/SigmaHQ/Detection-Rule-License (Detection Rule License 1.1)");

    std::string attribution = fmt::format("Sigma rule \"{}\" ({}) by {}, Detection Rule License 1.1", title,
                                          sigma_id.empty() ? "no id" : sigma_id, author.empty() ? "unknown" : author);
    std::string t;
    t += fmt::format("// Converted by `braid import sigma` from {} ({}).\n", fs::path(path).filename().string(),
                     sigma_id.empty() ? "no Sigma id" : "Sigma id " + sigma_id);
    t += "// Sigma rules are under the Detection Rule License 1.1: keep the author's attribution when sharing this rule.\n";
    t += "rule " + rule_id + " {\n";
    t += "  title " + quote(one_line(title)) + "\n";
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
    t += std::string("  source ") + ls->source + "\n";
    t += "  when " + when + "\n";
    t += "  message \"" + template_literal(attribution) + ": " + ls->message_fields + "\"\n";
    std::string untested;
    try {
      Generated g = generate(ls->source, sel_data, root);
      t += "\n  test \"an event built from the Sigma selections fires\" {\n" + events_clause(g.fire) + "    expect 1\n  }\n";
      if (!g.quiet.empty()) {
        t += "\n  test \"events that break a selection or meet a filter do not fire\" {\n" + events_clause(g.quiet) +
             "    expect none\n  }\n";
      }
    } catch (const GenFail& f) {
      untested = f.why;
    }
    t += "}\n";

    SigmaRule r;
    r.id = rule_id;
    r.sigma_id = sigma_id;
    r.title = title;
    r.source = ls->source;
    r.text = std::move(t);
    r.untested = untested;
    res.rule = std::move(r);
  } catch (const Refused& x) {
    res.refusal = x.r;
  } catch (const YAML::Exception& e) {
    res.refusal = SigmaRefusal{"YAML", e.what()};
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

  struct Outcome {
    fs::path input;
    std::optional<SigmaRule> rule;
    std::optional<SigmaRefusal> refusal;
    fs::path output;
  };
  std::vector<Outcome> outcomes;
  std::set<std::string> ids;
  for (const fs::path& f : files) {
    Outcome out_;
    out_.input = f;
    std::string text, error;
    if (!read_file(f.string(), text, error)) {
      err(fmt::format("braid: error[BRD0901]: cannot read `{}`: {}\n", sanitize_utf8(f.string()), error));
      return kExitUsage;
    }
    SigmaResult r = convert_sigma(text, f.string(), types);
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
