// `allocbench compare BASE NEW`: the command line of compare.h.
#include <cmath>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "compare.h"
#include "output_file.h"
#include "regression_commands.h"

namespace allocbench {
namespace {

// Status 1 of compare: a significant regression at least --min-effect large.
constexpr int kExitRegression = 1;

// "40%" or "0.4" -> 0.4. A bare number above 1 is refused: it is almost always a
// percentage written without its sign.
double parse_fraction(const std::string &text, const char *option) {
  std::string number = text;
  const bool percent = !number.empty() && number.back() == '%';
  if (percent) number.pop_back();
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(number, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != number.size() || !std::isfinite(v) || v < 0.0)
    throw UsageError(fmt::format("{} '{}' is not a fraction or a percentage (accepted: 0.05 or 5%)",
                                 option, text));
  if (percent) return v / 100.0;
  if (v > 1.0)
    throw UsageError(fmt::format(
        "{} '{}' would mean {}%; write {}% for a percentage, or a fraction such as 0.05", option,
        text, v * 100.0, text));
  return v;
}

std::vector<std::string> split_commas(const std::string &text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

struct CompareArgs {
  std::string base_path, new_path, min_effect = "5%", allocators;
  bool require_base = false;  // a benchmark of BASE that NEW lacks is no data
  CompareOptions options;
};

int run_compare(const CompareArgs &args) {
  CompareOptions options = args.options;
  options.min_effect = parse_fraction(args.min_effect, "--min-effect");
  options.allocators = split_commas(args.allocators);
  CompareReport report;
  try {
    const ResultFile base = load_result_file(args.base_path);
    const ResultFile next = load_result_file(args.new_path);
    report = compare_results(base, next, options);
  } catch (const std::exception &e) {
    // Unreadable files and impossible options are bad input, not a failed comparison.
    throw UsageError(e.what());
  }
  if (!options.allocators.empty() && report.rows.empty() && report.only_in_base.empty() &&
      report.only_in_new.empty())
    throw UsageError(
        fmt::format("no runs of the allocator(s) '{}' in either file", args.allocators));
  print_compare_report(std::cout, report, options);
  finish_stdout();
  if (report.has_regression()) return kExitRegression;
  // A CI gate must not pass on nothing: every verdict rests on data on both sides.
  if (report.lacks_data()) return kExitNoData;
  if (args.require_base && !report.only_in_base.empty()) return kExitNoData;
  return kExitOk;
}

}  // namespace

void register_compare_command(CLI::App &app, CommandAction &action) {
  CLI::App *cmd = app.add_subcommand(
      "compare",
      "Decide per benchmark and allocator whether NEW is better or worse than BASE: a "
      "two-sided Mann-Whitney U test on the repetitions plus a minimum effect size on the "
      "change of the medians. Exit status: 0 no significant regression, 1 a significant "
      "regression at least --min-effect large, 2 bad input, 3 no data (no benchmark in both "
      "files, or one without a successful repetition on a side), 4 the report could not be "
      "written.");
  cmd->footer(
      "Examples:\n"
      "  allocbench compare results/baseline/results.json out/results.json\n"
      "  allocbench compare --ratio-to=glibc --min-effect=40% --allocator=fio BASE NEW");
  auto args = std::make_shared<CompareArgs>();
  cmd->add_option("BASE", args->base_path, "base result file (results.json or its directory)")
      ->required();
  cmd->add_option("NEW", args->new_path, "new result file (results.json or its directory)")
      ->required();
  cmd->add_option("--alpha", args->options.alpha, "significance level of the U test")
      ->capture_default_str();
  cmd->add_option("--min-effect", args->min_effect,
                  "smallest change of the medians that counts, as a fraction (0.05) or a "
                  "percentage (5%)")
      ->capture_default_str();
  cmd->add_option("--metric", args->options.metric,
                  "metric to compare (the metric catalogue says whether bigger or smaller is "
                  "better): " +
                      comparable_metric_names() +
                      " (default: each benchmark's own, ops_per_s or a program's wall_s)");
  cmd->add_option("--ratio-to", args->options.ratio_to,
                  "compare each allocator as a ratio to this allocator measured in the same "
                  "run (for example glibc), so a uniformly slower machine is not a regression");
  cmd->add_option("--allocator", args->allocators,
                  "compare only these allocators (comma-separated)");
  cmd->add_flag("--require-base", args->require_base,
                "every benchmark of BASE must be in NEW: one only in BASE makes the exit "
                "status 3 (a CI gate on a stale baseline)");
  cmd->callback([args, &action] { action = [args] { return run_compare(*args); }; });
}

}  // namespace allocbench
