#!/usr/bin/env python3
"""loadkill.py: mail through SMTP while processes of the instance are
killed at random (run by tests/fault/load-kill.t and short.t, after
tern_start). See tests/fault/README.

  N messages from C parallel smtplib clients to 127.0.0.1:$TERN_PORT (each
  client from its own 127.0.0.x source address, 4 per address, under the
  service's 10-per-address limit). Every message attempt has a unique token;
  a client that gets an error or loses its connection retries the message
  under a new token (a message that got no 250 may or may not be delivered:
  both are allowed). Meanwhile a killer sends SIGKILL to a random process of
  the instance every 200-800 ms: tern-send, tern-lspawn, tern-rspawn,
  tern-clean, tern-queue, tern-local, tern-smtpd, tern-listen, tern-start,
  tern-queued (server and per-client processes), the first version's queue service programs (s6-ipcserver*, s6-sudod,
  s6-sudoc), whatever their uid; never s6-svscan, s6-supervise or s6-log
  (the supervision tree itself). s6 restarts what it supervises.

At the end (killer stopped): tern-send is asked to retry everything
(s6-svc -a) until every accepted message is delivered or the time bound is
reached; then the send service is restarted (a killed injection leaves
nothing: its file has no name before the commit) and runs its start-up
cleanup; the queue must then be empty.

Checks (TAP): every accepted token is in the Maildir (losses 0; duplicates
counted and reported), no Maildir file is partial, the queue is empty, the
whole run stays within the time bound.

Environment: ROOT, MAILDIR, TERN_PORT, LK_N (messages), LK_C (clients),
LK_LIMIT (seconds, default 600), LK_KILL=0 to run without the killer.
"""
import os
import random
import signal
import smtplib
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
N = int(os.environ.get('LK_N', '5000'))
C = int(os.environ.get('LK_C', '20'))
LIMIT = float(os.environ.get('LK_LIMIT', '600'))
KILL = os.environ.get('LK_KILL', '1') != '0'
Q = ROOT + '/queue'
T0 = time.time()

VICTIMS = {'tern-send', 'tern-lspawn', 'tern-rspawn', 'tern-clean', 'tern-queue', 'tern-queued', 'tern-local',
           'tern-smtpd', 'tern-listen', 'tern-start', 'tern-remote', 's6-ipcserver', 's6-ipcserverd',
           's6-ipcserver-access', 's6-ipcserver-socketbinder', 's6-sudod', 's6-sudoc', 's6-sudo'}

def left():
    return LIMIT - (time.time() - T0)


def message(tok):
    lines = ['From: loadkill@crash.test', 'To: %s@demo.test' % tok, 'Subject: load %s' % tok,
             'X-Token: %s' % tok, '']
    for i in range(40):
        lines.append('%s %03d the quick brown fox jumps over the lazy dog 0123456789' % (tok, i))
    lines.append('END %s' % tok)
    return '\r\n'.join(lines) + '\r\n'


lock = threading.Lock()
accepted = set()
attempts = [0]
errors = {}


def client(cid, todo):
    src = '127.0.0.%d' % (10 + cid // 4)
    s = None
    for m in todo:
        a = 0
        while left() > 60:
            a += 1
            tok = 'c%dm%da%d' % (cid, m, a)
            with lock:
                attempts[0] += 1
            try:
                if s is None:
                    s = smtplib.SMTP('127.0.0.1', PORT, timeout=60, source_address=(src, 0))
                    s.ehlo('loadkill.test')
                s.sendmail('loadkill@crash.test', ['%s@demo.test' % tok], message(tok))
                with lock:
                    accepted.add(tok)
                break
            except (smtplib.SMTPException, OSError) as e:
                k = type(e).__name__
                if isinstance(e, smtplib.SMTPResponseException):
                    k += ' %d' % e.smtp_code
                with lock:
                    errors[k] = errors.get(k, 0) + 1
                try:
                    if s is not None:
                        s.close()
                except Exception:
                    pass
                s = None
                time.sleep(0.05 * min(a, 20))
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass


def victims():
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            path = os.readlink('/proc/%s/exe' % d)
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue
        exe = os.path.basename(path)
        if exe in VICTIMS and ((ROOT + '/').encode() in cmd or path.startswith(ROOT + '/')):
            out.append((int(d), exe))
    return out


kills = {}
stop_killer = threading.Event()


def killer():
    rnd = random.Random(os.getpid())
    while not stop_killer.wait(rnd.uniform(0.2, 0.8)):
        v = victims()
        if not v:
            continue
        pid, exe = rnd.choice(v)
        try:
            os.kill(pid, signal.SIGKILL)
            kills[exe] = kills.get(exe, 0) + 1
        except OSError:
            pass


def maildir():
    """token -> [complete?]"""
    as_delivered = lambda tok: message(tok).replace('\r\n', '\n').encode()  # noqa: E731
    return {t: [c for _, c in v] for t, v in faultlib.tokens(MAILDIR, as_delivered).items()}


def queue_files(dirs=faultlib.QDIRS):
    return faultlib.queue_files(Q, dirs)


def main():
    tap.plan(5)
    per = [list(range(i, N, C)) for i in range(C)]
    th = [threading.Thread(target=client, args=(i, per[i]), daemon=True) for i in range(C)]
    k = threading.Thread(target=killer, daemon=True)
    if KILL:
        k.start()
    for t in th:
        t.start()
    for t in th:
        t.join(max(1, left() - 30))
    clients_done = not any(t.is_alive() for t in th)
    stop_killer.set()
    if KILL:
        k.join(2)
    t_inject = time.time() - T0
    diag('%d messages, %d accepted (250) of %d attempts in %.1f s; errors: %s'
         % (N, len(accepted), attempts[0], t_inject, errors or 'none'))
    diag('killed: %s' % (', '.join('%s %d' % kv for kv in sorted(kills.items())) or 'nothing'))
    ok(clients_done and len(accepted) == N, 'every message got a 250 in the end (%d of %d)' % (len(accepted), N))

    # let the system finish: retry now, again and again, until every
    # accepted message is in the Maildir (bounded)
    def delivered():
        md = maildir()
        return all(t in md for t in accepted)
    while not delivered() and left() > 20:
        svc('-a', ROOT + '/service/send')
        time.sleep(1)
    # wait for the queue to drain of everything that is queued
    while queue_files() and left() > 15:
        svc('-a', ROOT + '/service/send')
        time.sleep(0.5)
    md = maildir()
    lost = sorted(t for t in accepted if t not in md)
    dups = sum(len(md[t]) - 1 for t in md if len(md[t]) > 1)
    partial = sum(1 for t in md for c in md[t] if not c)
    unacc = sum(1 for t in md if t not in accepted and t != '?')
    diag('Maildir: %d messages, %d accepted ones lost, %d duplicates, %d delivered without a 250 (allowed), '
         '%d partial; %.1f s' % (sum(len(v) for v in md.values()), len(lost), dups, unacc, partial, time.time() - T0))
    if lost:
        diag('lost: ' + ' '.join(lost[:20]))
        # still in the queue (not delivered in time) or gone (lost)?
        for t in lost[:5]:
            where = []
            for dp, dn, fns in os.walk(Q):
                for fn in fns:
                    try:
                        with open(os.path.join(dp, fn), 'rb') as f:
                            if t.encode() in f.read():
                                where.append(os.path.relpath(os.path.join(dp, fn), Q))
                    except OSError:
                        pass
            diag('%s: %s' % (t, ('still queued in ' + ' '.join(where)) if where else 'in no queue file'))
        try:
            with open(ROOT + '/log/send/current', 'rb') as f:
                log = f.read().decode('utf-8', 'replace').splitlines()
            diag('tern-send log, last lines:')
            for l in log[-15:]:
                diag('  ' + l)
        except OSError:
            pass
    ok(not lost, 'no accepted message lost (%d lost, %d duplicates)' % (len(lost), dups))
    ok(partial == 0, 'no partial message in the Maildir')

    # restart the send service (tern-send's start-up cleanup)
    svc('-r', ROOT + '/service/send')
    end = time.time() + min(30, max(5, left()))
    while queue_files() and time.time() < end:
        time.sleep(0.2)
    qf = queue_files()
    diag('queue after the restart: %s' % (' '.join(sorted(qf)[:20]) or 'empty'))
    ok(not qf, 'the queue is empty after the start-up cleanup (%d files)' % len(qf))
    ok(time.time() - T0 < LIMIT, 'within the time bound (%.0f of %.0f s)' % (time.time() - T0, LIMIT))
    return 0 if tap.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
