#!/usr/bin/env python3
# 21-queue-clean.t: tern-clean run directly on a private queue: todo/N and
# mess/N requests, the '+', '!' and 'x' replies, strict validation of hostile
# requests, and the sweep of pid/ files older than 36 hours (at start and
# every 30 requests). Every read has a timeout.
import os, select, shutil, subprocess, sys, tempfile, time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.environ.get('TERN_CLEAN_BIN', os.path.join(SRC, 'queue', 'tern-clean'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap
from tap import ok
tap.need(BIN)

TMP = tempfile.mkdtemp(prefix='tern-q21.')
ROOT = os.path.join(TMP, 'root')
Q = os.path.join(ROOT, 'queue')
os.makedirs(os.path.join(ROOT, 'bin'))
shutil.copy(BIN, os.path.join(ROOT, 'bin', 'tern-clean'))
for d in ('pid', 'intd', 'todo'):
    os.makedirs(os.path.join(Q, d))
for i in range(23):
    os.makedirs(os.path.join(Q, 'mess', str(i)))

def touch(rel, age=0):
    p = os.path.join(Q, rel)
    open(p, 'w').close()
    if age:
        t = time.time() - age
        os.utime(p, (t, t))

def exists(rel):
    return os.path.lexists(os.path.join(Q, rel))

OLD = 37 * 3600
touch('pid/111.1.1', OLD)
touch('pid/222.2.1', 3600)

p = subprocess.Popen([os.path.join(ROOT, 'bin', 'tern-clean')], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd='/')

def ask(req, timeout=5):
    p.stdin.write(req); p.stdin.flush()
    r, _, _ = select.select([p.stdout], [], [], timeout)
    if not r:
        return b'TIMEOUT'
    return os.read(p.stdout.fileno(), 1)

# a first request makes sure the start-up sweep has run
for rel in ('intd/5', 'todo/5', 'mess/5/5', 'intd/30', 'mess/7/30'):
    touch(rel)
ok(ask(b'todo/5\0') == b'+', 'todo/5 -> +')
ok(not exists('pid/111.1.1'), 'start-up sweep removed a pid file older than 36 h')
ok(exists('pid/222.2.1'), 'a young pid file is kept')
ok(not exists('intd/5') and not exists('todo/5') and exists('mess/5/5'), 'todo/N removed intd/N and todo/N, kept mess')
ok(ask(b'mess/5\0') == b'+' and not exists('mess/5/5'), 'mess/5 -> + and mess/5/5 removed')
ok(ask(b'mess/30\0') == b'+' and not exists('mess/7/30') and not exists('intd/30'), 'mess/30 removes intd/30 and mess/7/30')
ok(ask(b'todo/12345\0') == b'+', 'files already gone (ENOENT) -> +')

os.makedirs(os.path.join(Q, 'todo', '77', 'sub'))
ok(ask(b'todo/77\0') == b'!', 'an unlink that fails (a directory) -> !')

bad = [b'\0', b'todo/\0', b'todo\0', b'foop/1\0', b'intd/1\0', b'todo/12a\0', b'todo/-1\0',
       b'todo/ 1\0', b'todo/1 \0', b'mess/99999999999999999999999\0', b'todo/../../etc/passwd\0',
       b'TODO/1\0', b'todo/1/2\0', b'x' * 5000 + b'\0', b'todo/' + b'1' * 100 + b'\0']
replies = [ask(b) for b in bad]
ok(replies == [b'x'] * len(bad), 'every malformed request -> x', replies)
ok(ask(b'todo/12345\0') == b'+', 'still in step after malformed requests')

# the sweep every 30 requests
touch('pid/333.3.1', OLD)
replies = [ask(b'todo/%d\0' % (1000 + i)) for i in range(30)]
ok(replies == [b'+'] * 30, '30 more requests answered')
ok(not exists('pid/333.3.1'), 'periodic sweep removed an old pid file')

p.stdin.close()
try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill(); rc = 'hung'
ok(rc == 0, 'exits 0 at end of input', rc)

# a request cut short by EOF: no reply, exit 0
p = subprocess.Popen([os.path.join(ROOT, 'bin', 'tern-clean')], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
out, err = p.communicate(b'todo/1', timeout=5)
ok(p.returncode == 0 and out == b'', 'request cut short by EOF: no reply, exit 0', (p.returncode, out))

shutil.rmtree(TMP, ignore_errors=True)
tap.done()
