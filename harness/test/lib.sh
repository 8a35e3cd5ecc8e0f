# Shared by the harness's end-to-end tests. Environment (set by ctest): ALLOCBENCH,
# ALLOCBENCH_TESTING, NOT_MALLOC_LIB, MISSING_DEPENDENCY_LIB, HARNESS_DIR, PYTHON.
set -euo pipefail
: "${ALLOCBENCH:?}" "${HARNESS_DIR:?}"
PYTHON=${PYTHON:-python3}
VALIDATE="$PYTHON $HARNESS_DIR/test/validate_results.py"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/allocbench-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The names of a machine-readable listing, comma-separated:
#   listed_names ALLOCBENCH --list workloads
#   listed_names ALLOCBENCH --list-allocators allocators [available]
listed_names() {
  "$1" "$2" --format=json | $PYTHON -c '
import json, sys
key, only_available = sys.argv[1], sys.argv[2:] == ["available"]
print(",".join(e["name"] for e in json.load(sys.stdin)[key]
               if not only_available or e["available"]))' "${@:3}"
}

# The built-in allocators (the catalogue), and those installed here.
builtin_allocators() { listed_names "$ALLOCBENCH" --list-allocators allocators; }
installed_allocators() { listed_names "$ALLOCBENCH" --list-allocators allocators available; }

# Waits until the run started as RUNNER writes its hanging child's pid to PID_FILE (the
# test-hang workload); fails with WHAT when the runner ended first or 30 s passed.
#   wait_for_hang RUNNER PID_FILE WHAT
wait_for_hang() {
  local runner=$1 pid_file=$2
  for _ in $(seq 1 300); do
    [ -s "$pid_file" ] && return 0
    kill -0 "$runner" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$pid_file" ] || { kill "$runner" 2>/dev/null; cat progress.txt; fail "$3"; }
}

# True when process PID is gone within SECONDS.
gone_within() {
  local pid=$1 tenths=$(($2 * 10))
  for _ in $(seq 1 "$tenths"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null
}
