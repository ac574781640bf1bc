#!/usr/bin/env python3
# 46-remote-mtasts-system.t: MTA-STS in a whole instance (42-remote-system.t's:
# install.sh, s6, tern-send, tern-rspawn), in a private network namespace
# with dnsmasq, a test CA and an HTTPS server serving an enforce policy
# (45-remote-mtasts.t's helpers):
#   a message to the domain arrives over verified TLS and the send log's
#   line says "verified by MTA-STS"; tern-mtasts ran as ternr and mapped
#   libcurl, tern-remote ran as ternr and mapped neither libcurl nor libssl;
#   the cache entry is ternr's, mode 0600, in HOME/remote-state/mta-sts (ternr,
#   0700, made by install.sh).
# Every wait is bounded.
import importlib.machinery, os, pwd, shutil, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tap  # noqa: E402
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
m42 = importlib.machinery.SourceFileLoader("remote42", os.path.join(HERE, "42-remote-system.t")).load_module()
m45 = importlib.machinery.SourceFileLoader("remote45", os.path.join(HERE, "45-remote-mtasts.t")).load_module()

MSG = b"From: a@demo.test\nTo: b@sys.test\nSubject: mta-sts\n\nwhole instance\n"


def sampler(prefix, stop, seen):
    """while stop is unset: (uid, maps libssl, maps libcurl) of every process whose executable is prefix + name"""
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
            seen.setdefault(exe[len(prefix):], []).append((uid, "libssl" in m, "libcurl" in m))
        time.sleep(0.005)


def main():
    m40.enter_netns(os.path.abspath(__file__))
    for p in (m45.TLSC, m45.MTASTS):
        if not os.path.exists(p):
            print("Bail out! %s not built" % p)
            return 1
    dns = m40.start_dnsmasq(["--mx-host=sys.test,mx.sys.test,10", "--host-record=mx.sys.test,127.0.0.60",
                             "--host-record=mta-sts.sys.test,127.0.0.61",
                             "--txt-record=_mta-sts.sys.test,v=STSv1; id=7;"])
    tap.plan(4)
    tmp = tempfile.mkdtemp(prefix="tern-mtasts46.")
    os.chmod(tmp, 0o755)
    ca, certs = m45.mkca(tmp, "test", ["mx.sys.test", "mta-sts.sys.test"])
    for n in os.listdir(tmp):
        os.chmod(os.path.join(tmp, n), 0o644)
    sink = m40.Sink("127.0.0.60", tls=m45.sctx(certs["mx.sys.test"]))
    web = m45.Https("127.0.0.61", certs["mta-sts.sys.test"], m45.policy("enforce", ["mx.sys.test"]))
    web.srv.delay = 0.5   # long enough for the sampler to see tern-mtasts
    inst = m42.Instance()
    try:
        inst.control(dnscacheip="127.0.0.1", tlscafile=ca, timeoutremote="10", timeoutdns="10")
        inst.start()
        stop, seen = threading.Event(), {}
        t = threading.Thread(target=sampler, args=(inst.root + "/bin/", stop, seen), daemon=True)
        t.start()
        rc, out = inst.inject("a@demo.test", ["b@sys.test"], MSG)
        m42.wait_for(40, lambda: sink.received and "success:" in inst.log())
        stop.set()
        t.join(5)
        tap.ok(rc == 0 and sink.received and sink.received[0]["tls"] == "TLSv1.3" and web.hits,
               "a whole instance: the policy is fetched and the message arrives over TLS 1.3", (rc, out, sink.received, web.hits))
        tap.ok("peer_verified_by_MTA-STS;_policy_MTA-STS_enforce" in inst.log(),  # the log writes SP as _
               "the send log's delivery line says verified by MTA-STS", inst.log()[-1500:])
        ternr = pwd.getpwnam("ternr").pw_uid
        tap.ok(seen.get("tern-mtasts") and all(u == ternr for u, _, _ in seen["tern-mtasts"])
               and any(c for _, _, c in seen["tern-mtasts"])
               and seen.get("tern-remote") and all(u == ternr and not s_ and not c for u, s_, c in seen["tern-remote"]),
               "tern-mtasts runs as ternr and maps libcurl; tern-remote runs as ternr and maps neither libcurl nor libssl",
               {k: v[:5] for k, v in seen.items()})
        d = os.path.join(inst.root, "remote-state", "mta-sts")
        try:
            sd, se = os.stat(d), os.stat(os.path.join(d, "sys.test"))
            good = (sd.st_uid == ternr and sd.st_mode & 0o777 == 0o700 and se.st_uid == ternr
                    and se.st_mode & 0o777 == 0o600)
        except OSError as e:
            good, sd, se = False, e, None
        tap.ok(good, "the cache entry is ternr's (0600) in HOME/remote-state/mta-sts (ternr, 0700)", (sd, se))
    finally:
        inst.stop()
        inst.cleanup()
        sink.stop()
        web.stop()
        dns.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
