#!/bin/sh
# 13-smtpd-dumpable.t: one SMTP session's process cannot read another's
# memory. Every tern-smtpd runs as ternd; a compromised one could open
# /proc/PID/mem of its neighbours (same uid) and read their envelopes.
# tern-smtpd makes itself non-dumpable (prctl PR_SET_DUMPABLE 0), so its
# /proc/PID files belong to root: a ternd process opening the other
# session's /proc/PID/mem gets EACCES or EPERM. Nor does a session hold
# another's socket (tern-listen keeps a copy of each, close-on-exec).
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
tern_start || exit 1
tap_plan 6
# two sessions held open (greeted, a MAIL FROM given) for at most 30 s
python3 - "$TERN_PORT" "$ROOT/held" <<'PY' &
import socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
s = []
for i in range(2):
    c = socket.create_connection(("127.0.0.1", port), 10)
    c.recv(512)
    c.sendall(b"EHLO a.test\r\nMAIL FROM:<secret%d@demo.test>\r\n" % i)
    s.append(c)
time.sleep(1)
open(flag, "w").close()
time.sleep(30)
PY
HELD=$!
wait_for 15 test -e "$ROOT/held"
pids=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$ROOT/bin/tern-smtpd" ] && basename "$p"; done)
tap_is "$(echo $pids | wc -w)" 2 "two tern-smtpd sessions running"
a=$(echo $pids | cut -d' ' -f1); b=$(echo $pids | cut -d' ' -f2)
tap_is "$(stat -c %U "/proc/$b/mem")" root "/proc/PID/mem of a session belongs to root (non-dumpable)"
# the first readable mapping of session b, found by root
addr=$(awk '$2 ~ /^r/ {split($1, r, "-"); print r[1]; exit}' "/proc/$b/maps")
try_mem() { # PID ADDR: as ternd, open and read /proc/PID/mem; prints read or the errno name
  s6-setuidgid ternd python3 -c '
import errno, sys
try:
    f = open("/proc/%s/mem" % sys.argv[1], "rb", buffering=0)
    f.seek(int(sys.argv[2], 16))
    f.read(16)
    print("read")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
' "$1" "$2"
}
r=$(try_mem "$b" "$addr")
case $r in EACCES|EPERM) ok=0 ;; *) ok=1 ;; esac
tap_ok $ok "a ternd process cannot read another session's /proc/$b/mem (got $r)"
# and the other way round
addr=$(awk '$2 ~ /^r/ {split($1, r, "-"); print r[1]; exit}' "/proc/$a/maps")
r=$(try_mem "$a" "$addr")
case $r in EACCES|EPERM) ok=0 ;; *) ok=1 ;; esac
tap_ok $ok "nor that of the other session /proc/$a/mem (got $r)"
# fd 3 and 4 are the UCSPI-TLS pair to its own tern-tlsd (Unix sockets)
socks=$(for f in /proc/$b/fd/*; do case ${f##*/} in 3|4) ;; *) readlink "$f" ;; esac; done | grep '^socket:' | sort -u | wc -l)
tap_is "$socks" 1 "a session holds one network socket, its own (fd 0 and 1)"
unixfds=0
for f in 3 4; do
  i=$(readlink "/proc/$b/fd/$f" 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
  [ -z "$i" ] || awk -v i="$i" '$7 == i {f=1} END {exit !f}' /proc/net/unix || unixfds=1
done
tap_ok $unixfds "its fd 3 and 4, if any, are Unix sockets (the TLS channel)"
kill "$HELD" 2>/dev/null; wait "$HELD" 2>/dev/null
tap_done
