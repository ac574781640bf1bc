#!/usr/bin/env python3
"""lspawn-exec.py ROOT N [CONC]: N local deliveries through ROOT's
tern-lspawn (ROOT: an installed instance, e.g. lib.sh's tern_install),
CONC at once (default 10), under perf stat (task-clock, user and system time
of tern-lspawn and every child; PERF_RECORD=FILE: perf record -g instead). Prints perf's lines. Run it once with the
real ROOT/bin/tern-local and once with a program that exits 0 at once in
its place: the difference is the delivery's own work, the rest the
spawner's, the fork's and the exec's."""
import os, pwd, subprocess, sys

root, n = sys.argv[1], int(sys.argv[2])
conc = int(sys.argv[3]) if len(sys.argv) > 3 else 10
num = 999983
path = os.path.join(root, "queue/msg/%d" % num)
# a queue file (common/qmsg.h): head, envelope, padding, message
env = b"u0\0p1\0Fbench@demo.test\0Tdemo@demo.test\0"
head = b"TERNQ01\n" + b"%016x" % 4096 + b"%016x" % len(env)
with open(path, "wb") as f:
    f.write(head + env + b"\0" * (4096 - len(head) - len(env)) + b"Subject: bench\n\n" + b"x" * 4000 + b"\n")
os.chown(path, pwd.getpwnam("ternq").pw_uid, -1)
out = os.path.join(root, "perf.out")
rec = os.environ.get("PERF_RECORD")   # a file: perf record -g into it instead
perf = ["perf", "record", "-g", "-q", "-o", rec] if rec else \
       ["perf", "stat", "-x", ",", "-o", out, "-e", "task-clock,user_time,system_time"]
p = subprocess.Popen(perf + [os.path.join(root, "bin/tern-lspawn")], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
fi, fo = p.stdin, p.stdout
assert fo.read(1)
def req(slot):
    fi.write(bytes([slot]) + b"%d\0bench@demo.test\0demo@demo.test\0\0" % num)
    fi.flush()
def reply():
    slot = fo.read(1)[0]
    rec = b""
    while True:
        c = fo.read(1)
        if c == b"\0":
            break
        rec += c
    return slot, rec
sent = done = bad = 0
for s in range(min(conc, n)):
    req(s); sent += 1
while done < n:
    s, r = reply(); done += 1
    if not r.startswith(b"K"):
        bad += 1
    if sent < n:
        req(s); sent += 1
fi.close(); p.wait()
os.unlink(path)
if not rec:
    sys.stdout.write(open(out).read())
print("deliveries %d, not K %d" % (n, bad))
