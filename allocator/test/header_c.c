/* Compiled as C11: the public header must be valid C. */
#include "fio/fio_malloc.h"

int fio_test_header_compiles_as_c(void);
int fio_test_header_compiles_as_c(void) {
  fio_malloc_stats_t s;
  int *p = fio_calloc(4, sizeof(int));
  int ok = p != NULL && p[3] == 0;
  fio_free(p);
  fio_malloc_stats(&s);
  return ok && s.allocations > 0;
}
