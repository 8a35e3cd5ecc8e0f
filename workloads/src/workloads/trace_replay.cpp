// trace-replay: replays a recorded allocation trace (workloads/trace/FORMAT.md).
//
// The recorded threads are mapped onto the run's threads (recorded thread r runs on
// thread r % threads) and the recorded objects onto fresh allocations of the recorded
// sizes (free(NULL), failed calls and frees of memory allocated before the recording are
// left out). Each thread runs its calls in the recorded global order; a call on an object
// created by another thread waits until that thread has created it (never a deadlock:
// it waits only for calls earlier in the global order). The calls run back to back,
// without the program's own work between them.
//
// The loaded trace lives in the same process: its memory (tens of MiB for a trace of a
// few hundred thousand calls) is part of the run's peak RSS. `rss_before_replay_kib`
// reports the RSS just before the replay starts, so the replay's own growth is the peak
// minus that.
//
// Also registers the size tables derived from the shipped traces (`--size=python`,
// `--size=gcc`), generated into workloads/traces/size_tables.inc.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "allocbench/trace.h"
#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

using trace::Call;
using trace::kNoObject;

struct ShippedSizes {
  const char *name;
  const char *description;
  std::vector<std::pair<std::size_t, double>> sizes;
};

const bool kSizeTablesRegistered = [] {
  const ShippedSizes tables[] = {
#include "../../traces/size_tables.inc"
  };
  for (const ShippedSizes &t : tables) {
    SizeDistribution::register_table(t.name, t.sizes, t.description);
  }
  return true;
}();

// A calloc'd object's first kZeroCheck bytes are checked to be zero before it is written.
constexpr std::size_t kZeroCheck = 16;

// A replayed object's pointer; bit 0 marks it created (the pointer of malloc(0) may be
// NULL, and allocations are at least 2-byte aligned).
using Slot = std::atomic<std::uintptr_t>;

std::uint64_t object_key(std::uint32_t object, std::uint64_t pass) {
  return pattern_key((std::uint64_t{object} << 16) ^ pass);
}

std::size_t round_up(std::size_t value, std::size_t to) {
  return (value + to - 1) / to * to;
}

// Resident set of this process in KiB (/proc/self/statm), or 0 when it cannot be read.
double resident_kib() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024.0;
}

// A loaded trace, cached so that repetitions in one process parse it once.
struct Loaded {
  std::string path;
  bool complete = true;  // the file has its end record
  std::uint64_t events = 0;
  trace::ResolvedTrace resolved;
  std::vector<std::uint64_t> object_size;
  // Objects live after each op (global order): a replay of the first k ops costs k
  // operations plus live_after[k - 1] frees at its end.
  std::vector<std::uint32_t> live_after;

  // The longest prefix (at most one pass) whose replay and final frees fit in `budget`.
  std::uint64_t prefix_within(std::uint64_t budget) const {
    std::uint64_t lo = 0, hi = live_after.size();
    while (lo < hi) {  // cost(k) = k + live_after[k - 1] never decreases with k
      const std::uint64_t mid = (lo + hi + 1) / 2;
      if (mid + live_after[mid - 1] <= budget) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
  std::uint64_t cost(std::uint64_t k) const { return k == 0 ? 0 : k + live_after[k - 1]; }
};

std::shared_ptr<const Loaded> load(const std::string &name) {
  static std::mutex mutex;
  static std::shared_ptr<const Loaded> cached;
  const std::string path = trace::find_trace(name);
  std::lock_guard lock(mutex);
  if (cached && cached->path == path) return cached;
  auto loaded = std::make_shared<Loaded>();
  loaded->path = path;
  {
    const trace::Trace read = trace::read_trace(path);
    loaded->complete = read.complete;
    loaded->events = read.events.size();
    loaded->resolved = trace::resolve(read);
  }
  // free(NULL) is left out: it reaches no allocator's data, and every replayed free then
  // ends an object.
  std::erase_if(loaded->resolved.ops, [](const trace::Op &op) {
    return op.object == kNoObject && op.old_object == kNoObject;
  });
  loaded->object_size.resize(loaded->resolved.objects);
  std::uint32_t live = 0;
  loaded->live_after.reserve(loaded->resolved.ops.size());
  for (const trace::Op &op : loaded->resolved.ops) {
    if (op.object != kNoObject) {
      loaded->object_size[op.object] = op.size;
      ++live;
    }
    if (op.old_object != kNoObject) --live;
    loaded->live_after.push_back(live);
  }
  cached = loaded;
  return cached;
}

class TraceReplay final : public Workload {
 public:
  std::string name() const override { return "trace-replay"; }
  std::string description() const override {
    return "replays a recorded allocation trace (recorded threads onto threads, objects onto "
           "fresh allocations)";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"trace",
         ParamSpec::Type::kString,
         "python",
         "",
         "a shipped trace (python, gcc) or the path of a trace file recorded with libabtrace.so",
         {},
         {},
         {},
         trace::check_trace_file},
    };
  }
  // A replay measures the allocator, not the recorded program's work: a word per page and
  // the ends of each object, enough to fault its pages in and catch overlapping memory.
  Touch default_touch() const override { return Touch::kPages; }
  // The sizes come from the trace; this is only what the run's key shows.
  std::string default_size() const override { return "python"; }
  // 0: one pass over the trace. Otherwise the trace is replayed (repeatedly, the last
  // pass cut short) for that many operations, the frees of the objects still live at the
  // end of each pass included.
  std::uint64_t default_ops() const override { return 0; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] { return run_checked(config); });
  }

 private:
  WorkloadResult run_checked(const RunConfig &config) const {
    std::shared_ptr<const Loaded> loaded;
    try {
      loaded = load(config.params.get_string("trace"));
    } catch (const std::exception &e) {
      WorkloadResult bad;
      bad.ok = false;
      bad.error = std::string("trace-replay: ") + e.what();
      return bad;
    }
    if (!loaded->complete) {
      // Replaying part of a program as if it were all of it would be a silent lie.
      WorkloadResult bad;
      bad.ok = false;
      bad.error = "trace-replay: trace " + loaded->path +
                  " is incomplete (no end record: the recorded program did not exit normally, "
                  "or the disk filled); it holds " +
                  std::to_string(loaded->events) + " events, the rest were lost";
      return bad;
    }
    const trace::ResolvedTrace &rt = loaded->resolved;
    const unsigned threads = config.threads;

    // Each thread's ops, in global order.
    std::vector<std::vector<std::uint32_t>> mine(threads);
    for (std::uint32_t i = 0; i < rt.ops.size(); ++i) {
      mine[rt.ops[i].thread % threads].push_back(i);
    }
    std::vector<unsigned> creator(rt.objects);
    for (std::uint32_t o = 0; o < rt.objects; ++o) creator[o] = rt.object_thread[o] % threads;

    const std::uint64_t pass_ops = rt.ops.size();
    std::uint64_t budget_left = config.ops;  // untimed runs with an operation count
    std::unique_ptr<Slot[]> slots(new Slot[std::max<std::uint32_t>(rt.objects, 1)]);
    for (std::uint32_t o = 0; o < rt.objects; ++o) slots[o].store(0, std::memory_order_relaxed);
    std::barrier sync(static_cast<std::ptrdiff_t>(threads));
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> limit{0};  // ops of the trace replayed in this pass
    std::atomic<std::uint64_t> replayed{0};
    std::atomic<std::uint64_t> waits{0};
    std::atomic<std::uint64_t> passes_done{0};
    const double rss_before = resident_kib();

    WorkloadResult result = run_threads(
        config, threads, [](unsigned) { return StopCondition::kUnbounded; },
        [&](ThreadContext &ctx) {
          const MemoryApi &mem = ctx.mem;
          std::uint64_t my_waits = 0, my_reallocs = 0;
          auto wait_for = [&](std::uint32_t object) -> void * {
            std::uintptr_t v = slots[object].load(std::memory_order_acquire);
            if (!(v & 1)) {
              ++my_waits;
              while (!((v = slots[object].load(std::memory_order_acquire)) & 1)) {
                if (ctx.failed()) return nullptr;
                std::this_thread::yield();
              }
            }
            return reinterpret_cast<void *>(v & ~std::uintptr_t{1});
          };
          auto publish = [&](std::uint32_t object, void *p) {
            slots[object].store(reinterpret_cast<std::uintptr_t>(p) | 1, std::memory_order_release);
          };
          for (std::uint64_t pass = 0;; ++pass) {
            if (ctx.index == 0) {
              // A timed run repeats whole passes until the duration has passed.
              std::uint64_t k = pass_ops;
              bool done = ctx.failed() || pass_ops == 0;
              if (ctx.stop.timed()) {
                done = done || (pass > 0 && ctx.remaining() == 0);
              } else if (config.ops == 0) {
                done = done || pass > 0;
              } else {
                k = loaded->prefix_within(budget_left);
                budget_left -= loaded->cost(k);
                done = done || k == 0;
              }
              limit.store(k, std::memory_order_relaxed);
              stop.store(done, std::memory_order_relaxed);
            }
            sync.arrive_and_wait();
            if (stop.load(std::memory_order_relaxed)) break;
            const std::uint64_t end = limit.load(std::memory_order_relaxed);
            for (std::uint32_t index : mine[ctx.index]) {
              if (index >= end || ctx.failed()) break;
              const trace::Op &op = rt.ops[index];
              void *old = nullptr;
              std::size_t old_size = 0;
              if (op.old_object != kNoObject) {
                old = wait_for(op.old_object);
                old_size = loaded->object_size[op.old_object];
                if (ctx.failed()) break;
                if (auto bad =
                        touch_check(ctx.touch, old, old_size, object_key(op.old_object, pass))) {
                  ctx.fail(describe_mismatch("trace-replay object", old, old_size, *bad));
                  break;
                }
              }
              // The old object ends here (freed or moved): the pass's final sweep must not
              // free it again.
              if (op.old_object != kNoObject) {
                slots[op.old_object].store(0, std::memory_order_relaxed);
              }
              void *p = nullptr;
              const auto size = static_cast<std::size_t>(op.size);
              switch (op.call) {
                case Call::kFree:
                  mem.free(old);
                  break;
                case Call::kMalloc:
                  p = mem.malloc(size);
                  break;
                case Call::kCalloc:
                  p = mem.calloc(1, size);
                  if (p && size > 0) {
                    if (auto bad = zero_check(p, std::min(size, kZeroCheck))) {
                      ctx.fail(describe_mismatch("trace-replay calloc memory", p, size, *bad));
                    }
                  }
                  break;
                case Call::kRealloc:
                case Call::kReallocarray:
                  if (op.object == kNoObject) {
                    mem.free(old);  // realloc(p, 0) that freed p
                  } else {
                    p = mem.realloc(old, size);
                    const std::size_t kept = std::min(old_size, size);
                    if (p && old && kept > 0) {
                      // The moved bytes keep the old object's pattern.
                      if (auto bad = touch_check_range(ctx.touch, p, old_size, 0, kept,
                                                       object_key(op.old_object, pass))) {
                        ctx.fail(describe_mismatch("trace-replay realloc'd object", p, size, *bad));
                      }
                    }
                  }
                  break;
                case Call::kMemalign:
                case Call::kAlignedAlloc:
                case Call::kPosixMemalign: {
                  const std::size_t alignment =
                      std::max<std::size_t>(static_cast<std::size_t>(op.alignment), sizeof(void *));
                  p = mem.aligned_alloc(alignment,
                                        round_up(std::max<std::size_t>(size, 1), alignment));
                  break;
                }
                case Call::kValloc:
                case Call::kPvalloc:
                  p = mem.aligned_alloc(4096, round_up(std::max<std::size_t>(size, 1), 4096));
                  break;
              }
              if (op.object == kNoObject) {  // free, or realloc(p, 0) that freed p
                ++ctx.counters.frees;
                continue;
              }
              ++ctx.counters.allocs;
              // A realloc of a live object is an allocating call without a free of its own.
              if (op.old_object != kNoObject) ++my_reallocs;
              if (!p && size > 0) {
                ctx.fail(std::string("trace-replay: ") + trace::format::call_name(op.call) + "(" +
                         std::to_string(size) + ") returned NULL");
                break;
              }
              if (p) touch_fill(ctx.touch, p, size, object_key(op.object, pass));
              publish(op.object, p);
            }
            sync.arrive_and_wait();
            // Objects still live at the end of the pass are checked and freed (counted as
            // operations), and every slot is cleared for the next pass.
            if (ctx.index == 0) {
              for (std::uint32_t o = 0; o < rt.objects; ++o) {
                const std::uintptr_t v = slots[o].exchange(0, std::memory_order_relaxed);
                if (!(v & 1)) continue;
                void *p = reinterpret_cast<void *>(v & ~std::uintptr_t{1});
                const auto size = static_cast<std::size_t>(loaded->object_size[o]);
                if (auto bad = touch_check(ctx.touch, p, size, object_key(o, pass));
                    bad && !ctx.failed()) {
                  ctx.fail(describe_mismatch("trace-replay object", p, size, *bad));
                }
                mem.free(p);
                ++ctx.counters.frees;
              }
              passes_done.fetch_add(1);
              replayed.fetch_add(end);
            }
          }
          waits.fetch_add(my_waits);
          ctx.extra["reallocs"] = static_cast<double>(my_reallocs);
        });

    // Slots are cleared after each pass; a failed pass may leave some set.
    for (std::uint32_t o = 0; o < rt.objects; ++o) {
      std::uintptr_t v = slots[o].load();
      if (v & 1) config.mem->free(reinterpret_cast<void *>(v & ~std::uintptr_t{1}));
    }
    result.peak_live_bytes = rt.peak_live_bytes;
    result.extra["passes"] = static_cast<double>(passes_done.load());
    result.extra["rss_before_replay_kib"] = rss_before;
    result.extra["trace_events"] = static_cast<double>(loaded->events);
    result.extra["trace_ops"] = static_cast<double>(pass_ops);
    result.extra["trace_ops_replayed"] = static_cast<double>(replayed.load());
    result.extra["trace_threads"] = static_cast<double>(rt.threads);
    result.extra["cross_thread_waits"] = static_cast<double>(waits.load());
    result.extra["untracked_frees_skipped"] = static_cast<double>(rt.untracked_frees);
    result.extra["failed_calls_skipped"] = static_cast<double>(rt.failed_calls);
    result.extra["null_frees_skipped"] = static_cast<double>(rt.null_frees);
    return result;
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(TraceReplay);

}  // namespace
}  // namespace allocbench
