// The allocator catalogue: which allocators the harness knows, where their libraries
// are, and how a user names another one (NAME=/path/to/lib.so).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace allocbench {

// An allocator as a run uses it.
struct AllocatorSpec {
  std::string name;  // "glibc", "fio", ..., or a user's name
  // The library to preload; empty for glibc (the system malloc, nothing preloaded).
  std::string library;
  // The built-in allocator whose proof rules apply (its version call must be exported by
  // the library serving malloc), or empty for a user's allocator under its own name.
  std::string kind;

  bool preloaded() const { return !library.empty(); }
};

// Built-in allocators, in the order they are listed and run.
const std::vector<std::string> &builtin_allocator_names();
bool is_builtin_allocator(const std::string &name);

// The result of looking a built-in allocator up on this machine.
struct LocatedAllocator {
  std::optional<AllocatorSpec> spec;  // set when found
  std::string reason;                 // why not, when not found
};

// Finds a built-in allocator's library. `exe_dir` is the directory of the allocbench
// executable (the fio shim is looked for relative to it in the build tree).
// Environment: ALLOCBENCH_FIO_LIB names the fio shim explicitly.
LocatedAllocator locate_builtin_allocator(const std::string &name, const std::string &exe_dir);

// Searches a library file name the way the dynamic loader does for a preload by
// soname: LD_LIBRARY_PATH, the directories of /etc/ld.so.conf (and its includes), then
// the system's default directories. Returns the absolute path of the first match.
std::optional<std::string> find_library(const std::string &file_name);

// Checks that `path` is a loadable 64-bit ELF shared object for this machine. Returns
// an empty string when it is, otherwise why not ("does not exist", "is not an ELF file"...).
std::string check_shared_library(const std::string &path);

// The file the system's C library was loaded from (libc.so.6).
std::string system_libc_path();

// How one allocator of a list stands on this machine before it runs: a built-in given
// without a library is looked up (locate_builtin_allocator); a NAME=/path library is
// checked (check_shared_library) and its path made absolute. `spec` is set when it can
// run; otherwise `not_installed` (a built-in that was not found) or `bad_library` (a
// named library that cannot be loaded) says why.
struct ResolvedAllocator {
  std::optional<AllocatorSpec> spec;
  std::string not_installed;
  std::string bad_library;
};
ResolvedAllocator resolve_allocator(const AllocatorSpec &spec, const std::string &exe_dir);

// Parses one --allocator entry: a built-in name or NAME=/path/to/lib.so. Throws
// std::invalid_argument with a message saying what is accepted. Does not check that
// the library exists (see check_shared_library).
AllocatorSpec parse_allocator_entry(const std::string &entry);

}  // namespace allocbench
