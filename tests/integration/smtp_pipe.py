"""smtp_pipe.py HELO FROM RCPT SUBJECT -- CMD...: one message through an SMTP
server on a pipe (CMD's fds 0 and 1, as tern-smtpd runs under tern-listen),
command by command, each reply awaited (bounded: 20 s). Prints the replies,
one per line; exit 0 if the message got 250 after DATA, 1 otherwise."""
import subprocess, sys, time, select, os

helo, frm, rcpt, subject = (a.encode() for a in sys.argv[1:5])
cmd = sys.argv[sys.argv.index('--') + 1:]
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
buf = b''


def reply():
    global buf
    end = time.time() + 20
    while True:
        while b'\r\n' in buf:
            line, buf = buf.split(b'\r\n', 1)
            if line[3:4] != b'-':
                print(line.decode('latin-1'))
                return line
        left = end - time.time()
        if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
            return b'TIMEOUT'
        d = os.read(p.stdout.fileno(), 4096)
        if not d:
            return b'EOF'
        buf += d


def send(line):
    p.stdin.write(line + b'\r\n')
    p.stdin.flush()
    return reply()


reply()
send(b'EHLO ' + helo)
send(b'MAIL FROM:<' + frm + b'>')
send(b'RCPT TO:<' + rcpt + b'>')
r = send(b'DATA')
if r.startswith(b'354'):
    r = send(b'Subject: ' + subject + b'\r\n\r\nhello\r\n.')
send(b'QUIT')
p.stdin.close()
p.wait(timeout=20)
sys.exit(0 if r.startswith(b'250') else 1)
