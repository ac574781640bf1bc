#!/usr/bin/env python3
# 22-queue-inject.t: sendmail / tern-inject against a capturing queue
# program ($QMAILQUEUE): options, -t, header fixes, line ends, the lone dot,
# limits, exit codes, hostile input. No services needed. Bounded waits.
import os, re, shutil, socket, stat, subprocess, sys, tempfile, threading, time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.environ.get('TERN_SENDMAIL_BIN', os.path.join(SRC, 'queue', 'sendmail'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap
from tap import ok
tap.need(BIN)

TMP = tempfile.mkdtemp(prefix='tern-q22.')
ROOT = os.path.join(TMP, 'root')
os.makedirs(os.path.join(ROOT, 'bin')); os.makedirs(os.path.join(ROOT, 'control'))
for name in ('sendmail', 'mailq', 'newaliases'):
    shutil.copy(BIN, os.path.join(ROOT, 'bin', name))
open(os.path.join(ROOT, 'control', 'me'), 'w').write('me.test\n')
open(os.path.join(ROOT, 'control', 'defaulthost'), 'w').write('demo.test\n')
open(os.path.join(ROOT, 'control', 'idhost'), 'w').write('id.test\n')
QQ = os.path.join(ROOT, 'qq')
OUT = os.path.join(TMP, 'out')
with open(QQ, 'w') as f:
    f.write('''#!/usr/bin/env python3
import os, sys
out = sys.argv[0] + '.out'
m = b''
while True:
    b = os.read(0, 1 << 16)
    if not b: break
    m += b
e = b''
while True:
    b = os.read(1, 1 << 16)
    if not b: break
    e += b
open(out + '.msg', 'wb').write(m); open(out + '.env', 'wb').write(e)
if os.environ.get('QQSAY'): os.write(2, os.environ['QQSAY'].encode())
if os.environ.get('QQTEXT6'): os.write(6, os.environ['QQTEXT6'].encode())
sys.exit(int(os.environ.get('QQEXIT', '0')))
''')
os.chmod(QQ, 0o755)

def sm(args, stdin=b'', env=None, name='sendmail', timeout=30):
    for s in ('.msg', '.env'):
        try: os.unlink(QQ + '.out' + s)
        except FileNotFoundError: pass
    e = dict(os.environ); e['QMAILQUEUE'] = QQ
    e.pop('NAME', None)
    if env: e.update(env)
    p = subprocess.run([os.path.join(ROOT, 'bin', name)] + args, input=stdin, env=e,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    msg = env_ = None
    if os.path.exists(QQ + '.out.msg'):
        msg = open(QQ + '.out.msg', 'rb').read(); env_ = open(QQ + '.out.env', 'rb').read()
    return p.returncode, msg, env_, p.stdout, p.stderr

def rcpts(envb):
    if not envb: return None
    parts = envb.split(b'\0')
    return [x[1:].decode('latin-1') for x in parts if x.startswith(b'T')]

def sender(envb):
    return envb.split(b'\0')[0][1:].decode('latin-1') if envb else None

def header(msg):
    return msg.split(b'\n\n', 1)[0] + b'\n'

def body(msg):
    return msg.split(b'\n\n', 1)[1] if msg and b'\n\n' in msg else None

import pwd
USER = pwd.getpwuid(os.getuid()).pw_name

# argv recipients, default sender, added headers
rc, msg, env, out, err = sm(['-i', 'a@x.test', 'b'], b'Subject: s\n\nline one\n')
ok(rc == 0, 'argv recipients: exit 0', (rc, err))
ok(rcpts(env) == ['a@x.test', 'b@demo.test'], 'unqualified recipient gets @defaulthost', env)
ok(sender(env) == USER + '@demo.test', 'default sender is user@defaulthost', env)
ok(env.endswith(b'\0\0'), 'envelope ends with the extra NUL', env)
h = header(msg)
ok(re.search(rb'^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$', h, re.M) is not None, 'Date added', h)
ok(re.search(rb'^Message-ID: <\d+\.\d+\.[0-9a-f]{16}@id\.test>$', h, re.M) is not None, 'Message-ID added with idhost', h)
ok(re.search(rb'^From: ' + USER.encode() + rb'@demo\.test$', h, re.M) is not None, 'From added', h)
ok(body(msg) == b'line one\n', 'body unchanged', msg)

# existing headers kept, once
inp = b'From: "A" <a@x>\nDate: Mon, 02 Jan 2006 15:04:05 -0700\nMessage-ID: <q@c>\nSubject: k\n\nb\n'
rc, msg, env, out, err = sm(['-i', 'r@x'], inp)
ok(msg == inp, 'From, Date, Message-ID kept, nothing added', msg)

# CRLF input
rc, msg, env, out, err = sm(['-i', 'r@x'], b'Subject: c\r\nX-Eol: crlf\r\n\r\nline one\r\nline two\r\n')
ok(rc == 0 and b'\r' not in msg and body(msg) == b'line one\nline two\n', 'CRLF input stored with LF', msg)

# the lone dot
rc, msg, env, out, err = sm(['r@x'], b'Subject: d\n\nbefore\n.\nafter\n')
ok(rc == 0 and body(msg) == b'before\n', 'without -i a lone dot ends the input', msg)
rc, msg, env, out, err = sm(['r@x'], b'Subject: d\r\n\r\nbefore\r\n.\r\nafter\r\n')
ok(rc == 0 and body(msg) == b'before\n', 'without -i a lone dot CRLF ends the input', msg)
for opt in ('-i', '-oi'):
    rc, msg, env, out, err = sm([opt, 'r@x'], b'Subject: d\n\nbefore\n.\nafter\n..two\n')
    ok(rc == 0 and body(msg) == b'before\n.\nafter\n..two\n', '%s: a lone dot is data, no unstuffing' % opt, msg)

# -t
inp = (b'To: "Smith, John" <js@x>, Jane Doe <jd@x>\nCc: cc@x (Carbon Copy)\n'
       b'Bcc: b1@x, b2\nReturn-Path: <evil@x>\nContent-Length: 3\nSubject: t\n\nbody\n')
rc, msg, env, out, err = sm(['-t', '-i', 'argv@x'], inp)
ok(rc == 0 and sorted(rcpts(env)) == sorted(['argv@x', 'js@x', 'jd@x', 'cc@x', 'b1@x', 'b2@demo.test']),
   '-t: To, Cc, Bcc plus argv recipients', rcpts(env))
h = header(msg) if msg else b''
ok(msg and not re.search(rb'^(Bcc|Return-Path|Content-Length):', h, re.M | re.I), 'Bcc, Return-Path, Content-Length removed', h)
ok(msg and b'To: "Smith, John" <js@x>, Jane Doe <jd@x>\n' in h, 'To kept as is', h)
rc, msg, env, out, err = sm(['-t', '-i', 'x@y'], b'To: x@y, X@Y, x@y\n\nb\n')
ok(rcpts(env) == ['x@y', 'X@Y'], 'repeated recipients queued once', rcpts(env))
rc, msg, env, out, err = sm(['-t', '-i'], b'Resent-To: r@x\nTo: t@x\n\nb\n')
ok(rcpts(env) == ['r@x'], '-t uses Resent-* when present', rcpts(env))
rc, msg, env, out, err = sm(['-ti'], b'To: folded@x,\n  second@x\n\nb\n')
ok(rc == 0 and rcpts(env) == ['folded@x', 'second@x'], 'clustered -ti; folded To field', (rc, rcpts(env), err))

# senders
for args, want in ((['-f', ''], ''), (['-f', '<>'], ''), (['-f', 's@x'], 's@x'), (['-fs@x'], 's@x'),
                   (['-r', '<s@x>'], 's@x'), (['-f', 'loc'], 'loc@demo.test')):
    rc, msg, env, out, err = sm(['-i'] + args + ['r@x'], b'Subject: f\n\nb\n')
    ok(rc == 0 and sender(env) == want, 'sender %r -> %r' % (args, want), (rc, env))
rc, msg, env, out, err = sm(['-i', '-f', 's@x', '-F', 'Full "Q" Name', 'r@x'], b'Subject: f\n\nb\n')
ok(re.search(rb'^From: "Full \\"Q\\" Name" <s@x>$', msg, re.M) is not None, '-F gives a quoted display name', msg)
rc, msg, env, out, err = sm(['-i', 'r@x'], b'Subject: f\n\nb\n', env={'NAME': 'Env Name'})
ok(re.search(rb'^From: "Env Name" <', msg, re.M) is not None, '$NAME gives the display name', msg)

# ignored legacy options; mutt style
rc, msg, env, out, err = sm(['-oem', '-oi', '-f', 'm@x', '-B8BITMIME', '-N', 'never', '-R', 'hdrs', '-v', '-x',
                             '-odi', '-B', '7BIT', '-V', 'envid', '--', 'r1@x', 'r2@x'], b'Subject: m\n\nb\n.\n')
ok(rc == 0 and rcpts(env) == ['r1@x', 'r2@x'] and body(msg) == b'b\n.\n', 'legacy options accepted, -- ends options', (rc, err))

# usage errors
for args, desc in ((['-Y', 'r@x'], 'unknown option'), (['-i'], 'no recipients'), (['-bd'], '-bd'),
                   (['-bv', 'r@x'], '-bv'), (['-f'], '-f without argument')):
    rc, msg, env, out, err = sm(args, b'Subject: u\n\nb\n')
    ok(rc == 64 and msg is None, '%s: exit 64, nothing queued' % desc, (rc, err))
rc, msg, env, out, err = sm(['-t', '-i'], b'From: a@b\nSubject: u\n\nb\n')
ok(rc in (64, 65) and msg is None, '-t without recipients: exit 64, nothing queued', (rc, err))
for args in (['-bi'], ['-I'], ['-q'], ['-q15m']):
    rc, msg, env, out, err = sm(args)
    ok(rc == 0 and msg is None, '%s: exit 0' % ' '.join(args), rc)
rc, msg, env, out, err = sm([], name='newaliases')
ok(rc == 0, 'newaliases: exit 0', rc)
rc, msg, env, out, err = sm(['-bs'])
ok(rc == 69, '-bs without tern-smtpd: exit 69', (rc, err))

# -bp / mailq on a queue directory
os.makedirs(os.path.join(ROOT, 'queue', 'msg'))
rc, msg, env, out, err = sm(['-bp'])
ok(rc == 0 and b'Mail queue is empty' in out, '-bp: Mail queue is empty', (rc, out, err))
open(os.path.join(ROOT, 'queue', 'msg', '26'), 'w').close()
rc, msg, env, out, err = sm([], name='mailq')
ok(rc == 0 and out == b'1 message in the queue\n', 'mailq counts the messages', (rc, out))

# headers: long lines, non-header line, mbox From_ line, limits
long = b'X-Long: ' + b'abcdefgh ' * 300 + b'end\n' + b'X-Nospace: ' + b'0123456789' * 150 + b'\n'
rc, msg, env, out, err = sm(['-i', 'r@x'], b'Subject: l\n' + long + b'X-After: still\n\nbody\n')
ok(rc == 0 and long in header(msg) and b'X-After: still\n' in header(msg) and body(msg) == b'body\n', 'long header lines kept', rc)
rc, msg, env, out, err = sm(['-i', 'r@x'], b'From someone Mon Jan  2 15:04:05 2006\nSubject: f\nnot a header\nmore\n')
ok(rc == 0 and not msg.startswith(b'From ') and body(msg) == b'not a header\nmore\n' and b'Subject: f\n' in header(msg),
   'mbox From_ line dropped; a non-header line starts the body', msg)
rc, msg, env, out, err = sm(['-i', 'r@x'], b'just a body line\n')
ok(rc == 0 and body(msg) == b'just a body line\n', 'no header at all: the line is body', msg)
rc, msg, env, out, err = sm(['-i', 'r@x'], b'')
ok(rc == 0 and msg and body(msg) == b'', 'empty input: headers added, empty body', msg)
rc, msg, env, out, err = sm(['-i', 'r@x'], b'Subject: x\nX-Big: ' + b'a' * 70000 + b'\n\nb\n')
ok(rc == 65 and msg is None, 'header line over 64 KiB: exit 65, nothing queued', (rc, err))
rc, msg, env, out, err = sm(['-i', 'r@x'], b''.join(b'X-F%d: %s\n' % (i, b'v' * 1000) for i in range(1100)) + b'\nb\n')
ok(rc == 65 and msg is None, 'header over 1 MiB: exit 65, nothing queued', (rc, err))
big = b'\n'.join(b'%07d ' % i + b'y' * 90 for i in range(60000)) + b'\n'
rc, msg, env, out, err = sm(['-i', 'r@x'], b'Subject: big\n\n' + big, timeout=60)
ok(rc == 0 and body(msg) == big, '5 MB body streamed intact', rc)
rc, msg, env, out, err = sm(['-i', 'r@x'], b'Subject: 8\n\ncaf\xe9 \x00 nul\n')
ok(rc == 0 and body(msg) == b'caf\xe9 \x00 nul\n', '8-bit and NUL bytes in the body kept', msg)

# bad addresses
rc, msg, env, out, err = sm(['-i', 'x' * 1001 + '@y'], b'S: x\n\nb\n')
ok(rc == 64 and msg is None, 'recipient argument over 1000 bytes: exit 64', rc)
rc, msg, env, out, err = sm(['-t', '-i'], b'To: "unterminated@x\n\nb\n')
ok(rc == 65 and msg is None, '-t with a malformed To: exit 65', rc)
rc, msg, env, out, err = sm(['-i', '-f', 'x' * 1001, 'r@x'], b'S: x\n\nb\n')
ok(rc == 64 and msg is None, 'sender over 1000 bytes: exit 64', rc)

# the queue's verdict
rc, msg, env, out, err = sm(['-i', 'r@x'], b'S: x\n\nb\n', env={'QQEXIT': '53'})
ok(rc == 75 and b'disk full' in err, 'queue exit 53 -> 75 with the reason', (rc, err))
rc, msg, env, out, err = sm(['-i', 'r@x'], b'S: x\n\nb\n', env={'QQEXIT': '11'})
ok(rc == 69, 'queue exit 11 (permanent) -> 69', (rc, err))
rc, msg, env, out, err = sm(['-i', 'r@x'], b'S: x\n\nb\n', env={'QQEXIT': '82', 'QQTEXT6': 'Dno spam here\n'})
ok(rc == 69 and b'queue: no spam here\n' in err, 'filter exit 82, D text on fd 6 -> 69 with its text', (rc, err))
rc, msg, env, out, err = sm(['-i', 'r@x'], b'S: x\n\nb\n', env={'QQEXIT': '82', 'QQTEXT6': 'Zlater'})
ok(rc == 75 and b'queue: later\n' in err, 'filter exit 82, Z text on fd 6 -> 75 with its text', (rc, err))
rc, msg, env, out, err = sm(['-i', 'r@x'], b'S: x\n\nb\n', env={'QQEXIT': '111', 'QQSAY': 's6-sudo: fatal: no\n'})
ok(rc == 75 and b'the queue program said: s6-sudo: fatal: no\n' in err and b'cannot reach the queue socket' in err,
   'exit 111: its fd-2 text as a warning, then: cannot reach the queue socket', (rc, err))
rc, msg, env, out, err = sm(['-i', 'r@x'], b'S: x\n\nb\n', env={'QMAILQUEUE': os.path.join(TMP, 'nonexistent')})
ok(rc == 75, 'queue program cannot run -> 75', (rc, err))

# a read error midway: no envelope reaches the queue program, exit 74
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1); srv.settimeout(10)
def peer():
    import struct
    try:
        c, _ = srv.accept()
        c.sendall(b'Subject: r\n\n' + b'z' * 100000)
        time.sleep(0.5)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()
    except Exception as ex:
        print('# peer %r' % ex)
th = threading.Thread(target=peer); th.start()
cli = socket.create_connection(srv.getsockname(), timeout=10); cli.settimeout(None)
for s in ('.msg', '.env'):
    try: os.unlink(QQ + '.out' + s)
    except FileNotFoundError: pass
e = dict(os.environ); e['QMAILQUEUE'] = QQ
p = subprocess.run([os.path.join(ROOT, 'bin', 'sendmail'), '-i', 'r@x'], stdin=cli.fileno(), env=e,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
th.join(15); cli.close(); srv.close()
envb = open(QQ + '.out.env', 'rb').read() if os.path.exists(QQ + '.out.env') else b''
ok(p.returncode == 74 and envb == b'', 'read error midway: exit 74, empty envelope (the queue discards it)', (p.returncode, envb, p.stderr))

shutil.rmtree(TMP, ignore_errors=True)
tap.done()
