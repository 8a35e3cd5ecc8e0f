// The cost of zeroing a freed slice in the pattern of alloc-free: write an object with
// the harness's pattern (one 64-bit word per 8 bytes), check it, then zero it with each
// method; "none" is the pattern alone. Best of 5 runs of 2 M iterations, per size and per
// alignment of the object to 32 bytes.
//
//   gcc -O3 zeroing-loop.c -o zeroing-loop && ./zeroing-loop
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef char v16 __attribute__((vector_size(16), aligned(16)));

// fio's own: 16-byte stores up to 256 bytes, memset above.
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns"))) void z_sse(void *p,
                                                                                   size_t n) {
  if (n <= 256) {
    v16 *q = p;
    for (size_t k = 0; k < n / 16; ++k) q[k] = (v16){0};
  } else {
    memset(p, 0, n);
  }
}

__attribute__((noinline)) void z_memset(void *p, size_t n) {
  memset(p, 0, n);
}

// 32-byte aligned AVX2 stores, a 16-byte store at either end where needed.
__attribute__((noinline, target("avx2"), optimize("no-tree-loop-distribute-patterns"))) void z_avx2(
    void *p, size_t n) {
  char *q = p, *e = q + n;
  if (((uintptr_t)q & 16) && q < e) {
    _mm_store_si128((__m128i *)q, _mm_setzero_si128());
    q += 16;
  }
  __m256i z = _mm256_setzero_si256();
  for (; q + 32 <= e; q += 32) _mm256_store_si256((__m256i *)q, z);
  if (q < e) _mm_store_si128((__m128i *)q, _mm_setzero_si128());
}

__attribute__((noinline)) void z_none(void *p, size_t n) {
  (void)p;
  (void)n;
  __asm__ volatile("" ::: "memory");
}

static uint64_t fill_check(char *p, size_t s, uint64_t key) {
  uint64_t w = key;
  for (size_t i = 0; i < s / 8; i++, w += 0x9E3779B97F4A7C15ull) memcpy(p + 8 * i, &w, 8);
  uint64_t d = 0;
  w = key;
  for (size_t i = 0; i < s / 8; i++, w += 0x9E3779B97F4A7C15ull) {
    uint64_t x;
    memcpy(&x, p + 8 * i, 8);
    d |= x ^ w;
  }
  return d;
}

int main(void) {
  char *buf = aligned_alloc(64, 1 << 16);
  memset(buf, 1, 1 << 16);
  void (*fn[])(void *, size_t) = {z_none, z_sse, z_memset, z_avx2};
  const char *name[] = {"none", "sse16", "memset", "avx2"};
  const size_t sizes[] = {16, 64, 256, 512, 1024};
  for (int off = 0; off < 2; off++) {
    char *p = buf + 1024 + off * 16;
    printf("object at 32-byte offset %d\n", off * 16);
    for (int si = 0; si < 5; si++) {
      size_t s = sizes[si];
      printf("  %5zu B:", s);
      for (int m = 0; m < 4; m++) {
        double best = 1e9;
        for (int r = 0; r < 5; r++) {
          uint64_t acc = 0;
          const size_t iterations = 2000000;
          double t0 = now();
          for (size_t i = 0; i < iterations; i++) {
            acc |= fill_check(p, s, i);
            fn[m](p, s);
          }
          double t = (now() - t0) / iterations * 1e9;
          if (acc == 12345) puts("");
          if (t < best) best = t;
        }
        printf("  %s %.2f ns", name[m], best);
      }
      printf("\n");
    }
  }
  return 0;
}
