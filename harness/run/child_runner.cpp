#include "child_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace allocbench {

namespace {

std::string tail_of(const std::string &text, std::size_t max_chars) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.size() > max_chars) t = "..." + t.substr(t.size() - max_chars);
  for (char &c : t)
    if (c == '\n' || c == '\r') c = '|';
  return t;
}

}  // namespace

std::optional<std::string> valgrind_executable() {
  if (const char *env = std::getenv("ALLOCBENCH_VALGRIND"); env && *env) return std::string(env);
  return find_executable("valgrind");
}

std::map<std::string, double> parse_callgrind_totals(const std::string &text) {
  std::vector<std::string> events;
  std::vector<double> totals;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "events:") {
      events.clear();
      for (std::string e; words >> e;) events.push_back(e);
    } else if (key == "totals:" || key == "summary:") {
      totals.clear();
      for (double v; words >> v;) totals.push_back(v);
    }
  }
  if (events.empty() || totals.empty() || totals.size() > events.size())
    throw std::runtime_error("no events and totals in callgrind's output");
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < events.size(); ++i)
    out[events[i]] = i < totals.size() ? totals[i] : 0;
  return out;
}

ChildOutcome run_child(const std::string &exe, const ChildRequest &request, double timeout_s,
                       unsigned rss_interval_ms) {
  ChildOutcome out;
  ProcessRequest process;
  process.exe = exe;
  process.args = {kChildModeArg, to_json(request).dump()};
  // Counted mode: the same child under callgrind with its cache model, collection off
  // until the child switches it on for the measured phase.
  const bool counted = request.workload && request.workload->counted;
  std::string counts_file;
  if (counted) {
    const std::optional<std::string> valgrind = valgrind_executable();
    if (!valgrind) {
      out.error = "counted mode needs valgrind (apt-get install valgrind)";
      return out;
    }
    char pattern[] = "/tmp/allocbench-callgrind-XXXXXX";
    const int fd = ::mkstemp(pattern);
    if (fd < 0) {
      out.error = fmt::format("cannot create a temporary file: {}", std::strerror(errno));
      return out;
    }
    ::close(fd);
    counts_file = pattern;
    process.args.insert(process.args.begin(),
                        {"--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes",
                         "--callgrind-out-file=" + counts_file, "--log-fd=2", "-q", exe});
    process.exe = *valgrind;
  }
  struct RemoveFile {
    std::string path;
    ~RemoveFile() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } remove_counts{counts_file};
  process.preload = request.allocator.preloaded() ? request.allocator.library : "";
  process.outputs = {{{1, 2}, 64 * 1024}, {{kChildReplyFd}, 0}};
  process.timeout_s = timeout_s;
  process.rss_interval_ms = rss_interval_ms;
  const ProcessOutcome done = run_process(process);
  if (!done.started()) {
    out.error = done.start_error;
    return out;
  }
  const std::string &reply_text = done.outputs[1];
  out.stderr_tail = tail_of(done.outputs[0], 400);
  out.rss_timeline = done.rss_timeline;

  if (done.interrupted) {
    out.status = ChildOutcome::Status::kInterrupted;
    out.error = "interrupted";
    return out;
  }
  out.usage = done.usage;
  const int status = done.wait_status;
  auto with_stderr = [&](std::string msg) {
    if (!out.stderr_tail.empty()) msg += "; stderr: " + out.stderr_tail;
    return msg;
  };
  if (done.timed_out) {
    out.error = done.failure(timeout_s);
    return out;
  }
  if (const std::string why = done.failure(timeout_s); !why.empty()) {
    out.error = with_stderr(why);
    return out;
  }
  Json reply;
  if (!reply_text.empty()) {
    try {
      reply = Json::parse(reply_text);
    } catch (const nlohmann::json::exception &) {
      reply = nullptr;
    }
  }
  if (reply.is_object() && reply.contains("proof")) {
    const Json &proof = reply["proof"];
    if (!proof.value("ok", false)) {
      out.error = with_stderr("allocator mismatch: " + proof.value("error", std::string("?")));
      return out;
    }
    out.proof = AllocatorProof{proof.value("malloc_from", std::string()),
                               proof.value("version", std::string())};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    out.error = with_stderr(fmt::format("exited with status {}", WEXITSTATUS(status)));
    return out;
  }
  if (!out.proof) {
    out.error = with_stderr("the child sent no result");
    return out;
  }
  if (reply.contains("vm_hwm_kib")) out.vm_hwm_kib = reply["vm_hwm_kib"].get<std::uint64_t>();
  if (request.workload) {
    if (!reply.contains("result") || !reply["result"].is_object()) {
      out.error = with_stderr("the child sent no result");
      return out;
    }
    out.result = reply["result"];
    if (!out.result.value("ok", false)) {
      std::string why = out.result.value("error", std::string("(no message)"));
      if (!reply.value("exception", false) && why.rfind("content check failed", 0) != 0)
        why = "content check failed: " + why;
      out.error = why;
      return out;
    }
  }
  if (counted) {
    std::ifstream in(counts_file);
    std::stringstream text;
    text << in.rdbuf();
    try {
      out.counted = parse_callgrind_totals(text.str());
    } catch (const std::exception &e) {
      out.error = with_stderr(fmt::format("counted mode: {}", e.what()));
      return out;
    }
  }
  out.status = ChildOutcome::Status::kOk;
  return out;
}

}  // namespace allocbench
