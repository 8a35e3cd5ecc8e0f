#include "suite.h"

#include <chrono>

#include <fmt/format.h>

#include "child_runner.h"
#include "latency.h"

namespace allocbench {

namespace {

double seconds(const timeval &tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

RunRecord make_record(const WorkloadPlan &w, unsigned threads, unsigned repetition,
                      const AllocatorSpec &allocator, const ChildOutcome &outcome) {
  RunRecord r;
  r.id = BenchmarkId{w.name, w.params, w.size, threads};
  r.allocator = allocator.name;
  r.repetition = repetition;
  r.ok = outcome.status == ChildOutcome::Status::kOk;
  r.error = outcome.error;
  r.proof = outcome.proof;
  RunMetrics &m = r.metrics;
  if (outcome.usage) {
    const rusage &u = *outcome.usage;
    m.user_s = seconds(u.ru_utime);
    m.sys_s = seconds(u.ru_stime);
    m.peak_rss_kib = static_cast<std::uint64_t>(u.ru_maxrss);
    m.minor_faults = static_cast<std::uint64_t>(u.ru_minflt);
    m.major_faults = static_cast<std::uint64_t>(u.ru_majflt);
    m.vol_ctx_switches = static_cast<std::uint64_t>(u.ru_nvcsw);
    m.invol_ctx_switches = static_cast<std::uint64_t>(u.ru_nivcsw);
  }
  // The child's own high-water mark: ru_maxrss would include the parent's memory that
  // the spawned process shared before exec.
  if (outcome.vm_hwm_kib) m.peak_rss_kib = *outcome.vm_hwm_kib;
  const Json &res = outcome.result;
  if (res.is_object() && res.contains("allocs")) {
    m.allocs = res.value("allocs", std::uint64_t{0});
    m.frees = res.value("frees", std::uint64_t{0});
    m.wall_s = res.value("wall_s", 0.0);
    m.peak_live_bytes = res.value("peak_live_bytes", std::uint64_t{0});
    if (auto it = res.find("extra"); it != res.end() && it->is_object())
      for (const auto &[name, value] : it->items())
        if (value.is_number()) r.extra[name] = value.get<double>();
    if (auto it = res.find("latency_ns"); it != res.end() && it->is_object())
      r.latency_ns = latency_from_json(*it);
  }
  r.rss_timeline = outcome.rss_timeline;
  derive_metrics(m);
  // A run that did no work has no throughput to report: counting it would put a 0 in
  // the medians (an --ops too small to split over the threads, a trace with no events).
  if (r.ok && (!m.ops || *m.ops == 0 || !m.ops_per_s || !(*m.ops_per_s > 0))) {
    r.ok = false;
    r.error = fmt::format("no work done: {} operations in {} s", m.ops.value_or(0),
                          m.wall_s.value_or(0.0));
  }
  return r;
}

}  // namespace

SuiteOutcome run_suite(const SuitePlan &plan, ResultFiles &files, Console &console) {
  SuiteOutcome outcome;
  const std::size_t total = plan.total_runs();
  std::size_t index = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const WorkloadPlan &w : plan.workloads) {
    for (unsigned threads : plan.threads) {
      std::vector<std::string> notes(plan.allocators.size());
      for (unsigned rep = 0; rep < plan.repetitions; ++rep) {
        for (std::size_t a = 0; a < plan.allocators.size(); ++a) {
          if (interrupt_requested()) {
            outcome.interrupted = true;
            return outcome;
          }
          const AllocatorSpec &allocator = plan.allocators[a];
          const std::string what = fmt::format("{} {} t={} rep {}/{}", w.name, allocator.name,
                                               threads, rep + 1, plan.repetitions);
          const double elapsed =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          const double eta = index == 0 ? -1.0
                                        : elapsed / static_cast<double>(index) *
                                              static_cast<double>(total - index);
          console.progress(++index, total, what, eta);

          ChildRequest request;
          request.allocator = allocator;
          request.workload =
              WorkloadRequest{w.name, w.params, w.size, threads, w.ops, w.duration_s, plan.seed};
          request.workload->latency_every = plan.latency_every;
          const ChildOutcome child =
              run_child(plan.exe, request, plan.timeout_s, plan.rss_interval_ms);
          if (child.status == ChildOutcome::Status::kInterrupted) {
            outcome.interrupted = true;
            return outcome;
          }
          RunRecord record = make_record(w, threads, rep, allocator, child);
          if (!record.ok) {
            console.failure(what, record.error);
            if (notes[a].empty()) notes[a] = record.error.substr(0, 60);
            ++outcome.failed;
          }
          files.add(std::move(record));
          ++outcome.runs;
        }
      }
      // The group is complete: one table row per allocator.
      std::vector<Summary> rows;
      const std::string key = BenchmarkId{w.name, w.params, w.size, threads}.key();
      for (Summary &s : summarize(files.results().runs))
        if (s.id.key() == key) rows.push_back(std::move(s));
      console.rows(rows, notes);
    }
  }
  console.clear_progress();
  return outcome;
}

}  // namespace allocbench
