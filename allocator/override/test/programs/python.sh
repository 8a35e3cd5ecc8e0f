#!/usr/bin/env bash
# python3 under the shim: an allocation-heavy multi-threaded script must print the same
# digest as on glibc. PYTHONMALLOC=malloc sends every Python object through malloc.
#   python.sh SHIM
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../shim_lib.sh"
shim_setup "$1"
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || { echo "$PYTHON is not installed" >&2; exit 2; }
export PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1

plain "$PYTHON" "$HERE/python_workload.py" > "$WORK/plain.out"
preloaded "$PYTHON" "$HERE/python_workload.py" > "$WORK/preloaded.out"
same "$WORK/plain.out" "$WORK/preloaded.out" "the python digest"
served python3
echo "python3: same digest under the shim: $(tail -n 1 "$WORK/preloaded.out")"
