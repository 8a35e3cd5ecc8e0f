// The workload interface's implementation: random numbers, size distributions, typed
// parameters, the registry and the system allocation interface.
#include "allocbench/workload.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace allocbench {

// ---------------------------------------------------------------------------------------
// MemoryApi

const MemoryApi &MemoryApi::system() {
  // Plain function pointers: in a child with a preloaded allocator these resolve to it.
  static const MemoryApi api{&::malloc, &::calloc, &::realloc, &::free, &::aligned_alloc};
  return api;
}

// ---------------------------------------------------------------------------------------
// Rng: xoshiro256** (Blackman and Vigna), its state expanded from the seed by splitmix64
// so that nearby seeds give unrelated streams and the state is never all zero.

namespace {

std::uint64_t splitmix64(std::uint64_t &state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(std::uint64_t seed) {
  std::uint64_t state = seed;
  for (auto &word : s_) word = splitmix64(state);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::uniform(std::uint64_t lo, std::uint64_t hi) {
  if (hi <= lo) return lo;
  const std::uint64_t span = hi - lo;
  if (span == std::numeric_limits<std::uint64_t>::max()) return next();
  // Lemire's multiply-and-reject: unbiased, and almost never divides.
  const std::uint64_t range = span + 1;
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * range;
  auto low = static_cast<std::uint64_t>(m);
  if (low < range) {
    const std::uint64_t threshold = (0 - range) % range;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * range;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return lo + static_cast<std::uint64_t>(m >> 64);
}

double Rng::uniform01() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

// ---------------------------------------------------------------------------------------
// SizeDistribution

namespace {

// One object above this is a mistake, not a benchmark: refuse it with a clear message.
constexpr std::size_t kMaxObjectSize = std::size_t{1} << 30;

struct TableEntry {
  std::vector<std::pair<std::size_t, double>> weighted_sizes;
  std::string description;
};

struct TableRegistry {
  std::mutex mutex;
  std::map<std::string, TableEntry, std::less<>> tables;
};

TableRegistry &table_registry() {
  static TableRegistry registry;
  return registry;
}

std::string accepted_sizes() {
  std::string tables;
  for (const auto &[name, description] : SizeDistribution::table_names()) {
    tables += tables.empty() ? "" : ", ";
    tables += name;
  }
  return fmt::format(
      "a size in bytes (64, 4K, 1M), a range MIN..MAX (16..512) or a size table ({})",
      tables.empty() ? "none registered" : tables);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// One size: decimal digits with an optional binary suffix (B, K/KiB, M/MiB, G/GiB).
std::size_t parse_one_size(std::string_view token, std::string_view whole) {
  token = trim(token);
  if (token.empty()) {
    throw std::invalid_argument(
        fmt::format("size range '{}' lacks a bound; accepted: {}", whole, accepted_sizes()));
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (end == token.data()) {
    throw std::invalid_argument(
        fmt::format("'{}' is not a size; accepted: {}", whole, accepted_sizes()));
  }
  const std::string_view suffix = token.substr(static_cast<std::size_t>(end - token.data()));
  int shift = -1;
  if (suffix.empty() || iequals(suffix, "b")) {
    shift = 0;
  } else if (iequals(suffix, "k") || iequals(suffix, "kib")) {
    shift = 10;
  } else if (iequals(suffix, "m") || iequals(suffix, "mib")) {
    shift = 20;
  } else if (iequals(suffix, "g") || iequals(suffix, "gib")) {
    shift = 30;
  }
  if (shift < 0) {
    throw std::invalid_argument(
        fmt::format("'{}' is not a size (unknown unit '{}'; units: B, K, M, G); accepted: {}",
                    whole, suffix, accepted_sizes()));
  }
  if (ec == std::errc::result_out_of_range || value > (kMaxObjectSize >> shift)) {
    throw std::invalid_argument(
        fmt::format("size '{}' in '{}' is above the limit of 1 GiB ({} bytes) per object", token,
                    whole, kMaxObjectSize));
  }
  const std::size_t size = static_cast<std::size_t>(value) << shift;
  if (size == 0) {
    throw std::invalid_argument(
        fmt::format("size 0 in '{}' is not accepted: objects have at least 1 byte", whole));
  }
  return size;
}

void check_table(const std::string &name,
                 const std::vector<std::pair<std::size_t, double>> &weighted_sizes) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) ||
      name.find("..") != std::string::npos) {
    throw std::invalid_argument(fmt::format(
        "size table name '{}' is not accepted: it must not be empty, start with a digit or "
        "contain '..'",
        name));
  }
  if (weighted_sizes.empty()) {
    throw std::invalid_argument(fmt::format("size table '{}' has no entries", name));
  }
  for (const auto &[size, weight] : weighted_sizes) {
    if (size == 0 || size > kMaxObjectSize) {
      throw std::invalid_argument(
          fmt::format("size table '{}' has size {}: sizes must be 1 byte to 1 GiB", name, size));
    }
    if (!std::isfinite(weight) || weight <= 0) {
      throw std::invalid_argument(
          fmt::format("size table '{}' gives size {} the weight {}: weights must be positive", name,
                      size, weight));
    }
  }
}

}  // namespace

SizeDistribution SizeDistribution::fixed(std::size_t size) {
  if (size == 0 || size > kMaxObjectSize) {
    throw std::invalid_argument(
        fmt::format("size {} is not accepted: sizes must be 1 byte to 1 GiB", size));
  }
  SizeDistribution d;
  d.kind_ = Kind::kFixed;
  d.min_ = d.max_ = size;
  d.text_ = std::to_string(size);
  return d;
}

SizeDistribution SizeDistribution::uniform(std::size_t min, std::size_t max) {
  if (min == 0 || max > kMaxObjectSize || min > max) {
    throw std::invalid_argument(fmt::format(
        "size range {}..{} is not accepted: it needs 1 <= MIN <= MAX <= 1 GiB", min, max));
  }
  if (min == max) return fixed(min);
  SizeDistribution d;
  d.kind_ = Kind::kUniform;
  d.min_ = min;
  d.max_ = max;
  d.text_ = fmt::format("{}..{}", min, max);
  return d;
}

SizeDistribution SizeDistribution::table(
    std::string name, std::vector<std::pair<std::size_t, double>> weighted_sizes) {
  check_table(name, weighted_sizes);
  SizeDistribution d;
  d.kind_ = Kind::kTable;
  d.text_ = std::move(name);
  double total = 0;
  for (const auto &entry : weighted_sizes) total += entry.second;
  d.min_ = std::numeric_limits<std::size_t>::max();
  double running = 0;
  for (const auto &[size, weight] : weighted_sizes) {
    running += weight;
    d.table_sizes_.push_back(size);
    d.table_cumulative_.push_back(running / total);
    d.min_ = std::min(d.min_, size);
    d.max_ = std::max(d.max_, size);
  }
  d.table_cumulative_.back() = 1.0;  // rounding must never leave a gap at the top
  return d;
}

void SizeDistribution::register_table(const std::string &name,
                                      std::vector<std::pair<std::size_t, double>> weighted_sizes,
                                      std::string description) {
  check_table(name, weighted_sizes);
  auto &registry = table_registry();
  std::lock_guard lock(registry.mutex);
  if (registry.tables.count(name) != 0) {
    throw std::invalid_argument(fmt::format("size table '{}' is registered twice", name));
  }
  registry.tables.emplace(name, TableEntry{std::move(weighted_sizes), std::move(description)});
}

std::vector<std::pair<std::string, std::string>> SizeDistribution::table_names() {
  auto &registry = table_registry();
  std::lock_guard lock(registry.mutex);
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto &[name, entry] : registry.tables) names.emplace_back(name, entry.description);
  return names;
}

SizeDistribution SizeDistribution::parse(std::string_view text) {
  const std::string_view body = trim(text);
  if (body.empty()) {
    throw std::invalid_argument(fmt::format("empty size; accepted: {}", accepted_sizes()));
  }
  if (const auto dots = body.find(".."); dots != std::string_view::npos) {
    const std::size_t lo = parse_one_size(body.substr(0, dots), body);
    const std::size_t hi = parse_one_size(body.substr(dots + 2), body);
    if (lo > hi) {
      throw std::invalid_argument(fmt::format(
          "size range '{}' has its minimum above its maximum; write MIN..MAX with MIN <= MAX",
          body));
    }
    return uniform(lo, hi);
  }
  if (std::isdigit(static_cast<unsigned char>(body.front()))) {
    return fixed(parse_one_size(body, body));
  }
  {
    auto &registry = table_registry();
    std::lock_guard lock(registry.mutex);
    if (const auto it = registry.tables.find(body); it != registry.tables.end()) {
      return table(it->first, it->second.weighted_sizes);
    }
  }
  throw std::invalid_argument(
      fmt::format("'{}' is neither a size nor a size table; accepted: {}", body, accepted_sizes()));
}

std::size_t SizeDistribution::sample(Rng &rng) const {
  switch (kind_) {
    case Kind::kFixed:
      return min_;
    case Kind::kUniform:
      return static_cast<std::size_t>(rng.uniform(min_, max_));
    case Kind::kTable: {
      const double u = rng.uniform01();
      const auto it = std::upper_bound(table_cumulative_.begin(), table_cumulative_.end(), u);
      const auto index = std::min(static_cast<std::size_t>(it - table_cumulative_.begin()),
                                  table_sizes_.size() - 1);
      return table_sizes_[index];
    }
  }
  return min_;
}

double SizeDistribution::mean() const {
  switch (kind_) {
    case Kind::kFixed:
      return static_cast<double>(min_);
    case Kind::kUniform:
      return (static_cast<double>(min_) + static_cast<double>(max_)) / 2;
    case Kind::kTable: {
      double sum = 0, previous = 0;
      for (std::size_t i = 0; i < table_sizes_.size(); ++i) {
        sum += static_cast<double>(table_sizes_[i]) * (table_cumulative_[i] - previous);
        previous = table_cumulative_[i];
      }
      return sum;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// Parameters

std::string_view to_string(ParamSpec::Type type) {
  switch (type) {
    case ParamSpec::Type::kInt:
      return "int";
    case ParamSpec::Type::kDouble:
      return "double";
    case ParamSpec::Type::kBool:
      return "bool";
    case ParamSpec::Type::kString:
      return "string";
  }
  return "?";
}

namespace {

const std::string &find_value(const std::vector<std::pair<std::string, std::string>> &items,
                              const std::string &name) {
  for (const auto &[key, value] : items) {
    if (key == name) return value;
  }
  throw std::out_of_range(fmt::format(
      "parameter '{}' is not bound (not declared by the workload, or the values did not come "
      "from Workload::bind)",
      name));
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  for (const char *yes : {"true", "1", "yes", "on"}) {
    if (iequals(text, yes)) return true;
  }
  for (const char *no : {"false", "0", "no", "off"}) {
    if (iequals(text, no)) return false;
  }
  return std::nullopt;
}

std::string describe_range(const ParamSpec &spec) {
  if (spec.min && spec.max) return fmt::format(" from {} to {}", *spec.min, *spec.max);
  if (spec.min) return fmt::format(" of at least {}", *spec.min);
  if (spec.max) return fmt::format(" of at most {}", *spec.max);
  return "";
}

// Checks one value against its declaration; returns its canonical text or an error.
std::string check_value(const std::string &workload, const ParamSpec &spec, std::string_view raw,
                        bool *ok) {
  *ok = false;
  const std::string_view text = trim(raw);
  const std::string unit = spec.unit.empty() ? "" : fmt::format(" ({})", spec.unit);
  const std::string where = fmt::format("parameter '{}' of workload '{}'", spec.name, workload);
  auto out_of_range = [&](double value) {
    return (spec.min && value < *spec.min) || (spec.max && value > *spec.max);
  };
  switch (spec.type) {
    case ParamSpec::Type::kInt: {
      const auto value = parse_int(text);
      if (!value || out_of_range(static_cast<double>(*value))) {
        return fmt::format("{} takes an integer{}{}, not '{}'", where, describe_range(spec), unit,
                           raw);
      }
      *ok = true;
      return std::to_string(*value);
    }
    case ParamSpec::Type::kDouble: {
      const auto value = parse_double(text);
      if (!value || out_of_range(*value)) {
        return fmt::format("{} takes a number{}{}, not '{}'", where, describe_range(spec), unit,
                           raw);
      }
      *ok = true;
      return std::string(text);
    }
    case ParamSpec::Type::kBool: {
      const auto value = parse_bool(text);
      if (!value) {
        return fmt::format("{} takes true or false (also 1/0, yes/no, on/off), not '{}'", where,
                           raw);
      }
      *ok = true;
      return *value ? "true" : "false";
    }
    case ParamSpec::Type::kString: {
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        return fmt::format("{} takes one of {}, not '{}'", where, fmt::join(spec.choices, ", "),
                           raw);
      }
      if (spec.check) {
        if (std::string problem = spec.check(std::string(text)); !problem.empty()) {
          return fmt::format("{}: {}", where, problem);
        }
      }
      *ok = true;
      return std::string(text);
    }
  }
  return where + " has an unknown type";
}

}  // namespace

std::string declaration_problem(const ParamSpec &spec) {
  switch (spec.type) {
    case ParamSpec::Type::kInt:
    case ParamSpec::Type::kDouble:
      if (!spec.min || !spec.max) return "a number without its range (min and max)";
      if (*spec.min > *spec.max) return "a range whose min is above its max";
      break;
    case ParamSpec::Type::kBool:
      break;
    case ParamSpec::Type::kString:
      if (spec.choices.empty() && !spec.check) return "a text with neither choices nor a check";
      break;
  }
  // The default must pass the declared limits (the check may look at files: left to bind).
  ParamSpec limits = spec;
  limits.check = nullptr;
  bool ok = false;
  const std::string problem = check_value("(registration)", limits, spec.default_value, &ok);
  return ok ? std::string() : "a default the declaration refuses: " + problem;
}

std::int64_t ParamValues::get_int(const std::string &name) const {
  const std::string &text = find_value(items_, name);
  const auto value = parse_int(text);
  if (!value) {
    throw std::invalid_argument(fmt::format("parameter '{}' is '{}', not an integer", name, text));
  }
  return *value;
}

double ParamValues::get_double(const std::string &name) const {
  const std::string &text = find_value(items_, name);
  const auto value = parse_double(text);
  if (!value) {
    throw std::invalid_argument(fmt::format("parameter '{}' is '{}', not a number", name, text));
  }
  return *value;
}

bool ParamValues::get_bool(const std::string &name) const {
  const std::string &text = find_value(items_, name);
  const auto value = parse_bool(text);
  if (!value) {
    throw std::invalid_argument(fmt::format("parameter '{}' is '{}', not a boolean", name, text));
  }
  return *value;
}

const std::string &ParamValues::get_string(const std::string &name) const {
  return find_value(items_, name);
}

std::string_view to_string(Touch touch) {
  switch (touch) {
    case Touch::kFull:
      return "full";
    case Touch::kLines:
      return "lines";
    case Touch::kPages:
      return "pages";
    case Touch::kEnds:
      return "ends";
  }
  return "?";
}

std::optional<Touch> parse_touch(std::string_view text) {
  for (Touch touch : {Touch::kFull, Touch::kLines, Touch::kPages, Touch::kEnds}) {
    if (text == to_string(touch)) return touch;
  }
  return std::nullopt;
}

std::vector<ParamSpec> Workload::params() const {
  std::vector<ParamSpec> specs = workload_params();
  specs.push_back({"touch",
                   ParamSpec::Type::kString,
                   std::string(to_string(default_touch())),
                   "",
                   "how much of each object is written and checked: full (every byte), lines "
                   "(a word per 64-byte line), pages (a word per 4 KiB page), ends (the first "
                   "and last 16 bytes); below full, 1 object in 16 is still written whole",
                   {"full", "lines", "pages", "ends"}});
  return specs;
}

ParamValues Workload::bind(const std::map<std::string, std::string> &given) const {
  const std::vector<ParamSpec> specs = params();
  const std::string workload = name();
  for (const auto &[key, value] : given) {
    const bool known = std::any_of(specs.begin(), specs.end(),
                                   [&key = key](const ParamSpec &s) { return s.name == key; });
    if (!known) {
      std::vector<std::string> names;
      for (const auto &spec : specs) names.push_back(spec.name);
      throw std::invalid_argument(
          names.empty() ? fmt::format("workload '{}' takes no parameters, not '{}'", workload, key)
                        : fmt::format("workload '{}' has no parameter '{}'; its parameters: {}",
                                      workload, key, fmt::join(names, ", ")));
    }
  }
  ParamValues values;
  for (const auto &spec : specs) {
    bool ok = false;
    if (const auto it = given.find(spec.name); it != given.end()) {
      std::string text = check_value(workload, spec, it->second, &ok);
      if (!ok) throw std::invalid_argument(text);
      values.items_.emplace_back(spec.name, std::move(text));
    } else {
      std::string text = check_value(workload, spec, spec.default_value, &ok);
      if (!ok) throw std::logic_error("the default of " + text);
      values.items_.emplace_back(spec.name, std::move(text));
    }
  }
  return values;
}

// ---------------------------------------------------------------------------------------
// Registry

WorkloadRegistry &WorkloadRegistry::instance() {
  static WorkloadRegistry registry;
  return registry;
}

void WorkloadRegistry::add(Factory factory) {
  std::unique_ptr<Workload> workload = factory();
  const std::string workload_name = workload ? workload->name() : std::string();
  // Registration runs before main(): a broken registration is a build defect, so stop
  // with a message rather than throw into the static initialisation.
  if (workload_name.empty()) {
    std::fprintf(stderr, "allocbench: a workload registered without a name\n");
    std::abort();
  }
  if (find(workload_name) != nullptr) {
    std::fprintf(stderr, "allocbench: two workloads are named '%s'\n", workload_name.c_str());
    std::abort();
  }
  // Every parameter says what it accepts, so that every bad value is refused at parse
  // time, the same way for every workload.
  std::vector<std::string> seen;
  for (const ParamSpec &spec : workload->params()) {
    if (std::find(seen.begin(), seen.end(), spec.name) != seen.end()) {
      std::fprintf(stderr, "allocbench: workload '%s' declares parameter '%s' twice\n",
                   workload_name.c_str(), spec.name.c_str());
      std::abort();
    }
    seen.push_back(spec.name);
    if (const std::string problem = declaration_problem(spec); !problem.empty()) {
      std::fprintf(stderr, "allocbench: parameter '%s' of workload '%s' is declared with %s\n",
                   spec.name.c_str(), workload_name.c_str(), problem.c_str());
      std::abort();
    }
  }
  workloads_.push_back(std::move(workload));
}

const Workload *WorkloadRegistry::find(std::string_view workload_name) const {
  for (const auto &workload : workloads_) {
    if (workload->name() == workload_name) return workload.get();
  }
  return nullptr;
}

std::vector<const Workload *> WorkloadRegistry::all() const {
  std::vector<const Workload *> list;
  for (const auto &workload : workloads_) list.push_back(workload.get());
  std::sort(list.begin(), list.end(),
            [](const Workload *a, const Workload *b) { return a->name() < b->name(); });
  return list;
}

}  // namespace allocbench
