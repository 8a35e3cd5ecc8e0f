// The long-lived pattern without the harness: one thread allocates groups of 1024
// objects of 16..512 bytes, writes them, and frees every one but each 64th, which stays
// live to the end; then it prints the process's resident set. Run under each allocator:
//   g++ -O2 -pthread -o long_lived_probe long_lived_probe.cpp
//   LD_PRELOAD=.../libfio-malloc.so ./long_lived_probe 1900
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {
std::uint64_t state = 88172645463325252ull;
std::uint64_t next_random() {  // xorshift64: the same sizes for every allocator
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}
struct Object {
  void *p;
  std::size_t n;
  std::uint64_t unused;  // the size of the harness's record (24 bytes)
};
}  // namespace

int main(int argc, char **argv) {
  const int groups = argc > 1 ? std::atoi(argv[1]) : 1900;
  std::thread worker([groups] {
    std::vector<Object> group(1024);
    std::vector<Object> kept;
    for (int g = 0; g < groups; ++g) {
      for (Object &o : group) {
        o.n = 16 + next_random() % 497;
        o.p = std::malloc(o.n);
        std::memset(o.p, 1, o.n);
      }
      for (std::size_t i = 0; i < group.size(); ++i) {
        if (i % 64 == 0)
          kept.push_back(group[i]);
        else
          std::free(group[i].p);
      }
    }
    long pages = 0, resident = 0;
    if (FILE *f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
      std::fclose(f);
    }
    std::printf("pinned %zu, rss %.1f MB\n", kept.size(), resident * 4096 / 1e6);
  });
  worker.join();
}
