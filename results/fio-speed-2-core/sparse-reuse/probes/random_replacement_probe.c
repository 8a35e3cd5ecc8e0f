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

int main(int argc, char **argv) {
  long steps = argc > 1 ? atol(argv[1]) : 2000000;
  int window = argc > 2 ? atoi(argv[2]) : 1000;
  int largest = argc > 3 ? atoi(argv[3]) : 512;
  void **live = calloc((size_t)window, sizeof(void *));
  for (int i = 0; i < window; ++i) {
    size_t n = 16 + next_random() % (uint64_t)(largest - 15);
    live[i] = malloc(n);
    memset(live[i], 1, n < 64 ? n : 64);
  }
  for (long k = 0; k < steps; ++k) {
    int i = (int)(next_random() % (uint64_t)window);
    free(live[i]);
    size_t n = 16 + next_random() % (uint64_t)(largest - 15);
    live[i] = malloc(n);
    memset(live[i], 1, n < 64 ? n : 64);
  }
  return 0;
}
