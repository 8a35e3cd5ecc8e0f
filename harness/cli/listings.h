// The listings of the run command, as text or JSON (`--format=json`, for scripts: the
// keys are the contract, harness/README.md).
#pragma once

#include <string>

namespace allocbench {

// --list: the workloads with their parameters, and the named size tables.
int list_workloads(bool as_json);

// --list-allocators: every built-in allocator, found or not, and each NAME=/path entry of
// `allocators` (--allocator's value), probed by a child of `exe`.
int list_allocators(const std::string &allocators, const std::string &exe, bool as_json);

}  // namespace allocbench
