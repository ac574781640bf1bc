#!/bin/sh
# 28-queue-ids.t: queue ids never repeat and one grep follows a message.
# (1) One message whose remote recipient the peer (the SMTP sink) defers
# once with 451 is retried by tern-queuectl retry ID and delivered; one
# grep for its id over the logs of tern-queued and of tern-send (in that
# order: tern-queued logs a message once it is committed, when tern-send
# may already have taken it, and each s6-log stamps a line when it reads
# it, so stamps order lines within one log only) shows its injection, its
# first attempt and the deferral, the retry command, the second attempt,
# the success and its end. (2) 10,000
# messages injected at once through the queue socket (20 connections at a
# time) get 10,000 distinct ids, and a grep for each finds exactly its own
# lines, from injection to end (tests/integration/28-queue-ids.py).
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 9
tern_install || { diag "install failed"; exit 1; }
[ -x "$ROOT/bin/tern-queuectl" ] && [ -x "$ROOT/bin/tern-remote" ] || tap_abort "tern-queuectl or tern-remote not built"
N=${QUEUE_IDS_N:-10000}
SPORT=$((21000 + $$ % 20000))
echo ":127.0.0.1:$SPORT" > "$ROOT/control/smtproutes"
LOG=$ROOT/log/send/current
python3 "$SRC/tests/integration/smtpsink.py" "$SPORT" "$ROOT/sink.jsonl" 0 300 &
SINK=$!
trap 'kill $SINK 2>/dev/null; tern_cleanup' EXIT
wait_for 10 tcp_up "$SPORT" || diag "sink not listening"
tern_start; tap_ok $? "services up"

# (1) deferred, retried by the command, delivered: one grep
printf 'Subject: grep-%s\n\nfollow me\n' "$$" | inject_as root -f follow@demo.test deferonce-$$@far.test
wait_for 20 sh -c "grep -q 'deferral: .*451' '$LOG'"
tap_ok $? "the peer defers the first attempt"
ID=$(sed -n 's/.*info msg \([0-9a-z]*\): .* from <follow@demo.test> .*/\1/p' "$LOG" | head -n 1)
"$ROOT/bin/tern-queuectl" retry "$ID" > "$ROOT/retry.out" 2>&1
tap_ok $? "tern-queuectl retry $ID"
wait_for 20 sh -c "grep -q 'end msg $ID' '$LOG'"
tap_ok $? "delivered after the retry (not at the 400 s of the schedule)"
grep -h "$ID" "$ROOT/log/queue/current" "$ROOT/log/send/current" > "$ROOT/follow.txt"
sed 's/^/# /' "$ROOT/follow.txt"
got=$(sed -E -e 's/^@[0-9a-f]+ //' \
  -e 's/^tern-queued: info: msg .*/queued/' -e 's/^new msg .*/new/' -e 's/^info msg .*/info/' \
  -e 's/^starting delivery .* to remote .*/start/' -e 's/^delivery [0-9]+: deferral: .*451.*/deferral/' \
  -e 's/^queuectl: retry msg .* by uid 0$/retry/' -e 's/^delivery [0-9]+: success: .*250.*/success/' \
  -e 's/^end msg .*/end/' "$ROOT/follow.txt" | tr '\n' ' ')
tap_is "$got" "queued new info start deferral retry start success end " "one grep for the id: injection, deferral, retry command, delivery, end, in order"
sed -n '2,$p' "$ROOT/follow.txt" | sort -c
tap_ok $? "tern-send's lines in the order of their stamps"
tap_is "$(grep -c "deferonce-$$@far.test" "$ROOT/sink.jsonl")" 1 "the peer got the message once"

# (2) N messages, N ids
"$ROOT/bin/tern-queuectl" list > /dev/null 2>&1
start=$(date +%s)
python3 "$SRC/tests/integration/28-queue-ids.py" inject "$ROOT" "$N" "$ROOT/ids.txt" > "$ROOT/inject.out" 2>&1
tap_ok $? "$N messages injected through the queue socket in $(( $(date +%s) - start )) s: $(cat "$ROOT/inject.out")"
wait_for 600 sh -c "[ \$(find '$MAILDIR/new' -type f | wc -l) -ge $N ] && [ \$(find '$ROOT/queue/msg' -type f | wc -l) = 0 ]"
diag "delivered in $(( $(date +%s) - start )) s"
sleep 1
python3 "$SRC/tests/integration/28-queue-ids.py" check "$ROOT/ids.txt" "$ROOT/log/queue" "$ROOT/log/send" > "$ROOT/check.out" 2>&1
rc=$?
sed 's/^/# /' "$ROOT/check.out"
tap_ok $rc "$N distinct ids; a grep for each finds exactly its lines, injection to end, in order"
tap_done
