// A program with a known sequence of malloc-family calls, recorded by trace_test.
// Sizes 1001..1008 mark its own calls among those of the C and C++ runtimes.
#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kThreadObjects = 10;
void *thread_objects[kThreadObjects];

void *allocate_in_thread(void *) {
  for (auto &p : thread_objects) {
    p = std::malloc(1007);
    std::memset(p, 1, 1007);
  }
  return nullptr;
}

// Keeps the compiler from folding a malloc/free pair away.
void use(void *p) {
  asm volatile("" : : "g"(p) : "memory");
}

}  // namespace

int main(int argc, char **argv) {
  if (argc > 1 && std::strcmp(argv[1], "abort") == 0) {
    // Dies before the recorder's exit flush: what it still buffered is lost.
    use(std::malloc(1001));
    std::abort();
  }
  void *a = std::malloc(1001);
  void *b = std::calloc(7, 1002);
  a = std::realloc(a, 1003);
  void *c = std::aligned_alloc(64, 1004);
  void *d = nullptr;
  if (posix_memalign(&d, 256, 1005) != 0) return 1;
  void *e = memalign(128, 1006);
  use(a);
  use(b);
  use(c);
  use(d);
  use(e);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, allocate_in_thread, nullptr) != 0) return 1;
  pthread_join(thread, nullptr);
  for (void *p : thread_objects) std::free(p);  // cross-thread frees
  std::free(nullptr);
  std::free(a);
  std::free(b);
  std::free(c);
  std::free(d);
  std::free(e);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    void *x = std::malloc(1008);
    use(x);
    std::free(x);
    std::exit(0);  // exit, not _exit: the recorder writes its buffers at exit
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
