#include "process.h"

#include <sched.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

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

// A pipe whose ends sit above the standard descriptors and any descriptor a child gets
// an output on, so that dup2 into them in the child always clears close-on-exec.
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

// Starts `exe` with posix_spawn in a process group of its own (a terminal's Ctrl-C
// reaches only the parent, which decides, and a timeout kills the whole group), with no
// signal blocked and the signals the parent handles or ignores back at their defaults.
int spawn_in_own_group(pid_t *pid, const std::string &exe,
                       const posix_spawn_file_actions_t *actions, char *const argv[],
                       char *const envp[]) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int error = ::posix_spawn(pid, exe.c_str(), actions, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  return error;
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

void run_on_cpus(const std::vector<unsigned> &cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string list;
  for (unsigned cpu : cpus) {
    CPU_SET(cpu, &set);
    if (!list.empty()) list += ',';
    list += std::to_string(cpu);
  }
  if (::sched_setaffinity(0, sizeof set, &set) != 0)
    throw std::invalid_argument(
        fmt::format("--cpus: cannot run on CPUs {}: {} (accepted: CPUs "
                    "that are online and allowed here, 0..{})",
                    list, std::strerror(errno), ::sysconf(_SC_NPROCESSORS_ONLN) - 1));
}

void record_usage(const rusage &u, RunMetrics &m) {
  const auto seconds = [](const timeval &tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  m.user_s = seconds(u.ru_utime);
  m.sys_s = seconds(u.ru_stime);
  m.peak_rss_kib = static_cast<std::uint64_t>(u.ru_maxrss);
  m.minor_faults = static_cast<std::uint64_t>(u.ru_minflt);
  m.major_faults = static_cast<std::uint64_t>(u.ru_majflt);
  m.vol_ctx_switches = static_cast<std::uint64_t>(u.ru_nvcsw);
  m.invol_ctx_switches = static_cast<std::uint64_t>(u.ru_nivcsw);
}

std::string last_line(std::string text, std::size_t max_chars) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  std::string line = nl == std::string::npos ? text : text.substr(nl + 1);
  if (line.size() > max_chars) line = line.substr(0, max_chars) + "...";
  return line;
}

std::optional<std::string> find_executable(const std::string &name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    std::error_code ec;
    if (!std::filesystem::exists(name, ec)) return std::nullopt;
    return std::filesystem::absolute(name, ec).string();
  }
  const char *path = std::getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t colon = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, colon - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate))
      return candidate;
    start = colon + 1;
  }
  return std::nullopt;
}

std::string self_directory() {
  const std::string exe = self_executable();
  const auto slash = exe.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : exe.substr(0, slash);
}

std::string ProcessOutcome::failure(double timeout_s) const {
  if (timed_out) return fmt::format("timeout after {} s", timeout_s);
  if (!interrupted && WIFSIGNALED(wait_status))
    return "crashed: " + signal_name(WTERMSIG(wait_status));
  return {};
}

ProcessOutcome run_process(const ProcessRequest &request) {
  ProcessOutcome out;
  const std::size_t n_outputs = request.outputs.size();
  std::vector<std::unique_ptr<Fd>> read_ends, write_ends;
  for (std::size_t i = 0; i < n_outputs; ++i) {
    int fds[2];
    make_pipe(fds);
    read_ends.push_back(std::make_unique<Fd>(fds[0]));
    write_ends.push_back(std::make_unique<Fd>(fds[1]));
  }

  std::vector<std::string> args = {request.exe};
  args.insert(args.end(), request.args.begin(), request.args.end());
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = child_environment(request.preload);
  env.insert(env.end(), request.extra_env.begin(), request.extra_env.end());
  std::vector<char *> envp;
  for (std::string &e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  bool standard_taken[3] = {true, false, false};
  for (std::size_t i = 0; i < n_outputs; ++i) {
    for (int fd : request.outputs[i].fds) {
      posix_spawn_file_actions_adddup2(&actions, write_ends[i]->get(), fd);
      if (fd >= 0 && fd < 3) standard_taken[fd] = true;
    }
  }
  for (int fd : {1, 2}) {
    const std::string &file = fd == 1 ? request.stdout_path : request.stderr_path;
    if (!standard_taken[fd] && !file.empty())
      posix_spawn_file_actions_addopen(&actions, fd, file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0644);
    else if (!standard_taken[fd] && !request.inherit_stdio)
      posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0);
  }
  if (!request.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, request.cwd.c_str());
  pid_t pid = -1;
  const int spawn_error = spawn_in_own_group(&pid, request.exe, &actions, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    out.start_error = fmt::format("cannot start {}: {}", request.exe, std::strerror(spawn_error));
    return out;
  }
  for (auto &w : write_ends) w->reset();

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  RssSampler rss(pid, request.rss_interval_ms, start, request.rss_of_tree);
  // Readable when the child exits: a child without pipes is waited for without a delay.
  const Fd exit_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  const auto deadline = request.timeout_s > 0
                            ? start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(request.timeout_s))
                            : Clock::time_point::max();
  out.outputs.assign(n_outputs, {});
  std::vector<bool> open(n_outputs, true);
  int status = 0;
  bool reaped = false;
  rusage usage{};
  while (true) {
    if (interrupt_requested()) {
      out.interrupted = true;
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      out.timed_out = true;
      break;
    }
    rss.sample_if_due(now);
    if (std::none_of(open.begin(), open.end(), [](bool o) { return o; })) {
      // Every pipe closed: the child is exiting (or closed them and lives on).
      const pid_t r = ::wait4(pid, &status, WNOHANG, &usage);
      if (r == pid) {
        reaped = true;
        out.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
        break;
      }
      // Soon after its pipes closed a child is gone; one without pipes (its output goes
      // to the parent's) may run for long, and is looked at less often.
      const int wait_ms = n_outputs ? 2 : exit_fd.get() >= 0 ? 1000 : 20;
      pollfd waits[2] = {{g_interrupt_pipe[0], POLLIN, 0}, {exit_fd.get(), POLLIN, 0}};
      const int left_ms = static_cast<int>(std::min<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count() +
              1,
          wait_ms));
      ::poll(waits, 2, std::min(rss.ms_until_due(Clock::now(), left_ms), left_ms));
      continue;
    }
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < n_outputs; ++i) {
      if (!open[i]) continue;
      fds.push_back({read_ends[i]->get(), POLLIN, 0});
      which.push_back(i);
    }
    fds.push_back({g_interrupt_pipe[0], POLLIN, 0});
    const auto left_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    const int ready = ::poll(
        fds.data(), fds.size(),
        rss.ms_until_due(Clock::now(), static_cast<int>(std::min<long long>(left_ms, 1000))));
    if (ready < 0 && errno != EINTR) break;
    for (std::size_t k = 0; k < which.size() && ready > 0; ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const std::size_t i = which[k];
      open[i] = drain(read_ends[i]->get(), out.outputs[i], request.outputs[i].keep_last);
    }
  }
  if (reaped && request.kill_group_at_exit) ::kill(-pid, SIGKILL);
  if (!reaped) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
  }
  // Whatever the child wrote before it ended.
  for (std::size_t i = 0; i < n_outputs; ++i)
    while (open[i] && drain(read_ends[i]->get(), out.outputs[i], request.outputs[i].keep_last)) {
    }
  out.wait_status = status;
  if (!out.interrupted) out.usage = usage;
  out.rss_timeline = rss.timeline();
  out.peak_rss_kib = rss.peak_kib();
  return out;
}

}  // namespace allocbench
