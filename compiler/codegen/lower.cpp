// Typed IR -> LLVM IR (codegen.h). One module per rule set:
//   - one internal function per predicate of the match plan: i1 @p<source>_<id>(ptr frame)
//   - per source, i32 @braid_dispatch_<s>(ptr frame, ptr matched): the discriminator switch + predicate calls
//   - per source with a `recognize`, i8 @braid_recognize_<s>(ptr frame)
// Values are carried in SSA as (tag i8, len i32, payload i64), the three words of rt::Value.
#include "codegen/codegen.h"

#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/ErrorHandling.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <set>
#include <stdexcept>

#include "codegen/helper_abi.h"
#include "ir/match_plan.h"
#include "ir/same_expr.h"

namespace braid::codegen {

using ir::Kind;
using ir::NodeId;
using ir::Op;

std::string llvm_version() { return LLVM_VERSION_STRING; }



namespace {

struct LV {
  llvm::Value* tag;  // i8
  llvm::Value* len;  // i32
  llvm::Value* bits; // i64
};

class Lowerer {
 public:
  Lowerer(const ir::Program& p, llvm::LLVMContext& c, llvm::Module& m) : p_(p), C(c), M(m), B(c) {
    i1 = B.getInt1Ty();
    i8 = B.getInt8Ty();
    i32 = B.getInt32Ty();
    i64 = B.getInt64Ty();
    ptr = B.getPtrTy();
    value_ty = llvm::StructType::create(C, {i8, llvm::ArrayType::get(i8, 3), i32, i64}, "BraidValue");
    frame_ty = llvm::StructType::create(C, {ptr, ptr, llvm::ArrayType::get(value_ty, BRAID_MAX_BINDINGS)},
                                        "BraidFrame");
    auto decl = [&](const char* name, llvm::Type* ret, std::vector<llvm::Type*> args) {
      auto* f = llvm::Function::Create(llvm::FunctionType::get(ret, args, false), llvm::Function::ExternalLinkage,
                                       name, M);
      f->addFnAttr(llvm::Attribute::NoUnwind);
      return f;
    };
    f_memcmp = decl("memcmp", i32, {ptr, ptr, i64});
    f_memcmp->addFnAttr(llvm::Attribute::getWithMemoryEffects(C, llvm::MemoryEffects::argMemOnly(llvm::ModRefInfo::Ref)));
    f_compare = decl("braid_rt_compare", i32, {ptr, ptr, i32});
    f_strop = decl("braid_rt_strop", i8, {i32, ptr, i32, ptr, i32, i32});
    f_matches = decl("braid_rt_matches", i8, {ptr, i32, i32, ptr, i32});
    f_anyop = decl("braid_rt_anyop", i8, {ptr, i32, i32, i32, ptr, i32});
    f_inset = decl("braid_rt_inset", i8, {ptr, i32, i32, ptr});
    f_incidr = decl("braid_rt_incidr", i8, {ptr, i32, ptr, i32});
    f_eval = decl("braid_rt_eval", B.getVoidTy(), {ptr, i32, i32, ptr});
    f_concat = decl("braid_rt_concat", B.getVoidTy(), {ptr, ptr, i32, ptr, i32, ptr});
  }

  uint32_t functions = 0;

  // i1 @p<s>_<k>(ptr frame)
  llvm::Function* predicate(uint32_t source, uint32_t k, NodeId node) {
    auto* fn = llvm::Function::Create(llvm::FunctionType::get(i1, {ptr}, false), llvm::Function::InternalLinkage,
                                      "p" + std::to_string(source) + "_" + std::to_string(k), M);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    // A predicate is called from every discriminator value that selects it: inlining would copy it per value.
    fn->addFnAttr(llvm::Attribute::NoInline);
    begin(fn, source);
    llvm::Value* r = lower_bool(node);
    B.CreateRet(r);
    ++functions;
    return fn;
  }

  // i8 @braid_recognize_<s>(ptr frame)
  void recognize(uint32_t source, NodeId node) {
    auto* fn = llvm::Function::Create(llvm::FunctionType::get(i8, {ptr}, false), llvm::Function::ExternalLinkage,
                                      "braid_recognize_" + std::to_string(source), M);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    begin(fn, source);
    B.CreateRet(B.CreateZExt(lower_bool(node), i8));
    ++functions;
  }

  // void @braid_expr_<s>_<node>(ptr frame, ptr out): a source clause (time, identity, a mint's key...) as a value.
  void value_function(uint32_t source, NodeId node) {
    std::string name = "braid_expr_" + std::to_string(source) + "_" + std::to_string(node);
    if (M.getFunction(name)) return;
    auto* fn = llvm::Function::Create(llvm::FunctionType::get(B.getVoidTy(), {ptr, ptr}, false),
                                      llvm::Function::ExternalLinkage, name, M);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    begin(fn, source);
    store_value(lower_value(node), fn->getArg(1));
    B.CreateRetVoid();
    ++functions;
  }

  // i32 @braid_dispatch_<s>(ptr frame, ptr matched, ptr prefiltered)
  void dispatch(uint32_t source, const ir::SourcePlan& sp, const std::vector<llvm::Function*>& preds) {
    auto* fn = llvm::Function::Create(llvm::FunctionType::get(i32, {ptr, ptr, ptr}, false),
                                      llvm::Function::ExternalLinkage, "braid_dispatch_" + std::to_string(source), M);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    begin(fn, source);
    llvm::Value* out = fn->getArg(1);
    llvm::AllocaInst* count = entry_alloca(i32);
    B.CreateStore(B.getInt32(0), count);
    auto run = [&](const std::vector<uint32_t>& ids) {
      // Equal predicates share one function (lower_program): call it once per list, reuse its answer. (Equal
      // predicates have equal discriminators, so they are always in the same list.)
      std::map<llvm::Function*, llvm::Value*> answered;
      for (uint32_t id : ids) {
        llvm::Value*& hit = answered[preds[id]];
        if (!hit) hit = B.CreateCall(preds[id], {frame_});
        auto* yes = llvm::BasicBlock::Create(C, "hit", fn);
        auto* next = llvm::BasicBlock::Create(C, "next", fn);
        B.CreateCondBr(hit, yes, next);
        B.SetInsertPoint(yes);
        llvm::Value* n = B.CreateLoad(i32, count);
        B.CreateStore(B.getInt32(id), B.CreateGEP(i32, out, {n}));
        B.CreateStore(B.CreateAdd(n, B.getInt32(1)), count);
        B.CreateBr(next);
        B.SetInsertPoint(next);
      }
    };
    run(sp.always);
    // Prefiltered predicates: evaluated only when the runtime's literal scan set their bit (helper_abi.h). Equal
    // predicates share a function: one call when any of their bits is set.
    llvm::Value* selected = fn->getArg(2);
    std::vector<std::pair<llvm::Function*, std::vector<uint32_t>>> groups;
    for (uint32_t id : sp.prefiltered) {
      auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == preds[id]; });
      if (g == groups.end()) groups.push_back({preds[id], {id}});
      else g->second.push_back(id);
    }
    for (const auto& [pred, ids] : groups) {
      llvm::Value* any = nullptr;
      for (uint32_t id : ids) {
        llvm::Value* word = B.CreateLoad(i64, B.CreateGEP(i64, selected, {B.getInt32(id >> 6)}));
        llvm::Value* bit = B.CreateICmpNE(B.CreateAnd(word, B.getInt64(uint64_t{1} << (id & 63))), B.getInt64(0));
        any = any ? B.CreateOr(any, bit) : bit;
      }
      auto* eval = llvm::BasicBlock::Create(C, "pf_eval", fn);
      auto* done = llvm::BasicBlock::Create(C, "pf_done", fn);
      B.CreateCondBr(any, eval, done);
      B.SetInsertPoint(eval);
      run(ids);
      B.CreateBr(done);
      B.SetInsertPoint(done);
    }
    for (const ir::DiscriminatorIndex& ix : sp.indexes) {
      LV v = load_slot(ix.slot);
      auto* done = llvm::BasicBlock::Create(C, "ix_done", fn);
      auto* is_str = llvm::BasicBlock::Create(C, "ix_str", fn);
      B.CreateCondBr(B.CreateICmpEQ(v.tag, B.getInt8(BRAID_TAG_STRING)), is_str, done);
      B.SetInsertPoint(is_str);
      std::vector<llvm::BasicBlock*> targets;
      for (size_t j = 0; j < ix.values.size(); ++j) targets.push_back(llvm::BasicBlock::Create(C, "val", fn));
      string_switch(v, ix.values, targets, done);
      for (size_t j = 0; j < ix.values.size(); ++j) {
        B.SetInsertPoint(targets[j]);
        run(ix.by_value[j]);
        B.CreateBr(done);
      }
      B.SetInsertPoint(done);
    }
    B.CreateRet(B.CreateLoad(i32, count));
  }

 private:
  const ir::Program& p_;
  llvm::LLVMContext& C;
  llvm::Module& M;
  llvm::IRBuilder<> B;
  llvm::Type *i1, *i8, *i32, *i64, *ptr;
  llvm::StructType *value_ty, *frame_ty;
  llvm::Function *f_memcmp, *f_compare, *f_strop, *f_matches, *f_anyop, *f_inset, *f_incidr, *f_eval, *f_concat;
  std::map<std::string, llvm::Constant*> strings_;
  std::map<size_t, llvm::Function*> set_fns_;

  // Per function.
  llvm::Function* fn_ = nullptr;
  llvm::Value* frame_ = nullptr;
  llvm::Value* slots_ = nullptr;
  uint32_t source_ = 0;
  std::vector<LV> elems_;  // current element per binding (depth)

  void begin(llvm::Function* fn, uint32_t source) {
    fn_ = fn;
    source_ = source;
    elems_.clear();
    B.SetInsertPoint(llvm::BasicBlock::Create(C, "entry", fn));
    frame_ = fn->getArg(0);
    slots_ = B.CreateLoad(ptr, B.CreateStructGEP(frame_ty, frame_, 0), "slots");
  }

  llvm::AllocaInst* entry_alloca(llvm::Type* t) {
    llvm::IRBuilder<> e(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
    return e.CreateAlloca(t);
  }

  llvm::Constant* cstring(const std::string& s) {
    auto it = strings_.find(s);
    if (it != strings_.end()) return it->second;
    auto* init = llvm::ConstantDataArray::getString(C, s, /*AddNull=*/false);
    auto* g = new llvm::GlobalVariable(M, init->getType(), true, llvm::GlobalValue::PrivateLinkage, init, "str");
    g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    g->setAlignment(llvm::Align(1));
    strings_.emplace(s, g);
    return g;
  }

  LV constant(uint8_t tag, uint32_t len, int64_t bits) {
    return LV{B.getInt8(tag), B.getInt32(len), B.getInt64(static_cast<uint64_t>(bits))};
  }
  LV null_value() { return constant(BRAID_TAG_NULL, 0, 0); }
  LV from_bool(llvm::Value* b) { return LV{B.getInt8(BRAID_TAG_BOOL), B.getInt32(0), B.CreateZExt(b, i64)}; }

  LV load_value(llvm::Value* at) {
    return LV{B.CreateLoad(i8, B.CreateStructGEP(value_ty, at, 0)),
              B.CreateLoad(i32, B.CreateStructGEP(value_ty, at, 2)),
              B.CreateLoad(i64, B.CreateStructGEP(value_ty, at, 3))};
  }
  void store_value(const LV& v, llvm::Value* at) {
    B.CreateStore(v.tag, B.CreateStructGEP(value_ty, at, 0));
    B.CreateStore(v.len, B.CreateStructGEP(value_ty, at, 2));
    B.CreateStore(v.bits, B.CreateStructGEP(value_ty, at, 3));
  }
  LV load_slot(uint32_t slot) { return load_value(B.CreateConstInBoundsGEP1_32(value_ty, slots_, slot)); }
  llvm::Value* spill(const LV& v) {
    llvm::AllocaInst* a = entry_alloca(value_ty);
    store_value(v, a);
    return a;
  }
  llvm::Value* as_ptr(const LV& v) { return B.CreateIntToPtr(v.bits, ptr); }
  llvm::Value* is_tag(const LV& v, uint8_t tag) { return B.CreateICmpEQ(v.tag, B.getInt8(tag)); }

  // Emits `cond ? then() : false` with real control flow (then() may only run when cond holds).
  template <class F>
  llvm::Value* guarded(llvm::Value* cond, F then) {
    llvm::BasicBlock* from = B.GetInsertBlock();
    auto* yes = llvm::BasicBlock::Create(C, "g", fn_);
    auto* join = llvm::BasicBlock::Create(C, "gj", fn_);
    B.CreateCondBr(cond, yes, join);
    B.SetInsertPoint(yes);
    llvm::Value* r = then();
    llvm::BasicBlock* yes_end = B.GetInsertBlock();
    B.CreateBr(join);
    B.SetInsertPoint(join);
    llvm::PHINode* phi = B.CreatePHI(i1, 2);
    phi->addIncoming(B.getFalse(), from);
    phi->addIncoming(r, yes_end);
    return phi;
  }

  llvm::Value* bytes_equal(llvm::Value* p, const std::string& s) {
    if (s.empty()) return B.getTrue();
    llvm::Value* c = B.CreateCall(f_memcmp, {p, cstring(s), B.getInt64(s.size())});
    return B.CreateICmpEQ(c, B.getInt32(0));
  }

  // Jumps to targets[j] when the string v (tag already checked) equals values[j], else to miss. A decision tree:
  // a switch on the length, then on the byte position that best splits each group, then one memcmp per leaf
  // (which verifies the whole string). Values must be unique.
  void string_switch(const LV& v, const std::vector<std::string>& values, const std::vector<llvm::BasicBlock*>& targets,
                     llvm::BasicBlock* miss) {
    std::map<size_t, std::vector<uint32_t>> by_len;
    for (uint32_t j = 0; j < values.size(); ++j) by_len[values[j].size()].push_back(j);
    llvm::Value* p = as_ptr(v);
    llvm::SwitchInst* sw = B.CreateSwitch(v.len, miss, static_cast<unsigned>(by_len.size()));
    for (auto& [len, group] : by_len) {
      auto* bb = llvm::BasicBlock::Create(C, "len", fn_);
      sw->addCase(B.getInt32(static_cast<uint32_t>(len)), bb);
      B.SetInsertPoint(bb);
      split(p, values, group, targets, miss);
    }
  }

  void split(llvm::Value* p, const std::vector<std::string>& values, const std::vector<uint32_t>& group,
             const std::vector<llvm::BasicBlock*>& targets, llvm::BasicBlock* miss) {
    if (group.size() == 1) {
      B.CreateCondBr(bytes_equal(p, values[group[0]]), targets[group[0]], miss);
      return;
    }
    size_t len = values[group[0]].size(), best = 0, best_distinct = 0;
    for (size_t i = 0; i < len; ++i) {
      std::set<unsigned char> seen;
      for (uint32_t j : group) seen.insert(static_cast<unsigned char>(values[j][i]));
      if (seen.size() > best_distinct) best = i, best_distinct = seen.size();
    }
    std::map<unsigned char, std::vector<uint32_t>> parts;
    for (uint32_t j : group) parts[static_cast<unsigned char>(values[j][best])].push_back(j);
    llvm::Value* byte = B.CreateLoad(i8, B.CreateConstInBoundsGEP1_64(i8, p, best));
    llvm::SwitchInst* sw = B.CreateSwitch(byte, miss, static_cast<unsigned>(parts.size()));
    for (auto& [b, sub] : parts) {
      auto* bb = llvm::BasicBlock::Create(C, "byte", fn_);
      sw->addCase(B.getInt8(b), bb);
      B.SetInsertPoint(bb);
      split(p, values, sub, targets, miss);
    }
  }

  bool nocase(const ir::Node& n) const { return n.has(ir::kFlagNoCase) || n.has(ir::kFlagNocaseField); }

  const std::string* string_const(NodeId id) const {
    const ir::Node& n = p_.node(id);
    if (n.op != Op::String || n.imm < 0 || static_cast<size_t>(n.imm) >= p_.strings.size()) return nullptr;
    return &p_.strings[static_cast<size_t>(n.imm)];
  }

  LV fallback(NodeId id) {
    llvm::AllocaInst* out = entry_alloca(value_ty);
    B.CreateCall(f_eval, {frame_, B.getInt32(id), B.getInt32(static_cast<uint32_t>(elems_.size())), out});
    return load_value(out);
  }

  LV lower_value(NodeId id) {
    const ir::Node& n = p_.node(id);
    switch (n.op) {
      case Op::Null: return null_value();
      case Op::Bool: return constant(BRAID_TAG_BOOL, 0, n.imm != 0);
      case Op::Int: return constant(BRAID_TAG_INT, 0, n.imm);
      case Op::Float: return constant(BRAID_TAG_FLOAT, 0, n.imm);
      case Op::Duration: return constant(BRAID_TAG_DURATION, 0, n.imm);
      case Op::String: {
        const std::string* s = string_const(id);
        if (!s) throw std::runtime_error("string constant out of range");
        return LV{B.getInt8(BRAID_TAG_STRING), B.getInt32(static_cast<uint32_t>(s->size())),
                  B.CreatePtrToInt(cstring(*s), i64)};
      }
      case Op::Field: {
        uint32_t slot = p_.sources[source_].slot_of(static_cast<ir::FieldId>(n.imm));
        return slot == ir::kNone ? null_value() : load_slot(slot);
      }
      case Op::Elem: {
        auto b = static_cast<size_t>(n.imm);
        if (b < elems_.size()) return elems_[b];
        return fallback(id);
      }
      case Op::Coalesce: {
        // The first operand that is not null.
        auto* join = llvm::BasicBlock::Create(C, "coalesce", fn_);
        std::vector<std::pair<llvm::BasicBlock*, LV>> in;
        for (uint32_t i = 0; i < n.ops_count; ++i) {
          LV v = lower_value(p_.op(n, i));
          auto* next = llvm::BasicBlock::Create(C, "coalesce_next", fn_);
          in.emplace_back(B.GetInsertBlock(), v);
          B.CreateCondBr(B.CreateICmpNE(v.tag, B.getInt8(BRAID_TAG_NULL)), join, next);
          B.SetInsertPoint(next);
        }
        LV none = null_value();
        in.emplace_back(B.GetInsertBlock(), none);
        B.CreateBr(join);
        B.SetInsertPoint(join);
        auto phi = [&](llvm::Type* t, auto get) {
          llvm::PHINode* ph = B.CreatePHI(t, static_cast<unsigned>(in.size()));
          for (auto& [bb, v] : in) ph->addIncoming(get(v), bb);
          return ph;
        };
        return LV{phi(i8, [](const LV& v) { return v.tag; }), phi(i32, [](const LV& v) { return v.len; }),
                  phi(i64, [](const LV& v) { return v.bits; })};
      }
      case Op::ListAt: {
        // The element at imm (from the end when negative), or null.
        LV l = lower_value(p_.op(n, 0));
        llvm::AllocaInst* out = entry_alloca(value_ty);
        store_value(null_value(), out);
        llvm::Value* len = B.CreateSelect(is_tag(l, BRAID_TAG_LIST), l.len, B.getInt32(0));
        llvm::Value* idx = n.imm >= 0 ? static_cast<llvm::Value*>(B.getInt32(static_cast<uint32_t>(n.imm)))
                                      : B.CreateSub(len, B.getInt32(static_cast<uint32_t>(-n.imm)));
        llvm::Value* in_range = n.imm >= 0 ? B.CreateICmpULT(idx, len)
                                           : B.CreateICmpUGE(len, B.getInt32(static_cast<uint32_t>(-n.imm)));
        auto* yes = llvm::BasicBlock::Create(C, "list_at", fn_);
        auto* join = llvm::BasicBlock::Create(C, "list_at_done", fn_);
        B.CreateCondBr(in_range, yes, join);
        B.SetInsertPoint(yes);
        store_value(load_value(B.CreateInBoundsGEP(value_ty, as_ptr(l), B.CreateZExt(idx, i64))), out);
        B.CreateBr(join);
        B.SetInsertPoint(join);
        return load_value(out);
      }
      case Op::Concat: {
        // Null unless both are strings; else a new string from the helper (the interpreter's per-event arena).
        LV a = lower_value(p_.op(n, 0));
        LV b = lower_value(p_.op(n, 1));
        llvm::AllocaInst* out = entry_alloca(value_ty);
        store_value(null_value(), out);
        auto* yes = llvm::BasicBlock::Create(C, "concat", fn_);
        auto* join = llvm::BasicBlock::Create(C, "concat_done", fn_);
        B.CreateCondBr(B.CreateAnd(is_tag(a, BRAID_TAG_STRING), is_tag(b, BRAID_TAG_STRING)), yes, join);
        B.SetInsertPoint(yes);
        B.CreateCall(f_concat, {frame_, as_ptr(a), a.len, as_ptr(b), b.len, out});
        B.CreateBr(join);
        B.SetInsertPoint(join);
        return load_value(out);
      }
      case Op::Not: case Op::And: case Op::Or: case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
      case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: case Op::Matches:
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: case Op::InSet:
      case Op::InCidr: case Op::Exists: case Op::AnyElem:
        return from_bool(lower_bool(id));
      case Op::Set: case Op::Attr: case Op::Agg: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul:
      case Op::Div: case Op::Mod: case Op::ToFloat: case Op::Lower: case Op::Upper: case Op::Len: case Op::Replace:
      case Op::Seq:
        return fallback(id);
    }
    return fallback(id);
  }

  // A condition: true iff the value is Bool true.
  llvm::Value* lower_bool(NodeId id) {
    const ir::Node& n = p_.node(id);
    auto opnd = [&](uint32_t i) { return p_.op(n, i); };
    switch (n.op) {
      case Op::Bool: return B.getInt1(n.imm != 0);
      case Op::Not: return B.CreateNot(lower_bool(opnd(0)));
      case Op::And:
      case Op::Or: {
        bool is_and = n.op == Op::And;
        auto* join = llvm::BasicBlock::Create(C, is_and ? "and" : "or", fn_);
        std::vector<std::pair<llvm::BasicBlock*, llvm::Value*>> in;
        for (uint32_t i = 0; i < n.ops_count; ++i) {
          llvm::Value* c = lower_bool(opnd(i));
          if (i + 1 == n.ops_count) {
            in.emplace_back(B.GetInsertBlock(), c);
            B.CreateBr(join);
            break;
          }
          auto* next = llvm::BasicBlock::Create(C, "next", fn_);
          in.emplace_back(B.GetInsertBlock(), B.getInt1(!is_and));
          if (is_and) B.CreateCondBr(c, next, join);
          else B.CreateCondBr(c, join, next);
          B.SetInsertPoint(next);
        }
        if (in.empty()) {  // no operands: And is true, Or false (the checker never makes these)
          B.CreateBr(join);
          in.emplace_back(B.GetInsertBlock(), B.getInt1(is_and));
        }
        B.SetInsertPoint(join);
        llvm::PHINode* phi = B.CreatePHI(i1, static_cast<unsigned>(in.size()));
        for (auto& [bb, v] : in) phi->addIncoming(v, bb);
        return phi;
      }
      case Op::Eq: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: return comparison(n);
      case Op::Contains: case Op::StartsWith: case Op::EndsWith: case Op::Like: {
        LV s = lower_value(opnd(0));
        return guarded(is_tag(s, BRAID_TAG_STRING), [&] {
          const std::string* c = string_const(opnd(1));
          bool nc = nocase(n);
          if (c && !nc && (n.op == Op::StartsWith || n.op == Op::EndsWith)) {
            auto L = static_cast<uint32_t>(c->size());
            return guarded(B.CreateICmpUGE(s.len, B.getInt32(L)), [&] {
              llvm::Value* at = as_ptr(s);
              if (n.op == Op::EndsWith) at = B.CreateInBoundsGEP(i8, at, B.CreateZExt(B.CreateSub(s.len, B.getInt32(L)), i64));
              return bytes_equal(at, *c);
            });
          }
          if (c && !nc && n.op == Op::Contains && c->empty()) return static_cast<llvm::Value*>(B.getTrue());
          LV pat = lower_value(opnd(1));
          return guarded(is_tag(pat, BRAID_TAG_STRING), [&] {
            uint32_t op = n.op == Op::Contains ? 0 : n.op == Op::StartsWith ? 1 : n.op == Op::EndsWith ? 2 : 3;
            llvm::Value* r = B.CreateCall(f_strop, {B.getInt32(op), as_ptr(s), s.len, as_ptr(pat), pat.len,
                                                   B.getInt32(nc ? 1 : 0)});
            return B.CreateICmpNE(r, B.getInt8(0));
          });
        });
      }
      case Op::Matches: {
        LV s = lower_value(opnd(0));
        return guarded(is_tag(s, BRAID_TAG_STRING), [&] {
          llvm::Value* r = B.CreateCall(f_matches, {frame_, B.getInt32(static_cast<uint32_t>(n.imm)),
                                                    B.getInt32(nocase(n) ? 1 : 0), as_ptr(s), s.len});
          return B.CreateICmpNE(r, B.getInt8(0));
        });
      }
      case Op::ContainsAny: case Op::StartsWithAny: case Op::EndsWithAny: case Op::LikeAny: {
        LV s = lower_value(opnd(0));
        uint32_t op = n.op == Op::ContainsAny ? 0 : n.op == Op::StartsWithAny ? 1 : n.op == Op::EndsWithAny ? 2 : 3;
        return guarded(is_tag(s, BRAID_TAG_STRING), [&] {
          llvm::Value* r = B.CreateCall(f_anyop, {frame_, B.getInt32(op), B.getInt32(static_cast<uint32_t>(n.imm)),
                                                  B.getInt32(nocase(n) ? 1 : 0), as_ptr(s), s.len});
          return B.CreateICmpNE(r, B.getInt8(0));
        });
      }
      case Op::InSet: return in_set(n);
      case Op::InCidr: {
        LV s = lower_value(opnd(0));
        return guarded(is_tag(s, BRAID_TAG_STRING), [&] {
          llvm::Value* r =
              B.CreateCall(f_incidr, {frame_, B.getInt32(static_cast<uint32_t>(n.imm)), as_ptr(s), s.len});
          return B.CreateICmpNE(r, B.getInt8(0));
        });
      }
      case Op::Exists: {
        LV v = lower_value(opnd(0));
        return B.CreateICmpNE(v.tag, B.getInt8(BRAID_TAG_NULL));
      }
      case Op::AnyElem: return any_elem(n);
      case Op::Null: case Op::Int: case Op::Float: case Op::String: case Op::Duration: case Op::Set: case Op::Field:
      case Op::Attr: case Op::Agg: case Op::Elem: case Op::Neg: case Op::Add: case Op::Sub: case Op::Mul:
      case Op::Div: case Op::Mod: case Op::ToFloat: case Op::Lower: case Op::Upper: case Op::Len: case Op::Coalesce:
      case Op::Replace: case Op::Seq: case Op::Concat: case Op::ListAt: {
        LV v = lower_value(id);
        return B.CreateAnd(is_tag(v, BRAID_TAG_BOOL), B.CreateICmpNE(B.CreateTrunc(v.bits, i8), B.getInt8(0)));
      }
    }
    return B.getInt1(false);
  }

  static bool int_like(Kind k) { return k == Kind::Int || k == Kind::Time || k == Kind::Duration; }
  static uint8_t tag_of(Kind k) {
    return k == Kind::Int ? BRAID_TAG_INT : k == Kind::Time ? BRAID_TAG_TIME : BRAID_TAG_DURATION;
  }

  llvm::Value* comparison(const ir::Node& n) {
    NodeId a_id = p_.op(n, 0), b_id = p_.op(n, 1);
    Kind ka = p_.node(a_id).type.kind, kb = p_.node(b_id).type.kind;
    bool as_ip = ka == Kind::Ip && kb == Kind::Ip;
    bool nc = n.op == Op::Eq && nocase(n);
    // Bytewise equality with a string constant: only a String value of the same bytes is equal to it.
    if (n.op == Op::Eq && !nc && !as_ip) {
      const std::string* c = string_const(b_id);
      NodeId other = a_id;
      if (!c) {
        c = string_const(a_id);
        other = b_id;
      }
      if (c) {
        LV v = lower_value(other);
        auto L = static_cast<uint32_t>(c->size());
        return guarded(B.CreateAnd(is_tag(v, BRAID_TAG_STRING), B.CreateICmpEQ(v.len, B.getInt32(L))),
                       [&] { return bytes_equal(as_ptr(v), *c); });
      }
    }
    LV a = lower_value(a_id);
    LV b = lower_value(b_id);
    llvm::CmpInst::Predicate pred = n.op == Op::Eq   ? llvm::CmpInst::ICMP_EQ
                                    : n.op == Op::Lt ? llvm::CmpInst::ICMP_SLT
                                    : n.op == Op::Le ? llvm::CmpInst::ICMP_SLE
                                    : n.op == Op::Gt ? llvm::CmpInst::ICMP_SGT
                                                     : llvm::CmpInst::ICMP_SGE;
    auto helper = [&]() -> llvm::Value* {
      uint32_t flags = (nc ? BRAID_CMP_NOCASE : 0u) | (as_ip ? BRAID_CMP_AS_IP : 0u);
      llvm::Value* r = B.CreateCall(f_compare, {spill(a), spill(b), B.getInt32(flags)});
      return B.CreateAnd(B.CreateICmpNE(r, B.getInt32(2)), B.CreateICmp(pred, r, B.getInt32(0)));
    };
    if (int_like(ka) && ka == kb) {
      // Same-kind integers (int, time, duration) compare as int64; anything else the helper decides.
      uint8_t t = tag_of(ka);
      llvm::Value* fast = B.CreateAnd(is_tag(a, t), is_tag(b, t));
      llvm::BasicBlock* from = B.GetInsertBlock();
      auto* slow = llvm::BasicBlock::Create(C, "cmp_slow", fn_);
      auto* join = llvm::BasicBlock::Create(C, "cmp", fn_);
      llvm::Value* quick = B.CreateICmp(pred, a.bits, b.bits);
      B.CreateCondBr(fast, join, slow);
      B.SetInsertPoint(slow);
      llvm::Value* r = helper();
      llvm::BasicBlock* slow_end = B.GetInsertBlock();
      B.CreateBr(join);
      B.SetInsertPoint(join);
      llvm::PHINode* phi = B.CreatePHI(i1, 2);
      phi->addIncoming(quick, from);
      phi->addIncoming(r, slow_end);
      return phi;
    }
    return helper();
  }

  llvm::Value* in_set(const ir::Node& n) {
    LV x = lower_value(p_.op(n, 0));
    auto sid = static_cast<size_t>(n.imm);
    if (sid >= p_.sets.size()) throw std::runtime_error("set id out of range");
    const ir::ConstSet& set = p_.sets[sid];
    bool nc = nocase(n);
    if (!nc && (set.elem == Kind::String || set.elem == Kind::Ip) && set.ints.empty() && set.floats.empty()) {
      // Only a String value can be in a string set: a perfect switch over the constants, emitted once per set
      // (lists are shared by many rules) as its own function.
      if (set.strings.empty()) return B.getFalse();
      llvm::Function* f = set_function(sid);
      return guarded(is_tag(x, BRAID_TAG_STRING), [&] {
        return static_cast<llvm::Value*>(B.CreateCall(f, {as_ptr(x), x.len}));
      });
    }
    if (set.elem == Kind::Int && !set.ints.empty() && set.floats.empty()) {
      // Integers: a switch; other tags (a float, null, ...) go to the helper, which knows the mixed rules.
      llvm::BasicBlock* from = B.GetInsertBlock();
      auto* sw_bb = llvm::BasicBlock::Create(C, "iset", fn_);
      auto* slow = llvm::BasicBlock::Create(C, "iset_slow", fn_);
      auto* yes = llvm::BasicBlock::Create(C, "iset_yes", fn_);
      auto* no = llvm::BasicBlock::Create(C, "iset_no", fn_);
      auto* join = llvm::BasicBlock::Create(C, "iset_join", fn_);
      (void)from;
      B.CreateCondBr(is_tag(x, BRAID_TAG_INT), sw_bb, slow);
      B.SetInsertPoint(sw_bb);
      llvm::SwitchInst* sw = B.CreateSwitch(x.bits, no, static_cast<unsigned>(set.ints.size()));
      for (int64_t v : set.ints) sw->addCase(B.getInt64(static_cast<uint64_t>(v)), yes);
      B.SetInsertPoint(slow);
      llvm::Value* r = B.CreateICmpNE(
          B.CreateCall(f_inset, {frame_, B.getInt32(static_cast<uint32_t>(sid)), B.getInt32(nc ? 1 : 0), spill(x)}),
          B.getInt8(0));
      llvm::BasicBlock* slow_end = B.GetInsertBlock();
      B.CreateBr(join);
      B.SetInsertPoint(yes);
      B.CreateBr(join);
      B.SetInsertPoint(no);
      B.CreateBr(join);
      B.SetInsertPoint(join);
      llvm::PHINode* phi = B.CreatePHI(i1, 3);
      phi->addIncoming(r, slow_end);
      phi->addIncoming(B.getTrue(), yes);
      phi->addIncoming(B.getFalse(), no);
      return phi;
    }
    llvm::Value* r =
        B.CreateCall(f_inset, {frame_, B.getInt32(static_cast<uint32_t>(sid)), B.getInt32(nc ? 1 : 0), spill(x)});
    return B.CreateICmpNE(r, B.getInt8(0));
  }

  // i1 @set<id>(ptr s, i32 len): membership of a byte string in a constant string set.
  llvm::Function* set_function(size_t sid) {
    auto it = set_fns_.find(sid);
    if (it != set_fns_.end()) return it->second;
    auto* f = llvm::Function::Create(llvm::FunctionType::get(i1, {ptr, i32}, false), llvm::Function::InternalLinkage,
                                     "set" + std::to_string(sid), M);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    f->addFnAttr(llvm::Attribute::NoInline);
    set_fns_.emplace(sid, f);
    // Emit it with a builder of its own: we are in the middle of another function.
    llvm::IRBuilderBase::InsertPointGuard keep(B);
    llvm::Function* outer = fn_;
    fn_ = f;
    auto* entry = llvm::BasicBlock::Create(C, "entry", f);
    auto* yes = llvm::BasicBlock::Create(C, "in", f);
    auto* no = llvm::BasicBlock::Create(C, "notin", f);
    B.SetInsertPoint(entry);
    LV v{B.getInt8(BRAID_TAG_STRING), f->getArg(1), B.CreatePtrToInt(f->getArg(0), i64)};
    const auto& strings = p_.sets[sid].strings;
    std::vector<llvm::BasicBlock*> targets(strings.size(), yes);
    string_switch(v, strings, targets, no);
    B.SetInsertPoint(yes);
    B.CreateRet(B.getTrue());
    B.SetInsertPoint(no);
    B.CreateRet(B.getFalse());
    fn_ = outer;
    return f;
  }

  // [*]: true iff the body holds for some element of the list.
  llvm::Value* any_elem(const ir::Node& n) {
    auto binding = static_cast<size_t>(n.imm);
    if (binding != elems_.size() || binding >= BRAID_MAX_BINDINGS) {
      // Bindings are nesting depths, so this cannot happen in a checked program; stay exact anyway.
      LV v = fallback(static_cast<NodeId>(&n - p_.nodes.data()));
      return B.CreateAnd(is_tag(v, BRAID_TAG_BOOL), B.CreateICmpNE(B.CreateTrunc(v.bits, i8), B.getInt8(0)));
    }
    LV list = lower_value(p_.op(n, 0));
    llvm::BasicBlock* from = B.GetInsertBlock();
    auto* head = llvm::BasicBlock::Create(C, "elem_head", fn_);
    auto* body = llvm::BasicBlock::Create(C, "elem_body", fn_);
    auto* latch = llvm::BasicBlock::Create(C, "elem_next", fn_);
    auto* join = llvm::BasicBlock::Create(C, "elem_done", fn_);
    llvm::Value* count = B.CreateSelect(is_tag(list, BRAID_TAG_LIST), list.len, B.getInt32(0));
    llvm::Value* items = as_ptr(list);
    B.CreateBr(head);
    B.SetInsertPoint(head);
    llvm::PHINode* i = B.CreatePHI(i32, 2);
    i->addIncoming(B.getInt32(0), from);
    B.CreateCondBr(B.CreateICmpULT(i, count), body, join);
    B.SetInsertPoint(body);
    llvm::Value* at = B.CreateInBoundsGEP(value_ty, items, B.CreateZExt(i, i64));
    LV item = load_value(at);
    // Kept in the frame too, for helper fallbacks inside the body that read this binding.
    store_value(item, B.CreateInBoundsGEP(frame_ty, frame_, {B.getInt32(0), B.getInt32(2), B.getInt32(static_cast<uint32_t>(binding))}));
    elems_.push_back(item);
    llvm::Value* hit = lower_bool(p_.op(n, 1));
    elems_.pop_back();
    llvm::BasicBlock* body_end = B.GetInsertBlock();
    B.CreateCondBr(hit, join, latch);
    B.SetInsertPoint(latch);
    llvm::Value* next = B.CreateAdd(i, B.getInt32(1));
    i->addIncoming(next, latch);
    B.CreateBr(head);
    B.SetInsertPoint(join);
    llvm::PHINode* r = B.CreatePHI(i1, 2);
    r->addIncoming(B.getFalse(), head);
    r->addIncoming(B.getTrue(), body_end);
    return r;
  }
};

// What is being lowered, for LLVM's fatal errors (which must not return): they end the process with a message
// naming the rule and exit code 2, never an abort with a stack dump.
thread_local const std::string* g_lowering = nullptr;
void on_llvm_fatal(void*, const char* reason, bool) {
  std::fprintf(stderr,
               "braid: error: LLVM failed while compiling %s: %s\n"
               "braid: note: `--engine interp` runs the rules without LLVM\n",
               g_lowering ? g_lowering->c_str() : "the rules", reason ? reason : "(no reason given)");
  std::fflush(stderr);
  std::_Exit(2);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::unique_ptr<llvm::TargetMachine> host_machine(std::string& error) {
  static const bool init = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)init;
  std::string triple = llvm::sys::getProcessTriple();
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return nullptr;
  // Generic CPU: the bitcode is portable across CPUs of the architecture; the runtime specialises at codegen.
  return std::unique_ptr<llvm::TargetMachine>(
      target->createTargetMachine(triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_));
}

}  // namespace

CodegenResult lower_program(const ir::Program& program) {
  CodegenResult res;
  auto t0 = std::chrono::steady_clock::now();
  llvm::ScopedFatalErrorHandler fatal(on_llvm_fatal, nullptr);
  std::string what = "the rules";
  g_lowering = &what;
  struct Reset {
    ~Reset() { g_lowering = nullptr; }
  } reset;
  llvm::LLVMContext ctx;
  auto module = std::make_unique<llvm::Module>("braid", ctx);
  std::string err;
  std::unique_ptr<llvm::TargetMachine> tm = host_machine(err);
  if (!tm) {
    res.error = "LLVM has no target for this host: " + err;
    return res;
  }
  module->setTargetTriple(tm->getTargetTriple().str());
  module->setDataLayout(tm->createDataLayout());

  Lowerer low(program, ctx, *module);
  ir::MatchPlan plan = ir::build_match_plan(program);
  for (uint32_t s = 0; s < program.sources.size(); ++s) {
    const ir::SourcePlan& sp = plan.sources[s];
    std::vector<llvm::Function*> preds;
    ir::ExprClasses equal(program);
    std::vector<llvm::Function*> class_fn;  // class -> its function
    for (uint32_t k = 0; k < sp.predicates.size(); ++k) {
      const ir::Predicate& pr = sp.predicates[k];
      const std::string& rule = program.rules[pr.rule].id;
      what = "rule `" + rule + "`";
      // A predicate equal to one already lowered (the same step in many rules) reuses its function.
      auto [cls, fresh] = equal.intern(pr.node);
      if (!fresh) {
        preds.push_back(class_fn[cls]);
        continue;
      }
      try {
        llvm::Function* f = low.predicate(s, k, pr.node);
        std::string why;
        llvm::raw_string_ostream os(why);
        if (llvm::verifyFunction(*f, &os)) {
          res.error = "LLVM verifier rejected the code for " +
                      (pr.step == ir::kNone ? std::string("its condition")
                                            : "step `" + program.rules[pr.rule].steps[pr.step].label + "`") +
                      ": " + os.str();
          res.error_rule = rule;
          return res;
        }
        preds.push_back(f);
        class_fn.push_back(f);
      } catch (const std::exception& e) {
        res.error = std::string("cannot lower: ") + e.what();
        res.error_rule = rule;
        return res;
      }
    }
    what = "source `" + program.sources[s].name + "`";
    try {
      for (const auto& [cs, node] : ir::clause_expressions(program))
        if (cs == s) low.value_function(s, node);
      if (program.sources[s].recognize != ir::kNoNode) low.recognize(s, program.sources[s].recognize);
      low.dispatch(s, sp, preds);
    } catch (const std::exception& e) {
      res.error = std::string("cannot lower: ") + e.what();
      res.error_rule = "source " + program.sources[s].name;
      return res;
    }
  }
  {
    std::string why;
    llvm::raw_string_ostream os(why);
    if (llvm::verifyModule(*module, &os)) {
      res.error = "LLVM verifier rejected the module: " + os.str();
      return res;
    }
  }
  res.functions = low.functions;
  res.lower_ms = ms_since(t0);

  what = "the rules (writing bitcode)";

  llvm::raw_string_ostream os(res.bitcode);
  llvm::WriteBitcodeToFile(*module, os);
  os.flush();
  return res;
}

}  // namespace braid::codegen
