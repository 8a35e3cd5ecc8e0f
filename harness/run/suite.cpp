#include "suite.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include <fmt/format.h>

#include "callgrind.h"
#include "child_runner.h"
#include "context.h"
#include "latency.h"
#include "process.h"

namespace allocbench {

namespace {

BenchmarkId workload_id(const WorkloadJob &job) {
  const WorkloadPlan &w = job.workload;
  return BenchmarkId{w.name, w.params, w.size, job.threads};
}

RunRecord make_record(const WorkloadJob &job, const AllocatorSpec &allocator,
                      const ChildOutcome &outcome) {
  RunRecord r;
  r.id = workload_id(job);
  r.allocator = allocator.name;
  r.ok = outcome.status == ChildOutcome::Status::kOk;
  r.error = outcome.error;
  r.proof = outcome.proof;
  RunMetrics &m = r.metrics;
  if (outcome.usage) record_usage(*outcome.usage, m);
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
  // Counted mode: callgrind's counts of the measured phase per operation; the prefix says
  // where they come from (its instruction count and its cache model, not the hardware).
  if (!outcome.counted.empty() && m.ops && *m.ops > 0)
    for (const auto &[name, value] : counted_figures(outcome.counted, static_cast<double>(*m.ops)))
      r.extra[name] = value;
  return r;
}

// The checks every run record passes, whichever kind of job made it.
void check_work_done(RunRecord &r) {
  const RunMetrics &m = r.metrics;
  // A run that did no work has no throughput to report: counting it would put a 0 in
  // the medians (an --ops too small to split over the threads, a trace with no events).
  if (r.ok && (!m.ops || *m.ops == 0 || !m.ops_per_s || !(*m.ops_per_s > 0))) {
    r.ok = false;
    r.error = fmt::format("no work done: {} operations in {} s", m.ops.value_or(0),
                          m.wall_s.value_or(0.0));
  }
}

// One repetition of `job` under `allocator`; `interrupted` when the parent must stop.
// A program's output digest goes to `digest`.
RunRecord run_job(const SuitePlan &plan, const SuiteJob &job, const AllocatorSpec &allocator,
                  bool &interrupted, std::optional<std::uint64_t> &digest) {
  RunRecord record;
  if (const auto *p = std::get_if<ProgramJob>(&job.what)) {
    ProgramRun run =
        run_program_job(*p, allocator, plan.timeout_s, plan.rss_interval_ms, interrupted);
    digest = run.output_digest;
    return std::move(run.record);  // a program's work is its own: no operation count
  }
  if (const auto *w = std::get_if<WorkloadJob>(&job.what)) {
    ChildRequest request;
    request.allocator = allocator;
    const WorkloadPlan &p = w->workload;
    request.workload =
        WorkloadRequest{p.name, p.params, p.size, w->threads, p.ops, p.duration_s, plan.seed};
    request.workload->latency_every = plan.latency_every;
    request.workload->counted = plan.counted;
    const ChildOutcome child = run_child(plan.exe, request, plan.timeout_s, plan.rss_interval_ms);
    interrupted = child.status == ChildOutcome::Status::kInterrupted;
    record = make_record(*w, allocator, child);
  } else if (const auto *m = std::get_if<MicroJob>(&job.what)) {
    record = run_micro_job(*m, allocator, plan.timeout_s, interrupted);
  }
  check_work_done(record);
  return record;
}

// "group-free fio t=4", "BM_malloc_free/64 fio", "BM_group_free fio t=2".
std::string job_label(const SuiteJob &job, const std::string &allocator) {
  if (const auto *w = std::get_if<WorkloadJob>(&job.what))
    return fmt::format("{} {} t={}", w->workload.name, allocator, w->threads);
  if (const auto *p = std::get_if<ProgramJob>(&job.what))
    return fmt::format("{} {}", p->program.name, allocator);
  const MicroName name = split_micro_name(std::get<MicroJob>(job.what).benchmark);
  return name.threads == 1 ? fmt::format("{} {}", name.bench, allocator)
                           : fmt::format("{} {} t={}", name.bench, allocator, name.threads);
}

// Keeps a run's proof and the context in step. A program's probe proves the library,
// not a version: its proof takes the version the allocator's own probe reported. The
// context names the library and version a run proved when the allocator's probe did not
// (microbenchmarks are proven by their own binary) or the file is a merge; it is copied
// and rewritten only then.
void note_proof(ResultFiles &files, const std::string &allocator, AllocatorProof &proof) {
  const std::vector<AllocatorInfo> &known = files.results().context.allocators;
  const auto found = std::find_if(known.begin(), known.end(), [&](const AllocatorInfo &info) {
    return info.name == allocator;
  });
  if (found != known.end()) {
    if (proof.version.empty() && found->version) proof.version = *found->version;
    const bool new_version = !proof.version.empty() && found->version != proof.version;
    if (found->available && !new_version && found->library) return;
  }
  Context context = files.results().context;
  auto it = std::find_if(context.allocators.begin(), context.allocators.end(),
                         [&](const AllocatorInfo &info) { return info.name == allocator; });
  if (it == context.allocators.end()) {
    context.allocators.push_back(allocator_info(allocator));
    it = std::prev(context.allocators.end());
  }
  if (!proof.version.empty()) it->version = proof.version;
  if (!it->library || !proof.version.empty()) it->library = proof.malloc_from;
  it->available = true;
  it->reason.clear();
  files.set_context(std::move(context));
}

SuiteOutcome run_jobs(const SuitePlan &plan, ResultFiles &files, Console &console) {
  SuiteOutcome outcome;
  const std::size_t total = plan.total_runs();
  std::size_t index = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const SuiteJob &job : plan.jobs) {
    std::vector<std::string> notes(plan.allocators.size());
    // A program's output under the first allocator that ran it well, for the others.
    std::optional<std::pair<std::string, std::uint64_t>> reference_output;
    for (unsigned rep = 0; rep < plan.repetitions; ++rep) {
      for (std::size_t a = 0; a < plan.allocators.size(); ++a) {
        if (interrupt_requested()) {
          outcome.interrupted = true;
          return outcome;
        }
        const AllocatorSpec &allocator = plan.allocators[a];
        const std::string what =
            fmt::format("{} rep {}/{}", job_label(job, allocator.name), rep + 1, plan.repetitions);
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double eta =
            index == 0 ? -1.0
                       : elapsed / static_cast<double>(index) * static_cast<double>(total - index);
        console.progress(++index, total, what, eta);

        bool interrupted = false;
        std::optional<std::uint64_t> digest;
        RunRecord record = run_job(plan, job, allocator, interrupted, digest);
        if (interrupted) {
          outcome.interrupted = true;
          return outcome;
        }
        record.repetition = rep;
        if (record.ok && digest) {
          if (!reference_output) {
            reference_output.emplace(allocator.name, *digest);
          } else if (reference_output->second != *digest) {
            record.ok = false;
            record.error = fmt::format(
                "output differs from {}'s (digest {:016x}, not {:016x}): the program computed "
                "something else",
                reference_output->first, *digest, reference_output->second);
          }
        }
        if (record.ok && record.proof) note_proof(files, allocator.name, *record.proof);
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
    const std::string key = job.id().key();
    for (Summary &s : summarize(files.results().runs))
      if (s.id.key() == key) rows.push_back(std::move(s));
    console.rows(rows, notes);
  }
  console.clear_progress();
  return outcome;
}

}  // namespace

BenchmarkId SuiteJob::id() const {
  if (const auto *w = std::get_if<WorkloadJob>(&what)) return workload_id(*w);
  if (const auto *p = std::get_if<ProgramJob>(&what)) return program_benchmark_id(p->program.name);
  return micro_benchmark_id(split_micro_name(std::get<MicroJob>(what).benchmark));
}

void SuitePlan::add_workloads(const std::vector<WorkloadPlan> &workloads,
                              const std::vector<unsigned> &thread_counts) {
  for (const WorkloadPlan &w : workloads)
    for (unsigned t : thread_counts) jobs.push_back(SuiteJob{WorkloadJob{w, t}});
}

SuiteOutcome run_suite(const SuitePlan &plan, ResultFiles &files, Console &console) {
  const SuiteOutcome outcome = run_jobs(plan, files, console);
  std::string written;
  for (const std::string &p : files.paths()) written += (written.empty() ? "" : ", ") + p;
  console.note(fmt::format("{}{} runs, {} failed; wrote {}",
                           outcome.interrupted ? "interrupted: " : "", outcome.runs, outcome.failed,
                           written));
  return outcome;
}

}  // namespace allocbench
