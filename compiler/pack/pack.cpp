// The rule pack format: see pack.h for the API and docs/pack-format.md for the byte layout.
#include "pack/pack.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include "digest/sha256.h"
#include "ir/validate.h"

namespace braid::pack {

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Little-endian encoding

class Writer {
 public:
  std::string buf;

  void u8(uint8_t v) { buf.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    u64(bits);
  }
  void boolean(bool b) { u8(b ? 1 : 0); }
  void count(size_t n) {
    if (n > UINT32_MAX) throw std::invalid_argument("pack: a table has more than 2^32-1 entries");
    u32(static_cast<uint32_t>(n));
  }
  void str(std::string_view s) {
    count(s.size());
    buf.append(s);
  }
  void bytes(const uint8_t* p, size_t n) { buf.append(reinterpret_cast<const char*>(p), n); }
  void span(const Span& s) {
    u32(s.file);
    u32(s.begin);
    u32(s.end);
  }
  void type(const ir::Type& t) {
    u8(static_cast<uint8_t>(t.kind));
    u8(static_cast<uint8_t>(t.elem));
  }
  void strs(const std::vector<std::string>& v) {
    count(v.size());
    for (const std::string& s : v) str(s);
  }
};

void put_u32_at(std::string& buf, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) buf[at + static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64_at(std::string& buf, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) buf[at + static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_u32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}
uint64_t get_u64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}

struct Fail {
  PackErrorKind kind;
  std::string message;
};
[[noreturn]] void fail(PackErrorKind k, std::string msg) { throw Fail{k, std::move(msg)}; }
[[noreturn]] void malformed(std::string msg) { fail(PackErrorKind::Malformed, std::move(msg)); }

// Reads one section; every read is bounds-checked and names the section and offset when it fails.
class Reader {
 public:
  Reader(std::string_view data, std::string_view section, uint64_t base) : d_(data), name_(section), base_(base) {}

  [[noreturn]] void bad(const std::string& what) const {
    malformed(std::string(name_) + " section, byte " + std::to_string(base_ + pos_) + ": " + what);
  }
  void need(uint64_t n) const {
    if (n > d_.size() - pos_) bad("runs past the end of the section");
  }
  uint8_t u8() {
    need(1);
    return static_cast<uint8_t>(d_[pos_++]);
  }
  uint32_t u32() {
    need(4);
    uint32_t v = get_u32(d_, pos_);
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    need(8);
    uint64_t v = get_u64(d_, pos_);
    pos_ += 8;
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64() {
    uint64_t bits = u64();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  bool boolean() {
    uint8_t b = u8();
    if (b > 1) bad("a boolean is " + std::to_string(b));
    return b == 1;
  }
  // An element count; each element takes at least `min_size` bytes, so a count can never make the reader
  // allocate more than the section could hold.
  uint32_t count(uint64_t min_size) {
    uint32_t n = u32();
    if (static_cast<uint64_t>(n) * min_size > d_.size() - pos_)
      bad("a count of " + std::to_string(n) + " is too large");
    return n;
  }
  std::string str() {
    uint32_t n = count(1);
    std::string s(d_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(count(4));
    for (std::string& s : v) s = str();
    return v;
  }
  void raw(uint8_t* out, size_t n) {
    need(n);
    std::memcpy(out, d_.data() + pos_, n);
    pos_ += n;
  }
  // An IR enum stored as one byte; ir::is_valid knows each enum's values.
  template <class E>
  E enum_(const char* what) {
    uint8_t v = u8();
    if (!ir::is_valid(static_cast<E>(v))) bad(std::string("invalid ") + what + " " + std::to_string(v));
    return static_cast<E>(v);
  }
  // The next n bytes, as a view into the section.
  std::string_view take(uint64_t n) {
    need(n);
    std::string_view v = d_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return v;
  }
  uint64_t offset() const { return base_ + pos_; }  // of the next byte, in the file
  bool at_end() const { return pos_ == d_.size(); }

 private:
  std::string_view d_;
  std::string_view name_;
  uint64_t base_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// The opaque sections: checks shared by the writer (std::invalid_argument) and the reader (Malformed)

struct Problem {
  size_t at = 0;     // byte offset inside the blob
  std::string what;  // empty: no problem
  explicit operator bool() const { return !what.empty(); }
};

constexpr uint32_t kBitcodeWrapperMagic = 0x0B17C0DE;  // little-endian on disk: DE C0 17 0B
constexpr size_t kBitcodeWrapperHeaderSize = 20;      // magic, version, offset, size, cputype (u32 each)
constexpr size_t kElf64HeaderSize = 64;

bool raw_bitcode_magic(std::string_view b) {
  return b.size() >= 4 && b[0] == 'B' && b[1] == 'C' && static_cast<uint8_t>(b[2]) == 0xC0 &&
         static_cast<uint8_t>(b[3]) == 0xDE;
}

// The checks LLVM's bitcode reader makes before it parses anything (BitcodeReader.cpp, initStream): a magic, a
// size that is a multiple of 4, and for the wrapper a header whose offset and size stay inside the blob and point
// at raw bitcode.
Problem check_bitcode(std::string_view b) {
  bool wrapped = b.size() >= 4 && get_u32(b, 0) == kBitcodeWrapperMagic;
  if (!wrapped && !raw_bitcode_magic(b)) {
    return {0, "not LLVM bitcode: it must start with 'B' 'C' 0xC0 0xDE or the wrapper magic 0x0B17C0DE"};
  }
  if (b.size() % 4 != 0) return {0, "the bitcode is " + std::to_string(b.size()) + " bytes, not a multiple of 4"};
  if (!wrapped) return {};
  if (b.size() < kBitcodeWrapperHeaderSize) return {0, "the bitcode wrapper header is cut short"};
  uint32_t off = get_u32(b, 8), size = get_u32(b, 12);
  if (uint64_t{off} + size > b.size()) {
    return {8, "the bitcode wrapper's offset " + std::to_string(off) + " and size " + std::to_string(size) +
                   " run past its " + std::to_string(b.size()) + " bytes"};
  }
  if (!raw_bitcode_magic(b.substr(off, size))) {
    return {off, "the bitcode wrapper does not hold LLVM bitcode (no 'B' 'C' 0xC0 0xDE magic at its offset)"};
  }
  return {};
}

// ELF e_machine of an architecture name; 0 for one this reader does not know (then the machine is not checked).
uint16_t elf_machine(std::string_view arch) {
  if (arch == "x86_64") return 62;    // EM_X86_64
  if (arch == "aarch64") return 183;  // EM_AARCH64
  if (arch == "riscv64") return 243;  // EM_RISCV
  return 0;
}

uint16_t get_u16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | (static_cast<uint8_t>(b[at + 1]) << 8));
}

// An ELF64 little-endian relocatable object for `arch`: the identification bytes, e_type and e_machine. The rest
// is the JIT linker's to check.
Problem check_elf(std::string_view o, std::string_view arch) {
  if (o.size() < 4 || o.substr(0, 4) != std::string_view("\x7f" "ELF", 4))
    return {0, "the object is not an ELF file (bad magic)"};
  if (o.size() < kElf64HeaderSize)
    return {0, "the object is " + std::to_string(o.size()) + " bytes, shorter than an ELF64 header"};
  if (o[4] != 2) return {4, "the object is not a 64-bit ELF file (EI_CLASS " + std::to_string(static_cast<uint8_t>(o[4])) + ")"};
  if (o[5] != 1) return {5, "the object is not a little-endian ELF file (EI_DATA " + std::to_string(static_cast<uint8_t>(o[5])) + ")"};
  if (o[6] != 1) return {6, "the object has ELF version " + std::to_string(static_cast<uint8_t>(o[6])) + ", not 1"};
  if (uint16_t t = get_u16(o, 16); t != 1)
    return {16, "the object is not a relocatable object (ELF type " + std::to_string(t) + ", not ET_REL)"};
  uint16_t want = elf_machine(arch);
  if (uint16_t m = get_u16(o, 18); want != 0 && m != want) {
    return {18, "the object is for ELF machine " + std::to_string(m) + ", not " + std::string(arch) + " (" +
                    std::to_string(want) + ")"};
  }
  return {};
}

// `lo`: the lowest byte allowed (0x20 allows spaces, 0x21 does not).
bool printable(std::string_view s, unsigned char lo) {
  return std::all_of(s.begin(), s.end(), [lo](char c) {
    return static_cast<unsigned char>(c) >= lo && static_cast<unsigned char>(c) <= 0x7e;
  });
}

// The text fields of a native section; "" when fine.
std::string native_fields_problem(const NativeCode& n) {
  if (n.cpu.empty() || n.cpu.size() > 31 || !printable(n.cpu, 0x21))
    return "the native code's cpu must be 1..31 bytes of printable ASCII without spaces";
  if (n.features.size() > kMaxFeaturesSize || !printable(n.features, 0x20))
    return "the native code's feature string must be at most " + std::to_string(kMaxFeaturesSize) +
           " bytes of printable ASCII";
  if (n.llvm_version.empty() || n.llvm_version.size() > kMaxLlvmVersionSize || !printable(n.llvm_version, 0x20))
    return "the native code's LLVM version must be 1.." + std::to_string(kMaxLlvmVersionSize) +
           " bytes of printable ASCII";
  return {};
}

// An LLVM feature string ("+a,-b,c") as name -> enabled; for a repeated name the last one wins.
std::map<std::string, bool, std::less<>> parse_features(std::string_view s) {
  std::map<std::string, bool, std::less<>> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view f = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
    while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
    bool on = true;
    if (!f.empty() && (f.front() == '+' || f.front() == '-')) {
      on = f.front() == '+';
      f.remove_prefix(1);
    }
    if (!f.empty()) out[std::string(f)] = on;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The sections, written

void write_schema(Writer& w, const ir::SchemaType& t) {
  w.u8(static_cast<uint8_t>(t.shape));
  w.u8(static_cast<uint8_t>(t.scalar));
  w.boolean(t.elem != nullptr);
  if (t.elem) write_schema(w, *t.elem);
  w.count(t.fields.size());
  for (const ir::SchemaField& f : t.fields) {
    w.str(f.name);
    w.boolean(f.optional);
    w.boolean(f.nocase);
    write_schema(w, f.type);
    w.span(f.span);
  }
  w.boolean(t.open);
  w.span(t.span);
}

std::string write_ir(const ir::Program& p) {
  Writer w;
  w.count(p.nodes.size());
  for (const ir::Node& n : p.nodes) {
    w.u8(static_cast<uint8_t>(n.op));
    w.u8(n.flags);
    w.type(n.type);
    w.u32(n.ops_begin);
    w.u32(n.ops_count);
    w.i64(n.imm);
    w.span(n.span);
  }
  w.count(p.operands.size());
  for (ir::NodeId id : p.operands) w.u32(id);
  w.strs(p.strings);
  w.count(p.sets.size());
  for (const ir::ConstSet& s : p.sets) {
    w.u8(static_cast<uint8_t>(s.elem));
    w.boolean(s.nocase);
    w.strs(s.strings);
    w.count(s.ints.size());
    for (int64_t v : s.ints) w.i64(v);
    w.count(s.floats.size());
    for (double v : s.floats) w.f64(v);
  }
  w.count(p.regexes.size());
  for (const ir::Regex& r : p.regexes) {
    w.str(r.pattern);
    w.boolean(r.nocase);
  }
  w.count(p.cidr_sets.size());
  for (const ir::CidrSet& cs : p.cidr_sets) {
    w.count(cs.cidrs.size());
    for (const ir::Cidr& c : cs.cidrs) {
      w.boolean(c.v6);
      w.u8(c.prefix);
      w.bytes(c.addr, 16);
      w.str(c.text);
    }
  }
  w.count(p.fields.size());
  for (const ir::FieldPath& f : p.fields) {
    w.count(f.segs.size());
    for (const ir::PathSeg& s : f.segs) {
      w.u8(static_cast<uint8_t>(s.kind));
      w.str(s.name);
      w.i64(s.index);
    }
    w.str(f.text);
    w.u32(f.json_base);
    w.u32(f.zip_anchor);
    w.count(f.zip.size());
    for (ir::FieldId m : f.zip) w.u32(m);
  }
  w.count(p.sources.size());
  for (const ir::Source& s : p.sources) {
    w.str(s.name);
    w.span(s.span);
    w.span(s.name_span);
    for (ir::NodeId id : {s.recognize, s.time, s.id, s.identity, s.credential, s.ip, s.account}) w.u32(id);
    w.i64(s.session_gap);
    w.i64(s.session_max);
    w.i64(s.lateness);
    w.count(s.mints.size());
    for (const ir::Mint& m : s.mints) {
      w.u32(m.credential);
      w.u32(m.when);
      w.span(m.span);
    }
    w.count(s.links.size());
    for (const ir::Link& l : s.links) {
      w.u32(l.target);
      w.i64(l.within);
      for (ir::NodeId id : {l.parent_when, l.parent_key, l.child_when, l.child_key}) w.u32(id);
      w.span(l.span);
    }
    write_schema(w, s.schema);
    w.count(s.slots.size());
    for (const ir::Slot& sl : s.slots) {
      w.u32(sl.field);
      w.type(sl.type);
      w.boolean(sl.optional);
      w.boolean(sl.nocase);
      w.span(sl.first_use);
    }
    w.count(s.slot_index.size());
    for (const auto& [field, index] : s.slot_index) {
      w.u32(field);
      w.u32(index);
    }
  }
  w.count(p.rules.size());
  for (const ir::Rule& r : p.rules) {
    w.str(r.id);
    w.str(r.meta.title);
    w.str(r.meta.description);
    w.str(r.meta.author);
    w.u8(static_cast<uint8_t>(r.meta.severity));
    w.strs(r.meta.attack);
    w.strs(r.meta.tags);
    w.strs(r.meta.references);
    w.strs(r.meta.false_positives);
    w.boolean(r.meta.enabled);
    w.u8(static_cast<uint8_t>(r.scope));
    w.count(r.sources.size());
    for (uint32_t s : r.sources) w.u32(s);
    w.count(r.steps.size());
    for (const ir::Step& s : r.steps) {
      w.str(s.label);
      w.u32(s.pred);
      w.span(s.span);
    }
    // Group scope: bool present, then u32 count + keys, strs key_text, i64 gap, i64 max, span (version 6).
    w.boolean(r.group.has_value());
    if (r.group) {
      w.count(r.group->keys.size());
      for (ir::NodeId k : r.group->keys) w.u32(k);
      w.strs(r.group->key_text);
      w.i64(r.group->gap);
      w.i64(r.group->max);
      w.span(r.group->span);
    }
    w.u32(r.condition);
    w.count(r.aggregates.size());
    for (const ir::Aggregate& a : r.aggregates) {
      w.u8(static_cast<uint8_t>(a.kind));
      w.u32(a.step);
      w.u32(a.value);
      w.u32(a.field);
      w.type(a.type);
      w.span(a.span);
    }
    w.count(r.sequences.size());
    for (const ir::Sequence& s : r.sequences) {
      w.count(s.items.size());
      for (const ir::SeqItem& it : s.items) {
        w.u32(it.step);
        w.boolean(it.absent);
      }
      w.boolean(s.within.has_value());
      w.i64(s.within.value_or(0));
      w.span(s.span);
    }
    w.u8(static_cast<uint8_t>(r.firing));
    w.span(r.firing_reason);
    w.str(r.message_raw);
    w.count(r.message.size());
    for (const ir::MessagePart& m : r.message) {
      w.str(m.literal);
      w.u32(m.expr);
    }
    w.boolean(r.suppress.has_value());
    if (r.suppress) {
      w.i64(r.suppress->window);
      w.count(r.suppress->keys.size());
      for (ir::NodeId k : r.suppress->keys) w.u32(k);
      w.span(r.suppress->span);
    }
    w.count(r.severity_arms.size());
    for (const ir::SeverityArm& a : r.severity_arms) {
      w.u8(static_cast<uint8_t>(a.level));
      w.u32(a.when);
      w.span(a.span);
    }
    w.count(r.tests.size());
    for (const ir::TestCase& t : r.tests) {
      w.str(t.name);
      w.count(t.events.size());
      for (const ir::TestCase::Events& e : t.events) {
        w.str(e.json);
        w.str(e.file);
        w.span(e.span);
      }
      w.u8(static_cast<uint8_t>(t.expect));
      w.i64(t.count);
      w.str(t.alerts_json);
      w.span(t.span);
    }
    const ir::RuleSpans& sp = r.spans;
    for (const Span* s : {&sp.rule, &sp.name, &sp.title, &sp.severity, &sp.sources, &sp.message, &sp.when,
                          &sp.scope_block, &sp.suppress, &sp.enabled}) {
      w.span(*s);
    }
    w.str(r.file_path);
  }
  w.count(p.lists.size());
  for (const ir::ListInfo& l : p.lists) {
    w.str(l.name);
    w.span(l.span);
    w.u8(static_cast<uint8_t>(l.elem));
    w.u64(l.size);
    w.boolean(l.used);
  }
  w.count(p.macros.size());
  for (const ir::MacroInfo& m : p.macros) {
    w.str(m.name);
    w.strs(m.params);
    w.span(m.span);
    w.boolean(m.used);
  }
  return std::move(w.buf);
}

std::string write_source_map(const SourceManager& sm) {
  Writer w;
  w.count(sm.size());
  for (size_t i = 0; i < sm.size(); ++i) {
    const SourceFile& f = sm.file(static_cast<FileId>(i));
    w.str(f.path());
    w.str(f.text());
  }
  return std::move(w.buf);
}

std::string write_meta(const ir::Program& p, const SourceManager& sm, const std::string& compiler_version) {
  Writer w;
  w.str(compiler_version);
  w.count(p.rules.size());
  for (const ir::Rule& r : p.rules) {
    w.str(r.id);
    w.str(r.meta.title);
    w.u8(static_cast<uint8_t>(r.scope));
    w.u8(static_cast<uint8_t>(r.meta.severity));
    w.boolean(r.meta.enabled);
    const Span& s = r.spans.rule;
    bool located = s.valid() && s.file < sm.size();
    w.u32(located ? s.file : kNoFile);
    w.u32(located ? sm.file(s.file).line_col(s.begin).line : 0);
  }
  return std::move(w.buf);
}

// str cpu, str features, str llvm_version, u64 object size, the object.
std::string write_native(const NativeCode& n) {
  Writer w;
  w.str(n.cpu);
  w.str(n.features);
  w.str(n.llvm_version);
  w.u64(n.object.size());
  w.buf += n.object;
  return std::move(w.buf);
}

std::string sign_message(const uint8_t* digest) {
  // Domain separation: the signature covers this context string followed by the digest.
  std::string m = "braid-pack-v1 signature";
  m.push_back('\0');
  m.append(reinterpret_cast<const char*>(digest), kDigestSize);
  return m;
}

void init_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

// ---------------------------------------------------------------------------------------------------------------
// The sections, read and validated

constexpr uint8_t kKnownNodeFlags = 0x3F;
constexpr int kMaxSchemaDepth = 64;

struct Decoder {
  const SourceManager& sm;

  void check_span(Reader& r, const Span& s) const {
    if (s.file == kNoFile) return;
    if (s.file >= sm.size()) r.bad("a span names file " + std::to_string(s.file) + " of " + std::to_string(sm.size()));
    if (s.begin > s.end || s.end > sm.file(s.file).text().size()) r.bad("a span is outside its file");
  }
  Span span(Reader& r) const {
    Span s;
    s.file = r.u32();
    s.begin = r.u32();
    s.end = r.u32();
    check_span(r, s);
    return s;
  }
  static ir::Type type(Reader& r) {
    ir::Type t;
    t.kind = r.enum_<ir::Kind>("type kind");
    t.elem = r.enum_<ir::Kind>("type element kind");
    return t;
  }
  void schema(Reader& r, ir::SchemaType& t, int depth) const {
    if (depth > kMaxSchemaDepth) r.bad("the schema nests deeper than " + std::to_string(kMaxSchemaDepth));
    t.shape = r.enum_<ir::SchemaType::Shape>("schema shape");
    t.scalar = r.enum_<ir::Kind>("schema scalar kind");
    if (r.boolean()) {
      t.elem = std::make_unique<ir::SchemaType>();
      schema(r, *t.elem, depth + 1);
    }
    t.fields.resize(r.count(4 + 2 + 2 + 12));
    for (ir::SchemaField& f : t.fields) {
      f.name = r.str();
      f.optional = r.boolean();
      f.nocase = r.boolean();
      schema(r, f.type, depth + 1);
      f.span = span(r);
    }
    t.open = r.boolean();
    t.span = span(r);
  }

  void ir_section(Reader& r, ir::Program& p) const {
    p.nodes.resize(r.count(32));
    for (ir::Node& n : p.nodes) {
      n.op = r.enum_<ir::Op>("op");
      n.flags = r.u8();
      if ((n.flags & ~kKnownNodeFlags) != 0) r.bad("unknown node flags " + std::to_string(n.flags));
      n.type = type(r);
      n.ops_begin = r.u32();
      n.ops_count = r.u32();
      n.imm = r.i64();
      n.span = span(r);
    }
    p.operands.resize(r.count(4));
    for (ir::NodeId& id : p.operands) id = r.u32();
    p.strings = r.strs();
    p.sets.resize(r.count(2 + 12));
    for (ir::ConstSet& s : p.sets) {
      s.elem = r.enum_<ir::Kind>("set element kind");
      s.nocase = r.boolean();
      s.strings = r.strs();
      s.ints.resize(r.count(8));
      for (int64_t& v : s.ints) v = r.i64();
      s.floats.resize(r.count(8));
      for (double& v : s.floats) v = r.f64();
    }
    p.regexes.resize(r.count(5));
    for (ir::Regex& x : p.regexes) {
      x.pattern = r.str();
      x.nocase = r.boolean();
    }
    p.cidr_sets.resize(r.count(4));
    for (ir::CidrSet& cs : p.cidr_sets) {
      cs.cidrs.resize(r.count(2 + 16 + 4));
      for (ir::Cidr& c : cs.cidrs) {
        c.v6 = r.boolean();
        c.prefix = r.u8();
        r.raw(c.addr, 16);
        c.text = r.str();
      }
    }
    p.fields.resize(r.count(12 + 8));
    for (ir::FieldPath& f : p.fields) {
      f.segs.resize(r.count(1 + 4 + 8));
      for (ir::PathSeg& s : f.segs) {
        s.kind = r.enum_<ir::PathSeg::Kind>("path segment kind");
        s.name = r.str();
        s.index = r.i64();
      }
      f.text = r.str();
      f.json_base = r.u32();
      f.zip_anchor = r.u32();
      f.zip.resize(r.count(4));
      for (ir::FieldId& m : f.zip) m = r.u32();
    }
    p.sources.resize(r.count(4 + 24 + 28 + 24));
    for (ir::Source& s : p.sources) {
      s.name = r.str();
      s.span = span(r);
      s.name_span = span(r);
      for (ir::NodeId* id : {&s.recognize, &s.time, &s.id, &s.identity, &s.credential, &s.ip, &s.account})
        *id = r.u32();
      s.session_gap = r.i64();
      s.session_max = r.i64();
      s.lateness = r.i64();
      s.mints.resize(r.count(20));
      for (ir::Mint& m : s.mints) {
        m.credential = r.u32();
        m.when = r.u32();
        m.span = span(r);
      }
      s.links.resize(r.count(4 + 8 + 16 + 12));
      for (ir::Link& l : s.links) {
        l.target = r.u32();
        l.within = r.i64();
        for (ir::NodeId* id : {&l.parent_when, &l.parent_key, &l.child_when, &l.child_key}) *id = r.u32();
        l.span = span(r);
      }
      schema(r, s.schema, 0);
      s.slots.resize(r.count(4 + 2 + 2 + 12));
      for (ir::Slot& sl : s.slots) {
        sl.field = r.u32();
        sl.type = type(r);
        sl.optional = r.boolean();
        sl.nocase = r.boolean();
        sl.first_use = span(r);
      }
      uint32_t n = r.count(8);
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t field = r.u32();
        uint32_t index = r.u32();
        if (!s.slot_index.empty() && field <= s.slot_index.rbegin()->first) r.bad("slot index keys are not increasing");
        s.slot_index.emplace_hint(s.slot_index.end(), field, index);
      }
    }
    p.rules.resize(r.count(64));
    for (ir::Rule& x : p.rules) {
      x.id = r.str();
      x.meta.title = r.str();
      x.meta.description = r.str();
      x.meta.author = r.str();
      x.meta.severity = r.enum_<ir::Severity>("severity");
      x.meta.attack = r.strs();
      x.meta.tags = r.strs();
      x.meta.references = r.strs();
      x.meta.false_positives = r.strs();
      x.meta.enabled = r.boolean();
      x.scope = r.enum_<ir::Scope>("scope");
      x.sources.resize(r.count(4));
      for (uint32_t& s : x.sources) s = r.u32();
      x.steps.resize(r.count(4 + 4 + 12));
      for (ir::Step& s : x.steps) {
        s.label = r.str();
        s.pred = r.u32();
        s.span = span(r);
      }
      if (r.boolean()) {
        ir::GroupBy g;
        g.keys.resize(r.count(4));
        for (ir::NodeId& k : g.keys) k = r.u32();
        g.key_text = r.strs();
        g.gap = r.i64();
        g.max = r.i64();
        g.span = span(r);
        x.group = std::move(g);
      }
      x.condition = r.u32();
      x.aggregates.resize(r.count(1 + 12 + 2 + 12));
      for (ir::Aggregate& a : x.aggregates) {
        a.kind = r.enum_<ir::AggKind>("aggregate kind");
        a.step = r.u32();
        a.value = r.u32();
        a.field = r.u32();
        a.type = type(r);
        a.span = span(r);
      }
      x.sequences.resize(r.count(4 + 1 + 8 + 12));
      for (ir::Sequence& s : x.sequences) {
        s.items.resize(r.count(5));
        for (ir::SeqItem& it : s.items) {
          it.step = r.u32();
          it.absent = r.boolean();
        }
        bool has_within = r.boolean();
        int64_t within = r.i64();
        if (has_within)
          s.within = within;
        else if (within != 0)
          r.bad("a sequence without `within` has a window");
        s.span = span(r);
      }
      x.firing = r.enum_<ir::Firing>("firing");
      x.firing_reason = span(r);
      x.message_raw = r.str();
      x.message.resize(r.count(8));
      for (ir::MessagePart& m : x.message) {
        m.literal = r.str();
        m.expr = r.u32();
      }
      if (r.boolean()) {
        ir::Suppress sup;
        sup.window = r.i64();
        sup.keys.resize(r.count(4));
        for (ir::NodeId& k : sup.keys) k = r.u32();
        sup.span = span(r);
        x.suppress = std::move(sup);
      }
      x.severity_arms.resize(r.count(1 + 4 + 12));
      for (ir::SeverityArm& a : x.severity_arms) {
        a.level = r.enum_<ir::Severity>("severity");
        a.when = r.u32();
        a.span = span(r);
      }
      x.tests.resize(r.count(4 + 4 + 1 + 8 + 4 + 12));
      for (ir::TestCase& t : x.tests) {
        t.name = r.str();
        t.events.resize(r.count(4 + 4 + 12));
        for (ir::TestCase::Events& e : t.events) {
          e.json = r.str();
          e.file = r.str();
          e.span = span(r);
        }
        t.expect = r.enum_<ir::TestCase::Expect>("test expectation");
        t.count = r.i64();
        t.alerts_json = r.str();
        t.span = span(r);
      }
      ir::RuleSpans& sp = x.spans;
      for (Span* s : {&sp.rule, &sp.name, &sp.title, &sp.severity, &sp.sources, &sp.message, &sp.when, &sp.scope_block,
                      &sp.suppress, &sp.enabled}) {
        *s = span(r);
      }
      x.file_path = r.str();
    }
    p.lists.resize(r.count(4 + 12 + 1 + 8 + 1));
    for (ir::ListInfo& l : p.lists) {
      l.name = r.str();
      l.span = span(r);
      l.elem = r.enum_<ir::Kind>("list element kind");
      uint64_t size = r.u64();
      if (size > SIZE_MAX) r.bad("a list size is too large");
      l.size = static_cast<size_t>(size);
      l.used = r.boolean();
    }
    p.macros.resize(r.count(4 + 4 + 12 + 1));
    for (ir::MacroInfo& m : p.macros) {
      m.name = r.str();
      m.params = r.strs();
      m.span = span(r);
      m.used = r.boolean();
    }
    if (!r.at_end()) r.bad("trailing bytes after the last table");
  }
};

std::string fixed_text(std::string_view b, size_t at, size_t n) {
  std::string_view f = b.substr(at, n);
  size_t end = f.find('\0');
  if (end == std::string_view::npos) malformed("the header's target field is not NUL-terminated");
  for (size_t i = end; i < n; ++i) {
    if (f[i] != '\0') malformed("the header's target field has bytes after its terminator");
  }
  for (size_t i = 0; i < end; ++i) {
    if (static_cast<unsigned char>(f[i]) < 0x21 || static_cast<unsigned char>(f[i]) > 0x7e) {
      malformed("the header's target field is not printable ASCII");
    }
  }
  return std::string(f.substr(0, end));
}

LoadedPack load(std::string_view b, std::span<const PublicKey> trusted, bool allow_unsigned, bool enforce_trust) {
  init_sodium();
  using K = PackErrorKind;
  // 1. Magic and version: they decide how the rest is read.
  if (b.empty()) fail(K::Truncated, "truncated: the file is empty");
  size_t m = std::min(b.size(), sizeof kMagic);
  if (std::memcmp(b.data(), kMagic, m) != 0) fail(K::BadMagic, "not a Braid rule pack (bad magic)");
  if (b.size() < 12) fail(K::Truncated, "truncated: " + std::to_string(b.size()) + " bytes, not even a header");
  uint32_t version = get_u32(b, 8);
  if (version != kFormatVersion) {
    fail(K::UnsupportedVersion, "pack format version " + std::to_string(version) +
                                    " is not supported (this braid reads version " + std::to_string(kFormatVersion) +
                                    ")");
  }
  if (b.size() < kHeaderFixedSize) fail(K::Truncated, "truncated: the file ends inside the header");
  LoadedPack out;
  PackInfo& info = out.info;
  info.version = version;
  info.flags = get_u32(b, 12);
  info.file_size = b.size();
  uint32_t nsec = get_u32(b, 64);
  info.contents_size = get_u64(b, 72);
  if ((info.flags & ~kFlagSigned) != 0) malformed("unknown header flags " + std::to_string(info.flags));
  if (get_u32(b, 68) != 0) malformed("the header's reserved field is not zero");
  if (nsec > kMaxSections) {
    malformed("the section table has " + std::to_string(nsec) + " entries (at most " + std::to_string(kMaxSections) +
              ")");
  }
  info.is_signed = (info.flags & kFlagSigned) != 0;
  uint64_t header_end = kHeaderFixedSize + uint64_t{nsec} * kSectionEntrySize;
  if (info.contents_size < header_end) malformed("the contents size is smaller than the header");
  uint64_t expected = info.contents_size + kDigestSize + (info.is_signed ? kSignatureBlockSize : 0);
  if (info.contents_size > b.size() || b.size() < expected) {
    fail(K::Truncated,
         "truncated: the file has " + std::to_string(b.size()) + " bytes, its header says " + std::to_string(expected));
  }
  if (b.size() > expected)
    malformed(std::to_string(b.size() - expected) + " unexpected bytes after the end of the pack");

  // 2. The digest covers everything before it (header included).
  size_t cs = static_cast<size_t>(info.contents_size);
  info.digest = sha256(b.data(), cs);
  if (sodium_memcmp(info.digest.data(), b.data() + cs, kDigestSize) != 0) {
    fail(K::DigestMismatch, "digest mismatch: the pack is corrupted or was modified after it was built");
  }

  // 3. The signature.
  if (info.is_signed) {
    const auto* block = reinterpret_cast<const unsigned char*>(b.data() + cs + kDigestSize);
    std::memcpy(info.signer.data(), block, 32);
    std::string msg = sign_message(info.digest.data());
    if (crypto_sign_verify_detached(block + 32, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                    info.signer.data()) != 0) {
      fail(K::BadSignature, "bad signature: the signature does not verify for key " + key_id(info.signer) +
                                " (the pack or its signature was tampered with)");
    }
    info.trusted = std::any_of(trusted.begin(), trusted.end(), [&](const PublicKey& k) { return k == info.signer; });
    if (enforce_trust && !info.trusted) {
      fail(K::UntrustedKey, "untrusted key: the pack is signed by key " + key_id(info.signer) +
                                ", which is not among the trusted keys (--trusted-keys)");
    }
  } else if (enforce_trust && !allow_unsigned) {
    fail(K::Unsigned, "the pack is unsigned: refusing to load it (pass --allow-unsigned to run it anyway)");
  }

  // 4. Target.
  info.arch = fixed_text(b, 16, 16);
  info.cpu = fixed_text(b, 32, 32);
  if (info.arch != host_arch()) {
    fail(K::WrongArchitecture,
         "wrong architecture: the pack targets " + info.arch + ", this machine is " + std::string(host_arch()));
  }

  // 5. Section table: contiguous, in bounds, each known kind at most once, the first three required.
  constexpr uint32_t kLastSection = static_cast<uint32_t>(SectionKind::NativeObject);
  uint64_t at = header_end;
  std::string_view sec[kLastSection + 1];
  uint64_t sec_base[kLastSection + 1] = {};  // 0: absent (no section starts at 0)
  for (uint32_t i = 0; i < nsec; ++i) {
    size_t e = kHeaderFixedSize + size_t{i} * kSectionEntrySize;
    SectionInfo s{get_u32(b, e), get_u64(b, e + 8), get_u64(b, e + 16)};
    std::string where = "section " + std::to_string(i);
    if (get_u32(b, e + 4) != 0) malformed(where + ": unknown section flags");
    if (s.kind < 1 || s.kind > kLastSection) malformed(where + ": unknown section kind " + std::to_string(s.kind));
    if (sec_base[s.kind] != 0)
      malformed(where + ": a second " + std::string(section_kind_name(s.kind)) + " section");
    if (s.offset != at) malformed(where + ": does not start where the previous one ends");
    if (s.size > info.contents_size - at) malformed(where + ": runs past the contents");
    sec[s.kind] = b.substr(static_cast<size_t>(s.offset), static_cast<size_t>(s.size));
    sec_base[s.kind] = s.offset;
    at += s.size;
    info.sections.push_back(s);
  }
  if (at != info.contents_size) malformed("bytes between the last section and the digest");
  for (uint32_t k = 1; k <= 3; ++k) {
    if (sec_base[k] == 0) malformed("the " + std::string(section_kind_name(k)) + " section is missing");
  }

  // 6. Source map, then meta and IR (whose spans are checked against it).
  {
    Reader r(sec[3], "source-map", sec_base[3]);
    uint32_t n = r.count(8);
    for (uint32_t i = 0; i < n; ++i) {
      std::string path = r.str();
      std::string text = r.str();
      if (text.size() > UINT32_MAX) r.bad("a source file is too large");
      out.sources.add(std::move(path), std::move(text));
    }
    if (!r.at_end()) r.bad("trailing bytes");
  }
  {
    Reader r(sec[1], "meta", sec_base[1]);
    info.compiler_version = r.str();
    info.rules.resize(r.count(4 + 4 + 3 + 8));
    for (RuleInfo& ri : info.rules) {
      ri.id = r.str();
      ri.title = r.str();
      ri.scope = r.enum_<ir::Scope>("scope");
      ri.severity = r.enum_<ir::Severity>("severity");
      ri.enabled = r.boolean();
      ri.file = r.u32();
      ri.line = r.u32();
      if (ri.file != kNoFile && ri.file >= out.sources.size()) r.bad("a rule names file " + std::to_string(ri.file));
    }
    if (!r.at_end()) r.bad("trailing bytes");
  }
  {
    Reader r(sec[2], "ir", sec_base[2]);
    Decoder{out.sources}.ir_section(r, out.program);
  }
  // 7. The compiled code: opaque, but framed and with the right magic.
  constexpr auto kBc = static_cast<uint32_t>(SectionKind::LlvmBitcode);
  constexpr auto kObj = static_cast<uint32_t>(SectionKind::NativeObject);
  if (sec_base[kBc] != 0) {
    if (Problem p = check_bitcode(sec[kBc])) {
      malformed("llvm-bitcode section, byte " + std::to_string(sec_base[kBc] + p.at) + ": " + p.what);
    }
    out.bitcode = std::string(sec[kBc]);
  }
  if (sec_base[kObj] != 0) {
    if (sec_base[kBc] == 0) malformed("a native-object section without an llvm-bitcode section to fall back to");
    Reader r(sec[kObj], "native-object", sec_base[kObj]);
    NativeCode n;
    n.cpu = r.str();
    n.features = r.str();
    n.llvm_version = r.str();
    if (std::string why = native_fields_problem(n); !why.empty()) r.bad(why);
    if (n.cpu != info.cpu) r.bad("the native code is for cpu " + n.cpu + " but the header names cpu " + info.cpu);
    uint64_t size = r.u64();
    uint64_t object_at = r.offset();
    std::string_view object = r.take(size);
    if (!r.at_end()) r.bad("trailing bytes");
    if (Problem p = check_elf(object, info.arch)) {
      malformed("native-object section, byte " + std::to_string(object_at + p.at) + ": " + p.what);
    }
    n.object = std::string(object);
    out.native = std::move(n);
  }
  // The IR's structure (operands, ids against their tables, rule references): ir/validate.h.
  if (std::string problem = ir::validate(out.program); !problem.empty()) malformed("ir section: " + problem);
  if (info.rules.size() != out.program.rules.size()) malformed("the meta and ir sections list different rules");
  for (size_t i = 0; i < info.rules.size(); ++i) {
    const ir::Rule& r = out.program.rules[i];
    const RuleInfo& ri = info.rules[i];
    if (ri.id != r.id || ri.title != r.meta.title || ri.scope != r.scope || ri.severity != r.meta.severity ||
        ri.enabled != r.meta.enabled) {
      malformed("the meta and ir sections disagree about rule " + std::to_string(i));
    }
  }
  return out;
}

Expected<LoadedPack> load_checked(std::string_view b, std::span<const PublicKey> trusted, bool allow_unsigned,
                                  bool enforce) {
  try {
    return load(b, trusted, allow_unsigned, enforce);
  } catch (const Fail& f) {
    return PackError{f.kind, f.message};
  } catch (const std::bad_alloc&) {
    return PackError{PackErrorKind::Malformed, "the pack's tables are too large to load"};
  }
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s(n * 2 + 1, '\0');
  sodium_bin2hex(s.data(), s.size(), p, n);
  s.pop_back();
  return s;
}

// Decodes exactly `n` bytes of hex from a trimmed line.
bool unhex(std::string_view text, uint8_t* out, size_t n) {
  if (text.size() != n * 2) return false;
  size_t got = 0;
  if (sodium_hex2bin(out, n, text.data(), text.size(), nullptr, &got, nullptr) != 0) return false;
  return got == n;
}

std::vector<std::string_view> key_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty() && line.front() != '#') lines.push_back(line);
    pos = nl + 1;
  }
  return lines;
}

}  // namespace

std::string_view section_kind_name(uint32_t kind) {
  switch (kind) {
    case 1: return "meta";
    case 2: return "ir";
    case 3: return "source-map";
    case 4: return "llvm-bitcode";
    case 5: return "native-object";
    default: return "unknown";
  }
}

std::string_view host_arch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

std::string_view error_kind_name(PackErrorKind k) {
  switch (k) {
    case PackErrorKind::Truncated: return "truncated";
    case PackErrorKind::BadMagic: return "bad-magic";
    case PackErrorKind::UnsupportedVersion: return "unsupported-version";
    case PackErrorKind::WrongArchitecture: return "wrong-architecture";
    case PackErrorKind::DigestMismatch: return "digest-mismatch";
    case PackErrorKind::Unsigned: return "unsigned";
    case PackErrorKind::BadSignature: return "bad-signature";
    case PackErrorKind::UntrustedKey: return "untrusted-key";
    case PackErrorKind::Malformed: return "malformed";
  }
  return "unknown";
}

KeyPair generate_keypair() {
  init_sodium();
  KeyPair kp;
  crypto_sign_keypair(kp.pub.data(), kp.secret.data());
  return kp;
}

PublicKey public_of(const SecretKey& k) {
  PublicKey p;
  std::memcpy(p.data(), k.data() + 32, 32);
  return p;
}

std::string format_public_key(const PublicKey& k) { return hex(k.data(), k.size()) + "\n"; }
std::string format_secret_key(const SecretKey& k) { return hex(k.data(), k.size()) + "\n"; }

std::optional<SecretKey> parse_secret_key(std::string_view text, std::string& error) {
  init_sodium();
  std::vector<std::string_view> lines = key_lines(text);
  SecretKey k;
  if (lines.size() != 1 || !unhex(lines[0], k.data(), k.size())) {
    error = "not a braid secret key (expected one line of 128 hex digits, as written by `braid keygen`)";
    return std::nullopt;
  }
  PublicKey derived;
  SecretKey check;
  crypto_sign_seed_keypair(derived.data(), check.data(), k.data());
  if (derived != public_of(k)) {
    error = "the secret key is inconsistent (its public half does not match its seed)";
    return std::nullopt;
  }
  return k;
}

std::optional<std::vector<PublicKey>> parse_public_keys(std::string_view text, std::string& error) {
  std::vector<PublicKey> keys;
  std::vector<std::string_view> lines = key_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    PublicKey k;
    if (!unhex(lines[i], k.data(), k.size())) {
      error = "key " + std::to_string(i + 1) + " is not a public key (expected 64 hex digits, as in KEYFILE.pub)";
      return std::nullopt;
    }
    keys.push_back(k);
  }
  if (keys.empty()) {
    error = "no public key in the file";
    return std::nullopt;
  }
  return keys;
}

std::string key_id(const PublicKey& k) {
  init_sodium();
  const Sha256 h = sha256(k.data(), k.size());
  return hex(h.data(), 8);
}

std::string write_pack(const ir::Program& program, const SourceManager& sm, const PackOptions& opts) {
  init_sodium();
  auto check_target = [](const std::string& s, size_t max, const char* what) {
    if (s.empty() || s.size() > max)
      throw std::invalid_argument(std::string("pack: the target ") + what + " must be 1.." + std::to_string(max) +
                                  " bytes");
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
        throw std::invalid_argument(std::string("pack: the target ") + what + " must be printable ASCII");
      }
    }
  };
  check_target(opts.target_arch, 15, "architecture");
  check_target(opts.target_cpu, 31, "CPU");
  std::string cpu = opts.target_cpu;
  if (!opts.bitcode.empty()) {
    if (Problem p = check_bitcode(opts.bitcode)) {
      throw std::invalid_argument("pack: the bitcode, byte " + std::to_string(p.at) + ": " + p.what);
    }
  }
  if (opts.native) {
    const NativeCode& n = *opts.native;
    if (opts.bitcode.empty())
      throw std::invalid_argument("pack: native code needs bitcode too (the fallback on other CPUs)");
    if (std::string why = native_fields_problem(n); !why.empty()) throw std::invalid_argument("pack: " + why);
    if (cpu != "generic" && cpu != n.cpu) {
      throw std::invalid_argument("pack: the target CPU " + cpu + " is not the native code's cpu " + n.cpu);
    }
    cpu = n.cpu;
    if (Problem p = check_elf(n.object, opts.target_arch)) {
      throw std::invalid_argument("pack: the native object, byte " + std::to_string(p.at) + ": " + p.what);
    }
  }

  std::vector<std::pair<SectionKind, std::string>> sections;
  sections.emplace_back(SectionKind::Meta, write_meta(program, sm, opts.compiler_version));
  sections.emplace_back(SectionKind::Ir, write_ir(program));
  sections.emplace_back(SectionKind::SourceMap, write_source_map(sm));
  if (!opts.bitcode.empty()) sections.emplace_back(SectionKind::LlvmBitcode, opts.bitcode);
  if (opts.native) sections.emplace_back(SectionKind::NativeObject, write_native(*opts.native));
  const auto nsec = static_cast<uint32_t>(sections.size());
  std::string b(kHeaderFixedSize + nsec * kSectionEntrySize, '\0');
  std::memcpy(b.data(), kMagic, sizeof kMagic);
  put_u32_at(b, 8, kFormatVersion);
  put_u32_at(b, 12, opts.sign_key ? kFlagSigned : 0);
  std::memcpy(b.data() + 16, opts.target_arch.data(), opts.target_arch.size());
  std::memcpy(b.data() + 32, cpu.data(), cpu.size());
  put_u32_at(b, 64, nsec);
  uint64_t at = b.size();
  for (uint32_t i = 0; i < nsec; ++i) {
    size_t e = kHeaderFixedSize + size_t{i} * kSectionEntrySize;
    put_u32_at(b, e, static_cast<uint32_t>(sections[i].first));
    put_u64_at(b, e + 8, at);
    put_u64_at(b, e + 16, sections[i].second.size());
    at += sections[i].second.size();
  }
  put_u64_at(b, 72, at);
  for (const auto& [kind, bytes] : sections) b += bytes;

  static_assert(kDigestSize == std::tuple_size_v<Sha256>);
  const Sha256 contents_digest = sha256(b.data(), b.size());
  const uint8_t* digest = contents_digest.data();
  b.append(reinterpret_cast<const char*>(digest), kDigestSize);
  if (opts.sign_key) {
    PublicKey pub = public_of(*opts.sign_key);
    uint8_t sig[crypto_sign_BYTES];
    std::string msg = sign_message(digest);
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                         opts.sign_key->data());
    b.append(reinterpret_cast<const char*>(pub.data()), pub.size());
    b.append(reinterpret_cast<const char*>(sig), sizeof sig);
  }
  return b;
}

Expected<LoadedPack> load_pack(std::string_view bytes, std::span<const PublicKey> trusted_keys, bool allow_unsigned) {
  return load_checked(bytes, trusted_keys, allow_unsigned, true);
}

Expected<LoadedPack> inspect_pack(std::string_view bytes, std::span<const PublicKey> trusted_keys) {
  return load_checked(bytes, trusted_keys, true, false);
}

std::string PackInfo::digest_hex() const { return hex(digest.data(), digest.size()); }

std::string native_mismatch(const LoadedPack& pack, std::string_view host_cpu, std::string_view host_features,
                            std::string_view llvm_version) {
  if (!pack.native) return "the pack has no native code";
  const NativeCode& n = *pack.native;
  if (n.cpu != host_cpu) return "the native code is for cpu " + n.cpu + ", this machine is " + std::string(host_cpu);
  if (n.llvm_version != llvm_version) {
    return "the native code was built by LLVM " + n.llvm_version + ", this braid has LLVM " +
           std::string(llvm_version);
  }
  auto host = parse_features(host_features);
  std::string missing;
  for (const auto& [name, on] : parse_features(n.features)) {
    auto it = host.find(name);
    if (on && (it == host.end() || !it->second)) missing += (missing.empty() ? "+" : ",+") + name;
  }
  if (!missing.empty()) return "the native code needs CPU features this machine lacks: " + missing;
  return {};
}

bool native_usable(const LoadedPack& pack, std::string_view host_cpu, std::string_view host_features,
                   std::string_view llvm_version) {
  return native_mismatch(pack, host_cpu, host_features, llvm_version).empty();
}

}  // namespace braid::pack
