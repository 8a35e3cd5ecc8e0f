#include "rss_sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace allocbench {

std::optional<std::uint64_t> resident_kib(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  // open/read rather than a stream: this runs every few milliseconds.
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[128];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2) return std::nullopt;
  static const long page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
  return resident * static_cast<unsigned long long>(page_kib);
}

namespace {

// The children of every thread of `pid`, appended to `into`.
void append_children(pid_t pid, std::vector<pid_t> &into) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  DIR *tasks = ::opendir(path);
  if (!tasks) return;
  while (const dirent *task = ::readdir(tasks)) {
    if (task->d_name[0] < '0' || task->d_name[0] > '9') continue;
    std::snprintf(path, sizeof path, "/proc/%d/task/%.16s/children", static_cast<int>(pid),
                  task->d_name);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    char *cursor = buf;
    while (true) {
      char *end = nullptr;
      const long child = std::strtol(cursor, &end, 10);
      if (end == cursor) break;
      into.push_back(static_cast<pid_t>(child));
      cursor = end;
    }
  }
  ::closedir(tasks);
}

}  // namespace

std::optional<std::uint64_t> tree_resident_kib(pid_t pid) {
  const auto root = resident_kib(pid);
  if (!root) return std::nullopt;
  std::uint64_t total = *root;
  std::vector<pid_t> pending;
  append_children(pid, pending);
  // A bound on the walk: pids are reused, and a tree of thousands is not a benchmark.
  for (std::size_t seen = 0; !pending.empty() && seen < 4096; ++seen) {
    const pid_t p = pending.back();
    pending.pop_back();
    if (const auto rss = resident_kib(p)) total += *rss;
    append_children(p, pending);
  }
  return total;
}

RssSampler::RssSampler(pid_t pid, unsigned interval_ms, Clock::time_point start, bool tree)
    : pid_(pid), interval_ms_(interval_ms), tree_(tree), start_(start), next_(start) {
  timeline_.interval_ms = interval_ms;
}

void RssSampler::sample_if_due(Clock::time_point now) {
  if (interval_ms_ == 0 || now < next_) return;
  const auto rss = tree_ ? tree_resident_kib(pid_) : resident_kib(pid_);
  // The next sample is due one interval after this one was due; a late poll does not
  // shift the grid (and samples missed while late are not invented).
  const auto interval = std::chrono::milliseconds(interval_ms_);
  while (next_ <= now) next_ += interval;
  // A child that has exited but is not yet reaped reads as 0: not a sample.
  if (!rss || *rss == 0) return;
  const double t_ms = std::chrono::duration<double, std::milli>(now - start_).count();
  if (!timeline_.t_ms.empty() && t_ms <= timeline_.t_ms.back()) return;
  timeline_.t_ms.push_back(t_ms);
  timeline_.rss_kib.push_back(*rss);
}

int RssSampler::ms_until_due(Clock::time_point now, int otherwise) const {
  if (interval_ms_ == 0) return otherwise;
  if (now >= next_) return 0;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next_ - now).count() + 1;
  return static_cast<int>(std::min<long long>(ms, otherwise));
}

std::optional<RssTimeline> RssSampler::timeline() const {
  if (interval_ms_ == 0 || timeline_.t_ms.empty()) return std::nullopt;
  return timeline_;
}

std::optional<std::uint64_t> RssSampler::peak_kib() const {
  if (timeline_.rss_kib.empty()) return std::nullopt;
  return *std::max_element(timeline_.rss_kib.begin(), timeline_.rss_kib.end());
}

unsigned parse_rss_interval(std::string_view text) {
  unsigned long long ms = 0;
  const bool digits = !text.empty() && text.size() <= 6 &&
                      text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits) ms = std::strtoull(std::string(text).c_str(), nullptr, 10);
  if (!digits || ms > kMaxRssIntervalMs) {
    throw std::invalid_argument("--rss-interval: '" + std::string(text) +
                                "' is not accepted (milliseconds, 0 to " +
                                std::to_string(kMaxRssIntervalMs) + "; 0 turns sampling off)");
  }
  return static_cast<unsigned>(ms);
}

}  // namespace allocbench
