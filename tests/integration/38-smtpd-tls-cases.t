#!/bin/sh
# 38-smtpd-tls-cases.t: every shared case in ../shared/cases/tls-auth/
# (STARTTLS, smtps, submission with AUTH), and every smtp-in/ case again
# now that STARTTLS is offered (so their tls-* cases run), against
# tern-smtpd and tern-tlsd
# started per connection as tern-listen does (tlsserve.py: listeners for
# mx, submission and smtps on loopback), a private instance for the queue
# and the deliveries, the client at 127.0.0.2 (no relay), the AUTH user
# bob@demo.test checked by tern-authfile. Each case is one TAP line.
. "$(dirname "$0")/lib.sh"
CASES=${TERN_CASES:-$SRC/../shared/cases}
[ -x "$CASES/run-cases" ] || tap_skip_all "no shared cases at $CASES"
[ -d "$CASES/tls-auth" ] || tap_skip_all "no tls-auth cases at $CASES"
[ -x "$SRC/smtpd/tern-tlsd" ] && [ -x "$SRC/smtpd/tern-authfile" ] || tap_skip_all "tern-tlsd or tern-authfile not built"
command -v openssl >/dev/null || tap_skip_all "openssl not installed"
tern_init
tern_install || exit 1
tern_start || exit 1
cp "$SRC/smtpd/tern-authfile" "$ROOT/bin/tern-authfile-test"
h=$(printf 'case-pass\n' | "$SRC/smtpd/tern-authfile" -m)
printf 'bob@demo.test:%s\n' "$h" > "$ROOT/authpasswd"
chown ternd "$ROOT/authpasswd"; chmod 0600 "$ROOT/authpasswd"
printf '%s -f %s\n' "$ROOT/bin/tern-authfile-test" "$ROOT/authpasswd" > "$ROOT/control/authcheck"
mkdir -p "$ROOT/auth-fail"; chown ternd "$ROOT/auth-fail"; chmod 0700 "$ROOT/auth-fail"

printf '10485760\n' > "$ROOT/control/databytes"

python3 - "$ROOT" "$CASES" "$SRC" > "$ROOT/cases.out" 2>&1 <<'PY'
import glob, os, subprocess, sys
root, cases, src = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(src, 'tests', 'integration'))
import tlsserve
d = tlsserve.mkcert(root)
srv = {k: tlsserve.Server(root, d, k) for k in ('mx', 'submission', 'smtps')}
r = subprocess.run([sys.executable, os.path.join(cases, 'run-cases'), '--host', '127.0.0.1',
                    '--port', str(srv['mx'].port), '--submission-port', str(srv['submission'].port),
                    '--smtps-port', str(srv['smtps'].port), '--source', '127.0.0.2',
                    '--auth-user', 'bob@demo.test', '--auth-pass', 'case-pass', '--sender', 'bob@demo.test',
                    '--rcpt-domain', 'demo.test', '--foreign-domain', 'example.net',
                    '--maildir', os.path.join(root, 'mail', 'demo'), '--show-fail']
                   + sorted(glob.glob(os.path.join(cases, 'smtp-in', '*.case')))
                   + sorted(glob.glob(os.path.join(cases, 'tls-auth', '*.case'))))
for s in srv.values():
    s.close()
PY
tap_cases "$ROOT/cases.out"
