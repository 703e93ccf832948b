// Rules (pass 4): metadata, sources, steps, condition, message, suppress, org data; group scopes.
// Part of the checker: see internal/checker_impl.h.
#include "check/internal/checker_impl.h"

namespace braid::check_internal {

namespace {

bool valid_attack_id(std::string_view s) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > s.size()) return false;
    for (size_t i = from; i < from + n; ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
  };
  if (s.size() == 6 && s.substr(0, 2) == "TA") return digits(2, 4);
  if (s.size() == 5 && s[0] == 'T') return digits(1, 4);
  if (s.size() == 9 && s[0] == 'T' && s[5] == '.') return digits(1, 4) && digits(6, 3);
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Rules

void Checker::check_rule(const ast::RuleDecl& d) {
  ir::Rule r;
  r.id = d.name.text;
  r.spans.rule = d.span;
  r.spans.name = d.name.span;
  if (d.name.span.valid()) r.file_path = sm_.file(d.name.span.file).path();

  // Metadata.
  if (d.title) r.meta.title = d.title->value.value, r.spans.title = d.title->span;
  if (d.description) r.meta.description = d.description->value.value;
  if (d.author) r.meta.author = d.author->value.value;
  // Severity: `severity LEVEL`, or the computed form (its arms are checked below, in the alert context).
  static const std::map<std::string, ir::Severity> kSev = {{"info", ir::Severity::Info},
                                                            {"low", ir::Severity::Low},
                                                            {"medium", ir::Severity::Medium},
                                                            {"high", ir::Severity::High},
                                                            {"critical", ir::Severity::Critical}};
  auto level = [&](const ast::Ident& id) -> std::optional<ir::Severity> {
    auto it = kSev.find(id.text);
    if (it != kSev.end()) return it->second;
    std::vector<std::string> cands;
    for (const auto& [n, s] : kSev) cands.push_back(n);
    err_suggest(Code::BRD0404, id.span, "unknown severity `" + id.text + "` (expected info, low, medium, high or critical)",
                id.text, cands);
    return std::nullopt;
  };
  if (d.severity) {
    r.spans.severity = d.severity->span;
    if (!d.severity->computed) {
      if (auto lv = level(d.severity->value)) r.meta.severity = *lv;
    } else {
      const auto& arms = d.severity->arms;
      const ast::SeverityArm* else_arm = nullptr;
      size_t whens = 0;
      for (const auto& a : arms) {
        if (a.when) {
          ++whens;
          if (else_arm) {
            auto diag = mk(Code::BRD0411, a.span, "a severity arm after `else` is never used: `else` comes last");
            diag.related.push_back({else_arm->span, "the `else` is here"});
            emit(std::move(diag));
          }
        } else if (else_arm) {
          auto diag = mk(Code::BRD0411, a.span, "the severity has two `else` levels");
          diag.related.push_back({else_arm->span, "the first `else` is here"});
          emit(std::move(diag));
        } else {
          else_arm = &a;
          if (auto lv = level(a.level)) r.meta.severity = *lv;
        }
      }
      if (!else_arm) {
        auto diag = mk(Code::BRD0411, d.severity->span,
                       "the computed severity has no `else LEVEL`: the level of alerts no `when` selects is required");
        diag.help = "add the default as the block's last line, e.g. `else medium`";
        emit(std::move(diag));
      }
      if (whens == 0)
        err(Code::BRD0411, d.severity->span,
            "the computed severity has no `LEVEL when CONDITION` arm: write `severity " +
                (else_arm ? else_arm->level.text : std::string("LEVEL")) + "` for a fixed level");
    }
  }
  if (d.attack) {
    for (const auto& a : d.attack->value) {
      if (!valid_attack_id(a.text))
        err(Code::BRD0405, a.span,
            "`" + a.text + "` is not an ATT&CK id (expected T1234, T1234.001 or TA0001)");
      r.meta.attack.push_back(a.text);
    }
  }
  auto strs = [](const auto& cl, std::vector<std::string>& out) {
    if (cl)
      for (const auto& s : cl->value) out.push_back(s.value);
  };
  strs(d.tags, r.meta.tags);
  strs(d.references, r.meta.references);
  strs(d.false_positives, r.meta.false_positives);
  if (d.enabled) r.meta.enabled = d.enabled->value, r.spans.enabled = d.enabled->span;

  std::vector<std::string> missing;
  if (!d.title) missing.push_back("title");
  if (!d.severity) missing.push_back("severity");
  if (!d.sources) missing.push_back("source");
  if (!d.message) missing.push_back("message");
  for (const auto& m : missing)
    err(Code::BRD0401, d.name.span, "rule `" + d.name.text + "` has no `" + m + "` clause");

  // Sources.
  bool sources_failed = !d.sources;
  if (d.sources) {
    r.spans.sources = d.sources->span;
    for (const auto& n : d.sources->value) {
      auto it = source_index_.find(n.text);
      if (it == source_index_.end()) {
        std::vector<std::string> cands;
        for (const auto& [s, i] : source_index_) cands.push_back(s);
        std::string msg = "`" + n.text + "` is not a declared source";
        if (auto g = globals_.find(n.text); g != globals_.end())
          msg = "`" + n.text + "` is a " + sym_kind_name(g->second.kind) + ", not a source";
        err_suggest(Code::BRD0103, n.span, msg, n.text, cands, nullptr, true);
        sources_failed = true;
        continue;
      }
      if (std::find(r.sources.begin(), r.sources.end(), it->second) == r.sources.end()) r.sources.push_back(it->second);
      if (!source_decls_[it->second]->fields) sources_failed = true;
    }
  }

  Ctx base;
  base.rule = &r;
  base.sources = r.sources;
  base.sources_failed = sources_failed;
  base.scope = static_cast<ir::Scope>(d.scope());

  // Condition.
  std::map<std::string, uint32_t> steps;
  if (d.when && d.scope_block) {
    auto diag = mk(Code::BRD0403, d.scope_block->span,
                   "a rule has either a `when` (event scope) or a `session`/`chain`/`group` block, not both");
    diag.related.push_back({d.when->span, "the event-scope `when` is here"});
    emit(std::move(diag));
  } else if (!d.when && !d.scope_block) {
    err(Code::BRD0402, d.name.span,
        "rule `" + d.name.text + "` has no condition (`when`, `session { }`, `chain { }` or `group by ... { }`)");
  }
  r.scope = d.scope_block ? base.scope : ir::Scope::Event;
  base.scope = r.scope;
  if (d.scope_block) {
    r.spans.scope_block = d.scope_block->span;
    std::map<std::string, Span> seen;
    for (const auto& st : d.scope_block->steps) {
      auto [it, ins] = seen.emplace(st.label.text, st.label.span);
      if (!ins) {
        auto diag = mk(Code::BRD0104, st.label.span, "step `" + st.label.text + "` is declared twice");
        diag.related.push_back({it->second, "first declared here"});
        emit(std::move(diag));
        continue;
      }
      steps[st.label.text] = static_cast<uint32_t>(r.steps.size());
      r.steps.push_back(ir::Step{st.label.text, kNoNode, st.span});
    }
    base.steps = &steps;
    if (d.scope_block->group) check_group(*d.scope_block->group, r, base);
    for (const auto& st : d.scope_block->steps) {
      auto it = steps.find(st.label.text);
      if (it == steps.end() || r.steps[it->second].span.begin != st.span.begin) continue;
      if (!st.pred) continue;
      Ctx c = base;
      c.place = Place::StepPred;
      Val v = cond(*st.pred, c, "a step predicate");
      if (v.ok()) r.steps[it->second].pred = v.node;
    }
    if (d.scope_block->when && d.scope_block->when->expr) {
      r.spans.when = d.scope_block->when->span;
      Ctx c = base;
      c.place = Place::ScopeWhen;
      c.session_ctx = true;
      c.allow_seq = true;
      Val v = cond(*d.scope_block->when->expr, c, "the `when` condition");
      if (v.ok()) r.condition = v.node;
    } else {
      err(Code::BRD0410, d.scope_block->span,
          "the `" + std::string(ir::scope_name(r.scope)) + "` block has no `when` condition");
    }
  } else if (d.when && d.when->expr) {
    r.spans.when = d.when->span;
    Ctx c = base;
    c.place = Place::EventWhen;
    Val v = cond(*d.when->expr, c, "the `when` condition");
    if (v.ok()) r.condition = v.node;
  }

  // Alert context: message and suppress keys.
  Ctx alert = base;
  alert.place = Place::Alert;
  alert.session_ctx = r.scope != ir::Scope::Event;
  if (d.message) {
    r.spans.message = d.message->span;
    r.message_raw = d.message->raw.value;
    for (const auto& part : d.message->parts) {
      ir::MessagePart mp;
      if (part.expr) {
        Ctx c = alert;
        Val v = value_top(*part.expr, c);
        mp.expr = v.ok() ? v.node : kNoNode;
        if (!v.ok()) continue;
      } else {
        mp.literal = part.literal;
      }
      r.message.push_back(std::move(mp));
    }
  }
  if (d.suppress) {
    ir::Suppress s;
    s.window = d.suppress->window.nanos;
    s.span = d.suppress->span;
    r.spans.suppress = d.suppress->span;
    for (const auto& k : d.suppress->keys) {
      if (!k) continue;
      Ctx c = alert;
      Val v = value_top(*k, c);
      if (v.ok()) s.keys.push_back(v.node);
    }
    r.suppress = std::move(s);
  }
  if (d.severity && d.severity->computed) {
    for (const auto& a : d.severity->arms) {
      if (!a.when) continue;
      auto lv = level(a.level);
      Ctx c = alert;
      Val v = cond(*a.when, c, "a severity condition", Code::BRD0411);
      if (lv && v.ok()) r.severity_arms.push_back(ir::SeverityArm{*lv, v.node, a.span});
    }
  }

  check_org_data(d, r);
  tune_rule(d, r, base, level);
  check_tests(d, r);
  classify(r);
  P.rules.push_back(std::move(r));
}

// `group by K1, K2 window D` / `group by K gap G max M` (docs/language.md, "Group scope"). The keys are event
// context, as the steps are: they see the event, never the group (no steps, aggregates or attributes), and each
// is a scalar, so that the engine can compare key values as encoded values.
void Checker::check_group(const ast::GroupHead& g, ir::Rule& r, const Ctx& base) {
  constexpr size_t kMaxKeys = 8;
  ir::GroupBy out;
  out.span = g.span;
  std::vector<std::pair<std::string, Span>> seen;  // each key's dump, against repeats
  for (size_t i = 0; i < g.keys.size(); ++i) {
    if (!g.keys[i]) continue;
    const ast::Expr& k = *g.keys[i];
    if (i == kMaxKeys) {
      auto d = mk(Code::BRD0415, Span::cover(k.span, g.keys.back() ? g.keys.back()->span : k.span),
                  "a group has at most " + std::to_string(kMaxKeys) + " keys; this one has " +
                      std::to_string(g.keys.size()));
      d.help = "group by fewer keys: a key that another key determines (an ARN and its account) adds nothing";
      emit(std::move(d));
      break;
    }
    std::string dumped = ast::dump(k);
    auto prev = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == dumped; });
    if (prev != seen.end()) {
      auto d = mk(Code::BRD0415, k.span, "group key `" + std::string(sm_.slice(k.span)) + "` is given twice");
      d.related.push_back({prev->second, "first given here"});
      emit(std::move(d));
      continue;
    }
    seen.emplace_back(std::move(dumped), k.span);
    Ctx c = base;
    c.place = Place::GroupKey;
    Val v = value_top(k, c);
    if (!v.ok()) continue;
    bool scalar = false;
    switch (v.type.kind) {
      case Kind::Bool: case Kind::Int: case Kind::Float: case Kind::String: case Kind::Time: case Kind::Duration:
      case Kind::Ip: case Kind::Cidr:
        scalar = true;
        break;
      case Kind::Error: case Kind::Null: case Kind::List: case Kind::Object: break;
    }
    if (!scalar) {
      auto d = mk(Code::BRD0415, k.span,
                  "group key `" + std::string(sm_.slice(k.span)) + "` is " + tn(v.type) + "; a key must be a scalar");
      if (v.type.kind == Kind::List) {
        std::string one(sm_.slice(k.span));
        if (auto at = one.find("[*]"); at != std::string::npos) one.replace(at, 3, "[0]");
        else one += "[0]";
        d.help = "group by one element (`" + one + "`), or count the values in the block: `distinct(step.field)`";
      }
      else if (v.type.kind == Kind::Object)
        d.help = "group by a field declared with a scalar type (`string`, `int`, `ip`, ...) in the source's "
                 "`fields`: an `object` or record value has no single value to compare";
      else
        d.help = "a key reads the event: a field, or an expression of fields such as `lower(userName)`";
      emit(std::move(d));
      continue;
    }
    // The key as written, on one line: it names the key's value in alerts ("sourceIPAddress").
    std::string text;
    for (char ch : sm_.slice(k.span)) {
      bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
      if (!space) text += ch;
      else if (!text.empty() && text.back() != ' ') text += ' ';
    }
    out.keys.push_back(v.node);
    out.key_text.push_back(std::move(text));
  }
  auto positive = [&](const std::optional<ast::DurationLit>& dl, const char* what) {
    if (dl && dl->span.valid() && dl->nanos <= 0) {
      err(Code::BRD0416, dl->span, std::string("the group ") + what + " must be positive");
      return false;
    }
    return true;
  };
  if (g.window) {
    if (positive(g.window, "window")) out.gap = out.max = g.window->nanos;
  } else if (g.gap && g.max) {
    if (positive(g.gap, "gap")) {
      out.gap = g.gap->nanos;
      out.max = g.max->nanos;
      if (out.max < out.gap && g.max->span.valid()) {
        auto d = mk(Code::BRD0416, g.max->span,
                    "the group maximum (" + g.max->text + ") is shorter than the gap (" + g.gap->text + ")");
        d.help = "a group closes `gap` after its latest event or `max` after its first; for a fixed window write "
                 "`window " + g.max->text + "`";
        emit(std::move(d));
      }
    }
  }
  r.group = std::move(out);
}

void Checker::check_org_data(const ast::RuleDecl& d, ir::Rule& r) {
  if (!d.org_data) return;
  for (const ast::Name& n : d.org_data->value) {
    r.org_data.push_back(n.text);
    auto g = globals_.find(n.text);
    if (g == globals_.end() || g->second.kind != GlobalSym::Kind::List) {
      std::vector<std::string> cands;
      for (const auto& l : P.lists)
        if (l.org_data) cands.push_back(l.name);
      err_suggest(Code::BRD0412, n.span, "`" + n.text + "` is not a declared list", n.text, cands, nullptr, true);
      continue;
    }
    const ListSym& l = lists_[g->second.index];
    if (!P.lists[l.info].org_data) {
      auto diag = mk(Code::BRD0412, n.span, "list `" + n.text + "` is not marked `org_data`");
      diag.help = "mark the list as organisation data: `list " + ast::name_spelling(n.text) + " = [...] org_data`";
      diag.related.push_back({l.decl->name.span, "the list is declared here"});
      emit(std::move(diag));
      continue;
    }
    if (std::find(r.org_lists_read.begin(), r.org_lists_read.end(), l.info) == r.org_lists_read.end())
      err(Code::BRD0412, n.span, "rule `" + d.name.text + "` does not read list `" + n.text + "`");
  }
}

}  // namespace braid::check_internal
