// The commands of the allocbench executable. Each command lives in its own file and
// exposes one registrar: it adds its options (the run command to the root app, the
// others as subcommands) and, when the command line selects it, stores what to execute
// in `action`. main.cpp holds the table of registrars; adding a command is one line there.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace CLI {
class App;
}

namespace allocbench {

using CommandAction = std::function<int()>;
using CommandRegistrar = void (*)(CLI::App &app, CommandAction &action);

// Exit statuses shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailedRuns = 1;     // the suite completed, some runs failed
inline constexpr int kExitUsage = 2;          // bad arguments: nothing was run or written
inline constexpr int kExitNoData = 3;         // compare: a verdict would rest on no data
inline constexpr int kExitOutputError = 4;    // an output could not be written (OutputError)
inline constexpr int kExitInterrupted = 130;  // SIGINT, SIGTERM or SIGHUP

// Bad input. main prints "allocbench: error: <what>" on one line and exits kExitUsage.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The default command: run workloads against allocators (run_command.cpp).
void register_run_command(CLI::App &app, CommandAction &action);
void register_suite_command(CLI::App &app, CommandAction &action);

}  // namespace allocbench
