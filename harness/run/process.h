// The run engine's process layer: every process allocbench runs an allocator in (a
// workload run, a probe, a microbenchmark) starts, is watched, timed out and killed here.
// A process runs in a process group of its own with only the allocator under test
// preloaded; its output comes back over pipes; SIGINT, SIGTERM and SIGHUP in the parent
// kill it and leave the decision to the caller.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "results.h"

namespace allocbench {

// One output of a process read back by the parent: one pipe, duplicated onto each of
// the child's descriptors `fds` (say {1, 2} for stdout and stderr together).
struct ProcessOutput {
  std::vector<int> fds;
  std::size_t keep_last = 0;  // bytes kept from its end (0: everything)
};

struct ProcessRequest {
  std::string exe;
  std::vector<std::string> args;  // after argv[0], which is `exe`
  // The library LD_PRELOAD names alone (the variable is unset when empty).
  std::string preload;
  // What the parent reads back; the child's stdin is /dev/null, and any of descriptors
  // 1 and 2 that no output names goes to /dev/null too, or with `inherit_stdio` to the
  // parent's.
  std::vector<ProcessOutput> outputs;
  bool inherit_stdio = false;
  // Descriptors 1 and 2 written to these files instead (created or truncated), when set
  // and no output names the descriptor: a program whose daemons outlive it holds no pipe.
  std::string stdout_path, stderr_path;
  std::string cwd;                     // the child's working directory ("" : the parent's)
  std::vector<std::string> extra_env;  // NAME=VALUE added to the child's environment
  double timeout_s = 0;                // the whole process group is killed after it (0: no limit)
  unsigned rss_interval_ms = 0;        // the parent samples the child's RSS (rss_sampler.h); 0: off
  // Sample the resident sets of the child and all its descendants, summed (a program that
  // starts others), instead of the child's alone.
  bool rss_of_tree = false;
  // When the child exits, whatever it left running in its process group is killed.
  bool kill_group_at_exit = false;
};

struct ProcessOutcome {
  std::string start_error;  // set when the process could not be started
  bool timed_out = false;
  bool interrupted = false;          // killed because the parent was asked to stop
  int wait_status = 0;               // as wait4 reports it
  std::optional<rusage> usage;       // from wait4, absent when interrupted or not started
  std::vector<std::string> outputs;  // one per request output
  std::optional<RssTimeline> rss_timeline;
  std::optional<std::uint64_t> peak_rss_kib;  // the largest sample, when sampling was on
  double wall_s = 0;                          // from the start to the child's exit

  bool started() const { return start_error.empty(); }
  // Why the process failed on its own: "timeout after N s", "crashed: SIGSEGV"; empty
  // when it exited (whatever the status) or was interrupted.
  std::string failure(double timeout_s) const;
};

// Runs `request` and waits for it: until it exits, its time is up, or the parent is
// interrupted (install_interrupt_handlers). A process that outlives the wait has its
// whole group killed.
ProcessOutcome run_process(const ProcessRequest &request);

// SIGINT, SIGTERM and SIGHUP set a flag that run_process and the suite watch, instead of
// killing the parent: what finished is written before allocbench exits with status 130.
void install_interrupt_handlers();
bool interrupt_requested();

// The signal's name ("SIGSEGV"), or "signal N".
std::string signal_name(int sig);

// Runs this process, and so every process it starts from now on, on `cpus` alone (a
// single-thread benchmark on a virtual machine whose scheduler moves threads between CPUs
// can run at one speed or another for a whole process). Throws std::invalid_argument
// ("--cpus: ...") when the system refuses the set.
void run_on_cpus(const std::vector<unsigned> &cpus);

// The resource usage wait4 reported, into a run's figures: user and system CPU, ru_maxrss
// as the peak RSS, page faults and context switches.
void record_usage(const rusage &usage, RunMetrics &metrics);

// The last non-empty line of a process's output, cut to `max_chars` (and "..." added) when
// longer: what a failed row quotes.
std::string last_line(std::string text, std::size_t max_chars = std::string::npos);

// The absolute path `PATH` lookup gives for `name` (a name with a '/' is taken as given),
// or nothing.
std::optional<std::string> find_executable(const std::string &name);

// The path of the running executable (/proc/self/exe), and its directory (where the
// allocbench-micro binary and, in a build tree or bundle, the fio shim are looked for).
std::string self_executable();
std::string self_directory();

// The environment of a child: this process's, with LD_PRELOAD set to `preload` alone
// (unset when empty) and the parent's pid for die_with_parent() (parent_death.h).
std::vector<std::string> child_environment(const std::string &preload);

}  // namespace allocbench
