// Latency mode (`allocbench --latency`): the child runs the workload through a MemoryApi
// that times every Nth call of each thread and forwards every call to the process's
// malloc family. Throughput runs use the plain MemoryApi, so they carry no sampling;
// the latency runs' own throughput does include it.
//
// The timer is clock_gettime(CLOCK_MONOTONIC) read before and after the call; a sample
// therefore includes one timer read, whose cost is measured at start and reported as
// `sampling_overhead_ns` (not subtracted: the percentiles are what was measured).
#pragma once

#include "allocbench/workload.h"
#include "results.h"

namespace allocbench {

// Samples kept per thread; a thread that fills its buffer stops sampling (the summary
// says how many samples it holds).
inline constexpr std::size_t kLatencySamplesPerThread = std::size_t{1} << 20;

// The timing MemoryApi, sampling one call in `every` (>= 1) of each thread; forwards to
// MemoryApi::system(). Clears the samples of an earlier use.
const MemoryApi &timing_memory(unsigned every);

// Percentiles over every sample taken since timing_memory() (all threads), and the
// timer's own cost (the median of back-to-back reads).
LatencySummary latency_summary();

// The JSON object RESULTS.md specifies for `latency_ns`, and its reader.
Json latency_to_json(const LatencySummary &latency);
LatencySummary latency_from_json(const Json &json);

}  // namespace allocbench
