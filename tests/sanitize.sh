#!/bin/sh
# tests/sanitize.sh [REPO]: the whole suite once under AddressSanitizer and
# UndefinedBehaviorSanitizer (`make -k check SANITIZE=1`), in a throwaway
# clone, so the binaries of the working tree are left alone.
#
# REPO (default: the repository holding this script) is cloned at its
# current HEAD into /tmp/tern-san.XXXXXX (uncommitted changes are not
# included); the clone is removed at the end unless KEEP=1.
#
# The sanitized programs run under s6 with `env -`, so ASAN_OPTIONS never
# reaches them: common/sanitize.c compiles in the defaults (no leak reports,
# every report to /tmp/tern-asan/{asan,ubsan}.PID). This script creates that
# directory (mode 1777: the programs run under several uids) and fails if
# any report appeared in it during the run, printing the reports.
#
# The shared SMTP/sendmail cases are taken from $TERN_CASES, default
# REPO/../shared/cases. Needs root, like the integration tests.
# Exit: 0 if make check passed and no sanitizer report was written, 1 if
# not, 111 on a setup error.
set -u
src=$(cd "${1:-$(dirname "$0")/..}" && git rev-parse --show-toplevel) || exit 111
logdir=/tmp/tern-asan
if [ -z "${TERN_CASES:-}" ] && [ -d "$src/../shared/cases" ]; then
  TERN_CASES=$(cd "$src/../shared/cases" && pwd); export TERN_CASES
fi
work=$(mktemp -d /tmp/tern-san.XXXXXX) || exit 111
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
git clone -q "$src" "$work/tern" || exit 111
mkdir -p "$logdir" && chmod 1777 "$logdir" || exit 111
stamp=$work/stamp
: > "$stamp"
# the same defaults for programs started directly by make and the tests
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1:log_path=$logdir/asan
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=0:log_path=$logdir/ubsan
# TERN_SANITIZE: memory-bound tests add the sanitizer runtime's own RSS
TERN_SANITIZE=1
export ASAN_OPTIONS UBSAN_OPTIONS TERN_SANITIZE
cd "$work/tern" || exit 111
echo "sanitize: $(git log -1 --format='%h %s') in $work/tern"
jobs=$(nproc 2>/dev/null || echo 1)
rc=0
make -j"$jobs" SANITIZE=1 programs > "$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; exit 1; }
make -k check SANITIZE=1 || rc=1
reports=$(find "$logdir" -type f -newer "$stamp" 2>/dev/null)
if [ -n "$reports" ]; then
  echo "sanitize: reports written during the run:"
  for f in $reports; do echo "== $f"; head -n 60 "$f"; done
  rc=1
else
  echo "sanitize: no sanitizer report in $logdir"
fi
[ $rc = 0 ] && echo "sanitize: ok" || echo "sanitize: FAILED"
exit $rc
