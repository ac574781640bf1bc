#!/usr/bin/env python3
"""tests/bench/loads.py: two loads of `make bench` that bench.py's
one-message-per-connection table does not cover (run.sh starts the
instances, the sink and the routes, and calls this).

  loads.py relay --inst SPEC --inst SPEC --sink DIR --n 1000 --domains 50 --c 10
      N messages of 4 KiB, each to one recipient at one of DOMAINS domains
      (bench@dK.relay.test), sent by C parallel smtp-source runs; each
      server relays them through its routes (tern: control/smtproutes,
      Postfix: transport_maps) to smtp-sink, which writes one file per
      transaction into DIR. msg/s = N / time from the first connection to
      the N-th file at the sink; CPU per message = the instance's CPU until
      its queue listing is empty again.

  loads.py deferred --inst SPEC ... --n N --c C --sched NAME=PROG
          --stop NAME=CMD --start NAME=CMD --clean NAME=CMD
      First 1000 x 4 KiB local mail with the queue empty (the baseline);
      then N messages to bench@deferred.test, whose route is a closed
      loopback port, from C sessions of smtp-source -d; waits until the
      queue listing shows N messages, each with a deferral reason; reads
      the scheduler's RSS (PROG: tern-send, qmgr) and the instance's;
      sends 1000 x 4 KiB local mail again (delivered msg/s, CPU per
      message, with the queue full); restarts the scheduler (STOP, then
      START) and times START -> one new message (sent by SMTP as soon as
      the port answers) in the Maildir; then CLEAN empties the queue.

SPEC is bench.py's (name:port:maildir:cgroup:queuedirs:rootpid:listcmd);
the queue is only ever seen through listcmd (tern-queuectl list,
postqueue -p), never by reading queue files. Every wait is bounded.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def count_files(d):
    n = 0
    for _, _, files in os.walk(d):
        n += len(files)
    return n


def empty_dir(d):
    for top, _, files in os.walk(d):
        for f in files:
            try:
                os.unlink(os.path.join(top, f))
            except OSError:
                pass


def rss_of(inst, prog):
    """(VmRSS, VmHWM) in KiB of the largest process of the instance running PROG"""
    best = (0, 0)
    for p in inst.pids():
        if bench.progname(p) != prog:
            continue
        v = {}
        try:
            with open("/proc/%d/status" % p) as fh:
                for line in fh:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        v[line[:5]] = int(line.split()[1])
        except OSError:
            continue
        best = max(best, (v.get("VmRSS", 0), v.get("VmHWM", 0)))
    return best


def rss_sum(inst):
    t = 0
    for p in inst.pids():
        try:
            with open("/proc/%d/status" % p) as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        t += int(line.split()[1])
        except OSError:
            pass
    return t


def deferred_count(text):
    """recipients shown with a deferral reason: tern-queuectl list's
    "(last deferral: ...)", postqueue -p's "(reason)" lines"""
    n = 0
    for line in text.splitlines():
        s = line.strip()
        if "(last deferral:" in s or s.startswith("("):
            n += 1
    return n


# ---- relay ----

def relay(inst, sink, n, domains, c, limit):
    empty_dir(sink)
    bench.wait_until(lambda: inst.queued() == 0, 60, poll=0.5)
    per = [n // domains + (1 if k < n % domains else 0) for k in range(domains)]
    samp = bench.Sampler(inst)
    cpu0 = inst.cpu()
    samp.start()
    t0 = time.monotonic()
    errs = bench.run_pool([lambda k=k: bench.smtp_source_cmd(inst.port, 4096, per[k], 1, limit,
                                                            to="bench@d%d.relay.test" % k)
                           for k in range(domains)], c)
    tacc = time.monotonic() - t0
    ok = bench.wait_until(lambda: count_files(sink) >= n, limit, poll=0.05)
    tdel = time.monotonic() - t0
    got = count_files(sink)
    drained = bench.wait_until(lambda: inst.queued() == 0, 60, poll=0.3)
    cpu1 = inst.cpu()
    samp.stop()
    return {"server": inst.name, "n": n, "domains": domains, "c": c, "ok": ok and not errs,
            "error": errs[0] if errs else "", "relayed": got, "drained": drained,
            "acc_s": n / tacc, "relay_s": got / tdel, "cpu_ms": (cpu1 - cpu0) / n * 1000,
            "rss_sum_kib": samp.maxsum, "rss_proc_kib": samp.maxproc[0], "rss_proc_name": samp.maxproc[1]}


# ---- deferred ----

def local_load(inst, n, c, limit):
    """n x 4 KiB local mail from c clients: delivered/s, CPU ms per message
    (until the n-th is in the Maildir), peak RSS sum"""
    bench.empty_maildir(inst.maildir)
    samp = bench.Sampler(inst, every=0.2)
    cpu0 = inst.cpu()
    samp.start()
    t0 = time.monotonic()
    ok, _, err = bench.smtp_source(inst.port, 4096, n, c, limit)
    done = bench.wait_until(lambda: bench.count_maildir(inst.maildir) >= n, limit, poll=0.02)
    t = time.monotonic() - t0
    got = bench.count_maildir(inst.maildir)
    time.sleep(0.3)
    cpu1 = inst.cpu()
    samp.stop()
    bench.empty_maildir(inst.maildir)
    return {"ok": ok and done, "error": err, "del_s": got / t, "cpu_ms": (cpu1 - cpu0) / n * 1000,
            "rss_sum_kib": samp.maxsum}


def send_one(port, limit):
    """one message by SMTP, retrying the connection until the port answers"""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), 2)
        except OSError:
            time.sleep(0.02)
            continue
        s.settimeout(30)
        f = s.makefile("rb")

        def reply():
            while True:
                ln = f.readline(1000)
                if not ln or ln[3:4] != b"-":
                    return ln[:3]
        try:
            if reply() != b"220":
                raise OSError("no greeting")
            for cmd in (b"HELO bench.test", b"MAIL FROM:<bench@sender.test>", b"RCPT TO:<bench@demo.test>", b"DATA"):
                s.sendall(cmd + b"\r\n")
                if reply()[:1] not in (b"2", b"3"):
                    raise OSError("%s refused" % cmd.decode())
            s.sendall(b"Subject: startup probe\r\n\r\nprobe\r\n.\r\n")
            code = reply()
            s.sendall(b"QUIT\r\n")
            s.close()
            if code == b"250":
                return True
        except OSError:
            s.close()
        time.sleep(0.05)
    return False


def deferred(inst, n, c, sched, stop, start, clean, newn, limit):
    r = {"server": inst.name, "n": n, "c": c, "sched": sched}
    r["empty"] = local_load(inst, newn, 10, limit)
    # fill the queue
    t0 = time.monotonic()
    ok, tinj, err = bench.smtp_source_cmd(inst.port, 4096, n, c, limit, ["-d"], to="bench@deferred.test")
    r["inject_ok"], r["inject_s"], r["inject_error"] = ok, n / tinj if ok else 0.0, err
    last = [0, 0]

    def full():
        text = inst.listing()
        last[0], last[1] = bench.queue_count(text) or 0, deferred_count(text)
        return last[0] >= n and last[1] >= n
    # each poll lists the whole queue (work for the scheduler): not too often
    r["all_deferred"] = bench.wait_until(full, limit, poll=1 if n <= 10000 else 3)
    r["fill_s"] = time.monotonic() - t0
    r["queued"], r["deferred"] = last
    r["sched_rss_kib"], r["sched_hwm_kib"] = rss_of(inst, sched)
    r["rss_sum_kib"] = rss_sum(inst)
    # new local mail while the queue is full
    r["full"] = local_load(inst, newn, 10, limit)
    # restart the scheduler: START -> one new message delivered
    subprocess.run(["sh", "-c", stop], timeout=120)
    base = bench.count_maildir(inst.maildir)
    cpu0 = inst.cpu()
    t0 = time.monotonic()
    subprocess.run(["sh", "-c", start], timeout=120)
    sent = send_one(inst.port, limit)
    got = bench.wait_until(lambda: bench.count_maildir(inst.maildir) > base, limit, poll=0.01)
    r["startup_s"] = time.monotonic() - t0 if sent and got else None
    r["startup_cpu_s"] = inst.cpu() - cpu0
    time.sleep(2)
    r["sched_rss_after_start_kib"] = rss_of(inst, sched)[0]
    r["queued_after_start"] = bench.queue_count(inst.listing())
    bench.empty_maildir(inst.maildir)
    subprocess.run(["sh", "-c", clean], timeout=600, stdout=subprocess.DEVNULL)
    bench.wait_until(lambda: inst.queued() == 0, 120, poll=2)
    return r


# ---- tables ----

def ratio(a, b):
    return bench.fmt(a / b, 2) if a is not None and b else "-"


def rows_md(rows, a, b):
    out = ["| metric | %s | %s | %s/%s | target | |" % (a, b, a, b), "|---|---:|---:|---:|---|---|"]
    for label, x, y, d, target in rows:
        v = ""
        if target and x is not None and y:
            lim = float(target.split()[1])
            v = "met" if (x / y >= lim if target.startswith(">=") else x / y <= lim) else "MISSED"
        out.append("| %s | %s | %s | %s | %s | %s |" % (label, bench.fmt(x, d), bench.fmt(y, d), ratio(x, y), target, v))
    return out


def relay_md(res, a, b):
    x, y = res[0], res[1]
    out = ["**%d messages of 4 KiB to %d domains, relayed to smtp-sink through the routes, %d parallel "
           "clients** (tern: control/smtproutes, Postfix: transport_maps; one run)" % (x["n"], x["domains"], x["c"]), ""]
    out += rows_md([("accepted msg/s", x["acc_s"], y["acc_s"], 0, ""),
                    ("relayed msg/s (at the sink)", x["relay_s"], y["relay_s"], 0, ">= 1.2"),
                    ("CPU ms / msg", x["cpu_ms"], y["cpu_ms"], 2, "<= 0.7"),
                    ("peak RSS whole server (KiB)", x["rss_sum_kib"], y["rss_sum_kib"], 0, "<= 0.5")], a, b)
    for s in (x, y):
        if not s["ok"] or not s["drained"]:
            out.append("")
            out.append("%s: %d relayed, drained %s %s" % (s["server"], s["relayed"], s["drained"], s["error"]))
    out.append("")
    out.append("largest process: %s %s, %s %s" % (a, x["rss_proc_name"], b, y["rss_proc_name"]))
    return out


def deferred_md(res, a, b):
    x, y = res[0], res[1]
    out = ["**a queue of %d deferred messages** (4 KiB each to a domain routed to a closed loopback port, "
           "injected by SMTP from %d sessions of smtp-source -d; then 1000 x 4 KiB local mail from 10 clients; "
           "one run)" % (x["n"], x["c"]), ""]
    out += rows_md([
        ("messages in the queue (listing)", x["queued"], y["queued"], 0, ""),
        ("recipients with a deferral reason", x["deferred"], y["deferred"], 0, ""),
        ("injection msg/s while it fills", x["inject_s"], y["inject_s"], 0, ""),
        ("time to fill and defer all (s)", x["fill_s"], y["fill_s"], 1, ""),
        ("scheduler RSS, queue full (KiB; %s / %s)" % (x["sched"], y["sched"]), x["sched_rss_kib"], y["sched_rss_kib"], 0, "<= 0.5"),
        ("scheduler peak RSS VmHWM (KiB)", x["sched_hwm_kib"], y["sched_hwm_kib"], 0, ""),
        ("RSS whole server, queue full (KiB)", x["rss_sum_kib"], y["rss_sum_kib"], 0, "<= 0.5"),
        ("start-up: start -> a new message delivered (s)", x["startup_s"], y["startup_s"], 2, ""),
        ("CPU s of that start-up", x["startup_cpu_s"], y["startup_cpu_s"], 2, ""),
        ("scheduler RSS 2 s after start (KiB)", x["sched_rss_after_start_kib"], y["sched_rss_after_start_kib"], 0, ""),
        ("local delivered msg/s, queue empty", x["empty"]["del_s"], y["empty"]["del_s"], 0, ""),
        ("local delivered msg/s, queue full", x["full"]["del_s"], y["full"]["del_s"], 0, ">= 1.2"),
        ("CPU ms / local msg, queue empty", x["empty"]["cpu_ms"], y["empty"]["cpu_ms"], 2, ""),
        ("CPU ms / local msg, queue full", x["full"]["cpu_ms"], y["full"]["cpu_ms"], 2, "<= 0.7"),
    ], a, b)
    for s in (x, y):
        bad = [k for k in ("inject_ok", "all_deferred") if not s[k]] + \
              [k for k in ("empty", "full") if not s[k]["ok"]] + (["startup"] if s["startup_s"] is None else [])
        if bad:
            out.append("")
            out.append("%s: failed %s %s" % (s["server"], ", ".join(bad), s.get("inject_error", "")))
    return out


def pairs(lst):
    return dict(x.split("=", 1) for x in lst or [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("load", choices=("relay", "deferred"))
    ap.add_argument("--inst", action="append", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--c", type=int, default=10)
    ap.add_argument("--domains", type=int, default=50)
    ap.add_argument("--sink", help="relay: smtp-sink's dump directory")
    ap.add_argument("--new", type=int, default=1000, help="deferred: local messages sent with the queue empty, then full")
    for k in ("sched", "stop", "start", "clean"):
        ap.add_argument("--" + k, action="append", help="deferred: NAME=VALUE")
    ap.add_argument("--out", required=True)
    ap.add_argument("--md", required=True)
    a = ap.parse_args()
    insts = [bench.Instance(s) for s in a.inst]
    res = []
    for inst in insts:
        if a.load == "relay":
            r = relay(inst, a.sink, a.n, a.domains, a.c, max(180, a.n // 5))
        else:
            r = deferred(inst, a.n, a.c, pairs(a.sched)[inst.name], pairs(a.stop)[inst.name],
                         pairs(a.start)[inst.name], pairs(a.clean)[inst.name], a.new, max(600, a.n // 20))
        print(json.dumps(r), flush=True)
        res.append(r)
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=1)
    if len(insts) < 2:  # one server alone (run.sh's perf profile): no table
        return 0
    md = (relay_md if a.load == "relay" else deferred_md)(res, insts[0].name, insts[1].name)
    with open(a.md, "w") as fh:
        fh.write("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
