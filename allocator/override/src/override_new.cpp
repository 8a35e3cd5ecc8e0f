// override_new.cpp - the C++ allocation operators of libfio-malloc.so.
//
// Every replaceable form of operator new and delete forwards to the fio allocator. What
// C++ adds on top of malloc (the new_handler loop, std::bad_alloc, nothrow forms that
// return nullptr) only matters once an allocation has failed, and the pieces it needs
// (std::get_new_handler, the code that throws std::bad_alloc, a catch) belong to the
// C++ runtime. The shim takes them from the libstdc++ already loaded in the process
// instead of linking one: a C program run under the shim (sort, git, python) does not
// load libstdc++ and its static constructors, and a C++ program gets its own runtime's
// exact behaviour, including a runtime loaded privately (RTLD_LOCAL) by a plugin.
//
// This file is compiled with -fno-exceptions and -fno-rtti so that it references nothing
// from libstdc++ (no personality routine, no typeinfo); exceptions raised by the runtime
// still unwind through it, since every function has unwind tables.
#include <dlfcn.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "fio/fio_malloc.h"

// The runtime symbols below are looked up by their mangled names.
static_assert(std::is_same_v<std::size_t, unsigned long>,
              "the mangled names below assume std::size_t is unsigned long");

namespace {

constexpr char kCxxRuntime[] = "libstdc++.so.6";

// Passed to the runtime's nothrow operators; std::nothrow itself lives in libstdc++.
constexpr std::nothrow_t kNothrow{};

// A symbol of the process's libstdc++, or null when none is loaded. RTLD_NOLOAD never
// loads anything: it only finds a copy that is already mapped, global or private.
void *cxx_runtime_symbol(const char *name) noexcept {
  void *runtime = dlopen(kCxxRuntime, RTLD_LAZY | RTLD_NOLOAD);
  if (runtime == nullptr) return nullptr;
  void *symbol = dlsym(runtime, name);
  dlclose(runtime);  // drops only the reference taken just above
  return symbol;
}

[[noreturn]] void fail_without_runtime(const char *operation) noexcept {
  static const char kPrefix[] = "fio-malloc: ";
  static const char kSuffix[] =
      ": out of memory and no C++ runtime (libstdc++.so.6) is loaded to throw "
      "std::bad_alloc; aborting\n";
  // write(2) only: memory is short and stdio could allocate.
  ssize_t ignored = write(STDERR_FILENO, kPrefix, sizeof kPrefix - 1);
  ignored = write(STDERR_FILENO, operation, std::strlen(operation));
  ignored = write(STDERR_FILENO, kSuffix, sizeof kSuffix - 1);
  (void)ignored;
  std::abort();
}

std::new_handler current_new_handler() noexcept {
  using GetNewHandler = std::new_handler (*)() noexcept;
  auto get = reinterpret_cast<GetNewHandler>(cxx_runtime_symbol("_ZSt15get_new_handlerv"));
  return get != nullptr ? get() : nullptr;
}

[[noreturn]] void throw_bad_alloc(const char *operation) {
  using ThrowBadAlloc = void (*)();
  // std::__throw_bad_alloc: libstdc++'s exported "throw std::bad_alloc()".
  auto raise = reinterpret_cast<ThrowBadAlloc>(cxx_runtime_symbol("_ZSt17__throw_bad_allocv"));
  if (raise != nullptr) raise();
  fail_without_runtime(operation);
}

void *allocate(std::size_t size, std::size_t alignment) noexcept {
  return alignment == 0 ? fio_malloc_uninit(size) : fio_aligned_alloc_uninit(alignment, size);
}

// [new.delete.single]: after a failure, call the new_handler and retry until the
// allocation succeeds; without a handler, throw std::bad_alloc.
[[gnu::cold, gnu::noinline]] void *new_failed(std::size_t size, std::size_t alignment) {
  for (;;) {
    std::new_handler handler = current_new_handler();
    if (handler == nullptr)
      throw_bad_alloc(alignment == 0 ? "operator new" : "aligned operator new");
    handler();
    if (void *ptr = allocate(size, alignment)) return ptr;
  }
}

// The nothrow forms behave like the throwing ones and return nullptr where those would
// throw. Without a new_handler that is immediate. With one, the handler may itself throw,
// and only the runtime can catch: its own nothrow operator does exactly that around a
// call to the throwing operator, which the dynamic linker binds to the one in this file.
[[gnu::cold, gnu::noinline]] void *nothrow_new_failed(std::size_t size,
                                                      std::size_t alignment) noexcept {
  if (current_new_handler() == nullptr) return nullptr;
  if (alignment == 0) {
    using NothrowNew = void *(*)(std::size_t, const std::nothrow_t &) noexcept;
    auto runtime_new = reinterpret_cast<NothrowNew>(cxx_runtime_symbol("_ZnwmRKSt9nothrow_t"));
    return runtime_new != nullptr ? runtime_new(size, kNothrow) : nullptr;
  }
  using NothrowAlignedNew =
      void *(*)(std::size_t, std::align_val_t, const std::nothrow_t &) noexcept;
  auto runtime_new =
      reinterpret_cast<NothrowAlignedNew>(cxx_runtime_symbol("_ZnwmSt11align_val_tRKSt9nothrow_t"));
  return runtime_new != nullptr
             ? runtime_new(size, static_cast<std::align_val_t>(alignment), kNothrow)
             : nullptr;
}

inline void *new_impl(std::size_t size) {
  void *ptr = fio_malloc_uninit(size);
  if (__builtin_expect(ptr != nullptr, 1)) return ptr;
  return new_failed(size, 0);
}

inline void *new_impl(std::size_t size, std::align_val_t alignment) {
  void *ptr = fio_aligned_alloc_uninit(static_cast<std::size_t>(alignment), size);
  if (__builtin_expect(ptr != nullptr, 1)) return ptr;
  return new_failed(size, static_cast<std::size_t>(alignment));
}

inline void *nothrow_new_impl(std::size_t size) noexcept {
  void *ptr = fio_malloc_uninit(size);
  if (__builtin_expect(ptr != nullptr, 1)) return ptr;
  return nothrow_new_failed(size, 0);
}

inline void *nothrow_new_impl(std::size_t size, std::align_val_t alignment) noexcept {
  void *ptr = fio_aligned_alloc_uninit(static_cast<std::size_t>(alignment), size);
  if (__builtin_expect(ptr != nullptr, 1)) return ptr;
  return nothrow_new_failed(size, static_cast<std::size_t>(alignment));
}

}  // namespace

void *operator new(std::size_t size) {
  return new_impl(size);
}
void *operator new[](std::size_t size) {
  return new_impl(size);
}
void *operator new(std::size_t size, const std::nothrow_t &) noexcept {
  return nothrow_new_impl(size);
}
void *operator new[](std::size_t size, const std::nothrow_t &) noexcept {
  return nothrow_new_impl(size);
}
void *operator new(std::size_t size, std::align_val_t alignment) {
  return new_impl(size, alignment);
}
void *operator new[](std::size_t size, std::align_val_t alignment) {
  return new_impl(size, alignment);
}
void *operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t &) noexcept {
  return nothrow_new_impl(size, alignment);
}
void *operator new[](std::size_t size, std::align_val_t alignment,
                     const std::nothrow_t &) noexcept {
  return nothrow_new_impl(size, alignment);
}

void operator delete(void *ptr) noexcept {
  fio_free(ptr);
}
void operator delete[](void *ptr) noexcept {
  fio_free(ptr);
}
void operator delete(void *ptr, const std::nothrow_t &) noexcept {
  fio_free(ptr);
}
void operator delete[](void *ptr, const std::nothrow_t &) noexcept {
  fio_free(ptr);
}
void operator delete(void *ptr, std::size_t) noexcept {
  fio_free(ptr);
}
void operator delete[](void *ptr, std::size_t) noexcept {
  fio_free(ptr);
}
void operator delete(void *ptr, std::align_val_t) noexcept {
  fio_free(ptr);
}
void operator delete[](void *ptr, std::align_val_t) noexcept {
  fio_free(ptr);
}
void operator delete(void *ptr, std::align_val_t, const std::nothrow_t &) noexcept {
  fio_free(ptr);
}
void operator delete[](void *ptr, std::align_val_t, const std::nothrow_t &) noexcept {
  fio_free(ptr);
}
void operator delete(void *ptr, std::size_t, std::align_val_t) noexcept {
  fio_free(ptr);
}
void operator delete[](void *ptr, std::size_t, std::align_val_t) noexcept {
  fio_free(ptr);
}
