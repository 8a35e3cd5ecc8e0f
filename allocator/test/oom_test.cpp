// Out of memory under RLIMIT_AS: every allocating call returns NULL with ENOMEM, nothing
// crashes, and the allocator works again once memory is freed. The limit is set in a
// forked child so it does not hurt the other tests.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "test_util.h"

using namespace fio_test;

namespace {

// Address space in use now, from /proc/self/statm (pages).
size_t address_space_bytes() {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0;
  if (fscanf(f, "%lu", &pages) != 1) pages = 0;
  fclose(f);
  return pages * (size_t)sysconf(_SC_PAGESIZE);
}

// Exits 0 when the contract holds, another code naming the broken part otherwise.
int run_out_of_memory(size_t request, bool use_calloc) {
  // Freed big mappings kept for reuse are address space too: once the limit bites, they
  // must serve the small requests rather than sit idle.
  void *cached[8];
  for (void *&p : cached) p = fio_malloc(1 << 20);
  for (void *p : cached) fio_free(p);
  size_t limit = address_space_bytes() + (64u << 20);
  struct rlimit rl = {limit, limit};
  if (setrlimit(RLIMIT_AS, &rl) != 0) return 10;
  // A list of everything allocated, threaded through the objects themselves.
  void *head = nullptr;
  size_t count = 0;
  for (;;) {
    errno = 0;
    void *p = use_calloc ? fio_calloc(1, request) : fio_malloc(request);
    if (!p) {
      if (errno != ENOMEM) return 11;
      break;
    }
    *static_cast<void **>(p) = head;
    head = p;
    if (++count > (1u << 26)) return 12;  // the limit did not bite
  }
  if (count == 0) return 13;
  // Other calls fail cleanly too.
  errno = 0;
  if (fio_mmap(1 << 20) != nullptr || errno != ENOMEM) return 14;
  errno = 0;
  void *a = fio_aligned_alloc(1 << 16, 1 << 20);
  if (a != nullptr || errno != ENOMEM) return 15;
  // Free everything: the allocator is usable again.
  while (head) {
    void *next = *static_cast<void **>(head);
    fio_free(head);
    head = next;
  }
  for (int i = 0, n = request > 16384 ? 20 : 1000; i < n; ++i) {
    void *p = fio_malloc(request);
    if (!p) return 16;
    if (first_nonzero(static_cast<char *>(p) + 8, request - 8) != request - 8) return 17;
    fio_free(p);
  }
  void *big = fio_malloc(8u << 20);
  if (!big) return 18;
  fio_free(big);
  return 0;
}

void expect_child_ok(size_t request, bool use_calloc) {
  if (kAsan || kTsan) GTEST_SKIP() << "sanitizers reserve more address space than RLIMIT_AS allows";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(run_out_of_memory(request, use_calloc));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see run_out_of_memory for the failing step";
}

TEST(OutOfMemory, SmallAllocationsFailCleanly) {
  expect_child_ok(1000, false);
}
TEST(OutOfMemory, CallocFailsCleanly) {
  expect_child_ok(8000, true);
}
TEST(OutOfMemory, BigAllocationsFailCleanly) {
  expect_child_ok(1 << 20, false);
}

}  // namespace
