#!/bin/sh
# tests/bench/run.sh (make bench): tern side by side with a private Postfix.
#
# Installs Postfix from Debian's packages if missing (never as the system
# MTA), starts a private Postfix instance (tests/bench/postfix.sh) and a
# private tern instance (tests/integration/lib.sh), each in its own CPU
# cgroup, and runs the same loads against each in alternation
# (tests/bench/bench.py): BENCH_ROUNDS rounds of BENCH_N_SMALL messages of
# 4 KiB and BENCH_N_LARGE of 100 KiB, from C = BENCH_C parallel smtp-source
# clients, delivered into a catch-all Maildir. Then the fsync count under
# strace and one 10 MiB message. Prints the table and puts it into
# BENCHMARKS.md between the bench:begin/bench:end markers.
#
#   BENCH_N_SMALL=1000 BENCH_N_LARGE=300 BENCH_C="10 50" BENCH_ROUNDS=3
#   BENCH_FSYNC_N=200 BENCH_KEEP=1 (keep the temp directory)
#   BENCH_PROFILE=1 (default; 0 skips): perf profile of one load of each (perfsum.py)
#   BENCH_WRITE=0: print the table only, leave BENCHMARKS.md alone
#   BENCH_CGROUP=0: sum /proc of the instances' process trees instead of cgroups
#   BENCH_TLS=1 (default; 0 skips): then STARTTLS on every connection, Postfix
#     with smtpd_tls_security_level = may and the same certificate as tern,
#     BENCH_N_TLS (500) x 4 KiB from 10 clients, BENCH_ROUNDS rounds, and a
#     perf profile of each; its own section at the end of BENCHMARKS.md
#     (between bench-tls:begin/end). BENCH_ONLY_TLS=1: only that.
#   BENCH_DKIM=1 (default; 0 skips): the filters side by side
#     (tests/bench/dkimside.sh): DKIM signing with both algorithms (tern-dkimsign
#     vs Debian's opendkim as Postfix's milter) and rspamd's checks
#     (tern-rspamc vs rspamd's milter), BENCH_N_DKIM (500) x 4 KiB from 10
#     clients; its own section at the end of BENCHMARKS.md (between
#     bench-dkim:begin/end). BENCH_ONLY_DKIM=1: only that.
#   BENCH_ONLY="LOAD ...": only these (default all): main, dkim (the table above,
#     the fsync count, the profiles), tls, and three more, each with its own
#     part of BENCHMARKS.md (between bench-LOAD:begin/end):
#     session10   BENCH_N_SMALL x 4 KiB, 10 messages per SMTP session
#                 (smtp-source -d -m 10), at each C of BENCH_C
#     relay50     BENCH_N_RELAY (1000) x 4 KiB to 50 domains routed to
#                 Postfix's smtp-sink (tern: control/smtproutes, Postfix:
#                 transport_maps), from 10 clients (tests/bench/loads.py)
#     deferred100k  BENCH_DEFERRED (100000) messages to a domain routed to a
#                 closed loopback port, injected from BENCH_DEFERRED_C (8)
#                 SMTP sessions; the scheduler's RSS, its start-up time and
#                 the local delivery rate with that queue (loads.py)
#   The queue is seen only through tern-queuectl list and postqueue -p.
# Needs root (users, ownership, cgroups). Every wait is bounded.
set -u
BENCH_N_SMALL=${BENCH_N_SMALL:-1000}
BENCH_N_LARGE=${BENCH_N_LARGE:-300}
BENCH_C=${BENCH_C:-10 50}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_FSYNC_N=${BENCH_FSYNC_N:-200}
BENCH_BIG_MIB=${BENCH_BIG_MIB:-10}
BENCH_PROFILE=${BENCH_PROFILE:-1}
BENCH_WRITE=${BENCH_WRITE:-1}
BENCH_TLS=${BENCH_TLS:-1}
BENCH_N_TLS=${BENCH_N_TLS:-500}
BENCH_ONLY_TLS=${BENCH_ONLY_TLS:-0}
BENCH_DKIM=${BENCH_DKIM:-1}
BENCH_ONLY_DKIM=${BENCH_ONLY_DKIM:-0}
[ "$BENCH_ONLY_DKIM" = 1 ] && { BENCH_ONLY_TLS=0; BENCH_TLS=0; BENCH_DKIM=1; }
[ "$BENCH_ONLY_DKIM" = 1 ] && BENCH_ONLY=${BENCH_ONLY:-dkim}
[ "$BENCH_ONLY_TLS" = 1 ] && BENCH_ONLY=${BENCH_ONLY:-tls}
BENCH_ONLY=$(echo "${BENCH_ONLY:-}" | tr ',' ' ')
BENCH_N_RELAY=${BENCH_N_RELAY:-1000}
BENCH_DEFERRED=${BENCH_DEFERRED:-100000}
BENCH_DEFERRED_C=${BENCH_DEFERRED_C:-8}
# want LOAD: LOAD is to run (BENCH_ONLY empty or naming it)
want() { [ -z "$BENCH_ONLY" ] && return 0; case " $BENCH_ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/postfix.sh"
. "$here/dkimside.sh"

[ "$(id -u)" = 0 ] || { echo "bench: needs root (users, ownership, cgroups)" >&2; exit 1; }
pf_ensure_installed || { echo "bench: cannot install postfix" >&2; exit 1; }
command -v strace >/dev/null || { echo "bench: strace missing (apt-get install strace)" >&2; exit 1; }

[ -n "${BENCH_KEEP:-}" ] && TERN_KEEP=1
tern_init
CGS=
SINK_PID=
bench_cleanup() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  pf_stop
  tern_stop
  for _cg in $CGS; do   # leftovers of the instances we started, by pid
    for _p in $(cat "$_cg/cgroup.procs" 2>/dev/null); do kill -9 "$_p" 2>/dev/null; done
  done
  sleep 0.2
  for _cg in $CGS; do rmdir "$_cg" 2>/dev/null; done
  if [ -n "${ROOT:-}" ] && [ -z "${TERN_KEEP:-}" ]; then rm -rf "$ROOT"; fi
}
trap bench_cleanup EXIT

# ---- one CPU cgroup per instance: v2, else v1 cpuacct, else none (/proc) ----
CG_KIND=none
if [ "${BENCH_CGROUP:-1}" = 0 ]; then :   # BENCH_CGROUP=0: sum /proc instead
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then CG_BASE=/sys/fs/cgroup; CG_KIND=v2
elif [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then CG_BASE=/sys/fs/cgroup/cpuacct; CG_KIND=v1
elif [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then CG_BASE=/sys/fs/cgroup/unified; CG_KIND=v2
fi
cg_home=
if [ $CG_KIND != none ]; then
  case $CG_KIND in
    v1) cg_home=$(sed -n 's/^[0-9]*:\([^:]*,\)*cpuacct\(,[^:]*\)*:\(.*\)/\3/p' /proc/self/cgroup | head -n 1) ;;
    v2) cg_home=$(sed -n 's/^0::\(.*\)/\1/p' /proc/self/cgroup | head -n 1) ;;
  esac
fi
cg_make() { # name: sets CG to the new cgroup's path, or empty
  CG=
  [ $CG_KIND = none ] && return 0
  _c=$CG_BASE/tern-bench-$$-$1
  mkdir "$_c" 2>/dev/null || { echo "bench: cannot make cgroup $_c; summing /proc instead" >&2; return 0; }
  CGS="$CGS $_c"
  CG=$_c
}
cg_enter() { [ -n "$1" ] && echo $$ 2>/dev/null > "$1/cgroup.procs"; }
cg_leave() { [ -n "$1" ] && echo $$ > "$CG_BASE${cg_home%/}/cgroup.procs"; }

port_free() { python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$1)); s.close()" 2>/dev/null; }
# free_port FROM: the first free port from FROM on (50 tries)
free_port() {
  _p=$1 _n=0
  while ! port_free $_p && [ $_n -lt 50 ]; do _p=$((_p + 1)); _n=$((_n + 1)); done
  echo $_p
}

# the routes of relay50 and deferred100k, the same for both servers:
# dK.relay.test (K = 0..49) to smtp-sink, deferred.test to a closed port
SINK_PORT=$(free_port $((TERN_PORT + 400)))
CLOSED_PORT=$(free_port $((SINK_PORT + 1)))
routes() { # FORMAT: printf format of one route, args domain host port
  _k=0
  while [ $_k -lt 50 ]; do printf "$1" "d$_k.relay.test" 127.0.0.1 "$SINK_PORT"; _k=$((_k + 1)); done
  printf "$1" deferred.test 127.0.0.1 "$CLOSED_PORT"
}

# ---- tern ----
tern_install || { echo "bench: tern_install failed" >&2; exit 1; }
# connection limits (control files of the smtpd service): -c 40 -C 10
# answered 421 to smtp-source's reconnects even at C=10 (children not yet
# reaped count), and -c 100 still did at C=50 on a loaded machine; Postfix
# never refuses (at its limit of 100 smtpd processes it stops accepting and
# lets the backlog wait)
printf '250\n' > "$ROOT/control/concurrencyincoming"
printf '250\n' > "$ROOT/control/concurrencyperip"
routes '%s:[%s]:%s\n' > "$ROOT/control/smtproutes"
cg_make tern; CG_TERN=$CG
cg_enter "$CG_TERN" || CG_TERN=   # cannot join: sum /proc under s6-svscan
tern_start; rc=$?
cg_leave "$CG_TERN"
[ $rc = 0 ] || { echo "bench: tern did not start" >&2; exit 1; }

# ---- postfix ----
PF_PORT=$(free_port $((TERN_PORT + 300)))
pf_setup "$ROOT/postfix" "$PF_PORT" "$TERN_DOMAIN"
routes '%s smtp:[%s]:%s\n' > "$PF_ETC/transport"
postconf -c "$PF_ETC" -e "transport_maps = texthash:$PF_ETC/transport"
cg_make postfix; CG_PF=$CG
cg_enter "$CG_PF" || CG_PF=   # cannot join: sum /proc under master
pf_start; rc=$?
cg_leave "$CG_PF"
[ $rc = 0 ] || { echo "bench: postfix did not start" >&2; exit 1; }
mkdir -p "$PF_MAILDIR/new" "$PF_MAILDIR/cur" "$PF_MAILDIR/tmp"
chown -R nobody:nogroup "$PF/mail"
chmod 0700 "$PF_MAILDIR" "$PF_MAILDIR/new" "$PF_MAILDIR/cur" "$PF_MAILDIR/tmp"

echo "bench: tern on 127.0.0.1:$TERN_PORT ($ROOT), postfix $(postconf -c "$PF_ETC" -h mail_version) on 127.0.0.1:$PF_PORT, cgroups: $CG_KIND"

loads=
for c in $BENCH_C; do loads="$loads --load 4096:$BENCH_N_SMALL:$c"; done
for c in $BENCH_C; do loads="$loads --load 102400:$BENCH_N_LARGE:$c"; done

# the instances for bench.py and loads.py: each lists its queue with its
# own command, so nothing here reads the queue's files
INST_TERN="tern:$TERN_PORT:$MAILDIR:$CG_TERN::$SVSCAN_PID:$ROOT/bin/tern-queuectl list"
INST_PF="postfix:$PF_PORT:$PF_MAILDIR:$CG_PF::$(pf_master_pid):postqueue -c $PF_ETC -p"
rc=0
want main && {
# shellcheck disable=SC2086
python3 "$here/bench.py" --inst "$INST_TERN" --inst "$INST_PF" \
  $loads --rounds "$BENCH_ROUNDS" --fsync-n "$BENCH_FSYNC_N" --big-mib "$BENCH_BIG_MIB" \
  --tracedir "$ROOT/traces" --out "$ROOT/bench.json" --md "$ROOT/table.md"
rc=$?
}

# ---- BENCH_PROFILE=1: where the CPU goes (perf on the instance's processes, one load each) ----
# perf follows the children of the instance's processes (-p: inherit), so
# other tern or Postfix instances on the machine do not count
# profile NAME PORT MAILDIR CGROUP ROOTPID [LOAD]: LOAD (a command sending
# 1000 x 4 KiB from 10 clients to 127.0.0.1:$_port; default smtp-source).
# MAILDIR "-": LOAD itself waits until its messages are delivered.
# PROFILE_CALLGRAPH: perf's call graph option (default -g, frame pointers)
profile() {
    _name=$1 _port=$2 _md=$3 _cg=$4 _root=$5
    _load=${6:-"smtp-source -l 4096 -m 1000 -s 10 -f bench@sender.test -t bench@demo.test 127.0.0.1:$_port"}
    if [ -n "$_cg" ]; then _pids=$(tr '\n' ',' < "$_cg/cgroup.procs")
    else _pids=$(python3 -c "import sys; sys.path.insert(0,'$here'); import bench; print(','.join(map(str, bench.descendants($_root))))"); fi
    _before=0
    [ "$_md" = - ] || _before=$(maildir_count "$_md")
    perf record -q ${PROFILE_CALLGRAPH:--g} -F 999 -p "${_pids%,}" -o "$ROOT/perf.$_name.data" -- sh -c "
      $_load >/dev/null 2>&1
      n=0; while [ '$_md' != - ] && [ \$n -lt 1200 ] && [ \$(find '$_md/new' -type f | wc -l) -lt $((_before + 1000)) ]; do sleep 0.1; n=\$((n + 1)); done
      sleep 1" 2>/dev/null
    echo "profile $_name (1000 x 4 KiB, 10 clients, until delivered; CPU ms per message by program and kind of work):"
    perf script -i "$ROOT/perf.$_name.data" -F comm,ip,sym,dso 2>/dev/null |
      python3 "$here/perfsum.py" --hz 999 --msgs 1000 | tee "$ROOT/profile.$_name.md"
    [ "$_md" = - ] || find "$_md/new" "$_md/cur" -type f -delete
}
if [ "$BENCH_PROFILE" = 1 ] && want main && command -v perf >/dev/null; then
  profile tern "$TERN_PORT" "$MAILDIR" "$CG_TERN" "$SVSCAN_PID"
  profile postfix "$PF_PORT" "$PF_MAILDIR" "$CG_PF" "$(pf_master_pid)"
fi

# ---- BENCHMARKS.md: replace the table between the markers ----
bm=$SRC/BENCHMARKS.md
# md_put TAG FILE: FILE (which starts and ends with the TAG:begin and
# TAG:end marker lines) replaces the lines between those markers in
# BENCHMARKS.md, or is appended at its end when they are not there yet
md_put() {
  if [ -f "$bm" ] && grep -q "^<!-- $1:begin" "$bm" && grep -q "^<!-- $1:end" "$bm"; then
    awk -v sec="$2" -v b="<!-- $1:begin" -v e="<!-- $1:end" '
      index($0, b) == 1 { while ((getline l < sec) > 0) print l; skip = 1; next }
      index($0, e) == 1 { skip = 0; next }
      !skip { print }' "$bm" > "$bm.tmp" && mv "$bm.tmp" "$bm"
  else
    { [ -f "$bm" ] && cat "$bm"; echo; cat "$2"; } > "$bm.tmp" && mv "$bm.tmp" "$bm"
  fi
}
if [ "$BENCH_WRITE" = 1 ] && [ -s "$ROOT/table.md" ]; then
  disk=$(df -P "$ROOT" | awk 'NR==2 {print $1}')
  dname=$(basename "$disk")
  rot=$(cat "/sys/block/$dname/queue/rotational" 2>/dev/null || echo "?")
  wc=$(cat "/sys/block/$dname/queue/write_cache" 2>/dev/null || echo "?")
  jnl="no journal"; ls /proc/fs/jbd2/ 2>/dev/null | grep -q "^$dname" && jnl="journal"
  # the disk's fsync rate: 4 KiB rewrite + fsync, 1 and 10 threads, 300 each
  fsr=$(python3 - "$ROOT" <<'EOP'
import os, sys, threading, time
d = sys.argv[1]
def one(k, out):
    fd = os.open("%s/fsync-probe.%d" % (d, k), os.O_WRONLY | os.O_CREAT, 0o600)
    for _ in range(300):
        os.pwrite(fd, b"x" * 4096, 0)
        os.fsync(fd)
    os.close(fd)
    os.unlink("%s/fsync-probe.%d" % (d, k))
r = []
for par in (1, 10):
    th = [threading.Thread(target=one, args=(k, None)) for k in range(par)]
    t = time.monotonic()
    for x in th: x.start()
    for x in th: x.join()
    r.append("%d" % (par * 300 / (time.monotonic() - t)))
print("/".join(r))
EOP
)
  {
    echo "<!-- bench:begin (written by tests/bench/run.sh; edit outside the markers) -->"
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), tern $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'), Postfix $(postconf -c "$PF_ETC" -h mail_version)."
    echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)),"
    echo "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, disk $disk ($(df -PT "$ROOT" | awk 'NR==2 {print $2}'), $jnl, rotational=$rot, write cache $wc, $fsr fsync/s from 1/10 threads), kernel $(uname -r)."
    echo "Load average of the machine at the start: $LOADAVG, at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes the absolute figures move)."
    echo "Loads: $BENCH_ROUNDS rounds in alternation; $BENCH_N_SMALL x 4 KiB and $BENCH_N_LARGE x 100 KiB per load, smtp-source one message per connection; CPU from per-instance cgroups ($CG_KIND)."
    cat "$ROOT/table.md"
    PROFILE_CALLGRAPH=
    for _s in tern postfix; do
      [ -s "$ROOT/profile.$_s.md" ] || continue
      echo
      echo "**profile of $_s** (BENCH_PROFILE=1: perf record -g on the instance's processes, 1000 x 4 KiB from 10 clients until delivered; CPU ms per message by program and kind of work, tests/bench/perfsum.py)"
      echo
      cat "$ROOT/profile.$_s.md"
    done
    echo "<!-- bench:end -->"
  } > "$ROOT/section.md"
  md_put bench "$ROOT/section.md"
  echo "bench: table written to $bm"
fi
# ---- BENCH_TLS=1: STARTTLS on every connection, side by side ----
if [ "$BENCH_TLS" = 1 ] && want tls; then
  pf_tls "$ROOT/tls/default.crt" "$ROOT/tls/default.key" || { echo "bench: Postfix TLS setup failed" >&2; exit 1; }
  python3 "$here/bench.py" --starttls --inst "$INST_TERN" --inst "$INST_PF" \
    --load "4096:$BENCH_N_TLS:10" --rounds "$BENCH_ROUNDS" --fsync-n 0 --big-mib 0 \
    --tracedir "$ROOT/traces" --out "$ROOT/tls.json" --md "$ROOT/tls-table.md"
  trc=$?; [ $trc = 0 ] || rc=$trc
  perfs=
  if [ "$BENCH_PROFILE" = 1 ] && command -v perf >/dev/null; then
    tload() { echo "python3 -c 'import sys; sys.path.insert(0, \"$here\"); import bench; sys.exit(0 if bench.tls_source($1, 4096, 1000, 10, 600)[0] else 1)'"; }
    # DWARF call graphs: Debian's libcrypto has no frame pointers, and only a
    # whole chain says which of tern-tlsd's steps a sample in it serves
    PROFILE_CALLGRAPH="--call-graph dwarf,16384"
    profile tern-tls "$TERN_PORT" "$MAILDIR" "$CG_TERN" "$SVSCAN_PID" "$(tload "$TERN_PORT")"
    profile postfix-tls "$PF_PORT" "$PF_MAILDIR" "$CG_PF" "$(pf_master_pid)" "$(tload "$PF_PORT")"
    for _s in tern postfix; do
      perf script -i "$ROOT/perf.$_s-tls.data" -F comm,ip,sym,dso > "$ROOT/perf.$_s-tls.txt" 2>/dev/null &&
        perfs="$perfs --perf $_s=$ROOT/perf.$_s-tls.txt"
    done
  fi
  # shellcheck disable=SC2086
  python3 "$here/tlssum.py" --json "$ROOT/tls.json" --msgs 1000 --hz 999 $perfs > "$ROOT/tls-section.md"
  cat "$ROOT/tls-section.md"
  if [ "$BENCH_WRITE" = 1 ] && [ -s "$ROOT/tls-section.md" ]; then
    {
      echo "<!-- bench-tls:begin (written by tests/bench/run.sh, BENCH_TLS=1; edit outside the markers) -->"
      echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), tern $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'), Postfix $(postconf -c "$PF_ETC" -h mail_version), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)."
      echo
      cat "$ROOT/tls-section.md"
      echo "<!-- bench-tls:end -->"
    } > "$ROOT/tls-marked.md"
    md_put bench-tls "$ROOT/tls-marked.md"
    echo "bench: TLS section written to $bm"
  fi
fi

# ---- BENCH_DKIM=1: DKIM signing and rspamd's checks, side by side ----
if [ "$BENCH_DKIM" = 1 ] && want dkim; then
  dkim_side || rc=1
  if [ "$BENCH_WRITE" = 1 ] && [ -s "$ROOT/dkim-section.md" ]; then
    {
      echo "<!-- bench-dkim:begin (written by tests/bench/run.sh, BENCH_DKIM=1; edit outside the markers) -->"
      echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), tern $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'), Postfix $(postconf -c "$PF_ETC" -h mail_version), OpenDKIM $(/usr/sbin/opendkim -V 2>&1 | sed -n 's/^opendkim: OpenDKIM Filter //p'), rspamd $(rspamd --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -n 1), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)."
      echo
      cat "$ROOT/dkim-section.md"
      echo "<!-- bench-dkim:end -->"
    } > "$ROOT/dkim-marked.md"
    md_put bench-dkim "$ROOT/dkim-marked.md"
    echo "bench: DKIM section written to $bm"
  fi
fi

# ---- session10, relay50, deferred100k: one part of BENCHMARKS.md each ----
# put_load NAME FILE SUMMARY: the table FILE between bench-NAME markers,
# with the run's facts and the load average before and after it
put_load() {
  cat "$2"
  [ "$BENCH_WRITE" = 1 ] && [ -s "$2" ] || return 0
  {
    echo "<!-- bench-$1:begin (written by tests/bench/run.sh, BENCH_ONLY=$1; edit outside the markers) -->"
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), tern $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'), Postfix $(postconf -c "$PF_ETC" -h mail_version), $(nproc) CPUs; load average before: $LA0, after: $(cut -d' ' -f1-3 /proc/loadavg). $3"
    echo
    cat "$2"
    echo "<!-- bench-$1:end -->"
  } > "$2.marked"
  md_put "bench-$1" "$2.marked"
  echo "bench: $1 written to $bm"
}

if want session10; then
  LA0=$(cut -d' ' -f1-3 /proc/loadavg)
  loads=
  for c in $BENCH_C; do loads="$loads --load 4096:$BENCH_N_SMALL:$c"; done
  # shellcheck disable=SC2086
  python3 "$here/bench.py" --per-session 10 --inst "$INST_TERN" --inst "$INST_PF" \
    $loads --rounds "$BENCH_ROUNDS" --fsync-n 0 --big-mib 0 \
    --tracedir "$ROOT/traces" --out "$ROOT/session10.json" --md "$ROOT/session10.md" > "$ROOT/session10.log"
  r=$?; [ $r = 0 ] || rc=$r
  grep '^round' "$ROOT/session10.log"
  if [ "$BENCH_PROFILE" = 1 ] && command -v perf >/dev/null; then
    PROFILE_CALLGRAPH=
    s10() { echo "python3 -c 'import sys; sys.path.insert(0, \"$here\"); import bench; bench.session_source($1, 4096, 1000, 10, 600)'"; }
    profile tern-s10 "$TERN_PORT" "$MAILDIR" "$CG_TERN" "$SVSCAN_PID" "$(s10 "$TERN_PORT")" > /dev/null
    profile postfix-s10 "$PF_PORT" "$PF_MAILDIR" "$CG_PF" "$(pf_master_pid)" "$(s10 "$PF_PORT")" > /dev/null
    for _s in tern postfix; do
      { echo; echo "**profile of $_s** (perf record -g, 1000 x 4 KiB, 10 per session, 10 sessions at once, until delivered; CPU ms per message, tests/bench/perfsum.py)"; echo
        cat "$ROOT/profile.$_s-s10.md"; } >> "$ROOT/session10.md"
    done
  fi
  put_load session10 "$ROOT/session10.md" "10 messages per SMTP session (smtp-source -d -m 10 -s 1, C of them at once), $BENCH_ROUNDS rounds in alternation."
fi

if want relay50; then
  LA0=$(cut -d' ' -f1-3 /proc/loadavg)
  mkdir -p "$ROOT/sink"; chown nobody "$ROOT/sink"
  smtp-sink -4 -u nobody -d "$ROOT/sink/m." "127.0.0.1:$SINK_PORT" 256 > "$ROOT/sink.log" 2>&1 &
  SINK_PID=$!
  wait_for 10 tcp_up "$SINK_PORT" || { echo "bench: smtp-sink did not start" >&2; exit 1; }
  python3 "$here/loads.py" relay --inst "$INST_TERN" --inst "$INST_PF" --sink "$ROOT/sink" \
    --n "$BENCH_N_RELAY" --domains 50 --c 10 --out "$ROOT/relay50.json" --md "$ROOT/relay50.md"
  r=$?; [ $r = 0 ] || rc=$r
  if [ "$BENCH_PROFILE" = 1 ] && command -v perf >/dev/null; then
    # the same load again under perf, each server alone
    PROFILE_CALLGRAPH=
    for _s in tern postfix; do
      if [ $_s = tern ]; then _spec=$INST_TERN _cg=$CG_TERN _rp=$SVSCAN_PID
      else _spec=$INST_PF _cg=$CG_PF _rp=$(pf_master_pid); fi
      profile "$_s-relay" 0 - "$_cg" "$_rp" "python3 $here/loads.py relay --inst '$_spec' --sink $ROOT/sink --n 1000 --out /dev/null --md /dev/null" > /dev/null
      { echo; echo "**profile of $_s relaying** (perf record -g, the same 1000 messages again until all are at the sink; CPU ms per message, tests/bench/perfsum.py)"; echo
        cat "$ROOT/profile.$_s-relay.md"; } >> "$ROOT/relay50.md"
    done
  fi
  kill "$SINK_PID" 2>/dev/null; SINK_PID=
  put_load relay50 "$ROOT/relay50.md" "smtp-sink -d (one file per transaction) on 127.0.0.1, outside both cgroups."
fi

if want deferred100k; then
  LA0=$(cut -d' ' -f1-3 /proc/loadavg)
  [ -n "$CG_PF" ] || { echo "bench: deferred100k restarts Postfix and needs its cgroup" >&2; exit 1; }
  pfwait="n=0; while [ \$n -lt 300 ] && postfix -c $PF_ETC status >/dev/null 2>&1; do sleep 0.1; n=\$((n + 1)); done"
  python3 "$here/loads.py" deferred --inst "$INST_TERN" --inst "$INST_PF" \
    --n "$BENCH_DEFERRED" --c "$BENCH_DEFERRED_C" --new 1000 \
    --sched tern=tern-send --sched postfix=qmgr \
    --stop "tern=s6-svc -wD -d $ROOT/service/send" \
    --start "tern=s6-svc -u $ROOT/service/send" \
    --clean "tern=$ROOT/bin/tern-queuectl delete @deferred.test" \
    --stop "postfix=postfix -c $PF_ETC stop >/dev/null 2>&1; $pfwait" \
    --start "postfix=echo \$\$ > $CG_PF/cgroup.procs; exec postfix -c $PF_ETC start >/dev/null 2>&1" \
    --clean "postfix=postsuper -c $PF_ETC -d ALL deferred" \
    --out "$ROOT/deferred.json" --md "$ROOT/deferred.md"
  r=$?; [ $r = 0 ] || rc=$r
  put_load deferred100k "$ROOT/deferred.md" "BENCH_DEFERRED=$BENCH_DEFERRED (messages in the deferred queue), BENCH_DEFERRED_C=$BENCH_DEFERRED_C."
fi
exit $rc
