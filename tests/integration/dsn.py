#!/usr/bin/env python3
"""dsn.py: read a delivery status notification (RFC 3464 multipart/report)
with Python's email module and print facts about it, one a line, for the
shell tests of tern-send's bounces (70-73).

    dsn.py fields FILE FIELD...     per recipient block of the
                                    message/delivery-status part: the FIELDs,
                                    space-separated ("rfc822; a@b 5.1.1")
    dsn.py fields -s FILE FIELD...  the same after a line "subject SUBJECT"
    dsn.py report FILE              the whole report: type, From,
                                    Return-Path, Auto-Submitted, Message-ID
                                    and Date present, the parts,
                                    Reporting-MTA, Arrival-Date present, each
                                    recipient (Final-Recipient Action Status,
                                    Diagnostic-Code present), the returned
                                    message's Subject and body start (or, for
                                    text/rfc822-headers, whether a Subject is
                                    there)
"""
import email
import sys
from email import policy


def load(path):
    with open(path, 'rb') as f:
        return email.message_from_binary_file(f, policy=policy.compat32)


def recipients(m):
    """the per-recipient field blocks (the first block is per message)"""
    return m.get_payload()[1].get_payload()[1:]


def fields(path, names, subject=False):
    m = load(path)
    if subject:
        print('subject', m['Subject'])
    for r in recipients(m):
        print(*(r[n] for n in names))


def report(path):
    m = load(path)
    out = []
    out.append('type ' + m.get_content_type() + ' ' + str(m.get_param('report-type')))
    out.append('from ' + str(m['From']))
    out.append('rp ' + str(m['Return-Path']))
    out.append('auto ' + str(m['Auto-Submitted']))
    out.append('hasid ' + str(bool(m['Message-ID']) and bool(m['Date'])))
    parts = m.get_payload()
    out.append('parts ' + ' '.join(p.get_content_type() for p in parts))
    ds = parts[1].get_payload()   # message/delivery-status: a list of header blocks
    out.append('mta ' + str(ds[0]['Reporting-MTA']) + ' arrival ' + str(bool(ds[0]['Arrival-Date'])))
    for r in ds[1:]:
        out.append('rcpt %s %s %s %s' % (r['Final-Recipient'], r['Action'], r['Status'], bool(r['Diagnostic-Code'])))
    if parts[2].get_content_type() == 'message/rfc822':
        inner = parts[2].get_payload()[0]
        out.append('orig-subject ' + str(inner['Subject']))
        out.append('orig-body ' + inner.get_payload().strip()[:20])
    else:
        out.append('headers ' + str('Subject:' in parts[2].get_payload()))
    print('\n'.join(out))


if __name__ == '__main__':
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == 'report':
        report(a[1])
    elif len(a) >= 3 and a[0] == 'fields' and a[1] == '-s':
        fields(a[2], a[3:], subject=True)
    elif len(a) >= 2 and a[0] == 'fields':
        fields(a[1], a[2:])
    else:
        sys.exit('usage: dsn.py report FILE | dsn.py fields [-s] FILE FIELD...')
