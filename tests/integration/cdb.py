#!/usr/bin/env python3
"""cdb files (D. J. Bernstein's constant database format, as cdb(3) and
qmail's users/cdb use it) for the tests: read them back record by record or
through the hash tables, and write them.

    import cdb
    cdb.records(path)      # [(key, data)] in file order
    cdb.get(path, key)     # data of the first record with key, or None
    cdb.write(path, [(key, data)])   # atomically (path.tmp, rename), 0644

As a command:  cdb.py keys FILE        # one key a line
               cdb.py write FILE KEY...  # KEYs with empty data
"""
import os
import struct
import sys


def hash(key):
    h = 5381
    for c in key:
        h = ((h << 5) + h ^ c) & 0xffffffff
    return h


def records(path):
    d = open(path, 'rb').read()
    end = min(struct.unpack('<I', d[i * 8:i * 8 + 4])[0] for i in range(256))
    pos, out = 2048, []
    while pos < end:
        kl, dl = struct.unpack('<II', d[pos:pos + 8])
        out.append((d[pos + 8:pos + 8 + kl], d[pos + 8 + kl:pos + 8 + kl + dl]))
        pos += 8 + kl + dl
    return out


def get(path, key):
    """a real lookup through the hash tables"""
    d = open(path, 'rb').read()
    h = hash(key)
    tpos, tlen = struct.unpack('<II', d[(h & 255) * 8:(h & 255) * 8 + 8])
    if not tlen:
        return None
    slot = (h >> 8) % tlen
    for i in range(tlen):
        at = tpos + ((slot + i) % tlen) * 8
        hh, rpos = struct.unpack('<II', d[at:at + 8])
        if not rpos:
            return None
        if hh == h:
            kl, dl = struct.unpack('<II', d[rpos:rpos + 8])
            if d[rpos + 8:rpos + 8 + kl] == key:
                return d[rpos + 8 + kl:rpos + 8 + kl + dl]
    return None


def write(path, pairs):
    recs, pos, body = [], 2048, b''
    for k, v in pairs:
        recs.append((hash(k), pos))
        body += struct.pack('<II', len(k), len(v)) + k + v
        pos += 8 + len(k) + len(v)
    tables, head = b'', b''
    for i in range(256):
        sl = [r for r in recs if r[0] & 255 == i]
        n = 2 * len(sl)
        t = [(0, 0)] * n
        for hv, p in sl:
            j = (hv >> 8) % n
            while t[j][1]:
                j = (j + 1) % n
            t[j] = (hv, p)
        head += struct.pack('<II', pos + len(tables), n)
        tables += b''.join(struct.pack('<II', a, b) for a, b in t)
    with open(path + '.tmp', 'wb') as f:
        f.write(head + body + tables)
    os.chmod(path + '.tmp', 0o644)
    os.rename(path + '.tmp', path)


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'keys':
        for k, _ in records(sys.argv[2]):
            print(k.decode())
    elif len(sys.argv) >= 3 and sys.argv[1] == 'write':
        write(sys.argv[2], [(k.encode(), b'') for k in sys.argv[3:]])
    else:
        sys.exit('usage: cdb.py keys FILE | cdb.py write FILE KEY...')
