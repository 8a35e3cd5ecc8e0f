#include "allocators.h"

#include "allocator_catalogue.h"

#include <dlfcn.h>
#include <elf.h>
#include <gnu/libc-version.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace allocbench {

namespace {

bool is_regular_file(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string absolute(const std::string &path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) return buf;
  return path;
}

std::vector<std::string> split(const std::string &text, char sep) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == sep) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

std::string trim(const std::string &s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Directories of an ld.so.conf file, following "include" globs.
void read_ld_so_conf(const std::string &path, std::vector<std::string> &dirs, int depth) {
  if (depth > 8) return;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (line.rfind("include", 0) == 0 && line.size() > 7 && (line[7] == ' ' || line[7] == '\t')) {
      std::string pattern = trim(line.substr(8));
      if (!pattern.empty() && pattern[0] != '/') {
        const auto slash = path.rfind('/');
        pattern = path.substr(0, slash + 1) + pattern;
      }
      glob_t g{};
      if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (std::size_t i = 0; i < g.gl_pathc; ++i)
          read_ld_so_conf(g.gl_pathv[i], dirs, depth + 1);
      ::globfree(&g);
    } else if (line[0] == '/') {
      dirs.push_back(line);
    }
  }
}

}  // namespace

const std::vector<std::string> &builtin_allocator_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const CatalogueEntry &e : allocator_catalogue()) n.push_back(e.name);
    return n;
  }();
  return names;
}

bool is_builtin_allocator(const std::string &name) {
  const auto &names = builtin_allocator_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string system_libc_path() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void *>(&gnu_get_libc_version), &info) && info.dli_fname)
    return absolute(info.dli_fname);
  return "libc.so.6";
}

std::optional<std::string> find_library(const std::string &file_name) {
  std::vector<std::string> dirs;
  if (const char *env = std::getenv("LD_LIBRARY_PATH"))
    for (const std::string &d : split(env, ':'))
      if (!d.empty()) dirs.push_back(d);
  read_ld_so_conf("/etc/ld.so.conf", dirs, 0);
  // The multiarch directory the running libc came from, then the loader's defaults.
  const std::string libc = system_libc_path();
  if (auto slash = libc.rfind('/'); slash != std::string::npos) {
    const std::string libc_dir = libc.substr(0, slash);
    dirs.push_back(libc_dir);
    if (libc_dir.rfind("/lib/", 0) == 0) dirs.push_back("/usr" + libc_dir);
  }
  for (const char *d : {"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"})
    dirs.emplace_back(d);
  std::set<std::string> seen;
  for (const std::string &dir : dirs) {
    if (!seen.insert(dir).second) continue;
    const std::string candidate = dir + "/" + file_name;
    if (is_regular_file(candidate) && check_shared_library(candidate).empty())
      return absolute(candidate);
  }
  return std::nullopt;
}

std::string check_shared_library(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "does not exist";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (::access(path.c_str(), R_OK) != 0) return "is not readable";
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr header{};
  if (!in.read(reinterpret_cast<char *>(&header), sizeof header))
    return "is not an ELF shared library (too short)";
  if (std::string_view(reinterpret_cast<const char *>(header.e_ident), SELFMAG) != ELFMAG)
    return "is not an ELF shared library";
  if (header.e_ident[EI_CLASS] != ELFCLASS64) return "is not a 64-bit ELF library";
#if defined(__x86_64__)
  if (header.e_machine != EM_X86_64) return "is built for another machine than x86-64";
#elif defined(__aarch64__)
  if (header.e_machine != EM_AARCH64) return "is built for another machine than aarch64";
#endif
  if (header.e_type != ET_DYN) return "is not a shared library (ELF type is not ET_DYN)";
  return {};
}

LocatedAllocator locate_builtin_allocator(const std::string &name, const std::string &exe_dir) {
  const CatalogueEntry *entry = find_catalogue_entry(name);
  if (!entry) throw std::invalid_argument("not a built-in allocator: " + name);
  LocatedAllocator located;
  if (entry->system()) {
    located.spec = AllocatorSpec{name, "", name};
    return located;
  }
  if (!entry->built_here.library_env.empty()) {
    if (const char *env = std::getenv(entry->built_here.library_env.c_str()); env && *env) {
      const std::string why = check_shared_library(env);
      if (!why.empty()) {
        located.reason = fmt::format("{}={} {}", entry->built_here.library_env, env, why);
        return located;
      }
      located.spec = AllocatorSpec{name, absolute(env), name};
      return located;
    }
  }
  for (const std::string &relative : entry->built_here.paths) {
    const std::string candidate = exe_dir + "/" + relative;
    if (is_regular_file(candidate) && check_shared_library(candidate).empty()) {
      located.spec = AllocatorSpec{name, absolute(candidate), name};
      return located;
    }
  }
  for (const std::string &soname : entry->sonames) {
    if (auto path = find_library(soname)) {
      located.spec = AllocatorSpec{name, *path, name};
      return located;
    }
  }
  located.reason = fmt::format("{} not found", fmt::join(entry->sonames, " or "));
  if (!entry->built_here.missing_hint.empty())
    located.reason += fmt::format(" ({})", entry->built_here.missing_hint);
  return located;
}

ResolvedAllocator resolve_allocator(const AllocatorSpec &spec, const std::string &exe_dir) {
  ResolvedAllocator r;
  if (spec.library.empty() && spec.name != "glibc") {
    LocatedAllocator located = locate_builtin_allocator(spec.name, exe_dir);
    r.spec = std::move(located.spec);
    if (!r.spec) r.not_installed = located.reason;
    return r;
  }
  r.spec = spec;
  if (spec.preloaded()) {
    r.bad_library = check_shared_library(spec.library);
    if (!r.bad_library.empty()) {
      r.spec.reset();
      return r;
    }
    r.spec->library = absolute(spec.library);
  }
  return r;
}

AllocatorSpec parse_allocator_entry(const std::string &entry) {
  const std::string accepted = "accepted: " + catalogue_names_text() + ", or NAME=/path/to/lib.so";
  const auto eq = entry.find('=');
  if (eq == std::string::npos) {
    if (!is_builtin_allocator(entry))
      throw std::invalid_argument(fmt::format("unknown allocator '{}' ({})", entry, accepted));
    return AllocatorSpec{entry, "", entry};
  }
  const std::string name = entry.substr(0, eq);
  const std::string path = entry.substr(eq + 1);
  const bool valid_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (!valid_name)
    throw std::invalid_argument(fmt::format(
        "allocator name '{}' in '{}' is not valid (letters, digits, '-', '_', '.')", name, entry));
  if (path.empty())
    throw std::invalid_argument(
        fmt::format("allocator '{}' has an empty library path ({})", name, accepted));
  if (name == "glibc")
    throw std::invalid_argument("allocator 'glibc' is the system malloc and takes no library path");
  // A built-in name with a path keeps that allocator's proof (its version call).
  return AllocatorSpec{name, path, is_builtin_allocator(name) ? name : ""};
}

}  // namespace allocbench
