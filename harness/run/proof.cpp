#include "proof.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "allocator_catalogue.h"

namespace allocbench {

namespace {

// The entry points a workload reaches; a partial override (say malloc but not
// aligned_alloc) would hand one allocator's pointers to another's free.
constexpr const char *kEntryPoints[] = {"malloc",  "free",          "calloc",
                                        "realloc", "aligned_alloc", "posix_memalign"};

std::string real_path(const char *path) {
  if (!path || !*path) return "(main program)";
  char buf[PATH_MAX];
  if (::realpath(path, buf)) return buf;
  return path;
}

std::string file_of(const void *address) {
  Dl_info info{};
  if (!address || !::dladdr(address, &info)) return "(unknown)";
  return real_path(info.dli_fname);
}

// The library under proof, opened without loading it (RTLD_NOLOAD by the caller).
class OpenLibrary final : public LoadedLibrary {
 public:
  OpenLibrary(void *handle, std::string file) : handle_(handle), file_(std::move(file)) {}

  // dlsym on a handle also searches the library's dependencies, libc among them, so the
  // owner is checked.
  void *own_symbol(const char *name) const override {
    void *sym = ::dlsym(handle_, name);
    if (!sym || file_of(sym) != file_) return nullptr;
    return sym;
  }

  std::string banner(const char *symbol, std::string_view prefix) const override {
    struct Search {
      const void *inside;
      std::string_view prefix;
      std::string found;
    } search{::dlsym(handle_, symbol), prefix, {}};
    if (!search.inside) return {};
    ::dl_iterate_phdr(
        [](dl_phdr_info *info, std::size_t, void *data) -> int {
          auto &s = *static_cast<Search *>(data);
          const auto at = reinterpret_cast<std::uintptr_t>(s.inside);
          bool mine = false;
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr) &ph = info->dlpi_phdr[i];
            const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
            if (ph.p_type == PT_LOAD && at >= start && at < start + ph.p_memsz) mine = true;
          }
          if (!mine) return 0;
          // The loaded segments of that object as they are in the file (a banner may be
          // a char array in its data).
          for (int i = 0; i < info->dlpi_phnum && s.found.empty(); ++i) {
            const ElfW(Phdr) &ph = info->dlpi_phdr[i];
            if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_R)) continue;
            const char *start = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
            const std::string_view segment(start, ph.p_filesz);
            const auto pos = segment.find(s.prefix);
            if (pos == std::string_view::npos) continue;
            std::string_view rest = segment.substr(pos + s.prefix.size());
            rest = rest.substr(0, std::min(rest.find('\0'), rest.find('\n')));
            const auto b = rest.find_first_not_of(" \t");
            const auto e = rest.find_last_not_of(" \t");
            if (b != std::string_view::npos) s.found = rest.substr(b, e - b + 1);
          }
          return 1;
        },
        &search);
    return search.found;
  }

 private:
  void *handle_;
  std::string file_;
};

// The version the library reports: its catalogue entry's version call, or for a user's
// allocator (`kind` empty) the first of the catalogue's calls it answers.
std::string version_of(const LoadedLibrary &library, const std::string &kind, bool is_libc) {
  for (const CatalogueEntry &entry : allocator_catalogue()) {
    if (!kind.empty() && kind != entry.name) continue;
    if (entry.system() && !is_libc) continue;
    std::string version = entry.read_version(library);
    if (!version.empty()) return version;
  }
  return {};
}

}  // namespace

ProofOutcome prove_allocator(const std::string &library, const std::string &kind) {
  ProofOutcome out;
  const bool expect_libc = library.empty();
  // RTLD_NOLOAD: only a library that is already in the process counts.
  void *handle = ::dlopen(expect_libc ? "libc.so.6" : library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  out.malloc_from = file_of(::dlsym(RTLD_DEFAULT, "malloc"));
  if (!handle) {
    out.error = fmt::format(
        "{} is not loaded in the child (the preload did not take effect); "
        "malloc is served by {}",
        library, out.malloc_from);
    return out;
  }
  const std::string lib_file =
      expect_libc ? file_of(::dlsym(handle, "gnu_get_libc_version")) : real_path(library.c_str());
  const OpenLibrary loaded(handle, lib_file);
  for (const char *entry : kEntryPoints) {
    void *resolved = ::dlsym(RTLD_DEFAULT, entry);
    void *own = loaded.own_symbol(entry);
    if (!own) {
      out.error = fmt::format("{} does not define {} (the process's {} comes from {})", lib_file,
                              entry, entry, file_of(resolved));
      ::dlclose(handle);
      return out;
    }
    if (resolved != own) {
      out.error = fmt::format("{} resolves to {}, not to {}", entry, file_of(resolved), lib_file);
      ::dlclose(handle);
      return out;
    }
  }
  out.version = version_of(loaded, kind, expect_libc);
  ::dlclose(handle);
  if (out.version.empty()) {
    if (!kind.empty()) {
      const CatalogueEntry *entry = find_catalogue_entry(kind);
      out.error = fmt::format("{} does not export {}, so it is not {}", lib_file,
                              entry ? entry->version_call : "a version call", kind);
      return out;
    }
    out.version = "unknown";
  }
  out.ok = true;
  return out;
}

}  // namespace allocbench
