// The files of the pack verbs and of `braid run --pack` (pack_files.h).
#include "pack_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "driver/driver.h"
#include "text/utf8.h"
#include "verbs.h"

namespace braid::cli {

std::string read_or_throw(const std::string& path, const char* what) {
  std::string text, error;
  if (!read_file(path, text, error)) {
    throw UsageError{fmt::format("cannot read {} `{}`: {}", what, sanitize_utf8(path), error)};
  }
  return text;
}

bool write_whole(const std::string& path, std::string_view data, mode_t mode, bool exclusive) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

std::vector<pack::PublicKey> read_trusted_keys(const std::vector<std::string>& files) {
  std::vector<pack::PublicKey> keys;
  for (const std::string& f : files) {
    std::string text = read_or_throw(f, "trusted key file");
    std::string error;
    auto parsed = pack::parse_public_keys(text, error);
    if (!parsed) throw UsageError{fmt::format("trusted key file `{}`: {}", sanitize_utf8(f), error)};
    keys.insert(keys.end(), parsed->begin(), parsed->end());
  }
  return keys;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

std::unique_ptr<pack::LoadedPack> load_pack_for_run(const RunOptions& o) {
  std::string bytes = read_or_throw(o.pack, "pack");
  std::vector<pack::PublicKey> keys = read_trusted_keys(o.trusted_keys);
  auto loaded = pack::load_pack(bytes, keys, o.allow_unsigned);
  if (!loaded) {
    err(fmt::format("braid: error: refusing the pack `{}`: {} [{}]\n", sanitize_utf8(o.pack), loaded.error().message,
                    pack::error_kind_name(loaded.error().kind)));
    return nullptr;
  }
  return std::make_unique<pack::LoadedPack>(std::move(*loaded));
}

}  // namespace braid::cli
