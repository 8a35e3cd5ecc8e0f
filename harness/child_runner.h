// The parent side of a run: spawn a child in its own process group with only the
// allocator under test preloaded, collect its reply, its stderr and its resource usage,
// and turn a crash, a hang or an interruption into a reason.
#pragma once

#include <spawn.h>
#include <sys/resource.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "child.h"
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
};

// Runs `request` in a fresh process: `exe` (the allocbench binary) in child mode, with
// LD_PRELOAD set to the request's library alone (unset for glibc). The child is killed
// (its whole process group) after `timeout_s` seconds, or when SIGINT/SIGTERM reaches
// the parent while interrupt handling is installed. With rss_interval_ms > 0 the parent
// samples the child's RSS at that interval while it runs (rss_sampler.h).
ChildOutcome run_child(const std::string &exe, const ChildRequest &request, double timeout_s,
                       unsigned rss_interval_ms = 0);

// Starts `exe` with posix_spawn in a process group of its own (a terminal's Ctrl-C
// reaches only the parent, which decides, and a timeout kills the whole group), with no
// signal blocked and `default_signals` back at their default actions. `actions` sets up
// its descriptors. Returns posix_spawn's error number: 0 when the child started.
int spawn_in_own_group(pid_t *pid, const std::string &exe,
                       const posix_spawn_file_actions_t *actions, char *const argv[],
                       char *const envp[], std::initializer_list<int> default_signals);

// The environment of a child: this process's, with LD_PRELOAD set to `preload` alone
// (unset when empty) and the parent's pid for die_with_parent() (parent_death.h).
std::vector<std::string> child_environment(const std::string &preload);

// SIGINT, SIGTERM and SIGHUP set a flag that run_child and the suite watch, instead of
// killing the parent: what finished is written before allocbench exits with status 130.
void install_interrupt_handlers();
bool interrupt_requested();

// The signal's name ("SIGSEGV"), or "signal N".
std::string signal_name(int sig);

// The path of the running executable (/proc/self/exe).
std::string self_executable();

}  // namespace allocbench
