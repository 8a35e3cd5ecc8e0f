// false-sharing: small objects of different threads that may share cache lines, written
// hard by their threads.
//
// active:  each thread allocates its own small objects and writes them. An allocator that
//          serves several threads from the same cache lines makes the writes slow.
// passive: thread 0 allocates every object and hands them out round-robin, so neighbours
//          go to different threads; each thread frees what it was given and allocates its
//          own objects again. An allocator that gives the freed memory back to the freeing
//          thread makes neighbouring objects of different threads share lines.
//
// Threads work in lockstep rounds. Besides the time per write (`ns_per_write`), the run
// reports how many of the cache lines holding the first round's objects were shared by
// objects of two or more threads (`shared_lines`, `shared_line_fraction`).
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

constexpr std::size_t kLine = 64;

struct Object {
  void *ptr = nullptr;
  std::size_t size = 0;
  std::uint64_t key = 0;
};

// The first 8 bytes hold the write counter; the rest holds the pattern.
constexpr std::size_t kCounterBytes = sizeof(std::uint64_t);

class FalseSharing final : public Workload {
 public:
  std::string name() const override { return "false-sharing"; }
  std::string description() const override {
    return "small objects of different threads written hard (active or passive false sharing)";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"mode",
         ParamSpec::Type::kString,
         "active",
         "",
         "active: threads allocate their own objects; passive: thread 0 allocates and hands "
         "them out, threads free them and allocate again",
         {"active", "passive"}},
        {"objects",
         ParamSpec::Type::kInt,
         "16",
         "objects",
         "objects per thread per round",
         {},
         1,
         1 << 16},
        {"writes",
         ParamSpec::Type::kInt,
         "1000",
         "writes",
         "writes to each object per round (interleaved over the thread's objects)",
         {},
         1,
         1 << 24},
    };
  }
  std::string default_size() const override { return "8..48"; }
  std::uint64_t default_ops() const override { return 100'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] { return run_checked(config); });
  }

 private:
  WorkloadResult run_checked(const RunConfig &config) const {
    const std::string mode = config.params.get_string("mode");
    const auto objects = static_cast<std::size_t>(config.params.get_int("objects"));
    const auto writes = config.params.get_int("writes");
    WorkloadResult bad;
    bad.ok = false;
    if (mode != "active" && mode != "passive") {
      bad.error = "false-sharing: mode must be 'active' or 'passive', not '" + mode + "'";
      return bad;
    }
    if (objects < 1 || writes < 1) {
      bad.error = "false-sharing: objects and writes must be at least 1";
      return bad;
    }
    const bool passive = mode == "passive";
    const unsigned threads = config.threads;
    // Every thread runs the same number of rounds (they meet at barriers), derived from
    // the operation budget; a timed run stops at the first round boundary after the
    // deadline, as thread 0 sees it.
    const std::uint64_t ops_per_round =
        threads * objects * 2 + (passive ? threads * objects * 2 : 0);
    const std::uint64_t total = total_ops(config, default_ops());
    const std::uint64_t rounds = std::max<std::uint64_t>(1, total / ops_per_round);

    std::barrier sync(static_cast<std::ptrdiff_t>(threads));
    std::atomic<bool> stop{false};
    std::vector<std::vector<Object>> handoff(threads, std::vector<Object>(objects));
    std::vector<std::vector<std::uintptr_t>> first_round(threads);
    std::atomic<std::uint64_t> write_ns{0};

    WorkloadResult result = run_threads(
        config, threads, [](unsigned) { return StopCondition::kUnbounded; },
        [&](ThreadContext &ctx) {
          std::vector<Object> own(objects);
          std::uint64_t my_write_ns = 0;
          for (std::uint64_t round = 0;; ++round) {
            // Round boundary: thread 0 decides whether to go on; everyone reads it after
            // the barrier (it changes again only after the next barrier of this round).
            if (ctx.index == 0) {
              bool done =
                  ctx.failed() || (ctx.stop.timed() ? ctx.remaining() == 0 : round >= rounds);
              stop.store(done, std::memory_order_relaxed);
            }
            sync.arrive_and_wait();
            if (stop.load(std::memory_order_relaxed)) break;

            if (passive) {
              if (ctx.index == 0) {
                for (std::size_t i = 0; i < objects; ++i) {
                  for (unsigned t = 0; t < threads; ++t) {
                    handoff[t][i] = allocate(ctx);
                  }
                }
              }
              sync.arrive_and_wait();
              // The handed objects' live bytes move from thread 0 to their new owner.
              if (ctx.index == 0) {
                for (const auto &given : handoff) {
                  for (const Object &o : given) ctx.counters.live_bytes -= o.size;
                }
              }
              for (Object &o : handoff[ctx.index]) {
                ctx.counters.live_bytes += o.size;
                release(ctx, o);
              }
            }
            for (Object &o : own) o = allocate(ctx);
            if (round == 0) {
              auto &addresses = first_round[ctx.index];
              for (const Object &o : own) {
                addresses.push_back(reinterpret_cast<std::uintptr_t>(o.ptr));
              }
            }
            const auto start = std::chrono::steady_clock::now();
            for (std::int64_t w = 0; w < writes; ++w) {
              for (const Object &o : own) {
                if (!o.ptr) continue;
                // volatile: every write must reach memory, as the point is its cost.
                auto *counter = static_cast<volatile std::uint64_t *>(o.ptr);
                *counter = *counter + 1;
              }
            }
            my_write_ns +=
                static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count());
            for (Object &o : own) {
              if (!o.ptr) continue;
              auto *counter = static_cast<const volatile std::uint64_t *>(o.ptr);
              if (*counter != static_cast<std::uint64_t>(writes)) {
                ctx.fail("content check failed: a false-sharing object's counter reads " +
                         std::to_string(*counter) + " after " + std::to_string(writes) +
                         " writes (its memory is shared with another object)");
              }
              release(ctx, o);
            }
            // Nobody starts the next round (and thread 0 does not rewrite `stop`) before
            // everyone has finished this one.
            sync.arrive_and_wait();
          }
          write_ns.fetch_add(my_write_ns);
        });

    // Cache lines of the first round's objects, and how many held objects of 2+ threads.
    std::unordered_map<std::uintptr_t, std::uint32_t> line_threads;  // line -> thread mask
    for (unsigned t = 0; t < threads; ++t) {
      for (std::uintptr_t a : first_round[t]) {
        line_threads[a / kLine] |= 1u << (t % 32);
      }
    }
    std::size_t shared = 0;
    for (const auto &[line, mask] : line_threads) shared += (mask & (mask - 1)) != 0;
    const double total_writes =
        static_cast<double>(result.allocs) / (passive ? 2.0 : 1.0) * static_cast<double>(writes);
    result.extra["writes"] = total_writes;
    result.extra["ns_per_write"] =
        total_writes > 0 ? static_cast<double>(write_ns.load()) / total_writes : 0.0;
    result.extra["shared_lines"] = static_cast<double>(shared);
    result.extra["shared_line_fraction"] =
        line_threads.empty()
            ? 0.0
            : static_cast<double>(shared) / static_cast<double>(line_threads.size());
    return result;
  }

  static Object allocate(ThreadContext &ctx) {
    Object o;
    o.size = std::max(kCounterBytes, ctx.config.sizes.sample(ctx.rng));
    o.ptr = ctx.mem.malloc(o.size);
    if (!o.ptr) {
      // No throw: the other threads wait at the round's barriers; the failure stops all.
      ctx.fail("false-sharing: malloc(" + std::to_string(o.size) + ") returned NULL");
      o.size = 0;
      return o;
    }
    *static_cast<std::uint64_t *>(o.ptr) = 0;
    o.key = pattern_key(o.ptr, ctx.next_id());
    touch_fill_range(ctx.touch, o.ptr, o.size, kCounterBytes, o.size, o.key);
    ctx.counters.on_alloc(o.size);
    return o;
  }

  static void release(ThreadContext &ctx, Object &o) {
    if (!o.ptr) return;
    if (auto bad = touch_check_range(ctx.touch, o.ptr, o.size, kCounterBytes, o.size, o.key)) {
      ctx.fail(describe_mismatch("false-sharing object", o.ptr, o.size, *bad));
    }
    ctx.mem.free(o.ptr);
    ctx.counters.on_free(o.size);
    o.ptr = nullptr;
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(FalseSharing);

}  // namespace
}  // namespace allocbench
