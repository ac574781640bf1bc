#!/usr/bin/env python3
"""60-attack-smtpd.py: the attacks of 60-attack-smtpd.t (see there), run
by it against the instance it started (ROOT, TERN_PORT from the
environment)."""
import os
import pwd, resource, socket, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import ok  # noqa: E402
import ternctl  # noqa: E402

ROOT = os.environ["ROOT"]
PORT = int(os.environ["TERN_PORT"])
HWM_MAX_KB = 4096          # tern-smtpd and tern-listen peak RSS bound
if os.environ.get("TERN_SANITIZE"):
    HWM_MAX_KB += 6144     # tests/sanitize.sh: the ASan/UBSan runtime's own RSS
T0 = time.time()
tap.plan(27)
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))


def ctl(name, text):
    ternctl.write(ROOT, name, text)


def procs(prog):
    """pids of running $ROOT/bin/prog; for tern-listen the listener only,
    not the TLS processes of sessions waiting for STARTTLS (a copy of
    tern-listen running as terntls until it runs tern-tlsd)"""
    res = []
    tls_uid = pwd.getpwnam("terntls").pw_uid
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/exe" % d) == ROOT + "/bin/" + prog:
                if prog == "tern-listen" and os.stat("/proc/%s" % d).st_uid == tls_uid:
                    continue
                res.append(int(d))
        except OSError:
            pass
    return res


def hwm(pid):
    try:
        for l in open("/proc/%d/status" % pid):
            if l.startswith("VmHWM:"):
                return int(l.split()[1])
    except OSError:
        pass
    return -1


def smtpd_of(sock):
    """the tern-smtpd serving our socket: TCPREMOTEPORT in its environment"""
    port = sock.getsockname()[1]
    want = b"TCPREMOTEPORT=%d" % port
    for p in procs("tern-smtpd"):
        try:
            env = open("/proc/%d/environ" % p, "rb").read().split(b"\0")
        except OSError:
            continue
        if want in env:
            return p
    return None


def connect(src="127.0.0.1", timeout=20):
    s = socket.create_connection(("127.0.0.1", PORT), timeout, source_address=(src, 0))
    return s


class Conn:
    def __init__(self, src="127.0.0.1", timeout=20):
        self.s = connect(src, timeout)
        self.f = self.s.makefile("rb")

    def reply(self):
        while True:
            l = self.f.readline()
            if not l:
                return b""
            if l[3:4] != b"-":
                return l.rstrip(b"\r\n")

    def cmd(self, c):
        self.s.sendall(c + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.f.close()
            self.s.close()
        except OSError:
            pass


def normal_client(tag):
    """a whole transaction from 127.0.0.3; True if the message got 250"""
    try:
        c = Conn("127.0.0.3", 20)
        g = c.reply()
        r = [g, c.cmd(b"EHLO normal.example"), c.cmd(b"MAIL FROM:<n@demo.test>"),
             c.cmd(b"RCPT TO:<normal@demo.test>"), c.cmd(b"DATA")]
        c.s.sendall(b"Subject: normal " + tag + b"\r\n\r\nhello\r\n.\r\n")
        r.append(c.reply())
        c.cmd(b"QUIT")
        c.close()
        return [x[:3] for x in r] == [b"220", b"250", b"250", b"250", b"354", b"250"], r
    except OSError as e:
        return False, e


def new_msgs():
    try:
        return open(ROOT + "/log/send/current", "rb").read().count(b" new msg ")
    except OSError:
        return 0


listener = procs("tern-listen")
ok(len(listener) == 1, "one tern-listen running", listener)
lpid = listener[0] if listener else 0

# ---- 1. 1,000 idle connections
idle = []
greet = 0
t = time.time()
try:
    for i in range(1000):
        idle.append(Conn("127.0.0.1", 30))
    for c in idle:
        if c.reply().startswith(b"220 "):
            greet += 1
except OSError as e:
    print("# idle connections: %s after %d" % (e, len(idle)))
print("# 1,000 connections opened and greeted in %.1f s" % (time.time() - t))
ok(greet == 1000, "1,000 idle connections all greeted (tern-listen -c 1000 -C 1000)", greet)
kids = procs("tern-smtpd")
ok(len(kids) >= 1000, "1,000 tern-smtpd processes wait", len(kids))
mx = max([hwm(p) for p in kids] or [-1])
ok(0 < mx < HWM_MAX_KB, "largest idle tern-smtpd VmHWM %d kB < %d kB" % (mx, HWM_MAX_KB))
# at the total limit tern-listen stops accepting (tern-listen.8 LIMITS):
# the 1,001st client waits in the listen queue, unanswered, not refused.
# It is a relay client (127.0.0.1), so that only the total limit applies:
# a non-relay client is refused while the non-relay slots (-c minus -R)
# are still full, and tern-listen resumes accepting as soon as one session
# of the 100 closed below is reaped, before the others are
w1001 = None
try:
    w1001 = connect("127.0.0.1", 2)
    r = w1001.recv(512)
except socket.timeout:
    r = b"(nothing)"
except OSError as e:
    r = str(e).encode()
ok(r == b"(nothing)", "the 1,001st connection is not answered (no 421): it waits while 1,000 are open", r)
for c in idle[:100]:
    c.close()
idle = idle[100:]
try:
    w1001.settimeout(10)
    r = w1001.recv(512)
    w1001.close()
except (OSError, AttributeError) as e:
    r = str(e).encode()
ok(r.startswith(b"220 "), "once some of them close, the 1,001st is greeted", r)
time.sleep(0.5)
good, r = normal_client(b"idle")
ok(good, "with 900 idle connections open a normal client is served", r)
lh = hwm(lpid)
ok(0 < lh < HWM_MAX_KB, "tern-listen VmHWM %d kB < %d kB with 1,000 connections" % (lh, HWM_MAX_KB))
for c in idle:
    c.close()
idle = []
end = time.time() + 20
while time.time() < end and len(procs("tern-smtpd")) > 5:
    time.sleep(0.1)
ok(len(procs("tern-smtpd")) <= 5, "the idle sessions end when their clients close")

# ---- 2. one byte per second: the session cap
ctl("timeoutsession", "4\n")
c = Conn("127.0.0.1", 20)
g = c.reply()
pid = smtpd_of(c.s)
t = time.time()
got = b""
stop = t + 15
c.s.settimeout(1.2)
data = b"NOOP\r\n" * 10
i = 0
checked = None
while time.time() < stop:
    try:
        c.s.sendall(data[i:i + 1])
        i += 1
    except OSError:
        break
    try:
        x = c.s.recv(4096)
        if not x:
            break
        got += x
    except socket.timeout:
        pass
    except OSError:
        break
    if checked is None and time.time() - t > 2:
        checked = normal_client(b"slow")
el = time.time() - t
ok(b"421 4.4.2" in got, "one byte per second: 421 4.4.2 from the session cap", got)
ok(3 <= el <= 9, "the slow client is cut after %.1f s (timeoutsession 4)" % el)
ok(checked is not None and checked[0], "a normal client is served during the slow attack", checked)
c.close()
ctl("timeoutsession", None)

# ---- 3. a 100 MiB line without newline
c = Conn("127.0.0.1", 30)
g = c.reply()
c.cmd(b"EHLO attacker.example")
pid = smtpd_of(c.s)
chunk = b"A" * (1 << 20)
t = time.time()
served = None
try:
    for k in range(100):
        c.s.sendall(chunk)
        if k == 50:
            served = normal_client(b"longline")
    c.s.sendall(b"\r\nNOOP\r\n")
    r1 = c.reply()
    r2 = c.reply()
except OSError as e:
    r1 = r2 = str(e).encode()
h = hwm(pid) if pid else -1
print("# 100 MiB streamed in %.1f s" % (time.time() - t))
ok(r1.startswith(b"500 5.5.6"), "100 MiB line: 500 5.5.6 once", r1)
ok(r2.startswith(b"250"), "the session goes on afterwards (NOOP 250)", r2)
ok(0 < h < HWM_MAX_KB, "tern-smtpd VmHWM after the 100 MiB line %d kB < %d kB" % (h, HWM_MAX_KB))
ok(served is not None and served[0], "a normal client is served during the long line", served)
c.cmd(b"QUIT")
c.close()

# ---- 4. 100,000 RCPTs
c = Conn("127.0.0.1", 60)
g = c.reply()
c.cmd(b"EHLO attacker.example")
c.cmd(b"MAIL FROM:<a@demo.test>")
pid = smtpd_of(c.s)
counts = {}
done = threading.Event()


def reader():
    try:
        for k in range(100000):
            r = c.reply()
            if not r:
                break
            counts[r[:9]] = counts.get(r[:9], 0) + 1
    except OSError:
        pass
    done.set()


th = threading.Thread(target=reader)
th.start()
t = time.time()
served = None
batch = b"".join(b"RCPT TO:<r%d@demo.test>\r\n" % k for k in range(10000))
try:
    for k in range(10):
        c.s.sendall(batch)
        if k == 5:
            served = normal_client(b"rcpt")
except OSError as e:
    print("# rcpt writer: %s" % e)
done.wait(60)
h = hwm(pid) if pid else -1
print("# 100,000 RCPTs answered in %.1f s: %r" % (time.time() - t, counts))
ok(counts.get(b"250 2.1.5") == 100 and counts.get(b"452 4.5.3") == 99900,
   "100,000 RCPTs: 100 x 250, then 452 4.5.3", counts)
ok(0 < h < HWM_MAX_KB, "tern-smtpd VmHWM after 100,000 RCPTs %d kB < %d kB" % (h, HWM_MAX_KB))
ok(served is not None and served[0], "a normal client is served during the RCPT flood", served)
before = new_msgs()
r = c.cmd(b"DATA")
if r.startswith(b"354"):
    c.s.sendall(b"Subject: many\r\n\r\nx\r\n.\r\n")
    r = c.reply()
ok(r.startswith(b"250"), "the 100 accepted recipients still get their message", r)
c.cmd(b"QUIT")
c.close()

# ---- 5. databytes + 1
DB = 100000


def message(size, tag):
    head = b"Subject: size " + tag + b"\r\n\r\n"
    line = b"x" * 98 + b"\r\n"
    body = b""
    while len(head) + len(body) + len(line) <= size - 100:
        body += line
    rest = size - len(head) - len(body)     # 100..199 octets: one last line
    body += b"y" * (rest - 2) + b"\r\n"
    m = head + body
    assert len(m) == size
    return m


def send_size(size, tag):
    c = Conn("127.0.0.1", 30)
    c.reply()
    c.cmd(b"EHLO attacker.example")
    c.cmd(b"MAIL FROM:<a@demo.test>")
    c.cmd(b"RCPT TO:<size@demo.test>")
    r = c.cmd(b"DATA")
    pid = smtpd_of(c.s)
    if r.startswith(b"354"):
        c.s.sendall(message(size, tag) + b".\r\n")
        r = c.reply()
    h = hwm(pid) if pid else -1
    c.cmd(b"QUIT")
    c.close()
    return r, h


# the earlier messages may still be reaching tern-send's log: start from a
# count that has stopped moving (bounded: 10 s)
before = new_msgs()
for _ in range(20):
    time.sleep(0.5)
    now = new_msgs()
    if now == before:
        break
    before = now
r, h = send_size(DB + 1, b"over")
time.sleep(1)
ok(r.startswith(b"552 5.3.4"), "databytes+1 octets: 552 5.3.4", r)
ok(new_msgs() == before, "nothing queued for the oversized message")
ok(0 < h < HWM_MAX_KB, "tern-smtpd VmHWM %d kB < %d kB" % (h, HWM_MAX_KB))
r, h = send_size(DB, b"exact")
ok(r.startswith(b"250"), "exactly databytes octets: 250", r)
c = Conn("127.0.0.1", 20)
c.reply()
c.cmd(b"EHLO attacker.example")
r = c.cmd(b"MAIL FROM:<a@demo.test> SIZE=%d" % (DB + 1))
c.close()
ok(r.startswith(b"552 5.3.4"), "MAIL SIZE=databytes+1: 552 5.3.4", r)

# ---- afterwards
good, r = normal_client(b"after")
ok(good, "the listener still serves after every attack", r)
lh = hwm(lpid)
ok(procs("tern-listen") == [lpid] and 0 < lh < HWM_MAX_KB,
   "the same tern-listen survives, VmHWM %d kB" % lh, procs("tern-listen"))
print("# %.1f s in all" % (time.time() - T0))
tap.done()
