#!/usr/bin/env python3
# 65-submission-clients.t: the mail clients people use submit through a
# whole tern instance as installed (lib.sh's tern_install, s6, the smtpd
# service: tern-listen's submission and smtps listeners, tern-tlsd as
# terntls, tern-smtpd as ternd), in a private network namespace
# (40-remote-mx.t's):
#  - msmtp, swaks and Python's smtplib, each on the submission port
#    (STARTTLS, then AUTH) and on the smtps port (TLS from the first
#    byte), as bob@demo.test, checked by the installed auth service
#    (s6-sudo to tern-authfile as ternauth, HOME/auth/passwd): every
#    message reaches the Maildir with "with ESMTPSA" in its Received line;
#  - a wrong password: each client reports the failure, nothing is queued;
#  - Dovecot's auth socket as the backend: control/authcheck runs
#    tern-authdovecot against a private Dovecot (43-remote-tls.t's: auth
#    service only, a passwd-file holding alice@tls.test), and msmtp and
#    smtplib submit as alice@tls.test on 587 and 465; a wrong password
#    gets 535; the smtpd log names the user.
# A missing client or Dovecot is a failure (tests/deps.sh installs them).
# Every wait and every client run is bounded; the whole test takes about 20 s.
import importlib.machinery, os, re, shutil, smtplib, ssl, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SELF = os.path.abspath(__file__)
sys.path.insert(0, HERE)
import tap  # noqa: E402
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
m42 = importlib.machinery.SourceFileLoader("remote42", os.path.join(HERE, "42-remote-system.t")).load_module()
m43 = importlib.machinery.SourceFileLoader("remote43", os.path.join(HERE, "43-remote-tls.t")).load_module()

BOB, BOBPW = "bob@demo.test", "bob-secret"
ALICE, ALICEPW = "alice@tls.test", "pf-secret"      # 43-remote-tls.t's Dovecot user


def msg(subject, sender):
    return ("From: %s\nTo: x@demo.test\nSubject: %s\nMessage-ID: <%s@client.test>\n\nsubmitted: %s\n"
            % (sender, subject, subject, subject))


def run(argv, data=None):
    """(exit code, output) of a client, at most 30 s"""
    try:
        p = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        return -1, "timeout: %s" % (e.output or b"").decode("utf-8", "replace")


def msmtp(port, implicit, user, pw, subject):
    return run(["msmtp", "--file=/dev/null", "--host=127.0.0.1", "--port=%d" % port, "--domain=client.test",
                "--tls=on", "--tls-starttls=%s" % ("off" if implicit else "on"), "--tls-certcheck=off",
                "--auth=plain", "--user=" + user, "--passwordeval=echo " + pw, "--from=" + user,
                "--timeout=20", "x@demo.test"], msg(subject, user).encode())


def swaks(port, implicit, user, pw, subject):
    return run(["swaks", "--server", "127.0.0.1:%d" % port, "--tlsc" if implicit else "--tls",
                "--helo", "client.test", "--auth", "PLAIN", "--auth-user", user, "--auth-password", pw,
                "--from", user, "--to", "x@demo.test", "--timeout", "20",
                "--header", "Subject: " + subject, "--header", "Message-ID: <%s@client.test>" % subject,
                "--body", "submitted: " + subject])


def smtplib_send(port, implicit, user, pw, subject):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        if implicit:
            s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="client.test", timeout=20, context=ctx)
        else:
            s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=20)
            s.starttls(context=ctx)
        s.login(user, pw)
        s.sendmail(user, ["x@demo.test"], msg(subject, user))
        s.quit()
        return 0, ""
    except (smtplib.SMTPException, OSError) as e:
        return 1, repr(e)


CLIENTS = (("msmtp", msmtp), ("swaks", swaks), ("smtplib", smtplib_send))


def start(inst):
    """s6 over every service of the instance; the three ports once they accept"""
    ports = [int(open(os.path.join(inst.root, "control", f)).read().split()[0])
             for f in ("smtpport", "submissionport", "smtpsport")]
    inst.svscan = subprocess.Popen(["s6-svscan", os.path.join(inst.root, "service")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for p in ports:
        if not m42.wait_for(15, lambda: tcp_up(p)):
            raise SystemExit("Bail out! the smtpd service did not come up on %d" % p)
    if not m42.wait_for(10, lambda: os.path.exists(os.path.join(inst.root, "sock", "auth"))):
        raise SystemExit("Bail out! the auth service's socket did not appear")
    return ports


def tcp_up(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def arrived(inst, subject):
    """the delivered message whose Subject is subject, or None"""
    for m in inst.local_mail():
        if re.search(rb"^Subject: " + re.escape(subject.encode()) + rb"$", m, re.M):
            return m.decode("utf-8", "replace")
    return None


def esmtpsa(m):
    return m is not None and re.search(r"\(using TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)\)\n"
                                       r"\tby \S+ \(tern-smtpd\) with ESMTPSA id", m) is not None


def smtpd_log(inst):
    try:
        with open(os.path.join(inst.root, "log", "smtpd", "current"), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def main():
    m40.enter_netns(SELF)
    if not shutil.which("s6-svscan"):
        tap.skip_all("s6 not installed")
    tap.plan(15)
    missing = [c for c in ("msmtp", "swaks") if not shutil.which(c)]
    if not os.access("/usr/sbin/dovecot", os.X_OK):
        missing.append("dovecot")
    if missing:
        tap.ok(False, "the clients and Dovecot are installed (tests/deps.sh test): missing %s" % " ".join(missing))
        return 1
    inst = m42.Instance()
    tmp = tempfile.mkdtemp(prefix="tern-dovecot.")
    os.chmod(tmp, 0o755)
    try:
        authfile = os.path.join(inst.root, "bin", "tern-authfile")
        h = subprocess.run([authfile, "-m"], input=(BOBPW + "\n").encode(), stdout=subprocess.PIPE,
                           check=True, timeout=30).stdout.decode().strip()
        with open(os.path.join(inst.root, "auth", "passwd"), "w") as f:
            f.write("%s:%s\n" % (BOB, h))
        mx, sub, smtps = start(inst)

        # ---- the file checker (the installed auth service), three clients, two ports
        for name, fn in CLIENTS:
            for port, implicit, what in ((sub, False, "587 (STARTTLS + AUTH)"), (smtps, True, "465 (implicit TLS)")):
                subject = "%s-%s" % (name, "smtps" if implicit else "submission")
                rc, out = fn(port, implicit, BOB, BOBPW, subject)
                m42.wait_for(15, lambda: arrived(inst, subject))
                m = arrived(inst, subject)
                tap.ok(rc == 0 and esmtpsa(m), "%s on %s: delivered, Received says ESMTPSA" % (name, what),
                       (rc, out[-1500:], (m or "")[:500]))
        n = len(inst.local_mail())
        bad = []
        for name, fn in CLIENTS:
            rc, out = fn(sub, False, BOB, "wrong", "%s-wrong" % name)
            bad.append((name, rc, out[-300:]))
        time.sleep(0.5)
        tap.ok(all(rc != 0 for _, rc, _ in bad) and all("535" in out for _, _, out in bad),
               "a wrong password: every client fails, having seen 535", bad)
        tap.ok(len(inst.local_mail()) == n and inst.queue_count() == 0, "and nothing is queued or delivered",
               (n, len(inst.local_mail()), inst.queue_count()))

        # ---- Dovecot's auth socket as the backend (tern-authdovecot as ternd)
        sock = m43.start_dovecot(tmp)
        tap.ok(sock is not None, "a private Dovecot (auth only, passwd-file) starts", sock)
        with open(os.path.join(inst.root, "control", "authcheck"), "w") as f:
            f.write("%s/bin/tern-authdovecot -s %s\n" % (inst.root, sock))
        for name, fn in (("msmtp", msmtp), ("smtplib", smtplib_send)):
            for port, implicit, what in ((sub, False, "587"), (smtps, True, "465")):
                subject = "dovecot-%s-%s" % (name, what)
                rc, out = fn(port, implicit, ALICE, ALICEPW, subject) if sock else (1, "no dovecot")
                m42.wait_for(15, lambda: arrived(inst, subject))
                m = arrived(inst, subject)
                tap.ok(rc == 0 and esmtpsa(m), "Dovecot backend: %s on %s as %s: delivered, ESMTPSA" % (name, what, ALICE),
                       (rc, out[-1500:], (m or "")[:400]))
        rc, out = smtplib_send(sub, False, ALICE, "wrong", "dovecot-wrong") if sock else (0, "no dovecot")
        tap.ok(rc != 0 and "535" in out, "Dovecot backend: a wrong password gets 535", out)
        lg = smtpd_log(inst)
        tap.ok(re.search(r"auth ok user %s\b" % re.escape(ALICE), lg) is not None
               and re.search(r"auth failed user %s\b" % re.escape(ALICE), lg) is not None,
               "the smtpd log names the user, for the success and the failure", lg[-1500:])
    finally:
        for p in m43.DOVECOTS:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        inst.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
