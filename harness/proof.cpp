#include "proof.h"

#include <dlfcn.h>
#include <climits>
#include <cstdlib>

#include <fmt/format.h>

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

// The symbol `name` as defined by the library at `file` itself (dlsym on a handle also
// searches the library's dependencies, libc among them, so the owner is checked).
void *own_symbol(void *handle, const std::string &file, const char *name) {
  void *sym = ::dlsym(handle, name);
  if (!sym || file_of(sym) != file) return nullptr;
  return sym;
}

std::string version_of(void *handle, const std::string &file, const std::string &kind,
                       bool is_libc) {
  auto wants = [&](const char *k) { return kind.empty() || kind == k; };
  if (wants("fio")) {
    if (auto *fn =
            reinterpret_cast<const char *(*)()>(own_symbol(handle, file, "fio_malloc_version")))
      return fn();
  }
  if (wants("mimalloc")) {
    if (auto *fn = reinterpret_cast<int (*)()>(own_symbol(handle, file, "mi_version"))) {
      const int v = fn();  // MI_MALLOC_VERSION: 209 is 2.0.9, 1120 would not occur
      return fmt::format("{}.{}.{}", v / 100, (v / 10) % 10, v % 10);
    }
  }
  if (wants("tcmalloc")) {
    using TcVersion = const char *(*)(int *, int *, const char **);
    if (auto *fn = reinterpret_cast<TcVersion>(own_symbol(handle, file, "tc_version"))) {
      int major = 0, minor = 0;
      const char *patch = nullptr;
      fn(&major, &minor, &patch);
      return fmt::format("{}.{}{}", major, minor, patch ? patch : "");
    }
  }
  if (wants("jemalloc")) {
    using Mallctl = int (*)(const char *, void *, std::size_t *, void *, std::size_t);
    if (auto *fn = reinterpret_cast<Mallctl>(own_symbol(handle, file, "mallctl"))) {
      const char *version = nullptr;
      std::size_t len = sizeof version;
      if (fn("version", &version, &len, nullptr, 0) == 0 && version) return version;
    }
  }
  if (is_libc && wants("glibc")) {
    if (auto *fn =
            reinterpret_cast<const char *(*)()>(own_symbol(handle, file, "gnu_get_libc_version")))
      return fn();
  }
  return {};
}

const char *version_call_of(const std::string &kind) {
  if (kind == "fio") return "fio_malloc_version";
  if (kind == "mimalloc") return "mi_version";
  if (kind == "tcmalloc") return "tc_version";
  if (kind == "jemalloc") return "mallctl(\"version\")";
  if (kind == "glibc") return "gnu_get_libc_version";
  return "a version call";
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
  for (const char *entry : kEntryPoints) {
    void *resolved = ::dlsym(RTLD_DEFAULT, entry);
    void *own = own_symbol(handle, lib_file, entry);
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
  out.version = version_of(handle, lib_file, kind, expect_libc);
  ::dlclose(handle);
  if (out.version.empty()) {
    if (!kind.empty()) {
      out.error = fmt::format("{} does not export {}, so it is not {}", lib_file,
                              version_call_of(kind), kind);
      return out;
    }
    out.version = "unknown";
  }
  out.ok = true;
  return out;
}

}  // namespace allocbench
