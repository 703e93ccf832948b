// `braid keygen -o KEYFILE`: an Ed25519 key pair for signing rule packs (docs/cli.md, Rule packs).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diag/render.h"
#include "pack/pack.h"
#include "pack_files.h"
#include "verbs.h"

namespace braid::cli {

namespace {

struct KeygenOptions {
  std::string out;  // --output: the secret key file; the public key goes to FILE.pub
};

int run_keygen(const KeygenOptions& v) {
  pack::KeyPair kp = pack::generate_keypair();
  std::string pub_path = v.out + ".pub";
  for (const std::string& p : {v.out, pub_path}) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
      throw UsageError{fmt::format("`{}` exists: refusing to overwrite a key (remove it first)", sanitize_utf8(p))};
    }
  }
  if (!write_whole(v.out, pack::format_secret_key(kp.secret), 0600, true)) {
    throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(v.out), std::strerror(errno))};
  }
  if (!write_whole(pub_path, pack::format_public_key(kp.pub), 0644, true)) {
    int e = errno;
    ::unlink(v.out.c_str());
    throw UsageError{fmt::format("cannot write `{}`: {}", sanitize_utf8(pub_path), std::strerror(e))};
  }
  err(fmt::format("braid: wrote the secret key to {} (mode 0600) and the public key to {}; key id {}\n",
                  sanitize_utf8(v.out), sanitize_utf8(pub_path), pack::key_id(kp.pub)));
  return kExitClean;
}

}  // namespace

VerbAction add_keygen_verb(CLI::App& sub) {
  auto o = std::make_shared<KeygenOptions>();
  sub.add_option("--output,-o", o->out, "Secret key file (mode 0600); the public key goes to FILE.pub")
      ->required()
      ->type_name("KEYFILE");
  sub.fallthrough();
  return [o](const Globals& g) {
    if (g.format_given) throw UsageError{"--format does not apply to keygen"};
    return run_keygen(*o);
  };
}

}  // namespace braid::cli
