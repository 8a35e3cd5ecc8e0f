// What a person sees while the suite runs: progress on stderr (one self-overwriting
// line on a terminal, one line per run otherwise) and the results table on stdout,
// one row per benchmark and allocator as soon as its repetitions are done.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "results.h"

namespace allocbench {

class Console {
 public:
  Console(std::FILE *table, std::FILE *progress);

  // "[12/40] group-free fio t=4 rep 2/5 ... ETA 1m20s"
  void progress(std::size_t index, std::size_t total, const std::string &what, double eta_s);
  // A failed repetition, reported at once on the progress stream.
  void failure(const std::string &what, const std::string &reason);
  // One table row per summary; the header is printed before the first row.
  void rows(const std::vector<Summary> &summaries, const std::vector<std::string> &notes);
  // A line on the progress stream (after clearing a pending progress line).
  void note(const std::string &line);
  void clear_progress();

  static std::string human_count(double value);       // 12.3M
  static std::string human_kib(double kib);           // 12.3 MiB
  static std::string human_duration(double seconds);  // 1m20s

 private:
  std::FILE *table_;
  std::FILE *progress_;
  bool progress_is_tty_;
  bool progress_pending_ = false;
  bool header_printed_ = false;
};

}  // namespace allocbench
