#!/bin/sh
# 77-send-badstart.t: tern-send started over malformed control files
# (delaywarning "soon", concurrencylocal "x", a bad bouncebody line) does
# not exit and restart in a loop: it logs an alert naming each file, uses
# their defaults, and delivers.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 5
tern_install || exit 1
echo soon > "$ROOT/control/delaywarning"
echo x > "$ROOT/control/concurrencylocal"
echo 'sometimes' > "$ROOT/control/bouncebody"
tern_start || exit 1
LOG=$ROOT/log/send/current
wait_for 10 grep -q "alert: bad control/delaywarning" "$LOG"
tap_ok $? "the bad delaywarning is logged as an alert"
grep -q "alert: control/concurrencylocal is not an unsigned decimal number" "$LOG"
tap_ok $? "the bad concurrencylocal is logged, naming the file"
grep -q "alert: bad control/bouncebody" "$LOG"
tap_ok $? "the bad bouncebody is logged"
tok=badstart-$$
printf 'Subject: %s\n\nx\n' "$tok" | "$ROOT/bin/sendmail" demo@demo.test
wait_for 20 sh -c "grep -l '$tok' '$MAILDIR'/new/* >/dev/null 2>&1"
tap_ok $? "mail is delivered all the same"
sleep 2
tap_is "$(grep -c 'cannot start' "$LOG")" 0 "tern-send never stopped (no 'cannot start' line)"
