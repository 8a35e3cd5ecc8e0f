// The suite recipes: the named series of allocbench commands that the scripts used to
// spell in shell (the default suite of run_all.sh, the matrix of results/fio-speed-*, the
// CI regression check), as data. `allocbench suite NAME` runs one (suite_command.cpp).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace allocbench {

// One allocbench command of a recipe. Its arguments may hold {PARAM} placeholders; an
// argument that expands to nothing is dropped, and a --threads list is sorted and its
// duplicates removed (1,2,{cores} on a 2-core machine is 1,2).
struct SuiteStep {
  std::string name;
  std::vector<std::string> args;
  std::string subdir;  // its --out under the suite's directory ("" : the directory itself)
  std::string log;     // a file under the suite's directory for its output ("": the console)
  // Run only when every earlier step exited 0 or 1 (all ran, some runs may have failed).
  bool after_success = false;
};

struct SuiteRecipe {
  std::string name;
  std::string description;
  // Parameters and their defaults, which may use {cores}, {2cores} and {lastcpu} (the
  // highest CPU number, cores - 1); --set overrides.
  std::vector<std::pair<std::string, std::string>> params;
  std::map<std::string, std::string> quick;  // the parameters --quick changes
  std::vector<SuiteStep> steps;
};

const std::vector<SuiteRecipe> &suite_recipes();
const SuiteRecipe *find_suite_recipe(const std::string &name);

// The arguments of `step` with the parameters' values (`values`: name -> value after
// --quick and --set, before {cores} is expanded) on a machine of `cores` CPUs.
std::vector<std::string> expand_step(const SuiteStep &step,
                                     const std::map<std::string, std::string> &values,
                                     unsigned cores);

}  // namespace allocbench
