/* A malloc library whose dependency cannot be found at run time: ld.so refuses to
 * preload it, prints a warning and goes on with glibc. The harness must notice. */
#include <stddef.h>
void *ghost_malloc(size_t size);
void *malloc(size_t size) {
  return ghost_malloc(size);
}
