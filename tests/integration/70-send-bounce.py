#!/usr/bin/env python3
"""70-send-bounce.py: inject a message with a raw envelope through the
queue socket, as tern-inject would but with any sender (<> and #@[]
included), for 70-send-bounce.t.

    70-send-bounce.py SOCKET SENDER RCPT < MESSAGE

The queue socket's protocol (tern-queued(8)): the message in 'M' frames,
the envelope "Fsender\\0Trcpt\\0\\0" in an 'E' frame; exits with the code
tern-queued answers.
"""
import socket
import struct
import sys

sock, sender, rcpt = sys.argv[1], sys.argv[2], sys.argv[3]
msg = sys.stdin.buffer.read()
env = b"F" + sender.encode() + b"\0T" + rcpt.encode() + b"\0\0"
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sock)
for i in range(0, len(msg), 65536):
    s.sendall(b"M" + struct.pack(">I", len(msg[i:i + 65536])) + msg[i:i + 65536])
s.sendall(b"E" + struct.pack(">I", len(env)) + env)
ans = b""
while True:
    b = s.recv(100)
    if not b:
        break
    ans += b
sys.exit(ans[0] if ans else 81)
