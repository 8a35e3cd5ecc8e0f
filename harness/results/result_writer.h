// Writers of results.csv and results.json (formats: harness/RESULTS.md). Both are kept
// valid on disk at every moment: the CSV gets one flushed row per repetition, the JSON
// is rewritten whole through a temporary file and rename().
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "results.h"

namespace allocbench {

// The CSV columns, in order.
const std::vector<std::string> &csv_columns();
std::string csv_header_line();              // with the trailing newline
std::string csv_row(const RunRecord &run);  // with the trailing newline
// RFC 4180 quoting: fields holding a comma, quote, CR or LF are quoted, quotes doubled.
std::string csv_escape(std::string_view field);
// Splits one CSV record (no trailing newline) into fields, undoing csv_escape.
std::vector<std::string> csv_split(std::string_view line);

// Serialises `results` (summaries recomputed from the runs) and replaces `path`
// atomically. Throws OutputError (output_file.h) on I/O failure.
void write_json_file(const std::string &path, const ResultSet &results);

enum class OutputFormat { kCsv, kJson };

// The result files of one invocation in one directory, updated per repetition.
class ResultFiles {
 public:
  // Creates (truncates) DIR/results.csv and/or DIR/results.json. The caller has checked
  // that overwriting is allowed. Every method throws OutputError when a file cannot be
  // written; the files keep what was written before, whole (the CSV whole rows, the JSON
  // its previous version).
  ResultFiles(std::string dir, std::vector<OutputFormat> formats, Context context);
  // The same, holding the runs of `initial` first (a merge into earlier results).
  ResultFiles(std::string dir, std::vector<OutputFormat> formats, ResultSet initial);
  ~ResultFiles();
  ResultFiles(const ResultFiles &) = delete;
  ResultFiles &operator=(const ResultFiles &) = delete;

  // Records one repetition: appends and flushes its CSV row, rewrites the JSON.
  void add(RunRecord run);
  // Replaces the context (for example once the allocators' versions are known) and
  // rewrites the JSON.
  void set_context(Context context);

  const ResultSet &results() const { return results_; }
  std::vector<std::string> paths() const;

  static std::string csv_path(const std::string &dir) { return dir + "/results.csv"; }
  static std::string json_path(const std::string &dir) { return dir + "/results.json"; }

 private:
  void rewrite_json();
  void append_csv(const std::string &text);

  std::string dir_;
  bool csv_ = false, json_ = false;
  int csv_fd_ = -1;
  off_t csv_size_ = 0;  // bytes of whole rows written
  ResultSet results_;
};

}  // namespace allocbench
