#!/bin/sh
# 76-send-backscatter.t: a bounce of mail from an SMTP client that did not
# authenticate quotes the original's header only (control/bouncebody), so a
# forged sender cannot make tern carry a stranger's text to a third party;
# local mail still bounces whole, and "smtp:all" brings the whole message
# back. The stranger is a client on 127.0.0.2 (no relaying); the forged
# sender's domain is routed to a sink on 127.0.0.1 (control/smtproutes).
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 12
tern_install || { diag "install failed"; exit 1; }
[ -x "$ROOT/bin/tern-rspawn" ] && [ -x "$ROOT/bin/tern-listen" ] || { echo "1..0 # SKIP remote delivery or SMTP not installed"; exit 0; }
SPORT=$((21000 + ($$ + 7) % 20000))
echo ":127.0.0.1:$SPORT" > "$ROOT/control/smtproutes"
# a forwarding loop in a user's instructions: fwloop forwards to itself,
# tern-local fails the second round as a loop (5.4.6)
printf '&fwloop@demo.test\n' > "$ROOT/mail/demo/.tern-fwloop"
chown ternalias "$ROOT/mail/demo/.tern-fwloop"; chmod 0644 "$ROOT/mail/demo/.tern-fwloop"
SMTPSINK_DATA=1 python3 "$SRC/tests/integration/smtpsink.py" "$SPORT" "$ROOT/sink.jsonl" 0 300 &
SINK=$!
trap 'kill $SINK 2>/dev/null; tern_cleanup' EXIT
wait_for 10 tcp_up "$SPORT" || diag "sink not listening"
tern_start; tap_ok $? "services up"
BS="python3 $SRC/tests/integration/76-send-backscatter.py"
tok=bs76-$$

# bounced RCPT: wait for the bounce to RCPT at the sink; into $ROOT/RCPT.b, LF line ends
bounced() {
  wait_for 40 sh -c "$BS bounce '$ROOT/sink.jsonl' '$1' > '$ROOT/$1.crlf'" || return 1
  tr -d '\r' < "$ROOT/$1.crlf" > "$ROOT/$1.b"
}
# headers_only FILE TOK: the bounce names the original's Subject and no payload line
headers_only() {
  grep -q "^Subject: $2\$" "$1" && grep -q '^Content-Type: text/rfc822-headers' "$1" && ! grep -q "PAYLOAD-$2" "$1"
}

# 1. the forwarding loop: an outsider's message to fwloop, sender forged
r=$($BS send "$TERN_PORT" "v1-$$@example.com" fwloop@demo.test "$tok-fw")
tap_is "${r%% *}" 250 "the outsider's message to the forwarding loop is accepted"
bounced "v1-$$@example.com"; tap_ok $? "a bounce goes to the forged sender"
grep -q "This message is looping" "$ROOT/v1-$$@example.com.b"; tap_ok $? "it reports the loop"
headers_only "$ROOT/v1-$$@example.com.b" "$tok-fw"
tap_ok $? "it quotes the header, not the outsider's body"

# 2. the tester's case: Delivered-To lines that make tern-local see a loop.
# Refused at the end of DATA (tern-smtpd sees the loop) or bounced with
# the header only: either way no payload goes out.
r=$($BS send "$TERN_PORT" "v2-$$@example.com" bs1@demo.test "$tok-dt" bs1@demo.test ternalias-bs1@demo.test)
diag "end of DATA: $r"
case $r in
  5*) tap_ok 0 "Delivered-To loop refused at DATA ($r)"
      sleep 3
      ! $BS bounce "$ROOT/sink.jsonl" "v2-$$@example.com" > /dev/null
      tap_ok $? "no bounce for a refused message" ;;
  *)  bounced "v2-$$@example.com"; tap_ok $? "Delivered-To loop: a bounce goes to the forged sender"
      headers_only "$ROOT/v2-$$@example.com.b" "$tok-dt"
      tap_ok $? "Delivered-To loop: the bounce quotes the header only" ;;
esac

# 3. the twin: mail a local user injects still bounces whole
{ printf 'Subject: %s-local\n\n' "$tok"; printf 'PAYLOAD-%s-local mine\n' "$tok"; } |
  inject_as root -f "v3-$$@example.com" reject1@r1.test
bounced "v3-$$@example.com"; tap_ok $? "a local user's message to a refusing server bounces"
grep -q "^Content-Type: message/rfc822" "$ROOT/v3-$$@example.com.b" && grep -q "PAYLOAD-$tok-local" "$ROOT/v3-$$@example.com.b"
tap_ok $? "a local user's bounce carries the whole message"

# 4. control/bouncebody smtp:all: the outsider's message comes back whole
echo 'smtp:all' > "$ROOT/control/bouncebody"
s6-svc -h "$ROOT/service/send"
wait_for 10 grep -q "status: reread control/locals" "$ROOT/log/send/current"
tap_ok $? "bouncebody reread on SIGHUP"
r=$($BS send "$TERN_PORT" "v4-$$@example.com" fwloop@demo.test "$tok-all")
bounced "v4-$$@example.com"; tap_ok $? "smtp:all: the loop bounces"
grep -q "^Content-Type: message/rfc822" "$ROOT/v4-$$@example.com.b" && grep -q "PAYLOAD-$tok-all" "$ROOT/v4-$$@example.com.b"
tap_ok $? "smtp:all: the bounce carries the whole message"

[ "$TAP_FAIL" -eq 0 ] || { tail -n 30 "$ROOT/log/send/current" | sed 's/^/# /'; }
tap_done
