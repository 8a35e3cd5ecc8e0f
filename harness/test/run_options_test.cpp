#include "run_options.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "allocators.h"
#include "process.h"

namespace allocbench {
namespace {

using V = std::vector<unsigned>;

TEST(ThreadList, ListsAndRanges) {
  EXPECT_EQ(parse_thread_list("1,2,4"), (V{1, 2, 4}));
  EXPECT_EQ(parse_thread_list("4,1,4,2"), (V{1, 2, 4}));
  EXPECT_EQ(parse_thread_list("1..32"), (V{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(parse_thread_list("1..6"), (V{1, 2, 4, 6}));
  EXPECT_EQ(parse_thread_list("3..20"), (V{3, 6, 12, 20}));
  EXPECT_EQ(parse_thread_list("5..5"), (V{5}));
  EXPECT_EQ(parse_thread_list("1,3..12"), (V{1, 3, 6, 12}));
  EXPECT_EQ(parse_thread_list("1024"), (V{1024}));
}

void expect_refused(const std::string &text, const std::string &fragment) {
  try {
    parse_thread_list(text);
    ADD_FAILURE() << "accepted " << text;
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ThreadList, Refusals) {
  expect_refused("0", "0 threads");
  expect_refused("0..4", "0 threads");
  expect_refused("1025", "more than the limit 1024");
  expect_refused("1..2000", "more than the limit");
  expect_refused("8..2", "backwards");
  expect_refused("two", "not a number");
  expect_refused("1,,2", "empty item");
  expect_refused("", "empty item");
  expect_refused("-1", "not a number");
  expect_refused("99999999999999999999", "not a number");
}

TEST(Count, SuffixesAndRefusals) {
  EXPECT_EQ(parse_count("200000", "--ops"), 200000u);
  EXPECT_EQ(parse_count("50k", "--ops"), 50000u);
  EXPECT_EQ(parse_count("2M", "--ops"), 2000000u);
  EXPECT_EQ(parse_count("1G", "--ops"), 1000000000u);
  for (const char *bad : {"0", "", "k", "1.5M", "-3", "12x", "99999999999999999999G"})
    EXPECT_THROW(parse_count(bad, "--ops"), std::invalid_argument) << bad;
}

TEST(Duration, UnitsAndRefusals) {
  EXPECT_DOUBLE_EQ(parse_duration("2", "--duration"), 2.0);
  EXPECT_DOUBLE_EQ(parse_duration("2.5s", "--duration"), 2.5);
  EXPECT_DOUBLE_EQ(parse_duration("500ms", "--duration"), 0.5);
  EXPECT_DOUBLE_EQ(parse_duration("1m", "--duration"), 60.0);
  for (const char *bad : {"0", "", "s", "-1", "1h", "abc", "1e3", "nan"})
    EXPECT_THROW(parse_duration(bad, "--duration"), std::invalid_argument) << bad;
}

TEST(Param, KeyValue) {
  EXPECT_EQ(parse_param("group=4096"), (std::pair<std::string, std::string>{"group", "4096"}));
  EXPECT_EQ(parse_param("name="), (std::pair<std::string, std::string>{"name", ""}));
  EXPECT_EQ(parse_param("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
  EXPECT_THROW(parse_param("group"), std::invalid_argument);
  EXPECT_THROW(parse_param("=4"), std::invalid_argument);
}

TEST(Formats, Accepted) {
  EXPECT_EQ(parse_formats("csv"), std::vector<OutputFormat>{OutputFormat::kCsv});
  EXPECT_EQ(parse_formats("json,csv"),
            (std::vector<OutputFormat>{OutputFormat::kJson, OutputFormat::kCsv}));
  EXPECT_EQ(parse_formats("csv,csv").size(), 1u);
  EXPECT_THROW(parse_formats("xml"), std::invalid_argument);
  EXPECT_THROW(parse_formats("csv,"), std::invalid_argument);
}

TEST(AllocatorEntry, BuiltinsAndPaths) {
  AllocatorSpec glibc = parse_allocator_entry("glibc");
  EXPECT_EQ(glibc.name, "glibc");
  EXPECT_FALSE(glibc.preloaded());
  AllocatorSpec mine = parse_allocator_entry("mine=/opt/lib/libmine.so");
  EXPECT_EQ(mine.name, "mine");
  EXPECT_EQ(mine.library, "/opt/lib/libmine.so");
  EXPECT_EQ(mine.kind, "");
  // A built-in name with a path keeps that allocator's proof rules.
  AllocatorSpec je = parse_allocator_entry("jemalloc=/opt/je/libjemalloc.so");
  EXPECT_EQ(je.kind, "jemalloc");
  EXPECT_THROW(parse_allocator_entry("hoard"), std::invalid_argument);
  EXPECT_THROW(parse_allocator_entry("x="), std::invalid_argument);
  EXPECT_THROW(parse_allocator_entry("=/lib.so"), std::invalid_argument);
  EXPECT_THROW(parse_allocator_entry("a b=/lib.so"), std::invalid_argument);
  EXPECT_THROW(parse_allocator_entry("glibc=/lib/libc.so.6"), std::invalid_argument);
}

TEST(SharedLibraryCheck, Refusals) {
  EXPECT_EQ(check_shared_library("/nonexistent/libx.so"), "does not exist");
  EXPECT_EQ(check_shared_library("/"), "is not a regular file");
  const std::string text_file = ::testing::TempDir() + "/allocbench_not_elf.txt";
  std::ofstream(text_file) << "not a library, just text\n";
  EXPECT_EQ(check_shared_library(text_file).rfind("is not an ELF", 0), 0u);
  EXPECT_EQ(check_shared_library(system_libc_path()), "");
}

TEST(SplitList, Items) {
  EXPECT_EQ(split_list("a,b", "x"), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(split_list("a,,b", "x"), std::invalid_argument);
}

TEST(CpuList, ListsRangesAndRefusals) {
  EXPECT_EQ(parse_cpu_list("1"), (std::vector<unsigned>{1}));
  EXPECT_EQ(parse_cpu_list("3,0-2,2"), (std::vector<unsigned>{0, 1, 2, 3}));
  for (const char *bad : {"", "x", "1-", "-1", "3-1", "1,,2", "1.5", "99999"})
    EXPECT_THROW(parse_cpu_list(bad), std::invalid_argument) << bad;
}

TEST(CpuList, ARunOnOneCpuStaysThereAndSoDoItsChildren) {
  // In a child process, so that this test's own process keeps its CPUs.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    run_on_cpus({0});
    const pid_t grandchild = ::fork();  // a child started afterwards inherits the set
    if (grandchild == 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      const bool only_cpu0 = ::sched_getaffinity(0, sizeof set, &set) == 0 &&
                             CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set);
      ::_exit(only_cpu0 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(grandchild, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THROW(run_on_cpus({CPU_SETSIZE - 1}), std::invalid_argument);
}

}  // namespace
}  // namespace allocbench
