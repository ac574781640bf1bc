#!/bin/sh
# 73-send-remote.t: tern-send's remote channel with the real tern-rspawn
# and tern-remote: recipients of one message are grouped per domain
# (case-insensitive) into one SMTP transaction, at most 100 RCPTs each; a
# 550 on one RCPT bounces that recipient only, with Remote-MTA and an smtp
# Diagnostic-Code; concurrencyremote caps the simultaneous transactions.
# The receiver is a small SMTP sink on 127.0.0.1
# (tests/integration/smtpsink.py) reached through control/smtproutes.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 8
tern_install || { diag "install failed"; exit 1; }
[ -x "$ROOT/bin/tern-rspawn" ] && [ -x "$ROOT/bin/tern-remote" ] || { echo "1..0 # SKIP remote delivery not installed"; exit 0; }
SPORT=$((21000 + $$ % 20000))
echo ":127.0.0.1:$SPORT" > "$ROOT/control/smtproutes"
echo 2 > "$ROOT/control/concurrencyremote"
echo 20 > "$ROOT/control/timeoutremote"
LOG=$ROOT/log/send/current
python3 "$SRC/tests/integration/smtpsink.py" "$SPORT" "$ROOT/sink.jsonl" 0.3 &
SINK=$!
trap 'kill $SINK 2>/dev/null; tern_cleanup' EXIT
wait_for 10 tcp_up "$SPORT" || diag "sink not listening"
tern_start; tap_ok $? "services up"

tok=r73-$$
printf 'Subject: %s\n\ngrouped\n' "$tok" | inject_as root -f joe@demo.test \
  a1@r1.test b1@r2.test a2@R1.TEST a3@r1.test reject1@r1.test
wait_for 30 sh -c "[ \$(grep -c 'r[12].test' '$ROOT/sink.jsonl' 2>/dev/null) -ge 2 ]"
tap_ok $? "two transactions for two domains"
python3 "$SRC/tests/integration/73-send-remote.py" "$ROOT/sink.jsonl" > "$ROOT/g.txt"
tap_is "$(sort "$ROOT/g.txt" | tr '\n' '|')" "a1@r1.test a2@R1.TEST a3@r1.test|b1@r2.test|" "one transaction per domain, every recipient of it (case-insensitive)"
wait_for 20 sh -c "grep -l 'multipart/report' '$MAILDIR'/new/* 2>/dev/null | xargs -r grep -l 'Subject: $tok\$' | grep -q ."
b=$(grep -l 'multipart/report' "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -l "Subject: $tok\$" | head -n 1)
dsn fields "$b" Final-Recipient Status Remote-MTA Diagnostic-Code > "$ROOT/b.txt" 2>&1
sed 's/^/# /' "$ROOT/b.txt"
tap_is "$(cat "$ROOT/b.txt")" "rfc822; reject1@r1.test 5.1.1 dns; 127.0.0.1 smtp; 550 5.1.1 no such user here" \
  "only the rejected RCPT bounces, with Remote-MTA and the server's reply"

# 150 recipients at one domain: 100 + 50
rc=$(python3 -c "print(' '.join('u%d@big.test' % i for i in range(150)))")
printf 'Subject: %s-big\n\nmany\n' "$tok" | inject_as root -f joe@demo.test $rc
wait_for 30 sh -c "[ \$(grep -c 'big.test' '$ROOT/sink.jsonl' 2>/dev/null) -ge 2 ]"
tap_is "$(grep 'big.test' "$ROOT/sink.jsonl" | python3 -c "import json,sys; print(sorted(len(json.loads(l)['rcpt']) for l in sys.stdin))")" \
  "[50, 100]" "150 recipients at one domain: two transactions of 100 and 50"

# concurrencyremote 2: ten messages to ten domains, each transaction 0.3 s
rm -f "$ROOT/sink.jsonl.max"
pids=
for i in 0 1 2 3 4 5 6 7 8 9; do
  printf 'Subject: %s-c%s\n\nc\n' "$tok" "$i" | inject_as root -f joe@demo.test "x@c$i.test" &
  pids="$pids $!"
done
wait $pids
wait_for 40 sh -c "[ \$(grep -c '@c[0-9].test' '$ROOT/sink.jsonl' 2>/dev/null) -ge 10 ]"
tap_ok $? "all ten delivered"
tap_ok "$([ "$(cat "$ROOT/sink.jsonl.max" 2>/dev/null)" -le 2 ] && echo 0 || echo 1)" \
  "at most concurrencyremote (2) sessions at once (saw $(cat "$ROOT/sink.jsonl.max" 2>/dev/null))"
grep -o 'remote [0-9]*/[0-9]*' "$LOG" | awk -F'[ /]' '$2 > $3 { bad = 1 } END { exit bad }'
tap_ok $? "the log never shows more remote deliveries than the limit"
[ "$TAP_FAIL" -eq 0 ] || { tail -n 40 "$LOG" | sed 's/^/# /'; cat "$ROOT/sink.jsonl" | head -5 | sed 's/^/# /'; }
tap_done
