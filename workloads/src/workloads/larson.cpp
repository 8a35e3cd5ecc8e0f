// larson: a server simulation after Larson and Krishnan's benchmark ("Memory allocation
// for long-running server applications", ISMM 1998).
//
// Each of the run's threads owns an array of slots. The array is filled by the thread
// that owns it, then handed to a worker thread that replaces a random slot per step
// (frees the object there, allocates a new one). After `rounds` rounds of `slots` steps
// the worker exits and a new worker thread inherits the array: its first frees are of
// objects a thread that no longer exists allocated. At the end the owner frees what is
// left. This measures what servers that use a thread per connection do to an allocator:
// cross-thread frees of inherited objects, the cost of thread creation and exit (an
// allocator's per-thread caches are set up and abandoned once per worker), and the
// fragmentation random replacement causes.
//
// Thread creation and exit are inside the measured phase, as in the original. The
// classic benchmark also fills every array from the main thread; here each array's owner
// fills it, which makes the first worker's frees cross-thread in the same way.
//
// Peak live bytes: each array's largest content, summed over arrays.
#include <algorithm>
#include <thread>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

class Larson final : public Workload {
 public:
  std::string name() const override { return "larson"; }
  std::string description() const override {
    return "server simulation: random replacement in per-thread slots; worker threads exit "
           "and successors inherit and free their objects";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"slots", ParamSpec::Type::kInt, "1000", "objects", "slots per thread", {}, 1, 1 << 24},
        {"rounds",
         ParamSpec::Type::kInt,
         "10",
         "rounds",
         "rounds of `slots` replacements a worker thread does before it exits",
         {},
         1,
         1 << 20},
    };
  }
  std::string default_size() const override { return "16..1024"; }
  std::uint64_t default_ops() const override { return 2'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] {
      const auto slots_param = static_cast<std::uint64_t>(config.params.get_int("slots"));
      const auto rounds = static_cast<std::uint64_t>(config.params.get_int("rounds"));
      return run_threads(
          config, config.threads, even_split(config, default_ops()), [&](ThreadContext &ctx) {
            const std::uint64_t slots =
                ctx.stop.timed() ? slots_param : std::min(slots_param, ctx.stop.budget() / 2);
            if (slots == 0) return;
            std::vector<LiveObject> objects(slots);
            for (auto &object : objects) {
              if (!allocate_object(ctx, ctx.config.sizes.sample(ctx.rng), object)) return;
            }
            const std::uint64_t steps_per_worker = rounds * slots;
            // A worker uses the owner's context (its random numbers, counters and stop
            // condition): the owner waits in join() meanwhile, which orders their accesses.
            auto worker = [&] {
              for (std::uint64_t step = 0; step < steps_per_worker; ++step) {
                if (ctx.remaining() < slots + 2) return;  // keep the final frees in hand
                LiveObject &victim = objects[ctx.rng.uniform(0, slots - 1)];
                if (!free_object(ctx, victim)) return;
                if (!allocate_object(ctx, ctx.config.sizes.sample(ctx.rng), victim)) return;
              }
            };
            std::uint64_t workers = 0;
            while (ctx.remaining() >= slots + 2) {
              std::thread(worker).join();
              ++workers;
            }
            ctx.extra["worker_threads"] += static_cast<double>(workers);
            if (ctx.failed()) return;  // the heap is not trusted after a failed check
            for (const auto &object : objects) {
              if (!free_object(ctx, object)) return;
            }
          });
    });
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(Larson);

}  // namespace
}  // namespace allocbench
