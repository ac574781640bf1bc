#!/bin/sh
# 38-listen-tls.t: the smtpd service with its three listeners (mx,
# submission, smtps) and a TLS process beside each session.
#  - install made a self-signed certificate: HOME/tls/default.key is
#    readable by terntls only, HOME/auth/passwd by ternauth only; ternd
#    opens neither (tried);
#  - every listener accepts; while a TLS session runs on each, tern-tlsd
#    runs as terntls beside tern-smtpd as ternd, and no process of the
#    instance but tern-tlsd maps libssl;
#  - tern-smtpd's environment says which listener it serves (TERN_LISTENER)
#    and where the TLS channel is (SSLCTLFD);
#  - a restart of the smtpd service while a client sits idle keeps
#    accepting new connections (tern-listen exits on SIGTERM and leaves the
#    session to finish by itself).
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-tlsd" ] || tap_skip_all "tern-tlsd not built"
tern_start || exit 1
tap_plan 30

tap_is "$(stat -c '%U:%G %a' "$ROOT/tls/default.key")" "root:terntls 640" "the key: root:terntls 0640"
tap_is "$(stat -c '%U:%G %a' "$ROOT/tls")" "root:terntls 750" "HOME/tls: root:terntls 0750"
tap_is "$(stat -c '%U:%G %a' "$ROOT/auth/passwd")" "root:ternauth 640" "the password file: root:ternauth 0640"
s6-setuidgid ternd cat "$ROOT/tls/default.key" >/dev/null 2>&1
tap_is "$?" 1 "ternd cannot read the TLS key"
s6-setuidgid ternd cat "$ROOT/auth/passwd" >/dev/null 2>&1
tap_is "$?" 1 "ternd cannot read the password file"
openssl x509 -in "$ROOT/tls/default.crt" -noout >/dev/null 2>&1
tap_ok $? "install made a certificate (HOME/tls/default.crt)"

for p in "$TERN_PORT" "$TERN_SUBMISSION_PORT" "$TERN_SMTPS_PORT"; do wait_for 10 tcp_up "$p"; done
# one session on each listener, inside TLS (STARTTLS on mx and submission,
# implicit on smtps), held idle for at most 40 s; the flag file says which
# handshakes were done
python3 - "$ROOT/held" "$TERN_PORT" "$TERN_SUBMISSION_PORT" "$TERN_SMTPS_PORT" <<'PY' &
import socket, ssl, sys, time
flag, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def starttls(p):
    s = socket.create_connection(("127.0.0.1", p), 10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO client.test\r\n")
    while f.readline()[3:4] == b"-":
        pass
    s.sendall(b"STARTTLS\r\n")
    f.readline()
    t = ctx.wrap_socket(s)
    return t
held, done = [], []
for p in ports[:2]:
    try:
        held.append(starttls(p)); done.append("tls")
    except (OSError, ssl.SSLError):
        done.append("none")
try:
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", ports[2]), 10))
    held.append(t); done.append("tls" if t.recv(200).startswith(b"220") else "none")
except (OSError, ssl.SSLError):
    done.append("none")
with open(flag, "w") as f:
    f.write(" ".join(done))
time.sleep(40)
PY
HELD=$!
wait_for 15 test -s "$ROOT/held"
sleep 0.5
tap_is "$(cat "$ROOT/held")" "tls tls tls" "a TLS session runs on each listener (STARTTLS on mx and submission, smtps)"
pids() { for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$ROOT/bin/$1" ] && basename "$p"; done; }
smtpd=$(pids tern-smtpd); tlsd=$(pids tern-tlsd)
tap_is "$(echo $smtpd | wc -w) $(echo $tlsd | wc -w)" "3 3" "three sessions: three tern-smtpd, three tern-tlsd"
tap_is "$(for p in $smtpd; do stat -c %U /proc/$p; done | sort -u | tr '\n' ' ')" "ternd " "tern-smtpd runs as ternd"
tap_is "$(for p in $tlsd; do stat -c %U /proc/$p; done | sort -u | tr '\n' ' ')" "terntls " "tern-tlsd runs as terntls"
maps=0; for p in $smtpd; do grep -q libssl "/proc/$p/maps" && maps=1; done
tap_ok $maps "no tern-smtpd maps libssl"
maps=1; for p in $tlsd; do grep -q libssl "/proc/$p/maps" || maps=0; done
tap_is "$maps" 1 "every tern-tlsd maps libssl"
listeners=$(for p in $smtpd; do tr '\0' '\n' < /proc/$p/environ | sed -n 's/^TERN_LISTENER=//p'; done | sort | tr '\n' ' ')
tap_is "$listeners" "mx smtps submission " "TERN_LISTENER names each session's listener"
ctl=$(for p in $smtpd; do tr '\0' '\n' < /proc/$p/environ | grep -c '^SSLCTLFD=3$'; done | sort -u | tr '\n' ' ')
tap_is "$ctl" "1 " "each tern-smtpd has SSLCTLFD=3 (its TLS channel)"
others=$(tern_ps | awk '$2 != "tern-tlsd" && $1 == "terntls"')
tap_is "$others" "" "nothing else runs as terntls"
# every process of the instance (its programs, and s6's, the loggers and the
# auth service: started from or working in $ROOT; not this test's client): only
# tern-tlsd maps libssl
seen=$(for p in /proc/[0-9]*; do
  [ "$p" = "/proc/$HELD" ] && continue
  e=$(readlink "$p/exe" 2>/dev/null) || continue
  case "$e $(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) $(readlink "$p/cwd" 2>/dev/null)/" in *"$ROOT/"*) ;; *) continue ;; esac
  if grep -q libssl "$p/maps" 2>/dev/null; then echo "$(basename "$e") ssl"; else echo "$(basename "$e") -"; fi
done | sort -u)
diag "processes of the instance: $(echo $seen)"
ssl=$(echo "$seen" | awk '$2 == "ssl" && $1 != "tern-tlsd" { print $1 }' | tr '\n' ' ')
tap_is "$ssl" "" "no process of the instance but tern-tlsd maps libssl"

# restart the smtpd service while the three sessions sit idle
old=$(pids tern-listen)
s6-svc -r "$ROOT/service/smtpd"
wait_for 10 sh -c "p=\$(for p in /proc/[0-9]*; do [ \"\$(readlink \$p/exe 2>/dev/null)\" = '$ROOT/bin/tern-listen' ] && basename \$p; done); [ -n \"\$p\" ] && [ \"\$p\" != '$old' ]"
tap_ok $? "a new tern-listen runs after the restart"
wait_for 10 tcp_up "$TERN_PORT"
r=$(python3 -c "
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10)
print(s.noop()[0]); s.quit()" "$TERN_PORT" 2>&1)
tap_is "$r" 250 "a new client is served while the old sessions still sit idle"
tap_is "$(pids tern-smtpd | wc -w)" 3 "the old sessions go on after the restart"
kill $HELD 2>/dev/null

# a plaintext session on the mx listener (EHLO, never STARTTLS): its TLS
# process waits as terntls, a copy of tern-listen that maps no libssl, and
# tern-tlsd never runs; the process ends with the session
python3 - "$ROOT/plain" "$TERN_PORT" <<'PY' &
import os, socket, sys, time
flag, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), 10)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO client.test\r\n")
ehlo = []
while True:
    l = f.readline(); ehlo.append(l)
    if l[3:4] != b"-": break
with open(flag, "w") as o:
    o.write("starttls" if any(b"STARTTLS" in l for l in ehlo) else "none")
end = time.time() + 30
while not os.path.exists(flag + ".quit") and time.time() < end:
    time.sleep(0.1)
s.sendall(b"QUIT\r\n"); f.readline(); s.close()
PY
PLAIN=$!
wait_for 15 test -s "$ROOT/plain"
tap_is "$(cat "$ROOT/plain")" starttls "a plaintext session on mx is offered STARTTLS"
waiting() { for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$ROOT/bin/tern-listen" ] && [ "$(stat -c %U "$p")" = terntls ] && basename "$p"; done; }
wait_for 10 sh -c "[ -z \"\$(for p in /proc/[0-9]*; do [ \"\$(readlink \$p/exe 2>/dev/null)\" = '$ROOT/bin/tern-tlsd' ] && echo \$p; done)\" ]"
w=$(waiting)
m=0; for p in $w; do grep -q libssl "/proc/$p/maps" && m=1; done
tap_is "$(echo $w | wc -w) $m" "1 0" "its TLS process waits as terntls: tern-listen's code, no libssl mapped"
tap_is "$(pids tern-tlsd | wc -w)" 0 "no tern-tlsd runs for a session that never says STARTTLS"
touch "$ROOT/plain.quit"; wait $PLAIN
wait_for 10 sh -c "! for p in /proc/[0-9]*; do [ \"\$(readlink \$p/exe 2>/dev/null)\" = '$ROOT/bin/tern-listen' ] && [ \"\$(stat -c %U \$p)\" = terntls ] && exit 0; done; exit 1"
tap_is "$(waiting | wc -w)" 0 "the waiting TLS process ends with the session"
# three plaintext sessions; the middle one says QUIT: it is closed at once,
# though the waiting TLS processes of the others were forked while it was
# open (none of them may hold another session's socket)
r=$(python3 - "$TERN_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn(ip):
    s = socket.create_connection(("127.0.0.1", port), 10, source_address=(ip, 0))
    s.recv(200)
    return s
f = conn("127.0.0.4"); a = conn("127.0.0.5"); b = conn("127.0.0.6")
a.sendall(b"QUIT\r\n")
a.settimeout(5)
got = b""
t0 = time.time()
try:
    while True:
        d = a.recv(200)
        if not d:
            print("closed %.1f" % (time.time() - t0)); break
        got += d
except socket.timeout:
    print("open after 221: %r" % got)
for s in (f, b):
    s.sendall(b"QUIT\r\n"); s.close()
PY
)
tap_ok "$(case "$r" in closed*) echo 0;; *) echo 1;; esac)" "QUIT closes the session while other sessions' TLS processes wait ($r)"

# the password socket: ternd asks through s6-sudo (control/authcheck), the
# check runs as ternauth; nobody else is let in
printf 'bob@demo.test:%s\n' "$(printf 'hunter2\n' | "$ROOT/bin/tern-authfile" -m)" > "$ROOT/auth/passwd"
wait_for 10 test -S "$ROOT/sock/auth"
tap_ok $? "the auth service's socket is up"
ask() { printf '%s\000%s\000x\000' "$2" "$3" | s6-setuidgid "$1" $(cat "$ROOT/control/authcheck") >/dev/null 2>&1; echo $?; }
tap_is "$(ask ternd bob@demo.test hunter2)" 0 "ternd through control/authcheck: right password, 0"
tap_is "$(ask ternd bob@demo.test hunter3)" 1 "ternd through control/authcheck: wrong password, 1"
r=$(ask nobody bob@demo.test hunter2)
tap_ok "$([ "$r" != 0 ] && [ "$r" != 1 ]; echo $?)" "nobody is not let in to the password socket (exit $r)"

# each listener has its slots to itself: with the mx listener full of idle
# strangers, submission and smtps still greet (a flood on 25 never locks
# authenticated users out)
printf '8\n' > "$ROOT/control/concurrencyincoming"; printf '2\n' > "$ROOT/control/concurrencyrelay"
printf '0\n' > "$ROOT/control/timeoutstress"
s6-svc -r "$ROOT/service/smtpd"; sleep 1; wait_for 10 tcp_up "$TERN_PORT"
r=$(python3 - "$TERN_PORT" "$TERN_SUBMISSION_PORT" "$TERN_SMTPS_PORT" <<'PY'
import socket, ssl, sys
mx, sub, smtps = (int(a) for a in sys.argv[1:])
held = []
for i in range(12):
    try:
        c = socket.create_connection(('127.0.0.1', mx), 5, source_address=('127.0.0.%d' % (20 + i), 0))
        held.append((c, c.recv(200)))
    except OSError:
        pass
full = sum(1 for c, g in held if g.startswith(b'220')) == 6 and any(g.startswith(b'421') for c, g in held)
s = socket.create_connection(('127.0.0.1', sub), 5, source_address=('127.0.0.40', 0))
g1 = s.recv(200)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection(('127.0.0.1', smtps), 5, source_address=('127.0.0.41', 0)))
g2 = t.recv(200)
print('%s %s %s' % ('full' if full else 'notfull', g1[:3].decode(), g2[:3].decode()))
PY
)
tap_is "${r%% *}" full "the mx listener is full for strangers (6 of 8 slots, 2 kept for relay clients)"
tap_is "${r#* }" "220 220" "submission and smtps still greet: their slots are their own"
