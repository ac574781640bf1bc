#!/bin/sh
# 35-smtpd-unverified.t: only tern-listen (root, dropping to ternd) says
# who the client is. An ordinary local user who runs tern-smtpd with a
# forged TCPREMOTEIP/TCPREMOTEHOST gets a Received line that calls them
# unverified, never "(host [ip])" as if the network had said so; the same
# message through the listener keeps the plain form.
. "$(dirname "$0")/lib.sh"
tern_init
command -v swaks >/dev/null || tap_skip_all "swaks not installed"
tap_plan 6
tern_install || exit 1
tern_start || exit 1
# a copy nobody can read even when the checkout is not reachable (a clone under /root, mode 0700)
T=$ROOT/t; mkdir -p "$T"; cp "$SRC/tests/integration/smtp_pipe.py" "$T/"; chmod -R a+rX "$T"

# the forged session, as user nobody (not ternd)
out=$(cd / && env - PATH="$PATH" TCPREMOTEIP=203.0.113.9 TCPREMOTEHOST=mx.bank.example TCPLOCALIP=127.0.0.1 \
  s6-setuidgid nobody python3 "$T/smtp_pipe.py" trusted.example someone@example.org forged@demo.test forged-session \
  -- "$ROOT/bin/tern-smtpd" 2>&1)
tap_ok $? "tern-smtpd run by nobody still queues the message"
diag "$(echo "$out" | tail -n 2)"

# the same through the listener
swaks --server 127.0.0.1 --port "$TERN_PORT" --ehlo listener.example --from someone@example.org \
  --to real@demo.test --header "Subject: listener-session" --body hello --hide-all
tap_ok $? "the same message through tern-listen is queued"

both() { [ "$(grep -l -e forged-session -e listener-session "$MAILDIR"/new/* 2>/dev/null | wc -l)" -ge 2 ]; }
wait_for 20 both
forged=$(grep -l forged-session "$MAILDIR"/new/* 2>/dev/null | head -n 1)
real=$(grep -l listener-session "$MAILDIR"/new/* 2>/dev/null | head -n 1)
[ -n "$forged" ] && [ -n "$real" ]; tap_ok $? "both messages were delivered"
rcv=$(sed -n '/^Received: from trusted.example/p' "$forged" 2>/dev/null)
diag "forged: $rcv"
case $rcv in *"(unverified: mx.bank.example [203.0.113.9])"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "the forged client data is marked unverified in the Received line"
grep -q '^Received: from trusted.example (mx.bank.example' "$forged" 2>/dev/null
[ $? -ne 0 ]; tap_ok $? "and never shown as a network fact"
rcv=$(sed -n '/^Received: from listener.example/p' "$real" 2>/dev/null)
diag "listener: $rcv"
case $rcv in "Received: from listener.example ([127.0.0.1])") r=0 ;; *) r=1 ;; esac
tap_ok $r "through tern-listen (as ternd) the client address stays a plain network fact"
tap_done
