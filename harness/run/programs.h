// The catalogue of program benchmarks: real programs run unmodified under each allocator.
// A built-in program is a file, workloads/programs/NAME.json (format in that folder's
// README.md), found at run time; adding one is adding its file. A user's own command is a
// program too, defined on the command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace allocbench {

struct ProgramDef {
  std::string name;
  std::string description;
  std::vector<std::string> command;  // argv, {dir} already replaced
  std::vector<std::string> requires_executables;
  std::vector<std::string> packages;  // Debian packages that provide them
  bool compare_output = true;         // stdout must be the same under every allocator
  std::string throughput_pattern;     // a regex whose first group is the program's own rate
  std::string throughput_metric;      // its name in the run's extra figures
  bool user = false;                  // given on the command line, not a built-in file
};

// The folder of the built-in programs: $ALLOCBENCH_PROGRAMS_DIR, else programs/ next to
// a bundle's bin/, else the source tree's workloads/programs.
std::string programs_directory();

// Every built-in program, by name. Throws std::runtime_error naming the file and the
// field when a file is not a valid program.
std::vector<ProgramDef> builtin_programs();

// Why `program` cannot run on this machine (an executable it requires is not on PATH),
// or nothing.
std::optional<std::string> program_missing(const ProgramDef &program);

// A user's command line ("./myapp --flag 'two words'"), split as a POSIX shell splits
// words (quotes and backslashes; no expansions). Throws std::invalid_argument on an
// unterminated quote or an empty command.
std::vector<std::string> split_command_line(const std::string &text);

}  // namespace allocbench
