#!/usr/bin/env python3
"""70-send-bounce.py: inject a message with a raw envelope through the
queue socket, as tern-inject would but with any sender (<> and #@[]
included), for 70-send-bounce.t.

    70-send-bounce.py SOCKET SENDER RCPT < MESSAGE

s6-sudo -e SOCKET with the message on fd 0 and the envelope
"Fsender\\0Trcpt\\0\\0" on fd 1 (the qmail-queue interface); exits with the
queue's exit code.
"""
import os
import subprocess
import sys

sock, sender, rcpt = sys.argv[1], sys.argv[2], sys.argv[3]
msg = sys.stdin.buffer.read()
r0, w0 = os.pipe()
r1, w1 = os.pipe()
p = subprocess.Popen(["s6-sudo", "-e", sock], stdin=r0, stdout=r1)
os.close(r0)
os.close(r1)
os.write(w0, msg)
os.close(w0)
os.write(w1, b"F" + sender.encode() + b"\0T" + rcpt.encode() + b"\0\0")
os.close(w1)
sys.exit(p.wait(timeout=20))
