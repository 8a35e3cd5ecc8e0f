// The child runs and their proof, through allocbench-testing (the runner with the
// test-only failing workloads) and small test libraries that are not allocators.
#include "callgrind.h"
#include "child_runner.h"

#include <linux/perf_event.h>

#include <time.h>

#include <thread>

#include <gnu/libc-version.h>
#include <signal.h>

#include <gtest/gtest.h>

#include "allocators.h"
#include "perf_counters.h"

namespace allocbench {
namespace {

ChildRequest probe_of(AllocatorSpec spec) {
  ChildRequest r;
  r.allocator = std::move(spec);
  return r;
}

ChildRequest run_of(AllocatorSpec spec, const std::string &workload,
                    std::vector<std::pair<std::string, std::string>> params = {}) {
  ChildRequest r = probe_of(std::move(spec));
  r.workload = WorkloadRequest{workload, std::move(params), "64", 1, 1000, 0.0, 42};
  return r;
}

AllocatorSpec glibc() {
  return {"glibc", "", "glibc"};
}

bool starts_with(const std::string &s, const std::string &prefix) {
  return s.rfind(prefix, 0) == 0;
}

TEST(ChildProof, GlibcProvesItself) {
  const ChildOutcome out = run_child(ALLOCBENCH_TESTING_EXE, probe_of(glibc()), 30);
  ASSERT_EQ(out.status, ChildOutcome::Status::kOk) << out.error;
  ASSERT_TRUE(out.proof);
  EXPECT_EQ(out.proof->malloc_from, system_libc_path());
  EXPECT_EQ(out.proof->version, gnu_get_libc_version());
}

TEST(ChildProof, PreloadedAllocatorProvesItself) {
  const LocatedAllocator je = locate_builtin_allocator("jemalloc", ".");
  if (!je.spec) GTEST_SKIP() << "jemalloc is not installed: " << je.reason;
  const ChildOutcome out = run_child(ALLOCBENCH_TESTING_EXE, probe_of(*je.spec), 30);
  ASSERT_EQ(out.status, ChildOutcome::Status::kOk) << out.error;
  EXPECT_EQ(out.proof->malloc_from, je.spec->library);
  EXPECT_FALSE(out.proof->version.empty());
  EXPECT_NE(out.proof->version, "unknown");
}

TEST(ChildProof, LibraryWithoutMallocIsRefused) {
  const ChildOutcome out = run_child(
      ALLOCBENCH_TESTING_EXE, run_of({"fake", ALLOCBENCH_NOT_MALLOC_LIB, ""}, "alloc-free"), 30);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_TRUE(starts_with(out.error, "allocator mismatch: ")) << out.error;
  EXPECT_NE(out.error.find("does not define malloc"), std::string::npos) << out.error;
  // No numbers from a run that did not prove its allocator.
  EXPECT_TRUE(out.result.is_null());
  EXPECT_FALSE(out.proof);
}

TEST(ChildProof, PreloadThatDoesNotTakeEffectIsRefused) {
  // A position-independent executable is a 64-bit ET_DYN ELF file like a library, but
  // ld.so will not preload it: it prints a warning and the process goes on with glibc.
  for (const std::string &library :
       {std::string(ALLOCBENCH_TESTING_EXE), std::string("/nonexistent/libmalloc.so")}) {
    const ChildOutcome out =
        run_child(ALLOCBENCH_TESTING_EXE, run_of({"pie", library, ""}, "alloc-free"), 30);
    EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
    EXPECT_TRUE(starts_with(out.error, "allocator mismatch: ")) << out.error;
    EXPECT_NE(out.error.find("preload did not take effect"), std::string::npos) << out.error;
    EXPECT_NE(out.error.find(system_libc_path()), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("cannot be preloaded"), std::string::npos) << out.error;
    EXPECT_TRUE(out.result.is_null());
  }
}

TEST(ChildProof, LibraryThatCannotBeLoadedIsRefused) {
  // The library's own dependency is missing: the loader stops the child before main.
  const ChildOutcome out =
      run_child(ALLOCBENCH_TESTING_EXE,
                run_of({"ghostly", ALLOCBENCH_MISSING_DEPENDENCY_LIB, ""}, "alloc-free"), 30);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_TRUE(starts_with(out.error, "exited with status 127")) << out.error;
  EXPECT_NE(out.error.find("error while loading shared libraries"), std::string::npos) << out.error;
}

TEST(ChildProof, WrongAllocatorUnderABuiltinNameIsRefused) {
  const LocatedAllocator je = locate_builtin_allocator("jemalloc", ".");
  if (!je.spec) GTEST_SKIP() << "jemalloc is not installed: " << je.reason;
  // jemalloc's library presented as mimalloc: it serves malloc, but has no mi_version.
  const ChildOutcome out = run_child(
      ALLOCBENCH_TESTING_EXE, run_of({"mimalloc", je.spec->library, "mimalloc"}, "alloc-free"), 30);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_NE(out.error.find("does not export mi_version"), std::string::npos) << out.error;
}

TEST(ChildRun, WorkloadResultComesBack) {
  const ChildOutcome out = run_child(ALLOCBENCH_TESTING_EXE, run_of(glibc(), "alloc-free"), 30);
  ASSERT_EQ(out.status, ChildOutcome::Status::kOk) << out.error;
  EXPECT_EQ(out.result.value("allocs", 0u) + out.result.value("frees", 0u), 1000u);
  EXPECT_TRUE(out.usage);
  EXPECT_TRUE(out.vm_hwm_kib);
}

TEST(ChildRun, CrashBecomesAReason) {
  const ChildOutcome out = run_child(ALLOCBENCH_TESTING_EXE, run_of(glibc(), "test-crash"), 30);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_TRUE(starts_with(out.error, "crashed: SIGSEGV")) << out.error;
  EXPECT_TRUE(out.usage);
}

TEST(ChildRun, HangIsKilledAtTheTimeout) {
  const ChildOutcome out = run_child(ALLOCBENCH_TESTING_EXE, run_of(glibc(), "test-hang"), 0.5);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_EQ(out.error, "timeout after 0.5 s");
}

TEST(ChildRun, ContentCheckFailureBecomesAReason) {
  const ChildOutcome out = run_child(ALLOCBENCH_TESTING_EXE, run_of(glibc(), "test-corrupt"), 30);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_TRUE(starts_with(out.error, "content check failed: ")) << out.error;
  EXPECT_TRUE(out.proof);
}

TEST(ChildRun, NonZeroExitKeepsTheStderrTail) {
  const ChildOutcome out = run_child(ALLOCBENCH_TESTING_EXE, run_of(glibc(), "test-exit"), 30);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_TRUE(starts_with(out.error, "exited with status 3")) << out.error;
  EXPECT_NE(out.error.find("giving up on purpose"), std::string::npos) << out.error;
}

TEST(ChildRun, MissingExecutable) {
  const ChildOutcome out = run_child("/nonexistent/allocbench", probe_of(glibc()), 5);
  EXPECT_EQ(out.status, ChildOutcome::Status::kFailed);
  EXPECT_NE(out.error.find("cannot start"), std::string::npos) << out.error;
}

TEST(ChildRun, SignalNames) {
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
}

TEST(CountedMode, CallgrindTotalsAreReadByEventName) {
  const std::string text =
      "version: 1\ncreator: callgrind-3.19.0\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
      "fn=(1) main\n0 5 2 1\nsummary: 1000 300 200 4 5 6 1 2 3\ntotals: 1000 300 200 4 5 6 1 2 3\n";
  const std::map<std::string, double> totals = parse_callgrind_totals(text);
  EXPECT_EQ(totals.at("Ir"), 1000);
  EXPECT_EQ(totals.at("Dw"), 200);
  EXPECT_EQ(totals.at("DLmw"), 3);
  EXPECT_THROW(parse_callgrind_totals("events: Ir\n"), std::runtime_error);
  EXPECT_THROW(parse_callgrind_totals("totals: 5\n"), std::runtime_error);
}

}  // namespace
}  // namespace allocbench

namespace allocbench {
namespace {

// The counters' machinery (opened before the threads, inherited, enabled and disabled
// around a phase, summed when the threads exit), with the kernel's software clock, which
// every host has; the hardware's events take the same path where the host exposes them.
TEST(PerfCounters, CountTheThreadsStartedAfterOpenWithinThePhase) {
  PerfCounters counters({{"task_clock_ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK}});
  if (!counters.ok()) GTEST_SKIP() << counters.error();
  // 30 ms of the thread's own CPU time, however often it is preempted.
  auto spin = [] {
    auto cpu_ms = [] {
      timespec t;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
      return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
    };
    const double until = cpu_ms() + 30.0;
    while (cpu_ms() < until) {
    }
  };
  std::thread before_the_phase(spin);  // counted by nobody: not yet enabled
  before_the_phase.join();
  counters.start();
  std::thread a(spin), b(spin);
  a.join();
  b.join();
  counters.stop();
  std::thread after_the_phase(spin);
  after_the_phase.join();
  const auto counts = counters.read();
  ASSERT_TRUE(counts);
  const double ms = static_cast<double>(counts->at("task_clock_ns")) / 1e6;
  // Two threads of 30 ms each, not three or four.
  EXPECT_GT(ms, 50.0);
  EXPECT_LT(ms, 85.0);
}

TEST(PerfCounters, AnEventTheHostLacksSaysWhy) {
  const PerfCounters counters({{"nothing", PERF_TYPE_HARDWARE, 0xffff}});
  EXPECT_FALSE(counters.ok());
  EXPECT_NE(counters.error().find("hardware counters unavailable: perf_event_open(nothing)"),
            std::string::npos)
      << counters.error();
  EXPECT_FALSE(counters.read());
  // The status of the real ones is one line either way.
  const std::string status = hardware_counters_status();
  EXPECT_TRUE(status.rfind("instructions, cycles", 0) == 0 ||
              status.rfind("hardware counters unavailable", 0) == 0)
      << status;
}

}  // namespace
}  // namespace allocbench
