"""tlsserve.py: for the tests, what tern-listen does for a listener with TLS:
per connection tern-tlsd (as nobody here; terntls in an installation) on the
connection with fds 3 and 4 its ends of two socketpairs, and tern-smtpd (as
ternd) on the same connection with the other ends, SSLCTLFD=3 SSLREADFD=4
SSLWRITEFD=4, TERN_LISTENER, TCPREMOTEIP/TCPLOCALIP. Loopback only.

    import tlsserve
    tlsdir = tlsserve.mkcert(ROOT)            # ROOT/tls-test/default.{crt,key}
    mx = tlsserve.Server(ROOT, tlsdir, 'mx')  # mx.port; a thread accepts
    ...
    mx.close()

tern-smtpd is ROOT/bin/tern-smtpd, tern-tlsd the built one in the source
tree; both log to ROOT/smtpd-test.log."""
import fcntl
import os
import pwd
import socket
import subprocess
import sys
import threading

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TLSD = os.path.join(SRC, 'smtpd', 'tern-tlsd')
nobody = pwd.getpwnam('nobody')
ternd = pwd.getpwnam('ternd')


def mkcert(root, cn='mx.demo.test'):
    d = os.path.join(root, 'tls-test')
    os.makedirs(d, exist_ok=True)
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                    '-subj', '/CN=' + cn, '-keyout', os.path.join(d, 'default.key'),
                    '-out', os.path.join(d, 'default.crt')],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for f in ('default.key', 'default.crt'):
        os.chown(os.path.join(d, f), nobody.pw_uid, nobody.pw_gid)
    return d


def _as(user, ctl, dat):
    def child():
        # above 9 first: ctl or dat may be 3 or 4 themselves
        c = fcntl.fcntl(ctl, fcntl.F_DUPFD, 10)
        d = fcntl.fcntl(dat, fcntl.F_DUPFD, 10)
        os.dup2(c, 3)
        os.dup2(d, 4)
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    return child


class Server:
    def __init__(self, root, tlsdir, kind, log=None):
        self.root, self.tlsdir, self.kind = root, tlsdir, kind
        self.log = log or os.path.join(root, 'smtpd-test.log')
        self.procs = []
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            try:
                self._serve(conn, peer)
            except OSError as e:      # this connection only; the next one is served
                print('tlsserve: %s' % e, file=sys.stderr)
                conn.close()

    def _serve(self, conn, peer):
        ctl_a, ctl_b = socket.socketpair()
        dat_a, dat_b = socket.socketpair()
        nfd = conn.fileno()
        env = {'PATH': '/usr/bin:/bin', 'SSLCTLFD': '3', 'SSLREADFD': '4', 'SSLWRITEFD': '4',
               'TERN_LISTENER': self.kind, 'TCPREMOTEIP': peer[0], 'TCPLOCALIP': '127.0.0.1'}
        # close_fds=False: Python's own descriptors are not inheritable
        # (PEP 446), the dup2s onto 3 and 4 are; pass_fds=(3, 4) would fail
        # whenever the parent happens not to have 3 or 4 open
        with open(self.log, 'ab') as log:
            t = subprocess.Popen([TLSD, '-t', '10', '-d', self.tlsdir], stdin=nfd, stdout=nfd, stderr=log,
                                 preexec_fn=_as(nobody, ctl_b.fileno(), dat_b.fileno()),
                                 close_fds=False)
            s = subprocess.Popen([os.path.join(self.root, 'bin', 'tern-smtpd')], stdin=nfd, stdout=nfd,
                                 stderr=log, env=env, cwd='/',
                                 preexec_fn=_as(ternd, ctl_a.fileno(), dat_a.fileno()),
                                 close_fds=False)
        for x in (ctl_a, ctl_b, dat_a, dat_b, conn):
            x.close()
        self.procs = [p for p in self.procs if p.poll() is None] + [t, s]

    def close(self):
        self.sock.close()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
