#!/bin/sh
# 58-qtools.t: tern-qstat, tern-qread (and sendmail -bp / mailq) and
# tern-showctl on a running instance. The send service is stopped so that
# injected mail stays queued untouched; then it runs with a route to a
# closed port, so the remote recipient stays queued while the local one is
# done. Every control file a tern program reads is listed.
. "$(dirname "$0")/lib.sh"
[ -x "$SRC/queue/tern-qread" ] || tap_skip_all "queue/tern-qread not built"
tern_init
tap_plan 23
tern_install || { diag "install failed"; exit 1; }
tern_start; tap_ok $? "services up"
B=$ROOT/bin

tap_is "$("$B/tern-qstat")" "$(printf 'messages in queue: 0\nmessages in queue but not yet preprocessed: 0')" "qstat: empty queue"
tap_is "$("$B/tern-qread")" "Mail queue is empty" "qread: Mail queue is empty"
tap_is "$("$B/sendmail" -bp)" "Mail queue is empty" "sendmail -bp lists the queue (tern-queuectl)"
tap_is "$("$B/mailq")" "Mail queue is empty" "mailq too"

s6-svc -d "$ROOT/service/send"
wait_for 20 sh -c "s6-svstat -o up '$ROOT/service/send' | grep -qx false"
tap_ok $? "send service stopped"
# stuck@demo.test fails temporarily: its copy stays queued after demo's is done
printf '|exit 111\n' > "$ROOT/mail/demo/.tern-stuck"; chmod 0644 "$ROOT/mail/demo/.tern-stuck"
printf 'Subject: q1\n\nqueued\n' | inject_as root -f sender@demo.test demo@demo.test stuck@demo.test x@remote.test
printf 'Subject: q2\n\nqueued too\n' | inject_as root -f '' other@demo.test
tap_is "$("$B/tern-qstat")" "$(printf 'messages in queue: 2\nmessages in queue but not yet preprocessed: 0')" "qstat: 2 in queue (nothing waits for preprocessing)"
"$B/tern-qread" > "$ROOT/qr1" 2>&1
grep -Eq '^[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT  #[0-9]+  [0-9]+  <sender@demo.test> $' "$ROOT/qr1"
tap_ok $? "qread: qmail-qread's header line (date GMT  #id  size  <sender>)"
grep -q '  <> $' "$ROOT/qr1"; tap_ok $? "qread: null sender shown as <>"
TAB=$(printf '\t')
tap_is "$(grep -c "^${TAB}local${TAB}\|^${TAB}remote${TAB}" "$ROOT/qr1")" 4 "qread: every recipient, classified local or remote, none done"
m=$(grep '<sender@demo.test>' "$ROOT/qr1" | sed 's/.*#\([0-9]*\)  \([0-9]*\) .*/\1 \2/')
n=${m% *}; sz=${m#* }
f=$ROOT/queue/msg/$n
tap_is "$sz" "$(( $(stat -c %s "$f" 2>/dev/null) - $(head -c 24 "$f" | tail -c 16 | sed 's/^/0x/' | xargs printf '%d') ))" "qread: #id is the msg file's inode, size its message's size"

tap_is "$(s6-setuidgid terns "$B/tern-qstat" | head -n 1)" "messages in queue: 2" "qstat works for a member of group tern"
s6-setuidgid nobody "$B/tern-qstat" > "$ROOT/qs.out" 2>&1
rc=$?
tap_ok "$( [ $rc = 111 ] && grep -q 'group tern' "$ROOT/qs.out"; echo $?)" "qstat as nobody: exit 111 with a hint ($rc)"

# send runs; the remote recipient's route is a closed port: it stays queued
printf 'remote.test:127.0.0.1:1\n' > "$ROOT/control/smtproutes"
s6-svc -u "$ROOT/service/send"
wait_for 30 sh -c "'$B/tern-qread' 2>/dev/null | grep -qx '  done${TAB}local${TAB}demo@demo.test'"
tap_ok $? "qread: local recipient done"
"$B/tern-qread" > "$ROOT/qr2" 2>&1
grep -qx "${TAB}remote${TAB}x@remote.test" "$ROOT/qr2" && grep -qx "${TAB}local${TAB}stuck@demo.test" "$ROOT/qr2"
tap_ok $? "qread: the remote and the failing local recipient are not done"
grep -q '<sender@demo.test> $' "$ROOT/qr2"; tap_ok $? "qread: header of a message in delivery: sender from msg/N"
wait_for 20 sh -c "'$B/tern-qstat' | grep -qx 'messages in queue: 1'"
tap_is "$("$B/tern-qstat")" "$(printf 'messages in queue: 1\nmessages in queue but not yet preprocessed: 0')" "qstat: 1 in queue"

# reading while the queue changes: bounded, every run exits 0
i=0; bad=0; pids=
while [ $i -lt 10 ]; do
  printf 'Subject: churn %s\n\nx\n' $i | inject_as root "churn$i@demo.test" &
  pids="$pids $!"
  "$B/tern-qread" > /dev/null 2>"$ROOT/churn.err" || bad=$((bad + 1))
  "$B/tern-qstat" > /dev/null || bad=$((bad + 1))
  i=$((i + 1))
done
for p in $pids; do wait "$p"; done
tap_is "$bad" 0 "qread/qstat while messages come and go: always exit 0"

# showctl
"$B/tern-showctl" > "$ROOT/sc1"
tap_is "$?" 0 "showctl exits 0"
grep -qx 'me: "demo.test"' "$ROOT/sc1" && grep -qx 'maxrcpt: (default) 100' "$ROOT/sc1" \
  && grep -qx 'bouncehost: "demo.test"' "$ROOT/sc1" && grep -qx 'helohost: (default: me) "demo.test"' "$ROOT/sc1"
tap_ok $? "showctl: set values, defaults and me-derived defaults"
printf '7\n' > "$ROOT/control/maxrcpt"; printf 'lots\n' > "$ROOT/control/databytes"; : > "$ROOT/control/maxrcp"
"$B/tern-showctl" > "$ROOT/sc2"
rc=$?
tap_ok "$( [ $rc = 100 ] && grep -qx 'maxrcpt: 7' "$ROOT/sc2" && grep -q '^databytes: ERROR' "$ROOT/sc2"; echo $?)" \
  "showctl: a set number; a malformed one is an ERROR and exit 100 ($rc)"
grep -qx 'maxrcp: not read by any tern program (a typo?)' "$ROOT/sc2"; tap_ok $? "showctl: unknown file flagged"
# every control file named in the sources is listed
grep -ohE '"control/[a-z0-9.]+"|(_ctl|ctlulong|ctlfail)\("[a-z0-9.]+"|control/[a-z0-9.]+' \
  "$SRC"/*/*.c "$SRC"/*/service/*/run 2>/dev/null | sed -E 's/.*["(/]([a-z0-9.]+)"?$/\1/; s/"//g' | sed 's/\.$//' | sort -u > "$ROOT/names"
missing=
grep -v 'not read by any tern program' "$ROOT/sc1" > "$ROOT/sc1.known"
for nm in $(cat "$ROOT/names"); do grep -q "^$nm: " "$ROOT/sc1.known" || missing="$missing $nm"; done
tap_is "$missing" "" "showctl lists every control file the programs read ($(wc -l < "$ROOT/names") names)"
[ "$TAP_FAIL" -eq 0 ] || { sed 's/^/# /' "$ROOT/qr1" "$ROOT/qr2" "$ROOT/churn.err" 2>/dev/null; tail -n 20 "$ROOT/log/send/current" | sed 's/^/# /'; }
tap_done
