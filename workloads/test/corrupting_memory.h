// Allocation interfaces that break the rules, to prove that the workloads' checks fail.
#pragma once

#include "allocbench/workload.h"

namespace allocbench::testing {

// Every `every`-th allocating call (malloc, calloc, realloc) of more than one page returns
// memory whose pages all map the same physical page: the object overlaps itself, so
// writing its pattern overwrites its own first page. Everything else is the system's.
const MemoryApi &aliasing_memory(unsigned every);
// How many aliased objects aliasing_memory() has handed out so far.
unsigned aliased_objects();

// calloc that every `every`-th call returns memory that is not zeroed.
const MemoryApi &dirty_calloc_memory(unsigned every);

}  // namespace allocbench::testing
