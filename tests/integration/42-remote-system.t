#!/usr/bin/env python3
# 42-remote-system.t: remote delivery through a whole tern instance
# (lib.sh's tern_install; s6-svscan; tern-send -> tern-rspawn -> tern-remote)
# in a private network namespace, with dnsmasq on 127.0.0.1 (the send
# service gets it from control/dnscacheip, see tern-remote(8)), a private
# Postfix on 127.0.0.10:25 (skipped if /usr/sbin/postfix is missing) and
# Python sinks from 40-remote-mx.t on other loopback addresses:
#   a) three recipients at two domains: two SMTP transactions into Postfix,
#      its Maildir holds the message byte for byte apart from trace headers;
#   b) 200 messages to 20 domains with concurrencyremote 5: never more than
#      5 tern-remote at once (/proc sampled every 50 ms), all arrive;
#   c) 451 on DATA is retried (s6-svc -a) and delivered once accepted; a
#      hanging host is given up after control/timeoutremote and retried;
#   d) 550 on one RCPT: bounce to the local sender, the other recipient of
#      the same transaction delivered, neither retried;
#   e) an address marked dead in remote-state/tcpto is deferred without a
#      connection, and delivered once the table is emptied.
# Postfix runs from its master(8) with -c (postfix -c DIR start refuses a
# directory not listed in the system main.cf's alternate_config_directories);
# this script lays out its queue directory itself. TERN_NO_POSTFIX=1 tests
# the skip. TERN_VALGRIND=1: the instance's tern-remote runs under valgrind (a wrapper
# script in HOME/bin, logs in HOME/valgrind/); one more test checks them.
# Every wait is bounded.
import importlib.machinery, os, re, shutil, signal, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SELF = os.path.abspath(__file__)
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
import tap  # noqa: E402  (tests/integration/tap.py, on the path 40-remote-mx.t set)
import ternctl  # noqa: E402
POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
VALGRIND = os.environ.get("TERN_VALGRIND") == "1"
HAVE_POSTFIX = (os.path.exists("/usr/sbin/postfix") and os.path.exists(POSTFIX_MASTER)
                and not os.environ.get("TERN_NO_POSTFIX"))   # TERN_NO_POSTFIX=1: test the skip


def wait_for(secs, cond, step=0.1):
    """cond() until true, at most secs seconds"""
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


# ---------------------------------------------------------------- tern instance
class Instance:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="tern-test.")
        os.chmod(self.root, 0o755)
        self.maildir = os.path.join(self.root, "mail/demo/Maildir")
        self.svscan = None
        env = dict(os.environ, ROOT=self.root, TERN_DOMAIN="demo.test", TERN_PORT=str(2700 + os.getpid() % 250))
        # lib.sh derives SRC from $0: pass this script as $0
        p = subprocess.run(["sh", "-c", '. "$1/lib.sh"; tern_install', SELF, HERE], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode:
            raise SystemExit("Bail out! tern_install failed: " + p.stdout.decode(errors="replace")[-2000:])

    def valgrind(self):
        """HOME/bin/tern-remote becomes a script running tern-remote.real under valgrind"""
        b = os.path.join(self.root, "bin")
        vd = os.path.join(self.root, "valgrind")
        os.mkdir(vd)
        shutil.chown(vd, "ternr")
        os.rename(os.path.join(b, "tern-remote"), os.path.join(b, "tern-remote.real"))
        with open(os.path.join(b, "tern-remote"), "w") as f:
            f.write('#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=no --log-file=%s/%%p.log %s/tern-remote.real "$@"\n'
                    % (vd, b))
        os.chmod(os.path.join(b, "tern-remote"), 0o755)

    def valgrind_errors(self):
        vd = os.path.join(self.root, "valgrind")
        out = []
        for n in sorted(os.listdir(vd)):
            with open(os.path.join(vd, n), "rb") as f:
                t = f.read()
            if t:
                out.append(n + ":\n" + t.decode("utf-8", "replace")[-2000:])
        return out

    def remotes(self):
        """running tern-remote processes (under valgrind: by command line);
        a child tern-remote forked (tern-mtasts, the TLS helper) still
        shows tern-remote's exe until it execs: not counted"""
        n = 0
        pre = self.root + "/bin/tern-remote"
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                e = os.readlink("/proc/%s/exe" % d)
                if e == pre:
                    with open("/proc/%s/stat" % d) as f:
                        ppid = f.read().rsplit(")", 1)[1].split()[1]
                    try:
                        forked = os.readlink("/proc/%s/exe" % ppid) == pre
                    except OSError:
                        forked = False
                    if not forked:
                        n += 1
                elif VALGRIND and "valgrind" in e or "memcheck" in e:
                    with open("/proc/%s/cmdline" % d, "rb") as f:
                        if (pre + ".real").encode() in f.read():
                            n += 1
            except OSError:
                continue
        return n

    def control(self, **kw):
        for k, v in kw.items():
            ternctl.write(self.root, k, None if v is None else v + "\n")

    def start(self):
        # smtpd is not needed here
        shutil.rmtree(os.path.join(self.root, "service", "smtpd"), ignore_errors=True)
        self.svscan = subprocess.Popen(["s6-svscan", os.path.join(self.root, "service")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(10, lambda: os.path.exists(os.path.join(self.root, "sock", "queue"))):
            raise SystemExit("Bail out! queue socket did not appear")
        if not wait_for(10, lambda: "tern-send" in self.ps()):
            raise SystemExit("Bail out! tern-send did not start")

    def ps(self):
        """executable names of running processes from root/bin"""
        out = []
        pre = self.root + "/bin/"
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                e = os.readlink("/proc/%s/exe" % d)
            except OSError:
                continue
            if e.startswith(pre):
                out.append(e[len(pre):])
        return out

    def pids(self):
        pre = self.root + "/"
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.readlink("/proc/%s/exe" % d).startswith(pre):
                        out.append(int(d))
                except OSError:
                    pass
        return out

    def inject(self, sender, rcpts, msg):
        p = subprocess.run([os.path.join(self.root, "bin", "sendmail"), "-i", "-f", sender, "--"] + rcpts,
                           input=msg, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return p.returncode, p.stdout

    def alarm(self):
        """s6-svc -a: tern-send retries everything now"""
        subprocess.run(["s6-svc", "-a", os.path.join(self.root, "service", "send")], timeout=10)

    def log(self):
        try:
            with open(os.path.join(self.root, "log", "send", "current"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def local_mail(self):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                with open(os.path.join(d, n), "rb") as f:
                    out.append(f.read())
        return out

    def queue_count(self):
        n = 0
        for _, _, files in os.walk(os.path.join(self.root, "queue", "msg")):
            n += len(files)
        return n

    def stop(self):
        if self.svscan:
            subprocess.run(["s6-svscanctl", "-t", os.path.join(self.root, "service")], timeout=10)
            try:
                self.svscan.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.svscan.kill()
                self.svscan.wait(timeout=5)
            self.svscan = None
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def cleanup(self):
        self.stop()
        if not os.environ.get("TERN_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- Postfix
class Postfix:
    """A private Postfix: config, queue, data and Maildir under dir; SMTP on
    127.0.0.10:25 (master.cf names the address, so it need not be on an
    interface); every recipient at the virtual domains into one Maildir."""

    def __init__(self, base, domains, extra="", master_extra=""):
        self.dir = os.path.join(base, "postfix")
        etc, q, data, mail = (os.path.join(self.dir, x) for x in ("etc", "queue", "data", "mail"))
        for d in (etc, q, data, mail):
            os.makedirs(d)
        nobody = int(subprocess.check_output(["id", "-u", "nobody"]))
        nogroup = int(subprocess.check_output(["id", "-g", "nobody"]))
        self.maillog = os.path.join(self.dir, "maillog")
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write("""compatibility_level = 3.6
queue_directory = %(q)s
data_directory = %(data)s
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = pf.test
mydomain = pf.test
myorigin = pf.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
virtual_mailbox_domains = %(domains)s
virtual_mailbox_base = %(mail)s
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:%(uid)d
virtual_gid_maps = static:%(gid)d
virtual_minimum_uid = 1
maillog_file = %(log)s
maillog_file_prefixes = %(dir)s
disable_dns_lookups = yes
smtp_host_lookup = native
biff = no
""" % dict(q=q, data=data, mail=mail, uid=nobody, gid=nogroup, log=self.maillog, dir=self.dir,
           domains=", ".join(domains)) + extra)
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write("""127.0.0.10:25 inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
""" + master_extra)
        # the queue layout postfix-script would create (postfix -c needs the
        # directory in the system main.cf's alternate_config_directories)
        for d in ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
                  "private", "saved", "trace"):
            os.mkdir(os.path.join(q, d), 0o700)
            shutil.chown(os.path.join(q, d), "postfix", "root")
        os.mkdir(os.path.join(q, "pid"), 0o755)
        for d, mode in (("public", 0o710), ("maildrop", 0o1730)):
            os.mkdir(os.path.join(q, d))
            os.chmod(os.path.join(q, d), mode)
            shutil.chown(os.path.join(q, d), "postfix", "postdrop")
        shutil.chown(data, "postfix")
        os.chmod(data, 0o700)
        shutil.chown(mail, nobody, nogroup)
        self.maildir = os.path.join(mail, "Maildir")
        self.p = subprocess.Popen([POSTFIX_MASTER, "-c", etc, "-d"], stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(self.dir, "master.err"), "wb"))

    def up(self):
        import socket
        try:
            s = socket.create_connection(("127.0.0.10", 25), 1)
            ok = s.recv(100).startswith(b"220")
            s.close()
            return ok
        except OSError:
            return False

    def messages(self):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                with open(os.path.join(d, n), "rb") as f:
                    out.append(f.read())
        return out

    def log(self):
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)


TRACE = re.compile(rb"^(return-path|delivered-to|received|x-original-to):", re.I)


def strip_trace(m):
    """drop the trace header fields (with their continuation lines) at the top"""
    lines = m.split(b"\n")
    i = 0
    while i < len(lines) and TRACE.match(lines[i]):
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    return b"\n".join(lines[i:])


MSG = (b"From: Alice <a@demo.test>\nTo: x@p1.test, y@p1.test, z@p2.test\n"
       b"Date: Sun, 29 Nov 2026 12:00:00 +0000\nMessage-ID: <system.1@demo.test>\nSubject: system test\n"
       b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
       b"line one\n.leading dot\n..two dots\n.\ncaf\xc3\xa9 8-bit\n" + b"x" * 990 + b"\n\ttab line \nlast line\n")


def simple(n, rcpt):
    return ("From: a@demo.test\nTo: %s\nSubject: msg %d\nMessage-ID: <m%d@demo.test>\n"
            "Date: Sun, 29 Nov 2026 12:00:00 +0000\n\nbody %d\n" % (rcpt, n, n, n)).encode()


def main():
    m40.enter_netns(SELF)
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    if not shutil.which("s6-svscan"):
        print("1..0 # SKIP s6 not installed")
        return 0
    dnsrec = ["--mx-host=p1.test,mx.pf.test,10", "--mx-host=p2.test,mx.pf.test,10",
              "--host-record=mx.pf.test,127.0.0.10",
              "--mx-host=data4.test,mx.data4.test,10", "--host-record=mx.data4.test,127.0.0.11",
              "--host-record=hang.test,127.0.0.12", "--host-record=perm.test,127.0.0.13",
              "--host-record=dead.test,127.0.0.14"]
    for i in range(20):
        dnsrec.append("--host-record=c%d.test,127.0.0.20" % i)
    dns = m40.start_dnsmasq(dnsrec)
    tap.plan(19 + VALGRIND)
    inst = None
    pf = None
    sinks = []
    try:
        inst = Instance()
        inst.control(dnscacheip="127.0.0.1", timeoutremote="3", timeoutconnect="3", timeoutdns="20",
                     concurrencyremote="5")
        if VALGRIND:
            inst.valgrind()
        inst.start()

        # ---- a) three recipients at two domains into Postfix
        if HAVE_POSTFIX:
            pf = Postfix(inst.root, ["p1.test", "p2.test"])
            pfup = wait_for(15, pf.up)
        if not HAVE_POSTFIX or not pfup:
            why = "no /usr/sbin/postfix" if not HAVE_POSTFIX else "Postfix did not start"
            for d in ("three recipients at two domains: two SMTP transactions",
                      "Postfix's Maildir: three copies", "byte for byte apart from trace headers",
                      "the queue is empty afterwards"):
                tap.skip("%s: %s" % (why, d))
        else:
            rc, out = inst.inject("a@demo.test", ["x@p1.test", "y@p1.test", "z@p2.test"], MSG)
            got = wait_for(30, lambda: len(pf.messages()) >= 3)
            time.sleep(0.5)
            pflog = pf.log()
            txn = re.findall(r"from=<a@demo\.test>, size=\d+, nrcpt=(\d+)", pflog)
            tap.ok(rc == 0 and sorted(txn) == ["1", "2"],
                   "three recipients at two domains: two SMTP transactions (nrcpt 2 and 1)", (rc, out, txn, inst.log()[-2000:]))
            msgs = pf.messages()
            dto = sorted(re.search(rb"^Delivered-To: (\S+)", m, re.M).group(1) for m in msgs if b"Delivered-To:" in m)
            tap.ok(got and len(msgs) == 3 and dto == [b"x@p1.test", b"y@p1.test", b"z@p2.test"],
                   "Postfix's Maildir: one copy for each recipient", (len(msgs), dto))
            bodies = [strip_trace(m) for m in msgs]
            diff = None
            for b in bodies:
                if b != MSG:
                    k = next((i for i in range(min(len(b), len(MSG))) if b[i] != MSG[i]), min(len(b), len(MSG)))
                    diff = "first difference at byte %d: got %r, sent %r" % (k, b[max(0, k - 40):k + 80], MSG[max(0, k - 40):k + 80])
            tap.ok(bodies and diff is None, "byte for byte apart from trace headers", diff)
            tap.ok(wait_for(10, lambda: inst.queue_count() == 0), "the queue is empty afterwards", inst.queue_count())

        # ---- b) concurrency: 200 messages to 20 domains, concurrencyremote 5
        cs = m40.Sink("127.0.0.20", delay=0.2)
        sinks.append(cs)
        peak = [0]
        stop = threading.Event()

        def sampler():
            end = time.time() + (700 if VALGRIND else 180)
            while not stop.is_set() and time.time() < end:
                n = inst.remotes()
                if n > peak[0]:
                    peak[0] = n
                time.sleep(0.05)

        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        bad = 0
        for i in range(200):
            rc, _ = inst.inject("a@demo.test", ["r%d@c%d.test" % (i, i % 20)], simple(i, "r%d@c%d.test" % (i, i % 20)))
            bad += rc != 0
        arrived = wait_for(600 if VALGRIND else 120, lambda: len(cs.received) >= 200)
        time.sleep(0.5)
        stop.set()
        th.join(timeout=5)
        tap.ok(bad == 0, "200 messages injected", bad)
        got = sorted(r["rcpt"][0] for r in cs.received)
        want = sorted("r%d@c%d.test" % (i, i % 20) for i in range(200))
        tap.ok(arrived and got == want, "all 200 arrived, each once", (len(cs.received), len(set(got))))
        tap.ok(2 <= peak[0] <= 5, "at most 5 tern-remote at once (peak %d)" % peak[0], peak[0])
        tap.ok(wait_for(10, lambda: inst.queue_count() == 0), "the queue is empty", inst.queue_count())

        # ---- c) 451 on DATA, retried after s6-svc -a, then delivered
        d4 = m40.Sink("127.0.0.11", data=b"451 4.3.0 not now\r\n")
        sinks.append(d4)
        rc, _ = inst.inject("a@demo.test", ["t@data4.test"], simple(1000, "t@data4.test"))
        deferred = wait_for(20, lambda: "451_4.3.0_not_now" in inst.log())
        tap.ok(rc == 0 and deferred and not d4.received, "451 on DATA: deferred", inst.log()[-1500:])
        del d4.srv.beh["data"]
        inst.alarm()
        tap.ok(wait_for(20, lambda: len(d4.received) == 1), "after s6-svc -a: delivered once the sink accepts", d4.connections)
        # a hanging host: given up after timeoutremote (3 s), then retried
        hg = m40.Sink("127.0.0.12", hang=30)
        sinks.append(hg)
        t0 = time.time()
        rc, _ = inst.inject("a@demo.test", ["t@hang.test"], simple(1001, "t@hang.test"))
        deferred = wait_for(20, lambda: re.search(r"deferral:[^\n]*hang\.test[^\n]*Timed_out", inst.log()) is not None)
        el = time.time() - t0
        tap.ok(rc == 0 and deferred and el < 12 and not hg.received, "hanging host: deferral after timeoutremote (%.1f s)" % el,
               inst.log()[-1500:])
        hg.srv.beh["hang"] = 0
        inst.alarm()
        tap.ok(wait_for(20, lambda: len(hg.received) == 1), "retried: delivered when the host answers", hg.connections)
        tap.ok(wait_for(10, lambda: inst.queue_count() == 0), "the queue is empty", inst.queue_count())

        # ---- d) 550 on one RCPT: bounce to the local sender, the other delivered, no retries
        pm = m40.Sink("127.0.0.13", rcpt=lambda a: b"550 5.1.1 no such user here\r\n" if a.startswith("bad") else b"250 ok\r\n")
        sinks.append(pm)
        before = len(inst.local_mail())
        rc, _ = inst.inject("a@demo.test", ["bad@perm.test", "good@perm.test"], simple(1002, "bad@perm.test, good@perm.test"))
        bounced = wait_for(20, lambda: len(inst.local_mail()) > before)
        mail = inst.local_mail()
        bounce = mail[-1] if len(mail) > before else b""
        tap.ok(rc == 0 and bounced and b"bad@perm.test" in bounce and b"550 5.1.1" in bounce and b"Status: 5.1.1" in bounce and b"good@perm.test" not in bounce.split(b"\n\n", 1)[0],
               "550 on RCPT: a bounce for bad@perm.test in the sender's Maildir", bounce[:1500])
        tap.ok(len(pm.received) == 1 and pm.received[0]["rcpt"] == ["good@perm.test"],
               "the other recipient of the same transaction delivered", pm.received)
        conns = pm.connections
        inst.alarm()
        time.sleep(2)
        tap.ok(pm.connections == conns and len(inst.local_mail()) == before + 1 and inst.queue_count() == 0,
               "neither is retried (no new connection after s6-svc -a, one bounce, queue empty)",
               (pm.connections, conns, len(inst.local_mail()), inst.queue_count()))
        # ---- e) tcpto: an address marked dead in remote-state/tcpto is not
        # connected to (the delivery is deferred at once); once the table is
        # emptied, s6-svc -a delivers
        tcpto = os.path.join(inst.root, "remote-state", "tcpto")
        dd = m40.Sink("127.0.0.14")
        sinks.append(dd)
        rec = bytearray(1024)
        rec[0:16] = b"\0" * 10 + b"\xff\xff" + bytes([127, 0, 0, 14])
        rec[16] = 2
        rec[24:32] = int(time.time()).to_bytes(8, "little")
        with open(tcpto, "r+b") as f:
            f.write(bytes(rec))
        rc, _ = inst.inject("a@demo.test", ["t@dead.test"], simple(1003, "t@dead.test"))
        deferred = wait_for(20, lambda: re.search(r"deferral:[^\n]*dead\.test[^\n]*timed_out_recently", inst.log()) is not None)
        tap.ok(rc == 0 and deferred and dd.connections == 0, "tcpto: a dead address is deferred without a connection",
               (dd.connections, inst.log()[-800:]))
        with open(tcpto, "r+b") as f:
            f.write(bytes(1024))
        inst.alarm()
        tap.ok(wait_for(20, lambda: len(dd.received) == 1) and wait_for(10, lambda: inst.queue_count() == 0),
               "tcpto emptied, s6-svc -a: delivered", dd.connections)

        st = os.stat(tcpto)
        import pwd
        tap.ok(st.st_size == 1024 and pwd.getpwuid(st.st_uid).pw_name == "ternr" and (st.st_mode & 0o777) == 0o600,
               "remote-state/tcpto still 1024 bytes, ternr, 0600 after the deliveries", (st.st_size, st.st_uid, oct(st.st_mode)))
        if VALGRIND:
            errs = inst.valgrind_errors()
            lg = inst.log()
            tap.ok(not errs and "crashed" not in lg and "Unable to run tern-remote" not in lg
                   and len(os.listdir(os.path.join(inst.root, "valgrind"))) > 200,
                   "every tern-remote ran under valgrind without an error", "\n".join(errs)[:4000])
    finally:
        for s in sinks:
            s.stop()
        if pf:
            pf.stop()
        if inst:
            inst.cleanup()
        dns.kill()
        dns.wait(timeout=5)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
