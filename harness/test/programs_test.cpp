// The program catalogue: program files read and checked, a user's command line split as a
// shell splits words, executables found on PATH.
#include "programs.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "process.h"

namespace allocbench {
namespace {

namespace fs = std::filesystem;

TEST(CommandLine, SplitAsAShellSplitsWords) {
  EXPECT_EQ(split_command_line("./myapp --flag"), (std::vector<std::string>{"./myapp", "--flag"}));
  EXPECT_EQ(split_command_line("  sh -c 'echo a  b' \"x \\\"y\\\"\" z\\ w "),
            (std::vector<std::string>{"sh", "-c", "echo a  b", "x \"y\"", "z w"}));
  EXPECT_EQ(split_command_line("a ''"), (std::vector<std::string>{"a", ""}));
  EXPECT_THROW(split_command_line("sh -c 'echo"), std::invalid_argument);
  EXPECT_THROW(split_command_line("   "), std::invalid_argument);
}

TEST(CommandLine, ExecutablesAreFoundOnPath) {
  const auto sh = find_executable("sh");
  ASSERT_TRUE(sh.has_value());
  EXPECT_EQ(sh->front(), '/');
  EXPECT_EQ(::access(sh->c_str(), X_OK), 0);
  EXPECT_FALSE(find_executable("no-such-program-anywhere").has_value());
  EXPECT_FALSE(find_executable("/no/such/file").has_value());
}

class ProgramFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("allocbench_programs_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ::setenv("ALLOCBENCH_PROGRAMS_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("ALLOCBENCH_PROGRAMS_DIR");
    fs::remove_all(dir_);
  }
  void write(const std::string &name, const std::string &text) {
    std::ofstream(dir_ / (name + ".json")) << text;
  }
  fs::path dir_;
};

TEST_F(ProgramFiles, AProgramIsItsFile) {
  write("tiny", R"json({"name": "tiny", "description": "a shell", "command": ["sh", "{dir}/x.sh"],
                    "requires": ["sh"], "packages": ["dash"], "output": "compare",
                    "throughput": {"pattern": "rate: ([0-9.]+)", "metric": "rate"}})json");
  write("absent", R"json({"name": "absent", "description": "d", "command": ["no-such-tool"],
                      "requires": ["no-such-tool"], "packages": ["nothing"], "output": "ignore"})json");
  const std::vector<ProgramDef> programs = builtin_programs();
  ASSERT_EQ(programs.size(), 2u);
  EXPECT_EQ(programs[0].name, "absent");  // in name order
  EXPECT_FALSE(programs[0].compare_output);
  const auto missing = program_missing(programs[0]);
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->find("apt-get install nothing"), std::string::npos) << *missing;
  const ProgramDef &tiny = programs[1];
  EXPECT_EQ(tiny.command, (std::vector<std::string>{"sh", dir_.string() + "/x.sh"}));
  EXPECT_TRUE(tiny.compare_output);
  EXPECT_EQ(tiny.throughput_metric, "rate");
  EXPECT_FALSE(program_missing(tiny).has_value());
}

TEST_F(ProgramFiles, ABadFileIsRefusedByName) {
  const auto refused = [&](const std::string &text, const std::string &fragment) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write("p", text);
    try {
      builtin_programs();
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error &e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("p.json"), std::string::npos) << e.what();
    }
  };
  refused("not json", "not JSON");
  refused(R"json({"name": "q", "description": "d", "command": ["sh"], "output": "compare"})json",
          "not the file's name");
  refused(R"json({"name": "p", "description": "d", "command": [], "output": "compare"})json",
          "\"command\" is empty");
  refused(R"json({"name": "p", "description": "d", "command": ["sh"], "output": "maybe"})json",
          "accepted: compare, ignore");
  refused(R"json({"name": "p", "description": "d", "command": ["sh"], "output": "ignore",
              "throughput": {"pattern": "rate [0-9]+", "metric": "rate"}})json",
          "no capture group");
  refused(R"json({"name": "p", "command": ["sh"], "output": "ignore"})json", "\"description\"");
}

}  // namespace
}  // namespace allocbench
