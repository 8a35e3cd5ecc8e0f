// The child side of a run: the hidden mode in which allocbench re-executes itself with
// the allocator under test preloaded, proves which allocator serves it, runs one
// repetition of one workload and reports back over a pipe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "allocators.h"
#include "results.h"

namespace allocbench {

// argv[1] of a child process; not an option a user types.
inline constexpr const char *kChildModeArg = "__child";
// The descriptor the child writes its JSON reply to.
inline constexpr int kChildReplyFd = 3;

struct WorkloadRequest {
  std::string workload;
  std::vector<std::pair<std::string, std::string>> params;  // bound, declared order
  std::string size;
  unsigned threads = 1;
  std::uint64_t ops = 0;
  double duration_s = 0.0;
  std::uint64_t seed = 42;
  unsigned latency_every = 0;  // latency mode: time one call in N per thread (0: off)
  // Counted mode: the child runs under callgrind, which counts only the measured phase.
  bool counted = false;
};

// What a child is asked to do: prove `allocator`, then run `workload` if there is one
// (without one it is a probe: proof and version only).
struct ChildRequest {
  AllocatorSpec allocator;
  std::optional<WorkloadRequest> workload;
};

Json to_json(const ChildRequest &request);
ChildRequest child_request_from_json(const Json &json);

// Entry point of the hidden mode: `allocbench __child REQUEST_JSON`. Exit status 0 when
// a reply was written (the reply says whether the proof and the run succeeded), 1 when
// the request itself was bad.
int child_main(int argc, char **argv);

}  // namespace allocbench
