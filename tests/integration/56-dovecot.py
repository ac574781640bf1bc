#!/usr/bin/env python3
"""56-dovecot.py: the clients of 56-dovecot.t.

    56-dovecot.py send PORT TOKEN
        one message (Subject TOKEN, a dot-leading line, a "From " line,
        8-bit Latin-1 text) through tern-smtpd on 127.0.0.1:PORT
    56-dovecot.py read IMAPPORT POP3PORT TOKEN FILE
        reads it back through Dovecot's IMAP and POP3 and compares with
        the Maildir FILE; TAP lines on stdout (56-dovecot.t relays them
        with tap_relay)
"""
import imaplib
import os
import poplib
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import ok  # noqa: E402


def send(port, tok):
    body = ('Subject: %s\r\nFrom: sender@demo.test\r\nTo: demo@demo.test\r\n\r\nline one\r\n.leading dot\r\n'
            'From the start\r\n\xe9t\xe9 8bit\r\n' % tok).encode('latin-1')
    s = smtplib.SMTP('127.0.0.1', port, timeout=30)
    s.sendmail('sender@demo.test', ['demo@demo.test'], body)
    s.quit()


def read(iport, pport, tok, fn):
    want = open(fn, 'rb').read()
    body = b'line one\n.leading dot\nFrom the start\n\xe9t\xe9 8bit\n'
    ok(want.endswith(body), 'the Maildir file ends with the body as sent (CRLF -> LF, dot unstuffed)')
    try:
        m = imaplib.IMAP4('127.0.0.1', iport, timeout=20)
        m.login('demo', 'tern-test-pw')
        typ, data = m.select('INBOX', readonly=True)
        typ, data = m.search(None, 'SUBJECT', tok)
        ids = data[0].split()
        ok(typ == 'OK' and len(ids) == 1, 'IMAP: the message is listed (SEARCH SUBJECT finds 1)')
        typ, data = m.fetch(ids[0], '(BODY.PEEK[])')
        got = data[0][1]
        ok(got.replace(b'\r\n', b'\n') == want, 'IMAP: fetched bytes equal the Maildir file (%d bytes)' % len(got))
        m.logout()
    except Exception as e:
        ok(False, 'IMAP: %r' % e)
        ok(False, 'IMAP fetch')
    try:
        p = poplib.POP3('127.0.0.1', pport, timeout=20)
        p.user('demo')
        p.pass_('tern-test-pw')
        count, size = p.stat()
        found = None
        for i in range(1, min(count, 50) + 1):
            resp, lines, octets = p.retr(i)
            if any(tok.encode() in l for l in lines):
                found = b'\n'.join(lines) + b'\n'
        ok(found == want, 'POP3: RETR returns the same bytes (%d messages in the drop)' % count)
        p.quit()
    except Exception as e:
        ok(False, 'POP3: %r' % e)
    tap.done()


if __name__ == '__main__':
    if sys.argv[1] == 'send':
        send(int(sys.argv[2]), sys.argv[3])
    else:
        read(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
