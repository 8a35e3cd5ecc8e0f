// The translation unit compiled for the shipped `gcc` trace (g++ -O1 -c).
#include <map>
#include <string>
#include <vector>

int count_words(const std::vector<std::string> &words) {
  std::map<std::string, int> counts;
  for (const auto &w : words) ++counts[w];
  return static_cast<int>(counts.size());
}
