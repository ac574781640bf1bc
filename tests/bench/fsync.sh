#!/bin/sh
# tests/bench/fsync.sh: fsync-like calls per delivered message on a private
# tern instance alone (no Postfix): FSYNC_N messages of 4 KiB from FSYNC_C
# parallel smtp-source clients, every process of the instance under
# strace -f (bench.py's fsync_run), then per program, and for tern-queued
# its server process (the group commit's directory flushes) apart from its
# client processes (one file flush each). Needs root, strace, smtp-source.
set -u
FSYNC_N=${FSYNC_N:-200}
FSYNC_C=${FSYNC_C:-10}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
[ "$(id -u)" = 0 ] || { echo "fsync: needs root" >&2; exit 1; }
for t in strace smtp-source; do command -v $t >/dev/null || { echo "fsync: $t missing" >&2; exit 1; }; done
tern_init
trap tern_stop EXIT
tern_install || { echo "fsync: tern_install failed" >&2; exit 1; }
printf '250\n' > "$ROOT/control/concurrencyincoming"
printf '250\n' > "$ROOT/control/concurrencyperip"
tern_start || { echo "fsync: tern did not start" >&2; exit 1; }
SRC=$SRC python3 - "$TERN_PORT" "$MAILDIR" "$ROOT" "$SVSCAN_PID" "$FSYNC_N" "$FSYNC_C" <<'PY'
import os, re, sys
sys.path.insert(0, os.path.join(os.environ.get('SRC', '.'), 'tests', 'bench'))
import bench
port, md, root, svpid, n, c = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
inst = bench.Instance('tern:%s:%s::%s/queue/msg:%s' % (port, md, root, svpid))
server = [p for p in inst.pids() if bench.progname(p) == 'tern-queued']
td = root + '/traces'
f = bench.fsync_run(inst, 4096, n, c, td, 120)
print('fsync/msg %.2f (%d delivered of %d): %s' % (f['fsync_msg'], f['delivered'], n, f['per_program']))
# tern-queued's server: its own trace file (attached by pid)
dirs = files = 0
for p in server:
    try:
        with open('%s/t.%d' % (td, p)) as fh:
            dirs += sum(1 for l in fh if l.startswith('fsync('))
    except OSError:
        pass
print('tern-queued server: %d directory flushes for %d messages: k = %.1f messages per flush'
      % (dirs, f['delivered'] or n, (f['delivered'] or n) / dirs if dirs else 0))
PY
