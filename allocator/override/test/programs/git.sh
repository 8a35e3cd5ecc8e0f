#!/usr/bin/env bash
# git under the shim: the same repository history built on glibc and under the shim (a
# few hundred files, two commits, a gc) must give the same commit ids, trees, log, diff
# and a clean fsck.
#   git.sh SHIM
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../shim_lib.sh"
shim_setup "$1"
command -v git > /dev/null || { echo "git is not installed" >&2; exit 2; }

# Fixed identity and dates make the commit ids depend on the content alone.
export HOME="$WORK/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C TZ=UTC
export GIT_AUTHOR_NAME=allocbench GIT_AUTHOR_EMAIL=allocbench@example.org
export GIT_COMMITTER_NAME=allocbench GIT_COMMITTER_EMAIL=allocbench@example.org
export GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
mkdir "$HOME"

make_files() { # DIR: 300 files in 12 directories, from a fixed seed
  awk -v dir="$1" 'BEGIN {
    srand(7);
    for (f = 0; f < 300; f++) {
      path = sprintf("%s/module%02d/file%03d.txt", dir, f % 12, f);
      if (f < 12) system("mkdir -p " dir "/module" sprintf("%02d", f));
      lines = 5 + int(rand() * 200);
      for (l = 0; l < lines; l++) printf "line %d of file %d: %08x\n", l, f, int(rand() * 4294967295) > path;
      close(path);
    }
  }'
}

for mode in plain preloaded; do
  repo="$WORK/repo-$mode"
  mkdir "$repo"
  make_files "$repo"
  (
    cd "$repo"
    $mode git init -q -b main .
    $mode git add -A
    $mode git commit -q -m "three hundred files"
    for f in module0*/file0[0-4]*.txt; do echo "changed" >> "$f"; done
    $mode git rm -q module11/file011.txt
    $mode git commit -q -a -m "change some, remove one"
    $mode git rev-parse HEAD HEAD~1
    $mode git ls-tree -r HEAD
    $mode git log --stat --format='%H %an %s'
    $mode git diff HEAD~1 HEAD
    $mode git gc -q
    $mode git fsck --full --strict --no-progress
    $mode git log -p --format=%H | sha256sum
  ) > "$WORK/$mode.out"
done
same "$WORK/plain.out" "$WORK/preloaded.out" "git's view of the repository"
served git
echo "git: same history under the shim, HEAD $(head -n 1 "$WORK/preloaded.out")"
