// allocbench-trace: records, summarises and tabulates allocation traces.
//
//   allocbench-trace record [-o FILE] -- PROGRAM [ARGS...]
//   allocbench-trace summary TRACE
//   allocbench-trace sizes [--max N] TRACE
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
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
    "      (default abtrace.%p.abt; every process the program starts writes its own file);\n"
    "      exits with PROGRAM's status (128+N for signal N) and warns when PROGRAM's trace\n"
    "      is incomplete (it did not exit normally): then the status is at least 1\n"
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

// The file the recorder writes for process `pid` (FORMAT.md: %p is the pid, %% a '%').
std::string expand_trace_path(const std::string &pattern, pid_t pid) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'p') {
      out += std::to_string(pid);
      ++i;
    } else if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == '%') {
      out += '%';
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

// 0, or 4 (as allocbench's status for an output that could not be written) with a line
// when what was printed did not all reach stdout (a full disk, /dev/full).
int finish_stdout() {
  std::cout.flush();
  if (std::cout && std::fflush(stdout) == 0 && !std::ferror(stdout)) return 0;
  std::cerr << "allocbench-trace: error: cannot write standard output\n";
  return 4;
}

pid_t g_program = -1;

extern "C" void forward_signal(int sig) {
  if (g_program > 0) ::kill(g_program, sig);
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
  const pid_t parent = ::getpid();
  // The program runs as a child, so that how it ended and what it left can be told.
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::cerr << "allocbench-trace: cannot fork: " << std::strerror(errno) << "\n";
    return 127;
  }
  if (pid == 0) {
    // The program dies with the tool, whatever ends the tool.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::setenv("LD_PRELOAD", preload.c_str(), 1);
    ::setenv("ABTRACE_FILE", out.c_str(), 1);
    ::execvp(argv[i], argv + i);
    std::cerr << "allocbench-trace: cannot run " << argv[i] << ": " << std::strerror(errno) << "\n";
    ::_exit(127);
  }
  g_program = pid;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = 0;
  std::string how = "exited with status 0";
  if (WIFEXITED(status)) {
    code = WEXITSTATUS(status);
    how = "exited with status " + std::to_string(code);
  } else if (WIFSIGNALED(status)) {
    code = 128 + WTERMSIG(status);
    const char *name = ::sigabbrev_np(WTERMSIG(status));
    how = std::string("was killed by ") +
          (name ? std::string("SIG") + name : "signal " + std::to_string(WTERMSIG(status)));
  }
  if (code == 127) return code;  // it never ran
  // The program's own file: an incomplete one lost the events the program still held.
  const std::string path = expand_trace_path(out, pid);
  try {
    const allocbench::trace::Trace trace = allocbench::trace::read_trace(path);
    if (!trace.complete) {
      std::cerr << "allocbench-trace: warning: " << path
                << " is incomplete (no end record): the program " << how << " before the "
                << "recorder could write what it held; the file keeps " << trace.events.size()
                << " events and trace-replay refuses it\n";
      if (code == 0) code = 1;
    }
  } catch (const std::exception &e) {
    std::cerr << "allocbench-trace: warning: the program " << how << " and its trace is not "
              << "usable: " << e.what() << "\n";
    if (code == 0) code = 1;
  }
  return code;
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
      return finish_stdout();
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
      return finish_stdout();
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
