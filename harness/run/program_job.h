// A program job: one run of a real program (programs.h) under one allocator, the suite's
// third kind of job. The program runs unmodified in a fresh working directory with the
// allocator preloaded and, beside it, the probe (harness/probe/), which every process of
// its tree loads and which reports the library serving malloc, free, calloc and realloc
// there. A process served by another library makes the run a failed row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "allocators.h"
#include "programs.h"
#include "results.h"

namespace allocbench {

inline constexpr const char *kProgramWorkload = "program";

// The identity of a program benchmark: program/name=<name>/threads=1.
BenchmarkId program_benchmark_id(const std::string &name);

// The probe library: $ALLOCBENCH_PROBE, else liballocbench-probe.so next to the running
// executable or in a bundle's lib/.
std::string probe_library();

struct ProgramJob {
  ProgramDef program;
};

struct ProgramRun {
  RunRecord record;
  // FNV-1a of the program's standard output, for the comparison across allocators.
  std::optional<std::uint64_t> output_digest;
};

// One repetition of `job` under `allocator`. `interrupted` is set (and the record is
// meaningless) when the parent was asked to stop.
ProgramRun run_program_job(const ProgramJob &job, const AllocatorSpec &allocator, double timeout_s,
                           unsigned rss_interval_ms, bool &interrupted);

}  // namespace allocbench
