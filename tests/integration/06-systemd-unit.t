#!/bin/sh
# 06-systemd-unit.t: make install-files puts every man page in MANDIR and
# tern.service (HOME filled in) in UNITDIR; systemd-analyze verify accepts
# the unit (its programs exist, its man pages resolve). systemd itself does
# not run here: the instance is started, reloaded and stopped with the
# unit's own ExecStart, ExecReload and ExecStop lines, and mail injected in
# between is delivered; after ExecStop no tern program is left running.
. "$(dirname "$0")/lib.sh"
tern_init
command -v systemd-analyze >/dev/null || tap_skip_all "systemd-analyze not installed (tests/deps.sh test)"
tap_plan 9
tern_install || exit 1

D=$ROOT/dest
make -C "$SRC" --no-print-directory install-files DESTDIR="$D" HOME_DIR="$ROOT" \
  MANDIR=/usr/share/man UNITDIR=/lib/systemd/system > "$ROOT/install-files.log" 2>&1
tap_ok $? "make install-files"
want=$(cd "$SRC" && find common queue send local smtpd -name '*.[1-8]' | wc -l)
got=$(find "$D/usr/share/man" -type f -name 'tern-*' | wc -l)
tap_is "$got" "$want" "every man page installed under MANDIR/manN"
U=$D/lib/systemd/system/tern.service
out=$(cd "$ROOT" && MANPATH=$D/usr/share/man systemd-analyze verify "$U" 2>&1)
tap_ok $? "systemd-analyze verify tern.service"
[ -z "$out" ] || diag "$out"
tap_is "$(grep -c "^Exec[A-Za-z]*=.* $ROOT/service" "$U")" 3 "the unit runs s6 over HOME/service"

line() { sed -n "s/^$1=//p" "$U"; }
# ExecStart, as systemd would run it (its PATH, in the background)
env PATH=/usr/bin:/bin:/usr/sbin:/sbin $(line ExecStart) > "$ROOT/svscan.log" 2>&1 &
SVSCAN_PID=$!
wait_for 10 tern_queue_up && wait_for 10 tern_smtp_up
tap_ok $? "ExecStart brings up the queue and smtpd"

printf 'To: u1@%s\nSubject: unit\n\nbody\n' "$TERN_DOMAIN" | inject_as root -f root@"$TERN_DOMAIN" "u1@$TERN_DOMAIN"
delivered() { [ "$(maildir_count "$MAILDIR")" -ge 1 ]; }
wait_for 20 delivered
tap_ok $? "a message injected under the unit's supervisor is delivered"

# ExecReload: tern-send rereads locals (it logs that it did)
printf '%s\nnew.test\n' "$TERN_DOMAIN" > "$ROOT/control/locals"
env PATH=/usr/bin:/bin $(line ExecReload)
tap_ok $? "ExecReload succeeds"
wait_for 10 grep -q 'reread control/locals' "$ROOT/log/send/current"
tap_ok $? "ExecReload makes tern-send reread control/locals"

env PATH=/usr/bin:/bin $(line ExecStop)
n=200
while [ $n -gt 0 ] && kill -0 "$SVSCAN_PID" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
left=$(tern_ps | grep -v ' s6-log$' | tr '\n' ' ')
kill -0 "$SVSCAN_PID" 2>/dev/null
tap_is "$?:$left" "1:" "ExecStop: s6-svscan exits and no tern program is left"
wait "$SVSCAN_PID" 2>/dev/null
SVSCAN_PID=
tap_done
