// A structural validator for the subset of SARIF 2.1.0 that braid emits, written from the OASIS schema
// (sarif-schema-2.1.0.json): for each object type, its required properties, the properties it may have (the
// schema closes most objects with "additionalProperties": false), and the types and ranges of the values braid
// uses. On top of the schema it checks what GitHub code scanning relies on: results point at their rule
// (ruleIndex agrees with ruleId), locations use relative URIs with forward slashes, regions are well-ordered.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "json.h"

namespace braid::testjson {

class SarifValidator {
 public:
  std::vector<std::string> validate(const Value& log) {
    errors_.clear();
    sarif_log(log, "$");
    return errors_;
  }

 private:
  using Keys = std::set<std::string>;

  void error(const std::string& path, const std::string& what) { errors_.push_back(path + ": " + what); }

  bool object(const Value& v, const std::string& path, const Keys& allowed, const Keys& required) {
    if (!v.is_object()) {
      error(path, "must be an object");
      return false;
    }
    for (const auto& [k, _] : v.members) {
      if (!allowed.count(k)) error(path, "property `" + k + "` is not allowed here");
    }
    for (const std::string& r : required) {
      if (!v.has(r)) error(path, "required property `" + r + "` is missing");
    }
    return true;
  }

  void string(const Value* v, const std::string& path) {
    if (v && !v->is_string()) error(path, "must be a string");
  }
  void integer(const Value* v, const std::string& path, double min) {
    if (!v) return;
    if (!v->is_int()) error(path, "must be an integer");
    else if (v->num < min) error(path, "must be >= " + std::to_string(static_cast<long long>(min)));
  }
  void enumeration(const Value* v, const std::string& path, const Keys& values) {
    if (!v) return;
    if (!v->is_string() || !values.count(v->str)) error(path, "not one of the allowed values");
  }
  // An array; returns false if absent or not an array.
  bool array(const Value* v, const std::string& path, size_t min_items) {
    if (!v) return false;
    if (!v->is_array()) {
      error(path, "must be an array");
      return false;
    }
    if (v->items.size() < min_items) error(path, "needs at least " + std::to_string(min_items) + " item(s)");
    return true;
  }

  void sarif_log(const Value& v, const std::string& p) {
    if (!object(v, p, {"$schema", "version", "runs", "inlineExternalProperties", "properties"}, {"version", "runs"}))
      return;
    enumeration(v.get("version"), p + ".version", {"2.1.0"});
    string(v.get("$schema"), p + ".$schema");
    if (v.has("$schema") && v.at("$schema").str.find("sarif") == std::string::npos) error(p, "$schema is not SARIF");
    if (array(v.get("runs"), p + ".runs", 0)) {
      for (size_t i = 0; i < v.at("runs").items.size(); ++i) run(v.at("runs").items[i], p + ".runs[" + std::to_string(i) + "]");
    }
  }

  void run(const Value& v, const std::string& p) {
    static const Keys allowed = {"tool", "invocations", "conversion", "language", "versionControlProvenance",
                                 "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
                                 "automationDetails", "runAggregates", "baselineGuid", "redactionTokens",
                                 "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
                                 "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses",
                                 "translations", "policies", "webRequests", "webResponses", "specialLocations",
                                 "properties"};
    if (!object(v, p, allowed, {"tool"})) return;
    enumeration(v.get("columnKind"), p + ".columnKind", {"utf16CodeUnits", "unicodeCodePoints"});
    rules_.clear();
    if (v.has("tool")) tool(v.at("tool"), p + ".tool");
    if (array(v.get("results"), p + ".results", 0)) {
      for (size_t i = 0; i < v.at("results").items.size(); ++i)
        result(v.at("results").items[i], p + ".results[" + std::to_string(i) + "]");
    }
  }

  void tool(const Value& v, const std::string& p) {
    if (!object(v, p, {"driver", "extensions", "properties"}, {"driver"})) return;
    const Value& d = v.at("driver");
    static const Keys allowed = {"guid", "name", "organization", "product", "productSuite", "shortDescription",
                                 "fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion",
                                 "releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings",
                                 "notifications", "rules", "taxa", "locations", "language", "contents",
                                 "isComprehensive", "localizedDataSemanticVersion",
                                 "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent",
                                 "translationMetadata", "supportedTaxonomies", "properties"};
    std::string dp = p + ".driver";
    if (!object(d, dp, allowed, {"name"})) return;
    string(d.get("name"), dp + ".name");
    string(d.get("version"), dp + ".version");
    string(d.get("semanticVersion"), dp + ".semanticVersion");
    if (d.has("informationUri") && d.at("informationUri").str.find("://") == std::string::npos)
      error(dp + ".informationUri", "must be an absolute URI");
    if (array(d.get("rules"), dp + ".rules", 0)) {
      std::set<std::string> ids;
      for (size_t i = 0; i < d.at("rules").items.size(); ++i) {
        const Value& r = d.at("rules").items[i];
        std::string rp = dp + ".rules[" + std::to_string(i) + "]";
        rule(r, rp);
        std::string id = r.is_object() && r.has("id") ? r.at("id").str : "";
        if (!ids.insert(id).second) error(rp, "duplicate rule id " + id);
        rules_.push_back(id);
      }
    }
  }

  void message_string(const Value* v, const std::string& p) {  // multiformatMessageString
    if (!v) return;
    if (object(*v, p, {"text", "markdown", "properties"}, {"text"})) string(v->get("text"), p + ".text");
  }

  void rule(const Value& v, const std::string& p) {
    static const Keys allowed = {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
                                 "shortDescription", "fullDescription", "messageStrings", "defaultConfiguration",
                                 "helpUri", "help", "relationships", "properties"};
    if (!object(v, p, allowed, {"id"})) return;
    string(v.get("id"), p + ".id");
    string(v.get("name"), p + ".name");
    message_string(v.get("shortDescription"), p + ".shortDescription");
    message_string(v.get("fullDescription"), p + ".fullDescription");
    message_string(v.get("help"), p + ".help");
    if (const Value* c = v.get("defaultConfiguration")) {
      if (object(*c, p + ".defaultConfiguration", {"enabled", "level", "rank", "parameters", "properties"}, {}))
        enumeration(c->get("level"), p + ".defaultConfiguration.level", {"none", "note", "warning", "error"});
    }
  }

  void message(const Value* v, const std::string& p) {
    if (!v) return;
    if (!object(*v, p, {"text", "markdown", "id", "arguments", "properties"}, {})) return;
    if (!v->has("text") && !v->has("id")) error(p, "needs `text` or `id`");
    string(v->get("text"), p + ".text");
  }

  void result(const Value& v, const std::string& p) {
    static const Keys allowed = {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget",
                                 "locations", "guid", "correlationGuid", "occurrenceCount", "partialFingerprints",
                                 "fingerprints", "stacks", "codeFlows", "graphs", "graphTraversals",
                                 "relatedLocations", "suppressions", "baselineState", "rank", "attachments",
                                 "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa", "webRequest",
                                 "webResponse", "properties"};
    if (!object(v, p, allowed, {"message"})) return;
    string(v.get("ruleId"), p + ".ruleId");
    integer(v.get("ruleIndex"), p + ".ruleIndex", -1);
    enumeration(v.get("level"), p + ".level", {"none", "note", "warning", "error"});
    enumeration(v.get("kind"), p + ".kind", {"notApplicable", "pass", "fail", "review", "open", "informational"});
    message(v.get("message"), p + ".message");
    if (v.has("ruleIndex") && v.at("ruleIndex").is_int()) {
      auto idx = static_cast<size_t>(v.at("ruleIndex").num);
      if (idx >= rules_.size()) error(p + ".ruleIndex", "out of range of tool.driver.rules");
      else if (v.has("ruleId") && rules_[idx] != v.at("ruleId").str)
        error(p + ".ruleIndex", "points at rule " + rules_[idx] + ", not " + v.at("ruleId").str);
    }
    if (array(v.get("locations"), p + ".locations", 0)) {
      for (size_t i = 0; i < v.at("locations").items.size(); ++i)
        location(v.at("locations").items[i], p + ".locations[" + std::to_string(i) + "]");
    }
    if (array(v.get("relatedLocations"), p + ".relatedLocations", 0)) {
      std::set<long long> ids;
      for (size_t i = 0; i < v.at("relatedLocations").items.size(); ++i) {
        const Value& l = v.at("relatedLocations").items[i];
        std::string lp = p + ".relatedLocations[" + std::to_string(i) + "]";
        location(l, lp);
        if (l.is_object() && l.has("id") && !ids.insert(static_cast<long long>(l.at("id").num)).second)
          error(lp, "duplicate location id");
      }
    }
    if (array(v.get("fixes"), p + ".fixes", 0)) {
      for (size_t i = 0; i < v.at("fixes").items.size(); ++i)
        fix(v.at("fixes").items[i], p + ".fixes[" + std::to_string(i) + "]");
    }
  }

  void location(const Value& v, const std::string& p) {
    if (!object(v, p, {"id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships",
                       "properties"}, {}))
      return;
    integer(v.get("id"), p + ".id", -1);
    message(v.get("message"), p + ".message");
    if (const Value* pl = v.get("physicalLocation")) {
      std::string pp = p + ".physicalLocation";
      if (!object(*pl, pp, {"address", "artifactLocation", "region", "contextRegion", "properties"}, {})) return;
      if (!pl->has("address") && !pl->has("artifactLocation")) error(pp, "needs `address` or `artifactLocation`");
      if (pl->has("artifactLocation")) artifact_location(pl->at("artifactLocation"), pp + ".artifactLocation");
      if (pl->has("region")) region(pl->at("region"), pp + ".region");
    }
  }

  void artifact_location(const Value& v, const std::string& p) {
    if (!object(v, p, {"uri", "uriBaseId", "index", "description", "properties"}, {})) return;
    string(v.get("uri"), p + ".uri");
    string(v.get("uriBaseId"), p + ".uriBaseId");
    integer(v.get("index"), p + ".index", -1);
    if (v.has("uri")) {
      const std::string& u = v.at("uri").str;
      if (u.empty()) error(p + ".uri", "empty");
      if (u.find('\\') != std::string::npos) error(p + ".uri", "backslash in URI: " + u);
      for (char c : u) {
        if (c == ' ' || static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) >= 0x7F)
          error(p + ".uri", "character not allowed in a URI (percent-encode it): " + u);
      }
      bool absolute = u.find("://") != std::string::npos;
      if (!absolute && !u.empty() && u[0] == '/') error(p + ".uri", "absolute path instead of a relative URI");
      if (!absolute && !v.has("uriBaseId")) error(p, "relative uri without uriBaseId");
    }
  }

  void region(const Value& v, const std::string& p) {
    static const Keys allowed = {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength",
                                 "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"};
    if (!object(v, p, allowed, {})) return;
    for (const char* k : {"startLine", "startColumn", "endLine", "endColumn"}) integer(v.get(k), p + "." + k, 1);
    if (!v.has("startLine") && !v.has("charOffset") && !v.has("byteOffset"))
      error(p, "needs startLine, charOffset or byteOffset");
    if (v.has("startLine") && v.has("endLine")) {
      double sl = v.at("startLine").num, el = v.at("endLine").num;
      if (el < sl) error(p, "endLine before startLine");
      if (el == sl && v.has("startColumn") && v.has("endColumn") && v.at("endColumn").num < v.at("startColumn").num)
        error(p, "endColumn before startColumn");
    }
  }

  void fix(const Value& v, const std::string& p) {
    if (!object(v, p, {"description", "artifactChanges", "properties"}, {"artifactChanges"})) return;
    message(v.get("description"), p + ".description");
    if (!array(v.get("artifactChanges"), p + ".artifactChanges", 1)) return;
    for (size_t i = 0; i < v.at("artifactChanges").items.size(); ++i) {
      const Value& c = v.at("artifactChanges").items[i];
      std::string cp = p + ".artifactChanges[" + std::to_string(i) + "]";
      if (!object(c, cp, {"artifactLocation", "replacements", "properties"}, {"artifactLocation", "replacements"}))
        continue;
      artifact_location(c.at("artifactLocation"), cp + ".artifactLocation");
      if (!array(c.get("replacements"), cp + ".replacements", 1)) continue;
      for (size_t j = 0; j < c.at("replacements").items.size(); ++j) {
        const Value& r = c.at("replacements").items[j];
        std::string rp = cp + ".replacements[" + std::to_string(j) + "]";
        if (!object(r, rp, {"deletedRegion", "insertedContent", "properties"}, {"deletedRegion"})) continue;
        region(r.at("deletedRegion"), rp + ".deletedRegion");
        if (const Value* ic = r.get("insertedContent")) {
          if (object(*ic, rp + ".insertedContent", {"text", "binary", "rendered", "properties"}, {}))
            string(ic->get("text"), rp + ".insertedContent.text");
        }
      }
    }
  }

  std::vector<std::string> errors_;
  std::vector<std::string> rules_;
};

}  // namespace braid::testjson
