#include "result_reader.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "result_writer.h"

namespace allocbench {

ResultSet read_results_json(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("{}: cannot read", path));
  return parse_results_json(buffer.str(), path);
}

ResultSet parse_results_json(std::string_view text, const std::string &path) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  try {
    return result_set_from_json(json);
  } catch (const std::exception &e) {
    throw std::runtime_error(fmt::format("{}: not an allocbench result file: {}", path, e.what()));
  }
}

namespace {

// A CSV field that must be empty (not measured) or a finite number >= 0; nullopt when empty.
std::optional<double> csv_number(const std::string &field, const std::string &column,
                                 const std::string &where) {
  if (field.empty()) return std::nullopt;
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(field, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != field.size() || !std::isfinite(v) || v < 0.0)
    throw std::runtime_error(
        fmt::format("{}: {} is '{}', not a finite number >= 0", where, column, field));
  return v;
}

}  // namespace

CsvTable read_results_csv(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("{}: cannot read", path));
  return parse_results_csv(buffer.str(), path);
}

CsvTable parse_results_csv(std::string_view text, const std::string &path) {
  // Records may hold quoted newlines (error messages), so split on unquoted ones.
  std::vector<std::string> records;
  std::string current;
  bool quoted = false;
  for (char c : text) {
    if (c == '\0') throw std::runtime_error(fmt::format("{}: binary data, not CSV", path));
    if (c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) {
      if (!current.empty() && current.back() == '\r') current.pop_back();
      records.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (quoted) throw std::runtime_error(fmt::format("{}: a quoted field is not closed", path));
  if (!current.empty()) records.push_back(std::move(current));
  if (records.empty()) throw std::runtime_error(fmt::format("{}: empty", path));
  CsvTable table;
  table.header = csv_split(records[0]);
  if (table.header != csv_columns())
    throw std::runtime_error(fmt::format("{}: header is not the allocbench CSV header", path));
  const std::vector<std::string> &columns = csv_columns();
  auto column = [&](const char *name) {
    return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) -
                                    columns.begin());
  };
  const std::size_t status_at = column("status"), threads_at = column("threads"),
                    repetition_at = column("repetition"), first_metric = column("ops"),
                    last_metric = column("lat_max_ns");
  for (std::size_t i = 1; i < records.size(); ++i) {
    auto fields = csv_split(records[i]);
    const std::string where = fmt::format("{}: record {}", path, i);
    if (fields.size() != table.header.size())
      throw std::runtime_error(fmt::format("{} has {} fields, the header {}", where, fields.size(),
                                           table.header.size()));
    const std::string &status = fields[status_at];
    if (status != "ok" && status != "failed")
      throw std::runtime_error(
          fmt::format("{}: status '{}' (accepted: ok, failed)", where, status));
    for (std::size_t c : {threads_at, repetition_at}) {
      const std::optional<double> v = csv_number(fields[c], columns[c], where);
      if (!v || *v != std::floor(*v) || (c == threads_at && *v < 1))
        throw std::runtime_error(
            fmt::format("{}: {} is '{}', not a count", where, columns[c], fields[c]));
    }
    for (std::size_t c = first_metric; c <= last_metric; ++c) {
      const std::optional<double> v = csv_number(fields[c], columns[c], where);
      // A successful repetition did work: its operations, time and throughput are positive.
      if (status == "ok" && v && *v == 0.0 &&
          (columns[c] == "ops" || columns[c] == "wall_s" || columns[c] == "ops_per_s"))
        throw std::runtime_error(fmt::format("{}: an ok run with {} 0", where, columns[c]));
    }
    table.rows.push_back(std::move(fields));
  }
  return table;
}

}  // namespace allocbench
