// LD_PRELOAD shim for the bad-input suite (run.sh): SIGKILLs the process the moment it fsyncs a
// file whose path contains $Z2H_KILL_ON — a checkpoint fully written to its temporary file, not
// yet renamed into place. The test then checks what a kill in the middle of a save leaves behind.
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" int fsync(int fd) {
  if (const char* want = std::getenv("Z2H_KILL_ON"); want != nullptr && *want != '\0') {
    char link[64], path[PATH_MAX];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, path, sizeof path - 1);
    if (n > 0) {
      path[n] = '\0';
      if (std::strstr(path, want) != nullptr) ::kill(::getpid(), SIGKILL);
    }
  }
  using Fsync = int (*)(int);
  static const auto real = reinterpret_cast<Fsync>(::dlsym(RTLD_NEXT, "fsync"));
  return real(fd);
}
