#!/usr/bin/env python3
"""28-queue-ids.py inject ROOT N OUT | check OUT LOGDIR...

inject: N messages to N local recipients through HOME/sock/queue (the
queue socket protocol, 20 connections at a time); each queue id that
tern-queued answers goes to OUT, one a line, in the order injected.
check: the ids of OUT are all distinct and well-formed, none is a prefix
of another, and for each the lines of the logs (every file of each
LOGDIR, s6-log's rotated ones too) that name it as a word are exactly
its own: tern-queued's injection line (in the first LOGDIR, the queue's),
then tern-send's new msg, info msg, starting delivery, delivery success
and end msg lines (in the others), in the order of their TAI64N stamps
within each log: one grep over the queue's log, then tern-send's, reads
in order. (Across two logs the stamps are not an order: each s6-log
stamps a line when it reads it, and tern-queued writes its line after
the message is committed, when tern-send may already have logged.)
Prints problems (at most 20) and 'ok' or 'bad'.
"""
import os, re, socket, struct, sys, threading

def fr(t, b):
    return t + struct.pack('>I', len(b)) + b

def inject(root, n, out):
    ids = [None] * n
    errs = []
    def worker(k):
        for i in range(k, n, 20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(60)
            s.connect(root + '/sock/queue')
            m = b'Subject: ids %d\n\nmessage %d\n' % (i, i)
            s.sendall(fr(b'M', m) + fr(b'E', b'Fids@demo.test\0Tids%d@demo.test\0\0' % i))
            data = b''
            while True:
                b = s.recv(100)
                if not b: break
                data += b
            s.close()
            if len(data) < 2 or data[0] != 0:
                errs.append((i, data)); continue
            w = data[2:2 + data[1]].decode().split()
            ids[i] = w[1] if len(w) >= 2 and w[0] == 'msg' else None
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(20)]
    for t in ts: t.start()
    for t in ts: t.join()
    with open(out, 'w') as f:
        for x in ids: f.write('%s\n' % x)
    print('injected %d, refused %d%s' % (sum(1 for x in ids if x), len(errs), (' first: %r' % (errs[0],)) if errs else ''))
    return 0 if not errs and all(ids) else 1

KINDS = [('queued', re.compile(r'tern-queued: info: msg (\S+) qp')),
         ('new', re.compile(r' new msg (\S+)$')),
         ('info', re.compile(r' info msg (\S+): bytes')),
         ('start', re.compile(r' starting delivery \d+: msg (\S+) to local')),
         ('success', re.compile(r' delivery \d+: success: .* msg (\S+)$')),
         ('end', re.compile(r' end msg (\S+)$'))]
ALPHA = re.compile(r'^[0-9a-hjkmnp-tv-z]{12,24}$')

def check(out, dirs):
    ids = [l.strip() for l in open(out)]
    probs = []
    if len(set(ids)) != len(ids): probs.append('ids repeat: %d ids, %d distinct' % (len(ids), len(set(ids))))
    bad = [x for x in ids if not ALPHA.match(x)]
    if bad: probs.append('malformed ids: %r' % bad[:3])
    s = sorted(set(ids))
    for a, b in zip(s, s[1:]):
        if b.startswith(a): probs.append('%s is a prefix of %s' % (a, b))
    want = set(ids)
    seen = {x: [] for x in ids}
    word = re.compile(r'[0-9a-z]+')
    for d in dirs:
        for fn in sorted(os.listdir(d)):
            if not (fn == 'current' or fn.startswith('@')): continue
            for line in open(os.path.join(d, fn), encoding='latin-1'):
                line = line.rstrip('\n')
                hit = [w for w in set(word.findall(line)) if w in want]
                for w in hit:
                    kind = None
                    for k, rx in KINDS:
                        mm = rx.search(line)
                        if mm and mm.group(1) == w: kind = k; break
                    seen[w].append((dirs.index(d) > 0, line[:25], kind or ('other: ' + line[26:100])))
    order = [k for k, _ in KINDS]
    for x in ids:
        got = [k for _, _, k in sorted(seen[x])]
        if got != order:
            probs.append('%s: %r' % (x, got))
    for p in probs[:20]: print(p)
    print('%d ids, %d problems: %s' % (len(ids), len(probs), 'ok' if not probs else 'bad'))
    return 0 if not probs else 1

if __name__ == '__main__':
    if sys.argv[1] == 'inject': sys.exit(inject(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    sys.exit(check(sys.argv[2], sys.argv[3:]))
