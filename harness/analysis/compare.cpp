#include "compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "mann_whitney.h"
#include "statistics.h"

namespace allocbench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string label(const SampleSet &s) {
  return s.benchmark + " [" + s.allocator + "]";
}

// Repetitions per side needed before the test can reach `alpha` at all.
std::size_t repetitions_needed(double alpha) {
  std::size_t k = 1;
  while (k < 1000 && !(mann_whitney_min_p(k, k) < alpha)) ++k;
  return k;
}

// The values of `metric` for one sample set; in ratio mode divided by the reference's
// median for the same benchmark in the same file. Empty with `why` set when impossible.
std::vector<double> sample_values(const ResultFile &file, const SampleSet &set,
                                  const CompareOptions &options, const std::string &metric,
                                  const char *side, std::string &why) {
  std::vector<double> values = set.values(metric);
  if (values.empty()) {
    why = set.ok_runs.empty()
              ? fmt::format("no successful repetition in {}{}", side,
                            set.first_error.empty() ? "" : " (" + set.first_error + ")")
              : fmt::format("{} has no {} values", side, metric);
    return {};
  }
  if (options.ratio_to.empty()) return values;
  const SampleSet *ref = file.find(set.benchmark, options.ratio_to);
  const std::vector<double> ref_values = ref ? ref->values(metric) : std::vector<double>{};
  if (ref_values.empty()) {
    why = fmt::format("no successful {} run of this benchmark in {} to take the ratio to",
                      options.ratio_to, side);
    return {};
  }
  const double ref_median = median(ref_values);
  if (!(ref_median > 0.0)) {
    why = fmt::format("{} median of {} in {} is not positive", options.ratio_to, metric, side);
    return {};
  }
  for (double &v : values) v /= ref_median;
  return values;
}

// A counted metric repeats exactly: any change beyond the bound is the code's, and no
// test of the noise is needed.
void decide_exact(BenchmarkComparison &row, const CompareOptions &options, bool bigger_is_better) {
  const double gain = bigger_is_better ? row.change : -row.change;
  row.p_value = kNaN;
  if (std::isnan(row.change)) {
    row.verdict = Verdict::kInconclusive;
    row.reason = "base median is zero: no relative change";
  } else if (gain <= -options.min_effect) {
    row.verdict = Verdict::kRegressed;
    row.reason = fmt::format("counted regression of {:.2f}% (bound {:.1f}%; exact figures)",
                             100.0 * std::fabs(row.change), 100.0 * options.min_effect);
  } else if (gain >= options.min_effect) {
    row.verdict = Verdict::kImproved;
    row.reason = fmt::format("counted improvement of {:.2f}%", 100.0 * std::fabs(row.change));
  } else {
    row.verdict = Verdict::kUnchanged;
    row.reason = fmt::format("counted change of {:.2f}% is within the bound {:.1f}%",
                             100.0 * std::fabs(row.change), 100.0 * options.min_effect);
  }
}

void decide(BenchmarkComparison &row, const std::vector<double> &base_values,
            const std::vector<double> &new_values, const CompareOptions &options,
            bool bigger_is_better, bool exact) {
  row.n_base = base_values.size();
  row.n_new = new_values.size();
  row.base_median = median(base_values);
  row.new_median = median(new_values);
  row.change = row.base_median != 0.0 ? (row.new_median - row.base_median) / row.base_median : kNaN;
  if (exact) {
    row.min_p = kNaN;
    decide_exact(row, options, bigger_is_better);
    return;
  }
  row.min_p = mann_whitney_min_p(row.n_base, row.n_new);
  row.p_value = mann_whitney_u(base_values, new_values).p_value;

  // The change measured in the good direction: positive is better.
  const double gain = bigger_is_better ? row.change : -row.change;
  if (std::isnan(row.change)) {
    row.verdict = Verdict::kInconclusive;
    row.reason = "base median is zero: no relative change";
  } else if (!(row.min_p < options.alpha)) {
    row.verdict = Verdict::kInconclusive;
    row.reason = fmt::format(
        "too few repetitions: {} vs {} can give at best p = {:.3g}, not below alpha {}; "
        "use at least {} per side",
        row.n_base, row.n_new, row.min_p, options.alpha, repetitions_needed(options.alpha));
  } else if (row.p_value < options.alpha) {
    if (gain >= options.min_effect) {
      row.verdict = Verdict::kImproved;
      row.reason = fmt::format("significant improvement of {:.1f}%", 100.0 * std::fabs(row.change));
    } else if (gain <= -options.min_effect) {
      row.verdict = Verdict::kRegressed;
      row.reason = fmt::format("significant regression of {:.1f}% (bound {:.1f}%)",
                               100.0 * std::fabs(row.change), 100.0 * options.min_effect);
    } else {
      row.verdict = Verdict::kUnchanged;
      row.reason = fmt::format("significant but smaller than the minimum effect {:.1f}%",
                               100.0 * options.min_effect);
    }
  } else if (std::fabs(gain) >= options.min_effect) {
    row.verdict = Verdict::kInconclusive;
    row.reason = fmt::format("change of {:.1f}% is within the noise (p = {:.3g})",
                             100.0 * std::fabs(row.change), row.p_value);
  } else {
    row.verdict = Verdict::kUnchanged;
  }
}

std::string allocator_version(const ResultFile &file, const std::string &allocator) {
  for (const AllocatorInfo &a : file.context.allocators)
    if (a.name == allocator && a.version) return *a.version;
  for (const SampleSet &s : file.sets)
    if (s.allocator == allocator && !s.allocator_version.empty()) return s.allocator_version;
  return "";
}

// What makes figures of two machines or builds hard to compare. The host name and the
// date are left out: CI machines are interchangeable by design.
std::vector<std::string> context_differences(const ResultFile &base, const ResultFile &next,
                                             const std::set<std::string> &allocators) {
  const Context &a = base.context, &b = next.context;
  const std::pair<const char *, std::pair<std::string, std::string>> fields[] = {
      {"cpu_model", {a.cpu_model, b.cpu_model}},
      {"cpu_count", {std::to_string(a.cpu_count), std::to_string(b.cpu_count)}},
      {"kernel", {a.kernel, b.kernel}},
      {"compiler", {a.compiler, b.compiler}},
      {"build_type", {a.build_type, b.build_type}},
  };
  std::vector<std::string> out;
  auto shown = [](const std::string &v) { return v.empty() ? std::string("?") : v; };
  for (const auto &[name, values] : fields)
    if (values.first != values.second)
      out.push_back(
          fmt::format("{}: '{}' -> '{}'", name, shown(values.first), shown(values.second)));
  for (const std::string &name : allocators) {
    const std::string va = allocator_version(base, name), vb = allocator_version(next, name);
    if (va != vb)
      out.push_back(fmt::format("{} version: '{}' -> '{}'", name, shown(va), shown(vb)));
  }
  return out;
}

bool selected(const CompareOptions &options, const std::string &allocator) {
  if (!options.ratio_to.empty() && allocator == options.ratio_to) return false;
  return options.allocators.empty() ||
         std::find(options.allocators.begin(), options.allocators.end(), allocator) !=
             options.allocators.end();
}

bool has_allocator(const ResultFile &file, const std::string &allocator) {
  return std::any_of(file.sets.begin(), file.sets.end(),
                     [&](const SampleSet &s) { return s.allocator == allocator; });
}

}  // namespace

const char *verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kImproved:
      return "improved";
    case Verdict::kRegressed:
      return "regressed";
    case Verdict::kUnchanged:
      return "unchanged";
    case Verdict::kInconclusive:
      return "inconclusive";
    case Verdict::kNoData:
      return "no-data";
  }
  return "?";
}

std::size_t CompareReport::count(Verdict v) const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [v](const auto &r) { return r.verdict == v; }));
}

CompareReport compare_results(const ResultFile &base, const ResultFile &next,
                              const CompareOptions &options) {
  if (!(options.alpha > 0.0 && options.alpha < 1.0))
    throw std::invalid_argument(fmt::format("alpha must be in (0, 1), not {}", options.alpha));
  if (!(options.min_effect >= 0.0) || !std::isfinite(options.min_effect))
    throw std::invalid_argument(
        fmt::format("the minimum effect must be a fraction >= 0, not {}", options.min_effect));
  if (!options.metric.empty() && !find_metric(options.metric))
    throw std::invalid_argument(fmt::format("unknown metric '{}' (accepted: {})", options.metric,
                                            comparable_metric_names()));
  if (!options.ratio_to.empty())
    for (const ResultFile *file : {&base, &next})
      if (!has_allocator(*file, options.ratio_to))
        throw ResultFileError(
            fmt::format("{}: no runs of the reference allocator '{}' for ratio mode", file->path,
                        options.ratio_to));

  CompareReport report;
  report.base_path = base.path;
  report.new_path = next.path;
  std::set<std::string> allocators;
  for (const SampleSet &b : base.sets) {
    if (!selected(options, b.allocator)) continue;
    const SampleSet *n = next.find(b.benchmark, b.allocator);
    if (!n) {
      report.only_in_base.push_back(label(b));
      continue;
    }
    allocators.insert(b.allocator);
    BenchmarkComparison row;
    row.benchmark = b.benchmark;
    row.allocator = b.allocator;
    std::string why;
    const std::string metric_name =
        options.metric.empty() ? std::string(primary_metric(b.workload)) : options.metric;
    const MetricDef *metric = find_metric(metric_name);
    const std::vector<double> base_values =
        sample_values(base, b, options, metric_name, "base", why);
    const std::vector<double> new_values =
        why.empty() ? sample_values(next, *n, options, metric_name, "new", why)
                    : std::vector<double>{};
    if (!why.empty()) {
      row.n_base = b.values(metric_name).size();
      row.n_new = n->values(metric_name).size();
      row.base_median = row.new_median = row.change = row.p_value = kNaN;
      row.verdict = Verdict::kNoData;
      row.reason = why;
    } else {
      decide(row, base_values, new_values, options, metric->better == Better::kHigher,
             metric->counted);
    }
    if (b.failed + n->failed > 0)
      report.notes.push_back(
          fmt::format("{}: {} failed repetition(s) in base, {} in new (left out)", label(b),
                      b.failed, n->failed));
    report.rows.push_back(std::move(row));
  }
  for (const SampleSet &n : next.sets)
    if (selected(options, n.allocator) && !base.find(n.benchmark, n.allocator))
      report.only_in_new.push_back(label(n));
  if (!options.ratio_to.empty()) allocators.insert(options.ratio_to);
  report.context_differences = context_differences(base, next, allocators);
  if (!options.ratio_to.empty())
    report.notes.push_back(fmt::format(
        "ratio mode: values are each repetition divided by the median of '{}' for the same "
        "benchmark in the same file; '{}' itself is not compared",
        options.ratio_to, options.ratio_to));
  return report;
}

namespace {

std::string format_value(double v, bool ratio) {
  if (std::isnan(v)) return "-";
  if (ratio) return fmt::format("{:.3f}x", v);
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:.3f}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3f}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:.2f}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

std::string format_change(double c) {
  if (std::isnan(c)) return "-";
  return fmt::format("{:+.1f}%", 100.0 * c);
}

std::string format_p(double p) {
  if (std::isnan(p)) return "-";
  if (p < 0.001) return "<0.001";
  return fmt::format("{:.3f}", p);
}

}  // namespace

void print_compare_report(std::ostream &out, const CompareReport &report,
                          const CompareOptions &options) {
  const bool ratio = !options.ratio_to.empty();
  out << fmt::format("base: {}\nnew:  {}\n", report.base_path, report.new_path);
  std::string metric_text;
  if (options.metric.empty()) {
    metric_text = "ops_per_s (ops/s, bigger is better), for programs wall_s (s, smaller is better)";
  } else {
    const MetricDef *metric = find_metric(options.metric);
    metric_text = fmt::format("{} ({}, {} is better)", options.metric, metric ? metric->unit : "?",
                              metric && metric->better == Better::kHigher ? "bigger" : "smaller");
  }
  out << fmt::format("metric: {}{}; two-sided Mann-Whitney U, alpha {}, minimum effect {:.1f}%\n\n",
                     metric_text, ratio ? ", as a ratio to " + options.ratio_to : "", options.alpha,
                     100.0 * options.min_effect);

  const std::vector<std::string> header = {"benchmark",  "allocator", "n",       "base median",
                                           "new median", "change",    "p-value", "verdict"};
  std::vector<std::vector<std::string>> cells;
  for (const BenchmarkComparison &r : report.rows)
    cells.push_back({r.benchmark, r.allocator, fmt::format("{}/{}", r.n_base, r.n_new),
                     format_value(r.base_median, ratio), format_value(r.new_median, ratio),
                     format_change(r.change), format_p(r.p_value), verdict_name(r.verdict)});
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto &row : cells) width[c] = std::max(width[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string> &row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      // Text columns align left, numbers right.
      const bool left = c < 2 || c + 1 == row.size();
      line +=
          left ? fmt::format("{:<{}}", row[c], width[c]) : fmt::format("{:>{}}", row[c], width[c]);
      if (c + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  if (cells.empty()) {
    out << "no benchmark is present in both files\n";
  } else {
    print_row(header);
    for (const auto &row : cells) print_row(row);
  }

  bool first_reason = true;
  for (const BenchmarkComparison &r : report.rows) {
    if (r.reason.empty()) continue;
    if (first_reason) out << "\nverdicts:\n";
    first_reason = false;
    out << fmt::format("  {} {} [{}]: {}\n", verdict_name(r.verdict), r.benchmark, r.allocator,
                       r.reason);
  }
  auto list = [&](const char *title, const std::vector<std::string> &items) {
    if (items.empty()) return;
    out << '\n' << title << '\n';
    for (const std::string &s : items) out << "  " << s << '\n';
  };
  list("only in base (not compared):", report.only_in_base);
  list("only in new (not compared):", report.only_in_new);
  list("contexts differ (figures may not be comparable):", report.context_differences);
  list("notes:", report.notes);

  out << fmt::format(
      "\n{} compared: {} improved, {} regressed, {} unchanged, {} inconclusive, {} no data",
      report.rows.size(), report.count(Verdict::kImproved), report.count(Verdict::kRegressed),
      report.count(Verdict::kUnchanged), report.count(Verdict::kInconclusive),
      report.count(Verdict::kNoData));
  if (!report.only_in_base.empty() || !report.only_in_new.empty())
    out << fmt::format("; {} only in base, {} only in new", report.only_in_base.size(),
                       report.only_in_new.size());
  out << '\n';
  if (report.has_regression())
    out << fmt::format("REGRESSION: {} benchmark(s) significantly worse by {:.1f}% or more\n",
                       report.count(Verdict::kRegressed), 100.0 * options.min_effect);
  if (report.rows.empty())
    out << "NO DATA: no benchmark is present in both files; nothing was compared\n";
  else if (report.count(Verdict::kNoData) > 0)
    out << fmt::format(
        "NO DATA: {} benchmark(s) have no successful repetition to compare on a side\n",
        report.count(Verdict::kNoData));
  if (!report.has_regression() && !report.lacks_data())
    out << fmt::format("no significant regression of {:.1f}% or more\n",
                       100.0 * options.min_effect);
}

}  // namespace allocbench
