#include "console.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "micro_job.h"
#include "program_job.h"

namespace allocbench {

Console::Console(std::FILE *table, std::FILE *progress)
    : table_(table), progress_(progress), progress_is_tty_(::isatty(::fileno(progress)) == 1) {}

std::string Console::human_count(double v) {
  if (!std::isfinite(v)) return "-";
  const char *units[] = {"", "k", "M", "G", "T"};
  int u = 0;
  // 999.6k would print as "1e+03k": move up a unit before rounding does.
  while (std::fabs(v) >= 999.5 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}{}", v, units[u]);
}

std::string Console::human_kib(double kib) {
  if (!std::isfinite(kib)) return "-";
  if (kib < 1024.0) return fmt::format("{:.0f} KiB", kib);
  if (kib < 1024.0 * 1024.0) return fmt::format("{:.1f} MiB", kib / 1024.0);
  return fmt::format("{:.2f} GiB", kib / (1024.0 * 1024.0));
}

std::string Console::human_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long total = std::lround(s);
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

void Console::clear_progress() {
  if (progress_pending_) {
    std::fputs("\r\033[K", progress_);
    std::fflush(progress_);
    progress_pending_ = false;
  }
}

void Console::progress(std::size_t index, std::size_t total, const std::string &what,
                       double eta_s) {
  const std::string eta = eta_s < 0 ? std::string() : " ... ETA " + human_duration(eta_s);
  const std::string line = fmt::format("[{}/{}] {}{}", index, total, what, eta);
  if (progress_is_tty_) {
    fmt::print(progress_, "\r\033[K{}", line);
    progress_pending_ = true;
  } else {
    fmt::print(progress_, "{}\n", line);
  }
  std::fflush(progress_);
}

void Console::failure(const std::string &what, const std::string &reason) {
  note(fmt::format("FAILED {}: {}", what, reason));
}

void Console::note(const std::string &line) {
  clear_progress();
  fmt::print(progress_, "{}\n", line);
  std::fflush(progress_);
}

namespace {

// A workload's name; a microbenchmark's or a program's own (they are all workload `micro`
// or `program`).
std::string row_name(const BenchmarkId &id) {
  const char *key = id.workload == kMicroWorkload     ? "bench"
                    : id.workload == kProgramWorkload ? "name"
                                                      : nullptr;
  if (key)
    for (const auto &[name, value] : id.params)
      if (name == key) return value;
  return id.workload;
}

}  // namespace

void Console::rows(const std::vector<Summary> &summaries, const std::vector<std::string> &notes) {
  clear_progress();
  // Widths fit the usual names; a longer one shifts its row, nothing is cut.
  constexpr const char *kRow = "{:<18} {:>4} {:<10} {:>9} {:>6} {:>21} {:>11} {:>8} {:>5}  {}\n";
  if (!header_printed_) {
    fmt::print(table_, kRow, "workload", "thr", "allocator", "ops/s", "cv", "95% CI of mean",
               "peak RSS", "RSS/live", "ok", "");
    header_printed_ = true;
  }
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    const Summary &s = summaries[i];
    // A program has no operation count: its figure is its wall time (smaller is better).
    const MetricStats *ops = s.find("ops_per_s");
    const MetricStats *wall = ops ? nullptr : s.find("wall_s");
    const auto figure = [&](double v) { return wall ? fmt::format("{:.3g}s", v) : human_count(v); };
    if (wall) ops = wall;
    const MetricStats *rss = s.find("peak_rss_kib");
    const MetricStats *eff = s.find("mem_efficiency");
    fmt::print(
        table_, kRow, row_name(s.id), s.id.threads, s.allocator, ops ? figure(ops->median) : "-",
        ops && s.n > 1 ? fmt::format("{:.1f}%", ops->cv * 100.0) : "-",
        ops && s.n > 1 ? fmt::format("{}..{}", figure(ops->ci95_low), figure(ops->ci95_high)) : "-",
        rss ? human_kib(rss->median) : "-", eff ? fmt::format("{:.2f}", eff->median) : "-",
        fmt::format("{}/{}", s.n, s.n + s.failed), i < notes.size() ? notes[i] : "");
  }
  std::fflush(table_);
}

}  // namespace allocbench
