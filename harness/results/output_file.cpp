#include "output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

namespace allocbench {

namespace {

[[noreturn]] void fail(const char *what, const std::string &path, int error) {
  throw OutputError(fmt::format("{} {}: {}", what, path, std::strerror(error)));
}

// 0, or the errno of the write that failed.
int write_all(int fd, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENOSPC;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

void write_all_or_throw(int fd, std::string_view data, const std::string &path) {
  if (const int error = write_all(fd, data); error != 0) fail("cannot write", path, error);
}

void replace_file(const std::string &path, std::string_view text) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    // A device, a FIFO or /dev/stdout: written in place (a rename would replace the node).
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) fail("cannot write", path, errno);
    int error = write_all(fd, text);
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) fail("cannot write", path, error);
    return;
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write", path, errno);
  int error = write_all(fd, text);
  // fsync before rename: after a crash the file is the old or the new version, whole.
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    fail("cannot write", path, error);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = errno;
    ::unlink(tmp.c_str());
    throw OutputError(fmt::format("cannot write {} (the rename of {} failed): {}", path, tmp,
                                  std::strerror(error)));
  }
}

void write_stream(std::FILE *stream, std::string_view text, const char *name) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stream) != text.size())
    throw OutputError(
        fmt::format("cannot write {}: {}", name, std::strerror(errno != 0 ? errno : EIO)));
  finish_stream(stream, name);
}

void finish_stream(std::FILE *stream, const char *name) {
  errno = 0;
  if (std::fflush(stream) != 0 || std::ferror(stream))
    throw OutputError(
        fmt::format("cannot write {}: {}", name, std::strerror(errno != 0 ? errno : EIO)));
}

void finish_stdout() {
  std::cout.flush();
  if (!std::cout) {
    std::cout.clear();
    throw OutputError("cannot write standard output");
  }
  finish_stream(stdout, "standard output");
}

}  // namespace allocbench
