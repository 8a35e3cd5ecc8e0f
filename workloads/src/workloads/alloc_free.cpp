// alloc-free: allocate and free at once (zero lifetime), mixed sizes.
//
// Each thread allocates one object, writes it, checks it and frees it before the next
// allocation. At most one object per thread is live, so this measures the shortest
// round trip through an allocator: the malloc fast path and a free that returns the
// memory to where the next malloc of a similar size finds it. It punishes allocators
// that do work per free (zeroing, returning memory to a shared pool, reference counts).
//
// Peak live bytes: the largest object of each thread, summed over threads.
#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

class AllocFree final : public Workload {
 public:
  std::string name() const override { return "alloc-free"; }
  std::string description() const override {
    return "allocate, write and free at once (zero lifetime), mixed sizes";
  }
  std::vector<ParamSpec> workload_params() const override { return {}; }
  std::string default_size() const override { return "16..1024"; }
  std::uint64_t default_ops() const override { return 2'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] {
      return run_threads(config, config.threads, even_split(config, default_ops()),
                         [](ThreadContext &ctx) {
                           LiveObject object;
                           while (ctx.remaining() >= 2) {
                             const std::size_t size = ctx.config.sizes.sample(ctx.rng);
                             if (!allocate_object(ctx, size, object)) return;
                             if (!free_object(ctx, object)) return;
                           }
                         });
    });
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(AllocFree);

}  // namespace
}  // namespace allocbench
