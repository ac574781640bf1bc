#!/usr/bin/env python3
# 43-remote-tls.t: tern-remote's STARTTLS through tern-tlsc and
# control/tlspolicy, in a private network namespace with dnsmasq (as
# 40-remote-mx.t) and a test CA made here:
#   a) a private Postfix (42-remote-system.t's) with
#      smtpd_tls_security_level = encrypt gets the message over TLS 1.3,
#      and, on its submission port 587 with Dovecot SASL (a private
#      Dovecot, auth service only, passwd-file), by AUTH PLAIN over
#      verified TLS; a wrong password defers with Postfix's text;
#      and the delivery line says protocol, cipher, and how the peer was
#      verified; while a delivery runs tern-remote maps no libssl and its
#      tern-tlsc child does;
#   b) verify: the test CA and the MX name -> delivered, "verified by CA";
#      a certificate for another name -> deferred, saying policy and why;
#      match= names the right one -> delivered;
#   c) a peer without STARTTLS: plaintext under may, deferral under encrypt;
#   d) a peer whose handshake fails: TLS NO-GO, the next connection in
#      plaintext under may; deferral under encrypt;
#   e) none: no STARTTLS even when offered; a malformed policy line defers;
#      dane-only with dnsmasq (no AD bit) defers (DANE itself: 44-remote-dane.t);
#   f) port 465 from control/smtproutes: TLS from the first byte;
#   g) a relay with AUTH (smtproutes " auth=NAME", HOME/remote/auth): PLAIN
#      and LOGIN after STARTTLS on 587 and on 465; a wrong password defers
#      with the server's text; no AUTH ever before a verified TLS (an
#      unverified certificate, no STARTTLS); a credentials file others may
#      read is not used;
#   h) a whole instance (42's: s6, tern-send, tern-rspawn): tern-remote runs
#      as ternr and never maps libssl, its tern-tlsc (ternr too) does, the
#      message arrives over TLS 1.3 and the send log's line says so.
# Every wait is bounded.
import importlib.machinery, os, pwd, shutil, ssl, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tap  # noqa: E402  (tests/integration/tap.py)
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
m42 = importlib.machinery.SourceFileLoader("remote42", os.path.join(HERE, "42-remote-system.t")).load_module()
TLSC = os.path.join(TOP, "send", "tern-tlsc")

MSG = b"From: a@client.test\nTo: b@tls.test\nSubject: tls\n\nover TLS\n"


def sh(*a):
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def mkca(d):
    """a test CA, and certificates it signs: name -> (crt, key)"""
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tern test CA",
       "-keyout", ca_key, "-out", ca_crt)
    out = {}
    for name in ("mx.tls.test", "mx.wrong.test", "other.name.test", "relay.auth.test"):
        key, csr, crt = (os.path.join(d, name + x) for x in (".key", ".csr", ".crt"))
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\n" % name)
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
        sh("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
           "-days", "2", "-extfile", ext, "-out", crt)
        os.chmod(key, 0o644)
        out[name] = (crt, key)
    return ca_crt, out


def sctx(pair):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(*pair)
    return c


def start_dovecot(d):
    """a private Dovecot, auth service only, alice@tls.test:pf-secret; its
    auth-client socket path, or None when Dovecot is missing or does not start"""
    if not os.access("/usr/sbin/dovecot", os.X_OK):
        return None
    dd = os.path.join(d, "dovecot")
    for x in ("run", "state"):
        os.makedirs(os.path.join(dd, x))
    os.chmod(dd, 0o755)
    os.chmod(os.path.join(dd, "run"), 0o755)
    with open(os.path.join(dd, "passwd"), "w") as f:
        f.write("alice@tls.test:{PLAIN}pf-secret\n")
    os.chmod(os.path.join(dd, "passwd"), 0o644)
    with open(os.path.join(dd, "dovecot.conf"), "w") as f:
        f.write("""base_dir = %(d)s/run
state_dir = %(d)s/state
log_path = %(d)s/dovecot.log
protocols =
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN %(d)s/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
""" % dict(d=dd))
    p = subprocess.Popen(["/usr/sbin/dovecot", "-c", os.path.join(dd, "dovecot.conf"), "-F"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    DOVECOTS.append(p)
    sock = os.path.join(dd, "run", "auth-client")
    return sock if m42.wait_for(15, lambda: os.path.exists(sock)) else None


DOVECOTS = []


def uid_sampler(prefix, stop, seen):
    """while stop is unset: (uid, maps libssl) of every process whose executable is prefix + name"""
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                exe = os.readlink("/proc/%s/exe" % pid)
                if not exe.startswith(prefix):
                    continue
                with open("/proc/%s/status" % pid) as f:
                    uid = int([l for l in f if l.startswith("Uid:")][0].split()[1])
                with open("/proc/%s/maps" % pid) as f:
                    m = f.read()
            except (OSError, IndexError):
                continue
            seen.setdefault(exe[len(prefix):], []).append((uid, "libssl" in m))
        time.sleep(0.005)


def maps_sampler(stop, seen):
    """while stop is unset: the maps of every tern-remote and tern-tlsc"""
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/comm" % pid) as f:
                    comm = f.read().strip()
                if comm not in ("tern-remote", "tern-tlsc"):
                    continue
                with open("/proc/%s/maps" % pid) as f:
                    m = f.read()
            except OSError:
                continue
            seen.setdefault(comm, []).append("libssl" in m)
        time.sleep(0.005)


def main():
    m40.enter_netns(os.path.abspath(__file__))
    if not os.path.exists(TLSC):
        print("1..0 # SKIP send/tern-tlsc not built")
        return 0
    dns = m40.start_dnsmasq([
        "--mx-host=tls.test,mx.tls.test,10", "--host-record=mx.tls.test,127.0.0.10",
        "--mx-host=wrong.test,mx.wrong.test,10", "--host-record=mx.wrong.test,127.0.0.11",
        "--mx-host=plain.test,mx.plain.test,10", "--host-record=mx.plain.test,127.0.0.12",
        "--mx-host=nogo.test,mx.nogo.test,10", "--host-record=mx.nogo.test,127.0.0.13",
        "--mx-host=slow.test,mx.slow.test,10", "--host-record=mx.slow.test,127.0.0.14",
        "--host-record=relay.auth.test,127.0.0.16", "--host-record=plain.auth.test,127.0.0.17",
    ])
    tap.plan(33)
    root = m40.Root()
    shutil.copy(TLSC, os.path.join(root.dir, "bin", "tern-tlsc"))
    tmp = tempfile.mkdtemp(prefix="tern-tls43.")
    os.chmod(tmp, 0o755)
    ca, certs = mkca(tmp)
    sinks = []
    pf = None
    try:
        # ---- a) Postfix with smtpd_tls_security_level = encrypt
        crt, key = certs["mx.tls.test"]
        dsock = start_dovecot(tmp)
        if m42.HAVE_POSTFIX:
            sub = ("127.0.0.10:587 inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=dovecot"
                   " -o smtpd_sasl_path=%s -o smtpd_tls_auth_only=yes -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
                   % dsock) if dsock else ""
            pf = m42.Postfix(tmp, ["tls.test"], extra="smtpd_tls_security_level = encrypt\n"
                             "smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\nsmtpd_tls_loglevel = 1\n"
                             "smtpd_tls_received_header = yes\n" % (crt, key),
                             master_extra="tlsmgr unix - - n 1000? 1 tlsmgr\n" + sub)
            up = m42.wait_for(15, pf.up)
        else:
            up = False
        if not up:
            why = "no /usr/sbin/postfix" if not m42.HAVE_POSTFIX else "Postfix did not start"
            for d in ("Postfix (encrypt) gets the message over TLS 1.3",
                      "the delivery line says TLS, protocol, cipher and no verification under may",
                      "verify with the test CA: Postfix's certificate verified by CA"):
                tap.ok(True, d + " # SKIP " + why)
        else:
            r = root.run("tls.test", "a@client.test", ["b@tls.test"], MSG)
            got = m42.wait_for(15, lambda: pf.messages())
            msgs = pf.messages()
            tap.ok(r and r[-1][0] == "K" and got and b"over TLS" in msgs[0]
                   and "TLS connection established from" in pf.log() and "TLSv1.3" in pf.log(),
                   "Postfix (encrypt) gets the message over TLS 1.3", (r, pf.log()[-1500:]))
            tap.ok(r and "TLS: TLSv1.3 TLS_" in r[-1][1] and "peer not verified" in r[-1][1]
                   and "policy may" in r[-1][1], "the delivery line says TLS, protocol, cipher and no verification under may", r)
            root.control(tlspolicy="tls.test:verify", tlscafile=ca)
            r = root.run("tls.test", "a@client.test", ["b@tls.test"], MSG)
            tap.ok(r and r[-1][0] == "K" and "peer verified by CA" in r[-1][1] and "policy verify" in r[-1][1],
                   "verify with the test CA: Postfix's certificate verified by CA", r)
            root.control(tlspolicy=None, tlscafile=None)
        if not up or not dsock:
            for d in ("Postfix on 587 with Dovecot SASL: AUTH PLAIN over verified TLS, delivered",
                      "Postfix on 587, wrong password: deferred with Postfix's text"):
                tap.ok(True, d + " # SKIP " + ("no Dovecot" if up else "no Postfix"))
        else:
            os.makedirs(os.path.join(root.dir, "remote"), 0o700, exist_ok=True)
            with open(os.path.join(root.dir, "remote", "auth"), "w") as f:
                f.write("pf:alice@tls.test:pf-secret\npfbad:alice@tls.test:nope\n")
            os.chmod(os.path.join(root.dir, "remote", "auth"), 0o600)
            root.control(tlscafile=ca, smtproutes="tls.test:mx.tls.test:587 auth=pf")
            n = len(pf.messages())
            r = root.run("tls.test", "a@client.test", ["b@tls.test"], MSG)
            m42.wait_for(15, lambda: len(pf.messages()) > n)
            tap.ok(r and r[-1][0] == "K" and "peer verified by CA" in r[-1][1] and len(pf.messages()) == n + 1
                   and "sasl_method=PLAIN, sasl_username=alice@tls.test" in pf.log(),
                   "Postfix on 587 with Dovecot SASL: AUTH PLAIN over verified TLS, delivered", (r, pf.log()[-1500:]))
            root.control(smtproutes="tls.test:mx.tls.test:587 auth=pfbad")
            r = root.run("tls.test", "a@client.test", ["b@tls.test"], MSG)
            tap.ok(r and r[-1][0] == "Z" and "535 5.7.8 Error: authentication failed" in r[-1][1] and len(pf.messages()) == n + 1,
                   "Postfix on 587, wrong password: deferred with Postfix's text", r)
            root.control(tlscafile=None, smtproutes=None)

        # ---- privilege: tern-remote never maps libssl, tern-tlsc does
        slow = m40.Sink("127.0.0.14", tls=sctx(certs["mx.tls.test"]), delay=1.0)
        sinks.append(slow)
        stop, seen = threading.Event(), {}
        t = threading.Thread(target=maps_sampler, args=(stop, seen), daemon=True)
        t.start()
        r = root.run("slow.test", "a@client.test", ["b@slow.test"], MSG)
        stop.set()
        t.join(5)
        tap.ok(r and r[-1][0] == "K" and slow.received and slow.received[0]["tls"] == "TLSv1.3",
               "a slow TLS peer gets the message over TLS 1.3", (r, slow.received))
        tap.ok(seen.get("tern-remote") and not any(seen["tern-remote"]),
               "tern-remote never maps libssl while it delivers over TLS", seen.get("tern-remote", [])[:5])
        tap.ok(seen.get("tern-tlsc") and any(seen["tern-tlsc"]), "its tern-tlsc child maps libssl (the sampler saw it)",
               seen.get("tern-tlsc", [])[:5])

        # ---- b) verify: a certificate for another name
        wrong = m40.Sink("127.0.0.11", tls=sctx(certs["mx.wrong.test"]))
        sinks.append(wrong)
        wrong2 = m40.Sink("127.0.0.11", 2525, tls=sctx(certs["other.name.test"]))
        sinks.append(wrong2)
        root.control(tlspolicy="wrong.test:verify\nwrong2.test:verify match=other.name.test", tlscafile=ca)
        r = root.run("wrong.test", "a@client.test", ["b@wrong.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "peer verified by CA" in r[-1][1],
               "verify: a certificate for the MX name from the test CA -> delivered", r)
        root.control(smtproutes="wrong.test:mx.wrong.test:2525\nwrong2.test:mx.wrong.test:2525")
        r = root.run("wrong.test", "a@client.test", ["b@wrong.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "control/tlspolicy says verify for wrong.test" in r[-1][1]
               and "certificate did not verify" in r[-1][1] and "mismatch" in r[-1][1] and not wrong2.received,
               "verify: a certificate for another name -> deferred, saying policy and why", r)
        r = root.run("wrong2.test", "a@client.test", ["b@wrong2.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "peer verified by CA" in r[-1][1] and len(wrong2.received) == 1,
               "verify match=other.name.test: that certificate is accepted", r)
        root.control(tlscafile=None, smtproutes=None)
        r = root.run("wrong.test", "a@client.test", ["b@wrong.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "did not verify" in r[-1][1],
               "verify: Debian's CA bundle does not know the test CA -> deferred", r)

        # ---- c) a peer without STARTTLS
        plain = m40.Sink("127.0.0.12")
        sinks.append(plain)
        root.control(tlspolicy=None)
        r = root.run("plain.test", "a@client.test", ["b@plain.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "No TLS: STARTTLS not offered; policy may" in r[-1][1] and len(plain.received) == 1,
               "no STARTTLS offered, may: delivered in plaintext, and the line says so", r)
        root.control(tlspolicy=".test:encrypt")
        r = root.run("plain.test", "a@client.test", ["b@plain.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "control/tlspolicy says encrypt for plain.test" in r[-1][1]
               and "does not offer STARTTLS" in r[-1][1] and len(plain.received) == 1,
               "no STARTTLS offered, encrypt (from .test): deferred, saying policy and why", r)

        # ---- d) the handshake fails
        nogo = m40.Sink("127.0.0.13", tls_fail=True)
        sinks.append(nogo)
        root.control(tlspolicy=None)
        r = root.run("nogo.test", "a@client.test", ["b@nogo.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "TLS NO-GO" in r[-1][1] and nogo.connections == 2
               and len(nogo.received) == 1 and nogo.received[0]["tls"] is None,
               "failed handshake under may: TLS NO-GO, the next connection in plaintext", (r, nogo.connections))
        root.control(tlspolicy="nogo.test:encrypt")
        r = root.run("nogo.test", "a@client.test", ["b@nogo.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "says encrypt for nogo.test" in r[-1][1] and "handshake failed" in r[-1][1]
               and nogo.connections == 3 and len(nogo.received) == 1,
               "failed handshake under encrypt: deferred, no plaintext retry", (r, nogo.connections))

        # ---- e) none, and a malformed line
        root.control(tlspolicy="nogo.test:none")
        r = root.run("nogo.test", "a@client.test", ["b@nogo.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "No TLS: not asked for; policy none" in r[-1][1] and nogo.connections == 4,
               "none: no STARTTLS although offered", r)
        root.control(tlspolicy="nogo.test:sometimes")
        r = root.run("nogo.test", "a@client.test", ["b@nogo.test"], MSG)
        tap.ok(r == [("Z", "Unable to parse the entry for this domain in control/tlspolicy. (#4.3.0)")]
               and nogo.connections == 4, "a malformed policy line defers without a connection", r)
        root.control(tlspolicy="nogo.test:dane-only")
        r = root.run("nogo.test", "a@client.test", ["b@nogo.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "says dane-only" in r[-1][1] and "not DNSSEC-validated" in r[-1][1]
               and "Did not connect" in r[-1][1] and nogo.connections == 4,
               "dane-only with a resolver that does not validate (dnsmasq): deferred without a connection", r)

        # ---- f) port 465: implicit TLS
        smtps = m40.Sink("127.0.0.15", 465, smtps=sctx(certs["mx.tls.test"]))
        sinks.append(smtps)
        root.control(tlspolicy=None, smtproutes="smtps.test:127.0.0.15:465\nnotls.test:127.0.0.12:465")
        r = root.run("smtps.test", "a@client.test", ["b@smtps.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "TLS: TLSv1.3" in r[-1][1] and smtps.received
               and smtps.received[0]["tls"] == "TLSv1.3", "port 465: TLS from the first byte", r)
        p465 = m40.Sink("127.0.0.12", 465)
        sinks.append(p465)
        r = root.run("notls.test", "a@client.test", ["b@notls.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "port 465 failed" in r[-1][1] and not p465.received,
               "port 465 to a plaintext server: deferred, never plaintext", r)

        # ---- g) relays with AUTH
        rcert = sctx(certs["relay.auth.test"])
        r587 = m40.Sink("127.0.0.16", 587, tls=rcert, auth={"alice": "s3cret:x y"})
        rlogin = m40.Sink("127.0.0.16", 588, tls=rcert, auth={"alice": "s3cret:x y"}, auth_mechs=b"LOGIN")
        r465 = m40.Sink("127.0.0.16", 465, smtps=rcert, auth={"alice": "s3cret:x y"})
        rplain = m40.Sink("127.0.0.17", 587, auth={"alice": "s3cret:x y"})
        sinks.extend([r587, rlogin, r465, rplain])
        os.makedirs(os.path.join(root.dir, "remote"), 0o700, exist_ok=True)
        authf = os.path.join(root.dir, "remote", "auth")
        with open(authf, "w") as f:
            f.write("# relay credentials\nprov:alice:s3cret:x y\nwrong:alice:guess\n")
        os.chmod(authf, 0o600)
        root.control(tlscafile=ca, smtproutes="\n".join([
            "a1.test:relay.auth.test:587 auth=prov", "a2.test:relay.auth.test:588 auth=prov",
            "a3.test:relay.auth.test:587 auth=wrong", "a4.test:relay.auth.test:465 auth=prov",
            "a5.test:plain.auth.test:587 auth=prov"]))
        r = root.run("a1.test", "a@client.test", ["b@a1.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and "peer verified by CA" in r[-1][1] and len(r587.received) == 1
               and r587.auths == [("PLAIN", "alice", "s3cret:x y", "TLSv1.3")],
               "relay on 587: STARTTLS, verified, AUTH PLAIN, delivered", (r, r587.auths))
        r = root.run("a2.test", "a@client.test", ["b@a2.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and len(rlogin.received) == 1 and rlogin.auths == [("LOGIN", "alice", "s3cret:x y", "TLSv1.3")],
               "a relay offering only LOGIN: AUTH LOGIN, delivered", (r, rlogin.auths))
        r = root.run("a3.test", "a@client.test", ["b@a3.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "535 5.7.8 Error: authentication failed" in r[-1][1] and len(r587.received) == 1,
               "a wrong password: deferred with the server's text", r)
        r = root.run("a4.test", "a@client.test", ["b@a4.test"], MSG)
        tap.ok(r and r[-1][0] == "K" and len(r465.received) == 1 and r465.auths == [("PLAIN", "alice", "s3cret:x y", "TLSv1.3")],
               "relay on 465: TLS from the first byte, AUTH PLAIN, delivered", (r, r465.auths))
        r = root.run("a5.test", "a@client.test", ["b@a5.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "does not offer STARTTLS" in r[-1][1] and not rplain.auths and not rplain.received,
               "a relay without STARTTLS: deferred, no AUTH in plaintext", (r, rplain.auths))
        root.control(tlscafile=None)
        n = len(r587.auths)
        r = root.run("a1.test", "a@client.test", ["b@a1.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "did not verify" in r[-1][1] and len(r587.auths) == n,
               "a relay whose certificate does not verify: deferred, no AUTH sent", (r, r587.auths))
        root.control(tlscafile=ca)
        os.chmod(authf, 0o640)
        r = root.run("a1.test", "a@client.test", ["b@a1.test"], MSG)
        tap.ok(r and r[-1][0] == "Z" and "may be read by others" in r[-1][1] and len(r587.auths) == n,
               "a credentials file the group may read: not used, deferred", r)
        tap.ok(all(a[3] for s in (r587, rlogin, r465, rplain) for a in s.auths),
               "no AUTH was ever sent outside TLS", [s.auths for s in (r587, rlogin, r465, rplain)])
        tap.ok(not any(os.path.basename(f) == "core" for f in os.listdir(root.dir)), "no core file")

        # ---- h) a whole instance
        inst = m42.Instance()
        try:
            inst.control(dnscacheip="127.0.0.1", smtproutes="inst.test:127.0.0.18", timeoutremote="10")
            inst.start()
            isink = m40.Sink("127.0.0.18", tls=sctx(certs["mx.tls.test"]), delay=1.0)
            sinks.append(isink)
            stop, seen = threading.Event(), {}
            t = threading.Thread(target=uid_sampler, args=(inst.root + "/bin/", stop, seen), daemon=True)
            t.start()
            rc, out = inst.inject("a@demo.test", ["b@inst.test"], MSG)
            m42.wait_for(30, lambda: isink.received and "TLS:_TLSv1.3" in inst.log())
            stop.set()
            t.join(5)
            tap.ok(rc == 0 and isink.received and isink.received[0]["tls"] == "TLSv1.3",
                   "a whole instance: the message arrives over TLS 1.3", (rc, out, isink.received))
            tap.ok("success:" in inst.log() and "TLS:_TLSv1.3_TLS_" in inst.log() and "peer_not_verified" in inst.log(),  # the log writes SP as _
                   "the send log's delivery line says TLS, protocol and verification", inst.log()[-1500:])
            ternr = pwd.getpwnam("ternr").pw_uid
            tap.ok(seen.get("tern-remote") and all(u == ternr and not ssl_ for u, ssl_ in seen["tern-remote"])
                   and seen.get("tern-tlsc") and all(u == ternr for u, _ in seen["tern-tlsc"])
                   and any(s_ for _, s_ in seen["tern-tlsc"]),
                   "tern-remote runs as ternr and never maps libssl; tern-tlsc runs as ternr and does",
                   {k: v[:5] for k, v in seen.items()})
        finally:
            inst.stop()
            inst.cleanup()
    finally:
        for s in sinks:
            s.stop()
        if pf:
            pf.stop()
        for p in DOVECOTS:
            p.terminate()
            p.wait(10)
        dns.kill()
        dns.wait()
        root.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
