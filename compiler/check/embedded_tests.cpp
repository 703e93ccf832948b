// A rule's embedded tests: events and expected alerts as compact JSON.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

#include <filesystem>

#include "text/json_write.h"

namespace braid::check_internal {

namespace {

// Compact JSON text of a test's events or expected alerts.
void json_text(const ast::Json& j, std::string& out) {
  auto str = [&](const std::string& s) { append_json_quoted(out, s); };
  switch (j.kind) {
    case ast::Json::Kind::Null: out += "null"; break;
    case ast::Json::Kind::Bool: out += j.bool_value ? "true" : "false"; break;
    case ast::Json::Kind::Number: out += j.text; break;
    case ast::Json::Kind::String: str(j.text); break;
    case ast::Json::Kind::Array:
      out += '[';
      for (size_t i = 0; i < j.items.size(); ++i) {
        if (i) out += ',';
        json_text(j.items[i], out);
      }
      out += ']';
      break;
    case ast::Json::Kind::Object:
      out += '{';
      for (size_t i = 0; i < j.members.size(); ++i) {
        if (i) out += ',';
        str(j.members[i].first);
        out += ':';
        json_text(j.members[i].second, out);
      }
      out += '}';
      break;
  }
}

}  // namespace

void Checker::check_tests(const ast::RuleDecl& d, ir::Rule& out) {
  std::map<std::string, Span> names;
  for (const auto& t : d.tests) {
    ir::TestCase tc;
    tc.name = t.name.value;
    tc.span = t.span;
    auto [it, ins] = names.emplace(t.name.value, t.name.span);
    if (!ins) {
      auto diag = mk(Code::BRD0406, t.name.span, "test `" + t.name.value + "` is declared twice in this rule");
      diag.related.push_back({it->second, "first declared here"});
      emit(std::move(diag));
    }
    for (const auto& ev : t.events) {
      ir::TestCase::Events e;
      e.span = ev.span;
      if (ev.inline_events) {
        const ast::Json& j = *ev.inline_events;
        if (j.kind != ast::Json::Kind::Array) {
          err(Code::BRD0407, j.span, "`events` takes a JSON array of event objects");
        } else {
          for (const auto& item : j.items)
            if (item.kind != ast::Json::Kind::Object)
              err(Code::BRD0407, item.span, "each test event must be a JSON object");
        }
        duplicate_json_keys(j, Code::BRD0407);
        json_text(j, e.json);
      } else if (ev.file) {
        std::filesystem::path p(ev.file->value);
        if (p.is_relative() && ev.file->span.valid()) {
          std::filesystem::path base = std::filesystem::path(sm_.file(ev.file->span.file).path()).parent_path();
          p = base / p;
        }
        e.file = p.lexically_normal().string();
      }
      tc.events.push_back(std::move(e));
    }
    if (t.expect) {
      const auto& x = *t.expect;
      switch (x.kind) {
        case ast::TestExpect::Kind::None: tc.expect = ir::TestCase::Expect::None; break;
        case ast::TestExpect::Kind::Count:
          tc.expect = ir::TestCase::Expect::Count;
          tc.count = x.count;
          if (x.count < 0) err(Code::BRD0408, x.span, "the expected alert count must be zero or more");
          break;
        case ast::TestExpect::Kind::Alerts:
          tc.expect = ir::TestCase::Expect::Alerts;
          if (x.alerts.kind != ast::Json::Kind::Array) {
            err(Code::BRD0408, x.alerts.span, "`expect` takes a JSON array of alert objects");
          } else {
            for (const auto& item : x.alerts.items)
              if (item.kind != ast::Json::Kind::Object)
                err(Code::BRD0408, item.span, "each expected alert must be a JSON object");
          }
          duplicate_json_keys(x.alerts, Code::BRD0408);
          json_text(x.alerts, tc.alerts_json);
          break;
      }
    }
    if (t.events.empty()) err(Code::BRD0409, t.name.span, "test `" + t.name.value + "` has no `events`");
    if (!t.expect) err(Code::BRD0409, t.name.span, "test `" + t.name.value + "` has no `expect`");
    out.tests.push_back(std::move(tc));
  }
}

}  // namespace braid::check_internal
