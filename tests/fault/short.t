#!/bin/sh
# tests/fault/short.t: the short form of load-kill.t for make check: 500
# messages from 5 clients under the same killer, at most 4 minutes.
. "$(dirname "$0")/../integration/lib.sh"
tern_init
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
tern_install || { echo "1..1"; echo "not ok 1 - install"; exit 1; }
tern_start || { echo "1..1"; echo "not ok 1 - start"; exit 1; }
export ROOT MAILDIR TERN_PORT
LK_N=500 LK_C=5 LK_LIMIT=240 python3 "$SRC/tests/fault/loadkill.py"
