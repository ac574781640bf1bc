#!/bin/sh
# 78-queue-groupcommit.t: tern-queued's group commit on a running instance
# (tern-queued.8, THE QUEUE, step 6). 40 injections at once, the server and
# its client processes under strace -f -ttt -T: every client process makes
# one fsync of its own file and one linkat, the server the directory
# flushes, and no client gets its "C" (and so no injector its 0) before a
# flush of msg/ that started after its own linkat returned and ended
# before the "C" arrived; the flushes are at most one per message. Then the
# server is stopped (SIGSTOP) while a client waits for its commit and
# killed: the client flushes msg/ itself and its injector still gets 0;
# s6 restarts the server. Every message is delivered once.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || tap_abort "strace missing (tests/deps.sh installs it)"
tern_init
tap_plan 8
tern_install || { diag "install failed"; exit 1; }
tern_start; tap_ok $? "services up"
Q=$ROOT/queue
srv=$(s6-svstat -p "$ROOT/service/queue")
[ "$srv" -gt 0 ] 2>/dev/null || tap_abort "no tern-queued server pid"

# 40 injections at once, traced
strace -f -ttt -T -qq -e trace=fsync,linkat,read,write -o "$ROOT/gc.trace" -p "$srv" 2>/dev/null &
ST=$!
sleep 1
i=0; pids=
while [ $i -lt 40 ]; do
  printf 'Subject: gc %s\n\nbody %s\n' $i $i | inject_as root "gc$i@demo.test" &
  pids="$pids $!"
  i=$((i + 1))
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
tap_is "$bad" 0 "40 concurrent injections all got 0"
sleep 0.5
kill -INT "$ST"; wait "$ST" 2>/dev/null
python3 - "$ROOT/gc.trace" "$srv" > "$ROOT/gc.out" <<'PY'
import re, sys
trace, srv = sys.argv[1], int(sys.argv[2])
LINE = re.compile(r'^(\w+)\((.*)\)\s+=\s+(-?\d+).*<(\d+\.\d+)>$')
UNF = re.compile(r'^(\d+)\s+(\d+\.\d+)\s+(.*) <unfinished \.\.\.>$')
RES = re.compile(r'^(\d+)\s+\d+\.\d+\s+<\.\.\. \w+ resumed>(.*)$')
PLAIN = re.compile(r'^(\d+)\s+(\d+\.\d+)\s+(.*)$')
flushes, links, fsyncs, cread, head = [], {}, {}, {}, {}
for raw in open(trace, encoding='latin-1'):
    raw = raw.rstrip()
    m = UNF.match(raw)
    if m:
        head[int(m.group(1))] = (float(m.group(2)), m.group(3))
        continue
    m = RES.match(raw)
    if m:
        pid = int(m.group(1))
        if pid not in head:
            continue
        t0, text = head.pop(pid)
        text += m.group(2)
    else:
        m = PLAIN.match(raw)
        if not m:
            continue
        pid, t0, text = int(m.group(1)), float(m.group(2)), m.group(3)
    m = LINE.match(text)
    if not m:
        continue
    name, args, ret, dur = m.group(1), m.group(2), int(m.group(3)), float(m.group(4))
    t1 = t0 + dur
    if pid == srv and name == 'fsync' and ret == 0:
        flushes.append((t0, t1))
    elif pid != srv and name == 'linkat' and ret == 0 and '"msg/' in args:
        links[pid] = t1
    elif pid != srv and name == 'fsync' and ret == 0:
        fsyncs[pid] = fsyncs.get(pid, 0) + 1
    elif pid != srv and name == 'read' and ret == 1 and '"C"' in args and pid in links and pid not in cread:
        # the first one-byte "C" after the link: the commit answer (a byte
        # of the injector's frames, a length of 67, reads as "C" too)
        cread[pid] = t1
print('clients %d, linked %d, commits %d, server flushes %d' % (len(fsyncs), len(links), len(cread), len(flushes)))
early = [p for p in links if p in cread and not any(f0 >= links[p] and f1 <= cread[p] for f0, f1 in flushes)]
print('early %s' % ' '.join(map(str, early)))
print('oneflush %d' % sum(1 for p in links if fsyncs.get(p) == 1))
PY
cat "$ROOT/gc.out" | sed 's/^/# /'
line=$(head -n 1 "$ROOT/gc.out")
tap_is "$(echo "$line" | sed 's/.*linked \([0-9]*\), commits \([0-9]*\).*/\1 \2/')" "40 40" "40 client processes linked msg/N and got C from the server"
tap_is "$(sed -n 's/^early //p' "$ROOT/gc.out")" "" "no C before a flush of msg/ that started after the client's linkat"
tap_is "$(sed -n 's/^oneflush //p' "$ROOT/gc.out")" 40 "each client process flushed its own file once (and not msg/)"
nf=$(echo "$line" | sed 's/.*server flushes \([0-9]*\)/\1/')
tap_ok $([ "$nf" -ge 1 ] && [ "$nf" -le 40 ]; echo $?) "the server made $nf flushes of msg/ for 40 messages (k = $(( 40 / (nf > 0 ? nf : 1) )))"

# the server stops while a client waits for its commit, then dies: the
# client flushes msg/ itself. The message comes through a FIFO, so the
# client's process exists (forked, reading the message) before the server
# is stopped; its end then commits while the server cannot answer.
# The injection goes straight to tern-queue: through the default local
# filter chain (control/filters: tern-dkimsign, which reads the whole
# message first) the client would connect only after the FIFO closes, to a
# stopped server.
grep -v '^local:' "$ROOT/control/filters" > "$ROOT/control/filters.new"
mv "$ROOT/control/filters.new" "$ROOT/control/filters"
mkfifo "$ROOT/orphan.fifo"
n0=$(ls "$Q/msg" | wc -l)
inject_as root "gcorphan@demo.test" < "$ROOT/orphan.fifo" > "$ROOT/orphan.out" 2>&1 &
IP=$!
exec 3> "$ROOT/orphan.fifo"
printf 'Subject: gc orphan\n\nbody\n' >&3
wait_for 10 sh -c "pgrep -P $srv > /dev/null"
kill -STOP "$srv"
exec 3>&-
wait_for 10 sh -c "[ \$(ls '$Q/msg' | wc -l) -gt $n0 ]"
sleep 0.3
kill -KILL "$srv"
wait "$IP"; rc=$?
tap_ok $([ "$rc" = 0 ] && grep -q 'the server is gone: this process flushes msg/ itself' "$ROOT/log/queue/current"; echo $?) \
  "an injection whose server died while it waited for the commit flushes msg/ itself and still gets 0 ($rc)"
wait_for 30 sh -c "[ \$(grep -l '^Subject: gc ' '$MAILDIR'/new/* 2>/dev/null | wc -l) -ge 41 ]"
tap_is "$(grep -l '^Subject: gc ' "$MAILDIR"/new/* 2>/dev/null | wc -l | tr -d ' ')" 41 "every message delivered once (41)"
[ "$TAP_FAIL" -eq 0 ] || { cat "$ROOT/orphan.out"; tail -n 20 "$ROOT/log/queue/current" | sed 's/^/# /'; }
tap_done
