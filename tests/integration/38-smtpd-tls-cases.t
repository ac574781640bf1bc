#!/bin/sh
# 38-smtpd-tls-cases.t: every shared case in ../shared/cases/tls-auth/
# (STARTTLS, smtps, submission with AUTH), and every smtp-in/ case again
# now that STARTTLS is offered (so their tls-* cases run), against the
# installed smtpd service: tern-listen's three listeners, tern-tlsd as
# terntls beside tern-smtpd as ternd, the password checked by the auth
# service (s6-sudo to tern-authfile as ternauth, as install.sh sets
# control/authcheck). The client is 127.0.0.2 (no relay); the AUTH user
# bob@demo.test is in HOME/auth/passwd. Each case is one TAP line.
. "$(dirname "$0")/lib.sh"
CASES=${TERN_CASES:-$SRC/../shared/cases}
[ -x "$CASES/run-cases" ] || tap_skip_all "no shared cases at $CASES"
[ -d "$CASES/tls-auth" ] || tap_skip_all "no tls-auth cases at $CASES"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-tlsd" ] && [ -x "$ROOT/bin/tern-authfile" ] || tap_skip_all "tern-tlsd or tern-authfile not built"
[ -e "$ROOT/tls/default.crt" ] || tap_skip_all "no certificate (openssl missing at install)"
printf '10485760\n' > "$ROOT/control/databytes"
h=$(printf 'case-pass\n' | "$ROOT/bin/tern-authfile" -m)
printf 'bob@demo.test:%s\n' "$h" > "$ROOT/auth/passwd"
tern_start || exit 1
for p in "$TERN_SUBMISSION_PORT" "$TERN_SMTPS_PORT"; do wait_for 10 tcp_up "$p"; done
python3 "$CASES/run-cases" --host 127.0.0.1 --port "$TERN_PORT" --source 127.0.0.2 \
  --submission-port "$TERN_SUBMISSION_PORT" --smtps-port "$TERN_SMTPS_PORT" \
  --auth-user bob@demo.test --auth-pass case-pass --sender bob@demo.test \
  --rcpt-domain demo.test --foreign-domain example.net --maildir "$ROOT/mail/demo" \
  --show-fail "$CASES"/smtp-in/*.case "$CASES"/tls-auth/*.case > "$ROOT/cases.out" 2>&1
tap_cases "$ROOT/cases.out"
