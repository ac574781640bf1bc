#!/usr/bin/env python3
"""smtpsink.py: a small SMTP server on 127.0.0.1 for the shell tests of
tern-send's remote channel (73, 74) and of its bounces (76).

    smtpsink.py PORT OUT [DELAY [LIFETIME]]

Appends one JSON line {"from": ..., "rcpt": [...]} to OUT per accepted
transaction, DELAY seconds (default 0) after the message's final dot;
writes the largest number of simultaneous sessions so far to OUT.max.
RCPT TO a local part starting with "reject" gets 550 5.1.1; one starting
with "deferonce" gets 451 4.3.0 the first time the sink sees that address
and 250 after; one starting with "defer" (otherwise) always 451 4.3.0;
everything else 250. With SMTPSINK_DATA=1 in the environment each line also holds
the message as "data" (latin-1, dot-unstuffed). Each session times out after 30 s of silence; the sink stops
accepting after LIFETIME seconds (default 120).
"""
import json
import os
import socket
import sys
import threading
import time

port, out = int(sys.argv[1]), sys.argv[2]
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
keep = os.environ.get("SMTPSINK_DATA") == "1"
lock = threading.Lock()
cur = [0]
peak = [0]
seen = set()


def session(c):
    counted = [True]
    with lock:
        cur[0] += 1
        peak[0] = max(peak[0], cur[0])
        open(out + ".max", "w").write(str(peak[0]))
    f = c.makefile("rb")

    def w(s):
        c.sendall(s.encode() + b"\r\n")
    try:
        c.settimeout(30)
        w("220 sink")
        t = {"from": "", "rcpt": []}
        while True:
            line = f.readline(2000)
            if not line:
                break
            cmd = line.decode("latin-1").strip()
            u = cmd.upper()
            if u.startswith("EHLO") or u.startswith("HELO"):
                w("250-sink\r\n250 8BITMIME")
            elif u.startswith("MAIL FROM:"):
                t = {"from": cmd[10:], "rcpt": []}
                w("250 ok")
            elif u.startswith("RCPT TO:"):
                a = cmd[8:].strip("<>")
                if a.startswith("reject"):
                    w("550 5.1.1 no such user here")
                elif a.startswith("deferonce") and a not in seen:
                    seen.add(a)
                    w("451 4.3.0 try again later")
                elif a.startswith("defer") and not a.startswith("deferonce"):
                    w("451 4.3.0 try again later")
                else:
                    t["rcpt"].append(a)
                    w("250 ok")
            elif u == "DATA":
                w("354 go")
                data = []
                while True:
                    l = f.readline(100000)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    data.append(l[1:] if l.startswith(b".") else l)
                if keep:
                    t["data"] = b"".join(data).decode("latin-1")
                time.sleep(delay)
                with lock:
                    open(out, "a").write(json.dumps(t) + "\n")
                t = {"from": "", "rcpt": []}
                w("250 accepted")
            elif u == "QUIT":
                # the session counts as ended before the 221: the client may
                # exit on it and its successor connect before this thread
                # runs again (a loaded machine saw 3 of 2 that way)
                with lock:
                    cur[0] -= 1
                    counted[0] = False
                w("221 bye")
                break
            else:
                w("250 ok")
    except Exception:
        pass
    finally:
        with lock:
            if counted[0]:
                cur[0] -= 1
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(50)
end = time.time() + lifetime
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    threading.Thread(target=session, args=(c,), daemon=True).start()
