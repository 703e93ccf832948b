// `braid import sigma`: Sigma rules (YAML, specification v2.1) converted into Braid rules, one file per rule
// (docs/sigma.md). convert_sigma() is pure (one rule file's YAML text in, Braid text or a refusal out); the verb writes
// the files, checks and lints them with the stdlib, refuses those the checker rejects, and formats the rest.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace braid::cli {

// Why a rule was not converted: the construct (a modifier, a logsource, a field, "keyword search"...) and why.
struct SigmaRefusal {
  std::string construct;
  std::string reason;
};

struct SigmaRule {
  std::string id;        // the Braid rule id: sigma.<product>.<file stem>
  std::string sigma_id;  // the Sigma rule's `id`
  std::string title;
  std::string source;    // the Braid source
  std::string text;      // the Braid file (not yet formatted)
  std::string untested;  // why no test events could be built from the selections ("" when they were)
  std::string note;      // how the conversion differs from Sigma's meaning, when it does (correlation windows)
};

struct SigmaResult {
  std::optional<SigmaRule> rule;         // set when converted
  std::optional<SigmaRefusal> refusal;   // set when refused
};

// The type a Braid source declares for a field path ("a.b", "a[*].b"): "string", "bool", "int", "float", "ip",
// "object" (a field declared free-form: usually a JSON object), "any" (a path beneath such a field, or in an open
// record: any JSON value), "list", "record", or "" when the source declares no such field.
using FieldTypeLookup = std::function<std::string(const std::string& source, const std::string& path)>;

// What a correlation rule needs beyond its own file.
struct SigmaEnv {
  // The Sigma rules of all input files, by `id` and by `name`, for correlation rules that refer to other files.
  const std::map<std::string, YAML::Node>* rules = nullptr;
  // The field paths (Braid text) that a source's identity (`credential` false) or credential expression reads: the
  // fields a correlation may group by.
  std::function<std::vector<std::string>(const std::string& source, bool credential)> key_fields;
};

// Converts one Sigma rule file: one rule, or one correlation rule with the rules it refers to. `path` is the file
// (its stem names the Braid rule); `types` answers field types.
SigmaResult convert_sigma(const std::string& yaml_text, const std::string& path, const FieldTypeLookup& types,
                          const SigmaEnv& env = {});

struct ImportSigmaOptions {
  std::vector<std::string> paths;  // Sigma rule files or directories (searched recursively for *.yml, *.yaml)
  std::string output;              // -o DIR: where the Braid files go (created)
  std::string color = "auto";
};
int run_import_sigma(const ImportSigmaOptions& o);

}  // namespace braid::cli
