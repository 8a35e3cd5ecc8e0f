// Reading, resolving and summarising allocation traces (the format of FORMAT.md).
//
// read_trace() decodes a file into events in the program's global order; resolve()
// turns addresses into object identities and each call into a replayable operation;
// summarize() computes the figures `allocbench-trace summary` prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "allocbench/trace_format.h"

namespace allocbench::trace {

using format::Call;

struct Event {
  std::uint64_t seq = 0;        // global order of the call
  std::uint64_t seq_after = 0;  // realloc: order of its result (taken after the call)
  std::uint64_t time_ns = 0;    // after the start of recording
  std::uint32_t thread = 0;     // dense thread index
  Call call = Call::kMalloc;
  std::uint64_t count = 1;        // calloc, reallocarray: element count
  std::uint64_t size = 0;         // bytes (per element for calloc and reallocarray)
  std::uint64_t alignment = 0;    // aligned calls
  std::uint64_t address = 0;      // result; free: the freed pointer
  std::uint64_t old_address = 0;  // realloc, reallocarray: the pointer passed in

  std::uint64_t bytes() const { return count * size; }
};

struct ThreadInfo {
  std::uint32_t index = 0;
  std::uint32_t tid = 0;
  std::uint64_t events = 0;
};

struct Trace {
  std::uint32_t pid = 0;
  std::uint32_t parent_pid = 0;
  std::uint64_t start_realtime_ns = 0;
  std::vector<Event> events;        // sorted by seq
  std::vector<ThreadInfo> threads;  // indexed by thread index
  // The file has its end record (the program exited normally) and nothing after it was
  // cut short. An incomplete trace lost the events its process still held when it died.
  bool complete = true;
  std::uint64_t dropped_bytes = 0;  // of a chunk cut short at the end
};

// Reads a trace file. Throws std::runtime_error naming the file and the problem when it
// is missing, truncated in a header, or not a trace. A chunk cut short at the end of the
// file (a program killed while writing) is dropped with its events, as documented, and
// the trace is marked incomplete, as is a file without its end record.
Trace read_trace(const std::string &path);
Trace parse_trace(const std::uint8_t *data, std::size_t size, const std::string &name);

// Writes events as a trace file in one chunk per thread (for tools and tests; the
// recorder writes the same format itself), with an end record when trace.complete.
// Events must carry increasing seq per thread.
void write_trace(const std::string &path, const Trace &trace);

inline constexpr std::uint32_t kNoObject = 0xffffffffu;

// One replayable call: objects are dense ids, in the order of their creation.
struct Op {
  Call call = Call::kMalloc;
  std::uint32_t thread = 0;
  std::uint32_t object = kNoObject;      // the object created (allocating calls, realloc)
  std::uint32_t old_object = kNoObject;  // the object freed or reallocated
  std::uint64_t size = 0;                // bytes requested (count * size for calloc)
  std::uint64_t alignment = 0;
  std::uint64_t time_ns = 0;  // when it was recorded
};

struct ResolvedTrace {
  std::vector<Op> ops;  // in global order
  std::uint32_t objects = 0;
  std::uint32_t threads = 0;
  std::vector<std::uint32_t> object_thread;  // the thread that created each object
  // Calls left out of ops, and why.
  std::uint64_t failed_calls = 0;     // the allocation returned NULL: nothing to replay
  std::uint64_t untracked_frees = 0;  // freed pointers the trace never saw allocated
  std::uint64_t null_frees = 0;       // free(NULL): kept in ops as a free of no object
  std::uint64_t lost_frees = 0;       // an address reused without a recorded free
  std::uint64_t live_at_end = 0;      // objects never freed
  std::uint64_t peak_live_bytes = 0;  // requested bytes, in the global order
  std::uint64_t peak_live_objects = 0;
};

ResolvedTrace resolve(const Trace &trace);

struct Summary {
  std::uint64_t calls[format::kMaxCall + 1] = {};
  std::uint64_t events = 0;
  double duration_s = 0;
  bool complete = true;  // Trace::complete
  std::uint64_t dropped_bytes = 0;
  std::vector<ThreadInfo> threads;
  // Power-of-two buckets of requested size: bucket b counts sizes in [2^(b-1), 2^b),
  // bucket 0 counts size 0.
  std::vector<std::uint64_t> size_buckets;
  // Power-of-two buckets of object lifetimes in calls of the whole program between the
  // allocation and the free, and in nanoseconds.
  std::vector<std::uint64_t> lifetime_call_buckets;
  std::vector<std::uint64_t> lifetime_ns_buckets;
  std::uint64_t cross_thread_frees = 0;
  std::uint64_t total_requested_bytes = 0;
  ResolvedTrace resolved;  // for the counters of left-out calls and the peaks
};

Summary summarize(const Trace &trace);
void print_summary(std::ostream &out, const std::string &name, const Summary &summary);

// Requested sizes with their counts, most frequent first (allocating calls and realloc).
std::vector<std::pair<std::uint64_t, std::uint64_t>> size_counts(const Trace &trace);

// Where the shipped traces live: $ALLOCBENCH_TRACE_DIR when set, else the source tree's
// workloads/traces. A name without '/' is looked up there as NAME.abt.
std::string shipped_trace_dir();
std::string find_trace(const std::string &name_or_path);

// What is wrong with a trace named on a command line, found as find_trace() finds it,
// without reading its events: it does not exist, is not a regular readable file, or does
// not start with a trace header of this version. Empty when it looks like a trace.
std::string check_trace_file(const std::string &name_or_path);

}  // namespace allocbench::trace
