#!/bin/sh
# 38-smtpd-loop.t: a loop tern-local would find is refused at DATA time.
# The security tester's case: from 127.0.0.2 (no relay), MAIL FROM a
# victim, RCPT bs1@demo.test, a header with "Delivered-To: bs1@demo.test"
# or "Delivered-To: ternalias-bs1@demo.test": 554 5.4.6 at the end of DATA
# (and of BDAT LAST), nothing queued, so no bounce carries the attacker's
# content to the victim. The same for a virtual domain's rewritten form
# (prepend-local@domain), in any case; a Delivered-To of another address,
# or one in the body, still goes through.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 9
tern_install || exit 1
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
printf 'vd.test\n' >> "$ROOT/control/rcpthosts"
printf 'vd.test:vpre\n' > "$ROOT/control/virtualdomains"
tern_start || exit 1

# send FROM RCPT MODE HEADERLINES...: one message from 127.0.0.2; prints the
# reply code to the end of the content
send() {
  python3 - "$TERN_PORT" "$@" <<'PY'
import smtplib, sys
port, frm, rcpt, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
msg = ''.join(h + '\r\n' for h in sys.argv[5:]) + 'Subject: loop\r\n\r\nattacker payload\r\n'
s = smtplib.SMTP('127.0.0.1', port, source_address=('127.0.0.2', 0), timeout=20)
s.ehlo('attacker.example')
s.mail(frm)
code, _ = s.rcpt(rcpt)
if code != 250:
    print('rcpt', code); sys.exit(0)
if mode == 'bdat':
    b = msg.encode()
    s.putcmd('BDAT %d LAST' % len(b))
    s.send(b)
    code, text = s.getreply()
else:
    s.putcmd('DATA')
    s.getreply()
    s.send(msg.encode() + b'.\r\n')
    code, text = s.getreply()
print(code, text.decode(errors='replace').split(' ')[0])
s.quit()
PY
}

r=$(send victim@example.com bs1@demo.test data 'Delivered-To: bs1@demo.test')
tap_is "$r" "554 5.4.6" "Delivered-To: the recipient itself: 554 5.4.6 at the end of DATA"
r=$(send victim@example.com bs1@demo.test data 'Delivered-To: ternalias-bs1@demo.test')
tap_is "$r" "554 5.4.6" "Delivered-To: the alias user's form ternalias-bs1@demo.test: 554 5.4.6"
r=$(send victim@example.com BS1@Demo.Test data 'X-Other: 1' 'DELIVERED-TO: bs1@DEMO.test')
tap_is "$r" "554 5.4.6" "in any case, after other header lines"
r=$(send victim@example.com bs2@vd.test data 'Delivered-To: vpre-bs2@vd.test')
tap_is "$r" "554 5.4.6" "a virtual domain's form prepend-local@domain: 554 5.4.6"
r=$(send victim@example.com bs1@demo.test bdat 'Delivered-To: bs1@demo.test')
tap_is "$r" "554 5.4.6" "the same with BDAT LAST"
sleep 1
tap_is "$(queue_count)" 0 "nothing was queued (no bounce to the victim)"
r=$(send someone@example.com ok1@demo.test data 'Delivered-To: other@demo.test')
tap_is "$r" "250 2.0.0" "a Delivered-To of another address: 250"
r=$(send someone@example.com ok2@vd.test data 'Delivered-To: ok2@vd.test')
tap_is "$r" "250 2.0.0" "a virtual domain's address as given (tern-local writes the prepended form): 250"
python3 - "$TERN_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), source_address=('127.0.0.2', 0), timeout=20)
s.sendmail('someone@example.com', ['ok3@demo.test'], 'Subject: body\r\n\r\nDelivered-To: ok3@demo.test\r\n')
s.quit()
PY
tap_ok $? "Delivered-To: the recipient in the body, not the header: accepted"
tap_done
