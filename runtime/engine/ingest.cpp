// Records in: they are gathered into batches, prepared (prepare.h: extraction, routing, conversion, time, id and,
// with worker threads, stateless predicates) and admitted in input order: counted, checked against the
// source's watermark (late events), and held in the source's reorder buffer or processed at once.
//
// With EngineOptions::threads > 1, worker threads prepare batches while this thread admits earlier ones; the
// admission order, and so every alert, is the same as with one thread.
#include <fmt/format.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "engine/engine_impl.h"

namespace braid::rt {

// ---------------------------------------------------------------------------------------------------------------
// Batches and workers

Batch* Engine::Impl::new_batch() {
  if (!free_batches.empty()) {
    Batch* b = free_batches.back();
    free_batches.pop_back();
    b->clear();
    return b;
  }
  batches.push_back(std::make_unique<Batch>());
  return batches.back().get();
}

void Engine::Impl::recycle(Batch* b) { free_batches.push_back(b); }

namespace {
BatchInput* take_input(std::vector<std::unique_ptr<BatchInput>>& all, std::vector<BatchInput*>& free) {
  if (!free.empty()) {
    BatchInput* in = free.back();
    free.pop_back();
    in->clear();
    return in;
  }
  all.push_back(std::make_unique<BatchInput>());
  return all.back().get();
}

// This thread's nice level raised by `by` (Linux: setpriority on a thread id applies to that thread alone). A
// failure leaves the priority as it was: it only orders work, it never changes a result.
void lower_priority(int by) {
  if (by <= 0) return;
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  int now = getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  (void)setpriority(PRIO_PROCESS, tid, std::min(19, now + by));
}
}  // namespace

void Engine::Impl::start_workers() {
  if (opt.threads <= 1) return;
  // One preparer per worker, and one for this thread, which prepares batches itself rather than wait (wait_ready).
  for (uint32_t i = 0; i <= opt.threads; ++i) {
    std::shared_ptr<PredicateMatcher> m = opt.matcher_factory ? opt.matcher_factory() : nullptr;
    preparers.push_back(std::make_unique<Preparer>(p, plan, std::move(m), true));
    preparers.back()->keep_raw(opt.alert_events > 0, bool(opt.on_bad_record));
  }
  worker_busy = std::make_unique<std::atomic<uint64_t>[]>(opt.threads);
  for (uint32_t i = 0; i < opt.threads; ++i) worker_busy[i].store(0);
  for (uint32_t i = 0; i < opt.threads; ++i) {
    workers.emplace_back([this, i] {
      lower_priority(opt.worker_niceness);
      Preparer& prep = *preparers[i];
      for (;;) {
        Batch* b = nullptr;
        {
          std::unique_lock<std::mutex> lk(mu);
          cv_work.wait(lk, [&] { return stopping || !todo.empty(); });
          if (todo.empty()) return;  // stopping
          b = todo.front();
          todo.pop_front();
        }
        auto t0 = std::chrono::steady_clock::now();
        prep.run(*b);
        worker_busy[i].fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count()),
                                 std::memory_order_relaxed);
        {
          std::lock_guard<std::mutex> lk(mu);
          b->ready.store(true, std::memory_order_release);
        }
        cv_done.notify_all();
      }
    });
  }
}

void Engine::Impl::stop_workers() {
  {
    std::lock_guard<std::mutex> lk(mu);
    stopping = true;
  }
  cv_work.notify_all();
  for (std::thread& t : workers) t.join();
  workers.clear();
}

void Engine::Impl::wait_ready(Batch* b) {
  if (b->ready.load(std::memory_order_acquire)) return;
  // While the batch is not ready, prepare the oldest batch no worker has taken (b itself, or one after it) rather
  // than sleep: with as many workers as cores, this thread would otherwise idle while they catch up.
  for (;;) {
    Batch* mine = nullptr;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (b->ready.load(std::memory_order_acquire) || todo.empty()) break;
      mine = todo.front();
      todo.pop_front();
    }
    auto t0 = std::chrono::steady_clock::now();
    preparers.back()->run(*mine);
    help_nanos += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    std::lock_guard<std::mutex> lk(mu);
    mine->ready.store(true, std::memory_order_release);
  }
  if (b->ready.load(std::memory_order_acquire)) return;
  auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lk(mu);
  cv_done.wait(lk, [&] { return b->ready.load(std::memory_order_acquire); });
  wait_nanos += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

// The current batch is complete: prepare it (here, or by a worker) and admit what is ready, in order.
void Engine::Impl::submit() {
  Batch* b = filling;
  filling = nullptr;
  if (!b) return;
  {
    std::lock_guard<std::mutex> lk(mu);
    todo.push_back(b);
  }
  inflight.push_back(b);
  cv_work.notify_one();
  // Admit every batch already prepared; wait only when too many are in flight. The ordered half's cost per batch
  // varies (a batch may release thousands of held events, or none), so the workers are let run well ahead: at two
  // threads on two cores, 8 batches per worker gave 1.48x one thread's wall time against 1.34x with 2 (median of
  // 12 alternating runs, docs/performance.md, Session 13), for about 17 MB more memory (up to 8 MiB of records
  // per worker, and their prepared events).
  constexpr size_t kBatchesPerWorker = 8;
  while (!inflight.empty()) {
    Batch* front = inflight.front();
    if (!front->ready.load(std::memory_order_acquire)) {
      if (inflight.size() <= kBatchesPerWorker * workers.size()) break;
      wait_ready(front);
    }
    inflight.pop_front();
    admit(*front);
  }
}

// Everything taken in so far is admitted (held events may stay held: the watermark decides).
void Engine::Impl::drain() {
  submit();
  while (!inflight.empty()) {
    Batch* front = inflight.front();
    wait_ready(front);
    inflight.pop_front();
    admit(*front);
  }
}

void Engine::Impl::intake(const Record* rec, std::string_view json, const Where& where) {
  ++stats.records_read;
  if (workers.empty()) {
    // One thread: each record is prepared straight from the caller's buffer, appended to the current batch and
    // admitted before process_json returns (alerts are synchronous).
    own_preparer->prepare(rec, json, where);
    if (!appending || !own_preparer->fits(*appending)) {
      if (appending) {
        appending->consumed = true;
        if (appending->held == 0) recycle(appending);
      }
      appending = new_batch();
      own_preparer->reserve(*appending);
    }
    admit_one(own_preparer->emit(*appending));
    return;
  }
  // Threads: records are copied into batches of about 512 records or 1 MiB for the workers.
  if (!filling) {
    filling = new_batch();
    filling->input = take_input(inputs, free_inputs);
  }
  filling->input->add(rec ? rec->json() : json, where);
  if (filling->input->records.size() >= 512 || filling->input->raw.size() >= (size_t{1} << 20)) submit();
}

// The origin names of process_json records, kept while a batch may refer to them (threads > 1). Records come
// file by file, so the last name is almost always the one asked for: compared before the set is searched.
std::string_view Engine::Impl::stable_name(std::string_view name) {
  if (!last_name.empty() && name == last_name) return last_name;
  auto it = names.find(name);
  if (it == names.end()) it = names.emplace(name).first;
  last_name = *it;  // (a node of the set: it does not move)
  return last_name;
}

// ---------------------------------------------------------------------------------------------------------------
// Admission, in input order

void Engine::Impl::admit(Batch& b) {
  if (b.input) {  // prepared: its input is no longer needed
    free_inputs.push_back(b.input);
    b.input = nullptr;
  }
  worker_mismatches += b.type_mismatches;
  worker_matcher += b.matcher;
  for (PreparedEvent& e : b.events) admit_one(e);
  b.consumed = true;
  if (b.held == 0) recycle(&b);
}

// EngineOptions::on_bad_record: every bad record, with where it came from and its text.
void Engine::Impl::bad_record(const PreparedEvent& e, std::string_view kind, std::string_view reason) {
  BadRecord b;
  b.kind = kind;
  b.input = e.where.rd ? std::string_view(e.where.rd->path(e.where.origin.input)) : e.where.name;
  b.line = e.where.rd ? e.where.origin.line : e.where.line;
  b.element = e.where.origin.element;
  b.reason = reason;
  b.record = e.raw;
  b.size = e.raw_size;
  opt.on_bad_record(b);
}

void Engine::Impl::admit_one(PreparedEvent& e) {
  using K = PreparedEvent::Kind;
  if (e.kind == K::Malformed) {
    if (opt.on_bad_record) bad_record(e, input_error_kind_name(e.error_kind), e.error);
    if (e.where.rd) {  // through the reader, which counts it and calls the handler (run_reader)
      Record r;
      r.origin = e.where.origin;
      reporting = true;
      e.where.rd->report(r, e.error_kind, e.error);
      reporting = false;
    } else {
      ++stats.malformed;
      warn(malformed_warnings,
           [&] { return fmt::format("{}: {}: {}", e.where.str(), input_error_kind_name(e.error_kind), e.error); });
    }
    return;
  }
  ++stats.events_parsed;
  if (e.kind == K::Unrouted) {
    ++stats.unrouted;
    if (opt.on_bad_record)
      bad_record(e, "unrouted", "no source recognises this record (no `recognize` clause holds)");
    warn(unrouted_warnings, [&] {
      return fmt::format("{}: no source recognises this record (no `recognize` clause holds, perhaps because a field "
                         "it reads has a value of another type or format); skipped",
                         e.where.str());
    });
    return;
  }
  uint32_t s = e.source;
  SourceRt& sr = sources[s];
  const ir::Source& src = *sr.src;
  ++stats.sources[s].events;
  if (e.kind == K::NoTime) {
    ++stats.no_time;
    if (opt.on_bad_record)
      bad_record(e, "no_time", fmt::format("event of source {} has no time (`time` is null)", src.name));
    warn(notime_warnings, [&] {
      return fmt::format("{}: event of source {} has no time (`time` is null); skipped", e.where.str(), src.name);
    });
    return;
  }
  // Time jumps: an event far ahead of everything the source delivered waits for confirmation (engine.h).
  if (opt.max_time_jump > 0 && sr.max_seen != kNever && e.time > sat_add(sr.max_seen, opt.max_time_jump)) {
    ++e.batch->held;
    sr.ahead.push_back(&e);
    if (sr.ahead.size() >= std::max<uint32_t>(opt.jump_confirm, 1)) accept_ahead(s);
    return;
  }
  if (!sr.ahead.empty()) quarantine_ahead(s);
  admit_timed(s, e);
}

void Engine::Impl::accept_ahead(uint32_t s) {
  std::vector<PreparedEvent*> evs;
  evs.swap(sources[s].ahead);
  for (PreparedEvent* e : evs) {
    admit_timed(s, *e);
    done_with(*e);  // the hold of the ahead list (admit_timed took its own if it buffered the event)
  }
}

void Engine::Impl::quarantine_ahead(uint32_t s) {
  std::vector<PreparedEvent*> evs;
  evs.swap(sources[s].ahead);
  SourceRt& sr = sources[s];
  for (PreparedEvent* e : evs) {
    ++stats.quarantined;
    ++stats.sources[s].quarantined;
    warn(late_warnings, [&] {
      return fmt::format("{}: event {} of source {} quarantined: its time {} is more than {} after the source's "
                         "newest event ({}) and the next event did not confirm the jump; event-scope rules only",
                         e->where.str(), e->id, sr.src->name, format_time_rfc3339(e->time),
                         format_duration(opt.max_time_jump), format_time_rfc3339(sr.max_seen));
    });
    in.reset();
    process_event(s, *e, true);
    done_with(*e);
  }
}

void Engine::Impl::admit_timed(uint32_t s, PreparedEvent& e) {
  SourceRt& sr = sources[s];
  const ir::Source& src = *sr.src;
  int64_t t = e.time;
  int64_t w = sr.watermark();
  if (w != kNever && t < w) {
    ++stats.late;
    ++stats.sources[s].late;
    warn(late_warnings, [&] {
      return fmt::format("{}: late event {} of source {}: time {} is {} before the watermark {} (lateness {})",
                         e.where.str(), e.id, src.name, format_time_rfc3339(t), format_duration(w - t),
                         format_time_rfc3339(w), format_duration(src.lateness));
    });
    in.reset();
    process_event(s, e, true);
    return;
  }
  if (sr.max_seen == kNever || t > sr.max_seen) sr.max_seen = t;
  int64_t nw = sr.watermark();
  if (sr.buffer.empty() && t <= nw) {
    // In order and already past the watermark: no need to hold it.
    expire(s, t);
    in.reset();
    process_event(s, e, false);
    expire(s, nw);
    return;
  }
  // Held (in its batch) until the watermark reaches it.
  e.seq = arrival++;
  ++e.batch->held;
  sr.buffer.push(&e);
  if (opt.max_held_events != 0 && sr.buffer.size() > opt.max_held_events) {
    // The cap: the watermark moves up to the oldest held event, which is released below.
    sr.floor = std::max(sr.floor, sr.buffer.top().time);
    ++stats.released_early;
    ++stats.sources[s].released_early;
    if (!sr.cap_warned && opt.on_warning) {
      sr.cap_warned = true;
      opt.on_warning(fmt::format(
          "source {}: more than {} events held for reordering (its lateness, {}, at this event rate): the oldest are "
          "released early, and events older than them that arrive later will count as late (--max-held-events; "
          "said once per source)",
          src.name, opt.max_held_events, format_duration(src.lateness)));
    }
    nw = sr.watermark();
  }
  release(s, nw);
}

// ---------------------------------------------------------------------------------------------------------------
// The API's ways in

void Engine::flush() {
  Impl& m = *impl_;
  if (!m.finished) m.drain();
}

void Engine::process_json(std::string_view json, std::string_view origin, uint64_t line) {
  Impl& m = *impl_;
  if (m.finished) return;
  m.intake(nullptr, json, Where{m.workers.empty() ? origin : m.stable_name(origin), line, nullptr, {}});
}

void Engine::process_record(const Record& record, std::string_view origin, uint64_t line) {
  Impl& m = *impl_;
  if (m.finished) return;
  m.intake(&record, {}, Where{m.workers.empty() ? origin : m.stable_name(origin), line, nullptr, record.origin});
}

namespace {
bool run_reader(Engine::Impl& m, RecordReader& rd) {
  bool ok = true;
  rd.set_error_handler([&](const InputError& e) {
    if (!input_error_is_record(e.kind)) {  // a file-level problem (unreadable, decompress, inflate cap, resume)
      if (e.kind == InputErrorKind::Unreadable) ok = false;
      if (m.opt.on_warning) m.opt.on_warning(e.to_string());
      return;
    }
    ++m.stats.malformed;
    m.warn(m.malformed_warnings, [&] { return e.to_string(); });
    if (m.opt.on_bad_record && !m.reporting) {  // one the reader found itself (too large): its text was not read
      BadRecord b;
      b.kind = input_error_kind_name(e.kind);
      b.input = e.path;
      b.line = e.origin.line;
      b.element = e.origin.element;
      b.reason = e.reason;
      m.opt.on_bad_record(b);
    }
  });
  Record rec;
  // The progress hook: the clock is read every 256 records, the hook called when the interval has passed.
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(m.opt.progress_interval_ms);
  auto last = Clock::now();
  uint32_t until_check = 256;
  while (rd.next(rec)) {
    if (m.finished) break;
    m.intake(&rec, {}, Where{{}, 0, &rd, rec.origin});
    if (m.opt.on_progress && --until_check == 0) {
      until_check = 256;
      auto now = Clock::now();
      if (now - last >= interval) {
        m.drain();
        m.opt.on_progress(EngineOptions::Progress{&rd, false});
        last = Clock::now();
      }
    }
  }
  // Records over the size limit never reach next(): the handler counted them as malformed. The batches refer to
  // the reader (for warnings): admit them all before it goes.
  m.drain();
  if (m.opt.on_progress) m.opt.on_progress(EngineOptions::Progress{&rd, true});
  return ok;
}
}  // namespace

bool Engine::process_json_array(std::string_view json_array, std::string_view origin) {
  Impl& m = *impl_;
  if (m.finished) return false;
  size_t i = json_array.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || json_array[i] != '[') {
    m.drain();  // keep the order of records and warnings
    ++m.stats.records_read;
    ++m.stats.malformed;
    m.warn(m.malformed_warnings, [&] { return fmt::format("{}: not a JSON array of events", origin); });
    return false;
  }
  RecordReader rd;
  rd.add_buffer(std::string(json_array), std::string(origin));
  run_reader(m, rd);
  return true;
}

bool Engine::process_inputs(const std::vector<std::string>& paths) {
  Impl& m = *impl_;
  if (m.finished) return false;
  RecordReader rd;
  for (const auto& p : paths) rd.add_path(p);
  return run_reader(m, rd);
}

}  // namespace braid::rt
