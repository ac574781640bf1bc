#!/usr/bin/env python3
# 20-queue-badinput.t: tern-queue run directly on a private queue, as the
# client of a tern-queued started here on the private queue socket.
# Good injections land as one file msg/N (common/qmsg.h) with the right bytes;
# every bad input (truncated envelope, no final NUL, an address over the
# limit, a bad first byte, a message read that fails midway, an unreadable
# message fd, a missing queue) gets its qmail-queue exit code and leaves
# nothing behind; IPCREMOTEEUID (s6-ipcserver's variable, trusted by the
# first version) changes nothing: the uid comes from the kernel. Runs as root (or anyone: the queue is
# a temporary directory owned by the caller). Every wait is bounded.
import os, shutil, socket, stat, subprocess, sys, tempfile, threading, time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.environ.get('TERN_QUEUE_BIN', os.path.join(SRC, 'queue', 'tern-queue'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap
from tap import ok
QUEUED = os.environ.get('TERN_QUEUED_BIN', os.path.join(SRC, 'queue', 'tern-queued'))
tap.need(BIN)
tap.need(QUEUED)
SERVERS = []

def start_server(root):
    """tern-queued on root/sock/queue, the socket bound here and passed on fd 0"""
    shutil.copy(QUEUED, os.path.join(root, 'bin', 'tern-queued'))
    os.makedirs(os.path.join(root, 'sock'), exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(root, 'sock', 'queue'))
    s.listen(50)
    SERVERS.append(subprocess.Popen([os.path.join(root, 'bin', 'tern-queued')], stdin=s.fileno()))
    s.close()

def stop_servers():
    for p in SERVERS:
        p.terminate()
        p.wait(timeout=10)
    del SERVERS[:]

TMP = tempfile.mkdtemp(prefix='tern-q20.')
ROOT = os.path.join(TMP, 'root')

def make_root(root):
    os.makedirs(os.path.join(root, 'bin'))
    shutil.copy(BIN, os.path.join(root, 'bin', 'tern-queue'))
    q = os.path.join(root, 'queue')
    for d in ('msg', 'lock'):
        os.makedirs(os.path.join(q, d))
    os.mkfifo(os.path.join(q, 'lock', 'trigger'), 0o622)
    start_server(root)

def queue_files(root=ROOT):
    out = []
    for dp, dn, fn in os.walk(os.path.join(root, 'queue')):
        for f in fn:
            p = os.path.join(dp, f)
            if not stat.S_ISFIFO(os.lstat(p).st_mode):
                out.append(os.path.relpath(p, os.path.join(root, 'queue')))
    return sorted(out)

def clear_queue(root=ROOT):
    for f in queue_files(root):
        os.unlink(os.path.join(root, 'queue', f))

def qparse(data):
    """a queue file: (envelope, message) or None (common/qmsg.h)"""
    if len(data) < 40 or data[:8] != b'TERNQ01\n':
        return None
    moff, elen = int(data[8:24], 16), int(data[24:40], 16)
    if not (40 + elen <= moff <= len(data)) or data[40 + elen:moff].strip(b'\0'):
        return None
    return data[40:40 + elen], data[moff:]

def run(msg, env, extra_env=None, root=ROOT, stdin=None, timeout=30):
    """msg: bytes or an fd-like object for fd 0; env: bytes for fd 1."""
    e = dict(os.environ)
    e.pop('IPCREMOTEEUID', None)
    if extra_env:
        e.update(extra_env)
    mf = ef = None
    try:
        if stdin is None:
            mf = tempfile.TemporaryFile(dir=TMP); mf.write(msg); mf.seek(0)
            stdin = mf
        ef = tempfile.TemporaryFile(dir=TMP); ef.write(env); ef.seek(0)
        p = subprocess.run([os.path.join(root, 'bin', 'tern-queue')], stdin=stdin, stdout=ef,
                           stderr=subprocess.PIPE, env=e, timeout=timeout)
        return p.returncode
    finally:
        if mf: mf.close()
        if ef: ef.close()

make_root(ROOT)
MSG = b'Subject: test\n\nline one\nline two\n'
ENV = b'Fsender@a.example\0Tone@b.example\0Ttwo@c.example\0\0'

# 1. a good injection
rc = run(MSG, ENV)
ok(rc == 0, 'good injection exits 0', rc)
files = queue_files()
mess = [f for f in files if f.startswith('msg/')]
ok(len(mess) == 1 and len(files) == 1, 'exactly one file: msg/N', files)
num = mess[0].split('/')[1] if mess else '0'
mpath = os.path.join(ROOT, 'queue', mess[0]) if mess else '/nonexistent'
ok(mess and os.stat(mpath).st_ino == int(num), 'N is the inode of msg/N')
raw = open(mpath, 'rb').read() if mess else b''
parsed = qparse(raw)
ok(parsed is not None and int(raw[8:24], 16) == 4096, 'msg/N: the head, the envelope, NUL padding, the message at 4096', raw[:40])
tdata, data = parsed if parsed else (b'', b'')
first, _, rest = data.partition(b'\n')
import re
ok(re.match(rb'^Received: \(tern \d+ invoked by uid %d\); \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$' % os.getuid(), first) is not None,
   'Received line names the pid, the uid and the date', first)
ok(rest == MSG, 'message stored byte for byte after the Received line', rest)
m = re.match(rb'^u(\d+)\0p(\d+)\0i([0-9a-z]{12,24})\0(.*)$', tdata, re.S)
ok(m is not None and int(m.group(1)) == os.getuid() and m.group(4) == ENV[:-1],
   'the envelope = u uid, p pid, i id, the envelope without the final NUL', tdata)
ok(stat.S_IMODE(os.stat(mpath).st_mode) == 0o640, 'msg/N is mode 0640', oct(os.stat(mpath).st_mode))
clear_queue()

# 1b. an envelope too long for the reserve: the message moves to the next
# multiple of 4096 after it, still whole
many = b'Fsender@a.example\0' + b''.join(b'Trcpt%04d@b.example\0' % i for i in range(400)) + b'\0'
rc = run(MSG, many)
mf = [f for f in queue_files() if f.startswith('msg/')]
raw = open(os.path.join(ROOT, 'queue', mf[0]), 'rb').read() if mf else b''
parsed = qparse(raw)
ok(rc == 0 and parsed is not None and parsed[1].partition(b'\n')[2] == MSG and parsed[0].endswith(many[:-1])
   and int(raw[8:24], 16) % 4096 == 0 and int(raw[8:24], 16) > 4096 and os.stat(os.path.join(ROOT, 'queue', mf[0])).st_ino == int(mf[0].split('/')[1]),
   'a long envelope: the message after it at a multiple of 4096, N still the inode', (rc, raw[:40]))
clear_queue()

# 2. IPCREMOTEEUID, whatever it says, does not name the injecting uid: the
# kernel does (the first version trusted it from s6-ipcserver)
for val in ('4242', '12x', ''):
    rc = run(MSG, ENV, {'IPCREMOTEEUID': val})
    tf = [f for f in queue_files() if f.startswith('msg/')]
    td, md = (qparse(open(os.path.join(ROOT, 'queue', tf[0]), 'rb').read()) or (b'', b'')) if tf else (b'', b'')
    mine = b'u%d\0' % os.getuid()
    ok(rc == 0 and td.startswith(mine) and b'invoked by uid %d);' % os.getuid() in md,
       'IPCREMOTEEUID=%r ignored: the uid is the caller\'s, from the kernel' % val, (rc, td[:20]))
    clear_queue()

# 3. empty message, null sender, no recipients: allowed
rc = run(b'', b'F\0\0')
ok(rc == 0 and len(queue_files()) == 1, 'empty message with null sender and no recipients is queued', (rc, queue_files()))
clear_queue()

# bad inputs: (description, message, envelope, extra env, expected code)
long_addr = b'x' * 995 + b'@a.ex'          # 1000 bytes: the limit, allowed
over_addr = b'x' * 996 + b'@a.ex'          # 1001 bytes: over
cases = [
    ('truncated envelope (EOF inside a recipient)', MSG, b'Fs@a\0Tone@b', None, 91),
    ('no final NUL', MSG, b'Fs@a\0Tone@b\0', None, 91),
    ('empty envelope', MSG, b'', None, 91),
    ('first byte not F', MSG, b'Ts@a\0\0', None, 91),
    ('record type other than T', MSG, b'Fs@a\0Xone@b\0\0', None, 91),
    ('recipient over ENVELOPE_ADDR_MAX', MSG, b'Fs@a\0T' + over_addr + b'\0\0', None, 11),
    ('sender over ENVELOPE_ADDR_MAX', MSG, b'F' + over_addr + b'\0Tone@b\0\0', None, 11),
    ('a LF inside a recipient', MSG, b'Fmallory@demo.test\0Talice@demo.test\nX: y\0\0', None, 91),
]
for desc, msg, env, xenv, code in cases:
    rc = run(msg, env, xenv)
    left = queue_files()
    ok(rc == code and not left, '%s: exit %d, queue empty' % (desc, code), (rc, left))
    clear_queue()

rc = run(MSG, b'Fs@a\0T' + long_addr + b'\0\0')
ok(rc == 0, 'recipient of exactly ENVELOPE_ADDR_MAX bytes is accepted', rc)
clear_queue()

# fd 0 is a directory: read fails (EISDIR) -> 54
dfd = os.open(TMP, os.O_RDONLY | os.O_DIRECTORY)
rc = run(None, ENV, stdin=dfd)
os.close(dfd)
ok(rc == 54 and not queue_files(), 'unreadable message (EISDIR): exit 54, queue empty', (rc, queue_files()))
clear_queue()

# a message read that fails midway: a TCP peer sends data, then resets
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 0)); srv.listen(1); srv.settimeout(10)
def reset_peer():
    try:
        c, _ = srv.accept()
        c.sendall(b'Subject: midway\n\n' + b'x' * 200000)
        time.sleep(0.5)
        import struct
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        c.close()
    except Exception as ex:
        print('# peer: %r' % ex)
t = threading.Thread(target=reset_peer); t.start()
cli = socket.create_connection(srv.getsockname(), timeout=10)
cli.settimeout(None)
rc = run(None, ENV, stdin=cli.fileno())
t.join(15); cli.close(); srv.close()
ok(rc == 54 and not queue_files(), 'message read fails midway (connection reset): exit 54, queue empty', (rc, queue_files()))
clear_queue()

# missing queue directory -> 62
r2 = os.path.join(TMP, 'noqueue')
os.makedirs(os.path.join(r2, 'bin')); shutil.copy(BIN, os.path.join(r2, 'bin', 'tern-queue'))
start_server(r2)
rc = run(MSG, ENV, root=r2)
ok(rc == 62, 'no queue directory: exit 62', rc)

# missing msg/ -> 64, nothing left
os.rmdir(os.path.join(ROOT, 'queue', 'msg'))
rc = run(MSG, ENV)
ok(rc == 64 and not queue_files(), 'no msg/ directory: exit 64, nothing left', (rc, queue_files()))
os.makedirs(os.path.join(ROOT, 'queue', 'msg'))

# a large message (4 MB) through a pipe is stored intact
big = os.urandom(4 << 20)
ef = tempfile.TemporaryFile(dir=TMP); ef.write(ENV); ef.seek(0)
p = subprocess.Popen([os.path.join(ROOT, 'bin', 'tern-queue')], stdin=subprocess.PIPE, stdout=ef)
p.stdin.write(big); p.stdin.close()
rc = p.wait(timeout=60)
ef.close()
mf = [f for f in queue_files() if f.startswith('msg/')]
body = (qparse(open(os.path.join(ROOT, 'queue', mf[0]), 'rb').read()) or (b'', b''))[1].partition(b'\n')[2] if mf else b''
ok(rc == 0 and body == big, '4 MB message through a pipe stored intact', rc)
clear_queue()

# the disk fills up: exit 53, nothing left (needs a small tmpfs; root only)
small = os.path.join(TMP, 'small')
os.makedirs(small)
mounted = os.getuid() == 0 and subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small],
                                              stderr=subprocess.DEVNULL).returncode == 0
if mounted:
    try:
        make_root(os.path.join(small, 'r'))
        rc = run(os.urandom(2 << 20), ENV, root=os.path.join(small, 'r'))
        left = queue_files(os.path.join(small, 'r'))
        ok(rc == 53 and not left, 'disk full: exit 53, queue empty', (rc, left))
    finally:
        stop_servers()
        subprocess.run(['umount', small])
else:
    tap.skip('disk full test needs root and tmpfs')

stop_servers()
shutil.rmtree(TMP, ignore_errors=True)
tap.done()
