#!/usr/bin/env python3
# 45-remote-mtasts.t: MTA-STS (RFC 8461) for tern-remote and tern-mtasts,
# in a private network namespace (40-remote-mx.t's) with dnsmasq serving
# the MX and _mta-sts TXT records, a test CA made here (43-remote-tls.t's
# way), HTTPS servers (Python's http.server with ssl) on 127.0.0.x:443
# serving the policy files, and Python SMTP sinks with STARTTLS:
#   a) enforce, the MX matches a "*." pattern and verifies against the CA
#      file -> delivered, "peer verified by MTA-STS"; the cache entry
#      HOME/remote-state/mta-sts/DOMAIN is written (mode 0600);
#   b) enforce, the MX is not in the policy -> deferred, naming MTA-STS,
#      nothing sent; enforce, the MX's certificate names another host ->
#      deferred, naming MTA-STS and why;
#   c) testing with a bad certificate -> delivered, and the failure that
#      enforce would have caused is on the delivery line;
#   d) a malformed policy file, one over 64 KiB, an HTTPS certificate from
#      another CA, a redirect: no policy, delivered as may, logged;
#   e) no _mta-sts record: delivered as may, nothing about MTA-STS said;
#   f) refresh: an entry checked long ago with the same TXT id is kept
#      (the server now serves another policy); a new id fetches it; a
#      policy whose max_age ran out is fetched again, and not used when
#      that fails;
#   g) DANE precedence is shown in 44-remote-dane.t's terms: control/
#      tlspolicy verify for the domain overrides MTA-STS (no lookup);
#   h) tern-remote never maps libcurl or libssl; tern-mtasts does not
#      open HOME/remote/auth (strace).
# Every wait is bounded.
import http.server, importlib.machinery, os, shutil, socketserver, ssl, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tap  # noqa: E402
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
TLSC = os.path.join(TOP, "send", "tern-tlsc")
MTASTS = os.path.join(TOP, "send", "tern-mtasts")

MSG = b"From: a@client.test\nTo: b@sts.test\nSubject: mta-sts\n\nover MTA-STS\n"


def sh(*a):
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def mkca(d, tag, names):
    """a CA (tag) and certificates it signs: (ca.crt, {name: (crt, key)})"""
    ca_key, ca_crt = os.path.join(d, tag + "-ca.key"), os.path.join(d, tag + "-ca.crt")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tern %s CA" % tag,
       "-keyout", ca_key, "-out", ca_crt)
    out = {}
    for name in names:
        key, csr, crt, ext = (os.path.join(d, tag + "-" + name + x) for x in (".key", ".csr", ".crt", ".ext"))
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\n" % name)
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
        sh("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
           "-days", "2", "-extfile", ext, "-out", crt)
        out[name] = (crt, key)
    return ca_crt, out


def sctx(pair):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(*pair)
    return c


class _H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server
        srv.hits.append(self.path)
        time.sleep(srv.delay)
        status, ctype, body = srv.reply
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", "https://elsewhere.test/")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class _HS(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Https:
    """an HTTPS server on ip:443 with certificate pair; reply = (status, content type, body),
    after delay seconds (46-remote-mtasts-system.t imports it)"""

    def __init__(self, ip, pair, body, status=200, ctype="text/plain"):
        self.srv = _HS((ip, 443), _H)
        self.srv.socket = sctx(pair).wrap_socket(self.srv.socket, server_side=True)
        self.srv.reply = (status, ctype, body)
        self.srv.hits = []
        self.srv.delay = 0
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def set(self, body, status=200, ctype="text/plain"):
        self.srv.reply = (status, ctype, body)

    @property
    def hits(self):
        return self.srv.hits

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def policy(mode, mx, max_age=86400):
    return ("version: STSv1\r\nmode: %s\r\n%smax_age: %d\r\n" % (mode, "".join("mx: %s\r\n" % m for m in mx), max_age)).encode()


# domain -> (MX host, MX address, policy server address, TXT id or None)
DOMAINS = {
    "enf.test": ("mx1.enf.test", "127.0.0.20", "127.0.0.40", "1"),
    "enfmiss.test": ("mx.elsewhere.test", "127.0.0.21", "127.0.0.41", "1"),
    "enfcert.test": ("mx.enfcert.test", "127.0.0.22", "127.0.0.42", "1"),
    "tst.test": ("mx.tst.test", "127.0.0.23", "127.0.0.43", "abc"),
    "badpol.test": ("mx.badpol.test", "127.0.0.24", "127.0.0.44", "1"),
    "big.test": ("mx.big.test", "127.0.0.25", "127.0.0.45", "1"),
    "badca.test": ("mx.badca.test", "127.0.0.26", "127.0.0.46", "1"),
    "redir.test": ("mx.redir.test", "127.0.0.27", "127.0.0.47", "1"),
    "none.test": ("mx.none.test", "127.0.0.28", None, None),
    "refresh.test": ("mx.refresh.test", "127.0.0.29", "127.0.0.49", "1"),
}


def dns_records(ids):
    r = []
    for d, (mx, ip, web, tid) in DOMAINS.items():
        r += ["--mx-host=%s,%s,10" % (d, mx), "--host-record=%s,%s" % (mx, ip)]
        if web:
            r += ["--host-record=mta-sts.%s,%s" % (d, web)]
        tid = ids.get(d, tid)
        if tid:
            r += ["--txt-record=_mta-sts.%s,v=STSv1; id=%s;" % (d, tid)]
    return r + ["--txt-record=_mta-sts.none.test,v=spf1 -all"]


def entry(root, d):
    try:
        with open(os.path.join(root.dir, "remote-state", "mta-sts", d), "rb") as f:
            return f.read()
    except OSError:
        return None


def age(root, d, checked=None, expires=None):
    """rewrite the entry's checked (and expires) times"""
    fn = os.path.join(root.dir, "remote-state", "mta-sts", d)
    with open(fn, "rb") as f:
        b = f.read()
    head, rest = b.split(b"\n", 1)
    w = head.split(b" ")
    if checked is not None:
        w[5] = str(checked).encode()
    if expires is not None:
        w[4] = str(expires).encode()
    with open(fn, "wb") as f:
        f.write(b" ".join(w) + b"\n" + rest)


def main():
    m40.enter_netns(os.path.abspath(__file__))
    for p in (TLSC, MTASTS):
        if not os.path.exists(p):
            print("Bail out! %s not built" % p)
            return 1
    if not shutil.which("strace"):
        print("Bail out! strace not installed")
        return 1
    dns = m40.start_dnsmasq(dns_records({}))
    tap.plan(19)
    root = m40.Root()
    for p in (TLSC, MTASTS):
        shutil.copy(p, os.path.join(root.dir, "bin", os.path.basename(p)))
    os.makedirs(os.path.join(root.dir, "remote"), 0o700, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tern-mtasts45.")
    names = [v[0] for v in DOMAINS.values()] + ["mta-sts." + d for d in DOMAINS] + ["wrong.name.test"]
    ca, certs = mkca(tmp, "test", names)
    _, other = mkca(tmp, "other", ["mta-sts.badca.test"])
    root.control(tlscafile=ca)
    sinks, webs = {}, {}
    try:
        for d, (mx, ip, web, _) in DOMAINS.items():
            pair = certs["wrong.name.test"] if d in ("enfcert.test", "tst.test") else certs[mx]
            sinks[d] = m40.Sink(ip, tls=sctx(pair))
        pols = {
            "enf.test": policy("enforce", ["*.enf.test", "mx.unused.test"]),
            "enfmiss.test": policy("enforce", ["mx.enfmiss.test"]),
            "enfcert.test": policy("enforce", ["mx.enfcert.test"]),
            "tst.test": policy("testing", ["mx.tst.test"]),
            "badpol.test": b"version: STSv1\nmode: enforce\nmx: mx.badpol.test\n",   # no max_age
            "big.test": policy("enforce", ["mx.big.test"]) + b"x-pad: " + b"p" * 70000 + b"\n",
            "badca.test": policy("enforce", ["mx.other.test"]),
            "redir.test": b"",
            "refresh.test": policy("enforce", ["mx.refresh.test"]),
        }
        for d, (mx, ip, web, _) in DOMAINS.items():
            if web:
                pair = other["mta-sts.badca.test"] if d == "badca.test" else certs["mta-sts." + d]
                webs[d] = Https(web, pair, pols[d], status=302 if d == "redir.test" else 200)

        def deliver(d):
            return root.run(d, "a@client.test", ["b@" + d], MSG)

        # ---- a) enforce, matching MX, verified
        r = deliver("enf.test")
        tap.ok(r and r[-1][0] == "K" and "peer verified by MTA-STS" in r[-1][1] and "policy MTA-STS enforce" in r[-1][1]
               and len(sinks["enf.test"].received) == 1 and sinks["enf.test"].received[0]["tls"] == "TLSv1.3",
               "enforce, the MX matches *.enf.test and verifies: delivered, verified by MTA-STS", r)
        e = entry(root, "enf.test")
        st = os.stat(os.path.join(root.dir, "remote-state", "mta-sts", "enf.test")) if e else None
        tap.ok(e and e.startswith(b"tern-mta-sts 1 1 ") and b"mode: enforce" in e and st.st_mode & 0o777 == 0o600
               and webs["enf.test"].hits == ["/.well-known/mta-sts.txt"],
               "the policy was fetched from /.well-known/mta-sts.txt and cached (0600)", (e, webs["enf.test"].hits))
        r = deliver("enf.test")
        tap.ok(r and r[-1][0] == "K" and "verified by MTA-STS" in r[-1][1] and len(webs["enf.test"].hits) == 1,
               "a fresh cache entry is used as it is (no second fetch)", (r, webs["enf.test"].hits))

        # ---- b) enforce failures
        r = deliver("enfmiss.test")
        tap.ok(r and r[-1][0] == "Z" and "MTA-STS policy of enfmiss.test (mode enforce) does not list it" in r[-1][1]
               and not sinks["enfmiss.test"].connections,
               "enforce, the MX is not in the policy: deferred, naming MTA-STS, not even connected", r)
        r = deliver("enfcert.test")
        tap.ok(r and r[-1][0] == "Z" and "MTA-STS policy of enfcert.test (mode enforce) requires verified TLS" in r[-1][1]
               and "did not verify" in r[-1][1] and not sinks["enfcert.test"].received,
               "enforce, the MX's certificate names another host: deferred, naming MTA-STS and why", r)

        # ---- c) testing
        r = deliver("tst.test")
        tap.ok(r and r[-1][0] == "K" and len(sinks["tst.test"].received) == 1 and "policy MTA-STS testing" in r[-1][1]
               and "MTA-STS testing for tst.test: enforce would have deferred: the certificate did not verify" in r[-1][1],
               "testing with a bad certificate: delivered, and the would-be failure logged", r)

        # ---- d) no usable policy: delivered as may, logged
        for d, why, desc in (("badpol.test", "the policy file is malformed", "a malformed policy file"),
                             ("big.test", "over 65536 bytes", "a policy file over 64 KiB"),
                             ("badca.test", "HTTPS: ", "an HTTPS certificate from another CA"),
                             ("redir.test", "status is 302", "a redirect (not followed)")):
            r = deliver(d)
            tap.ok(r and r[-1][0] == "K" and "policy may." in r[-1][1] and ("MTA-STS for %s: " % d) in r[-1][1]
                   and why in r[-1][1] and len(sinks[d].received) == 1,
                   desc + ": no policy, delivered as may, logged", r)

        # ---- e) no record
        r = deliver("none.test")
        e = entry(root, "none.test")
        tap.ok(r and r[-1][0] == "K" and "policy may." in r[-1][1] and "MTA-STS" not in r[-1][1]
               and e and e.startswith(b"tern-mta-sts 1 - ") and b"no _mta-sts TXT record" in e,
               "no _mta-sts record: delivered as may, nothing said, the absence cached", (r, e))

        # ---- f) refresh
        r = deliver("refresh.test")
        tap.ok(r and r[-1][0] == "K" and "verified by MTA-STS" in r[-1][1], "refresh.test: enforce, delivered", r)
        webs["refresh.test"].set(policy("testing", ["mx.refresh.test"]))
        age(root, "refresh.test", checked=1000)
        r = deliver("refresh.test")
        e = entry(root, "refresh.test")
        tap.ok(r and r[-1][0] == "K" and "policy MTA-STS enforce" in r[-1][1] and len(webs["refresh.test"].hits) == 1
               and e and b"policy id unchanged" in e and b" 1000\n" not in e.split(b"\n")[0],
               "checked long ago, same TXT id: the cached policy is kept, not fetched again", (r, e))
        dns.kill()
        dns.wait()
        dns = m40.start_dnsmasq(dns_records({"refresh.test": "2"}))
        age(root, "refresh.test", checked=1000)
        r = deliver("refresh.test")
        tap.ok(r and r[-1][0] == "K" and "policy MTA-STS testing" in r[-1][1] and len(webs["refresh.test"].hits) == 2,
               "a new TXT id: the policy is fetched again (now testing)", r)
        webs["refresh.test"].set(b"", status=404)
        age(root, "refresh.test", expires=1000)
        r = deliver("refresh.test")
        tap.ok(r and r[-1][0] == "K" and "policy may." in r[-1][1] and "status is 404" in r[-1][1]
               and len(webs["refresh.test"].hits) == 3,
               "a cached policy past its max_age is fetched again, and not used when that fails", r)

        # ---- g) control/tlspolicy rules where it says something else than may
        root.control(tlspolicy="enfmiss.test:encrypt")
        r = deliver("enfmiss.test")
        tap.ok(r and r[-1][0] == "K" and "policy encrypt." in r[-1][1] and len(sinks["enfmiss.test"].received) == 1,
               "control/tlspolicy encrypt for the domain: MTA-STS not applied", r)
        root.control(tlspolicy=None)

        # ---- h) privilege
        with open(os.path.join(root.dir, "remote", "auth"), "w") as f:
            f.write("x:user:secret\n")
        os.chmod(os.path.join(root.dir, "remote", "auth"), 0o600)
        os.unlink(os.path.join(root.dir, "remote-state", "mta-sts", "enf.test"))
        trace = os.path.join(tmp, "strace")
        mf = os.path.join(root.dir, "msg")
        with open(mf, "wb") as f:
            f.write(MSG)
        with open(mf, "rb") as fin:
            p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat,open,execve", "-o", trace,
                                root.bin, "enf.test", "a@client.test", str(len(MSG)), "b@enf.test"],
                               stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                               env={"PATH": "/usr/bin:/bin", "DNSCACHEIP": "127.0.0.1"})
        with open(trace) as f:
            tr = f.read()
        tap.ok(b"Kmx1.enf.test" in p.stdout and "tern-mtasts" in tr and "remote/auth" not in tr,
               "tern-mtasts ran (strace) and nothing opened HOME/remote/auth", (p.stdout[-300:], tr[-2000:]))
        maps = {}
        for line in tr.splitlines():
            if "openat(" in line and ".so" in line and "= -1" not in line:
                maps.setdefault(line.split()[0], []).append(line)
        rpid = [l.split()[0] for l in tr.splitlines() if "execve(\"" + root.bin in l][:1]
        rlibs = " ".join(maps.get(rpid[0], [])) if rpid else "?"
        mlibs = " ".join(" ".join(v) for k, v in maps.items() if rpid and k != rpid[0])
        tap.ok(rpid and "libcurl" not in rlibs and "libssl" not in rlibs and "libcurl" in mlibs,
               "tern-remote opens neither libcurl nor libssl; tern-mtasts opens libcurl", (rlibs, mlibs[:500]))
        tap.ok(not any(os.path.basename(f) == "core" for f in os.listdir(root.dir)), "no core file")
    finally:
        for s in sinks.values():
            s.stop()
        for w in webs.values():
            w.stop()
        dns.kill()
        root.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
