#include "perf_counters.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace allocbench {

std::vector<PerfEvent> hardware_events() {
  return {{"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
          {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES}};
}

PerfCounters::PerfCounters(const std::vector<PerfEvent> &events) {
  for (const PerfEvent &event : events) {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = event.type;
    attr.config = event.config;
    attr.disabled = 1;
    attr.inherit = 1;  // the threads started after this, summed in when they exit
    // User space only: what perf_event_paranoid 2 (the default) lets a process count, and
    // the allocator's and the workload's own work, not the kernel's.
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    const long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0) {
      const int err = errno;
      error_ = fmt::format(
          "hardware counters unavailable: perf_event_open({}): {}", event.name,
          err == ENOENT || err == EOPNOTSUPP ? "the CPU or the hypervisor exposes no such counter"
          : err == EACCES || err == EPERM    ? "not permitted (kernel.perf_event_paranoid)"
                                             : std::strerror(err));
      for (const auto &[name, open_fd] : fds_) ::close(open_fd);
      fds_.clear();
      return;
    }
    fds_.emplace_back(event.name, static_cast<int>(fd));
  }
}

PerfCounters::~PerfCounters() {
  for (const auto &[name, fd] : fds_) ::close(fd);
}

void PerfCounters::start() {
  // On an inherited counter the ioctl reaches the threads' counters too.
  for (const auto &[name, fd] : fds_) ::ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

void PerfCounters::stop() {
  for (const auto &[name, fd] : fds_) ::ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
}

std::optional<std::map<std::string, std::uint64_t>> PerfCounters::read() const {
  if (!ok()) return std::nullopt;
  std::map<std::string, std::uint64_t> counts;
  for (const auto &[name, fd] : fds_) {
    std::uint64_t value = 0;
    if (::read(fd, &value, sizeof value) != static_cast<ssize_t>(sizeof value)) return std::nullopt;
    counts[name] = value;
  }
  return counts;
}

std::string hardware_counters_status() {
  const PerfCounters counters(hardware_events());
  if (!counters.ok()) return counters.error();
  return "instructions, cycles (perf_event_open, user space)";
}

}  // namespace allocbench
