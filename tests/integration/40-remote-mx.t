#!/usr/bin/env python3
# 40-remote-mx.t: tern-remote against dnsmasq and Python SMTP sinks in a
# private network namespace (unshare -n, lo up: nothing leaves the host): MX order and
# fallback, implicit MX, null MX, MX loop, IPv6 over ::1, smtproutes,
# per-recipient results, 8BITMIME, SIZE, long lines, and hostile servers
# (long replies, 10 000-line reply, NULs, bad codes, close, hang, drop).
# Every wait is bounded. Also importable (41-remote-*.t and 43-remote-tls.t
# reuse Sink, Root; Sink's tls= ssl.SSLContext offers STARTTLS, smtps=
# starts in TLS, tls_fail= answers STARTTLS with 220 and then garbage;
# auth= {user: password} offers AUTH (auth_mechs, default "PLAIN LOGIN")
# inside TLS and records every attempt in Sink.auths).
import os, shutil, socket, socketserver, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tap  # noqa: E402  (tests/integration/tap.py; 41 and 42 use it too)
import ternctl  # noqa: E402
REMOTE = os.environ.get("TERN_REMOTE_BIN") or os.path.join(TOP, "send", "tern-remote")
# TERN_VALGRIND=1: run every tern-remote under valgrind (memcheck; exit 99
# on an error); TERN_REMOTE_WRAPPER: any other command prefix (split on spaces)
WRAPPER = os.environ.get("TERN_REMOTE_WRAPPER", "").split()
if os.environ.get("TERN_VALGRIND") == "1" and not WRAPPER:
    WRAPPER = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=no", "--track-fds=no"]


# ---------------------------------------------------------------- sinks
class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def w(self, b):
        self.wfile.write(b)
        self.wfile.flush()

    def handle(self):
        try:
            self.handle1()
        except OSError:
            pass

    def auth(self, line):
        """AUTH PLAIN [initial] or AUTH LOGIN; 235 or 535; srv.auths gets (mech, user, password, tls)"""
        import base64
        w = line.split()
        mech = w[1].upper().decode() if len(w) > 1 else ""
        try:
            if mech == "PLAIN":
                if len(w) > 2:
                    raw = w[2]
                else:
                    self.w(b"334 \r\n")
                    raw = self.rfile.readline(8192).strip()
                _, user, pw = base64.b64decode(raw).split(b"\0")
            elif mech == "LOGIN":
                self.w(b"334 VXNlcm5hbWU6\r\n")
                user = base64.b64decode(self.rfile.readline(8192).strip())
                self.w(b"334 UGFzc3dvcmQ6\r\n")
                pw = base64.b64decode(self.rfile.readline(8192).strip())
            else:
                self.w(b"504 5.5.4 unknown mechanism\r\n")
                return
        except ValueError:
            self.w(b"501 5.5.2 cannot decode\r\n")
            return
        user, pw = user.decode(), pw.decode()
        self.server.auths.append((mech, user, pw, self.tls))
        if self.server.beh.get("auth", {}).get(user) == pw and self.tls:
            self.w(b"235 2.7.0 authenticated\r\n")
        else:
            self.w(b"535 5.7.8 Error: authentication failed: bad credentials\r\n")

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def starttls(self, ctx):
        """the rest of the connection in TLS (server side of ctx)"""
        self.request = ctx.wrap_socket(self.request, server_side=True)
        self.rfile = self.request.makefile("rb")
        self.wfile = self.request.makefile("wb")
        self.tls = self.request.version()

    def handle1(self):
        srv = self.server
        b = srv.beh
        srv.connections += 1
        if b.get("hang"):
            time.sleep(b["hang"])
            return
        self.tls = None
        if b.get("smtps"):
            self.starttls(b["smtps"])
        self.w(b.get("greet", b"220 sink.test ESMTP\r\n"))
        if b.get("close_after_greeting"):
            return
        txn = {"from": None, "rcpt": [], "data": None, "helo": None, "tls": self.tls}
        while True:
            line = self.rfile.readline(8192)
            if not line:
                return
            up = line.upper()
            if up.startswith(b"EHLO"):
                txn["helo"] = line
                e = b.get("ehlo", b"250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10000000\r\n250 SMTPUTF8\r\n")
                if (b.get("tls") or b.get("tls_fail")) and not self.tls:
                    e = e.replace(b"\r\n", b"\r\n250-STARTTLS\r\n", 1)
                if b.get("auth") and self.tls:
                    e = e.replace(b"\r\n", b"\r\n250-AUTH " + b.get("auth_mechs", b"PLAIN LOGIN") + b"\r\n", 1)
                self.w(e)
            elif up.startswith(b"AUTH"):
                self.auth(line)
            elif up.startswith(b"STARTTLS") and (b.get("tls") or b.get("tls_fail")) and not self.tls:
                self.w(b"220 go ahead\r\n")
                if b.get("tls_fail"):
                    self.w(b"this is no TLS record\r\n" * 20)
                    return
                self.starttls(b["tls"])
                txn = {"from": None, "rcpt": [], "data": None, "helo": None, "tls": self.tls}
            elif up.startswith(b"HELO"):
                txn["helo"] = line
                self.w(b.get("helo", b"250 sink.test\r\n"))
            elif up.startswith(b"MAIL"):
                txn["from"] = line
                self.w(b.get("mail", b"250 ok\r\n"))
            elif up.startswith(b"RCPT"):
                addr = line[line.index(b"<") + 1:line.rindex(b">")].decode("utf-8", "replace") if b"<" in line else ""
                r = b.get("rcpt", lambda a: b"250 ok\r\n")(addr)
                if r.startswith(b"2"):
                    txn["rcpt"].append(addr)
                self.w(r)
            elif up.startswith(b"DATA"):
                r = b.get("data", b"354 go ahead\r\n")
                self.w(r)
                if not r.startswith(b"354"):
                    continue
                lines = []
                while True:
                    l = self.rfile.readline(1 << 20)
                    if not l:
                        return
                    if b.get("drop_mid_data"):
                        return
                    if l == b".\r\n":
                        break
                    lines.append(l)
                txn["data"] = b"".join(lines)
                if b.get("delay"):
                    time.sleep(b["delay"])
                srv.received.append(dict(txn))
                self.w(b.get("final", b"250 ok queued as 1\r\n"))
                txn = {"from": None, "rcpt": [], "data": None, "helo": txn["helo"]}
            elif up.startswith(b"QUIT"):
                self.w(b"221 bye\r\n")
                return
            elif up.startswith(b"RSET"):
                self.w(b"250 ok\r\n")
            else:
                self.w(b"500 what?\r\n")


class _TS(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _TS6(_TS):
    address_family = socket.AF_INET6


class Sink:
    """An SMTP server on (ip, port) answering as beh says."""

    def __init__(self, ip, port=25, **beh):
        cls = _TS6 if ":" in ip else _TS
        self.srv = cls((ip, port), _Handler)
        self.srv.beh = beh
        self.srv.received = []
        self.srv.auths = []
        self.srv.connections = 0
        self.t = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.t.start()

    @property
    def received(self):
        return self.srv.received

    @property
    def auths(self):
        return self.srv.auths

    @property
    def connections(self):
        return self.srv.connections

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


# ---------------------------------------------------------------- instance
class Root:
    """A temporary HOME with bin/tern-remote and control/."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tern-remote-")
        os.mkdir(os.path.join(self.dir, "bin"))
        os.mkdir(os.path.join(self.dir, "control"))
        os.makedirs(os.path.join(self.dir, "remote"))
        os.makedirs(os.path.join(self.dir, "remote-state"))
        self.tcpto = os.path.join(self.dir, "remote-state", "tcpto")
        with open(self.tcpto, "wb") as f:
            f.write(bytes(1024))
        self.bin = os.path.join(self.dir, "bin", "tern-remote")
        self.wrapper_errors = []
        shutil.copy(REMOTE, self.bin)
        self.control(me="client.test", timeoutremote="5", timeoutconnect="3", timeoutdns="20")

    def control(self, **kw):
        for k, v in kw.items():
            ternctl.write(self.dir, k, None if v is None else v + "\n")

    def run(self, host, sender, rcpts, msg, timeout=60, dnsip="127.0.0.1"):
        mf = os.path.join(self.dir, "msg")
        with open(mf, "wb") as f:
            f.write(msg)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DNSCACHEIP": dnsip}
        t0 = time.time()
        with open(mf, "rb") as fin:
            p = subprocess.run(WRAPPER + [self.bin, host, sender, str(len(msg))] + rcpts, stdin=fin,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout)
        self.elapsed = time.time() - t0
        self.rc = p.returncode
        if WRAPPER and (p.returncode or p.stderr):
            self.wrapper_errors.append((host, rcpts[:2], p.returncode, p.stderr.decode("utf-8", "replace")[-3000:]))
        out = p.stdout
        recs = out.split(b"\0")
        self.trailing = recs[-1]
        return [(r[:1].decode(), r[1:].decode("utf-8", "replace")) for r in recs[:-1]]

    def tcpto_get(self):
        """{ip16: (count, when)} of the used records in remote-state/tcpto"""
        with open(self.tcpto, "rb") as f:
            t = f.read()
        return {t[i:i + 16]: (t[i + 16], int.from_bytes(t[i + 24:i + 32], "little"))
                for i in range(0, 1024, 32) if t[i + 16]}

    def tcpto_set(self, recs):
        """recs: [(ip16, count, when)] written from record 0 on, the rest zero"""
        t = bytearray(1024)
        for k, (ip, n, when) in enumerate(recs):
            t[k * 32:k * 32 + 16] = ip
            t[k * 32 + 16] = n
            t[k * 32 + 24:k * 32 + 32] = when.to_bytes(8, "little")
        with open(self.tcpto, "wb") as f:
            f.write(bytes(t))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def enter_netns(script):
    """Re-exec script inside a new network namespace (root only)."""
    if os.environ.get("TERN_IN_NETNS") == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    if os.geteuid() != 0:
        tap.skip_all("needs root (network namespace, ports 25 and 53)")
    for prog in ("dnsmasq", "unshare", "ip"):
        if not shutil.which(prog):
            tap.skip_all("%s not installed" % prog)
    if not os.path.exists(REMOTE):
        tap.skip_all("send/tern-remote not built")
    os.environ["TERN_IN_NETNS"] = "1"
    os.execvp("unshare", ["unshare", "-n", sys.executable, script])


def start_dnsmasq(records):
    """dnsmasq on 127.0.0.1:53 with the given --option list; waits (<= 5 s) until it answers."""
    p = subprocess.Popen(["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                          "--bind-interfaces", "--listen-address=127.0.0.1", "--port=53", "--pid-file=",
                          "--user=root", "--group=root", "--local=/test/", "--log-facility=/dev/null"] + records,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # a minimal DNS query for "x.test" A; any answer means it is up
    if dns_up("127.0.0.1", 50):
        return p
    p.kill()
    raise SystemExit("Bail out! dnsmasq did not start")


def dns_up(ip, tries):
    """True once the DNS server on ip:53 answers a query for x.test A (tries x 0.1 s)"""
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x04test\x00\x00\x01\x00\x01"
    for _ in range(tries):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.1)
        try:
            s.sendto(q, (ip, 53))
            s.recvfrom(512)
            return True
        except OSError:
            time.sleep(0.1)
        finally:
            s.close()
    return False


MSG = b"From: a@client.test\nTo: b@example.test\nSubject: test\n\nline one\n.leading dot\n..two dots\nlast line\n"


def main():
    enter_netns(os.path.abspath(__file__))
    dns = start_dnsmasq([
        "--mx-host=example.test,mx1.example.test,10", "--mx-host=example.test,mx2.example.test,20",
        "--host-record=mx1.example.test,127.0.0.10", "--host-record=mx2.example.test,127.0.0.11",
        "--mx-host=fallback.test,dead.fallback.test,10", "--mx-host=fallback.test,live.fallback.test,20",
        "--host-record=dead.fallback.test,127.0.0.12", "--host-record=live.fallback.test,127.0.0.13",
        "--host-record=implicit.test,127.0.0.14",
        "--mx-host=nullmx.test,.,0",
        "--mx-host=loop.test,me.loop.test,10", "--host-record=me.loop.test,127.0.0.1",
        "--mx-host=v6.test,mx.v6.test,10", "--host-record=mx.v6.test,::1",
        "--host-record=eight.test,127.0.0.18", "--host-record=small.test,127.0.0.19",
        "--host-record=bad1.test,127.0.0.21", "--host-record=bad2.test,127.0.0.22",
        "--host-record=bad3.test,127.0.0.23", "--host-record=bad4.test,127.0.0.24",
        "--host-record=bad5.test,127.0.0.25", "--host-record=bad6.test,127.0.0.26",
        "--host-record=bad7.test,127.0.0.27", "--host-record=bad8.test,127.0.0.28",
        "--host-record=bad9.test,127.0.0.29", "--host-record=helo.test,127.0.0.30",
        "--host-record=nopipe.test,127.0.0.31", "--host-record=data4.test,127.0.0.32",
        "--mx-host=busy.test,mxa.busy.test,10", "--mx-host=busy.test,mxb.busy.test,20",
        "--host-record=mxa.busy.test,127.0.0.33", "--host-record=mxb.busy.test,127.0.0.34",
    ])
    tap.plan(51 + bool(WRAPPER))
    root = Root()
    sinks = []

    def sink(ip, port=25, **beh):
        s = Sink(ip, port, **beh)
        sinks.append(s)
        return s

    try:
        # ---- MX preference: mx1 (10) before mx2 (20)
        mx1 = sink("127.0.0.10")
        mx2 = sink("127.0.0.11")
        r = root.run("example.test", "a@client.test", ["b@example.test", "c@example.test"], MSG)
        tap.ok(r == [("r", ""), ("r", ""), ("K", r[-1][1])] and r[-1][1].startswith("mx1.example.test[127.0.0.10] accepted message."),
               "MX preference: the best MX gets the message, two recipients, one transaction", r)
        tap.ok(len(mx1.received) == 1 and mx1.received[0]["rcpt"] == ["b@example.test", "c@example.test"] and mx2.connections == 0,
               "one SMTP transaction with both RCPTs, second MX untouched", (mx1.received, mx2.connections))
        want = MSG.replace(b"\n", b"\r\n").replace(b"\r\n.", b"\r\n..")
        tap.ok(mx1.received and mx1.received[0]["data"] == want, "CRLF line ends and dot-stuffing on the wire",
               mx1.received and mx1.received[0]["data"])
        tap.ok(root.rc == 0 and root.trailing == b"", "exit 0, reports NUL-terminated")
        tap.ok(mx1.received and mx1.received[0]["helo"] == b"EHLO client.test\r\n", "EHLO with control/me as helohost")
        # per-recipient: 550 + 250 in one transaction
        mx1.srv.beh["rcpt"] = lambda a: b"550 5.1.1 no such user\r\n" if a.startswith("bad") else b"250 ok\r\n"
        r = root.run("example.test", "a@client.test", ["bad@example.test", "good@example.test"], MSG)
        tap.ok(len(r) == 3 and r[0][0] == "h" and "550 5.1.1 no such user" in r[0][1] and r[0][1].endswith(" (#5.1.1)")
               and r[1] == ("r", "") and r[2][0] == "K" and r[2][1].endswith(" (#2.0.0)"),
               "per-recipient: 550 -> h (#5.1.1), 250 -> r, message K (#2.0.0)", r)
        tap.ok(mx1.received[-1]["rcpt"] == ["good@example.test"], "only the accepted recipient got the message")
        mx1.srv.beh["rcpt"] = lambda a: b"451 4.3.0 try later\r\n"
        r = root.run("example.test", "a@client.test", ["x@example.test"], MSG)
        tap.ok(len(r) == 2 and r[0][0] == "s" and r[0][1].endswith(" (#4.3.0)") and r[1][0] == "D",
               "RCPT 451: s report (#4.3.0), no DATA (message D: no recipient)", r)
        del mx1.srv.beh["rcpt"]
        # MAIL refused
        mx1.srv.beh["mail"] = b"553 5.1.7 bad sender\r\n"
        r = root.run("example.test", "a@client.test", ["x@example.test"], MSG)
        tap.ok(r[-1][0] == "D" and "553 5.1.7" in r[-1][1] and r[-1][1].endswith(" (#5.1.7)"), "MAIL 553: permanent (#5.1.7)", r)
        del mx1.srv.beh["mail"]
        # quoting of a local part that is not a dot-string
        root.run("example.test", "a@client.test", ["john smith@example.test"], MSG)
        tap.ok(mx1.received[-1]["rcpt"] == ['"john smith"@example.test'], "local part quoted on the wire", mx1.received[-1]["rcpt"])
        # SMTPUTF8 advertised: UTF-8 recipient goes through with the SMTPUTF8 parameter
        root.run("example.test", "a@client.test", ["jösé@example.test"], MSG)
        tap.ok(mx1.received[-1]["from"].rstrip().endswith(b"SMTPUTF8"), "UTF-8 recipient: MAIL ... SMTPUTF8", mx1.received[-1]["from"])

        # null reverse-path (a bounce)
        r = root.run("example.test", "", ["b@example.test"], MSG)
        tap.ok(r[-1][0] == "K" and mx1.received[-1]["from"].startswith(b"MAIL FROM:<> "), "null sender: MAIL FROM:<>", mx1.received[-1]["from"])

        # ---- fallback to the second MX when the first refuses connections (nothing on 127.0.0.12)
        live = sink("127.0.0.13")
        r = root.run("fallback.test", "a@client.test", ["b@fallback.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and len(live.received) == 1, "first MX refuses connections: second MX gets it", r)

        # ---- implicit MX (A record only)
        imp = sink("127.0.0.14")
        r = root.run("implicit.test", "a@client.test", ["b@implicit.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and len(imp.received) == 1, "no MX: the A record is the implicit MX", r)

        # ---- null MX
        r = root.run("nullmx.test", "a@client.test", ["b@nullmx.test"], MSG)
        tap.ok(r and r[-1][0] == "D" and "5.1.10" in r[-1][1] and root.elapsed < 10, "null MX: permanent failure at once", r)

        # ---- no such domain
        r = root.run("nosuch.test", "a@client.test", ["b@nosuch.test"], MSG)
        tap.ok(r and r[-1][0] == "D" and "5.1.2" in r[-1][1], "NXDOMAIN: permanent (#5.1.2)", r)

        # ---- MX loop: the MX is one of our own addresses (127.0.0.1 on lo)
        r = root.run("loop.test", "a@client.test", ["b@loop.test"], MSG)
        tap.ok(r and r[-1][0] == "D" and "5.4.6" in r[-1][1], "MX loop: permanent (#5.4.6)", r)
        root.control(moreipme="127.0.0.14")
        r = root.run("implicit.test", "a@client.test", ["b@implicit.test"], MSG)
        tap.ok(r and r[-1][0] == "D" and "5.4.6" in r[-1][1], "control/moreipme: the implicit MX is us: loop", r)
        root.control(moreipme=None)

        # ---- IPv6-only MX over ::1 (::1 is ours on lo, so control/notipme says otherwise)
        v6 = sink("::1")
        r = root.run("v6.test", "a@client.test", ["b@v6.test"], MSG)
        tap.ok(r and r[-1][0] == "D" and "5.4.6" in r[-1][1], "IPv6 MX on ::1 without notipme: loop", r)
        root.control(notipme="::1")
        r = root.run("v6.test", "a@client.test", ["b@v6.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "[::1]" in r[-1][1] and len(v6.received) == 1, "IPv6-only MX delivered over ::1", r)
        root.control(notipme=None, remotefamily="ipv4")
        r = root.run("v6.test", "a@client.test", ["b@v6.test"], MSG)
        tap.ok(r and r[-1][0] == "D" and "5.4.4" in r[-1][1], "control/remotefamily ipv4: no usable address for an IPv6-only MX", r)
        root.control(remotefamily=None)

        # ---- smtproutes: port, .domain wildcard, default route, empty relay = MX
        rt = sink("127.0.0.15", 2525)
        wild = sink("127.0.0.16")
        dflt = sink("127.0.0.17")
        root.control(smtproutes="route.test:127.0.0.15:2525\n.wild.test:[127.0.0.16]\nexample.test:\n:127.0.0.17")
        n1 = len(mx1.received)
        r1 = root.run("route.test", "a@client.test", ["b@route.test"], MSG)
        r2 = root.run("a.b.wild.test", "a@client.test", ["b@a.b.wild.test"], MSG)
        r3 = root.run("elsewhere.test", "a@client.test", ["b@elsewhere.test"], MSG)
        r4 = root.run("example.test", "a@client.test", ["b@example.test"], MSG)
        tap.ok(r1[-1][0] == "K" and len(rt.received) == 1, "smtproutes domain:relay:port", r1)
        tap.ok(r2[-1][0] == "K" and len(wild.received) == 1, "smtproutes .domain wildcard with a [literal] relay", r2)
        tap.ok(r3[-1][0] == "K" and len(dflt.received) == 1, "smtproutes default route (empty domain)", r3)
        tap.ok(r4[-1][0] == "K" and len(mx1.received) == n1 + 1, "smtproutes empty relay: MX lookup as usual", r4)
        root.control(smtproutes="route.test:127.0.0.15:99999")
        r = root.run("route.test", "a@client.test", ["b@route.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "smtproutes" in r[-1][1], "malformed smtproutes entry: temporary, says so", r)
        root.control(smtproutes=None)

        # ---- 8BITMIME: 8-bit body to a server without it: permanent 5.6.3, nothing sent
        e8 = sink("127.0.0.18", ehlo=b"250-sink.test\r\n250 PIPELINING\r\n")
        r = root.run("eight.test", "a@client.test", ["b@eight.test"], MSG + "caf\u00e9\n".encode())
        tap.ok(r[-1][0] == "D" and "5.6.3" in r[-1][1] and not e8.received, "8-bit body, no 8BITMIME: D 5.6.3, not sent", r)
        r = root.run("eight.test", "a@client.test", ["b@eight.test"], MSG)
        tap.ok(r[-1][0] == "K" and len(e8.received) == 1, "7-bit body to the same server: delivered", r)
        r = root.run("eight.test", "a@client.test", ["jösé@eight.test", "b@eight.test"], MSG)
        tap.ok(r[0][0] == "h" and "5.6.7" in r[0][1] and r[1] == ("r", "") and r[-1][0] == "K",
               "UTF-8 recipient to a server without SMTPUTF8: h 5.6.7, the ASCII one delivered", r)
        r = root.run("eight.test", "a@client.test", ["b@eight.test"], MSG + b"x" * 999 + b"\n")
        tap.ok(r[-1][0] == "D" and "5.6.0" in r[-1][1], "a 999-octet line: D 5.6.0 (no folding, no truncation)", r)

        # ---- SIZE
        sm = sink("127.0.0.19", ehlo=b"250-sink.test\r\n250 SIZE 50\r\n")
        r = root.run("small.test", "a@client.test", ["b@small.test"], MSG)
        tap.ok(r[-1][0] == "D" and "5.3.4" in r[-1][1] and not sm.received, "SIZE 50 and a bigger message: D 5.3.4", r)

        # ---- hostile servers
        sink("127.0.0.21", ehlo=b"250-sink.test\r\n250-" + b"x" * 1500 + b"\r\n250 8BITMIME\r\n",
             final=b"250 " + b"y" * 1200 + b"\r\n")
        r = root.run("bad1.test", "a@client.test", ["b@bad1.test"], MSG)
        tap.ok(r[-1][0] == "K", "reply lines of 1500 octets: accepted", r[-1][:1] + (r[-1][1][:80],))
        sink("127.0.0.22", greet=b"220 " + b"z" * 5000 + b"\r\n")
        r = root.run("bad2.test", "a@client.test", ["b@bad2.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "too long" in r[-1][1], "a 5000-octet reply line: temporary, 'too long'", r)
        sink("127.0.0.23", ehlo=b"250-sink.test\r\n" + b"250-X\r\n" * 10000 + b"250 8BITMIME\r\n")
        r = root.run("bad3.test", "a@client.test", ["b@bad3.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "too many lines" in r[-1][1], "a 10000-line reply: temporary", r)
        b4 = sink("127.0.0.24", final=b"250 ok\0\0queued\r\n")
        r = root.run("bad4.test", "a@client.test", ["b@bad4.test"], MSG)
        tap.ok(r[-1][0] == "K" and "250 ok??queued (#2.0.0)" in r[-1][1] and len(b4.received) == 1, "NUL bytes in a reply: shown as ?", r)
        sink("127.0.0.25", greet=b"2200 hello\r\n")
        r = root.run("bad5.test", "a@client.test", ["b@bad5.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "3-digit" in r[-1][1], "a 4-digit reply code: temporary", r)
        sink("127.0.0.26", close_after_greeting=True)
        r = root.run("bad6.test", "a@client.test", ["b@bad6.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "closed" in r[-1][1], "server closes after the greeting: temporary", r)
        sink("127.0.0.27", hang=8)
        r = root.run("bad7.test", "a@client.test", ["b@bad7.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "Timed out" in r[-1][1] and root.elapsed < 8, "hanging server: timeoutremote (5 s), temporary", (r, root.elapsed))
        b8 = sink("127.0.0.28", drop_mid_data=True)
        r = root.run("bad8.test", "a@client.test", ["b@bad8.test"], MSG)
        tap.ok(r[-1][0] == "Z" and not b8.received, "connection dropped mid-DATA: temporary", r)
        sink("127.0.0.29", greet=b"421 4.3.2 busy\r\n")
        r = root.run("bad9.test", "a@client.test", ["b@bad9.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "greeting failed" in r[-1][1], "4xx greeting: temporary", r)
        d4 = sink("127.0.0.32", data=b"451 4.3.0 not now\r\n")
        r = root.run("data4.test", "a@client.test", ["b@data4.test"], MSG)
        tap.ok(r[0] == ("r", "") and r[-1][0] == "Z" and "451 4.3.0" in r[-1][1] and r[-1][1].endswith(" (#4.3.0)") and not d4.received,
               "4xx on DATA: temporary (#4.3.0)", r)
        # ---- EHLO refused: HELO, and no extensions used
        hs = sink("127.0.0.30", ehlo=b"502 5.5.2 no EHLO here\r\n")
        r = root.run("helo.test", "a@client.test", ["b@helo.test"], MSG)
        tap.ok(r[-1][0] == "K" and hs.received and hs.received[0]["helo"] == b"HELO client.test\r\n"
               and b"SIZE=" not in hs.received[0]["from"], "EHLO 502: HELO fallback, plain MAIL", (r, hs.received))
        # ---- no PIPELINING: one command at a time, per-recipient results still right
        npipe = sink("127.0.0.31", ehlo=b"250-sink.test\r\n250 8BITMIME\r\n",
                     rcpt=lambda a: b"550 5.1.1 unknown\r\n" if a.startswith("bad") else b"250 ok\r\n")
        r = root.run("nopipe.test", "a@client.test", ["bad@nopipe.test", "good@nopipe.test"], MSG)
        tap.ok([x[0] for x in r] == ["h", "r", "K"] and r[0][1].endswith("550 5.1.1 unknown (#5.1.1)") and npipe.received[-1]["rcpt"] == ["good@nopipe.test"],
               "without PIPELINING: 550 + 250, one delivered", r)
        r = root.run("nopipe.test", "a@client.test", ["bad@nopipe.test"], MSG)
        tap.ok([x[0] for x in r] == ["h", "D"] and len(npipe.received) == 1, "without PIPELINING, no recipient accepted: no DATA", r)
        # ---- 4xx greeting on the first MX: the second MX gets it
        ba = sink("127.0.0.33", greet=b"421 4.3.2 too busy\r\n")
        bb = sink("127.0.0.34")
        r = root.run("busy.test", "a@client.test", ["b@busy.test"], MSG)
        tap.ok(r[-1][0] == "K" and ba.connections == 1 and len(bb.received) == 1, "4xx greeting on MX 10: MX 20 delivers", r)
        # ---- a resolver that never answers: the DNS phase is bounded by control/timeoutdns
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.2", 53))
        root.control(timeoutdns="2")
        r = root.run("example.test", "a@client.test", ["b@example.test"], MSG, dnsip="127.0.0.2")
        tap.ok(r == [("Z", r[0][1])] and "DNS" in r[0][1] and root.elapsed < 6, "silent resolver: Z after timeoutdns (2 s)", (r, root.elapsed))
        root.control(timeoutdns="20")
        silent.close()

        # ---- tcpto (remote-state/tcpto): a connect timeout is recorded; a
        # dead address is skipped; a successful connect clears the record
        def v4(a):
            return b"\0" * 10 + b"\xff\xff" + socket.inet_aton(a)
        full = socket.socket()                  # backlog full: SYNs dropped, connects time out
        full.bind(("127.0.0.35", 25))
        full.listen(0)
        fillers = []
        for _ in range(3):
            f = socket.socket()
            f.setblocking(False)
            try:
                f.connect(("127.0.0.35", 25))
            except BlockingIOError:
                pass
            fillers.append(f)
        time.sleep(0.2)
        root.control(timeoutconnect="1")
        r = root.run("[127.0.0.35]", "a@client.test", ["b@[127.0.0.35]"], MSG)
        t = root.tcpto_get()
        tap.ok(r[-1][0] == "Z" and "timed out" in r[-1][1] and t.get(v4("127.0.0.35"), (0,))[0] == 1,
               "connect timeout: Z, recorded in tcpto with count 1", (r, t))
        r = root.run("[127.0.0.35]", "a@client.test", ["b@[127.0.0.35]"], MSG)
        t = root.tcpto_get()
        tap.ok(t.get(v4("127.0.0.35"), (0,))[0] == 1 and root.elapsed >= 0.9,
               "a second timeout within 2 minutes: tried, not counted", (r, t, root.elapsed))
        for f in fillers:
            f.close()
        full.close()
        root.control(timeoutconnect="3")
        now = int(time.time())
        # MX 10 (127.0.0.10) is dead: skipped, MX 20 gets the message
        root.tcpto_set([(v4("127.0.0.10"), 2, now - 10)])
        n1, n2, c1 = len(mx1.received), len(mx2.received), mx1.connections
        r = root.run("example.test", "a@client.test", ["b@example.test"], MSG)
        tap.ok(r[-1][0] == "K" and mx1.connections == c1 and len(mx2.received) == n2 + 1,
               "tcpto: a dead best MX is skipped, the next MX delivers", (r, mx1.connections, c1))
        # every address dead: Z without any connection, saying why
        root.tcpto_set([(v4("127.0.0.10"), 2, now - 10), (v4("127.0.0.11"), 10, now - 10)])
        c2 = mx2.connections
        r = root.run("example.test", "a@client.test", ["b@example.test"], MSG)
        tap.ok(r[-1][0] == "Z" and "timed out recently" in r[-1][1] and mx1.connections == c1 and mx2.connections == c2,
               "tcpto: all addresses dead: Z, nothing tried", r)
        # expired (older than 97 minutes): tried again, and the success clears it
        root.tcpto_set([(v4("127.0.0.10"), 2, now - 6000), (v4("127.0.0.11"), 10, now - 10)])
        r = root.run("example.test", "a@client.test", ["b@example.test"], MSG)
        t = root.tcpto_get()
        tap.ok(r[-1][0] == "K" and len(mx1.received) == n1 + 1 and v4("127.0.0.10") not in t and t.get(v4("127.0.0.11"), (0,))[0] == 10,
               "tcpto: an expired record is tried; the successful connect clears only its record", (r, t))
        root.tcpto_set([])
        if WRAPPER:
            tap.ok(not root.wrapper_errors, "every tern-remote under %s: exit 0, nothing on stderr" % WRAPPER[0],
                   "\n".join("%s %s: exit %d\n%s" % e for e in root.wrapper_errors))
    finally:
        for s in sinks:
            s.stop()
        dns.kill()
        dns.wait(timeout=5)
        root.cleanup()
    tap.done()


if __name__ == "__main__":
    main()
