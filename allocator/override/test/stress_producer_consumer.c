/*
 * stress_producer_consumer.c - cross-thread free storms, run under the shim and glibc.
 *
 * Producers allocate batches of objects and pass them through a bounded queue; consumers
 * check and free every object, so every free happens on a thread other than the one that
 * allocated (the fio design's reference counts are dropped remotely). Consumers free a
 * batch in an order of their choosing (forward, backward, interleaved), which empties
 * blocks in different orders. The printed summary depends only on the seeds.
 *
 *   stress_producer_consumer [producers] [consumers] [batches per producer] [batch size]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim_test.h"

typedef struct {
  int producer;
  int count;
  unsigned char **objects;
  size_t *sizes;
  uint64_t *tags;
} batch;

enum { kQueueCapacity = 16 };

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  batch *items[kQueueCapacity];
  int head, count, producers_left;
} queue = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static int batches_per_producer, batch_size;

typedef struct {
  uint64_t checksum[64]; /* per producer, summed over every consumer */
  uint64_t objects, bytes;
  int corrupt;
} consumer_totals;

static void queue_push(batch *b) {
  pthread_mutex_lock(&queue.lock);
  while (queue.count == kQueueCapacity) pthread_cond_wait(&queue.not_full, &queue.lock);
  queue.items[(queue.head + queue.count) % kQueueCapacity] = b;
  queue.count++;
  pthread_cond_signal(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
}

static batch *queue_pop(void) {
  pthread_mutex_lock(&queue.lock);
  while (queue.count == 0 && queue.producers_left > 0)
    pthread_cond_wait(&queue.not_empty, &queue.lock);
  batch *b = NULL;
  if (queue.count > 0) {
    b = queue.items[queue.head];
    queue.head = (queue.head + 1) % kQueueCapacity;
    queue.count--;
    pthread_cond_signal(&queue.not_full);
  }
  pthread_mutex_unlock(&queue.lock);
  return b;
}

static void *producer_main(void *arg) {
  int id = (int)(uintptr_t)arg;
  uint64_t rng = 0xfeed + (uint64_t)id;
  for (int n = 0; n < batches_per_producer; n++) {
    batch *b = malloc(sizeof *b);
    SHIM_CHECK(b != NULL);
    b->producer = id, b->count = batch_size;
    b->objects = malloc((size_t)batch_size * sizeof *b->objects);
    b->sizes = malloc((size_t)batch_size * sizeof *b->sizes);
    b->tags = malloc((size_t)batch_size * sizeof *b->tags);
    SHIM_CHECK(b->objects != NULL && b->sizes != NULL && b->tags != NULL);
    for (int i = 0; i < batch_size; i++) {
      uint64_t r = shim_rand(&rng);
      b->sizes[i] = (r & 255) == 0 ? 8192 + (size_t)(r >> 24) % 65536 : 1 + (size_t)(r >> 24) % 512;
      b->tags[i] = shim_rand(&rng);
      b->objects[i] = malloc(b->sizes[i]);
      SHIM_CHECK(b->objects[i] != NULL);
      shim_fill(b->objects[i], b->sizes[i], b->tags[i]);
    }
    queue_push(b);
  }
  pthread_mutex_lock(&queue.lock);
  queue.producers_left--;
  pthread_cond_broadcast(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
  return NULL;
}

static void *consumer_main(void *arg) {
  consumer_totals *totals = arg;
  unsigned order = 0;
  for (batch *b; (b = queue_pop()) != NULL; order++) {
    for (int k = 0; k < b->count; k++) {
      int i = order % 3 == 0 ? k : order % 3 == 1 ? b->count - 1 - k : (k * 7) % b->count;
      if (order % 3 == 2 && b->count % 7 == 0) i = k; /* 7 must be coprime to the count */
      if (!shim_verify(b->objects[i], b->sizes[i], b->tags[i])) totals->corrupt = 1;
      totals->checksum[b->producer] += b->tags[i] ^ b->sizes[i];
      totals->bytes += b->sizes[i];
      totals->objects++;
      free(b->objects[i]);
    }
    free(b->objects);
    free(b->sizes);
    free(b->tags);
    free(b);
  }
  return NULL;
}

static int parse_positive(const char *text, const char *what, int limit) {
  char *end;
  long value = strtol(text, &end, 10);
  if (*end != '\0' || value <= 0 || value > limit) {
    fprintf(stderr, "stress_producer_consumer: %s must be an integer in 1..%d, not '%s'\n", what,
            limit, text);
    exit(2);
  }
  return (int)value;
}

int main(int argc, char **argv) {
  int producers = argc > 1 ? parse_positive(argv[1], "producers", 64) : 3;
  int consumers = argc > 2 ? parse_positive(argv[2], "consumers", 64) : 3;
  batches_per_producer = argc > 3 ? parse_positive(argv[3], "batches per producer", 1000000) : 300;
  batch_size = argc > 4 ? parse_positive(argv[4], "batch size", 1000000) : 500;
  queue.producers_left = producers;

  pthread_t threads[128];
  consumer_totals *totals = calloc((size_t)consumers, sizeof *totals);
  SHIM_CHECK(totals != NULL);
  for (int i = 0; i < consumers; i++)
    SHIM_CHECK(pthread_create(&threads[i], NULL, consumer_main, &totals[i]) == 0);
  for (int i = 0; i < producers; i++)
    SHIM_CHECK(pthread_create(&threads[consumers + i], NULL, producer_main, (void *)(uintptr_t)i) ==
               0);
  for (int i = 0; i < producers + consumers; i++) SHIM_CHECK(pthread_join(threads[i], NULL) == 0);

  uint64_t objects = 0, bytes = 0;
  int corrupt = 0;
  for (int i = 0; i < consumers; i++) {
    objects += totals[i].objects, bytes += totals[i].bytes, corrupt |= totals[i].corrupt;
  }
  printf("%d producers, %d consumers: %llu objects, %llu bytes freed across threads%s\n", producers,
         consumers, (unsigned long long)objects, (unsigned long long)bytes,
         corrupt ? " CORRUPTED" : "");
  for (int p = 0; p < producers; p++) {
    uint64_t checksum = 0;
    for (int i = 0; i < consumers; i++) checksum += totals[i].checksum[p];
    printf("producer %d: checksum %016llx\n", p, (unsigned long long)checksum);
  }
  free(totals);
  return corrupt ? 1 : 0;
}
