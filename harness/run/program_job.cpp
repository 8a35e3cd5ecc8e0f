#include "program_job.h"

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "process.h"

namespace allocbench {

namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::uint64_t fnv1a(const std::string &bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string real_path(const std::string &path) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  return ec ? path : canonical.string();
}

// The object that serves malloc in this process: the system's C library, which is what
// serves a program run with no allocator preloaded.
std::string system_malloc_library() {
  Dl_info info;
  void *symbol = ::dlsym(RTLD_DEFAULT, "malloc");
  if (symbol && ::dladdr(symbol, &info) && info.dli_fname) return real_path(info.dli_fname);
  return "libc.so.6";
}

// A scratch directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "allocbench-program-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      throw std::runtime_error(
          fmt::format("cannot create a temporary directory: {}", std::strerror(errno)));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir &) = delete;
  ScratchDir &operator=(const ScratchDir &) = delete;
  std::string file(const std::string &name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Checks the probe's lines: every process of the tree must have been served by
// `expected` (a real path). Returns the failure, or "" when all were.
std::string check_probe(const std::string &report, const std::string &expected) {
  std::istringstream lines(report);
  std::size_t processes = 0;
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, '\t');) fields.push_back(field);
    if (fields.size() != 6)
      return fmt::format("allocator mismatch: unreadable probe line '{}'", line);
    ++processes;
    for (std::size_t i = 2; i < fields.size(); ++i) {
      const auto eq = fields[i].find('=');
      const std::string symbol = fields[i].substr(0, eq);
      const std::string from = eq == std::string::npos ? "?" : fields[i].substr(eq + 1);
      if (real_path(from) != expected)
        return fmt::format("allocator mismatch: {} (pid {}) was served {} by {}, not {}", fields[1],
                           fields[0], symbol, from, expected);
    }
  }
  if (processes == 0)
    return "allocator mismatch: no process of the program reported (the probe was not loaded: a "
           "statically linked program, or one that clears LD_PRELOAD)";
  return {};
}

}  // namespace

BenchmarkId program_benchmark_id(const std::string &name) {
  BenchmarkId id;
  id.workload = kProgramWorkload;
  id.params = {{"name", name}};
  id.threads = 1;
  return id;
}

std::string probe_library() {
  if (const char *env = std::getenv("ALLOCBENCH_PROBE"); env && *env) return env;
  const std::string dir = self_directory();
  for (const std::string &candidate :
       {dir + "/liballocbench-probe.so", dir + "/../lib/liballocbench-probe.so"})
    if (::access(candidate.c_str(), R_OK) == 0) return real_path(candidate);
  return dir + "/liballocbench-probe.so";
}

ProgramRun run_program_job(const ProgramJob &job, const AllocatorSpec &allocator, double timeout_s,
                           unsigned rss_interval_ms, bool &interrupted) {
  const ProgramDef &program = job.program;
  ProgramRun out;
  RunRecord &r = out.record;
  r.id = program_benchmark_id(program.name);
  r.allocator = allocator.name;
  r.ok = false;

  const std::string probe = probe_library();
  if (::access(probe.c_str(), R_OK) != 0) {
    r.error = fmt::format(
        "the probe {} is not there (build the allocbench-probe target, or set "
        "ALLOCBENCH_PROBE)",
        probe);
    return out;
  }
  const std::optional<std::string> exe = find_executable(program.command.front());
  if (!exe) {
    r.error = fmt::format("{} not found", program.command.front());
    return out;
  }
  ScratchDir scratch;
  const std::string cwd = scratch.file("work");
  fs::create_directory(cwd);
  ProcessRequest request;
  request.exe = *exe;
  request.args.assign(program.command.begin() + 1, program.command.end());
  // The allocator first, so that its malloc is the one every object of the process binds.
  // For glibc that is the C library itself: a program linked with another allocator
  // (Debian's redis with jemalloc) would otherwise be served by that one.
  const std::string expected =
      allocator.library.empty() ? system_malloc_library() : real_path(allocator.library);
  request.preload = (allocator.library.empty() ? expected : allocator.library) + ":" + probe;
  request.extra_env = {"ALLOCBENCH_PROBE_OUT=" + scratch.file("probe.txt")};
  request.stdout_path = scratch.file("stdout");
  request.stderr_path = scratch.file("stderr");
  request.cwd = cwd;
  request.timeout_s = timeout_s;
  request.rss_interval_ms = rss_interval_ms;
  request.rss_of_tree = true;
  request.kill_group_at_exit = true;
  const ProcessOutcome done = run_process(request);
  interrupted = done.interrupted;
  if (interrupted) return out;
  if (!done.started()) {
    r.error = done.start_error;
    return out;
  }
  if (const std::string why = done.failure(timeout_s); !why.empty()) {
    r.error = why;
    return out;
  }
  // The program and the descendants it waited for.
  if (done.usage) record_usage(*done.usage, r.metrics);
  // The tree's summed resident sets, sampled; ru_maxrss (its largest single process) is the
  // floor when a short program ends between samples.
  if (done.peak_rss_kib &&
      (!r.metrics.peak_rss_kib || *done.peak_rss_kib > *r.metrics.peak_rss_kib))
    r.metrics.peak_rss_kib = done.peak_rss_kib;
  r.metrics.wall_s = done.wall_s;
  r.rss_timeline = done.rss_timeline;
  const int status = WEXITSTATUS(done.wait_status);
  if (status != 0) {
    r.error = fmt::format("exited with status {}: {}", status,
                          last_line(read_file(scratch.file("stderr")), 200));
    return out;
  }
  if (std::string mismatch = check_probe(read_file(scratch.file("probe.txt")), expected);
      !mismatch.empty()) {
    r.error = std::move(mismatch);
    return out;
  }
  r.proof = AllocatorProof{expected, ""};
  const std::string stdout_text = read_file(scratch.file("stdout"));
  if (!program.throughput_pattern.empty()) {
    std::smatch match;
    const std::regex pattern(program.throughput_pattern);
    double value = 0;
    if (!std::regex_search(stdout_text, match, pattern) ||
        !(std::istringstream(match[1].str()) >> value)) {
      r.error = fmt::format("no {} in the output (pattern '{}')", program.throughput_metric,
                            program.throughput_pattern);
      return out;
    }
    r.extra[program.throughput_metric] = value;
  }
  if (program.compare_output) out.output_digest = fnv1a(stdout_text);
  r.ok = true;
  return out;
}

}  // namespace allocbench
