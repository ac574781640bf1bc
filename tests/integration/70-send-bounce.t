#!/bin/sh
# 70-send-bounce.t: tern-send's bounces on a full instance. users/assign
# has no catch-all: joe and joe-ext exist, other local parts fall to the
# alias user, which has no .tern-default, so they bounce (#5.1.1). Checks:
# one RFC 3464 multipart/report per message listing every failed recipient
# (parsed with Python's email module), the Status per recipient, the whole
# message under control/bouncemaxbytes and the headers only above it; no
# bounce to <>: a failed bounce goes to the postmaster as a double bounce
# from #@[]; a failure of that is dropped and logged.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 18
tern_install || { diag "install failed"; exit 1; }
uid=$(id -u ternalias); gid=$(id -g ternalias)
printf '=joe:ternalias:%s:%s:%s:::\n+joe-:ternalias:%s:%s:%s:-::\n.\n' \
  "$uid" "$gid" "$ROOT/mail/demo" "$uid" "$gid" "$ROOT/mail/demo" > "$ROOT/users/assign"
"$ROOT/bin/tern-newu" || diag "tern-newu failed"
rm -f "$ROOT/mail/demo/.tern-default"
# joe-hard fails permanently with its own status code
printf '|echo "mailbox disabled (#5.2.1)"; exit 100\n' > "$ROOT/mail/demo/.tern-hard"
chown ternalias:ternnofiles "$ROOT/mail/demo/.tern-hard"; chmod 0644 "$ROOT/mail/demo/.tern-hard"
# the postmaster (alias user) has a Maildir
mkdir -p "$ROOT/alias/Maildir/new" "$ROOT/alias/Maildir/cur" "$ROOT/alias/Maildir/tmp"
printf './Maildir/\n' > "$ROOT/alias/.tern-postmaster"
chown -R ternalias:ternnofiles "$ROOT/alias"; chmod 0644 "$ROOT/alias/.tern-postmaster"; chmod -R go-w "$ROOT/alias"
echo 2000 > "$ROOT/control/bouncemaxbytes"
PMDIR=$ROOT/alias/Maildir
LOG=$ROOT/log/send/current
tern_start; tap_ok $? "services up"

# queue_raw SENDER RCPT: inject stdin with a raw envelope through the queue socket
queue_raw() { python3 "$SRC/tests/integration/70-send-bounce.py" "$ROOT/sock/queue" "$1" "$2"; }

# report FILE: a report's facts, one a line (tests/integration/dsn.py)
report() { dsn report "$1"; }

tok=b70-$$
printf 'From: joe@demo.test\nSubject: %s\n\nsmall body\n' "$tok" | inject_as root -f joe@demo.test \
  joe@demo.test nosuch1@demo.test joe-hard@demo.test nosuch2@demo.test
tap_is "$?" 0 "message to two unknown users, a failing extension and joe queued"
wait_for 20 sh -c "grep -l 'Subject: $tok' '$MAILDIR'/new/* 2>/dev/null | xargs grep -L multipart/report | grep -q ."
tap_ok $? "joe got the message"
wait_for 20 sh -c "grep -l 'multipart/report' '$MAILDIR'/new/* 2>/dev/null | xargs grep -l 'Subject: $tok' | grep -q ."
tap_ok $? "a bounce arrived at the sender"
b=$(grep -l 'multipart/report' "$MAILDIR"/new/* 2>/dev/null | xargs grep -l "Subject: $tok" | head -n 1)
report "$b" > "$ROOT/r1.txt" 2>&1
sed 's/^/# /' "$ROOT/r1.txt"
grep -qx "type multipart/report delivery-status" "$ROOT/r1.txt"; tap_ok $? "multipart/report; report-type=delivery-status"
grep -qx "from MAILER-DAEMON@demo.test" "$ROOT/r1.txt" && grep -qx "rp <>" "$ROOT/r1.txt" && grep -qx "auto auto-replied" "$ROOT/r1.txt" \
  && grep -qx "hasid True" "$ROOT/r1.txt"
tap_ok $? "From MAILER-DAEMON@bouncehost, envelope sender <>, Auto-Submitted, Message-ID, Date"
tap_is "$(grep '^parts' "$ROOT/r1.txt")" "parts text/plain message/delivery-status message/rfc822" "three parts, the whole message under bouncemaxbytes"
grep -qx "mta dns; demo.test arrival True" "$ROOT/r1.txt"; tap_ok $? "Reporting-MTA and Arrival-Date"
tap_is "$(grep '^rcpt' "$ROOT/r1.txt" | sort | tr '\n' ' ')" \
  "rcpt rfc822; joe-hard@demo.test failed 5.2.1 True rcpt rfc822; nosuch1@demo.test failed 5.1.1 True rcpt rfc822; nosuch2@demo.test failed 5.1.1 True " \
  "every failed recipient once, with its own Status"
grep -qx "orig-subject $tok" "$ROOT/r1.txt" && grep -qx "orig-body small body" "$ROOT/r1.txt"
tap_ok $? "the original message is attached"
tap_is "$(grep -l 'multipart/report' "$MAILDIR"/new/* | xargs grep -l "Subject: $tok" | wc -l | tr -d ' ')" 1 "one bounce per message"

# over bouncemaxbytes: the headers only
big=$(python3 -c "print('x' * 70 + '\n', end='' ); print(('y' * 70 + '\n') * 60, end='')")
printf 'Subject: %s-big\n\n%s\n' "$tok" "$big" | inject_as root -f joe@demo.test nosuch3@demo.test
wait_for 20 sh -c "grep -l 'multipart/report' '$MAILDIR'/new/* 2>/dev/null | xargs grep -l 'Subject: $tok-big' | grep -q ."
b=$(grep -l 'multipart/report' "$MAILDIR"/new/* 2>/dev/null | xargs grep -l "Subject: $tok-big" | head -n 1)
report "$b" > "$ROOT/r2.txt" 2>&1
grep -q "^parts text/plain message/delivery-status text/rfc822-headers" "$ROOT/r2.txt" && grep -qx "headers True" "$ROOT/r2.txt" \
  && ! grep -q yyyyyyyyyy "$b"
tap_ok $? "over bouncemaxbytes: text/rfc822-headers, no body"

# a message from <> that fails: no bounce to <>, a double bounce to the postmaster
printf 'Subject: %s-null\n\nfrom the null sender\n' "$tok" | queue_raw "" nosuch4@demo.test
tap_is "$?" 0 "message from <> queued"
wait_for 20 sh -c "grep -l 'Subject: $tok-null' '$PMDIR'/new/* 2>/dev/null | grep -q ."
tap_ok $? "the double bounce landed at postmaster"
d=$(grep -l "Subject: $tok-null" "$PMDIR"/new/* 2>/dev/null | head -n 1)
report "$d" > "$ROOT/r3.txt" 2>&1
grep -q "^Return-Path: <#@\[\]>" "$d" && grep -qx "rcpt rfc822; nosuch4@demo.test failed 5.1.1 True" "$ROOT/r3.txt" \
  && grep -q "the bounce bounced" "$d"
tap_ok $? "double bounce: envelope sender #@[], a report of the failed bounce"
! grep -q 'to <>' "$LOG" && ! grep -q 'T$' "$LOG"
tap_ok $? "nothing was sent to <>"

# a double bounce that fails (sender #@[]) is dropped and logged
printf 'Subject: %s-triple\n\nx\n' "$tok" | queue_raw '#@[]' nosuch5@demo.test
wait_for 20 grep -q "triple bounce: discarding" "$LOG"
tap_ok $? "a failed double bounce is discarded and logged"
wait_for 10 sh -c "[ \$(find '$ROOT/queue/msg' -type f | wc -l) -eq 0 ]"
tap_ok $? "queue empty afterwards"
[ "$TAP_FAIL" -eq 0 ] || { find "$ROOT/alias" "$ROOT/mail" -type f | sed "s/^/# /"; grep -H "^Delivered-To:\|^Subject" "$ROOT"/alias/Maildir/new/* "$MAILDIR"/new/* | sed "s/^/# /"; }
tap_done
