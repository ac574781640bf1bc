#!/bin/sh
# 61-attack-lockout.t: a dozen client addresses cannot lock everyone out
# with idle or trickling connections (tern-listen.8 LIMITS, STRESS), with
# the shipped limits (no concurrency control files).
#   Attack, for 50 s (longer than the fresh client tries): each of 127.0.0.10-21, starting 0.5 s apart (the
#   worst order for the shares), keeps up to 50 connections
#   open, opening new ones (one every 0.1 s while refused, at once when
#   one is closed); six of the addresses send one byte every 3 s on each
#   of their connections, never a whole line.
#   A fresh client (127.0.0.99, not a relay client), from 7 s into the
#   attack, tries a whole transaction every 3 s, as an MTA retries: its
#   message must get 250 within 40 s and reach the mailbox.
#   The relay client 127.0.0.1 connects every 2 s: it is greeted every
#   time (its reserved slots are never taken).
#   The attack really loads the server: the attackers hold at least 3/4
#   of the 110 slots open to non-relay clients at some point (stress
#   mode), all of them (tern-listen logs refusals at that limit), and
#   stress mode ends both idle and trickling (slow) sessions.
# Every wait bounded; whole test under 70 s.
. "$(dirname "$0")/lib.sh"
tern_init
tern_install || exit 1
[ -x "$ROOT/bin/tern-listen" ] || tap_skip_all "tern-listen not built"
ulimit -n 8192 2>/dev/null
tern_start || exit 1
export ROOT TERN_PORT MAILDIR SRC
python3 - <<'PY'
import os, resource, select, socket, sys, threading, time
sys.path.insert(0, os.path.join(os.environ["SRC"], "tests", "integration"))
import tap
from tap import ok

PORT = int(os.environ["TERN_PORT"])
MAILDIR = os.environ["MAILDIR"]
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
PER_ADDR, FRESH_LIMIT = 50, 40
ATTACK_S = 7 + FRESH_LIMIT + 3      # outlasts the fresh client's window
stop = time.time() + ATTACK_S
lock = threading.Lock()
stats = {"refused": 0, "held": 0, "peak": 0}


def greet(src, timeout=5):
    """connect from src; (socket, first reply line) or (None, error)"""
    s = None
    try:
        s = socket.create_connection(("127.0.0.1", PORT), timeout, source_address=(src, 0))
        line = s.recv(512)
        return s, line
    except OSError as e:
        if s:
            s.close()
        return None, str(e).encode()


def attacker(src, trickle):
    socks = []
    last_trickle = time.time()
    while time.time() < stop:
        # drop what the server closed (421 or EOF)
        if socks:
            r, _, _ = select.select(socks, [], [], 0)
            for s in r:
                try:
                    s.recv(512)
                except OSError:
                    pass
                s.close()
                socks.remove(s)
                with lock:
                    stats["held"] -= 1
        if trickle and time.time() - last_trickle >= 3:
            last_trickle = time.time()
            for s in list(socks):
                try:
                    s.send(b"N")
                except OSError:
                    pass
        if len(socks) < PER_ADDR:
            # patient: a greeting given up on would close an accepted
            # connection and free a slot the server did not free
            s, line = greet(src, 30)
            if s and line.startswith(b"220"):
                socks.append(s)
                with lock:
                    stats["held"] += 1
                    stats["peak"] = max(stats["peak"], stats["held"])
                continue
            if s:
                s.close()
            with lock:
                stats["refused"] += 1
        time.sleep(0.1)
    for s in socks:
        s.close()


def transaction(src, subject):
    """one whole SMTP transaction; the reply that ended it"""
    s, line = greet(src, 10)
    if not s:
        return line
    try:
        if not line.startswith(b"220"):
            return line
        f = s.makefile("rb")
        def cmd(c):
            s.sendall(c + b"\r\n")
            while True:
                l = f.readline()
                if len(l) < 4 or l[3:4] != b"-":
                    return l
        for c, want in ((b"EHLO fresh.test", b"250"), (b"MAIL FROM:<fresh@fresh.test>", b"250"),
                        (b"RCPT TO:<lockout@demo.test>", b"250"), (b"DATA", b"354")):
            r = cmd(c)
            if not r.startswith(want):
                return r
        r = cmd(b"Subject: " + subject + b"\r\n\r\nhello\r\n.")
        cmd(b"QUIT")
        return r
    except OSError as e:
        return str(e).encode()
    finally:
        s.close()


threads = [threading.Thread(target=attacker, args=("127.0.0.%d" % a, a % 2 == 0), daemon=True)
           for a in range(10, 22)]
t0 = time.time()
for t in threads:      # one address after the other, as the worst case
    t.start()          # for the shares: the first ones take the most
    time.sleep(0.5)

relay = {"tries": 0, "greeted": 0, "bad": []}


def relay_client():
    while time.time() < stop - 2:
        s, line = greet("127.0.0.1", 5)
        relay["tries"] += 1
        if s and line.startswith(b"220"):
            relay["greeted"] += 1
        else:
            relay["bad"].append((round(time.time() - t0, 1), line[:60]))
        if s:
            s.close()
        time.sleep(2)


rt = threading.Thread(target=relay_client, daemon=True)
rt.start()

time.sleep(1)
t0 = time.time() - 3
delivered_at, tries, last = None, 0, b""
subject = b"lockout-%d" % os.getpid()
while time.time() - t0 < 3 + FRESH_LIMIT:
    tries += 1
    last = transaction("127.0.0.99", subject)
    if last.startswith(b"250"):
        delivered_at = time.time() - t0 - 3
        break
    time.sleep(3)
print("# attackers held at most %d connections, were refused %d times; fresh client: %d tries, last reply %r"
      % (stats["peak"], stats["refused"], tries, last[:80]))
ok(stats["peak"] >= 83, "the attackers hold at least 83 of 110 non-relay slots at once (held %d)" % stats["peak"])
ok(delivered_at is not None and delivered_at <= FRESH_LIMIT,
   "a fresh client retrying every 3 s gets its message accepted within %d s (%s)"
   % (FRESH_LIMIT, "%.1f s, %d tries" % (delivered_at, tries) if delivered_at is not None else "never"), last)
rt.join(ATTACK_S + 10)
ok(relay["tries"] >= 10 and relay["greeted"] == relay["tries"],
   "the relay client 127.0.0.1 is greeted every time (%d of %d)" % (relay["greeted"], relay["tries"]), relay["bad"])


def in_maildir():
    for d in ("new", "cur"):
        p = os.path.join(MAILDIR, d)
        for n in os.listdir(p) if os.path.isdir(p) else []:
            try:
                if subject in open(os.path.join(p, n), "rb").read():
                    return True
            except OSError:
                pass
    return False


end = time.time() + 60   # the attack's sessions are still ending: a loaded machine needs more than 20 s
while delivered_at is not None and not in_maildir() and time.time() < end:
    time.sleep(0.2)
ok(delivered_at is not None and in_maildir(), "the fresh client's message reaches the mailbox")
log = open(os.path.join(os.environ["ROOT"], "log", "smtpd", "current"), "rb").read()
ok(b": limit for non-relay clients" in log, "the attack takes every non-relay slot at some point")
ok(b"stress: ending pid" in log and b" idle\n" in log, "stress mode ended idle sessions")
ok(b"stress: ending pid" in log and b" slow\n" in log, "stress mode ended trickling sessions as slow")
tap.done()
PY
