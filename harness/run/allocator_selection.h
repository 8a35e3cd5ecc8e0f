// The allocators of one command (a run of the suite, `allocbench micro`), from the
// --allocator option: parsed, found on this machine and, for a run, probed; shared by
// every command that runs allocators.
#pragma once

#include <string>
#include <vector>

#include "allocators.h"
#include "results.h"

namespace allocbench {

struct AllocatorSelection {
  std::vector<AllocatorSpec> specs;  // the allocators to run, in order
  std::vector<AllocatorInfo> infos;  // every allocator considered, for the context
  std::vector<std::string> skipped;  // "tcmalloc: libtcmalloc_minimal.so.4 not found"
  bool interrupted = false;          // a probe was interrupted: the selection is partial
};

// `text` is --allocator's value: built-in names and NAME=/path/to/lib.so entries, or
// empty or "all" for every built-in allocator. An allocator of the default list that is
// not installed (or fails its probe) is skipped and said in `skipped`; in a list given
// explicitly, that, a name given twice or a library that cannot be loaded throws
// std::invalid_argument naming it and what is accepted. With `probe_exe` (the allocbench
// executable) set, each allocator is probed first: the proof of a run without a workload,
// which gives its version for the context.
AllocatorSelection select_allocators(const std::string &text, const std::string &probe_exe);

// The context's record of an allocator that can run (its library), before any proof.
AllocatorInfo unproven_info(const AllocatorSpec &spec);

// Runs a probe child of `exe`: the proof without a workload. Fills in the version and the
// library that served malloc, or why the allocator is not available.
void probe_allocator(const std::string &exe, const AllocatorSpec &spec, AllocatorInfo &info);

}  // namespace allocbench
