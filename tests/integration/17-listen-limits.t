#!/bin/sh
# 17-listen-limits.t: tern-listen's session limits (tern-listen.8 LIMITS)
#   a) with the shipped limits (no concurrency control files), one sender
#      that is no relay client (127.0.0.2) opens 50 sessions at once: all
#      50 greeted; the 51st gets 421 (control/concurrencyperip, 50);
#   b) the limits are control files: concurrencyincoming 4 and
#      concurrencyrelay 1, then the service restarted: with 4 sessions
#      live a 5th client is not answered 421 but waits in the listen queue
#      (no byte within 2 s; "accept paused" logged) and is greeted once
#      one session ends ("accepting again"); nothing was refused at the
#      total limit;
#   c) only live sessions count: after all of them end, 4 new ones are
#      greeted at once.
# Every wait bounded; the whole test takes well under a minute.
. "$(dirname "$0")/lib.sh"
# ports outside lib.sh's range (2700-2949, +300, +600), free when we start,
# so that a concurrent test's server on the same port cannot answer for ours
free3() { python3 -c "
import socket, sys
for p in (int(sys.argv[1]), int(sys.argv[1]) + 300, int(sys.argv[1]) + 600):
    s = socket.socket(); s.bind(('127.0.0.1', p)); s.close()" "$1" 2>/dev/null; }
TERN_PORT=$((3600 + $$ % 300))
n=0
while ! free3 "$TERN_PORT" && [ $n -lt 50 ]; do TERN_PORT=$((3600 + (TERN_PORT - 3600 + 7) % 300)); n=$((n + 1)); done
tern_init
tap_plan 9
tern_install || exit 1
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
ulimit -n 4096 2>/dev/null
tern_start || exit 1
export ROOT TERN_PORT
cat > "$ROOT/l17.py" <<'PY'
import os, socket, sys, time
PORT = int(os.environ["TERN_PORT"])
def greet(src, timeout=10):
    s = socket.create_connection(("127.0.0.1", PORT), timeout, source_address=(src, 0))
    s.settimeout(timeout)
    try:
        return s, s.recv(512)
    except socket.timeout:
        return s, b"(nothing)"
def line(b):
    return b.decode(errors="replace").strip()
mode = sys.argv[1]
if mode == "fifty":
    socks = []
    for i in range(50):   # all opened before any is closed
        socks.append(greet("127.0.0.2"))
    print("greeted", sum(1 for _, l in socks if l.startswith(b"220")))
    s51, l51 = greet("127.0.0.2")
    print("51st", line(l51)[:3])
    for s, _ in socks + [(s51, 0)]:
        s.close()
elif mode == "pause":
    socks = [greet("127.0.0.1") for _ in range(4)]
    print("greeted", sum(1 for _, l in socks if l.startswith(b"220")))
    s5 = socket.create_connection(("127.0.0.1", PORT), 5)
    s5.settimeout(2)
    try:
        got = s5.recv(512)
    except socket.timeout:
        got = b"(nothing)"
    print("5th while full", line(got)[:9])
    socks[0][0].close()
    s5.settimeout(10)
    t0 = time.time()
    try:
        got = s5.recv(512)
    except socket.timeout:
        got = b"(nothing)"
    print("5th after one ended", line(got)[:3], "within 10 s" if time.time() - t0 < 10 else "late")
    for s, _ in socks[1:]:
        s.close()
    s5.close()
    time.sleep(1)
    again = [greet("127.0.0.1", 5) for _ in range(4)]
    print("after all ended", sum(1 for _, l in again if l.startswith(b"220")))
    for s, _ in again:
        s.close()
PY
python3 "$ROOT/l17.py" fifty > "$ROOT/a.out" 2>&1
sed 's/^/# /' "$ROOT/a.out"
tap_is "$(grep '^greeted' "$ROOT/a.out")" "greeted 50" "shipped limits: one non-relay sender holds 50 sessions at once"
tap_is "$(grep '^51st' "$ROOT/a.out")" "51st 421" "its 51st session gets 421 (per-IP limit)"

echo 4 > "$ROOT/control/concurrencyincoming"
echo 1 > "$ROOT/control/concurrencyrelay"
L=$ROOT/log/smtpd/current
old=$(grep -c 'info: listening' "$L")
s6-svc -t "$ROOT/service/smtpd"
wait_for 100 sh -c "[ \$(grep -c 'info: listening' '$L') -gt $old ]"
wait_for 50 tern_smtp_up
tap_ok $? "smtpd restarted with concurrencyincoming 4, concurrencyrelay 1"
sleep 1
python3 "$ROOT/l17.py" pause > "$ROOT/b.out" 2>&1
sed 's/^/# /' "$ROOT/b.out"
tap_is "$(grep '^greeted' "$ROOT/b.out")" "greeted 4" "4 sessions (the limit) greeted"
tap_is "$(grep '^5th while full' "$ROOT/b.out")" "5th while full (nothing)" "at the total limit a 5th client is not answered (no 421): it waits"
tap_is "$(grep '^5th after one ended' "$ROOT/b.out")" "5th after one ended 220 within 10 s" "once a session ends, the waiting client is greeted"
tap_ok "$(grep -q 'accept paused' "$L" && grep -q 'accepting again' "$L"; echo $?)" "the pause and the resumption are logged"
tap_is "$(grep -c 'refused.*total connection limit' "$L")" 0 "nothing refused at the total limit"
tap_is "$(grep '^after all ended' "$ROOT/b.out")" "after all ended 4" "only live sessions count: 4 new sessions greeted after the others ended"
