#!/bin/sh
# 63-testssl.t: Debian's testssl.sh against the three TLS listeners of a
# private instance: STARTTLS on the MX port, STARTTLS on submission,
# implicit TLS (smtps). Protocols (-p), forward secrecy (-f) and the
# vulnerabilities (-U); no DNS lookups (--nodns none). Each must show no
# vulnerability of severity MEDIUM or worse, no SSLv2/SSLv3, forward
# secrecy, and on submission and smtps nothing below TLS 1.2. The summary
# of each run is kept in the test log (# lines).
. "$(dirname "$0")/lib.sh"
command -v testssl >/dev/null || tap_skip_all "testssl.sh not installed (tests/deps.sh test)"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-tlsd" ] || tap_skip_all "tern-tlsd not built"
tern_start || exit 1
tap_plan 3
for p in "$TERN_SUBMISSION_PORT" "$TERN_SMTPS_PORT"; do wait_for 10 tcp_up "$p"; done
run() { # label port starttls? strict
  _j=$ROOT/testssl-$1.json
  if [ "$3" = 1 ]; then _t="--starttls smtp"; else _t=; fi
  # shellcheck disable=SC2086
  timeout 600 testssl --quiet --color 0 --nodns none --warnings off --connect-timeout 10 --openssl-timeout 10 \
    $_t -p -f -U --jsonfile "$_j" "127.0.0.1:$2" > "$ROOT/testssl-$1.out" 2>&1
  python3 "$SRC/tests/integration/63-testssl.py" "$1" "$_j" "$4" > "$ROOT/testssl-$1.sum" 2>&1
  _r=$?
  sed 's/^/# /' "$ROOT/testssl-$1.sum"
  tap_ok $_r "testssl on $1 (port $2): no vulnerability, forward secrecy$([ "$4" = 1 ] && echo ', nothing below TLS 1.2')"
}
run mx "$TERN_PORT" 1 0
run submission "$TERN_SUBMISSION_PORT" 1 1
run smtps "$TERN_SMTPS_PORT" 0 1
tap_done
