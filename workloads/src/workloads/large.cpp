// large: buffers above the small-object limits (16 KiB to 4 MiB by default), each thread
// replacing a random one of a small set of live buffers per step.
//
// These sizes take the allocators' large-object and mmap paths, where the cost is in
// system calls and page faults rather than in free lists; so by default each buffer gets a
// word per page (touch=pages), which faults every page in as a program writing it would,
// and the run's page faults tell the story with it.
// An operation here costs microseconds to milliseconds (an allocator that returns the
// memory to the system faults every page in again), hence the small default count.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

struct Buffer {
  void *ptr = nullptr;
  std::size_t size = 0;
  std::uint64_t key = 0;
};

class Large final : public Workload {
 public:
  std::string name() const override { return "large"; }
  std::string description() const override {
    return "large buffers (16 KiB to 4 MiB) replacing a small set of live ones: the mmap paths";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"buffers",
         ParamSpec::Type::kInt,
         "16",
         "buffers",
         "live buffers per thread",
         {},
         1,
         1 << 16},
    };
  }
  Touch default_touch() const override { return Touch::kPages; }
  std::string default_size() const override { return "16384..4194304"; }
  std::uint64_t default_ops() const override { return 2'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] { return run_checked(config); });
  }

 private:
  WorkloadResult run_checked(const RunConfig &config) const {
    const auto buffers = static_cast<std::size_t>(config.params.get_int("buffers"));
    WorkloadResult bad;
    bad.ok = false;
    if (buffers < 1) {
      bad.error = "large: buffers must be at least 1";
      return bad;
    }

    return run_threads(
        config, config.threads, even_split(config, default_ops()), [&](ThreadContext &ctx) {
          const MemoryApi &mem = ctx.mem;
          std::vector<Buffer> live(buffers);
          auto allocate = [&](Buffer &b) {
            b.size = ctx.config.sizes.sample(ctx.rng);
            b.ptr = mem.malloc(b.size);
            if (!b.ptr) {
              ctx.fail("large: malloc(" + std::to_string(b.size) + ") returned NULL");
              b.size = 0;
              return;
            }
            b.key = pattern_key(b.ptr, ctx.next_id());
            touch_fill(ctx.touch, b.ptr, b.size, b.key);
            ctx.counters.on_alloc(b.size);
          };
          auto release = [&](Buffer &b) {
            if (!b.ptr) return;
            if (auto mismatch = touch_check(ctx.touch, b.ptr, b.size, b.key);
                mismatch && !ctx.failed()) {
              ctx.fail(describe_mismatch("large buffer", b.ptr, b.size, *mismatch));
            }
            mem.free(b.ptr);
            ctx.counters.on_free(b.size);
            b.ptr = nullptr;
          };
          std::size_t filled = 0;
          for (Buffer &b : live) {
            // Keep the frees of what is already live in hand (small scales).
            if (ctx.remaining() < filled + 2 || ctx.failed()) break;
            allocate(b);
            ++filled;
          }
          // Keep room for freeing the set at the end.
          while (!ctx.failed() && ctx.remaining() > buffers + 1) {
            Buffer &b = live[ctx.rng.uniform(0, buffers - 1)];
            release(b);
            allocate(b);
          }
          for (Buffer &b : live) release(b);
        });
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(Large);

}  // namespace
}  // namespace allocbench
