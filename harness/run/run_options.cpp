#include "run_options.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace allocbench {

namespace {

[[noreturn]] void bad(const std::string &message) {
  throw std::invalid_argument(message);
}

// Whole-string unsigned decimal; nullopt-like false on anything else.
bool parse_u64(std::string_view text, std::uint64_t &out) {
  if (text.empty() || text.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

unsigned parse_thread_count(std::string_view text, std::string_view whole) {
  std::uint64_t v = 0;
  if (!parse_u64(text, v))
    bad(
        fmt::format("--threads: '{}' in '{}' is not a number (accepted: 1,2,4 or MIN..MAX, "
                    "each 1..{})",
                    text, whole, kMaxThreads));
  if (v == 0)
    bad(fmt::format("--threads: 0 threads in '{}' (accepted: 1..{})", whole, kMaxThreads));
  if (v > kMaxThreads)
    bad(fmt::format("--threads: {} threads in '{}' is more than the limit {} (accepted: 1..{})", v,
                    whole, kMaxThreads, kMaxThreads));
  return static_cast<unsigned>(v);
}

}  // namespace

std::string replace_all(std::string text, const std::string &from, const std::string &to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::vector<std::string> split_list(std::string_view text, std::string_view what) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty())
      bad(fmt::format("{}: empty item in '{}' (a comma-separated list is expected)", what, text));
    items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::vector<unsigned> parse_thread_list(std::string_view text) {
  std::vector<unsigned> threads;
  for (const std::string &item : split_list(text, "--threads")) {
    const auto dots = item.find("..");
    if (dots == std::string::npos) {
      threads.push_back(parse_thread_count(item, text));
      continue;
    }
    const unsigned lo = parse_thread_count(std::string_view(item).substr(0, dots), text);
    const unsigned hi = parse_thread_count(std::string_view(item).substr(dots + 2), text);
    if (lo > hi)
      bad(fmt::format("--threads: range '{}' runs backwards (accepted: MIN..MAX with MIN <= MAX)",
                      item));
    for (unsigned t = lo; t < hi; t *= 2) threads.push_back(t);
    threads.push_back(hi);
  }
  std::sort(threads.begin(), threads.end());
  threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
  return threads;
}

std::vector<unsigned> parse_cpu_list(std::string_view text) {
  const auto cpu = [&](std::string_view item) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() ||
        value >= CPU_SETSIZE)
      bad(
          fmt::format("--cpus: '{}' is not a CPU number (accepted: a list like 1 or 0,2 or "
                      "0-3, CPUs 0..{})",
                      item, CPU_SETSIZE - 1));
    return value;
  };
  std::vector<unsigned> cpus;
  for (const std::string &item : split_list(text, "--cpus")) {
    const auto dash = item.find('-');
    const unsigned lo = cpu(std::string_view(item).substr(0, dash));
    const unsigned hi =
        dash == std::string::npos ? lo : cpu(std::string_view(item).substr(dash + 1));
    if (lo > hi) bad(fmt::format("--cpus: range '{}' runs backwards (accepted: LOW-HIGH)", item));
    for (unsigned c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::uint64_t parse_count(std::string_view text, std::string_view what) {
  std::string_view digits = text;
  std::uint64_t scale = 1;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        scale = 1000;
        break;
      case 'M':
        scale = 1000000;
        break;
      case 'G':
        scale = 1000000000;
        break;
      default:
        break;
    }
    if (scale != 1) digits.remove_suffix(1);
  }
  std::uint64_t v = 0;
  if (!parse_u64(digits, v) || v == 0 || v > UINT64_MAX / scale)
    bad(fmt::format("{}: '{}' is not a positive count (accepted: 200000, 50k, 2M, 1G)", what,
                    text));
  return v * scale;
}

double parse_duration(std::string_view text, std::string_view what) {
  std::string_view number = text;
  double scale = 1.0;
  if (number.size() > 2 && number.substr(number.size() - 2) == "ms") {
    scale = 0.001;
    number.remove_suffix(2);
  } else if (!number.empty() && number.back() == 's') {
    number.remove_suffix(1);
  } else if (!number.empty() && number.back() == 'm') {
    scale = 60.0;
    number.remove_suffix(1);
  }
  const std::string s(number);
  char *end = nullptr;
  errno = 0;
  const double v = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
  if (s.empty() || errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0 ||
      s.find_first_not_of("0123456789.") != std::string::npos)
    bad(fmt::format("{}: '{}' is not a positive duration (accepted: 2, 2.5s, 500ms, 1m)", what,
                    text));
  const double seconds = v * scale;
  if (seconds > kMaxDurationS)
    bad(fmt::format("{}: '{}' is longer than the limit of {} s (accepted: 1 ms to {} s)", what,
                    text, kMaxDurationS, kMaxDurationS));
  if (seconds < 0.001)
    bad(fmt::format("{}: '{}' is shorter than 1 ms (accepted: 1 ms to {} s)", what, text,
                    kMaxDurationS));
  return seconds;
}

std::pair<std::string, std::string> parse_param(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    bad(fmt::format("--param: '{}' is not key=value (see --list for each workload's parameters)",
                    text));
  return {std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

std::vector<OutputFormat> parse_formats(std::string_view text) {
  std::vector<OutputFormat> formats;
  for (const std::string &item : split_list(text, "--format")) {
    OutputFormat f;
    if (item == "csv") {
      f = OutputFormat::kCsv;
    } else if (item == "json") {
      f = OutputFormat::kJson;
    } else {
      bad(fmt::format("--format: unknown format '{}' (accepted: csv, json, csv,json)", item));
    }
    if (std::find(formats.begin(), formats.end(), f) == formats.end()) formats.push_back(f);
  }
  return formats;
}

}  // namespace allocbench
