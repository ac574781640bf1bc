#!/usr/bin/env python3
# 51-local-mbox.t: tern-local mbox delivery (From_ line, mboxrd quoting,
# fcntl lock then dot-lock). A second process holds an fcntl lock
# (fcntl.lockf) and writes a message of its own; tern-local must wait, and
# afterwards Python's mailbox module must read both messages whole, with no
# interleaving. A held dot-lock also makes it wait.
import mailbox, os, subprocess, sys, tempfile, time, fcntl, shutil

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TL = os.path.join(SRC, 'local', 'tern-local')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import ok  # noqa: E402

tap.need(TL)
tap.plan(13)
T = tempfile.mkdtemp(prefix='tern-local51.')
try:
    H = os.path.join(T, 'home'); os.mkdir(H, 0o755)
    msg = os.path.join(T, 'msg')
    with open(msg, 'w') as f:
        f.write('Subject: one\n\nFrom the start\n>From quoted\n>>From twice\nFromage\nlast line no newline')
    with open(os.path.join(H, '.tern'), 'w') as f: f.write('./Mailbox\n')
    os.chmod(os.path.join(H, '.tern'), 0o644)
    mbox = os.path.join(H, 'Mailbox')

    def run(sender='a@x.test', wait=True):
        p = subprocess.Popen([TL, '--', 'joe', H, 'joe', '', '', 'example.test', sender, './Maildir/'],
                             stdin=open(msg), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if wait:
            out, _ = p.communicate(timeout=60)
            return p.returncode, out.decode()
        return p

    rc, out = run()
    ok(rc == 0 and out.strip() == 'did 1+0+0', 'mbox delivery exits 0 (%d %r)' % (rc, out))
    data = open(mbox, 'rb').read()
    ok(data.startswith(b'From a@x.test '), 'From_ line with the sender')
    ok(b'\nReturn-Path: <a@x.test>\nDelivered-To: joe@example.test\nSubject: one\n' in data, 'Return-Path and Delivered-To')
    ok(b'\n>From the start\n>>From quoted\n>>>From twice\nFromage\n' in data, 'mboxrd quoting of ^>*From ')
    ok(data.endswith(b'last line no newline\n\n'), 'partial last line completed, blank line after')
    ok(os.stat(mbox).st_mode & 0o777 == 0o600, 'mbox created 0600')

    # a concurrent writer holding an fcntl lock
    lf = open(mbox, 'ab')
    fcntl.lockf(lf, fcntl.LOCK_EX)
    p = run(sender='', wait=False)
    time.sleep(1.0)
    ok(p.poll() is None, 'tern-local waits while another process holds the fcntl lock')
    lf.write(b'From other@x.test Sun Nov 29 00:00:00 2026\nSubject: other\n\n')
    for i in range(200):
        lf.write(b'other line %d\n' % i)
        lf.flush()
    lf.write(b'\n'); lf.flush()
    fcntl.lockf(lf, fcntl.LOCK_UN); lf.close()
    out, _ = p.communicate(timeout=60)
    ok(p.returncode == 0, 'delivered after the lock was released')
    box = mailbox.mbox(mbox)
    msgs = list(box)
    ok(len(msgs) == 3, 'three messages in the mbox (got %d)' % len(msgs))
    subj = [m['Subject'] for m in msgs]
    ok(subj == ['one', 'other', 'one'], 'in order, whole: %r' % subj)
    body = msgs[1].get_payload()
    ok(body.count('other line') == 200 and 'Subject' not in body, 'no interleaving into the other writer\'s message')
    ok(msgs[2].get_from().startswith('MAILER-DAEMON '), 'null sender -> From MAILER-DAEMON')

    # a held dot-lock makes it wait until it is removed
    lk = mbox + '.lock'
    open(lk, 'w').close()
    p = run(wait=False)
    time.sleep(1.5)
    waited = p.poll() is None
    os.unlink(lk)
    out, _ = p.communicate(timeout=60)
    ok(waited and p.returncode == 0 and not os.path.exists(lk), 'waits for a dot-lock, then delivers and removes its own')
finally:
    shutil.rmtree(T, ignore_errors=True)
tap.done()
