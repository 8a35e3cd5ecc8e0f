#!/usr/bin/env bash
# allocbench: one entry point for a fresh machine.
#
#   ./run_all.sh            install what is missing, build, run the default suite, draw the charts
#   ./run_all.sh --quick    the same, about one minute of measurement
#   ./run_all.sh test       install what is missing, build, run every test (Release, ASan+UBSan, TSan)
#                           and fuzz each reader for ALLOCBENCH_FUZZ_SECONDS (default 20)
#   ./run_all.sh install [--minimal]
#                           install what is missing and stop; --minimal: only what the build
#                           and the peer allocators need (CI workflows, examples/)
#
# Environment: ALLOCBENCH_WERROR=ON turns warnings into errors (CI sets it);
# ALLOCBENCH_JOBS overrides the build parallelism.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

JOBS=${ALLOCBENCH_JOBS:-$(nproc)}
WERROR=${ALLOCBENCH_WERROR:-OFF}

# Debian packages the build, the peers and the tests need. PEER_PACKAGES brings the
# library of each allocator of the catalogue (harness/run/allocator_catalogue.cpp, whose
# `package` names the Debian package that ships it); the -dev names are the same on
# Debian and Ubuntu and pull the library in.
BUILD_PACKAGES=(
  build-essential cmake pkg-config git python3
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev
)
PEER_PACKAGES=(
  libmimalloc-dev libgoogle-perftools-dev libjemalloc-dev libtbbmalloc2
)
TEST_PACKAGES=(
  python3-matplotlib
  chromium
  clang libclang-rt-dev
)
PACKAGES=("${BUILD_PACKAGES[@]}" "${PEER_PACKAGES[@]}" "${TEST_PACKAGES[@]}")

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'run_all.sh: %s\n' "$*" >&2; exit 1; }

install_missing() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
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

# configure_and_build DIR [cmake args...]
configure_and_build() {
  local dir=$1; shift
  log "building $dir"
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DALLOCBENCH_WERROR="$WERROR" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

run_ctest() {
  local dir=$1; shift
  log "testing $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@"
}

cmd_test() {
  install_missing
  configure_and_build build/release
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
  install_missing
  configure_and_build build/release
  "$ROOT/plots/run_suite.sh" "$@"
}

cmd_install() {
  case "${1:-}" in
    "") ;;
    --minimal) PACKAGES=("${BUILD_PACKAGES[@]}" "${PEER_PACKAGES[@]}") ;;
    *) die "install: unknown argument '$1' (accepted: --minimal)" ;;
  esac
  install_missing
}

case "${1:-}" in
  test) shift; cmd_test "$@" ;;
  install) shift; cmd_install "$@" ;;
  -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' ;;
  ""|--*) cmd_main "$@" ;;
  *) die "unknown command '$1' (accepted: no argument, --quick, test, install, --help)" ;;
esac
