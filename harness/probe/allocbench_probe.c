/* The program probe: preloaded after the allocator under test into every process of a
 * program benchmark (LD_PRELOAD is inherited across fork and exec), it records which
 * loaded object serves malloc, free, calloc and realloc in that process, so the parent
 * can prove that the allocator asked for served the whole process tree.
 *
 * At load time, when ALLOCBENCH_PROBE_OUT names a file, it appends one line:
 *   PID <TAB> EXE <TAB> malloc=PATH <TAB> free=PATH <TAB> calloc=PATH <TAB> realloc=PATH
 * with one write(2) on a file opened O_APPEND, so the lines of concurrent processes do not
 * interleave. The probe defines no allocation function and allocates nothing itself. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The object whose definition of `name` the process binds to. A program that takes the
 * address of `free` without being position-independent has a canonical PLT entry for it,
 * and dlsym answers that entry, inside the program; the object that really serves the
 * calls is then the first loaded object after the program that defines the symbol. */
static const char *serving_object(const char *name) {
  Dl_info info;
  struct link_map *object = NULL;
  void *symbol = dlsym(RTLD_DEFAULT, name);
  if (!symbol || !dladdr1(symbol, &info, (void **)&object, RTLD_DL_LINKMAP) || !info.dli_fname)
    return "?";
  if (object && object->l_prev == NULL) { /* the program itself: where does it really bind? */
    for (struct link_map *l = object->l_next; l; l = l->l_next) {
      if (!l->l_name[0] || strncmp(l->l_name, "linux-vdso", 10) == 0) continue;
      void *handle = dlopen(l->l_name, RTLD_LAZY | RTLD_NOLOAD);
      if (!handle) continue;
      Dl_info owner_info;
      struct link_map *owner = NULL;
      void *candidate = dlsym(handle, name);
      const int defines = candidate &&
                          dladdr1(candidate, &owner_info, (void **)&owner, RTLD_DL_LINKMAP) &&
                          owner == l;
      dlclose(handle);
      if (defines) return l->l_name;
    }
  }
  return info.dli_fname[0] ? info.dli_fname : "?";
}

__attribute__((constructor)) static void allocbench_probe_report(void) {
  const char *out = getenv("ALLOCBENCH_PROBE_OUT");
  if (!out || !*out) return;
  char exe[1024];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  char line[4096 + 1024];
  const int len = snprintf(line, sizeof line, "%d\t%s\tmalloc=%s\tfree=%s\tcalloc=%s\trealloc=%s\n",
                           (int)getpid(), exe, serving_object("malloc"), serving_object("free"),
                           serving_object("calloc"), serving_object("realloc"));
  if (len <= 0) return;
  const int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const size_t size = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
  ssize_t written = write(fd, line, size);
  (void)written; /* a short or failed write leaves a line the parent refuses */
  close(fd);
}
