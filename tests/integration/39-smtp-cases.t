#!/bin/sh
# 39-smtp-cases.t: every black-box SMTP case in ../shared/cases/smtp-in/
# (conversations derived from real bug reports of other mail servers)
# against a full instance, delivery checks included. The client connects
# from 127.0.0.2, which may not relay. Each case is one TAP line.
. "$(dirname "$0")/lib.sh"
CASES=${TERN_CASES:-$SRC/../shared/cases}
[ -x "$CASES/run-cases" ] || tap_skip_all "no shared cases at $CASES"
tern_init
tern_install || exit 1
printf '10485760\n' > "$ROOT/control/databytes"
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
tern_start || exit 1
python3 "$CASES/run-cases" --host 127.0.0.1 --port "$TERN_PORT" --source 127.0.0.2 \
  --rcpt-domain demo.test --foreign-domain example.net --maildir "$ROOT/mail/demo" \
  --show-fail "$CASES"/smtp-in/*.case > "$ROOT/cases.out" 2>&1
tap_cases "$ROOT/cases.out"
