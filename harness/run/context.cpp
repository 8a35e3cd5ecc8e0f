#include "context.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "allocator_catalogue.h"
#include "build_info.h"
#include "perf_counters.h"

namespace allocbench {

const char *allocbench_version() {
  return ALLOCBENCH_VERSION;
}
const char *allocbench_git_revision() {
  return kGitRevision;
}
const char *allocbench_build_type() {
  return ALLOCBENCH_BUILD_TYPE;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86 names it "model name"; some other architectures only have "Processor"/"cpu".
    for (const char *key : {"model name", "Processor", "cpu model"}) {
      if (line.rfind(key, 0) == 0) {
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
          auto value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(" \t"));
          if (!value.empty()) return value;
        }
      }
    }
  }
  return "unknown";
}

std::string compiler() {
#if defined(__clang__)
  return fmt::format("Clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("GCC {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

}  // namespace

AllocatorInfo allocator_info(const std::string &name) {
  AllocatorInfo info;
  info.name = name;
  if (const CatalogueEntry *entry = find_catalogue_entry(name)) {
    info.colour = entry->colour;
    info.marker = entry->marker;
  }
  return info;
}

Context collect_context(const std::string &command_line, std::vector<AllocatorInfo> allocators) {
  Context c;
  c.date = utc_timestamp();
  char host[256] = {};
  c.host = ::gethostname(host, sizeof host - 1) == 0 ? host : "unknown";
  c.cpu_model = cpu_model();
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  c.cpu_count = online > 0 ? static_cast<unsigned>(online) : std::thread::hardware_concurrency();
  utsname u{};
  c.kernel =
      ::uname(&u) == 0 ? fmt::format("{} {} {}", u.sysname, u.release, u.machine) : "unknown";
  c.compiler = compiler();
  c.build_type = allocbench_build_type();
  c.git_revision = allocbench_git_revision();
  c.allocbench_version = allocbench_version();
  c.command_line = command_line;
  c.hardware_counters = hardware_counters_status();
  c.allocators = std::move(allocators);
  return c;
}

namespace {
std::string &stored_command_line() {
  static std::string line;
  return line;
}
}  // namespace

void set_command_line(std::string line) {
  stored_command_line() = std::move(line);
}
const std::string &command_line() {
  return stored_command_line();
}

std::string join_command_line(int argc, char **argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_=.,/:+@%") == std::string::npos;
    if (!plain) {
      std::string quoted = "'";
      for (char ch : arg) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
      arg = quoted + "'";
    }
    line += (i ? " " : "") + arg;
  }
  return line;
}

}  // namespace allocbench
