"""faultlib.py: what the fault tests (crash.py, diskfull.py, loadkill.py)
all need from the instance they run against.

    from faultlib import queue_files, tokens, wait_until, svc
    queue_files(Q)                 # files under the queue's directories
    queue_files(Q, ('msg',))       #   or under some of them; sorted paths
                                   #   relative to Q ("msg/17")
    qmsg(data)                     # a queue file's (envelope, message),
                                   #   or None (common/qmsg.h)
    tokens(MAILDIR, body_of)       # X-Token -> [(file name, complete?)]
                                   #   for every file in new/ and cur/
    wait_until(secs, cond, step)   # cond() every step s (default 0.01)
                                   #   until true, at most secs s
    svc('-a', ROOT + '/service/send')   # s6-svc, quietly
"""
import os
import re
import subprocess
import time

QDIRS = ('msg', 'state', 'bounce')
TOKEN = re.compile(rb'^X-Token: (\S+)$', re.M)


def qmsg(data):
    if data is None or len(data) < 40 or data[:8] != b'TERNQ01\n':
        return None
    try:
        moff, elen = int(data[8:24], 16), int(data[24:40], 16)
    except ValueError:
        return None
    if not (40 + elen <= moff <= len(data)):
        return None
    return data[40:40 + elen], data[moff:]


def queue_files(q, dirs=QDIRS):
    """the files of the queue; tern-send's journal (state/journal) only
    while it holds records (it is emptied when no message is queued)"""
    out = []
    for d in dirs:
        for dp, dn, fns in os.walk(q + '/' + d):
            for fn in fns:
                p = dp + '/' + fn
                if os.path.relpath(p, q) == 'state/journal' and os.path.getsize(p) == 0:
                    continue
                out.append(os.path.relpath(p, q))
    return sorted(out)


def tokens(maildir, body_of):
    """token (its X-Token line; '?' without one) -> [(file name,
    complete?)] for every message in new/ and cur/. complete: the file
    ends with body_of(token) (bytes), the message as injected. A file
    removed between listing and reading is passed over."""
    out = {}
    for sub in ('new', 'cur'):
        d = maildir + '/' + sub
        for fn in os.listdir(d):
            try:
                with open(d + '/' + fn, 'rb') as f:
                    data = f.read()
            except OSError:
                continue
            m = TOKEN.search(data)
            tok = m.group(1).decode() if m else '?'
            out.setdefault(tok, []).append((fn, tok != '?' and data.endswith(body_of(tok))))
    return out


def wait_until(secs, cond, step=0.01):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def svc(*args):
    subprocess.run(['s6-svc'] + list(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
