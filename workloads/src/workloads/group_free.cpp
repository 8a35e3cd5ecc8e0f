// group-free: the fio design point.
//
// Each thread allocates a group of objects, writes each, then frees the whole group, and
// repeats. Groups never overlap in time, and a thread frees only its own objects. This is
// the pattern the fio allocator is built for (many small allocations, then many frees),
// and it measures an allocator's thread-local fast paths for malloc and free, and how
// cheaply it recycles the memory of a whole group.
//
// `zeroed` allocates with calloc(1, size) and checks the memory is zero before writing:
// every allocator is then asked for zeroed memory, the fio API's promise.
// `free_order` frees the group in allocation order, in reverse, or in a random order
// (one random permutation per thread, drawn before the first group and reused).
//
// Peak live bytes: the largest group of a thread, summed over threads.
#include <algorithm>
#include <numeric>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

class GroupFree final : public Workload {
 public:
  std::string name() const override { return "group-free"; }
  std::string description() const override {
    return "each thread allocates a group of objects, writes each, then frees the whole group; "
           "repeat";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"group",
         ParamSpec::Type::kInt,
         "4096",
         "objects",
         "objects allocated per group",
         {},
         1,
         1 << 24},
        {"zeroed", ParamSpec::Type::kBool, "false", "",
         "allocate with calloc and check the memory is zero (what the fio API always promises)"},
        {"free_order",
         ParamSpec::Type::kString,
         "forward",
         "",
         "order in which a group is freed",
         {"forward", "reverse", "random"}},
    };
  }
  std::string default_size() const override { return "16..512"; }
  std::uint64_t default_ops() const override { return 2'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] {
      const auto group = static_cast<std::size_t>(config.params.get_int("group"));
      const bool zeroed = config.params.get_bool("zeroed");
      const std::string &order = config.params.get_string("free_order");
      return run_threads(
          config, config.threads, even_split(config, default_ops()), [&](ThreadContext &ctx) {
            std::vector<LiveObject> objects(group);
            std::vector<std::size_t> free_order(group);
            std::iota(free_order.begin(), free_order.end(), std::size_t{0});
            if (order == "reverse") {
              std::reverse(free_order.begin(), free_order.end());
            } else if (order == "random") {
              for (std::size_t i = group; i > 1; --i) {
                std::swap(free_order[i - 1], free_order[ctx.rng.uniform(0, i - 1)]);
              }
            }
            std::uint64_t groups = 0;
            while (true) {
              // The last group shrinks to fit the thread's share of operations exactly.
              const std::size_t count =
                  static_cast<std::size_t>(std::min<std::uint64_t>(group, ctx.remaining() / 2));
              if (count == 0) break;
              for (std::size_t i = 0; i < count; ++i) {
                const std::size_t size = ctx.config.sizes.sample(ctx.rng);
                const bool allocated = zeroed ? allocate_zeroed_object(ctx, size, objects[i])
                                              : allocate_object(ctx, size, objects[i]);
                if (!allocated) return;
              }
              for (const std::size_t i : free_order) {
                if (i < count && !free_object(ctx, objects[i])) return;
              }
              ++groups;
            }
            ctx.extra["groups"] += static_cast<double>(groups);
          });
    });
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(GroupFree);

}  // namespace
}  // namespace allocbench
