#!/usr/bin/env python3
# 47-remote-tlsrpt.py ROOT: the checks of 47-remote-tlsrpt.t, inside its
# network namespace, against the running instance in ROOT. TAP on stdout.
import base64, email, glob, gzip, importlib.machinery, json, os, pwd, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tap  # noqa: E402
import ternctl  # noqa: E402
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
m44 = importlib.machinery.SourceFileLoader("dane44", os.path.join(HERE, "44-remote-dane.t")).load_module()
m45 = importlib.machinery.SourceFileLoader("remote45", os.path.join(HERE, "45-remote-mtasts.t")).load_module()
ROOT = sys.argv[1]
RESOLVER = m44.RESOLVER
MAILDIR = os.path.join(ROOT, "mail", "demo", "Maildir")
RUA = "tlsrpt@demo.test"
MSG = b"From: a@demo.test\nTo: b@x.rpt.test\nSubject: tlsrpt\n\nTLS-RPT\n"


def remote(dom):
    """tern-remote of the instance as ternr, one recipient at dom; its reports"""
    mf = os.path.join(ROOT, "msg47")
    with open(mf, "wb") as f:
        f.write(MSG)
    with open(mf, "rb") as fin:
        p = subprocess.run(["s6-setuidgid", "ternr", os.path.join(ROOT, "bin", "tern-remote"), dom, "a@demo.test",
                            str(len(MSG)), "b@" + dom], stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={"PATH": os.environ["PATH"]}, timeout=60)
    recs = p.stdout.split(b"\0")[:-1]
    return [(r[:1].decode(), r[1:].decode("utf-8", "replace")) for r in recs]


def reports():
    """{policy domain: (message, json)} of the TLS reports in the Maildir"""
    out = {}
    for fn in glob.glob(os.path.join(MAILDIR, "new", "*")):
        with open(fn, "rb") as f:
            m = email.message_from_bytes(f.read())
        if m.get_content_type() != "multipart/report" or m.get_param("report-type") != "tlsrpt":
            continue
        for part in m.walk():
            if part.get_content_type() == "application/tlsrpt+gzip":
                out[m["TLS-Report-Domain"]] = (m, part, json.loads(gzip.decompress(part.get_payload(decode=True))))
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="tern-rpt47.")
    os.chmod(tmp, 0o755)
    ca = m44.cert(tmp, "ca.rpt.test")
    good = m44.cert(tmp, "mx.good.rpt.test", ca)
    other = m44.cert(tmp, "mx.bad.rpt.test", ca)
    stsmx = m44.cert(tmp, "mx.sts.rpt.test", ca)
    stsweb = m44.cert(tmp, "mta-sts.sts.rpt.test", ca)
    tstweb = m44.cert(tmp, "mta-sts.ststest.rpt.test", ca)
    os.chmod(ca[0], 0o644)
    # sts.rpt.test and ststest.rpt.test: no TLSA, so DANE leaves may and
    # their MTA-STS policies (served over HTTPS, certificates from ca)
    # apply: enforce, and testing with an MX whose certificate names
    # another host (delivered, reported as a failure)
    stspol = m45.policy("enforce", ["*.sts.rpt.test", "mx.other.rpt.test"])
    tstpol = m45.policy("testing", ["mx.ststest.rpt.test"], max_age=604800)
    txt = '"v=TLSRPTv1; rua=mailto:%s"' % RUA
    signed, anchor = m44.sign_zone(tmp, "rpt.test.", """$ORIGIN rpt.test.
$TTL 60
@ IN SOA ns.rpt.test. hostmaster.rpt.test. 1 3600 600 86400 60
@ IN NS ns.rpt.test.
ns IN A 127.0.0.1
good IN MX 10 mx.good
mx.good IN A 127.0.0.20
_25._tcp.mx.good IN TLSA 3 1 1 %(good)s
_smtp._tls.good IN TXT %(txt)s
bad IN MX 10 mx.bad
mx.bad IN A 127.0.0.22
_25._tcp.mx.bad IN TLSA 3 1 1 %(wrong)s
_smtp._tls.bad IN TXT "v=spf1 -all"
_smtp._tls.bad IN TXT "v=TLSRPTv1;" " rua=mailto:%(rua)s"
plain IN MX 10 mx.plain
mx.plain IN A 127.0.0.23
_smtp._tls.plain IN TXT %(txt)s
quiet IN MX 10 mx.good
broken IN MX 10 mx.broken
mx.broken IN A 127.0.0.24
_smtp._tls.broken IN TXT %(txt)s
strict IN MX 10 mx.plain
_smtp._tls.strict IN TXT %(txt)s
sts IN MX 10 mx.sts
mx.sts IN A 127.0.0.25
_smtp._tls.sts IN TXT %(txt)s
_mta-sts.sts IN TXT "v=STSv1; id=47;"
mta-sts.sts IN A 127.0.0.26
ststest IN MX 10 mx.ststest
mx.ststest IN A 127.0.0.27
_smtp._tls.ststest IN TXT %(txt)s
_mta-sts.ststest IN TXT "v=STSv1; id=4711;"
mta-sts.ststest IN A 127.0.0.28
""" % dict(good=m44.spki_sha256(good[2]), wrong="00" * 32, txt=txt, rua=RUA))
    ub = m44.start_unbound(tmp, anchor, [("rpt.test.", signed)])
    tap.plan(16)
    for k, v in dict(dnscacheip=RESOLVER, dnssecprobe="rpt.test", timeoutremote="5", timeoutconnect="3",
                     timeoutdns="10", tlspolicy="strict.rpt.test:dane-only", tlscafile=ca[0]).items():
        ternctl.write(ROOT, k, v + "\n")
    sinks = []
    try:
        import ssl
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(good[0], good[1])
        sinks.append(m40.Sink("127.0.0.20", tls=c))
        c2 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c2.load_cert_chain(other[0], other[1])
        sinks.append(m40.Sink("127.0.0.22", tls=c2))
        sinks.append(m40.Sink("127.0.0.23"))
        sinks.append(m40.Sink("127.0.0.24", tls_fail=True))
        c3 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c3.load_cert_chain(stsmx[0], stsmx[1])
        sinks.append(m40.Sink("127.0.0.25", tls=c3))
        c4 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c4.load_cert_chain(other[0], other[1])   # mx.bad.rpt.test's: the wrong name for mx.ststest
        sinks.append(m40.Sink("127.0.0.27", tls=c4))
        webs = [m45.Https("127.0.0.26", stsweb[:2], stspol), m45.Https("127.0.0.28", tstweb[:2], tstpol)]
        res = {d: [remote(d + ".rpt.test") for _ in range(n)]
               for d, n in (("good", 3), ("bad", 2), ("plain", 2), ("quiet", 1), ("broken", 1), ("strict", 1), ("sts", 2),
                            ("ststest", 1))}
        for w in webs:
            w.stop()
        want = {"good": "K", "bad": "Z", "plain": "K", "quiet": "K", "broken": "K", "strict": "Z", "sts": "K", "ststest": "K"}
        tap.ok(all(r and r[-1][0] == want[d] for d, rs in res.items() for r in rs)
               and all("DANE-EE" in r[-1][1] for r in res["good"]) and all("matched no TLSA" in r[-1][1] for r in res["bad"])
               and "TLS NO-GO" in res["broken"][0][-1][1] and "no DNSSEC-validated TLSA" in res["strict"][0][-1][1]
               and all("verified by MTA-STS" in r[-1][1] for r in res["sts"])
               and "enforce would have deferred: the certificate did not verify" in res["ststest"][0][-1][1],
               "deliveries: good DANE-verified, bad deferred, plain, quiet and broken (TLS NO-GO, plaintext) delivered,"
               " strict (dane-only) deferred, sts verified by MTA-STS (enforce), ststest delivered (testing)", res)
        days = sorted(os.path.basename(f) for f in glob.glob(os.path.join(ROOT, "tlsrpt", "????-??-??")))
        lines = [l for d in days for l in open(os.path.join(ROOT, "tlsrpt", d))]
        st = os.stat(os.path.join(ROOT, "tlsrpt", days[0])) if days else None
        tap.ok(len(lines) == 13 and st and st.st_uid == pwd.getpwnam("ternr").pw_uid and (st.st_mode & 0o777) == 0o600,
               "one record line per session in HOME/tlsrpt/DAY, ternr's, mode 0600", lines)
        outs = []
        for d in days:
            p = subprocess.run(["s6-setuidgid", "ternr", os.path.join(ROOT, "bin", "tern-tlsrpt"), "-d", d],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={"PATH": os.environ["PATH"]}, timeout=60)
            outs.append((p.returncode, p.stdout.decode("utf-8", "replace")))
        tap.ok(days and all(rc == 0 for rc, _ in outs)
               and all(os.path.exists(os.path.join(ROOT, "tlsrpt", d + ".sent")) for d in days),
               "tern-tlsrpt: exit 0, the day's file renamed .sent", outs)
        deadline = time.time() + 40
        got = {}
        while time.time() < deadline:
            got = reports()
            if len(got) >= 7:
                break
            time.sleep(0.3)
        tap.ok(sorted(got) == ["bad.rpt.test", "broken.rpt.test", "good.rpt.test", "plain.rpt.test", "strict.rpt.test",
                              "sts.rpt.test", "ststest.rpt.test"],
               "reports arrive in the Maildir for good, bad, plain, broken, strict, sts and ststest, none for quiet"
               " (no TLS-RPT record)",
               (sorted(got), outs, open(os.path.join(ROOT, "log", "send", "current"), errors="replace").read()[-3000:]
                if os.path.exists(os.path.join(ROOT, "log", "send", "current")) else ""))
        if not got:
            raise SystemExit(1)
        m, part, j = got.get("good.rpt.test") or next(iter(got.values()))
        fn = part.get_filename() or ""
        tap.ok(m["To"] and RUA in m["To"] and m["TLS-Report-Submitter"] == "demo.test"
               and re.match(r"^Report Domain: good\.rpt\.test Submitter: demo\.test Report-ID: <[^>]+>$",
                        re.sub(r"\r?\n(?=[ \t])", "", m["Subject"] or ""))
               and re.match(r"^demo\.test!good\.rpt\.test!\d+!\d+!.*\.json\.gz$", fn),
               "the message: To the rua, Subject, TLS-Report-* fields, the attachment's file name (RFC 8460 5.3)",
               (m["To"], m["Subject"], fn))
        tap.ok(j.get("organization-name") == "demo.test" and j.get("contact-info")
               and j.get("report-id") and re.match(r"^\d{4}-\d\d-\d\dT00:00:00Z$", j["date-range"]["start-datetime"])
               and re.match(r"^\d{4}-\d\d-\d\dT23:59:59Z$", j["date-range"]["end-datetime"]),
               "JSON: organization-name, date-range, contact-info, report-id", j)

        def pol(dom):
            return got[dom][2]["policies"] if dom in got else []

        def total(ps, k):
            return sum(p["summary"][k] for p in ps)
        g = pol("good.rpt.test")
        tap.ok(len(g) == 1 and g[0]["policy"]["policy-type"] == "tlsa" and g[0]["policy"]["policy-domain"] == "good.rpt.test"
               and g[0]["policy"].get("mx-host") == ["mx.good.rpt.test"]
               and total(g, "total-successful-session-count") == 3 and total(g, "total-failure-session-count") == 0
               and "failure-details" not in g[0], "good: policy tlsa, 3 successful sessions, no failures", g)
        b = pol("bad.rpt.test")
        fd = b[0].get("failure-details", []) if b else []
        tap.ok(len(b) == 1 and b[0]["policy"]["policy-type"] == "tlsa"
               and total(b, "total-successful-session-count") == 0 and total(b, "total-failure-session-count") == 2,
               "bad: policy tlsa, 0 successful, 2 failed sessions", b)
        tap.ok(len(fd) == 1 and fd[0]["result-type"] == "tlsa-invalid" and fd[0]["failed-session-count"] == 2
               and fd[0]["receiving-ip"] == "127.0.0.22" and fd[0]["receiving-mx-hostname"] == "mx.bad.rpt.test"
               and fd[0].get("sending-mta-ip", "").startswith("127."),
               "bad: failure-details tlsa-invalid x2 with both addresses and the MX host", fd)
        pl = pol("plain.rpt.test")
        fdp = pl[0].get("failure-details", []) if pl else []
        tap.ok(len(pl) == 1 and pl[0]["policy"]["policy-type"] == "no-policy-found"
               and total(pl, "total-failure-session-count") == 2 and len(fdp) == 1
               and fdp[0]["result-type"] == "starttls-not-supported" and fdp[0]["failed-session-count"] == 2,
               "plain: no-policy-found, 2 sessions starttls-not-supported", pl)
        br, st_ = pol("broken.rpt.test"), pol("strict.rpt.test")
        tap.ok(len(br) == 1 and br[0]["policy"]["policy-type"] == "no-policy-found"
               and total(br, "total-failure-session-count") == 1 and total(br, "total-successful-session-count") == 0
               and br[0]["failure-details"][0]["result-type"] == "validation-failure",
               "broken: the failed handshake is one validation-failure; the plaintext retry is not counted", br)
        tap.ok(len(st_) == 1 and total(st_, "total-failure-session-count") == 1
               and st_[0]["failure-details"][0]["result-type"] == "dane-required",
               "strict (dane-only, no TLSA): dane-required", st_)
        s = pol("sts.rpt.test")
        tap.ok(len(s) == 1 and s[0]["policy"] == {
                   "policy-type": "sts", "policy-domain": "sts.rpt.test",
                   "policy-string": [l for l in stspol.decode().split("\r\n") if l],
                   "mx-host": ["*.sts.rpt.test", "mx.other.rpt.test"]}
               and total(s, "total-successful-session-count") == 2 and total(s, "total-failure-session-count") == 0
               and "failure-details" not in s[0],
               "sts: policy-type sts, the served policy's lines as policy-string, its mx patterns as mx-host,"
               " 2 successful sessions (RFC 8460 4.3)", (s, [l for l in lines if " sts.rpt.test " in l]))
        t = pol("ststest.rpt.test")
        fdt = t[0].get("failure-details", []) if t else []
        tap.ok(len(t) == 1 and t[0]["policy"] == {
                   "policy-type": "sts", "policy-domain": "ststest.rpt.test",
                   "policy-string": ["version: STSv1", "mode: testing", "mx: mx.ststest.rpt.test", "max_age: 604800"],
                   "mx-host": ["mx.ststest.rpt.test"]}
               and total(t, "total-successful-session-count") == 0 and total(t, "total-failure-session-count") == 1
               and len(fdt) == 1 and fdt[0]["result-type"] == "certificate-host-mismatch"
               and fdt[0]["receiving-mx-hostname"] == "mx.ststest.rpt.test" and fdt[0]["receiving-ip"] == "127.0.0.27",
               "ststest: the testing policy, its session (delivered) one certificate-host-mismatch failure",
               (t, [l for l in lines if " ststest.rpt.test " in l]))
        tap.ok(len(sinks[0].received) == 4 and not sinks[1].received
               and len(sinks[2].received) == 2 and len(sinks[3].received) == 1 and len(sinks[4].received) == 2
               and len(sinks[5].received) == 1,
               "what the sinks got matches: 3 good + 1 quiet, nothing to bad, 2 plain, 1 broken (plaintext), 2 sts,"
               " 1 ststest")
        p = subprocess.run(["s6-setuidgid", "ternr", os.path.join(ROOT, "bin", "tern-tlsrpt"), "-d", days[0]],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={"PATH": os.environ["PATH"]}, timeout=60)
        time.sleep(1)
        tap.ok(p.returncode == 0 and b"nothing recorded" in p.stdout and len(reports()) == len(got),
               "a second run for the same day sends nothing again", p.stdout)
    finally:
        for s in sinks:
            s.stop()
        ub.kill()
        ub.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
