#include "output_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

namespace allocbench {

namespace {

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

void make_output_directory(const std::string &dir) {
  for (std::size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      const std::string partial = dir.substr(0, i);
      if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
        throw std::invalid_argument(
            fmt::format("--out: cannot create directory {}: {}", partial, std::strerror(errno)));
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::invalid_argument(fmt::format("--out: {} is not a directory", dir));
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw std::invalid_argument(fmt::format("--out: directory {} is not writable", dir));
}

void check_output_directory(const std::string &dir) {
  std::string existing = dir;
  while (!exists(existing)) {
    const auto slash = existing.find_last_of('/');
    existing = slash == std::string::npos ? "." : slash == 0 ? "/" : existing.substr(0, slash);
  }
  struct stat st;
  const std::string what =
      existing == dir ? dir : fmt::format("cannot create directory {}: {}", dir, existing);
  if (::stat(existing.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::invalid_argument(fmt::format("--out: {} is not a directory", what));
  if (::access(existing.c_str(), W_OK | X_OK) != 0)
    throw std::invalid_argument(fmt::format("--out: {} is not writable", what));
}

std::string default_output_directory(std::string_view prefix) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  const std::string base = fmt::format("allocbench-results/{}{}", prefix, stamp);
  std::string dir = base;
  struct stat st;
  for (int n = 2; ::stat(dir.c_str(), &st) == 0; ++n) dir = fmt::format("{}-{}", base, n);
  return dir;
}

}  // namespace allocbench
