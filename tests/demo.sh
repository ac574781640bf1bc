#!/bin/sh
# tests/demo.sh ROOT: what `make demo` runs. Installs a complete private
# instance into ROOT (the configuration of tests/integration/lib.sh: domain
# demo.test, every local part delivered to ROOT/mail/demo/Maildir, SMTP on
# 127.0.0.1 and ::1 port 2525), runs s6-svscan over ROOT/service in the
# foreground, injects a welcome message to demo@demo.test, prints where it
# landed, then follows the logs. SIGINT or SIGTERM stops every process it
# started.
set -u
ROOT=${1:?usage: tests/demo.sh ROOT}
case $ROOT in /*) ;; *) ROOT=$(pwd)/$ROOT ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "demo: run make demo as root (it creates the tern users)" >&2; exit 100; }

if [ -S "$ROOT/sock/queue" ] && s6-svscanctl -a "$ROOT/service" 2>/dev/null; then
  echo "demo: an instance is already running over $ROOT/service" >&2; exit 100
fi
mkdir -p "$ROOT" && chmod 0755 "$ROOT"
sh "$SRC/queue/install.sh" "$ROOT" || exit 111
# shellcheck source=integration/lib.sh
. "$SRC/tests/integration/lib.sh"
tern_configure "$ROOT" demo.test 2525 || exit 111

pids=
stop() {
  trap - INT TERM EXIT
  echo; echo "demo: stopping"
  s6-svscanctl -t "$ROOT/service" 2>/dev/null
  n=100; while [ $n -gt 0 ] && kill -0 "$svscan" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
  kill $pids 2>/dev/null
  pkill -f "$ROOT/" 2>/dev/null
  echo "demo: stopped; the instance stays in $ROOT (make demo again restarts it)"
  exit 0
}
trap stop INT TERM EXIT

# a socket file left by an earlier run would look ready before the queue
# service listens again
rm -f "$ROOT/sock/queue"
s6-svscan "$ROOT/service" > "$ROOT/svscan.log" 2>&1 &
svscan=$!
n=100; while [ $n -gt 0 ] && ! python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$ROOT/sock/queue" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
[ -S "$ROOT/sock/queue" ] || { echo "demo: the queue service did not come up; see $ROOT/log/queue/current" >&2; exit 111; }

token=welcome-$(date +%s)-$$
printf 'To: demo@demo.test\nSubject: Welcome to tern (%s)\n\nThis message went through sendmail, the queue socket, tern-queue,\nthe queue, tern-send, tern-lspawn and tern-local, each as its own user.\n' "$token" \
  | "$ROOT/bin/sendmail" demo@demo.test || { echo "demo: injection failed" >&2; exit 111; }
n=300; f=
while [ $n -gt 0 ]; do
  f=$(grep -l "$token" "$ROOT"/mail/demo/Maildir/new/* 2>/dev/null | head -n 1)
  [ -n "$f" ] && break
  sleep 0.1; n=$((n - 1))
done
if [ -n "$f" ]; then echo "demo: the welcome message was delivered to $f"
else echo "demo: the welcome message was not delivered within 30 s; see $ROOT/log/send/current" >&2; fi
echo "demo: running. Try:  echo test | $ROOT/bin/sendmail demo@demo.test"
echo "demo: SMTP on 127.0.0.1 and ::1 port 2525. Ctrl-C stops."
tail -n +1 -F "$ROOT"/log/send/current "$ROOT"/log/queue/current "$ROOT"/log/smtpd/current 2>/dev/null &
pids="$pids $!"
wait "$svscan"
