#!/bin/sh
# 60-attack-smtpd.t: resource attacks on a full instance, small bounds.
# For each attack: the documented reply, bounded memory (VmHWM of the
# tern-smtpd serving the attack, found by its TCPREMOTEPORT, and of
# tern-listen), and a normal client served (message accepted) while the
# attack runs.
#  1. 1,000 idle connections. control/concurrencyincoming and
#     concurrencyperip are set to 1000 (tern-listen -c 1000 -C 1000, its
#     maximum; they come from 127.0.0.1, a relay client) before tern_start, so all
#     1,000 get the 220 greeting and sit idle; the 1,001st is not
#     answered (no 421: tern-listen pauses accept at the total limit and
#     the client waits in the listen queue); after 100 idle ones close, it
#     is greeted, and a normal client is served while 900 stay idle.
#  2. one byte per second: the session cap (control/timeoutsession 4)
#     ends it with 421 4.4.2 although every read succeeds in time.
#  3. a 100 MiB line with no newline, streamed: one 500 5.5.6 when the
#     line ends, then the session works (NOOP 250).
#  4. 100,000 RCPTs pipelined: 100 x 250 (maxrcpt), then 452 4.5.3 each.
#  5. a message of databytes+1 octets: 552 5.3.4, nothing queued; one of
#     exactly databytes is accepted.
# Whole test well under 2 minutes. Every wait bounded.
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
printf '1000\n' > "$ROOT/control/concurrencyincoming"
printf '1000\n' > "$ROOT/control/concurrencyperip"
printf '100000\n' > "$ROOT/control/databytes"
# the service inherits our fd limit: 1,000 connections need more than 1024
ulimit -n 8192 2>/dev/null
tern_start || exit 1

export ROOT TERN_PORT
python3 "$SRC/tests/integration/60-attack-smtpd.py"
