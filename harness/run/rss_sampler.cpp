#include "rss_sampler.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

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

RssSampler::RssSampler(pid_t pid, unsigned interval_ms, Clock::time_point start)
    : pid_(pid), interval_ms_(interval_ms), start_(start), next_(start) {
  timeline_.interval_ms = interval_ms;
}

void RssSampler::sample_if_due(Clock::time_point now) {
  if (interval_ms_ == 0 || now < next_) return;
  const auto rss = resident_kib(pid_);
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
