#!/usr/bin/env python3
"""crash.py: the systematic crash test (run by tests/fault/crash.t, which
installs a private instance in $ROOT first). See tests/fault/README.

For each program P of tern-queued (one injection: the process that serves
one client, run alone with -1 on the connection tern-queue made), tern-send (one delivery
cycle of one message: reading msg/N, delivery, removal), tern-clean (its
requests in that cycle) and tern-local (one Maildir delivery):

  1. run the operation once under strace -y with no fault: the reference
     trace. Its syscalls, in order, are the kill points; kill point k is
     "the j-th call of syscall S" (strace counts injections per syscall and
     per process, so `-e inject=all:when=k` would not mean "k-th syscall";
     `-e inject=S:signal=SIGKILL:when=j` does).
  2. for k = 1, 2, ... (at most 2000): run the operation again with the
     process SIGKILLed on entering kill point k (the syscall is not
     executed); restart the system as its supervisor would; let it settle;
     check the invariants:
       - a message whose injection returned 0 is delivered (at least once,
         complete) or still queued intact, and is delivered once the
         system runs;
       - a message whose injection did not return 0 is never delivered;
       - no partial message is ever in a Maildir's new/ or cur/;
       - after tern-send's start-up the queue is empty: no file in msg/,
         state/, bounce/. A killed tern-queued leaves nothing (its file
         has no name before the commit), so no leftover rule is needed:
         any file left is a failure.
       - Maildir tmp/ leftovers of a killed tern-local are allowed
         (readers remove them after 36 hours); counted and removed.
  The loop ends when a run completes without being killed.

The fifth operation (queued-server) is tern-queued's server itself, the
persistent process of the queue service: its run script run by hand,
NCLIENTS tern-queue started together, CONC of them served at once and held
so that one flush of msg/ answers them all, the others pending
(group_round), the server alone traced and killed
(strace without -f; its client processes run on). After each kill the
server is restarted and must queue again; the invariants above, and:
every client process it forked answers 0 (after its "C" or, the server
gone, after its own logged flush of msg/), every other client exits
non-zero (never 0, never hung: every wait is bounded) and queued nothing.

The durability check (durability.py) runs on the reference traces of
tern-queue and tern-local.

Environment: ROOT, MAILDIR, SRC (from crash.t); CRASH_SHORT=1 takes every kill
point with side effects and every CRASH_STRIDE-th other (default 10);
CRASH_ONLY=queue,send,clean,local,queued-server limits the operations.
"""
import os
import pwd
import re
import signal
import socket
import subprocess
import select as selectlib
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import tap  # noqa: E402  (tests/integration/tap.py)
from tap import ok, diag  # noqa: E402
import faultlib  # noqa: E402  (tests/fault/faultlib.py)
from faultlib import wait_until  # noqa: E402

ROOT = os.environ['ROOT']
MAILDIR = os.environ['MAILDIR']
SRC = os.environ['SRC']
SHORT = os.environ.get('CRASH_SHORT') == '1'
STRIDE = int(os.environ.get('CRASH_STRIDE', '10'))
ONLY = os.environ.get('CRASH_ONLY', 'queue,send,clean,local,queued-server').split(',')
MAXK = 2000
Q = ROOT + '/queue'
FAULT = ROOT + '/fault'
TRACES = FAULT + '/trace'
SENDLOG = ROOT + '/send-by-hand.log'
QUEUEDLOG = ROOT + '/queued-by-hand.log'
WRAPPED = ['tern-queued', 'tern-send', 'tern-clean', 'tern-local']

# ---------- the instance ----------

def install_wrappers():
    os.makedirs(TRACES, exist_ok=True)
    os.chmod(FAULT, 0o755)
    os.chmod(TRACES, 0o1777)
    for p in WRAPPED:
        b = ROOT + '/bin/' + p
        real = ROOT + '/bin/.' + p + '.real'
        if not os.path.exists(real):
            os.rename(b, real)
        with open(b + '.new', 'w') as f:
            f.write('#!/bin/sh\n# crash test wrapper: strace with the fault in %s/spec.%s, if any\n'
                    'if [ -s %s/spec.%s ]; then exec strace $(cat %s/spec.%s) -- %s "$@"; fi\n'
                    'exec %s "$@"\n' % (FAULT, p, FAULT, p, FAULT, p, real, real))
        os.chmod(b + '.new', 0o755)
        os.rename(b + '.new', b)
        setspec(p, None)


def setspec(prog, spec):
    fn = FAULT + '/spec.' + prog
    with open(fn + '.new', 'w') as f:
        f.write(spec or '')
    os.chmod(fn + '.new', 0o644)
    os.rename(fn + '.new', fn)


def tracespec(trace, inject=None):
    # -D: strace runs as a detached grandchild, so the traced program keeps
    # its pid and its parent (tern-start, tern-lspawn, s6-sudod) sees its
    # real exit status, as without strace
    s = '-D -y -o ' + trace
    if inject:
        s += ' -e inject=%s:signal=SIGKILL:when=%d' % inject
    return s


def procs():
    """pids of processes of this instance (by executable or command line)"""
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            exe = os.readlink('/proc/%s/exe' % d)
        except OSError:
            exe = ''
        try:
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue
        if exe.startswith(ROOT + '/bin/') or (ROOT + '/bin/').encode() in cmd:
            if int(d) != os.getpid():
                out.append(int(d))
    return out


def pids_of(prog):
    out = []
    for pid in procs():
        try:
            if os.readlink('/proc/%d/exe' % pid) == ROOT + '/bin/.' + prog + '.real':
                out.append(pid)
        except OSError:
            pass
    return out


class Send:
    """tern-start run by hand as the send service runs it (root, env -,
    stdin /dev/null, stdout and stderr to a log, cwd /), local deliveries
    exec'd (TERN_LOCAL_EXEC)"""

    def __init__(self):
        self.logf = open(SENDLOG, 'ab')
        # TERN_LOCAL_EXEC: tern-lspawn execs the (wrapped) tern-local for
        # each delivery instead of delivering in its forked child
        self.p = subprocess.Popen(['env', '-', 'PATH=/usr/bin:/bin', 'TERN_LOCAL_EXEC=1', ROOT + '/bin/tern-start'],
                                  stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
                                  cwd='/')

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        """SIGTERM tern-send, then wait for every process of the instance"""
        for pid in pids_of('tern-send'):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        quiesce(self)

    def close(self):
        self.logf.close()


def quiesce(send=None, secs=10):
    """wait until no process of the instance runs; SIGKILL stragglers"""
    if send is not None:
        try:
            send.p.wait(timeout=secs)
        except subprocess.TimeoutExpired:
            send.p.kill()
            send.p.wait()
    if not wait_until(secs, lambda: not procs(), 0.02):
        left = procs()
        diag('stragglers killed: %s' % left)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        wait_until(5, lambda: not procs(), 0.02)
    if send is not None:
        send.close()


def logpos(log=SENDLOG):
    try:
        return os.path.getsize(log)
    except OSError:
        return 0


def logsince(pos, log=SENDLOG):
    try:
        with open(log, 'rb') as f:
            f.seek(pos)
            return f.read().decode('latin-1')
    except OSError:
        return ''


# ---------- messages ----------

def body(token):
    lines = ['Subject: crash test %s' % token, 'Message-ID: <%s@crash.test>' % token, '', 'X-Token: %s' % token]
    # about 70 KB: more than one read/write buffer in every program
    for i in range(1100):
        lines.append('%s line %05d 0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ' % (token, i))
    lines.append('END %s' % token)
    return ('\n'.join(lines) + '\n').encode()


def envelope(token, rcpt=None):
    return b'Fsender@crash.test\0T' + (rcpt or token + '@demo.test').encode() + b'\0\0'


def inject(token, spec=None, rcpt=None):
    """tern-queue as ternq, message on fd 0, envelope on fd 1, connected to
    a socket bound here at HOME/sock/queue; the connection is served by
    tern-queued -1 as ternq (the code its per-client process runs), under
    the fault spec. Returns tern-queue's exit code (negative: killed)."""
    mfn = FAULT + '/msg.' + token
    efn = FAULT + '/env.' + token
    with open(mfn, 'wb') as f:
        f.write(body(token))
    with open(efn, 'wb') as f:
        f.write(envelope(token, rcpt))
    sock = ROOT + '/sock/queue'
    try:
        os.unlink(sock)
    except OSError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    os.chmod(sock, 0o777)
    srv.listen(5)
    srv.settimeout(30)
    env = {'PATH': '/usr/bin:/bin'}
    with open(mfn, 'rb') as m, open(efn, 'rb') as e:
        p = subprocess.Popen(['s6-setuidgid', 'ternq', ROOT + '/bin/tern-queue'], stdin=m, stdout=e,
                             stderr=subprocess.DEVNULL, env=env, cwd='/')
        conn, _ = srv.accept()
        srv.close()
        setspec('tern-queued', spec)
        subprocess.run(['s6-setuidgid', 'ternq', ROOT + '/bin/tern-queued', '-1'], stdin=conn.fileno(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd='/', timeout=30)
        conn.close()
        setspec('tern-queued', None)
        rc = p.wait(timeout=30)
    os.unlink(mfn)
    os.unlink(efn)
    return rc


def deliveries():
    """token -> list of (file, complete?) in new/ and cur/"""
    return faultlib.tokens(MAILDIR, body)


def queue_files():
    return faultlib.queue_files(Q)


def mess_data(n):
    """the message of msg/N, or None"""
    try:
        with open('%s/msg/%d' % (Q, n), 'rb') as f:
            q = faultlib.qmsg(f.read())
    except OSError:
        return None
    return q[1] if q else None


def leftovers_now():
    """files of the queue that belong to no queued message: bounce/N
    without msg/N (tern-send's start-up removes them), and any file of msg/
    that is not a whole queue file (none may exist)"""
    out = []
    out.extend('bounce/' + f for f in os.listdir(Q + '/bounce')
               if not os.path.exists(Q + '/msg/' + f.split('.')[0]))
    for f in os.listdir(Q + '/msg'):
        if mess_data(int(f)) is None:
            out.append('msg/' + f)
    return out


def reset_maildir():
    n = 0
    for sub in ('new', 'cur', 'tmp'):
        d = MAILDIR + '/' + sub
        for fn in os.listdir(d):
            os.unlink(d + '/' + fn)
            if sub == 'tmp':
                n += 1
    return n


def settled(tokens_expected):
    def cond():
        if queue_files():
            return False
        dl = deliveries()
        return all(t in dl for t in tokens_expected)
    return cond


# ---------- traces and kill points ----------

SYSCALL = re.compile(r'^(?:\d+\s+)?(?:<\.\.\. )?(\w+)(?:\(| resumed>)')


def kill_points(trace, end=None):
    """[(syscall, j)] of the first process of an strace -o log (no -f), cut
    after the line for which end(line) is true"""
    pts, count = [], {}
    with open(trace, encoding='latin-1') as f:
        for line in f:
            if line.startswith('+++') or line.startswith('---'):
                continue
            m = SYSCALL.match(line)
            if not m or 'resumed>' in line:
                continue
            s = m.group(1)
            if s == 'execve' and not pts:
                continue     # strace attaches after it
            count[s] = count.get(s, 0) + 1
            pts.append((s, count[s], line.rstrip()))
            if end and end(line):
                break
    return pts


MUTATING = {'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2', 'link', 'linkat', 'unlink', 'unlinkat',
            'rename', 'renameat', 'renameat2', 'fsync', 'fdatasync', 'ftruncate', 'fallocate', 'mkdir',
            'mkdirat', 'rmdir', 'utimensat', 'futimesat', 'utimes', 'fchmod', 'fchown', 'chmod', 'chown',
            'kill', 'exit_group', 'flock', 'sendto', 'sendmsg', 'execve', 'clone', 'clone3', 'fork', 'vfork'}


def mutating(p):
    """a syscall that changes something outside the process: files,
    directories, pipes (a read from a pipe consumes a request)"""
    name, _, line = p
    if name in MUTATING:
        return True
    if name in ('open', 'openat', 'creat') and re.search(r'O_CREAT|O_WRONLY|O_RDWR|O_TRUNC', line):
        return True
    if name in ('read', 'readv') and re.match(r'^\w+\(\d+<pipe:', line):
        return True
    return False


def select(pts, more=None):
    """the full form: every point. The short form (CRASH_SHORT=1): every
    point whose syscall changes something outside the process (a kill
    before a run of side-effect-free syscalls leaves the same state as a
    kill at the next one that has effects; more(p): further such
    syscalls of one program) and every STRIDE-th other"""
    if not SHORT:
        return list(range(len(pts)))
    return [i for i in range(len(pts)) if mutating(pts[i]) or (more and more(pts[i])) or i % STRIDE == 0]


def killed(trace):
    try:
        with open(trace, encoding='latin-1') as f:
            return '+++ killed by SIGKILL' in f.read()
    except OSError:
        return False


def finished(trace):
    try:
        with open(trace, encoding='latin-1') as f:
            data = f.read()
    except OSError:
        return False
    return '+++ killed by' in data or '+++ exited with' in data


# ---------- the four programs ----------

def check_state(label, k, ok_tokens, bad_tokens, problems):
    dl = deliveries()
    for tok, files in dl.items():
        for fn, complete in files:
            if not complete:
                problems.append('%s k=%d: partial or foreign message in Maildir: %s (%s)' % (label, k, fn, tok))
    for tok in ok_tokens:
        if tok not in dl:
            problems.append('%s k=%d: message %s (injection returned 0) was not delivered' % (label, k, tok))
    for tok in bad_tokens:
        if tok in dl:
            problems.append('%s k=%d: message %s (injection did not return 0) was delivered' % (label, k, tok))
    qf = queue_files()
    if qf:
        problems.append('%s k=%d: queue not empty after the restart: %s' % (label, k, ' '.join(qf[:10])))
    dups = sum(len(v) - 1 for v in dl.values() if len(v) > 1)
    return dups


def run_queue():
    """tern-queued: one injection per kill point"""
    label = 'tern-queued'
    ref = TRACES + '/queue.ref'
    rc = inject('qref', tracespec(ref))
    s = Send()
    good = wait_until(10, settled(['qref']))
    s.stop()
    reset_maildir()
    if rc != 0 or not good:
        return None, ['reference injection failed: rc %s, delivered %s' % (rc, good)], 0, 0
    pts = kill_points(ref)
    problems, kills, dups, missed, committed = [], 0, 0, 0, 0
    completed = False
    for idx in select(pts) + [len(pts)]:
        k = idx + 1
        if k > MAXK:
            problems.append('%s: more than %d kill points' % (label, MAXK))
            break
        tok = 'q%d' % k
        tr = TRACES + '/queue.%d' % k
        rc = inject(tok, tracespec(tr, (pts[idx][0], pts[idx][1]) if idx < len(pts) else None))
        # killed after the linkat of msg/N succeeded: the message is
        # safely queued although the injector saw a failure (the window
        # every MTA has between commit and reply): it must be delivered
        wait_until(5, lambda: finished(tr))
        was_killed = killed(tr)
        commit = False
        if was_killed:
            kills += 1
            with open(tr, encoding='latin-1') as f:
                commit = re.search(r'^linkat\(.*"msg/\d+", AT_SYMLINK_FOLLOW\) += 0', f.read(), re.M) is not None
            committed += commit
        elif idx < len(pts):
            missed += 1
        # killed after the answer 0 went out (its log line, its exit): the
        # client rightly saw 0. Killed before it: the client must not
        answered = False
        if was_killed:
            with open(tr, encoding='latin-1') as f:
                answered = re.search(r'^sendto\(0<[^>]*>, "\\0', f.read(), re.M) is not None
        if rc == 0 and was_killed and not answered:
            problems.append('%s k=%d: killed before its answer, yet exit code 0' % (label, k))
        if rc == 0:
            # still queued intact: msg/N holding the complete message
            todo = os.listdir(Q + '/msg')
            if len(todo) != 1 or not (mess_data(int(todo[0])) or b'').endswith(body(tok)):
                problems.append('%s k=%d: exit 0 but the queue does not hold the message intact: %s'
                                % (label, k, queue_files()))
        must = rc == 0 or commit
        if leftovers_now():
            problems.append('%s k=%d: files left that belong to no message: %s' % (label, k, leftovers_now()))
        s = Send()
        wait_until(10, settled([tok] if must else []))
        if not must:
            time.sleep(0.05)   # a wrong delivery would show now
        s.stop()
        dups += check_state(label, k, [tok] if must else [], [] if must else [tok], problems)
        reset_maildir()
        if idx == len(pts):
            completed = rc == 0 and not was_killed
    if not completed:
        problems.append('%s: the run without a fault did not complete' % label)
    diag('%s: %d kill points, %d tried (%d did not fire), %d runs killed, %d of them after the commit (delivered, as they must)'
         % (label, len(pts), len(select(pts)), missed, kills, committed))
    return ref, problems, kills, dups


def send_points(ref):
    """tern-send's kill points: up to its reading tern-clean's reply to the
    msg/N request (the end of the cycle)"""
    pts = kill_points(ref)
    end = len(pts)
    for i, p in enumerate(pts):
        if re.match(r'^write\(7<pipe:\[\d+\]>, "msg/', p[2]):
            for j in range(i + 1, len(pts)):
                if pts[j][0] == 'read' and pts[j][2].startswith('read(8<'):
                    end = j + 1
                    break
            break
    return pts[:end]


def clean_points(ref):
    """tern-clean's: up to its reply to the msg/N request (the cycle's
    only request)"""
    pts = kill_points(ref)
    seen = False
    for i, p in enumerate(pts):
        if p[0] in ('read', 'readv') and '"msg/' in p[2]:
            seen = True
        if seen and p[0] == 'write' and p[2].startswith('write(1<'):
            return pts[:i + 1]
    return pts


def local_points(ref):
    return kill_points(ref)


def run_cycle(label, prog, getpts):
    """one delivery cycle per kill point, the fault in prog"""
    ref = TRACES + '/%s.ref' % prog
    tok = 'ref' + prog
    if inject(tok) != 0:
        return None, ['%s: reference injection failed' % label], 0, 0
    setspec(prog, tracespec(ref))
    s = Send()
    good = wait_until(10, settled([tok]))
    s.stop()
    setspec(prog, None)
    reset_maildir()
    if not good or not os.path.exists(ref):
        return None, ['%s: reference cycle did not complete' % label], 0, 0
    pts = getpts(ref)
    problems, kills, dups, tmpleft, missed, leftovers = [], 0, 0, 0, 0, 0
    prof = {'inject': 0.0, 'run': 0.0, 'stop': 0.0, 'restart': 0.0}
    completed = False
    for idx in select(pts) + [len(pts)]:
        k = idx + 1
        if k > MAXK:
            problems.append('%s: more than %d kill points' % (label, MAXK))
            break
        tok = '%s%d' % (prog.replace('tern-', ''), k)
        tr = TRACES + '/%s.%d' % (prog, k)
        t1 = time.time()
        if inject(tok) != 0:
            problems.append('%s k=%d: injection failed' % (label, k))
            continue
        prof['inject'] += time.time() - t1
        t1 = time.time()
        if idx < len(pts):
            setspec(prog, tracespec(tr, (pts[idx][0], pts[idx][1])))
        else:
            setspec(prog, tracespec(tr))
        pos = logpos()
        s = Send()
        wait_until(10, lambda: killed(tr) or settled([tok])())
        setspec(prog, None)
        wasKilled = killed(tr)
        if wasKilled:
            kills += 1
            prof['run'] += time.time() - t1
            t1 = time.time()
            if prog == 'tern-local':
                # tern-lspawn reports Z; the retry is what "restart" means
                # here: SIGALRM (qmail's "retry now") once tern-send knows
                if wait_until(10, lambda: 'delivery' in logsince(pos) and
                              re.search(r'delivery \d+: (deferral|success|failure)', logsince(pos))):
                    for pid in pids_of('tern-send'):
                        os.kill(pid, signal.SIGALRM)
                    wait_until(10, settled([tok]))
                s.stop()
            else:
                # the supervisor's restart: tern-send (or, when tern-clean
                # died, tern-send after it notices) exits; start again
                wait_until(3, lambda: not pids_of('tern-send') or settled([tok])())
                s.stop()
                prof['stop'] += time.time() - t1
                t1 = time.time()
                # tern-send's start-up removes the leftovers of a finished
                # message (bounce/N without msg/N)
                leftovers += bool(leftovers_now())
                s = Send()
                wait_until(10, settled([tok]))
                s.stop()
                prof['restart'] += time.time() - t1
        else:
            s.stop()
            if idx == len(pts):
                completed = True
            else:
                missed += 1
        dups += check_state(label, k, [tok], [], problems)
        tmpleft += reset_maildir()
    if not completed:
        problems.append('%s: the run without a fault did not complete' % label)
    diag('%s: %d kill points, %d tried (%d did not fire: the run took another path), %d runs killed, '
         '%d duplicate deliveries (allowed), %d Maildir tmp/ leftovers (allowed), %d runs left bounce/N '
         'without msg/N (removed at the restart)'
         % (label, len(pts), len(select(pts)), missed, kills, dups, tmpleft, leftovers))
    diag('time: ' + ', '.join('%s %.1f s' % kv for kv in prof.items()))
    return ref, problems, kills, dups


# ---------- tern-queued's server: the group commit ----------

NCLIENTS = 4     # concurrent injections per run
CONC = 3         # of them served at once (control/queueusers): these share
                 # one flush; the others wait in the server's pending list


def child_pids(ppid):
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read()
        except OSError:
            continue
        if int(st[st.rindex(')') + 2:].split()[1]) == ppid:
            out.append(int(d))
    return out


def proc_state(pid):
    """(state letter, wchan) of pid, or None once it is gone (or a zombie)"""
    try:
        with open('/proc/%d/stat' % pid) as f:
            st = f.read()
        with open('/proc/%d/wchan' % pid) as f:
            wchan = f.read()
    except OSError:
        return None
    s = st[st.rindex(')') + 2]
    return None if s in 'ZX' else (s, wchan)


class Server:
    """the queue service's run script, run by hand as s6-supervise runs it
    (cwd the service directory, stdout and stderr to a log, fd 3 its
    notification pipe): s6-ipcserver-socketbinder binds HOME/sock/queue
    and execs tern-queued (the wrapper) as ternq. Its pid is the server's:
    the exec chain and strace -D keep it"""

    def __init__(self):
        r, w = os.pipe()
        self.logf = open(QUEUEDLOG, 'ab')
        self.p = subprocess.Popen(['sh', '-c', 'exec 3>&%d %d>&-; exec ./run' % (w, w)], pass_fds=(w,),
                                  stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
                                  cwd=ROOT + '/service/queue')
        os.close(w)
        self.ready = False
        end = time.time() + 10
        while time.time() < end and self.alive():
            if selectlib.select([r], [], [], 0.05)[0]:
                self.ready = os.read(r, 1) == b'\n'
                break
        os.close(r)

    def alive(self):
        return self.p.poll() is None

    def stop(self, secs=10):
        """SIGTERM (running client processes finish on their own); True if
        it exited in time"""
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=secs)
            gone = True
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            gone = False
        self.logf.close()
        return gone


class Injector:
    """tern-queue as ternq on the queue socket, the message through a
    pipe: it connects at once and streams what it gets"""

    def __init__(self, token):
        self.token = token
        efn = FAULT + '/env.' + token
        with open(efn, 'wb') as f:
            f.write(envelope(token))
        r, self.w = os.pipe()
        with open(efn, 'rb') as e:
            self.p = subprocess.Popen(['s6-setuidgid', 'ternq', ROOT + '/bin/tern-queue'], stdin=r, stdout=e,
                                      stderr=subprocess.DEVNULL, env={'PATH': '/usr/bin:/bin'}, cwd='/')
        os.close(r)
        os.unlink(efn)
        self.data = body(token)
        os.write(self.w, self.data[:4096])
        self.data = self.data[4096:]
        self.writer = None

    def finish(self):
        """the rest of the message, then end of file (in a thread: the
        pipe is smaller than the message)"""
        def run():
            try:
                with os.fdopen(self.w, 'wb') as f:
                    f.write(self.data)
            except OSError:
                pass   # tern-queue gave up: its exit code says so
        self.writer = threading.Thread(target=run, daemon=True)
        self.writer.start()

    def wait(self, secs):
        """the exit code, or None if it did not end in secs (then killed)"""
        try:
            return self.p.wait(timeout=secs)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None


def socket_fds(pid):
    """how many sockets pid holds (the server: the listening one, one
    commit channel per client process, one per pending client)"""
    n = 0
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                n += os.readlink('/proc/%d/fd/%s' % (pid, fd)).startswith('socket:')
            except OSError:
                pass
    except OSError:
        pass
    return n


def commit_waiters(srv):
    """the server's client processes blocked reading their commit channel
    (linked, "L" said, waiting for "C")"""
    out = []
    for pid in child_pids(srv):
        st = proc_state(pid)
        if st and st[0] == 'S' and 'unix_stream' in st[1]:
            out.append(pid)
    return out


def group_round(tokens, spec):
    """the server started under spec; NCLIENTS injections started together.
    Once the server has forked a process for CONC of them and holds the
    others pending, it is stopped (SIGSTOP, while it waits in poll) until
    each of those processes has linked msg/N and waits for its commit:
    then SIGCONT, and the server reads every "L" in one pass: one flush
    for CONC clients. Then the pending ones get their processes as the
    first end. Without the stop (the server killed before) the clients
    just run.
    Returns (the server, [exit code of each tern-queue, None if it did
    not end within 30 s])"""
    setspec('tern-queued', spec)
    srv = Server()
    setspec('tern-queued', None)
    inj = [Injector(t) for t in tokens]
    pid = srv.p.pid
    wait_until(10, lambda: (len(child_pids(pid)) >= CONC and socket_fds(pid) > len(tokens)) or not srv.alive())
    stopped = False
    if srv.alive() and wait_until(5, lambda: 'poll' in ((proc_state(pid) or ('', ''))[1])):
        os.kill(pid, signal.SIGSTOP)
        stopped = wait_until(5, lambda: (proc_state(pid) or ('?', ''))[0] in 'Tt')
    for i in inj:
        i.finish()
    if stopped:
        # stopped, it cannot die (strace kills on a syscall's entry)
        wait_until(20, lambda: len(commit_waiters(pid)) >= CONC or not child_pids(pid))
        os.kill(pid, signal.SIGCONT)
    rcs = [i.wait(30) for i in inj]
    for i in inj:
        i.writer.join(5)
    return srv, rcs


def flushes(trace):
    """the server's group commits in an strace -y log: ([how many "L"s
    each fsync of msg/ answered], [the "C"s written on a channel whose
    "L" no later fsync of msg/ followed: must be none])"""
    shares, said, synced, early = [], set(), set(), []
    with open(trace, encoding='latin-1') as f:
        for line in f:
            m = re.match(r'^(read|write)\((\d+)<socket:[^>]*>, "([LC])"', line)
            if m and m.group(1) == 'read' and m.group(3) == 'L':
                said.add(m.group(2))
                synced.discard(m.group(2))
            elif m and m.group(1) == 'write' and m.group(3) == 'C':
                if m.group(2) not in synced:
                    early.append(line.rstrip())
                synced.discard(m.group(2))
            elif re.match(r'^fsync\(\d+</.*/queue/msg>\) += 0', line):
                shares.append(len(said))
                synced |= said
                said = set()
    return shares, early


def server_mutating(p):
    """the server's syscalls with effects beyond crash.py's list: taking a
    connection off the backlog, reading a commit channel (consumes an "L")"""
    name, _, line = p
    return name in ('accept', 'accept4') or (name == 'read' and re.match(r"^read\(\d+<socket:", line) is not None)


def check_round(label, k, tr, log, toks, rcs, was_killed, problems):
    """the invariants after one run of group_round (tr its trace, log the
    server's log lines of the run); the tokens that must be delivered"""
    # every client process the server forked queues its message and
    # answers 0: after the server's "C" (a flush of msg/ after its "L",
    # checked on the reference trace) or, the server gone, after its own
    # flush, which it logs. No other client gets 0 (nor may its message
    # be queued: its process never existed, so nothing was linked)
    with open(tr, encoding='latin-1') as f:
        t = f.read()
    forked = len(re.findall(r'^clone\(.*\) += [1-9]\d*$', t, re.M))
    answered = len(re.findall(r'^write\(\d+<socket:[^>]*>, "C", 1\) += 1$', t, re.M))
    selfsync = log.count('the server is gone: this process flushes msg/ itself')
    if rcs.count(0) != forked or selfsync != forked - answered:
        problems.append('%s k=%d: %d client processes forked, %d answered "C", %d flushed msg/ themselves, '
                        'exit codes %s' % (label, k, forked, answered, selfsync, rcs))
    for tok, rc in zip(toks, rcs):
        if rc is None:
            problems.append('%s k=%d: tern-queue %s hung (killed after 30 s)' % (label, k, tok))
        elif rc < 0:
            problems.append('%s k=%d: tern-queue %s died of signal %d' % (label, k, tok, -rc))
        elif rc != 0 and not was_killed:
            problems.append('%s k=%d: tern-queue %s exit %d with the server alive' % (label, k, tok, rc))
    # every client process ends by itself (none waits on a dead server)
    if not wait_until(10, lambda: not procs(), 0.02):
        problems.append('%s k=%d: processes left 10 s after the clients ended: %s' % (label, k, procs()))
        quiesce()
    msgs = [mess_data(int(f)) or b'' for f in os.listdir(Q + '/msg')]
    for tok, rc in zip(toks, rcs):
        n = sum(1 for m in msgs if m.endswith(body(tok)))
        if rc == 0 and n != 1:
            problems.append('%s k=%d: %s: exit 0 but queued intact %d times' % (label, k, tok, n))
        if rc != 0 and n:
            problems.append('%s k=%d: %s: exit %s but queued' % (label, k, tok, rc))
    if leftovers_now():
        problems.append('%s k=%d: files left that belong to no message: %s' % (label, k, leftovers_now()))
    return [tok for tok, rc in zip(toks, rcs) if rc == 0]


def restart_server(label, k, problems):
    """the supervisor's restart: the server comes back on the same socket
    path and queues a message; its token, or None"""
    tok = 'r%d' % k
    srv = Server()
    rc = inject_via_server(tok) if srv.ready else 'not ready'
    down = srv.stop()
    quiesce()
    if down and rc == 0:
        return tok
    problems.append('%s k=%d: the restarted server did not serve (%s)' % (label, k, rc))
    return None


def run_server():
    """tern-queued's server: NCLIENTS concurrent injections per kill point,
    CONC of them at once (control/queueusers for ternq, restored after),
    only the server traced and killed (strace without -f: its client
    processes run free)"""
    fn = ROOT + '/control/queueusers'
    with open(fn) as f:
        saved = f.read()
    st = os.stat(fn)
    with open(fn + '.new', 'w') as f:
        f.write('ternq:%d:0\n' % CONC + saved)
    os.chown(fn + '.new', st.st_uid, st.st_gid)
    os.chmod(fn + '.new', st.st_mode & 0o7777)
    os.rename(fn + '.new', fn)
    try:
        return server_rounds()
    finally:
        with open(fn + '.new', 'w') as f:
            f.write(saved)
        os.chown(fn + '.new', st.st_uid, st.st_gid)
        os.chmod(fn + '.new', st.st_mode & 0o7777)
        os.rename(fn + '.new', fn)


def server_rounds():
    label = 'tern-queued server'
    ref = TRACES + '/server.ref'
    toks = ['sref%d' % i for i in range(NCLIENTS)]
    srv, rcs = group_round(toks, tracespec(ref))
    down = srv.stop()
    s = Send()
    good = wait_until(10, settled(toks))
    s.stop()
    reset_maildir()
    if rcs != [0] * NCLIENTS or not good or not down:
        return None, ['reference run failed: exit codes %s, delivered %s, server stopped %s' % (rcs, good, down)], 0, 0
    shared, early = flushes(ref)
    diag('%s: reference: %d flush(es) of msg/ by the server, answering %s client(s)'
         % (label, len(shared), '+'.join(map(str, shared))))
    problems = ['%s: reference: "C" without a flush of msg/ after its "L": %s' % (label, e) for e in early]
    if max(shared or [0]) < CONC:
        problems.append('%s: no flush of msg/ was shared by %d clients (%s)' % (label, CONC, shared))
    pts = kill_points(ref)
    kills, dups, missed, codes = 0, 0, 0, {}
    completed = False
    for idx in select(pts, server_mutating) + [len(pts)]:
        k = idx + 1
        if k > MAXK:
            problems.append('%s: more than %d kill points' % (label, MAXK))
            break
        toks = ['s%d.%d' % (k, i) for i in range(NCLIENTS)]
        tr = TRACES + '/server.%d' % k
        pos = logpos(QUEUEDLOG)
        srv, rcs = group_round(toks, tracespec(tr, pts[idx][:2] if idx < len(pts) else None))
        if not srv.stop():
            problems.append('%s k=%d: the server did not exit on SIGTERM' % (label, k))
        wait_until(5, lambda: finished(tr))
        was_killed = killed(tr)
        kills += was_killed
        if not was_killed:
            missed += idx < len(pts)
            completed = idx == len(pts) and rcs == [0] * NCLIENTS
        for rc in rcs:
            codes[rc] = codes.get(rc, 0) + 1
        with open(TRACES + '/server.summary', 'a') as f:
            f.write('k=%d %s killed=%s exit=%s\n' % (k, '%s#%d' % pts[idx][:2] if idx < len(pts) else '-',
                                                   was_killed, rcs))
        ok_toks = check_round(label, k, tr, logsince(pos, QUEUEDLOG), toks, rcs, was_killed, problems)
        if was_killed:
            ok_toks.append(restart_server(label, k, problems))
        s = Send()
        wait_until(10, settled([t for t in ok_toks if t]))
        bad = [t for t in toks if t not in ok_toks]
        if bad:
            time.sleep(0.05)   # a wrong delivery would show now
        s.stop()
        dups += check_state(label, k, [t for t in ok_toks if t], bad, problems)
        reset_maildir()
    if not completed:
        problems.append('%s: the run without a fault did not complete' % label)
    diag('%s: %d kill points, %d tried (%d did not fire: the run took another path), %d runs killed, '
         'tern-queue exit codes %s, %d duplicate deliveries'
         % (label, len(pts), len(select(pts, server_mutating)), missed, kills,
            ' '.join('%s:%d' % (c, n) for c, n in sorted(codes.items(), key=str)), dups))
    return ref, problems, kills, dups


def inject_via_server(token):
    i = Injector(token)
    i.finish()
    rc = i.wait(30)
    i.writer.join(5)
    return rc


def main():
    install_wrappers()
    for d in ('tmp', 'new', 'cur'):
        assert os.path.isdir(MAILDIR + '/' + d)
    plan = []
    if 'queue' in ONLY:
        plan.append(('queue', 'tern-queued: killed at every syscall of one injection', run_queue))
    if 'send' in ONLY:
        plan.append(('send', 'tern-send: killed at every syscall of one delivery cycle',
                     lambda: run_cycle('tern-send', 'tern-send', send_points)))
    if 'clean' in ONLY:
        plan.append(('clean', 'tern-clean: killed at every syscall of its requests in one cycle',
                     lambda: run_cycle('tern-clean', 'tern-clean', clean_points)))
    if 'local' in ONLY:
        plan.append(('local', 'tern-local: killed at every syscall of one Maildir delivery',
                     lambda: run_cycle('tern-local', 'tern-local', local_points)))
    if 'queued-server' in ONLY:
        plan.append(('queued-server', "tern-queued's server: killed at every syscall of %d concurrent injections, "
                     '%d served at once' % (NCLIENTS, CONC), run_server))
    n = len(plan) + (3 if 'queue' in ONLY else 0) + (1 if 'local' in ONLY else 0) + 1
    tap.plan(n)
    # the durability checker must catch a missing fsync (self test)
    refs = {}
    for key, desc, fn in plan:
        t0 = time.time()
        ref, problems, kills, dups = fn()
        refs[key] = ref
        for p in problems[:30]:
            diag(p)
        if len(problems) > 30:
            diag('... %d more' % (len(problems) - 30))
        ok(not problems and kills > 0, '%s (%d kills, %.0f s)' % (desc, kills, time.time() - t0))
    dur = SRC + '/tests/fault/durability.py'
    queue_exempt = []
    local_exempt = ['--exempt', r'/Maildir/tmp$=the message is durable under new/ (synced); a resurrected '
                    'tmp/ file is a stale temporary that readers remove after 36 h']
    if 'queue' in ONLY:
        ref = refs.get('queue')
        r = subprocess.run([sys.executable, dur] + queue_exempt + [ref or '/nonexistent'],
                           capture_output=True, text=True)
        diag(r.stdout.strip())
        ok(r.returncode == 0, 'durability: tern-queued synced every file and directory before its answer 0')
        # self test: without the fsync of msg/ the check must fail and name it
        bad = TRACES + '/queue.nodirsync'
        if ref:
            with open(ref) as f, open(bad, 'w') as g:
                for line in f:
                    if re.match(r'^fsync\(\d+</.*/queue/msg>\)', line):
                        continue
                    g.write(line)
        r = subprocess.run([sys.executable, dur] + queue_exempt + [bad], capture_output=True, text=True)
        ok(r.returncode == 1 and re.search(r'missing fsync of directory \S+/queue/msg ', r.stdout) is not None,
           'durability: self test: a trace without the fsync of msg/ fails, naming it')
        bad2 = TRACES + '/queue.nofilesync'
        if ref:
            with open(ref) as f, open(bad2, 'w') as g:
                for line in f:
                    if re.match(r'^fsync\(\d+</.*/queue/msg/#\d+>\(deleted\)\)', line):
                        continue
                    g.write(line)
        r = subprocess.run([sys.executable, dur] + queue_exempt + [bad2], capture_output=True, text=True)
        ok(r.returncode == 1 and re.search(r'missing fsync of file \S+/queue/msg/\(unnamed\)', r.stdout) is not None,
           'durability: self test: a trace without the fsync of the message file fails, naming it')
    if 'local' in ONLY:
        ref = refs.get('local')
        r = subprocess.run([sys.executable, dur] + local_exempt + [ref or '/nonexistent'],
                           capture_output=True, text=True)
        diag(r.stdout.strip())
        ok(r.returncode == 0, 'durability: tern-local synced the message and new/ before exit 0')
    ok(not procs(), 'no process of the instance is left running')
    return 0 if tap.failed == 0 else 1


if __name__ == '__main__':
    try:
        sys.exit(main())
    finally:
        for pid in procs():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
