#!/bin/sh
# 47-remote-tlsrpt.t: TLS-RPT (RFC 8460) end to end, in a private network
# namespace: a signed zone rpt.test (ldns-signzone) behind a validating
# unbound, so the default level is dane (control/dnssecprobe); the
# installed tern-remote (as ternr) delivers to SMTP sinks: DANE-verified
# TLS (good), a mismatching TLSA (bad: deferred), no STARTTLS (plain),
# a failing handshake (broken: TLS NO-GO, then plaintext), dane-only
# without TLSA (strict: deferred), MTA-STS policies served over HTTPS on
# loopback (sts, enforce: verified; ststest, testing, a certificate for
# another name: delivered, the failure reported; both reported as
# policy-type sts with the policy's lines and mx patterns), and a domain
# without a TLS-RPT record
# (quiet). tern-tlsrpt (as ternr)
# then reports the day through the instance's own queue to
# tlsrpt@demo.test; the test decodes each message (multipart/report,
# application/tlsrpt+gzip) and checks the JSON's fields and counts against
# what was delivered. The checks: tests/integration/47-remote-tlsrpt.py.
if [ "${TERN_IN_NETNS:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  TERN_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
for p in unbound ldns-signzone ldns-keygen openssl unshare ip; do
  command -v "$p" >/dev/null || tap_abort "$p is not installed (tests/deps.sh test installs it)"
done
[ "${TERN_IN_NETNS:-}" = 1 ] || tap_skip_all "needs root (network namespace, ports 25 and 53)"
ip link set lo up
ip addr add 127.0.0.53/8 dev lo 2>/dev/null
tern_init
tern_install || tap_abort "install failed"
[ -x "$ROOT/bin/tern-tlsrpt" ] || tap_abort "tern-tlsrpt not installed"
tern_start || tap_abort "services did not start"
python3 "$SRC/tests/integration/47-remote-tlsrpt.py" "$ROOT" > "$ROOT/tap.out" 2>&1
tap_plan "$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$ROOT/tap.out" | head -n 1)"
tap_relay < "$ROOT/tap.out"
tap_done
