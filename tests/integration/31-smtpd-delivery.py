#!/usr/bin/env python3
"""31-smtpd-delivery.py: the checks of 31-smtpd-delivery.t, run by it
against the instance it started (ROOT, TERN_PORT, MAILDIR from the
environment)."""
import os, re, smtplib, subprocess, sys, time

ROOT = os.environ["ROOT"]
PORT = int(os.environ["TERN_PORT"])
MAILDIR = os.environ["MAILDIR"]
SENDLOG = ROOT + "/log/send/current"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import ok  # noqa: E402

tap.plan(25)


def find_msg(marker, timeout=20):
    """the delivered file containing marker (bytes), waiting at most timeout s"""
    end = time.time() + timeout
    while time.time() < end:
        for d in ("new", "cur"):
            for f in os.listdir(os.path.join(MAILDIR, d)):
                p = os.path.join(MAILDIR, d, f)
                try:
                    b = open(p, "rb").read()
                except OSError:
                    continue
                if marker in b:
                    return b
        time.sleep(0.1)
    return None


TRACE = (b"return-path:", b"delivered-to:", b"received:")


def strip_trace(b):
    """(trace header lines, rest): leading trace headers with their
    continuation lines are split off; the rest must be the original"""
    lines = b.split(b"\n")
    i = 0
    trace = []
    while i < len(lines):
        l = lines[i]
        if l.lower().startswith(TRACE):
            trace.append(l)
            i += 1
            while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                trace[-1] += b"\n" + lines[i]
                i += 1
            continue
        break
    return trace, b"\n".join(lines[i:])


def same_as_sent(sent_crlf, got, name):
    if got is None:
        ok(False, name + ": delivered", "no message with the marker in the Maildir")
        return None
    trace, rest = strip_trace(got)
    want = sent_crlf.replace(b"\r\n", b"\n")
    ok(rest == want, name + ": byte-for-byte apart from the trace headers",
       "got:\n%r\nwant:\n%r" % (rest[:400], want[:400]))
    return trace


def sender_log():
    try:
        return open(SENDLOG, "rb").read().decode("utf-8", "replace")
    except OSError:
        return ""


def queue_empty(timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        n = 0
        for dp, dn, fn in os.walk(ROOT + "/queue/msg"):
            n += len(fn)
        if n == 0:
            return True
        time.sleep(0.1)
    return False


def msg(marker, extra=b""):
    return (b"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
            b"From: Sender <sender@demo.test>\r\n"
            b"To: rcpt@demo.test\r\n"
            b"Subject: " + marker + b"\r\n"
            b"Message-ID: <" + marker + b"@client.example>\r\n"
            b"X-Folded: first\r\n\tsecond part\r\n"
            b"\r\n"
            b"line one\r\n"
            b"  indented line with trailing space \r\n"
            b"\r\n"
            b"..a line starting with a dot\r\n"
            + extra +
            b"last line\r\n")


tag = ("%d-%d" % (os.getpid(), int(time.time()))).encode()

# 1. smtplib
m = b"smtplib-" + tag
body = msg(m)
try:
    s = smtplib.SMTP("127.0.0.1", PORT, timeout=20)
    s.sendmail("sender@demo.test", ["rcpt@demo.test"], body)
    s.quit()
    ok(True, "smtplib: message accepted")
except Exception as e:
    ok(False, "smtplib: message accepted", e)
tr = same_as_sent(body, find_msg(m), "smtplib")
if tr is not None:
    kinds = sorted(set(t.split(b":")[0].lower() for t in tr))
    ok(kinds == [b"delivered-to", b"received", b"return-path"] and
       any(b"(tern-smtpd) with ESMTP" in t for t in tr),
       "smtplib: trace headers are Return-Path, Delivered-To and Received (ESMTP)", tr)
else:
    ok(False, "smtplib: trace headers")

# 2. swaks (a file with the whole message; swaks sends it as is)
m = b"swaks-" + tag
body = msg(m)
fn = ROOT + "/swaks.msg"
with open(fn, "wb") as f:
    # swaks adds CRLF before its final dot itself: no last newline here
    f.write(body.replace(b"\r\n", b"\n")[:-1])
r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(PORT), "--from", "sender@demo.test",
                    "--to", "rcpt@demo.test", "--data", fn, "--timeout", "20"],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
ok(r.returncode == 0, "swaks: message accepted", r.stdout.decode("utf-8", "replace")[-1500:])
same_as_sent(body, find_msg(m), "swaks")

# 3. msmtp with a private configuration file
m = b"msmtp-" + tag
body = msg(m)
conf = ROOT + "/msmtprc"
with open(conf, "w") as f:
    f.write("account default\nhost 127.0.0.1\nport %d\nfrom sender@demo.test\n"
            "tls off\nauth off\ntimeout 20\n" % PORT)
os.chmod(conf, 0o600)
r = subprocess.run(["msmtp", "-C", conf, "rcpt@demo.test"], input=body.replace(b"\r\n", b"\n"),
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
ok(r.returncode == 0, "msmtp: message accepted", r.stdout.decode("utf-8", "replace"))
same_as_sent(body, find_msg(m), "msmtp")

# 4. 8-bit body with BODY=8BITMIME
m = b"8bit-" + tag
body = msg(m, "Grüße aus Köln, ½ € été\r\n".encode("utf-8") + b"raw bytes \xff\xfe\x80\x81\r\n")
try:
    s = smtplib.SMTP("127.0.0.1", PORT, timeout=20)
    s.ehlo()
    ok(s.has_extn("8bitmime"), "8BITMIME advertised")
    s.sendmail("sender@demo.test", ["rcpt@demo.test"], body, mail_options=["BODY=8BITMIME"])
    s.quit()
    ok(True, "8-bit body accepted with BODY=8BITMIME")
except Exception as e:
    ok(False, "8-bit body accepted with BODY=8BITMIME", e)
same_as_sent(body, find_msg(m), "8-bit body")

# 5. UTF-8 recipient with SMTPUTF8
m = b"utf8-" + tag
rcpt = "dé@demo.test"
body = msg(m, "Ünïcödé body\r\n".encode("utf-8"))
try:
    s = smtplib.SMTP("127.0.0.1", PORT, timeout=20)
    s.ehlo()
    s.sendmail("sénder@demo.test", [rcpt], body, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    s.quit()
    ok(True, "UTF-8 addresses accepted with SMTPUTF8")
except Exception as e:
    ok(False, "UTF-8 addresses accepted with SMTPUTF8", e)
tr = same_as_sent(body, find_msg(m), "UTF-8 recipient")
tr = b"\n".join(tr or [])
ok(b"Return-Path: <s\xc3\xa9nder@demo.test>" in tr and b"d\xc3\xa9@demo.test" in tr
   and b"with UTF8SMTP" in tr, "UTF-8 sender and recipient intact in the trace headers", tr)
try:
    s = smtplib.SMTP("127.0.0.1", PORT, timeout=20)
    s.ehlo()
    s.mail("sender@demo.test")
    s.send("RCPT TO:<d\u00e9@demo.test>\r\n".encode("utf-8"))
    code, _ = s.getreply()
    s.quit()
except Exception as e:
    code = str(e)
ok(code == 553, "a UTF-8 recipient without SMTPUTF8 on MAIL gets 553", code)

# 6. relay from 127.0.0.2 (no RELAYCLIENT)
def outside():
    return smtplib.SMTP("127.0.0.1", PORT, timeout=20, source_address=("127.0.0.2", 0))


before = sender_log().count("new msg")
try:
    s = outside()
    s.ehlo()
    s.mail("sender@demo.test")
    code, text = s.rcpt("x@example.net")
    dcode, _ = s.docmd("DATA")
    s.quit()
except Exception as e:
    code, dcode, text = str(e), None, b""
ok(code == 553, "127.0.0.2: x@example.net refused with 553", (code, text))
ok(dcode is not None and dcode >= 500, "127.0.0.2: DATA without recipients refused", dcode)
time.sleep(1)
ok(sender_log().count("new msg") == before, "127.0.0.2: nothing queued")

tricks = ["x%example.net@demo.test", '"x@example.net"@demo.test', "@demo.test:x@example.net",
          "x@example.net@demo.test"]
res = []
for t in tricks:
    mk = b"trick-" + tag + b"-" + str(tricks.index(t)).encode()
    try:
        s = outside()
        s.ehlo()
        s.mail("sender@demo.test")
        s.putcmd("RCPT TO:<%s>" % t)
        code, text = s.getreply()
        if code == 250:
            dc, _ = s.data(msg(mk))
            res.append((t, "rcpt %d data %d" % (code, dc)))
        else:
            res.append((t, "rcpt %d" % code))
        s.quit()
    except Exception as e:
        res.append((t, "error %s" % e))
for t, r in res:
    ok(re.match(r"rcpt 5\d\d$|rcpt 250 data 250$", r) is not None,
       "127.0.0.2: %s refused or accepted as local (%s)" % (t, r))
ok(queue_empty(), "queue empty after the relay tricks")
remote = [l for l in sender_log().splitlines() if "to remote" in l and "example.net" in l]
ok(not remote, "no remote delivery to example.net was ever started", "\n".join(remote))

# 7. from 127.0.0.1 (RELAYCLIENT) x@example.net is queued for remote delivery
try:
    s = smtplib.SMTP("127.0.0.1", PORT, timeout=20)
    s.sendmail("sender@demo.test", ["x@example.net"], msg(b"relay-" + tag))
    s.quit()
    ok(True, "127.0.0.1 (RELAYCLIENT): x@example.net accepted")
except Exception as e:
    ok(False, "127.0.0.1 (RELAYCLIENT): x@example.net accepted", e)
end = time.time() + 20
pat = re.compile(r"starting delivery \d+: msg [0-9a-z]+ to remote x@example\.net$")
hit = False
while time.time() < end and not hit:
    hit = any(pat.search(l) for l in sender_log().splitlines())
    if not hit:
        time.sleep(0.2)
ok(hit, "send log: starting delivery ...: msg N to remote x@example.net",
   "\n".join(sender_log().splitlines()[-10:]))
tap.done()
