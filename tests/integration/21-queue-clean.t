#!/usr/bin/env python3
# 21-queue-clean.t: tern-clean run directly on a private queue: msg/N
# requests, the '+', '!' and 'x' replies, strict validation of hostile
# requests (the requests of the old layout among them). Every read has a
# timeout.
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
os.makedirs(os.path.join(Q, 'msg'))

def touch(rel, age=0):
    p = os.path.join(Q, rel)
    open(p, 'w').close()
    if age:
        t = time.time() - age
        os.utime(p, (t, t))

def exists(rel):
    return os.path.lexists(os.path.join(Q, rel))

p = subprocess.Popen([os.path.join(ROOT, 'bin', 'tern-clean')], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd='/')

def ask(req, timeout=5):
    p.stdin.write(req); p.stdin.flush()
    r, _, _ = select.select([p.stdout], [], [], timeout)
    if not r:
        return b'TIMEOUT'
    return os.read(p.stdout.fileno(), 1)

for rel in ('msg/5', 'msg/30', 'msg/31'):
    touch(rel)
ok(ask(b'msg/5\0') == b'+' and not exists('msg/5'), 'msg/5 -> + and msg/5 removed')
ok(exists('msg/30') and exists('msg/31'), 'the other messages are kept')
ok(ask(b'msg/30\0') == b'+' and not exists('msg/30') and exists('msg/31'), 'msg/30 removes msg/30 alone')
ok(ask(b'msg/12345\0') == b'+', 'a file already gone (ENOENT) -> +')

os.makedirs(os.path.join(Q, 'msg', '77', 'sub'))
ok(ask(b'msg/77\0') == b'!', 'an unlink that fails (a directory) -> !')

bad = [b'\0', b'msg/\0', b'msg\0', b'foop/1\0', b'intd/1\0', b'msg/12a\0', b'msg/-1\0',
       b'msg/ 1\0', b'msg/1 \0', b'msg/99999999999999999999999\0', b'msg/../../etc/passwd\0',
       b'MSG/1\0', b'msg/1/2\0', b'x' * 5000 + b'\0', b'msg/' + b'1' * 100 + b'\0',
       b'todo/1\0', b'mess/1\0']
replies = [ask(b) for b in bad]
ok(replies == [b'x'] * len(bad), 'every malformed request -> x', replies)
ok(ask(b'msg/12345\0') == b'+', 'still in step after malformed requests')
replies = [ask(b'msg/%d\0' % (1000 + i)) for i in range(30)]
ok(replies == [b'+'] * 30, '30 more requests answered')

p.stdin.close()
try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill(); rc = 'hung'
ok(rc == 0, 'exits 0 at end of input', rc)

# a request cut short by EOF: no reply, exit 0
p = subprocess.Popen([os.path.join(ROOT, 'bin', 'tern-clean')], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
out, err = p.communicate(b'msg/1', timeout=5)
ok(p.returncode == 0 and out == b'', 'request cut short by EOF: no reply, exit 0', (p.returncode, out))

shutil.rmtree(TMP, ignore_errors=True)
tap.done()
