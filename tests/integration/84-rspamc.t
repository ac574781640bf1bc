#!/bin/sh
# 84-rspamc.t: tern-rspamc in front of the queue on port 25 (control/filters
# smtp:tern-rspamc) with a real rspamd (Debian's package) started here with
# a private configuration (tern-rspamc(8), RSPAMD CONFIGURATION: workers on
# loopback, no redis, its DNS the test's dnsmasq), all inside a private
# network namespace (unshare -n, lo up: nothing leaves the host). SPF pass
# and fail (TXT records), DKIM pass and fail (a message signed here with
# python3-dkim, then with its body changed), a DMARC reject policy refused
# at the end of DATA (554, nothing queued), Authentication-Results and
# X-Spam-Status on delivered mail, and rspamd down: accepted unchecked by
# default, 451 with control/rspamddown tempfail. Every wait is bounded.
. "$(dirname "$0")/lib.sh"
if [ "${TERN_IN_NETNS:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || tap_skip_all "needs root (network namespace, port 53)"
  for p in rspamd dnsmasq unshare ip openssl; do
    command -v $p >/dev/null || tap_abort "$p not installed (tests/deps.sh test)"
  done
  /usr/bin/python3 -c 'import dkim' 2>/dev/null || tap_abort "python3-dkim not installed (tests/deps.sh test)"
  TERN_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || tap_abort "no loopback in the namespace"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-rspamc" ] || tap_abort "tern-rspamc not installed"
RS=$ROOT/rspamd
mkdir -p "$RS/local/local.d" "$RS/local/override.d" "$RS/db" "$RS/run" "$RS/log"

# ---- DNS: SPF, DKIM and DMARC records of the test domains
openssl genrsa -out "$RS/dk.key" 2048 2>/dev/null || tap_abort "openssl genrsa"
pub=$(openssl rsa -in "$RS/dk.key" -pubout -outform DER 2>/dev/null | base64 -w0)
# TXT strings are at most 255 bytes: the key in two parts
p1=$(printf %s "$pub" | cut -c1-200); p2=$(printf %s "$pub" | cut -c201-)
dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
  --port=53 --pid-file= --user=root --group=root --local=/test/ --log-facility=/dev/null \
  --txt-record=spfpass.test,"v=spf1 ip4:127.0.0.1 -all" \
  --txt-record=spffail.test,"v=spf1 ip4:192.0.2.1 -all" \
  --txt-record=dk.test,"v=spf1 -all" \
  --txt-record=sel._domainkey.dk.test,"v=DKIM1; k=rsa; p=$p1","$p2" \
  --txt-record=dm.test,"v=spf1 ip4:192.0.2.1 -all" \
  --txt-record=_dmarc.dm.test,"v=DMARC1; p=reject" &
DNSMASQ=$!
dns_ok() { /usr/bin/python3 -c '
import socket
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x04test\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
s.sendto(q, ("127.0.0.1", 53)); s.recvfrom(512)'; }
wait_for 10 dns_ok || tap_abort "dnsmasq did not start"

# ---- rspamd: the configuration tern-rspamc(8) documents, on loopback
cat > "$RS/local/local.d/options.inc" <<EOS
dns { nameserver = ["127.0.0.1:53"]; timeout = 1s; retransmits = 2; }
check_local = true;
check_authed = true;
EOS
printf 'bind_socket = "127.0.0.1:11333";\ncount = 1;\n' > "$RS/local/local.d/worker-normal.inc"
printf 'bind_socket = "127.0.0.1:11334";\ncount = 1;\n' > "$RS/local/override.d/worker-controller.inc"
printf 'enabled = false;\n' > "$RS/local/override.d/worker-proxy.inc"
printf 'enabled = false;\n' > "$RS/local/local.d/dkim_signing.conf"
printf 'enabled = false;\n' > "$RS/local/local.d/arc.conf"
cat > "$RS/local/local.d/milter_headers.conf" <<EOS
use = ["authentication-results", "x-spam-status"];
skip_local = false;
skip_authenticated = false;
EOS
printf 'actions { reject = "reject"; quarantine = "add header"; }\n' > "$RS/local/local.d/dmarc.conf"
# no greylisting by score: the clients here have no reverse DNS (hfilter)
printf 'greylist = null;\n' > "$RS/local/local.d/actions.conf"
chown -R _rspamd: "$RS"
rspamd_start() {
  rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf --var CONFDIR=/etc/rspamd \
    --var LOCAL_CONFDIR="$RS/local" --var DBDIR="$RS/db" --var RUNDIR="$RS/run" --var LOGDIR="$RS/log" \
    > "$RS/log/stdout" 2>&1 &
  RSPAMD=$!
}
rspamd_up() { /usr/bin/python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 11333), 1)
s.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
assert b"pong" in s.recv(4096)'; }
stop_all() { kill "$RSPAMD" "$DNSMASQ" 2>/dev/null; wait "$RSPAMD" "$DNSMASQ" 2>/dev/null; tern_cleanup; }
trap stop_all EXIT
rspamd_start
wait_for 120 rspamd_up || { tail -5 "$RS/log/rspamd.log" "$RS/log/stdout" | sed 's/^/# /'; tap_abort "rspamd did not answer /ping within 120 s"; }

printf 'smtp:tern-rspamc\n' > "$ROOT/control/filters"
printf '127.0.0.1:11333\n' > "$ROOT/control/rspamd"
tern_start || exit 1
tap_plan 17

# smtp FROM FILE: the message in FILE from FROM to x@demo.test on port 25;
# prints the reply to DATA
smtp() {
  /usr/bin/python3 - "$TERN_PORT" "$@" <<'EOP'
import smtplib, sys
port, frm, fn = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo('mx.client.test')
s.mail(frm)
s.rcpt('x@demo.test')
code, msg = s.data(open(fn, 'rb').read())
print(code, msg.decode())
s.quit()
EOP
}
# msg FROM SUBJECT FILE: a plain message
msg() { printf 'From: <%s>\r\nTo: <x@demo.test>\r\nSubject: %s\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@t.test>\r\n\r\nhello\r\n' "$1" "$2" "$2" > "$3"; }
has_subject() { grep -l "^Subject: $1\$" "$MAILDIR"/new/* >/dev/null 2>&1; }
mail_with() { grep -l "^Subject: $1\$" "$MAILDIR"/new/* 2>/dev/null | head -n 1; }
# ar SUBJECT: the Authentication-Results field of that delivered message, unfolded
ar() { m=$(mail_with "$1"); [ -n "$m" ] && sed -n '/^Authentication-Results:/,/^[^ \t]/p' "$m" | sed '$d' | tr -d '\n' | tr '\t' ' '; }

T=$ROOT/t; mkdir -p "$T"
msg a@spfpass.test spf-pass "$T/m1"
r=$(smtp a@spfpass.test "$T/m1")
case $r in "250 2.0.0 ok msg "*" qp "*) tap_ok 0 "SPF pass: 250 with the queue id" ;; *) tap_ok 1 "SPF pass: $r" ;; esac
wait_for 20 has_subject spf-pass; tap_ok $? "delivered"
case $(ar spf-pass) in *"spf=pass"*) tap_ok 0 "Authentication-Results: spf=pass" ;; *) tap_ok 1 "A-R: $(ar spf-pass)" ;; esac
grep -q '^X-Spam-Status:' "$(mail_with spf-pass)"; tap_ok $? "X-Spam-Status added"

msg a@spffail.test spf-fail "$T/m2"
r=$(smtp a@spffail.test "$T/m2")
case $r in "250 "*) tap_ok 0 "SPF fail alone: still 250 (a score, not a reject)" ;; *) tap_ok 1 "SPF fail: $r" ;; esac
wait_for 20 has_subject spf-fail
case $(ar spf-fail) in *"spf=fail"*) tap_ok 0 "Authentication-Results: spf=fail" ;; *) tap_ok 1 "A-R: $(ar spf-fail)" ;; esac
grep -q '^X-Spam: Yes' "$(mail_with spf-fail)"; tap_ok $? "its score asks for a header: X-Spam: Yes"

# DKIM: signed here by dk.test (selector sel), then a copy with its body changed
msg a@dk.test dkim-pass "$T/m3"
/usr/bin/python3 - "$RS/dk.key" "$T/m3" <<'EOP' || diag "signing failed"
import dkim, sys
key = open(sys.argv[1], 'rb').read()
m = open(sys.argv[2], 'rb').read()
sig = dkim.sign(m, b'sel', b'dk.test', key, include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
open(sys.argv[2], 'wb').write(sig + m)
EOP
# the copy: only its body changed, and an unsigned field to find it by
{ printf 'X-Case: tampered\r\n'; sed 's/^hello/hellO/' "$T/m3"; } > "$T/m4"
r=$(smtp a@dk.test "$T/m3")
case $r in "250 "*) tap_ok 0 "DKIM signed: 250" ;; *) tap_ok 1 "DKIM signed: $r" ;; esac
wait_for 20 has_subject dkim-pass
case $(ar dkim-pass) in *"dkim=pass"*) tap_ok 0 "Authentication-Results: dkim=pass" ;; *) tap_ok 1 "A-R: $(ar dkim-pass)" ;; esac
r=$(smtp a@dk.test "$T/m4")
tampered() { grep -l '^X-Case: tampered' "$MAILDIR"/new/* 2>/dev/null | head -n 1; }
wait_for 20 tampered
a=$(sed -n '/^Authentication-Results:/,/^[^ \t]/p' "$(tampered)" | sed '$d' | tr -d '\n' | tr '\t' ' ')
case $a in *"dkim=fail"*) tap_ok 0 "changed body: dkim=fail" ;; *) tap_ok 1 "A-R: $a" ;; esac

# DMARC p=reject, SPF fails and no signature: refused at the end of DATA
q0=$(find "$ROOT/queue/msg" -type f | wc -l)
msg a@dm.test dmarc-reject "$T/m5"
r=$(smtp a@dm.test "$T/m5")
case $r in "554 5.7.1 "*) tap_ok 0 "DMARC reject: $r" ;; *) tap_ok 1 "DMARC reject: $r" ;; esac
sleep 1
has_subject dmarc-reject; tap_ok $((!$?)) "nothing delivered"
tap_is "$(find "$ROOT/queue/msg" -type f | wc -l)" "$q0" "nothing queued"

# rspamd down: accepted unchecked (the default), then tempfail
kill "$RSPAMD"; wait "$RSPAMD" 2>/dev/null
wait_for 20 sh -c '! kill -0 '"$RSPAMD"
msg a@spfpass.test down-accept "$T/m6"
r=$(smtp a@spfpass.test "$T/m6")
case $r in "250 2.0.0 ok msg "*" qp "*) tap_ok 0 "rspamd down: 250 with the queue id (accept, the default)" ;; *) tap_ok 1 "rspamd down: $r" ;; esac
logged() { grep -q 'rspamd unavailable, message accepted unchecked' "$ROOT/log/smtpd/current"; }
wait_for 5 logged; tap_ok $? "and tern-smtpd logs that it went unchecked"
wait_for 20 has_subject down-accept
grep -q '^Authentication-Results:' "$(mail_with down-accept)"; tap_ok $((!$?)) "delivered unchecked: no Authentication-Results"
printf 'tempfail\n' > "$ROOT/control/rspamddown"
msg a@spfpass.test down-tempfail "$T/m7"
r=$(smtp a@spfpass.test "$T/m7")
case $r in "451 4.7.0 "*) tap_ok 0 "rspamddown tempfail: $r" ;; *) tap_ok 1 "rspamddown tempfail: $r" ;; esac
tap_done
