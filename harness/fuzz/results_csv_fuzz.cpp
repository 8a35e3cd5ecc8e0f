// libFuzzer target: the results.csv reader (harness/RESULTS.md). Any input is either
// refused with std::runtime_error or read into records of exactly the header's fields.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "result_reader.h"
#include "result_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    const allocbench::CsvTable table = allocbench::parse_results_csv(text, "fuzz.csv");
    for (const auto &row : table.rows)
      if (row.size() != allocbench::csv_columns().size()) __builtin_trap();
  } catch (const std::runtime_error &) {
  }
  return 0;
}
