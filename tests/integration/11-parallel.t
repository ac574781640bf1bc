#!/bin/sh
# 11-parallel.t: 500 messages from 10 parallel clients arrive exactly once
# each, and the queue is empty afterwards; then tern-send is killed with
# SIGKILL in the middle of a batch, s6 restarts it, and nothing is lost
# (duplicates allowed, losses not).
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 7
tern_install || exit 1
tern_start; tap_ok $? "services up"

batch() { # prefix count
  for i in $(seq 1 "$2"); do
    printf 'Subject: %s-%s\n\nbody %s\n' "$1" "$i" "$i" | "$ROOT/bin/sendmail" demo@demo.test || echo "fail $1-$i"
  done
}
bpids=
for c in $(seq 1 10); do batch "par$$-c$c" 50 > "$ROOT/batch$c.out" 2>&1 & bpids="$bpids $!"; done
wait $bpids   # not a bare wait: s6-svscan is a child of this shell too
tap_is "$(cat "$ROOT"/batch*.out)" "" "500 injections all exit 0"
count() { grep -l "^Subject: $1" "$MAILDIR"/new/* 2>/dev/null | wc -l | tr -d ' '; }
wait_for 120 sh -c "[ \$(grep -l '^Subject: par$$-' '$MAILDIR'/new/* 2>/dev/null | wc -l) -ge 500 ]"
uniq=$(grep -h "^Subject: par$$-" "$MAILDIR"/new/* | sort -u | wc -l | tr -d ' ')
all=$(grep -h "^Subject: par$$-" "$MAILDIR"/new/* | wc -l | tr -d ' ')
tap_is "$uniq/$all" "500/500" "500 distinct messages delivered, each once"
wait_for 30 sh -c "[ \$(find '$ROOT/queue/msg' -type f | wc -l) -eq 0 ]"
tap_ok $? "queue empty afterwards"

# kill tern-send in the middle of a batch of 200
batch "kill$$" 200 > "$ROOT/kill.out" 2>&1 &
bp=$!
sleep 1
pkill -9 -f "$ROOT/bin/tern-send"
sleep 1
pkill -9 -f "$ROOT/bin/tern-send"
wait $bp
tap_is "$(cat "$ROOT/kill.out")" "" "200 injections exit 0 while tern-send is killed"
wait_for 120 sh -c "[ \$(grep -h '^Subject: kill$$-' '$MAILDIR'/new/* 2>/dev/null | sort -u | wc -l) -ge 200 ]"
got=$(grep -h "^Subject: kill$$-" "$MAILDIR"/new/* 2>/dev/null | sort -u | wc -l | tr -d ' ')
dups=$(( $(grep -h "^Subject: kill$$-" "$MAILDIR"/new/* 2>/dev/null | wc -l) - got ))
diag "after SIGKILL of tern-send: $got distinct of 200, $dups duplicates"
tap_is "$got" 200 "every message delivered after tern-send was killed twice"
wait_for 30 sh -c "[ \$(find '$ROOT/queue/msg' -type f | wc -l) -eq 0 ]"
tap_ok $? "queue empty after recovery"
tap_done
