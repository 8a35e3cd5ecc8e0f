// compile_me.cpp: the input of the gxx-compile program benchmark.
//
// Self-contained C++17 that makes the compiler instantiate many templates (containers,
// algorithms, variant visitation, a compile-time recursion), which keeps the allocator
// under g++ busy while it parses, instantiates and optimises. It is compiled, never run.
#include <algorithm>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

namespace compile_me {

struct Point {
  double x = 0;
  double y = 0;
  bool operator<(const Point &o) const { return std::tie(x, y) < std::tie(o.x, o.y); }
  bool operator==(const Point &o) const { return x == o.x && y == o.y; }
};

using Value = std::variant<int, std::string, Point>;

struct Describe {
  std::string operator()(int v) const { return "int " + std::to_string(v); }
  std::string operator()(const std::string &v) const { return "string " + v; }
  std::string operator()(const Point &p) const {
    return "(" + std::to_string(p.x) + "," + std::to_string(p.y) + ")";
  }
};

// Each N is a distinct class with its own code: a compile-time recursion whose depth
// sets how much work the compiler has.
template <int N>
struct Ladder {
  static std::vector<long> values() {
    auto v = Ladder<N - 1>::values();
    v.push_back(static_cast<long>(N) * N);
    std::map<long, std::string> names;
    for (long x : v) names.emplace(x, std::to_string(x) + "#" + std::to_string(N));
    std::sort(v.begin(), v.end(), std::greater<long>());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (names.size() > 1000) v.clear();
    return v;
  }
};

template <>
struct Ladder<0> {
  static std::vector<long> values() { return {0}; }
};

inline std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (std::size_t at; (at = text.find(separator, from)) != std::string::npos; from = at + 1)
    if (at > from) out.push_back(text.substr(from, at - from));
  if (from < text.size()) out.push_back(text.substr(from));
  return out;
}

}  // namespace compile_me

std::string compile_me_entry(int seed) {
  using namespace compile_me;
  std::vector<Value> values{1, std::string("two"), Point{3, 4}};
  std::string text;
  for (const auto &v : values) text += std::visit(Describe{}, v) + "\n";

  auto ladder = Ladder<4>::values();
  std::unordered_map<std::string, std::list<Point>> by_name;
  for (int i = 0; i < seed; ++i)
    by_name[std::to_string(i % 7)].push_back(Point{double(i), double(-i)});
  std::string walked;
  for (const auto &[name, points] : by_name)
    for (const auto &p : points) walked += name + Describe{}(p);

  auto words = split(text + walked, ' ');

  return std::to_string(ladder.size()) + ' ' + std::to_string(words.size());
}
