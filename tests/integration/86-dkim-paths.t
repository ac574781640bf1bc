#!/bin/sh
# 86-dkim-paths.t: with the control/filters a normal install writes (no
# QMAILQUEUE anywhere) and keys from tern-dkimkey for the instance's
# domain, every way out is signed and dkimpy verifies both signatures
# (rsa-sha256, ed25519-sha256) against the test's dnsmasq (80-dkim-sign.t's
# setup): submission (STARTTLS, then AUTH) to a remote sink, sendmail as an
# ordinary user created here (From: added by tern-inject), cron-style
# "sendmail -t" (recipients from the header, "From: root (Cron Daemon)"),
# bounces from tern-send for a failing local program and for a remote
# 550 (From: MAILER-DAEMON@demo.test, signed for demo.test); mail that came
# in on port 25 and is relayed to the sink (a relay client per smtprules)
# or delivered locally is not signed, though its From: is demo.test.
# Forwards (.tern "&address"): a signed message keeps its two signatures,
# an Internet message keeps its own (a foreign domain's, made here with
# dkimpy) and gets none from us, unless control/filters has a forward:
# line; then forwarded mail of demo.test is signed. Remote mail goes
# through control/smtproutes to tests/integration/smtpsink.py, which keeps
# the bytes it received.
. "$(dirname "$0")/lib.sh"
tern_init
unset QMAILQUEUE QMAILQUEUE_NEXT
PY=/usr/bin/python3
command -v dnsmasq >/dev/null || tap_abort "dnsmasq not installed (tests/deps.sh test)"
$PY -c 'import dkim, dns.resolver' 2>/dev/null || tap_abort "python3-dkim or python3-dnspython not installed (tests/deps.sh test)"
tern_install || tap_abort "install failed"
U=tern86u
id "$U" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$U" || tap_abort "useradd $U"
"$ROOT/bin/tern-dkimkey" demo.test > "$ROOT/records" 2> "$ROOT/dkimkey.err" || tap_abort "tern-dkimkey: $(cat "$ROOT/dkimkey.err")"
# a foreign domain's key (not tern's: dkimpy signs with it, as a sender on the Internet would)
openssl genrsa -out "$ROOT/ext.key" 2048 2>/dev/null || tap_abort "openssl genrsa"
extpub=$(openssl rsa -in "$ROOT/ext.key" -pubout -outform DER 2>/dev/null | base64 -w0)
SPORT=$((21000 + $$ % 20000))
printf 'remote.test:127.0.0.1:%s\n' "$SPORT" > "$ROOT/control/smtproutes"
printf 'bob@demo.test:%s\n' "$(printf 'bob-secret\n' | "$ROOT/bin/tern-authfile" -m)" > "$ROOT/auth/passwd"
printf '&fwdto@demo.test\n' > "$ROOT/mail/demo/.tern-fwd"
printf '|exit 100\n' > "$ROOT/mail/demo/.tern-fail"
chown ternalias "$ROOT/mail/demo/.tern-fwd" "$ROOT/mail/demo/.tern-fail"
chmod 0644 "$ROOT/mail/demo/.tern-fwd" "$ROOT/mail/demo/.tern-fail"
SMTPSINK_DATA=1 python3 "$SRC/tests/integration/smtpsink.py" "$SPORT" "$ROOT/sink.jsonl" 0 300 &
SINK=$!
trap 'kill $DNSMASQ $SINK 2>/dev/null; tern_cleanup; userdel "$U" 2>/dev/null' EXIT
tern_start || tap_abort "instance did not come up"
wait_for 10 tcp_up "$TERN_SUBMISSION_PORT" || diag "the submission listener is not up"
wait_for 10 tcp_up "$SPORT" || diag "the sink is not listening"
wait_for 10 test -S "$ROOT/sock/auth" || diag "no auth socket"
dkim_dns "$ROOT/records" "--txt-record=ext._domainkey.other.test,v=DKIM1; k=rsa; p=$extpub" || diag "dnsmasq does not answer on 127.0.0.1:$DNSPORT"
tap_plan 29

tap_is "$(grep -v '^#' "$ROOT/control/filters" | tr '\n' ' ')" "submission:tern-dkimsign smtps:tern-dkimsign local:tern-dkimsign bounce:tern-dkimsign " \
  "the installed control/filters: the signer on submission, smtps, local and bounce"

# verify FILE: dkimpy's verdict per signature, sorted: "ALG DOMAIN pass|fail ..."
verify() { $PY "$SRC/tests/integration/dkimverify.py" $DNSPORT "$1" | grep -v "^#" | sed 's/^[^ ]* //' | awk '{print $1, $2, $NF}' | sort | tr '\n' ' '; }
BOTH="a=ed25519-sha256 d=demo.test pass a=rsa-sha256 d=demo.test pass "
# sigs FILE: DKIM-Signature fields in its header (a bounce quotes the original's in its body)
sigs() { sed '/^\r\{0,1\}$/q' "$1" | grep -c '^DKIM-Signature:'; }
# local TOKEN: the Maildir file holding TOKEN in its Subject (waits up to 30 s)
has_local() { grep -l "^Subject: .*$1" "$MAILDIR"/new/* >/dev/null 2>&1; }
local_msg() { wait_for 30 has_local "$1"; grep -l "^Subject: .*$1" "$MAILDIR"/new/* 2>/dev/null | head -n 1; }
# remote TOKEN: the message the sink got holding TOKEN, as a file (waits up to 30 s)
has_remote() { grep -q "$1" "$ROOT/sink.jsonl" 2>/dev/null; }
remote_msg() {
  wait_for 30 has_remote "$1"
  python3 - "$ROOT/sink.jsonl" "$1" "$ROOT/sink-$1" <<'EOP'
import json, sys
for l in open(sys.argv[1]):
    t = json.loads(l)
    if sys.argv[2] in t.get("data", ""):
        open(sys.argv[3], "wb").write(t["data"].encode("latin-1"))
EOP
  echo "$ROOT/sink-$1"
}
# smtp PORT MODE FROM RCPT FILE: one message (FILE, CRLF) by SMTP; MODE
# plain (port 25, no AUTH) or auth (STARTTLS, AUTH as bob); prints the DATA reply
smtp() {
  python3 - "$@" <<'EOP'
import smtplib, ssl, sys
port, mode, frm, rcpt, f = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example', timeout=30)
if mode == 'auth':
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.login('bob@demo.test', 'bob-secret')
else:
    s.ehlo()
s.mail(frm)
s.rcpt(rcpt)
code, msg = s.data(open(f, 'rb').read())
print(code)
s.quit()
EOP
}
crlf() { sed 's/$/\r/' > "$ROOT/$1"; echo "$ROOT/$1"; }

# --- submission: STARTTLS + AUTH on the submission listener, to a remote recipient ---
m=$(printf 'From: Bob <bob@demo.test>\nTo: far@remote.test\nSubject: p86-submission\nMessage-ID: <sub@client.example>\n\nsubmitted\n' | crlf sub.msg)
tap_is "$(smtp "$TERN_SUBMISSION_PORT" auth bob@demo.test far@remote.test "$m")" 250 "submission with STARTTLS and AUTH: 250"
f=$(remote_msg p86-submission)
tap_is "$(verify "$f")" "$BOTH" "submission: the bytes the remote server got carry both signatures, and they verify"

# --- sendmail as an ordinary user, no From: of its own ---
printf 'To: someone@demo.test\nSubject: p86-user\n\nfrom a user\n' | s6-setuidgid "$U" "$ROOT/bin/sendmail" someone@demo.test
tap_is "$?" 0 "sendmail as $U: exit 0"
f=$(local_msg p86-user)
tap_is "$(grep -i '^From:' "$f")" "From: $U@demo.test" "tern-inject added From: $U@demo.test"
tap_is "$(verify "$f")" "$BOTH" "sendmail as an ordinary user: both signatures verify"

# --- cron-style sendmail -t: recipients from the header ---
printf 'From: root (Cron Daemon)\nTo: admin@remote.test\nCc: ops@demo.test\nSubject: p86-cron <%s@host> run-parts\nContent-Type: text/plain; charset=UTF-8\n\nout of a job\n' "$U" \
  | s6-setuidgid "$U" "$ROOT/bin/sendmail" -i -t
tap_is "$?" 0 "sendmail -i -t: exit 0"
f=$(remote_msg p86-cron)
tap_is "$(verify "$f")" "$BOTH" "sendmail -t, the To: recipient (remote): both signatures verify"
tap_is "$(grep -o '"rcpt": \[[^]]*\]' "$ROOT/sink.jsonl" | grep -c admin@remote.test)" 1 "... sent to the To: address"
f=$(local_msg p86-cron)
tap_is "$(verify "$f")" "$BOTH" "sendmail -t, the Cc: recipient (local): both signatures verify"

# --- bounces from tern-send: a failing local program, a remote 550 ---
# bounce TOKEN: the delivered bounce quoting TOKEN (waits up to 30 s)
bounce_of() { grep -l 'multipart/report' "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -l "$1" | head -n 1; }
has_bounce() { [ -n "$(bounce_of "$1")" ]; }
bounce() { wait_for 30 has_bounce "$1"; bounce_of "$1"; }
printf 'From: ann@other.test\nTo: fail@demo.test\nSubject: p86-bounce-local\n\nwill fail\n' | "$ROOT/bin/sendmail" -f ann@demo.test fail@demo.test
b=$(bounce p86-bounce-local)
tap_ok "$([ -n "$b" ] && echo 0 || echo 1)" "a local delivery failing permanently bounces to ann@demo.test"
tap_is "$(grep -m1 '^From:' "$b")" "From: MAILER-DAEMON@demo.test" "the bounce is From: MAILER-DAEMON@demo.test"
tap_is "$(verify "$b")" "$BOTH" "the bounce: both signatures for demo.test verify"
printf 'From: ann@demo.test\nTo: reject1@remote.test\nSubject: p86-bounce-remote\n\nwill bounce\n' | "$ROOT/bin/sendmail" -f ann@demo.test reject1@remote.test
b=$(bounce p86-bounce-remote)
tap_ok "$([ -n "$b" ] && echo 0 || echo 1)" "a remote 550 bounces to ann@demo.test"
tap_is "$(verify "$b")" "$BOTH" "that bounce: both signatures verify"

# --- in from the Internet on port 25: relayed onward or delivered, never signed ---
m=$(printf 'From: Eve <eve@demo.test>\nTo: relay@remote.test\nSubject: p86-relay\nMessage-ID: <relay@outside.example>\n\nrelayed\n' | crlf relay.msg)
tap_is "$(smtp "$TERN_PORT" plain eve@outside.example relay@remote.test "$m")" 250 "port 25, a relay client (control/smtprules RELAYCLIENT): 250"
f=$(remote_msg p86-relay)
tap_ok "$([ -s "$f" ] && echo 0 || echo 1)" "relayed to the sink"
tap_is "$(sigs "$f")" 0 "relayed Internet mail is not signed (though From: is demo.test)"
m=$(printf 'From: eve@demo.test\nTo: in@demo.test\nSubject: p86-inbound\n\ninbound\n' | crlf in.msg)
smtp "$TERN_PORT" plain eve@outside.example in@demo.test "$m" > /dev/null
f=$(local_msg p86-inbound)
tap_is "$(sigs "$f")" 0 "Internet mail delivered here is not signed"

# --- forwards (.tern-fwd: &fwdto@demo.test) ---
fwd_msg() { grep -l "^Delivered-To: .*fwd@demo.test" $(grep -l "^Subject: $1\$" "$MAILDIR"/new/* 2>/dev/null) 2>/dev/null | head -n 1; }
has_fwd() { [ -n "$(fwd_msg "$1")" ]; }
fwd() { wait_for 30 has_fwd "$1"; fwd_msg "$1"; }
printf 'From: ann@demo.test\nTo: fwd@demo.test\nSubject: p86-fwd-signed\n\nsigned, then forwarded\n' | s6-setuidgid "$U" "$ROOT/bin/sendmail" fwd@demo.test
f=$(fwd p86-fwd-signed)
tap_ok "$([ -n "$f" ] && echo 0 || echo 1)" "a locally sent message to a forward arrives at fwdto"
tap_is "$(sigs "$f") $(verify "$f")" "2 $BOTH" "forwarded: its own two signatures, still valid, and no more"
# an Internet sender's signature (other.test, made by dkimpy)
$PY - "$ROOT/ext.key" "$ROOT/ext.msg" <<'EOP'
import dkim, sys
m = b"From: x@other.test\r\nTo: fwd@demo.test\r\nSubject: p86-fwd-ext\r\nMessage-ID: <ext@other.test>\r\n\r\nfrom afar\r\n"
sig = dkim.sign(m, b"ext", b"other.test", open(sys.argv[1], "rb").read(), include_headers=[b"from", b"to", b"subject", b"message-id"])
open(sys.argv[2], "wb").write(sig + m)
EOP
smtp "$TERN_PORT" plain x@other.test fwd@demo.test "$ROOT/ext.msg" > /dev/null
f=$(fwd p86-fwd-ext)
tap_is "$(sigs "$f") $(verify "$f")" "1 a=rsa-sha256 d=other.test pass " "an Internet message forwarded: its sender's signature kept and valid, none added"
m=$(printf 'From: eve@demo.test\nTo: fwd@demo.test\nSubject: p86-fwd-in\n\nunsigned\n' | crlf fwdin.msg)
smtp "$TERN_PORT" plain eve@outside.example fwd@demo.test "$m" > /dev/null
f=$(fwd p86-fwd-in)
tap_is "$(sigs "$f")" 0 "unsigned Internet mail with From: demo.test, forwarded: not signed by the forwarder"

# --- with a forward: line, the forwarder signs ---
printf 'forward:tern-dkimsign\n' >> "$ROOT/control/filters"
sed 's/p86-fwd-in/p86-fwd-in2/' "$m" > "$ROOT/fwdin2.msg"
smtp "$TERN_PORT" plain eve@outside.example fwd@demo.test "$ROOT/fwdin2.msg" > /dev/null
f=$(fwd p86-fwd-in2)
tap_is "$(sigs "$f") $(verify "$f")" "2 $BOTH" "forward:tern-dkimsign in control/filters: the forward is signed, both verify"
printf 'From: ann@demo.test\nTo: fwd@demo.test\nSubject: p86-fwd-signed2\n\nsigned twice\n' | s6-setuidgid "$U" "$ROOT/bin/sendmail" fwd@demo.test
f=$(fwd p86-fwd-signed2)
tap_is "$(sigs "$f")" 4 "a signed message forwarded: its two signatures and the forwarder's two"
tap_is "$(verify "$f")" "a=ed25519-sha256 d=demo.test pass a=ed25519-sha256 d=demo.test pass a=rsa-sha256 d=demo.test pass a=rsa-sha256 d=demo.test pass " "... all four verify"
sed 's/p86-fwd-ext/p86-fwd-ext2/' "$ROOT/ext.msg" > "$ROOT/ext2.msg"
smtp "$TERN_PORT" plain x@other.test fwd@demo.test "$ROOT/ext2.msg" > /dev/null
f=$(fwd p86-fwd-ext2)
tap_is "$(sigs "$f")" 1 "a foreign domain's message is still not signed by the forwarder (no keys for other.test)"

# none of this set QMAILQUEUE: the chains of control/filters did it
tap_is "$(grep -c 'QMAILQUEUE=' "$ROOT"/service/*/run "$ROOT"/service/*/env/* 2>/dev/null | awk -F: '{s+=$NF} END {print s+0}')" 0 "no service sets QMAILQUEUE"
tap_is "$(grep -c p86 "$ROOT/sink.jsonl")" 3 "the sink got the three remote messages (submission, cron, relay), nothing else"
[ "$TAP_FAIL" -eq 0 ] || { tail -n 30 "$ROOT/log/send/current" | sed 's/^/# /'; tail -n 20 "$ROOT/log/smtpd/current" 2>/dev/null | sed 's/^/# /'; }
tap_done
