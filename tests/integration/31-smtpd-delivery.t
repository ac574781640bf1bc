#!/bin/sh
# 31-smtpd-delivery.t: real SMTP clients (Python smtplib, swaks, msmtp)
# against a full instance; each message lands in the demo Maildir
# byte-for-byte apart from the trace headers tern adds (Return-Path,
# Delivered-To, Received); an 8-bit body (BODY=8BITMIME) and a UTF-8
# recipient (SMTPUTF8) arrive intact. Relay: from 127.0.0.2 (no
# RELAYCLIENT) x@example.net gets 553 and nothing is queued, and the
# percent hack, quoted '@', source routes and double '@' never reach a
# remote delivery; from 127.0.0.1 (RELAYCLIENT) x@example.net is queued for
# remote delivery (routed by smtproutes to a closed loopback port, so no
# packet leaves the host). Every wait is bounded.
. "$(dirname "$0")/lib.sh"
tern_init
command -v swaks >/dev/null || tap_skip_all "swaks not installed"
command -v msmtp >/dev/null || tap_skip_all "msmtp not installed"
tern_install || exit 1
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
# remote deliveries go to a closed port on loopback: never to the Internet
printf 'example.net:127.0.0.1:1\n:127.0.0.1:1\n' > "$ROOT/control/smtproutes"
tern_start || exit 1

export ROOT TERN_PORT MAILDIR
python3 "$SRC/tests/integration/31-smtpd-delivery.py"
