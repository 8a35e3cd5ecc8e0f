/*
 * stress_larson.c - a larson-like server simulation, run under the shim and under glibc.
 *
 * Each of T chains owns an array of live objects and replaces random ones with objects
 * of random size. After each round the thread serving a chain starts its successor and
 * exits: the successor inherits and frees the objects its predecessor allocated, as a
 * server's new worker does with a finished one's state. Every object is filled with a
 * pattern and checked before it is freed. The printed summary depends only on the seeds,
 * so it is the same under every correct allocator.
 *
 *   stress_larson [chains] [rounds] [slots] [operations per round]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim_test.h"

typedef struct {
  int id, round, rounds, slots, operations;
  unsigned char **objects;
  size_t *sizes;
  uint64_t *tags;
  uint64_t rng, checksum, allocated_bytes, operations_done;
  int corrupt;
} chain;

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int chains_done;

static size_t larson_size(uint64_t *rng) {
  uint64_t r = shim_rand(rng);
  if ((r & 1023) == 0) return 16384 + (size_t)(r >> 20) % (256u << 10); /* rare large */
  return 8 + (size_t)(r >> 20) % 1000;
}

static void *chain_main(void *arg) {
  chain *c = arg;
  for (int op = 0; op < c->operations; op++) {
    int slot = (int)(shim_rand(&c->rng) % (uint64_t)c->slots);
    if (!shim_verify(c->objects[slot], c->sizes[slot], c->tags[slot])) c->corrupt = 1;
    c->checksum += c->tags[slot] ^ c->sizes[slot];
    free(c->objects[slot]);
    c->sizes[slot] = larson_size(&c->rng);
    c->tags[slot] = shim_rand(&c->rng);
    c->objects[slot] = malloc(c->sizes[slot]);
    SHIM_CHECK(c->objects[slot] != NULL);
    shim_fill(c->objects[slot], c->sizes[slot], c->tags[slot]);
    c->allocated_bytes += c->sizes[slot];
  }
  c->operations_done += (uint64_t)c->operations;
  if (++c->round < c->rounds) {
    /* Hand the chain, live objects and all, to a new thread and end this one. */
    pthread_t successor;
    SHIM_CHECK(pthread_create(&successor, NULL, chain_main, c) == 0);
    SHIM_CHECK(pthread_detach(successor) == 0);
    return NULL;
  }
  pthread_mutex_lock(&done_lock);
  chains_done++;
  pthread_cond_signal(&done_cond);
  pthread_mutex_unlock(&done_lock);
  return NULL;
}

static int parse_positive(const char *text, const char *what) {
  char *end;
  long value = strtol(text, &end, 10);
  if (*end != '\0' || value <= 0 || value > 1000000) {
    fprintf(stderr, "stress_larson: %s must be an integer in 1..1000000, not '%s'\n", what, text);
    exit(2);
  }
  return (int)value;
}

int main(int argc, char **argv) {
  int chains = argc > 1 ? parse_positive(argv[1], "chains") : 4;
  int rounds = argc > 2 ? parse_positive(argv[2], "rounds") : 30;
  int slots = argc > 3 ? parse_positive(argv[3], "slots") : 1000;
  int operations = argc > 4 ? parse_positive(argv[4], "operations per round") : 5000;

  chain *all = calloc((size_t)chains, sizeof *all);
  SHIM_CHECK(all != NULL);
  for (int i = 0; i < chains; i++) {
    chain *c = &all[i];
    c->id = i, c->rounds = rounds, c->slots = slots, c->operations = operations;
    c->rng = 0x1234 + (uint64_t)i;
    c->objects = calloc((size_t)slots, sizeof *c->objects);
    c->sizes = calloc((size_t)slots, sizeof *c->sizes);
    c->tags = calloc((size_t)slots, sizeof *c->tags);
    SHIM_CHECK(c->objects != NULL && c->sizes != NULL && c->tags != NULL);
    for (int s = 0; s < slots; s++) {
      c->sizes[s] = larson_size(&c->rng);
      c->tags[s] = shim_rand(&c->rng);
      c->objects[s] = malloc(c->sizes[s]);
      SHIM_CHECK(c->objects[s] != NULL);
      shim_fill(c->objects[s], c->sizes[s], c->tags[s]);
    }
  }
  for (int i = 0; i < chains; i++) {
    pthread_t thread;
    SHIM_CHECK(pthread_create(&thread, NULL, chain_main, &all[i]) == 0);
    SHIM_CHECK(pthread_detach(thread) == 0);
  }
  pthread_mutex_lock(&done_lock);
  while (chains_done < chains) pthread_cond_wait(&done_cond, &done_lock);
  pthread_mutex_unlock(&done_lock);

  int corrupt = 0;
  for (int i = 0; i < chains; i++) {
    chain *c = &all[i];
    for (int s = 0; s < slots; s++) {
      if (!shim_verify(c->objects[s], c->sizes[s], c->tags[s])) c->corrupt = 1;
      free(c->objects[s]);
    }
    corrupt |= c->corrupt;
    printf("chain %d: %d threads, %llu replacements, %llu bytes allocated, checksum %016llx%s\n",
           c->id, c->rounds, (unsigned long long)c->operations_done,
           (unsigned long long)c->allocated_bytes, (unsigned long long)c->checksum,
           c->corrupt ? " CORRUPTED" : "");
    free(c->objects);
    free(c->sizes);
    free(c->tags);
  }
  free(all);
  return corrupt ? 1 : 0;
}
