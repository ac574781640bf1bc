#!/bin/sh
# 72-send-delay.t: delay warnings and queuelifetime expiry on a full instance
# (RFC 3464 "delayed" reports). control/delaywarning is in hours and may be
# fractional: 0.001 h = 3 s here. control/queuelifetime = 9 s. A local
# recipient whose instructions exit 111 is deferred; s6-svc -a (SIGALRM)
# forces each retry. Checks: one 'delayed' DSN (Action: delayed, Status 4.x.x)
# once the message is older than delaywarning, not a second one, none for a
# null sender; past queuelifetime the deferral becomes a bounce with qmail's
# text and Status 5.4.7.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 11
tern_install || { diag "install failed"; exit 1; }
echo 0.001 > "$ROOT/control/delaywarning"
echo 9 > "$ROOT/control/queuelifetime"
printf '|echo "mailbox busy, try later (#4.2.1)"; exit 111\n' > "$ROOT/mail/demo/.tern-defer"
chown ternalias:ternnofiles "$ROOT/mail/demo/.tern-defer"; chmod 0644 "$ROOT/mail/demo/.tern-defer"
LOG=$ROOT/log/send/current
tern_start; tap_ok $? "services up"

# facts FILE: Subject, then Action Status per recipient, of a report
facts() {
  dsn fields -s "$1" Final-Recipient Action Status
}
reports() { grep -l 'multipart/report' "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -l "Subject: $1\$"; }

tok=d72-$$
start=$(date +%s)
printf 'Subject: %s\n\nplease wait\n' "$tok" | inject_as root -f joe@demo.test defer@demo.test
printf 'Subject: %s-null\n\nfrom <>\n' "$tok" | inject_as root -f '' defer@demo.test
wait_for 20 sh -c "[ \$(grep -c 'deferral: mailbox_busy' '$LOG') -ge 2 ]"; tap_ok $? "both messages deferred"
tap_is "$(reports "$tok" | wc -l | tr -d ' ')" 0 "no warning before delaywarning"
sleep 4
s6-svc -a "$ROOT/service/send"
wait_for 20 sh -c "reports() { grep -l 'multipart/report' '$MAILDIR'/new/* 2>/dev/null | xargs -r grep -l 'Subject: $tok\$'; }; [ \$(reports | wc -l) -ge 1 ]"
tap_ok $? "a delay warning arrived after delaywarning"
w=$(reports "$tok" | head -n 1)
facts "$w" > "$ROOT/w.txt" 2>&1; sed 's/^/# /' "$ROOT/w.txt"
tap_is "$(sed -n 2p "$ROOT/w.txt")" "rfc822; defer@demo.test delayed 4.2.1" "Action: delayed, Status 4.2.1"
grep -q " delay warning msg [0-9a-z]* qp [0-9]* to <joe@demo.test>" "$LOG"
tap_ok $? "the warning is logged"
wait_for 10 grep -q "delay warning msg [0-9a-z]*: not sent (null sender)" "$LOG"; tap_ok $? "no warning to <>"
# a restart of tern-send and another retry: no second warning
n=$(grep -c "deferral: mailbox_busy" "$LOG")
s6-svc -t "$ROOT/service/send"
wait_for 10 grep -q "status: exiting" "$LOG"
wait_for 10 sh -c "[ \$(grep -c 'status: local 0/' '$LOG') -ge 1 ] && s6-svstat -u '$ROOT/service/send' | grep -q true"
sleep 1
s6-svc -a "$ROOT/service/send"
wait_for 10 sh -c "[ \$(grep -c 'deferral: mailbox_busy' '$LOG') -ge $((n + 2)) ]"
sleep 1
tap_is "$(grep -c ' delay warning msg [0-9a-z]* qp' "$LOG")" 1 "one warning per message, also across a restart"

# past queuelifetime: the next retry bounces
now=$(date +%s); [ $((now - start)) -lt 11 ] && sleep $((11 - (now - start)))
s6-svc -a "$ROOT/service/send"
wait_for 20 sh -c "grep -l 'Subject: failure notice' '$MAILDIR'/new/* 2>/dev/null | xargs -r grep -l 'Subject: $tok\$' | grep -q ."
tap_ok $? "past queuelifetime the deferral became a bounce"
f=$(grep -l 'Subject: failure notice' "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -l "Subject: $tok\$" | head -n 1)
facts "$f" > "$ROOT/f.txt" 2>&1; sed 's/^/# /' "$ROOT/f.txt"
tap_is "$(sed -n 2p "$ROOT/f.txt")" "rfc822; defer@demo.test failed 5.4.7" "Action: failed, Status 5.4.7"
grep -q "I'm not going to try again; this message has been in the queue too long." "$f"; tap_ok $? "with qmail's text"
[ "$TAP_FAIL" -eq 0 ] || tail -n 40 "$LOG" | sed 's/^/# /'
tap_done
