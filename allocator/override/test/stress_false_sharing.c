/*
 * stress_false_sharing.c - small objects written hard by many threads, under the shim and
 * glibc.
 *
 * Active variant: each thread allocates its own small objects and writes them over and
 * over; an allocator that hands neighbouring threads the same cache lines makes this
 * slow, one that hands out overlapping memory makes it wrong. Passive variant: the main
 * thread allocates one small object per thread back to back and hands them out; each
 * thread frees its object first and then allocates and writes its own (the passive
 * sharing of cache-scratch). Every thread checks its objects' final values; the printed
 * totals depend only on the parameters.
 *
 *   stress_false_sharing [threads] [rounds] [writes per round]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim_test.h"

typedef struct {
  int id, rounds, writes;
  unsigned char *handed; /* passive variant: the object the main thread allocated */
  uint64_t total;
  int corrupt;
} worker;

static void write_hard(worker *w, size_t size) {
  for (int round = 0; round < w->rounds; round++) {
    volatile unsigned char *object = malloc(size);
    SHIM_CHECK(object != NULL);
    for (size_t i = 0; i < size; i++) object[i] = 0;
    for (int i = 0; i < w->writes; i++) object[(size_t)i % size]++;
    /* Byte i was incremented writes/size times, once more when i < writes % size. */
    size_t per_byte = (size_t)w->writes / size, extra = (size_t)w->writes % size;
    uint64_t sum = 0;
    for (size_t i = 0; i < size; i++) {
      if (object[i] != (unsigned char)(per_byte + (i < extra))) w->corrupt = 1;
      sum += object[i];
    }
    w->total += sum;
    free((void *)object);
  }
}

static void *active_main(void *arg) {
  worker *w = arg;
  write_hard(w, 8 + (size_t)(w->id % 4) * 8);
  return NULL;
}

static void *passive_main(void *arg) {
  worker *w = arg;
  if (!shim_verify(w->handed, 16, (uint64_t)w->id)) w->corrupt = 1;
  free(w->handed);
  write_hard(w, 16);
  return NULL;
}

static int parse_positive(const char *text, const char *what) {
  char *end;
  long value = strtol(text, &end, 10);
  if (*end != '\0' || value <= 0 || value > 100000000) {
    fprintf(stderr, "stress_false_sharing: %s must be an integer in 1..100000000, not '%s'\n", what,
            text);
    exit(2);
  }
  return (int)value;
}

static int run(const char *variant, int threads, int rounds, int writes) {
  worker *workers = calloc((size_t)threads, sizeof *workers);
  pthread_t *handles = calloc((size_t)threads, sizeof *handles);
  SHIM_CHECK(workers != NULL && handles != NULL);
  int passive = variant[0] == 'p';
  for (int i = 0; i < threads; i++) {
    workers[i].id = i, workers[i].rounds = rounds, workers[i].writes = writes;
    if (passive) {
      workers[i].handed = malloc(16); /* back to back: likely one cache line for several */
      SHIM_CHECK(workers[i].handed != NULL);
      shim_fill(workers[i].handed, 16, (uint64_t)i);
    }
  }
  for (int i = 0; i < threads; i++)
    SHIM_CHECK(
        pthread_create(&handles[i], NULL, passive ? passive_main : active_main, &workers[i]) == 0);
  uint64_t total = 0;
  int corrupt = 0;
  for (int i = 0; i < threads; i++) {
    SHIM_CHECK(pthread_join(handles[i], NULL) == 0);
    total += workers[i].total;
    corrupt |= workers[i].corrupt;
  }
  printf("%s false sharing: %d threads x %d rounds x %d writes: total %llu%s\n", variant, threads,
         rounds, writes, (unsigned long long)total, corrupt ? " CORRUPTED" : "");
  free(workers);
  free(handles);
  return corrupt;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? parse_positive(argv[1], "threads") : 8;
  int rounds = argc > 2 ? parse_positive(argv[2], "rounds") : 200;
  int writes = argc > 3 ? parse_positive(argv[3], "writes per round") : 20000;
  int corrupt = run("active", threads, rounds, writes);
  corrupt |= run("passive", threads, rounds, writes);
  return corrupt ? 1 : 0;
}
