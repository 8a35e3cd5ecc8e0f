// Parsing of the run command's option values. Each parser throws std::invalid_argument
// with a one-line message that names the bad value and says what is accepted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "result_writer.h"

namespace allocbench {

// Largest thread count accepted: more is a typo, not a benchmark.
inline constexpr unsigned kMaxThreads = 1024;

// `text` with every `from` replaced by `to`: the {PARAM} placeholders of suite recipes and
// the {dir} of program files.
std::string replace_all(std::string text, const std::string &from, const std::string &to);

// Splits on commas; empty items are an error.
std::vector<std::string> split_list(std::string_view text, std::string_view what);

// "1,2,4", "1..32" (powers of two from the lower bound times 2^k, then the upper bound if
// it is not reached exactly: 1..6 is 1,2,4,6; 3..20 is 3,6,12,20), or a mix "1,3..12".
// Sorted, duplicates removed, each in 1..kMaxThreads.
std::vector<unsigned> parse_thread_list(std::string_view text);

// A CPU list as taskset takes it: "1", "0,2", "0-3,6". Sorted, duplicates removed, each
// below the kernel's CPU set size.
std::vector<unsigned> parse_cpu_list(std::string_view text);

// A positive count with an optional suffix k, M or G (powers of 1000): "200000", "50k", "2M".
std::uint64_t parse_count(std::string_view text, std::string_view what);

// Longest duration accepted (30 days): clocks count nanoseconds in 64 bits, so a much
// longer time would overflow into a deadline in the past.
inline constexpr double kMaxDurationS = 30.0 * 24 * 3600;

// A duration in seconds, 1 ms to kMaxDurationS: "2", "2.5", "2s", "500ms", "1m".
double parse_duration(std::string_view text, std::string_view what);

// "key=value" with a non-empty key.
std::pair<std::string, std::string> parse_param(std::string_view text);

// "csv", "json" or both ("csv,json").
std::vector<OutputFormat> parse_formats(std::string_view text);

}  // namespace allocbench
