#include "suite_recipes.h"

#include <algorithm>
#include <set>

#include "run_options.h"

namespace allocbench {

namespace {

// "1,2,2,4" -> "1,2,4": a thread list built from {cores} may repeat a count.
std::string sorted_unique_counts(const std::string &list) {
  std::set<unsigned long> counts;
  std::string item;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || list[i] == ',') {
      if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
        return list;  // not a plain list: the run command judges it
      counts.insert(std::stoul(item));
      item.clear();
    } else {
      item += list[i];
    }
  }
  std::string out;
  for (unsigned long c : counts) {
    if (!out.empty()) out += ',';
    out += std::to_string(c);
  }
  return out;
}

}  // namespace

const std::vector<SuiteRecipe> &suite_recipes() {
  static const std::vector<SuiteRecipe> recipes = {
      {.name = "default",
       .description =
           "every workload, every installed allocator, threads 1, 2, the core count and twice "
           "it, 3 repetitions of 250 ms, and every installed program (3 runs each); then a "
           "latency pass (one call in 16 timed) into latency/ (./run_all.sh, "
           "plots/run_suite.sh)",
       .params = {{"threads", "1,2,{cores},{2cores}"},
                  {"repetitions", "3"},
                  {"duration", "250ms"},
                  {"timeout", "20s"},
                  {"latency_threads", "1,{cores}"},
                  {"scale", ""},
                  {"programs", "--program=all"}},
       // A smoke run of everything in about a minute; objects written at their ends only
       // (large writes every page of 16 KiB..4 MiB buffers by default).
       .quick = {{"threads", "1,{cores}"},
                 {"repetitions", "2"},
                 {"duration", "20ms"},
                 {"timeout", "5s"},
                 {"latency_threads", "1"},
                 {"scale", "--touch=ends"},
                 {"programs", ""}},
       .steps = {{.name = "throughput",
                  .args = {"--workload=all", "--threads={threads}", "--repetitions={repetitions}",
                           "--duration={duration}", "--timeout={timeout}", "{scale}", "{programs}"},
                  .subdir = "",
                  .log = "",
                  .after_success = false},
                 {.name = "latency",
                  .args = {"--workload=all", "--threads={latency_threads}", "--repetitions=1",
                           "--latency=16", "--rss-interval=0", "--duration={duration}",
                           "--timeout={timeout}", "{scale}"},
                  .subdir = "latency",
                  .log = "latency.log",
                  .after_success = true}}},
      {.name = "matrix",
       .description = "fio against its peers on the workloads of its performance targets, "
                      "main/ and zeroed/ (calloc for the peers); then the microbenchmarks, "
                      "micro-1-thread/ (single calls and one thread's group, pinned to the last "
                      "CPU) and micro-per-cpu/ (the group with one thread per CPU) "
                      "(harness/run-matrix.sh)",
       .params = {{"threads", "1,2,4,8,16,32"},
                  {"repetitions", "5"},
                  {"ops", "6000000"},
                  {"micro_repetitions", "3"},
                  {"micro_min_time", "0.2"}},
       .quick = {{"threads", "1,{cores}"},
                 {"repetitions", "2"},
                 {"ops", "200000"},
                 {"micro_repetitions", "1"},
                 {"micro_min_time", "0.01"}},
       .steps = {{.name = "main",
                  .args = {"--workload=group-free,alloc-free,random-lifetime,producer-consumer,"
                           "larson",
                           "--threads={threads}", "--ops={ops}", "--repetitions={repetitions}",
                           "--force"},
                  .subdir = "main",
                  .log = "",
                  .after_success = false},
                 {.name = "zeroed",
                  .args = {"--workload=group-free", "--param=zeroed=1", "--threads={threads}",
                           "--ops={ops}", "--repetitions={repetitions}", "--force"},
                  .subdir = "zeroed",
                  .log = "",
                  .after_success = false},
                 // A virtual machine may run a single thread at one speed or another for a
                 // whole process depending on the CPUs it moves between: one CPU for all.
                 {.name = "micro-1-thread",
                  .args = {"micro", "--cpus={lastcpu}",
                           "--filter=^BM_malloc_free/(16|256|1024|4096|16384)/"
                           "|^BM_calloc_free/|^BM_realloc_grow/"
                           "|^BM_group_free(_touch|_zeroed)?/real_time/threads:1$|_half/",
                           "--repetitions={micro_repetitions}", "--min-time={micro_min_time}",
                           "--replace"},
                  .subdir = "micro-1-thread",
                  .log = "",
                  .after_success = false},
                 {.name = "micro-per-cpu",
                  .args = {"micro",
                           "--filter=^BM_group_free(_touch|_zeroed)?/real_time/threads:{cores}$",
                           "--repetitions={micro_repetitions}", "--min-time={micro_min_time}",
                           "--replace"},
                  .subdir = "micro-per-cpu",
                  .log = "",
                  .after_success = false}}},
      {.name = "track",
       .description = "the benchmarks a CI tracker follows over time: group-free, alloc-free "
                      "and random-lifetime at 1 and 2 threads at their own scale, and every "
                      "microbenchmark, 5 repetitions each, in one directory (examples/*.yml)",
       .params = {{"repetitions", "5"}},
       .quick = {{"repetitions", "2"}},
       .steps = {{.name = "workloads",
                  .args = {"--workload=group-free,alloc-free,random-lifetime", "--threads=1,2",
                           "--repetitions={repetitions}", "--force"},
                  .subdir = "",
                  .log = "",
                  .after_success = false},
                 {.name = "micro",
                  .args = {"micro", "--repetitions={repetitions}", "--replace"},
                  .subdir = "",
                  .log = "",
                  .after_success = false}}},
      {.name = "ci",
       .description = "the CI regression check's suite: group-free and alloc-free at 1 thread "
                      "and two microbenchmarks, glibc and fio; then fio's paths counted under "
                      "callgrind into counted/, counted-calloc/ and counted-micro/ "
                      "(harness/ci_regression.sh)",
       // 6 against 6 repetitions lets the U test reach p = 0.002; 3 against 3 never 0.05.
       .params = {{"repetitions", "6"}},
       .quick = {},
       .steps = {{.name = "workloads",
                  .args = {"--workload=group-free,alloc-free", "--threads=1",
                           "--allocator=glibc,fio", "--repetitions={repetitions}", "--ops=2000000"},
                  .subdir = "",
                  .log = "",
                  .after_success = false},
                 {.name = "micro",
                  .args = {"micro", "--allocator=glibc,fio",
                           "--filter=^BM_malloc_batch_free/64/|^BM_calloc_free/4096/",
                           "--repetitions={repetitions}", "--min-time=0.05"},
                  .subdir = "",
                  .log = "",
                  .after_success = false},
                 // fio's paths counted: malloc/free pairs, a group, cross-thread frees, and
                 // calloc; small objects written only at their ends, so that the
                 // allocator's share of each operation is large. Counts repeat exactly: 2
                 // repetitions show it.
                 {.name = "counted",
                  .args = {"--workload=alloc-free,group-free,producer-consumer", "--threads=2",
                           "--size=16..64", "--touch=ends", "--allocator=fio",
                           "--measure=instructions", "--ops=40000", "--repetitions=2", "--force"},
                  .subdir = "counted",
                  .log = "",
                  .after_success = false},
                 {.name = "counted-calloc",
                  .args = {"--workload=group-free", "--param=zeroed=1", "--threads=1",
                           "--size=16..64", "--touch=ends", "--allocator=fio",
                           "--measure=instructions", "--ops=40000", "--repetitions=2", "--force"},
                  .subdir = "counted-calloc",
                  .log = "",
                  .after_success = false},
                 // A malloc/free pair and a batch of 256 alone: nearly all of what is
                 // counted is fio's.
                 {.name = "counted-micro",
                  .args = {"micro", "--allocator=fio", "--measure=instructions",
                           "--filter=^BM_malloc_free/64/|^BM_malloc_batch_free/64/",
                           "--repetitions=1"},
                  .subdir = "counted-micro",
                  .log = "",
                  .after_success = false}}},
  };
  return recipes;
}

const SuiteRecipe *find_suite_recipe(const std::string &name) {
  for (const SuiteRecipe &r : suite_recipes())
    if (r.name == name) return &r;
  return nullptr;
}

std::vector<std::string> expand_step(const SuiteStep &step,
                                     const std::map<std::string, std::string> &values,
                                     unsigned cores) {
  std::vector<std::string> args;
  for (std::string arg : step.args) {
    for (const auto &[name, value] : values) arg = replace_all(arg, "{" + name + "}", value);
    arg = replace_all(arg, "{2cores}", std::to_string(2 * cores));
    arg = replace_all(arg, "{lastcpu}", std::to_string(cores - 1));
    arg = replace_all(arg, "{cores}", std::to_string(cores));
    if (arg.empty()) continue;
    if (arg.rfind("--threads=", 0) == 0) arg = "--threads=" + sorted_unique_counts(arg.substr(10));
    args.push_back(std::move(arg));
  }
  return args;
}

}  // namespace allocbench
