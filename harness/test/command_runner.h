// Runs allocbench's regression commands in-process the way main.cpp does (same parsing,
// same error lines, same exit statuses), capturing what they print.
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "output_file.h"
#include "regression_commands.h"

namespace allocbench {

struct CommandResult {
  int status = -1;
  std::string out, err;
};

inline CommandResult run_allocbench(std::vector<std::string> args) {
  args.insert(args.begin(), "allocbench");
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  CLI::App app{"allocbench", "allocbench"};
  CommandAction action;
  register_compare_command(app, action);
  register_export_command(app, action);
  register_micro_command(app, action);
  CommandResult result;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    result.status = action ? action() : kExitUsage;
  } catch (const CLI::CallForHelp &) {
    std::cout << app.help();
    result.status = kExitOk;
  } catch (const CLI::ParseError &e) {
    std::cerr << "allocbench: error: " << e.what() << " (see allocbench --help)\n";
    result.status = kExitUsage;
  } catch (const UsageError &e) {
    std::cerr << "allocbench: error: " << e.what() << "\n";
    result.status = kExitUsage;
  } catch (const OutputError &e) {
    std::cerr << "allocbench: error: " << e.what() << "\n";
    result.status = kExitOutputError;
  }
  std::cout.flush();
  result.out = testing::internal::GetCapturedStdout();
  result.err = testing::internal::GetCapturedStderr();
  return result;
}

}  // namespace allocbench
