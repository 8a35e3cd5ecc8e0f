#!/usr/bin/env bash
# g++ under the shim: compiling a C++ STL program must produce the same assembly as on
# glibc (cc1plus runs under the shim); assembling and linking it under the shim (as, ld)
# must give a program that, run under the shim, prints what it prints on glibc.
#   gxx.sh SHIM
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../shim_lib.sh"
shim_setup "$1"
CXX=$(command -v g++) || { echo "g++ is not installed" >&2; exit 2; }
export LC_ALL=C
cp "$HERE/stl_program.cpp" "$WORK/"
cd "$WORK"

plain "$CXX" -std=c++20 -O1 -S stl_program.cpp -o plain.s
preloaded "$CXX" -std=c++20 -O1 -S stl_program.cpp -o preloaded.s
same plain.s preloaded.s "the assembly g++ generates"
preloaded "$CXX" -pthread preloaded.s -o stl_program
served cc1plus
served ld

plain ./stl_program > plain.out
preloaded ./stl_program > preloaded.out
same plain.out preloaded.out "the compiled program's output"
served stl_program
echo "g++: same assembly and program output under the shim ($(wc -l < plain.out) lines)"
