// libFuzzer target: the trace reader (workloads/trace/FORMAT.md). Any input is either
// refused with an exception naming the problem, or read into events that resolve into
// replayable operations and summarise without fault.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "allocbench/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  allocbench::trace::Trace trace;
  try {
    trace = allocbench::trace::parse_trace(data, size, "fuzz.abt");
  } catch (const std::exception &) {
    return 0;
  }
  const allocbench::trace::Summary summary = allocbench::trace::summarize(trace);
  if (summary.events != trace.events.size()) __builtin_trap();
  for (const allocbench::trace::Op &op : summary.resolved.ops)
    if (op.object != allocbench::trace::kNoObject && op.object >= summary.resolved.objects)
      __builtin_trap();
  return 0;
}
