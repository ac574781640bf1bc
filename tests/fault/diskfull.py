#!/usr/bin/env python3
"""diskfull.py: the queue runs out of space (run by tests/fault/diskfull.t,
which mounts a small tmpfs over $ROOT/queue before the install and starts
the instance). See tests/fault/README.

  1. a root-owned ballast file fills the queue file system but for about
     DF_FREE KiB (default 256);
  2. DF_N messages of about 30 KiB go in through SMTP, from 1 client and then
     3 in parallel: every reply to DATA must be 250 or 4xx (451/452), never
     5xx, never a lost connection; some must be 4xx (the space runs out);
  3. while the disk is full: every message the queue holds (msg/N) is a
     whole queue file with the complete message; every accepted message is
     in the queue complete or already delivered;
  4. the ballast is deleted, tern-send woken (the trigger and SIGALRM):
     every accepted message is delivered, nothing that got a 4xx is;
  5. the send service is restarted: the queue is empty (a failed
     injection leaves nothing: its file has no name before the commit).

With DF_INODES=K the file system runs out of inodes instead: empty
ballast files leave K inodes free (diskfull-inodes.t).

Environment: ROOT, MAILDIR, TERN_PORT, DF_N (default 60), DF_FREE, DF_INODES.
"""
import os
import re
import smtplib
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import tap  # noqa: E402  (tests/integration/tap.py)
from tap import ok, diag  # noqa: E402
import faultlib  # noqa: E402  (tests/fault/faultlib.py)
from faultlib import svc  # noqa: E402

ROOT = os.environ['ROOT']
MAILDIR = os.environ['MAILDIR']
PORT = int(os.environ['TERN_PORT'])
N = int(os.environ.get('DF_N', '60'))
FREE = int(os.environ.get('DF_FREE', '256')) * 1024
Q = ROOT + '/queue'
BALLAST = Q + '/ballast'
BALLAST_D = Q + '/ballast.d'
INODES = int(os.environ.get('DF_INODES', '0'))


def body(tok):
    lines = ['From: df@crash.test', 'To: %s@demo.test' % tok, 'Subject: disk full %s' % tok, 'X-Token: %s' % tok, '']
    for i in range(450):
        lines.append('%s %04d the queue is on a small file system 0123456789' % (tok, i))
    lines.append('END %s' % tok)
    return '\n'.join(lines) + '\n'


results = {}
lock = threading.Lock()


def send(toks):
    s = None
    for tok in toks:
        code = None
        try:
            if s is None:
                s = smtplib.SMTP('127.0.0.1', PORT, timeout=60)
                s.ehlo('df.test')
            s.sendmail('df@crash.test', ['%s@demo.test' % tok], body(tok).replace('\n', '\r\n'))
            code = 250
        except smtplib.SMTPResponseException as e:
            code = e.smtp_code
        except smtplib.SMTPRecipientsRefused as e:
            code = list(e.recipients.values())[0][0]
        except (smtplib.SMTPException, OSError) as e:
            code = 'error: %s' % e
            s = None
        with lock:
            results[tok] = code
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass


def wait_until(secs, cond):
    return faultlib.wait_until(secs, cond, 0.1)


def maildir():
    """token -> [complete?]"""
    return {t: [c for _, c in v] for t, v in faultlib.tokens(MAILDIR, lambda t: body(t).encode()).items()}


def queue_files(dirs=faultlib.QDIRS):
    return faultlib.queue_files(Q, dirs)


def mess_of(n):
    return '%s/msg/%d' % (Q, n)


def integrity(accepted, results):
    bad = []
    md = maildir()
    held = {}
    for f in queue_files(('msg',)):
        n = int(os.path.basename(f))
        try:
            with open(mess_of(n), 'rb') as g:
                data = (faultlib.qmsg(g.read()) or (b'', b''))[1]
        except OSError:
            continue   # delivered meanwhile
        m = re.search(rb'^X-Token: (\S+)$', data, re.M)
        tok = m.group(1).decode() if m else '?'
        if tok == '?' or not data.endswith(body(tok).encode()):
            bad.append('%s is not a whole message' % f)
        held[tok] = True
    for tok in accepted:
        if tok not in held and tok not in md:
            bad.append('accepted %s is neither queued nor delivered' % tok)
    for tok in held:
        if results.get(tok) != 250:
            bad.append('%s is queued but got %s' % (tok, results.get(tok)))
    for b in bad[:20]:
        diag(b)
    return bad


def main():
    tap.plan(8)
    # no deliveries while the space runs out: the queue only grows
    svc('-d', ROOT + '/service/send')
    wait_until(10, lambda: not subprocess.run(['s6-svstat', '-o', 'up', ROOT + '/service/send'],
                                              capture_output=True, text=True).stdout.startswith('true'))
    st = os.statvfs(Q)
    avail = st.f_bavail * st.f_frsize
    size = max(0, avail - FREE)
    if INODES:
        # out of inodes instead of blocks: empty ballast files
        size = 0
        os.mkdir(BALLAST_D)
        i = 0
        while os.statvfs(Q).f_favail > INODES and i < 100000:
            open('%s/%d' % (BALLAST_D, i), 'w').close()
            i += 1
        diag('queue file system: %d inodes free after %d ballast files' % (os.statvfs(Q).f_favail, i))
    with open(BALLAST, 'wb') as f:
        chunk = b'\0' * (1 << 20)
        left = size
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
    st = os.statvfs(Q)
    diag('queue file system: %d KiB free after a %d KiB ballast' % (st.f_bavail * st.f_frsize // 1024, size // 1024))

    toks = ['df%d' % i for i in range(N)]
    send(toks[:N // 2])
    th = [threading.Thread(target=send, args=(toks[N // 2 + i::3],)) for i in range(3)]
    for t in th:
        t.start()
    for t in th:
        t.join(300)
    codes = {}
    for c in results.values():
        codes[c] = codes.get(c, 0) + 1
    diag('replies to DATA: %s' % ', '.join('%s x%d' % (k, v) for k, v in sorted(codes.items(), key=str)))
    accepted = sorted(t for t, c in results.items() if c == 250)
    refused = sorted(t for t, c in results.items() if c != 250)
    ok(len(results) == N and all(c == 250 or c in (451, 452) for c in results.values()),
       'every reply is 250, 451 or 452 (no 5xx, no lost connection)')
    ok(accepted and refused, 'the space ran out: %d accepted, %d refused with 4xx' % (len(accepted), len(refused)))

    # while full: what the queue holds is whole
    bad = integrity(accepted, results)
    ok(not bad, 'with the disk full, every queued message is whole, every accepted one queued, no refused one')
    # tern-send starts on the full disk: preprocessing may fail, nothing breaks
    svc('-u', ROOT + '/service/send')
    time.sleep(3)
    svc('-a', ROOT + '/service/send')
    time.sleep(2)
    bad = integrity(accepted, results)
    ok(not bad, 'tern-send running on the full disk: still every queued message whole, every accepted one kept')

    # free the space, wake tern-send
    os.unlink(BALLAST)
    if INODES:
        for f in os.listdir(BALLAST_D):
            os.unlink(BALLAST_D + '/' + f)
        os.rmdir(BALLAST_D)
    try:
        fd = os.open(Q + '/lock/trigger', os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b'x')
        os.close(fd)
    except OSError:
        pass

    def all_delivered():
        m = maildir()
        return all(t in m for t in accepted)
    end = time.time() + 90
    while not all_delivered() and time.time() < end:
        svc('-a', ROOT + '/service/send')
        time.sleep(1)
    md = maildir()
    lost = [t for t in accepted if t not in md]
    wrong = [t for t in md if t not in accepted]
    partial = sum(1 for v in md.values() for c in v if not c)
    dups = sum(len(v) - 1 for v in md.values())
    diag('after freeing: %d delivered, %d accepted lost, %d delivered without 250, %d partial, %d duplicates'
         % (sum(len(v) for v in md.values()), len(lost), len(wrong), partial, dups))
    ok(not lost, 'every accepted message is delivered once space is back (%s)' % (' '.join(lost[:10]) or 'none lost'))
    ok(not wrong, 'no refused message is delivered (%s)' % (' '.join(wrong[:10]) or 'none'))
    ok(partial == 0, 'no partial message in the Maildir')

    # a restart, and its start-up cleanup
    wait_until(30, lambda: not queue_files())
    svc('-r', ROOT + '/service/send')
    wait_until(20, lambda: not queue_files())
    qf = queue_files()
    diag('queue after the restart: %s' % (' '.join(qf[:20]) or 'empty'))
    ok(not qf, 'the queue is empty after the start-up cleanup')
    return 0 if tap.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
