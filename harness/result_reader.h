// Reading result files back (for `compare`, exports and tests).
#pragma once

#include <string>
#include <vector>

#include "results.h"

namespace allocbench {

// Parses a results.json. Throws std::runtime_error naming the file and what is wrong
// (unreadable, not JSON, wrong schema_version, missing key).
ResultSet read_results_json(const std::string &path);

// Parses a results.csv into its header and rows of fields. Throws std::runtime_error
// when the file is unreadable or its header is not the one RESULTS.md defines.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
CsvTable read_results_csv(const std::string &path);

}  // namespace allocbench
