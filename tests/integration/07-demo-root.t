#!/bin/sh
# 07-demo-root.t: make demo from a clone in a directory the tern users
# cannot enter (mode 0700, as /root is on Debian). The demo notices, says
# so, puts its instance where they can reach it (TERN_DEMO_FALLBACK here,
# /var/tmp/tern-demo by default), delivers its welcome message and stops
# cleanly on SIGTERM. The line "demo: submission user NAME password
# SECRET" it prints is enough for swaks to submit on the submission port
# (STARTTLS, AUTH) and the message is delivered. Run again with its SMTP port taken, it says that
# smtpd is not listening and where its log is. An explicit DEMO_ROOT inside the 0700 directory is
# refused with the name of the directory in the way.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (users, ownership, s6)"
command -v git >/dev/null || tap_skip_all "git not installed"
command -v setsid >/dev/null || tap_skip_all "setsid not installed"
git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1 || tap_skip_all "$SRC is not a git checkout"
tap_plan 14
D=$(mktemp -d /tmp/tern-root0700.XXXXXX); chmod 0700 "$D"
FB=$(mktemp -d /tmp/tern-demofb.XXXXXX); chmod 0755 "$FB"
PG=
cleanup() {
  [ -n "$PG" ] && kill -TERM "-$PG" 2>/dev/null && sleep 2 && kill -9 "-$PG" 2>/dev/null
  pkill -9 -f "$FB/" 2>/dev/null
  rm -rf "$D" "$FB"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
PORT=$((2450 + $$ % 40))
SUBPORT=$((PORT + 300))

git clone -q "$SRC" "$D/project" 2>"$D/clone.err"; tap_ok $? "cloned into a directory of mode 0700"
(cd "$D/project" && make -j2 programs > "$D/build.log" 2>&1); tap_ok $? "built in the clone"

(cd "$D/project" && TERN_DEMO_FALLBACK=$FB/demo DEMO_PORT=$PORT DEMO_SUBMISSION_PORT=$SUBPORT \
  DEMO_SMTPS_PORT=$((PORT + 600)) exec setsid make demo > "$D/demo.out" 2>&1) &
PG=$!
# make runs setsid, which execs make: the demo's process group is $PG
wait_for 90 grep -q 'welcome message was\|demo: .*failed\|cannot' "$D/demo.out"
wait_for 40 grep -q 'welcome message was' "$D/demo.out"
sed 's/^/# /' "$D/demo.out" | head -n 20
grep -q "^demo: the tern users cannot reach $D/project ($D is mode 700): the instance goes to $FB/demo instead" "$D/demo.out"
tap_ok $? "the demo says the checkout cannot be reached and where the instance goes"
f=$(sed -n 's/^demo: the welcome message was delivered to //p' "$D/demo.out")
case $f in "$FB/demo/mail/demo/Maildir/new/"*) [ -f "$f" ] ;; *) false ;; esac
tap_ok $? "the welcome message is delivered into the reachable instance"
grep -q 's6-sudoc\|unable to connect' "$D/demo.out"; tap_is "$?" 1 "no s6-sudoc connection error"
# what the demo's line says is enough to submit with swaks
set -- $(sed -n 's/^demo: submission user \([^ ]*\) password \([^ ]*\)$/\1 \2/p' "$D/demo.out")
timeout 60 swaks --server "127.0.0.1:$SUBPORT" --tls --auth-user "${1:-none}" --auth-password "${2:-none}" \
  --from "${1:-none}" --to someone@demo.test --header "Subject: demo swaks" --timeout 30 > "$D/swaks.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# swaks: /' "$D/swaks.out" | tail -n 15
tap_is "$rc" 0 "swaks --tls --auth-user/--auth-password from the demo's line submits on the submission port"
wait_for 20 sh -c "grep -l '^Subject: demo swaks' '$FB/demo/mail/demo/Maildir/new/'* 2>/dev/null | grep -q ."
tap_ok $? "and the message is delivered"
kill -TERM "-$PG"
wait_for 20 grep -q '^demo: stopped' "$D/demo.out"; tap_ok $? "SIGTERM stops the demo"
PG=
sleep 1
left=0
for p in /proc/[0-9]*; do case $(readlink "$p/exe" 2>/dev/null) in "$FB/demo/bin/"*) left=$((left + 1)) ;; esac; done
tap_is "$left" 0 "no process of the demo instance is left"

# again, with the SMTP port taken: the demo says what and where to look
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $PORT)); s.listen(1); time.sleep(60)" &
HOG=$!
sleep 0.5
(cd "$D/project" && TERN_DEMO_FALLBACK=$FB/demo DEMO_PORT=$PORT exec setsid make demo > "$D/demo3.out" 2>&1) &
PG=$!
wait_for 40 grep -q 'welcome message was' "$D/demo3.out"
grep '^demo:' "$D/demo3.out" | sed 's/^/# /' | head -n 12
grep -q "^demo: the smtpd service is not listening on port $PORT" "$D/demo3.out"; tap_ok $? "a taken SMTP port: the demo says smtpd is not listening"
grep -q "^demo:   service smtpd: .*its log: $FB/demo/log/smtpd/current" "$D/demo3.out"; tap_ok $? "with the service's state and where its log is"
grep -q "^demo: the welcome message was delivered to $FB/demo/" "$D/demo3.out"; tap_ok $? "local mail still flows"
kill -TERM "-$PG"; wait_for 20 grep -q '^demo: stopped' "$D/demo3.out"; PG=
kill "$HOG" 2>/dev/null

(cd "$D/project" && DEMO_PORT=$PORT make demo DEMO_ROOT="$D/project/demo-root" > "$D/demo2.out" 2>&1)
rc=$?
sed 's/^/# /' "$D/demo2.out" | tail -n 3
tap_ok $((rc == 0)) "an explicit DEMO_ROOT the users cannot reach is refused"
grep -q "^demo: the tern users cannot reach $D/project/demo-root: $D is mode 700" "$D/demo2.out"
tap_ok $? "naming the directory in the way"
tap_done
