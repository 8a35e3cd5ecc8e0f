// A small C++ program compiled by g++ running under the shim, then run under it: maps,
// hash maps, strings, vectors, sorting, shared pointers and threads. Its output depends
// only on the computation.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

std::uint64_t next(std::uint64_t &state) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return state >> 33;
}

std::string summarize(unsigned seed) {
  std::uint64_t state = seed;
  std::map<std::string, std::vector<std::uint64_t>> groups;
  std::unordered_map<std::uint64_t, std::shared_ptr<std::string>> names;
  for (int i = 0; i < 20000; i++) {
    std::uint64_t value = next(state);
    groups["group" + std::to_string(value % 97)].push_back(value);
    names[value % 5000] = std::make_shared<std::string>(std::string(value % 64, 'a' + value % 26));
  }
  std::uint64_t checksum = 0;
  for (auto &[name, values] : groups) {
    std::sort(values.begin(), values.end());
    checksum = checksum * 31 + values.front() + values.back() + name.size();
  }
  std::size_t letters = 0;
  for (const auto &[key, text] : names) letters += text->size() + key % 3;
  std::ostringstream out;
  out << "seed " << seed << ": " << groups.size() << " groups, " << names.size() << " names, "
      << letters << " letters, checksum " << checksum;
  return out.str();
}

}  // namespace

int main() {
  std::vector<std::string> lines(4);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < lines.size(); t++)
    threads.emplace_back([t, &lines] { lines[t] = summarize(t + 1); });
  for (auto &thread : threads) thread.join();
  for (const auto &line : lines) std::cout << line << '\n';
  return 0;
}
