// `braid lsp`: a Language Server Protocol (3.17) server over stdio for Braid rules.
//
// Everything the server knows comes from the compiler's front end: the parser, checker, linter and formatter
// (the same functions as `braid check`, `braid lint` and `braid fmt`), through the Workspace (lsp_workspace.h).
// The server is single-threaded: it reads every message already waiting, then re-checks what the edits affected
// and publishes diagnostics before blocking for more input (a natural debounce: no timer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lsp_text.h"
#include "lsp_workspace.h"

namespace braid::lsp {

using json = nlohmann::json;

struct ServerOptions {
  std::string version = "0.0.0";  // reported in serverInfo, and part of the stdlib cache folder's name
  // Where the stdlib's files are written (read-only) for editors to open: empty means
  // $XDG_CACHE_HOME/braid/stdlib-<version>-<digest> (else ~/.cache/...). Clients that send
  // initializationOptions {"stdlibScheme": "braid-stdlib"} get virtual `braid-stdlib:/` documents instead, whose
  // text the `braid/stdlibText` request returns.
  std::string stdlib_dir;
};

// JSON-RPC error codes (JSON-RPC 2.0 and LSP 3.17).
enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kServerNotInitialized = -32002,
  kRequestFailed = -32803,
};

class Server {
 public:
  explicit Server(ServerOptions opts);
  ~Server();

  // Handles one message (the JSON text of a request, response or notification); appends the messages to send.
  void handle(const std::string& text, std::vector<std::string>& out);
  // No input is waiting: re-check what the edits affected and publish the diagnostics that changed.
  void idle(std::vector<std::string>& out);
  bool exited() const { return exited_; }
  int exit_code() const { return shutdown_ ? 0 : 1; }
  Workspace* workspace() { return ws_.get(); }

 private:
  json dispatch(const std::string& method, const json& params, bool& is_error);
  void notify(const std::string& method, const json& params);
  json initialize(const json& params);
  std::string stdlib_base(const json& params);
  Document& document(const json& params);  // params.textDocument.uri, or an InvalidParams error
  void publish(Document& d);

  json diagnostic(const Document& d, const Diagnostic& diag) const;
  json range(const Span& span) const;
  json location(const Span& span) const;

  // Features (lsp_features.cpp).
  json completion(const json& params);
  json hover(const json& params);
  json definition(const json& params);
  json references(const json& params);
  json document_symbols(const json& params);
  json workspace_symbols(const json& params);
  json formatting(const json& params);
  json code_actions(const json& params);
  json semantic_tokens(const json& params);

  ServerOptions opts_;
  std::unique_ptr<Workspace> ws_;
  bool initialized_ = false;
  bool shutdown_ = false;
  bool exited_ = false;
  std::vector<std::string>* out_ = nullptr;
};

// Reads LSP messages (Content-Length framing) from `in_fd` and writes replies to `out_fd` until `exit` or the end
// of the input. Returns the process exit code: 0 after shutdown and exit, 1 otherwise (LSP 3.17, "exit").
int serve(int in_fd, int out_fd, const ServerOptions& opts);

// A request's error, thrown inside handlers and turned into a JSON-RPC error response.
struct RpcError {
  int code;
  std::string message;
};

}  // namespace braid::lsp
