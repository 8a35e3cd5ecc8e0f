// libFuzzer target: the results.json reader (harness/RESULTS.md). Any input is either
// refused with std::runtime_error or read into values the rest of allocbench can use:
// what was read writes out and reads back to the same document.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "result_reader.h"
#include "results.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  allocbench::ResultSet set;
  try {
    set = allocbench::parse_results_json(text, "fuzz.json");
  } catch (const std::runtime_error &) {
    return 0;
  }
  const std::string again = allocbench::to_json(set).dump();
  const allocbench::ResultSet reread = allocbench::parse_results_json(again, "again.json");
  if (allocbench::to_json(reread).dump() != again) __builtin_trap();
  return 0;
}
