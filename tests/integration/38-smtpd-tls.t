#!/bin/sh
# 38-smtpd-tls.t: STARTTLS, implicit TLS (smtps), submission and SMTP AUTH
# in tern-smtpd, through the installed smtpd service of a private instance
# (tern-listen's mx, submission and smtps listeners, tern-tlsd beside each
# session, the auth service checking HOME/auth/passwd). The checks are
# listed in 38-smtpd-tls.py.
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-tlsd" ] && [ -x "$ROOT/bin/tern-authfile" ] || tap_skip_all "tern-tlsd or tern-authfile not built"
[ -e "$ROOT/tls/default.crt" ] || tap_skip_all "no certificate (openssl missing at install)"
h=$(printf 's3cret pass\n' | "$ROOT/bin/tern-authfile" -m)
printf 'bob@demo.test:%s\nalice:%s\n' "$h" "$h" > "$ROOT/auth/passwd"
printf 'bob@demo.test:other@example.org\n' > "$ROOT/control/authsenders"
printf 'alice:@lists.demo.test\n' >> "$ROOT/control/authsenders"
printf '2\n' > "$ROOT/control/authfaildelay"
tern_start || exit 1
for p in "$TERN_SUBMISSION_PORT" "$TERN_SMTPS_PORT"; do wait_for 10 tcp_up "$p"; done

export ROOT MAILDIR
python3 "$SRC/tests/integration/38-smtpd-tls.py"
