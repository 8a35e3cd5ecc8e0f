/* The dependency of missing_dependency.c; kept where the loader does not look. */
#include <stddef.h>
void *ghost_malloc(size_t size);
void *ghost_malloc(size_t size) {
  (void)size;
  return NULL;
}
