#!/bin/sh
# 26-sendmail-bs.t: sendmail -bs takes a whole SMTP session written at
# once (a local program pipelining before the greeting, as Postfix's
# sendmail -bs allows): every reply comes, the message is queued and
# delivered; the greeting still comes first. tern-smtpd itself keeps
# refusing a network client that talks first (30-smtpd.t).
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 6
tern_install || { diag "install failed"; exit 1; }
tern_start; tap_ok $? "services up"
before=$(maildir_count "$MAILDIR")
printf 'EHLO local\r\nMAIL FROM:<joe@demo.test>\r\nRCPT TO:<bs@demo.test>\r\nDATA\r\nSubject: bs\r\n\r\npipelined\r\n.\r\nQUIT\r\n' \
  | "$ROOT/bin/sendmail" -bs > "$ROOT/bs.out" 2>&1
tap_is "$?" 0 "sendmail -bs exits 0"
sed 's/^/# /' "$ROOT/bs.out"
tap_is "$(head -n 1 "$ROOT/bs.out" | cut -c1-4)" "220 " "the greeting comes first"
grep -q '^554' "$ROOT/bs.out"; tap_is "$?" 1 "no 554 for input before the greeting"
tap_is "$(grep -c '^250 ' "$ROOT/bs.out")" 4 "EHLO, MAIL, RCPT and the message each get 250"
wait_for 20 sh -c "[ \$(find '$MAILDIR/new' '$MAILDIR/cur' -type f | wc -l) -gt $before ]"
tap_ok $? "the message is delivered"
tap_done
