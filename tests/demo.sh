#!/bin/sh
# tests/demo.sh [ROOT]: what `make demo` runs. Installs a complete private
# instance into ROOT (the configuration of tests/integration/lib.sh: domain
# demo.test, every local part delivered to ROOT/mail/demo/Maildir, SMTP on
# 127.0.0.1 and ::1 port DEMO_PORT, default 2525, with STARTTLS; implicit
# TLS on DEMO_SMTPS_PORT, default 2465; submission with STARTTLS and AUTH on
# DEMO_SUBMISSION_PORT, default 2587, for the user demo@demo.test, whose
# password is made once, kept in ROOT/demo-password (root only) and
# printed at every start), makes DKIM keys for demo.test once and prints
# their DNS TXT records, runs s6-svscan over ROOT/service in the
# foreground, injects a welcome message to demo@demo.test through
# tern-dkimsign (signed with both keys), prints where it landed and its
# signatures, then follows the logs. SIGINT or
# SIGTERM stops every process it started.
#
# The tern users must reach ROOT: every directory above it must let others
# search it. Without ROOT: the checkout's demo-root when they can reach it,
# else TERN_DEMO_FALLBACK (default /var/tmp/tern-demo) -- a clone under
# /root (mode 0700 on Debian) cannot be reached. A ROOT given that they
# cannot reach is refused, naming the directory in the way. When a step
# fails it says which, with the status of every service and the end of its
# log.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
PORT=${DEMO_PORT:-2525}
TERN_SUBMISSION_PORT=${DEMO_SUBMISSION_PORT:-2587}
TERN_SMTPS_PORT=${DEMO_SMTPS_PORT:-2465}
[ "$(id -u)" = 0 ] || { echo "demo: run make demo as root (it creates the tern users)" >&2; exit 100; }

# blocker DIR: the first directory from / down to DIR (or to its nearest
# existing ancestor) that others may not search; empty if none
blocker() {
  _p=$1
  while [ ! -d "$_p" ]; do _p=$(dirname "$_p"); done
  _p=$(cd "$_p" && pwd -P)
  _a=/
  for _c in $(echo "$_p" | tr '/' ' '); do
    _a=${_a%/}/$_c
    [ $((0$(stat -c %a "$_a") & 1)) -eq 1 ] || { echo "$_a"; return; }
  done
}

if [ $# -ge 1 ] && [ -n "$1" ]; then
  ROOT=$1
  case $ROOT in /*) ;; *) ROOT=$(pwd)/$ROOT ;; esac
  b=$(blocker "$ROOT")
  if [ -n "$b" ]; then
    echo "demo: the tern users cannot reach $ROOT: $b is mode $(stat -c %a "$b") (others may not enter it). Choose a DEMO_ROOT they can reach, e.g. make demo DEMO_ROOT=/var/tmp/tern-demo" >&2
    exit 100
  fi
else
  ROOT=$SRC/demo-root
  b=$(blocker "$ROOT")
  if [ -n "$b" ]; then
    ROOT=${TERN_DEMO_FALLBACK:-/var/tmp/tern-demo}
    echo "demo: the tern users cannot reach $SRC ($b is mode $(stat -c %a "$b")): the instance goes to $ROOT instead (make demo DEMO_ROOT=... to choose)"
    b=$(blocker "$ROOT")
    [ -z "$b" ] || { echo "demo: $ROOT cannot be reached either ($b is mode $(stat -c %a "$b")); set DEMO_ROOT" >&2; exit 100; }
  fi
fi

# diagnose: the state of every service and the end of its log
diagnose() {
  for s in queue send smtpd; do
    [ -d "$ROOT/service/$s" ] || continue
    echo "demo:   service $s: $(s6-svstat "$ROOT/service/$s" 2>&1); its log: $ROOT/log/$s/current" >&2
    tail -n 5 "$ROOT/log/$s/current" 2>/dev/null | sed 's/^/demo:     /' >&2
  done
  echo "demo:   s6-svscan's own output: $ROOT/svscan.log" >&2
  tail -n 5 "$ROOT/svscan.log" 2>/dev/null | sed 's/^/demo:     /' >&2
}

if [ -S "$ROOT/sock/queue" ] && s6-svscanctl -a "$ROOT/service" 2>/dev/null; then
  echo "demo: an instance is already running over $ROOT/service" >&2; exit 100
fi
mkdir -p "$ROOT" && chmod 0755 "$ROOT"
sh "$SRC/queue/install.sh" "$ROOT" || { echo "demo: installing into $ROOT failed (the messages above say why)" >&2; exit 111; }
# shellcheck source=integration/lib.sh
. "$SRC/tests/integration/lib.sh"
tern_configure "$ROOT" demo.test "$PORT" || { echo "demo: configuring $ROOT/control failed (the messages above say why)" >&2; exit 111; }
# the submission user: a password made once (24 letters and digits)
if [ ! -s "$ROOT/demo-password" ]; then
  (umask 077; head -c 200 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c 24 > "$ROOT/demo-password")
fi
DEMO_PASSWORD=$(cat "$ROOT/demo-password")
grep -q '^demo@demo.test:' "$ROOT/auth/passwd" 2>/dev/null || \
  printf 'demo@demo.test:%s\n' "$(printf '%s\n' "$DEMO_PASSWORD" | "$ROOT/bin/tern-authfile" -m)" >> "$ROOT/auth/passwd" \
  || { echo "demo: making the submission user failed" >&2; exit 111; }
echo "demo: submission user demo@demo.test password $DEMO_PASSWORD"
# DKIM: demo.test's keys (made once, kept) and the records to publish
"$ROOT/bin/tern-dkimkey" demo.test > "$ROOT/dkim-records" || { echo "demo: tern-dkimkey demo.test failed (its message above)" >&2; exit 111; }
echo "demo: DKIM: mail from demo.test is signed with rsa-sha256 and ed25519-sha256; the DNS TXT records to publish (name, then value):"
sed 's/^/demo:   /' "$ROOT/dkim-records"

pids=
stop() {
  # make passes a SIGTERM on to its children, and Ctrl-C may be pressed
  # twice: neither may cut the stop short
  trap - EXIT
  trap '' INT TERM
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
[ -S "$ROOT/sock/queue" ] || { echo "demo: the queue service did not come up within 10 s:" >&2; diagnose; exit 111; }

# tern-listen tells s6 when it listens (notification-fd): not ready in
# 10 s means it cannot bind (the port taken, say); mail still flows locally
if [ -d "$ROOT/service/smtpd" ] && ! s6-svwait -U -t 10000 "$ROOT/service/smtpd" 2>/dev/null; then
  echo "demo: the smtpd service is not listening on port $PORT after 10 s (another program on that port? DEMO_PORT=... to choose another):" >&2
  diagnose
fi

token=welcome-$(date +%s)-$$
printf 'From: demo@demo.test\nTo: demo@demo.test\nSubject: Welcome to tern (%s)\n\nThis message went through sendmail, tern-dkimsign (which signed it), the queue\nsocket, the queue, tern-send, tern-lspawn and tern-local, each as its own user.\n' "$token" \
  | "$ROOT/bin/sendmail" demo@demo.test || { echo "demo: injecting the welcome message with $ROOT/bin/sendmail failed (its message above):" >&2; diagnose; exit 111; }
n=300; f=
while [ $n -gt 0 ]; do
  f=$(grep -l "$token" "$ROOT"/mail/demo/Maildir/new/* 2>/dev/null | head -n 1)
  [ -n "$f" ] && break
  sleep 0.1; n=$((n - 1))
done
if [ -n "$f" ]; then echo "demo: the welcome message was delivered to $f"
  echo "demo: signed: $(grep -A1 '^DKIM-Signature:' "$f" | grep -o ' a=[a-z0-9-]*\|d=[^;]*\|s=[^;]*' | tr -d ' ' | tr '\n' ' ')"
else echo "demo: the welcome message was not delivered within 30 s:" >&2; diagnose; fi
echo "demo: running. Try:  echo test | $ROOT/bin/sendmail demo@demo.test"
echo "demo: SMTP on 127.0.0.1 and ::1 port $PORT (STARTTLS), SMTPS on $TERN_SMTPS_PORT, submission on $TERN_SUBMISSION_PORT:"
echo "demo:   swaks --server 127.0.0.1:$TERN_SUBMISSION_PORT --tls --auth-user demo@demo.test --auth-password $DEMO_PASSWORD --from demo@demo.test --to someone@example.net"
echo "demo: Ctrl-C stops."
tail -n +1 -F "$ROOT"/log/send/current "$ROOT"/log/queue/current "$ROOT"/log/smtpd/current 2>/dev/null &
pids="$pids $!"
wait "$svscan"
