#!/usr/bin/env python3
"""tests/bench/bench.py: the measuring half of `make bench` (run.sh starts
the two instances and calls this with where they are).

For each server and each load (SIZE bytes, N messages, C parallel
clients, Postfix's smtp-source) it measures:
  accepted/s   N / wall time of smtp-source
  delivered/s  N / time until the N-th message is in the Maildir
  cpu/1000     CPU seconds of the whole instance (its cgroup) per 1000 msgs,
               until the queue is empty again
  rss max      peak RSS of the largest single process (max VmHWM / VmRSS
               seen, sampled every 50 ms)
  rss sum      peak of the sum of VmRSS of all the instance's processes
  flush/msg    device cache flushes per message (/proc/diskstats of the
               queue's disk; the whole disk, so other activity adds noise)
Loads run in alternation (tern, postfix, tern, postfix ...), ROUNDS rounds;
the table gives the median of the rounds (peaks: the maximum).
A separate short run under strace -f counts fsync/fdatasync per message
and per program. A last step sends one 10 MiB message to tern and reads
the VmHWM of its tern-smtpd before QUIT.

Every wait is bounded. Output: the table on stdout and JSON in --out.
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

CLK = os.sysconf("SC_CLK_TCK")


# ---- the processes and CPU of one instance ----

class Instance:
    def __init__(self, spec):
        # name:port:maildir:cgroupdir:queuedirs(comma):rootpid[:listcmd]
        # listcmd: a shell command listing the queue through the server's
        # public interface (tern-queuectl list, postqueue -p); when given,
        # queued() counts with it (queue_count) instead of walking queuedirs,
        # so no load depends on the on-disk queue format
        f = spec.split(":", 6)
        self.name, self.port, self.maildir, self.cg = f[0], int(f[1]), f[2], f[3]
        self.queuedirs = [d for d in f[4].split(",") if d]
        self.rootpid = int(f[5]) if len(f) > 5 and f[5] else 0
        self.listcmd = f[6] if len(f) > 6 else ""
        self.cgkind = ""
        if self.cg and os.path.exists(os.path.join(self.cg, "cpuacct.usage")):
            self.cgkind = "v1"
        elif self.cg and os.path.exists(os.path.join(self.cg, "cpu.stat")):
            self.cgkind = "v2"

    def pids(self):
        if self.cgkind:
            try:
                with open(os.path.join(self.cg, "cgroup.procs")) as fh:
                    return [int(x) for x in fh.read().split()]
            except OSError:
                return []
        return descendants(self.rootpid)

    def cpu(self):
        """CPU seconds (user+system) of every process the instance ever ran"""
        if self.cgkind == "v1":
            with open(os.path.join(self.cg, "cpuacct.usage")) as fh:
                return int(fh.read()) / 1e9
        if self.cgkind == "v2":
            with open(os.path.join(self.cg, "cpu.stat")) as fh:
                for line in fh:
                    k, v = line.split()
                    if k == "usage_usec":
                        return int(v) / 1e6
        # fallback: live processes plus what they reaped (cutime/cstime)
        t = 0
        for p in self.pids():
            st = procstat(p)
            if st:
                t += sum(int(x) for x in st[11:15])
        return t / CLK

    def listing(self):
        """the queue listing of listcmd (stdout), "" when it fails"""
        try:
            r = subprocess.run(["sh", "-c", self.listcmd], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, timeout=120)
            return r.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired:
            return ""

    def queued(self):
        if self.listcmd:
            n = queue_count(self.listing())
            return n if n is not None else -1
        n = 0
        for d in self.queuedirs:
            for _, _, files in os.walk(d):
                n += len(files)
        return n


def queue_count(text):
    """messages in a queue listing: tern-queuectl list ends "-- N messages",
    postqueue -p "-- K Kbytes in N Requests."; both say "Mail queue is
    empty"; None when the listing is neither"""
    lines = text.strip().splitlines()
    if not lines:
        return None
    if "queue is empty" in lines[-1]:
        return 0
    m = re.search(r"(\d+) (messages?|Requests?)\.?$", lines[-1].strip())
    return int(m.group(1)) if m else None


def procstat(pid):
    try:
        with open("/proc/%d/stat" % pid) as fh:
            s = fh.read()
    except OSError:
        return None
    return s[s.rindex(")") + 2:].split()  # fields from state (3rd) on


def descendants(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = procstat(int(d))
            if st:
                kids.setdefault(int(st[1]), []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def progname(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        try:
            with open("/proc/%d/comm" % pid) as fh:
                return fh.read().strip()
        except OSError:
            return "?"


class Sampler(threading.Thread):
    """VmRSS/VmHWM of every process of the instance every `every` seconds"""

    def __init__(self, inst, every=0.05):
        super().__init__(daemon=True)
        self.inst, self.every = inst, every
        self.stop_ev = threading.Event()
        self.maxsum = 0
        self.maxproc = (0, "")
        self.samples = 0

    def run(self):
        while not self.stop_ev.is_set():
            total = 0
            for p in self.inst.pids():
                rss = hwm = 0
                try:
                    with open("/proc/%d/status" % p) as fh:
                        for line in fh:
                            if line.startswith("VmRSS:"):
                                rss = int(line.split()[1])
                            elif line.startswith("VmHWM:"):
                                hwm = int(line.split()[1])
                except OSError:
                    continue
                total += rss
                if max(rss, hwm) > self.maxproc[0]:
                    self.maxproc = (max(rss, hwm), progname(p))
            self.maxsum = max(self.maxsum, total)
            self.samples += 1
            self.stop_ev.wait(self.every)

    def stop(self):
        self.stop_ev.set()
        self.join(5)


# ---- disk flushes ----

def disk_of(path):
    """the /proc/diskstats name of the whole disk holding path"""
    dev = os.stat(path).st_dev
    try:
        real = os.path.realpath("/sys/dev/block/%d:%d" % (os.major(dev), os.minor(dev)))
        name = os.path.basename(real)
        if os.path.exists(os.path.join(real, "partition")):
            name = os.path.basename(os.path.dirname(real))
        return name
    except OSError:
        return ""


def flushes(disk):
    try:
        with open("/proc/diskstats") as fh:
            for line in fh:
                f = line.split()
                if len(f) >= 20 and f[2] == disk:
                    return int(f[18])  # 16th statistic: flush requests completed
    except OSError:
        pass
    return None


# ---- maildir ----

def count_maildir(md):
    n = 0
    for sub in ("new", "cur"):
        try:
            with os.scandir(os.path.join(md, sub)) as it:
                for _ in it:
                    n += 1
        except OSError:
            pass
    return n


def empty_maildir(md):
    for sub in ("new", "cur"):
        d = os.path.join(md, sub)
        try:
            for e in os.listdir(d):
                try:
                    os.unlink(os.path.join(d, e))
                except OSError:
                    pass
        except OSError:
            pass


# ---- one load ----

def smtp_source(port, size, n, c, timeout):
    return smtp_source_cmd(port, size, n, c, timeout)


def tls_source(port, size, n, c, timeout):
    """smtp-source's load with STARTTLS on every connection (smtp-source has
    no TLS): c worker processes, one message of size bytes per connection,
    n in all; EHLO, STARTTLS, EHLO again, one transaction, QUIT. The
    server's certificate is not checked."""
    import ssl
    body = b"From: bench@sender.test\r\nTo: bench@demo.test\r\nSubject: tls bench\r\n\r\n"
    body += (b"x" * 78 + b"\r\n") * max(1, (size - len(body)) // 80) + b".\r\n"
    t0 = time.monotonic()
    kids = []
    for w in range(c):
        share = n // c + (1 if w < n % c else 0)
        pid = os.fork()
        if pid == 0:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            code = 0
            try:
                for _ in range(share):
                    s = socket.create_connection(("127.0.0.1", port), 60)
                    f = s.makefile("rb")

                    def reply(want):
                        while True:
                            ln = f.readline()
                            if ln[3:4] != b"-":
                                break
                        if not ln.startswith(want):
                            raise OSError("unexpected reply %r" % ln[:80])
                    reply(b"220")
                    s.sendall(b"EHLO client.test\r\n")
                    reply(b"250")
                    s.sendall(b"STARTTLS\r\n")
                    reply(b"220")
                    s = ctx.wrap_socket(s)
                    f = s.makefile("rb")
                    s.sendall(b"EHLO client.test\r\n")
                    reply(b"250")
                    s.sendall(b"MAIL FROM:<bench@sender.test>\r\n")
                    reply(b"250")
                    s.sendall(b"RCPT TO:<bench@demo.test>\r\n")
                    reply(b"250")
                    s.sendall(b"DATA\r\n")
                    reply(b"354")
                    s.sendall(body)
                    reply(b"250")
                    s.sendall(b"QUIT\r\n")
                    s.close()
            except (OSError, ssl.SSLError) as e:
                sys.stderr.write("tls_source: %s\n" % e)
                code = 1
            os._exit(code)
        kids.append(pid)
    ok, end = True, time.monotonic() + timeout
    for pid in kids:
        while True:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p:
                ok = ok and os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
                break
            if time.monotonic() > end:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                ok = False
                break
            time.sleep(0.02)
    return ok, time.monotonic() - t0, "" if ok else "a TLS client failed or timed out"


def run_pool(jobs, c):
    """runs the callables in jobs (each returning (ok, seconds, error))
    from c threads, none started after a failure; the error texts"""
    jobs, lock, errs = list(jobs), threading.Lock(), []

    def worker():
        while True:
            with lock:
                if not jobs or errs:
                    return
                job = jobs.pop()
            ok, _, err = job()
            if not ok:
                with lock:
                    errs.append(err)
    th = [threading.Thread(target=worker) for _ in range(c)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    return errs


def session_source(port, size, n, c, timeout, per=10):
    """PER messages per SMTP session: c parallel workers, each running
    smtp-source -d -s 1 -m PER (one connection, PER transactions, QUIT)
    one after another until n messages are sent in all"""
    sessions = [per] * (n // per) + ([n % per] if n % per else [])
    t0 = time.monotonic()
    end = t0 + timeout

    def one(m):
        left = end - time.monotonic()
        return smtp_source_cmd(port, size, m, 1, left, ["-d"]) if left > 0 else (False, 0, "timed out")
    errs = run_pool([lambda m=m: one(m) for m in sessions], c)
    return not errs, time.monotonic() - t0, errs[0] if errs else ""


def smtp_source_cmd(port, size, n, c, timeout, extra=(), to="bench@demo.test"):
    cmd = ["smtp-source"] + list(extra) + ["-l", str(size), "-m", str(n), "-s", str(c),
                                           "-f", "bench@sender.test", "-t", to, "127.0.0.1:%d" % port]
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
        ok = r.returncode == 0
        err = r.stderr.decode(errors="replace").strip()[-300:]
    except subprocess.TimeoutExpired:
        ok, err = False, "smtp-source timed out after %ds" % timeout
    return ok, time.monotonic() - t0, err


SOURCE = smtp_source


def run_load(inst, size, n, c, disk, limit):
    empty_maildir(inst.maildir)
    wait_until(lambda: inst.queued() == 0, 30)
    base = count_maildir(inst.maildir)
    samp = Sampler(inst)
    cpu0, fl0 = inst.cpu(), flushes(disk)
    samp.start()
    t0 = time.monotonic()
    ok, tacc, err = SOURCE(inst.port, size, n, c, limit)
    delivered = wait_until(lambda: count_maildir(inst.maildir) - base >= n, limit if ok else 10, poll=0.02)
    tdel = time.monotonic() - t0
    got = count_maildir(inst.maildir) - base
    drained = wait_until(lambda: inst.queued() == 0, 30, poll=0.3 if inst.listcmd else 0.05)
    time.sleep(0.2)  # the last unlinks and log lines
    cpu1, fl1 = inst.cpu(), flushes(disk)
    samp.stop()
    res = {
        "server": inst.name, "size": size, "n": n, "c": c, "ok": ok and delivered,
        "error": "" if ok else err, "delivered": got, "drained": drained,
        "acc_s": n / tacc if ok else 0.0,
        "del_s": got / tdel if got else 0.0,
        "cpu_1000": (cpu1 - cpu0) / n * 1000,
        "rss_proc_kib": samp.maxproc[0], "rss_proc_name": samp.maxproc[1],
        "rss_sum_kib": samp.maxsum, "samples": samp.samples,
        "flush_msg": (fl1 - fl0) / n if fl0 is not None and fl1 is not None else None,
    }
    empty_maildir(inst.maildir)
    return res


def wait_until(cond, seconds, poll=0.1):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(poll)
    return cond()


# ---- fsync count under strace ----

SYNCS = ("fsync", "fdatasync", "sync_file_range", "syncfs", "sync", "msync")


def fsync_run(inst, size, n, c, tracedir, limit):
    """every process of the instance under strace -f -ff; returns
    (fsync-like calls per message, {program: calls per message})"""
    os.makedirs(tracedir, exist_ok=True)
    pids = inst.pids()
    attach_names = {p: progname(p) for p in pids}
    cmd = ["strace", "-f", "-ff", "-qq", "-o", os.path.join(tracedir, "t"),
           "-e", "trace=fsync,fdatasync,sync_file_range,syncfs,sync,msync,execve,clone,clone3,fork,vfork"]
    for p in pids:
        cmd += ["-p", str(p)]
    st = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # attached
    empty_maildir(inst.maildir)
    base = count_maildir(inst.maildir)
    ok, _, err = smtp_source(inst.port, size, n, c, limit)
    wait_until(lambda: count_maildir(inst.maildir) - base >= n, limit)
    wait_until(lambda: inst.queued() == 0, 30)
    time.sleep(1.0)
    st.send_signal(signal.SIGINT)
    try:
        st.wait(20)
    except subprocess.TimeoutExpired:
        st.kill()
        st.wait(5)
    got = count_maildir(inst.maildir) - base
    empty_maildir(inst.maildir)
    # attribute each process's calls to its program: its last successful
    # execve, else its parent's program (clone results), else its name at attach
    calls, prog, parent = {}, {}, {}
    for fn in os.listdir(tracedir):
        m = re.match(r"t\.(\d+)$", fn)
        if not m:
            continue
        pid = int(m.group(1))
        calls[pid] = 0
        with open(os.path.join(tracedir, fn), errors="replace") as fh:
            for line in fh:
                mm = re.match(r"(\w+)\(", line)
                if not mm:
                    continue
                name = mm.group(1)
                if name in SYNCS:
                    calls[pid] += 1
                elif name == "execve" and re.search(r"\) = 0$", line.rstrip()):
                    pm = re.match(r'execve\("([^"]*)"', line)
                    if pm:
                        prog[pid] = os.path.basename(pm.group(1))
                elif name in ("clone", "clone3", "fork", "vfork"):
                    rm = re.search(r"= (\d+)$", line.rstrip())
                    if rm:
                        parent[int(rm.group(1))] = pid

    def who(p, depth=0):
        if p in prog:
            return prog[p]
        if p in parent and depth < 50:
            return who(parent[p], depth + 1)
        return attach_names.get(p, "?")

    per = {}
    for p, k in calls.items():
        if k:
            per[who(p)] = per.get(who(p), 0) + k
    total = sum(per.values())
    div = got or n
    return {"server": inst.name, "n": n, "delivered": got, "ok": ok, "error": "" if ok else err,
            "fsync_msg": total / div, "per_program": {k: v / div for k, v in sorted(per.items())}}


# ---- one big message to tern-smtpd ----

def big_message(inst, mib):
    s = socket.create_connection(("127.0.0.1", inst.port), 10)
    s.settimeout(60)
    f = s.makefile("rb")

    def reply():
        lines = []
        while True:
            line = f.readline(1000)
            if not line:
                raise IOError("connection closed")
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return lines[-1][:3].decode()

    out = {"server": inst.name, "mib": mib}
    if reply() != "220":
        return dict(out, error="no greeting")
    for cmd, want in ((b"EHLO bench.test", "250"), (b"MAIL FROM:<bench@sender.test>", "250"),
                      (b"RCPT TO:<bench@demo.test>", "250"), (b"DATA", "354")):
        s.sendall(cmd + b"\r\n")
        if reply() != want:
            return dict(out, error="%s refused" % cmd.decode())
    line = b"X" * 76 + b"\r\n"
    chunk = b"Subject: big\r\n\r\n" + line * (mib * 1024 * 1024 // len(line) + 1)
    s.sendall(chunk + b".\r\n")
    code = reply()
    # still connected: the smtpd that took it is alive; read its peak
    peak = []
    for p in inst.pids():
        n = progname(p)
        if n in ("tern-smtpd", "smtpd"):
            try:
                with open("/proc/%d/status" % p) as fh:
                    for l in fh:
                        if l.startswith("VmHWM:"):
                            peak.append((int(l.split()[1]), n, p))
            except OSError:
                pass
    s.sendall(b"QUIT\r\n")
    try:
        reply()
    except (IOError, OSError):
        pass
    s.close()
    peak.sort(reverse=True)
    return dict(out, code=code, hwm_kib=peak[0][0] if peak else None,
                procs=len(peak), prog=peak[0][1] if peak else None)


# ---- table ----

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(results):
    rows = {}
    for r in results:
        rows.setdefault((r["size"], r["n"], r["c"]), {}).setdefault(r["server"], []).append(r)
    table = []
    for (size, n, c), by in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        line = {"size": size, "n": n, "c": c}
        for srv, rall in by.items():
            rs = [r for r in rall if r["ok"]] or rall  # failed rounds do not count
            line[srv] = {
                "acc_s": med([r["acc_s"] for r in rs]),
                "del_s": med([r["del_s"] for r in rs]),
                "cpu_1000": med([r["cpu_1000"] for r in rs]),
                "rss_proc_kib": max(r["rss_proc_kib"] for r in rs),
                "rss_proc_name": max(rs, key=lambda r: r["rss_proc_kib"])["rss_proc_name"],
                "rss_sum_kib": max(r["rss_sum_kib"] for r in rs),
                "flush_msg": med([r["flush_msg"] for r in rs]),
                "rounds": len(rs), "failed": sum(1 for r in rall if not r["ok"]),
            }
        table.append(line)
    return table


def fmt(x, d=1):
    if x is None:
        return "-"
    return ("%." + str(d) + "f") % x


def ratio(a, b):
    return a / b if a is not None and b else None


METRICS = [
    ("accepted msg/s", "acc_s", 0, ">= 1.2"),
    ("delivered msg/s", "del_s", 0, ">= 1.2"),
    ("CPU s / 1000 msg", "cpu_1000", 2, "<= 0.7"),
    ("peak RSS largest process (KiB)", "rss_proc_kib", 0, ""),
    ("peak RSS whole server (KiB)", "rss_sum_kib", 0, "<= 0.5"),
    ("device flushes / msg", "flush_msg", 2, ""),
]


def verdict(target, r, small):
    if not target or r is None:
        return ""
    if not small and target.startswith(">="):
        return ""  # the speed targets are for the 4 KiB loads
    lim = float(target.split()[1])
    good = r >= lim if target.startswith(">=") else r <= lim
    return "met" if good else "MISSED"


def markdown(table, fs, big, a, b):
    out = []
    for line in table:
        if a not in line or b not in line:
            continue
        small = line["size"] <= 8192
        out.append("")
        size = "%d KiB" % (line["size"] // 1024) if line["size"] % 1024 == 0 else "%d B" % line["size"]
        out.append("**%d messages of %s from %d parallel clients** (median of %d successful rounds; peaks: max)"
                   % (line["n"], size, line["c"], min(line[a]["rounds"], line[b]["rounds"])))
        out.append("")
        out.append("| metric | %s | %s | %s/%s | target | |" % (a, b, a, b))
        out.append("|---|---:|---:|---:|---|---|")
        for label, key, d, target in METRICS:
            x, y = line[a][key], line[b][key]
            r = ratio(x, y)
            out.append("| %s | %s | %s | %s | %s | %s |" % (
                label, fmt(x, d), fmt(y, d), fmt(r, 2), target, verdict(target, r, small)))
        fails = [(s, line[s]["failed"]) for s in (a, b) if line[s]["failed"]]
        if fails:
            out.append("")
            out.append("failed rounds (left out of the medians): " + ", ".join("%s %d" % f for f in fails))
        out.append("")
        out.append("largest process: %s %s, %s %s" % (a, line[a]["rss_proc_name"], b, line[b]["rss_proc_name"]))
    if fs:
        out.append("")
        out.append("**fsync-like calls per delivered message** (strace -f on every process of the "
                   "instance, %d messages of 4 KiB, 10 clients)" % fs[0]["n"])
        out.append("")
        out.append("| server | fsync/msg | by program |")
        out.append("|---|---:|---|")
        for f in fs:
            out.append("| %s | %s | %s |" % (f["server"], fmt(f["fsync_msg"], 2),
                       ", ".join("%s %s" % (k, fmt(v, 2)) for k, v in f["per_program"].items())))
        if len(fs) == 2 and fs[1]["fsync_msg"]:
            out.append("")
            out.append("ratio %s/%s: %s" % (a, b, fmt(fs[0]["fsync_msg"] / fs[1]["fsync_msg"], 2)))
    if big:
        out.append("")
        for g in big:
            out.append("**one %d MiB message**: peak RSS (VmHWM) of the %s process that received it: %s KiB "
                       "(reply %s)%s" % (g["mib"], g.get("prog") or "smtpd", g.get("hwm_kib"), g.get("code"),
                                         "; target < 2048 KiB: %s" % ("met" if (g.get("hwm_kib") or 1e9) < 2048 else "MISSED")
                                         if g["server"] == a else ""))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inst", action="append", required=True, help="name:port:maildir:cgroup:queuedirs:rootpid")
    ap.add_argument("--load", action="append", required=True, help="SIZE:N:C")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fsync-n", type=int, default=200)
    ap.add_argument("--big-mib", type=int, default=10)
    ap.add_argument("--tracedir", default="/tmp")
    ap.add_argument("--out", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--starttls", action="store_true", help="STARTTLS on every connection (tls_source)")
    ap.add_argument("--per-session", type=int, default=1, help="messages per SMTP session (session_source)")
    a = ap.parse_args()
    global SOURCE
    if a.starttls:
        SOURCE = tls_source
    elif a.per_session > 1:
        SOURCE = lambda port, size, n, c, timeout: session_source(port, size, n, c, timeout, a.per_session)
    insts = [Instance(s) for s in a.inst]
    disk = disk_of(insts[0].maildir)
    results = []
    for rnd in range(1, a.rounds + 1):
        for ld in a.load:
            size, n, c = (int(x) for x in ld.split(":"))
            order = insts if rnd % 2 else list(reversed(insts))
            for inst in order:
                limit = max(120, n // 5)
                r = run_load(inst, size, n, c, disk, limit)
                r["round"] = rnd
                results.append(r)
                print("round %d %-8s %6d B x %5d c=%2d: acc %7.1f/s del %7.1f/s cpu %6.2f s/1000 "
                      "rss %6d KiB (%s) sum %7d KiB flush/msg %s%s" % (
                          rnd, inst.name, size, n, c, r["acc_s"], r["del_s"], r["cpu_1000"],
                          r["rss_proc_kib"], r["rss_proc_name"], r["rss_sum_kib"], fmt(r["flush_msg"], 2),
                          "" if r["ok"] else "  FAILED (%d delivered) %s" % (r["delivered"], r["error"])),
                      flush=True)
    fs = []
    if a.fsync_n:
        for inst in insts:
            f = fsync_run(inst, 4096, a.fsync_n, 10, os.path.join(a.tracedir, "strace-" + inst.name), 120)
            fs.append(f)
            print("fsync %-8s %.2f/msg %s" % (inst.name, f["fsync_msg"], f["per_program"]), flush=True)
    big = []
    if a.big_mib:
        for inst in insts[:1]:  # tern's target; Postfix's default size limit is under 10 MiB
            try:
                g = big_message(inst, a.big_mib)
            except (IOError, OSError) as e:
                g = {"server": inst.name, "mib": a.big_mib, "error": str(e)}
            big.append(g)
            print("big %-8s %s" % (inst.name, g), flush=True)
    table = summarize(results)
    md = markdown(table, fs, big, insts[0].name, insts[1].name)
    with open(a.out, "w") as fh:
        json.dump({"results": results, "table": table, "fsync": fs, "big": big}, fh, indent=1)
    with open(a.md, "w") as fh:
        fh.write(md + "\n")
    print(md)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
