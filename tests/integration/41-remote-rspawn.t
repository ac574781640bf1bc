#!/usr/bin/env python3
# 41-remote-rspawn.t: tern-rspawn speaking the spawner protocol (tern-rspawn(8)):
# start-up byte, requests, replies; conversion of tern-remote's reports
# (r/h/s + K/Z/D) with a fake tern-remote that misbehaves on purpose
# (crash, garbage, no output, too much output, exit codes); the message
# comes as a descriptor with each request (SCM_RIGHTS on the socket pair
# tern-start makes), and its checks; a request without one is a protocol
# error; and one end-to-end delivery with the real tern-remote to a sink on
# 127.0.0.1 through smtproutes. Every read has a deadline.
import importlib.machinery, os, select, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
RSPAWN = os.path.join(TOP, "send", "tern-rspawn")
REMOTE = os.path.join(TOP, "send", "tern-remote")
m40 = importlib.machinery.SourceFileLoader("remote40", os.path.join(HERE, "40-remote-mx.t")).load_module()
import tap  # noqa: E402  (tests/integration/tap.py, on the path 40-remote-mx.t set)

FAKE = r'''#!/bin/sh
# fake tern-remote: behaviour chosen by the sender ($2)
case "$2" in
  ok@x.test) printf 'r\000h550 no such user\000s451 later\000K250 accepted\000' ;;
  args@x.test) printf 'K%s\000' "$*" ;;
  stdin@x.test) printf 'K'; cat; printf '\000' ;;
  crash@x.test) kill -SEGV $$ ;;
  bad@x.test) printf 'garbage without NUL' ;;
  none@x.test) exit 0 ;;
  e111@x.test) exit 111 ;;
  e100@x.test) exit 100 ;;
  big@x.test) head -c 200000 /dev/zero | tr '\0' 'a' ;;
  slow@x.test) sleep 1; printf 'Kslow\000' ;;
  *) printf 'Kdefault\000' ;;
esac
'''


class Spawner:
    def __init__(self, root):
        self.root = root
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.p = subprocess.Popen([os.path.join(root, "bin", "tern-rspawn")], cwd=root,
                                  stdin=theirs, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        theirs.close()
        self.buf = b""

    def read(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                b = os.read(self.p.stdout.fileno(), 65536)
                if not b:
                    raise EOFError
                self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def reply(self, nrcpt, secs=15):
        """(slot, [(letter, text), ...]) for a reply with nrcpt recipients"""
        dl = time.time() + secs
        slot = self.read(1, dl)[0]
        recs = []
        for _ in range(nrcpt):
            rec = b""
            while True:
                c = self.read(1, dl)
                if c == b"\0":
                    break
                rec += c
            recs.append((rec[:1].decode(), rec[1:].decode("utf-8", "replace")))
        return slot, recs

    def send(self, slot, n, sender, rcpts, path=None, fd=True):
        """a request for message n, with queue/msg/n (or path) as its
        descriptor, positioned at the message as tern-send sends it
        (common/qmsg.h); fd=False: without one"""
        req = bytes([slot]) + str(n).encode() + b"\0" + sender.encode() + b"\0"
        req += b"".join(r.encode() + b"\0" for r in rcpts) + b"\0"
        if not fd:
            self.sock.sendall(req)
            return
        if path is None:
            path = os.path.join(self.root, "queue/msg/%d" % int(n))
        d = os.open(path, os.O_RDONLY)
        head = os.read(d, 40)
        os.lseek(d, int(head[8:24], 16) if head[:8] == b"TERNQ01\n" else 0, os.SEEK_SET)
        try:
            sent = socket.send_fds(self.sock, [req], [d])
            self.sock.sendall(req[sent:])
        finally:
            os.close(d)


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (message file ownership)")
        return 0
    if not (os.path.exists(RSPAWN) and os.path.exists(REMOTE)):
        print("1..0 # SKIP send/tern-rspawn or send/tern-remote not built")
        return 0
    tap.plan(20)
    root = tempfile.mkdtemp(prefix="tern-rspawn-")
    try:
        os.makedirs(os.path.join(root, "bin"))
        os.makedirs(os.path.join(root, "queue/msg"))
        try:
            import pwd
            qu = pwd.getpwnam("ternq").pw_uid
        except KeyError:
            qu = 0
        os.chown(os.path.join(root, "queue/msg"), qu, -1)
        shutil.copy(RSPAWN, os.path.join(root, "bin", "tern-rspawn"))
        fake = os.path.join(root, "bin", "tern-remote")
        with open(fake, "w") as f:
            f.write(FAKE)
        os.chmod(fake, 0o755)
        msg = b"Subject: hi\n\nbody\n"

        def mess(n, owner=qu, content=msg):
            # a queue file (common/qmsg.h): head, envelope, padding, message
            env = b"u0\0p1\0Fs@x.test\0Ta@example.test\0"
            head = b"TERNQ01\n" + b"%016x" % 4096 + b"%016x" % len(env)
            p = os.path.join(root, "queue/msg/%d" % n)
            with open(p, "wb") as f:
                f.write(head + env + b"\0" * (4096 - len(head) - len(env)) + content)
            os.chown(p, owner, -1)
            return p

        mess(100)
        sp = Spawner(root)
        c = sp.read(1, time.time() + 5)
        tap.ok(c == bytes([120]), "start-up byte: concurrency 120", c)

        sp.send(0, 100, "ok@x.test", ["a@example.test", "b@example.test", "c@example.test"])
        slot, r = sp.reply(3)
        tap.ok(slot == 0 and [l for l, _ in r] == ["K", "D", "Z"], "r -> K, h -> D, s -> Z", r)
        tap.ok(r[0][1] == "250 accepted" and r[1][1] == "550 no such user" and r[2][1] == "451 later",
               "texts: r -> the message text; h, s -> their own text only", r)

        sp.send(1, 100, "args@x.test", ["a@Example.TEST", "b@example.test"])
        slot, r = sp.reply(2)
        tap.ok(slot == 1 and r[0] == ("K", "Example.TEST args@x.test %d a@Example.TEST b@example.test" % len(msg)),
               "tern-remote argv: domain sender size recipients", r)

        sp.send(2, 100, "stdin@x.test", ["a@example.test"])
        slot, r = sp.reply(1)
        tap.ok(r == [("K", msg.decode())], "fd 0 of tern-remote is the message file", r)

        for sender, letter, word, desc in [
                ("crash@x.test", "Z", "crashed", "tern-remote killed by a signal: Z"),
                ("bad@x.test", "Z", "malformed", "output without NUL: Z malformed"),
                ("none@x.test", "Z", "no output", "no output: Z"),
                ("e111@x.test", "Z", "Unable to run", "exit 111: Z"),
                ("e100@x.test", "D", "Unable to run", "exit 100: D"),
                ("big@x.test", "Z", "too much output", "200 kB of output: capped, Z")]:
            sp.send(3, 100, sender, ["a@example.test", "b@example.test"])
            slot, r = sp.reply(2)
            tap.ok(slot == 3 and all(l == letter and word in t for l, t in r), desc, r)

        sp.send(4, 100, "plain@x.test", ["noat", "a@example.test", "b@other.test"])
        slot, r = sp.reply(3)
        tap.ok(r[0][0] == "D" and "host name" in r[0][1] and r[1][0] == "K" and r[2][0] == "Z",
               "recipient without @: D; at another domain: Z; the rest delivered", r)

        mess(101, owner=12345)
        sp.send(5, 101, "ok@x.test", ["a@example.test"])
        slot, r = sp.reply(1)
        tap.ok(r[0][0] == "Z" and "owner" in r[0][1], "message file with the wrong owner: Z", r)
        sp.send(5, 999999, "ok@x.test", ["a@example.test"], path="/dev/null")
        slot, r = sp.reply(1)
        tap.ok(r[0][0] == "Z" and "type" in r[0][1], "a descriptor that is no regular file (/dev/null): Z", r)
        sp.send(5, "12x", "ok@x.test", ["a@example.test"], path=mess(100))
        slot, r = sp.reply(1)
        tap.ok(r[0][0] == "D" and "number" in r[0][1], "bad message number: D", r)
        sp.send(200, 100, "ok@x.test", ["a@example.test"])
        slot, r = sp.reply(1)
        tap.ok(slot == 200 and r[0][0] == "Z" and "slot" in r[0][1], "slot beyond the concurrency: Z", r)

        t0 = time.time()
        sp.send(6, 100, "slow@x.test", ["a@example.test"])
        sp.send(7, 100, "slow@x.test", ["a@example.test"])
        s1, r1 = sp.reply(1)
        s2, r2 = sp.reply(1)
        tap.ok({s1, s2} == {6, 7} and r1 == r2 == [("K", "slow")] and time.time() - t0 < 1.9,
               "two deliveries run at once", (s1, s2, time.time() - t0))

        # end-to-end: the real tern-remote, smtproutes to a sink on 127.0.0.1
        shutil.copy(REMOTE, fake)
        os.makedirs(os.path.join(root, "control"))
        port = 20000 + os.getpid() % 20000
        sink = m40.Sink("127.0.0.1", port)
        with open(os.path.join(root, "control", "smtproutes"), "w") as f:
            f.write(":127.0.0.1:%d\n" % port)
        with open(os.path.join(root, "control", "me"), "w") as f:
            f.write("rspawn.test\n")
        with open(os.path.join(root, "control", "timeoutremote"), "w") as f:
            f.write("10\n")
        try:
            sp.send(8, 100, "a@rspawn.test", ["x@example.test", "y@example.test"])
            slot, r = sp.reply(2, 30)
            tap.ok(slot == 8 and [l for l, _ in r] == ["K", "K"] and "127.0.0.1[127.0.0.1] accepted message" in r[0][1]
                   and len(sink.received) == 1 and sink.received[0]["rcpt"] == ["x@example.test", "y@example.test"],
                   "end to end: one transaction, both recipients K", r)
        finally:
            sink.stop()

        sp.sock.close()
        try:
            rc = sp.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sp.p.kill()
            rc = None
        tap.ok(rc == 0, "EOF on the command socket: exits 0", rc)

        # a request without its descriptor: requests and descriptors no
        # longer pair up, so tern-rspawn stops (111), as on any protocol error
        shutil.copy(RSPAWN, fake)   # any program: it must never run
        sp = Spawner(root)
        sp.read(1, time.time() + 5)
        sp.send(0, 100, "ok@x.test", ["a@example.test"], fd=False)
        try:
            rc = sp.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sp.p.kill()
            rc = None
        err = sp.p.stderr.read().decode(errors="replace")
        tap.ok(rc == 111 and "without its descriptor" in err, "a request without a descriptor: exit 111, logged", (rc, err))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
