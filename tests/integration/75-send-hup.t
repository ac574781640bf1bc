#!/bin/sh
# 75-send-hup.t: SIGHUP makes tern-send reread every control file as one
# configuration: a valid change takes effect at once (here the local
# concurrency, shown in the status line); a malformed or unreadable control
# file keeps the whole old configuration, is logged with the reason, and
# never stops tern-send.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 11
tern_install || { diag "install failed"; exit 1; }
LOG=$ROOT/log/send/current
tern_start; tap_ok $? "services up"

# send_pid: the pid of the running tern-send
send_pid() {
  for _p in /proc/[0-9]*; do
    [ "$(readlink "$_p/exe" 2>/dev/null)" = "$ROOT/bin/tern-send" ] && basename "$_p"
  done
}
wait_for 10 grep -q "status: local 0/" "$LOG"; tap_ok $? "tern-send up"
pid=$(send_pid)
tok=h75-$$

# deliver TAG: inject one local message and wait for it in the Maildir
deliver() {
  printf 'Subject: %s-%s\n\nx\n' "$tok" "$1" | inject_as root -f joe@demo.test "u-$1@demo.test"
  wait_for 20 sh -c "grep -ql '^Subject: $tok-$1\$' '$MAILDIR'/new/* 2>/dev/null"
}

# a valid change: the local concurrency drops to 3 at once
echo 3 > "$ROOT/control/concurrencylocal"
s6-svc -h "$ROOT/service/send"
wait_for 10 grep -q "status: reread control/locals, control/virtualdomains and the other control files" "$LOG"
tap_ok $? "SIGHUP: the reread is logged"
deliver a; tap_ok $? "a message is delivered after the reread"
grep -q "status: local 1/3 " "$LOG"; tap_ok $? "the new concurrencylocal is in force"

# a malformed number: the old configuration stays, with the reason
echo 'three' > "$ROOT/control/concurrencylocal"
s6-svc -h "$ROOT/service/send"
wait_for 10 grep -q "warning: keeping the old control/locals, control/virtualdomains and the other control files: control/concurrencylocal is not an unsigned decimal number" "$LOG"
tap_ok $? "a malformed control/concurrencylocal is logged and kept out"

# a malformed delaywarning and an unreadable locals: the same
echo 3 > "$ROOT/control/concurrencylocal"
echo 'soon' > "$ROOT/control/delaywarning"
s6-svc -h "$ROOT/service/send"
wait_for 10 grep -q "warning: keeping the old .*: bad control/delaywarning" "$LOG"
tap_ok $? "a malformed control/delaywarning is logged"
rm -f "$ROOT/control/delaywarning"
mv "$ROOT/control/locals" "$ROOT/control/locals.ok"; mkdir "$ROOT/control/locals"
s6-svc -h "$ROOT/service/send"
wait_for 10 grep -q "warning: keeping the old .*: unable to read control/locals" "$LOG"
tap_ok $? "an unreadable control/locals is logged"
rmdir "$ROOT/control/locals"; mv "$ROOT/control/locals.ok" "$ROOT/control/locals"

tap_is "$(send_pid)" "$pid" "tern-send kept running through the bad files"
grep -q "alert:" "$LOG"; tap_is $? 1 "no alert logged"
deliver b; tap_ok $? "and still delivers"
[ "$TAP_FAIL" -eq 0 ] || tail -n 40 "$LOG" | sed 's/^/# /'
tap_done
