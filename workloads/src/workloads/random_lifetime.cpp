// random-lifetime: a window of live objects, one replaced at random per step.
//
// Each thread fills a window of objects, then repeatedly frees a randomly chosen one and
// allocates a new object (of a newly drawn size) in its place; at the end it frees the
// window. Lifetimes are geometric: most objects die young, some live long. Frees land in
// random order among live neighbours, so this measures an allocator's fragmentation
// handling and how well it reuses freed memory of mixed sizes (the steady state of a
// cache or a server's session table).
//
// The window is filled and emptied inside the measured phase and those operations count.
// With a scale of fewer than 2 * window operations per thread, the window shrinks to fit.
//
// Peak live bytes: each thread's largest window content, summed over threads.
#include <algorithm>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

class RandomLifetime final : public Workload {
 public:
  std::string name() const override { return "random-lifetime"; }
  std::string description() const override {
    return "each thread keeps a window of live objects and replaces a random one per step";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"window",
         ParamSpec::Type::kInt,
         "1000",
         "objects",
         "live objects per thread",
         {},
         1,
         1 << 24},
    };
  }
  std::string default_size() const override { return "16..512"; }
  std::uint64_t default_ops() const override { return 2'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] {
      const auto window_param = static_cast<std::uint64_t>(config.params.get_int("window"));
      return run_threads(
          config, config.threads, even_split(config, default_ops()), [&](ThreadContext &ctx) {
            const std::uint64_t window =
                ctx.stop.timed() ? window_param : std::min(window_param, ctx.stop.budget() / 2);
            if (window == 0) return;
            std::vector<LiveObject> objects(window);
            for (auto &object : objects) {
              if (!allocate_object(ctx, ctx.config.sizes.sample(ctx.rng), object)) return;
            }
            // Keep enough operations in hand to free the whole window at the end.
            while (ctx.remaining() >= window + 2) {
              LiveObject &victim = objects[ctx.rng.uniform(0, window - 1)];
              if (!free_object(ctx, victim)) return;
              if (!allocate_object(ctx, ctx.config.sizes.sample(ctx.rng), victim)) return;
            }
            if (ctx.failed()) return;  // the heap is not trusted after a failed check
            for (const auto &object : objects) {
              if (!free_object(ctx, object)) return;
            }
          });
    });
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(RandomLifetime);

}  // namespace
}  // namespace allocbench
