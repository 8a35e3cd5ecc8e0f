// `allocbench export --format=F RESULTS [-o FILE]`: the command line of export.h.
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "export.h"
#include "output_file.h"
#include "regression_commands.h"

namespace allocbench {
namespace {

struct ExportArgs {
  std::string format, input, output, metric = "ops_per_s";
};

int run_export(const ExportArgs &args) {
  const std::optional<ExportFormat> format = parse_export_format(args.format);
  if (!format)
    throw UsageError(
        fmt::format("unknown format '{}' (accepted: {})", args.format, kExportFormatNames));
  if (!find_metric(args.metric))
    throw UsageError(
        fmt::format("unknown metric '{}' (accepted: {})", args.metric, comparable_metric_names()));
  if (!args.output.empty() && args.output != "-") {
    // An output path that cannot be written is bad input, refused before any work; a write
    // that fails later (a full disk) is status 4.
    std::error_code ec;
    const std::filesystem::path out(args.output);
    const std::filesystem::path dir = out.has_parent_path() ? out.parent_path() : ".";
    if (!std::filesystem::is_directory(dir, ec))
      throw UsageError(
          fmt::format("cannot write {}: {} is not a directory", args.output, dir.string()));
    if (std::filesystem::is_directory(out, ec))
      throw UsageError(fmt::format("cannot write {}: it is a directory", args.output));
  }
  ResultFile file;
  try {
    file = load_result_file(args.input);
  } catch (const ResultFileError &e) {
    throw UsageError(e.what());
  }
  Json doc;
  switch (*format) {
    case ExportFormat::kGithubActionBenchmark:
      doc = export_github_action_benchmark(file, args.metric);
      break;
    case ExportFormat::kBencher:
      doc = export_bencher(file);
      break;
    case ExportFormat::kGoogleBenchmark:
      doc = export_google_benchmark(file);
      break;
  }
  for (const std::string &s : unexportable_sets(file))
    std::cerr << "allocbench export: " << s << " has no successful repetition; left out\n";
  const std::string text = doc.dump(2) + "\n";
  if (args.output.empty() || args.output == "-") {
    std::cout.flush();
    write_stream(stdout, text, "standard output");
  } else {
    // Through a temporary file and a rename: a tracker never reads half a file.
    replace_file(args.output, text);
    std::cerr << "allocbench export: wrote " << args.output;
    if (*format == ExportFormat::kGithubActionBenchmark)
      std::cerr << " (github-action-benchmark tool: " << github_action_benchmark_tool(args.metric)
                << ")";
    std::cerr << '\n';
  }
  return kExitOk;
}

}  // namespace

void register_export_command(CLI::App &app, CommandAction &action) {
  CLI::App *cmd = app.add_subcommand(
      "export",
      "Write a result file in a CI benchmark tracker's format: github-action-benchmark "
      "(custom JSON for benchmark-action/github-action-benchmark; --metric=ops_per_s goes to "
      "tool customBiggerIsBetter, peak_rss_kib and the other metrics to "
      "customSmallerIsBetter), bencher (Bencher Metric Format, for bencher run --adapter "
      "json) or gbench (Google Benchmark JSON, one iteration = one operation).");
  cmd->footer(
      "Examples:\n"
      "  allocbench export --format=bencher out/results.json -o bmf.json\n"
      "  allocbench export --format=github-action-benchmark --metric=peak_rss_kib out -o rss.json");
  auto args = std::make_shared<ExportArgs>();
  cmd->add_option("--format", args->format, "github-action-benchmark, bencher or gbench")
      ->required();
  cmd->add_option("RESULTS", args->input, "result file (results.json or its directory)")
      ->required();
  cmd->add_option("-o,--output", args->output, "file to write (default: standard output)");
  cmd->add_option(
         "--metric", args->metric,
         "github-action-benchmark only: the metric to export (" + comparable_metric_names() + ")")
      ->capture_default_str();
  cmd->callback([args, &action] { action = [args] { return run_export(*args); }; });
}

}  // namespace allocbench
