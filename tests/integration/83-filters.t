#!/bin/sh
# 83-filters.t: control/filters, the qmail-queue filter chain of each way
# in. Three test filters (shell scripts: each logs what it saw, adds a
# header and hands the message to $QMAILQUEUE_NEXT) on a full instance:
# the chain of a source runs in file order, each source gets its own chain
# (smtp, local, forward, bounce, smtps), tern-smtpd gives the filters the
# client address, listener, HELO and AUTH user, the queue id still reaches the 250 reply, a
# filter's own refusal (82 and fd 6) becomes tern-smtpd's 554 with its text
# and nothing is queued, $QMAILQUEUE set by hand wins over the file, a
# malformed file refuses mail (451) and tern-showctl -c names the line.
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-qnext" ] || tap_abort "tern-qnext not installed"
F=$ROOT/filt
mkdir -p "$F"; chmod 0755 "$F"
LOG=$F/log; : > "$LOG"; chmod 0666 "$LOG"
# filt NAME: one log line, an X-Filter header on top, then the next stage
# (its fd 1, the envelope, and fd 2, the id line, are this script's own)
cat > "$F/filt" <<EOS
#!/bin/sh
n=\$1
echo "\$n src=\$TERN_FILTER_SOURCE next=\$TERN_FILTER_NEXT l=\${TERN_LISTENER-} helo=\${TERN_HELO-} ip=\${TCPREMOTEIP-} user=\${TERN_AUTHUSER-none} qn=\$QMAILQUEUE_NEXT" >> $LOG
m=\$(mktemp)
cat > "\$m"
if grep -q REFUSEME "\$m"; then rm -f "\$m"; printf 'Dfilter %s refuses this' "\$n" >&6; exit 82; fi
{ printf 'X-Filter: %s\n' "\$n"; cat "\$m"; } | "\$QMAILQUEUE_NEXT"
rc=\$?
rm -f "\$m"
exit \$rc
EOS
chmod 0755 "$F/filt"
cat > "$F/capture" <<EOS
#!/bin/sh
cat > $F/captured
cat <&1 > /dev/null
exit 0
EOS
chmod 0755 "$F/capture"
cat > "$ROOT/control/filters" <<EOS
# test chains
smtp:$F/filt one
local:$F/filt local
smtp:$F/filt two
forward:$F/filt fwd
bounce:$F/filt bounce
smtps:$F/filt smtps
EOS
# a forward and a failing program among the catch-all's extensions
printf '&fwdto@demo.test\n' > "$ROOT/mail/demo/.tern-fwd"
printf '|exit 100\n' > "$ROOT/mail/demo/.tern-fail"
chown ternalias "$ROOT/mail/demo/.tern-fwd" "$ROOT/mail/demo/.tern-fail"
chmod 0644 "$ROOT/mail/demo/.tern-fwd" "$ROOT/mail/demo/.tern-fail"
tern_start || exit 1
tap_plan 24

# smtp NAME HELO SUBJECT RCPT: one message on port 25; prints the DATA reply
smtp() {
  python3 - "$TERN_PORT" "$@" <<'EOP'
import smtplib, sys
port, helo, subj, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo(helo)
s.mail('sender@demo.test')
s.rcpt(rcpt)
code, msg = s.data(('Subject: %s\r\nFrom: sender@demo.test\r\n\r\nbody\r\n' % subj).encode())
print(code, msg.decode())
s.quit()
EOP
}
# newest FILE matching SUBJECT in the catch-all Maildir, bounded wait
has_subject() { grep -l "^Subject: $1\$" "$MAILDIR"/new/* >/dev/null 2>&1; }
mail_with() { grep -l "^Subject: $1\$" "$MAILDIR"/new/* 2>/dev/null | head -n 1; }

r=$(smtp helo.example.test one-two a@demo.test)
case $r in "250 2.0.0 ok msg "*" qp "*) tap_ok 0 "smtp through two filters: 250 with the queue id" ;; *) tap_ok 1 "smtp reply: $r" ;; esac
wait_for 20 has_subject one-two; tap_ok $? "delivered"
m=$(mail_with one-two)
tap_is "$(grep '^X-Filter:' "$m" | tr '\n' ' ')" "X-Filter: two X-Filter: one " "both filters, in file order (each adds on top)"
tap_is "$(sed -n 1p "$LOG" | cut -d' ' -f1-3)" "one src=smtp next=1" "the first filter: source smtp, next 1"
tap_is "$(sed -n 2p "$LOG" | cut -d' ' -f1-3)" "two src=smtp next=2" "the second: next 2"
tap_is "$(sed -n 1p "$LOG" | cut -d' ' -f4-7)" "l=mx helo=helo.example.test ip=127.0.0.1 user=none" "listener, HELO, client address; no AUTH user"
tap_is "$(sed -n 1p "$LOG" | cut -d' ' -f8)" "qn=$ROOT/bin/tern-qnext" "QMAILQUEUE_NEXT names tern-qnext"
tap_is "$(wc -l < "$LOG" | tr -d ' ')" 2 "nothing else ran"

: > "$LOG"
q0=$(queue_count)
r=$(smtp h.test REFUSEME a@demo.test)
tap_is "$r" "554 5.3.0 filter one refuses this" "a filter's 82 with D text: 554 and its text"
tap_is "$(wc -l < "$LOG" | tr -d ' ')" 1 "the chain stopped at the refusing filter"
sleep 0.5
has_subject REFUSEME; tap_ok $((!$?)) "nothing delivered"

: > "$LOG"
printf 'Subject: local-one\n\nbody\n' | "$ROOT/bin/sendmail" b@demo.test
tap_is "$?" 0 "sendmail through the local chain: exit 0"
wait_for 20 has_subject local-one; tap_ok $? "delivered"
tap_is "$(cut -d' ' -f1-2 "$LOG")" "local src=local" "only the local chain ran"

: > "$LOG"
printf 'Subject: by-hand\n\nbody\n' | QMAILQUEUE=$F/capture "$ROOT/bin/sendmail" b@demo.test
tap_is "$(grep -c '^Subject: by-hand' "$F/captured" 2>/dev/null)" 1 "QMAILQUEUE set by hand gets the message"
tap_is "$(wc -l < "$LOG" | tr -d ' ')" 0 "and no filter of control/filters runs"

# a forward: the forward chain only (the original message came in locally)
: > "$LOG"
printf 'Subject: fwd-one\n\nbody\n' | "$ROOT/bin/sendmail" fwd@demo.test
wait_for 20 has_subject fwd-one
m=$(mail_with fwd-one)
tap_is "$(grep '^X-Filter:' "$m" 2>/dev/null | tr '\n' ' ')" "X-Filter: fwd X-Filter: local " "a forward passes the forward chain"

# a bounce (a program line that fails permanently): the bounce chain
: > "$LOG"
printf 'Subject: fail-one\n\nbody\n' | "$ROOT/bin/sendmail" -f sender@demo.test fail@demo.test
bounced() { grep -l '^X-Filter: bounce' "$MAILDIR"/new/* >/dev/null 2>&1; }
wait_for 30 bounced; tap_ok $? "the bounce passes the bounce chain"

# smtps with AUTH: the smtps chain, and the filter learns the user
printf 'bob@demo.test:%s\n' "$(printf 'hunter2\n' | "$ROOT/bin/tern-authfile" -m)" > "$ROOT/auth/passwd"
wait_for 10 test -S "$ROOT/sock/auth"
: > "$LOG"
r=$(python3 - "$TERN_SMTPS_PORT" <<'EOP'
import smtplib, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), context=ctx, timeout=30)
s.ehlo('laptop.example')
s.login('bob@demo.test', 'hunter2')
s.mail('bob@demo.test')
s.rcpt('c@demo.test')
code, msg = s.data(b'Subject: via-smtps\r\n\r\nbody\r\n')
print(code, msg.decode())
s.quit()
EOP
)
case $r in "250 "*) tap_ok 0 "smtps with AUTH: 250" ;; *) tap_ok 1 "smtps: $r" ;; esac
tap_is "$(cut -d' ' -f1-2 "$LOG")" "smtps src=smtps" "only the smtps chain ran"
tap_is "$(cut -d' ' -f4-5,7 "$LOG")" "l=smtps helo=laptop.example user=bob@demo.test" "the filter learns the listener, HELO and AUTH user"

# a malformed file: mail refused with a temporary error; showctl -c says where
printf 'smtp:%s/filt one\nmx:nonsense\n' "$F" > "$ROOT/control/filters"
r=$(smtp h.test broken a@demo.test)
case $r in "451 "*) tap_ok 0 "malformed control/filters: 451" ;; *) tap_ok 1 "reply: $r" ;; esac
(cd "$ROOT" && "$ROOT/bin/tern-showctl" -c) > "$ROOT/showctl.out" 2>&1
grep -q 'control/filters line 2: not SOURCE:PROGRAM' "$ROOT/showctl.out"; tap_ok $? "tern-showctl -c names line 2"
"$ROOT/bin/tern-showctl" | grep -A2 '^filters:' > "$ROOT/showctl.out" 2>&1
tap_is "$(sed -n 2p "$ROOT/showctl.out" | sed 's/^ *//')" "smtp:$F/filt one" "tern-showctl shows the chain"
tap_done
