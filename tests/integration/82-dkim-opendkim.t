#!/usr/bin/env python3
# 82-dkim-opendkim.t: a message signed by tern reaches a Postfix whose
# verifying milter is Debian's opendkim, and opendkim says dkim=pass for
# both signatures (rsa-sha256 and ed25519-sha256). In a private network
# namespace (40-remote-mx.t's enter_netns): dnsmasq on 127.0.0.1:53 serves
# the MX of p1.test (the private Postfix of 42-remote-system.t on
# 127.0.0.10:25); opendkim (Mode v) reads the TXT records tern-dkimkey
# printed from its TestDNSData file and listens on 127.0.0.1:8891 for
# Postfix's milter connection. The message goes in through sendmail with tern-dkimsign as
# QMAILQUEUE, out through tern-remote. Every wait is bounded.
import importlib.machinery, os, re, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
SELF = os.path.abspath(__file__)
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
m42 = importlib.machinery.SourceFileLoader("remote42", os.path.join(HERE, "42-remote-system.t")).load_module()
import tap  # noqa: E402

OPENDKIM = "/usr/sbin/opendkim"


def main():
    m40.enter_netns(SELF)
    for need in (OPENDKIM, m42.POSTFIX_MASTER, "/usr/sbin/postfix"):
        if not os.path.exists(need):
            # a missing tool fails (tests/deps.sh test installs it), never skips
            print("1..1\nnot ok 1 - %s not installed (tests/deps.sh test)" % need)
            return 1
    tap.plan(5)
    inst = pf = dkimd = dns = None
    try:
        inst = m42.Instance()
        keygen = subprocess.run([os.path.join(inst.root, "bin", "tern-dkimkey"), "demo.test"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        rec = keygen.stdout.decode().split("\n")
        tap.ok(keygen.returncode == 0 and len(rec) >= 4, "tern-dkimkey demo.test", keygen.stdout)
        dns = m40.start_dnsmasq(["--mx-host=p1.test,mx.pf.test,10", "--host-record=mx.pf.test,127.0.0.10",
                                 "--txt-record=%s,%s" % (rec[0], rec[1]), "--txt-record=%s,%s" % (rec[2], rec[3])])
        inst.control(dnscacheip="127.0.0.1", timeoutremote="10", timeoutconnect="5")
        inst.start()
        d = os.path.join(inst.root, "opendkim")
        os.mkdir(d)
        # the same records for opendkim, through its TestDNSData (Debian's
        # opendkim resolves through libunbound, which sent no query to the
        # loopback dnsmasq here, with or without do-not-query-localhost)
        with open(os.path.join(d, "keys"), "w") as f:
            f.write("%s %s\n%s %s\n" % (rec[0], rec[1], rec[2], rec[3]))
        with open(os.path.join(d, "opendkim.conf"), "w") as f:
            f.write("Mode v\nSocket inet:8891@127.0.0.1\nBackground no\nTestDNSData file:%s/keys\n"
                    "AuthservID pf.test\nSyslog no\nPidFile %s/pid\n" % (d, d))
        dkimd = subprocess.Popen([OPENDKIM, "-f", "-x", os.path.join(d, "opendkim.conf")],
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "err"), "wb"))
        m42.wait_for(10, lambda: subprocess.run(["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 8891), 1)"],
                                                stderr=subprocess.DEVNULL).returncode == 0)
        pf = m42.Postfix(inst.root, ["p1.test"], extra="smtpd_milters = inet:127.0.0.1:8891\nmilter_default_action = tempfail\n")
        pfup = m42.wait_for(15, pf.up)
        tap.ok(pfup and dkimd.poll() is None, "Postfix with opendkim as its milter is up",
               open(os.path.join(d, "err"), "rb").read()[-500:])
        msg = (b"From: Ann <ann@demo.test>\nTo: x@p1.test\nSubject: signed for opendkim\n"
               b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
               b"caf\xc3\xa9  two  spaces \n.a leading dot\n\n")
        p = subprocess.run([os.path.join(inst.root, "bin", "sendmail"), "-f", "ann@demo.test", "x@p1.test"],
                           input=msg, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                           env=dict(os.environ, QMAILQUEUE=os.path.join(inst.root, "bin", "tern-dkimsign")))
        got = m42.wait_for(40, lambda: len(pf.messages()) >= 1)
        tap.ok(p.returncode == 0 and got, "sent through tern-dkimsign and tern-remote, delivered by Postfix",
               (p.stdout, inst.log()[-1500:], pf.log()[-1500:]))
        m = pf.messages()[0] if got else b""
        ar = b" ".join(re.findall(rb"^Authentication-Results: (.*(?:\n[ \t].*)*)", m, re.M))
        ar = re.sub(rb"\s+", b" ", ar).decode("utf-8", "replace")
        tap.ok(re.search(r"dkim=pass[^;]*header\.d=demo\.test[^;]*header\.s=tern-rsa", ar) is not None,
               "opendkim: dkim=pass for the rsa-sha256 signature", ar)
        tap.ok(re.search(r"dkim=pass[^;]*header\.d=demo\.test[^;]*header\.s=tern-ed25519", ar) is not None,
               "opendkim: dkim=pass for the ed25519-sha256 signature", ar)
    finally:
        if pf:
            pf.stop()
        if dkimd:
            dkimd.terminate()
            try:
                dkimd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                dkimd.kill()
        if inst:
            inst.cleanup()
        if dns:
            dns.kill()
            dns.wait(timeout=5)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
