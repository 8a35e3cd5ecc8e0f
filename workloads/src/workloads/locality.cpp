// locality: linked lists whose nodes are allocated interleaved with other allocations,
// then traversed.
//
// Each round a thread appends nodes to `lists` lists in turn, with `interleave` other
// allocations (sizes from the run's size distribution) after every node, so consecutive
// nodes of one list are never consecutive requests. Then it walks every list `traversals`
// times. How close an allocator places the nodes of one list decides the cache misses of
// the walk: `ns_per_node` is the time per node visited. The allocation side is reported
// on its own as `alloc_ns_per_op` (one thread's time in the building and freeing phases
// per operation); the run's ops/s covers both.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

struct Node {
  Node *next;
  std::uint64_t value;  // derived from the list and the position: checked by every walk
};

std::uint64_t node_value(std::uint64_t list_key, std::uint64_t position) {
  std::uint64_t x = list_key ^ (position * 0x9e3779b97f4a7c15ull);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  return x ^ (x >> 29);
}

std::int64_t ns_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start)
      .count();
}

struct Other {
  void *ptr;
  std::size_t size;
  std::uint64_t key;
};

class Locality final : public Workload {
 public:
  std::string name() const override { return "locality"; }
  std::string description() const override {
    return "linked lists allocated interleaved with other objects, then walked: ns per node";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"lists",
         ParamSpec::Type::kInt,
         "8",
         "lists",
         "lists built at the same time",
         {},
         1,
         1 << 16},
        {"nodes", ParamSpec::Type::kInt, "8192", "nodes", "nodes per list", {}, 1, 1 << 24},
        // A node holds its link and its value.
        {"node_size",
         ParamSpec::Type::kInt,
         "64",
         "bytes",
         "bytes requested per node",
         {},
         sizeof(Node),
         1 << 20},
        {"interleave",
         ParamSpec::Type::kInt,
         "1",
         "objects",
         "other allocations after every node; they stay live until the walks are done",
         {},
         0,
         1 << 10},
        {"traversals",
         ParamSpec::Type::kInt,
         "4",
         "walks",
         "walks of every list per round",
         {},
         1,
         1 << 20},
    };
  }
  std::string default_size() const override { return "16..256"; }
  std::uint64_t default_ops() const override { return 1'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] { return run_checked(config); });
  }

 private:
  WorkloadResult run_checked(const RunConfig &config) const {
    const auto lists = static_cast<std::size_t>(config.params.get_int("lists"));
    const auto nodes = static_cast<std::size_t>(config.params.get_int("nodes"));
    const auto node_size = static_cast<std::size_t>(config.params.get_int("node_size"));
    const auto interleave = static_cast<std::size_t>(config.params.get_int("interleave"));
    const auto traversals = config.params.get_int("traversals");
    if (lists < 1 || nodes < 1 || node_size < sizeof(Node) || traversals < 1 ||
        config.params.get_int("interleave") < 0) {
      WorkloadResult bad;
      bad.ok = false;
      bad.error =
          "locality: lists, nodes and traversals must be at least 1, node_size at least 16, "
          "interleave at least 0";
      return bad;
    }
    // Operations per node position: a node of every list and its interleaved objects,
    // allocated and freed. A round shrinks its lists to fit what is left of the budget.
    const std::uint64_t position_ops = 2 * lists * (1 + interleave);

    WorkloadResult result = run_threads(
        config, config.threads, even_split(config, default_ops()), [&](ThreadContext &ctx) {
          const MemoryApi &mem = ctx.mem;
          std::vector<Node *> heads(lists), tails(lists);
          std::vector<std::uint64_t> list_keys(lists);
          std::vector<Other> others;
          others.reserve(lists * nodes * interleave);
          std::int64_t walk_ns = 0, alloc_ns = 0;
          std::uint64_t visited = 0;
          while (!ctx.failed()) {
            const std::size_t length = static_cast<std::size_t>(
                std::min<std::uint64_t>(nodes, ctx.remaining() / position_ops));
            if (length == 0) break;
            auto start = std::chrono::steady_clock::now();
            for (std::size_t l = 0; l < lists; ++l) {
              heads[l] = tails[l] = nullptr;
              list_keys[l] = ctx.next_id();
            }
            for (std::size_t n = 0; n < length; ++n) {
              // A timed round ends its lists at the deadline (an untimed one has its length).
              if (ctx.stop.timed() && n > 0 && ctx.remaining() == 0) break;
              for (std::size_t l = 0; l < lists; ++l) {
                auto *node = static_cast<Node *>(mem.malloc(node_size));
                if (!node) {
                  ctx.fail("locality: malloc(" + std::to_string(node_size) + ") returned NULL");
                  break;
                }
                ctx.counters.on_alloc(node_size);
                node->next = nullptr;
                node->value = node_value(list_keys[l], n);
                (tails[l] ? tails[l]->next : heads[l]) = node;
                tails[l] = node;
                for (std::size_t k = 0; k < interleave; ++k) {
                  const std::size_t size = ctx.config.sizes.sample(ctx.rng);
                  void *p = mem.malloc(size);
                  if (!p) {
                    ctx.fail("locality: malloc(" + std::to_string(size) + ") returned NULL");
                    break;
                  }
                  const std::uint64_t key = pattern_key(p, ctx.next_id());
                  touch_fill(ctx.touch, p, size, key);
                  ctx.counters.on_alloc(size);
                  others.push_back({p, size, key});
                }
              }
              if (ctx.failed()) break;
            }
            alloc_ns += ns_since(start);

            start = std::chrono::steady_clock::now();
            std::uint64_t wrong = 0;
            for (std::int64_t t = 0; t < traversals && !ctx.failed(); ++t) {
              for (std::size_t l = 0; l < lists; ++l) {
                std::uint64_t position = 0;
                for (const Node *node = heads[l]; node; node = node->next) {
                  wrong += node->value != node_value(list_keys[l], position);
                  ++position;
                }
                visited += position;
              }
            }
            walk_ns += ns_since(start);
            if (wrong) {
              ctx.fail("locality: " + std::to_string(wrong) +
                       " list nodes did not hold the value written (content check failed)");
            }

            start = std::chrono::steady_clock::now();
            for (std::size_t l = 0; l < lists; ++l) {
              for (Node *node = heads[l]; node;) {
                Node *next = node->next;
                mem.free(node);
                ctx.counters.on_free(node_size);
                node = next;
              }
            }
            for (const Other &o : others) {
              if (auto bad = touch_check(ctx.touch, o.ptr, o.size, o.key); bad && !ctx.failed()) {
                ctx.fail(describe_mismatch("locality interleaved object", o.ptr, o.size, *bad));
              }
              mem.free(o.ptr);
              ctx.counters.on_free(o.size);
            }
            others.clear();
            alloc_ns += ns_since(start);
          }
          ctx.extra["walk_ns"] = static_cast<double>(walk_ns);
          ctx.extra["alloc_ns"] = static_cast<double>(alloc_ns);
          ctx.extra["nodes_visited"] = static_cast<double>(visited);
        });

    const double visited = result.extra["nodes_visited"];
    const double walk_ns = result.extra["walk_ns"];
    const double alloc_ns = result.extra["alloc_ns"];
    result.extra.erase("walk_ns");
    result.extra.erase("alloc_ns");
    result.extra["ns_per_node"] = visited > 0 ? walk_ns / visited : 0.0;
    const double ops = static_cast<double>(result.ops());
    result.extra["alloc_ns_per_op"] = ops > 0 ? alloc_ns / ops : 0.0;
    return result;
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(Locality);

}  // namespace
}  // namespace allocbench
