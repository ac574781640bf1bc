#!/usr/bin/env python3
"""38-smtpd-tls.py: the checks of 38-smtpd-tls.t (ROOT, MAILDIR from the
environment; the test instance has control/authcheck, authsenders,
authfaildelay 2 and HOME/auth-fail set up).

The installed smtpd service: tern-listen's three listeners (mx on
TERN_PORT, submission, smtps), tern-tlsd as terntls beside tern-smtpd as
ternd, passwords checked by the auth service (s6-sudo to tern-authfile).

Checked: STARTTLS offered on mx and submission, not on smtps nor inside
TLS; bytes pipelined with and before STARTTLS are never answered inside
TLS (CVE-2011-0411 class) and the session is reset (no HELO, no MAIL);
STARTTLS with an argument 501, in a transaction 503, twice 503; Received
says ESMTPS with Postfix's "(using ... with cipher ...)" and ESMTPSA after
AUTH; the log names the TLS version, cipher and user; AUTH only inside TLS
(530 before), PLAIN and LOGIN good, wrong password and unknown user 535
5.7.8, '*' 501, bad base64 501, unknown mechanism 504, AUTH twice 503; an
authenticated client relays, only with its own senders (553 5.7.1 else);
submission wants TLS and AUTH before MAIL (530); smtps greets only inside
TLS; brute force: wrong passwords from one address are slowed and then
421 (also for a new connection), another address still logs in; each
failure one 'auth failed' log line, which the shipped fail2ban filter
matches; the attack goes on to 50 wrong passwords, all 421 at once,
nothing crashes, memory stays bounded, another address still logs in."""
import base64
import os
import re
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import ok, diag  # noqa: E402

ROOT = os.environ['ROOT']
MAILDIR = os.environ['MAILDIR']
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
LOG = os.path.join(ROOT, 'log', 'smtpd', 'current')
PASS = 's3cret pass'
PORTS = {'mx': int(os.environ['TERN_PORT']), 'submission': int(os.environ['TERN_SUBMISSION_PORT']),
         'smtps': int(os.environ['TERN_SMTPS_PORT'])}


class Client:
    """one SMTP client connection, plaintext first"""

    def __init__(self, source='127.0.0.2', kind='mx', tls_first=False):
        self.s = socket.socket()
        self.s.settimeout(30)
        self.s.bind((source, 0))
        self.s.connect(('127.0.0.1', PORTS[kind]))
        self.buf = b''
        if tls_first:
            self.tls()

    def tls(self):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        self.s = c.wrap_socket(self.s, server_hostname='mx.demo.test')
        self.buf = b''

    def send(self, b):
        self.s.sendall(b)

    def reply(self):
        """one whole reply: (code, text of all lines); code 0 on EOF/timeout"""
        lines = []
        while True:
            while b'\r\n' not in self.buf:
                try:
                    d = self.s.recv(4096)
                except (socket.timeout, OSError, ssl.SSLError):
                    d = b''
                if not d:
                    return 0, '\n'.join(lines)
                self.buf += d
            line, self.buf = self.buf.split(b'\r\n', 1)
            line = line.decode('latin-1')
            lines.append(line)
            if line[3:4] != '-':
                return int(line[:3]) if line[:3].isdigit() else -1, '\n'.join(lines)

    def cmd(self, line):
        self.send(line.encode('latin-1') + b'\r\n')
        return self.reply()

    def starttls(self):
        r = self.cmd('STARTTLS')
        if r[0] == 220:
            self.tls()
        return r

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def b64(s):
    return base64.b64encode(s.encode('latin-1')).decode()


def plain(user, pw):
    return b64('\0' + user + '\0' + pw)


def tls_session(source='127.0.0.2', kind='mx'):
    c = Client(source, kind)
    c.reply()
    c.cmd('EHLO client.example')
    c.starttls()
    return c


def find_msg(marker, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        for d in ('new', 'cur'):
            for f in os.listdir(os.path.join(MAILDIR, d)):
                try:
                    b = open(os.path.join(MAILDIR, d, f), 'rb').read()
                except OSError:
                    continue
                if marker in b:
                    return b
        time.sleep(0.1)
    return None


def log_text(want=None, timeout=10):
    """the smtpd log (s6-log writes it a moment later: wait for want)"""
    end = time.time() + timeout
    while True:
        try:
            t = open(LOG, 'rb').read().decode('latin-1')
        except OSError:
            t = ''
        if want is None or re.search(want, t) or time.time() > end:
            return t
        time.sleep(0.2)


# ---- STARTTLS on the mx listener
c = Client()
g = c.reply()
ok(g[0] == 220, 'plaintext greeting on mx', g)
e = c.cmd('EHLO client.example')
ok(re.search(r'(?m)^250[ -]STARTTLS$', e[1]) is not None, 'EHLO offers STARTTLS', e)
ok(re.search(r'(?m)^250[ -]AUTH\b', e[1]) is None, 'and no AUTH before TLS', e)
r = c.cmd('AUTH LOGIN')
ok(r[0] == 530, 'AUTH before TLS: 530, no credentials asked', r)
r = c.cmd('STARTTLS now')
ok(r[0] == 501, 'STARTTLS with an argument: 501', r)
c.cmd('MAIL FROM:<a@example.org>')
r = c.cmd('STARTTLS')
ok(r[0] == 503, 'STARTTLS inside a transaction: 503', r)
c.cmd('RSET')
# RSET and MAIL pipelined with STARTTLS in one packet (CVE-2011-0411)
c.send(b'NOOP\r\nSTARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.org>\r\n')
r1 = c.reply()
r2 = c.reply()
ok(r1[0] == 250 and r2[0] == 220, 'NOOP answered in plaintext, then 220 to STARTTLS', (r1, r2))
c.tls()
r = c.cmd('RCPT TO:<someone@demo.test>')
ok(r[0] == 503, 'inside TLS the first reply is to RCPT (503: the injected RSET/MAIL were dropped)', r)
r = c.cmd('MAIL FROM:<x@example.org>')
ok(r[0] == 503 and 'HELO' in r[1], 'the session was reset: no HELO inside TLS yet', r)
e = c.cmd('EHLO client.example')
ok(e[0] == 250 and 'STARTTLS' not in e[1], 'inside TLS STARTTLS is no longer offered', e)
ok(re.search(r'(?m)^250[ -]AUTH PLAIN LOGIN$', e[1]) is not None, 'inside TLS AUTH PLAIN LOGIN is offered', e)
r = c.cmd('STARTTLS')
ok(r[0] == 503, 'a second STARTTLS: 503', r)
r = c.cmd('NOOP')
ok(r[0] == 250, 'and the session goes on', r)
# a message inside TLS, without AUTH
c.cmd('MAIL FROM:<sender@example.org>')
c.cmd('RCPT TO:<tls1@demo.test>')
c.cmd('DATA')
r = c.cmd('Subject: tls-esmtps-1\r\n\r\nover TLS\r\n.')
ok(r[0] == 250, 'a message over TLS is accepted', r)
c.cmd('MAIL FROM:<sender@example.org>')
r = c.cmd('RCPT TO:<x@example.net>')
ok(r[0] == 553 or r[0] == 550, 'TLS alone does not allow relaying from 127.0.0.2', r)
c.cmd('QUIT')
c.close()
m = find_msg(b'tls-esmtps-1')
rcv = m.split(b'\n\n')[0].decode('latin-1') if m else ''
ok(re.search(r'Received: from client\.example \(\[127\.0\.0\.2\]\)\n\t\(using TLSv1\.[23] with cipher '
             r'\S+ \(\d+/\d+ bits\)\)\n\tby \S+ \(tern-smtpd\) with ESMTPS id', rcv) is not None,
   'Received: with ESMTPS and (using PROTOCOL with cipher C (N/N bits))', rcv)

# ---- AUTH inside TLS
c = tls_session()
c.cmd('EHLO client.example')
r = c.cmd('AUTH CRAM-MD5')
ok(r[0] == 504, 'unknown mechanism: 504', r)
r = c.cmd('AUTH PLAIN !!not*base64!!')
ok(r[0] == 501, 'initial response not base64: 501', r)
r = c.cmd('AUTH PLAIN')
ok(r[0] == 334 and r[1] == '334 ', 'AUTH PLAIN without initial response: "334 "', r)
r = c.cmd('*')
ok(r[0] == 501, "'*' cancels: 501", r)
r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', 'wrong'))
ok(r[0] == 535 and '5.7.8' in r[1], 'wrong password: 535 5.7.8', r)
r = c.cmd('AUTH PLAIN ' + plain('nobody@demo.test', PASS))
ok(r[0] == 535 and '5.7.8' in r[1], 'unknown user: 535 5.7.8 alike', r)
r = c.cmd('AUTH PLAIN ' + b64('bob@demo.test\0bob@demo.test\0' + PASS))
ok(r[0] == 235, 'AUTH PLAIN (authzid = user): 235', r)
r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', PASS))
ok(r[0] == 503, 'AUTH twice: 503', r)
r = c.cmd('MAIL FROM:<mallory@demo.test>')
ok(r[0] == 553 and '5.7.1' in r[1], 'a sender not mapped to the user: 553 5.7.1', r)
r = c.cmd('MAIL FROM:<other@example.org> AUTH=<>')
ok(r[0] == 250, 'a sender from control/authsenders (with AUTH=<>): 250', r)
r = c.cmd('RCPT TO:<someone@example.net>')
ok(r[0] == 250, 'an authenticated client may relay', r)
c.cmd('RSET')
r = c.cmd('MAIL FROM:<bob@demo.test>')
ok(r[0] == 250, 'the user name as sender: 250', r)
c.cmd('RCPT TO:<tls2@demo.test>')
c.cmd('DATA')
r = c.cmd('Subject: tls-esmtpsa-2\r\n\r\nsubmitted\r\n.')
ok(r[0] == 250, 'an authenticated message is accepted', r)
c.cmd('QUIT')
c.close()
m = find_msg(b'tls-esmtpsa-2')
rcv = m.split(b'\n\n')[0].decode('latin-1') if m else ''
ok(re.search(r'\(tern-smtpd\) with ESMTPSA id', rcv) is not None, 'Received: with ESMTPSA', rcv)
lg = log_text(r'user bob@demo\.test id')
ok(re.search(r'tern-smtpd: info: 127\.0\.0\.2 helo client\.example from <bob@demo\.test> to <tls2@demo\.test> '
             r'size \d+ tls TLSv1\.[23]/\S+ user bob@demo\.test id', lg) is not None,
   'the transaction log line names the TLS version/cipher and the user', lg[-600:])

c = tls_session()
c.cmd('EHLO client.example')
r = c.cmd('AUTH LOGIN')
ok(r == (334, '334 VXNlcm5hbWU6'), 'AUTH LOGIN asks Username:', r)
r = c.cmd(b64('alice'))
ok(r == (334, '334 UGFzc3dvcmQ6'), 'then Password:', r)
r = c.cmd(b64(PASS))
ok(r[0] == 235, 'AUTH LOGIN good: 235', r)
r = c.cmd('MAIL FROM:<alice@demo.test>')
ok(r[0] == 250, 'a user without @: user@ a local domain is theirs', r)
c.cmd('RSET')
r = c.cmd('MAIL FROM:<news@lists.demo.test>')
ok(r[0] == 250, 'a "user:@domain" line in authsenders: any sender of that domain', r)
c.cmd('RSET')
r = c.cmd('MAIL FROM:<bob@demo.test>')
ok(r[0] == 553, "another user's address: 553", r)
c.cmd('QUIT')
c.close()

# ---- submission
c = Client(kind='submission')
c.reply()
e = c.cmd('EHLO client.example')
ok('STARTTLS' in e[1] and re.search(r'(?m)^250[ -]AUTH\b', e[1]) is None,
   'submission: STARTTLS offered, AUTH not before TLS', e)
r = c.cmd('MAIL FROM:<bob@demo.test>')
ok(r[0] == 530, 'submission: MAIL before STARTTLS: 530', r)
c.starttls()
c.cmd('EHLO client.example')
r = c.cmd('MAIL FROM:<bob@demo.test>')
ok(r[0] == 530 and '5.7.0' in r[1], 'submission: MAIL inside TLS without AUTH: 530 5.7.0', r)
r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', PASS))
ok(r[0] == 235, 'submission: AUTH inside TLS: 235', r)
r = c.cmd('MAIL FROM:<bob@demo.test>')
ok(r[0] == 250, 'submission: MAIL after AUTH: 250', r)
c.cmd('QUIT')
c.close()

# ---- smtps
c = Client(kind='smtps')
c.s.settimeout(2)
try:
    early = c.s.recv(100)
except socket.timeout:
    early = b'(nothing)'
ok(early == b'(nothing)', 'smtps: no plaintext greeting before the handshake', early)
c.s.settimeout(30)
c.tls()
g = c.reply()
ok(g[0] == 220, 'smtps: the greeting comes inside TLS', g)
e = c.cmd('EHLO client.example')
ok('STARTTLS' not in e[1] and 'AUTH PLAIN LOGIN' in e[1], 'smtps: no STARTTLS offered, AUTH offered', e)
r = c.cmd('STARTTLS')
ok(r[0] >= 500, 'smtps: STARTTLS refused', r)
r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', PASS))
ok(r[0] == 235, 'smtps: AUTH: 235', r)
c.cmd('QUIT')
c.close()

# ---- brute force from 127.0.0.3: slowed, then 421
c = tls_session('127.0.0.3')
c.cmd('EHLO client.example')
times, codes = [], []
for i in range(50):
    t0 = time.time()
    r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', 'guess%d' % i))
    times.append(time.time() - t0)
    codes.append(r[0])
    if r[0] != 535:
        break
c.close()
diag('codes %s' % codes)
diag('times %s' % ['%.1f' % t for t in times])
ok(codes[:3] == [535] * 3 and max(times[:3]) < 1.5, 'the first wrong passwords: 535 at once', times[:3])
ok(len(times) > 5 and min(times[4:-1]) >= 1.0, 'later ones are slowed down', times)
ok(codes[-1] == 421 and len(codes) <= 10, '421 after at most 10 failures (control/authfailmax)', codes)
c = tls_session('127.0.0.3')
c.cmd('EHLO client.example')
r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', PASS))
ok(r[0] == 421, 'a new connection from that address: 421 at AUTH, even with the right password', r)
c.close()
c = tls_session('127.0.0.4')
c.cmd('EHLO client.example')
t0 = time.time()
r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', PASS))
ok(r[0] == 235 and time.time() - t0 < 3, 'the right password from another address still works, not slowed', r)
c.close()
lg = log_text(r'127\.0\.0\.3 auth failed user - ')
fails = re.findall(r'(?m)^(?:@[0-9a-f]{24} )?tern-smtpd: warning: 127\.0\.0\.3 auth failed user bob@demo\.test mechanism PLAIN', lg)
ok(len(fails) == len(codes), 'one "auth failed" log line per failure', (len(fails), len(codes)))
filt = open(os.path.join(SRC, 'smtpd', 'tern-smtpd.fail2ban')).read()
rx = re.search(r'(?m)^failregex\s*=\s*(.+)$', filt).group(1).replace('<HOST>', r'(?P<host>\S+)')
hits = [m.group('host') for m in (re.search(rx, ln) for ln in lg.split('\n')) if m]
# the failures, and the 421 of the later connection
ok(hits.count('127.0.0.3') == len(codes) + 1 and '127.0.0.4' not in hits,
   'the fail2ban failregex matches each failure line and only those', (hits[:3], len(hits)))
files = sorted(os.listdir(os.path.join(ROOT, 'auth-fail')))
ok('ip-127.0.0.3' in files and all(re.match(r'^(ip-[0-9a-f.:]+|user-[0-9a-f]{16})$', f) for f in files),
   'counters in HOME/auth-fail: ip-ADDRESS and user-HASH files', files)


# ---- the limit holds for sessions in parallel: a session from 127.0.0.6
# that began AUTH LOGIN (its user name sent, so past the check at AUTH)
# while 12 others from the address fail at once may not log in after the
# address reached control/authfailmax (each attempt is counted before its
# password is checked, under the count's lock)
s1 = tls_session('127.0.0.6')
s1.cmd('EHLO client.example')
r1 = s1.cmd('AUTH LOGIN')
r2 = s1.cmd(b64('bob@demo.test'))
par = []


def wrong(i):
    try:
        c = tls_session('127.0.0.6')
        c.cmd('EHLO client.example')
        par.append(c.cmd('AUTH PLAIN ' + plain('bob@demo.test', 'race%d' % i))[0])
        c.close()
    except (OSError, ssl.SSLError) as e:
        par.append(str(e))


th = [threading.Thread(target=wrong, args=(i,)) for i in range(12)]
for t in th:
    t.start()
for t in th:
    t.join(60)
r3 = s1.cmd(b64(PASS))
s1.close()
diag('parallel failures %s' % sorted(par, key=str))
ok(r1[0] == 334 and r2[0] == 334 and par.count(421) >= 2 and par.count(535) <= 9 and r3[0] == 421,
   'parallel failures from one address: at most authfailmax checked, and a login begun before them gets 421, not 235',
   (r1, r2, sorted(par, key=str), r3))


# ---- the brute force goes on to 50 wrong passwords from 127.0.0.3, each
# on a new TLS connection after the 421: every one gets 421 at once;
# nothing crashes (tern-listen the same process, no session ended by a
# signal) and memory stays bounded (tern-listen's RSS does not grow; no
# tern-smtpd or tern-tlsd above 16 MB); a correct login from 127.0.0.5
# still works


def rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            return int(re.search(r'(?m)^VmRSS:\s+(\d+)', f.read()).group(1))
    except (OSError, AttributeError):
        return 0


def pids_of(name):
    out = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                if os.readlink('/proc/%s/exe' % d) == os.path.join(ROOT, 'bin', name):
                    out.append(int(d))
            except OSError:
                pass
    return out


listen0 = pids_of('tern-listen')
rss0 = sum(rss_kb(p) for p in listen0)
later, peak, t0 = [], 0, time.time()
while len(codes) + len(later) < 50:
    c = tls_session('127.0.0.3')
    c.cmd('EHLO client.example')
    # the session's tern-smtpd and tern-tlsd, while it runs (the 421 ends it)
    peak = max([peak] + [rss_kb(p) for p in pids_of('tern-smtpd') + pids_of('tern-tlsd')])
    later.append(c.cmd('AUTH PLAIN ' + plain('bob@demo.test', 'guess-late%d' % len(later)))[0])
    c.close()
took = time.time() - t0
ok(len(codes) + len(later) == 50 and set(later) == {421} and took < 30,
   '50 wrong passwords in all: every later one gets 421 at once', (later, '%.1f s' % took))
ok(pids_of('tern-listen') == listen0, 'tern-listen is the same process throughout', (listen0, pids_of('tern-listen')))
rss1 = sum(rss_kb(p) for p in pids_of('tern-listen'))
ok(rss1 and rss1 <= rss0 + 512, "tern-listen's memory does not grow (RSS %d kB, then %d kB)" % (rss0, rss1))
ok(0 < peak <= 16384, 'no tern-smtpd or tern-tlsd above 16 MB RSS (peak %d kB)' % peak)
c = tls_session('127.0.0.5')
c.cmd('EHLO client.example')
r = c.cmd('AUTH PLAIN ' + plain('bob@demo.test', PASS))
ok(r[0] == 235, 'a correct login from 127.0.0.5 still works after the 50', r)
c.close()
lg = log_text()
ok(re.search(r'info: end pid \d+ status 0', lg) is not None and re.search(r'info: end pid \d+ status sig', lg) is None,
   'no session ended by a signal (tern-listen logs each end)',
   re.findall(r'.*status sig.*', lg)[:5])

# ---- no usable certificate (the file moved away while running: tern-tlsd
# starts per STARTTLS, so it takes effect at once): STARTTLS gets 454
# before any 220 and the session goes on in plaintext without STARTTLS in
# its next EHLO (RFC 3207 section 4); an SMTPS client gets no session;
# both logged
crt = os.path.join(ROOT, 'tls', 'default.crt')
os.rename(crt, crt + '.away')
try:
    c = Client('127.0.0.7')
    c.reply()
    e1 = c.cmd('EHLO client.example')
    st = c.cmd('STARTTLS')
    e2 = c.cmd('EHLO client.example')
    nop = c.cmd('NOOP')
    c.close()
    try:
        t = Client('127.0.0.7', 'smtps', tls_first=True)
        g = t.reply()
        t.close()
    except (OSError, ssl.SSLError) as e:
        g = (0, repr(e))
finally:
    os.rename(crt + '.away', crt)
ok('STARTTLS' in e1[1] and st[0] == 454 and 'STARTTLS' not in e2[1] and nop[0] == 250,
   'no certificate: STARTTLS 454, then no STARTTLS offered, the session goes on', (e1, st, e2, nop))
ok(g[0] != 220, 'no certificate: an SMTPS client gets no greeting', g)
lg = log_text(r'TLS not available: no usable certificate')
ok('127.0.0.7 TLS not available: no usable certificate' in lg, 'tern-smtpd logs why TLS was not available',
   re.findall(r'.*TLS not available.*', lg)[:3])
c = tls_session('127.0.0.7')
r = c.cmd('EHLO client.example')
v = c.s.version() if hasattr(c.s, 'version') else None
c.close()
ok(r[0] == 250 and (v or '').startswith('TLS'), 'the certificate back: STARTTLS works again', (r, v))

tap.done()
