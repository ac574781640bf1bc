#!/bin/sh
# tests/bench/dkim.sh [N]: CPU per message of DKIM signing. A private
# instance (tests/integration/lib.sh) with keys for demo.test; N (default
# 300) runs of tern-dkimsign on a 4 KiB message handed to a sink as
# QMAILQUEUE_NEXT, once with a From domain without keys (the filter
# passing the message on) and once signed with both keys. Prints the CPU
# of the filter (with its sink) and of the signing service (tern-dkimkeyd,
# as ternk: the CPU its s6-ipcserverd reaped) per message. Needs root.
. "$(dirname "$0")/../integration/lib.sh"
tern_init
tern_install >/dev/null || exit 1
"$ROOT/bin/tern-dkimkey" demo.test >/dev/null || exit 1
tern_start || exit 1
printf '#!/bin/sh\ncat >/dev/null; cat <&1 >/dev/null\n' > "$ROOT/sink"; chmod 0755 "$ROOT/sink"
/usr/bin/python3 - "$ROOT" "${1:-300}" <<'PY'
import os, sys, subprocess, resource, time
root, n = sys.argv[1], int(sys.argv[2])
body = b"".join(b"line %d of the body, some text to hash like a real message\n" % i for i in range(66))
def msg(dom):
    return (b"From: ann@%s\nTo: x@demo.test\nSubject: bench\nDate: Sun, 6 Dec 2026 00:00:00 +0000\n"
            b"Message-ID: <b@x>\n\n" % dom) + body
open(root + "/env", "wb").write(b"Fann@demo.test\0Tx@demo.test\0\0")
ps = subprocess.check_output(["ps", "-eo", "pid,args"]).decode().splitlines()
srvpid = [l.split()[0] for l in ps if "s6-ipcserverd" in l and root + "/bin/tern-dkimkeyd" in l][0]
def srv():
    f = open("/proc/%s/stat" % srvpid).read().rsplit(")", 1)[1].split()
    return (int(f[13]) + int(f[14])) / os.sysconf("SC_CLK_TCK")
def run(dom):
    open(root + "/m", "wb").write(msg(dom))
    e = dict(os.environ, QMAILQUEUE_NEXT=root + "/sink")
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN); s0 = srv(); t0 = time.time()
    for _ in range(n):
        with open(root + "/m", "rb") as m, open(root + "/env", "rb") as en:
            subprocess.run([root + "/bin/tern-dkimsign"], stdin=m, stdout=en, env=e, check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN); s1 = srv()
    c = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return c / n * 1000, (s1 - s0) / n * 1000, (time.time() - t0) / n * 1000
size = len(msg(b"demo.test"))
for dom, what in ((b"other.test", "not signed (no keys)"), (b"demo.test", "signed, rsa-sha256 + ed25519-sha256")):
    f, s, w = run(dom)
    print("dkim bench: %-38s filter+sink %.2f ms CPU, signing service %.2f ms CPU, %.2f ms wall per message (%d x %d bytes)"
          % (what, f, s, w, n, size))
PY
