#!/bin/sh
# 27-queuectl.t: every tern-queuectl command as root, as a member of group
# tern and as ordinary users (created here): list with the last deferral
# reason, show, hold (kept across a restart of tern-send), release, retry
# (one, a domain, all; sendmail -q, -qR, -qI), delete (one: no bounce; a
# domain; all), mailq for an ordinary user, and the policy (a user sees
# and acts on its own messages only; hold, release and the domain forms
# are root's and group tern's), silent clients, and tern-send stopped.
# The remote peer is the SMTP sink, which
# answers 451 to every recipient "defer*", so the messages stay queued.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 50
tern_install || { diag "install failed"; exit 1; }
[ -x "$ROOT/bin/tern-queuectl" ] && [ -x "$ROOT/bin/tern-remote" ] || tap_abort "tern-queuectl or tern-remote not built"
B=$ROOT/bin
U1=tqctl1; U2=tqctl2; UA=tqctladm
for u in $U1 $U2; do id "$u" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$u" || tap_abort "useradd $u"; done
id "$UA" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin -G tern "$UA" || tap_abort "useradd $UA"
SPORT=$((21000 + $$ % 20000))
echo ":127.0.0.1:$SPORT" > "$ROOT/control/smtproutes"
LOG=$ROOT/log/send/current
python3 "$SRC/tests/integration/smtpsink.py" "$SPORT" "$ROOT/sink.jsonl" 0 300 &
SINK=$!
trap 'kill $SINK 2>/dev/null; tern_cleanup; for u in $U1 $U2 $UA; do userdel "$u" 2>/dev/null; done' EXIT
wait_for 10 tcp_up "$SPORT" || diag "sink not listening"
tern_start; tap_ok $? "services up"
tap_is "$(stat -c '%F %a' "$ROOT/sock/send")" "socket 777" "the command socket HOME/sock/send, anyone may connect"

# qc USER ARGS...: tern-queuectl as USER (root: as is); output in $ROOT/qc.out, exit code returned
qc() {
  _u=$1; shift
  if [ "$_u" = root ]; then "$B/tern-queuectl" "$@" > "$ROOT/qc.out" 2>&1
  else s6-setuidgid "$_u" "$B/tern-queuectl" "$@" > "$ROOT/qc.out" 2>&1; fi
}
# idof UID: the queue id of the message that UID injected (its info line)
idof() { sed -n "s/.*info msg \([0-9a-z]*\): .* uid $1\$/\1/p" "$LOG" | tail -n 1; }
# tries ID: how many deliveries of ID have started
tries() { grep -c "starting delivery [0-9]*: msg $1 " "$LOG"; }

tok=q27-$$
printf 'Subject: %s-u1\n\none\n' "$tok" | inject_as $U1 defer-a@d1.test
printf 'Subject: %s-u2\n\ntwo\n' "$tok" | inject_as $U2 defer-b@d2.test
printf 'Subject: %s-r\n\nthree\n' "$tok" | inject_as root -f root@demo.test defer-c@d3.test defer-d@d4.test
wait_for 20 sh -c "[ \$(grep -c 'deferral: .*451' '$LOG') -ge 4 ]"
M1=$(idof "$(id -u $U1)"); M2=$(idof "$(id -u $U2)"); MR=$(idof 0)
diag "ids: $M1 (u1) $M2 (u2) $MR (root)"
tap_ok "$([ -n "$M1" ] && [ -n "$M2" ] && [ -n "$MR" ]; echo $?)" "three messages queued and deferred by the peer"

qc root list
tap_is "$(grep -Eo "^($M1|$M2|$MR) " "$ROOT/qc.out" | sort | tr -d ' ' | tr '\n' ' ')" "$(printf '%s\n' "$M1" "$M2" "$MR" | sort | tr '\n' ' ')" "root: list shows every message"
grep -q "^  to <defer-a@d1.test> remote: waiting (last deferral: .*451 4.3.0 try again later" "$ROOT/qc.out"
tap_ok $? "list: each waiting recipient with the peer's last deferral reason"
grep -q "^$M1  age [0-9]*[smhd]  size [0-9]*  uid $(id -u $U1)  from <$U1@demo.test>\$" "$ROOT/qc.out"
tap_ok $? "list: id, age, size, injecting uid, sender"
tap_ok "$(tail -n 1 "$ROOT/qc.out" | grep -qx -- '-- 3 messages'; echo $?)" "list: the count at the end"
qc $U1 list
tap_is "$(grep -Eo '^[0-9a-z]{12,24} ' "$ROOT/qc.out" | tr -d ' ')" "$M1" "an ordinary user lists only the message it injected"
s6-setuidgid $U1 "$B/mailq" > "$ROOT/mailq.out" 2>&1
tap_ok "$(cmp -s "$ROOT/qc.out" "$ROOT/mailq.out"; echo $?)" "mailq as an ordinary user: the same list"
qc $UA list
tap_is "$(grep -cE "^($M1|$M2|$MR) " "$ROOT/qc.out")" 3 "a member of group tern (supplementary) lists every message"

qc $U1 show "$M1"
tap_ok "$(grep -q "^Subject: $tok-u1\$" "$ROOT/qc.out" && grep -q "^$M1 " "$ROOT/qc.out" && grep -q '^Received: (tern [0-9]* invoked by uid' "$ROOT/qc.out"; echo $?)" \
  "show: the envelope, then the message as queued"
qc $U1 show "$M2"; rc=$?
tap_ok "$([ $rc = 1 ] && grep -q 'no such message' "$ROOT/qc.out" && ! grep -q "$tok-u2" "$ROOT/qc.out"; echo $?)" "show of another user's message: refused as unknown ($rc)"
qc root show "$M2"
grep -q "^Subject: $tok-u2\$" "$ROOT/qc.out"; tap_ok $? "root shows any message"

# hold
qc $U1 hold "$M1"; tap_is "$?" 1 "an ordinary user may not hold"
qc root hold "$MR"; tap_is "$?" 0 "root holds a message"
tap_ok "$([ -f "$ROOT/queue/hold/$MR" ]; echo $?)" "the hold is the file queue/hold/ID"
qc root list; grep -q "^$MR .*  held\$" "$ROOT/qc.out"; tap_ok $? "list shows it held"
qc root retry "$MR"; rc=$?
tap_ok "$([ $rc = 1 ] && grep -q held "$ROOT/qc.out"; echo $?)" "retry of a held message is refused"
s6-svc -t "$ROOT/service/send"
wait_for 20 sh -c "grep -q 'held msg $MR' '$LOG'"
tap_ok $? "tern-send restarted and read the hold back"
wait_for 10 sh -c "'$B/tern-queuectl' list 2>/dev/null | grep -q '^$MR .*  held\$'"
tap_ok $? "after the restart the message is still held"
n=$(tries "$MR"); n1=$(tries "$M1")
qc root retry all; tap_is "$?" 0 "retry all as root"
wait_for 10 sh -c "[ \$(grep -c 'starting delivery [0-9]*: msg $M1 ' '$LOG') -gt $n1 ]"; sleep 1
tap_ok "$([ "$(tries "$MR")" = "$n" ] && [ "$(tries "$M1")" -gt "$n1" ]; echo $?)" "retry all: the others are tried, the held one is not"
qc $U1 release "$MR"; tap_is "$?" 1 "an ordinary user may not release"
qc root release "$MR"
wait_for 10 sh -c "[ \$(grep -c 'starting delivery [0-9]*: msg $MR ' '$LOG') -gt $n ]"
tap_ok "$([ $? = 0 ] && [ ! -e "$ROOT/queue/hold/$MR" ]; echo $?)" "release: the hold file goes and the message is tried at once"

# retry: one, domain, sendmail -q forms
n1=$(tries "$M1")
qc $U1 retry "$M1"
wait_for 10 sh -c "grep -q 'queuectl: retry msg $M1 by uid $(id -u $U1)' '$LOG' && [ \$(grep -c 'starting delivery [0-9]*: msg $M1 ' '$LOG') -gt $n1 ]"
tap_ok $? "an ordinary user retries its own message"
qc $U1 retry "$M2"; tap_is "$?" 1 "but not another user's"
qc $U1 retry @d2.test; tap_is "$?" 1 "nor a domain"
qc root retry @d2.test
wait_for 10 sh -c "grep -q 'queuectl: retry msg $M2 by uid 0' '$LOG'"; tap_ok $? "root retries a domain"
s6-setuidgid $U1 "$B/sendmail" -q; rc=$?
wait_for 10 sh -c "[ \$(grep -c 'queuectl: retry msg $M1 by uid $(id -u $U1)' '$LOG') -ge 2 ]"
tap_ok "$([ $? = 0 ] && [ $rc = 0 ] && ! grep -q "queuectl: retry msg $M2 by uid $(id -u $U1)" "$LOG"; echo $?)" "sendmail -q as a user retries its own messages only"
c2=$(grep -c "queuectl: retry msg $M2 by uid 0" "$LOG"); cr=$(grep -c "queuectl: retry msg $MR by uid 0" "$LOG")
"$B/sendmail" -qRd2.test && "$B/sendmail" -qI "$MR"
wait_for 10 sh -c "[ \$(grep -c 'queuectl: retry msg $M2 by uid 0' '$LOG') -gt $c2 ] && [ \$(grep -c 'queuectl: retry msg $MR by uid 0' '$LOG') -gt $cr ]"
tap_ok $? "sendmail -qRDOMAIN and -qI ID"

# delete
qc $U1 delete "$M2"; tap_is "$?" 1 "an ordinary user may not delete another user's message"
qc $U1 delete all; tap_is "$?" 1 "nor delete all"
qc $U1 delete "$M1"; tap_is "$?" 0 "an ordinary user deletes its own message"
wait_for 10 sh -c "grep -q 'end msg $M1' '$LOG'"
tap_ok "$([ $? = 0 ] && grep -q "queuectl: delete msg $M1 by uid $(id -u $U1)" "$LOG" && ! "$B/tern-queuectl" list | grep -q "^$M1 "; echo $?)" \
  "the deletion is logged and the message is gone"
sleep 2
tap_is "$(grep -l "$tok-u1" "$MAILDIR"/new/* 2>/dev/null | wc -l | tr -d ' ')" 0 "no bounce for a deleted message"
qc root delete @d3.test
qc root list
tap_ok "$(grep -q '^  to <defer-c@d3.test> remote: done$' "$ROOT/qc.out" && grep -q '^  to <defer-d@d4.test> remote: waiting' "$ROOT/qc.out"; echo $?)" \
  "delete @DOMAIN: the recipients there are done, the others still wait"
grep -q "queuectl: delete msg $MR to <defer-c@d3.test> by uid 0" "$LOG"; tap_ok $? "delete @DOMAIN logs each recipient"
n=$(grep -c 'status: exiting' "$LOG")
s6-svc -t "$ROOT/service/send"
wait_for 20 sh -c "[ \$(grep -c 'status: exiting' '$LOG') -gt $n ]"
wait_for 20 sh -c "'$B/tern-queuectl' list 2>/dev/null | grep -q '^  to <defer-d@d4.test> remote: waiting'"
qc root list
tap_ok "$(grep -q '^  to <defer-c@d3.test> remote: done$' "$ROOT/qc.out"; echo $?)" \
  "delete @DOMAIN is in the journal (state/journal): after a restart of tern-send the recipient is still done"
qc root delete all; tap_is "$?" 0 "root: delete all"
wait_for 10 sh -c "'$B/tern-queuectl' list | grep -qx 'Mail queue is empty'"
tap_ok "$([ $? = 0 ] && wait_for 10 sh -c '[ $(find "$ROOT/queue/msg" -type f | wc -l) = 0 ]'; echo $?)" "the queue is empty, files included"

# a malformed request
r=$(python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'delete all\r\n'); s.shutdown(socket.SHUT_WR)
print(s.recv(200).decode().strip())" "$ROOT/sock/send")
tap_is "$r" "no: malformed request (see tern-queuectl(8))" "a malformed request is refused"

# clients that connect and say nothing (or half a line) take the 4 slots
# for 30 s at most: deliveries go on meanwhile, and the next client waits
python3 -c "
import socket,sys,time
ss=[]
for i in range(6):
    s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); ss.append(s)
ss[0].sendall(b'li')
time.sleep(4)" "$ROOT/sock/send" &
IDLE=$!
sleep 0.5
printf 'Subject: %s-idle

while idle
' "$tok" | inject_as root demo@demo.test
wait_for 10 sh -c "grep -l '$tok-idle' '$MAILDIR'/new/* 2>/dev/null | grep -q ."
tap_ok $? "silent clients on every slot do not stop deliveries"
s=$(date +%s); "$B/tern-queuectl" list > "$ROOT/qc.out" 2>&1; rc=$?; e=$(( $(date +%s) - s ))
wait $IDLE
tap_ok "$([ $rc = 0 ] && [ $e -lt 30 ]; echo $?)" "a command waits for a free slot and is answered ($rc, $e s)"

# an ordinary user holding connections open gets one slot, never the last:
# root, and another user, are answered at once; the user's own next
# request is told busy
s6-setuidgid $U1 python3 -c "
import socket,sys,time
ss=[]
for i in range(16):
    s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); ss.append(s)
time.sleep(8)" "$ROOT/sock/send" &
HOG=$!
sleep 1
s=$(date +%s); "$B/tern-queuectl" list > /dev/null 2>&1; rc=$?; e=$(( $(date +%s) - s ))
tap_ok "$([ $rc = 0 ] && [ $e -lt 4 ]; echo $?)" "one user holding 16 connections: root is answered at once ($rc, $e s)"
s=$(date +%s); s6-setuidgid $U2 "$B/tern-queuectl" list > /dev/null 2>&1; rc=$?; e=$(( $(date +%s) - s ))
tap_ok "$([ $rc = 0 ] && [ $e -lt 4 ]; echo $?)" "... and so is another ordinary user ($rc, $e s)"
out=$(s6-setuidgid $U1 "$B/tern-queuectl" list 2>&1); rc=$?
tap_ok "$([ $rc = 1 ] && echo "$out" | grep -q busy; echo $?)" "... while that user's own next request is told busy ($rc: $out)"
kill $HOG 2>/dev/null; wait $HOG 2>/dev/null

# tern-send stopped: tern-queuectl says so; mailq falls back to tern-qread
s6-svc -d "$ROOT/service/send"
wait_for 20 sh -c "s6-svstat -o up '$ROOT/service/send' | grep -qx false"
"$B/tern-queuectl" list > "$ROOT/qc.out" 2>&1; rc=$?
tap_ok "$([ $rc = 111 ] && grep -q 'is tern-send running' "$ROOT/qc.out"; echo $?)" "tern-send down: exit 111 with a hint ($rc)"
tap_is "$("$B/mailq" 2>&1)" "Mail queue is empty" "tern-send down: mailq reads the queue itself (tern-qread)"
out=$(s6-setuidgid $U1 "$B/mailq" 2>&1); rc=$?
tap_ok "$([ $rc = 75 ] && echo "$out" | grep -q 'tern-send does not answer' && ! echo "$out" | grep -q 'Permission denied'; echo $?)" \
  "tern-send down: an ordinary user's mailq says tern-send does not answer, exit 75 ($rc: $out)"
s6-svc -u "$ROOT/service/send"
wait_for 20 sh -c "'$B/tern-queuectl' list >/dev/null 2>&1"
tap_ok $? "tern-send back: commands work again"
[ "$TAP_FAIL" -eq 0 ] || tail -n 40 "$LOG" | sed 's/^/# /'
tap_done
