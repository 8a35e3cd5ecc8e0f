// allocbench-trace: records, summarises and tabulates allocation traces.
//
//   allocbench-trace record [-o FILE] -- PROGRAM [ARGS...]
//   allocbench-trace summary TRACE
//   allocbench-trace sizes [--max N] TRACE
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "allocbench/trace.h"

#ifndef ALLOCBENCH_TRACE_RECORDER_PATH
#error "ALLOCBENCH_TRACE_RECORDER_PATH must name libabtrace.so"
#endif

namespace {

constexpr const char *kUsage =
    "usage:\n"
    "  allocbench-trace record [-o FILE] -- PROGRAM [ARGS...]\n"
    "      run PROGRAM with the recorder preloaded; FILE may hold %p for the pid\n"
    "      (default abtrace.%p.abt; every process the program starts writes its own file)\n"
    "  allocbench-trace summary TRACE\n"
    "      calls, threads, size and lifetime histograms, objects left out of a replay\n"
    "  allocbench-trace sizes [--max N] TRACE\n"
    "      requested sizes with their counts, most frequent first (\"SIZE COUNT\" lines)\n"
    "TRACE is a file or the name of a shipped trace (";

int usage_error(const std::string &message) {
  std::cerr << "allocbench-trace: " << message << "\n"
            << kUsage << allocbench::trace::shipped_trace_dir() << ")\n";
  return 2;
}

int record(int argc, char **argv) {
  std::string out = "abtrace.%p.abt";
  int i = 0;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-o" && i + 1 < argc) {
      out = argv[++i];
    } else if (arg.rfind("-o", 0) == 0 && arg.size() > 2) {
      out = arg.substr(2);
    } else {
      break;  // the program starts here
    }
  }
  if (i >= argc) return usage_error("record: no program given");
  std::string preload = ALLOCBENCH_TRACE_RECORDER_PATH;
  if (const char *old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  setenv("LD_PRELOAD", preload.c_str(), 1);
  setenv("ABTRACE_FILE", out.c_str(), 1);
  execvp(argv[i], argv + i);
  std::cerr << "allocbench-trace: cannot run " << argv[i] << ": " << std::strerror(errno) << "\n";
  return 127;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) return usage_error("no command given");
  std::string command = argv[1];
  try {
    if (command == "record") return record(argc - 2, argv + 2);
    if (command == "summary") {
      if (argc != 3) return usage_error("summary takes one trace");
      std::string path = allocbench::trace::find_trace(argv[2]);
      auto trace = allocbench::trace::read_trace(path);
      allocbench::trace::print_summary(std::cout, path, allocbench::trace::summarize(trace));
      return 0;
    }
    if (command == "sizes") {
      std::size_t max = 0;
      int i = 2;
      if (i < argc && std::string(argv[i]) == "--max") {
        if (i + 1 >= argc) return usage_error("--max needs a number");
        char *end = nullptr;
        max = std::strtoull(argv[i + 1], &end, 10);
        if (!end || *end || max == 0) return usage_error("--max needs a positive number");
        i += 2;
      }
      if (argc != i + 1) return usage_error("sizes takes one trace");
      auto trace = allocbench::trace::read_trace(allocbench::trace::find_trace(argv[i]));
      auto counts = allocbench::trace::size_counts(trace);
      if (max && counts.size() > max) counts.resize(max);
      for (const auto &[size, count] : counts) std::cout << size << " " << count << "\n";
      return 0;
    }
    if (command == "-h" || command == "--help" || command == "help") {
      std::cout << kUsage << allocbench::trace::shipped_trace_dir() << ")\n";
      return 0;
    }
    return usage_error("unknown command '" + command + "'");
  } catch (const std::exception &e) {
    std::cerr << "allocbench-trace: " << e.what() << "\n";
    return 2;
  }
}
