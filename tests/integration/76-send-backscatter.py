#!/usr/bin/env python3
"""76-send-backscatter.py: the helpers of 76-send-backscatter.t.

    76-send-backscatter.py send PORT FROM RCPT TOKEN [DELIVERED-TO...]
        one message over SMTP from 127.0.0.2 (a client that may not relay):
        headers From, To, Subject TOKEN and the Delivered-To lines given,
        then a body of payload lines "PAYLOAD-TOKEN ..."; prints the reply
        to the end of DATA ("250 ..." or "5xx ...").
    76-send-backscatter.py bounce SINK RCPT
        the message the sink (smtpsink.py, SMTPSINK_DATA=1) took for RCPT
        from the null sender; exit 1 when there is none yet.
"""
import json
import smtplib
import sys


def send(port, frm, rcpt, tok, dts):
    head = "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n" % (frm, rcpt, tok)
    head += "".join("Delivered-To: %s\r\n" % d for d in dts)
    body = "".join("PAYLOAD-%s an outsider's text, line %d\r\n" % (tok, i) for i in range(40))
    s = smtplib.SMTP("127.0.0.1", port, source_address=("127.0.0.2", 0), timeout=30)
    s.ehlo("outsider.test")
    s.mail(frm)
    code, msg = s.rcpt(rcpt)
    if code != 250:
        print("%d %s" % (code, msg.decode("latin-1")))
        return
    code, msg = s.data((head + "\r\n" + body).encode())
    print("%d %s" % (code, msg.decode("latin-1")))
    try:
        s.quit()
    except smtplib.SMTPException:
        pass


def bounce(sink, rcpt):
    try:
        lines = open(sink).read().splitlines()
    except OSError:
        return 1
    for line in lines:
        t = json.loads(line)
        if t["from"].strip() == "<>" and rcpt in t["rcpt"]:
            sys.stdout.write(t.get("data", ""))
            return 0
    return 1


if __name__ == "__main__":
    try:
        if sys.argv[1] == "send":
            send(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
            sys.exit(0)
        sys.exit(bounce(sys.argv[2], sys.argv[3]))
    except smtplib.SMTPResponseException as e:
        print("%d %s" % (e.smtp_code, e.smtp_error.decode("latin-1")))
