#!/bin/sh
# tests/fault/crash.t: the systematic crash test and the durability check
# (tests/fault/crash.py, tests/fault/durability.py; see tests/fault/README).
# CRASH_SHORT=1 runs the short form (make check).
. "$(dirname "$0")/../integration/lib.sh"
tern_init
command -v strace >/dev/null || tap_skip_all "strace not installed"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
tern_install || tap_abort install
export ROOT MAILDIR SRC
python3 "$SRC/tests/fault/crash.py"
