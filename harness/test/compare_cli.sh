#!/usr/bin/env bash
# The allocbench executable's compare and export commands end to end: exit statuses on the
# constructed result files, and each export checked by validate_exports.py.
#   compare_cli.sh ALLOCBENCH FIXTURES_DIR
set -u
allocbench=$1
fixtures=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect_status() {
  local expected=$1; shift
  "$allocbench" "$@" >"$tmp/out" 2>"$tmp/err"
  local status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "FAIL: allocbench $* exited $status, expected $expected"
    cat "$tmp/out" "$tmp/err"
    failures=$((failures + 1))
  fi
}

expect_status 0 compare "$fixtures/base.json" "$fixtures/same.json"
expect_status 1 compare "$fixtures/base.json" "$fixtures/regressed.json"
expect_status 0 compare --min-effect=40% "$fixtures/base.json" "$fixtures/regressed.json"
expect_status 0 compare "$fixtures/base.json" "$fixtures/improved.json"
expect_status 1 compare "$fixtures/base.json" "$fixtures/slow_machine.json"
expect_status 0 compare --ratio-to=glibc "$fixtures/base.json" "$fixtures/slow_machine.json"
expect_status 2 compare "$fixtures/base.json" "$tmp/absent.json"
expect_status 2 compare --alpha=2 "$fixtures/base.json" "$fixtures/same.json"
expect_status 2 export --format=nope "$fixtures/base.json"

# No data to decide on is a failure of its own (3), not a pass.
python3 - "$fixtures/same.json" "$tmp/crashed.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for run in doc["runs"]:
    run["status"], run["error"] = "failed", "crashed: SIGSEGV"
json.dump(doc, open(sys.argv[2], "w"))
PY
expect_status 3 compare "$fixtures/base.json" "$tmp/crashed.json"
grep -q '^NO DATA' "$tmp/out" || { echo "FAIL: no NO DATA line"; failures=$((failures + 1)); }

# An output that cannot be written is status 4 with one line naming it, never "wrote".
expect_write_error() {
  local status=0
  "$allocbench" "$@" >"$tmp/err.out" 2>"$tmp/err" || status=$?
  if [ "$status" -ne 4 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] ||
    ! grep -q '^allocbench: error: cannot write' "$tmp/err"; then
    echo "FAIL: allocbench $* exited $status, expected 4 with one error line"
    cat "$tmp/err"
    failures=$((failures + 1))
  fi
}
expect_write_error export --format=bencher "$fixtures/base.json" -o /dev/full
[ -c /dev/full ] || { echo "FAIL: /dev/full is no longer a device"; failures=$((failures + 1)); }
status=0
"$allocbench" compare "$fixtures/base.json" "$fixtures/same.json" >/dev/full 2>"$tmp/err" || status=$?
if [ "$status" -ne 4 ] || ! grep -q 'cannot write standard output' "$tmp/err"; then
  echo "FAIL: compare to a full stdout exited $status, expected 4"; failures=$((failures + 1))
fi
status=0
"$allocbench" export --format=gbench "$fixtures/base.json" >/dev/full 2>"$tmp/err" || status=$?
[ "$status" -eq 4 ] || { echo "FAIL: export to a full stdout exited $status"; failures=$((failures + 1)); }
# A path that cannot be written at all is bad input, refused before any work.
mkdir -p "$tmp/taken/results.json"
expect_status 2 export --format=bencher "$fixtures/base.json" -o "$tmp/taken/results.json"
[ ! -e "$tmp/taken/results.json.tmp" ] || { echo "FAIL: a temporary file was left"; failures=$((failures + 1)); }

for format in github-action-benchmark bencher gbench; do
  expect_status 0 export --format=$format "$fixtures/base.json" -o "$tmp/$format.json"
  python3 "$here/validate_exports.py" $format "$tmp/$format.json" || failures=$((failures + 1))
done
expect_status 0 export --format=github-action-benchmark --metric=peak_rss_kib \
  "$fixtures/base.json" -o "$tmp/rss.json"
python3 "$here/validate_exports.py" github-action-benchmark "$tmp/rss.json" || failures=$((failures + 1))

[ $failures -eq 0 ] && echo "compare_cli: all checks passed"
exit $((failures > 0))
