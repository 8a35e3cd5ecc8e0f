// The regression-tracking commands of allocbench (registrars for main.cpp's table):
//
//   allocbench compare BASE NEW   Mann-Whitney U verdicts per benchmark; exit 1 on a
//                                 significant regression beyond --min-effect
//   allocbench export             result file -> github-action-benchmark, Bencher BMF,
//                                 Google Benchmark JSON
//   allocbench micro              Google Benchmark microbenchmarks of single calls, run per
//                                 allocator under its preload, merged into the result files
#pragma once

#include "commands.h"

namespace allocbench {

void register_compare_command(CLI::App &app, CommandAction &action);
void register_export_command(CLI::App &app, CommandAction &action);
void register_micro_command(CLI::App &app, CommandAction &action);

}  // namespace allocbench
