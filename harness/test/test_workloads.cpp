// Workloads that fail on purpose, compiled only into allocbench-testing (the test build
// of the runner) so the failure paths of the harness can be exercised end to end. They
// never appear in the real allocbench's --list.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

class TestWorkload : public Workload {
 public:
  std::string default_size() const override { return "64"; }
  std::uint64_t default_ops() const override { return 1000; }
  std::vector<ParamSpec> workload_params() const override { return {}; }
};

// Dies of SIGSEGV, as a corrupting allocator would make a program die.
class TestCrash final : public TestWorkload {
 public:
  std::string name() const override { return "test-crash"; }
  std::string description() const override { return "test only: dies of SIGSEGV"; }
  WorkloadResult run(const RunConfig &) const override {
    ::raise(SIGSEGV);
    return {};
  }
};

// Never returns; writes its pid first so a test can check the process was killed.
class TestHang final : public TestWorkload {
 public:
  std::string name() const override { return "test-hang"; }
  std::string description() const override { return "test only: never finishes"; }
  std::vector<ParamSpec> workload_params() const override {
    // Any path: the test chooses it.
    return {{"pid_file",
             ParamSpec::Type::kString,
             "",
             "",
             "file to write the pid to",
             {},
             {},
             {},
             [](const std::string &) { return std::string(); }}};
  }
  WorkloadResult run(const RunConfig &config) const override {
    const std::string &pid_file = config.params.get_string("pid_file");
    if (!pid_file.empty()) {
      const std::string tmp = pid_file + ".tmp";
      std::ofstream(tmp) << ::getpid() << '\n';
      std::rename(tmp.c_str(), pid_file.c_str());
    }
    for (;;) ::pause();
  }
};

// Writes the pattern into an object, damages one byte, and reports what the check finds.
class TestCorrupt final : public TestWorkload {
 public:
  std::string name() const override { return "test-corrupt"; }
  std::string description() const override { return "test only: fails its content check"; }
  WorkloadResult run(const RunConfig &config) const override {
    WorkloadResult result;
    const std::size_t size = config.sizes.max();
    auto *object = static_cast<unsigned char *>(config.mem->malloc(size));
    result.allocs = 1;
    const std::uint64_t key = pattern_key(object, 1);
    pattern_fill(object, size, key);
    object[size / 2] ^= 0x5a;
    if (auto mismatch = pattern_check(object, size, key)) {
      result.ok = false;
      result.error = describe_mismatch("object", object, size, *mismatch);
    }
    config.mem->free(object);
    result.frees = 1;
    return result;
  }
};

// Exits with status 3 after a message on stderr, as a failing assertion would.
class TestExit final : public TestWorkload {
 public:
  std::string name() const override { return "test-exit"; }
  std::string description() const override { return "test only: exits with status 3"; }
  WorkloadResult run(const RunConfig &) const override {
    std::fputs("test-exit: giving up on purpose\n", stderr);
    std::fflush(stderr);
    std::_Exit(3);
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(TestCrash);
ALLOCBENCH_REGISTER_WORKLOAD(TestHang);
ALLOCBENCH_REGISTER_WORKLOAD(TestCorrupt);
ALLOCBENCH_REGISTER_WORKLOAD(TestExit);

}  // namespace
}  // namespace allocbench
