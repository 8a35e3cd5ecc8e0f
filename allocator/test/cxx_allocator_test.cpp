// The C++ adaptor with STL containers.
#include <gtest/gtest.h>

#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fio/allocator.hpp"
#include "test_util.h"

using namespace fio_test;

namespace {

template <class T>
using fvector = std::vector<T, fio::allocator<T>>;
using fstring = std::basic_string<char, std::char_traits<char>, fio::allocator<char>>;

TEST(CxxAllocator, VectorGrowsThroughRealContents) {
  fio_malloc_stats_t s0 = stats();
  {
    fvector<int> v;
    for (int i = 0; i < 100000; ++i) v.push_back(i);
    for (int i = 0; i < 100000; ++i) ASSERT_EQ(v[i], i);
    EXPECT_GT(stats().allocations, s0.allocations);
  }
  EXPECT_EQ(stats().live_bytes, s0.live_bytes);
}

TEST(CxxAllocator, MapListStringAndUnorderedMap) {
  std::map<int, fstring, std::less<int>, fio::allocator<std::pair<const int, fstring>>> m;
  std::list<fstring, fio::allocator<fstring>> l;
  std::unordered_map<int, int, std::hash<int>, std::equal_to<int>,
                     fio::allocator<std::pair<const int, int>>>
      u;
  for (int i = 0; i < 2000; ++i) {
    m.emplace(i, fstring(static_cast<size_t>(i % 100 + 20), static_cast<char>('a' + i % 26)));
    l.emplace_back("node " + std::to_string(i));
    u[i] = i * 2;
  }
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(m.at(i).size(), static_cast<size_t>(i % 100 + 20));
    ASSERT_EQ(m.at(i)[0], static_cast<char>('a' + i % 26));
    ASSERT_EQ(u.at(i), i * 2);
  }
  EXPECT_EQ(l.back(), "node 1999");
}

TEST(CxxAllocator, OverAlignedTypesAndEquality) {
  struct alignas(128) Wide {
    char bytes[128];
  };
  fvector<Wide> v(37);
  EXPECT_TRUE(aligned_to(v.data(), 128));
  fio::allocator<int> a;
  fio::allocator<double> b(a);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a != b);
  auto sp = std::allocate_shared<std::string>(fio::allocator<std::string>(), "shared");
  EXPECT_EQ(*sp, "shared");
}

TEST(CxxAllocator, ImpossibleSizesThrow) {
  fio::allocator<double> a;
  EXPECT_THROW((void)a.allocate(SIZE_MAX / 4), std::bad_array_new_length);
  EXPECT_THROW((void)a.allocate(SIZE_MAX / 16), std::bad_alloc);
}

}  // namespace
