// Invalid and double frees. Built twice: against the checking library (every case is
// detected) and against the normal one (the cheap header check detects what it can).
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

#if FIO_TEST_CHECKING
constexpr bool kChecking = true;
#else
constexpr bool kChecking = false;
#endif

class BadFree : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(BadFree, PointerIntoTheMiddleOfAnObject) {
  EXPECT_DEATH(
      {
        char *p = static_cast<char *>(fio_malloc(100));
        fio_free(p + 16);
      },
      "fio_malloc: fio_free: .*(invalid pointer|not a live object)");
}

TEST_F(BadFree, DoubleFreeOfARecycledBlock) {
  EXPECT_DEATH(
      {
        std::vector<void *> objs;
        for (int i = 0; i < 5000; ++i) objs.push_back(fio_malloc(200));
        void *victim = objs[0];
        for (void *p : objs) fio_free(p);
        fio_free(victim);
      },
      "fio_malloc: fio_free: .*(double free|freed object|invalid pointer)");
}

TEST_F(BadFree, DoubleFreeInABlockItsThreadRetired) {
  // Every build: the thread that sliced the block counts its frees there and records each
  // in the block's freed bitmap, where the second one finds its bit set.
  EXPECT_DEATH(
      {
        std::vector<void *> objs;
        for (int i = 0; i < 40; ++i) objs.push_back(fio_malloc(FIO_TEST_BLOCK_SIZE / 4 - 256));
        fio_free(objs[0]);
        fio_free(objs[0]);
        for (int i = 1; i < 4; ++i) fio_free(objs[i]);
      },
      "fio_malloc: fio_free: .*(double free|freed object)");
}

TEST_F(BadFree, DoubleFreeAmongOwnedBlocksAtRandom) {
  // Frees in random order reach the thread's owned blocks through its table of them; a
  // second free there is reported too (every build).
  EXPECT_DEATH(
      {
        std::vector<void *> objs;
        for (int i = 0; i < 2000; ++i) objs.push_back(fio_malloc(64 + (i % 7) * 48));
        std::vector<void *> order(objs.begin(), objs.end() - 100);  // the tail stays live
        std::mt19937 rng(3);
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t i = 0; i < order.size() / 2; ++i) fio_free(order[i]);
        fio_free(order[order.size() / 4]);
      },
      "fio_malloc: fio_free: .*double free");
}

TEST_F(BadFree, DoubleFreeOfABigAllocation) {
  EXPECT_DEATH(
      {
        void *p = fio_malloc(1 << 20);
        fio_free(p);
        fio_free(p);
      },
      "fio_malloc: fio_free: invalid pointer");
}

TEST_F(BadFree, DoubleFreeInTheCurrentBlock) {
  // An object that is not the block's last is recorded in the freed bitmap (every build).
  EXPECT_DEATH(
      {
        void *a = fio_malloc(32);
        void *b = fio_malloc(32);
        fio_free(a);
        fio_free(a);
        fio_free(b);
      },
      "fio_malloc: fio_free: .*(double free|not a live object)");
}

TEST_F(BadFree, PointerFromAnotherAllocator) {
  EXPECT_DEATH(
      {
        static char not_ours[1 << 16];
        fio_free(not_ours + 4096 + 48);
      },
      "fio_malloc: fio_free: invalid pointer");
}

// Memory the allocator never mapped is reported in every build, before any header is read
// (a read of the block header below an mmap'd page would fault): the record of the address
// space the allocator mapped says so. Also for realloc and usable size, and for a big
// allocation once unmapped.
TEST_F(BadFree, PointerFromMmapIsReportedNotFaulted) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_DEATH(
      {
        void *m = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fio_free(static_cast<char *>(m) + 64);
      },
      "fio_malloc: fio_free: invalid pointer .*outside its memory");
  EXPECT_DEATH(
      {
        void *m = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fio_free(m);  // page aligned, possibly block aligned: the big-allocation path
      },
      "fio_malloc: fio_free: invalid pointer");
  EXPECT_DEATH(
      {
        void *m = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        void *q = fio_realloc(static_cast<char *>(m) + 32, 100);
        fio_free(q);
      },
      "fio_malloc: fio_realloc: invalid pointer .*outside its memory");
  EXPECT_DEATH(
      {
        void *m = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        (void)fio_malloc_usable_size(static_cast<char *>(m) + 16);
      },
      "fio_malloc: fio_malloc_usable_size: invalid pointer .*outside its memory");
  EXPECT_DEATH(
      {
        void *p = fio_malloc(8 << 20);  // past the middle tier: a mapping of its own
        fio_free(p);
        fio_free(p);
      },
      "fio_malloc: fio_free: invalid pointer");
}

TEST_F(BadFree, ReallocOfAFreedPointer) {
  if (!kChecking) GTEST_SKIP() << "needs the live bitmap of checking builds";
  EXPECT_DEATH(
      {
        void *a = fio_malloc(64);
        void *keep = fio_malloc(64);
        fio_free(a);
        void *b = fio_realloc(a, 128);
        fio_free(b);
        fio_free(keep);
      },
      "fio_malloc: fio_realloc: .*(not a live object|freed object)");
}

TEST_F(BadFree, ValidFreesAreNotReported) {
  // The checks must not fire on correct programs (also the checking build's registry).
  std::vector<void *> objs;
  const int count = fio_test::kTsan ? 300 : 3000;  // TSan makes each mapping slow
  for (int i = 0; i < count; ++i) objs.push_back(fio_malloc(1 + (i * 97) % 30000));
  for (size_t i = 0; i < objs.size(); i += 2) fio_free(objs[i]);
  for (size_t i = 1; i < objs.size(); i += 2) objs[i] = fio_realloc(objs[i], 50);
  for (size_t i = 1; i < objs.size(); i += 2) fio_free(objs[i]);
  SUCCEED();
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
namespace {
// Freed slices and unsliced block space are poisoned for AddressSanitizer.
TEST(AsanPoisoning, UseAfterFreeOfASliceIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        volatile char *p = static_cast<char *>(fio_malloc(64));
        void *keep = fio_malloc(64);  // keeps the block from being rewound
        fio_free(const_cast<char *>(p));
        p[3] = 1;
        fio_free(keep);
      },
      "use-after-poison");
}

TEST(AsanPoisoning, UseAfterFreeOfACachedBigMappingIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        volatile char *p = static_cast<char *>(fio_malloc(100000));
        fio_free(const_cast<char *>(p));  // kept mapped in the big cache, poisoned
        p[5000] = 1;
      },
      "use-after-poison|SEGV");
}

TEST(AsanPoisoning, ReadPastTheSliceIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::thread t([] {  // a fresh thread: nothing is sliced after this object
          // Through a volatile pointer: the compiler (and UBSan) must not know the size.
          char *volatile hidden = static_cast<char *>(fio_malloc(32));
          volatile char *p = hidden;
          volatile size_t past = 40;
          (void)p[past];
        });
        t.join();
      },
      "use-after-poison");
}
}  // namespace
#endif
