#!/bin/sh
# tests/fault/short.t: the short form of load-kill.t for make check: 500
# messages from 5 clients under the same killer, at most 4 minutes.
. "$(dirname "$0")/../integration/lib.sh"
tern_init
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
tern_install || tap_abort install
tern_start || tap_abort start
export ROOT MAILDIR TERN_PORT
LK_N=500 LK_C=5 LK_LIMIT=240 python3 "$SRC/tests/fault/loadkill.py"
