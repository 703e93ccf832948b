// libFuzzer target for engine checkpoints (runtime/engine/checkpoint.cpp). See tests/fuzz/README.md.
//
// The program comes from a pack (BRAID_FUZZ_PACK, built by `braid build` from tests/fuzz/checkpoint/rules.braid),
// the events from BRAID_FUZZ_EVENTS (tests/fuzz/checkpoint/events.ndjson). With BRAID_FUZZ_SEEDS=DIR the target
// writes its seed corpus there (the states of the events run up to several points) and exits: checkpoint bytes
// depend on the program, so the seeds are made from it rather than committed.
//
// Each input is the bytes of a checkpoint. It is loaded as it is (most mutations then fail the checksum), and with
// its checksum recomputed, so that mutations reach the readers behind it; each time as the same program and as
// another one (a rule reload's carry-over). Besides crashes, sanitizer reports, hangs and leaks, the target aborts
// when the loader's contract is broken: a checkpoint is either loaded or refused with a StateError that has a
// message; a loaded state saves to bytes that load again and save to the same bytes (the round trip); and an
// engine with a loaded state takes the rest of the events and finishes.
#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/value_codec.h"
#include "pack/pack.h"

namespace {

using namespace braid;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "braid_fuzz_checkpoint: %s\n", what.c_str());
  std::abort();
}

std::string slurp(const char* env) {
  const char* path = std::getenv(env);
  if (!path || !*path) fail(std::string(env) + " is not set (tests/fuzz/README.md, \"Checkpoints\")");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(std::string("cannot read ") + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Fixture {
  pack::LoadedPack pack;
  std::vector<std::string> events;
};
const Fixture* fixture = nullptr;

// Small caps, so that the seeds and their mutations hold evictions, dropped starts and held events.
rt::EngineOptions options() {
  rt::EngineOptions o;
  o.processing_time = 0;
  o.max_open_sessions = 4;
  o.max_chain_records = 3;
  o.max_partial_matches = 2;
  o.max_held_events = 20;
  o.distinct_bound = 3;
  o.step_event_ids = 2;
  o.alert_events = 2;  // the record texts of held events and steps are part of the state then
  return o;
}

constexpr const char* kProgram = "fuzz";

std::string state_after(size_t k) {
  rt::Engine e(fixture->pack.program, options());
  for (size_t i = 0; i < k; ++i) e.process_json(fixture->events[i], "<fuzz>", i + 1);
  return e.save_state(kProgram);
}

// Loads `bytes`; on success checks the round trip and runs the rest of the events.
void load(const std::string& bytes, bool carry) {
  std::string saved;
  {
    rt::Engine e(fixture->pack.program, options());
    rt::CarryReport report;
    try {
      e.load_state(bytes, carry ? "another program" : kProgram, carry ? &report : nullptr);
    } catch (const rt::StateError& err) {
      if (std::string(err.what()).empty()) fail("a refused checkpoint without a message");
      return;
    }
    saved = e.save_state(kProgram);
    // The loaded engine must go on: the events (some are late now, some repeat; that is fine) and the end.
    size_t n = 0;
    for (const std::string& ev : fixture->events)
      if (++n % 3 == 0) e.process_json(ev, "<fuzz>", n);
    e.finish();
  }
  rt::Engine again(fixture->pack.program, options());
  try {
    again.load_state(saved, kProgram);
  } catch (const rt::StateError& err) {
    fail(std::string("a saved state does not load again: ") + err.what());
  }
  if (again.save_state(kProgram) != saved) fail("a saved state loads and saves to other bytes");
}

void write_seeds(const char* dir) {
  size_t n = fixture->events.size();
  for (size_t k : {size_t{0}, size_t{1}, n / 8, n / 4, n / 2, 3 * n / 4, n}) {
    std::string path = std::string(dir) + "/state-after-" + std::to_string(k);
    std::ofstream out(path, std::ios::binary);
    out << state_after(k);
    if (!out) fail("cannot write " + path);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) fail("libsodium could not be initialised");
  auto loaded = pack::load_pack(slurp("BRAID_FUZZ_PACK"), {}, /*allow_unsigned=*/true);
  if (!loaded) fail("BRAID_FUZZ_PACK: " + loaded.error().message);
  auto* f = new Fixture{std::move(*loaded), {}};
  std::istringstream lines(slurp("BRAID_FUZZ_EVENTS"));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) f->events.push_back(line);
  if (f->events.empty()) fail("BRAID_FUZZ_EVENTS holds no events");
  fixture = f;
  if (const char* dir = std::getenv("BRAID_FUZZ_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  load(bytes, false);
  load(bytes, true);
  // The checksum recomputed: the last 8 bytes hold fast_hash of everything before them, little-endian.
  if (size >= 8) {
    uint64_t sum = rt::fast_hash(std::string_view(bytes).substr(0, size - 8));
    for (int i = 0; i < 8; ++i) bytes[size - 8 + i] = static_cast<char>(sum >> (8 * i));
    load(bytes, false);
    load(bytes, true);
  }
  return 0;
}
