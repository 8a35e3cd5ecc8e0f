// phased: the run is a sequence of phases (as in mstress); each phase starts fresh
// threads, which take over the objects the previous phase handed on, churn a working set,
// hand part of it to the next phase and exit.
//
// Thread t of a phase inherits what thread t-1 (mod threads) of the previous phase handed
// on, so the inherited objects are freed by another thread than the one that allocated
// them, after that thread has exited: the pattern of servers whose worker threads come
// and go. The wall time covers every phase, thread start and exit included.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

struct Object {
  void *ptr = nullptr;
  std::size_t size = 0;
  std::uint64_t key = 0;
};

class Phased final : public Workload {
 public:
  std::string name() const override { return "phased"; }
  std::string description() const override {
    return "phases of fresh threads that churn objects and hand part of them to the next phase";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"phases",
         ParamSpec::Type::kInt,
         "10",
         "phases",
         "phases per run (the budget is split)",
         {},
         1,
         1 << 20},
        {"objects",
         ParamSpec::Type::kInt,
         "2000",
         "objects",
         "working set per thread",
         {},
         1,
         1 << 24},
        {"survive",
         ParamSpec::Type::kInt,
         "25",
         "%",
         "part of the working set handed on to the next phase",
         {},
         0,
         100},
    };
  }
  std::string default_size() const override { return "16..1024"; }
  std::uint64_t default_ops() const override { return 2'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] { return run_checked(config); });
  }

 private:
  WorkloadResult run_checked(const RunConfig &config) const {
    const auto phases = config.params.get_int("phases");
    const auto objects = static_cast<std::size_t>(config.params.get_int("objects"));
    const auto survive = config.params.get_int("survive");
    if (phases < 1 || objects < 1 || survive < 0 || survive > 100) {
      WorkloadResult bad;
      bad.ok = false;
      bad.error = "phased: phases and objects must be at least 1, survive 0 to 100";
      return bad;
    }
    const unsigned threads = config.threads;
    // Each phase gets an equal part of the operations (or of the duration).
    RunConfig phase_config = config;
    phase_config.ops = std::max<std::uint64_t>(
        1, total_ops(config, default_ops()) / static_cast<std::uint64_t>(phases));
    phase_config.duration_s = config.duration_s / static_cast<double>(phases);

    std::vector<std::vector<Object>> inherited(threads), handed(threads);
    WorkloadResult total;
    for (std::int64_t phase = 0; phase < phases && total.ok; ++phase) {
      const bool last = phase + 1 == phases;
      // A different seed per phase, derived from the run's.
      phase_config.seed = config.seed + static_cast<std::uint64_t>(phase) * 0x9e3779b97f4a7c15ull;
      WorkloadResult r = run_threads(
          phase_config, threads, even_split(phase_config, phase_config.ops),
          [&](ThreadContext &ctx) {
            const MemoryApi &mem = ctx.mem;
            auto allocate = [&](Object &o) {
              o.size = ctx.config.sizes.sample(ctx.rng);
              o.ptr = mem.malloc(o.size);
              if (!o.ptr) {
                ctx.fail("phased: malloc(" + std::to_string(o.size) + ") returned NULL");
                o.size = 0;
                return;
              }
              o.key = pattern_key(o.ptr, ctx.next_id());
              touch_fill(ctx.touch, o.ptr, o.size, o.key);
              ctx.counters.on_alloc(o.size);
            };
            auto release = [&](Object &o) {
              if (!o.ptr) return;
              if (auto bad = touch_check(ctx.touch, o.ptr, o.size, o.key); bad && !ctx.failed()) {
                ctx.fail(describe_mismatch("phased object", o.ptr, o.size, *bad));
              }
              mem.free(o.ptr);
              ctx.counters.on_free(o.size);
              o.ptr = nullptr;
            };
            // The inherited objects become this thread's live bytes; they are freed while
            // the working set is built, one for each new object.
            std::vector<Object> &old = inherited[ctx.index];
            for (const Object &o : old) ctx.counters.live_bytes += o.size;
            // The working set shrinks when the phase's budget is small: building it, the
            // inherited frees and the final frees must leave room for churn.
            const std::size_t n = static_cast<std::size_t>(
                std::max<std::uint64_t>(1, std::min<std::uint64_t>(objects, ctx.remaining() / 4)));
            std::vector<Object> set(n);
            std::size_t next_old = 0;
            for (Object &o : set) {
              // A timed phase may end before its set is complete (unfilled entries hold NULL).
              if (ctx.failed() || (ctx.stop.timed() && ctx.remaining() == 0)) break;
              allocate(o);
              if (next_old < old.size()) release(old[next_old++]);
            }
            while (next_old < old.size()) release(old[next_old++]);
            old.clear();
            // Churn: replace a random object per step until the phase's budget (minus the
            // frees at the end) is spent.
            const std::size_t keep = last ? 0 : n * static_cast<std::size_t>(survive) / 100;
            while (!ctx.failed() && ctx.remaining() >= (n - keep) + 2) {
              Object &o = set[ctx.rng.uniform(0, n - 1)];
              release(o);
              allocate(o);
            }
            // Hand on part of the set to the next phase's next thread; free the rest.
            std::vector<Object> &out = handed[(ctx.index + 1) % ctx.threads];
            for (std::size_t i = 0; i < n; ++i) {
              if (i < keep && set[i].ptr) {
                ctx.counters.live_bytes -= set[i].size;
                out.push_back(set[i]);
              } else {
                release(set[i]);
              }
            }
          });
      total.allocs += r.allocs;
      total.frees += r.frees;
      total.wall_s += r.wall_s;
      total.peak_live_bytes = std::max(total.peak_live_bytes, r.peak_live_bytes);
      if (!r.ok) {
        total.ok = false;
        total.error = "phase " + std::to_string(phase) + ": " + r.error;
      }
      std::swap(inherited, handed);
      for (auto &h : handed) h.clear();
    }
    // A failed run may leave handed objects behind; they are freed without checks.
    for (auto &objects_left : inherited) {
      for (const Object &o : objects_left) config.mem->free(o.ptr);
    }
    total.extra["phases"] = static_cast<double>(phases);
    total.extra["threads_started"] = static_cast<double>(phases) * threads;
    return total;
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(Phased);

}  // namespace
}  // namespace allocbench
