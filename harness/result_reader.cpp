#include "result_reader.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "result_writer.h"

namespace allocbench {

ResultSet read_results_json(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  Json json;
  try {
    json = Json::parse(in);
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  try {
    return result_set_from_json(json);
  } catch (const std::exception &e) {
    throw std::runtime_error(fmt::format("{}: not an allocbench result file: {}", path, e.what()));
  }
}

CsvTable read_results_csv(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  // Records may hold quoted newlines (error messages), so split on unquoted ones.
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> records;
  std::string current;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) {
      if (!current.empty() && current.back() == '\r') current.pop_back();
      records.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) records.push_back(std::move(current));
  if (records.empty()) throw std::runtime_error(fmt::format("{}: empty", path));
  CsvTable table;
  table.header = csv_split(records[0]);
  if (table.header != csv_columns())
    throw std::runtime_error(fmt::format("{}: header is not the allocbench CSV header", path));
  for (std::size_t i = 1; i < records.size(); ++i) {
    auto fields = csv_split(records[i]);
    if (fields.size() != table.header.size())
      throw std::runtime_error(fmt::format("{}: record {} has {} fields, the header {}", path, i,
                                           fields.size(), table.header.size()));
    table.rows.push_back(std::move(fields));
  }
  return table;
}

}  // namespace allocbench
