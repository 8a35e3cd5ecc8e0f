#include "allocator_selection.h"

#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "child_runner.h"
#include "context.h"
#include "process.h"
#include "run_options.h"

namespace allocbench {

namespace {

constexpr double kProbeTimeoutS = 30.0;

}  // namespace

AllocatorInfo unproven_info(const AllocatorSpec &spec) {
  AllocatorInfo info = allocator_info(spec.name);
  info.library = spec.preloaded() ? spec.library : system_libc_path();
  info.available = true;
  return info;
}

void probe_allocator(const std::string &exe, const AllocatorSpec &spec, AllocatorInfo &info) {
  ChildRequest request;
  request.allocator = spec;
  const ChildOutcome outcome = run_child(exe, request, kProbeTimeoutS);
  if (outcome.status == ChildOutcome::Status::kOk && outcome.proof) {
    info.available = true;
    info.version = outcome.proof->version;
    info.library = outcome.proof->malloc_from;
    return;
  }
  info.available = false;
  info.version.reset();
  info.reason = outcome.error.empty() ? "the probe failed" : outcome.error;
}

AllocatorSelection select_allocators(const std::string &text, const std::string &probe_exe) {
  AllocatorSelection r;
  const bool explicit_list = !text.empty() && text != "all";
  std::vector<AllocatorSpec> wanted;
  if (explicit_list) {
    std::set<std::string> names;
    for (const std::string &entry : split_list(text, "--allocator")) {
      AllocatorSpec spec;
      try {
        spec = parse_allocator_entry(entry);
      } catch (const std::invalid_argument &e) {
        throw std::invalid_argument(fmt::format("--allocator: {}", e.what()));
      }
      if (!names.insert(spec.name).second)
        throw std::invalid_argument(fmt::format("--allocator: '{}' is given twice", spec.name));
      wanted.push_back(std::move(spec));
    }
  } else {
    for (const std::string &name : builtin_allocator_names()) wanted.push_back({name, "", name});
  }
  const std::string exe_dir = self_directory();
  for (AllocatorSpec &spec : wanted) {
    ResolvedAllocator resolved = resolve_allocator(spec, exe_dir);
    if (!resolved.bad_library.empty())
      throw std::invalid_argument(
          fmt::format("--allocator: library {} of '{}' {} (accepted: a loadable "
                      "shared library, NAME=/path/to/lib.so)",
                      spec.library, spec.name, resolved.bad_library));
    if (!resolved.spec) {
      if (explicit_list)
        throw std::invalid_argument(
            fmt::format("--allocator: '{}' is not installed: {} (see "
                        "--list-allocators)",
                        spec.name, resolved.not_installed));
      AllocatorInfo missing = allocator_info(spec.name);
      missing.reason = resolved.not_installed;
      r.infos.push_back(std::move(missing));
      r.skipped.push_back(fmt::format("{}: {}", spec.name, resolved.not_installed));
      continue;
    }
    spec = std::move(*resolved.spec);
    AllocatorInfo info = unproven_info(spec);
    if (!probe_exe.empty()) {
      probe_allocator(probe_exe, spec, info);
      if (interrupt_requested()) {
        r.interrupted = true;
        return r;
      }
      if (!info.available) {
        if (explicit_list)
          throw std::invalid_argument(
              fmt::format("--allocator: '{}' refused: {}", spec.name, info.reason));
        r.skipped.push_back(fmt::format("{}: {}", spec.name, info.reason));
        r.infos.push_back(std::move(info));
        continue;
      }
    }
    r.infos.push_back(std::move(info));
    r.specs.push_back(std::move(spec));
  }
  return r;
}

}  // namespace allocbench
