"""bdat_refused.py PORT ROOT: the client side of 34-smtpd-bdat-refused.t."""
import glob, os, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap
from tap import ok

PORT, ROOT = int(sys.argv[1]), sys.argv[2]
MAILDIR = os.path.join(ROOT, 'mail', 'demo', 'Maildir')


class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.bind(('127.0.0.2', 0))   # may not relay
        self.s.settimeout(20)
        self.s.connect(('127.0.0.1', PORT))
        self.buf = b''

    def reply(self):
        """one whole reply (its last line), b'EOF' if the server closed"""
        while True:
            while b'\r\n' in self.buf:
                line, self.buf = self.buf.split(b'\r\n', 1)
                if line[3:4] != b'-':
                    return line
            try:
                d = self.s.recv(4096)
            except OSError:
                return b'EOF'
            if not d:
                return b'EOF'
            self.buf += d

    def cmd(self, line):
        self.s.sendall(line + b'\r\n')
        return self.reply()


def payload(tag):
    """40 octets that are a recipient, DATA and a whole message if read as commands"""
    p = b'RCPT TO:<' + tag + b'@demo.test>\r\nDATA\r\n\r\nx\r\n.\r\n'
    assert len(p) == 40, len(p)
    return p


def session(n, bdat, expect):
    c = Conn()
    greet = c.reply()
    c.cmd(b'EHLO client.example')
    c.cmd(b'MAIL FROM:<sender@example.org>')
    r = c.cmd(b'RCPT TO:<bdat%d@demo.test>' % n)
    ok(r.startswith(b'250'), 'case %d: the real recipient is accepted' % n, r)
    tag = b'smg%d' % n
    c.s.sendall(bdat + b'\r\n' + payload(tag))
    r = c.reply()
    ok(r.startswith(expect), 'case %d: %r is refused with %s' % (n, bdat, expect.decode()), r)
    if expect.startswith(b'421'):
        c.s.settimeout(5)
        ok(c.reply() == b'EOF', 'case %d: and the connection is closed' % n)
        return
    # the next reply must answer the next command, not a smuggled one
    r = c.cmd(b'RSET')
    ok(r.startswith(b'250 2.0.0 flushed'), 'case %d: the 40 octets were swallowed, RSET answers next' % n, r)
    c.cmd(b'MAIL FROM:<sender@example.org>')
    c.cmd(b'RCPT TO:<good%d@demo.test>' % n)
    body = b'Subject: proper %d\r\n\r\nproper chunk\r\n' % n
    r = c.cmd(b'BDAT %d LAST' % len(body) + b'\r\n' + body)
    ok(r.startswith(b'250'), 'case %d: a proper BDAT in the same session is queued' % n, r)
    c.cmd(b'QUIT')


CASES = [
    (b'BDAT 40 LAST junk', b'501 5.5.4'),
    (b'BDAT 40\tLAST', b'501 5.5.4'),
    (b'BDAT 99999999999999999999 LAST', b'421 '),
    (b'BDAT 40LAST', b'421 '),
    (b'BDAT', b'421 '),
]
for i, (cmd, exp) in enumerate(CASES, 1):
    session(i, cmd, exp)


def mails():
    out = []
    for f in glob.glob(os.path.join(MAILDIR, 'new', '*')) + glob.glob(os.path.join(MAILDIR, 'cur', '*')):
        try:
            out.append(open(f, 'rb').read())
        except OSError:
            pass
    return out


proper = sum(1 for (_, e) in CASES if e.startswith(b'501'))
end = time.time() + 30
while time.time() < end and sum(b'proper chunk' in m for m in mails()) < proper:
    time.sleep(0.2)
got = mails()
ok(sum(b'proper chunk' in m for m in got) == proper, 'the proper BDAT messages were delivered')
time.sleep(1)
got = mails()
# every message in the catch-all Maildir is a proper one; a smuggled one
# (to bdatN and smgN, body "x") is not
bad = [m[:400] for m in got if b'proper chunk' not in m]
ok(not bad, 'no smuggled message was delivered', b'\n---\n'.join(bad).decode('latin-1'))
log = open(os.path.join(ROOT, 'log', 'smtpd', 'current'), 'rb').read()
ok(b'smg' not in log, 'no smuggled recipient reached tern-smtpd\'s log',
   b'\n'.join(l for l in log.split(b'\n') if b'smg' in l).decode('latin-1'))
tap.done()
