#!/bin/sh
# tests/fault/short.t: the short form of load-kill.t for make check: 500
# messages from 5 clients under the same killer, at most 4 minutes.
LK_N=500 LK_C=5 LK_LIMIT=240 exec sh "$(dirname "$0")/load-kill.t"
