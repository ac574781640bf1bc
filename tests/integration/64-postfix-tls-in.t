#!/usr/bin/env python3
# 64-postfix-tls-in.t: a real Postfix delivers to tern over STARTTLS with
# smtp_tls_security_level = encrypt (Postfix refuses to send in
# plaintext). In a private network namespace (40-remote-mx.t's), a whole
# tern instance as installed (lib.sh's tern_install, s6, the smtpd
# service: tern-listen, tern-tlsd as terntls, tern-smtpd as ternd, the
# self-signed certificate install.sh makes) and a private Postfix
# (42-remote-system.t's: its own config, queue and log under the test's
# root, master(8) with -c, never the system's service) that takes a
# message on 127.0.0.10:25 and relays it to relayhost [127.0.0.1]:PORT:
#  - the message reaches tern's Maildir, and Postfix logs status=sent;
#  - Postfix logs a TLS 1.3 connection to tern, with its cipher;
#  - tern's Received line says "with ESMTPS" and "(using TLSv1.3 with
#    cipher C (N/N bits))" with the cipher Postfix names;
#  - with STARTTLS gone (no certificate: the smtpd service restarted
#    without one), Postfix does not send: the message stays deferred and
#    Postfix says why.
# Postfix missing is a failure (tests/deps.sh installs it). Every wait is
# bounded; the whole test takes about 10 s.
import importlib.machinery, os, re, shutil, smtplib, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
SELF = os.path.abspath(__file__)
sys.path.insert(0, HERE)
import tap  # noqa: E402
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
m42 = importlib.machinery.SourceFileLoader("remote42", os.path.join(HERE, "42-remote-system.t")).load_module()

MSG = "From: a@pf.test\nTo: x@demo.test\nSubject: %s\nMessage-ID: <%s@pf.test>\n\nover TLS from Postfix\n"


def start(inst):
    """s6 over every service of the instance; the SMTP port once it accepts"""
    port = int(open(os.path.join(inst.root, "control", "smtpport")).read().split()[0])
    inst.svscan = subprocess.Popen(["s6-svscan", os.path.join(inst.root, "service")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not m42.wait_for(15, lambda: up(port)):
        raise SystemExit("Bail out! the smtpd service did not come up")
    return port


def up(port):
    import socket
    try:
        s = socket.create_connection(("127.0.0.1", port), 1)
        g = s.recv(100)
        s.close()
        return g.startswith(b"220")
    except OSError:
        return False


def send_to_postfix(subject, mid):
    s = smtplib.SMTP("127.0.0.10", 25, timeout=15)
    s.sendmail("a@pf.test", ["x@demo.test"], MSG % (subject, mid))
    s.quit()


def main():
    m40.enter_netns(SELF)
    if not shutil.which("s6-svscan"):
        tap.skip_all("s6 not installed")
    tap.plan(7)
    if not m42.HAVE_POSTFIX:
        tap.ok(False, "Postfix is installed (/usr/sbin/postfix, %s): tests/deps.sh test" % m42.POSTFIX_MASTER)
        return 1
    inst = m42.Instance()
    pf = None
    try:
        port = start(inst)
        pf = m42.Postfix(inst.root, ["pf-local.test"], extra="""relayhost = [127.0.0.1]:%d
smtp_tls_security_level = encrypt
smtp_tls_loglevel = 1
smtp_tls_mandatory_protocols = >=TLSv1.2
""" % port, master_extra="tlsmgr unix - - n 1000? 1 tlsmgr\n")
        if not m42.wait_for(15, pf.up):
            tap.ok(False, "the private Postfix starts", open(os.path.join(pf.dir, "master.err")).read()[-1500:])
            return 1
        send_to_postfix("tls in", "tls.1")
        got = m42.wait_for(30, lambda: inst.local_mail())
        time.sleep(0.3)
        log = pf.log()
        mails = inst.local_mail()
        tap.ok(got and len(mails) == 1 and b"over TLS from Postfix" in mails[0],
               "Postfix (smtp_tls_security_level = encrypt) delivers the message into tern's Maildir", log[-2000:])
        tap.ok(re.search(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d,.*status=sent" % port, log) is not None,
               "Postfix logs status=sent to tern", log[-2000:])
        m = re.search(r"TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: (TLSv1\.3) with cipher (\S+)"
                      % port, log)
        tap.ok(m is not None, "Postfix logs a TLS 1.3 connection to tern, with its cipher", log[-2000:])
        cipher = m.group(2) if m else "?"
        rcv = mails[0].decode("utf-8", "replace") if mails else ""
        r = re.search(r"Received: from pf\.test \(\S*\[127\.0\.0\.1\]\)\n\t\(using TLSv1\.3 with cipher (\S+) "
                      r"\((\d+)/(\d+) bits\)\)\n\tby \S+ \(tern-smtpd\) with ESMTPS id", rcv)
        tap.ok(r is not None, "tern's Received line: with ESMTPS, (using TLSv1.3 with cipher C (N/N bits))", rcv[:600])
        tap.ok(r is not None and r.group(1) == cipher,
               "the cipher in the Received line is the one Postfix names (%s)" % cipher, (r and r.group(1), cipher))

        # without a certificate tern offers no STARTTLS: encrypt defers
        tls = os.path.join(inst.root, "tls")
        for n in ("default.crt", "default.key"):
            os.rename(os.path.join(tls, n), os.path.join(tls, n + ".off"))
        subprocess.run(["s6-svc", "-r", os.path.join(inst.root, "service", "smtpd")], timeout=10)
        time.sleep(1)
        m42.wait_for(10, lambda: up(port))
        send_to_postfix("no tls", "tls.2")
        deferred = m42.wait_for(30, lambda: re.search(r"status=deferred \(TLS is required, but was not offered", pf.log()) is not None)
        tap.ok(deferred, "tern without STARTTLS: Postfix defers (status=deferred, TLS is required, but was not offered)", pf.log()[-1500:])
        tap.ok(len(inst.local_mail()) == 1, "and nothing more reaches tern's Maildir", len(inst.local_mail()))
    finally:
        if pf:
            pf.stop()
        inst.cleanup()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
