// Output directories of the commands that write result files (run, micro).
#pragma once

#include <string>
#include <string_view>

namespace allocbench {

// Creates `dir` and its missing parents. Throws std::invalid_argument ("--out: ...", bad
// input to the commands) naming the part that cannot be created, or when `dir` is not a
// writable directory.
void make_output_directory(const std::string &dir);

// Checks, without creating anything, that `dir` exists as a writable directory or can be
// created: its nearest existing ancestor must be a writable directory. Throws
// std::invalid_argument ("--out: ...") otherwise.
void check_output_directory(const std::string &dir);

// A directory that does not exist yet: allocbench-results/<prefix><YYYYmmdd-HHMMSS>, with
// "-2", "-3" ... appended when that name is taken.
std::string default_output_directory(std::string_view prefix = "");

}  // namespace allocbench
