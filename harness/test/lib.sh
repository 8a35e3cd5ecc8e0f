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

# The built-in allocators that --list-allocators reports available, comma-separated.
installed_allocators() {
  "$ALLOCBENCH" --list-allocators | awk 'NR > 1 && $2 == "yes" { print $1 }' | paste -sd, -
}
