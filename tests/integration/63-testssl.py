"""63-testssl.t's reader: testssl.sh's JSON findings for one port.
   argv: label, jsonfile, strict (1: no protocol below TLS 1.2 allowed).
   Prints TAP-free summary lines and exits 0 if the findings pass."""
import json
import sys

label, fn, strict = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
try:
    data = json.load(open(fn))
except (OSError, ValueError) as e:
    print('%s: no JSON from testssl: %s' % (label, e))
    sys.exit(1)
if isinstance(data, dict):
    data = data.get('scanResult', [data])
bad = []
summary = []
vulns = {'heartbleed', 'CCS', 'ticketbleed', 'ROBOT', 'secure_renego', 'secure_client_renego', 'CRIME_TLS',
         'POODLE_SSL', 'fallback_SCSV', 'SWEET32', 'FREAK', 'DROWN', 'LOGJAM', 'BEAST', 'LUCKY13', 'RC4',
         'winshock', 'opossum', 'BREACH'}
seen_fs = False
for f in data:
    i, sev, text = f.get('id', ''), f.get('severity', ''), f.get('finding', '')
    if i in ('SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3'):
        summary.append('%s=%s' % (i, text))
        if i in ('SSLv2', 'SSLv3') and 'not offered' not in text:
            bad.append('%s offered' % i)
        if strict and i in ('TLS1', 'TLS1_1') and 'not offered' not in text:
            bad.append('%s offered on a submission port' % i)
    if i in ('FS', 'PFS'):
        seen_fs = True
        summary.append('FS=%s' % text)
        if 'offered' not in text or 'not offered' in text:
            bad.append('no forward secrecy: %s' % text)
    if i in vulns or i.startswith('LUCKY13') or i.startswith('BEAST'):
        if sev in ('MEDIUM', 'HIGH', 'CRITICAL'):
            bad.append('%s: %s (%s)' % (i, text, sev))
        summary.append('%s=%s' % (i, sev))
if not seen_fs:
    bad.append('testssl reported nothing about forward secrecy')
print('%s: %s' % (label, ', '.join(summary)))
for b in bad:
    print('%s: PROBLEM %s' % (label, b))
sys.exit(1 if bad else 0)
