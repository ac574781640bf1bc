#!/usr/bin/env python3
"""24-queued-clients.py ROOT MAILDIR: 20 good clients, each as its own
ordinary uid (40001..40020, forked and setuid here: no passwd entry needed,
the kernel's credentials are what tern-queued reads), inject at once
through HOME/sock/queue, 14 speaking the socket protocol themselves and 6
through tern-queue (the qmail-queue interface); between them hostile
clients, also ordinary uids: truncated, oversized, malformed, slow,
disconnecting, a LF in a recipient, a byte after the final NUL, a message
over its uid's byte limit (uid 41999, control/queueusers), one that stalls
half-way and holds its connection while the good ones run. Prints TAP
lines (numbering continued by the caller: prints "ok"/"not ok" only)."""
import os, socket, struct, subprocess, sys, threading, time, glob, re

ROOT, MAILDIR = sys.argv[1], sys.argv[2]
SOCK = ROOT + '/sock/queue'
fails = 0

def ok(cond, desc, info=None):
    global fails
    print(('ok - ' if cond else 'not ok - ') + desc + ('' if cond or info is None else ' # %r' % (info,)))
    if not cond: fails += 1

def fr(t, b): return t + struct.pack('>I', len(b)) + b

def as_uid(uid, fn):
    """run fn() in a child as uid (and gid uid); its exit code"""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([]); os.setgid(uid); os.setuid(uid)
            res = fn()
            os.write(w, repr(res).encode())
            os._exit(0)
        except BaseException as e:
            os.write(w, repr(('exception', str(e))).encode()); os._exit(1)
    os.close(w)
    out = b''
    while True:
        b = os.read(r, 4096)
        if not b: break
        out += b
    os.close(r)
    os.waitpid(pid, 0)
    return eval(out.decode()) if out else None

def body(tok):
    return ('Subject: %s\nMessage-ID: <%s@clients.test>\n\n' % (tok, tok) + ('%s line\n' % tok) * 3000).encode()

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(SOCK)
    return s

def answer(s):
    data = b''
    try:
        while True:
            b = s.recv(100)
            if not b: break
            data += b
    except OSError:
        pass
    return (data[0], data[2:2 + data[1]].decode()) if len(data) >= 2 else None

def good_proto(tok):
    def f():
        s = connect()
        m = body(tok)
        for i in range(0, len(m), 7000):
            s.sendall(fr(b'M', m[i:i + 7000]))
        s.sendall(fr(b'E', b'Fsender@clients.test\0T' + tok.encode() + b'@demo.test\0\0'))
        return answer(s)
    return f

def good_tq(tok):
    def f():
        mf = os.open('/dev/null', os.O_RDONLY)
        rm, wm = os.pipe(); re_, we = os.pipe()
        p = subprocess.Popen([ROOT + '/bin/tern-queue', '-i'], stdin=rm, stdout=re_, stderr=subprocess.PIPE)
        os.close(rm); os.close(re_)
        os.write(we, b'Fsender@clients.test\0T' + tok.encode() + b'@demo.test\0\0'); os.close(we)
        with os.fdopen(wm, 'wb') as w: w.write(body(tok))
        err = p.stderr.read(); rc = p.wait()
        os.close(mf)
        return (rc, err.decode().strip())
    return f

def hostile(kind, tok):
    def f():
        s = connect()
        m = body(tok)
        env = b'Fsender@clients.test\0T' + tok.encode() + b'@demo.test\0\0'
        if kind == 'truncated':          # half a frame, then gone
            s.sendall(fr(b'M', m[:5000])[:3000]); s.close(); return 'closed'
        if kind == 'oversized':          # a frame length over the limit
            s.sendall(b'M' + struct.pack('>I', 0x7fffffff) + m[:1000]); return answer(s)
        if kind == 'malformed':
            s.sendall(fr(b'M', m[:100]) + fr(b'Z', b'junk')); return answer(s)
        if kind == 'slow':               # a byte at a time, then gone before the end
            for b in fr(b'M', m[:40]):
                s.send(bytes([b])); time.sleep(0.05)
            s.close(); return 'closed'
        if kind == 'disconnecting':      # the whole message, half the envelope
            s.sendall(fr(b'M', m) + fr(b'E', env[:12])); s.close(); return 'closed'
        if kind == 'lf':
            s.sendall(fr(b'M', m) + fr(b'E', b'Fmallory@demo.test\0T' + tok.encode() + b'@demo.test\nX: y\0\0')); return answer(s)
        if kind == 'trailing':
            s.sendall(fr(b'M', m) + fr(b'E', env + b'x')); return answer(s)
        if kind == 'overlimit':          # uid 41999 may inject 50000 bytes
            big = m * 4
            for i in range(0, len(big), 60000):
                try:
                    s.sendall(fr(b'M', big[i:i + 60000]))
                except OSError:
                    break
            try:
                s.sendall(fr(b'E', env))
            except OSError:
                pass
            return answer(s)
        if kind == 'stalled':            # half the message, then silence while the others run
            s.sendall(fr(b'M', m[:len(m) // 2]))
            time.sleep(8); s.close(); return 'closed'
    return f

results = {}
def run(name, uid, fn):
    results[name] = as_uid(uid, fn)

threads = []
good = []
kinds = ['truncated', 'oversized', 'malformed', 'slow', 'disconnecting', 'lf', 'trailing', 'overlimit', 'stalled']
for i in range(20):
    tok = 'good%02d' % i
    good.append((tok, 40001 + i))
    threads.append(threading.Thread(target=run, args=(tok, 40001 + i, good_proto(tok) if i < 14 else good_tq(tok))))
    if i % 3 == 0:
        k = kinds[(i // 3) % len(kinds)]
        threads.append(threading.Thread(target=run, args=('bad-' + k, 41001 + i, hostile(k, 'bad%s' % k))))
for k in kinds:
    if 'bad-' + k not in [t._args[0] for t in threads]:
        uid = 41999 if k == 'overlimit' else 42000 + len(threads)
        threads.append(threading.Thread(target=run, args=('bad-' + k, uid, hostile(k, 'bad%s' % k))))
for t in threads: t.start()
for t in threads: t.join(120)

for tok, uid in good:
    r = results.get(tok)
    okay = r is not None and r[0] == 0 and re.match(r'^msg [0-9a-z]{12,24} qp \d+$', r[1] or '')
    ok(okay, '%s (uid %d): answer 0 with an id' % (tok, uid), r)
want = {'oversized': 91, 'malformed': 91, 'lf': 91, 'trailing': 91, 'overlimit': 31}
for k in kinds:
    r = results.get('bad-' + k)
    if k in want: ok(r is not None and r[0] == want[k], 'hostile %s: refused with %d' % (k, want[k]), r)
    else: ok(r == 'closed', 'hostile %s: went away', r)

# every good message delivered exactly once, with its real uid
deadline = time.time() + 60
def delivered():
    out = {}
    for fn in glob.glob(MAILDIR + '/new/*') + glob.glob(MAILDIR + '/cur/*'):
        d = open(fn, 'rb').read()
        m = re.search(rb'^Subject: (\S+)$', d, re.M)
        if m: out.setdefault(m.group(1).decode(), []).append(d)
    return out
while time.time() < deadline:
    d = delivered()
    if all(t in d for t, _ in good): break
    time.sleep(0.2)
time.sleep(1)
d = delivered()
for tok, uid in good:
    msgs = d.get(tok, [])
    ok(len(msgs) == 1, '%s delivered once' % tok, len(msgs))
    ok(len(msgs) == 1 and re.search(rb'^Received: \(tern \d+ invoked by uid %d\);' % uid, msgs[0], re.M) is not None,
       '%s: the Received line names uid %d' % (tok, uid))
ok(not [t for t in d if t.startswith('bad')], 'no hostile message delivered', [t for t in d if t.startswith('bad')])
# nothing left of the hostile ones in the queue
deadline = time.time() + 30
def leftovers():
    q = ROOT + '/queue'
    return [os.path.relpath(os.path.join(dp, f), q) for sub in ('msg', 'state', 'bounce')
            for dp, dn, fns in os.walk(q + '/' + sub) for f in fns
            if f != 'journal' or os.path.getsize(os.path.join(dp, f))]
while time.time() < deadline and leftovers(): time.sleep(0.2)
ok(not leftovers(), 'queue empty: nothing left of the hostile clients', leftovers())
# the server still serves
r = as_uid(40100, good_proto('after'))
ok(r is not None and r[0] == 0, 'the server still answers after the hostile clients', r)
sys.exit(1 if fails else 0)
