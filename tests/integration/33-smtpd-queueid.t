#!/bin/sh
# 33-smtpd-queueid.t: the queue id follows a message from SMTP to the
# mailbox. tern-queued answers tern-smtpd with "msg ID qp P" (ID: the id
# that never repeats, common/qid.h); the 250 reply and tern-smtpd's log
# line carry it, and tern-send logs the same ID on every line of the
# message (new, info, starting delivery, the delivery's result, end) and
# the same qp.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 10
tern_install || exit 1
tern_start || exit 1
reply=$(python3 "$SRC/tests/integration/33-smtpd-queueid.py" "$TERN_PORT")
diag "reply: $reply"
n=$(echo "$reply" | sed -n 's/^250 2\.0\.0 ok msg \([0-9a-z]\{12,24\}\) qp \([0-9][0-9]*\)$/\1/p')
qp=$(echo "$reply" | sed -n 's/^250 2\.0\.0 ok msg \([0-9a-z]\{12,24\}\) qp \([0-9][0-9]*\)$/\2/p')
[ -n "$n" ]; tap_ok $? "250 reply names the message number and the queue pid"
wait_for 10 grep -q "end msg $n\$" "$ROOT/log/send/current"
tap_ok $? "tern-send's log follows the same msg $n to its end"
grep -q "info msg $n: .* qp $qp " "$ROOT/log/send/current"; tap_ok $? "tern-send's info line has the same qp"
grep -q "tern-smtpd: info: .* msg $n qp $qp result 250" "$ROOT/log/smtpd/current"; tap_ok $? "tern-smtpd's log line has msg $n"
L=$ROOT/log/send/current
grep -q "new msg $n\$" "$L" && grep -q "starting delivery [0-9]*: msg $n to local " "$L"
tap_ok $? "tern-send's new and starting delivery lines have msg $n"
d=$(sed -n "s/.*starting delivery \([0-9]*\): msg $n to local .*/\1/p" "$L" | head -n 1)
grep -q "delivery $d: success: .* msg $n\$" "$L"; tap_ok $? "the delivery's result line (delivery $d) has msg $n"
grep -q "tern-queued: info: msg $n qp $qp: uid $(id -u ternd) " "$ROOT/log/queue/current"
tap_ok $? "tern-queued's log line has msg $n, qp $qp and tern-smtpd's uid"
# one grep follows it: tern-queued, tern-smtpd, and tern-send from new to end
tap_is "$(cat "$ROOT/log/queue/current" "$ROOT/log/smtpd/current" "$L" | grep -c " $n\(\$\|[: ]\)")" 7 "grep $n: 7 lines (queued, smtpd, new, info, starting, result, end)"

# a few hundred messages at once: every id different
i=0; pids=
while [ $i -lt 300 ]; do
  printf 'Subject: id %s\n\nx\n' $i | inject_as root "id$i@demo.test" &
  pids="$pids $!"
  i=$((i + 1))
  if [ $((i % 10)) -eq 0 ]; then wait $pids; pids=; fi
done
wait_for 60 sh -c "[ \$(grep -c 'end msg ' '$L') -ge 301 ]"
tap_is "$(sed -n 's/.* new msg \([0-9a-z]*\)$/\1/p' "$L" | sort -u | wc -l | tr -d ' ')" 301 "301 messages, 301 different ids in tern-send's new lines"
tap_is "$(sed -n 's/.*tern-queued: info: msg \([0-9a-z]*\) qp.*/\1/p' "$ROOT/log/queue/current" | sort -u | wc -l | tr -d ' ')" 301 "and 301 different ids in tern-queued's log"
tap_done
