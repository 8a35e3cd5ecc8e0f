// Counted mode's tool: a process run under valgrind's callgrind (its instruction count and
// its cache model), and the figures per operation drawn from what it wrote.
//
// Workload children start with instrumentation off and switch it on for their measured
// phase (child.cpp). Microbenchmarks run whole, twice, at N and 2N iterations: the
// difference of the two counts is N iterations' worth, with the start-up, the proof and
// the warm-up cancelled out (micro_job.cpp).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "process.h"

namespace allocbench {

// The valgrind executable counted mode runs children under: $ALLOCBENCH_VALGRIND, else
// valgrind on PATH, else nothing.
std::optional<std::string> valgrind_executable();

// Callgrind's totals from the text of its output file: event name -> count. Throws
// std::runtime_error when the text has no events or no totals line.
std::map<std::string, double> parse_callgrind_totals(const std::string &text);

// One process's run under callgrind: wrap() makes a request of it, totals() reads what it
// counted. The counts file is temporary, removed with this object.
class CallgrindRun {
 public:
  // Fails (error() says why) without valgrind or a temporary file.
  explicit CallgrindRun(bool instrument_from_start);
  ~CallgrindRun();
  CallgrindRun(const CallgrindRun &) = delete;
  CallgrindRun &operator=(const CallgrindRun &) = delete;

  const std::string &error() const { return error_; }
  // `request` runs its executable under callgrind, with its cache model.
  void wrap(ProcessRequest &request) const;
  // The totals of the run, by event name (Ir, Dr, Dw, I1mr, D1mr, D1mw, ILmr, DLmr,
  // DLmw). Throws std::runtime_error when the file holds none.
  std::map<std::string, double> totals() const;

 private:
  std::string valgrind_, counts_file_, error_;
  bool from_start_;
};

// The counted figures of a run (RESULTS.md, `extra`): `totals` divided by `ops`, named
// with the prefix that says where they come from (cg_: callgrind, not the hardware).
std::map<std::string, double> counted_figures(const std::map<std::string, double> &totals,
                                              double ops);

}  // namespace allocbench
