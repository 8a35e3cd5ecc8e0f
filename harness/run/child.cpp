#include "child.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define ALLOCBENCH_HAVE_CALLGRIND 1
#else
#define ALLOCBENCH_HAVE_CALLGRIND 0
#endif

#include "allocbench/workload.h"
#include "latency.h"
#include "parent_death.h"
#include "perf_counters.h"
#include "proof.h"

namespace allocbench {

Json to_json(const ChildRequest &request) {
  Json j = {{"allocator",
             {{"name", request.allocator.name},
              {"library", request.allocator.library},
              {"kind", request.allocator.kind}}}};
  if (request.workload) {
    const WorkloadRequest &w = *request.workload;
    Json params = Json::array();
    for (const auto &[name, value] : w.params) params.push_back({name, value});
    j["workload"] = {{"name", w.workload},   {"params", params}, {"size", w.size},
                     {"threads", w.threads}, {"ops", w.ops},     {"duration_s", w.duration_s},
                     {"seed", w.seed}};
    if (w.latency_every) j["workload"]["latency_every"] = w.latency_every;
    if (w.counted) j["workload"]["counted"] = true;
  }
  return j;
}

ChildRequest child_request_from_json(const Json &j) {
  ChildRequest r;
  const Json &a = j.at("allocator");
  r.allocator = AllocatorSpec{a.at("name").get<std::string>(), a.at("library").get<std::string>(),
                              a.at("kind").get<std::string>()};
  if (auto it = j.find("workload"); it != j.end()) {
    const Json &w = *it;
    WorkloadRequest req;
    req.workload = w.at("name").get<std::string>();
    for (const Json &p : w.at("params"))
      req.params.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
    req.size = w.at("size").get<std::string>();
    req.threads = w.at("threads").get<unsigned>();
    req.ops = w.at("ops").get<std::uint64_t>();
    req.duration_s = w.at("duration_s").get<double>();
    req.seed = w.at("seed").get<std::uint64_t>();
    req.latency_every = w.value("latency_every", 0u);
    req.counted = w.value("counted", false);
    r.workload = std::move(req);
  }
  return r;
}

namespace {

// The child's own peak RSS (VmHWM). Unlike ru_maxrss it does not include the parent's
// memory that the spawned process held before exec.
std::optional<std::uint64_t> vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      try {
        return std::stoull(line.substr(6));
      } catch (const std::exception &) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

void send_reply(const Json &reply) {
  const std::string text = reply.dump();
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(kChildReplyFd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone: nobody to tell
    done += static_cast<std::size_t>(n);
  }
}

// Switch callgrind's instrumentation on and off (no-ops outside valgrind): counted mode
// starts the child with it off, so only the measured phase is counted, on every thread
// (collection, unlike instrumentation, is switched per thread).
void counting_begin() {
#if ALLOCBENCH_HAVE_CALLGRIND
  CALLGRIND_START_INSTRUMENTATION;
#endif
}
void counting_end() {
#if ALLOCBENCH_HAVE_CALLGRIND
  CALLGRIND_STOP_INSTRUMENTATION;
#endif
}

// The hardware counters of a timed run's measured phase (none in counted mode, where the
// hardware would count valgrind). One per child process, which runs one workload.
PerfCounters *hardware_counters = nullptr;
void hardware_begin() {
  hardware_counters->start();
}
void hardware_end() {
  hardware_counters->stop();
}

Json run_workload(const WorkloadRequest &w) {
  const Workload *workload = WorkloadRegistry::instance().find(w.workload);
  if (!workload) throw std::invalid_argument(fmt::format("unknown workload '{}'", w.workload));
  std::map<std::string, std::string> given(w.params.begin(), w.params.end());
  RunConfig config;
  config.threads = w.threads;
  config.ops = w.ops;
  config.duration_s = w.duration_s;
  config.sizes = SizeDistribution::parse(w.size);
  config.seed = w.seed;
  config.params = workload->bind(given);
  if (w.latency_every) config.mem = &timing_memory(w.latency_every);
  if (w.counted) {
    if (!ALLOCBENCH_HAVE_CALLGRIND)
      throw std::invalid_argument("counted mode: this build has no valgrind headers");
    config.measure_begin = counting_begin;
    config.measure_end = counting_end;
  }
  // Opened before the workload starts its threads, which inherit the counters.
  std::optional<PerfCounters> counters;
  if (!w.counted) {
    counters.emplace(hardware_events());
    if (counters->ok()) {
      hardware_counters = &*counters;
      config.measure_begin = hardware_begin;
      config.measure_end = hardware_end;
    }
  }
  const WorkloadResult result = workload->run(config);
  Json extra = Json::object();
  for (const auto &[name, value] : result.extra) extra[name] = value;
  if (counters && result.ops() > 0) {
    // The prefix says where the figures come from: the hardware's counters.
    if (const auto counts = counters->read())
      for (const auto &[event, count] : *counts)
        extra["hw_" + event + "_per_op"] =
            static_cast<double>(count) / static_cast<double>(result.ops());
  }
  hardware_counters = nullptr;
  Json reply = {{"ok", result.ok},         {"error", result.error},
                {"allocs", result.allocs}, {"frees", result.frees},
                {"wall_s", result.wall_s}, {"peak_live_bytes", result.peak_live_bytes},
                {"extra", extra}};
  if (w.latency_every) reply["latency_ns"] = latency_to_json(latency_summary());
  return reply;
}

}  // namespace

int child_main(int argc, char **argv) {
  // Before anything else: a hang must not outlive the parent that would time it out.
  if (!die_with_parent()) {
    std::fprintf(stderr, "allocbench child: the parent is gone; not running\n");
    return 1;
  }
  if (argc != 3) {
    std::fprintf(stderr, "allocbench: the %s mode is internal to allocbench\n", kChildModeArg);
    return 1;
  }
  ChildRequest request;
  try {
    request = child_request_from_json(Json::parse(argv[2]));
  } catch (const std::exception &e) {
    std::fprintf(stderr, "allocbench child: bad request: %s\n", e.what());
    return 1;
  }
  // Proof first: a run whose allocator is not the one asked for must not produce numbers.
  const ProofOutcome proof = prove_allocator(request.allocator.library, request.allocator.kind);
  Json reply = {{"proof",
                 {{"ok", proof.ok},
                  {"malloc_from", proof.malloc_from},
                  {"version", proof.version},
                  {"error", proof.error}}}};
  if (proof.ok && request.workload) {
    try {
      reply["result"] = run_workload(*request.workload);
    } catch (const std::exception &e) {
      reply["result"] = {{"ok", false}, {"error", fmt::format("workload error: {}", e.what())}};
      reply["exception"] = true;
    }
  }
  if (auto hwm = vm_hwm_kib()) reply["vm_hwm_kib"] = *hwm;
  send_reply(reply);
  return 0;
}

}  // namespace allocbench
