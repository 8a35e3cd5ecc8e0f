// producer-consumer: every free is a cross-thread free.
//
// Half of the threads (at least one) are producers: they allocate batches of objects,
// write each, and hand each whole batch over a bounded queue. The other half (at least
// one) are consumers: they take batches, check each object and free it. No object is
// freed by the thread that allocated it, so this measures an allocator's remote-free
// path (how a free reaches the owner of the memory, and how that memory becomes reusable
// by the producer): the pattern of pipelines and of request/response hand-offs.
//
// With --threads=1 the run still has one producer and one consumer thread (two threads):
// the pattern needs two. Odd counts give the extra thread to the consumers.
//
// Whole batches cross the queue (one lock round trip per batch), so the queue costs little
// next to the allocations: with the default batch of 64 that is one hand-off per 128
// operations. The run's operations are split among the producers; each allocation is
// matched by one free.
//
// Peak live bytes: the run's true peak of allocated-and-not-yet-freed bytes, counted at
// batch granularity (a batch is counted once it is complete, until it has been freed).
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

// A bounded queue of batches. Batches are copied in and out of preallocated slots, so the
// queue itself never allocates during the run.
class BatchQueue {
 public:
  BatchQueue(std::size_t capacity, std::size_t batch, unsigned producers)
      : batch_(batch), slots_(capacity * batch), counts_(capacity), producers_left_(producers) {}

  // False when the run was aborted (the batch is then not taken).
  bool push(const LiveObject *objects, std::size_t count) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return size_ < counts_.size() || aborted_; });
    if (aborted_) return false;
    const std::size_t slot = (head_ + size_) % counts_.size();
    std::copy(objects, objects + count,
              slots_.begin() + static_cast<std::ptrdiff_t>(slot * batch_));
    counts_[slot] = count;
    ++size_;
    lock.unlock();
    not_empty_.notify_one();
    return true;
  }

  // Copies one batch into `out` and returns its size; 0 when every producer is done and
  // the queue is empty, or when the run was aborted.
  std::size_t pop(LiveObject *out) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return size_ > 0 || producers_left_ == 0 || aborted_; });
    if (aborted_ || size_ == 0) return 0;
    const std::size_t slot = head_;
    const std::size_t count = counts_[slot];
    const auto first = slots_.begin() + static_cast<std::ptrdiff_t>(slot * batch_);
    std::copy(first, first + static_cast<std::ptrdiff_t>(count), out);
    head_ = (head_ + 1) % counts_.size();
    --size_;
    lock.unlock();
    not_full_.notify_one();
    return count;
  }

  void producer_done() {
    {
      std::lock_guard lock(mutex_);
      --producers_left_;
    }
    not_empty_.notify_all();
  }

  // After a failed check: wake everyone, take and hand out nothing more.
  void abort() {
    {
      std::lock_guard lock(mutex_);
      aborted_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  const std::size_t batch_;
  std::vector<LiveObject> slots_;
  std::vector<std::size_t> counts_;
  std::size_t head_ = 0, size_ = 0;
  unsigned producers_left_;
  bool aborted_ = false;
};

class ProducerConsumer final : public Workload {
 public:
  std::string name() const override { return "producer-consumer"; }
  std::string description() const override {
    return "half the threads allocate batches and hand them over a queue; the other half "
           "free them (every free is cross-thread)";
  }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"batch",
         ParamSpec::Type::kInt,
         "64",
         "objects",
         "objects handed over at once",
         {},
         1,
         1 << 16},
        {"queue",
         ParamSpec::Type::kInt,
         "16",
         "batches",
         "batches the queue holds before producers wait",
         {},
         1,
         1 << 16},
    };
  }
  std::string default_size() const override { return "16..512"; }
  std::uint64_t default_ops() const override { return 2'000'000; }

  WorkloadResult run(const RunConfig &config) const override {
    return guard_run([&] {
      const auto batch = static_cast<std::size_t>(config.params.get_int("batch"));
      const auto capacity = static_cast<std::size_t>(config.params.get_int("queue"));
      const unsigned producers = std::max(1u, config.threads / 2);
      const unsigned consumers = std::max(1u, config.threads - producers);
      // Producers count only their allocations, so their shares are of half the operations.
      const std::uint64_t allocations = total_ops(config, default_ops()) / 2;
      BatchQueue queue(capacity, batch, producers);
      SharedLiveBytes live;

      auto produce = [&](ThreadContext &ctx) {
        std::vector<LiveObject> objects(batch);
        while (true) {
          const std::size_t count =
              static_cast<std::size_t>(std::min<std::uint64_t>(batch, ctx.remaining()));
          if (count == 0) break;
          std::uint64_t bytes = 0;
          for (std::size_t i = 0; i < count; ++i) {
            if (!allocate_object(ctx, ctx.config.sizes.sample(ctx.rng), objects[i])) return false;
            bytes += objects[i].size;
          }
          live.add(bytes);
          if (!queue.push(objects.data(), count)) return false;
        }
        return true;
      };
      auto consume = [&](ThreadContext &ctx) {
        std::vector<LiveObject> objects(batch);
        while (const std::size_t count = queue.pop(objects.data())) {
          std::uint64_t bytes = 0;
          for (std::size_t i = 0; i < count; ++i) {
            if (!free_object(ctx, objects[i])) return false;
            bytes += objects[i].size;
          }
          live.sub(bytes);
        }
        return true;
      };

      const BudgetFn budget = [&](unsigned index) -> std::uint64_t {
        return index < producers ? split_ops(allocations, producers, index) : 0;
      };
      WorkloadResult result =
          run_threads(config, producers + consumers, budget, [&](ThreadContext &ctx) {
            bool ok = false;
            try {
              ok = ctx.index < producers ? produce(ctx) : consume(ctx);
            } catch (...) {
              queue.abort();
              throw;
            }
            if (ctx.index < producers) queue.producer_done();
            if (!ok) queue.abort();
          });
      result.peak_live_bytes = live.peak();
      result.extra["producers"] = producers;
      result.extra["consumers"] = consumers;
      return result;
    });
  }
};

ALLOCBENCH_REGISTER_WORKLOAD(ProducerConsumer);

}  // namespace
}  // namespace allocbench
