#!/bin/sh
# 15-remote-isolation.t: ternr, the user tern-rspawn and tern-remote run as
# while they parse what remote servers say, can open nothing of the queue:
# not a queued message, not lock/trigger, no file it could create there;
# and remote delivery still works, tern-remote getting the message it
# delivers as a descriptor from tern-send through tern-rspawn. Its timeout
# table is HOME/remote-state/tcpto (ternr's own). tern-rspawn runs without group
# tern and cannot be traced by the tern-remote processes (not dumpable).
# The receiver is tests/integration/smtpsink.py through control/smtproutes.
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || tap_abort "setpriv (util-linux) is missing"
tern_init
tap_plan 11
tern_install || { diag "install failed"; exit 1; }
SPORT=$((21000 + $$ % 20000))
echo ":127.0.0.1:$SPORT" > "$ROOT/control/smtproutes"
python3 "$SRC/tests/integration/smtpsink.py" "$SPORT" "$ROOT/sink.jsonl" 0 &
SINK=$!
trap 'kill $SINK 2>/dev/null; tern_cleanup' EXIT
wait_for 10 tcp_up "$SPORT" || diag "sink not listening"

# rspawn_pid: the instance's tern-rspawn
rspawn_pid() {
  pgrep -f "^tern-rspawn" | while read -r p; do [ "$(readlink /proc/$p/cwd)" = "$ROOT" ] && echo "$p"; done | head -n 1
}
# as_ternr CMD...: run with the uid, gid and groups the instance gives
# tern-rspawn and tern-remote (taken from the running tern-rspawn)
as_ternr() { setpriv --reuid="$RU" --regid="$RG" --groups="$RGS" "$@"; }

tap_ok "$(id -nG ternr | tr ' ' '\n' | grep -cx tern | grep -qx 0; echo $?)" "user ternr is not in group tern ($(id ternr))"
tap_is "$(stat -c '%U:%G %a' "$ROOT/remote-state/tcpto" "$ROOT/remote-state" "$ROOT/remote")" \
  "$(printf 'ternr:ternr 600\nternr:ternr 700\nternr:ternr 700')" \
  "the timeout table is ternr's own, in remote-state/, outside the queue and apart from remote/"

tern_start || diag "services not up"
wait_for 50 sh -c "pgrep -f '^tern-rspawn' > /dev/null"
rs=$(rspawn_pid)
RU=$(awk '/^Uid:/ { print $2 }' "/proc/$rs/status" 2>/dev/null)
RG=$(awk '/^Gid:/ { print $2 }' "/proc/$rs/status" 2>/dev/null)
RGS=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$rs/status" 2>/dev/null | tr -s ' ' ',' | sed 's/^,//; s/,$//')
diag "tern-rspawn $rs: uid $RU gid $RG groups $RGS"
[ -n "$RGS" ] || RGS=$RG
# a message held in the queue: the send service stopped, one injected
s6-svc -d "$ROOT/service/send"
wait_for 20 sh -c "s6-svstat -o up '$ROOT/service/send' | grep -qx false"
tok=r15-$$
printf 'Subject: %s\n\nfor the remote side\n' "$tok" | inject_as root -f joe@demo.test far@remote.test
files=$(find "$ROOT/queue" -type f | tr '\n' ' ')
tap_ok "$([ -n "$files" ]; echo $?)" "a message is queued ($files)"

# every queued file, the trigger, and a new file in each queue directory:
# each attempt with tern-rspawn's credentials must end in EACCES
cat > "$ROOT/probe.py" <<'EOF'
import errno, os, sys
q = sys.argv[1]
def try_(what, path, flags, mode=0o600):
    try:
        fd = os.open(path, flags | os.O_NONBLOCK, mode)
        os.close(fd)
        print(what, path, "OPENED")
    except OSError as e:
        print(what, path, errno.errorcode.get(e.errno, str(e.errno)))
for p in sys.argv[2:]:
    try_("read", p, os.O_RDONLY)
try_("write", os.path.join(q, "lock", "trigger"), os.O_WRONLY)
for d in ("", "msg", "state", "hold", "lock", "bounce"):
    try_("create", os.path.join(q, d, "ternr-probe"), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
EOF
as_ternr /usr/bin/python3 "$ROOT/probe.py" "$ROOT/queue" $files > "$ROOT/probe.out" 2>&1
sed 's/^/# /' "$ROOT/probe.out"
tap_is "$(grep -c '^read ' "$ROOT/probe.out")" "$(echo $files | wc -w)" "every queued file was tried"
tap_is "$(grep -v ' EACCES$' "$ROOT/probe.out")" "" "as ternr: no queued file opens for reading, lock/trigger not for writing, no file can be created in the queue"
tap_is "$(find "$ROOT/queue" -name ternr-probe | wc -l)" 0 "nothing was created"

# delivery still works
s6-svc -u "$ROOT/service/send"
wait_for 30 sh -c "grep -q 'far@remote.test' '$ROOT/sink.jsonl' 2>/dev/null"
tap_ok $? "the remote delivery reached the sink"
wait_for 20 sh -c "[ \$(find '$ROOT/queue/msg' -type f | wc -l) -eq 0 ]"
tap_ok $? "the message left the queue"

rs=$(rspawn_pid)
tern_gid=$(getent group tern | cut -d: -f3)
g=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$rs/status" 2>/dev/null)
u=$(awk '/^Uid:/ { print $2 }' "/proc/$rs/status" 2>/dev/null)
tap_ok "$([ -n "$rs" ] && [ "$u" = "$(id -u ternr)" ] && ! echo " $g " | grep -q " $tern_gid "; echo $?)" \
  "tern-rspawn ($rs) runs as ternr without group tern (uid $u, groups$g)"
# not dumpable: its /proc/PID/fd belongs to root, and ternr cannot list its descriptors
tap_is "$(stat -c %U "/proc/$rs/fd" 2>/dev/null)" root "tern-rspawn is not dumpable (/proc/PID/fd owned by root)"
as_ternr ls "/proc/$rs/fd" > /dev/null 2>&1
tap_ok "$([ $? -ne 0 ]; echo $?)" "ternr cannot list tern-rspawn's descriptors"
