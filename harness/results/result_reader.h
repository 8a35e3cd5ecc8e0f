// Reading result files back (for `compare`, exports and tests).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "results.h"

namespace allocbench {

// Parses a results.json. Throws std::runtime_error naming the file and what is wrong
// (unreadable, not JSON, wrong schema_version, a missing key, a key of the wrong type, a
// measurement that is negative or not finite).
ResultSet read_results_json(const std::string &path);
// The same on the text of a file; `path` names it in messages.
ResultSet parse_results_json(std::string_view text, const std::string &path);

// Parses a results.csv into its header and rows of fields. Throws std::runtime_error
// when the file is unreadable or its header is not the one RESULTS.md defines.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
// Every record has the header's fields, a status of ok or failed, counts for threads and
// repetition, and measurements that are empty or finite numbers >= 0 (positive ops,
// wall_s and ops_per_s when ok).
CsvTable read_results_csv(const std::string &path);
// The same on the text of a file; `path` names it in messages.
CsvTable parse_results_csv(std::string_view text, const std::string &path);

}  // namespace allocbench
