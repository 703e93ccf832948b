// Files of the pack verbs (keygen, build, inspect) and of `braid run --pack`: reading keys and packs, writing
// whole files. The verbs themselves are in verbs/keygen.cpp, verbs/build.cpp and verbs/inspect.cpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pack/pack.h"

namespace braid::cli {

// The file's bytes; a UsageError ("cannot read <what> `path`: reason") when it cannot be read.
std::string read_or_throw(const std::string& path, const char* what);

// Writes the whole file with the given mode; `exclusive`: fail if it exists. False + errno on failure.
bool write_whole(const std::string& path, std::string_view data, mode_t mode, bool exclusive);

// The public keys of --trusted-keys files (UsageError on an unreadable or malformed file).
std::vector<pack::PublicKey> read_trusted_keys(const std::vector<std::string>& files);

// Lowercase hex of n bytes.
std::string hex(const uint8_t* p, size_t n);

}  // namespace braid::cli
