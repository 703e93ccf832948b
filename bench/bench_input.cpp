// Event input throughput: Braid's FieldExtractor next to the ceiling, plain simdjson On-Demand reading the same
// fields from the same records in the same run.
//
// Input: $BRAID_BENCH_INPUT (an NDJSON file), else /tmp/braid_bench_input.ndjson, built on first use by
// concatenating the Stratus CloudTrail corpus (../shared/corpora/stratus) until it holds >= 64 MiB.
// Benchmarks:
//   BM_Ceiling_SimdjsonOnDemand  hand-written one-pass On-Demand code for the 15 fields below (the ceiling)
//   BM_FieldExtractor            FieldExtractor over the same pre-split records (the same 15 paths)
//   BM_ReaderOnly                RecordReader over the file (I/O and line splitting, no JSON)
//   BM_ReaderAndExtract          RecordReader + FieldExtractor end to end from the file
// Built with the same BRAID_SIMD_FLAGS as the input library, so both sides use the same simdjson kernel.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "input/extract.h"
#include "input/reader.h"

namespace {

namespace fs = std::filesystem;
namespace od = simdjson::ondemand;
using braid::rt::FieldExtractor;
using braid::rt::Record;
using braid::rt::RecordReader;
using braid::rt::Value;

const char* const kPaths[] = {
    "eventTime",        "eventName",         "eventSource",          "awsRegion",
    "sourceIPAddress",  "userAgent",         "errorCode",            "eventID",
    "recipientAccountId", "userIdentity.arn", "userIdentity.accessKeyId", "userIdentity.type",
    "requestParameters.roleArn", "responseElements.credentials.accessKeyId", "resources[*].ARN",
};
constexpr size_t kFields = sizeof kPaths / sizeof kPaths[0];

struct Input {
  std::string path;
  std::string text;                            // the file, padded at the end
  std::vector<std::pair<size_t, size_t>> lines;  // non-empty lines (offset, size)
};

const Input& input() {
  static Input in = [] {
    Input r;
    const char* env = std::getenv("BRAID_BENCH_INPUT");
    r.path = env ? env : "/tmp/braid_bench_input.ndjson";
    if (!fs::exists(r.path)) {
      fs::path dir = fs::path(BRAID_CORPORA_DIR) / "stratus";
      std::string corpus;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".ndjson") files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        std::ifstream is(f, std::ios::binary);
        std::stringstream ss;
        ss << is.rdbuf();
        corpus += ss.str();
        if (!corpus.empty() && corpus.back() != '\n') corpus += '\n';
      }
      if (corpus.empty()) {
        std::cerr << "no input: set BRAID_BENCH_INPUT or provide " << dir << "\n";
        std::exit(2);
      }
      std::ofstream os(r.path, std::ios::binary);
      for (size_t written = 0; written < (size_t{64} << 20); written += corpus.size()) os << corpus;
    }
    std::ifstream is(r.path, std::ios::binary);
    std::stringstream ss;
    ss << is.rdbuf();
    r.text = ss.str();
    size_t size = r.text.size();
    r.text.append(simdjson::SIMDJSON_PADDING, ' ');
    size_t pos = 0;
    while (pos < size) {
      size_t nl = r.text.find('\n', pos);
      if (nl == std::string::npos || nl > size) nl = size;
      if (nl > pos) r.lines.emplace_back(pos, nl - pos);
      pos = nl + 1;
    }
    return r;
  }();
  return in;
}

void set_counters(benchmark::State& state, size_t records, size_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}

// ---- the ceiling: what one would write by hand with simdjson On-Demand for these 15 fields
struct Out {
  std::string_view s[kFields];
  size_t arns = 0;
};

bool read_str(od::value v, std::string_view& out) { return !v.get_string().get(out); }

bool hand_written(od::parser& parser, const char* data, size_t size, Out& o) {
  od::document doc;
  if (parser.iterate(simdjson::padded_string_view(data, size, size + simdjson::SIMDJSON_PADDING)).get(doc)) return false;
  od::object obj;
  if (doc.get_object().get(obj)) return false;
  o.arns = 0;
  for (auto fr : obj) {
    od::field f;
    if (std::move(fr).get(f)) return false;
    auto k = f.key();
    if (k == "eventTime") read_str(f.value(), o.s[0]);
    else if (k == "eventName") read_str(f.value(), o.s[1]);
    else if (k == "eventSource") read_str(f.value(), o.s[2]);
    else if (k == "awsRegion") read_str(f.value(), o.s[3]);
    else if (k == "sourceIPAddress") read_str(f.value(), o.s[4]);
    else if (k == "userAgent") read_str(f.value(), o.s[5]);
    else if (k == "errorCode") read_str(f.value(), o.s[6]);
    else if (k == "eventID") read_str(f.value(), o.s[7]);
    else if (k == "recipientAccountId") read_str(f.value(), o.s[8]);
    else if (k == "userIdentity") {
      od::object u;
      if (f.value().get_object().get(u)) continue;
      for (auto ur : u) {
        od::field uf;
        if (std::move(ur).get(uf)) return false;
        auto uk = uf.key();
        if (uk == "arn") read_str(uf.value(), o.s[9]);
        else if (uk == "accessKeyId") read_str(uf.value(), o.s[10]);
        else if (uk == "type") read_str(uf.value(), o.s[11]);
      }
    } else if (k == "requestParameters") {
      od::object rp;
      if (f.value().get_object().get(rp)) continue;
      for (auto rr : rp) {
        od::field rf;
        if (std::move(rr).get(rf)) return false;
        if (rf.key() == "roleArn") read_str(rf.value(), o.s[12]);
      }
    } else if (k == "responseElements") {
      od::object re;
      if (f.value().get_object().get(re)) continue;
      for (auto rr : re) {
        od::field rf;
        if (std::move(rr).get(rf)) return false;
        if (rf.key() != "credentials") continue;
        od::object c;
        if (rf.value().get_object().get(c)) continue;
        for (auto cr : c) {
          od::field cf;
          if (std::move(cr).get(cf)) return false;
          if (cf.key() == "accessKeyId") read_str(cf.value(), o.s[13]);
        }
      }
    } else if (k == "resources") {
      od::array a;
      if (f.value().get_array().get(a)) continue;
      for (auto er : a) {
        od::object e;
        if (er.get_object().get(e)) continue;
        for (auto xr : e) {
          od::field xf;
          if (std::move(xr).get(xf)) return false;
          if (xf.key() == "ARN") {
            std::string_view arn;
            if (read_str(xf.value(), arn)) ++o.arns;
          }
        }
      }
    }
  }
  return true;
}

void BM_Ceiling_SimdjsonOnDemand(benchmark::State& state) {
  const Input& in = input();
  od::parser parser;
  Out o;
  size_t records = 0, bytes = 0, failed = 0;
  for (auto _ : state) {
    for (const auto& [off, len] : in.lines) {
      if (!hand_written(parser, in.text.data() + off, len, o)) ++failed;
      benchmark::DoNotOptimize(o);
      ++records;
      bytes += len;
    }
  }
  if (failed) state.SkipWithError("records failed to parse");
  set_counters(state, records, bytes);
}
BENCHMARK(BM_Ceiling_SimdjsonOnDemand)->Unit(benchmark::kMillisecond);

FieldExtractor make_extractor() {
  std::vector<braid::ir::FieldPath> ps;
  for (const char* p : kPaths) ps.push_back(*FieldExtractor::parse_path(p));
  return FieldExtractor(std::move(ps));
}

void BM_FieldExtractor(benchmark::State& state) {
  const Input& in = input();
  FieldExtractor ex = make_extractor();
  size_t records = 0, bytes = 0, failed = 0;
  Record rec;
  for (auto _ : state) {
    for (const auto& [off, len] : in.lines) {
      rec.data = in.text.data() + off;
      rec.size = len;
      if (!ex.extract(rec)) ++failed;
      benchmark::DoNotOptimize(ex.values().data());
      ++records;
      bytes += len;
    }
  }
  if (failed) state.SkipWithError("records failed to parse");
  set_counters(state, records, bytes);
}
BENCHMARK(BM_FieldExtractor)->Unit(benchmark::kMillisecond);

void BM_ReaderOnly(benchmark::State& state) {
  const Input& in = input();
  size_t records = 0, bytes = 0;
  for (auto _ : state) {
    RecordReader r;
    r.add_path(in.path);
    Record rec;
    while (r.next(rec)) {
      benchmark::DoNotOptimize(rec.data);
      ++records;
      bytes += rec.size;
    }
  }
  set_counters(state, records, bytes);
}
BENCHMARK(BM_ReaderOnly)->Unit(benchmark::kMillisecond);

void BM_ReaderAndExtract(benchmark::State& state) {
  const Input& in = input();
  FieldExtractor ex = make_extractor();
  size_t records = 0, bytes = 0, failed = 0;
  for (auto _ : state) {
    RecordReader r;
    r.add_path(in.path);
    Record rec;
    while (r.next(rec)) {
      if (!ex.extract(rec)) ++failed;
      benchmark::DoNotOptimize(ex.values().data());
      ++records;
      bytes += rec.size;
    }
  }
  if (failed) state.SkipWithError("records failed to parse");
  set_counters(state, records, bytes);
}
BENCHMARK(BM_ReaderAndExtract)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const Input& in = input();
  std::printf("input: %s (%zu records, %.1f MB); simdjson kernel: %s (compiled for %s)\n", in.path.c_str(),
              in.lines.size(), static_cast<double>(in.text.size()) / 1e6, SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION),
              std::string(braid::rt::simd_kernel_name()).c_str());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
