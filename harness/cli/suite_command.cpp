// `allocbench suite NAME`: runs a recipe of run/suite_recipes.cpp, each of its steps an
// allocbench command in a process of its own (the run engine, process.h), into one
// directory.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "context.h"
#include "output_dir.h"
#include "output_file.h"
#include "process.h"
#include "suite_recipes.h"

namespace allocbench {

namespace {

struct SuiteArgs {
  std::string name;
  std::string out;
  bool quick = false;
  bool dry_run = false;
  std::vector<std::string> sets;   // KEY=VALUE
  std::vector<std::string> extra;  // after --: appended to every step
};

std::string recipe_names() {
  std::string names;
  for (const SuiteRecipe &r : suite_recipes()) names += (names.empty() ? "" : ", ") + r.name;
  return names;
}

int run_suite_recipe(const SuiteArgs &args) {
  const SuiteRecipe *recipe = find_suite_recipe(args.name);
  if (!recipe)
    throw UsageError(fmt::format("unknown suite '{}' (accepted: {})", args.name, recipe_names()));
  std::map<std::string, std::string> values(recipe->params.begin(), recipe->params.end());
  if (args.quick)
    for (const auto &[name, value] : recipe->quick) values[name] = value;
  for (const std::string &set : args.sets) {
    const auto eq = set.find('=');
    const std::string name = set.substr(0, eq);
    if (eq == std::string::npos || !values.count(name)) {
      std::string accepted;
      for (const auto &[known, value] : recipe->params)
        accepted += fmt::format("{}{}={}", accepted.empty() ? "" : ", ", known, value);
      throw UsageError(fmt::format("--set: '{}' is not a parameter of suite {} (accepted: {})", set,
                                   recipe->name, accepted.empty() ? "none" : accepted));
    }
    values[name] = set.substr(eq + 1);
  }
  if (args.out.empty()) throw UsageError("suite: --out is required (the suite's directory)");
  std::string out = args.out;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  const unsigned cores = online > 0 ? static_cast<unsigned>(online) : 1;

  std::vector<std::vector<std::string>> commands;
  for (const SuiteStep &step : recipe->steps) {
    std::vector<std::string> command = expand_step(step, values, cores);
    command.insert(command.end(), args.extra.begin(), args.extra.end());
    command.push_back("--out=" + (step.subdir.empty() ? out : out + "/" + step.subdir));
    commands.push_back(std::move(command));
  }
  const std::string exe = self_executable();
  if (args.dry_run) {
    for (const std::vector<std::string> &command : commands) {
      std::vector<std::string> line = {exe};
      line.insert(line.end(), command.begin(), command.end());
      std::vector<char *> argv;
      for (std::string &a : line) argv.push_back(a.data());
      fmt::print("{}\n", join_command_line(static_cast<int>(argv.size()), argv.data()));
    }
    return kExitOk;
  }

  install_interrupt_handlers();
  make_output_directory(out);
  int status = kExitOk;
  for (std::size_t i = 0; i < recipe->steps.size(); ++i) {
    const SuiteStep &step = recipe->steps[i];
    if (step.after_success && status > kExitFailedRuns) {
      std::cerr << fmt::format("allocbench suite: {} skipped (an earlier step exited {})\n",
                               step.name, status);
      continue;
    }
    std::cerr << fmt::format("allocbench suite {}: {} ({}/{})\n", recipe->name, step.name, i + 1,
                             recipe->steps.size());
    ProcessRequest request;
    request.exe = exe;
    request.args = commands[i];
    request.inherit_stdio = step.log.empty();
    if (!step.log.empty()) request.outputs = {{{1, 2}, 0}};
    const ProcessOutcome done = run_process(request);
    if (!done.started()) throw std::runtime_error(done.start_error);
    if (!step.log.empty()) replace_file(out + "/" + step.log, done.outputs[0]);
    if (done.interrupted) return kExitInterrupted;
    int step_status = 1;
    if (const std::string why = done.failure(0); !why.empty())
      std::cerr << fmt::format("allocbench suite: {} {}\n", step.name, why);
    else
      step_status = WEXITSTATUS(done.wait_status);
    if (step_status != kExitOk)
      std::cerr << fmt::format("allocbench suite: {} exited {}{}\n", step.name, step_status,
                               step.log.empty() ? "" : " (see " + out + "/" + step.log + ")");
    // The suite's status: the first that is worse than some failed runs, else the worst.
    if (status <= kExitFailedRuns) status = std::max(status, step_status);
  }
  return status;
}

}  // namespace

void register_suite_command(CLI::App &app, CommandAction &action) {
  std::string recipes;
  for (const SuiteRecipe &r : suite_recipes())
    recipes += fmt::format("\n  {:<9} {}", r.name, r.description);
  CLI::App *cmd = app.add_subcommand(
      "suite",
      "Run a named suite: a recipe of allocbench commands (harness/run/suite_recipes.cpp), "
      "each "
      "in a process of its own, into one directory. Exit status: the first step's that is "
      "worse than 1, else the worst (0 every run ok, 1 some runs failed).");
  cmd->footer("Suites:" + recipes +
              "\n\nExamples:\n"
              "  allocbench suite default --out=results/today\n"
              "  allocbench suite default --quick --out=out -- --allocator=glibc,fio\n"
              "  allocbench suite matrix --set threads=1,2,4 --out=matrix-out\n"
              "  allocbench suite ci --dry-run --out=out     # the commands, not run");
  auto args = std::make_shared<SuiteArgs>();
  cmd->add_option("NAME", args->name, "the suite: " + recipe_names())->required();
  cmd->add_option("--out", args->out, "the suite's directory (each step writes in it)")
      ->type_name("DIR");
  cmd->add_flag("--quick", args->quick, "the recipe's quick scale (a smoke run)");
  cmd->add_option("--set", args->sets, "a parameter of the recipe, repeatable")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--dry-run", args->dry_run, "print the commands instead of running them");
  cmd->add_option("ARGS", args->extra, "after --: more allocbench arguments for every step");
  cmd->callback([args, &action] { action = [args] { return run_suite_recipe(*args); }; });
}

}  // namespace allocbench
