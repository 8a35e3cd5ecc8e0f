// Counters of the kernel's perf events (perf_event_open) over a workload's measured phase,
// read in the child: where the host exposes hardware counters, the instructions and cycles
// it retired in user space, on every thread the workload started.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace allocbench {

struct PerfEvent {
  std::string name;  // the figure's name: "instructions", "cycles"
  std::uint32_t type;
  std::uint64_t config;
};

// The hardware's instructions and cycles.
std::vector<PerfEvent> hardware_events();

// A group of counters of this process, opened disabled and inherited by the threads it
// starts afterwards: open before the workload starts its threads, start() and stop()
// around the measured phase, read() once its threads have been joined (an inherited
// counter adds its thread's count to its parent's when the thread exits).
class PerfCounters {
 public:
  // Opens every event; when one cannot be opened none is kept, and error() says why
  // ("hardware counters unavailable: ...").
  explicit PerfCounters(const std::vector<PerfEvent> &events);
  ~PerfCounters();
  PerfCounters(const PerfCounters &) = delete;
  PerfCounters &operator=(const PerfCounters &) = delete;

  bool ok() const { return error_.empty(); }
  const std::string &error() const { return error_; }
  void start();
  void stop();
  // Event name -> count since open (over the started phases); nullopt when not ok or a
  // counter could not be read.
  std::optional<std::map<std::string, std::uint64_t>> read() const;

 private:
  std::vector<std::pair<std::string, int>> fds_;
  std::string error_;
};

// Whether this host gives a process its hardware counters: "instructions, cycles
// (perf_event_open, user space)", or "unavailable: <why>" (the context of a run).
std::string hardware_counters_status();

}  // namespace allocbench
