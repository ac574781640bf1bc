#!/bin/sh
# 75-send-reload.t: one reload (tern-reload, the unit's ExecReload). A new
# domain added to control/locals and control/rcpthosts is accepted by SMTP
# from a client that may not relay and delivered locally after one
# tern-reload, never relayed (the default smtproutes entry points at a
# closed port: a relay attempt would show in the log). A bad delaywarning
# is refused by tern-showctl -c and by tern-reload, which signals nothing:
# tern-send keeps running with its configuration and delivery continues.
# A changed smtpport restarts the smtpd service on the new port.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 17
tern_install || { diag "install failed"; exit 1; }
C=$ROOT/control
LOG=$ROOT/log/send/current
# loopback clients may not relay here: rcpthosts decides
printf ':allow\n' > "$C/smtprules"
"$ROOT/bin/tern-rules" "$C/smtprules.cdb" "$C/smtprules.tmp" < "$C/smtprules"
printf ':[127.0.0.1]:9\n' > "$C/smtproutes"
tern_start; tap_ok $? "services up"
grep -q '^ExecReload=/bin/sh @HOME@/bin/tern-reload @HOME@/service$' "$SRC/queue/tern.service"; tap_ok $? "the unit's ExecReload is tern-reload"

# smtp RCPT: send one message by SMTP to RCPT on the instance; prints the reply code of RCPT
smtp() {
  python3 - "$TERN_PORT" "$1" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.test")
s.mail("joe@client.test")
code, _ = s.rcpt(sys.argv[2])
print(code)
if code == 250:
    s.data(b"Subject: reload test\r\n\r\nhello\r\n")
s.quit()
PY
}

before=$(maildir_count "$MAILDIR")
printf '%s\nnew.test\n' "$TERN_DOMAIN" > "$C/locals"
printf '%s\nnew.test\n' "$TERN_DOMAIN" > "$C/rcpthosts"
pid=$(s6-svstat -o pid "$ROOT/service/send")
"$ROOT/bin/tern-reload" > "$ROOT/reload.out" 2>&1
tap_is "$?" 0 "tern-reload succeeds"; sed 's/^/# /' "$ROOT/reload.out"
wait_for 10 grep -q 'reread control/locals' "$LOG"; tap_ok $? "tern-send reread control/locals"
tap_is "$(smtp bob@new.test)" 250 "RCPT to the new domain is accepted from a client that may not relay"
wait_for 20 sh -c "[ \$(find '$MAILDIR/new' '$MAILDIR/cur' -type f | wc -l) -gt $before ]"
tap_ok $? "the message for bob@new.test is delivered locally"
grep -q ' to local .*bob@new.test' "$LOG"; tap_ok $? "tern-send logged a local delivery"
grep -q ' to remote .*new.test' "$LOG"; tap_is "$?" 1 "it was never relayed"
tap_is "$(s6-svstat -o pid "$ROOT/service/send")" "$pid" "tern-send was not restarted"

# a bad delaywarning: refused before anything is signalled
echo soon > "$C/delaywarning"
"$ROOT/bin/tern-showctl" -c > "$ROOT/chk.out" 2>&1
tap_is "$?" 100 "tern-showctl -c refuses delaywarning = soon"
n=$(grep -c 'reread control/locals' "$LOG")
"$ROOT/bin/tern-reload" > "$ROOT/reload.out" 2>&1
tap_is "$?" 100 "tern-reload refuses it"; sed 's/^/# /' "$ROOT/reload.out"
grep -q 'control/delaywarning line 1' "$ROOT/reload.out" && grep -q '^tern-reload: refused' "$ROOT/reload.out"
tap_ok $? "with the check's message and its own"
sleep 1
tap_is "$(grep -c 'reread control/locals' "$LOG")" "$n" "nothing was signalled"
before=$(maildir_count "$MAILDIR")
printf 'Subject: after\n\nstill delivering\n' | inject_as root -f joe@client.test carol@new.test
wait_for 20 sh -c "[ \$(find '$MAILDIR/new' '$MAILDIR/cur' -type f | wc -l) -gt $before ]"
tap_ok $? "delivery continues"
tap_is "$(s6-svstat -o pid "$ROOT/service/send")" "$pid" "tern-send kept running (never restarted on the bad file)"

# a new smtpport: tern-listen binds it when the service starts, so the
# reload restarts the smtpd service (and only when the file changed)
rm -f "$C/delaywarning"
P2=$((TERN_PORT + 251))
echo "$P2" > "$C/smtpport"
"$ROOT/bin/tern-reload" > "$ROOT/reload.out" 2>&1; sed 's/^/# /' "$ROOT/reload.out"
wait_for 10 tcp_up "$P2"; tap_ok $? "after a change of smtpport the reload restarts smtpd on the new port"
sleep 1.5
spid=$(s6-svstat -o pid "$ROOT/service/smtpd")
"$ROOT/bin/tern-reload" > "$ROOT/reload.out" 2>&1
tap_is "$(s6-svstat -o pid "$ROOT/service/smtpd")" "$spid" "an unchanged smtpport: smtpd is not restarted"
[ "$TAP_FAIL" -eq 0 ] || tail -n 30 "$LOG" | sed 's/^/# /'
tap_done
