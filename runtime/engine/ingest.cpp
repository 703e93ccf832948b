// Records in: extraction, routing to the first source whose `recognize` holds, event time and id, late events and
// the reorder buffer's intake.
#include <fmt/format.h>

#include "engine/engine_impl.h"

namespace braid::rt {

std::string Where::str() const {
  if (rd) return rd->where(origin);
  std::string_view n = name.empty() ? std::string_view("<input>") : name;
  return line ? fmt::format("{}:{}", n, line) : std::string(n);
}

void Engine::Impl::record(const Where& where) {
  ++stats.events_parsed;
  conv.begin_event();
  in.reset();
  auto fields = ex.values();
  // Route: the first source, in program order, whose `recognize` holds (evaluated on the fields it reads,
  // converted to that source's schema; the full conversion happens for the chosen source only).
  for (uint32_t s = 0; s < p.sources.size(); ++s) {
    const ir::Source& src = p.sources[s];
    if (src.recognize == ir::kNoNode) continue;
    for (uint32_t slot : sources[s].recognize_slots)
      conv_buf[slot] = conv.convert_value(fields[src.slots[slot].field], src.slots[slot].type);
    int hit = opt.matcher ? opt.matcher->recognize(in, s, conv_buf.data()) : -1;
    if (hit < 0) {
      EvalContext ctx{conv_buf.data(), in.field_slots(s), nullptr};
      hit = in.test(src.recognize, ctx) ? 1 : 0;
    }
    if (!hit) continue;
    conv.convert(s, fields, std::span<Value>(conv_buf.data(), conv_buf.size()));
    route_and_hold(s, where);
    return;
  }
  ++stats.unrouted;
}

void Engine::Impl::route_and_hold(uint32_t s, const Where& where) {
  SourceRt& sr = sources[s];
  const ir::Source& src = *sr.src;
  ++stats.sources[s].events;
  Value tv = clause(s, src.time, conv_buf.data());
  if (tv.tag != Tag::Time) {
    ++stats.no_time;
    warn(notime_warnings, [&] {
      return fmt::format("{}: event of source {} has no time (`time` is null); skipped", where.str(), src.name);
    });
    return;
  }
  int64_t t = tv.i;
  // The event id: the source's `id`, else a hash of the converted slot values.
  std::string& id = id_buf;
  Value iv = clause(s, src.id, conv_buf.data());
  if (iv.tag == Tag::String) {
    id.assign(iv.s, iv.len);
  } else {
    scratch.clear();
    for (size_t i = 0; i < src.slots.size(); ++i) encode(conv_buf[i], scratch);
    id.clear();
    fmt::format_to(std::back_inserter(id), "h{:016x}", fnv1a(scratch));
  }
  int64_t w = sr.watermark();
  if (w != kNever && t < w) {
    ++stats.late;
    ++stats.sources[s].late;
    warn(late_warnings, [&] {
      return fmt::format("{}: late event {} of source {}: time {} is {} before the watermark {} (lateness {})",
                         where.str(), id, src.name, format_time_rfc3339(t), format_duration(w - t),
                         format_time_rfc3339(w), format_duration(src.lateness));
    });
    process_event(s, conv_buf.data(), t, id, true);
    return;
  }
  if (sr.max_seen == kNever || t > sr.max_seen) sr.max_seen = t;
  int64_t nw = sr.watermark();
  if (sr.buffer.empty() && t <= nw) {
    // In order and already past the watermark: no need to hold it.
    expire(s, t);
    process_event(s, conv_buf.data(), t, id, false);
    expire(s, nw);
    return;
  }
  // Hold a deep copy until the watermark reaches it.
  std::unique_ptr<Frozen> f;
  if (!frozen_pool.empty()) {
    f = std::move(frozen_pool.back());
    frozen_pool.pop_back();
  } else {
    f = std::make_unique<Frozen>();
  }
  f->time = t;
  f->seq = arrival++;
  f->id = id;
  size_t nslots = src.slots.size();
  size_t b = 0, n = 0;
  for (size_t i = 0; i < nslots; ++i) Owned::measure(conv_buf[i], b, n);
  f->bytes.clear();
  f->items.clear();
  f->bytes.reserve(b);
  f->items.reserve(n);
  f->slots.resize(nslots + 1);
  for (size_t i = 0; i < nslots; ++i) f->slots[i] = Owned::copy(conv_buf[i], f->bytes, f->items);
  sr.buffer.push(f.release());
  release(s, nw);
}

void Engine::process_json(std::string_view json, std::string_view origin, uint64_t line) {
  Impl& m = *impl_;
  if (m.finished) return;
  ++m.stats.records_read;
  Where where{origin, line, nullptr, {}};
  if (!m.ex.extract_json(json)) {
    ++m.stats.malformed;
    m.warn(m.malformed_warnings, [&] {
      return fmt::format("{}: {}: {}", where.str(), input_error_kind_name(m.ex.error_kind()), m.ex.error());
    });
    return;
  }
  m.record(where);
  m.stats.type_mismatches = m.conv.total_mismatches();
}

namespace {
bool run_reader(Engine::Impl& m, RecordReader& rd) {
  bool ok = true;
  rd.set_error_handler([&](const InputError& e) {
    if (e.kind == InputErrorKind::Unreadable || e.kind == InputErrorKind::Decompress) {
      if (e.kind == InputErrorKind::Unreadable) ok = false;
      if (m.opt.on_warning) m.opt.on_warning(e.to_string());
      return;
    }
    ++m.stats.malformed;
    m.warn(m.malformed_warnings, [&] { return e.to_string(); });
  });
  Record rec;
  while (rd.next(rec)) {
    if (m.finished) break;
    ++m.stats.records_read;
    if (!m.ex.extract(rec)) {
      rd.report(rec, m.ex.error_kind(), m.ex.error());
      continue;
    }
    m.record(Where{{}, 0, &rd, rec.origin});
  }
  // Records over the size limit never reach next(): the handler counted them as malformed.
  m.stats.type_mismatches = m.conv.total_mismatches();
  return ok;
}
}  // namespace

bool Engine::process_json_array(std::string_view json_array, std::string_view origin) {
  Impl& m = *impl_;
  if (m.finished) return false;
  size_t i = json_array.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || json_array[i] != '[') {
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
