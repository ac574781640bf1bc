#!/usr/bin/env python3
# 55-local-newu.t: tern-newu compiles users/assign into users/cdb with
# qmail-newu's encoding (keys "!local\0" exact, "!prefix" wildcard, "" =
# the wildcard last characters; value user\0uid\0gid\0home\0dash\0ext),
# atomically; a bad line exits 100 naming the line and leaves cdb as it was.
import os, subprocess, sys, tempfile, shutil

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
NEWU = os.path.join(SRC, 'local', 'tern-newu')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import ok  # noqa: E402
from cdb import records as cdb_records, get as cdb_get  # noqa: E402  (tests/integration/cdb.py)

tap.need(NEWU)
tap.plan(18)
T = tempfile.mkdtemp(prefix='tern-local55.')
try:
    U = os.path.join(T, 'users'); os.mkdir(U)
    A = os.path.join(U, 'assign'); C = os.path.join(U, 'cdb')
    AL = os.path.join(T, 'alias'); os.mkdir(AL)
    R = os.path.join(U, 'recipients.cdb')
    def run(text):
        open(A, 'w').write(text)
        p = subprocess.run([NEWU, U, AL], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return p.returncode, p.stdout.decode()
    rc, out = run('=Joe:joe:1001:1001:/home/joe:::\n'
                  '=joe:other:1:1:/x:::\n'
                  '+list-:lists:1002:1003:/var/lists:-:list-:\n'
                  '+foo.:foo:1004:1004:/home/foo:-::extra\n'
                  '+:alias:1005:1005:/var/tern/alias:-::\n'
                  '.\n')
    ok(rc == 0, 'valid assign compiles (%d %s)' % (rc, out))
    recs = cdb_records(C)
    ok(recs[0] == (b'!joe\0', b'joe\x001001\x001001\x00/home/joe\x00\x00'), 'exact key !joe\\0 lowercased, six fields')
    ok(recs[2] == (b'!list-', b'lists\x001002\x001003\x00/var/lists\x00-\x00list-'), 'wildcard key !list- without NUL')
    ok(recs[3][1] == b'foo\x001004\x001004\x00/home/foo\x00-\x00', 'value stops at the sixth colon')
    ok(recs[4][0] == b'!', 'catch-all + line: key "!"')
    ok(recs[-1] == (b'', b'-.'), '"" key lists the wildcard last characters')
    ok(cdb_get(C, b'!joe\0').startswith(b'joe\0'), 'first = line for a local wins (cdb_find)')
    ok(oct(os.stat(C).st_mode & 0o777) == '0o644' and not os.path.exists(C + '.tmp'), 'cdb 0644, no cdb.tmp left')

    before = open(C, 'rb').read()
    rc, out = run('=joe:joe:1001:1001:/home/joe:::\n=bad:bad:x:1:/h:::\n.\n')
    ok(rc == 100 and 'line 2' in out, 'bad uid: exit 100 naming line 2 (%r)' % out)
    rc2, out2 = run('=joe:joe:1001:1001:/home/joe:::\n=short:a:1:1:/h\n.\n')
    rc3, out3 = run('=joe:joe:1001:1001:/home/joe:::\n')
    rc4, out4 = run('=joe:joe:1\x002:1001:/home/joe:::\n.\n')
    ok(rc2 == 100 and rc3 == 100 and 'final' in out3 and rc4 == 100, 'too few fields, no final ".", NUL: exit 100')
    ok(open(C, 'rb').read() == before, 'cdb untouched after bad input')
    rc, out = run('=joe:joe:1001:1001:relative:::\n.\n')
    ok(rc == 100, 'relative home directory: exit 100')

    # recipients.cdb: keys for tern-smtpd's RCPT-time check, all lower-case, empty values
    for name in ('.tern-Postmaster', '.tern-john:doe', '.tern-list-default', '.tern-a:b-default', '.tern-newaliases-list'):
        open(os.path.join(AL, name), 'w').write('./Maildir/\n')
    os.mkdir(os.path.join(AL, '.tern-notafile'))
    rc, out = run('=Joe:joe:1001:1001:/home/joe:::\n+List-:lists:1002:1003:/var/lists:-:list-:\n.\n')
    ok(rc == 0, 'compiles with an alias directory (%d %s)' % (rc, out))
    keys = [k for k, v in cdb_records(R)]
    ok(all(v == b'' for k, v in cdb_records(R)) and oct(os.stat(R).st_mode & 0o777) == '0o644'
       and not os.path.exists(R + '.tmp'), 'recipients.cdb: empty values, 0644, no .tmp left')
    ok(b'=joe' in keys and b'+list-' in keys and b'*' not in keys, '=local and +prefix keys, lowercased; no catch-all')
    ok(b'apostmaster' in keys and b'ajohn.doe' in keys and b'+list-' in keys and b'+a.b-' in keys
       and not any(k.startswith(b'anewaliases') or k.startswith(b'anotafile') for k in keys),
       'alias files: aNAME and +name- with ":" back to "."; bookkeeping file and directories left out')
    import pwd
    want = [p for p in pwd.getpwall() if p.pw_uid != 0 and p.pw_dir.startswith('/')
            and os.path.isdir(p.pw_dir) and os.stat(p.pw_dir).st_uid == p.pw_uid]
    ok(all(b'u' + p.pw_name.lower().encode() in keys for p in want) and b'uroot' not in keys,
       'password users with an owned home get uNAME (%d), root never' % len(want))
    open(os.path.join(AL, '.tern-default'), 'w').write('./Maildir/\n')
    rc, out = run('+:alias:1005:1005:/var/tern/alias:-::\n.\n')
    keys = [k for k, v in cdb_records(R)]
    ok(rc == 0 and keys.count(b'*') >= 1 and cdb_get(R, b'*') == b'', 'catch-all (+ with empty prefix, .tern-default): "*"')
finally:
    shutil.rmtree(T, ignore_errors=True)
tap.done()
