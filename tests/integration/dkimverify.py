#!/usr/bin/python3
# dkimverify.py PORT FILE...: verify every DKIM-Signature of each message
# FILE with Debian's python3-dkim (dkimpy), its keys looked up as TXT
# records on the DNS server 127.0.0.1:PORT (the test's dnsmasq). Lines end
# in LF in a Maildir; they are read as CRLF, as on the wire. Prints one
# line per signature: "FILE a=ALG d=DOMAIN s=SELECTOR pass" or "... fail";
# "FILE none" for a message without one. Exit 0 if every signature passed.
import sys, dkim, dns.resolver, dns.rdatatype

res = dns.resolver.Resolver(configure=False)
res.nameservers = ['127.0.0.1']
res.port = int(sys.argv[1])
res.lifetime = 5

def txt(name, timeout=5):
    try:
        a = res.resolve(name.decode().rstrip('.'), 'TXT')
    except Exception:
        return None
    for r in a:
        return b''.join(r.strings)
    return None

ok = True
for f in sys.argv[2:]:
    m = open(f, 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    d = dkim.DKIM(m)
    sigs = [v for k, v in d.headers if k.lower() == b'dkim-signature']
    if not sigs:
        print(f, 'none'); ok = False; continue
    for i, s in enumerate(sigs):
        tags = dkim.util.parse_tag_value(s)
        try:
            r = d.verify(idx=i, dnsfunc=txt)
        except Exception as e:
            r = False
            print('#', f, e)
        print(f, 'a=%s d=%s s=%s %s' % (tags[b'a'].decode(), tags[b'd'].decode(), tags[b's'].decode(), 'pass' if r else 'fail'))
        ok = ok and r
sys.exit(0 if ok else 1)
