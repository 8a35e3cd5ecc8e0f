// Fork while other threads allocate: the child can allocate and free (no lock is left
// held, no state half-updated), and the parent goes on.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "test_util.h"

using namespace fio_test;

namespace {

// What the child does: returns its exit status (0: fine).
// The child keeps its pointers in static storage: a multi-threaded parent's child must
// not rely on any other allocator (a sanitizer runtime's, behind std::vector) being
// fork-safe, only on the one under test.
int child_work() {
  static void *objs[2000];
  for (int i = 0; i < 2000; ++i) {
    size_t n = i % 100 == 0 ? 40000 : 1 + (i * 131) % 2000;  // small and a few big
    void *p = fio_malloc(n);
    if (!p || first_nonzero(p, n) != n) return 1;
    fill_pattern(p, n);
    objs[i] = p;
  }
  for (void *&p : objs) {
    void *q = fio_realloc(p, 100);
    if (!q) return 2;
    p = q;
  }
  for (void *p : objs) fio_free(p);
  fio_malloc_stats_t s;
  fio_malloc_stats(&s);  // takes the registry lock: must not be left held
  if (s.allocations == 0) return 3;
  fio_malloc_after_fork();  // harmless when called again
  void *p = fio_malloc(64);
  if (!p) return 4;
  fio_free(p);
  return 0;
}

TEST(Fork, ChildAllocatesWhileParentThreadsAllocate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 3; ++t)
    busy.emplace_back([&stop, t] {
      std::vector<void *> objs;
      unsigned long i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // Small, big and cross-block traffic so every lock is taken now and then.
        objs.push_back(fio_malloc(++i % 97 == 0 ? 40000 : 16 + (i * 37 + t) % 3000));
        if (objs.size() > 2000) {
          for (void *p : objs) fio_free(p);
          objs.clear();
        }
      }
      for (void *p : objs) fio_free(p);
    });
  const int forks = kTsan ? 4 : 12;
  for (int i = 0; i < forks; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(child_work());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
    ASSERT_EQ(WEXITSTATUS(status), 0);
  }
  stop = true;
  for (auto &t : busy) t.join();
  // The parent goes on.
  void *p = fio_malloc(1000);
  ASSERT_NE(p, nullptr);
  fio_free(p);
}

}  // namespace
