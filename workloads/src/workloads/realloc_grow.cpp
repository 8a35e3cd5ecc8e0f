// realloc-grow: buffers grown by repeated realloc.
//
// Each thread builds buffers one after another and frees each when it is complete. A
// buffer's final length is drawn from the size distribution. Two growth patterns:
//
//   builder   a string builder that reallocates to the exact new length on every append
//             (appends of 1..`append` bytes): many small growth steps, where an allocator
//             that can grow in place, or that rounds sizes up to a class, does well.
//   doubling  a vector that doubles its capacity (starting at 16 bytes) when full: few,
//             large steps that move more and more bytes, where the cost of copying shows
//             (and, with large sizes, an allocator's use of mremap).
//   mixed     each buffer picks one of the two at random.
//
// The content is checked across moves: each buffer's pattern depends on its id only, each
// appended piece is written with it, every realloc that moved the buffer is followed by a
// check of everything it had to copy, and the whole buffer is checked before it is freed.
//
// Operations: malloc, each realloc and free count one each (realloc is an allocating
// call), so allocs > frees for this workload. extra: "reallocs" and "moves" (reallocs
// that returned a new address).
//
// Peak live bytes: each thread's largest buffer (its requested size), summed over threads.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

class ReallocGrow final : public Workload {
 public:
  std::string name() const override { return "realloc-grow"; }
  std::string description() const override {
    return "buffers grown by repeated realloc (string builder and vector doubling)";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"pattern",
         ParamSpec::Type::kString,
         "mixed",
         "",
         "growth pattern: builder (exact size per append), doubling (capacity doubles), or "
         "mixed (random per buffer)",
         {"builder", "doubling", "mixed"}},
        {"append",
         ParamSpec::Type::kInt,
         "64",
         "bytes",
         "largest append of the builder pattern (appends are 1..append bytes)",
         {},
         1,
         1 << 20},
    };
  }
  // The final length of each buffer.
  std::string default_size() const override { return "64..16384"; }
  std::uint64_t default_ops() const override { return 1'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] {
      const std::string &pattern = config.params.get_string("pattern");
      const auto append = static_cast<std::uint64_t>(config.params.get_int("append"));
      return run_threads(
          config, config.threads, even_split(config, default_ops()), [&](ThreadContext &ctx) {
            Grower grower(ctx, append);
            while (ctx.remaining() >= 2) {
              const bool doubling =
                  pattern == "doubling" || (pattern == "mixed" && (ctx.rng.next() & 1) != 0);
              const std::size_t length = ctx.config.sizes.sample(ctx.rng);
              if (!(doubling ? grower.doubling(length) : grower.builder(length))) return;
            }
            ctx.extra["reallocs"] += static_cast<double>(grower.reallocs);
            ctx.extra["moves"] += static_cast<double>(grower.moves);
          });
    });
  }

 private:
  class Grower {
   public:
    Grower(ThreadContext &ctx, std::uint64_t append) : ctx_(ctx), append_(append) {}

    // Appends pieces of 1..append bytes, reallocating to the exact length each time.
    bool builder(std::size_t target) {
      const std::uint64_t key = pattern_key(ctx_.next_id());
      std::size_t length = std::min<std::size_t>(target, ctx_.rng.uniform(1, append_));
      if (!start(length)) return false;
      touch_fill_range(ctx_.touch, buffer_, target, 0, length, key);
      // Each step needs its realloc and must leave the final free in hand.
      while (length < target && ctx_.remaining() >= 2) {
        const std::size_t grown =
            length + std::min<std::size_t>(target - length, ctx_.rng.uniform(1, append_));
        if (!grow(grown, length, target, key)) return false;
        touch_fill_range(ctx_.touch, buffer_, target, length, grown, key);
        length = grown;
      }
      return finish(length, target, key);
    }

    // Fills the capacity, doubles it when full, until the buffer holds `target` bytes.
    bool doubling(std::size_t target) {
      const std::uint64_t key = pattern_key(ctx_.next_id());
      if (!start(std::min<std::size_t>(16, target))) return false;
      std::size_t length = 0;
      while (true) {
        const std::size_t filled = std::min(capacity_, target);
        touch_fill_range(ctx_.touch, buffer_, target, length, filled, key);
        length = filled;
        if (length == target || ctx_.remaining() < 2) break;
        if (!grow(capacity_ * 2, length, target, key)) return false;
      }
      return finish(length, target, key);
    }

    std::uint64_t reallocs = 0;
    std::uint64_t moves = 0;

   private:
    bool start(std::size_t size) {
      buffer_ = ctx_.mem.malloc(size);
      if (buffer_ == nullptr) {
        ctx_.fail(fmt::format("malloc({}) returned NULL", size));
        return false;
      }
      capacity_ = size;
      ctx_.counters.on_alloc(size);
      return true;
    }

    // Reallocates to `size`; a move must have carried the first `valid` bytes along. The
    // bytes written are those the touch level marks in a buffer of its final length,
    // `target`, so that the pieces written as it grows make one object's marks.
    bool grow(std::size_t size, std::size_t valid, std::size_t target, std::uint64_t key) {
      void *grown = ctx_.mem.realloc(buffer_, size);
      if (grown == nullptr) {
        ctx_.fail(fmt::format("realloc({}, {}) returned NULL", buffer_, size));
        return false;
      }
      ++reallocs;
      ctx_.counters.on_realloc(capacity_, size);
      capacity_ = size;
      if (grown != buffer_) {
        ++moves;
        buffer_ = grown;
        if (const auto mismatch = touch_check_range(ctx_.touch, buffer_, target, 0, valid, key)) {
          ctx_.fail(describe_mismatch(fmt::format("buffer moved by realloc to {} bytes", size),
                                      buffer_, valid, *mismatch));
          return false;
        }
      }
      return true;
    }

    bool finish(std::size_t length, std::size_t target, std::uint64_t key) {
      if (const auto mismatch = touch_check_range(ctx_.touch, buffer_, target, 0, length, key)) {
        ctx_.fail(describe_mismatch("grown buffer", buffer_, length, *mismatch));
        return false;
      }
      ctx_.mem.free(buffer_);
      ctx_.counters.on_free(capacity_);
      buffer_ = nullptr;
      return true;
    }

    ThreadContext &ctx_;
    const std::uint64_t append_;
    void *buffer_ = nullptr;
    std::size_t capacity_ = 0;
  };
};

ALLOCBENCH_REGISTER_WORKLOAD(ReallocGrow);

}  // namespace
}  // namespace allocbench
