#!/usr/bin/env python3
"""32-smtpd-rcptcheck.py: the SMTP client of 32-smtpd-rcptcheck.t.

    32-smtpd-rcptcheck.py rcpt PORT FROM-IP ADDR...
        MAIL FROM sender@demo.test, then RCPT TO each ADDR; prints the
        reply codes on one line, comma-separated ("250" or "550 5.1.1"),
        or "greeting CODE" when the greeting refuses
    32-smtpd-rcptcheck.py send PORT FROM-IP RCPT SUBJECT
        one message to RCPT; exit 0 when accepted
"""
import smtplib
import sys


def rcpt(port, src, rcpts):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(src, 0))
    except smtplib.SMTPConnectError as e:
        print("greeting %d" % e.smtp_code)
        return 0
    s.ehlo()
    s.mail("sender@demo.test")
    codes = []
    for r in rcpts:
        c, t = s.rcpt(r)
        codes.append("%d %s" % (c, t.decode().split()[0]) if c >= 400 else str(c))
    s.quit()
    print(",".join(codes))
    return 0


def send(port, src, to, subject):
    s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(src, 0))
    s.sendmail("sender@demo.test", [to], b"Subject: " + subject.encode() + b"\r\n\r\nhi\r\n")
    s.quit()
    return 0


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "rcpt":
        sys.exit(rcpt(port, sys.argv[3], sys.argv[4:]))
    sys.exit(send(port, sys.argv[3], sys.argv[4], sys.argv[5]))
