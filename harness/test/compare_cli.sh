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

for format in github-action-benchmark bencher gbench; do
  expect_status 0 export --format=$format "$fixtures/base.json" -o "$tmp/$format.json"
  python3 "$here/validate_exports.py" $format "$tmp/$format.json" || failures=$((failures + 1))
done
expect_status 0 export --format=github-action-benchmark --metric=peak_rss_kib \
  "$fixtures/base.json" -o "$tmp/rss.json"
python3 "$here/validate_exports.py" github-action-benchmark "$tmp/rss.json" || failures=$((failures + 1))

[ $failures -eq 0 ] && echo "compare_cli: all checks passed"
exit $((failures > 0))
