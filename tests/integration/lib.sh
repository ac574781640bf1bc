# tests/integration/lib.sh: a private tern instance for one test script.
#
#   . "$(dirname "$0")/lib.sh"
#   tern_init            # temp root $ROOT, cleanup trap, skips unless root
#   tern_install         # install.sh + a test configuration (catch-all domain)
#   tern_start           # s6-svscan over $ROOT/service; waits until ready
#   ... tap_ok / tap_is ...
#   local_init TAG; tl ...  # tern-local run directly, no instance (below)
#   (cleanup on exit: stop s6, kill leftovers, remove $ROOT)
#
# Configuration of the test instance (tern_install):
#   domain $TERN_DOMAIN (default demo.test) is local and in rcpthosts;
#   every local part at it goes to the ternalias user with home
#   $ROOT/mail/demo, so $MAILDIR = $ROOT/mail/demo/Maildir catches all;
#   SMTP on 127.0.0.1 and ::1, port $TERN_PORT (default 2700 + a number
#   derived from the pid); 127.0.0.1 and ::1 may relay, others may not.
# Every wait is bounded (wait_for SECONDS CMD...).

SRC=$(cd "$(dirname "$0")/../.." && pwd)
TAP_N=0
TAP_FAIL=0

tap_plan() { echo "1..$1"; }
tap_ok() { # cond-exit-status description
  TAP_N=$((TAP_N + 1))
  if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAIL=$((TAP_FAIL + 1)); fi
}
tap_is() { # got expected description
  TAP_N=$((TAP_N + 1))
  if [ "$1" = "$2" ]; then echo "ok $TAP_N - $3"
  else echo "not ok $TAP_N - $3"; echo "#   got: '$1'"; echo "#   expected: '$2'"; TAP_FAIL=$((TAP_FAIL + 1)); fi
}
# tap_relay: TAP lines of a helper script on stdin become this script's
# (renumbered); its plan is dropped, other lines become diagnostics
tap_relay() {
  while IFS= read -r _l; do
    case $_l in
      "ok "[0-9]*" # SKIP"*) TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP${_l#*# SKIP}" ;;
      "ok "[0-9]*) tap_ok 0 "${_l#ok [0-9]* - }" ;;
      "not ok "[0-9]*) tap_ok 1 "${_l#not ok [0-9]* - }" ;;
      1..[0-9]*) ;;
      "#"*) echo "$_l" ;;
      *) diag "$_l" ;;
    esac
  done
}
# tap_cases FILE: the output of a shared-cases runner (run-cases,
# run-sendmail-cases) as TAP: the plan, one test per PASS / FAIL / SKIP
# line, indented lines (failure details) and the last line (the summary)
# as diagnostics; returns 1 if a case failed
tap_cases() {
  tap_plan "$(grep -cE '^(PASS|FAIL|SKIP)' "$1")"
  while IFS= read -r _l; do
    case $_l in
      PASS*) tap_ok 0 "$_l" ;;
      SKIP*) TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - # SKIP $_l" ;;
      FAIL*) tap_ok 1 "$_l" ;;
      "    "*) diag "$_l" ;;
    esac
  done < "$1"
  tail -n 1 "$1" | sed 's/^/# /'
  [ "$TAP_FAIL" -eq 0 ]
}
tap_skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# tap_abort WHAT: before the plan, a step failed: one failing test, exit 1
tap_abort() { echo "1..1"; echo "not ok 1 - $*"; exit 1; }
diag() { echo "# $*"; }

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 on timeout
wait_for() {
  _t=$1; shift
  _n=$((_t * 10))
  while [ $_n -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
    _n=$((_n - 1))
  done
  return 1
}

tern_init() {
  [ "$(id -u)" = 0 ] || tap_skip_all "needs root (users, ownership, s6)"
  command -v s6-svscan >/dev/null || tap_skip_all "s6 not installed"
  ROOT=$(mktemp -d /tmp/tern-test.XXXXXX)
  chmod 0755 "$ROOT"
  export ROOT
  TERN_DOMAIN=${TERN_DOMAIN:-demo.test}
  TERN_PORT=${TERN_PORT:-$((2700 + $$ % 250))}
  TERN_SUBMISSION_PORT=${TERN_SUBMISSION_PORT:-$((TERN_PORT + 300))}
  TERN_SMTPS_PORT=${TERN_SMTPS_PORT:-$((TERN_PORT + 600))}
  export TERN_PORT TERN_SUBMISSION_PORT TERN_SMTPS_PORT
  MAILDIR=$ROOT/mail/demo/Maildir
  SVSCAN_PID=
  trap tern_cleanup EXIT
  trap 'exit 1' INT TERM
}

tern_cleanup() {
  tern_stop
  if [ -n "${ROOT:-}" ] && [ -z "${TERN_KEEP:-}" ]; then rm -rf "$ROOT"; fi
}

# tern_install: install into $ROOT and write the test configuration
tern_install() {
  sh "$SRC/queue/install.sh" "$ROOT" > "$ROOT/install.log" 2>&1 || { cat "$ROOT/install.log" >&2; return 1; }
  tern_configure "$ROOT" "$TERN_DOMAIN" "$TERN_PORT"
}

# tern_configure ROOT DOMAIN PORT: the demo/test configuration (also used by make demo)
tern_configure() {
  _r=$1; _d=$2; _p=$3
  _alias_uid=$(id -u ternalias); _alias_gid=$(id -g ternalias)
  for f in me locals rcpthosts defaulthost defaultdomain idhost bouncehost envnoathost; do
    printf '%s\n' "$_d" > "$_r/control/$f"
  done
  printf '127.0.0.1,::1\n' > "$_r/control/smtplisten"
  printf '%s\n' "$_p" > "$_r/control/smtpport"
  printf '127.0.0.1:allow,RELAYCLIENT=""\n::1:allow,RELAYCLIENT=""\n:allow\n' > "$_r/control/smtprules"
  # submission and SMTPS beside it: TERN_SUBMISSION_PORT and TERN_SMTPS_PORT
  # (default PORT+300 and PORT+600); relay there only after AUTH
  printf '%s\n' "${TERN_SUBMISSION_PORT:-$((_p + 300))}" > "$_r/control/submissionport"
  printf '%s\n' "${TERN_SMTPS_PORT:-$((_p + 600))}" > "$_r/control/smtpsport"
  printf ':allow\n' > "$_r/control/submissionrules"
  printf ':allow\n' > "$_r/control/smtpsrules"
  for _f in smtprules submissionrules smtpsrules; do
    [ -x "$_r/bin/tern-rules" ] && "$_r/bin/tern-rules" "$_r/control/$_f.cdb" "$_r/control/$_f.tmp" < "$_r/control/$_f"
  done
  mkdir -p "$_r/mail/demo/Maildir/tmp" "$_r/mail/demo/Maildir/new" "$_r/mail/demo/Maildir/cur"
  # the catch-all maps every local part to an extension of ternalias
  # (dash "-"), so the qmail rule applies: -default instructions needed
  printf './Maildir/\n' > "$_r/mail/demo/.tern-default"
  chown -R ternalias:ternnofiles "$_r/mail/demo"
  chmod 0644 "$_r/mail/demo/.tern-default"
  chmod 0700 "$_r/mail/demo/Maildir" "$_r/mail/demo/Maildir/tmp" "$_r/mail/demo/Maildir/new" "$_r/mail/demo/Maildir/cur"
  chmod 0755 "$_r/mail/demo"
  # every local part of the demo domain goes to the demo Maildir (a catch-all)
  printf '+:ternalias:%s:%s:%s:-::\n.\n' "$_alias_uid" "$_alias_gid" "$_r/mail/demo" > "$_r/users/assign"
  # the system aliases name the host: compile them again now that me is set
  if [ -x "$_r/bin/tern-newaliases" ]; then "$_r/bin/tern-newaliases" >/dev/null || return 1
  elif [ -x "$_r/bin/tern-newu" ]; then "$_r/bin/tern-newu" || return 1; fi
}

# tern_start: supervise every service; wait for the queue socket
tern_start() {
  for s in "$ROOT"/service/*; do
    case $(basename "$s") in
      smtpd) [ -x "$ROOT/bin/tern-listen" ] || rm -rf "$s" ;;
      send) [ -x "$ROOT/bin/tern-start" ] || rm -rf "$s" ;;
    esac
  done
  rm -f "$ROOT/sock/queue"
  s6-svscan "$ROOT/service" > "$ROOT/svscan.log" 2>&1 &
  SVSCAN_PID=$!
  wait_for 10 tern_queue_up || { diag "queue socket did not appear"; return 1; }
  if [ -d "$ROOT/service/smtpd" ]; then
    wait_for 10 tern_smtp_up || { diag "smtpd did not come up"; return 1; }
  fi
  return 0
}

tern_queue_up() {
  python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$ROOT/sock/queue"
}

tern_smtp_up() { tcp_up "$TERN_PORT"; }

# tcp_up PORT: something accepts TCP connections on 127.0.0.1:PORT
tcp_up() {
  python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),1); s.close()" "$1"
}

tern_stop() {
  [ -n "${SVSCAN_PID:-}" ] || return 0
  s6-svscanctl -t "$ROOT/service" 2>/dev/null || kill "$SVSCAN_PID" 2>/dev/null
  _n=100
  while [ $_n -gt 0 ] && kill -0 "$SVSCAN_PID" 2>/dev/null; do sleep 0.1; _n=$((_n - 1)); done
  kill -9 "$SVSCAN_PID" 2>/dev/null
  wait "$SVSCAN_PID" 2>/dev/null
  SVSCAN_PID=
  # anything still running from this root (bounded: one pass)
  pkill -9 -f "$ROOT/" 2>/dev/null
  return 0
}

# maildir_count DIR: messages in new/ and cur/
maildir_count() {
  find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}

# queue_count: messages still in the queue (msg/ files)
queue_count() {
  find "$ROOT/queue/msg" -type f 2>/dev/null | wc -l | tr -d ' '
}

# inject AS_USER ARGS...: run sendmail from the instance as a user (stdin = message)
inject_as() {
  _u=$1; shift
  if [ "$_u" = root ]; then "$ROOT/bin/sendmail" "$@"; else s6-setuidgid "$_u" "$ROOT/bin/sendmail" "$@"; fi
}

# dsn report|fields ...: facts of a bounce (tests/integration/dsn.py)
dsn() { python3 "$SRC/tests/integration/dsn.py" "$@"; }

# tern_ps: "user program" for every running process whose executable is
# in $ROOT/bin (argv[0] may be a bare name, as qmail's daemons use)
tern_ps() {
  for _p in /proc/[0-9]*; do
    _e=$(readlink "$_p/exe" 2>/dev/null) || continue
    case $_e in "$ROOT"/bin/*) echo "$(stat -c %U "$_p") $(basename "$_e")" ;; esac
  done
}

# ---- tern-local run directly, without an instance (50 to 54)
# local_init TAG: $TL the built tern-local (skips unless built), $T a temp
# dir removed on exit (/tmp/tern-localTAG.*), $H = $T/home (0755) with an
# empty Maildir
local_init() {
  TL=$SRC/local/tern-local
  [ -x "$TL" ] || tap_skip_all "local/tern-local not built"
  T=$(mktemp -d "/tmp/tern-local$1.XXXXXX")
  trap 'rm -rf "$T"' EXIT
  H=$T/home
  mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"; chmod 0755 "$H"
}

# tl LOCAL DASH EXT DOMAIN SENDER DEFAULTDELIVERY: one delivery by $TL for
# user joe with home $H, message ${MSG:-$T/msg} on stdin; the exit code is
# then $(rc), the output $(out)
tl() { "$TL" -- joe "$H" "$@" < "${MSG:-$T/msg}" > "$T/out" 2>&1; echo $? > "$T/rc"; }
rc() { cat "$T/rc"; }
out() { cat "$T/out"; }

# dotfile TEXT NAME: write $H/NAME (TEXT is a printf format), mode 0644
dotfile() { printf "$1" > "$H/$2"; chmod 0644 "$H/$2"; }

# ---- DKIM: the keys' records on a private DNS, for dkimverify.py (80, 86)
# dkim_dns RECORDS [ARG...]: dnsmasq on 127.0.0.1:$DNSPORT (set here, from
# the pid) serving the two TXT records tern-dkimkey printed into the file
# RECORDS (name and value on alternate lines), and any more dnsmasq ARGs
# ("--txt-record=NAME,VALUE"); $DNSMASQ is its pid (the caller kills it).
# Waits up to 10 s until the second record resolves; 1 if it does not.
dkim_dns() {
  _rec=$1; shift
  DNSPORT=$((5300 + $$ % 600))
  _n1=$(sed -n 1p "$_rec"); _v1=$(sed -n 2p "$_rec"); _n2=$(sed -n 3p "$_rec"); _v2=$(sed -n 4p "$_rec")
  dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 --port=$DNSPORT \
    --pid-file= --user=root --group=root --local=/test/ --log-facility=/dev/null \
    "--txt-record=$_n1,$_v1" "--txt-record=$_n2,$_v2" "$@" > /dev/null 2>&1 &
  DNSMASQ=$!
  wait_for 10 /usr/bin/python3 -c "
import dns.resolver
r = dns.resolver.Resolver(configure=False); r.nameservers = ['127.0.0.1']; r.port = $DNSPORT; r.lifetime = 1
r.resolve('$_n2', 'TXT')"
}

tap_done() { [ "$TAP_FAIL" -eq 0 ]; }
