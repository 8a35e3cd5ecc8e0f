// Every file and stream allocbench writes goes through these: each write, flush, fsync,
// close and rename is checked, and a failure is an OutputError, which every command turns
// into exit status kExitOutputError with one line naming the output. A file is replaced
// through a temporary file and rename(), so it is the old version or the new one, whole;
// the temporary is removed whatever fails.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace allocbench {

// An output that could not be written: "cannot write out/results.json: No space left on device".
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes all of `data` to `fd` (retrying short writes and EINTR). Throws OutputError
// naming `path` on failure.
void write_all_or_throw(int fd, std::string_view data, const std::string &path);

// Replaces `path` with `text`: a temporary file next to it, fsync, close, rename. On any
// failure the temporary is removed, `path` is untouched, and OutputError is thrown.
void replace_file(const std::string &path, std::string_view text);

// Writes `text` to `stream` and flushes it (stdout for a report or an export). Throws
// OutputError naming `name` ("standard output") when the write or the flush fails.
void write_stream(std::FILE *stream, std::string_view text, const char *name);

// Flushes `stream` and checks its error flag: what was printed earlier reached it whole.
void finish_stream(std::FILE *stream, const char *name);
// The same for std::cout and the stdout under it.
void finish_stdout();

}  // namespace allocbench
