// braid_bench_time: runs one command and reports its wall time, CPU time and peak RSS (bench/engine.sh).
//
//   braid_bench_time [-i IN] [-o OUT] [-e ERR] -- COMMAND [ARG...]
//
// Redirects the command's stdin/stdout/stderr to the files given (default: inherited), waits for it with wait4(2)
// and prints to stderr one line: "wall_s user_s sys_s maxrss_kb exit_code". Wall time is measured from just
// before fork(2) to the end of wait4(2) with a monotonic clock (microseconds, not /usr/bin/time's centiseconds, so
// start-up times are meaningful); CPU and peak RSS are the child's own rusage (the command, not a pipeline's
// other stages). The exit code is the command's (128 + signal when killed); this program exits with it too.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>

namespace {

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool redirect(const char* path, int fd, int flags) {
  if (!path) return true;
  int f = open(path, flags, 0644);
  if (f < 0 || dup2(f, fd) < 0) return false;
  close(f);
  return true;
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; }

}  // namespace

int main(int argc, char** argv) {
  const char *in = nullptr, *out = nullptr, *err = nullptr;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) break;
    if (a == "-i") in = argv[++i];
    else if (a == "-o") out = argv[++i];
    else if (a == "-e") err = argv[++i];
    else break;
  }
  if (i >= argc) {
    std::fputs("usage: braid_bench_time [-i IN] [-o OUT] [-e ERR] -- COMMAND [ARG...]\n", stderr);
    return 2;
  }
  const double t0 = now();
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return 2;
  }
  if (pid == 0) {
    if (!redirect(in, 0, O_RDONLY) || !redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC) ||
        !redirect(err, 2, O_WRONLY | O_CREAT | O_TRUNC)) {
      std::perror("redirect");
      _exit(127);
    }
    execvp(argv[i], argv + i);
    std::fprintf(stderr, "braid_bench_time: cannot run %s: %s\n", argv[i], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::perror("wait4");
      return 2;
    }
  }
  const double wall = now() - t0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::fprintf(stderr, "%.6f %.6f %.6f %ld %d\n", wall, seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss,
               code);
  return code;
}
