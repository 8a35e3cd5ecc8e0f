// A child of allocbench (a run, a probe, a microbenchmark process) dies with its parent,
// whatever ends the parent: SIGKILL and a lost terminal included, which no handler in the
// parent can catch. The parent puts its pid in the child's environment; the child asks the
// kernel for SIGKILL when its parent goes (PR_SET_PDEATHSIG), then checks that its parent
// is still the one that started it, which catches a parent that died before the request.
// Header-only: allocbench-micro, which links no harness library, calls it too.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>

namespace allocbench {

inline constexpr const char *kParentPidEnv = "ALLOCBENCH_PARENT_PID";

// Call first thing in a child. False when the parent that started this process is already
// gone: the caller exits at once. True, without effect, in a process that allocbench did
// not start (the variable is absent).
inline bool die_with_parent() {
  const char *text = std::getenv(kParentPidEnv);
  if (text == nullptr || *text == '\0') return true;
  char *end = nullptr;
  const long expected = std::strtol(text, &end, 10);
  if (*end != '\0' || expected <= 0) return true;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return true;
  return ::getppid() == static_cast<pid_t>(expected);
}

}  // namespace allocbench
