#!/usr/bin/env python3
"""33-smtpd-queueid.py PORT: one message through tern-smtpd on
127.0.0.1:PORT; prints the reply to the end of DATA ("250 2.0.0 ok msg N
qp P"), for 33-smtpd-queueid.t."""
import smtplib
import sys

s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
s.ehlo('client.example')
s.mail('someone@example.org')
s.rcpt('demo@demo.test')
code, msg = s.data(b'Subject: queue id\r\n\r\nhello\r\n')
print(code, msg.decode())
s.quit()
