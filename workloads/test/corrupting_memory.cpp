#include "corrupting_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <map>
#include <mutex>

namespace allocbench::testing {
namespace {

constexpr std::size_t kPage = 4096;

std::atomic<unsigned> alias_every{0};
std::atomic<unsigned> alias_calls{0};
std::atomic<unsigned> alias_count{0};
std::mutex regions_mutex;
std::map<void *, std::size_t> regions;  // aliased object -> bytes mapped

bool take_turn(std::size_t size) {
  if (size <= kPage) return false;
  const unsigned every = alias_every.load();
  return every != 0 && alias_calls.fetch_add(1) % every == every - 1;
}

// Maps one shared page at every page of a fresh range.
void *map_aliased(std::size_t size) {
  const std::size_t length = (size + kPage - 1) / kPage * kPage;
  void *range = mmap(nullptr, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (range == MAP_FAILED) return nullptr;
  const int fd = memfd_create("allocbench-alias", 0);
  if (fd < 0 || ftruncate(fd, kPage) != 0) {
    if (fd >= 0) close(fd);
    munmap(range, length);
    return nullptr;
  }
  for (std::size_t offset = 0; offset < length; offset += kPage) {
    void *page = mmap(static_cast<char *>(range) + offset, kPage, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_FIXED, fd, 0);
    if (page == MAP_FAILED) {
      close(fd);
      munmap(range, length);
      return nullptr;
    }
  }
  close(fd);
  std::lock_guard lock(regions_mutex);
  regions.emplace(range, length);
  alias_count.fetch_add(1);
  return range;
}

// The mapped length of an aliased object, or 0 for the system's memory.
std::size_t aliased_length(void *ptr) {
  std::lock_guard lock(regions_mutex);
  const auto it = regions.find(ptr);
  return it == regions.end() ? 0 : it->second;
}

void *alias_malloc(std::size_t size) {
  return take_turn(size) ? map_aliased(size) : std::malloc(size);
}

void *alias_calloc(std::size_t count, std::size_t size) {
  // A fresh memfd page reads as zero, as calloc must.
  return count == 1 && take_turn(size) ? map_aliased(size) : std::calloc(count, size);
}

void alias_free(void *ptr) {
  if (const std::size_t length = aliased_length(ptr)) {
    {
      std::lock_guard lock(regions_mutex);
      regions.erase(ptr);
    }
    munmap(ptr, length);
    return;
  }
  std::free(ptr);
}

void *alias_realloc(void *ptr, std::size_t size) {
  const std::size_t old_length = ptr == nullptr ? 0 : aliased_length(ptr);
  if (old_length == 0 && !take_turn(size)) return std::realloc(ptr, size);
  void *moved = old_length != 0 ? alias_malloc(size) : map_aliased(size);
  if (moved == nullptr) return nullptr;
  if (ptr != nullptr) {
    const std::size_t old_size = old_length != 0 ? old_length : malloc_usable_size(ptr);
    std::memcpy(moved, ptr, old_size < size ? old_size : size);
    alias_free(ptr);
  }
  return moved;
}

void *alias_aligned_alloc(std::size_t alignment, std::size_t size) {
  return std::aligned_alloc(alignment, size);
}

std::atomic<unsigned> dirty_every{0};
std::atomic<unsigned> dirty_calls{0};

void *dirty_calloc(std::size_t count, std::size_t size) {
  const unsigned every = dirty_every.load();
  void *ptr = std::calloc(count, size);
  if (ptr != nullptr && every != 0 && dirty_calls.fetch_add(1) % every == every - 1) {
    static_cast<unsigned char *>(ptr)[count * size / 2] = 0x5a;
  }
  return ptr;
}

}  // namespace

const MemoryApi &aliasing_memory(unsigned every) {
  alias_every.store(every);
  alias_calls.store(0);
  static const MemoryApi api{&alias_malloc, &alias_calloc, &alias_realloc, &alias_free,
                             &alias_aligned_alloc};
  return api;
}

unsigned aliased_objects() {
  return alias_count.load();
}

const MemoryApi &dirty_calloc_memory(unsigned every) {
  dirty_every.store(every);
  dirty_calls.store(0);
  static const MemoryApi api{&::malloc, &dirty_calloc, &::realloc, &::free, &::aligned_alloc};
  return api;
}

}  // namespace allocbench::testing
