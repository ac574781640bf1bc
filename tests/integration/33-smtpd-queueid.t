#!/bin/sh
# 33-smtpd-queueid.t: the message number follows a message from SMTP to the
# mailbox. tern-smtpd runs tern-queue with -i, which reports "msg N qp P"
# on fd 2; the 250 reply and tern-smtpd's log line carry it, and tern-send
# logs the same N (new msg N ... end msg N) and the same qp.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 4
tern_install || exit 1
tern_start || exit 1
reply=$(python3 "$SRC/tests/integration/33-smtpd-queueid.py" "$TERN_PORT")
diag "reply: $reply"
n=$(echo "$reply" | sed -n 's/^250 2\.0\.0 ok msg \([0-9][0-9]*\) qp \([0-9][0-9]*\)$/\1/p')
qp=$(echo "$reply" | sed -n 's/^250 2\.0\.0 ok msg \([0-9][0-9]*\) qp \([0-9][0-9]*\)$/\2/p')
[ -n "$n" ]; tap_ok $? "250 reply names the message number and the queue pid"
wait_for 10 grep -q "end msg $n\$" "$ROOT/log/send/current"
tap_ok $? "tern-send's log follows the same msg $n to its end"
grep -q "info msg $n: .* qp $qp " "$ROOT/log/send/current"; tap_ok $? "tern-send's info line has the same qp"
grep -q "tern-smtpd: info: .* msg $n qp $qp result 250" "$ROOT/log/smtpd/current"; tap_ok $? "tern-smtpd's log line has msg $n"
tap_done
