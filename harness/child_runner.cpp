#include "child_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "parent_death.h"
#include "rss_sampler.h"

extern char **environ;

namespace allocbench {

namespace {

std::atomic<bool> g_interrupted{false};
int g_interrupt_pipe[2] = {-1, -1};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  const int saved = errno;
  const char byte = 1;
  if (g_interrupt_pipe[1] >= 0) [[maybe_unused]]
    auto n = ::write(g_interrupt_pipe[1], &byte, 1);
  errno = saved;
}

// A pipe whose ends sit above the standard descriptors and kChildReplyFd, so that
// dup2 into them in the child always clears close-on-exec.
void make_pipe(int fds[2]) {
  int raw[2];
  if (::pipe2(raw, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  for (int i = 0; i < 2; ++i) {
    fds[i] = ::fcntl(raw[i], F_DUPFD_CLOEXEC, 10);
    ::close(raw[i]);
    if (fds[i] < 0) throw std::runtime_error(fmt::format("fcntl: {}", std::strerror(errno)));
  }
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string tail_of(const std::string &text, std::size_t max_chars) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.size() > max_chars) t = "..." + t.substr(t.size() - max_chars);
  for (char &c : t)
    if (c == '\n' || c == '\r') c = '|';
  return t;
}

// Reads what is available; false at end of file.
bool drain(int fd, std::string &into, std::size_t keep_last) {
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  into.append(buf, static_cast<std::size_t>(n));
  if (keep_last && into.size() > 2 * keep_last) into.erase(0, into.size() - keep_last);
  return true;
}

}  // namespace

std::vector<std::string> child_environment(const std::string &preload) {
  const std::string parent_var = std::string(kParentPidEnv) + "=";
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) == 0) continue;
    if (std::strncmp(*e, parent_var.c_str(), parent_var.size()) == 0) continue;
    env.emplace_back(*e);
  }
  if (!preload.empty()) env.push_back("LD_PRELOAD=" + preload);
  env.push_back(parent_var + std::to_string(::getpid()));
  return env;
}

void install_interrupt_handlers() {
  if (g_interrupt_pipe[0] < 0) {
    make_pipe(g_interrupt_pipe);
    ::fcntl(g_interrupt_pipe[1], F_SETFL, O_NONBLOCK);
    ::fcntl(g_interrupt_pipe[0], F_SETFL, O_NONBLOCK);
  }
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and the loop sees the flag
  // A closed terminal (SIGHUP) ends the suite like Ctrl-C: the running child is killed and
  // what finished is written.
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
}

bool interrupt_requested() {
  return g_interrupted.load();
}

std::string signal_name(int sig) {
  if (const char *abbrev = ::sigabbrev_np(sig)) return fmt::format("SIG{}", abbrev);
  return fmt::format("signal {}", sig);
}

std::string self_executable() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buf, static_cast<std::size_t>(n));
}

int spawn_in_own_group(pid_t *pid, const std::string &exe,
                       const posix_spawn_file_actions_t *actions, char *const argv[],
                       char *const envp[], std::initializer_list<int> default_signals) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : default_signals) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int error = ::posix_spawn(pid, exe.c_str(), actions, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  return error;
}

ChildOutcome run_child(const std::string &exe, const ChildRequest &request, double timeout_s,
                       unsigned rss_interval_ms) {
  ChildOutcome out;
  int reply_pipe[2], err_pipe[2];
  make_pipe(reply_pipe);
  Fd reply_r(reply_pipe[0]), reply_w(reply_pipe[1]);
  make_pipe(err_pipe);
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

  const std::string request_text = to_json(request).dump();
  std::vector<std::string> args = {exe, kChildModeArg, request_text};
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env =
      child_environment(request.allocator.preloaded() ? request.allocator.library : "");
  std::vector<char *> envp;
  for (std::string &e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  posix_spawn_file_actions_adddup2(&actions, reply_w.get(), kChildReplyFd);
  pid_t pid = -1;
  const int spawn_error = spawn_in_own_group(&pid, exe, &actions, argv.data(), envp.data(),
                                             {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT});
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    out.error = fmt::format("cannot start the child {}: {}", exe, std::strerror(spawn_error));
    return out;
  }
  reply_w.reset();
  err_w.reset();

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  RssSampler rss(pid, rss_interval_ms, start);
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  std::string reply_text, err_text;
  bool reply_open = true, err_open = true, timed_out = false, interrupted = false;
  int status = 0;
  bool reaped = false;
  rusage usage{};
  while (true) {
    if (interrupt_requested()) {
      interrupted = true;
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    rss.sample_if_due(now);
    if (!reply_open && !err_open) {
      // Both pipes closed: the child is exiting (or closed them and lives on).
      const pid_t r = ::wait4(pid, &status, WNOHANG, &usage);
      if (r == pid) {
        reaped = true;
        break;
      }
      ::usleep(static_cast<useconds_t>(std::min(rss.ms_until_due(Clock::now(), 2), 2)) * 1000);
      continue;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (reply_open) fds[n++] = {reply_r.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err_r.get(), POLLIN, 0};
    fds[n++] = {g_interrupt_pipe[0], POLLIN, 0};
    const auto left_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    const int ready = ::poll(
        fds, n,
        rss.ms_until_due(Clock::now(), static_cast<int>(std::min<long long>(left_ms, 1000))));
    if (ready < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n && ready > 0; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (fds[i].fd == reply_r.get()) reply_open = drain(reply_r.get(), reply_text, 0);
      if (fds[i].fd == err_r.get()) err_open = drain(err_r.get(), err_text, 64 * 1024);
    }
  }
  if (!reaped) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
  }
  // Whatever the child wrote before it ended.
  while (err_open && drain(err_r.get(), err_text, 64 * 1024)) {
  }
  out.stderr_tail = tail_of(err_text, 400);
  out.rss_timeline = rss.timeline();

  if (interrupted) {
    out.status = ChildOutcome::Status::kInterrupted;
    out.error = "interrupted";
    return out;
  }
  out.usage = usage;
  auto with_stderr = [&](std::string msg) {
    if (!out.stderr_tail.empty()) msg += "; stderr: " + out.stderr_tail;
    return msg;
  };
  if (timed_out) {
    out.error = fmt::format("timeout after {} s", timeout_s);
    return out;
  }
  if (WIFSIGNALED(status)) {
    out.error = with_stderr("crashed: " + signal_name(WTERMSIG(status)));
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
  out.status = ChildOutcome::Status::kOk;
  return out;
}

}  // namespace allocbench
