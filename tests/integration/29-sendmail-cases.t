#!/bin/sh
# 29-sendmail-cases.t: every sendmail(8) compatibility case in
# ../shared/cases/sendmail/ (checked against Postfix's sendmail) against a
# full instance: argv, -t, -f, -F, -i, headers added, exit codes.
. "$(dirname "$0")/lib.sh"
CASES=${TERN_CASES:-$SRC/../shared/cases}
[ -x "$CASES/run-sendmail-cases" ] || tap_skip_all "no shared cases at $CASES"
tern_init
tern_install || exit 1
tern_start || exit 1
python3 "$CASES/run-sendmail-cases" --sendmail "$ROOT/bin/sendmail" --maildir "$MAILDIR" \
  --domain demo.test > "$ROOT/cases.out" 2>&1
tap_cases "$ROOT/cases.out"
