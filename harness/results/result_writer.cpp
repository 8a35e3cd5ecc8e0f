#include "result_writer.h"

#include <cerrno>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "metrics.h"
#include "output_file.h"

namespace allocbench {

const std::vector<std::string> &csv_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c = {"benchmark", "workload",   "params", "size", "allocator",
                                  "threads",   "repetition", "status", "error"};
    c.insert(c.end(), run_metric_names().begin(), run_metric_names().end());
    c.insert(c.end(), latency_metric_names().begin(), latency_metric_names().end());
    for (const char *name : {"allocator_version", "allocator_library"}) c.push_back(name);
    return c;
  }();
  return columns;
}

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::vector<std::string> csv_split(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::string csv_header_line() {
  std::string line;
  for (const std::string &c : csv_columns()) line += (line.empty() ? "" : ",") + c;
  return line + '\n';
}

namespace {

template <typename T>
std::string num(const std::optional<T> &v) {
  return v ? fmt::format("{}", *v) : std::string();
}

}  // namespace

std::string csv_row(const RunRecord &r) {
  const RunMetrics &m = r.metrics;
  const std::optional<LatencySummary> &l = r.latency_ns;
  auto lat = [&](double LatencySummary::*field) {
    return l ? fmt::format("{}", (*l).*field) : std::string();
  };
  const std::vector<std::string> fields = {r.id.key(),
                                           r.id.workload,
                                           r.id.params_text(),
                                           r.id.size,
                                           r.allocator,
                                           fmt::format("{}", r.id.threads),
                                           fmt::format("{}", r.repetition),
                                           r.ok ? "ok" : "failed",
                                           r.ok ? std::string() : r.error,
                                           num(m.ops),
                                           num(m.allocs),
                                           num(m.frees),
                                           num(m.wall_s),
                                           num(m.ops_per_s),
                                           num(m.user_s),
                                           num(m.sys_s),
                                           num(m.peak_rss_kib),
                                           num(m.minor_faults),
                                           num(m.major_faults),
                                           num(m.vol_ctx_switches),
                                           num(m.invol_ctx_switches),
                                           num(m.peak_live_bytes),
                                           num(m.mem_efficiency),
                                           lat(&LatencySummary::p50),
                                           lat(&LatencySummary::p99),
                                           lat(&LatencySummary::p999),
                                           lat(&LatencySummary::max),
                                           r.proof ? r.proof->version : std::string(),
                                           r.proof ? r.proof->malloc_from : std::string()};
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    line += csv_escape(fields[i]);
  }
  return line + '\n';
}

void write_json_file(const std::string &path, const ResultSet &results) {
  ResultSet complete = results;
  complete.summaries = summarize(results.runs);
  replace_file(path, to_json(complete).dump(2) + '\n');
}

ResultFiles::ResultFiles(std::string dir, std::vector<OutputFormat> formats, Context context)
    : ResultFiles(std::move(dir), std::move(formats), [&] {
        ResultSet empty;
        empty.context = std::move(context);
        return empty;
      }()) {}

ResultFiles::ResultFiles(std::string dir, std::vector<OutputFormat> formats, ResultSet initial)
    : dir_(std::move(dir)), results_(std::move(initial)) {
  for (OutputFormat f : formats) (f == OutputFormat::kCsv ? csv_ : json_) = true;
  if (csv_) {
    // The earlier runs replace the file whole (a new file, then rename): an interruption
    // leaves either the old file or the new one.
    const std::string path = csv_path(dir_);
    std::string text = csv_header_line();
    for (const RunRecord &run : results_.runs) text += csv_row(run);
    replace_file(path, text);
    csv_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (csv_fd_ < 0)
      throw OutputError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    csv_size_ = static_cast<off_t>(text.size());
  }
  rewrite_json();
}

ResultFiles::~ResultFiles() {
  if (csv_fd_ >= 0) ::close(csv_fd_);
}

void ResultFiles::append_csv(const std::string &text) {
  const std::string path = csv_path(dir_);
  try {
    write_all_or_throw(csv_fd_, text, path);
  } catch (const OutputError &) {
    // A row cut short by a full disk is taken back: the file ends with whole rows.
    if (::ftruncate(csv_fd_, csv_size_) == 0) ::lseek(csv_fd_, csv_size_, SEEK_SET);
    throw;
  }
  csv_size_ += static_cast<off_t>(text.size());
}

void ResultFiles::add(RunRecord run) {
  if (csv_) append_csv(csv_row(run));
  results_.runs.push_back(std::move(run));
  rewrite_json();
}

void ResultFiles::set_context(Context context) {
  results_.context = std::move(context);
  rewrite_json();
}

void ResultFiles::rewrite_json() {
  if (json_) write_json_file(json_path(dir_), results_);
}

std::vector<std::string> ResultFiles::paths() const {
  std::vector<std::string> p;
  if (csv_) p.push_back(csv_path(dir_));
  if (json_) p.push_back(json_path(dir_));
  return p;
}

}  // namespace allocbench
