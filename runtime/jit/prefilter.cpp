// The multi-pattern prefilter (prefilter.h) on vectorscan's literal API.
#include "jit/prefilter.h"

#include <hs.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace braid::rt {

struct Prefilter::Field {
  uint32_t slot = ir::kNone;
  hs_database_t* db = nullptr;                 // nullptr: select every predicate below
  std::vector<uint32_t> first;                 // literal id -> its first entry in `preds` (plus one end entry)
  std::vector<uint32_t> preds;                 // predicate ids, per literal
  std::vector<uint32_t> all;                   // every predicate of the prefilter (when there is no database)
};

struct Prefilter::Source {
  std::vector<Field> fields;
  size_t words = 0;  // bitset words: one bit per predicate of the source
};

namespace {

struct ScanContext {
  const uint32_t* first;
  const uint32_t* preds;
  uint64_t* bits;
  PrefilterCounters* counters;
};

int on_literal(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/, unsigned int /*flags*/,
               void* ctx) {
  auto* c = static_cast<ScanContext*>(ctx);
  ++c->counters->literals;
  for (uint32_t k = c->first[id]; k < c->first[id + 1]; ++k) {
    uint32_t p = c->preds[k];
    c->bits[p >> 6] |= uint64_t{1} << (p & 63);
  }
  c->counters->selected += c->first[id + 1] - c->first[id];
  return 0;  // go on: other literals select other predicates
}

}  // namespace

std::unique_ptr<Prefilter> Prefilter::build(const ir::MatchPlan& plan, const PrefilterCache* cache) {
  std::unique_ptr<Prefilter> pf(new Prefilter());
  const bool platform_ok = hs_valid_platform() == HS_SUCCESS;
  if (!platform_ok) pf->warning_ = "this CPU lacks SSE4.2, which vectorscan needs: the prefilter selects every predicate";
  pf->sources_.resize(plan.sources.size());
  for (size_t s = 0; s < plan.sources.size(); ++s) {
    const ir::SourcePlan& sp = plan.sources[s];
    Source& src = pf->sources_[s];
    src.words = (sp.predicates.size() + 63) / 64;
    pf->words_ = std::max(pf->words_, src.words);
    for (const ir::PrefilterIndex& ix : sp.prefilters) {
      Field f;
      f.slot = ix.slot;
      std::vector<const char*> exprs;
      std::vector<size_t> lens;
      std::vector<unsigned> flags, ids;
      for (size_t l = 0; l < ix.literals.size(); ++l) {
        const ir::PrefilterLiteral& lit = ix.literals[l];
        f.first.push_back(static_cast<uint32_t>(f.preds.size()));
        f.preds.insert(f.preds.end(), lit.predicates.begin(), lit.predicates.end());
        exprs.push_back(lit.text.data());
        lens.push_back(lit.text.size());
        flags.push_back(HS_FLAG_SINGLEMATCH | (lit.nocase ? HS_FLAG_CASELESS : 0u));
        ids.push_back(static_cast<unsigned>(l));
      }
      f.first.push_back(static_cast<uint32_t>(f.preds.size()));
      f.all = f.preds;  // a predicate may list several literals
      std::sort(f.all.begin(), f.all.end());
      f.all.erase(std::unique(f.all.begin(), f.all.end()), f.all.end());
      std::string key;
      if (platform_ok && !exprs.empty() && cache) {
        key = fmt::format("vectorscan {} block literals\n", hs_version());
        for (size_t l = 0; l < exprs.size(); ++l) key += fmt::format("{} {} {}\n", flags[l], lens[l], ix.literals[l].text);
        std::string bytes;
        if (cache->load && cache->load(key, bytes) &&
            hs_deserialize_database(bytes.data(), bytes.size(), &f.db) == HS_SUCCESS) {
          ++pf->cached_;
        } else {
          f.db = nullptr;
        }
      }
      if (platform_ok && !exprs.empty() && !f.db) {
        hs_compile_error_t* err = nullptr;
        if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                                 static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &f.db,
                                 &err) != HS_SUCCESS) {
          if (pf->warning_.empty())
            pf->warning_ = fmt::format("vectorscan could not build a prefilter ({}): it selects every predicate "
                                       "it covers", err && err->message ? err->message : "unknown error");
          hs_free_compile_error(err);
          f.db = nullptr;
        } else if (cache && cache->store) {
          char* bytes = nullptr;
          size_t len = 0;
          if (hs_serialize_database(f.db, &bytes, &len) == HS_SUCCESS) cache->store(key, std::string_view(bytes, len));
          std::free(bytes);
        }
      }
      src.fields.push_back(std::move(f));
    }
  }
  return pf;
}

Prefilter::~Prefilter() {
  for (Source& s : sources_)
    for (Field& f : s.fields) hs_free_database(f.db);
}

size_t Prefilter::databases() const {
  size_t n = 0;
  for (const Source& s : sources_)
    for (const Field& f : s.fields) n += f.db ? 1 : 0;
  return n;
}

Prefilter::Scanner::Scanner(const Prefilter& pf) : bits_(std::max<size_t>(pf.words_, 1), 0) {
  for (const Source& s : pf.sources_)
    for (const Field& f : s.fields)
      if (f.db && hs_alloc_scratch(f.db, &scratch_) != HS_SUCCESS) {
        // Out of memory: scanning is impossible, so every field below selects all its predicates.
        hs_free_scratch(scratch_);
        scratch_ = nullptr;
        return;
      }
}

Prefilter::Scanner::~Scanner() { hs_free_scratch(scratch_); }

const uint64_t* Prefilter::scan(Scanner& sc, uint32_t source, const Value* slots) const {
  uint64_t* bits = sc.bits_.data();
  if (source >= sources_.size()) return bits;
  const Source& src = sources_[source];
  if (src.fields.empty()) return bits;
  std::memset(bits, 0, src.words * sizeof(uint64_t));
  for (const Field& f : src.fields) {
    const Value& v = slots[f.slot];
    if (v.tag != Tag::String) continue;  // every literal operator is false on a non-string (interp.cpp, stringish)
    if (!f.db || !sc.scratch_) {
      for (uint32_t p : f.all) bits[p >> 6] |= uint64_t{1} << (p & 63);
      continue;
    }
    if (v.len == 0) continue;  // no literal is empty
    ++sc.counters_.scans;
    ScanContext ctx{f.first.data(), f.preds.data(), bits, &sc.counters_};
    if (hs_scan(f.db, v.s, v.len, 0, sc.scratch_, on_literal, &ctx) != HS_SUCCESS)
      for (uint32_t p : f.all) bits[p >> 6] |= uint64_t{1} << (p & 63);  // cannot happen with a valid scratch
  }
  return bits;
}

}  // namespace braid::rt
