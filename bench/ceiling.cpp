// braid_bench_ceiling: the simdjson On-Demand ceilings of the engine benchmark (bench/engine.sh).
//
//   braid_bench_ceiling MODE FILE        one pass over FILE (NDJSON); prints one line to stdout
//   braid_bench_ceiling --list           the modes, with their fields
//
// MODE:
//   fields:SET     Braid's own input path (braid::rt::RecordReader, the reader `braid run` uses, with its default
//                  options: the same read size, line splitting and padding), then one simdjson On-Demand pass per
//                  record that reads exactly the fields rule set SET reads from aws.cloudtrail events (the source's
//                  clauses included: recognize, time, id, identity, credential, ip, account, mints, links) and
//                  does nothing else. The walk is generated at build time from the rule set's field plan by
//                  braid_bench_fieldplan (bench/fieldplan.cpp). SET: shipped (rules/), filter
//                  (bench/rules/filter), group (bench/rules/group).
//   plain-filter   the plain program one would write for the filter alone: read(2) in 16 MiB chunks into a reused
//                  buffer, iterate_many over the complete lines, per document eventName and, for ConsoleLogin only,
//                  additionalEventData.MFAUsed; counts the records the filter selects. The method of the reference
//                  ceiling of issue 9 (../shared/perf-reference), for cross-checking.
//   plain-group    the same I/O, distinct eventName per userIdentity.accessKeyId (hash map of hash sets); the
//                  result is the number of keys.
//   reader-filter  the filter of plain-filter through Braid's input path (RecordReader, one iterate per record):
//                  shows what the I/O path alone costs against plain-filter.
// Compiled with the input library's simdjson kernel flags (BRAID_SIMD_FLAGS), so the kernel is Braid's: the
// On-Demand walk (stage 2) is compiled for it, and stage 1 comes from libsimdjson's runtime-dispatched active
// implementation, as in Braid (the output names both).
#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "input/reader.h"

namespace {

namespace od = simdjson::ondemand;

// Where the extracted values go: a checksum, so that no read is optimised away.
struct Sink {
  uint64_t values = 0, bytes = 0;
  void str(std::string_view s) {
    ++values;
    bytes += s.size();
  }
  void scalar(uint64_t bits) {
    ++values;
    bytes += bits & 7;
  }
  // A container that is both a leaf and a prefix: walked again from its raw text with a second parser, as
  // Braid's extractor does. A stack of parsers, one per nesting level of such containers.
  static constexpr int kDepth = 16;
  od::parser subs[kDepth];
  od::document docs[kDepth];
  int depth = 0;
  bool push(std::string_view raw, od::value& out) {
    if (depth == kDepth) return false;
    int d = depth++;
    if (subs[d].iterate(simdjson::padded_string_view(raw.data(), raw.size(), raw.size() + simdjson::SIMDJSON_PADDING))
            .get(docs[d]) ||
        docs[d].get_value().get(out)) {
      --depth;
      return false;
    }
    return true;
  }
  void pop() { --depth; }
};

// The key as written between its quotes (an escaped key never equals a wanted name here; Braid unescapes it).
inline std::string_view raw_key(od::field& f) {
  const char* k = f.key().raw();
  size_t len = 0;
  while (k[len] != '"' && k[len] != '\\') ++len;
  return {k, len};
}

// A wanted leaf, read by its JSON type as Braid's extractor reads it.
inline void leaf(od::value v, Sink& s) {
  od::json_type t;
  if (v.type().get(t)) return;
  switch (t) {
    case od::json_type::string: {
      std::string_view sv;
      if (!v.get_string().get(sv)) s.str(sv);
      break;
    }
    case od::json_type::number: {
      simdjson::ondemand::number n;
      if (!v.get_number().get(n)) s.scalar(n.is_int64() ? static_cast<uint64_t>(n.get_int64()) : 1);
      break;
    }
    case od::json_type::boolean: {
      bool b;
      if (!v.get_bool().get(b)) s.scalar(b);
      break;
    }
    case od::json_type::null:
      s.scalar(0);
      break;
    case od::json_type::object: {
      od::object o;
      std::string_view raw;
      if (!v.get_object().get(o) && !o.raw_json().get(raw)) s.str(raw);
      break;
    }
    case od::json_type::array: {
      od::array a;
      std::string_view raw;
      if (!v.get_array().get(a) && !a.raw_json().get(raw)) s.str(raw);
      break;
    }
  }
}

// A wanted leaf that is also a prefix of other wanted paths: a container's raw text (true, `raw` set, to be walked
// again), or a scalar read as a leaf (false: no path below it can exist).
inline bool leaf_or_raw(od::value v, std::string_view& raw, Sink& s) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o) || o.raw_json().get(raw)) return false;
  } else if (t == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a) || a.raw_json().get(raw)) return false;
  } else {
    leaf(v, s);
    return false;
  }
  s.str(raw);
  return true;
}

struct Walk {
  const char* name;
  bool (*walk)(od::value root, Sink& s);
  size_t fields;
  size_t program_fields;
  std::vector<const char*> paths;
};

#include "ceiling_walks.inc"  // generated by braid_bench_fieldplan: walk_<set>() and kWalks[]

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Result {
  uint64_t docs = 0, result = 0, bytes = 0, errors = 0;
};

// ---- Braid's input path
template <class F>
Result with_reader(const char* path, F&& per_record) {
  Result r;
  braid::rt::RecordReader reader;
  reader.add_path(path);
  braid::rt::Record rec;
  od::parser parser;
  while (reader.next(rec)) {
    ++r.docs;
    od::document doc;
    if (parser.iterate(simdjson::padded_string_view(rec.data, rec.size, rec.size + simdjson::SIMDJSON_PADDING))
            .get(doc)) {
      ++r.errors;
      continue;
    }
    if (!per_record(doc, r)) ++r.errors;
  }
  r.bytes = reader.stats().bytes;
  return r;
}

// ---- the plain program: 16 MiB reads, iterate_many over the complete lines
template <class F>
Result plain(const char* path, F&& per_doc) {
  Result r;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    std::perror(path);
    std::exit(2);
  }
  const size_t chunk = size_t{16} << 20;
  std::vector<char> buf(chunk + simdjson::SIMDJSON_PADDING);
  od::parser parser;
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf.data() + have, chunk - have);
    if (n < 0) {
      std::perror(path);
      std::exit(2);
    }
    have += static_cast<size_t>(n);
    r.bytes += static_cast<size_t>(n);
    if (have == 0) break;
    size_t end = have;
    if (n > 0) {
      const void* nl = memrchr(buf.data(), '\n', have);
      if (!nl) {
        std::fprintf(stderr, "a line longer than 16 MiB\n");
        std::exit(2);
      }
      end = static_cast<size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
    }
    od::document_stream docs;
    if (parser.iterate_many(buf.data(), end, chunk).get(docs)) std::exit(3);
    for (auto d : docs) {
      ++r.docs;
      od::object o;
      if (d.get_object().get(o) || !per_doc(o, r)) ++r.errors;
    }
    std::memmove(buf.data(), buf.data() + end, have - end);
    have -= end;
    if (n == 0) break;
  }
  close(fd);
  return r;
}

bool filter_doc(od::object& o, Result& r) {
  std::string_view name;
  if (o["eventName"].get_string().get(name)) return false;
  if (name == "StopLogging") {
    ++r.result;
  } else if (name == "ConsoleLogin") {
    std::string_view mfa;
    if (!o["additionalEventData"]["MFAUsed"].get_string().get(mfa) && mfa == "No") ++r.result;
  }
  return true;
}

int list() {
  std::printf("plain-filter   eventName; additionalEventData.MFAUsed on ConsoleLogin (16 MiB reads, iterate_many)\n");
  std::printf("plain-group    userIdentity.accessKeyId, eventName: distinct eventName per key\n");
  std::printf("reader-filter  plain-filter's work through RecordReader\n");
  for (const Walk& w : kWalks) {
    std::printf("fields:%-7s %zu fields of aws.cloudtrail (Braid's extractor walks %zu over every source):", w.name,
                w.fields, w.program_fields);
    for (const char* p : w.paths) std::printf(" %s", p);
    std::printf("\n");
  }
  return 0;
}

}  // namespace

#define BENCH_STR2(x) #x
#define BENCH_STR(x) BENCH_STR2(x)

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--list") return list();
  if (argc != 3) {
    std::fprintf(stderr, "usage: braid_bench_ceiling (fields:SET | plain-filter | plain-group | reader-filter) FILE\n"
                         "       braid_bench_ceiling --list\n");
    return 2;
  }
  const std::string_view mode = argv[1];
  const char* path = argv[2];
  Result r;
  uint64_t values = 0, value_bytes = 0;
  const double t0 = now();
  if (mode == "plain-filter") {
    r = plain(path, filter_doc);
  } else if (mode == "reader-filter") {
    r = with_reader(path, [](od::document& doc, Result& res) {
      od::object o;
      return !doc.get_object().get(o) && filter_doc(o, res);
    });
  } else if (mode == "plain-group") {
    std::unordered_map<std::string, std::unordered_set<std::string>> groups;
    r = plain(path, [&](od::object& o, Result&) {
      std::string_view key = "null", name;
      od::object ui;
      if (!o["userIdentity"].get_object().get(ui) && ui["accessKeyId"].get_string().get(key)) key = "null";
      if (o["eventName"].get_string().get(name)) return false;
      auto it = groups.find(std::string(key));
      if (it == groups.end()) it = groups.emplace(std::string(key), std::unordered_set<std::string>{}).first;
      it->second.emplace(name);
      return true;
    });
    r.result = groups.size();
  } else if (mode.substr(0, 7) == "fields:") {
    const Walk* walk = nullptr;
    for (const Walk& w : kWalks)
      if (mode.substr(7) == w.name) walk = &w;
    if (!walk) {
      std::fprintf(stderr, "unknown field set %s (see --list)\n", argv[1]);
      return 2;
    }
    Sink sink;
    r = with_reader(path, [&](od::document& doc, Result&) {
      sink.depth = 0;
      od::value root;
      return !doc.get_value().get(root) && walk->walk(root, sink);
    });
    values = sink.values;
    value_bytes = sink.bytes;
    r.result = walk->fields;
  } else {
    std::fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  const double secs = now() - t0;
  // Stage 1 (the structural scan) of simdjson 3.0 On-Demand goes through the library's runtime-dispatched active
  // implementation, whatever the compile flags; stage 2 (the walk, header code) uses the compiled-in kernel.
  std::printf("ceiling %s kernel=%s stage1=%s docs=%llu result=%llu errors=%llu values=%llu value_bytes=%llu seconds=%.3f "
              "MBps=%.0f\n",
              argv[1], BENCH_STR(SIMDJSON_BUILTIN_IMPLEMENTATION),
              simdjson::get_active_implementation()->name().c_str(), static_cast<unsigned long long>(r.docs),
              static_cast<unsigned long long>(r.result), static_cast<unsigned long long>(r.errors),
              static_cast<unsigned long long>(values), static_cast<unsigned long long>(value_bytes), secs,
              static_cast<double>(r.bytes) / 1e6 / secs);
  return r.errors ? 1 : 0;
}
