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

#include "callgrind.h"

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

ChildOutcome run_child(const std::string &exe, const ChildRequest &request, double timeout_s,
                       unsigned rss_interval_ms) {
  ChildOutcome out;
  ProcessRequest process;
  process.exe = exe;
  process.args = {kChildModeArg, to_json(request).dump()};
  // Counted mode: the same child under callgrind with its cache model, collection off
  // until the child switches it on for the measured phase.
  const bool counted = request.workload && request.workload->counted;
  std::optional<CallgrindRun> callgrind;
  if (counted) {
    callgrind.emplace(false);
    if (!callgrind->error().empty()) {
      out.error = callgrind->error();
      return out;
    }
    callgrind->wrap(process);
  }
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
  if (callgrind) {
    try {
      out.counted = callgrind->totals();
    } catch (const std::exception &e) {
      out.error = with_stderr(fmt::format("counted mode: {}", e.what()));
      return out;
    }
  }
  out.status = ChildOutcome::Status::kOk;
  return out;
}

}  // namespace allocbench
