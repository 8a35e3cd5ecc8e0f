// RSS over time: the parent samples a child's resident set from /proc/PID/statm at a
// fixed interval while it waits for the child, so the child itself runs no sampling code.
// Times are milliseconds since the child was started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "results.h"

namespace allocbench {

class RssSampler {
 public:
  using Clock = std::chrono::steady_clock;

  // interval_ms 0 samples nothing. With `tree`, a sample is the sum over `pid` and every
  // process descended from it that is still attached to it.
  RssSampler(pid_t pid, unsigned interval_ms, Clock::time_point start, bool tree = false);

  // Takes a sample when one is due (and the child's statm is still readable).
  void sample_if_due(Clock::time_point now);
  // Milliseconds until the next sample is due (a poll timeout), or `otherwise` when off.
  int ms_until_due(Clock::time_point now, int otherwise) const;

  // The samples, or nothing when sampling was off or no sample could be taken.
  std::optional<RssTimeline> timeline() const;
  // The largest sample, or nothing when none was taken.
  std::optional<std::uint64_t> peak_kib() const;

 private:
  pid_t pid_;
  unsigned interval_ms_;
  bool tree_;
  Clock::time_point start_;
  Clock::time_point next_;
  RssTimeline timeline_;
};

// The resident set of process `pid` in KiB, or nothing when it cannot be read (gone).
std::optional<std::uint64_t> resident_kib(pid_t pid);
// The same summed over `pid` and its descendants (found through each thread's
// /proc/PID/task/TID/children); nothing when `pid` is gone.
std::optional<std::uint64_t> tree_resident_kib(pid_t pid);

inline constexpr unsigned kMaxRssIntervalMs = 60000;

// --rss-interval: whole milliseconds, 0 (off) to kMaxRssIntervalMs. Throws
// std::invalid_argument naming the value and what is accepted.
unsigned parse_rss_interval(std::string_view text);

}  // namespace allocbench
