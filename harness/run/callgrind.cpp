#include "callgrind.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace allocbench {

std::optional<std::string> valgrind_executable() {
  if (const char *env = std::getenv("ALLOCBENCH_VALGRIND"); env && *env) return std::string(env);
  return find_executable("valgrind");
}

std::map<std::string, double> parse_callgrind_totals(const std::string &text) {
  std::vector<std::string> events;
  std::vector<double> totals;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "events:") {
      events.clear();
      for (std::string e; words >> e;) events.push_back(e);
    } else if (key == "totals:" || key == "summary:") {
      totals.clear();
      for (double v; words >> v;) totals.push_back(v);
    }
  }
  if (events.empty() || totals.empty() || totals.size() > events.size())
    throw std::runtime_error("no events and totals in callgrind's output");
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < events.size(); ++i)
    out[events[i]] = i < totals.size() ? totals[i] : 0;
  return out;
}

CallgrindRun::CallgrindRun(bool instrument_from_start) : from_start_(instrument_from_start) {
  const std::optional<std::string> valgrind = valgrind_executable();
  if (!valgrind) {
    error_ = "counted mode needs valgrind (apt-get install valgrind)";
    return;
  }
  valgrind_ = *valgrind;
  char pattern[] = "/tmp/allocbench-callgrind-XXXXXX";
  const int fd = ::mkstemp(pattern);
  if (fd < 0) {
    error_ = fmt::format("cannot create a temporary file: {}", std::strerror(errno));
    return;
  }
  ::close(fd);
  counts_file_ = pattern;
}

CallgrindRun::~CallgrindRun() {
  if (!counts_file_.empty()) ::unlink(counts_file_.c_str());
}

void CallgrindRun::wrap(ProcessRequest &request) const {
  request.args.insert(
      request.args.begin(),
      {"--tool=callgrind", from_start_ ? "--instr-atstart=yes" : "--instr-atstart=no",
       "--cache-sim=yes", "--callgrind-out-file=" + counts_file_, "--log-fd=2", "-q", request.exe});
  request.exe = valgrind_;
}

std::map<std::string, double> CallgrindRun::totals() const {
  std::ifstream in(counts_file_);
  std::stringstream text;
  text << in.rdbuf();
  return parse_callgrind_totals(text.str());
}

std::map<std::string, double> counted_figures(const std::map<std::string, double> &totals,
                                              double ops) {
  const auto per_op = [&](std::initializer_list<const char *> events) {
    double sum = 0;
    for (const char *e : events)
      if (auto it = totals.find(e); it != totals.end()) sum += it->second;
    return sum / ops;
  };
  return {{"cg_instructions_per_op", per_op({"Ir"})},
          {"cg_data_reads_per_op", per_op({"Dr"})},
          {"cg_data_writes_per_op", per_op({"Dw"})},
          {"cg_l1_misses_per_op", per_op({"I1mr", "D1mr", "D1mw"})},
          {"cg_ll_misses_per_op", per_op({"ILmr", "DLmr", "DLmw"})}};
}

}  // namespace allocbench
