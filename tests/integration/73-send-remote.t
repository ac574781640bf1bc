#!/bin/sh
# 73-send-remote.t: tern-send's remote channel with the real tern-rspawn and
# tern-remote (issue 4, tern-send part): recipients of one message are
# grouped per domain (case-insensitive) into one SMTP transaction, at most
# 100 RCPTs each; a 550 on one RCPT bounces that recipient only, with
# Remote-MTA and an smtp Diagnostic-Code; concurrencyremote caps the
# simultaneous transactions. The receiver is a small SMTP sink on 127.0.0.1
# reached through control/smtproutes.
. "$(dirname "$0")/lib.sh"
tern_init
tap_plan 8
tern_install || { diag "install failed"; exit 1; }
[ -x "$ROOT/bin/tern-rspawn" ] && [ -x "$ROOT/bin/tern-remote" ] || { echo "1..0 # SKIP remote delivery not installed"; exit 0; }
SPORT=$((21000 + $$ % 20000))
echo ":127.0.0.1:$SPORT" > "$ROOT/control/smtproutes"
echo 2 > "$ROOT/control/concurrencyremote"
echo 20 > "$ROOT/control/timeoutremote"
LOG=$ROOT/log/send/current
cat > "$ROOT/sink.py" <<'PY'
# SMTP sink: one JSON line per transaction; max simultaneous sessions in FILE.max
import json, socket, sys, threading, time
port, out, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
lock = threading.Lock(); cur = [0]; peak = [0]
def session(c):
    with lock:
        cur[0] += 1; peak[0] = max(peak[0], cur[0])
        open(out + ".max", "w").write(str(peak[0]))
    f = c.makefile("rb"); w = lambda s: c.sendall(s.encode() + b"\r\n")
    try:
        c.settimeout(30); w("220 sink")
        t = None
        while True:
            line = f.readline(2000)
            if not line: break
            cmd = line.decode("latin-1").strip(); u = cmd.upper()
            if u.startswith("EHLO") or u.startswith("HELO"): w("250-sink\r\n250 8BITMIME")
            elif u.startswith("MAIL FROM:"): t = {"from": cmd[10:], "rcpt": []}; w("250 ok")
            elif u.startswith("RCPT TO:"):
                a = cmd[8:].strip("<>")
                if a.startswith("reject"): w("550 5.1.1 no such user here")
                else: t["rcpt"].append(a); w("250 ok")
            elif u == "DATA":
                w("354 go")
                while True:
                    l = f.readline(100000)
                    if not l or l in (b".\r\n", b".\n"): break
                time.sleep(delay)
                with lock:
                    open(out, "a").write(json.dumps(t) + "\n")
                w("250 accepted")
            elif u == "QUIT": w("221 bye"); break
            elif u == "RSET": w("250 ok")
            else: w("250 ok")
    except Exception:
        pass
    finally:
        with lock: cur[0] -= 1
        c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(50)
s.settimeout(120); end = time.time() + 120
while time.time() < end:
    try: c, _ = s.accept()
    except socket.timeout: break
    threading.Thread(target=session, args=(c,), daemon=True).start()
PY
python3 "$ROOT/sink.py" "$SPORT" "$ROOT/sink.jsonl" 0.3 &
SINK=$!
trap 'kill $SINK 2>/dev/null; tern_cleanup' EXIT
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SPORT), 1).close()" || diag "sink not listening"
tern_start; tap_ok $? "services up"

tok=r73-$$
printf 'Subject: %s\n\ngrouped\n' "$tok" | inject_as root -f joe@demo.test \
  a1@r1.test b1@r2.test a2@R1.TEST a3@r1.test reject1@r1.test
wait_for 30 sh -c "[ \$(grep -c 'r[12].test' '$ROOT/sink.jsonl' 2>/dev/null) -ge 2 ]"
tap_ok $? "two transactions for two domains"
python3 - "$ROOT/sink.jsonl" > "$ROOT/g.txt" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    t = json.loads(l)
    if any(r.lower().endswith(("@r1.test", "@r2.test")) for r in t["rcpt"]): print(" ".join(sorted(t["rcpt"])))
PY
tap_is "$(sort "$ROOT/g.txt" | tr '\n' '|')" "a1@r1.test a2@R1.TEST a3@r1.test|b1@r2.test|" "one transaction per domain, every recipient of it (case-insensitive)"
wait_for 20 sh -c "grep -l 'multipart/report' '$MAILDIR'/new/* 2>/dev/null | xargs -r grep -l 'Subject: $tok\$' | grep -q ."
b=$(grep -l 'multipart/report' "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -l "Subject: $tok\$" | head -n 1)
python3 - "$b" > "$ROOT/b.txt" 2>&1 <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for r in m.get_payload()[1].get_payload()[1:]:
    print(r["Final-Recipient"], r["Status"], r["Remote-MTA"], r["Diagnostic-Code"])
PY
sed 's/^/# /' "$ROOT/b.txt"
tap_is "$(cat "$ROOT/b.txt")" "rfc822; reject1@r1.test 5.1.1 dns; 127.0.0.1 smtp; 550 5.1.1 no such user here" \
  "only the rejected RCPT bounces, with Remote-MTA and the server's reply"

# 150 recipients at one domain: 100 + 50
rc=$(python3 -c "print(' '.join('u%d@big.test' % i for i in range(150)))")
printf 'Subject: %s-big\n\nmany\n' "$tok" | inject_as root -f joe@demo.test $rc
wait_for 30 sh -c "[ \$(grep -c 'big.test' '$ROOT/sink.jsonl' 2>/dev/null) -ge 2 ]"
tap_is "$(grep 'big.test' "$ROOT/sink.jsonl" | python3 -c "import json,sys; print(sorted(len(json.loads(l)['rcpt']) for l in sys.stdin))")" \
  "[50, 100]" "150 recipients at one domain: two transactions of 100 and 50"

# concurrencyremote 2: ten messages to ten domains, each transaction 0.3 s
rm -f "$ROOT/sink.jsonl.max"
pids=
for i in 0 1 2 3 4 5 6 7 8 9; do
  printf 'Subject: %s-c%s\n\nc\n' "$tok" "$i" | inject_as root -f joe@demo.test "x@c$i.test" &
  pids="$pids $!"
done
wait $pids
wait_for 40 sh -c "[ \$(grep -c '@c[0-9].test' '$ROOT/sink.jsonl' 2>/dev/null) -ge 10 ]"
tap_ok $? "all ten delivered"
tap_ok "$([ "$(cat "$ROOT/sink.jsonl.max" 2>/dev/null)" -le 2 ] && echo 0 || echo 1)" \
  "at most concurrencyremote (2) sessions at once (saw $(cat "$ROOT/sink.jsonl.max" 2>/dev/null))"
grep -o 'remote [0-9]*/[0-9]*' "$LOG" | awk -F'[ /]' '$2 > $3 { bad = 1 } END { exit bad }'
tap_ok $? "the log never shows more remote deliveries than the limit"
[ "$TAP_FAIL" -eq 0 ] || { tail -n 40 "$LOG" | sed 's/^/# /'; cat "$ROOT/sink.jsonl" | head -5 | sed 's/^/# /'; }
tap_done
