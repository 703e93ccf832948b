// A validator for MITRE ATT&CK Navigator layer files, written from the documented format, version 4.5
// (https://github.com/mitre-attack/attack-navigator/blob/master/layers/LAYERFORMATv4_5.md): for each object, its
// properties (the documented ones only: an unknown property is an error, since the Navigator would ignore it), the
// required ones, and the types and allowed values of each. On top of the table it checks what the document states in
// prose: `versions.layer` must be "4.5" and `versions.navigator` at least "4.9.0"; technique ids are "T####" or
// "T####.###"; `gradient.colors` has at least two colours and `maxValue > minValue`; colours are "#RRGGBB";
// `showSubtechniques` only on a technique (not a sub-technique); link URLs carry a protocol.
#pragma once

#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "json.h"

namespace braid::testjson {

class NavigatorLayerValidator {
 public:
  std::vector<std::string> validate(const Value& layer) {
    errors_.clear();
    this->layer(layer, "$");
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
      if (!allowed.count(k)) error(path, "property `" + k + "` is not in the layer format 4.5");
    }
    for (const std::string& r : required) {
      if (!v.has(r)) error(path, "required property `" + r + "` is missing");
    }
    return true;
  }
  void string(const Value* v, const std::string& path) {
    if (v && !v->is_string()) error(path, "must be a string");
  }
  void boolean(const Value* v, const std::string& path) {
    if (v && !v->is_bool()) error(path, "must be a boolean");
  }
  void number(const Value* v, const std::string& path) {
    if (v && v->kind != Value::Kind::Number) error(path, "must be a number");
  }
  void enumeration(const Value* v, const std::string& path, const Keys& values) {
    if (!v) return;
    if (!v->is_string() || !values.count(v->str)) error(path, "not one of the documented values");
  }
  void color(const Value* v, const std::string& path) {
    static const std::regex hex("^#[0-9A-Fa-f]{6}$");
    if (!v) return;
    if (!v->is_string() || !std::regex_match(v->str, hex)) error(path, "must be a colour \"#RRGGBB\"");
  }
  bool array(const Value* v, const std::string& path) {
    if (!v) return false;
    if (!v->is_array()) {
      error(path, "must be an array");
      return false;
    }
    return true;
  }
  static std::string at(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

  // "a.b.c" numerically compared with "x.y.z"; false when either is not dotted numbers.
  static bool version_at_least(const std::string& v, const std::string& min) {
    static const std::regex dotted("^[0-9]+(\\.[0-9]+)*$");
    if (!std::regex_match(v, dotted)) return false;
    auto parts = [](const std::string& s) {
      std::vector<long> p;
      size_t i = 0;
      while (i <= s.size()) {
        size_t dot = s.find('.', i);
        if (dot == std::string::npos) dot = s.size();
        p.push_back(std::stol(s.substr(i, dot - i)));
        i = dot + 1;
      }
      return p;
    };
    auto a = parts(v), b = parts(min);
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      long x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
      if (x != y) return x > y;
    }
    return true;
  }

  void layer(const Value& v, const std::string& p) {
    static const Keys allowed = {"versions", "name", "description", "domain", "customDataURL", "filters", "sorting",
                                 "layout", "hideDisabled", "techniques", "gradient", "legendItems",
                                 "showTacticRowBackground", "tacticRowBackground", "selectTechniquesAcrossTactics",
                                 "selectSubtechniquesWithParent", "selectVisibleTechniques", "metadata", "links"};
    if (!object(v, p, allowed, {"name", "domain"})) return;
    string(v.get("name"), p + ".name");
    string(v.get("description"), p + ".description");
    enumeration(v.get("domain"), p + ".domain", {"enterprise-attack", "mobile-attack", "ics-attack"});
    string(v.get("customDataURL"), p + ".customDataURL");
    if (const Value* ver = v.get("versions")) versions(*ver, p + ".versions");
    if (const Value* f = v.get("filters")) filters(*f, p + ".filters", v.get("domain"));
    if (const Value* s = v.get("sorting")) {
      if (!s->is_int() || s->num < 0 || s->num > 3) error(p + ".sorting", "must be 0, 1, 2 or 3");
    }
    if (const Value* l = v.get("layout")) layout(*l, p + ".layout");
    boolean(v.get("hideDisabled"), p + ".hideDisabled");
    if (array(v.get("techniques"), p + ".techniques")) {
      std::set<std::string> seen;
      const auto& items = v.at("techniques").items;
      for (size_t i = 0; i < items.size(); ++i) technique(items[i], at(p + ".techniques", i), seen);
    }
    if (const Value* g = v.get("gradient")) gradient(*g, p + ".gradient");
    if (array(v.get("legendItems"), p + ".legendItems")) {
      const auto& items = v.at("legendItems").items;
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string ip = at(p + ".legendItems", i);
        if (!object(items[i], ip, {"label", "color"}, {"label", "color"})) continue;
        string(items[i].get("label"), ip + ".label");
        color(items[i].get("color"), ip + ".color");
      }
    }
    boolean(v.get("showTacticRowBackground"), p + ".showTacticRowBackground");
    color(v.get("tacticRowBackground"), p + ".tacticRowBackground");
    boolean(v.get("selectTechniquesAcrossTactics"), p + ".selectTechniquesAcrossTactics");
    boolean(v.get("selectSubtechniquesWithParent"), p + ".selectSubtechniquesWithParent");
    boolean(v.get("selectVisibleTechniques"), p + ".selectVisibleTechniques");
    metadata(v.get("metadata"), p + ".metadata");
    links(v.get("links"), p + ".links");
  }

  void versions(const Value& v, const std::string& p) {
    if (!object(v, p, {"attack", "navigator", "layer"}, {"navigator", "layer"})) return;
    string(v.get("attack"), p + ".attack");
    if (const Value* n = v.get("navigator")) {
      if (!n->is_string() || !version_at_least(n->str, "4.9.0")) error(p + ".navigator", "must be at least \"4.9.0\"");
    }
    enumeration(v.get("layer"), p + ".layer", {"4.5"});
  }

  void filters(const Value& v, const std::string& p, const Value* domain) {
    if (!object(v, p, {"platforms"}, {})) return;
    if (!array(v.get("platforms"), p + ".platforms")) return;
    Keys valid = {"PRE", "Windows", "Linux", "macOS", "Network", "AWS", "GCP", "Azure", "Azure AD", "Office 365", "SaaS"};
    if (domain && domain->is_string() && domain->str == "mobile-attack") valid = {"Android", "iOS"};
    const auto& items = v.at("platforms").items;
    for (size_t i = 0; i < items.size(); ++i) enumeration(&items[i], at(p + ".platforms", i), valid);
  }

  void layout(const Value& v, const std::string& p) {
    if (!object(v, p,
                {"layout", "showID", "showName", "showAggregateScores", "countUnscored", "aggregateFunction",
                 "expandedSubtechniques"},
                {}))
      return;
    enumeration(v.get("layout"), p + ".layout", {"side", "flat", "mini"});
    boolean(v.get("showID"), p + ".showID");
    boolean(v.get("showName"), p + ".showName");
    boolean(v.get("showAggregateScores"), p + ".showAggregateScores");
    boolean(v.get("countUnscored"), p + ".countUnscored");
    enumeration(v.get("aggregateFunction"), p + ".aggregateFunction", {"average", "min", "max", "sum"});
    enumeration(v.get("expandedSubtechniques"), p + ".expandedSubtechniques", {"none", "all", "annotated"});
  }

  void technique(const Value& v, const std::string& p, std::set<std::string>& seen) {
    static const std::regex id_re("^T[0-9]{4}(\\.[0-9]{3})?$");
    static const std::regex tactic_re("^[a-z]+(-[a-z]+)*$");
    if (!object(v, p,
                {"techniqueID", "tactic", "comment", "enabled", "score", "color", "metadata", "links",
                 "showSubtechniques"},
                {"techniqueID"}))
      return;
    const Value* id = v.get("techniqueID");
    if (id && (!id->is_string() || !std::regex_match(id->str, id_re))) {
      error(p + ".techniqueID", "must be \"T####\" or \"T####.###\"");
    }
    const Value* tactic = v.get("tactic");
    if (tactic && (!tactic->is_string() || !std::regex_match(tactic->str, tactic_re))) {
      error(p + ".tactic", "must be a tactic's short name such as \"lateral-movement\"");
    }
    if (id && id->is_string()) {
      const std::string key = id->str + "/" + (tactic && tactic->is_string() ? tactic->str : "");
      if (!seen.insert(key).second) error(p, "technique " + id->str + " appears twice for the same tactic");
    }
    string(v.get("comment"), p + ".comment");
    boolean(v.get("enabled"), p + ".enabled");
    number(v.get("score"), p + ".score");
    color(v.get("color"), p + ".color");
    boolean(v.get("showSubtechniques"), p + ".showSubtechniques");
    if (v.has("showSubtechniques") && id && id->is_string() && id->str.find('.') != std::string::npos) {
      error(p + ".showSubtechniques", "only valid under a technique with sub-techniques, not a sub-technique");
    }
    metadata(v.get("metadata"), p + ".metadata");
    links(v.get("links"), p + ".links");
  }

  void gradient(const Value& v, const std::string& p) {
    if (!object(v, p, {"colors", "minValue", "maxValue"}, {"colors", "minValue", "maxValue"})) return;
    if (array(v.get("colors"), p + ".colors")) {
      const auto& items = v.at("colors").items;
      if (items.size() < 2) error(p + ".colors", "needs at least two colours");
      for (size_t i = 0; i < items.size(); ++i) color(&items[i], at(p + ".colors", i));
    }
    number(v.get("minValue"), p + ".minValue");
    number(v.get("maxValue"), p + ".maxValue");
    const Value* lo = v.get("minValue");
    const Value* hi = v.get("maxValue");
    if (lo && hi && lo->kind == Value::Kind::Number && hi->kind == Value::Kind::Number && !(hi->num > lo->num)) {
      error(p, "maxValue must be greater than minValue");
    }
  }

  // Metadata objects {name, value} and divider objects {divider}.
  void metadata(const Value* v, const std::string& p) {
    if (!array(v, p)) return;
    for (size_t i = 0; i < v->items.size(); ++i) {
      const Value& m = v->items[i];
      const std::string ip = at(p, i);
      if (m.is_object() && m.has("divider")) {
        if (object(m, ip, {"divider"}, {"divider"})) boolean(m.get("divider"), ip + ".divider");
        continue;
      }
      if (!object(m, ip, {"name", "value"}, {"name", "value"})) continue;
      string(m.get("name"), ip + ".name");
      string(m.get("value"), ip + ".value");
    }
  }

  // Link objects {label, url} and divider objects {divider}.
  void links(const Value* v, const std::string& p) {
    static const std::regex url_re("^[A-Za-z][A-Za-z0-9+.-]*://");
    if (!array(v, p)) return;
    for (size_t i = 0; i < v->items.size(); ++i) {
      const Value& m = v->items[i];
      const std::string ip = at(p, i);
      if (m.is_object() && m.has("divider")) {
        if (object(m, ip, {"divider"}, {"divider"})) boolean(m.get("divider"), ip + ".divider");
        continue;
      }
      if (!object(m, ip, {"label", "url"}, {"label", "url"})) continue;
      string(m.get("label"), ip + ".label");
      const Value* url = m.get("url");
      if (url && (!url->is_string() || !std::regex_search(url->str, url_re))) {
        error(ip + ".url", "must be prefixed with a protocol identifier (e.g. https://)");
      }
    }
  }

  std::vector<std::string> errors_;
};

}  // namespace braid::testjson
