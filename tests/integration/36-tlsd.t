#!/usr/bin/env python3
"""36-tlsd.t: tern-tlsd alone, between a real TLS client (Python's ssl, and
openssl s_client) and this script playing the application on the UCSPI-TLS
fds (3: control, 4: plaintext). Plaintext before 'Y' goes straight through
the socket; after 'Y' the handshake, the one-line control reply, the relay
both ways, close_notify; TLS 1.1 refused; SNI picks NAME.crt; a client that
sends garbage instead of a ClientHello gets no session; tern-tlsd (run as
nobody) is not dumpable, so its /proc files belong to root."""
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap
from tap import ok

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TLSD = os.path.join(SRC, 'smtpd', 'tern-tlsd')
tap.need(TLSD)
if os.geteuid() != 0:
    print('1..0 # SKIP needs root (runs tern-tlsd as nobody)')
    sys.exit(0)

tmp = tempfile.mkdtemp(prefix='tern-tlsd36.')
os.chmod(tmp, 0o755)
# a copy nobody can run even when the checkout is not reachable (a clone
# under /root, mode 0700)
shutil.copy(TLSD, os.path.join(tmp, 'tern-tlsd'))
TLSD = os.path.join(tmp, 'tern-tlsd')
os.chmod(TLSD, 0o755)
tlsdir = os.path.join(tmp, 'tls')
os.mkdir(tlsdir)
nobody = pwd.getpwnam('nobody')


def mkcert(name, cn):
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                    '-subj', '/CN=' + cn, '-addext', 'subjectAltName=DNS:' + cn,
                    '-keyout', os.path.join(tlsdir, name + '.key'),
                    '-out', os.path.join(tlsdir, name + '.crt')],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for ext in ('.key', '.crt'):
        os.chown(os.path.join(tlsdir, name + ext), nobody.pw_uid, nobody.pw_gid)


mkcert('default', 'mx.demo.test')
mkcert('other.test', 'other.test')

lsock = socket.socket()
lsock.bind(('127.0.0.1', 0))
lsock.listen(5)
port = lsock.getsockname()[1]


class Session:
    """accept one connection and start tern-tlsd on it as nobody"""

    def __init__(self, tdir=None):
        self.ready = False
        self.conn, _ = lsock.accept()
        self.conn.settimeout(20)
        self.ctl, ctl_child = socket.socketpair()
        self.data, data_child = socket.socketpair()
        self.ctl.settimeout(20)
        self.data.settimeout(20)
        cfd, dfd, nfd = ctl_child.fileno(), data_child.fileno(), self.conn.fileno()

        def child():
            os.dup2(cfd, 3)
            os.dup2(dfd, 4)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

        self.err = open(os.path.join(tmp, 'tlsd.err'), 'ab')
        self.proc = subprocess.Popen([TLSD, '-t', '10', '-d', tdir or tlsdir], stdin=nfd, stdout=nfd, stderr=self.err,
                                     preexec_fn=child, pass_fds=(3, 4, cfd, dfd))
        ctl_child.close()
        data_child.close()

    def reply(self):
        """the reply line; a leading UCSPITLS_READY byte ('R', sent before
        the handshake) is taken off and noted in self.ready"""
        b = b''
        while not b.endswith(b'\n') and len(b) < 300:
            c = self.ctl.recv(1 if not b else 300)
            if not c:
                break
            b += c
            if b == b'R' and not self.ready:
                self.ready, b = True, b''
        return b.decode('ascii', 'replace')

    def close(self):
        for s in (self.data, self.ctl, self.conn):
            s.close()
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return 'killed'


def client_ctx(maxv=None):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if maxv:
        c.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        c.maximum_version = maxv
        c.set_ciphers('ALL:@SECLEVEL=0')
    return c


result = {}


def client(sni=None, maxv=None, garbage=False):
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=20)
        f = s.makefile('rb')
        result['greeting'] = f.readline()
        s.sendall(b'STARTTLS\r\n')
        result['go'] = f.readline()
        if garbage:
            s.sendall(b'MAIL FROM:<x@y>\r\n' * 20)
            result['after'] = s.recv(100)
            s.close()
            return
        t = client_ctx(maxv).wrap_socket(s, server_hostname=sni)
        result['version'] = t.version()
        result['cert'] = t.getpeercert(binary_form=True)
        t.sendall(b'EHLO inside\r\n')
        tf = t.makefile('rb')
        result['inside'] = tf.readline()
        result['eof'] = tf.readline()
        t.close()
    except Exception as e:  # noqa: BLE001 (reported by the test)
        result['error'] = repr(e)


def run(sni=None, maxv=None, garbage=False):
    result.clear()
    th = threading.Thread(target=client, args=(sni, maxv, garbage))
    th.start()
    s = Session()
    s.conn.sendall(b'220 plain greeting\r\n')              # the application, before TLS
    line = s.conn.recv(100)
    s.conn.sendall(b'220 2.0.0 ready to start TLS\r\n')
    s.ctl.sendall(b'Y')
    rep = s.reply()
    procfile_uid = os.stat('/proc/%d/mem' % s.proc.pid).st_uid if s.proc.poll() is None else None
    got = b''
    if rep.startswith('OK '):
        while not got.endswith(b'\r\n') and len(got) < 100:
            c = s.data.recv(100)
            if not c:
                break
            got += c
        s.data.sendall(b'250 inside TLS\r\n')
        s.data.shutdown(socket.SHUT_WR)
    th.join(30)
    rc = s.close()
    last['ready'] = s.ready
    return line, rep, got, rc, procfile_uid


last = {}


line, rep, got, rc, puid = run()
ok(result.get('greeting') == b'220 plain greeting\r\n', 'plaintext before STARTTLS goes straight through', result)
ok(line == b'STARTTLS\r\n', 'the application reads the client itself before TLS', line)
ok(rep.startswith('OK TLSv1.3 TLS_') and rep.endswith(' -\n'), 'control reply: OK TLSv1.3, cipher, bits, no SNI', rep)
ok(result.get('version') == 'TLSv1.3', 'client negotiated TLS 1.3', result)
ok(got == b'EHLO inside\r\n', 'client bytes reach the application in plaintext on fd 4', got)
ok(result.get('inside') == b'250 inside TLS\r\n', 'application bytes reach the client inside TLS', result)
ok(result.get('eof') == b'' and 'error' not in result, 'application close -> clean TLS close for the client', result)
ok(rc == 0, 'tern-tlsd exits 0 after the session', rc)
ok(last.get('ready') is True, "tern-tlsd answered the start byte with 'R' (ready) before the handshake", last)
ok(puid == 0, 'tern-tlsd running as nobody is not dumpable (/proc/PID/mem owned by root)', puid)

line, rep, got, rc, puid = run(maxv=ssl.TLSVersion.TLSv1_1)
ok(rep.startswith('ERR '), 'TLS 1.1 client: control reply ERR', rep)
ok('version' not in result, 'TLS 1.1 client gets no session', result)
ok(rc == 111, 'tern-tlsd exits 111 after a failed handshake', rc)

line, rep, got, rc, puid = run(maxv=ssl.TLSVersion.TLSv1_2)
ok(rep.startswith('OK TLSv1.2 ECDHE-'), 'TLS 1.2 client: forward-secret ECDHE suite', rep)

line, rep, got, rc, puid = run(sni='Other.Test')
default_der = ssl.PEM_cert_to_DER_cert(open(os.path.join(tlsdir, 'default.crt')).read())
other_der = ssl.PEM_cert_to_DER_cert(open(os.path.join(tlsdir, 'other.test.crt')).read())
ok(result.get('cert') == other_der, 'SNI other.test (any case) -> other.test.crt', rep)
ok(rep.rstrip('\n').endswith(' Other.Test'), 'control reply names the SNI', rep)

os.symlink('.', os.path.join(tlsdir, 'sub'))      # sub/other.test.crt would exist as a path
line, rep, got, rc, puid = run(sni='sub/other.test')
ok(result.get('cert') == default_der, "SNI with a '/' never names a file: default certificate", result.get('error'))

line, rep, got, rc, puid = run(sni='unknown.test')
ok(result.get('cert') == default_der, 'unknown SNI -> default certificate', result.get('error'))

line, rep, got, rc, puid = run(garbage=True)
ok(rep.startswith('ERR '), 'plaintext commands instead of a ClientHello: ERR, no session', rep)
ok(rc == 111, 'and tern-tlsd exits 111', rc)

# no usable certificate: the start byte is answered with an ERR line, not
# 'R' (the application then answers 454 instead of 220), exit 111
empty = os.path.join(tmp, 'nocert')
os.mkdir(empty)
os.chmod(empty, 0o755)
c = socket.create_connection(('127.0.0.1', port), 10)
s = Session(empty)
s.ctl.sendall(b'Y')
rep = s.reply()
rc = s.close()
c.close()
ok(not s.ready and rep == 'ERR no usable certificate\n' and rc == 111,
   'no certificate: the start byte gets "ERR no usable certificate", not R; exit 111', (s.ready, rep, rc))

# openssl s_client, as an administrator would check it
result.clear()
th_done = {}


def s_client():
    p = subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % port, '-starttls', 'smtp',
                        '-servername', 'other.test', '-brief'],
                       input=b'QUIT\r\n', capture_output=True, timeout=30)
    th_done['out'] = p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')


th = threading.Thread(target=s_client)
th.start()
s = Session()
s.conn.sendall(b'220 mx.demo.test ESMTP\r\n')
ehlo = s.conn.recv(200)
s.conn.sendall(b'250-mx.demo.test\r\n250 STARTTLS\r\n')
st = s.conn.recv(200)
s.conn.sendall(b'220 go ahead\r\n')
s.ctl.sendall(b'Y')
rep = s.reply()
try:
    q = s.data.recv(100)
except OSError:
    q = b''
s.data.sendall(b'221 bye\r\n')
s.data.shutdown(socket.SHUT_WR)
th.join(40)
s.close()
out = th_done.get('out', '')
ok(st.startswith(b'STARTTLS') and rep.startswith('OK '), 'openssl s_client -starttls smtp: handshake done', rep)
ok('CN = other.test' in out or 'CN=other.test' in out, 's_client sees the SNI certificate', out)

subprocess.run(['rm', '-rf', tmp])
tap.done()
