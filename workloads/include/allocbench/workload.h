// The workload interface: what every workload is and what the harness may ask of it.
//
// A workload is one file under workloads/ that defines a class derived from Workload and
// registers it with ALLOCBENCH_REGISTER_WORKLOAD. The harness knows workloads only
// through the registry; the CLI's lists and help are generated from it.
//
// Workloads allocate only through the MemoryApi they are given (the process's malloc
// family by default, which is the allocator under test in a preloaded child) and never
// know which allocator serves them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace allocbench {

// The allocation interface workloads use. Swapped by the harness to measure latency.
struct MemoryApi {
  void *(*malloc)(std::size_t size);
  void *(*calloc)(std::size_t count, std::size_t size);
  void *(*realloc)(void *ptr, std::size_t size);
  void (*free)(void *ptr);
  void *(*aligned_alloc)(std::size_t alignment, std::size_t size);

  // The process's own malloc family (the allocator preloaded into this process).
  static const MemoryApi &system();
};

// Deterministic per-thread random numbers (xoshiro256**, seeded through splitmix64).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  // Uniform in [lo, hi] (inclusive).
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi);
  double uniform01();

 private:
  std::uint64_t s_[4];
};

// A distribution of request sizes in bytes: a fixed size, a uniform range "MIN..MAX", or
// a named empirical table (size, weight) registered by name.
class SizeDistribution {
 public:
  // Parses "64", "16..512" or a registered table name. Throws std::invalid_argument with
  // a message that says what is accepted.
  static SizeDistribution parse(std::string_view text);
  static SizeDistribution fixed(std::size_t size);
  static SizeDistribution uniform(std::size_t min, std::size_t max);
  static SizeDistribution table(std::string name,
                                std::vector<std::pair<std::size_t, double>> weighted_sizes);

  // Registers a named empirical distribution for parse(); names of shipped tables.
  static void register_table(const std::string &name,
                             std::vector<std::pair<std::size_t, double>> weighted_sizes,
                             std::string description);
  static std::vector<std::pair<std::string, std::string>> table_names();

  std::size_t sample(Rng &rng) const;
  std::size_t min() const { return min_; }
  std::size_t max() const { return max_; }
  double mean() const;
  // The canonical text form, as parse() accepts it ("64", "16..512", "python").
  const std::string &text() const { return text_; }

 private:
  enum class Kind { kFixed, kUniform, kTable } kind_ = Kind::kFixed;
  std::string text_;
  std::size_t min_ = 0, max_ = 0;
  std::vector<std::size_t> table_sizes_;
  std::vector<double> table_cumulative_;  // cumulative weights, last == 1.0
};

// A typed workload parameter with its default and unit, declared by the workload.
struct ParamSpec {
  enum class Type { kInt, kDouble, kBool, kString };
  std::string name;
  Type type;
  std::string default_value;
  std::string unit;  // "objects", "bytes", "%", "" ...
  std::string description;
  // What is accepted, which bind() enforces at parse time, before anything runs. Every
  // parameter declares it (the registry refuses a workload that does not): a kInt or
  // kDouble its inclusive range (both `min` and `max`); a kString its `choices`, or a
  // `check` when a list cannot say it (a file that must exist). `check` returns an empty
  // string when the value is accepted, else what is wrong and what is accepted.
  std::vector<std::string> choices = {};
  std::optional<double> min = {};
  std::optional<double> max = {};
  std::function<std::string(const std::string &value)> check = {};
};

// What is wrong with the declaration of `spec` (an empty string when nothing): a number
// without a range, a string with neither choices nor a check, a default not accepted.
std::string declaration_problem(const ParamSpec &spec);

// "int", "double", "bool", "string": for listings and error messages.
std::string_view to_string(ParamSpec::Type type);

// Parameter values after defaults are applied and types checked (by Workload::bind).
class ParamValues {
 public:
  std::int64_t get_int(const std::string &name) const;
  double get_double(const std::string &name) const;
  bool get_bool(const std::string &name) const;
  const std::string &get_string(const std::string &name) const;
  // name -> value text, in the workload's declared order.
  const std::vector<std::pair<std::string, std::string>> &items() const { return items_; }

 private:
  friend class Workload;
  std::vector<std::pair<std::string, std::string>> items_;
};

// Everything one run of a workload needs. One run = one repetition in one child process.
struct RunConfig {
  unsigned threads = 1;
  // Scale: total operations (allocating calls + frees) over all threads, split evenly;
  // or, when duration_s > 0, every thread runs until the duration has passed.
  std::uint64_t ops = 0;
  double duration_s = 0.0;
  SizeDistribution sizes = SizeDistribution::fixed(64);
  std::uint64_t seed = 42;
  ParamValues params;
  const MemoryApi *mem = &MemoryApi::system();
  // Called by the driver on the starting thread right before the measured phase and right
  // after it (every thread joined): a counting tool is switched on for that phase only.
  void (*measure_begin)() = nullptr;
  void (*measure_end)() = nullptr;
};

// What a run reports. Operations count allocating calls and frees.
struct WorkloadResult {
  std::uint64_t allocs = 0;
  std::uint64_t frees = 0;
  double wall_s = 0.0;                  // wall time of the measured phase only
  std::uint64_t peak_live_bytes = 0;    // peak of live requested bytes (see workload docs)
  bool ok = true;                       // false: the content check (or another check) failed
  std::string error;                    // why, when !ok
  std::map<std::string, double> extra;  // workload-specific figures (ns_per_node, ...)

  std::uint64_t ops() const { return allocs + frees; }
};

// How much of each object a workload writes when it allocates and checks before it frees
// (the `touch` parameter every workload takes). Offsets are from the object's start:
//   full   every byte;
//   lines  the first 8 bytes of every 64-byte stretch (every cache line the object spans),
//   pages  the first 8 bytes of every 4 KiB stretch (every page it spans),
//   ends   nothing between its ends;
// and at every level below full the object's first and last 16 bytes. One object in 16
// (chosen by its id, so the same ones in every run) is written and checked whole at every
// level: of two overlapping objects one starts inside the other, so an allocator that
// hands out overlapping memory still fails the content check.
enum class Touch { kFull, kLines, kPages, kEnds };

// "full", "lines", "pages", "ends".
std::string_view to_string(Touch touch);
// nullopt for a name that is not a level.
std::optional<Touch> parse_touch(std::string_view text);

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;  // one line
  // Every parameter the workload takes: its own (workload_params), then those every
  // workload takes (`touch`).
  std::vector<ParamSpec> params() const;
  // The workload's own parameters.
  virtual std::vector<ParamSpec> workload_params() const = 0;
  // How much of each object it writes unless told (see Touch). Workloads whose objects
  // are buffers of many pages write one word per page, as programs filling them would
  // fault every page in without the run becoming a memset benchmark.
  virtual Touch default_touch() const { return Touch::kFull; }
  virtual std::string default_size() const = 0;  // as SizeDistribution::parse accepts
  // The scale of a run given no --ops or --duration (RunConfig::ops == 0). Sized so that a
  // run takes well under a second on one thread. 0: the workload has a natural size of
  // its own (trace-replay replays its whole trace).
  virtual std::uint64_t default_ops() const = 0;
  virtual WorkloadResult run(const RunConfig &config) const = 0;

  // Applies defaults to `given` (name -> value text) and checks names and types.
  // Throws std::invalid_argument naming the bad parameter and what is accepted.
  ParamValues bind(const std::map<std::string, std::string> &given) const;
};

class WorkloadRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Workload>()>;
  static WorkloadRegistry &instance();
  void add(Factory factory);
  // nullptr when unknown.
  const Workload *find(std::string_view name) const;
  // Sorted by name.
  std::vector<const Workload *> all() const;

 private:
  std::vector<std::unique_ptr<Workload>> workloads_;
};

namespace detail {
struct WorkloadRegistration {
  explicit WorkloadRegistration(WorkloadRegistry::Factory factory) {
    WorkloadRegistry::instance().add(std::move(factory));
  }
};
}  // namespace detail

#define ALLOCBENCH_REGISTER_WORKLOAD(Class)                                                 \
  static const ::allocbench::detail::WorkloadRegistration allocbench_registration_##Class { \
    [] { return std::unique_ptr<::allocbench::Workload>(new Class()); }                     \
  }

}  // namespace allocbench
