/*
 * allocator.hpp - a std::allocator-compatible adaptor over the fio allocator, so STL
 * containers can keep their elements in fio memory:
 *
 *   std::vector<int, fio::allocator<int>> v;
 *   std::map<K, V, std::less<K>, fio::allocator<std::pair<const K, V>>> m;
 *
 * Stateless: every fio::allocator compares equal to every other. Allocation failure
 * throws std::bad_alloc (std::bad_array_new_length for a count whose size overflows).
 * Over-aligned types are served by fio_aligned_alloc_uninit. Like std::allocator it hands
 * out raw storage: containers construct their elements in it, so it is not zeroed first.
 */
#ifndef FIO_ALLOCATOR_HPP
#define FIO_ALLOCATOR_HPP

#include <cstddef>
#include <limits>
#include <new>
#include <type_traits>

#include "fio/fio_malloc.h"

namespace fio {

template <class T>
class allocator {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using propagate_on_container_move_assignment = std::true_type;
  using is_always_equal = std::true_type;

  constexpr allocator() noexcept = default;
  template <class U>
  constexpr allocator(const allocator<U> &) noexcept {}

  [[nodiscard]] T *allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    void *p = alignof(T) > FIO_MALLOC_ALIGNMENT
                  ? fio_aligned_alloc_uninit(alignof(T), n * sizeof(T))
                  : fio_malloc_uninit(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T *>(p);
  }

  void deallocate(T *p, std::size_t) noexcept { fio_free(p); }

  template <class U>
  friend constexpr bool operator==(const allocator &, const allocator<U> &) noexcept {
    return true;
  }
  template <class U>
  friend constexpr bool operator!=(const allocator &, const allocator<U> &) noexcept {
    return false;
  }
};

}  // namespace fio

#endif /* FIO_ALLOCATOR_HPP */
