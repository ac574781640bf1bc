#!/bin/sh
# tests/fault/load-kill.t: 5,000 messages through SMTP from 20 clients while
# a random process of the instance is SIGKILLed every 200-800 ms
# (tests/fault/loadkill.py; see tests/fault/README). Gives up after 10 min.
. "$(dirname "$0")/../integration/lib.sh"
tern_init
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
tern_install || tap_abort install
tern_start || tap_abort start
export ROOT MAILDIR TERN_PORT
LK_N=${LK_N:-5000} LK_C=${LK_C:-20} LK_LIMIT=${LK_LIMIT:-600} python3 "$SRC/tests/fault/loadkill.py"
