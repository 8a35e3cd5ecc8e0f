// long-lived: short-lived groups in which one object in K is kept for the whole run.
//
// Each thread allocates a group, writes every object, then frees the group except every
// K-th object, which stays live until the run ends. The pinned objects are few and
// small, but an allocator that recycles memory only in whole blocks (the fio design: a
// block returns when its last object is freed) keeps every block that holds one of them.
// The run reports the process's resident memory at the start, at the end (pinned objects
// still live) and its sampled peak, next to the bytes actually pinned, so the cost of a
// pinned byte is visible: `rss_growth_kib` against `pinned_kib`.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

// Resident set of this process in KiB (/proc/self/statm), or 0 when it cannot be read.
double resident_kib() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024.0;
}

struct Object {
  void *ptr;
  std::size_t size;
  std::uint64_t key;
};

class LongLived final : public Workload {
 public:
  std::string name() const override { return "long-lived"; }
  std::string description() const override {
    return "short-lived groups with one object in K kept to the end; reports RSS growth";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"group",
         ParamSpec::Type::kInt,
         "1024",
         "objects",
         "objects allocated per group",
         {},
         1,
         1 << 24},
        {"keep_one_in",
         ParamSpec::Type::kInt,
         "64",
         "objects",
         "K: one object in K of each group stays live until the run ends",
         {},
         1,
         1 << 24},
        {"sample_every",
         ParamSpec::Type::kInt,
         "16",
         "groups",
         "thread 0 reads the RSS every this many groups (for the peak)",
         {},
         1,
         1 << 24},
    };
  }
  std::string default_size() const override { return "16..512"; }
  std::uint64_t default_ops() const override { return 2'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] { return run_checked(config); });
  }

 private:
  WorkloadResult run_checked(const RunConfig &config) const {
    const auto group = static_cast<std::size_t>(config.params.get_int("group"));
    const auto keep = static_cast<std::size_t>(config.params.get_int("keep_one_in"));
    const auto sample_every = config.params.get_int("sample_every");
    const Touch touch = touch_level(config.params);
    if (group < 1 || keep < 1 || sample_every < 1) {
      WorkloadResult bad;
      bad.ok = false;
      bad.error = "long-lived: group, keep_one_in and sample_every must be at least 1";
      return bad;
    }
    std::vector<std::vector<Object>> pinned(config.threads);
    std::atomic<double> peak_kib{0};
    const double start_kib = resident_kib();
    peak_kib = start_kib;

    WorkloadResult result = run_threads(
        config, config.threads, even_split(config, default_ops()), [&](ThreadContext &ctx) {
          const MemoryApi &mem = ctx.mem;
          std::vector<Object> live(group);
          std::vector<Object> &mine = pinned[ctx.index];
          std::int64_t groups = 0;
          // Every object costs two operations: its allocation and its free, now or (for
          // the pinned ones) after the run; the last group shrinks to fit the budget.
          while (!ctx.failed()) {
            const std::uint64_t left = ctx.remaining();
            const std::uint64_t owed = mine.size();  // frees of the pinned objects
            const std::size_t n =
                left > owed
                    ? static_cast<std::size_t>(std::min<std::uint64_t>(group, (left - owed) / 2))
                    : 0;
            if (n == 0) break;
            for (std::size_t i = 0; i < n; ++i) {
              const std::size_t size = ctx.config.sizes.sample(ctx.rng);
              void *p = mem.malloc(size);
              if (!p) {
                ctx.fail("long-lived: malloc(" + std::to_string(size) + ") returned NULL");
                return;
              }
              const std::uint64_t key = pattern_key(p, ctx.next_id());
              touch_fill(ctx.touch, p, size, key);
              ctx.counters.on_alloc(size);
              live[i] = {p, size, key};
            }
            for (std::size_t i = 0; i < n; ++i) {
              const Object &o = live[i];
              if (i % keep == 0) {
                mine.push_back(o);
                continue;
              }
              if (auto bad = touch_check(ctx.touch, o.ptr, o.size, o.key)) {
                ctx.fail(describe_mismatch("long-lived object", o.ptr, o.size, *bad));
                return;
              }
              mem.free(o.ptr);
              ctx.counters.on_free(o.size);
            }
            if (ctx.index == 0 && ++groups % sample_every == 0) {
              double now = resident_kib();
              if (now > peak_kib.load()) peak_kib = now;
            }
          }
        });

    // Measured after the run with every pinned object still live, then again after they
    // are freed. Their frees are counted as operations but are outside the measured time.
    const double end_kib = resident_kib();
    double pinned_bytes = 0, pinned_objects = 0;
    for (auto &objects : pinned) {
      for (const Object &o : objects) {
        pinned_bytes += static_cast<double>(o.size);
        ++pinned_objects;
        if (result.ok) {
          if (auto bad = touch_check(touch, o.ptr, o.size, o.key)) {
            result.ok = false;
            result.error = describe_mismatch("long-lived pinned object", o.ptr, o.size, *bad);
          }
        }
        config.mem->free(o.ptr);
        ++result.frees;
      }
    }
    const double after_free_kib = resident_kib();
    const double growth = end_kib - start_kib;
    result.extra["rss_start_kib"] = start_kib;
    result.extra["rss_end_kib"] = end_kib;
    result.extra["rss_peak_kib"] = std::max({peak_kib.load(), end_kib, start_kib});
    result.extra["rss_growth_kib"] = growth;
    result.extra["rss_after_free_kib"] = after_free_kib;
    result.extra["pinned_objects"] = pinned_objects;
    result.extra["pinned_kib"] = pinned_bytes / 1024.0;
    // Resident bytes gained per pinned byte: 1 is ideal; large means pinned objects hold
    // whole blocks.
    result.extra["rss_growth_per_pinned_byte"] =
        pinned_bytes > 0 ? growth * 1024.0 / pinned_bytes : 0.0;
    return result;
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(LongLived);

}  // namespace
}  // namespace allocbench
