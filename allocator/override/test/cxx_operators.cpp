// cxx_operators.cpp - every replaceable operator new and delete, under the shim.
//
// Run with libfio-malloc.so in LD_PRELOAD. Each form must bind to the shim and keep its
// C++ semantics: the throwing forms call the new_handler and then throw std::bad_alloc,
// the nothrow forms return nullptr (also when the handler throws), the aligned forms
// honour any power-of-two alignment, and every form accepts its matching delete (sized
// included). The shim's malloc_usable_size accepts each pointer (it reports and aborts on
// one the fio allocator did not hand out), which proves who served it; the whole usable
// size is then written.
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#define SHIM_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::_Exit(1);                                                                \
    }                                                                               \
  } while (0)

namespace {

// Hides a pointer from the optimiser, which may otherwise elide a new/delete pair.
template <class T>
T *opaque(T *ptr) {
  asm volatile("" : "+r"(ptr) : : "memory");
  return ptr;
}

bool from_shim(const char *symbol) {
  Dl_info info;
  void *address = dlsym(RTLD_DEFAULT, symbol);
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return false;
  const char *base = std::strrchr(info.dli_fname, '/');
  return std::strcmp(base != nullptr ? base + 1 : info.dli_fname, "libfio-malloc.so") == 0;
}

// The contents of new memory are indeterminate (no zeroing is paid for): the proof is
// that the fio allocator knows the pointer and all of its usable size is writable.
bool served(void *ptr, std::size_t size) {
  std::size_t usable = malloc_usable_size(ptr);
  if (usable < size) return false;
  std::memset(ptr, 0x5a, usable);
  return true;
}

bool aligned_to(const void *ptr, std::size_t alignment) {
  return (reinterpret_cast<std::uintptr_t>(ptr) & (alignment - 1)) == 0;
}

constexpr const char *kOperators[] = {
    "_Znwm",
    "_Znam",
    "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t",
    "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
    "_ZdlPv",
    "_ZdaPv",
    "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t",
    "_ZdlPvm",
    "_ZdaPvm",
    "_ZdlPvSt11align_val_t",
    "_ZdaPvSt11align_val_t",
    "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    "_ZdaPvSt11align_val_tRKSt9nothrow_t",
    "_ZdlPvmSt11align_val_t",
    "_ZdaPvmSt11align_val_t",
};

// Far beyond any address space: every allocator must fail it. Read through a volatile so
// the compiler does not reject the constant it would otherwise see.
volatile std::size_t impossible_size = std::size_t{1} << 62;

// Every form once, with its matching delete; `size` bytes, `alignment` for aligned forms.
void round_trip(std::size_t size, std::size_t alignment) {
  const auto al = static_cast<std::align_val_t>(alignment);
  void *p;
  p = opaque(::operator new(size));
  SHIM_CHECK(aligned_to(p, 16) && served(p, size));
  std::memset(p, 1, size);
  ::operator delete(p);
  p = opaque(::operator new[](size));
  SHIM_CHECK(served(p, size));
  ::operator delete[](p);
  p = opaque(::operator new(size, std::nothrow));
  SHIM_CHECK(p != nullptr && served(p, size));
  ::operator delete(p, std::nothrow);
  p = opaque(::operator new[](size, std::nothrow));
  SHIM_CHECK(p != nullptr && served(p, size));
  ::operator delete[](p, std::nothrow);
  p = opaque(::operator new(size));
  ::operator delete(p, size);
  p = opaque(::operator new[](size));
  ::operator delete[](p, size);
  p = opaque(::operator new(size, al));
  SHIM_CHECK(aligned_to(p, alignment) && served(p, size));
  std::memset(p, 2, size);
  ::operator delete(p, al);
  p = opaque(::operator new[](size, al));
  SHIM_CHECK(aligned_to(p, alignment) && served(p, size));
  ::operator delete[](p, al);
  p = opaque(::operator new(size, al, std::nothrow));
  SHIM_CHECK(p != nullptr && aligned_to(p, alignment) && served(p, size));
  ::operator delete(p, al, std::nothrow);
  p = opaque(::operator new[](size, al, std::nothrow));
  SHIM_CHECK(p != nullptr && aligned_to(p, alignment));
  ::operator delete[](p, al, std::nothrow);
  p = opaque(::operator new(size, al));
  ::operator delete(p, size, al);
  p = opaque(::operator new[](size, al));
  ::operator delete[](p, size, al);
}

template <class Allocate>
bool throws_bad_alloc(Allocate allocate) {
  try {
    void *p = opaque(allocate());
    ::operator delete(p);  // not reached when the allocator fails as it must
    return false;
  } catch (const std::bad_alloc &) {
    return true;
  }
}

void check_failure_semantics() {
  const std::size_t kImpossible = impossible_size;
  const auto al = static_cast<std::align_val_t>(64);
  // No handler: throwing forms throw std::bad_alloc, nothrow forms return nullptr.
  SHIM_CHECK(std::get_new_handler() == nullptr);
  SHIM_CHECK(throws_bad_alloc([=] { return ::operator new(kImpossible); }));
  SHIM_CHECK(throws_bad_alloc([=] { return ::operator new[](kImpossible); }));
  SHIM_CHECK(throws_bad_alloc([&] { return ::operator new(kImpossible, al); }));
  SHIM_CHECK(throws_bad_alloc([&] { return ::operator new[](kImpossible, al); }));
  SHIM_CHECK(throws_bad_alloc([] { return new char[impossible_size]; }));
  SHIM_CHECK(::operator new(kImpossible, std::nothrow) == nullptr);
  SHIM_CHECK(::operator new[](kImpossible, std::nothrow) == nullptr);
  SHIM_CHECK(::operator new(kImpossible, al, std::nothrow) == nullptr);
  SHIM_CHECK(::operator new[](kImpossible, al, std::nothrow) == nullptr);

  // A handler is called on each failure until it gives up (here: removes itself).
  static int calls;
  calls = 0;
  std::set_new_handler([] {
    if (++calls == 3) std::set_new_handler(nullptr);
  });
  SHIM_CHECK(throws_bad_alloc([=] { return ::operator new(kImpossible); }));
  SHIM_CHECK(calls == 3);
  calls = 0;
  std::set_new_handler([] {
    if (++calls == 2) std::set_new_handler(nullptr);
  });
  SHIM_CHECK(throws_bad_alloc([&] { return ::operator new[](kImpossible, al); }));
  SHIM_CHECK(calls == 2);

  // A nothrow form returns nullptr even when the handler throws.
  calls = 0;
  std::set_new_handler([] {
    ++calls;
    throw std::bad_alloc();
  });
  SHIM_CHECK(::operator new(kImpossible, std::nothrow) == nullptr);
  SHIM_CHECK(::operator new[](kImpossible, al, std::nothrow) == nullptr);
  SHIM_CHECK(calls == 2);
  SHIM_CHECK(throws_bad_alloc([=] { return ::operator new(kImpossible); }));
  SHIM_CHECK(calls == 3);
  std::set_new_handler(nullptr);
}

void worker(unsigned seed, std::atomic<void *> *exchange, std::size_t slots) {
  std::uint64_t state = seed;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int i = 0; i < 3000; i++) {
    std::size_t size = next() % 2048;
    std::size_t alignment = std::size_t{16} << (next() % 10);  // 16 .. 8 KiB
    round_trip(size, alignment);
    // Containers: many small nodes, freed by whichever thread takes them.
    auto *map = new std::map<std::uint64_t, std::string>;
    for (int k = 0; k < 20; k++) (*map)[next()] = std::string(next() % 100, 'x');
    void *old = exchange[next() % slots].exchange(map);
    delete static_cast<std::map<std::uint64_t, std::string> *>(old);
  }
}

}  // namespace

int main() {
  for (const char *symbol : kOperators) {
    if (!from_shim(symbol)) {
      std::fprintf(stderr, "%s does not resolve to libfio-malloc.so: is the shim preloaded?\n",
                   symbol);
      return 1;
    }
  }
  check_failure_semantics();
  for (std::size_t alignment = 16; alignment <= (std::size_t{1} << 22); alignment <<= 1) {
    round_trip(0, alignment);
    round_trip(100, alignment);
  }
  round_trip(std::size_t{3} << 20, 4096);  // big allocations

  // Many threads: every form, STL containers, objects freed across threads.
  constexpr std::size_t kSlots = 32;
  std::atomic<void *> exchange[kSlots] = {};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 6; t++) threads.emplace_back(worker, t + 1, exchange, kSlots);
  for (auto &thread : threads) thread.join();
  for (auto &slot : exchange)
    delete static_cast<std::map<std::uint64_t, std::string> *>(slot.load());

  std::unordered_map<std::string, std::vector<int>> index;
  for (int i = 0; i < 20000; i++) index[std::to_string(i % 5000)].push_back(i);
  std::size_t total = 0;
  for (const auto &[key, values] : index) total += values.size();
  SHIM_CHECK(index.size() == 5000 && total == 20000);

  std::printf("operators: %zu forms bind to the shim, failure semantics and 6 threads: ok\n",
              sizeof kOperators / sizeof kOperators[0]);
  return 0;
}
