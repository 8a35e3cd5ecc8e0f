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
