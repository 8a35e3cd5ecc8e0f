# shim_lib.sh - shared by the shell tests of libfio-malloc.so; sourced, never run.
#
#   shim_setup SHIM           checks the library, makes the scratch directory $WORK
#   plain CMD...              runs CMD on glibc's malloc (LD_PRELOAD removed)
#   preloaded CMD...          runs CMD with the shim preloaded and FIO_MALLOC_STATS=1;
#                             every process it starts inherits both
#   same A B WHAT             fails unless files A and B are equal byte for byte
#   served PROGRAM            fails unless a process named PROGRAM printed the shim's
#                             exit statistics during a preloaded run
#
# stderr of plain and preloaded runs goes to $WORK/plain.log and $WORK/preloaded.log; those
# and the outputs kept in $WORK/*.out are shown when a test fails.
set -euo pipefail

shim_fail() {
  echo "FAILED: $*" >&2
  local log
  for log in "$WORK"/*.out "$WORK/plain.log" "$WORK/preloaded.log"; do
    [ -s "$log" ] && { echo "--- last lines of $log" >&2; tail -n 40 "$log" >&2; }
  done
  exit 1
}

shim_setup() {
  SHIM=$1
  [ -f "$SHIM" ] || { echo "no shim library at '$SHIM'" >&2; exit 2; }
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/fio-shim-test.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  : > "$WORK/plain.log"
  : > "$WORK/preloaded.log"
}

plain() {
  env -u LD_PRELOAD -u FIO_MALLOC_STATS -u FIO_MALLOC_VERBOSE "$@" 2>> "$WORK/plain.log" ||
    shim_fail "without the shim (exit status $?): $*"
}

preloaded() {
  LD_PRELOAD="$SHIM" FIO_MALLOC_STATS=1 "$@" 2>> "$WORK/preloaded.log" ||
    shim_fail "under the shim (exit status $?): $*"
}

same() {
  [ -s "$1" ] || shim_fail "$3: no output in $1"
  cmp -s "$1" "$2" || {
    diff "$1" "$2" | head -n 20 >&2 || true
    shim_fail "$3 differs between glibc (<) and the shim (>)"
  }
}

served() {
  grep -q "^fio-malloc: statistics of pid [0-9]* ($1) at exit" "$WORK/preloaded.log" ||
    shim_fail "no process named '$1' reported the shim's statistics: was it preloaded?"
}
