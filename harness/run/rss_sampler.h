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

  // interval_ms 0 samples nothing.
  RssSampler(pid_t pid, unsigned interval_ms, Clock::time_point start);

  // Takes a sample when one is due (and the child's statm is still readable).
  void sample_if_due(Clock::time_point now);
  // Milliseconds until the next sample is due (a poll timeout), or `otherwise` when off.
  int ms_until_due(Clock::time_point now, int otherwise) const;

  // The samples, or nothing when sampling was off or no sample could be taken.
  std::optional<RssTimeline> timeline() const;

 private:
  pid_t pid_;
  unsigned interval_ms_;
  Clock::time_point start_;
  Clock::time_point next_;
  RssTimeline timeline_;
};

// The resident set of process `pid` in KiB, or nothing when it cannot be read (gone).
std::optional<std::uint64_t> resident_kib(pid_t pid);

inline constexpr unsigned kMaxRssIntervalMs = 60000;

// --rss-interval: whole milliseconds, 0 (off) to kMaxRssIntervalMs. Throws
// std::invalid_argument naming the value and what is accepted.
unsigned parse_rss_interval(std::string_view text);

}  // namespace allocbench
