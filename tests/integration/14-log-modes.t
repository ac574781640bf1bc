#!/bin/sh
# 14-log-modes.t: the logs (log/smtpd, log/send, log/queue: envelopes and
# client addresses) are readable by root and group adm only, as Debian
# keeps mail.log: folders 0750 ternl:adm, files 0640. An ordinary user
# (nobody) can neither list a folder nor read current; a process with
# group adm (nobody with gid adm) can read every current.
. "$(dirname "$0")/lib.sh"
tern_init
getent group adm >/dev/null || tap_skip_all "no group adm on this system"
tern_install || exit 1
tern_start || exit 1
tap_plan 12
nobody=$(id -u nobody); adm=$(getent group adm | cut -d: -f3)
# something in every log: a message through the queue and one SMTP session
printf 'Subject: t\n\nt\n' | "$ROOT/bin/sendmail" -i demo@demo.test >/dev/null 2>&1
python3 -c "
import socket; s=socket.create_connection(('127.0.0.1',$TERN_PORT),10); s.recv(512); s.sendall(b'QUIT\r\n'); s.recv(512)"
wait_for 10 grep -q . "$ROOT/log/send/current"
wait_for 10 grep -q . "$ROOT/log/smtpd/current"
for s in smtpd send queue; do
  L=$ROOT/log/$s
  tap_is "$(stat -c '%a %U:%G' "$L")" "750 ternl:adm" "log/$s is 0750 ternl:adm"
  tap_is "$(stat -c '%a %U:%G' "$L/current")" "640 ternl:adm" "log/$s/current is 0640 ternl:adm"
  r=$(s6-setuidgid nobody sh -c "ls '$L' 2>/dev/null; cat '$L/current' 2>/dev/null" | head -c 200)
  tap_is "$r" "" "an ordinary user (nobody) can neither list log/$s nor read its current"
  s6-setuidgid "$nobody:$adm" cat "$L/current" > /dev/null 2>&1
  tap_ok $? "group adm can read log/$s/current"
done
tap_done
