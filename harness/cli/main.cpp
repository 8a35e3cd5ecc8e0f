// allocbench: runs allocation workloads against allocators, each run in its own process.
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "child.h"
#include "commands.h"
#include "context.h"
#include "output_file.h"
#include "regression_commands.h"

namespace {

// Every command of the executable. A new command adds its registrar here.
constexpr allocbench::CommandRegistrar kCommands[] = {
    allocbench::register_run_command,     allocbench::register_suite_command,
    allocbench::register_compare_command, allocbench::register_export_command,
    allocbench::register_micro_command,
};

}  // namespace

int main(int argc, char **argv) {
  // The hidden child mode comes first: a child must not depend on the CLI's parsing.
  if (argc >= 2 && std::strcmp(argv[1], allocbench::kChildModeArg) == 0)
    return allocbench::child_main(argc, argv);

  allocbench::set_command_line(allocbench::join_command_line(argc, argv));
  CLI::App app{
      "allocbench: allocation workloads against memory allocators, each run in a "
      "fresh process with the allocator preloaded and proven.",
      "allocbench"};
  allocbench::CommandAction action;
  for (const allocbench::CommandRegistrar registrar : kCommands) registrar(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::fprintf(stderr, "allocbench: error: %s (see allocbench --help)\n", e.what());
    return allocbench::kExitUsage;
  } catch (const allocbench::UsageError &e) {
    std::fprintf(stderr, "allocbench: error: %s\n", e.what());
    return allocbench::kExitUsage;
  }
  if (!action) {
    std::fputs(app.help().c_str(), stdout);
    return allocbench::kExitUsage;
  }
  try {
    const int status = action();
    // What the command printed must have reached stdout whole.
    allocbench::finish_stdout();
    return status;
  } catch (const allocbench::OutputError &e) {
    std::fprintf(stderr, "allocbench: error: %s\n", e.what());
    return allocbench::kExitOutputError;
  } catch (const allocbench::UsageError &e) {
    std::fprintf(stderr, "allocbench: error: %s\n", e.what());
    return allocbench::kExitUsage;
  } catch (const std::invalid_argument &e) {
    // The core's word for bad input (an unusable --out, say): the commands' UsageError.
    std::fprintf(stderr, "allocbench: error: %s\n", e.what());
    return allocbench::kExitUsage;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "allocbench: error: %s\n", e.what());
    return 1;
  }
}
