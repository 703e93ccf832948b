// What conditions, messages and suppression keys read in session/chain context: attributes, aggregates, sequences.
#include "engine/engine_impl.h"

namespace braid::rt {

Value View::agg(uint32_t index) const {
  if (!st || !r || !e || index >= r->aggregates.size()) return Value::null();
  const ir::Aggregate& d = r->aggregates[index];
  return agg_ops(d.kind).read(e->agg_state(*st, r->scope == ir::Scope::Session ? se : nullptr, index), d);
}

bool View::seq(uint32_t index) const { return st && index < st->seqs.size() && st->seqs[index].matched; }

// Attributes read the session `se` and the chain `ch` (chain.* null outside chain rules).
Value View::attr(ir::Attribute a) const {
  using A = ir::Attribute;
  switch (a) {
    case A::SessionId: return se ? Value::string(se->id_view()) : Value::null();
    case A::SessionIdentity: return se ? Value::string(se->identity()) : Value::null();
    case A::SessionCredential: return se && se->has_cred ? Value::string(se->credential()) : Value::null();
    case A::SessionStart: return se ? Value::time(se->start) : Value::null();
    case A::SessionEnd: return se ? Value::time(se->last) : Value::null();
    case A::SessionDuration: return se ? Value::duration(se->last - se->start) : Value::null();
    case A::SessionEvents: return se ? Value::integer(static_cast<int64_t>(se->events)) : Value::null();
    case A::SessionSourceIps: return se ? Value::integer(se->side().ips.count()) : Value::null();
    case A::ChainDepth: case A::ChainRootIdentity: case A::ChainRootCredential: case A::ChainRootStart:
    case A::ChainIdentities: case A::ChainAccounts: break;  // below
  }
  if (!ch || !e) return Value::null();
  const Session* root = e->session(ch->root);
  if (!root) return Value::null();
  switch (a) {
    case A::ChainDepth: return Value::integer(ch->max_level);
    case A::ChainRootIdentity: return Value::string(root->identity());
    case A::ChainRootCredential: return root->has_cred ? Value::string(root->credential()) : Value::null();
    case A::ChainRootStart: return Value::time(root->start);
    case A::ChainIdentities: return Value::integer(ch->side().identities.count());
    case A::ChainAccounts: return Value::integer(ch->side().accounts.count());
    case A::SessionId: case A::SessionIdentity: case A::SessionCredential: case A::SessionStart: case A::SessionEnd:
    case A::SessionDuration: case A::SessionEvents: case A::SessionSourceIps: return Value::null();  // above
  }
  return Value::null();
}

}  // namespace braid::rt
