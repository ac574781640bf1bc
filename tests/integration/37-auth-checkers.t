#!/bin/sh
# 37-auth-checkers.t: the two checkpassword programs of SMTP AUTH, driven
# the way tern-smtpd drives them (request "user\0password\0stamp\0" on fd 3,
# exit 0 / 1 / 111):
#   tern-authfile over a yescrypt password file it hashed itself (-m);
#   tern-authdovecot against a private Dovecot (auth service only, a
#   passwd-file, its auth-client socket in the test root), and against a
#   fake server that breaks the protocol (111, never 0).
. "$(dirname "$0")/lib.sh"
AF=$SRC/smtpd/tern-authfile
AD=$SRC/smtpd/tern-authdovecot
[ -x "$AF" ] && [ -x "$AD" ] || tap_skip_all "checkers not built"
T=$(mktemp -d /tmp/tern-auth35.XXXXXX)
chmod 0755 "$T"
DPID=
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; [ -n "${TERN_KEEP:-}" ] || rm -rf "$T"' EXIT
tap_plan 16
req() { printf '%s\000%s\000<1.2@test>\000' "$1" "$2" > "$T/req"; }
run() { "$@" 3< "$T/req" > "$T/out" 2>&1; echo $?; }

# tern-authfile
h=$(printf 'c0rrect horse\n' | "$AF" -m)
case $h in '$y$'*) tap_ok 0 "tern-authfile -m prints a yescrypt hash" ;; *) tap_ok 1 "tern-authfile -m: $h" ;; esac
printf '# submission users\nbob@demo.test:%s\nlocked@demo.test:!%s\n' "$h" "$h" > "$T/passwd"
req bob@demo.test 'c0rrect horse'; tap_is "$(run "$AF" -f "$T/passwd")" 0 "authfile: right password: 0"
req bob@demo.test 'wrong'; tap_is "$(run "$AF" -f "$T/passwd")" 1 "authfile: wrong password: 1"
req nobody@demo.test 'c0rrect horse'; tap_is "$(run "$AF" -f "$T/passwd")" 1 "authfile: unknown user: 1"
req locked@demo.test 'c0rrect horse'; tap_is "$(run "$AF" -f "$T/passwd")" 1 "authfile: locked entry (!hash): 1"
req bob@demo.test 'c0rrect horse'; tap_is "$(run "$AF" -f "$T/missing")" 111 "authfile: unreadable file: 111"
printf 'bob@demo.test\000c0rrect horse' > "$T/req"; tap_is "$(run "$AF" -f "$T/passwd")" 2 "authfile: malformed request: 2 (usage)"
req bob@demo.test 'c0rrect horse'
tap_is "$("$AF" -0 -f "$T/passwd" echo ran < "$T/req" 2>&1)" ran "authfile -0 reads fd 0 and runs prog on success"

# tern-authdovecot against Dovecot
if [ -x /usr/sbin/dovecot ]; then
  D=$T/dovecot
  mkdir -p "$D/run" "$D/state"; chmod 0755 "$D" "$D/run"
  printf 'alice@demo.test:{PLAIN}dv-secret\n' > "$D/passwd"; chmod 0644 "$D/passwd"
  cat > "$D/dovecot.conf" <<EOF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
protocols =
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
EOF
  /usr/sbin/dovecot -c "$D/dovecot.conf" -F > "$D/stdout.log" 2>&1 &
  DPID=$!
  wait_for 15 test -S "$D/run/auth-client"
  tap_ok $? "private Dovecot's auth-client socket is up"
  chmod 0700 "$T"      # Dovecot's auth process can no longer read its passwd-file
  req alice@demo.test dv-secret; tap_is "$(run "$AD" -s "$D/run/auth-client")" 111 "authdovecot: Dovecot's internal failure is temporary: 111"
  chmod 0755 "$T"
  req alice@demo.test dv-secret; tap_is "$(run "$AD" -s "$D/run/auth-client")" 0 "authdovecot: right password: 0"
  req alice@demo.test nope; tap_is "$(run "$AD" -s "$D/run/auth-client")" 1 "authdovecot: wrong password: 1"
  req mallory@demo.test dv-secret; tap_is "$(run "$AD" -s "$D/run/auth-client")" 1 "authdovecot: unknown user: 1"
else
  for i in 1 2 3 4 5; do tap_ok 0 "skipped: /usr/sbin/dovecot missing"; done
fi
req alice@demo.test dv-secret
tap_is "$(run "$AD" -s "$T/nosocket")" 111 "authdovecot: no socket: 111"
# a fake server that answers OK for another request id, then garbage
python3 - "$T/fake" > "$T/fake.log" 2>&1 <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(20)
for reply in (b'VERSION\t1\t2\nMECH\tPLAIN\nDONE\nOK\t2\n', b'VERSION\t1\t2\nMECH\tPLAIN\nDONE\n' + b'A' * 20000):
    c, _ = s.accept(); c.recv(4096); c.sendall(reply)
    try:
        c.recv(4096); c.sendall(reply[-6:])
    except OSError:
        pass
    c.close()
EOF
FPID=$!
wait_for 10 test -S "$T/fake"
tap_is "$(run "$AD" -t 5 -s "$T/fake")" 111 "authdovecot: OK for another id is not a success: 111"
tap_is "$(run "$AD" -t 5 -s "$T/fake")" 111 "authdovecot: over-long line from the server: 111"
kill $FPID 2>/dev/null || :   # it may have ended by itself: not the test's status
