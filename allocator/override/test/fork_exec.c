/*
 * fork_exec.c - fork and exec under the shim, from a parent whose threads allocate.
 *
 * Run with libfio-malloc.so in LD_PRELOAD. While worker threads allocate and free (so
 * that allocator locks are often held when fork happens), the main thread forks
 * repeatedly. Each child allocates, frees and starts threads of its own right after the
 * fork, then either exits, forks a grandchild, or execs this program again, which must
 * come up under the shim (LD_PRELOAD is inherited) and allocate. popen() and system()
 * take the C library's own spawning path through the shell. Every process must exit with status 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim_test.h"

enum { kWorkers = 3, kForks = 21, kChildRounds = 1000 };

static atomic_int stop_workers;

/* Allocation work with content checks; returns 1 when every object read back intact. */
static int churn(uint64_t seed, int rounds) {
  enum { kLive = 64 };
  unsigned char *live[kLive] = {0};
  size_t sizes[kLive] = {0};
  uint64_t rng = seed;
  int ok = 1;
  for (int i = 0; i < rounds; i++) {
    int slot = (int)(shim_rand(&rng) % kLive);
    if (live[slot] != NULL) {
      ok &= shim_verify(live[slot], sizes[slot], sizes[slot] + (uint64_t)slot);
      free(live[slot]);
    }
    uint64_t r = shim_rand(&rng);
    sizes[slot] = (r & 63) == 0 ? (size_t)(r >> 20) % (128u << 10) : (size_t)(r >> 20) % 2048;
    live[slot] = malloc(sizes[slot]);
    if (live[slot] == NULL) return 0;
    shim_fill(live[slot], sizes[slot], sizes[slot] + (uint64_t)slot);
  }
  for (int slot = 0; slot < kLive; slot++) {
    if (live[slot] == NULL) continue;
    ok &= shim_verify(live[slot], sizes[slot], sizes[slot] + (uint64_t)slot);
    free(live[slot]);
  }
  return ok;
}

static void *worker_main(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg;
  while (!atomic_load(&stop_workers)) {
    if (!churn(seed++, 200)) {
      fprintf(stderr, "fork_exec: corrupted object in the parent\n");
      _Exit(1);
    }
    usleep(200); /* busy enough to hold allocator locks at forks, idle enough for children */
  }
  return NULL;
}

static void *child_thread_main(void *arg) {
  return churn((uint64_t)(uintptr_t)arg, kChildRounds) ? (void *)1 : NULL;
}

/* What every new process does: prove the shim serves it, allocate from several threads. */
static int child_work(uint64_t seed) {
  shim_expect_symbol_from_shim("malloc");
  if (!churn(seed, kChildRounds)) return 1;
  pthread_t threads[2];
  for (uintptr_t i = 0; i < 2; i++)
    if (pthread_create(&threads[i], NULL, child_thread_main, (void *)(seed + i + 1)) != 0) return 1;
  int ok = 1;
  for (int i = 0; i < 2; i++) {
    void *result = NULL;
    ok &= pthread_join(threads[i], &result) == 0 && result != NULL;
  }
  return ok ? 0 : 1;
}

static int wait_ok(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--exec-child") == 0) {
    int rc = child_work(777);
    printf("exec child ok\n");
    return rc;
  }
  shim_expect_symbol_from_shim("malloc");

  pthread_t workers[kWorkers];
  for (uintptr_t i = 0; i < kWorkers; i++)
    SHIM_CHECK(pthread_create(&workers[i], NULL, worker_main, (void *)(i * 1000 + 1)) == 0);

  int failures = 0;
  for (int i = 0; i < kForks; i++) {
    pid_t pid = fork();
    SHIM_CHECK(pid >= 0);
    if (pid == 0) {
      int rc = child_work((uint64_t)i + 100);
      if (rc != 0) _exit(rc);
      switch (i % 3) {
        case 0:
          exit(0); /* runs atexit handlers and destructors in the child */
        case 1: {  /* a grandchild, forked from a child whose threads have run */
          pid_t grandchild = fork();
          if (grandchild < 0) _exit(1);
          if (grandchild == 0) _exit(child_work((uint64_t)i + 5000));
          _exit(wait_ok(grandchild) ? 0 : 1);
        }
        default:
          execl("/proc/self/exe", argv[0], "--exec-child", (char *)NULL);
          _exit(127);
      }
    }
    failures += !wait_ok(pid);
  }

  /* The C library's spawning paths, through the shell. */
  char self[2048], command[4200];
  ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  SHIM_CHECK(length > 0);
  self[length] = '\0';
  snprintf(command, sizeof command, "'%s' --exec-child", self);
  SHIM_CHECK(system(command) == 0);
  FILE *pipe = popen(command, "r");
  SHIM_CHECK(pipe != NULL);
  char line[128] = {0};
  SHIM_CHECK(fgets(line, sizeof line, pipe) != NULL);
  SHIM_CHECK(pclose(pipe) == 0);
  SHIM_CHECK(strcmp(line, "exec child ok\n") == 0);

  atomic_store(&stop_workers, 1);
  for (int i = 0; i < kWorkers; i++) SHIM_CHECK(pthread_join(workers[i], NULL) == 0);
  if (failures != 0) {
    fprintf(stderr, "fork_exec: %d of %d children failed\n", failures, kForks);
    return 1;
  }
  printf("fork_exec: %d forks from %d allocating threads: ok\n", kForks, kWorkers);
  return 0;
}
