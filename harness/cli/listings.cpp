// The listings of the run command: --list (the workloads) and --list-allocators (the
// allocators, probed), as text for people or JSON for scripts.
#include "listings.h"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "allocator_catalogue.h"
#include "allocator_selection.h"
#include "allocbench/workload.h"
#include "commands.h"
#include "process.h"
#include "programs.h"
#include "results.h"
#include "run_options.h"

namespace allocbench {

namespace {

const char *type_name(ParamSpec::Type t) {
  switch (t) {
    case ParamSpec::Type::kInt:
      return "int";
    case ParamSpec::Type::kDouble:
      return "number";
    case ParamSpec::Type::kBool:
      return "bool";
    case ParamSpec::Type::kString:
      return "text";
  }
  return "?";
}

void print_json(const Json &json) {
  fmt::print("{}\n", json.dump(2));
}

// One allocator of --list-allocators in JSON: how it stands here, and its catalogue
// entry (null for a user's allocator).
Json listing_entry(const AllocatorSpec &spec, const AllocatorInfo &info, const std::string &why) {
  Json j = {{"name", spec.name},
            {"available", info.available},
            {"version", info.available && info.version ? Json(*info.version) : Json()},
            {"library", info.available && info.library ? Json(*info.library) : Json()},
            {"reason", info.available ? Json() : Json(why)},
            {"catalogue", Json()}};
  if (const CatalogueEntry *entry = find_catalogue_entry(spec.name);
      entry && spec.kind == spec.name)
    j["catalogue"] = {{"sonames", entry->sonames}, {"version_call", entry->version_call},
                      {"package", entry->package}, {"colour", entry->colour},
                      {"marker", entry->marker},   {"library_env", entry->built_here.library_env}};
  return j;
}

}  // namespace

int list_workloads(bool as_json) {
  const auto workloads = WorkloadRegistry::instance().all();
  const auto tables = SizeDistribution::table_names();
  std::vector<ProgramDef> programs;
  try {
    programs = builtin_programs();
  } catch (const std::runtime_error &e) {
    throw UsageError(fmt::format("the built-in programs: {}", e.what()));
  }
  if (as_json) {
    Json listing = {
        {"workloads", Json::array()}, {"size_tables", Json::array()}, {"programs", Json::array()}};
    for (const ProgramDef &p : programs) {
      const auto missing = program_missing(p);
      listing["programs"].push_back(
          {{"name", p.name},
           {"description", p.description},
           {"command", p.command},
           {"available", !missing},
           {"reason", missing ? Json(*missing) : Json(nullptr)},
           {"packages", p.packages},
           {"output", p.compare_output ? "compare" : "ignore"},
           {"throughput_metric",
            p.throughput_metric.empty() ? Json(nullptr) : Json(p.throughput_metric)}});
    }
    for (const Workload *w : workloads) {
      Json params = Json::array();
      for (const ParamSpec &p : w->params())
        params.push_back({{"name", p.name},
                          {"type", type_name(p.type)},
                          {"unit", p.unit},
                          {"default", p.default_value},
                          {"description", p.description}});
      listing["workloads"].push_back({{"name", w->name()},
                                      {"description", w->description()},
                                      {"default_size", w->default_size()},
                                      {"default_ops", w->default_ops()},
                                      {"params", std::move(params)}});
    }
    for (const auto &[name, description] : tables)
      listing["size_tables"].push_back({{"name", name}, {"description", description}});
    print_json(listing);
    return kExitOk;
  }
  fmt::print("Workloads ({}), each run with --workload=NAME:\n", workloads.size());
  for (const Workload *w : workloads) {
    fmt::print("\n  {}\n      {}\n      default size {}, default ops {}\n", w->name(),
               w->description(), w->default_size(), w->default_ops());
    for (const ParamSpec &p : w->params()) {
      std::string kind = type_name(p.type);
      if (!p.unit.empty()) kind += ", " + p.unit;
      fmt::print("      --param {:<22} ({}) {}\n", fmt::format("{}={}", p.name, p.default_value),
                 kind, p.description);
    }
  }
  fmt::print("\nSizes (--size): a fixed size in bytes (64), a uniform range (16..512)");
  if (tables.empty()) {
    fmt::print(".\n");
  } else {
    fmt::print(", or a named table:\n");
    for (const auto &[name, description] : tables) fmt::print("  {:<20} {}\n", name, description);
  }
  fmt::print("\nPrograms ({}), each run unmodified with --program=NAME (files in {}):\n",
             programs.size(), programs_directory());
  for (const ProgramDef &p : programs) {
    const auto missing = program_missing(p);
    fmt::print("  {:<16} {}{}\n", p.name, p.description,
               missing ? fmt::format(" [not installed: {}]", *missing) : "");
  }
  fmt::print("Your own: --program-cmd='CMD ARGS' [--program-name=NAME].\n");
  return kExitOk;
}

int list_allocators(const std::string &allocators, const std::string &exe, bool as_json) {
  // Every built-in, found or not, plus any named on the command line.
  std::vector<std::string> entries = builtin_allocator_names();
  if (!allocators.empty() && allocators != "all")
    for (const std::string &e : split_list(allocators, "--allocator"))
      if (e.find('=') != std::string::npos) entries.push_back(e);
  Json listing = Json::array();
  if (!as_json)
    fmt::print("{:<10} {:<10} {:<28} {}\n", "allocator", "available", "version", "library");
  for (const std::string &entry : entries) {
    AllocatorSpec spec;
    try {
      spec = parse_allocator_entry(entry);
    } catch (const std::invalid_argument &e) {
      throw UsageError(fmt::format("--allocator: {}", e.what()));
    }
    AllocatorInfo info;
    info.name = spec.name;
    std::string why;
    if (spec.library.empty() && spec.name != "glibc") {
      LocatedAllocator located = locate_builtin_allocator(spec.name, self_directory());
      if (located.spec)
        spec = *located.spec;
      else
        why = located.reason;
    } else if (spec.preloaded()) {
      why = check_shared_library(spec.library);
      if (!why.empty()) why = spec.library + " " + why;
    }
    if (why.empty()) {
      info = unproven_info(spec);
      probe_allocator(exe, spec, info);
      why = info.reason;
    }
    if (as_json)
      listing.push_back(listing_entry(spec, info, why));
    else
      fmt::print("{:<10} {:<10} {:<28} {}\n", spec.name, info.available ? "yes" : "no",
                 info.version.value_or("-"), info.available ? info.library.value_or("-") : why);
  }
  if (as_json) print_json({{"allocators", std::move(listing)}});
  return kExitOk;
}

}  // namespace allocbench
