#!/bin/sh
# 66-tls-resume.t: TLS session resumption across tern-tlsd processes.
# Each connection has a tern-tlsd of its own, so a session can only be
# resumed through a ticket sealed under the key all of them read,
# HOME/tls/ticketkey (tern-tlsd.8 SESSION RESUMPTION):
#  - install made it: 80 bytes, root:terntls 0640; ternd cannot read it;
#  - openssl s_client -sess_out, then -sess_in on a new connection, shows
#    "Reused" with TLS 1.2 and with TLS 1.3, on the smtps port and with
#    STARTTLS on the mx port;
#  - rotation as documented (80 new bytes in front of the old key): a
#    session sealed under the old key still resumes; once the old key is
#    dropped it does not (a full handshake, "New");
#  - SNI: openssl s_client -starttls smtp -servername NAME gets
#    HOME/tls/NAME.crt (put there while the service runs), an unknown
#    name the default certificate;
#  - a key file of the wrong size is logged and gives no tickets;
#  - without the key file no ticket is issued, nothing resumes, and mail
#    is still taken over TLS.
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
tern_start || exit 1
for p in "$TERN_SUBMISSION_PORT" "$TERN_SMTPS_PORT"; do wait_for 10 tcp_up "$p"; done
tap_plan 20

K=$ROOT/tls/ticketkey
tap_is "$(stat -c '%U:%G %a %s' "$K")" "root:terntls 640 80" "install made HOME/tls/ticketkey: root:terntls 0640, 80 bytes"
s6-setuidgid ternd cat "$K" >/dev/null 2>&1
tap_is "$?" 1 "ternd cannot read the ticket key"

# sclient OUTFILE PROTO PORT [-starttls smtp] [-sess_in|-sess_out FILE]: one
# session (QUIT after a second, so a TLS 1.3 ticket arrives first), at most 30 s
sclient() {
  _o=$1; _v=$2; _p=$3; shift 3
  (sleep 1; printf 'QUIT\r\n') | timeout 30 openssl s_client -connect "127.0.0.1:$_p" "$_v" -ign_eof "$@" \
    > "$_o" 2>&1
}
# why FILE...: the lines of s_client's output that say what happened, as diagnostics
why() { grep -hE '^(New|Reused)|^CONNECTED|rror|^Post-Handshake|^ *TLS session ticket lifetime|^---$' "$@" 2>/dev/null | sort | uniq -c | sed 's/^/#   /'; }
proto() { case $1 in -tls1_2) echo TLSv1.2 ;; *) echo TLSv1.3 ;; esac; }
for v in -tls1_2 -tls1_3; do
  rm -f "$ROOT/sess"
  sclient "$ROOT/first" "$v" "$TERN_SMTPS_PORT" -sess_out "$ROOT/sess"
  sclient "$ROOT/second" "$v" "$TERN_SMTPS_PORT" -sess_in "$ROOT/sess"
  grep -q "^New, $(proto $v)" "$ROOT/first"
  tap_ok $? "$(proto $v) on smtps: the first session is new"
  grep -q "^Reused, $(proto $v)" "$ROOT/second"; r=$?
  tap_ok $r "$(proto $v) on smtps: a second connection (another tern-tlsd) resumes it: Reused"; [ $r = 0 ] || why "$ROOT/first" "$ROOT/second"
  rm -f "$ROOT/sess"
  sclient "$ROOT/first" "$v" "$TERN_PORT" -starttls smtp -sess_out "$ROOT/sess"
  sclient "$ROOT/second" "$v" "$TERN_PORT" -starttls smtp -sess_in "$ROOT/sess"
  grep -q "^Reused, $(proto $v)" "$ROOT/second"; r=$?
  tap_ok $r "$(proto $v) with STARTTLS on the mx port: Reused"; [ $r = 0 ] || why "$ROOT/first" "$ROOT/second"
done

# rotation: new key in front, the old one second
rotate() { # rotate NEWBYTES-FILE: install it as the ticket key, as root:terntls 0640
  chown root:terntls "$1"; chmod 0640 "$1"; mv -f "$1" "$K"
}
for v in -tls1_2 -tls1_3; do
  rm -f "$ROOT/sess"
  sclient "$ROOT/first" "$v" "$TERN_SMTPS_PORT" -sess_out "$ROOT/sess"
  cp "$K" "$ROOT/oldkey"
  { head -c 80 /dev/urandom; cat "$ROOT/oldkey"; } > "$ROOT/tls/.ticketkey.new"; rotate "$ROOT/tls/.ticketkey.new"
  sclient "$ROOT/second" "$v" "$TERN_SMTPS_PORT" -sess_in "$ROOT/sess"
  grep -q "^Reused, $(proto $v)" "$ROOT/second"
  tap_ok $? "$(proto $v): after rotation (new key first, old second) a session under the old key resumes"
  head -c 80 "$K" > "$ROOT/tls/.ticketkey.new"; rotate "$ROOT/tls/.ticketkey.new"
  sclient "$ROOT/second" "$v" "$TERN_SMTPS_PORT" -sess_in "$ROOT/sess"
  grep -q "^New, $(proto $v)" "$ROOT/second"
  tap_ok $? "$(proto $v): once the old key is dropped it does not (New)"
done

# SNI on the installed instance: a second certificate, in place without a restart
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other.test -addext subjectAltName=DNS:other.test \
  -keyout "$ROOT/tls/other.test.key" -out "$ROOT/tls/other.test.crt" >/dev/null 2>&1
chown root:terntls "$ROOT/tls/other.test.key" "$ROOT/tls/other.test.crt"; chmod 0640 "$ROOT/tls/other.test.key"
sclient "$ROOT/first" -tls1_3 "$TERN_PORT" -starttls smtp -servername other.test
grep -q "^subject=CN *= *other.test" "$ROOT/first"
tap_ok $? "openssl s_client -starttls smtp -servername other.test: the other.test certificate"
sclient "$ROOT/first" -tls1_3 "$TERN_PORT" -starttls smtp -servername unknown.test
grep -q "^subject=" "$ROOT/first" && ! grep -q "^subject=CN *= *other.test" "$ROOT/first"
tap_ok $? "-servername unknown.test: the default certificate"

# a malformed key file (81 bytes): logged, no tickets, TLS still works
head -c 81 /dev/urandom > "$ROOT/tls/.ticketkey.new"; rotate "$ROOT/tls/.ticketkey.new"
rm -f "$ROOT/sess"
sclient "$ROOT/first" -tls1_3 "$TERN_SMTPS_PORT" -sess_out "$ROOT/sess"
grep -q "^New, TLSv1.3" "$ROOT/first" && [ ! -s "$ROOT/sess" ]
tap_ok $? "an 81-byte ticketkey: a full handshake and no ticket"
wait_for 5 grep -q "tern-tlsd: warning: no session tickets: not 1 to 4 records of 80 bytes" "$ROOT/log/smtpd/current"
tap_ok $? "and tern-tlsd logs why"

# no key file: no tickets, no resumption, TLS still works
rm -f "$K"
for v in -tls1_2 -tls1_3; do
  rm -f "$ROOT/sess" "$ROOT/second"
  sclient "$ROOT/first" "$v" "$TERN_SMTPS_PORT" -sess_out "$ROOT/sess"
  # TLS 1.3: no ticket, so s_client has no session to save; TLS 1.2: a
  # session id that no other tern-tlsd knows
  [ -s "$ROOT/sess" ] && sclient "$ROOT/second" "$v" "$TERN_SMTPS_PORT" -sess_in "$ROOT/sess"
  grep -q "^New, $(proto $v)" "$ROOT/first" && { [ ! -s "$ROOT/sess" ] || grep -q "^New, $(proto $v)" "$ROOT/second"; }
  tap_ok $? "$(proto $v) without HOME/tls/ticketkey: nothing resumes"
done
grep -q "^220 " "$ROOT/first" && grep -q "^221 " "$ROOT/first"
tap_ok $? "and the session itself works (220 greeting, 221 to QUIT)"
r=$(python3 - "$TERN_SMTPS_PORT" <<'PY'
import smtplib, ssl, sys
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), local_hostname='client.test', timeout=10, context=c)
print(s.ehlo()[0]); s.quit()
PY
)
tap_is "$r" 250 "smtplib over implicit TLS without the key file: EHLO 250"
tap_done
