// The parent side of a run: start allocbench in child mode through the run engine
// (process.h), with only the allocator under test preloaded, collect its reply, its
// stderr and its resource usage, and turn a crash, a hang or an interruption into a
// reason.
#pragma once

#include <sys/resource.h>

#include <map>
#include <optional>
#include <string>

#include "child.h"
#include "process.h"
#include "results.h"

namespace allocbench {

struct ChildOutcome {
  enum class Status { kOk, kFailed, kInterrupted };
  Status status = Status::kFailed;
  std::string error;  // the failed row's reason (RESULTS.md's `error` column)
  std::optional<AllocatorProof> proof;
  Json result;  // the workload's figures from the reply (null for a probe)
  std::optional<std::uint64_t> vm_hwm_kib;
  std::optional<rusage> usage;  // from wait4, absent when interrupted
  std::string stderr_tail;
  std::optional<RssTimeline> rss_timeline;  // sampled by the parent (rss_interval_ms > 0)
  // Counted mode: callgrind's totals of the measured phase by event name (Ir, Dr, Dw,
  // I1mr, D1mr, D1mw, ILmr, DLmr, DLmw).
  std::map<std::string, double> counted;
};

// Runs `request` in a fresh process: `exe` (the allocbench binary) in child mode, with
// LD_PRELOAD set to the request's library alone (unset for glibc). The child is killed
// (its whole process group) after `timeout_s` seconds, or when SIGINT/SIGTERM reaches
// the parent while interrupt handling is installed. With rss_interval_ms > 0 the parent
// samples the child's RSS at that interval while it runs (rss_sampler.h).
ChildOutcome run_child(const std::string &exe, const ChildRequest &request, double timeout_s,
                       unsigned rss_interval_ms = 0);

}  // namespace allocbench
