// The trace format, its resolution into objects, the recorder on a program with a known
// sequence of calls, and the replay of what it recorded.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "allocbench/trace.h"
#include "allocbench/workload.h"

#ifndef ABTRACE_RECORDER
#error "ABTRACE_RECORDER must name libabtrace.so"
#endif
#ifndef ABTRACE_TEST_PROGRAM
#error "ABTRACE_TEST_PROGRAM must name trace_test_program"
#endif
#ifndef ABTRACE_TOOL
#error "ABTRACE_TOOL must name allocbench-trace"
#endif

namespace allocbench::trace {
namespace {

namespace fs = std::filesystem;

Event ev(std::uint64_t seq, std::uint32_t thread, Call call, std::uint64_t size,
         std::uint64_t address, std::uint64_t old_address = 0) {
  Event e;
  e.seq = seq;
  e.seq_after = seq;
  e.time_ns = seq * 10;
  e.thread = thread;
  e.call = call;
  e.size = size;
  e.address = address;
  e.old_address = old_address;
  return e;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "abtrace-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path &path() const { return path_; }

 private:
  fs::path path_;
};

TEST(TraceFormat, VarintAndZigzagRoundTrip) {
  const std::uint64_t unsigned_values[] = {
      0, 1, 127, 128, 300, std::uint64_t{1} << 35, ~std::uint64_t{0}};
  for (std::uint64_t v : unsigned_values) {
    std::uint8_t buf[10];
    std::uint8_t *end = format::put_varint(buf, v);
    std::uint64_t decoded = 0;
    int shift = 0;
    for (std::uint8_t *p = buf; p < end; ++p, shift += 7) {
      decoded |= static_cast<std::uint64_t>(*p & 0x7f) << shift;
    }
    EXPECT_EQ(decoded, v);
  }
  const std::int64_t values[] = {0, 1, -1, 1000, -123456789, INT64_MIN, INT64_MAX};
  for (std::int64_t v : values) {
    EXPECT_EQ(format::unzigzag(format::zigzag(v)), v);
  }
  EXPECT_EQ(format::zigzag(-1), 1u);
  EXPECT_EQ(format::zigzag(1), 2u);
}

TEST(TraceFormat, WriteThenReadGivesTheSameEvents) {
  Trace t;
  t.pid = 42;
  t.threads = {{0, 100, 0}, {1, 101, 0}};
  t.events = {ev(1, 0, Call::kMalloc, 24, 0x7f0000001000),
              ev(2, 1, Call::kCalloc, 8, 0x7f0000002000),
              ev(4, 0, Call::kRealloc, 100, 0x7f0000003000, 0x7f0000001000),
              ev(6, 1, Call::kFree, 0, 0x7f0000003000),
              ev(7, 0, Call::kAlignedAlloc, 128, 0x7f0000004000),
              ev(8, 0, Call::kFree, 0, 0)};
  t.events[1].count = 3;
  t.events[2].seq_after = 5;
  t.events[4].alignment = 64;
  TempDir dir;
  const std::string path = (dir.path() / "t.abt").string();
  write_trace(path, t);
  const Trace r = read_trace(path);
  EXPECT_EQ(r.pid, 42u);
  ASSERT_EQ(r.events.size(), t.events.size());
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r.events[i].seq, t.events[i].seq);
    EXPECT_EQ(r.events[i].thread, t.events[i].thread);
    EXPECT_EQ(r.events[i].call, t.events[i].call);
    EXPECT_EQ(r.events[i].size, t.events[i].size);
    EXPECT_EQ(r.events[i].count, t.events[i].count);
    EXPECT_EQ(r.events[i].address, t.events[i].address);
    EXPECT_EQ(r.events[i].old_address, t.events[i].old_address);
    EXPECT_EQ(r.events[i].time_ns, t.events[i].time_ns);
  }
  EXPECT_EQ(r.events[2].seq_after, 5u);
  EXPECT_EQ(r.events[4].alignment, 64u);
  ASSERT_EQ(r.threads.size(), 2u);
  EXPECT_EQ(r.threads[1].tid, 101u);
  EXPECT_EQ(r.threads[1].events, 2u);
}

TEST(TraceFormat, BadFilesGiveClearErrors) {
  TempDir dir;
  const std::string path = (dir.path() / "bad.abt").string();
  {
    std::FILE *f = std::fopen(path.c_str(), "wb");
    std::fputs("this is not a trace file, but it is long enough to hold a header.....", f);
    std::fclose(f);
  }
  try {
    read_trace(path);
    FAIL() << "no error";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("not an allocation trace"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_trace((dir.path() / "missing.abt").string()), std::runtime_error);
  EXPECT_THROW(find_trace("no-such-shipped-trace"), std::invalid_argument);
}

TEST(TraceResolve, AddressesBecomeObjects) {
  Trace t;
  t.threads.resize(2);
  Event grow = ev(3, 0, Call::kRealloc, 64, 0xB000, 0xA000);
  grow.seq_after = 5;
  Event failed = ev(9, 0, Call::kMalloc, 1 << 30, 0);
  Event shrink_to_zero = ev(10, 1, Call::kRealloc, 0, 0, 0xA000);
  shrink_to_zero.seq_after = 11;
  t.events = {
      ev(1, 0, Call::kMalloc, 16, 0xA000),
      ev(2, 0, Call::kMalloc, 32, 0xC000),
      grow,                                 // 0xA000 -> 0xB000 (released at 3, new at 5)
      ev(4, 1, Call::kMalloc, 16, 0xA000),  // reuses 0xA000 between the realloc's halves
      ev(6, 1, Call::kFree, 0, 0xC000),     // cross-thread free
      ev(7, 0, Call::kFree, 0, 0xD000),     // never allocated: untracked
      ev(8, 0, Call::kFree, 0, 0),          // free(NULL)
      failed,
      shrink_to_zero,  // frees the object at 0xA000
  };
  const ResolvedTrace r = resolve(t);
  EXPECT_EQ(r.objects, 4u);
  EXPECT_EQ(r.untracked_frees, 1u);
  EXPECT_EQ(r.failed_calls, 1u);
  EXPECT_EQ(r.null_frees, 1u);
  EXPECT_EQ(r.lost_frees, 0u);
  EXPECT_EQ(r.live_at_end, 1u);  // the realloc'd object at 0xB000
  ASSERT_EQ(r.ops.size(), 7u);   // untracked free and failed malloc left out
  EXPECT_EQ(r.ops[2].call, Call::kRealloc);
  EXPECT_EQ(r.ops[2].old_object, r.ops[0].object);
  EXPECT_EQ(r.ops[2].object, 2u);  // ids follow the order of the ops
  EXPECT_EQ(r.ops[3].object, 3u);
  EXPECT_EQ(r.ops[4].old_object, r.ops[1].object);
  EXPECT_EQ(r.ops[4].thread, 1u);
  EXPECT_EQ(r.ops[6].old_object, r.ops[3].object);
  EXPECT_EQ(r.ops[6].object, kNoObject);
  EXPECT_EQ(r.peak_live_bytes, 16u + 32u + 64u);
  EXPECT_EQ(r.object_thread[r.ops[3].object], 1u);
}

// Runs the test program under the recorder; returns the traces it wrote by file name.
std::vector<Trace> record_test_program(const TempDir &dir) {
  const std::string command = "ABTRACE_FILE='" + (dir.path() / "t.%p.abt").string() +
                              "' LD_PRELOAD='" ABTRACE_RECORDER "' '" ABTRACE_TEST_PROGRAM "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::vector<Trace> traces;
  for (const auto &entry : fs::directory_iterator(dir.path())) {
    traces.push_back(read_trace(entry.path().string()));
  }
  return traces;
}

std::vector<Event> marked(const Trace &t) {
  std::vector<Event> out;
  for (const Event &e : t.events) {
    if (e.size >= 1001 && e.size <= 1008) out.push_back(e);
  }
  return out;
}

TEST(TraceRecorder, RecordsAKnownProgramAndItsForkChild) {
  TempDir dir;
  const std::vector<Trace> traces = record_test_program(dir);
  ASSERT_EQ(traces.size(), 2u) << "one trace for the program and one for its fork child";
  const Trace &parent = traces[0].parent_pid == 0 ? traces[0] : traces[1];
  const Trace &child = traces[0].parent_pid == 0 ? traces[1] : traces[0];
  EXPECT_EQ(child.parent_pid, parent.pid);

  const std::vector<Event> mine = marked(parent);
  ASSERT_EQ(mine.size(), 6u + 10u);
  EXPECT_EQ(mine[0].call, Call::kMalloc);
  EXPECT_EQ(mine[0].size, 1001u);
  EXPECT_EQ(mine[1].call, Call::kCalloc);
  EXPECT_EQ(mine[1].count, 7u);
  EXPECT_EQ(mine[1].size, 1002u);
  EXPECT_EQ(mine[2].call, Call::kRealloc);
  EXPECT_EQ(mine[2].old_address, mine[0].address);
  EXPECT_GT(mine[2].seq_after, mine[2].seq);
  EXPECT_EQ(mine[3].call, Call::kAlignedAlloc);
  EXPECT_EQ(mine[3].alignment, 64u);
  EXPECT_EQ(mine[3].address % 64, 0u);
  EXPECT_EQ(mine[4].call, Call::kPosixMemalign);
  EXPECT_EQ(mine[4].alignment, 256u);
  EXPECT_EQ(mine[5].call, Call::kMemalign);
  for (int i = 6; i < 16; ++i) {
    EXPECT_EQ(mine[i].size, 1007u);
    EXPECT_NE(mine[i].thread, mine[0].thread) << "allocated by the second thread";
  }
  for (const Event &e : mine) EXPECT_NE(e.address, 0u);
  EXPECT_GE(parent.threads.size(), 2u);
  EXPECT_TRUE(marked(child).size() == 1 && marked(child)[0].size == 1008u);

  // Each of the program's objects is freed once, the thread's objects by the main thread.
  // Both exited normally: their files end with the end record.
  EXPECT_TRUE(parent.complete);
  EXPECT_TRUE(child.complete);
  const Summary s = summarize(parent);
  EXPECT_GE(s.cross_thread_frees, 10u);
  EXPECT_GE(s.resolved.null_frees, 1u);
  EXPECT_EQ(s.resolved.failed_calls, 0u);
  const ResolvedTrace &r = s.resolved;
  std::map<std::uint32_t, int> frees;
  for (const Op &op : r.ops) {
    if (op.call == Call::kFree && op.old_object != kNoObject) ++frees[op.old_object];
  }
  for (const Op &op : r.ops) {
    const bool program_object = (op.size >= 1003 && op.size <= 1007) || op.size == 1002 * 7;
    if (op.object != kNoObject && program_object) {
      EXPECT_EQ(frees[op.object], 1) << "object of " << op.size << " bytes";
    }
  }
  std::ostringstream text;
  print_summary(text, "parent", s);
  EXPECT_NE(text.str().find("cross-thread frees"), std::string::npos);
  EXPECT_NE(text.str().find("size histogram"), std::string::npos);
}

TEST(TraceRecorder, ReplayOfTheRecordingMakesTheSameCalls) {
  TempDir dir;
  const std::vector<Trace> traces = record_test_program(dir);
  ASSERT_EQ(traces.size(), 2u);
  std::string parent_path;
  for (const auto &entry : fs::directory_iterator(dir.path())) {
    if (read_trace(entry.path().string()).parent_pid == 0) parent_path = entry.path().string();
  }
  const ResolvedTrace r = resolve(read_trace(parent_path));
  std::uint64_t allocating = 0, frees = 0;
  for (const Op &op : r.ops) {
    if (op.object != kNoObject) {
      ++allocating;
    } else if (op.old_object != kNoObject) {
      ++frees;  // free(NULL) is not replayed
    }
  }

  const Workload *w = WorkloadRegistry::instance().find("trace-replay");
  ASSERT_NE(w, nullptr);
  for (unsigned threads : {1u, 2u, 3u}) {
    SCOPED_TRACE(threads);
    RunConfig config;
    config.threads = threads;
    config.params = w->bind({{"trace", parent_path}});
    const WorkloadResult result = w->run(config);
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.allocs, allocating);
    // The replay also frees what the program left live at its end.
    EXPECT_EQ(result.frees, frees + r.live_at_end);
    EXPECT_EQ(result.extra.at("passes"), 1.0);
    EXPECT_EQ(result.extra.at("trace_threads"), static_cast<double>(r.threads));
  }
}

// A file without its end record, or cut short, is incomplete, and trace-replay refuses to
// pass a part of a program off as the whole: the run fails and says why.
TEST(TraceFormat, TruncatedTraceIsIncompleteAndReplayFails) {
  TempDir dir;
  Trace t;
  t.threads = {{0, 100, 0}};
  for (std::uint64_t i = 0; i < 200; ++i) {
    t.events.push_back(ev(2 * i + 1, 0, Call::kMalloc, 64, 0x7f0000001000 + 0x100 * i));
    t.events.push_back(ev(2 * i + 2, 0, Call::kFree, 0, 0x7f0000001000 + 0x100 * i));
  }
  const std::string whole = (dir.path() / "whole.abt").string();
  write_trace(whole, t);
  EXPECT_TRUE(read_trace(whole).complete);
  const std::string cut = (dir.path() / "cut.abt").string();
  fs::copy_file(whole, cut);
  fs::resize_file(cut, fs::file_size(whole) - 9);  // the end record lost, and a byte more
  const Trace partial = read_trace(cut);
  EXPECT_FALSE(partial.complete);
  std::ostringstream text;
  print_summary(text, "cut", summarize(partial));
  EXPECT_NE(text.str().find("complete         NO"), std::string::npos) << text.str();

  const Workload *w = WorkloadRegistry::instance().find("trace-replay");
  ASSERT_NE(w, nullptr);
  RunConfig config;
  config.params = w->bind({{"trace", cut}});
  const WorkloadResult result = w->run(config);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("is incomplete"), std::string::npos) << result.error;
  config.params = w->bind({{"trace", whole}});
  const WorkloadResult good = w->run(config);
  EXPECT_TRUE(good.ok) << good.error;
  EXPECT_EQ(good.extra.at("trace_events"), 400.0);
  EXPECT_EQ(good.extra.at("trace_ops_replayed"), 400.0);
  // The shipped traces are complete recordings.
  for (const char *shipped : {"python", "gcc"})
    EXPECT_TRUE(read_trace(find_trace(shipped)).complete);
}

// Recording a program that aborts: the tool says the trace is incomplete and exits with
// the program's status, instead of keeping an empty trace without a word.
TEST(TraceRecorder, AbortedProgramLeavesAnIncompleteTraceAndAWarning) {
  TempDir dir;
  const std::string err = (dir.path() / "err.txt").string();
  const std::string command = "'" ABTRACE_TOOL "' record -o '" +
                              (dir.path() / "t.%p.abt").string() +
                              "' -- '" ABTRACE_TEST_PROGRAM "' abort 2>'" + err + "'";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << command;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGABRT);
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("warning"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("is incomplete"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("SIGABRT"), std::string::npos) << text.str();
  int traces = 0;
  for (const auto &entry : fs::directory_iterator(dir.path())) {
    if (entry.path().extension() != ".abt") continue;
    ++traces;
    EXPECT_FALSE(read_trace(entry.path().string()).complete);
  }
  EXPECT_EQ(traces, 1);
}

}  // namespace
}  // namespace allocbench::trace
