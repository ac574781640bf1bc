#!/usr/bin/env python3
# 44-remote-dane.t: DANE (RFC 7672) end to end on loopback, in a private
# network namespace. The test signs a zone dane.test with Debian's
# ldns-keygen and ldns-signzone; unbound (validating, the zone's KSK as its
# trust anchor, the zone loaded as an auth-zone for upstream) is the
# resolver tern-remote asks (control/dnscacheip). insec.test is an unsigned
# zone in the same unbound: its TLSA records come without the AD bit.
#   dane: a matching DANE-EE(3) TLSA -> delivered, "verified by DANE-EE";
#         a matching DANE-TA(2) -> "verified by DANE-TA";
#         a mismatching TLSA -> deferred, saying policy and why;
#         a signed zone without TLSA -> may (delivered, not verified);
#         mismatching TLSA without the AD bit -> not trusted (may);
#   dane-only: no TLSA, or TLSA without AD -> deferred;
#   no control/tlspolicy line, the resolver validates (it answers the
#         SOA question for control/dnssecprobe with AD): dane by default,
#         a matching TLSA -> DANE-verified, a mismatching one -> deferred;
#         the same names from dnsmasq (no AD bit) -> may.
# Skipped when unbound or ldns-signzone is missing. Every wait is bounded.
import importlib.machinery, os, shutil, socket, ssl, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tap  # noqa: E402  (tests/integration/tap.py)
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
TLSC = os.path.join(TOP, "send", "tern-tlsc")
RESOLVER = "127.0.0.53"
MSG = b"From: a@client.test\nTo: b@dane.test\nSubject: dane\n\nDANE\n"


def run(*a, **kw):
    return subprocess.run(a, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw).stdout


def cert(d, name, ca=None):
    """a key and certificate for name: self-signed, or signed by ca (crt, key); returns (chain file, key, crt)"""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    if ca is None:
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
            "-addext", "subjectAltName=DNS:" + name, "-addext", "basicConstraints=critical,CA:TRUE",
            "-keyout", key, "-out", crt)
        return crt, key, crt
    csr, ext = os.path.join(d, name + ".csr"), os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\n" % name)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", crt)
    chain = os.path.join(d, name + ".chain")
    with open(chain, "wb") as f:
        f.write(open(crt, "rb").read() + open(ca[0], "rb").read())
    return chain, key, crt


def spki_sha256(crt):
    pub = run("openssl", "x509", "-in", crt, "-noout", "-pubkey")
    der = run("openssl", "pkey", "-pubin", "-outform", "DER", input=pub)
    return run("openssl", "dgst", "-sha256", "-r", input=der).split()[0].decode()


def cert_sha256(crt):
    der = run("openssl", "x509", "-in", crt, "-outform", "DER")
    return run("openssl", "dgst", "-sha256", "-r", input=der).split()[0].decode()


def sign_zone(d, zone, text):
    """write and sign zone; returns (signed zone file, the KSK's DNSKEY line)"""
    zf = os.path.join(d, zone + "zone")
    with open(zf, "w") as f:
        f.write(text)
    ksk = run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone, cwd=d).decode().strip()
    zsk = run("ldns-keygen", "-a", "ECDSAP256SHA256", zone, cwd=d).decode().strip()
    run("ldns-signzone", "-n", zf, ksk, zsk, cwd=d)
    with open(os.path.join(d, ksk + ".key")) as f:
        dnskey = f.read().strip()
    return zf + ".signed", dnskey


def start_unbound(d, anchor, zones):
    conf = os.path.join(d, "unbound.conf")
    with open(os.path.join(d, "anchor"), "w") as f:
        f.write(anchor + "\n")
    with open(conf, "w") as f:
        f.write("""server:
  interface: %(ip)s
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "%(d)s"
  pidfile: ""
  use-syslog: no
  logfile: "%(d)s/unbound.log"
  verbosity: 1
  val-log-level: 2
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "validator iterator"
  trust-anchor-file: "%(d)s/anchor"
  qname-minimisation: no
  domain-insecure: "insec.test"
  local-zone: "test." nodefault
""" % dict(ip=RESOLVER, d=d))
        for name, zf in zones:
            f.write('auth-zone:\n  name: "%s"\n  zonefile: "%s"\n  for-downstream: no\n  for-upstream: yes\n'
                    '  fallback-enabled: no\n' % (name, zf))
    p = subprocess.Popen(["unbound", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "unbound.err"), "wb"))
    if m40.dns_up(RESOLVER, 100):
        return p
    p.kill()
    raise SystemExit("Bail out! unbound did not start: " + open(os.path.join(d, "unbound.err")).read()[-1000:])


def main():
    m40.enter_netns(os.path.abspath(__file__))
    for prog in ("unbound", "ldns-signzone", "ldns-keygen", "openssl"):
        if not shutil.which(prog):
            print("1..0 # SKIP %s not installed" % prog)
            return 0
    if not os.path.exists(TLSC):
        print("1..0 # SKIP send/tern-tlsc not built")
        return 0
    subprocess.run(["ip", "addr", "add", RESOLVER + "/8", "dev", "lo"], stderr=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="tern-dane44.")
    os.chmod(tmp, 0o755)
    ca = cert(tmp, "ca.dane.test")
    good = cert(tmp, "mx.good.dane.test", ca)
    ta = cert(tmp, "mx.ta.dane.test", ca)
    other = cert(tmp, "mx.bad.dane.test", ca)
    ins = cert(tmp, "mx.insec.test", ca)
    signed, anchor = sign_zone(tmp, "dane.test.", """$ORIGIN dane.test.
$TTL 60
@ IN SOA ns.dane.test. hostmaster.dane.test. 1 3600 600 86400 60
@ IN NS ns.dane.test.
ns IN A 127.0.0.1
good IN MX 10 mx.good
mx.good IN A 127.0.0.20
_25._tcp.mx.good IN TLSA 3 1 1 %(good)s
ta IN MX 10 mx.ta
mx.ta IN A 127.0.0.21
_25._tcp.mx.ta IN TLSA 2 0 1 %(ca)s
bad IN MX 10 mx.bad
mx.bad IN A 127.0.0.22
_25._tcp.mx.bad IN TLSA 3 1 1 %(wrong)s
notlsa IN MX 10 mx.notlsa
mx.notlsa IN A 127.0.0.23
""" % dict(good=spki_sha256(good[2]), ca=cert_sha256(ca[2]), wrong="00" * 32))
    insec = os.path.join(tmp, "insec.test.zone")
    with open(insec, "w") as f:
        f.write("""$ORIGIN insec.test.
$TTL 60
@ IN SOA ns.insec.test. hostmaster.insec.test. 1 3600 600 86400 60
@ IN NS ns.insec.test.
ns IN A 127.0.0.1
@ IN MX 10 mx
mx IN A 127.0.0.24
_25._tcp.mx IN TLSA 3 1 1 %s
""" % ("00" * 32))
    ub = start_unbound(tmp, anchor, [("dane.test.", signed), ("insec.test.", insec)])
    tap.plan(12)
    root = m40.Root()
    shutil.copy(TLSC, os.path.join(root.dir, "bin", "tern-tlsc"))
    root.control(dnscacheip=RESOLVER)
    sinks = []

    def sink(ip, pair):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(pair[0], pair[1])
        s = m40.Sink(ip, tls=c)
        sinks.append(s)
        return s

    def deliver(dom):
        return root.run(dom, "a@client.test", ["b@" + dom], MSG, dnsip=RESOLVER)

    try:
        s_good = sink("127.0.0.20", good)
        s_ta = sink("127.0.0.21", ta)
        s_bad = sink("127.0.0.22", other)
        s_no = sink("127.0.0.23", good)
        s_ins = sink("127.0.0.24", ins)
        root.control(tlspolicy=":dane")
        r = deliver("good.dane.test")
        tap.ok(r and r[-1][0] == "K" and "peer verified by DANE-EE" in r[-1][1] and "policy dane" in r[-1][1]
               and len(s_good.received) == 1, "matching DANE-EE(3) TLSA: delivered, verified by DANE-EE",
               (r, open(os.path.join(tmp, "unbound.log")).read()[-1500:]))
        r = deliver("ta.dane.test")
        tap.ok(r and r[-1][0] == "K" and "peer verified by DANE-TA" in r[-1][1] and len(s_ta.received) == 1,
               "matching DANE-TA(2) TLSA: delivered, verified by DANE-TA", r)
        r = deliver("bad.dane.test")
        tap.ok(r and r[-1][0] == "Z" and "control/tlspolicy says dane for bad.dane.test" in r[-1][1]
               and "matched no TLSA record" in r[-1][1] and not s_bad.received,
               "mismatching TLSA: deferred, saying policy and why", r)
        r = deliver("notlsa.dane.test")
        tap.ok(r and r[-1][0] == "K" and "peer not verified" in r[-1][1] and len(s_no.received) == 1,
               "a signed zone without TLSA under dane: opportunistic TLS (may)", r)
        r = deliver("insec.test")
        tap.ok(r and r[-1][0] == "K" and "peer not verified" in r[-1][1] and len(s_ins.received) == 1,
               "mismatching TLSA without the AD bit: not trusted, delivered as may", r)
        root.control(tlspolicy=":dane-only")
        r = deliver("notlsa.dane.test")
        tap.ok(r and r[-1][0] == "Z" and "no DNSSEC-validated TLSA records" in r[-1][1] and len(s_no.received) == 1,
               "dane-only, no TLSA: deferred", r)
        r = deliver("insec.test")
        tap.ok(r and r[-1][0] == "Z" and "not DNSSEC-validated" in r[-1][1] and len(s_ins.received) == 1,
               "dane-only, TLSA without the AD bit: deferred", r)
        r = deliver("good.dane.test")
        tap.ok(r and r[-1][0] == "K" and "DANE-EE" in r[-1][1] and len(s_good.received) == 2,
               "dane-only with a matching TLSA: delivered", r)
        root.control(tlspolicy=None, dnssecprobe="dane.test")
        r = deliver("good.dane.test")
        tap.ok(r and r[-1][0] == "K" and "peer verified by DANE-EE" in r[-1][1]
               and "policy dane (default: the resolver validates)" in r[-1][1] and len(s_good.received) == 3,
               "no policy line, validating resolver: dane by default, matching TLSA verified", r)
        r = deliver("bad.dane.test")
        tap.ok(r and r[-1][0] == "Z" and "matched no TLSA record" in r[-1][1] and not s_bad.received,
               "no policy line, validating resolver: a mismatching TLSA defers", r)
        dm = m40.start_dnsmasq(["--mx-host=good.dane.test,mx.good.dane.test,10",
                                "--host-record=mx.good.dane.test,127.0.0.20"])
        try:
            r = root.run("good.dane.test", "a@client.test", ["b@good.dane.test"], MSG, dnsip="127.0.0.1")
        finally:
            dm.kill()
            dm.wait()
        tap.ok(r and r[-1][0] == "K" and "peer not verified" in r[-1][1] and "policy may." in r[-1][1]
               and len(s_good.received) == 4, "no policy line, dnsmasq (no AD bit): may", r)
        ub.kill()
        ub.wait()
        root.control(tlspolicy=":dane", timeoutdns="3")
        r = deliver("good.dane.test")
        tap.ok(r and r[-1][0] == "Z" and len(s_good.received) == 4, "resolver gone under dane: deferred, not sent without DANE", r)
    finally:
        for s in sinks:
            s.stop()
        if ub.poll() is None:
            ub.kill()
            ub.wait()
        root.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
