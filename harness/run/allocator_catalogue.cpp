#include "allocator_catalogue.h"

#include <algorithm>
#include <cstddef>

#include <fmt/format.h>

namespace allocbench {

namespace {

// The version calls. Each returns "" when the library does not define the call itself.

std::string glibc_version(const LoadedLibrary &lib) {
  auto *fn = reinterpret_cast<const char *(*)()>(lib.own_symbol("gnu_get_libc_version"));
  return fn ? fn() : "";
}

std::string fio_version(const LoadedLibrary &lib) {
  auto *fn = reinterpret_cast<const char *(*)()>(lib.own_symbol("fio_malloc_version"));
  return fn ? fn() : "";
}

std::string mimalloc_version(const LoadedLibrary &lib) {
  auto *fn = reinterpret_cast<int (*)()>(lib.own_symbol("mi_version"));
  if (!fn) return {};
  const int v = fn();  // MI_MALLOC_VERSION: 209 is 2.0.9
  return fmt::format("{}.{}.{}", v / 100, (v / 10) % 10, v % 10);
}

std::string tcmalloc_version(const LoadedLibrary &lib) {
  using TcVersion = const char *(*)(int *, int *, const char **);
  auto *fn = reinterpret_cast<TcVersion>(lib.own_symbol("tc_version"));
  if (!fn) return {};
  int major = 0, minor = 0;
  const char *patch = nullptr;
  fn(&major, &minor, &patch);
  return fmt::format("{}.{}{}", major, minor, patch ? patch : "");
}

std::string jemalloc_version(const LoadedLibrary &lib) {
  using Mallctl = int (*)(const char *, void *, std::size_t *, void *, std::size_t);
  auto *fn = reinterpret_cast<Mallctl>(lib.own_symbol("mallctl"));
  if (!fn) return {};
  const char *version = nullptr;
  std::size_t len = sizeof version;
  if (fn("version", &version, &len, nullptr, 0) == 0 && version) return version;
  return {};
}

// The proxy exports no version call: its marker symbol says it is the proxy, and the
// allocator behind it (libtbbmalloc.so.2) carries its version in a banner string.
std::string tbbmalloc_version(const LoadedLibrary &lib) {
  if (!lib.own_symbol("__TBB_malloc_proxy")) return {};
  const std::string version = lib.banner("scalable_malloc", "TBBmalloc: VERSION");
  return version.empty() ? "unknown" : version;
}

}  // namespace

const std::vector<CatalogueEntry> &allocator_catalogue() {
  static const std::vector<CatalogueEntry> table = {
      {.name = "glibc",
       .sonames = {},
       .version_call = "gnu_get_libc_version",
       .read_version = glibc_version,
       .package = "libc6",
       .colour = "#6e6e6e",
       .marker = "o",
       .built_here = {}},
      {.name = "fio",
       .sonames = {"libfio-malloc.so"},
       .version_call = "fio_malloc_version",
       .read_version = fio_version,
       .package = "",
       .colour = "#d62728",
       .marker = "s",
       // <build>/harness/allocbench next to <build>/allocator/override/; a bundle's bin/ and lib/.
       .built_here = {.library_env = "ALLOCBENCH_FIO_LIB",
                      .paths = {"../allocator/override/libfio-malloc.so", "../lib/libfio-malloc.so",
                                "libfio-malloc.so"},
                      .missing_hint = "build the allocator, or set ALLOCBENCH_FIO_LIB"}},
      {.name = "mimalloc",
       .sonames = {"libmimalloc.so.2"},
       .version_call = "mi_version",
       .read_version = mimalloc_version,
       .package = "libmimalloc2.0",
       .colour = "#1f77b4",
       .marker = "^",
       .built_here = {}},
      {.name = "tcmalloc",
       .sonames = {"libtcmalloc_minimal.so.4", "libtcmalloc.so.4"},
       .version_call = "tc_version",
       .read_version = tcmalloc_version,
       .package = "libtcmalloc-minimal4",
       .colour = "#2ca02c",
       .marker = "D",
       .built_here = {}},
      {.name = "jemalloc",
       .sonames = {"libjemalloc.so.2"},
       .version_call = "mallctl(\"version\")",
       .read_version = jemalloc_version,
       .package = "libjemalloc2",
       .colour = "#9467bd",
       .marker = "v",
       .built_here = {}},
      {.name = "tbbmalloc",
       .sonames = {"libtbbmalloc_proxy.so.2"},
       .version_call = "__TBB_malloc_proxy (its version: the \"TBBmalloc: VERSION\" banner)",
       .read_version = tbbmalloc_version,
       .package = "libtbbmalloc2",
       .colour = "#8c564b",
       .marker = "X",
       .built_here = {}},
  };
  return table;
}

const CatalogueEntry *find_catalogue_entry(std::string_view name) {
  const auto &table = allocator_catalogue();
  const auto it = std::find_if(table.begin(), table.end(),
                               [&](const CatalogueEntry &e) { return e.name == name; });
  return it == table.end() ? nullptr : &*it;
}

std::string catalogue_names_text() {
  std::string text;
  for (const CatalogueEntry &e : allocator_catalogue()) text += (text.empty() ? "" : ", ") + e.name;
  return text;
}

}  // namespace allocbench
