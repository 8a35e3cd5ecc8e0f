/* The random-lifetime pattern without the harness: a window of 1000 objects of 16..512
 * bytes, one replaced at random per step (its first 64 bytes written). Counted under
 * callgrind for each shim:
 *   gcc -O2 -o random_replacement_probe random_replacement_probe.c
 *   LD_PRELOAD=.../libfio-malloc.so valgrind --tool=callgrind ./random_replacement_probe 300000
 * Arguments: steps, window, largest size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 88172645463325252ull;
static uint64_t next_random(void) { /* xorshift64 */
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static void *allocate(size_t largest) {
  size_t n = 16 + next_random() % (largest - 15);
  void *p = malloc(n);
  memset(p, 1, n < 64 ? n : 64);
  return p;
}

int main(int argc, char **argv) {
  long steps = argc > 1 ? atol(argv[1]) : 2000000;
  int window = argc > 2 ? atoi(argv[2]) : 1000;
  size_t largest = argc > 3 ? (size_t)atoi(argv[3]) : 512;
  void **live = calloc((size_t)window, sizeof(void *));
  for (int i = 0; i < window; ++i) live[i] = allocate(largest);
  for (long k = 0; k < steps; ++k) {
    int i = (int)(next_random() % (uint64_t)window);
    free(live[i]);
    live[i] = allocate(largest);
  }
  return 0;
}
