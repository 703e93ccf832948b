#include "lsp_server.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "diag/codes.h"
#include "driver/driver.h"
#include "format/formatter.h"
#include "parser/parser.h"

namespace braid::lsp {

namespace fs = std::filesystem;

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error_response(const json& id, int code, const std::string& message) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

uint64_t digest(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Writes the stdlib's files under `dir` (read-only), unless they are there already. False when it cannot.
bool write_stdlib(const fs::path& dir) {
  std::error_code ec;
  for (const StdlibFile& f : stdlib_files()) {
    fs::path p = dir / std::string(f.path);
    std::string have, error;
    if (read_file(p.string(), have, error) && have == f.text) continue;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return false;
    // Written beside and renamed into place: another server starting at the same time never reads half a file.
    fs::path tmp = p;
    tmp += ".tmp." + std::to_string(::getpid());
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o.write(f.text.data(), static_cast<std::streamsize>(f.text.size()));
    o.close();
    if (!o) return false;
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::replace, ec);
    fs::rename(tmp, p, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return false;
    }
  }
  return true;
}

}  // namespace

Server::Server(ServerOptions opts) : opts_(std::move(opts)) {}
Server::~Server() = default;

void Server::notify(const std::string& method, const json& params) {
  out_->push_back(dump(json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}));
}

void Server::handle(const std::string& text, std::vector<std::string>& out) {
  out_ = &out;
  json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded()) {
    out.push_back(dump(error_response(nullptr, kParseError, "the message is not valid JSON")));
    return;
  }
  if (!msg.is_object()) {
    out.push_back(dump(error_response(nullptr, kInvalidRequest, "a message must be a JSON object")));
    return;
  }
  json id = msg.contains("id") ? msg["id"] : json();
  bool has_id = msg.contains("id") && (id.is_number_integer() || id.is_string());
  if (msg.contains("id") && !has_id && !id.is_null()) {
    out.push_back(dump(error_response(nullptr, kInvalidRequest, "`id` must be an integer or a string")));
    return;
  }
  auto method_it = msg.find("method");
  if (method_it == msg.end()) {
    if (msg.contains("result") || msg.contains("error")) return;  // a response to a request of ours: none are sent
    out.push_back(dump(error_response(id, kInvalidRequest, "a request needs a `method`")));
    return;
  }
  if (!method_it->is_string()) {
    out.push_back(dump(error_response(id, kInvalidRequest, "`method` must be a string")));
    return;
  }
  std::string method = *method_it;
  json params = msg.contains("params") && !msg["params"].is_null() ? msg["params"] : json::object();
  bool is_request = has_id;

  json result;
  bool is_error = false;
  try {
    if (method == "exit") {
      exited_ = true;
      return;
    }
    if (!initialized_ && method != "initialize") {
      if (is_request) throw RpcError{kServerNotInitialized, "the server is not initialized"};
      return;  // notifications before initialize are dropped (LSP 3.17)
    }
    if (shutdown_ && is_request) throw RpcError{kInvalidRequest, "the server is shutting down"};
    if (!params.is_object() && !params.is_array()) throw RpcError{kInvalidParams, "`params` must be an object"};
    result = dispatch(method, params, is_error);
    if (is_error) {
      if (!is_request) return;  // an unknown notification: ignored
      throw RpcError{kMethodNotFound, "unknown method `" + method + "`"};
    }
  } catch (const RpcError& e) {
    if (is_request) out.push_back(dump(error_response(id, e.code, e.message)));
    return;
  } catch (const json::exception& e) {
    if (is_request) out.push_back(dump(error_response(id, kInvalidParams, std::string("bad params: ") + e.what())));
    return;
  }
  if (is_request) out.push_back(dump(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}));
}

json Server::dispatch(const std::string& method, const json& params, bool& is_error) {
  if (method == "initialize") {
    if (initialized_) throw RpcError{kInvalidRequest, "the server is already initialized"};
    return initialize(params);
  }
  if (method == "initialized") return nullptr;
  if (method == "shutdown") {
    shutdown_ = true;
    return nullptr;
  }
  if (method == "textDocument/didOpen") {
    const json& td = params.at("textDocument");
    std::string uri = td.at("uri").get<std::string>();
    std::optional<std::string> path = uri_to_path(uri);
    Document* existing = ws_->find(uri);
    if (existing && existing->stdlib) return nullptr;  // read-only
    Document& d = ws_->set_text(uri, path ? *path : uri, td.at("text").get<std::string>());
    d.open = true;
    d.version = td.value("version", int64_t{0});
    d.published = false;  // a newly opened editor wants its diagnostics even when nothing changed
    return nullptr;
  }
  if (method == "textDocument/didChange") {
    Document& d = document(params);
    if (d.stdlib) return nullptr;
    std::string text = ws_->text(d);
    for (const json& change : params.at("contentChanges")) {
      std::string piece = change.at("text").get<std::string>();
      if (change.contains("range")) {
        LineIndex idx(text);
        const json& r = change["range"];
        uint32_t b = idx.offset(Position{r.at("start").at("line").get<uint32_t>(), r["start"].at("character").get<uint32_t>()});
        uint32_t e = idx.offset(Position{r.at("end").at("line").get<uint32_t>(), r["end"].at("character").get<uint32_t>()});
        if (e < b) std::swap(b, e);
        text = text.substr(0, b) + piece + text.substr(e);
      } else {
        text = std::move(piece);
      }
    }
    std::optional<std::string> path = uri_to_path(d.uri);
    ws_->set_text(d.uri, path ? *path : d.uri, std::move(text));
    d.version = params.at("textDocument").value("version", d.version);
    return nullptr;
  }
  if (method == "textDocument/didClose") {
    Document& d = document(params);
    if (d.stdlib) return nullptr;
    d.open = false;
    // Back to what is on disk (the editor may have dropped unsaved changes).
    std::optional<std::string> path = uri_to_path(d.uri);
    std::string text, error;
    if (path && read_file(*path, text, error)) ws_->set_text(d.uri, *path, std::move(text));
    return nullptr;
  }
  if (method == "textDocument/didSave") {
    document(params);
    ws_->schedule_all();  // a full check: also rule ids duplicated across files
    return nullptr;
  }
  if (method == "textDocument/completion") return completion(params);
  if (method == "textDocument/hover") return hover(params);
  if (method == "textDocument/definition") return definition(params);
  if (method == "textDocument/references") return references(params);
  if (method == "textDocument/documentSymbol") return document_symbols(params);
  if (method == "workspace/symbol") return workspace_symbols(params);
  if (method == "textDocument/formatting") return formatting(params);
  if (method == "textDocument/codeAction") return code_actions(params);
  if (method == "textDocument/semanticTokens/full") return semantic_tokens(params);
  if (method == "braid/stdlibText") {
    Document& d = document(params);
    if (!d.stdlib) throw RpcError{kInvalidParams, "not a standard library document"};
    return ws_->text(d);
  }
  if (method == "workspace/didChangeWatchedFiles") {
    // Files changed on disk by another program (git, a generator): re-read the ones the editor does not own. A
    // deleted file is emptied (its declarations go away, its diagnostics are cleared).
    for (const json& change : params.at("changes")) {
      std::string uri = change.at("uri").get<std::string>();
      std::optional<std::string> path = uri_to_path(uri);
      Document* d = ws_->find(uri);
      if (!path || (d && (d->open || d->stdlib))) continue;
      if (path->size() < 6 || path->compare(path->size() - 6, 6, ".braid") != 0) continue;
      std::string text, error;
      if (change.value("type", 0) == 3) {
        if (d) ws_->set_text(uri, *path, std::string());
      } else if (read_file(*path, text, error)) {
        ws_->set_text(uri, *path, std::move(text));
      }
    }
    return nullptr;
  }
  if (method == "$/cancelRequest" || method == "$/setTrace" || method == "workspace/didChangeConfiguration") {
    return nullptr;
  }
  is_error = true;
  return nullptr;
}

std::string Server::stdlib_base(const json& params) {
  const json opts = params.contains("initializationOptions") && params["initializationOptions"].is_object()
                        ? params["initializationOptions"]
                        : json::object();
  if (opts.value("stdlibScheme", std::string()) == "braid-stdlib") return "braid-stdlib:/";
  fs::path dir = opts_.stdlib_dir;
  if (dir.empty()) {
    uint64_t h = 0;
    for (const StdlibFile& f : stdlib_files()) h = digest(f.text, digest(f.path, h));
    const char* cache = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    fs::path base = cache && *cache ? fs::path(cache) : home && *home ? fs::path(home) / ".cache" : fs::path();
    if (base.empty()) return "braid-stdlib:/";
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    dir = base / "braid" / ("stdlib-" + opts_.version + "-" + std::string(hex, 8));
  }
  std::error_code ec;
  dir = fs::absolute(dir, ec);
  if (ec || !write_stdlib(dir)) return "braid-stdlib:/";
  std::string uri = path_to_uri(dir.lexically_normal().string());
  if (uri.back() != '/') uri += '/';
  return uri;
}

json Server::initialize(const json& params) {
  ws_ = std::make_unique<Workspace>(stdlib_base(params));
  std::vector<std::string> roots;
  if (params.contains("workspaceFolders") && params["workspaceFolders"].is_array()) {
    for (const json& f : params["workspaceFolders"]) {
      if (auto p = uri_to_path(f.at("uri").get<std::string>())) roots.push_back(*p);
    }
  }
  if (roots.empty() && params.contains("rootUri") && params["rootUri"].is_string()) {
    if (auto p = uri_to_path(params["rootUri"].get<std::string>())) roots.push_back(*p);
  }
  if (roots.empty() && params.contains("rootPath") && params["rootPath"].is_string()) {
    roots.push_back(params["rootPath"].get<std::string>());
  }
  for (const std::string& r : roots) ws_->load_folder(r);
  initialized_ = true;
  json caps = {
      {"positionEncoding", "utf-16"},
      {"textDocumentSync", {{"openClose", true}, {"change", 2}, {"save", {{"includeText", false}}}}},
      {"completionProvider", {{"triggerCharacters", {"."}}, {"resolveProvider", false}}},
      {"hoverProvider", true},
      {"definitionProvider", true},
      {"referencesProvider", true},
      {"documentSymbolProvider", true},
      {"workspaceSymbolProvider", true},
      {"documentFormattingProvider", true},
      {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
      {"semanticTokensProvider",
       {{"legend",
         {{"tokenTypes", {"type", "variable", "function", "parameter", "property", "enumMember", "event"}},
          {"tokenModifiers", {"declaration", "readonly", "defaultLibrary"}}}},
        {"full", true}}},
  };
  return json{{"capabilities", caps}, {"serverInfo", {{"name", "braid"}, {"version", opts_.version}}}};
}

Document& Server::document(const json& params) {
  const json& td = params.at("textDocument");
  const json& uri = td.at("uri");
  if (!uri.is_string()) throw RpcError{kInvalidParams, "textDocument.uri must be a string"};
  Document* d = ws_->find(uri.get<std::string>());
  if (!d) throw RpcError{kInvalidParams, "unknown document `" + uri.get<std::string>() + "` (open it first)"};
  return *d;
}

json Server::range(const Span& span) const {
  if (!span.valid() || span.file >= ws_->sm().size()) {
    return json{{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 0}, {"character", 0}}}};
  }
  LineIndex idx(ws_->sm().file(span.file).text());
  Position b = idx.position(span.begin), e = idx.position(std::max(span.begin, span.end));
  return json{{"start", {{"line", b.line}, {"character", b.character}}},
              {"end", {{"line", e.line}, {"character", e.character}}}};
}

json Server::location(const Span& span) const {
  return json{{"uri", span.valid() && span.file < ws_->docs().size() ? ws_->docs()[span.file]->uri : std::string()},
              {"range", range(span)}};
}

json Server::diagnostic(const Document& d, const Diagnostic& diag) const {
  const CodeInfo& info = code_info(diag.code);
  std::string message = diag.message;
  if (!diag.help.empty()) message += "\nhelp: " + diag.help;
  json j = {{"range", range(diag.span.valid() ? diag.span : Span{d.file, 0, 0})},
            {"severity", diag.severity == Severity::Error ? 1 : diag.severity == Severity::Warning ? 2 : 3},
            {"source", "braid"},
            {"message", message}};
  if (diag.code != Code::BRD0000) j["code"] = std::string(info.id);
  if (!diag.related.empty()) {
    json rel = json::array();
    for (const RelatedLocation& r : diag.related) {
      if (r.span.valid()) rel.push_back({{"location", location(r.span)}, {"message", r.message}});
    }
    if (!rel.empty()) j["relatedInformation"] = rel;
  }
  return j;
}

void Server::publish(Document& d) {
  json diags = json::array();
  for (const Diagnostic& diag : d.diags) diags.push_back(diagnostic(d, diag));
  json params = {{"uri", d.uri}, {"diagnostics", diags}};
  if (d.open) params["version"] = d.version;
  notify("textDocument/publishDiagnostics", params);
  d.published = true;
}

void Server::idle(std::vector<std::string>& out) {
  out_ = &out;
  if (!ws_ || exited_) return;
  for (Document* d : ws_->recheck()) {
    // Files that are not open are published only when they have something to say (or had).
    if (d->open || !d->diags.empty() || d->sent_nonempty) {
      publish(*d);
      d->sent_nonempty = !d->diags.empty();
    } else {
      d->published = true;
    }
  }
}

json Server::formatting(const json& params) {
  Document& d = document(params);
  const std::string& text = ws_->text(d);
  SourceManager sm;
  FileId id = sm.add(ws_->sm().file(d.file).path(), text);
  DiagnosticSink diags;
  ast::File file = parse_file(sm, id, diags);
  if (diags.has_errors()) throw RpcError{kRequestFailed, "not formatting: the file has syntax errors"};
  std::string formatted = format_file(file, sm);
  if (formatted == text) return json::array();
  // One edit over the lines that differ, so the editor keeps the cursor and folds elsewhere.
  size_t pre = 0;
  while (pre < text.size() && pre < formatted.size() && text[pre] == formatted[pre]) ++pre;
  while (pre > 0 && text[pre - 1] != '\n') --pre;
  size_t suf = 0;
  while (suf < text.size() - pre && suf < formatted.size() - pre &&
         text[text.size() - 1 - suf] == formatted[formatted.size() - 1 - suf]) {
    ++suf;
  }
  while (suf > 0 && text[text.size() - suf] != '\n') --suf;  // keep whole lines: the suffix starts after a '\n'
  LineIndex idx(text);
  Position b = idx.position(static_cast<uint32_t>(pre)), e = idx.position(static_cast<uint32_t>(text.size() - suf));
  json edit = {{"range", {{"start", {{"line", b.line}, {"character", b.character}}},
                          {"end", {{"line", e.line}, {"character", e.character}}}}},
               {"newText", formatted.substr(pre, formatted.size() - pre - suf)}};
  return json::array({edit});
}

json Server::code_actions(const json& params) {
  Document& d = document(params);
  // The fix-its must be those of the current text: finish a re-check an edit still waits for.
  if (ws_->pending()) idle(*out_);
  LineIndex idx(ws_->text(d));
  const json& r = params.at("range");
  uint32_t b = idx.offset(Position{r.at("start").at("line").get<uint32_t>(), r["start"].at("character").get<uint32_t>()});
  uint32_t e = idx.offset(Position{r.at("end").at("line").get<uint32_t>(), r["end"].at("character").get<uint32_t>()});
  json actions = json::array();
  for (const Diagnostic& diag : d.diags) {
    if (!diag.fix || !diag.span.valid() || diag.fix->span.file != d.file) continue;
    if (diag.span.end < b || diag.span.begin > e) continue;
    std::string title = !diag.help.empty() ? diag.help : "Replace with `" + diag.fix->replacement + "`";
    if (!title.empty()) title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
    json edit = {{"range", range(diag.fix->span)}, {"newText", diag.fix->replacement}};
    actions.push_back({{"title", title},
                       {"kind", "quickfix"},
                       {"isPreferred", true},
                       {"diagnostics", json::array({diagnostic(d, diag)})},
                       {"edit", {{"changes", {{d.uri, json::array({edit})}}}}}});
  }
  return actions;
}

// ---------------------------------------------------------------------------------------------------------------
// stdio

namespace {

class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}
  enum class Status { Message, Bad, End };
  // The next message's body; `Bad` with `error` set for a frame that cannot be read (its bytes are skipped).
  Status next(std::string& body, std::string& error) {
    for (;;) {
      size_t hdr_end = buf_.find("\r\n\r\n");
      if (hdr_end != std::string::npos) {
        std::string header = buf_.substr(0, hdr_end);
        std::optional<size_t> length;
        std::istringstream lines(header);
        std::string line;
        while (std::getline(lines, line)) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          std::string key = line.substr(0, line.find(':'));
          for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (key == "content-length" && line.find(':') != std::string::npos) {
            std::string v = line.substr(line.find(':') + 1);
            char* end = nullptr;
            errno = 0;
            unsigned long long n = std::strtoull(v.c_str(), &end, 10);
            bool digits = v.find_first_of("0123456789") != std::string::npos;
            while (end && *end == ' ') ++end;
            if (digits && errno == 0 && end && *end == '\0' && n <= kMaxMessage) length = static_cast<size_t>(n);
          }
        }
        if (!length) {
          buf_.erase(0, hdr_end + 4);
          error = "a message header without a valid Content-Length (at most 64 MiB)";
          return Status::Bad;
        }
        if (buf_.size() >= hdr_end + 4 + *length) {
          body = buf_.substr(hdr_end + 4, *length);
          buf_.erase(0, hdr_end + 4 + *length);
          return Status::Message;
        }
      } else if (buf_.size() > 65536) {
        buf_.clear();
        error = "a message header longer than 64 KiB";
        return Status::Bad;
      }
      if (eof_) {
        if (!buf_.empty()) {
          buf_.clear();
          error = "the input ended inside a message";
          return Status::Bad;
        }
        return Status::End;
      }
      fill();
    }
  }
  // Whether a whole message is waiting (buffered or readable without blocking).
  bool ready() {
    if (eof_) return true;
    size_t h = buf_.find("\r\n\r\n");
    if (h != std::string::npos) return true;  // complete or not, reading on will not stall long
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

 private:
  static constexpr size_t kMaxMessage = 64u << 20;
  void fill() {
    char chunk[65536];
    for (;;) {
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
        return;
      }
      buf_.append(chunk, static_cast<size_t>(n));
      return;
    }
  }
  int fd_;
  std::string buf_;
  bool eof_ = false;
};

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool send(int fd, std::vector<std::string>& out) {
  std::string frames;
  for (const std::string& m : out) frames += "Content-Length: " + std::to_string(m.size()) + "\r\n\r\n" + m;
  out.clear();
  return write_all(fd, frames);
}

}  // namespace

int serve(int in_fd, int out_fd, const ServerOptions& opts) {
  Server server(opts);
  Reader reader(in_fd);
  std::vector<std::string> out;
  for (;;) {
    if (!reader.ready()) {
      server.idle(out);
      if (!send(out_fd, out)) return 1;
    }
    std::string body, error;
    Reader::Status st = reader.next(body, error);
    if (st == Reader::Status::End) break;
    if (st == Reader::Status::Bad) {
      out.push_back(dump(error_response(nullptr, kParseError, error)));
    } else {
      server.handle(body, out);
    }
    if (!send(out_fd, out)) return 1;
    if (server.exited()) break;
  }
  return server.exit_code();
}

}  // namespace braid::lsp
