// Structural validation of a Program: what every later stage (the interpreter, the JIT, the engine) assumes of
// the IR without checking it again. The pack loader runs it on every program it reads (a pack's IR comes from
// outside the process); the checker's programs satisfy it by construction.
//
// Checked: each node's operand count (ops.def), operand ids in range and before their user (no cycles), each
// imm against what its op says it holds (ImmKind: string, set, field, regex and CIDR set ids in their tables,
// attributes, bindings, and per rule the aggregate and sequence indices), the fixed result kinds (ResultRule
// Bool/Int/Float/String), and every node, source, slot, step, aggregate, sequence and group reference of the
// sources and rules. Not checked: the rest of typing (that each operand has the type its op expects).
#pragma once

#include <string>

#include "ir/ir.h"

namespace braid::ir {

// "" when `p` is well formed; else the first problem, naming the node, source or rule ("rule 3 (aws.x): ...").
std::string validate(const Program& p);

// Whether a value (a byte read from a pack) is one of its enum's enumerators. Each derives from a switch that
// lists every enumerator (the name functions of ir.h, or its own), so a new enumerator fails to compile until
// it is handled there; no "last value" constants.
bool is_valid(Op op);
bool is_valid(Kind k);
bool is_valid(Attribute a);
bool is_valid(Scope s);
bool is_valid(Severity s);
bool is_valid(AggKind k);
bool is_valid(Firing f);
bool is_valid(PathSeg::Kind k);
bool is_valid(SchemaType::Shape s);
bool is_valid(TestCase::Expect e);

}  // namespace braid::ir
