// The context block of a result file: what machine, build and allocators produced it.
#pragma once

#include <string>
#include <vector>

#include "results.h"

namespace allocbench {

// The project's version and the revision it was built from (embedded by the build).
const char *allocbench_version();
const char *allocbench_git_revision();
const char *allocbench_build_type();

// An allocator of the context: its name and, for a built-in one, how the charts draw it
// (its catalogue entry's colour and marker); the caller fills in the rest.
AllocatorInfo allocator_info(const std::string &name);

// Date (now, UTC), host, CPU, kernel, compiler, build, revision and the command line;
// `allocators` is copied in as given.
Context collect_context(const std::string &command_line, std::vector<AllocatorInfo> allocators);

// "2026-11-27T10:00:00Z" for now.
std::string utc_timestamp();

// The command line, shell-quoted where needed, as one string.
std::string join_command_line(int argc, char **argv);

// The command line of this process, recorded by main for the context block.
void set_command_line(std::string command_line);
const std::string &command_line();

}  // namespace allocbench
