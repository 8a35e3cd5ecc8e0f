// The child's proof of which allocator serves it, checked before a workload runs.
//
// A preload that fails does not stop a program: ld.so prints a warning and the run goes
// on with glibc. So the child looks at what it actually got: every entry point of the
// malloc family, as the process resolves it, must come from the expected library, and
// that library must answer its own version call.
#pragma once

#include <string>

namespace allocbench {

struct ProofOutcome {
  bool ok = false;
  std::string malloc_from;  // the file that serves malloc in this process
  std::string version;      // what the serving library's version call reported
  std::string error;        // why the proof failed ("malloc resolved to ... not ...")
};

// `library`: the preloaded library the process must be using, or empty for glibc.
// `kind`: a built-in allocator (allocator_catalogue.h) whose version call must be answered
// by that library, or empty for a user's allocator, whose version is whatever version call
// of the catalogue it answers, else "unknown".
ProofOutcome prove_allocator(const std::string &library, const std::string &kind);

}  // namespace allocbench
