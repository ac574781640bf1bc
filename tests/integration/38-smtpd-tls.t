#!/bin/sh
# 38-smtpd-tls.t: STARTTLS, implicit TLS (smtps), submission and SMTP AUTH
# in tern-smtpd, driven through tern-tlsd the way tern-listen runs them
# (tern-tlsd as nobody on the connection, tern-smtpd as ternd beside it,
# SSLCTLFD=3 SSLREADFD=4 SSLWRITEFD=4, TERN_LISTENER): a loopback
# listener in 38-smtpd-tls.py starts both for each connection. The queue
# and the deliveries are a private instance (lib.sh). The checks are listed
# in 38-smtpd-tls.py.
. "$(dirname "$0")/lib.sh"
tern_init
[ -x "$SRC/smtpd/tern-tlsd" ] || tap_skip_all "tern-tlsd not built"
[ -x "$SRC/smtpd/tern-authfile" ] || tap_skip_all "tern-authfile not built"
command -v openssl >/dev/null || tap_skip_all "openssl not installed"
tern_install || exit 1
tern_start || exit 1

# the password checker, readable by ternd only for this test (in a real
# installation the file is out of ternd's reach and the checker runs
# behind s6-sudo)
cp "$SRC/smtpd/tern-authfile" "$ROOT/bin/tern-authfile-test"
h=$(printf 's3cret pass\n' | "$SRC/smtpd/tern-authfile" -m)
printf 'bob@demo.test:%s\nalice:%s\n' "$h" "$h" > "$ROOT/authpasswd"
chown ternd "$ROOT/authpasswd"; chmod 0600 "$ROOT/authpasswd"
printf '%s -f %s\n' "$ROOT/bin/tern-authfile-test" "$ROOT/authpasswd" > "$ROOT/control/authcheck"
printf 'bob@demo.test:other@example.org\n' > "$ROOT/control/authsenders"
printf 'alice:@lists.demo.test\n' >> "$ROOT/control/authsenders"
printf '2\n' > "$ROOT/control/authfaildelay"
mkdir -p "$ROOT/auth-fail"; chown ternd "$ROOT/auth-fail"; chmod 0700 "$ROOT/auth-fail"

export ROOT MAILDIR
python3 "$SRC/tests/integration/38-smtpd-tls.py"
