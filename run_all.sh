#!/usr/bin/env bash
# allocbench: one entry point for a fresh machine.
#
#   ./run_all.sh            install what is missing, build, run the default suite, draw the charts
#   ./run_all.sh --quick    the same, about one minute of measurement
#   ./run_all.sh test       install what is missing, build, run every test (Release, ASan+UBSan, TSan)
#                           and fuzz each reader for ALLOCBENCH_FUZZ_SECONDS (default 20)
#   ./run_all.sh install [--minimal]
#                           install what is missing (building allocbench, which names the
#                           peers' packages) and stop; --minimal: only what the build and the
#                           peer allocators need (CI workflows, examples/)
#
# Environment: ALLOCBENCH_WERROR=ON turns warnings into errors (CI sets it);
# ALLOCBENCH_JOBS overrides the build parallelism.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

JOBS=${ALLOCBENCH_JOBS:-$(nproc)}
WERROR=${ALLOCBENCH_WERROR:-OFF}

# Debian packages the build and the tests need. The packages of the peer allocators and of
# the built-in programs are not listed here: allocbench's allocator catalogue
# (harness/run/allocator_catalogue.cpp) and each program's file (workloads/programs/) name
# them, and install_catalogue_packages asks the built allocbench for those not installed.
BUILD_PACKAGES=(
  build-essential cmake pkg-config git python3
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev
  valgrind
)
TEST_PACKAGES=(
  python3-matplotlib
  chromium
  clang libclang-rt-dev
)

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'run_all.sh: %s\n' "$*" >&2; exit 1; }

# install_missing PACKAGE...
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages: ${missing[*]}; run as root or install them with: apt-get install ${missing[*]}"
    SUDO=sudo
  else
    SUDO=
  fi
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get could not install: ${missing[*]}"
}

# install_catalogue_packages ALLOCBENCH: the package of each built-in allocator that is not
# installed (`allocbench --list-allocators --format=json`) and those of each built-in
# program that cannot run (`allocbench --list --format=json`).
install_catalogue_packages() {
  local packages programs
  packages=$("$1" --list-allocators --format=json | python3 -c '
import json, sys
for a in json.load(sys.stdin)["allocators"]:
    entry = a.get("catalogue") or {}
    if not a["available"] and entry.get("package"):
        print(entry["package"])') || die "cannot read the allocator catalogue from $1"
  programs=$("$1" --list --format=json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["programs"]:
    if not p["available"]:
        print("\n".join(p["packages"]))') || die "cannot read the programs from $1"
  packages=$(printf '%s\n%s\n' "$packages" "$programs" | sort -u)
  # shellcheck disable=SC2086 # one package name per line
  [ -z "$packages" ] || install_missing $packages
}

# configure_and_build DIR [cmake args...]; BUILD_TARGET=NAME builds that target alone
configure_and_build() {
  local dir=$1; shift
  log "building $dir${BUILD_TARGET:+ ($BUILD_TARGET)}"
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DALLOCBENCH_WERROR="$WERROR" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
}

run_ctest() {
  local dir=$1; shift
  log "testing $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@"
}

cmd_test() {
  install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  configure_and_build build/release
  install_catalogue_packages build/release/harness/allocbench
  configure_and_build build/asan -DALLOCBENCH_SANITIZER=address -DALLOCBENCH_ALLOCATOR_ONLY=ON
  configure_and_build build/tsan -DALLOCBENCH_SANITIZER=thread -DALLOCBENCH_ALLOCATOR_ONLY=ON
  local status=0
  run_ctest build/release || status=1
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 run_ctest build/asan || status=1
  TSAN_OPTIONS=halt_on_error=1 run_ctest build/tsan || status=1
  # The readers of result files and traces under libFuzzer, a bounded time each.
  log "building build/fuzz (clang, libFuzzer)"
  CC=clang CXX=clang++ cmake -S "$ROOT" -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DALLOCBENCH_FUZZ=ON -DALLOCBENCH_WERROR="$WERROR" \
    -DALLOCBENCH_FUZZ_SECONDS="${ALLOCBENCH_FUZZ_SECONDS:-20}" >/dev/null
  cmake --build build/fuzz -j "$JOBS"
  run_ctest build/fuzz || status=1
  # Regression check (README "Regression tracking"): a short suite of fio and glibc against
  # results/baseline/, fio as a ratio to glibc; fails only on a significant regression > 40%.
  log "regression check: fio/glibc against results/baseline"
  "$ROOT/harness/ci_regression.sh" check build/release || status=1
  [ $status -eq 0 ] || die "some tests failed (see above)"
  log "all test suites passed"
}

cmd_main() {
  install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  configure_and_build build/release
  install_catalogue_packages build/release/harness/allocbench
  "$ROOT/plots/run_suite.sh" "$@"
}

cmd_install() {
  case "${1:-}" in
    "") install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" ;;
    --minimal) install_missing "${BUILD_PACKAGES[@]}" ;;
    *) die "install: unknown argument '$1' (accepted: --minimal)" ;;
  esac
  BUILD_TARGET=allocbench configure_and_build build/release
  install_catalogue_packages build/release/harness/allocbench
}

case "${1:-}" in
  test) shift; cmd_test "$@" ;;
  install) shift; cmd_install "$@" ;;
  -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' ;;
  ""|--*) cmd_main "$@" ;;
  *) die "unknown command '$1' (accepted: no argument, --quick, test, install, --help)" ;;
esac
