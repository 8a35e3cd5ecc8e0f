#include "programs.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "process.h"
#include "run_options.h"

namespace allocbench {

namespace {

namespace fs = std::filesystem;

std::vector<std::string> strings(const nlohmann::json &doc, const char *key,
                                 const std::string &where, bool required) {
  std::vector<std::string> out;
  const auto it = doc.find(key);
  if (it == doc.end()) {
    if (required) throw std::runtime_error(fmt::format("{}: no \"{}\"", where, key));
    return out;
  }
  if (!it->is_array())
    throw std::runtime_error(fmt::format("{}: \"{}\" is not a list", where, key));
  for (const auto &item : *it) {
    if (!item.is_string() || item.get<std::string>().empty())
      throw std::runtime_error(
          fmt::format("{}: \"{}\" holds something that is not a non-empty string", where, key));
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string text(const nlohmann::json &doc, const char *key, const std::string &where) {
  const auto it = doc.find(key);
  if (it == doc.end() || !it->is_string() || it->get<std::string>().empty())
    throw std::runtime_error(
        fmt::format("{}: \"{}\" is missing or not a non-empty string", where, key));
  return it->get<std::string>();
}

ProgramDef read_program(const fs::path &file, const std::string &dir) {
  const std::string where = file.string();
  std::ifstream in(file);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(fmt::format("{}: not JSON: {}", where, e.what()));
  }
  if (!doc.is_object()) throw std::runtime_error(where + ": not a JSON object");
  ProgramDef p;
  p.name = text(doc, "name", where);
  if (p.name != file.stem().string())
    throw std::runtime_error(fmt::format("{}: \"name\" is '{}', not the file's name '{}'", where,
                                         p.name, file.stem().string()));
  if (p.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
    throw std::runtime_error(
        fmt::format("{}: the name '{}' is not lower-case letters, digits and '-'", where, p.name));
  p.description = text(doc, "description", where);
  for (const std::string &arg : strings(doc, "command", where, true))
    p.command.push_back(replace_all(arg, "{dir}", dir));
  if (p.command.empty()) throw std::runtime_error(where + ": \"command\" is empty");
  p.requires_executables = strings(doc, "requires", where, false);
  p.packages = strings(doc, "packages", where, false);
  const std::string output = text(doc, "output", where);
  if (output != "compare" && output != "ignore")
    throw std::runtime_error(
        fmt::format("{}: \"output\" is '{}' (accepted: compare, ignore)", where, output));
  p.compare_output = output == "compare";
  if (const auto it = doc.find("throughput"); it != doc.end()) {
    if (!it->is_object()) throw std::runtime_error(where + ": \"throughput\" is not an object");
    p.throughput_pattern = text(*it, "pattern", where + " throughput");
    p.throughput_metric = text(*it, "metric", where + " throughput");
    try {
      const std::regex check(p.throughput_pattern);
      if (check.mark_count() < 1) throw std::runtime_error("no capture group");
    } catch (const std::exception &e) {
      throw std::runtime_error(
          fmt::format("{}: throughput pattern '{}': {}", where, p.throughput_pattern, e.what()));
    }
  }
  return p;
}

}  // namespace

std::string programs_directory() {
  if (const char *env = std::getenv("ALLOCBENCH_PROGRAMS_DIR"); env && *env) return env;
  const std::string bundled = self_directory() + "/../programs";
  std::error_code ec;
  if (fs::is_directory(bundled, ec)) return fs::weakly_canonical(bundled, ec).string();
  return ALLOCBENCH_PROGRAMS_DIR;
}

std::vector<ProgramDef> builtin_programs() {
  const std::string dir = programs_directory();
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<ProgramDef> programs;
  for (const fs::path &file : files) programs.push_back(read_program(file, dir));
  return programs;
}

std::optional<std::string> program_missing(const ProgramDef &program) {
  for (const std::string &exe : program.requires_executables)
    if (!find_executable(exe))
      return fmt::format("{} not found on PATH{}", exe,
                         program.packages.empty() ? ""
                                                  : fmt::format(" (apt-get install {})",
                                                                fmt::join(program.packages, " ")));
  return std::nullopt;
}

std::vector<std::string> split_command_line(const std::string &line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        word += c;
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < line.size() && std::strchr("\"\\$`", line[i + 1])) {
        word += line[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) throw std::invalid_argument(fmt::format("unterminated {} quote in '{}'", quote, line));
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) throw std::invalid_argument("the command is empty");
  return words;
}

}  // namespace allocbench
