// The catalogue of built-in allocators: the one table that says, per allocator, where
// its library is, how a child proves that library served it, which Debian package
// ships it and how the charts draw it. Everything else (the CLI's help and listings,
// the proof, the context of a result file, the scripts through
// `allocbench --list-allocators --format=json`) derives from it: adding an allocator is
// adding one entry to allocator_catalogue.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace allocbench {

// The library a child is proving, as it is loaded in the child's process.
class LoadedLibrary {
 public:
  virtual ~LoadedLibrary() = default;
  // The symbol `name` defined by the library itself (not by one of its dependencies),
  // or null.
  virtual void *own_symbol(const char *name) const = 0;
  // The rest of the line of text that starts with `prefix` in the loaded object that
  // defines `symbol` (the library itself or one of its dependencies), without surrounding
  // white space; empty when there is none.
  virtual std::string banner(const char *symbol, std::string_view prefix) const = 0;
};

// How a child proves an allocator: the version its library reports, or an empty string
// when the library does not answer (it is then not that allocator).
using VersionReader = std::string (*)(const LoadedLibrary &library);

// An allocator built with this project rather than installed: an environment variable
// that names its library, and where that lies relative to the allocbench executable in a
// build tree or a bundle.
struct BuiltHere {
  std::string library_env;
  std::vector<std::string> paths;
  std::string missing_hint;  // added to "not found" ("build the allocator, or ...")
};

struct CatalogueEntry {
  std::string name;  // "glibc", "fio", ...: what --allocator takes
  // The library file names to preload, searched in order the way the loader does; empty
  // for the system's own malloc (glibc: nothing is preloaded).
  std::vector<std::string> sonames;
  // The proof: what the child calls, in words, and the call itself.
  std::string version_call;
  VersionReader read_version = nullptr;
  std::string package;  // the Debian package that ships the library ("" if built here)
  std::string colour;   // chart colour and matplotlib marker, the same in every chart
  std::string marker;
  BuiltHere built_here;  // empty for an installed one

  bool system() const { return sonames.empty(); }
};

// Every built-in allocator, in the order they are listed and run.
const std::vector<CatalogueEntry> &allocator_catalogue();

// The entry named `name`, or null for a name that is not built in.
const CatalogueEntry *find_catalogue_entry(std::string_view name);

// "glibc, fio, mimalloc, ...": the names, for help texts and error messages.
std::string catalogue_names_text();

}  // namespace allocbench
